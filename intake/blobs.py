"""The blob store: a directory of encrypted attachment streams.

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
from collections.abc import Iterable, Iterator
from pathlib import Path

READ_BLOCK = 1024 * 1024
FIXED_TIME = 0  # 1970-01-01T00:00:00Z: the time every settled blob and directory shows


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

    def read(self, blob_id: str) -> Iterator[bytes]:
        with open(self.path(blob_id), "rb") as blob:
            while block := blob.read(READ_BLOCK):
                yield block

    def delete(self, blob_id: str) -> None:
        self.path(blob_id).unlink(missing_ok=True)

    def exists(self, blob_id: str) -> bool:
        return self.path(blob_id).exists()

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
        ids = [p.name for p in self.root.glob("[0-9a-f][0-9a-f]/*") if p.is_file()]
        self.settle(ids)
        return len(ids)
