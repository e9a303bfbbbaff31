"""Referral: ECO asks the complainant's consent, then hands a case with prima facie evidence to OIG,
or transfers to OIG a report that is not about retaliation; OIG passes to ECO what is ECO's
(retaliation found in a misconduct report).

The consent request tells the complainant exactly what would be shared: the complaint, its
files and the case room's messages, never ECO's own notes (those are sealed under ECO's
handling key, which a referral does not share). ECO may refer without consent only with a
written reason, sealed with its own records (ECO Charter 4.8). The complainant can change their
answer until the referral is made.

A referral wraps the case key for OIG and opens OIG's own handling with its own handling
key, under which ECO's referral memo is sealed for OIG (ECO keeps its copy under its own).
A case can also go back to an office that handled it before and closed its handling (OIG
transferred it to ECO, ECO refers it back): that office receives it again, from its first
state, and the memo, which the sender cannot seal under that office's handling key, is sealed
under a key of its own wrapped to the office (office_records.add_for).
"""

import json

from sqlmodel import Session

from crypto import new_key, open_record, wrap_case_key
from policies import Consent, Lifecycle, Office
from policies.text import N_, Text

from ..store import CaseKeyWrap, Handling, office_holder, office_public_key, transaction
from . import audit, notifications, office_records, restriction
from .casefiles import HandlingView, add_notice, lock_case, officer_text, open_for_office, refresh, view_handling
from .casework import ABOUT_THE_HEAD, IllegalTransition, lifecycle_of, may_ask_consent, move, referral_blocked, unmet
from .context import Context
from .errors import Conflict
from .notices import TRANSFER_NOTICES, Notice
from .office_records import RecordKind
from .officers import OfficerSession

MAX_MEMO_CHARS = 20_000
MAX_REASON_CHARS = 2000


def request_consent(ctx: Context, officer: OfficerSession, case_id: str) -> None:
    """Ask the complainant, in the case room, whether the office may share the complaint with the
    office it refers cases to (ECO Charter 4.8). A notice: it meets no deadline."""
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        handling = opened.handling
        lifecycle = lifecycle_of(ctx, handling)
        if handling.consent in (Consent.REQUESTED, Consent.GIVEN):
            raise Conflict(Text(N_("Consent is already {state}."), state=handling.consent))
        if not may_ask_consent(lifecycle, handling):
            raise Conflict(N_("Consent to a referral is asked for during ECO's preliminary assessment."))
        handling.consent, handling.consent_on = Consent.REQUESTED, ctx.today()
        add_notice(db, ctx, opened.case.id, opened.key, Notice.CONSENT_REQUEST, officer.office, officer.officer_id)
        refresh(ctx, db, handling)
        audit.record(ctx, db, "consent requested", officer.officer_id, opened.case.id)


# Whether a case is about someone in the office it is referred or transferred to: "no" sends it to
# that office as a whole; "yes" and "not_known" (and no answer) restrict it there to the heads.
CONCERNED_ANSWERS = ("no", "yes", "not_known")


def _first_handling(ctx: Context, db: Session, case_id: str, case_key: bytes, target: Office, restricted: bool) -> Handling:
    """The receiving office's first handling of the case, and its wrap of the case key. A restricted
    case stays restricted: at the receiving office it is wrapped to that office's heads, not to its key."""
    handling = Handling(
        case_id=case_id,
        office=target,
        status=ctx.policy.lifecycles[target].initial,
        policy_version=ctx.policy.version,
        opened_on=ctx.today(),
    )
    # The receiving office's key, under the lock rotation takes (store.office_public_key, #24 item 2).
    holder_public = restriction.restrict(ctx, db, handling) if restricted else office_public_key(db, target)
    db.add(CaseKeyWrap(case_id=case_id, holder=office_holder(target), wrap=wrap_case_key(case_key, holder_public, case_id)))
    return handling


def _received_again(ctx: Context, handling: Handling) -> Handling:
    """A closed handling made new: the office receives the case again, from its first state, with its
    deadlines from today; its key, its records and who it is assigned to stay."""
    handling.status = ctx.policy.lifecycles[Office(handling.office)].initial
    handling.policy_version, handling.opened_on = ctx.policy.version, ctx.today()
    handling.acknowledged_on = handling.first_response_on = handling.last_feedback_on = None
    handling.assessment_concluded_on = handling.assessment_started_on = handling.closed_on = handling.warned_on = None
    handling.consent = handling.consent_on = handling.determination = handling.determined_on = None
    handling.extensions = "{}"
    handling.activity += 1
    return handling


def _keep_protection_file(ctx: Context, db: Session, officer: OfficerSession, handling: Handling) -> None:
    """A case passed on with protective measures still open stays the office's protection file: the
    temporary measures it recommended (ECO Annual Report 2022 s.2) stay open, with their review dates,
    until the office lifts them. If nobody is assigned, the officer who passed it on keeps it,
    audit-logged as an assignment (as casework.assign records one)."""
    if handling.closed_on is None or not handling.open_measures or handling.assignee is not None:
        return
    handling.assignee = officer.officer_id
    audit.record(ctx, db, "assigned", officer.officer_id, handling.case_id, to=officer.officer_id)


def _target(lifecycle: Lifecycle, to: object) -> Office:
    if lifecycle.refers_to is None or to != lifecycle.refers_to:
        raise Conflict(N_("This office does not refer cases to that office."))
    return lifecycle.refers_to


def refer(
    ctx: Context,
    officer: OfficerSession,
    case_id: str,
    to: object = Office.OIG,
    reason: object = None,
    memo: object = None,
    state: object = None,
    receiver_concerned: object = None,
) -> HandlingView:
    """Refer a case to the office the policy names (ECO, on prima facie evidence, to OIG; OIG to ECO).

    `state` is the referral state to move to, where the office has more than one (ECO also
    transfers a misrouted report, not about retaliation, to OIG); by default its first. Needs
    the memo for the receiving office; where the policy asks for consent, the complainant's
    consent or a written reason to proceed without it, sealed with the office's own records;
    the audit log names that record, never its words.

    `receiver_concerned`: whether the case is about someone who works in the receiving office. The
    reporter answered that question of the office they wrote to, never of this one, so the case
    arrives restricted to the receiving office's heads (who may share it with named officers)
    unless the referring officer answers "no" (#24 item 16: else a case about someone in OIG,
    referred there, was open to every OIG officer). A case restricted here stays restricted there.
    """
    reason_text = officer_text(reason, "reason", MAX_REASON_CHARS)
    memo_text = officer_text(memo, "memo", MAX_MEMO_CHARS, required=True)
    with transaction(ctx.engine) as db:
        # The case first (store.py, LOCK ORDER): a withdrawal or an answer to the request for consent racing
        # this referral waits for it and then sees the handling it adds, or goes first (#24 item 4).
        if isinstance(case_id, str):
            lock_case(db, case_id)
        opened = open_for_office(db, officer, case_id, for_update=True)
        handling = opened.handling
        lifecycle = lifecycle_of(ctx, handling)
        answers = json.loads(open_record(opened.key, opened.case.answers, opened.case.id, "answers", opened.case.id))
        if answers.get("about_head_of") == to:  # whatever the lifecycle: never to the office whose head it is about
            raise Conflict(ABOUT_THE_HEAD)
        target = _target(lifecycle, to)
        referral_state = lifecycle.referral_state if state is None else state
        if not isinstance(referral_state, str) or not lifecycle.may_refer_from(handling.status, referral_state):
            raise IllegalTransition(lifecycle, handling.status, referral_state)
        state = lifecycle.states[referral_state]
        refused = unmet(ctx, db, handling, state)
        if refused is not None:
            raise Conflict(refused)
        consented = handling.consent == Consent.GIVEN
        if lifecycle.referral_needs_consent and not consented and not reason_text:
            raise Conflict(
                N_(
                    "The complainant has not consented to the referral. Ask for consent in the case room, "
                    "or give a written reason to refer without it."
                )
            )
        office_public_key(db, target)  # the receiving office's row before its handling (store.py, LOCK ORDER)
        earlier = db.get(Handling, (opened.case.id, target), with_for_update=True)
        blocked = referral_blocked(ctx, lifecycle, answers, [earlier] if earlier else [])
        if blocked is not None:
            raise Conflict(blocked)
        if receiver_concerned not in (None, *CONCERNED_ANSWERS):
            raise Conflict(N_("Please say whether the case is about someone in the receiving office."))
        if earlier is None:
            restricted = handling.restricted_key is not None or receiver_concerned != "no"
            theirs = _first_handling(ctx, db, opened.case.id, opened.key, target, restricted)
            their_key = new_key()
            office_records.wrap_for(db, theirs, their_key)
            db.flush()
            office_records.add(
                ctx, db, theirs, their_key, officer.officer_id, RecordKind.REFERRAL_MEMO, memo_text, officer.office
            )
        else:
            # The case comes back to an office that passed it on (OIG transferred it here): that office
            # receives it anew, and the memo is sealed for it under a key of its own. A handling closed
            # otherwise (withdrawn, abandoned, decided) is that office's to reopen (referral_blocked).
            theirs = _received_again(ctx, earlier)
            office_records.add_for(ctx, db, theirs, officer.officer_id, RecordKind.REFERRAL_MEMO, memo_text, officer.office)
        own_key = office_records.key_of(db, handling, opened.holder_key)
        office_records.add(ctx, db, handling, own_key, officer.officer_id, RecordKind.REFERRAL_MEMO, memo_text, target)
        reason_record = (
            office_records.add(ctx, db, handling, own_key, officer.officer_id, RecordKind.REFERRAL_REASON, reason_text, target)
            if reason_text and not consented
            else None
        )
        move(ctx, handling, referral_state)
        notice = Notice.REFERRAL if state.requires_determination else TRANSFER_NOTICES[target]
        add_notice(db, ctx, opened.case.id, opened.key, notice, officer.office, officer.officer_id)
        review_dates = refresh(ctx, db, handling)
        refresh(ctx, db, theirs)
        notifications.arrived(db, opened.case.id, target, notifications.REPORT)  # new work for the receiving office
        audit.record(
            ctx,
            db,
            "referred",
            officer.officer_id,
            opened.case.id,
            to=target,
            state=referral_state,
            returned="yes" if earlier is not None else None,
            consent=handling.consent if consented else (handling.consent or "not asked"),
            reason_record=reason_record,
        )
        _keep_protection_file(ctx, db, officer, handling)
        db.flush()
        return view_handling(ctx, handling, review_dates)
