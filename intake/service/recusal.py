"""Conflicts of interest: an officer steps away from a case, and the head of the office decides.

ECO Charter 4.5-4.6 (seed 004, Annex I): an ethics officer has no personal stake in an issue
brought to the office, discloses any actual or potential conflict to the head in a timely
fashion, and the head recommends what to do. Here an officer declares the conflict on the
case, with a note sealed among the office's own records; from then on the case does not
exist for them (casefiles.open_for_office, the inbox) until the head lifts the recusal.

A recusal is a rule the server enforces, not a key it withholds: the officer still holds the
office key. A case that must be kept from an office's own officers is a restricted case
(restriction.py): then only the officers it is wrapped to hold a key that opens it.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from policies.text import N_

from ..store import Handling, Officer, Recusal, reading, transaction
from . import audit, office_records
from .casefiles import CASE_ID, holder_key, officer_text, open_for_office, recused
from .context import Context
from .errors import Conflict, NotFound
from .office_records import RecordKind
from .officers import OfficerSession

MAX_NOTE_CHARS = 2000
NOT_HEAD = N_("Only the head of the office decides on conflicts of interest.")
NO_DECLARATION = N_("No such declaration of a conflict of interest.")


@dataclass(frozen=True)
class Declaration:
    case_id: str
    username: str
    declared_on: str
    lifted_on: str | None
    note: str | None  # None where the head cannot read it (recused themselves, or a restricted case not shared with them)


def is_head(db: Session, officer: OfficerSession) -> bool:
    row = db.get(Officer, officer.officer_id)
    return row is not None and row.active and row.head and row.office == officer.office


def declare(ctx: Context, officer: OfficerSession, case_id: str, note: object) -> None:
    """Declare a conflict of interest on a case and step away from it (the head is told in the workspace)."""
    text = officer_text(note, "note", MAX_NOTE_CHARS, required=True)
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        key = office_records.key_of(db, opened.handling, opened.holder_key)
        record = office_records.add(ctx, db, opened.handling, key, officer.officer_id, RecordKind.CONFLICT_DECLARATION, text)
        earlier = db.get(Recusal, (opened.case.id, officer.officer_id))
        if earlier is not None:  # lifted before, declared again
            db.delete(earlier)
            db.flush()
        db.add(
            Recusal(
                case_id=opened.case.id,
                officer_id=officer.officer_id,
                office=officer.office,
                declared_on=ctx.today(),
                record_id=record,
            )
        )
        if opened.handling.assignee == officer.officer_id:
            opened.handling.assignee = None
            db.add(opened.handling)
        audit.record(ctx, db, "conflict declared", officer.officer_id, opened.case.id, record=record)


def lift(ctx: Context, head: OfficerSession, case_id: object, username: object) -> None:
    """The head's decision: the officer may work on the case again."""
    if not (isinstance(case_id, str) and CASE_ID.fullmatch(case_id) and isinstance(username, str) and len(username) <= 64):
        raise NotFound(NO_DECLARATION)
    with transaction(ctx.engine) as db:
        if not is_head(db, head):
            raise Conflict(NOT_HEAD)
        row = db.exec(
            select(Recusal)
            .join(Officer, col(Officer.id) == Recusal.officer_id)
            .where(Recusal.case_id == case_id, Officer.username == username, Recusal.office == head.office)
            .with_for_update()
        ).first()
        if row is None or row.lifted_on is not None:
            raise NotFound(NO_DECLARATION)
        if row.officer_id == head.officer_id:  # Charter 4.7: a head's own conflict is for someone else to decide
            raise Conflict(N_("Another head decides on your own conflict of interest."))
        row.lifted_on, row.lifted_by = ctx.today(), head.officer_id
        db.add(row)
        audit.record(ctx, db, "recusal lifted", head.officer_id, row.case_id, of=row.officer_id)


def declarations(ctx: Context, head: OfficerSession) -> tuple[Declaration, ...]:
    """The office's declarations of conflicts, newest first, with their notes: for the head only."""
    with reading(ctx.engine) as db:
        if not is_head(db, head):
            raise Conflict(NOT_HEAD)
        rows = db.exec(
            select(Recusal, Officer.username)
            .join(Officer, col(Officer.id) == Recusal.officer_id)
            .where(Recusal.office == head.office)
            .order_by(col(Recusal.declared_on).desc(), col(Recusal.case_id))
        ).all()
        out = []
        for recusal, username in rows:
            note = None
            if not recused(db, recusal.case_id, head.officer_id):
                handling = db.get(Handling, (recusal.case_id, recusal.office))
                key = holder_key(db, head, handling) if handling is not None else None
                if handling is not None and key is not None:
                    handling_key = office_records.key_of(db, handling, key)
                    record = office_records.read_one(db, recusal.record_id, recusal.case_id, head.office, handling_key, key)
                    note = record.text if record else None
            out.append(
                Declaration(
                    recusal.case_id,
                    username,
                    recusal.declared_on.isoformat(),
                    recusal.lifted_on.isoformat() if recusal.lifted_on else None,
                    note,
                )
            )
        return tuple(out)
