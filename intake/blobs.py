"""The blob stores: where encrypted attachment streams are kept, and the directory store.

Two stores keep the same encrypted frames: a directory of files (here, the default) and
rows of the database (database_blobs.py, INTAKE_BLOBS=database), which several machines
share. Both are used through `Blobs`: the files of one request are written in a
`BlobBatch`, which the service call that attaches them commits or rolls back.

Blobs arrive already encrypted (crypto.stream), so nothing here ever sees plaintext.
A blob is written under `partial/` and moved into place only when its writer commits;
an aborted upload deletes its partial file, so a failed request leaves nothing behind.

A file's times would say to the nanosecond when a reporter's upload ended, which the
database (day precision) never does. So once a blob belongs to a case it is *settled*:
its modification and access times, and its directory's, are set to FIXED_TIME. The
change time (ctime) cannot be set by any program; `settle_all` (run by `intake purge`)
touches every blob, so an old blob's ctime says only when the last purge ran.
"""

import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

READ_BLOCK = 1024 * 1024
FIXED_TIME = 0  # 1970-01-01T00:00:00Z: the time every settled blob and directory shows


class Writer(Protocol):
    """One new blob being written: `commit()` when its last byte is in, `abort()` to drop it."""

    blob_id: str
    size: int

    def write(self, data: bytes) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class BlobBatch(Protocol):
    """The blobs of one request. The service call that attaches them runs `joined()`, then
    `commit()` keeps them (they belong to a case) or `rollback()` removes every one; `abandon()` when
    the database went away and nobody knows whether the call's rows were written."""

    def new_writer(self) -> Writer: ...
    def joined(self) -> AbstractContextManager[object]: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def abandon(self) -> None: ...


class Blobs(Protocol):
    """A blob store, whichever keeps them."""

    def batch(self) -> BlobBatch: ...
    def read(self, blob_id: str) -> Iterator[bytes]: ...
    def size(self, blob_id: str) -> int | None: ...
    def exists(self, blob_id: str) -> bool: ...
    def drop(self, db: Session, blob_ids: Iterable[str]) -> None: ...
    def free_bytes(self) -> int | None: ...


class BlobWriter:
    """Appends ciphertext to one new blob; `commit()` publishes it, `abort()` removes it."""

    def __init__(self, store: "BlobStore", blob_id: str) -> None:
        self.blob_id = blob_id
        self._final = store.path(blob_id)
        self._partial = store.root / "partial" / blob_id
        self._file = open(self._partial, "xb")  # noqa: SIM115 (held open while the upload streams in)
        self.size = 0

    def write(self, data: bytes) -> None:
        if data:
            self._file.write(data)
            self.size += len(data)

    def commit(self) -> None:
        """Flush to disk and move into place: after this, the blob survives a crash."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._partial, self._final)

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._partial.unlink(missing_ok=True)


class BlobStore:
    """Blobs as files under `root`, fanned out by the first two hex digits of their id."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "partial").mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, blob_id: str) -> Path:
        if len(blob_id) != 32 or not all(c in "0123456789abcdef" for c in blob_id):
            raise ValueError("not a blob id")
        return self.root / blob_id[:2] / blob_id

    def new_writer(self) -> BlobWriter:
        return BlobWriter(self, secrets.token_hex(16))

    def batch(self) -> "FileBatch":
        return FileBatch(self)

    def read(self, blob_id: str) -> Iterator[bytes]:
        with open(self.path(blob_id), "rb") as blob:
            while block := blob.read(READ_BLOCK):
                yield block

    def delete(self, blob_id: str) -> None:
        self.path(blob_id).unlink(missing_ok=True)

    def exists(self, blob_id: str) -> bool:
        return self.path(blob_id).exists()

    def size(self, blob_id: str) -> int | None:
        path = self.path(blob_id)
        return path.stat().st_size if path.exists() else None

    def drop(self, db: Session, blob_ids: Iterable[str]) -> None:
        """The blobs go once `db`'s transaction, which removes their last reference, commits:
        removed before, a failed commit would leave rows naming files that are gone."""
        doomed = list(blob_ids)

        def remove(_session: Session) -> None:
            for blob_id in doomed:
                self.delete(blob_id)

        event.listen(db, "after_commit", remove, once=True)

    def free_bytes(self) -> int | None:
        return shutil.disk_usage(self.root).free

    def stored_ids(self) -> list[str]:
        """Every committed blob's id (for a backup, a move, a sweep)."""
        return sorted(p.name for p in self.root.glob("[0-9a-f][0-9a-f]/*") if p.is_file())

    def settle(self, blob_ids: Iterable[str]) -> None:
        """The blobs now belong to a case: their times, and their directories', no longer tell when they came."""
        for blob_id in blob_ids:
            path = self.path(blob_id)
            if path.exists():
                os.utime(path, (FIXED_TIME, FIXED_TIME))
                os.utime(path.parent, (FIXED_TIME, FIXED_TIME))
        for directory in (self.root / "partial", self.root):
            os.utime(directory, (FIXED_TIME, FIXED_TIME))

    def is_settled(self, path: Path) -> bool:
        return path.stat().st_mtime == FIXED_TIME

    def settle_all(self) -> int:
        """Settle every blob again: each one's ctime then tells only when this ran."""
        ids = self.stored_ids()
        self.settle(ids)
        return len(ids)


class FileBatch:
    """The files of one request in the directory store: each is its own file, committed as
    it ends; the batch settles them all when their case commits, or removes them all."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.writers: list[BlobWriter] = []

    def new_writer(self) -> BlobWriter:
        writer = self.store.new_writer()
        self.writers.append(writer)
        return writer

    def joined(self) -> AbstractContextManager[object]:
        return nullcontext()

    def commit(self) -> None:
        self.store.settle(writer.blob_id for writer in self.writers)

    def rollback(self) -> None:
        for writer in self.writers:
            writer.abort()
            self.store.delete(writer.blob_id)

    def abandon(self) -> None:
        """Keep the files, unsettled: the rows naming them may have been committed (a connection lost
        while COMMIT was on its way, on a standby a failover promotes), and then they are whole; if the
        rows were not written, retention.sweep_orphan_blobs removes them after a day."""
        for writer in self.writers:
            writer.abort()
