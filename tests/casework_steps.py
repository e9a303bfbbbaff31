"""Steps the case-work tests share: file a report, act as an officer, and walk a case along a
lifecycle doing what each state needs first. Through the service, as an officer's requests would."""

from sqlmodel import Session

from intake.service import casework, officers, referral, reporting
from intake.store import Handling
from policies import validate_report

from .helpers import officer_token

REASON, MESSAGE = "test: the reasons", "test: the message to the complainant"


def file(ctx, concern="retaliation", text="what happened"):
    filed = reporting.file_report(ctx, validate_report(ctx.policy, [concern], text, {}))
    return filed.passphrase, filed.cases[0].id


def officer(ctx, username):
    return officers.current(ctx, officer_token(ctx, username))


def handling_of(ctx, case_id, office) -> Handling:
    with Session(ctx.engine) as db:
        return db.get(Handling, (case_id, office))


def satisfy(ctx, who, case_id, state, passphrase):
    """Do what a state requires before the move: the determination, the complainant's refusal."""
    current = handling_of(ctx, case_id, who.office)
    if state.requires_determination and current.determination != state.requires_determination:
        casework.determine(ctx, who, case_id, state.requires_determination == "found", REASON)
    if state.requires_consent == "refused" and current.consent != "refused":
        if current.consent != "requested":
            referral.request_consent(ctx, who, case_id)
        reporting.answer_consent(ctx, reporting.open_case_room(ctx, passphrase), case_id, False)


def walk(ctx, who, case_id, path, passphrase=None):
    """Move the case along `path`, doing what each state needs: a determination, consent, a referral,
    a first answer then the warning and silence, a reason and a message."""
    lifecycle = ctx.policy.lifecycles[who.office]
    for target in path:
        state = lifecycle.states[target]
        satisfy(ctx, who, case_id, state, passphrase)
        if state.via == "referral":
            referral.refer(ctx, who, case_id, lifecycle.refers_to, "test: referred without asking", "test: the memo", target)
            continue
        if state.after_warning:
            casework.reply(ctx, who, case_id, "Please tell us more.")
            casework.warn_of_abandonment(ctx, who, case_id)
            ctx.now.advance(ctx.policy.deadlines.abandon_after_days)
        extra = {"reason": REASON, "message": MESSAGE} if state.needs_decision else {}
        casework.transition(ctx, who, case_id, target, **extra)


def paths_to(lifecycle, target):
    """A shortest path from the initial state to `target`."""
    frontier, seen = [(lifecycle.initial, [])], {lifecycle.initial}
    while frontier:
        state, path = frontier.pop(0)
        if state == target:
            return path
        for nxt in lifecycle.allowed(state):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append((nxt, [*path, nxt]))
    raise AssertionError(f"{target} is unreachable")
