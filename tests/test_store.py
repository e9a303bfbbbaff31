"""The two kinds of session the service opens on the database: `transaction` and `reading`."""

import datetime as dt

import pytest
from sqlalchemy import text
from sqlmodel import select

from intake.store import Budget, reading, transaction

from .conftest import on_postgres


def _in_transaction(db) -> bool:
    """Whether the database connection under `db` is inside a transaction, as the driver says."""
    raw = db.connection().connection.dbapi_connection
    if on_postgres():
        from psycopg.pq import TransactionStatus

        return raw.info.transaction_status != TransactionStatus.IDLE
    return raw.in_transaction


def test_a_reading_session_opens_no_transaction_on_postgresql_and_one_snapshot_on_sqlite(ctx):
    with reading(ctx.engine) as db:
        db.exec(select(Budget)).all()
        db.execute(text("SELECT 1"))
        # PostgreSQL at READ COMMITTED gives each statement its own snapshot anyway: no BEGIN, no
        # ROLLBACK. SQLite's BEGIN IMMEDIATE makes the block one snapshot.
        assert _in_transaction(db) is not on_postgres()
    with transaction(ctx.engine) as db:
        db.exec(select(Budget)).all()
        assert _in_transaction(db)


def test_what_a_reading_session_changes_is_kept_only_when_it_commits(ctx):
    day = dt.date(2026, 12, 2)
    with reading(ctx.engine) as db:
        db.add(Budget(key="dropped", day=day, used=1))
        assert db.exec(select(Budget)).all() == []  # not flushed by a query
    with reading(ctx.engine) as db:
        db.add(Budget(key="kept", day=day, used=1))
        db.commit()
    with reading(ctx.engine) as db:
        assert [row.key for row in db.exec(select(Budget)).all()] == ["kept"]


def test_a_failed_transaction_leaves_nothing_for_the_next_reader(ctx):
    day = dt.date(2026, 12, 2)
    with pytest.raises(RuntimeError), transaction(ctx.engine) as db:
        db.add(Budget(key="half-way", day=day, used=1))
        db.flush()
        raise RuntimeError("a crash half-way")
    with reading(ctx.engine) as db:
        assert db.exec(select(Budget)).all() == []
