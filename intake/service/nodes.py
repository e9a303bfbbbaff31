"""Another machine serving the same instance: a node joins with the instance secrets file alone.

Everything a node needs besides the database is `instance.json` (settings.py): the salt and keys
every node must share, or a passphrase typed on one node would open nothing on another, and a
session cookie signed by one would be refused by the next. Cases, sessions, audit log and (with
INTAKE_BLOBS=database) files are in PostgreSQL; the cleaning rooms are in this machine's memory,
for the length of one upload. So a node is its data directory holding a copy of the first node's
instance.json, and the same environment (INTAKE_DATABASE_URL, INTAKE_BLOBS=database, the policy file).

`join` checks before it writes: the database is this instance's (its audit head is signed by the
file's key), at the schema this code needs, shared (PostgreSQL), with its files in the database.
"""

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from crypto import head_is_valid

from ..settings import Instance, Settings
from ..store import AuditHead, make_engine, schema_revision


class JoinRefused(Exception):
    """The node cannot join as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Joined:
    data_dir: Path
    audit_entries: int


def join(settings: Settings, instance_file: Path) -> Joined:
    """Make this machine's data directory a node of the instance whose secrets are in `instance_file`."""
    if settings.instance_path.exists():
        raise JoinRefused(f"{settings.data_dir} already holds an instance; a node joins with an empty data directory")
    if not settings.database_url.startswith("postgresql"):
        raise JoinRefused(
            "nodes share one PostgreSQL database: give its URL (--database-url or INTAKE_DATABASE_URL); "
            "SQLite belongs to one machine"
        )
    if settings.blobs != "database":
        raise JoinRefused(
            "set INTAKE_BLOBS=database on every node (and move the first node's files there: "
            "`intake blobs move --to database`): files in one machine's data directory are not on the others"
        )
    instance = _read_instance(instance_file)
    engine = make_engine(settings.database_url)
    try:
        current, head = schema_revision(engine)
        if current is None:
            raise JoinRefused("the database holds no instance yet: run `intake init` (or `intake restore`) on the first node")
        if current != head:
            raise JoinRefused(f"the database is at revision {current}, this code needs {head}: run `intake migrate` first")
        with Session(engine) as db:
            audit = db.get(AuditHead, 1)
        signature = audit.signature if audit is not None else None
        if (
            audit is None
            or signature is None
            or not head_is_valid(instance.audit_verify_key, audit.sequence, audit.digest, signature)
        ):
            raise JoinRefused(
                f"{instance_file} is not this database's instance file: the database's audit head is not signed "
                "by its key. Copy instance.json from a node of this instance."
            )
        entries = audit.sequence
    finally:
        engine.dispose()
    settings.write_instance(instance)
    return Joined(settings.data_dir, entries)


def _read_instance(path: Path) -> Instance:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise JoinRefused(f"cannot read the instance file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise JoinRefused(f"{path} is not an instance file (instance.json of the first node)") from None
    try:
        return Instance.from_json(text)
    except (ValueError, KeyError, TypeError):
        raise JoinRefused(f"{path} is not an instance file (instance.json of the first node)") from None
