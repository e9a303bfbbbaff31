"""ECO and OIG case work: every legal and illegal move, consent and referral, deadlines on a
controllable clock, protective measures."""

import datetime as dt

import pytest
from sqlmodel import Session, select

from intake.service import audit, casework, officers, reporting
from intake.service.casework import IllegalTransition
from intake.service.errors import Conflict, NotFound
from intake.store import CaseAction, CaseKeyWrap
from policies import load_policy, validate_report

from ..helpers import officer_token

POLICY = load_policy()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += dt.timedelta(days=days)


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def file(ctx, concern="retaliation", text="what happened"):
    filed = reporting.file_report(ctx, validate_report(ctx.policy, [concern], text, {}))
    return filed.passphrase, filed.cases[0].id


def officer(ctx, username):
    return officers.current(ctx, officer_token(ctx, username))


def walk(ctx, who, case_id, path):
    """Move the case along `path`, doing what each state needs: a referral, or a warning and silence."""
    lifecycle = ctx.policy.lifecycles[who.office]
    for state in path:
        if lifecycle.states[state].via == "referral":
            casework.refer(ctx, who, case_id, "OIG", "test: referred without asking")
            continue
        if lifecycle.states[state].after_warning:
            casework.warn_of_abandonment(ctx, who, case_id)
            ctx.now.advance(ctx.policy.deadlines.abandon_after_days)
        casework.transition(ctx, who, case_id, state)


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


def every_move(office):
    lifecycle = POLICY.lifecycles[office]
    for source in lifecycle.states:
        for target in lifecycle.states:
            yield source, target, target in lifecycle.allowed(source)


@pytest.mark.parametrize("office, source, target, legal", [(o, *m) for o in ("ECO", "OIG") for m in every_move(o)], ids=str)
def test_every_transition_of_both_lifecycles(ctx, clock, office, source, target, legal):
    lifecycle = ctx.policy.lifecycles[office]
    to_source = paths_to(lifecycle, source)
    _, case_id = file(ctx, "retaliation" if office == "ECO" else "misconduct")
    who = officer(ctx, "eco-1" if office == "ECO" else "oig-1")
    walk(ctx, who, case_id, to_source)
    state = lifecycle.states[target]
    if not legal:
        with pytest.raises(IllegalTransition) as refused:
            casework.transition(ctx, who, case_id, target)
        assert set(refused.value.allowed) == set(lifecycle.allowed(source))
        return
    if state.via == "referral":
        with pytest.raises(Conflict, match="referral"):
            casework.transition(ctx, who, case_id, target)
        return
    if state.after_warning:
        with pytest.raises(Conflict, match="warning"):
            casework.transition(ctx, who, case_id, target)
        casework.warn_of_abandonment(ctx, who, case_id)
        clock.advance(ctx.policy.deadlines.abandon_after_days)
    view = casework.transition(ctx, who, case_id, target)
    assert view.status == target and view.closed == state.closed


def test_illegal_transition_is_409_naming_the_allowed_ones(client):
    from ..helpers import api_login, file_via_api

    case_id = file_via_api(client, ["misconduct"], "x")["cases"][0]["id"]
    oig = api_login(client, "oig-1")
    response = client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": "investigation"}, headers=oig)
    assert response.status_code == 409
    assert response.json()["allowed"] == ["acknowledged"]
    for bad in [{"to": "nonsense"}, {"to": None}, {"to": ["acknowledged"]}, {}]:
        assert client.post(f"/api/v1/officer/cases/{case_id}/transitions", json=bad, headers=oig).status_code == 409
    ok = client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": "acknowledged", "note": "seen"}, headers=oig)
    assert ok.status_code == 200 and ok.json()["status"] == "acknowledged"


def test_abandonment_needs_silence_after_the_warning(ctx, clock):
    passphrase, case_id = file(ctx)
    eco = officer(ctx, "eco-1")
    walk(ctx, eco, case_id, ["acknowledged"])
    casework.warn_of_abandonment(ctx, eco, case_id)
    clock.advance(10)
    reporting.reporter_writes(ctx, reporting.open_case_room(ctx, passphrase), case_id, "I am still here")
    clock.advance(30)
    with pytest.raises(Conflict, match="warning"):
        casework.transition(ctx, eco, case_id, "abandoned")
    casework.warn_of_abandonment(ctx, eco, case_id)
    clock.advance(29)
    with pytest.raises(Conflict):
        casework.transition(ctx, eco, case_id, "abandoned")
    clock.advance(1)
    assert casework.transition(ctx, eco, case_id, "abandoned").status == "abandoned"
    room = reporting.case_room(ctx, reporting.open_case_room(ctx, passphrase))[0]
    assert any("will be closed" in m.body for m in room.messages)


def oig_can_open(ctx, case_id) -> bool:
    oig = officer(ctx, "oig-1")
    try:
        casework.open_case(ctx, oig, case_id)
        return True
    except NotFound:
        return False


def test_referral_with_consent(ctx, clock):
    passphrase, case_id = file(ctx, text="Retaliation after I testified")
    eco = officer(ctx, "eco-1")
    token = reporting.open_case_room(ctx, passphrase)
    reporting.reporter_writes(ctx, token, case_id, "Earlier detail")
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment"])

    # Before the referral OIG holds no key: not in its inbox, not openable, nothing unwraps.
    assert not oig_can_open(ctx, case_id)
    assert casework.inbox(ctx, officer(ctx, "oig-1")) == []
    with Session(ctx.engine) as db:
        assert db.get(CaseKeyWrap, (case_id, "office:OIG")) is None

    with pytest.raises(Conflict, match="consent"):
        casework.refer(ctx, eco, case_id, "OIG", None)
    casework.request_consent(ctx, eco, case_id)
    (room,) = reporting.case_room(ctx, token)
    assert room.consent_requested
    assert reporting.answer_consent(ctx, token, case_id, True) == "given"
    view = casework.refer(ctx, eco, case_id, "OIG")
    assert view.status == "referred_to_oig" and view.closed

    oig = officer(ctx, "oig-1")
    assert [r.id for r in casework.inbox(ctx, oig)] == [case_id]
    detail = casework.open_case(ctx, oig, case_id)
    assert detail.description == "Retaliation after I testified"
    assert [m.body for m in detail.messages][:1] == ["Earlier detail"]
    assert detail.handling.status == "received" and detail.other_handlings[0].status == "referred_to_oig"
    (room,) = reporting.case_room(ctx, token)
    assert {h.office: h.status for h in room.handlings} == {"ECO": "referred_to_oig", "OIG": "received"}
    assert any("referred your complaint" in m.body for m in room.messages)
    (entry,) = [e for e in audit.entries(ctx.engine) if e["action"] == "referred"]
    assert (entry["case"], entry["consent"], entry["reason"]) == (case_id, "given", None)
    # OIG works the referred case through its own lifecycle.
    walk(ctx, oig, case_id, ["acknowledged", "intake_assessment", "investigation", "closed_substantiated"])
    assert audit.verify(ctx.engine, ctx.instance)


def test_referral_without_consent_needs_a_written_reason(ctx, clock):
    passphrase, case_id = file(ctx)
    eco = officer(ctx, "eco-1")
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment"])
    casework.request_consent(ctx, eco, case_id)
    reporting.answer_consent(ctx, reporting.open_case_room(ctx, passphrase), case_id, False)
    for no_reason in [None, "", "   "]:
        with pytest.raises(Conflict):
            casework.refer(ctx, eco, case_id, "OIG", no_reason)
    assert not oig_can_open(ctx, case_id)
    casework.refer(
        ctx, eco, case_id, "OIG", "Imminent risk of further retaliation; the complainant is protected by OIG's process."
    )
    assert oig_can_open(ctx, case_id)
    (entry,) = [e for e in audit.entries(ctx.engine) if e["action"] == "referred"]
    assert entry["consent"] == "refused" and entry["reason"].startswith("Imminent risk")


def test_only_eco_refers_and_only_from_the_assessment(ctx, clock):
    _, eco_case = file(ctx)
    _, oig_case = file(ctx, "misconduct")
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    with pytest.raises(IllegalTransition):
        casework.refer(ctx, eco, eco_case, "OIG", "a reason")
    with pytest.raises(Conflict):
        casework.refer(ctx, oig, oig_case, "OIG", "a reason")
    with pytest.raises(Conflict):
        casework.refer(ctx, eco, eco_case, "LEG", "a reason")
    with pytest.raises(Conflict):
        casework.request_consent(ctx, eco, eco_case)


def test_consent_cannot_be_given_unasked_or_by_another_reporter(ctx, clock):
    passphrase, case_id = file(ctx)
    other, _ = file(ctx)
    token = reporting.open_case_room(ctx, passphrase)
    with pytest.raises(Conflict):
        reporting.answer_consent(ctx, token, case_id, True)
    with pytest.raises(NotFound):
        reporting.answer_consent(ctx, reporting.open_case_room(ctx, other), case_id, True)


def deadline_states(ctx, who, case_id):
    return {d.name: d.state for d in casework.open_case(ctx, who, case_id).handling.deadlines}


def test_deadlines_follow_the_clock_and_cross_the_30_day_line(ctx, clock):
    _passphrase, case_id = file(ctx)
    eco = officer(ctx, "eco-1")
    assert deadline_states(ctx, eco, case_id) == {
        "acknowledgement": "open",
        "first_response": "due",
        "preliminary_assessment": "open",
        "feedback": "open",
    }
    clock.advance(3)
    states = deadline_states(ctx, eco, case_id)
    assert states["first_response"] == "overdue" and states["acknowledgement"] == "open"
    (row,) = casework.inbox(ctx, eco)
    assert row.flag == "overdue"
    walk(ctx, eco, case_id, ["acknowledged"])
    states = deadline_states(ctx, eco, case_id)
    assert states["first_response"] == "met_late" and states["acknowledgement"] == "met"
    walk(ctx, eco, case_id, ["preliminary_assessment"])
    clock.advance(25)  # day 28 of 30
    assert deadline_states(ctx, eco, case_id)["preliminary_assessment"] == "due"
    clock.advance(2)  # day 30: still on time
    assert deadline_states(ctx, eco, case_id)["preliminary_assessment"] == "due"
    clock.advance(1)  # day 31: over the line
    assert deadline_states(ctx, eco, case_id)["preliminary_assessment"] == "overdue"
    walk(ctx, eco, case_id, ["closed_no_prima_facie"])
    states = deadline_states(ctx, eco, case_id)
    assert states["preliminary_assessment"] == "met_late" and "feedback" not in states


def test_feedback_is_due_three_months_after_the_last_word(ctx, clock):
    _, case_id = file(ctx, "misconduct")
    oig = officer(ctx, "oig-1")
    walk(ctx, oig, case_id, ["acknowledged", "intake_assessment", "investigation"])
    due = {d.name: d for d in casework.open_case(ctx, oig, case_id).handling.deadlines}["feedback"].due_on
    assert due == dt.date(2026, 6, 2)
    clock.advance(60)
    casework.reply(ctx, oig, case_id, "Still investigating.")
    due = {d.name: d for d in casework.open_case(ctx, oig, case_id).handling.deadlines}["feedback"].due_on
    assert due == dt.date(2026, 8, 1)


def test_inbox_puts_overdue_cases_first(ctx, clock):
    _, old = file(ctx, "misconduct")
    clock.advance(10)
    _, new = file(ctx, "misconduct")
    oig = officer(ctx, "oig-1")
    assert [r.id for r in casework.inbox(ctx, oig)] == [old, new]
    assert [r.flag for r in casework.inbox(ctx, oig)] == ["overdue", "due"]


def test_reporter_sees_acknowledgement_and_what_to_expect(ctx, clock):
    passphrase, case_id = file(ctx)
    eco = officer(ctx, "eco-1")
    walk(ctx, eco, case_id, ["acknowledged"])
    (room,) = reporting.case_room(ctx, reporting.open_case_room(ctx, passphrase))
    (handling,) = room.handlings
    assert handling.acknowledged_on == "2026-03-02"
    assert ("the result of the preliminary assessment", "2026-04-01") in handling.expectations()


def test_protective_measures_and_onward_referrals_are_sealed(ctx, clock):
    _, case_id = file(ctx)
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    casework.record_action(ctx, eco, case_id, "protective_measure", "physical_separation", "moved desks")
    casework.record_action(ctx, eco, case_id, "onward_referral", "OSS", "threats at home")
    casework.record_action(ctx, eco, case_id, "onward_referral", "SWO")
    for bad in [("protective_measure", "exile"), ("nonsense", "OSS"), ("onward_referral", None)]:
        with pytest.raises(Conflict):
            casework.record_action(ctx, eco, case_id, *bad)
    _, oig_case = file(ctx, "misconduct")
    with pytest.raises(Conflict):
        casework.record_action(ctx, oig, oig_case, "protective_measure", "suspension")
    detail = casework.open_case(ctx, eco, case_id)
    assert [(a.kind, a.item, a.note) for a in detail.actions] == [
        ("protective_measure", "physical_separation", "moved desks"),
        ("onward_referral", "OSS", "threats at home"),
        ("onward_referral", "SWO", ""),
    ]
    with Session(ctx.engine) as db:
        rows = db.exec(select(CaseAction)).all()
    assert all(b"physical_separation" not in r.body and b"OSS" not in r.body for r in rows)
    assert not any("physical_separation" in str(e) for e in audit.entries(ctx.engine))
