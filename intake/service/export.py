"""Sealed case export: an officer takes a case their office can open away from the service, as
one bundle (bundles.py) for an investigation outside it (issue 27).

The bundle holds what the case page shows that officer: the report and its answers, the
messages and every file, the office's handling with its deadlines and determination, the
protection file, the office's own records and the history. Never who the complainant is: an
identity in escrow stays in the service, where reading it is recorded and ends the
complainant's right to take consent back.

Every export is in the audit chain with the bundle's id and the SHA-256 of the file, recorded
once the file is whole and before any of it leaves (the web spools it first): the chain of
custody starts at that entry.
"""

import dataclasses
import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from crypto import open_record
from policies.answers import read_answers

from ..store import reading, transaction
from . import attachments, audit, bundles, casework, office_records, protection, recusal
from .bundles import Item, Lock
from .casefiles import handlings, open_for_office, read_messages, reviews_of, view_handling
from .context import Context
from .office_records import RecordKind
from .officers import OfficerSession


@dataclass(frozen=True)
class Exported:
    case_id: str
    bundle_id: str
    sha256: str
    size: int
    files: int


def _json(value: object) -> bytes:
    return json.dumps(value, indent=1, ensure_ascii=False, default=str).encode("utf-8")


def _member_name(file_id: str, name: str) -> str:
    """A file's name inside the bundle: its id, then its name cut to what any file system takes
    (the name as the reporter gave it is in case.json)."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name).lstrip("._")[:60]
    return f"files/{file_id}/{safe or 'file'}"


def _gather(ctx: Context, officer: OfficerSession, case_id: str) -> tuple[list[Item], dict]:
    """The case as this officer's office holds it: the JSON items in memory, each file as a stream
    that decrypts as the bundle is written. NotFound for a case the officer cannot open."""
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id)
        case, handling = opened.case, opened.handling
        key = office_records.key_of(db, handling, opened.holder_key)
        messages, report_files = read_messages(db, case.id, opened.key)
        records = office_records.read(db, case.id, officer.office, key, opened.holder_key)
        rows = handlings(db, case.id)
        views = {h.office: view_handling(ctx, h, reviews_of(db, h)) for h in rows}
        answers = json.loads(open_record(opened.key, case.answers, case.id, "answers", case.id))
        people = tuple(casework.Colleague(*row) for row in db.exec(casework.EVERYONE))
        head_of = officer.office if recusal.sees_conflicts(db, officer, case.id) else None
        history = casework.history(ctx, db, case.id, rows, people, head_of)
        measures = protection.read(ctx, db, case.id, opened.key, records, officer.office)
        every_file = [(None, f) for f in report_files] + [(m.id, f) for m in messages for f in m.files]
        contents = [attachments.open_file(ctx, db, case.id, opened.key, f.id)[1] for _, f in every_file]
        description = open_record(opened.key, case.report, case.id, "report", case.id).decode("utf-8")
    # As the case page lists them: a measure's notes are with the measure, a conflict's only for a head.
    shown = [r for r in records if r.kind != RecordKind.MEASURE_NOTE and (head_of or r.kind not in casework.CONFLICT_RECORDS)]
    files = [{**dataclasses.asdict(f), "message": message_id, "item": _member_name(f.id, f.name)} for message_id, f in every_file]
    read = read_answers(ctx.policy, answers)
    summary = {
        "case": case.id,
        "office": officer.office,
        "received_on": case.received_on.isoformat(),
        "kind": handling.kind,
        "concerns": list(read.concerns),
        "report": description,
        "answers": answers,
        "handling": dataclasses.asdict(views[officer.office]),
        "other_offices": [{"office": o, "status": v.status, "label": v.label} for o, v in views.items() if o != officer.office],
        "measures": [dataclasses.asdict(m) for m in measures],
        "records": [dataclasses.asdict(r) for r in shown],
        "files": files,
    }
    thread = [
        {"id": m.id, "author": m.author, "office": m.office, "sent_on": m.sent_on, "body": str(m.body)}
        | {"files": [f.id for f in m.files]}
        for m in messages
    ]
    items = [
        _item("case.json", _json(summary)),
        _item("messages.json", _json(thread)),
        _item("history.json", _json([dataclasses.asdict(h) for h in history])),
    ]
    items += [Item(entry["item"], entry["size"], content) for entry, content in zip(files, contents, strict=True)]
    return items, {"case": case.id, "office": officer.office}


def _item(name: str, data: bytes) -> Item:
    return Item(name, len(data), (data,))


def export_case(ctx: Context, officer: OfficerSession, case_id: str, lock: Lock, bundle_id: str, target: BinaryIO) -> Exported:
    """Write the case's bundle into `target`, then record the export in the audit chain (with the
    bundle's SHA-256). The caller makes the lock (bundles.passphrase_lock or key_lock, with this
    `bundle_id`) and owns `target`: if this raises, nothing was recorded and the file is not a bundle
    to hand on (the CLI removes it; the web sends nothing)."""
    items, about = _gather(ctx, officer, case_id)
    exported_at = ctx.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    about |= {"exported_at": exported_at, "exported_by": officer.username, "sealed": lock.sealed}
    written = bundles.write(target, bundle_id, lock, items, about, ctx.instance.audit_signing_seed, ctx.instance.audit_verify_key)
    with transaction(ctx.engine) as db:
        open_for_office(db, officer, case_id)  # still theirs to open now that the file is whole
        audit.record(
            ctx,
            db,
            "case exported",
            officer.officer_id,
            case_id,
            bundle=bundle_id,
            sha256=written.sha256,
            sealed=lock.sealed,
            recipient=lock.recipient.hex() if lock.recipient else None,
        )
    return Exported(case_id, bundle_id, written.sha256, written.size, sum(i.name.startswith("files/") for i in items))


def check(ctx: Context, officer: OfficerSession, case_id: str) -> None:
    """NotFound unless the officer can open the case (the export page is shown only then)."""
    with reading(ctx.engine) as db:
        open_for_office(db, officer, case_id)


def export_spooled(ctx: Context, officer: OfficerSession, case_id: str, lock: Lock, bundle_id: str) -> tuple[Exported, BinaryIO]:
    """`export_case` into an unnamed temporary file in the data directory, for a download: the whole
    bundle is written and its export recorded before the first byte is sent. The file has no name
    (closing it, or the process ending, deletes it) and holds only ciphertext."""
    spool = tempfile.TemporaryFile(dir=ctx.settings.data_dir)  # noqa: SIM115 (closed by `spooled`, or here)
    try:
        return export_case(ctx, officer, case_id, lock, bundle_id, spool), spool
    except BaseException:
        spool.close()
        raise


def spooled(target: BinaryIO, block: int = 1024 * 1024) -> Iterator[bytes]:
    """A written bundle read back from its spool file for a download, the file closed at the end
    (the spool is an unnamed temporary file: closing it is deleting it)."""
    try:
        target.seek(0)
        while data := target.read(block):
            yield data
    finally:
        target.close()
