"""ECO and OIG case work: every legal and illegal move, decisions with a reason and a message,
reopening, the prima facie determination, consent and referral, the protection file, honest
deadlines and extensions, assignment, the inbox, the history, withdrawal."""

import datetime as dt
import json

import pytest
from sqlmodel import Session, select

from crypto import CryptoError, open_record, seal_record, unwrap_case_key, unwrap_handling_key
from intake.service import audit, casework, inbox, officers, protection, referral, reporting
from intake.service.casework import IllegalTransition
from intake.service.errors import Conflict, NotFound
from intake.store import Case, CaseAction, CaseKeyWrap, CaseRecord, Handling, ProtectiveMeasure, office_holder, transaction
from policies import InvalidReport, load_policy

from ..casework_steps import MESSAGE, REASON, file, handling_of, officer, paths_to, satisfy, walk
from ..clock import Clock
from ..helpers import totp_code, while_case_is_held

POLICY = load_policy()


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def every_move(office):
    lifecycle = POLICY.lifecycles[office]
    for source in lifecycle.states:
        if lifecycle.states[source].by_reporter:
            continue  # reached only by the complainant's withdrawal; tested below
        for target in lifecycle.states:
            yield source, target, target in lifecycle.allowed(source)


@pytest.mark.parametrize("office, source, target, legal", [(o, *m) for o in ("ECO", "OIG") for m in every_move(o)], ids=str)
def test_every_transition_of_both_lifecycles(ctx, clock, office, source, target, legal):
    lifecycle = ctx.policy.lifecycles[office]
    passphrase, case_id = file(ctx, "retaliation" if office == "ECO" else "misconduct")
    who = officer(ctx, "eco-1" if office == "ECO" else "oig-1")
    walk(ctx, who, case_id, paths_to(lifecycle, source), passphrase)
    state = lifecycle.states[target]
    if not legal:
        with pytest.raises(IllegalTransition) as refused:
            casework.transition(ctx, who, case_id, target, reason=REASON, message=MESSAGE)
        assert set(refused.value.allowed) == set(lifecycle.allowed(source))
        return
    if state.via == "referral":
        with pytest.raises(Conflict, match="referral"):
            casework.transition(ctx, who, case_id, target)
        return
    current = handling_of(ctx, case_id, office)
    if (state.requires_determination and current.determination != state.requires_determination) or (
        state.requires_consent and current.consent != state.requires_consent
    ):
        with pytest.raises(Conflict):
            casework.transition(ctx, who, case_id, target, reason=REASON, message=MESSAGE)
        satisfy(ctx, who, case_id, state, passphrase)
    if state.after_warning:
        with pytest.raises(Conflict, match="warning"):
            casework.transition(ctx, who, case_id, target, reason=REASON, message=MESSAGE)
        casework.reply(ctx, who, case_id, "Please tell us more.")
        casework.warn_of_abandonment(ctx, who, case_id)
        clock.advance(ctx.policy.deadlines.abandon_after_days)
    if state.needs_decision:
        with pytest.raises(InvalidReport):
            casework.transition(ctx, who, case_id, target)
        assert handling_of(ctx, case_id, office).status == source
    extra = {"reason": REASON, "message": MESSAGE} if state.needs_decision else {}
    view = casework.transition(ctx, who, case_id, target, **extra)
    assert view.status == target and view.closed == state.closed


def test_illegal_transition_is_409_naming_the_allowed_ones(client):
    from ..helpers import api_login, file_via_api

    case_id = file_via_api(client, ["misconduct"], "x")["cases"][0]["id"]
    oig = api_login(client, "oig-1")
    response = client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": "investigation"}, headers=oig)
    assert response.status_code == 409
    assert response.json()["allowed"] == ["acknowledged", "transferred_to_eco"]
    url = f"/api/v1/officer/cases/{case_id}/transitions"
    assert client.post(url, json={"to": "nonsense"}, headers=oig).status_code == 409  # text, but no state of it
    for bad in [{"to": None}, {"to": ["acknowledged"]}, {}]:  # not text at all: the request's shape is wrong
        refused = client.post(url, json=bad, headers=oig)
        assert refused.status_code == 422 and list(refused.json()["fields"]) == ["to"], bad
    ok = client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": "acknowledged", "note": "seen"}, headers=oig)
    assert ok.status_code == 200 and ok.json()["status"] == "acknowledged"


def test_a_decision_needs_a_reason_and_a_message_and_the_complainant_reads_it(client):
    from ..helpers import api_login, caseroom_login, file_via_api

    filed = file_via_api(client, ["misconduct"], "x")
    case_id = filed["cases"][0]["id"]
    oig = api_login(client, "oig-1")
    for state in ("acknowledged", "intake_assessment"):
        assert client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": state}, headers=oig).status_code == 200
    url = f"/api/v1/officer/cases/{case_id}/transitions"
    for partial in [
        {"to": "closed_at_intake"},
        {"to": "closed_at_intake", "reason": "r"},
        {"to": "closed_at_intake", "message": "m"},
        {"to": "closed_at_intake", "reason": " ", "message": "m"},
    ]:
        refused = client.post(url, json=partial, headers=oig)
        assert refused.status_code == 422, refused.text
        assert set(refused.json()["fields"]) <= {"reason", "message"}
    assert client.get(f"/api/v1/officer/cases/{case_id}", headers=oig).json()["status"] == "intake_assessment"
    closed = client.post(
        url,
        json={
            "to": "closed_at_intake",
            "reason": "No jurisdiction: a vendor's dispute.",
            "message": "We closed your report because it concerns a contract dispute.",
        },
        headers=oig,
    )
    assert closed.status_code == 200 and closed.json()["closed"]
    (room,) = client.get("/api/v1/caseroom", headers=caseroom_login(client, filed["passphrase"])).json()["cases"]
    assert room["messages"][-1]["author"] == "officer"
    assert room["messages"][-1]["body"] == "We closed your report because it concerns a contract dispute."
    detail = client.get(f"/api/v1/officer/cases/{case_id}", headers=oig).json()
    assert [(a["kind"], a["text"]) for a in detail["actions"]] == [("closing_reason", "No jurisdiction: a vendor's dispute.")]
    assert "No jurisdiction" not in json.dumps(audit.entries(client.app.app.state.ctx.engine))


def test_a_closed_handling_can_be_reopened_with_a_reason(ctx, clock):
    passphrase, case_id = file(ctx, "misconduct")
    oig = officer(ctx, "oig-1")
    walk(ctx, oig, case_id, ["acknowledged", "intake_assessment", "closed_at_intake"], passphrase)
    for no_reason in (None, "", "  "):
        with pytest.raises(Conflict):
            casework.reopen(ctx, oig, case_id, no_reason)
    view = casework.reopen(ctx, oig, case_id, "The reporter sent new evidence.")
    assert (view.status, view.closed, view.closed_on) == ("intake_assessment", False, None)
    with pytest.raises(Conflict):
        casework.reopen(ctx, oig, case_id, "again")
    assert [e["action"] for e in audit.entries(ctx.engine) if e["case"] == case_id][-1] == "reopened"


def test_the_prima_facie_determination_is_recorded_on_its_own(ctx, clock):
    _, case_id = file(ctx)
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment"])
    for bad in [("yes", REASON), (True, ""), (None, REASON)]:
        with pytest.raises(Conflict):
            casework.determine(ctx, eco, case_id, *bad)
    _, oig_case = file(ctx, "misconduct")
    with pytest.raises(Conflict):
        casework.determine(ctx, oig, oig_case, True, REASON)
    clock.advance(5)
    view = casework.determine(ctx, eco, case_id, True, "Timing: evaluation a week after the testimony.")
    assert view.determination == "found" and not view.closed
    states = {d.name: d.state for d in view.deadlines}
    assert states["preliminary_assessment"] == "met"
    detail = casework.open_case(ctx, eco, case_id)
    assert [(r.kind, r.about) for r in detail.records] == [("determination", "found")]
    assert {m.state for m in detail.moves} >= {"referred_to_oig"}
    (entry,) = [e for e in audit.entries(ctx.engine) if e["action"] == "prima facie determination"]
    assert entry["result"] == "found" and "Timing" not in json.dumps(entry)


def test_prima_facie_without_consent_keeps_the_case_and_its_protection_at_eco(ctx, clock):
    passphrase, case_id = file(ctx)
    eco = officer(ctx, "eco-1")
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment"])
    protection.recommend(ctx, eco, case_id, "reporting_line_change", "Chief of Mission", "the supervisor is the respondent")
    casework.determine(ctx, eco, case_id, True, REASON)
    with pytest.raises(Conflict):  # not before the complainant has said no
        casework.transition(ctx, eco, case_id, "kept_without_referral")
    referral.request_consent(ctx, eco, case_id)
    token = reporting.open_case_room(ctx, passphrase)
    assert reporting.answer_consent(ctx, token, case_id, False) == "refused"
    view = casework.transition(ctx, eco, case_id, "kept_without_referral")
    assert view.status == "kept_without_referral" and not view.closed
    assert not oig_can_open(ctx, case_id)
    (measure,) = casework.open_case(ctx, eco, case_id).measures
    protection.update(ctx, eco, case_id, measure.id, "implemented")
    # The complainant changes their mind: the referral is still possible, now with consent.
    assert reporting.answer_consent(ctx, token, case_id, True) == "given"
    referral.refer(ctx, eco, case_id, "OIG", None, "The complainant now agrees.")
    assert oig_can_open(ctx, case_id)


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
    casework.add_note(ctx, eco, case_id, "ECO-ONLY-NOTE: the welfare referral")
    protection.recommend(ctx, eco, case_id, "SWO", "Staff Welfare Officer", "ECO-ONLY-MEASURE-NOTE: stress")

    # Before the referral OIG holds no key: not in its inbox, not openable, nothing unwraps.
    assert not oig_can_open(ctx, case_id)
    assert inbox.inbox(ctx, officer(ctx, "oig-1"), "all").rows == ()
    with Session(ctx.engine) as db:
        assert db.get(CaseKeyWrap, (case_id, "office:OIG")) is None

    with pytest.raises(Conflict, match="determination"):
        referral.refer(ctx, eco, case_id, "OIG", "a reason", "memo")
    casework.determine(ctx, eco, case_id, True, REASON)
    with pytest.raises(Conflict, match="consent"):
        referral.refer(ctx, eco, case_id, "OIG", None, "memo")
    referral.request_consent(ctx, eco, case_id)
    (room,) = reporting.case_room(ctx, token)
    assert room.consent_requested and "never the Ethics and Conduct Office's own notes" in room.messages[-1].body
    assert room.messages[-1].author == "service"
    assert reporting.answer_consent(ctx, token, case_id, True) == "given"
    with pytest.raises(Conflict):  # the memo is what OIG starts from
        referral.refer(ctx, eco, case_id, "OIG", None, "")
    view = referral.refer(ctx, eco, case_id, "OIG", None, "Prima facie: see the timing. Risk: high.")
    assert view.status == "referred_to_oig" and view.closed
    with pytest.raises(Conflict):  # after the referral the answer can no longer change
        reporting.answer_consent(ctx, token, case_id, False)

    oig = officer(ctx, "oig-1")
    assert [r.id for r in inbox.inbox(ctx, oig, "referred_in").rows] == [case_id]
    detail = casework.open_case(ctx, oig, case_id)
    assert detail.description == "Retaliation after I testified"
    assert [m.body for m in detail.messages][:1] == ["Earlier detail"]
    assert detail.handling.status == "received" and detail.other_handlings[0].status == "referred_to_oig"
    # OIG reads the memo, sees that a measure exists and where it stands, and none of ECO's notes.
    assert [(r.kind, r.text) for r in detail.records] == [("referral_memo", "Prima facie: see the timing. Risk: high.")]
    ((measure,),) = [detail.measures]
    assert (measure.item, measure.status, measure.notes) == ("SWO", "recommended", ())
    assert "ECO-ONLY" not in repr(detail)
    (room,) = reporting.case_room(ctx, token)
    assert {h.office: h.status for h in room.handlings} == {"ECO": "referred_to_oig", "OIG": "received"}
    assert any("referred your complaint" in m.body for m in room.messages)
    (entry,) = [e for e in audit.entries(ctx.engine) if e["action"] == "referred"]
    assert (entry["case"], entry["consent"], entry["reason_record"]) == (case_id, "given", None)
    # OIG works the referred case through its own lifecycle.
    walk(ctx, oig, case_id, ["acknowledged", "intake_assessment", "investigation", "closed_substantiated"])
    assert audit.verify(ctx.engine, ctx.instance)


def test_oig_cannot_open_ecos_records_even_with_the_database(ctx, clock):
    """After a referral OIG holds the case key and its own office key: neither opens ECO's notes."""
    _, case_id = file(ctx)
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    casework.add_note(ctx, eco, case_id, "ECO-ONLY-NOTE")
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment"])
    casework.determine(ctx, eco, case_id, True, "ECO-ONLY-REASONS")
    # Not about anyone in OIG: held by OIG's office key (else by its heads: #24 item 16).
    referral.refer(ctx, eco, case_id, "OIG", "test: referred without asking", "test: the memo", receiver_concerned="no")
    with Session(ctx.engine) as db:
        case_key = unwrap_case_key(oig.office_key, db.get(CaseKeyWrap, (case_id, office_holder("OIG"))).wrap, case_id)
        eco_handling = db.get(Handling, (case_id, "ECO"))
        records = db.exec(select(CaseRecord).where(CaseRecord.case_id == case_id, CaseRecord.office == "ECO")).all()
    assert len(records) >= 3  # the note, the determination, ECO's copy of the memo
    with pytest.raises(CryptoError):
        unwrap_handling_key(oig.office_key, eco_handling.key_wrap, case_id, "ECO")
    for record in records:
        assert b"ECO-ONLY" not in record.body
        with pytest.raises(CryptoError):
            open_record(case_key, record.body, case_id, "office-record", record.id)


def test_referral_without_consent_needs_a_written_reason(ctx, clock):
    passphrase, case_id = file(ctx)
    eco = officer(ctx, "eco-1")
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment"])
    casework.determine(ctx, eco, case_id, True, REASON)
    referral.request_consent(ctx, eco, case_id)
    reporting.answer_consent(ctx, reporting.open_case_room(ctx, passphrase), case_id, False)
    for no_reason in [None, "", "   "]:
        with pytest.raises(Conflict):
            referral.refer(ctx, eco, case_id, "OIG", no_reason, "memo")
    assert not oig_can_open(ctx, case_id)
    referral.refer(
        ctx, eco, case_id, "OIG", "Imminent risk of further retaliation; the complainant is protected by OIG's process.", "memo"
    )
    assert oig_can_open(ctx, case_id)
    (entry,) = [e for e in audit.entries(ctx.engine) if e["action"] == "referred"]
    assert entry["consent"] == "refused" and "Imminent" not in json.dumps(entry)  # the log names the record, not its words
    (reason,) = [r for r in casework.open_case(ctx, eco, case_id).records if r.kind == "referral_reason"]
    assert reason.id == entry["reason_record"] and reason.text.startswith("Imminent risk")


def test_only_eco_refers_and_only_from_the_assessment(ctx, clock):
    _, eco_case = file(ctx)
    _, oig_case = file(ctx, "misconduct")
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    with pytest.raises(IllegalTransition):
        referral.refer(ctx, eco, eco_case, "OIG", "a reason", "memo")
    with pytest.raises(Conflict):
        referral.refer(ctx, oig, oig_case, "OIG", "a reason", "memo")
    with pytest.raises(Conflict):
        referral.refer(ctx, eco, eco_case, "LEG", "a reason", "memo")
    with pytest.raises(Conflict):  # OIG's transfers ask no consent
        referral.request_consent(ctx, oig, oig_case)


def test_eco_transfers_a_report_that_is_not_about_retaliation_to_oig_with_consent_or_a_reason(ctx, clock):
    """A misrouted report: no prima facie determination, but ECO Charter 4.8 still asks consent or a written reason;
    the complainant is told, OIG gets its own handling and the memo, ECO's closed handling counts as transferred."""
    passphrase, case_id = file(ctx)
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    with pytest.raises(Conflict):  # neither consent nor a reason
        referral.refer(ctx, eco, case_id, "OIG", None, "memo", "transferred_to_oig")
    with pytest.raises(IllegalTransition):  # not a referral state of ECO's
        referral.refer(ctx, eco, case_id, "OIG", "a reason", "memo", "closed_no_prima_facie")
    referral.request_consent(ctx, eco, case_id)  # from "received": a transfer needs no assessment first
    token = reporting.open_case_room(ctx, passphrase)
    reporting.answer_consent(ctx, token, case_id, True)
    view = referral.refer(ctx, eco, case_id, "OIG", None, "Fraud in procurement, not retaliation.", "transferred_to_oig")
    assert view.status == "transferred_to_oig" and view.closed
    detail = casework.open_case(ctx, oig, case_id)
    assert detail.handling.status == "received" and detail.handling.opened_on == clock().date().isoformat()
    assert [r.text for r in detail.records] == ["Fraud in procurement, not retaliation."]
    room = reporting.case_room(ctx, token)[0]
    assert any("misconduct other than retaliation" in str(m.body) for m in room.messages if m.author == "service")
    assert room.writing_to == "OIG"
    (entry,) = [e for e in audit.entries(ctx.engine) if e["action"] == "referred"]
    assert (entry["to"], entry["state"], entry["consent"]) == ("OIG", "transferred_to_oig", "given")


def test_consent_cannot_be_given_unasked_or_by_another_reporter(ctx, clock):
    passphrase, case_id = file(ctx)
    other, _ = file(ctx)
    token = reporting.open_case_room(ctx, passphrase)
    with pytest.raises(Conflict):
        reporting.answer_consent(ctx, token, case_id, True)
    with pytest.raises(NotFound):
        reporting.answer_consent(ctx, reporting.open_case_room(ctx, other), case_id, True)


def test_the_protection_file_outlives_referral_and_closure(ctx, clock):
    _, case_id = file(ctx)
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    separation = protection.recommend(ctx, eco, case_id, "physical_separation", "Head of Office", "moved desks")
    oss = protection.recommend(ctx, eco, case_id, "OSS", "Office of Staff Security", "threats at home", review_on="2026-03-09")
    for bad in [("exile", "x"), ("nonsense", "x"), (None, "x")]:
        with pytest.raises(Conflict):
            protection.recommend(ctx, eco, case_id, *bad)
    with pytest.raises(Conflict):
        protection.recommend(ctx, eco, case_id, "SWO", "x", review_on="2020-01-01")
    _, oig_case = file(ctx, "misconduct")
    with pytest.raises(Conflict):
        protection.recommend(ctx, oig, oig_case, "suspension", "DHR")
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment", "referred_to_oig"])
    # After the referral (ECO's handling closed) ECO still moves the measures on.
    assert protection.update(ctx, eco, case_id, separation, "implemented", note="done on 3 March") == "implemented"
    with pytest.raises(NotFound):  # OIG sees them but they are not its to change
        protection.update(ctx, oig, case_id, separation, "lifted")
    row = inbox.inbox(ctx, eco, "open").rows
    assert [r.id for r in row] == [case_id] and row[0].open_measures == 2 and row[0].closed
    # The review of the OSS referral is the next thing due, even on a closed handling.
    assert (row[0].next_deadline, row[0].next_due) == ("measure_review", "2026-03-09")
    clock.advance(8)
    assert [r.id for r in inbox.inbox(ctx, eco, "overdue").rows] == [case_id]
    protection.update(ctx, eco, case_id, oss, "lifted")
    protection.update(ctx, eco, case_id, separation, "lifted")
    with pytest.raises(Conflict):
        protection.update(ctx, eco, case_id, separation, "implemented")
    assert inbox.inbox(ctx, eco, "open").rows == ()
    measures = casework.open_case(ctx, eco, case_id).measures
    assert [(m.item, m.status, [n.text for n in m.notes]) for m in measures] == [
        ("physical_separation", "lifted", ["moved desks", "done on 3 March"]),
        ("OSS", "lifted", ["threats at home"]),
    ]
    with Session(ctx.engine) as db:
        rows = db.exec(select(ProtectiveMeasure)).all()
    assert all(b"physical_separation" not in r.body and b"OSS" not in r.body for r in rows)
    assert not any("physical_separation" in str(e) or "moved desks" in str(e) for e in audit.entries(ctx.engine))


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
    (row,) = inbox.inbox(ctx, eco).rows
    assert row.flag == "overdue" and row.next_deadline == "first_response"
    walk(ctx, eco, case_id, ["acknowledged"])
    states = deadline_states(ctx, eco, case_id)
    # Acknowledging is not answering: the first response waits for a message an officer writes.
    assert states["first_response"] == "overdue" and states["acknowledgement"] == "met"
    casework.reply(ctx, eco, case_id, "We have your complaint and will assess it within 30 days.")
    assert deadline_states(ctx, eco, case_id)["first_response"] == "met_late"
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


def test_service_notices_never_meet_or_restart_a_clock(ctx, clock):
    _, case_id = file(ctx)
    eco = officer(ctx, "eco-1")
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment"])
    feedback_due = {d.name: d.due_on for d in casework.open_case(ctx, eco, case_id).handling.deadlines}["feedback"]
    clock.advance(10)
    referral.request_consent(ctx, eco, case_id)
    handling = handling_of(ctx, case_id, "ECO")
    assert handling.first_response_on is None and handling.last_feedback_on is None
    assert {d.name: d.due_on for d in casework.open_case(ctx, eco, case_id).handling.deadlines}["feedback"] == feedback_due
    with pytest.raises(Conflict):  # no warning of abandonment before the office ever answered
        casework.warn_of_abandonment(ctx, eco, case_id)
    casework.reply(ctx, eco, case_id, "A real answer.")
    assert handling_of(ctx, case_id, "ECO").first_response_on == dt.date(2026, 3, 12)


def test_each_deadline_says_where_it_comes_from(ctx, clock):
    _, case_id = file(ctx)
    deadlines = casework.open_case(ctx, officer(ctx, "eco-1"), case_id).handling.deadlines
    sources = {d.name: d.source for d in deadlines}
    assert "2019/1937" in sources["acknowledgement"] and "Art. 9(1)(b)" in sources["acknowledgement"]
    assert "30 calendar days" in sources["preliminary_assessment"]
    assert "Art. 9(1)(f)" in sources["feedback"] and "48 hours" in sources["first_response"]


def test_an_extension_moves_the_due_date_with_a_reason(ctx, clock):
    _, case_id = file(ctx)
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment"])
    for bad in [
        ("feedback", 10, REASON),
        ("preliminary_assessment", 0, REASON),
        ("preliminary_assessment", 31, REASON),
        ("preliminary_assessment", "10", REASON),
        ("preliminary_assessment", 10, ""),
    ]:
        with pytest.raises(Conflict):
            casework.extend(ctx, eco, case_id, *bad)
    view = casework.extend(ctx, eco, case_id, "preliminary_assessment", 10, "The witness is on mission until April.")
    (assessment,) = [d for d in view.deadlines if d.name == "preliminary_assessment"]
    assert (assessment.due_on, assessment.extended_days) == (dt.date(2026, 4, 11), 10)
    with pytest.raises(Conflict):  # 30 days in all at most
        casework.extend(ctx, eco, case_id, "preliminary_assessment", 21, REASON)
    clock.advance(35)
    assert deadline_states(ctx, eco, case_id)["preliminary_assessment"] == "open"
    _, oig_case = file(ctx, "misconduct")
    with pytest.raises(Conflict):
        casework.extend(ctx, oig, oig_case, "preliminary_assessment", 5, REASON)


def test_feedback_is_due_three_months_after_the_acknowledgement_then_the_last_word(ctx, clock):
    _, case_id = file(ctx, "misconduct")
    oig = officer(ctx, "oig-1")
    walk(ctx, oig, case_id, ["acknowledged", "intake_assessment", "investigation"])
    due = {d.name: d for d in casework.open_case(ctx, oig, case_id).handling.deadlines}["feedback"].due_on
    assert due == dt.date(2026, 6, 2)
    clock.advance(60)
    casework.reply(ctx, oig, case_id, "Still investigating.")
    due = {d.name: d for d in casework.open_case(ctx, oig, case_id).handling.deadlines}["feedback"].due_on
    assert due == dt.date(2026, 8, 1)


def test_inbox_filters_search_sort_pages_and_unread_per_officer(ctx, clock):
    _, old = file(ctx, "misconduct")
    clock.advance(10)
    passphrase, new = file(ctx, "misconduct")
    oig = officer(ctx, "oig-1")
    enrolment = officers.add_officer(
        ctx, "oig-1", "oig officer password one", totp_code(ctx, "oig-1"), "oig-2", "oig officer password two"
    )
    assert enrolment.office == "OIG"
    page = inbox.inbox(ctx, oig)
    assert [r.id for r in page.rows] == [old, new] and [r.flag for r in page.rows] == ["overdue", "due"]
    assert [r.id for r in inbox.inbox(ctx, oig, "overdue").rows] == [old]
    assert [r.id for r in inbox.inbox(ctx, oig, "due_soon").rows] == [new]
    assert [r.id for r in inbox.inbox(ctx, oig, "all", query=new[-6:].lower()).rows] == [new]
    assert inbox.inbox(ctx, oig, "all", query="%").rows == ()
    assert inbox.inbox(ctx, oig, "all", query="_").rows == ()  # LIKE's wildcards match themselves only
    assert inbox.inbox(ctx, oig, "all", query="/").rows == ()  # and so does the escape character
    assert new in [r.id for r in inbox.inbox(ctx, oig, "all", query=new[:5]).rows]
    assert [r.id for r in inbox.inbox(ctx, oig, "all", sort="newest").rows] == [new, old]
    assert casework.assign(ctx, oig, old, "oig-2") == "oig-2"
    with pytest.raises(Conflict):
        casework.assign(ctx, oig, old, "eco-1")  # not of this office
    assert [r.id for r in inbox.inbox(ctx, oig, "unassigned").rows] == [new]
    assert [r.assignee for r in inbox.inbox(ctx, oig, "all", sort="case").rows if r.id == old] == ["oig-2"]
    assert casework.assign(ctx, oig, old, None) is None
    # Unread is per officer: oig-1 reading a case leaves it unread for oig-2.
    assert all(r.unread for r in inbox.inbox(ctx, oig).rows)
    casework.open_case(ctx, oig, new)
    assert {r.id: r.unread for r in inbox.inbox(ctx, oig).rows} == {old: True, new: False}
    reporting.reporter_writes(ctx, reporting.open_case_room(ctx, passphrase), new, "More detail")
    assert {r.id: r.unread for r in inbox.inbox(ctx, oig).rows}[new]
    assert inbox.inbox(ctx, oig, "all", page=99).page == 1
    assert inbox.inbox(ctx, oig, "not-a-filter").filter == "open"


def test_history_names_who_did_what(ctx, clock):
    _, case_id = file(ctx, "misconduct")
    oig = officer(ctx, "oig-1")
    walk(ctx, oig, case_id, ["acknowledged"])
    casework.add_note(ctx, oig, case_id, "private")
    history = casework.open_case(ctx, oig, case_id).history
    assert [(h.officer, h.action) for h in history] == [
        ("oig-1", "status changed"),
        ("oig-1", "note added"),
        ("oig-1", "case opened"),
    ]
    assert all(h.at.startswith("2026-03-02T") for h in history)


def test_reporter_sees_acknowledgement_and_what_to_expect_in_date_order(ctx, clock):
    passphrase, case_id = file(ctx)
    eco = officer(ctx, "eco-1")
    walk(ctx, eco, case_id, ["acknowledged"])
    (room,) = reporting.case_room(ctx, reporting.open_case_room(ctx, passphrase))
    (handling,) = room.handlings
    assert handling.acknowledged_on == "2026-03-02"
    expected = room.expectations()
    assert ("ECO", "the result of the preliminary assessment", "2026-04-01") in expected
    assert [when for _, _, when in expected] == sorted(when for _, _, when in expected)


def test_the_complainant_withdraws_in_the_case_room(ctx, clock):
    passphrase, case_id = file(ctx)
    eco = officer(ctx, "eco-1")
    protection.recommend(ctx, eco, case_id, "flexible_working", "Head of Office")
    token = reporting.open_case_room(ctx, passphrase)
    assert reporting.withdraw(ctx, token, case_id, "I have left the organization.") == ("ECO",)
    view = casework.open_case(ctx, eco, case_id)
    assert view.handling.status == "withdrawn" and view.handling.closed
    assert view.messages[-1].body == "I have left the organization."
    assert view.measures[0].status == "recommended"  # lifting is the office's decision
    with pytest.raises(Conflict):
        reporting.withdraw(ctx, token, case_id)
    other, _ = file(ctx)
    with pytest.raises(NotFound):
        reporting.withdraw(ctx, reporting.open_case_room(ctx, other), case_id)
    assert casework.reopen(ctx, eco, case_id, "The complainant asked to continue.").status == "preliminary_assessment"


def test_case_actions_of_an_earlier_version_move_to_the_protection_file_on_opening(ctx, clock):
    """Revision 0005 cannot re-seal what it cannot read: ECO's first opening does it."""
    _, case_id = file(ctx)
    eco = officer(ctx, "eco-1")
    with transaction(ctx.engine) as db:
        wrap = db.get(CaseKeyWrap, (case_id, office_holder("ECO")))
        key = unwrap_case_key(eco.office_key, wrap.wrap, case_id)
        for action_id, body in [
            ("A-OLD0000001", {"kind": "protective_measure", "item": "suspension", "note": "old note"}),
            ("A-OLD0000002", {"kind": "note", "item": "", "note": "an old internal note"}),
        ]:
            db.add(
                CaseAction(
                    id=action_id,
                    case_id=case_id,
                    office="ECO",
                    recorded_on=dt.date(2026, 3, 1),
                    body=seal_record(key, json.dumps(body).encode(), case_id, "action", action_id),
                )
            )
    detail = casework.open_case(ctx, eco, case_id)
    assert [(m.item, m.status, [n.text for n in m.notes]) for m in detail.measures] == [
        ("suspension", "recommended", ["old note"])
    ]
    assert [(r.kind, r.text) for r in detail.records] == [("note", "an old internal note")]
    with Session(ctx.engine) as db:
        assert db.exec(select(CaseAction)).all() == []
        assert db.get(Case, case_id) is not None


def test_closing_over_a_passed_deadline_shows_it_missed_not_moot(ctx, clock):
    """A referral made on day 5 with no officer ever writing to the complainant: the first response
    was missed, and the closure does not hide it."""
    _, late = file(ctx)
    _, early = file(ctx)
    eco = officer(ctx, "eco-1")
    walk(ctx, eco, early, ["acknowledged", "preliminary_assessment", "referred_to_oig"])
    clock.advance(5)
    walk(ctx, eco, late, ["acknowledged", "preliminary_assessment", "referred_to_oig"])
    assert deadline_states(ctx, eco, early)["first_response"] == "moot"
    assert deadline_states(ctx, eco, late)["first_response"] == "missed"


def test_the_inbox_pages_through_every_case_once_in_each_order(ctx):
    """The page is one statement with its ids as an ordered subquery: every case on exactly one page,
    in the order asked for, and nothing of another office."""
    from intake.service.inbox import PAGE_SIZE

    mine = {file(ctx, "misconduct", f"case {n}")[1] for n in range(PAGE_SIZE + 7)}
    file(ctx, "retaliation", "ECO's, not OIG's")
    oig = officer(ctx, "oig-1")
    for sort in ("urgency", "newest", "oldest", "case"):
        first, second = (inbox.inbox(ctx, oig, "all", sort=sort, page=n) for n in (1, 2))
        assert (first.pages, first.total, len(first.rows), len(second.rows)) == (2, PAGE_SIZE + 7, PAGE_SIZE, 7)
        ids = [r.id for r in first.rows + second.rows]
        assert set(ids) == mine and len(ids) == len(mine)
        if sort == "case":
            assert ids == sorted(mine)
        assert all(r.concerns == ("misconduct",) for r in first.rows + second.rows)  # answers opened


def test_an_action_on_a_case_waits_for_another_officers_action_on_it_to_finish(ctx, clock):
    """open_for_office locks the office's handling (FOR UPDATE OF it, on PostgreSQL), so that two officers
    acting on one case at once act one after the other, each on what the other left."""
    _, case_id = file(ctx, "misconduct")
    first, second = officer(ctx, "oig-1"), officer(ctx, "oig-1")

    def reply() -> None:
        casework.reply(ctx, second, case_id, "Written while another officer held the case.")

    while_held, at_last = while_case_is_held(ctx, first, case_id, reply, 1.0)
    assert not while_held  # held back while the first officer's transaction lasts
    assert at_last
