"""Evidence files: encrypted while they arrive, stored as blobs, attached to a case.

An uploaded file's pieces go straight into a `FileSink`: a fresh file key, a
StreamSealer and a blob writer of the request's blob batch (blobs.py). Plaintext is never
written anywhere, except for the moment mat2 needs it, in memory (see metadata.py). Until
the case or message is committed the file is *pending*. A service call that receives
pending files owns them: it attaches them in its transaction, run inside their batch (the
database store's chunks commit with the rows that name them), or, on any failure, removes
their blobs (`held`).
"""

import json
import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select

from crypto import StreamSealer, decrypt_stream, new_key, open_record, seal_record
from policies.text import N_, Text

from ..blobs import BlobBatch
from ..database_blobs import UploadsBusy
from ..store import Attachment, reading, unavailable
from . import metadata
from .context import Context
from .errors import Busy, NotFound, StorageFull, TooLarge

MAX_NAME_CHARS = 255
FILE_ID = re.compile(r"F-[0-9A-F]{12}")


@dataclass(frozen=True)
class FileView:
    id: str
    name: str
    size: int
    cleaned: bool | None
    content_type: str = "application/octet-stream"


@dataclass
class PendingFile:
    """An uploaded, encrypted file whose blob exists but which no case references yet."""

    blob_id: str
    file_key: bytes
    name: str
    content_type: str
    size: int
    stored_size: int
    cleaned: bool | None
    part: str | None = None  # the account of a two-part report it was sent with; None for a one-part report
    batch: BlobBatch | None = field(default=None, repr=False, compare=False)  # its request's blobs (blobs.py)


@dataclass
class UploadBudget:
    """What one request may still upload (bytes in all, bytes per file, number of files)."""

    max_file_bytes: int
    max_total_bytes: int
    max_files: int
    total_bytes: int = 0
    files: int = 0
    room_left: int | None = None  # what the storage quota and the disk's reserve still allow
    blobs: BlobBatch | None = None  # the request's blob batch, begun with its first file

    @classmethod
    def for_request(cls, ctx: Context) -> "UploadBudget":
        s = ctx.settings
        return cls(s.max_file_bytes, s.max_report_bytes, s.max_files_per_message)

    def start_file_in(self, ctx: Context) -> None:
        """A file begins: count it, and on the first, learn how much room the store has left."""
        self.start_file()
        if self.room_left is None:
            self.room_left = storage_left(ctx)
        if self.room_left <= 0:
            raise StorageFull(STORAGE_FULL)

    def blob_batch(self, ctx: Context) -> BlobBatch:
        if self.blobs is None:
            self.blobs = ctx.blobs.batch()
        return self.blobs

    def release_blobs(self) -> None:
        """The request failed before a service call took its files: remove every blob it wrote."""
        if self.blobs is not None:
            self.blobs.rollback()

    def start_file(self) -> None:
        self.files += 1
        if self.files > self.max_files:
            raise TooLarge(
                Text(N_("Too many files: at most {count} can be attached at once. Nothing was kept."), count=self.max_files)
            )

    def take(self, file_bytes: int, more: int) -> None:
        self.total_bytes += more
        if file_bytes > self.max_file_bytes:
            raise TooLarge(
                Text(
                    N_("A file is too large: each file can be at most {size}. Nothing was kept."),
                    size=readable_size(self.max_file_bytes),
                )
            )
        if self.room_left is not None and self.total_bytes > self.room_left:
            raise StorageFull(STORAGE_FULL)
        if self.total_bytes > self.max_total_bytes:
            raise TooLarge(
                Text(
                    N_("The files are too large together: at most {size} in all. Nothing was kept."),
                    size=readable_size(self.max_total_bytes),
                )
            )


STORAGE_FULL = N_(
    "The service cannot store more files right now, so none of these were kept. "
    "You can send your words without files, and the files later from your case room."
)


def storage_left(ctx: Context) -> int:
    """Bytes the files of a new upload may take: under the quota of all stored files, and
    leaving the disk its reserve of free space."""
    with reading(ctx.engine) as db:
        stored = db.exec(select(func.coalesce(func.sum(Attachment.stored_size), 0))).one()
    quota_left = ctx.settings.storage_quota_bytes - int(stored)
    free = ctx.blobs.free_bytes()  # None for the database store: its disk is the database server's
    return quota_left if free is None else min(quota_left, free - ctx.settings.min_free_bytes)


def readable_size(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB" if n >= 2**20 else f"{n / 1024:,.0f} KiB"


def clean_name(name: str) -> str:
    """The file name as the reporter's device sent it, minus path, control and format characters
    (bidi overrides among them), with each run of spaces made one: "report.pdf<100 spaces>.exe"
    would otherwise show as a PDF in a download dialog."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return " ".join(name.split())[:MAX_NAME_CHARS] or "unnamed file"


class FileSink:
    """Receives one file's plaintext pieces; `finish()` returns a PendingFile."""

    def __init__(
        self, ctx: Context, name: str, content_type: str, clean_metadata: bool, budget: UploadBudget, part: str | None = None
    ) -> None:
        budget.start_file_in(ctx)
        self.part = part
        self.ctx, self.budget = ctx, budget
        self.name = clean_name(name)
        self.content_type = (content_type or "application/octet-stream")[:100]
        self.size = 0
        self.cleaned: bool | None = None
        self.room = None
        if clean_metadata:  # first: a refusal here must leave no partial blob behind
            if metadata.can_clean(self.name) and ctx.settings.max_clean_bytes > 0:
                self.room = ctx.cleaning.open(self.name)
            else:
                self.cleaned = False
        self.file_key = new_key()
        self.batch = budget.blob_batch(ctx)
        try:
            self.writer = self.batch.new_writer()
        except UploadsBusy:
            raise Busy(retry_after=5) from None
        self.sealer = StreamSealer(self.file_key)
        self.writer.write(self.sealer.header)

    def write(self, data: bytes) -> None:
        self.size += len(data)
        self.budget.take(self.size, len(data))
        if self.room is not None:
            if self.size > self.ctx.settings.max_clean_bytes:
                self._give_up_cleaning()
            else:
                self.room.write(data)
                return
        self.writer.write(self.sealer.update(data))

    def _give_up_cleaning(self) -> None:
        """Too large to clean in memory: encrypt what was held and stream the rest."""
        room, self.room = self.room, None
        if room is None:
            return
        try:
            for block in room.read():
                self.writer.write(self.sealer.update(block))
        finally:
            room.remove()
        self.cleaned = False

    def finish(self) -> PendingFile:
        if self.room is not None:
            room, self.room = self.room, None
            try:
                self.cleaned = room.clean()
                self.size = 0  # the cleaned file's size; if mat2 failed, the file as sent
                for block in room.read():
                    self.size += len(block)
                    self.writer.write(self.sealer.update(block))
            finally:
                room.remove()
        for chunk in self.sealer.finish():
            self.writer.write(chunk)
        self.writer.commit()
        return PendingFile(
            self.writer.blob_id,
            self.file_key,
            self.name,
            self.content_type,
            self.size,
            self.writer.size,
            self.cleaned,
            self.part,
            self.batch,
        )

    def abort(self) -> None:
        if self.room is not None:
            self.room.remove()
            self.room = None
        self.writer.abort()


def _batches(pending: Sequence[PendingFile]) -> list[BlobBatch]:
    batches: list[BlobBatch] = []
    for item in pending:
        if item.batch is not None and not any(item.batch is b for b in batches):
            batches.append(item.batch)
    return batches


def discard(pending: Sequence[PendingFile]) -> None:
    """Remove the blobs of files that will not be attached."""
    for batch in _batches(pending):
        batch.rollback()


@contextmanager
def held(ctx: Context, pending: Sequence[PendingFile]) -> Iterator[None]:
    """Hold pending files through a service call, which runs inside their blob batch: if the call
    fails in any way, their blobs go; if it succeeds, the batch commits (the database store's chunks
    with the call's rows; the directory store's files are settled, their times fixed).

    Except when the database went away (store.unavailable): a connection lost while COMMIT was on its
    way leaves it unknown whether the rows that name the blobs were written, so each batch is
    abandoned, not rolled back (BlobBatch.abandon: the directory store keeps its files)."""
    batches = _batches(pending)
    try:
        with ExitStack() as joined:
            for batch in batches:
                joined.enter_context(batch.joined())
            yield
    except BaseException as error:
        if unavailable(error):
            for batch in batches:
                batch.abandon()
        else:
            discard(pending)
        raise
    for batch in batches:
        batch.commit()


def attach(db: Session, case_id: str, case_key: bytes, message_id: str | None, pending: Sequence[PendingFile]) -> list[str]:
    """Seal each pending file's key and description under the case key, in the caller's transaction."""
    ids = []
    for item in pending:
        attachment_id = f"F-{secrets.token_hex(6).upper()}"
        description = {"name": item.name, "type": item.content_type, "size": item.size, "cleaned": item.cleaned}
        db.add(
            Attachment(
                id=attachment_id,
                case_id=case_id,
                message_id=message_id,
                blob_id=item.blob_id,
                key=seal_record(case_key, item.file_key, case_id, "file-key", attachment_id),
                meta=seal_record(case_key, json.dumps(description).encode("utf-8"), case_id, "file-meta", attachment_id),
                stored_size=item.stored_size,
            )
        )
        ids.append(attachment_id)
    return ids


def describe(row: Attachment, case_key: bytes) -> FileView:
    meta = json.loads(open_record(case_key, row.meta, row.case_id, "file-meta", row.id))
    return FileView(row.id, meta["name"], meta["size"], meta["cleaned"], meta["type"])


FILES = select(Attachment).where(col(Attachment.case_id) == bindparam("case_id")).order_by(col(Attachment.number))


def files_by_message(db: Session, case_id: str, case_key: bytes) -> dict[str | None, list[FileView]]:
    """Every file of a case, grouped by message id (None: attached to the report)."""
    grouped: dict[str | None, list[FileView]] = {}
    for row in db.exec(FILES, params={"case_id": case_id}).all():
        grouped.setdefault(row.message_id, []).append(describe(row, case_key))
    return grouped


def open_file(ctx: Context, db: Session, case_id: str, case_key: bytes, file_id: str) -> tuple[FileView, Iterator[bytes]]:
    """A file's description and an iterator of its decrypted content (verified to the final tag)."""
    valid = isinstance(file_id, str) and FILE_ID.fullmatch(file_id)
    row = db.exec(select(Attachment).where(Attachment.id == file_id)).first() if valid else None
    if row is None or row.case_id != case_id:
        raise NotFound(N_("There is no such file in this case."))
    view = describe(row, case_key)
    file_key = open_record(case_key, row.key, case_id, "file-key", row.id)
    return view, decrypt_stream(file_key, ctx.blobs.read(row.blob_id))
