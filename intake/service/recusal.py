"""Conflicts of interest: an officer steps away from a case, and the decision on it.

ECO Charter 4.5-4.7 (seed 004, Annex I): an ethics officer has no personal stake in an issue
brought to the office (4.5) and discloses any actual or potential conflict to the Head of ECO,
who recommends appropriate action (4.6); the Head discloses their own to the Director General
(4.7). Here an officer declares the conflict on the case, with a note sealed among the office's
own records; from then on the case does not exist for them (casefiles.open_for_office, the
inbox) unless the decision lifts the recusal.

Who decides (`decider`), worked out when the decision is made, since heads change:
- a head of the office who can open the case (access.py), other than the declarer: a member's
  conflict goes to the head (4.6), and a head's own to another head where the office has one;
- where there is none (the sole head's own conflict, or every head who could decide stepped
  away from the case or cannot open it), the decision is the Director General's (4.7). The
  Director General is not a user: an officer of the office who can open the case records the
  decision the Director General communicated, ticking that it is theirs; it is shown and
  audit-logged as the Director General's.
A decision upholds the declaration (the officer stays away; the case cannot be assigned to them)
or lifts it (they may work on the case again), always with a written reason sealed with the
office's own records. An upheld declaration can still be lifted later, with its own reason.

No case is ever left with nobody who can open it (access.py). A declaration by the last officer
who can open a case is refused, unless, for a restricted case, the officer hands it on in the
same step to an officer of the office they name (one more wrap, as restriction.share makes; the
complainant is told in the case room): DESIGN.md, "a sole head in conflict must hand the case on
before stepping away (Charter 4.7)". An ordinary case's last officer cannot hand it on (every
officer of the office holds its key already): another officer must be enrolled, or a recusal
lifted, first.

A recusal is a rule the server enforces, not a key it withholds: the officer still holds the
office key. A case that must be kept from an office's own officers is a restricted case
(restriction.py): then only the officers it is wrapped to hold a key that opens it.
"""

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from policies.text import N_

from ..store import Handling, Officer, Recusal, reading, transaction
from . import audit, notices, office_records, restriction
from .access import is_head, lock_office, only_openers, openers
from .casefiles import CASE_ID, OpenCase, holder_key, officer_text, open_for_office, plausible_username, recused
from .context import Context
from .errors import Conflict, NotFound
from .office_records import RecordKind
from .officers import OfficerSession

MAX_NOTE_CHARS = 2000
MAX_REASON_CHARS = 2000
NOT_YOURS_TO_DECIDE = N_(
    "A head of the office who can open the case decides on this conflict of interest (ECO Charter 4.6); "
    "where there is none, an officer who can open the case records the Director General's decision."
)
NO_DECLARATION = N_("No such declaration of a conflict of interest.")
OWN_CONFLICT = N_(
    "You cannot decide on your own conflict of interest: another head of the office does, or, where there is none, "
    "the Director General (ECO Charter 4.7)."
)
LAST_OFFICER = N_(
    "You are the last officer of your office who can open this case, so you cannot step away from it yet: another "
    "officer must be enrolled in the office (intake officer add), or a recusal on the case lifted, first."
)
HAND_ON = N_(
    "You are the last officer of your office who can open this restricted case. Name an officer of your office to "
    "hand it on to as you step away: they will be able to open it, and the complainant is told."
)
NO_HAND_ON_NEEDED = N_(
    "Another officer of your office can still open this case: step away without handing it on (a head shares it "
    "from the case page)."
)

DIRECTOR_GENERAL_DECIDES = N_(
    "The Director General decides on this conflict (ECO Charter 4.7): record their decision, ticking that it is theirs."
)
HEAD_DECIDES = N_(
    "A head of the office decides on this conflict: the Director General's decision is recorded only where there is none."
)


class Decision(StrEnum):
    UPHELD = "upheld"  # the officer stays away from the case
    LIFTED = "lifted"  # the officer may work on the case again


class Decider(StrEnum):
    HEAD = "head"  # ECO Charter 4.6
    DIRECTOR_GENERAL = "director_general"  # ECO Charter 4.7, recorded by an officer of the office


class HandOnNeeded(Conflict):
    """The declaration would leave a restricted case with nobody: name one of `allowed` to hand it on to
    (the web layer shows them; the API answers them as "allowed")."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__(HAND_ON)
        self.allowed = allowed


@dataclass(frozen=True)
class Declaration:
    """A declared conflict as one officer sees it on the conflicts page."""

    case_id: str
    username: str
    declared_on: str
    decision: Decision | None  # None: pending
    decided_on: str | None
    decided_by: str | None  # who decided, or recorded the Director General's decision (a username)
    director_general: bool  # the decision is the Director General's (ECO Charter 4.7)
    decider: Decider  # who decides it now (or, once lifted, would have)
    can_decide: bool  # the viewer may record a decision on it now
    own: bool  # the viewer declared it
    note: str | None  # None where the viewer cannot open the case (recused, or a restricted case not theirs)
    reason: str | None  # the decision's reason, likewise

    @property
    def lifted_on(self) -> str | None:
        return self.decided_on if self.decision == Decision.LIFTED else None


def why_not_step_away(db: Session, officer: OfficerSession, opened: OpenCase) -> str | None:
    """Why the officer cannot declare a conflict on the case now, or None: the last officer who can open
    it steps away only by handing a restricted case on, and an ordinary case (every officer of the office
    holds its key) not at all, until another officer is enrolled or a recusal lifted."""
    if not only_openers(db, officer.officer_id, opened.case.id):
        return None
    if opened.handling.restricted_key is None or not restriction.candidates(db, opened.case.id, officer.office):
        return LAST_OFFICER
    return None


def declare(ctx: Context, officer: OfficerSession, case_id: str, note: object, hand_to: object = None) -> None:
    """Declare a conflict of interest on a case and step away from it (whoever decides sees it on the
    conflicts page). `hand_to`: the officer the last one who can open a restricted case hands it on to."""
    text = officer_text(note, "note", MAX_NOTE_CHARS, required=True)
    with transaction(ctx.engine) as db:
        # An officer disabled or stepping away from this case at this moment is seen here: the case keeps someone.
        lock_office(db, officer.office)
        opened = open_for_office(db, officer, case_id, for_update=True)
        blocked = why_not_step_away(db, officer, opened)
        if blocked is not None:
            raise Conflict(blocked)
        last = bool(only_openers(db, officer.officer_id, opened.case.id))
        if last and hand_to is None:
            raise HandOnNeeded(restriction.candidates(db, opened.case.id, officer.office))
        if hand_to is not None and not last:
            raise Conflict(NO_HAND_ON_NEEDED)
        key = office_records.key_of(db, opened.handling, opened.holder_key)
        record = office_records.add(ctx, db, opened.handling, key, officer.officer_id, RecordKind.CONFLICT_DECLARATION, text)
        if hand_to is not None:
            _hand_on(ctx, db, officer, opened, hand_to)
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


def _hand_on(ctx: Context, db: Session, officer: OfficerSession, opened: OpenCase, username: object) -> None:
    """The last officer who can open a restricted case gives it to a named officer as they step away."""
    to = restriction.recipient(db, opened.handling, username)
    notice = notices.Notice.SHARED if is_head(db, officer.officer_id, officer.office) else notices.Notice.NEW_READER
    restriction.give(ctx, db, opened.handling, opened.key, opened.holder_key, officer.officer_id, to, notice, handed_on="yes")


def decide(
    ctx: Context,
    officer: OfficerSession,
    case_id: object,
    username: object,
    decision: object,
    reason: object,
    director_general: object = False,
) -> None:
    """Record the decision on an officer's declared conflict: upheld or lifted, with a reason sealed with
    the office's records. `director_general`: the one recording it says it is the Director General's
    decision (required where the Director General decides, refused elsewhere)."""
    if not (isinstance(case_id, str) and CASE_ID.fullmatch(case_id) and plausible_username(username)):
        raise NotFound(NO_DECLARATION)
    if not isinstance(decision, str) or decision not in (Decision.UPHELD, Decision.LIFTED):
        raise Conflict(N_("Choose whether the declaration is upheld or lifted."))
    chosen = Decision(decision)
    text = officer_text(reason, "reason", MAX_REASON_CHARS, required=True)
    with transaction(ctx.engine) as db:
        found = db.exec(
            select(Recusal.officer_id)
            .join(Officer, col(Officer.id) == Recusal.officer_id)
            .where(Recusal.case_id == case_id, Officer.username == username, Recusal.office == officer.office)
        ).first()
        if found is None:
            raise NotFound(NO_DECLARATION)
        if found == officer.officer_id:
            raise Conflict(OWN_CONFLICT)
        opened = open_for_office(db, officer, case_id, for_update=True)  # 404 for whoever cannot open the case
        row = db.get(Recusal, (case_id, found), with_for_update=True, populate_existing=True)
        if row is None:
            raise NotFound(NO_DECLARATION)
        if row.decision == Decision.LIFTED or (row.decision == Decision.UPHELD and chosen == Decision.UPHELD):
            raise Conflict(N_("This declaration has already been decided that way."))
        decider = _decider(db, row, opened.handling)
        if decider == Decider.HEAD and not is_head(db, officer.officer_id, officer.office):
            raise Conflict(NOT_YOURS_TO_DECIDE)
        if (decider == Decider.DIRECTOR_GENERAL) != (director_general is True):
            raise Conflict(DIRECTOR_GENERAL_DECIDES if decider == Decider.DIRECTOR_GENERAL else HEAD_DECIDES)
        kind = RecordKind.DIRECTOR_GENERAL_DECISION if decider == Decider.DIRECTOR_GENERAL else RecordKind.CONFLICT_DECISION
        key = office_records.key_of(db, opened.handling, opened.holder_key)
        record = office_records.add(ctx, db, opened.handling, key, officer.officer_id, kind, text, about=str(chosen))
        row.decision, row.decided_on, row.decided_by = str(chosen), ctx.today(), officer.officer_id
        row.decision_record_id, row.director_general = record, decider == Decider.DIRECTOR_GENERAL
        if chosen == Decision.LIFTED:
            row.lifted_on, row.lifted_by = ctx.today(), officer.officer_id
        db.add(row)
        action = "recusal lifted" if chosen == Decision.LIFTED else "conflict upheld"
        audit.record(ctx, db, action, officer.officer_id, row.case_id, of=row.officer_id, decided_by=str(decider), reason=record)


def _decider(db: Session, row: Recusal, handling: Handling) -> Decider:
    """Who decides on the declaration now: a head who can open the case, other than the declarer; else the Director General."""
    heads = [o for o in openers(db, handling.case_id, handling.office) if o.head and o.id != row.officer_id]
    return Decider.HEAD if heads else Decider.DIRECTOR_GENERAL


def sees_conflicts(db: Session, officer: OfficerSession, case_id: str) -> bool:
    """Whether the case page shows this officer the case's conflicts of interest (its history's entries and
    the records of declarations and decisions): a head of the office (ECO Charter 4.6); where the Director
    General decides (the only head's own conflict, 4.7), any officer who can open the case, since any of them
    may record that decision; and whoever decided one. No one else (#24 item 15)."""
    if is_head(db, officer.officer_id, officer.office):
        return True
    handling = db.get(Handling, (case_id, officer.office))
    rows = db.exec(select(Recusal).where(Recusal.case_id == case_id, Recusal.office == officer.office)).all()
    return handling is not None and any(
        row.decided_by == officer.officer_id or _decider(db, row, handling) == Decider.DIRECTOR_GENERAL for row in rows
    )


def declarations(ctx: Context, officer: OfficerSession) -> tuple[Declaration, ...]:
    """The declarations of conflicts the officer may see, newest first: a head sees the office's; anyone
    sees their own, those they may record the Director General's decision on, and those they decided.
    The notes and reasons only where the viewer can open the case."""
    with reading(ctx.engine) as db:
        head = is_head(db, officer.officer_id, officer.office)
        rows = db.exec(
            select(Recusal, Officer.username)
            .join(Officer, col(Officer.id) == Recusal.officer_id)
            .where(Recusal.office == officer.office)
            .order_by(col(Recusal.declared_on).desc(), col(Recusal.case_id), col(Officer.username))
        ).all()
        names = dict(db.exec(select(Officer.id, Officer.username).where(Officer.office == officer.office)).all())
        out = []
        for row, username in rows:
            handling = db.get(Handling, (row.case_id, row.office))
            if handling is None:
                continue
            decider = _decider(db, row, handling)
            key = None if recused(db, row.case_id, officer.officer_id) else holder_key(db, officer, handling)
            own = row.officer_id == officer.officer_id
            can_decide = (
                key is not None and not own and row.decision != Decision.LIFTED and (head if decider == Decider.HEAD else True)
            )
            if not (head or own or can_decide or row.decided_by == officer.officer_id):
                continue
            note, reason = _texts(db, row, handling, officer, key) if key is not None else (None, None)
            out.append(
                Declaration(
                    case_id=row.case_id,
                    username=username,
                    declared_on=row.declared_on.isoformat(),
                    decision=Decision(row.decision) if row.decision else None,
                    decided_on=row.decided_on.isoformat() if row.decided_on else None,
                    decided_by=names.get(row.decided_by or ""),
                    director_general=row.director_general,
                    decider=decider,
                    can_decide=can_decide,
                    own=own,
                    note=note,
                    reason=reason,
                )
            )
        return tuple(out)


def _texts(db: Session, row: Recusal, handling: Handling, officer: OfficerSession, key: bytes) -> tuple[str | None, str | None]:
    """The declaration's note and the decision's reason, opened with the viewer's holder key."""
    handling_key = office_records.key_of(db, handling, key)

    def text(record_id: str | None) -> str | None:
        record = office_records.read_one(db, record_id, row.case_id, officer.office, handling_key, key) if record_id else None
        return record.text if record else None

    return text(row.record_id), text(row.decision_record_id)
