"""The database: tables and the engine. Everything a case holds is sealed before it gets here.

What is in the clear, and why it may be: ids, the office, the status, day-precision
dates the procedure needs (received, acknowledged), counts, and the keyed lookup digest
that finds a passphrase's cases. Report text, answers, messages and keys are blobs
sealed by `crypto`; nothing here records a reporter's address, browser or time of day.

Statements: one idiom, SQLAlchemy's own. A statement a request runs every time is a module-level
value with bound parameters (`bindparam`), executed with the values; the rest are built where they
run. SQLAlchemy caches the compiled form of both; a statement built per call also pays for building
itself and its cache key, which costs more than running it (figures: loadtests/README.md).
"""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Column, Index, LargeBinary, bindparam, event, exc
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, Session, SQLModel, create_engine


class Office(SQLModel, table=True):
    """ECO or OIG: the public key cases are wrapped to."""

    code: str = Field(primary_key=True, max_length=8)
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Officer(SQLModel, table=True):
    """A member of an office. Their private key exists here only locked."""

    id: str = Field(primary_key=True, max_length=40)
    username: str = Field(unique=True, index=True, max_length=64)
    office: str = Field(foreign_key="office.code", max_length=8)
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    password_salt: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_by_password: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_by_recovery: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    office_key_wrap: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    active: bool = True
    # The TOTP secret, sealed like the private key: under the password key and the recovery key.
    totp_by_password: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    totp_by_recovery: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    last_totp_step: int | None = None  # a code is never accepted twice
    # The head of the office (ECO Charter 4.6): sees the office's conflict declarations and decides
    # on them. Set by `intake officer role`.
    head: bool = False


class LoginAttempts(SQLModel, table=True):
    """Recent failed logins under one username, known or not (officers.py): the key is a keyed
    hash of the username, so a username typed by mistake is never stored, and an account that
    does not exist is throttled exactly like one that does."""

    __tablename__ = "login_attempts"

    key: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    locked_until: dt.datetime | None = None
    forget_after: dt.datetime = Field(index=True)


class Case(SQLModel, table=True):
    """One routed case of a report. A report of both kinds makes two cases.

    `office` is the office the report was routed to; which offices handle it (and
    where each stands) is in Handling, since a referral adds OIG to an ECO case.
    """

    __tablename__ = "case_file"

    id: str = Field(primary_key=True, max_length=40)
    office: str = Field(foreign_key="office.code", max_length=8, index=True)
    report_id: str = Field(index=True, max_length=40)
    lookup: bytes = Field(sa_column=Column(LargeBinary, nullable=False, index=True))
    policy_version: str = Field(max_length=40)
    received_on: dt.date
    report: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    answers: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    kind: str = Field(default="report", max_length=10)  # report, or advice (a request for ECO's confidential advice)


class Handling(SQLModel, table=True):
    """One office's work on a case: where it stands in that office's lifecycle, and the
    dates its deadlines and statistics need (day precision).

    `key_wrap` is the handling key sealed to the office: the office's own records of the
    case (notes, reasons, the determination, a referral memo) are sealed under it, not
    under the case key, so a referral, which shares the case key, does not share them.
    `next_due_on`/`next_due` and `open_measures` are kept up to date by the service so
    that the inbox can filter, sort and page in the database; `activity` counts what
    arrived for the office (each officer's `CaseReading` says how much of it they saw).
    """

    __tablename__ = "case_handling"

    case_id: str = Field(foreign_key="case_file.id", primary_key=True, max_length=40)
    office: str = Field(foreign_key="office.code", primary_key=True, max_length=8)
    status: str = Field(max_length=40)
    kind: str = Field(default="report", max_length=10)  # the case's kind: its lifecycle is the office's, or advice's
    policy_version: str = Field(max_length=40)
    opened_on: dt.date
    acknowledged_on: dt.date | None = None
    first_response_on: dt.date | None = None
    last_feedback_on: dt.date | None = None
    assessment_concluded_on: dt.date | None = None
    # The day a reopened preliminary assessment started again (its 30 days run from it); None: from opened_on.
    assessment_started_on: dt.date | None = None
    closed_on: dt.date | None = None
    warned_on: dt.date | None = None
    consent: str | None = Field(default=None, max_length=10)  # requested, given, refused
    consent_on: dt.date | None = None
    key_wrap: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    assignee: str | None = Field(default=None, foreign_key="officer.id", max_length=40, index=True)
    determination: str | None = Field(default=None, max_length=10)  # found, not_found
    determined_on: dt.date | None = None
    extensions: str = Field(default="{}", max_length=200)  # JSON: deadline name -> days added
    activity: int = 1
    next_due_on: dt.date | None = Field(default=None, index=True)
    next_due: str | None = Field(default=None, max_length=40)
    open_measures: int = 0
    # A restricted case (it concerns someone in this office): the public key of the case's own
    # keypair, which holds what the office key would (RestrictionWrap). None: an ordinary case.
    restricted_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class RestrictionWrap(SQLModel, table=True):
    """A restricted case's private key sealed to one officer: each head of the office when the
    case is filed, then each officer a head shares it with. Nobody else of the office can open it."""

    __tablename__ = "restriction_wrap"

    case_id: str = Field(foreign_key="case_file.id", primary_key=True, max_length=40)
    office: str = Field(foreign_key="office.code", primary_key=True, max_length=8)
    officer_id: str = Field(foreign_key="officer.id", primary_key=True, max_length=40)
    wrap: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    shared_by: str | None = Field(default=None, foreign_key="officer.id", max_length=40)  # None: given at filing
    shared_on: dt.date


class Recusal(SQLModel, table=True):
    """An officer's declared conflict of interest on a case (ECO Charter 4.5-4.7): while it stands
    (not lifted), the case does not exist for them. The declaration's note is an office record.

    The decision on it (recusal.py): `decision` is None while it is pending, "upheld" (they stay
    away) or "lifted" (they may work on the case again, and `lifted_on`/`lifted_by` say when and
    by whom, as the statements that hide a case from a recused officer read). An upheld one can
    still be lifted later; the row keeps the latest decision, the office records and the audit
    log keep every one. `director_general`: the decision is the Director General's (Charter 4.7),
    recorded by `decided_by`, an officer of the office who can open the case."""

    case_id: str = Field(foreign_key="case_file.id", primary_key=True, max_length=40)
    officer_id: str = Field(foreign_key="officer.id", primary_key=True, max_length=40)
    office: str = Field(foreign_key="office.code", max_length=8)
    declared_on: dt.date
    record_id: str = Field(max_length=40)  # the sealed note (office_records, kind conflict_declaration)
    lifted_on: dt.date | None = None
    lifted_by: str | None = Field(default=None, foreign_key="officer.id", max_length=40)
    decision: str | None = Field(default=None, max_length=10)  # None (pending), upheld, lifted
    decided_on: dt.date | None = None
    decided_by: str | None = Field(default=None, foreign_key="officer.id", max_length=40)
    decision_record_id: str | None = Field(default=None, max_length=40)  # the sealed reason (office_records)
    director_general: bool = False


class CaseReading(SQLModel, table=True):
    """How much of a handling's `activity` an officer has seen: the inbox's unread is per officer."""

    __tablename__ = "case_reading"

    case_id: str = Field(foreign_key="case_file.id", primary_key=True, max_length=40)
    officer_id: str = Field(foreign_key="officer.id", primary_key=True, max_length=40)
    seen: int = 0


class CaseRecord(SQLModel, table=True):
    """One of an office's own records of a case (a note, a reason, the determination, a memo),
    sealed under that office's handling key: another office never holds the key."""

    __tablename__ = "case_record"

    number: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, max_length=40)
    case_id: str = Field(foreign_key="case_file.id", max_length=40, index=True)
    office: str = Field(foreign_key="office.code", max_length=8)
    officer_id: str | None = Field(default=None, foreign_key="officer.id", max_length=40)
    recorded_on: dt.date
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Null: sealed under the handling key. Set: the record has a key of its own, wrapped to the
    # office (written by another office when it returned the case: office_records.add_for).
    key_wrap: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class ProtectiveMeasure(SQLModel, table=True):
    """A protective measure or an onward referral, recommended by an office.

    What it is and to whom it was recommended are sealed under the case key (an office a
    case is referred to sees that measures exist and where they stand, and so may the
    complainant); the recording office's note about it is a CaseRecord under its own key.
    The status and its dates are in the clear, at day precision, so reviews show in the
    inbox and the protection file stays open until every measure is lifted.
    """

    __tablename__ = "protective_measure"

    number: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, max_length=40)
    case_id: str = Field(foreign_key="case_file.id", max_length=40, index=True)
    office: str = Field(foreign_key="office.code", max_length=8)
    status: str = Field(max_length=12)  # recommended, implemented, declined, lifted
    recommended_on: dt.date
    status_on: dt.date
    review_on: dt.date | None = None
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CaseAction(SQLModel, table=True):
    """Before revision 0005: a protective measure, an onward referral or a note, sealed under the
    case key. The owning office's first opening of the case moves each into ProtectiveMeasure or
    CaseRecord (casework._move_old_actions); nothing writes here any more."""

    __tablename__ = "case_action"

    number: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, max_length=40)
    case_id: str = Field(foreign_key="case_file.id", max_length=40, index=True)
    office: str = Field(max_length=8)
    recorded_on: dt.date
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


REPORTER_HOLDER = "reporter"


def office_holder(office: str) -> str:
    """The `CaseKeyWrap.holder` of an office's wrap: "office:ECO", "office:OIG"."""
    return f"office:{office}"


class CaseKeyWrap(SQLModel, table=True):
    """The case key sealed to one holder: an office (`office_holder`) or the reporter (REPORTER_HOLDER)."""

    case_id: str = Field(foreign_key="case_file.id", primary_key=True, max_length=40)
    holder: str = Field(primary_key=True, max_length=20)
    wrap: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Message(SQLModel, table=True):
    """A message in a case room, either way. `number` orders them; `id` is sealed into the body."""

    number: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, max_length=40)
    case_id: str = Field(foreign_key="case_file.id", max_length=40)
    author: str = Field(max_length=10)
    office: str | None = Field(default=None, max_length=8)
    officer_id: str | None = Field(default=None, foreign_key="officer.id", max_length=40)
    sent_on: dt.date
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))

    __table_args__ = (Index("ix_message_case", "case_id", "number"),)


class Attachment(SQLModel, table=True):
    """An evidence file of a case: its blob, and its key and description sealed under the case key.

    A report of both kinds stores one blob referenced by a row in each case.
    """

    number: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, max_length=40)
    case_id: str = Field(foreign_key="case_file.id", max_length=40, index=True)
    message_id: str | None = Field(default=None, max_length=40)
    blob_id: str = Field(max_length=40, index=True)
    key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    meta: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    stored_size: int


class BlobChunk(SQLModel, table=True):
    """A piece of an encrypted file's blob, when blobs are kept in the database (INTAKE_BLOBS=database):
    the blob's bytes are its chunks in `seq` order, each at most database_blobs.CHUNK_BYTES. The same
    encrypted frames as the directory store's files; chunked so that a blob is written and read a
    piece at a time, never whole in memory. No dates: a chunk tells nothing of when it came."""

    __tablename__ = "blob_chunk"

    blob_id: str = Field(primary_key=True, max_length=40)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class WebSession(SQLModel, table=True):
    """A logged-in reporter or officer. The payload opens only with the key in their cookie."""

    __tablename__ = "web_session"

    id_digest: bytes = Field(sa_column=Column(LargeBinary, primary_key=True))
    kind: str = Field(max_length=10)
    subject: str | None = Field(default=None, max_length=40, index=True)  # the officer; never a reporter
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    idle_until: dt.datetime
    expires_at: dt.datetime


class Sending(SQLModel, table=True):
    """A form's one-time token (or an API Idempotency-Key), as a digest, once what it carried was
    filed: a reload or a resend of the same form files nothing more. Day precision only."""

    __tablename__ = "sending"

    digest: bytes = Field(sa_column=Column(LargeBinary, primary_key=True))
    seen_on: dt.date
    # A report's receipt (passphrase, cases, files), sealed under a key from the sending's token, from the filing's
    # transaction until its answer is ready: a resend after an outage that hid the answer shows it once.
    held: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class Identity(SQLModel, table=True):
    """A complainant's identity, left in escrow (EU 2019/1937 Art. 16): sealed under its own random key,
    which is wrapped to the reporter and, only once they consent in the case room, to the office."""

    __tablename__ = "identity"

    case_id: str = Field(foreign_key="case_file.id", primary_key=True, max_length=40)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    reporter_wrap: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    office_wrap: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    shared_on: dt.date | None = None
    opened_on: dt.date | None = None  # the first time an officer read it: after that, consent cannot undo it


class Budget(SQLModel, table=True):
    """How much of an abuse budget a fixed time window has used (see service/budgets.py).

    The key is a keyed hash of the budget and its day: it names no one without the instance's
    key, and no hour even with it. `day` is there only to clear old rows.
    """

    __tablename__ = "budget"

    key: str = Field(primary_key=True, max_length=80)
    day: dt.date = Field(index=True)
    used: int = 0


class NotificationAddress(SQLModel, table=True):
    """Where an officer's digest goes, and where their digests stand (service/notifications.py).

    The address is sealed under the instance's notification key (crypto.seal_address): a copy of the
    database alone holds no address. `seen_event` is the last NotificationEvent the officer's last
    digest counted; `next_digest_at` when their next digest is due (the start of a period plus a
    random delay, or a retry's back-off); `claimed_until` a sender's lease on the row, so that two
    senders never send the same digest; `last_failure` only the step that failed (mailer.STAGES).
    """

    __tablename__ = "notification_address"

    officer_id: str = Field(foreign_key="officer.id", primary_key=True, max_length=40)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    language: str = Field(default="en", max_length=8)
    seen_event: int = 0
    next_digest_at: dt.datetime
    attempts: int = 0
    claimed_until: dt.datetime | None = None
    last_failure: str | None = Field(default=None, max_length=12)


class NotificationEvent(SQLModel, table=True):
    """Something new for an office, to be counted in its officers' next digests: a report (or a case
    referred in) or a reporter's message. No time: `number` only orders them. Written only while some
    officer of the office has an address, and deleted once every such officer's digest has counted it."""

    __tablename__ = "notification_event"

    number: int | None = Field(default=None, primary_key=True)
    office: str = Field(max_length=8, index=True)
    case_id: str = Field(max_length=40)
    kind: str = Field(max_length=10)  # report, message


class AuditHead(SQLModel, table=True):
    """One row: the chain's last sequence number and digest, signed; locked while appending."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    sequence: int = 0
    digest: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The instance key's signature of (sequence, digest), renewed on every append: a head reset by
    # someone who can write the database but does not hold instance.json does not verify.
    signature: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class AuditEntry(SQLModel, table=True):
    """One entry of the chain. `case_id` repeats the body's "case" (outside the digest) so that
    a case's history is one indexed query."""

    __tablename__ = "audit_entry"

    sequence: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    digest: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    case_id: str | None = Field(default=None, max_length=40, index=True)


class AuditCheckpoint(SQLModel, table=True):
    __tablename__ = "audit_checkpoint"

    sequence: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# What SQLAlchemy raises when the database cannot be reached or cannot serve: the server is down,
# restarting or failing over (the driver's OperationalError, a connection that died in the pool), no
# connection free in the pool in time (TimeoutError), SQLite's file locked or unreadable. None of them
# is the request's fault and none leaves anything written (the transaction did not commit): the web
# layer answers them 503 with Retry-After (web/errors.py).
OUTAGES: tuple[type[Exception], ...] = (exc.OperationalError, exc.DisconnectionError, exc.TimeoutError)
# SQLite raises OperationalError for a mistake in a statement or a missing table too: of its errors,
# only these primary result codes mean the database cannot serve now (BUSY, LOCKED, IOERR, FULL, CANTOPEN).
SQLITE_UNAVAILABLE = frozenset({5, 6, 10, 13, 14})


def unavailable(error: BaseException | None) -> bool:
    """Whether `error` means the database cannot be reached or cannot serve just now (one of OUTAGES,
    and on SQLite one of SQLITE_UNAVAILABLE), rather than a fault in what was asked of it."""
    if not isinstance(error, OUTAGES):
        return False
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    code = getattr(getattr(error, "orig", None), "sqlite_errorcode", None)
    return code is None or code & 0xFF in SQLITE_UNAVAILABLE


# How long one attempt to connect waits for a host that does not answer (libpq's connect_timeout,
# per host of a multi-host URL) unless the URL says: a request during an outage is answered 503 in
# seconds, not after the kernel's TCP timeout of minutes.
CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str) -> Engine:
    """An engine for SQLite (the embedded default) or PostgreSQL (psycopg 3).

    PostgreSQL: every connection is tested as it leaves the pool (pool_pre_ping), and a connection
    that died makes SQLAlchemy drop every older one of the pool, so after a database restart or a
    failover the next request connects afresh instead of failing on a dead socket. A URL naming
    several hosts (`?host=a:5432&host=b:5432&target_session_attrs=read-write`) lets libpq find the
    one that accepts writes (deploy/README.md, "Failover").
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        timeout = {} if "connect_timeout=" in url else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        # READ COMMITTED said, not taken from the server's default: `reading` relies on it.
        return create_engine(
            url, pool_pre_ping=True, hide_parameters=True, isolation_level="READ COMMITTED", connect_args=timeout
        )
    engine = create_engine(url, hide_parameters=True, connect_args={"check_same_thread": False, "isolation_level": None})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection: Connection) -> None:
    """Every transaction takes the write lock up front: SQLite would otherwise fail a read-then-write
    transaction that raced another writer, instead of waiting. A `snapshot` only reads: a deferred BEGIN,
    which in WAL mode is one snapshot from its first read and keeps no writer waiting."""
    reads_only = connection.get_execution_options().get(SNAPSHOT_OPTION, False)
    connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection, _record, foreign_keys: bool = True) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _migration_engine(engine: Engine) -> Engine:
    """For SQLite, an engine with foreign keys off: Alembic alters a SQLite table by copying
    and dropping it, which referencing tables would otherwise forbid. Checked after."""
    if engine.dialect.name != "sqlite":
        return engine
    migration = create_engine(engine.url, hide_parameters=True, connect_args={"check_same_thread": False})
    event.listen(migration, "connect", lambda conn, record: _sqlite_pragmas(conn, record, foreign_keys=False))
    return migration


def _alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "intake:migrations")
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` with the Alembic migrations in intake/migrations."""
    from alembic import command

    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    _run(engine, lambda config: command.downgrade(config, revision))


def _run(engine: Engine, step) -> None:
    migration = _migration_engine(engine)
    try:
        with migration.connect() as connection:
            step(_alembic_config(connection))
            connection.commit()
            if migration.dialect.name == "sqlite" and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise RuntimeError("the migration left rows that break a foreign key")
    finally:
        if migration is not engine:
            migration.dispose()


def schema_revision(engine: Engine) -> tuple[str | None, str | None]:
    """(the database's revision, the code's head revision)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config(connection)).get_current_head()
    return current, head


# The connection whose open transaction holds the blobs of the files a service call attaches
# (database_blobs.py): its `transaction` blocks run inside that transaction, so that the rows that
# refer to the blobs commit with them, or neither does.
_joined: ContextVar[Connection | None] = ContextVar("intake_joined_transaction", default=None)


@contextmanager
def joining(connection: Connection) -> Iterator[None]:
    """Run every `transaction` of this block inside `connection`'s transaction, which the caller
    commits or rolls back: a block's own end only releases its savepoint."""
    token = _joined.set(connection)
    try:
        yield
    finally:
        _joined.reset(token)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session that commits at the end of the block, or rolls everything back."""
    joined = _joined.get()
    if joined is not None:
        with Session(joined, expire_on_commit=False, join_transaction_mode="create_savepoint") as session, session.begin():
            yield session
        return
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def reading(engine: Engine) -> Session:
    """A session for reading (`with reading(engine) as db:`); a change made in it is written by
    `db.commit()` and by nothing else (no autoflush), so it is kept or dropped alike on both databases.

    On PostgreSQL it runs without BEGIN and ROLLBACK: at READ COMMITTED, PostgreSQL's default and
    ours, every statement takes its own snapshot even inside a transaction, so a transaction around
    reads buys no consistency and costs two round trips, on every page. SQLite keeps its
    transaction (the BEGIN IMMEDIATE of `make_engine`), which there is one snapshot for the block.
    A statement run directly (`db.exec(delete(...))`) is written at once on PostgreSQL: only a
    block of one such statement, followed by `db.commit()`, writes that way.
    """
    # Made once per engine and kept on it (making one costs as much as a query); an attribute, not a
    # module-level cache, so that the engine and its reader go together.
    reader = getattr(engine, "_intake_reader", None)
    if reader is None:
        postgresql = engine.dialect.name == "postgresql"
        reader = engine.execution_options(isolation_level="AUTOCOMMIT") if postgresql else engine
        setattr(engine, "_intake_reader", reader)  # noqa: B010 (Engine declares no such attribute)
    return Session(reader, expire_on_commit=False, autoflush=False)


SNAPSHOT_OPTION = "intake_snapshot"


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection reading every table in ONE snapshot, for what must see the database at one moment.

    At READ COMMITTED (the engine's level) each statement sees what was committed when it started,
    so tables read one after another under load disagree: a backup held a handling of a case filed
    between two reads, with no case (#24 item 1), and `intake audit verify` read 61 entries, then a
    head signed at 62, and called the log broken. PostgreSQL reads in one REPEATABLE READ READ ONLY
    transaction, as pg_dump does; SQLite in one deferred read transaction (WAL mode). Neither keeps a
    writer waiting, however long the reading takes. Nothing is to be written through it.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        else:
            connection = connection.execution_options(**{SNAPSHOT_OPTION: True})
        with connection.begin():
            yield connection


def _counting(dialect_insert: Callable) -> Any:
    table = Budget.__table__  # type: ignore[attr-defined]
    return (
        dialect_insert(table)
        .values(key=bindparam("key"), day=bindparam("day"), used=1)
        .on_conflict_do_update(
            index_elements=[table.c.key], set_={"used": table.c.used + 1}, where=table.c.used < bindparam("limit")
        )
        .returning(table.c.used)
    )


COUNTING = {"postgresql": _counting(postgresql_insert), "sqlite": _counting(sqlite_insert)}


def add_one(db: Session, key: str, day: dt.date, limit: int) -> int | None:
    """Count one more in budget row `key` (made with 1 if absent) unless it has reached `limit`:
    the count after, or None when the limit was reached (the row is then left as it was)."""
    statement = COUNTING[db.get_bind().dialect.name]
    return db.connection().execute(statement, {"key": key, "day": day, "limit": limit}).scalar()


def insert_if_absent(db: Session, row: SQLModel) -> bool:
    """Insert `row` unless one with its primary key exists; True if it was inserted.

    The way to start a counter that concurrent requests may start at the same moment:
    a plain insert after a read lets two of them insert, and one fails on the key.
    Follow it with `db.get(..., with_for_update=True, populate_existing=True)`.
    """
    table = type(row).__table__  # type: ignore[attr-defined]
    dialect_insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {column.name: getattr(row, column.name) for column in table.columns}
    keys = [column.name for column in table.primary_key.columns]
    statement = dialect_insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return db.connection().execute(statement.returning(*table.primary_key.columns)).first() is not None


# LOCK ORDER. Transactions that take more than one of these take them in this order, so that none waits
# in a ring (PostgreSQL would end one with a deadlock error): an office's officer rows
# (service/access.lock_office), a case row (service/casefiles.lock_case), an office row
# (office_public_key; `intake office rotate` holds it FOR NO KEY UPDATE), the case's handlings. Rotation
# locks the rows it re-wraps after the office row and never a case row.


def office_public_key(db: Session, office: str) -> bytes:
    """The office's public key, read under a lock that `intake office rotate` also takes.

    Every wrap to an office key is made with the key read here, in the transaction that stores
    the wrap: the office row is held FOR SHARE, so a rotation (FOR NO KEY UPDATE of the same
    row, service/office_keys.py) waits until the wrap is committed and then re-wraps it, or has
    committed already and this reads its new key. Read unlocked, a wrap made while a rotation ran
    went to the old key, which rotation never saw: the case showed in the inbox and opened for
    nobody but the holder of the old key (#24 item 2). SQLite's write lock (BEGIN IMMEDIATE)
    already serialises the two.
    """
    row = db.get(Office, office, with_for_update={"read": True}, populate_existing=True)
    if row is None:
        raise RuntimeError(f"office {office} is not set up: run `intake init`")
    return row.public_key
