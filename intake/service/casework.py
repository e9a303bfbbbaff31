"""An office's work on a case: reading it, replying, moving it through the office's lifecycle,
the decisions that end it (each with a reason and a message to the complainant), reopening,
the prima facie determination, deadline extensions, assignment, the abandonment warning, and
the case's history from the audit log.

Everything here runs for an unlocked officer: their session holds their office's private
key, and a case opens only if its key is wrapped to that office. Referral and consent are
in referral.py, the protection file in protection.py, the inbox in inbox.py.
"""

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from crypto import open_record
from policies import Author, Consent, InvalidReport, Lifecycle, Office, clean_text
from policies.answers import ReadAnswers, in_danger, protection_now, read_answers
from policies.model import PLACEHOLDER, State
from policies.text import N_, Text

from ..store import AuditEntry, Case, CaseAction, CaseReading, Handling, Message, Officer, Recusal, reading, transaction
from . import attachments, audit, identity, office_records, protection, recusal, restriction
from .attachments import FileView, PendingFile
from .casefiles import (
    HandlingView,
    MessageView,
    OpenCase,
    add_message,
    add_notice,
    clean_message,
    handlings,
    officer_text,
    open_for_office,
    plausible_username,
    read_messages,
    recused,
    refresh,
    reviews_of,
    view_handling,
)
from .context import Context
from .errors import Conflict
from .identity import IdentityStatus
from .notices import Notice
from .office_records import OfficeRecord, RecordKind
from .officers import OfficerSession
from .protection import MeasureView

MAX_REASON_CHARS = 2000
ABOUT_THE_HEAD = N_("This report is about the head of that office: it cannot be sent there.")
MAX_CLOSING_MESSAGE_CHARS = 20_000


class IllegalTransition(Conflict):
    """The move is not in the lifecycle from the current state. Said in the lifecycle's own words
    (its labels, translated where shown); `allowed` keeps the state ids for the API."""

    def __init__(self, lifecycle: Lifecycle, current: str, target: object) -> None:
        self.allowed = lifecycle.allowed(current)
        wanted = lifecycle.states.get(target) if isinstance(target, str) else None
        now = Text(lifecycle.states[current].label)
        if wanted is None:
            super().__init__(Text(N_("The case is “{current}” now: that is not a step of this office's work."), current=now))
        else:
            message = N_("The case is “{current}” now: it cannot move to “{target}” from there.")
            super().__init__(Text(message, current=now, target=Text(wanted.label)))


@dataclass(frozen=True)
class Move:
    """A state the handling may move to now, and whether the move is a decision (reason and message, confirmed)."""

    state: str
    label: str
    decision: bool
    via: str = ""
    ready: bool = True  # a referral may be listed before its determination is recorded: not ready yet


@dataclass(frozen=True)
class HistoryEntry:
    at: str
    officer: str | None  # username; None for the service itself
    action: str
    office: str | None = None  # the office of the officer who acted
    to: str | None = None  # the state a status change moved to
    to_label: str | None = None  # that state in its lifecycle's words (an office's, or advice's)
    times: int = 1  # an officer's openings of the case on one day are one entry

    @property
    def decision(self) -> bool:
        """What changed the case or the complainant's protection, as opposed to reading and writing it."""
        return self.action in DECISIONS


# The audit log's actions on a case that a "decisions only" history keeps: what changed the case, its
# protection or who may read it (reading the complainant's identity ends their right to take consent back).
DECISIONS = frozenset(
    {
        "status changed",
        "reopened",
        "prima facie determination",
        "deadline extended",
        "referred",
        "consent requested",
        "measure recommended",
        "measure updated",
        "abandonment warning",
        "assigned",
        "conflict declared",
        "recusal lifted",
        "conflict upheld",
        "restricted case shared",
        "restricted case withheld",
        "identity read",
        "case purged",
        "case exported",  # the case left the service: who may read it changed
    }
)


@dataclass(frozen=True)
class LinkedCase:
    """The other case of a report of both kinds: that it exists and where it stands, never what it holds."""

    id: str
    office: Office
    status: str
    label: str  # the status in the other office's own words


@dataclass(frozen=True)
class CaseDetail:
    id: str
    office: Office
    received_on: str
    description: str
    answers: dict[str, object]
    read: ReadAnswers  # the answers question by question, as the page shows them
    messages: tuple[MessageView, ...]
    files: tuple[FileView, ...]
    handling: HandlingView
    other_handlings: tuple[HandlingView, ...]
    records: tuple[OfficeRecord, ...]  # the reader's office's own records only
    measures: tuple[MeasureView, ...]
    moves: tuple[Move, ...]
    can_warn: bool
    can_reopen: bool
    assignee: str | None
    colleagues: tuple[str, ...]  # usernames a case can be assigned to
    history: tuple[HistoryEntry, ...]
    language: str
    linked: tuple[LinkedCase, ...]
    identity: IdentityStatus  # whether the complainant left who they are, shared it with this office, and it was read
    kind: str  # a report, or a request for advice (its own lifecycle)
    # A restricted case (about someone in the office): who can open it, and whom a head may share it with.
    holders: tuple[restriction.Holder, ...] = ()
    shareable: tuple[str, ...] = ()
    can_determine: bool = False  # the preliminary assessment runs: the determination can be recorded
    can_ask_consent: bool = False  # the complainant's consent to a referral can be asked now
    referral_blocked: str | None = None  # why no referral can be made, whatever the state
    step_away_blocked: str | None = None  # why this officer cannot declare a conflict on the case now
    today: str = ""  # the earliest review date a form may offer (ISO)

    @property
    def restricted(self) -> bool:
        return bool(self.holders)

    @property
    def in_danger(self) -> bool:
        return in_danger(self.answers)

    @property
    def protection_now(self) -> bool:
        return protection_now(self.answers)

    @property
    def status(self) -> str:
        return self.handling.status

    @property
    def acknowledged_on(self) -> str | None:
        return self.handling.acknowledged_on

    @property
    def routine_moves(self) -> tuple[Move, ...]:
        return tuple(m for m in self.moves if not m.decision and not m.via)

    @property
    def decisions(self) -> tuple[Move, ...]:
        return tuple(m for m in self.moves if m.decision)

    @property
    def protection_open(self) -> bool:
        return any(m.open for m in self.measures)


def lifecycle_of(ctx: Context, handling: Handling) -> Lifecycle:
    """The lifecycle a handling follows: its office's for a report, or the advice requests'."""
    return ctx.policy.lifecycle(handling.office, handling.kind)


def unmet(ctx: Context, db: Session, handling: Handling, state: State) -> str | None:
    """Why the handling cannot move to `state` now (a move, a decision or a referral), or None if it can."""
    if state.requires_determination == "found" and handling.determination != "found":
        return N_("Record the prima facie determination as found first.")
    if state.requires_determination == "not_found" and handling.determination != "not_found":
        return N_("Record the prima facie determination as not found first.")
    if state.excludes_determination and handling.determination == state.excludes_determination:
        return N_("Prima facie evidence of retaliation was found: refer the case for investigation instead.")
    if state.requires_consent == "refused" and handling.consent != Consent.REFUSED:
        return N_("This is for a complainant who has refused consent to the referral.")
    if state.after_warning and not _may_abandon(ctx, db, handling):
        return Text(
            N_(
                "A case is abandoned only {days} days after the warning in the case room with no answer from "
                "the complainant since."
            ),
            days=ctx.policy.deadlines.abandon_after_days,
        )
    return None


def _silent_since(db: Session, case_id: str, day: dt.date) -> bool:
    """No message from the reporter on or after `day`."""
    return (
        db.exec(
            select(Message).where(Message.case_id == case_id, Message.author == Author.REPORTER, Message.sent_on >= day)
        ).first()
        is None
    )


def _may_abandon(ctx: Context, db: Session, handling: Handling) -> bool:
    days = ctx.policy.deadlines.abandon_after_days
    return (
        handling.warned_on is not None
        and (ctx.today() - handling.warned_on).days >= days
        and _silent_since(db, handling.case_id, handling.warned_on)
    )


def _moves(ctx: Context, db: Session, lifecycle: Lifecycle, handling: Handling) -> tuple[Move, ...]:
    """The moves the page offers now. A referral whose condition is not met yet (the determination) is
    listed as not `ready`, so the page can say what it needs; one the determination rules out is not."""
    out = []
    for target in lifecycle.allowed(handling.status):
        state = lifecycle.states[target]
        refused = unmet(ctx, db, handling, state)
        if refused is None or (state.via and state.requires_determination and not state.excludes_determination):
            out.append(Move(target, state.label, state.needs_decision, state.via, ready=refused is None))
    return tuple(out)


def may_ask_consent(lifecycle: Lifecycle, handling: Handling) -> bool:
    """Whether the complainant's consent to a referral can be asked now (ECO Charter 4.8): while a referral
    is possible, and not while a request is waiting or consent is given."""
    return (
        lifecycle.referral_needs_consent
        and lifecycle.may_refer_from(handling.status)
        and handling.consent not in (Consent.REQUESTED, Consent.GIVEN)
    )


def referral_blocked(ctx: Context, lifecycle: Lifecycle, answers: dict[str, object], rows: Sequence[Handling]) -> str | None:
    """Why the handling cannot go to the office its lifecycle refers to, whatever its state: the report is
    about that office's head, or that office holds the case already (an office that passed the case on,
    and closed its handling that way, receives it again). `rows`: the case's handlings."""
    target = lifecycle.refers_to
    if target is None:
        return None
    if answers.get("about_head_of") == target:
        return ABOUT_THE_HEAD
    earlier = next((h for h in rows if h.office == target), None)
    if earlier is not None and lifecycle_of(ctx, earlier).states[earlier.status].via != "referral":
        return N_("The other office already holds this case.")
    return None


def _can_warn(lifecycle: Lifecycle, handling: Handling) -> bool:
    """The warning comes once the complainant has had the office's answer to wait on: not right after acknowledging."""
    if handling.warned_on is not None or handling.first_response_on is None:
        return False
    return any(lifecycle.states[s].after_warning for s in lifecycle.allowed(handling.status))


OLD_ACTIONS = (
    select(CaseAction)
    .where(col(CaseAction.case_id) == bindparam("case_id"), col(CaseAction.office) == bindparam("office"))
    .order_by(col(CaseAction.number))
)
EVERYONE = select(Officer.id, Officer.username, Officer.office, Officer.active).order_by(col(Officer.username))
AUDITED = select(AuditEntry).where(col(AuditEntry.case_id) == bindparam("case_id")).order_by(col(AuditEntry.sequence))
SIBLINGS = (
    select(Case).where(col(Case.report_id) == bindparam("report_id"), col(Case.id) != bindparam("case_id")).order_by(col(Case.id))
)


def _move_old_actions(ctx: Context, db: Session, opened: OpenCase, key: bytes) -> None:
    """Case actions recorded before revision 0005 were sealed under the case key; move them to
    the protection file and the office's own records, then delete them."""
    rows = db.exec(OLD_ACTIONS, params={"case_id": opened.case.id, "office": opened.handling.office}).all()
    for row in rows:
        body = json.loads(open_record(opened.key, row.body, row.case_id, "action", row.id))
        if body["kind"] in ("protective_measure", "onward_referral") and body["item"]:
            measure_id = protection.migrate_old(
                db, opened, row.office, row.recorded_on, body["kind"], body["item"], ctx.policy.deadlines.measure_review_days
            )
            if body["note"]:
                office_records.add(ctx, db, opened.handling, key, None, RecordKind.MEASURE_NOTE, body["note"], measure_id)
        elif body["note"]:
            office_records.add(ctx, db, opened.handling, key, None, RecordKind.NOTE, body["note"])
        db.delete(row)
    if rows:
        db.flush()
        refresh(ctx, db, opened.handling)


@dataclass(frozen=True)
class Colleague:
    """An officer as a case page names them: not their row, which carries their sealed keys."""

    id: str
    username: str
    office: str
    active: bool


def _everyone(db: Session) -> tuple[Colleague, ...]:
    """Every officer of both offices, by username: a case page names them in its history, its assignee
    and the colleagues it may be assigned to (a few dozen people: one statement for all three)."""
    return tuple(Colleague(*row) for row in db.exec(EVERYONE))


# A declared conflict of interest is for the head of the declaring officer's office (ECO Charter 4.6):
# that an officer has one, and what became of it, is kept from everyone else who can open the case.
CONFLICT_ACTIONS = frozenset({"conflict declared", "recusal lifted", "conflict upheld"})
# The declaration's note and the decisions on it, among the office's records: on the case page, for a head
# only (whoever decides reads them on the conflicts page, recusal.declarations).
CONFLICT_RECORDS = frozenset(
    {RecordKind.CONFLICT_DECLARATION, RecordKind.CONFLICT_DECISION, RecordKind.DIRECTOR_GENERAL_DECISION}
)


def history(
    ctx: Context,
    db: Session,
    case_id: str,
    rows: list[Handling],
    people: tuple[Colleague, ...],
    head_of: str | None = None,
) -> tuple[HistoryEntry, ...]:
    """Every audit-logged action on the case, oldest first, with who did it (a username) and when (UTC).
    An officer's openings of the case on one day are one entry, with how many there were: each is in
    the audit log, but a page that lists every reading buries the decisions.
    `rows`: the case's handlings; `people`: every officer (the caller has both); `head_of`: the office the
    viewer heads, if they do: only they see its officers' conflicts of interest (CONFLICT_ACTIONS)."""
    officers = {p.id: (p.username, p.office) for p in people}
    lifecycles = {h.office: lifecycle_of(ctx, h) for h in rows}
    out: list[HistoryEntry] = []
    last_opening: dict[tuple[str | None, str], int] = {}  # (officer, day) -> index in `out`
    for entry in db.exec(AUDITED, params={"case_id": case_id}).all():
        body = json.loads(entry.body)
        if body.get("case") != case_id:  # a row moved to this case: its body, in the chain, names another
            continue
        who = officers.get(body.get("officer") or "")
        to = body.get("to") if body["action"] in ("status changed", "reopened") else None
        username, office = who if who else (None, None)
        if body["action"] in CONFLICT_ACTIONS and (head_of is None or office != head_of):
            continue
        lifecycle = lifecycles.get(office) if office else None
        state = lifecycle.states.get(to) if lifecycle and to else None
        if body["action"] == "case opened":
            seen = last_opening.get((username, body["at"][:10]))
            if seen is not None:
                out[seen] = dataclasses.replace(out[seen], times=out[seen].times + 1)
                continue
            last_opening[(username, body["at"][:10])] = len(out)
        out.append(
            HistoryEntry(
                body["at"],
                username,
                body["action"],
                office,
                to,
                state.label if state else None,
            )
        )
    return tuple(out)


def _headed(db: Session, officer: OfficerSession, case_id: str) -> str | None:
    """The office whose conflicts of interest on the case this officer may see (recusal.sees_conflicts), or None."""
    return officer.office if recusal.sees_conflicts(db, officer, case_id) else None


def open_case(ctx: Context, officer: OfficerSession, case_id: str) -> CaseDetail:
    """The decrypted case, as this office may see it; marks it read for this officer and logs the opening."""
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        case, handling = opened.case, opened.handling
        lifecycle = lifecycle_of(ctx, handling)
        key = office_records.key_of(db, handling, opened.holder_key)
        _move_old_actions(ctx, db, opened, key)
        messages, files = read_messages(db, case.id, opened.key)
        records = office_records.read(db, case.id, officer.office, key, opened.holder_key)
        rows = handlings(db, case.id)
        views = [view_handling(ctx, h, reviews_of(db, h)) for h in rows]
        answers = json.loads(open_record(opened.key, case.answers, case.id, "answers", case.id))
        people = _everyone(db)
        assignee = next((p.username for p in people if p.id == handling.assignee), None)
        reading = db.get(CaseReading, (case.id, officer.officer_id)) or CaseReading(
            case_id=case.id, officer_id=officer.officer_id
        )
        reading.seen = handling.activity
        db.add(reading)
        audit.record(ctx, db, "case opened", officer.officer_id, case.id)
        db.flush()
        holders = restriction.holders(db, case.id, officer.office) if handling.restricted_key else ()
        head_of = _headed(db, officer, case.id)
        return CaseDetail(
            id=case.id,
            office=Office(case.office),
            received_on=case.received_on.isoformat(),
            description=open_record(opened.key, case.report, case.id, "report", case.id).decode("utf-8"),
            answers=answers,
            read=read_answers(ctx.policy, answers),
            messages=messages,
            files=files,
            handling=next(v for v in views if v.office == officer.office),
            other_handlings=tuple(v for v in views if v.office != officer.office),
            records=tuple(
                r for r in records if r.kind != RecordKind.MEASURE_NOTE and (head_of or r.kind not in CONFLICT_RECORDS)
            ),
            measures=protection.read(ctx, db, case.id, opened.key, records, officer.office),
            moves=_moves(ctx, db, lifecycle, handling),
            can_warn=_can_warn(lifecycle, handling),
            can_reopen=lifecycle.is_closed(handling.status) and not lifecycle.states[handling.status].via,
            assignee=assignee,
            colleagues=_assignable(db, case.id, officer, holders, people),
            history=history(ctx, db, case.id, rows, people, head_of),
            language=str(answers.get("language") or "en"),
            linked=_linked(ctx, db, case, officer),
            kind=handling.kind,
            identity=identity.status(db, case.id) if case.office == officer.office else identity.NONE_LEFT,
            holders=holders,
            shareable=restriction.shareable(db, officer, case.id) if holders else (),
            can_determine=lifecycle.assesses_in(handling.status),
            can_ask_consent=may_ask_consent(lifecycle, handling),
            referral_blocked=referral_blocked(ctx, lifecycle, answers, rows),
            step_away_blocked=recusal.why_not_step_away(db, officer, opened),
            today=ctx.today().isoformat(),
        )


# Those who stepped away from a case: it is not assigned to them.
STEPPED_AWAY = select(Recusal.officer_id).where(col(Recusal.case_id) == bindparam("case_id"), col(Recusal.lifted_on).is_(None))


def _assignable(
    db: Session, case_id: str, officer: OfficerSession, holders: tuple[restriction.Holder, ...], people: tuple[Colleague, ...]
) -> tuple[str, ...]:
    """Who the case may be assigned to (what `assign` accepts): an active officer of the office who has not
    stepped away from it and, for a restricted case, holds it."""
    away = set(db.exec(STEPPED_AWAY, params={"case_id": case_id}).all())
    holding = {h.username for h in holders}
    return tuple(
        p.username
        for p in people
        if p.office == officer.office and p.active and p.id not in away and (not holders or p.username in holding)
    )


def _linked(ctx: Context, db: Session, case: Case, officer: OfficerSession) -> tuple[LinkedCase, ...]:
    """The same report's other cases, where they stand; a restricted one only for an officer who holds it
    (otherwise its very existence would tell a member who the report is about)."""
    others = db.exec(SIBLINGS, params={"report_id": case.report_id, "case_id": case.id}).all()
    return tuple(
        LinkedCase(other.id, Office(other.office), handling.status, lifecycle_of(ctx, handling).states[handling.status].label)
        for other in others
        if (handling := db.get(Handling, (other.id, other.office))) is not None
        and (handling.restricted_key is None or restriction.holds(db, other.id, other.office, officer.officer_id))
    )


def _officer_text(value: object, name: str, required: bool = False) -> str:
    return officer_text(value, name, MAX_REASON_CHARS, required)


def _responded(ctx: Context, handling: Handling) -> None:
    """An officer wrote to the complainant: the only thing that meets the first response and the feedback clock."""
    handling.first_response_on = handling.first_response_on or ctx.today()
    handling.last_feedback_on = ctx.today()


def check_reply(ctx: Context, officer: OfficerSession, case_id: str, body: object, has_files: bool) -> str:
    """The refusals that can come before an upload: the case is not this office's, the text is not right."""
    with reading(ctx.engine) as db:
        open_for_office(db, officer, case_id)
    return clean_message(body, has_files)


def reply(ctx: Context, officer: OfficerSession, case_id: str, body: object, files: Sequence[PendingFile] = ()) -> str:
    """An officer's message (and files, such as a form to fill) to the reporter; owns the files."""
    with attachments.held(ctx, files):
        text = clean_message(body, bool(files))
        with transaction(ctx.engine) as db:
            opened = open_for_office(db, officer, case_id, for_update=True)
            message_id = add_message(
                db, ctx, opened.case.id, opened.key, Author.OFFICER, text, officer.office, officer.officer_id, files
            )
            _responded(ctx, opened.handling)
            refresh(ctx, db, opened.handling)
            audit.record(ctx, db, "reply", officer.officer_id, opened.case.id, message=message_id)
        return message_id


def move(ctx: Context, handling: Handling, target: str) -> None:
    """Set the handling's state and the dates the state means (acknowledged, assessed, closed)."""
    state = lifecycle_of(ctx, handling).states[target]
    handling.status = target
    if state.acknowledges:
        handling.acknowledged_on = handling.acknowledged_on or ctx.today()
    if state.concludes_assessment:
        handling.assessment_concluded_on = handling.assessment_concluded_on or ctx.today()
    handling.closed_on = ctx.today() if state.closed else None


def transition(
    ctx: Context,
    officer: OfficerSession,
    case_id: str,
    target: object,
    note: object = None,
    reason: object = None,
    message: object = None,
) -> HandlingView:
    """Move this office's handling of the case to `target`, if its lifecycle allows it now.

    A move to a closing state is a decision: it needs a written reason (sealed under the
    office's key, its record id in the audit log) and a message to the complainant (sent
    as the officer's own message). Without them, nothing changes (InvalidReport, 422).
    """
    note_text = _officer_text(note, "note")
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        handling = opened.handling
        lifecycle = lifecycle_of(ctx, handling)
        allowed = lifecycle.allowed(handling.status)
        if not isinstance(target, str) or target not in allowed:
            raise IllegalTransition(lifecycle, handling.status, target)
        state = lifecycle.states[target]
        if state.via == "referral":
            raise Conflict(N_("This move is made only by a referral."))
        refused = unmet(ctx, db, handling, state)
        if refused is not None:
            raise Conflict(refused)
        decision_record = None
        if state.needs_decision:
            errors: dict[str, str] = {}
            reason_text = clean_text(reason, MAX_REASON_CHARS, "reason", errors, required=True)
            message_text = clean_text(message, MAX_CLOSING_MESSAGE_CHARS, "message", errors, required=True)
            if PLACEHOLDER.search(message_text):
                errors["message"] = N_("still has a part in double square brackets: write your own words in its place")
            if errors:
                raise InvalidReport(errors)
            key = office_records.key_of(db, handling, opened.holder_key)
            decision_record = office_records.add(
                ctx, db, handling, key, officer.officer_id, RecordKind.CLOSING_REASON, reason_text, target
            )
            add_message(db, ctx, opened.case.id, opened.key, Author.OFFICER, message_text, officer.office, officer.officer_id)
            _responded(ctx, handling)
        previous = handling.status
        move(ctx, handling, target)
        if note_text:
            key = office_records.key_of(db, handling, opened.holder_key)
            office_records.add(ctx, db, handling, key, officer.officer_id, RecordKind.NOTE, note_text)
        review_dates = refresh(ctx, db, handling)
        audit.record(
            ctx,
            db,
            "status changed",
            officer.officer_id,
            opened.case.id,
            reason=decision_record,
            **{"from": previous, "to": target},
        )
        db.flush()
        return view_handling(ctx, handling, review_dates)


def reopen(ctx: Context, officer: OfficerSession, case_id: str, reason: object) -> HandlingView:
    """Reopen a closed handling, with a written reason, into the lifecycle's `reopen_to` state."""
    reason_text = _officer_text(reason, "reason", required=True)
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        handling = opened.handling
        lifecycle = lifecycle_of(ctx, handling)
        if not lifecycle.is_closed(handling.status) or lifecycle.states[handling.status].via:
            raise Conflict(N_("Only a closed case can be reopened, and a referred one only by the office it went to."))
        previous = handling.status
        key = office_records.key_of(db, handling, opened.holder_key)
        record = office_records.add(ctx, db, handling, key, officer.officer_id, RecordKind.REOPENING_REASON, reason_text)
        move(ctx, handling, lifecycle.reopen_to)
        handling.warned_on = None
        if lifecycle.assesses_in(lifecycle.reopen_to):
            _assess_again(ctx, handling)
        review_dates = refresh(ctx, db, handling)
        audit.record(
            ctx,
            db,
            "reopened",
            officer.officer_id,
            opened.case.id,
            reason=record,
            **{"from": previous, "to": lifecycle.reopen_to},
        )
        db.flush()
        return view_handling(ctx, handling, review_dates)


def _assess_again(ctx: Context, handling: Handling) -> None:
    """A reopened preliminary assessment starts again today, with 30 days of its own (and their one
    extension): its earlier conclusion and determination stay in the office's records and the history."""
    handling.assessment_started_on = ctx.today()
    handling.assessment_concluded_on = None
    handling.determination = handling.determined_on = None
    extensions = json.loads(handling.extensions or "{}")
    extensions.pop("preliminary_assessment", None)
    handling.extensions = json.dumps(extensions, sort_keys=True)


def determine(ctx: Context, officer: OfficerSession, case_id: str, prima_facie: object, reasons: object) -> HandlingView:
    """Record the prima facie determination (found or not found, with reasons), before and apart
    from any referral; it concludes the preliminary assessment."""
    if not isinstance(prima_facie, bool):
        raise Conflict(N_("Say whether prima facie evidence was found: true or false."))
    reasons_text = _officer_text(reasons, "reasons", required=True)
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        handling = opened.handling
        lifecycle = lifecycle_of(ctx, handling)
        if not lifecycle.determines_prima_facie:
            raise Conflict(N_("The prima facie determination is the Ethics and Conduct Office's."))
        if lifecycle.is_closed(handling.status):
            raise Conflict(N_("The case is closed: reopen it first."))
        if not lifecycle.assesses_in(handling.status):
            raise Conflict(N_("The determination is recorded during the preliminary assessment: move the case to it first."))
        handling.determination = "found" if prima_facie else "not_found"
        handling.determined_on = ctx.today()
        handling.assessment_concluded_on = handling.assessment_concluded_on or ctx.today()
        key = office_records.key_of(db, handling, opened.holder_key)
        record = office_records.add(
            ctx, db, handling, key, officer.officer_id, RecordKind.DETERMINATION, reasons_text, handling.determination
        )
        review_dates = refresh(ctx, db, handling)
        audit.record(
            ctx,
            db,
            "prima facie determination",
            officer.officer_id,
            opened.case.id,
            result=handling.determination,
            reasons=record,
        )
        db.flush()
        return view_handling(ctx, handling, review_dates)


def extend(ctx: Context, officer: OfficerSession, case_id: str, deadline: object, days: object, reason: object) -> HandlingView:
    """Extend a deadline the policy lets the office extend, with a written reason (exceptional circumstances)."""
    limit = ctx.policy.deadlines.max_extension_days
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= limit:
        raise Conflict(Text(N_("An extension is from 1 to {days} days."), days=limit))
    reason_text = _officer_text(reason, "reason", required=True)
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        handling = opened.handling
        lifecycle = lifecycle_of(ctx, handling)
        if not isinstance(deadline, str) or deadline not in lifecycle.extendable:
            raise Conflict(N_("This deadline cannot be extended."))
        view = view_handling(ctx, handling)
        current = next((d for d in view.deadlines if d.name == deadline), None)
        if lifecycle.is_closed(handling.status) or current is None or not current.pending:
            raise Conflict(N_("This deadline is not running: there is nothing to extend."))
        extensions = json.loads(handling.extensions or "{}")
        if extensions.get(deadline, 0) + days > limit:
            raise Conflict(Text(N_("A deadline can be extended by {days} days at most, in all."), days=limit))
        extensions[deadline] = extensions.get(deadline, 0) + days
        handling.extensions = json.dumps(extensions, sort_keys=True)
        key = office_records.key_of(db, handling, opened.holder_key)
        record = office_records.add(ctx, db, handling, key, officer.officer_id, RecordKind.EXTENSION, reason_text, deadline)
        review_dates = refresh(ctx, db, handling)
        audit.record(
            ctx, db, "deadline extended", officer.officer_id, opened.case.id, deadline=deadline, days=str(days), reason=record
        )
        db.flush()
        return view_handling(ctx, handling, review_dates)


def assign(ctx: Context, officer: OfficerSession, case_id: str, username: object) -> str | None:
    """Assign the case to an officer of the office (or to no one, with None); returns the assignee's username."""
    if username is not None and username != "" and not plausible_username(username):
        raise Conflict(N_("Name an officer of your office by username, or nobody."))
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        assignee = None
        if username:
            assignee = db.exec(select(Officer).where(Officer.username == username)).first()
            if assignee is None or assignee.office != officer.office or not assignee.active:
                raise Conflict(N_("Name an officer of your office by username, or nobody."))
            if recused(db, opened.case.id, assignee.id):
                raise Conflict(N_("This officer declared a conflict of interest on this case."))
            if opened.handling.restricted_key and not restriction.holds(db, opened.case.id, officer.office, assignee.id):
                raise Conflict(N_("This case is restricted: the head of the office must share it with this officer first."))
        opened.handling.assignee = assignee.id if assignee else None
        db.add(opened.handling)
        audit.record(ctx, db, "assigned", officer.officer_id, opened.case.id, to=assignee.id if assignee else None)
    return assignee.username if assignee else None


def add_note(ctx: Context, officer: OfficerSession, case_id: str, note: object) -> str:
    """An internal note, sealed under the office's own key: never shown to the complainant or another office."""
    text = _officer_text(note, "note", required=True)
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        key = office_records.key_of(db, opened.handling, opened.holder_key)
        record = office_records.add(ctx, db, opened.handling, key, officer.officer_id, RecordKind.NOTE, text)
        audit.record(ctx, db, "note added", officer.officer_id, opened.case.id, record=record)
    return record


def read_identity(ctx: Context, officer: OfficerSession, case_id: str) -> str:
    """Who the complainant is, once they consented: the reading is logged, and from then on their consent
    cannot be taken back (the office knows). Only the office the case was routed to holds it."""
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        text = identity.read(ctx, db, case_id, opened.holder_key) if opened.case.office == officer.office else None
        if text is None:
            raise Conflict(N_("The complainant has not shared who they are with your office."))
        audit.record(ctx, db, "identity read", officer.officer_id, opened.case.id)
    return text


def warn_of_abandonment(ctx: Context, officer: OfficerSession, case_id: str) -> None:
    """Post the warning that must precede closing a case as abandoned. A notice of the service: it
    neither meets a deadline nor restarts the feedback clock."""
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        if not _can_warn(lifecycle_of(ctx, opened.handling), opened.handling):
            raise Conflict(N_("The abandonment warning is posted once, and only after the office has answered the complainant."))
        add_notice(
            db,
            ctx,
            opened.case.id,
            opened.key,
            Notice.ABANDONMENT_WARNING,
            officer.office,
            officer.officer_id,
            days=ctx.policy.deadlines.abandon_after_days,
        )
        opened.handling.warned_on = ctx.today()
        refresh(ctx, db, opened.handling)
        audit.record(ctx, db, "abandonment warning", officer.officer_id, opened.case.id)


def open_file(ctx: Context, officer: OfficerSession, case_id: str, file_id: str) -> tuple[FileView, Iterator[bytes]]:
    """(FileView, plaintext iterator) of a case's file; the download is audit-logged."""
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id)
        view, content = attachments.open_file(ctx, db, opened.case.id, opened.key, file_id)
        audit.record(ctx, db, "file downloaded", officer.officer_id, opened.case.id, file=view.id)
    return view, content


def refresh_all(ctx: Context) -> int:
    """Recompute every handling's next deadline and open measures (after `intake migrate`, or a policy change)."""
    with transaction(ctx.engine) as db:
        rows = db.exec(select(Handling)).all()
        for handling in rows:
            refresh(ctx, db, handling)
    return len(rows)


@dataclass(frozen=True)
class DecisionForm:
    """What the confirmation step of a decision shows: the state, and the message prefilled in the
    complainant's language (its template is the policy's; the web layer translates it)."""

    case_id: str
    state: str
    label: str
    reporter_text: str
    message_template: str
    language: str


def decision_form(ctx: Context, officer: OfficerSession, case_id: str, target: object) -> DecisionForm:
    """The confirmation step of a decision that is possible now; changes nothing."""
    with reading(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id)
        lifecycle = lifecycle_of(ctx, opened.handling)
        if not isinstance(target, str) or target not in {
            m.state for m in _moves(ctx, db, lifecycle, opened.handling) if m.decision
        }:
            raise IllegalTransition(lifecycle, opened.handling.status, target)
        answers = json.loads(open_record(opened.key, opened.case.answers, opened.case.id, "answers", opened.case.id))
    state = lifecycle.states[target]
    return DecisionForm(opened.case.id, target, state.label, state.reporter, state.message, str(answers.get("language") or "en"))
