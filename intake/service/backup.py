"""Encrypted backups of a whole instance, and restoring one into an empty instance.

The archive holds the instance secrets, every database row and every blob, as a tar
stream encrypted chunk by chunk (crypto.stream) under a key derived with Argon2id from
the operator's backup passphrase (crypto/PROTOCOL.md, section 8). Nothing of it is
written anywhere in the clear; the rows and blobs are mostly ciphertext already, but
the instance secrets and the plain columns (dates, statuses) are not.
"""

import base64
import datetime as dt
import io
import json
import os
import secrets
import shutil
import struct
import tarfile
from pathlib import Path

from sqlalchemy import insert, select
from sqlmodel import SQLModel

from crypto import PRODUCTION_ARGON2, Argon2Params, CryptoError, derive_backup_key

from ..blobs import FIXED_TIME, BlobStore
from ..database_blobs import DatabaseBlobStore
from ..settings import Settings
from ..store import BlobChunk, make_engine, migrate, schema_revision, snapshot
from .context import Context, open_blobs
from .streams import READ_BLOCK
from .streams import DecryptingReader as _DecryptingReader
from .streams import EncryptingWriter as _EncryptingWriter

MAGIC = b"INTAKE-BACKUP\x01"
HEADER = struct.Struct(">16sIII")
MIN_PASSPHRASE_CHARS = 16


class BackupError(Exception):
    """The backup cannot be written or restored; the message says why."""


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise BackupError(f"a backup passphrase has at least {MIN_PASSPHRASE_CHARS} characters")


def _encode(value):
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (dt.date, dt.datetime)):
        return {"iso": value.isoformat(), "type": type(value).__name__}
    return value


def jsonl_line(table: str, row) -> bytes:
    """One row of database.jsonl (PROTOCOL.md section 8)."""
    return json.dumps({"table": table, "row": {k: _encode(v) for k, v in row.items()}}).encode() + b"\n"


def _decode(value):
    if isinstance(value, dict) and "b64" in value:
        return base64.b64decode(value["b64"])
    if isinstance(value, dict) and "iso" in value:
        kind = dt.datetime if value["type"] == "datetime" else dt.date
        return kind.fromisoformat(value["iso"])
    return value


def add_member(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, FIXED_TIME
    archive.addfile(info, io.BytesIO(data))


def write_backup(ctx: Context, out: Path, passphrase: str, argon2: Argon2Params = PRODUCTION_ARGON2) -> dict:
    """Write the encrypted archive to `out`; returns counts of what it holds."""
    _check_passphrase(passphrase)
    salt = secrets.token_bytes(16)
    key = ctx.gate.run(derive_backup_key, passphrase, salt, argon2)
    revision = schema_revision(ctx.engine)[0]
    tables = row_tables()
    counts = {"rows": 0, "blobs": 0}
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as target:
        target.write(MAGIC + HEADER.pack(salt, argon2.time_cost, argon2.memory_kib, argon2.parallelism))
        writer = _EncryptingWriter(target, key)
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.USTAR_FORMAT) as archive:
            add_member(
                archive,
                "manifest.json",
                json.dumps({"format": 1, "revision": revision, "tables": [t.name for t in tables]}).encode(),
            )
            add_member(archive, "instance.json", ctx.settings.instance_path.read_bytes())
            # The blobs the snapshot's rows name, whichever store keeps them (the archive is the same for
            # both): one stored after the snapshot belongs to a row the backup does not hold, and would
            # only be an orphan in the restored instance. The database store's are read in the snapshot
            # (a purge meanwhile takes nothing from it); the directory's after it, so that the snapshot
            # lasts only as long as reading the rows.
            in_database = isinstance(ctx.blobs, DatabaseBlobStore)
            with snapshot(ctx.engine) as connection:
                rows, named = _rows(connection, tables)
                counts["rows"] = rows.getvalue().count(b"\n")
                add_member(archive, "database.jsonl", rows.getvalue())
                for blob_id in sorted(named) if in_database else ():
                    counts["blobs"] += _add_blob(archive, ctx, connection, blob_id)
            for blob_id in () if in_database else sorted(named):
                counts["blobs"] += _add_blob(archive, ctx, None, blob_id)
        writer.finish()
    return counts


def row_tables() -> list:
    """The tables backed up as rows: every table but the database store's blob chunks, which go as
    blobs/ members like the directory store's files."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name != BlobChunk.__tablename__]


def _add_blob(archive: tarfile.TarFile, ctx: Context, connection, blob_id: str) -> int:
    """One blob as blobs/<id> (owner, mode and times of nobody's: fixed); 0 if the store lacks it."""
    blobs = ctx.blobs
    if isinstance(blobs, DatabaseBlobStore):  # read in the rows' snapshot
        size, pieces = blobs.size(blob_id, connection), blobs.read_in(connection, blob_id)
    else:
        size, pieces = blobs.size(blob_id), blobs.read(blob_id)
    if size is None:
        return 0
    info = tarfile.TarInfo(f"blobs/{blob_id}")
    info.size, info.mode, info.mtime = size, 0o600, FIXED_TIME
    archive.addfile(info, io.BufferedReader(_PiecesReader(iter(pieces)), READ_BLOCK))
    return 1


class _PiecesReader(io.RawIOBase):
    """A readable file object over an iterator of byte strings (a blob read a piece at a time)."""

    def __init__(self, pieces) -> None:
        self.pieces = pieces
        self.left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self.left:
            piece = next(self.pieces, None)
            if piece is None:
                return 0
            self.left = piece
        n = min(len(target), len(self.left))
        target[:n] = self.left[:n]
        self.left = self.left[n:]
        return n


def _rows(connection, tables) -> tuple[io.BytesIO, set[str]]:
    """database.jsonl, and the blob ids its attachments name."""
    rows, named = io.BytesIO(), set()
    for table in tables:
        for row in connection.execute(select(table)).mappings():
            rows.write(jsonl_line(table.name, row))
            if table.name == "attachment":
                named.add(row["blob_id"])
    return rows, named


def restore_backup(settings: Settings, source: Path, passphrase: str) -> dict:
    """Restore an archive into an empty instance (no instance.json, no tables)."""
    if settings.instance_path.exists():
        raise BackupError(f"{settings.data_dir} already holds an instance: restore into an empty one")
    if not source.is_file():
        raise BackupError(f"there is no backup file at {source}")
    try:  # a new machine's data directory is made here, for the service's user alone
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise BackupError(f"the data directory {settings.data_dir} cannot be made: {error.strerror}") from None
    engine = make_engine(settings.database_url)
    try:
        if schema_revision(engine)[0] is not None:
            raise BackupError("the database is not empty: restore into an empty one")
        with open(source, "rb") as stream:
            head = stream.read(len(MAGIC) + HEADER.size)
            if not head.startswith(MAGIC) or len(head) != len(MAGIC) + HEADER.size:
                raise BackupError("this is not an intake backup")
            salt, t, m, p = HEADER.unpack(head[len(MAGIC) :])
            try:
                params = Argon2Params(t, m, p)
            except ValueError:
                raise BackupError("this backup names Argon2 parameters that protocol version 1 does not allow") from None
            key = derive_backup_key(passphrase, salt, params)
            reader = _DecryptingReader(stream, key)
            staged = settings.data_dir / "restore-staging"
            try:
                return _restore(settings, engine, io.BufferedReader(reader, READ_BLOCK), reader, staged)
            except (CryptoError, tarfile.TarError) as error:
                raise BackupError(
                    f"the backup cannot be opened: wrong passphrase, or damaged ({error.__class__.__name__})"
                ) from None
            finally:
                shutil.rmtree(staged, ignore_errors=True)
    finally:
        engine.dispose()


def _restore(settings: Settings, engine, plaintext, reader: _DecryptingReader, staged: Path) -> dict:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (staged / "blobs").mkdir(parents=True, exist_ok=True)
    manifest = instance = rows = None
    blobs = 0
    with tarfile.open(fileobj=plaintext, mode="r|") as archive:
        for member in archive:
            data = archive.extractfile(member)
            if data is None:  # a directory or a link: nothing of ours
                continue
            if member.name == "manifest.json":
                manifest = json.loads(data.read())
            elif member.name == "instance.json":
                instance = data.read()
            elif member.name == "database.jsonl":
                rows = [json.loads(line) for line in data.read().splitlines()]
            elif member.name.startswith("blobs/") and member.isfile():
                name = Path(member.name).name
                with open(staged / "blobs" / name, "xb") as target:
                    while block := data.read(READ_BLOCK):
                        target.write(block)
                blobs += 1
    reader.drain()  # the final tag: nothing is committed from a cut or altered archive
    if manifest is None or instance is None or rows is None:
        raise BackupError("the backup is incomplete")
    migrate(engine, manifest["revision"])
    tables = {t.name: t for t in SQLModel.metadata.tables.values()}
    with engine.begin() as connection:
        for item in rows:
            connection.execute(insert(tables[item["table"]]).values({k: _decode(v) for k, v in item["row"].items()}))
    migrate(engine)
    _reset_sequences(engine, tables)
    _restore_blobs(settings, engine, staged / "blobs")
    fd = os.open(settings.instance_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(instance)
    return {"rows": len(rows), "blobs": blobs, "revision": manifest["revision"]}


def _restore_blobs(settings: Settings, engine, staged: Path) -> None:
    """The archive's blobs into the store INTAKE_BLOBS names, whichever store they came from."""
    blobs = open_blobs(settings, engine)
    if isinstance(blobs, DatabaseBlobStore):
        with engine.begin() as connection:
            for path in sorted(staged.iterdir()):
                blobs.write(path.name, _file_pieces(path), connection)
        blobs.dispose()
        return
    for path in staged.iterdir():
        final = settings.blob_dir / path.name[:2] / path.name
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, final)
    BlobStore(settings.blob_dir).settle_all()


def _file_pieces(path: Path):
    with open(path, "rb") as blob:
        while block := blob.read(READ_BLOCK):
            yield block


def _reset_sequences(engine, tables) -> None:
    """PostgreSQL's serial counters do not see explicitly inserted ids; move them past the rows."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in tables.values():
            if "number" in table.c:
                # Table names come from our own schema, never from input.
                serial = f"pg_get_serial_sequence('{table.name}', 'number')"
                connection.exec_driver_sql(f"SELECT setval({serial}, COALESCE(MAX(number), 0) + 1, false) FROM {table.name}")  # noqa: S608
