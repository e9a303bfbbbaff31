"""The blob store in PostgreSQL (INTAKE_BLOBS=database): what lets several machines serve one instance.

The same encrypted frames as the directory store (blobs.py), kept as BlobChunk rows of at most
CHUNK_BYTES, so that a blob is written and read a piece at a time whatever its size.

The files of one request are written in one transaction on a connection of their own (a
`RowBatch`), opened when the first file begins and held while the upload streams in. The service
call that attaches them runs its `transaction` blocks inside that transaction (store.joining), and
the batch commits once the call has succeeded: the chunks and the rows that refer to them commit
together, or neither does. A request that fails, a client that goes away, a process that is killed:
the transaction rolls back (PostgreSQL does it when the connection drops), so no blob is ever left
without its case and nothing needs sweeping.

Uploads hold their connections for as long as they stream, so they take them from a pool of their
own (INTAKE_BLOB_CONNECTIONS per process): a flood of slow uploads waits for, and then is refused,
an upload connection, and never takes the connections every page needs.

SQLite is refused: it has one writer at a time, and an upload would hold that for its whole length.
"""

import secrets
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, suppress

from sqlalchemy import bindparam, delete, event, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from sqlmodel import create_engine

from .store import BlobChunk, joining

CHUNK_BYTES = 1024 * 1024
PAGE_CHUNKS = 4  # chunks read per query while a blob is read out: 4 MiB at most in memory
POOL_WAIT_SECONDS = 5.0
CHUNKS = BlobChunk.__table__  # type: ignore[attr-defined]

# Built once (store.py, "Statements built once").
ADD_CHUNK = insert(CHUNKS)
SIZE = select(func.count(), func.coalesce(func.sum(func.length(CHUNKS.c.data)), 0)).where(
    CHUNKS.c.blob_id == bindparam("blob_id")
)


# Read with psycopg's binary cursor: in the text format PostgreSQL sends bytea as hex, which psycopg
# then decodes (a 256 MiB download at 46 MB/s against 270 MB/s; SQLAlchemy has no binary results).
PAGE_SQL = "SELECT seq, data FROM blob_chunk WHERE blob_id = %s AND seq >= %s ORDER BY seq LIMIT %s"


def _page(connection: Connection, blob_id: str, start: int) -> list[tuple[int, bytes]]:
    """Up to PAGE_CHUNKS chunks of a blob from `start` on, on `connection` (in its transaction, if any)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor(binary=True) as cursor:
        cursor.execute(PAGE_SQL, (blob_id, start, PAGE_CHUNKS))
        return [(seq, bytes(data)) for seq, data in cursor.fetchall()]


class UploadsBusy(Exception):
    """Every upload connection of this process is taken: the upload is refused, to be tried again."""


class NotForSqlite(Exception):
    """The database blob store was asked for on SQLite."""


class RowWriter:
    """One blob of a batch: ciphertext gathered into chunks, each inserted as it fills."""

    def __init__(self, batch: "RowBatch", blob_id: str) -> None:
        self.batch = batch
        self.blob_id = blob_id
        self.size = 0
        self.seq = 0
        self.pending = bytearray()

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.pending += data
        self.size += len(data)
        while len(self.pending) >= CHUNK_BYTES:
            self._insert(bytes(self.pending[:CHUNK_BYTES]))
            del self.pending[:CHUNK_BYTES]

    def _insert(self, chunk: bytes) -> None:
        self.batch.connection().execute(ADD_CHUNK, {"blob_id": self.blob_id, "seq": self.seq, "data": chunk})
        self.seq += 1

    def commit(self) -> None:
        """The last piece: in the batch's transaction, still to be committed with its case."""
        if self.pending or self.seq == 0:
            self._insert(bytes(self.pending))
            self.pending.clear()

    def abort(self) -> None:
        self.pending.clear()
        if self.seq and self.batch.open:
            self.batch.connection().execute(delete(CHUNKS).where(CHUNKS.c.blob_id == self.blob_id))


class RowBatch:
    """The blobs of one request, in one transaction on a connection of the upload pool."""

    def __init__(self, store: "DatabaseBlobStore") -> None:
        self.store = store
        self._connection: Connection | None = None

    @property
    def open(self) -> bool:
        return self._connection is not None

    def connection(self) -> Connection:
        if self._connection is None:
            try:
                connection = self.store.uploads.connect()
            except PoolTimeout:
                raise UploadsBusy from None
            connection.begin()
            self._connection = connection
        return self._connection

    def new_writer(self) -> RowWriter:
        self.connection()  # taken now: a busy pool refuses the file before any of it is read
        return RowWriter(self, secrets.token_hex(16))

    def joined(self) -> AbstractContextManager[object]:
        """The service call's transactions, inside this one (store.joining)."""
        return joining(self.connection())

    def commit(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.commit()
            finally:
                connection.close()

    def rollback(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.rollback()
            finally:
                connection.close()

    def abandon(self) -> None:
        """The database went away: the chunks were in the call's own transaction, which commits in
        `commit()` alone, so they are gone with it; the dead connection is closed, whatever it says."""
        with suppress(Exception):
            self.rollback()


class DatabaseBlobStore:
    """Blobs as BlobChunk rows. Reads run on the service's engine, a page of chunks a query, so a
    slow download holds no connection between pages; writes on the upload pool (see above)."""

    def __init__(self, engine: Engine, upload_connections: int = 8) -> None:
        if engine.dialect.name == "sqlite":
            raise NotForSqlite(
                "INTAKE_BLOBS=database needs PostgreSQL: SQLite has one writer at a time, and an upload "
                "would hold it for as long as it streams. Keep the default (INTAKE_BLOBS=filesystem) on SQLite."
            )
        self.engine = engine
        self.uploads = create_engine(
            engine.url,
            pool_size=upload_connections,
            max_overflow=0,
            pool_timeout=POOL_WAIT_SECONDS,
            pool_pre_ping=True,
            hide_parameters=True,
            isolation_level="READ COMMITTED",
        )
        # The upload pool goes with the service's engine (a test's, a command's): nothing left open.
        event.listen(engine, "engine_disposed", lambda _engine: self.uploads.dispose())

    def batch(self) -> RowBatch:
        return RowBatch(self)

    def read(self, blob_id: str) -> Iterator[bytes]:
        start = 0
        while True:
            with self.engine.connect() as connection:
                page = _page(connection, blob_id, start)
            if not page and start == 0:
                raise FileNotFoundError(f"no blob {blob_id}")
            for seq, data in page:
                if seq != start:  # a gap: never hand out a blob with a piece missing
                    raise FileNotFoundError(f"blob {blob_id} lacks chunk {start}")
                start += 1
                if data:
                    yield data
            if len(page) < PAGE_CHUNKS:
                return

    def read_in(self, connection: Connection, blob_id: str) -> Iterator[bytes]:
        """A blob read in the caller's transaction (a backup's snapshot)."""
        start = 0
        while page := _page(connection, blob_id, start):
            for _seq, data in page:
                start += 1
                yield data

    def size(self, blob_id: str, connection: Connection | None = None) -> int | None:
        if connection is None:
            with self.engine.connect() as own:
                return self.size(blob_id, own)
        chunks, total = connection.execute(SIZE, {"blob_id": blob_id}).one()
        return int(total) if chunks else None

    def exists(self, blob_id: str) -> bool:
        return self.size(blob_id) is not None

    def drop(self, db: Session, blob_ids: Iterable[str]) -> None:
        """In the transaction that removes their last reference: they go with it, or stay with it."""
        ids = list(blob_ids)
        if ids:
            db.connection().execute(delete(CHUNKS).where(CHUNKS.c.blob_id.in_(ids)))

    def free_bytes(self) -> int | None:
        """Unknown from here: the database's disk is the database server's (the storage quota still holds)."""
        return None

    def stored_ids(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(CHUNKS.c.blob_id).distinct().order_by(CHUNKS.c.blob_id)).scalars())

    def write(self, blob_id: str, pieces: Iterable[bytes], connection: Connection) -> int:
        """Store a whole blob under `blob_id` in the caller's transaction (a restore, a move); its size."""
        if len(blob_id) != 32 or not all(c in "0123456789abcdef" for c in blob_id):
            raise ValueError("not a blob id")
        batch = RowBatch(self)
        batch._connection = connection  # the caller's: it commits, not the batch
        writer = RowWriter(batch, blob_id)
        for piece in pieces:
            writer.write(piece)
        writer.commit()
        return writer.size

    def dispose(self) -> None:
        self.uploads.dispose()
