"""Alembic migrations on the suite's database (SQLite, or PostgreSQL with TEST_DATABASE_URL):
from empty to head they make exactly the models' schema, and a database made by the
previous revision, with data in it, still decrypts after the upgrade."""

import datetime as dt
import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, insert
from sqlmodel import SQLModel

from crypto import (
    AuditChainError,
    derive_password_key,
    derive_reporter_secrets,
    generate_keypair,
    generate_passphrase,
    lock_officer_key,
    lookup_digest,
    new_key,
    seal_record,
    wrap_case_key,
    wrap_office_key,
)
from intake.service import audit, casework, officers, reporting
from intake.service.context import Context
from intake.service.errors import Conflict
from intake.settings import Instance, Settings
from intake.store import make_engine, migrate, schema_revision

from .conftest import CHEAP_ARGON2, PASSWORDS, database_url
from .helpers import totp_code
from .schema import drop_schema


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(database_url(tmp_path))
    drop_schema(engine)
    yield engine
    drop_schema(engine)
    engine.dispose()


def test_migrations_make_exactly_the_models_schema(engine):
    migrate(engine)
    assert schema_revision(engine)[0] == schema_revision(engine)[1]
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_a_database_of_the_previous_revision_with_data_still_decrypts_after_upgrade(engine, tmp_path):
    """Revision 0001, as its code wrote it: offices, an officer without two-factor, a case, messages."""
    migrate(engine, "0001")
    settings = Settings(data_dir=tmp_path / "data", database_url=str(engine.url.render_as_string(hide_password=False)))
    settings.write_instance(Instance.create(CHEAP_ARGON2))
    instance = settings.load_instance()
    eco, oig, officer_keys = generate_keypair(), generate_keypair(), generate_keypair()
    salt, officer_id = bytes(range(16)), "officer-legacy"
    password_key = derive_password_key(PASSWORDS["eco-1"], salt, instance.argon2)
    passphrase, case_id, key = generate_passphrase(), "ECO-0000000001", new_key()
    reporter = derive_reporter_secrets(passphrase, instance.instance_salt, instance.argon2)
    tables = MetaData()
    tables.reflect(engine)
    t = tables.tables
    with engine.begin() as db:
        db.execute(insert(t["office"]), [{"code": "ECO", "public_key": eco.public}, {"code": "OIG", "public_key": oig.public}])
        db.execute(insert(t["audit_head"]).values(id=1, sequence=0, digest=bytes(32)))
        db.execute(
            insert(t["officer"]).values(
                id=officer_id,
                username="eco-1",
                office="ECO",
                public_key=officer_keys.public,
                password_salt=salt,
                key_by_password=lock_officer_key(officer_keys.private, password_key, officer_id, "password"),
                key_by_recovery=lock_officer_key(officer_keys.private, new_key(), officer_id, "recovery"),
                office_key_wrap=wrap_office_key(eco.private, officer_keys.public, "ECO"),
                active=True,
            )
        )
        db.execute(
            insert(t["case_file"]).values(
                id=case_id,
                office="ECO",
                report_id="R-1",
                lookup=lookup_digest(reporter.lookup, instance.lookup_key),
                status="acknowledged",
                policy_version="2026.1",
                received_on=dt.date(2026, 1, 5),
                acknowledged_on=dt.date(2026, 1, 7),
                unread=True,
                report=seal_record(key, b"made by revision 0001", case_id, "report", case_id),
                answers=seal_record(
                    key,
                    json.dumps(
                        {
                            "concerns": ["retaliation"],
                            "misconduct_kinds": [],
                            "protected_activity": None,
                            "adverse_actions": [],
                            "happened": "",
                            "region": None,
                        }
                    ).encode(),
                    case_id,
                    "answers",
                    case_id,
                ),
            )
        )
        db.execute(
            insert(t["casekeywrap"]),
            [
                {"case_id": case_id, "holder": "office:ECO", "wrap": wrap_case_key(key, eco.public, case_id)},
                {"case_id": case_id, "holder": "reporter", "wrap": wrap_case_key(key, reporter.public_key, case_id)},
            ],
        )
        db.execute(
            insert(t["message"]).values(
                id="M-1",
                case_id=case_id,
                author="officer",
                officer_id=officer_id,
                sent_on=dt.date(2026, 1, 6),
                body=seal_record(key, b"a reply from 0001", case_id, "message", "M-1"),
            )
        )

    migrate(engine)
    assert schema_revision(engine)[0] == schema_revision(engine)[1]
    with pytest.raises(AuditChainError, match="not signed"):  # until `intake migrate` signs the head
        audit.verify(engine, instance)
    assert audit.sign_head(engine, instance) and not audit.sign_head(engine, instance)
    assert audit.verify(engine, instance) == (0, bytes(32))
    ctx = Context.from_settings(settings)
    (room,) = reporting.case_room(ctx, reporting.open_case_room(ctx, passphrase))
    assert room.status == "acknowledged" and [m.body for m in room.messages] == ["a reply from 0001"]

    # The officer of 0001 has no two-factor yet: logging in says so; `intake officer totp` sets it up.
    with pytest.raises(Conflict, match="Two-factor"):
        officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], "123456")
    secret = officers.set_up_totp(ctx, "eco-1", PASSWORDS["eco-1"])
    officer = officers.current(ctx, officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1", secret)))
    detail = casework.open_case(ctx, officer, case_id)
    assert detail.description == "made by revision 0001"
    assert detail.messages[0].office == "ECO"
    assert detail.handling.acknowledged_on == "2026-01-07"
    assert {d.name: d.met_on for d in detail.handling.deadlines}["first_response"] == dt.date(2026, 1, 6)
    ctx.engine.dispose()


def test_0011_keeps_each_lifted_recusal_as_a_lifted_decision_and_leaves_the_rest_pending(engine):
    """Revision 0010 lifted a recusal with no reason and no decision column: 0011 makes it a "lifted"
    decision by the same officer on the same day; a standing recusal stays pending. Down again and up."""
    from sqlalchemy import select as sql_select

    from intake.store import downgrade

    migrate(engine, "0010")
    tables = MetaData()
    tables.reflect(engine)
    t = tables.tables
    keys = generate_keypair()
    officer = {
        "office": "ECO",
        "public_key": keys.public,
        "password_salt": b"",
        "key_by_password": b"",
        "key_by_recovery": b"",
        "active": True,
    }
    case = {"office": "ECO", "report_id": "R-1", "lookup": b"", "policy_version": "2026.1", "received_on": dt.date(2026, 5, 1)}
    with engine.begin() as db:
        db.execute(insert(t["office"]).values(code="ECO", public_key=keys.public))
        db.execute(insert(t["officer"]), [{"id": f"officer-{n}", "username": f"eco-{n}", **officer} for n in (1, 2, 3)])
        db.execute(insert(t["case_file"]), [{"id": f"ECO-000000000{n}", "report": b"", "answers": b"", **case} for n in (1, 2)])
        recusal = {"office": "ECO", "declared_on": dt.date(2026, 5, 2), "record_id": "N-1"}
        db.execute(
            insert(t["recusal"]),
            [
                {
                    "case_id": "ECO-0000000001",
                    "officer_id": "officer-2",
                    "lifted_on": dt.date(2026, 5, 3),
                    "lifted_by": "officer-1",
                    **recusal,
                },
                {"case_id": "ECO-0000000002", "officer_id": "officer-3", "lifted_on": None, "lifted_by": None, **recusal},
            ],
        )

    migrate(engine)

    tables = MetaData()
    tables.reflect(engine)
    recusal_table = tables.tables["recusal"]
    columns = ("case_id", "decision", "decided_on", "decided_by", "decision_record_id", "director_general")
    with engine.connect() as db:
        rows = db.execute(sql_select(*(recusal_table.c[c] for c in columns)).order_by(recusal_table.c.case_id)).all()
    assert [tuple(row) for row in rows] == [
        ("ECO-0000000001", "lifted", dt.date(2026, 5, 3), "officer-1", None, False),
        ("ECO-0000000002", None, None, None, None, False),
    ]
    downgrade(engine, "0010")
    migrate(engine)
    assert schema_revision(engine)[0] == schema_revision(engine)[1]
