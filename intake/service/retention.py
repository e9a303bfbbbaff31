"""Retention: crypto-shredding cases that have been closed longer than the policy keeps them.

A purge removes every wrapped copy of the case key, every sealed record, the messages,
the files and their blobs, and the offices' handling of the case; with the keys gone,
any byte left behind on a disk or in a backup is noise. The audit log keeps a
"case purged" entry (the chain is never rewritten).
"""

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import col, delete, select

from ..blobs import BlobStore
from ..store import (
    Attachment,
    Case,
    CaseAction,
    CaseKeyWrap,
    CaseReading,
    CaseRecord,
    Handling,
    Identity,
    Message,
    ProtectiveMeasure,
    Recusal,
    RestrictionWrap,
    reading,
    transaction,
)
from . import audit, metadata
from .context import Context


@dataclass(frozen=True)
class PurgeCandidate:
    case_id: str
    closed_on: dt.date


def closed_for_good(ctx: Context, handlings: list[Handling]) -> dt.date | None:
    """The day the last office closed the case; None while any office still handles it or a
    protective measure is still open (protection outlives the handling)."""
    closed = [h.closed_on for h in handlings if ctx.policy.lifecycle(h.office, h.kind).is_closed(h.status) and h.closed_on]
    if not handlings or len(closed) < len(handlings) or any(h.open_measures for h in handlings):
        return None
    return max(closed)


def deletion_date(ctx: Context, handlings: list[Handling]) -> dt.date | None:
    """The first day a purge removes the case: the whole retention period after its closure is kept."""
    closed_on = closed_for_good(ctx, handlings)
    return closed_on + dt.timedelta(days=ctx.policy.retention_closed_case_days + 1) if closed_on else None


def due_for_purge(ctx: Context) -> list[PurgeCandidate]:
    """Cases every handling office has closed, the last of them more than the retention period ago,
    and with no protective measure still open."""
    by_case: dict[str, list[Handling]] = defaultdict(list)
    with reading(ctx.engine) as db:
        for handling in db.exec(select(Handling)).all():
            by_case[handling.case_id].append(handling)
    out = []
    for case_id, rows in sorted(by_case.items()):
        deleted_on, closed_on = deletion_date(ctx, rows), closed_for_good(ctx, rows)
        if deleted_on is not None and closed_on is not None and deleted_on <= ctx.today():
            out.append(PurgeCandidate(case_id, closed_on))
    return out


def purge_case(ctx: Context, case_id: str) -> None:
    """Remove one case for good, in one transaction, then the blobs only it used."""
    with transaction(ctx.engine) as db:
        blob_ids = set(db.exec(select(Attachment.blob_id).where(Attachment.case_id == case_id)).all())
        for table in (
            CaseAction,
            CaseRecord,
            ProtectiveMeasure,
            CaseReading,
            Recusal,
            RestrictionWrap,
            Attachment,
            Message,
            Identity,
            CaseKeyWrap,
            Handling,
        ):
            db.exec(delete(table).where(col(table.case_id) == case_id))
        db.exec(delete(Case).where(col(Case.id) == case_id))
        still_used = (
            set(db.exec(select(Attachment.blob_id).where(col(Attachment.blob_id).in_(blob_ids))).all()) if blob_ids else set()
        )
        audit.record(ctx, db, "case purged", None, case_id)
        ctx.blobs.drop(db, blob_ids - still_used)  # the database's with the rows; the directory's once they are gone


def sweep_orphan_blobs(ctx: Context, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Remove blobs no case refers to: left by a process killed mid-upload, or between writing
    a blob and committing its case, or by a purge killed before it removed them. An unsettled
    blob (its upload's own times) may be an upload still being committed: only old ones go.
    Then settle every blob that stays, so none keeps a change time of its own.
    The database store has none to sweep: its blobs commit with their rows or not at all."""
    if not isinstance(ctx.blobs, BlobStore):
        return 0
    cutoff = time.time() - older_than.total_seconds()
    with reading(ctx.engine) as db:
        referenced = set(db.exec(select(Attachment.blob_id)).all())
    removed = sweep_partials(ctx)
    for path in ctx.blobs.root.rglob("*"):
        if not path.is_file() or path.parent.name == "partial":
            continue
        orphan = path.name not in referenced and (ctx.blobs.is_settled(path) or path.stat().st_mtime < cutoff)
        if orphan:
            path.unlink(missing_ok=True)
            removed += 1
    ctx.blobs.settle_all()
    return removed


def sweep_partials(ctx: Context, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """Remove partial blobs of uploads that died (a live upload writes to its partial at least
    every INTAKE_UPLOAD_IDLE_SECONDS, or is dropped); run at start-up and by purge."""
    if not isinstance(ctx.blobs, BlobStore):
        return 0
    cutoff, removed = time.time() - older_than.total_seconds(), 0
    for path in (ctx.blobs.root / "partial").iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def sweep_leftovers(ctx: Context) -> tuple[int, int]:
    """What a killed process leaves: cleaning rooms (plaintext, in memory) and partial blobs."""
    return metadata.sweep_rooms(), sweep_partials(ctx)


def purge(ctx: Context, dry_run: bool = False) -> list[PurgeCandidate]:
    """Purge every case past retention, and orphaned blobs; returns the cases (or, dry, would be) purged."""
    candidates = due_for_purge(ctx)
    if not dry_run:
        metadata.sweep_rooms()
        sweep_orphan_blobs(ctx)
    if dry_run or not candidates:
        return candidates
    for candidate in candidates:
        purge_case(ctx, candidate.case_id)
    _compact(ctx)
    return candidates


def _compact(ctx: Context) -> None:
    """Ask the database to let go of the deleted rows' pages as well."""
    if ctx.engine.dialect.name == "sqlite":
        # Outside any transaction (the engine begins every transaction IMMEDIATE).
        raw = ctx.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return
    with ctx.engine.connect() as connection:
        if ctx.engine.dialect.name == "postgresql":
            tables = ", ".join(
                str(t.__tablename__)
                for t in (Case, Handling, CaseKeyWrap, Message, Attachment, CaseAction, CaseRecord, ProtectiveMeasure)
            )
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"VACUUM {tables}")
