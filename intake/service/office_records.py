"""An office's own records of a case, sealed under its handling key, never under the case key.

Internal notes, the reasons for a decision, the prima facie determination, an extension's
justification, the note on a protective measure, a referral memo, the reason to refer
without consent: these stay with the
office that wrote them. The case key is shared with every office the case is referred to
(and with the complainant); the handling key is wrapped to one office only, so another
office, even with a copy of the database and its own keys, cannot open these.
"""

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from crypto import new_key, open_record, seal_record, unwrap_handling_key, unwrap_record_key, wrap_handling_key, wrap_record_key
from policies import Office

from ..store import CaseRecord, Handling, Officer, office_public_key
from .casefiles import new_id
from .context import Context


class RecordKind(StrEnum):
    NOTE = "note"
    CLOSING_REASON = "closing_reason"
    REOPENING_REASON = "reopening_reason"
    DETERMINATION = "determination"
    EXTENSION = "extension"
    REFERRAL_MEMO = "referral_memo"
    REFERRAL_REASON = "referral_reason"  # why a case was referred without the complainant's consent
    CONFLICT_DECLARATION = "conflict_declaration"  # an officer's declared conflict of interest (recusal.py)
    CONFLICT_DECISION = "conflict_decision"  # a head's decision on it, about "upheld" or "lifted", with the reason
    DIRECTOR_GENERAL_DECISION = "director_general_decision"  # the Director General's (ECO Charter 4.7), recorded
    MEASURE_NOTE = "measure_note"


@dataclass(frozen=True)
class OfficeRecord:
    id: str
    kind: RecordKind
    text: str
    officer: str | None  # username
    recorded_on: str
    about: str | None = None  # what it is about: a measure id, a state, a deadline


def key_of(db: Session, handling: Handling, holder_key: bytes) -> bytes:
    """The office's handling key of this case, made (and wrapped to the office) on first use.

    `holder_key` is the office's private key, or a restricted case's own (casefiles.holder_key)."""
    if handling.key_wrap is not None:
        return unwrap_handling_key(holder_key, handling.key_wrap, handling.case_id, handling.office)
    key = new_key()
    wrap_for(db, handling, key)
    return key


def holder_public(db: Session, handling: Handling) -> bytes:
    """The public key what the office holds of this case is sealed to: the office's (read under the
    rotation lock, store.office_public_key), or a restricted case's own."""
    if handling.restricted_key is not None:
        return handling.restricted_key
    return office_public_key(db, handling.office)


def wrap_for(db: Session, handling: Handling, key: bytes) -> None:
    """Seal `key` to the handling's holder as its handling key (also used for a new handling on referral)."""
    handling.key_wrap = wrap_handling_key(key, holder_public(db, handling), handling.case_id, handling.office)
    db.add(handling)


def add(
    ctx: Context,
    db: Session,
    handling: Handling,
    key: bytes,
    officer_id: str | None,
    kind: RecordKind,
    text: str,
    about: str | None = None,
) -> str:
    """Seal one record under the handling key, in the caller's transaction."""
    return _store(ctx, db, handling, key, None, officer_id, kind, text, about)


def add_for(
    ctx: Context, db: Session, handling: Handling, officer_id: str | None, kind: RecordKind, text: str, about: str | None = None
) -> str:
    """Seal one record for another office's handling, whose handling key the writer cannot open (the
    memo that comes with a case returned to an office that handled it before): under a key of its
    own, wrapped to that office (or, restricted, to the case's own key)."""
    return _store(ctx, db, handling, new_key(), holder_public(db, handling), officer_id, kind, text, about)


def _store(
    ctx: Context,
    db: Session,
    handling: Handling,
    key: bytes,
    wrap_to: bytes | None,
    officer_id: str | None,
    kind: RecordKind,
    text: str,
    about: str | None,
) -> str:
    """Seal one record under `key`; with `wrap_to`, the key is the record's own, wrapped to that public key."""
    record_id = new_id("N")
    body = json.dumps({"kind": str(kind), "text": text, "about": about}).encode("utf-8")
    db.add(
        CaseRecord(
            id=record_id,
            case_id=handling.case_id,
            office=handling.office,
            officer_id=officer_id,
            recorded_on=ctx.today(),
            body=seal_record(key, body, handling.case_id, "office-record", record_id),
            key_wrap=wrap_record_key(key, wrap_to, handling.case_id, handling.office, record_id) if wrap_to else None,
        )
    )
    return record_id


def read(db: Session, case_id: str, office: Office, key: bytes, holder_key: bytes) -> tuple[OfficeRecord, ...]:
    """Every record the office keeps on the case, oldest first. `key` is the handling key; a record
    with a key of its own (add_for) opens with `holder_key`, the office's (or restricted case's) private key."""
    return _opened(db, key, holder_key, RECORDS, {"case_id": case_id, "office": office})


def read_one(db: Session, record_id: str, case_id: str, office: Office, key: bytes, holder_key: bytes) -> OfficeRecord | None:
    """One record of the office on the case, by id (a declaration's note), or None."""
    found = _opened(db, key, holder_key, RECORD, {"id": record_id, "case_id": case_id, "office": office})
    return found[0] if found else None


def _records(*where: Any) -> Any:
    return (
        select(CaseRecord, Officer.username)
        .join(Officer, col(Officer.id) == CaseRecord.officer_id, isouter=True)
        .where(*where)
        .order_by(col(CaseRecord.number))
    )


RECORDS = _records(col(CaseRecord.case_id) == bindparam("case_id"), col(CaseRecord.office) == bindparam("office"))
RECORD = _records(
    col(CaseRecord.id) == bindparam("id"),
    col(CaseRecord.case_id) == bindparam("case_id"),
    col(CaseRecord.office) == bindparam("office"),
)


def _opened(db: Session, key: bytes, holder_key: bytes, statement: Any, params: dict[str, Any]) -> tuple[OfficeRecord, ...]:
    rows = db.exec(statement, params=params).all()
    out = []
    for row, username in rows:
        case_id, office = row.case_id, row.office
        record_key = key if row.key_wrap is None else unwrap_record_key(holder_key, row.key_wrap, case_id, office, row.id)
        body = json.loads(open_record(record_key, row.body, case_id, "office-record", row.id))
        out.append(
            OfficeRecord(row.id, RecordKind(body["kind"]), body["text"], username, row.recorded_on.isoformat(), body.get("about"))
        )
    return tuple(out)
