"""An office's work on its cases: the inbox, reading a case, replying, moving it through
the office's lifecycle, asking the complainant's consent, referring to OIG, recording
protective measures and onward referrals.

Everything here runs for an unlocked officer: their session holds their office's
private key, and a case opens only if its key is wrapped to that office.
"""

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from crypto import CryptoError, open_record, seal_record, unwrap_case_key, wrap_case_key
from policies import Author, Consent, Lifecycle, Office, clean_text
from policies.deadlines import Deadline, urgency
from policies.text import N_, Text

from ..store import Case, CaseAction, CaseKeyWrap, Handling, Message, office_holder, transaction
from ..store import Office as OfficeRow
from . import attachments, audit
from .attachments import FileView, PendingFile
from .casefiles import (
    CASE_ID,
    HandlingView,
    MessageView,
    add_message,
    add_notice,
    clean_message,
    handlings,
    new_id,
    read_messages,
    view_handling,
)
from .context import Context
from .errors import Conflict, NotFound
from .notices import Notice
from .officers import OfficerSession

NO_SUCH_CASE = N_("There is no such case in your office.")
MAX_REASON_CHARS = 2000


class IllegalTransition(Conflict):
    """The move is not in the office's lifecycle from the current state."""

    def __init__(self, current: str, target: str, allowed: tuple[str, ...]) -> None:
        names = ", ".join(allowed) or "-"
        super().__init__(
            Text(
                N_("A case that is {current} cannot move to {target}. Allowed: {allowed}."),
                current=current,
                target=target,
                allowed=names,
            )
        )
        self.allowed = allowed


@dataclass(frozen=True)
class InboxRow:
    id: str
    office: Office
    status: str
    label: str
    received_on: str
    unread: bool
    flag: str  # overdue, due or ""
    next_due: str | None
    deadlines: tuple[Deadline, ...]


@dataclass(frozen=True)
class ActionView:
    id: str
    office: Office
    kind: str
    item: str
    label: str
    note: str
    recorded_on: str


@dataclass(frozen=True)
class CaseDetail:
    id: str
    office: Office
    received_on: str
    description: str
    answers: dict
    messages: tuple[MessageView, ...]
    files: tuple[FileView, ...]
    handling: HandlingView
    other_handlings: tuple[HandlingView, ...]
    actions: tuple[ActionView, ...]
    allowed: tuple[tuple[str, str, str], ...]  # (state, label, via)
    can_warn: bool

    @property
    def status(self) -> str:
        return self.handling.status

    @property
    def acknowledged_on(self) -> str | None:
        return self.handling.acknowledged_on


def inbox(ctx: Context, officer: OfficerSession) -> list[InboxRow]:
    """The office's cases: overdue first, then due soon, then unread, then the newest."""
    with Session(ctx.engine) as db:
        rows = db.exec(
            select(Handling, Case)
            .join(Case, col(Case.id) == Handling.case_id)
            .join(
                CaseKeyWrap,
                (col(CaseKeyWrap.case_id) == Handling.case_id) & (col(CaseKeyWrap.holder) == office_holder(officer.office)),
            )
            .where(Handling.office == officer.office)
        ).all()
    out = []
    for handling, case in rows:
        view = view_handling(ctx, handling)
        rank, next_due = urgency(list(view.deadlines))
        flag = ("overdue", "due", "")[rank]
        out.append(
            (
                rank,
                next_due,
                not handling.unread,
                -handling.opened_on.toordinal(),
                case.id,
                InboxRow(
                    case.id,
                    Office(case.office),
                    handling.status,
                    view.label,
                    handling.opened_on.isoformat(),
                    handling.unread,
                    flag,
                    next_due.isoformat() if next_due != dt.date.max else None,
                    view.deadlines,
                ),
            )
        )
    return [row for *_, row in sorted(out, key=lambda item: item[:5])]


def _open(db: Session, officer: OfficerSession, case_id: object) -> tuple[Case, Handling, bytes]:
    """The case, this office's handling of it, and its key; NotFound for anything else."""
    if not isinstance(case_id, str) or not CASE_ID.fullmatch(case_id):
        raise NotFound(NO_SUCH_CASE)
    wrap = db.get(CaseKeyWrap, (case_id, office_holder(officer.office)))
    handling = db.get(Handling, (case_id, officer.office)) if wrap else None
    case = db.get(Case, case_id) if handling else None
    if wrap is None or handling is None or case is None:
        raise NotFound(NO_SUCH_CASE)
    try:
        return case, handling, unwrap_case_key(officer.office_key, wrap.wrap, case_id)
    except CryptoError:
        raise NotFound(NO_SUCH_CASE) from None


def _actions(ctx: Context, db: Session, case_id: str, key: bytes) -> tuple[ActionView, ...]:
    out = []
    for row in db.exec(select(CaseAction).where(CaseAction.case_id == case_id).order_by(col(CaseAction.number))).all():
        body = json.loads(open_record(key, row.body, case_id, "action", row.id))
        field = "protective_measures" if body["kind"] == "protective_measure" else "onward_referrals"
        label = ctx.policy.label(field, body["item"]) if body["item"] else "Note"
        out.append(
            ActionView(row.id, Office(row.office), body["kind"], body["item"], label, body["note"], row.recorded_on.isoformat())
        )
    return tuple(out)


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


def open_case(ctx: Context, officer: OfficerSession, case_id: str) -> CaseDetail:
    """The decrypted case; marks it read for this office and records the opening in the audit log."""
    with transaction(ctx.engine) as db:
        case, handling, key = _open(db, officer, case_id)
        messages, files = read_messages(db, case.id, key)
        lifecycle = ctx.policy.lifecycles[officer.office]
        allowed = tuple((s, lifecycle.states[s].label, lifecycle.states[s].via) for s in lifecycle.allowed(handling.status))
        views = [view_handling(ctx, h) for h in handlings(db, case.id)]
        detail = CaseDetail(
            id=case.id,
            office=Office(case.office),
            received_on=case.received_on.isoformat(),
            description=open_record(key, case.report, case.id, "report", case.id).decode("utf-8"),
            answers=json.loads(open_record(key, case.answers, case.id, "answers", case.id)),
            messages=messages,
            files=files,
            handling=next(v for v in views if v.office == officer.office),
            other_handlings=tuple(v for v in views if v.office != officer.office),
            actions=_actions(ctx, db, case.id, key),
            allowed=allowed,
            can_warn=any(lifecycle.states[s].after_warning for s in lifecycle.allowed(handling.status)),
        )
        handling.unread = False
        db.add(handling)
        audit.record(ctx, db, "case opened", officer.officer_id, case.id)
    return detail


def _officer_text(value: object, name: str, refusal: str) -> str:
    """An officer's optional note or reason as clean text, or Conflict(refusal) saying what is wrong."""
    errors: dict[str, str] = {}
    text = clean_text(value, MAX_REASON_CHARS, name, errors)
    if errors:
        raise Conflict(Text(refusal, problem=errors[name]))
    return text


def _responded(ctx: Context, handling: Handling) -> None:
    handling.first_response_on = handling.first_response_on or ctx.today()
    handling.last_feedback_on = ctx.today()


def check_reply(ctx: Context, officer: OfficerSession, case_id: str, body: object, has_files: bool) -> str:
    """The refusals that can come before an upload: the case is not this office's, the text is not right."""
    with Session(ctx.engine) as db:
        _open(db, officer, case_id)
    return clean_message(body, has_files)


def reply(ctx: Context, officer: OfficerSession, case_id: str, body: object, files: Sequence[PendingFile] = ()) -> str:
    """An officer's message (and files, such as a form to fill) to the reporter; owns the files."""
    with attachments.held(ctx, files):
        return _reply(ctx, officer, case_id, body, files)


def _reply(ctx: Context, officer: OfficerSession, case_id: str, body: object, files: Sequence[PendingFile]) -> str:
    text = clean_message(body, bool(files))
    with transaction(ctx.engine) as db:
        case, handling, key = _open(db, officer, case_id)
        message_id = add_message(db, ctx, case.id, key, Author.OFFICER, text, officer.office, officer.officer_id, files)
        _responded(ctx, handling)
        db.add(handling)
        audit.record(ctx, db, "reply", officer.officer_id, case.id, message=message_id)
    return message_id


def _move(ctx: Context, handling: Handling, target: str) -> None:
    state = ctx.policy.lifecycle(handling.office).states[target]
    handling.status = target
    if state.acknowledges:
        handling.acknowledged_on = ctx.today()
        handling.first_response_on = handling.first_response_on or ctx.today()
    if state.concludes_assessment:
        handling.assessment_concluded_on = ctx.today()
    if state.closed:
        handling.closed_on = ctx.today()


def transition(ctx: Context, officer: OfficerSession, case_id: str, target: object, note: object = None) -> HandlingView:
    """Move this office's handling of the case to `target`, if its lifecycle allows it now."""
    note_text = _officer_text(note, "note", N_("The note {problem}."))
    with transaction(ctx.engine) as db:
        case, handling, key = _open(db, officer, case_id)
        lifecycle = ctx.policy.lifecycles[officer.office]
        allowed = lifecycle.allowed(handling.status)
        if not isinstance(target, str) or target not in allowed:
            raise IllegalTransition(handling.status, str(target)[:40], allowed)
        state = lifecycle.states[target]
        if state.via == "referral":
            raise Conflict(Text(N_("A case moves to {target} only by a referral, which asks for consent first."), target=target))
        if state.after_warning and not _may_abandon(ctx, db, handling):
            raise Conflict(
                Text(
                    N_(
                        "A case is {target} only {days} days after the warning in the case room "
                        "with no answer from the complainant since."
                    ),
                    target=target,
                    days=ctx.policy.deadlines.abandon_after_days,
                )
            )
        previous = handling.status
        _move(ctx, handling, target)
        db.add(handling)
        if note_text:
            _add_action(db, case.id, key, officer.office, ctx.today(), "note", "", note_text)
        audit.record(ctx, db, "status changed", officer.officer_id, case.id, **{"from": previous, "to": target})
        db.flush()
        return view_handling(ctx, handling)


def request_consent(ctx: Context, officer: OfficerSession, case_id: str) -> None:
    """Ask the complainant, in the case room, whether the office may share the complaint
    with the office it refers cases to (ECO Charter 4.8)."""
    lifecycle = ctx.policy.lifecycles[officer.office]
    with transaction(ctx.engine) as db:
        case, handling, key = _open(db, officer, case_id)
        if not lifecycle.referral_needs_consent or not lifecycle.may_refer_from(handling.status):
            raise Conflict(N_("Consent to a referral is asked for during ECO's preliminary assessment."))
        if handling.consent in (Consent.REQUESTED, Consent.GIVEN):
            raise Conflict(Text(N_("Consent is already {state}."), state=handling.consent))
        handling.consent, handling.consent_on = Consent.REQUESTED, ctx.today()
        add_notice(db, ctx, case.id, key, Notice.CONSENT_REQUEST, officer.office, officer.officer_id)
        _responded(ctx, handling)
        db.add(handling)
        audit.record(ctx, db, "consent requested", officer.officer_id, case.id)


def _referral_target(lifecycle: Lifecycle, to: object) -> Office:
    if lifecycle.refers_to is None or to != lifecycle.refers_to:
        raise Conflict(N_("Only the Ethics and Conduct Office refers cases, and only to OIG."))
    return lifecycle.refers_to


def refer(ctx: Context, officer: OfficerSession, case_id: str, to: object = Office.OIG, reason: object = None) -> HandlingView:
    """Refer a case to the office the policy names (ECO, on prima facie evidence, to OIG):
    wraps the case key for that office and opens its handling.

    Where the policy asks for consent (ECO Charter 4.8), it needs the complainant's
    consent or a written reason to proceed without it, which the audit log keeps.
    """
    lifecycle = ctx.policy.lifecycles[officer.office]
    target = _referral_target(lifecycle, to)
    referral_state = lifecycle.referral_state
    reason_text = _officer_text(reason, "reason", N_("The reason {problem}."))
    with transaction(ctx.engine) as db:
        case, handling, key = _open(db, officer, case_id)
        if referral_state is None or not lifecycle.may_refer_from(handling.status):
            raise IllegalTransition(handling.status, str(referral_state), lifecycle.allowed(handling.status))
        consented = handling.consent == Consent.GIVEN
        if lifecycle.referral_needs_consent and not consented and not reason_text:
            raise Conflict(
                N_(
                    "The complainant has not consented to the referral. Ask for consent in the case room, "
                    "or give a written reason to refer without it."
                )
            )
        if db.get(CaseKeyWrap, (case.id, office_holder(target))) is not None:
            raise Conflict(N_("OIG already holds this case."))
        receiving = db.get(OfficeRow, target)
        if receiving is None:
            raise RuntimeError(f"office {target} is not set up: run `intake init`")
        db.add(CaseKeyWrap(case_id=case.id, holder=office_holder(target), wrap=wrap_case_key(key, receiving.public_key, case.id)))
        db.add(
            Handling(
                case_id=case.id,
                office=target,
                status=ctx.policy.lifecycles[target].initial,
                policy_version=ctx.policy.version,
                opened_on=ctx.today(),
            )
        )
        _move(ctx, handling, referral_state)
        add_notice(db, ctx, case.id, key, Notice.REFERRAL, officer.office, officer.officer_id)
        _responded(ctx, handling)
        db.add(handling)
        audit.record(
            ctx,
            db,
            "referred",
            officer.officer_id,
            case.id,
            to=target,
            consent=handling.consent if consented else (handling.consent or "not asked"),
            reason=reason_text or None,
        )
        db.flush()
        return view_handling(ctx, handling)


def _add_action(db: Session, case_id: str, key: bytes, office: str, day: dt.date, kind: str, item: str, note: str) -> str:
    action_id = new_id("A")
    body = json.dumps({"kind": kind, "item": item, "note": note}).encode("utf-8")
    db.add(
        CaseAction(
            id=action_id,
            case_id=case_id,
            office=office,
            recorded_on=day,
            body=seal_record(key, body, case_id, "action", action_id),
        )
    )
    return action_id


def record_action(ctx: Context, officer: OfficerSession, case_id: str, kind: object, item: object, note: object = "") -> str:
    """ECO records a recommended protective measure or an onward referral (OSS, SWO, OOM, LEG, DHR)."""
    choices = {"protective_measure": ctx.policy.ids("protective_measures"), "onward_referral": ctx.policy.ids("onward_referrals")}
    lifecycle = ctx.policy.lifecycles[officer.office]
    if not lifecycle.records_protection:
        raise Conflict(N_("Protective measures and onward referrals are recorded by the Ethics and Conduct Office."))
    if not isinstance(kind, str) or not isinstance(item, str) or kind not in choices or item not in choices[kind]:
        raise Conflict(N_("Unknown protective measure or onward referral."))
    note_text = _officer_text(note, "note", N_("The note {problem}."))
    with transaction(ctx.engine) as db:
        case, handling, key = _open(db, officer, case_id)
        if lifecycle.is_closed(handling.status):
            raise Conflict(N_("The case is closed."))
        action_id = _add_action(db, case.id, key, officer.office, ctx.today(), kind, item, note_text)
        audit.record(ctx, db, "action recorded", officer.officer_id, case.id, record=action_id)
    return action_id


def warn_of_abandonment(ctx: Context, officer: OfficerSession, case_id: str) -> None:
    """Post the warning that must precede closing a case as abandoned."""
    with transaction(ctx.engine) as db:
        case, handling, key = _open(db, officer, case_id)
        lifecycle = ctx.policy.lifecycles[officer.office]
        if not any(lifecycle.states[s].after_warning for s in lifecycle.allowed(handling.status)):
            raise Conflict(N_("This case cannot be closed as abandoned from where it stands."))
        add_notice(
            db,
            ctx,
            case.id,
            key,
            Notice.ABANDONMENT_WARNING,
            officer.office,
            officer.officer_id,
            days=ctx.policy.deadlines.abandon_after_days,
        )
        handling.warned_on = ctx.today()
        _responded(ctx, handling)
        db.add(handling)
        audit.record(ctx, db, "abandonment warning", officer.officer_id, case.id)


def open_file(ctx: Context, officer: OfficerSession, case_id: str, file_id: str):
    """(FileView, plaintext iterator) of a case's file; the download is audit-logged."""
    with transaction(ctx.engine) as db:
        case, _, key = _open(db, officer, case_id)
        view, content = attachments.open_file(ctx, db, case.id, key, file_id)
        audit.record(ctx, db, "file downloaded", officer.officer_id, case.id, file=view.id)
    return view, content
