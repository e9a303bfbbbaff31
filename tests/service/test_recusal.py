"""Conflicts of interest (ECO Charter 4.5-4.7): the head of an office, an officer's recusal from a
case (no case page, no reply, no inbox row, pages and API alike), and the head's decision to lift
it; every step in the audit chain."""

import datetime as dt

import pyotp
import pytest

from intake.service import audit, casework, inbox, officers, recusal, reporting
from intake.service.errors import AuthenticationFailed, Conflict, NotFound
from policies import validate_report

from ..clock import Clock
from ..conftest import PASSWORDS
from ..enrolments import enrolments
from ..files import multipart, snapshot
from ..helpers import api_login, app_context, html_login, officer_token, post_form

SECOND = "eco officer password two"


@pytest.fixture(autouse=True)
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def code(ctx, username: str, secret: str | None = None) -> str:
    """The next code of an officer's authenticator: 31 seconds on, since no code is accepted twice."""
    ctx.now.now += dt.timedelta(seconds=31)
    return pyotp.TOTP(secret or enrolments(ctx)[username].totp_secret).at(ctx.now())


def file(ctx) -> str:
    report = validate_report(ctx.policy, ["retaliation"], "My manager, a friend of an ECO officer, ended my contract.", {})
    return reporting.file_report(ctx, report).cases[0].id


def second_officer(ctx):
    """eco-2, a member (eco-1 founded ECO and heads it); returns (session, TOTP secret)."""
    enrolment = officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), "eco-2", SECOND)
    token = officers.log_in(ctx, "eco-2", SECOND, code(ctx, "eco-2", enrolment.totp_secret))
    return officers.current(ctx, token), enrolment.totp_secret


def test_the_founder_heads_the_office_and_only_a_head_changes_who_heads_it(ctx):
    _, secret = second_officer(ctx)
    with pytest.raises(Conflict):  # a member cannot make themselves head
        officers.set_role(ctx, "eco-2", SECOND, code(ctx, "eco-2", secret), "eco-2", head=True)
    with pytest.raises(Conflict):  # the last head cannot step down
        officers.set_role(ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), "eco-1", head=False)
    with pytest.raises(Conflict):  # an officer of the other office is not theirs to name
        officers.set_role(ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), "oig-1", head=True)
    with pytest.raises(AuthenticationFailed):
        officers.set_role(ctx, "eco-1", "not the password", code(ctx, "eco-1"), "eco-2", head=True)
    officers.set_role(ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), "eco-2", head=True)
    officers.set_role(ctx, "eco-2", SECOND, code(ctx, "eco-2", secret), "eco-1", head=False)
    changes = [e for e in audit.entries(ctx.engine) if e["action"] == "role changed"]
    assert [e["head"] for e in changes] == ["yes", "no"]


def test_a_recused_officer_no_longer_sees_opens_or_writes_in_the_case(ctx):
    eco2, _ = second_officer(ctx)
    head = officers.current(ctx, officer_token(ctx, "eco-1"))
    case_id, other = file(ctx), file(ctx)
    casework.assign(ctx, head, case_id, "eco-2")
    with pytest.raises(Conflict):  # a conflict needs its note for the head
        recusal.declare(ctx, eco2, case_id, "  ")
    recusal.declare(ctx, eco2, case_id, "The respondent is my brother-in-law.")
    for step in (
        lambda: casework.open_case(ctx, eco2, case_id),
        lambda: casework.reply(ctx, eco2, case_id, "Hello"),
        lambda: casework.add_note(ctx, eco2, case_id, "a note"),
        lambda: recusal.declare(ctx, eco2, case_id, "again"),
    ):
        with pytest.raises(NotFound):
            step()
    assert [r.id for r in inbox.inbox(ctx, eco2, "all").rows] == [other]
    assert {r.id for r in inbox.inbox(ctx, head, "all").rows} == {case_id, other}
    detail = casework.open_case(ctx, head, case_id)
    assert detail.assignee is None  # stepping away unassigns
    with pytest.raises(Conflict):
        casework.assign(ctx, head, case_id, "eco-2")  # and the case cannot be given back to them
    # The member sees their own declaration, pending, without its note (they stepped away from the case).
    assert [(d.case_id, d.decision, d.note) for d in recusal.declarations(ctx, eco2)] == [(case_id, None, None)]
    (declared,) = recusal.declarations(ctx, head)
    assert (declared.case_id, declared.username, declared.note) == (case_id, "eco-2", "The respondent is my brother-in-law.")
    with pytest.raises(Conflict):
        recusal.decide(ctx, eco2, case_id, "eco-2", "lifted", "Mine.")  # only the head decides
    for case, username in [(case_id, {}), (case_id, ["eco-2"]), ({}, "eco-2"), ("x" * 40, "eco-2"), (case_id, "e" * 65)]:
        with pytest.raises(NotFound):  # hostile JSON is a clear 404, never a 500 (found by schemathesis)
            recusal.decide(ctx, head, case, username, "lifted", "A reason.")
    recusal.decide(ctx, head, case_id, "eco-2", "lifted", "The tie is too distant to matter.")
    assert casework.open_case(ctx, eco2, case_id).id == case_id
    actions = [
        (e["action"], e.get("case")) for e in audit.entries(ctx.engine) if e["action"] in ("conflict declared", "recusal lifted")
    ]
    assert actions == [("conflict declared", case_id), ("recusal lifted", case_id)]
    with pytest.raises(Conflict):
        recusal.decide(ctx, head, case_id, "eco-2", "lifted", "Again.")  # lifted already
    recusal.declare(ctx, head, other, "I am the respondent's manager.")
    with pytest.raises(Conflict):
        recusal.decide(ctx, head, other, "eco-1", "lifted", "Mine.")  # a head's own conflict is not theirs (Charter 4.7)


def test_recusal_through_the_api_and_the_pages(client):
    ctx = app_context(client)
    case_id = file(ctx)
    _, secret = second_officer(ctx)
    # eco-2 through the API (the next code: none is accepted twice), eco-1 through the pages
    login = {"username": "eco-2", "password": SECOND, "totp": code(ctx, "eco-2", secret)}
    response = client.post("/api/v1/officer/session", json=login)
    assert response.status_code == 201, response.text
    api = {"Authorization": f"Bearer {response.json()['token']}"}
    assert (
        client.post(f"/api/v1/officer/cases/{case_id}/recusal", json={"note": "I know the respondent."}, headers=api).status_code
        == 201
    )
    assert client.get(f"/api/v1/officer/cases/{case_id}", headers=api).status_code == 404
    assert case_id not in client.get("/api/v1/officer/cases?filter=all", headers=api).text
    # No reply either, with or without a file: refused before the file is stored, and nothing written.
    before, reply = snapshot(ctx), f"/api/v1/officer/cases/{case_id}/messages"
    assert client.post(reply, json={"body": "Written while recused."}, headers=api).status_code == 404
    body, form = multipart({"body": "A form, sent while recused."}, [("form.bin", b"FORM-CONTENT")])
    assert client.post(reply, content=body, headers={**form, **api}).status_code == 404
    assert snapshot(ctx) == before
    mine = client.get("/api/v1/officer/conflicts", headers=api).json()["declarations"]
    assert [(d["case"], d["decision"], d["note"]) for d in mine] == [(case_id, None, None)]  # their own, pending
    head = api_login(client, "eco-1")
    listed = client.get("/api/v1/officer/conflicts", headers=head).json()["declarations"]
    assert [(d["case"], d["username"], d["note"]) for d in listed] == [(case_id, "eco-2", "I know the respondent.")]
    html_login(client, "eco-1")
    page = client.get("/officer/conflicts")
    assert page.status_code == 200 and "I know the respondent." in page.text
    decision = {"case_id": case_id, "username": "eco-2", "decision": "lifted", "reason": "Not close enough."}
    refused = post_form(client, "/officer/conflicts/decision", decision)
    assert refused.status_code == 409  # no tick, no decision
    done = post_form(client, "/officer/conflicts/decision", {**decision, "confirm": "yes"})
    assert done.status_code in (200, 303)
    assert client.get(f"/api/v1/officer/cases/{case_id}", headers=api).status_code == 200
    assert client.post(reply, json={"body": "Back on the case."}, headers=api).status_code == 201


def test_oig_transfers_a_misrouted_retaliation_complaint_to_eco_and_ecos_deadlines_start_then(ctx):
    """Referral both ways: a retaliation complaint filed as misconduct is not stuck at OIG."""
    from sqlmodel import Session

    from intake.service import referral
    from intake.store import Handling

    report = validate_report(ctx.policy, ["misconduct"], "I was moved to a worse post after I reported fraud.", {})
    filed = reporting.file_report(ctx, report)
    case_id = filed.cases[0].id
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    with pytest.raises(NotFound):
        casework.open_case(ctx, eco, case_id)  # ECO does not hold it yet
    ctx.now.now += dt.timedelta(days=3)
    with pytest.raises(Conflict):
        referral.refer(ctx, oig, case_id, "OIG", None, "memo")  # not to itself
    with pytest.raises(Conflict):
        referral.refer(ctx, oig, case_id, "ECO", None, "  ")  # a memo for ECO is required
    view = referral.refer(ctx, oig, case_id, "ECO", None, "Retaliation for reporting fraud: ECO's mandate (IN/282).")
    assert view.status == "transferred_to_eco" and view.closed
    detail = casework.open_case(ctx, eco, case_id)
    assert detail.id == case_id
    with Session(ctx.engine) as db:
        theirs = db.get(Handling, (case_id, "ECO"))
    assert theirs.status == "received" and theirs.opened_on == ctx.today()  # ECO's clock starts on the transfer
    assert [r.text for r in detail.records if r.kind == "referral_memo"] == [
        "Retaliation for reporting fraud: ECO's mandate (IN/282)."
    ]
    assert case_id in [r.id for r in inbox.inbox(ctx, eco, "referred_in").rows]
    room = reporting.case_room(ctx, reporting.open_case_room(ctx, filed.passphrase))
    notices = [m.body for m in room[0].messages if m.author == "service"]
    assert notices and "passed your report to the Ethics and Conduct Office" in notices[-1].template
    entry = [e for e in audit.entries(ctx.engine) if e["action"] == "referred"][-1]
    assert (entry["case"], entry["to"]) == (case_id, "ECO")
    eco_head = officers.current(ctx, officer_token(ctx, "eco-1"))
    from intake.service import statistics

    internal, _ = statistics.eco_annual_report(ctx, eco_head, ctx.today().year)
    assert {f.key: f.value for f in internal.summary}["transferred_in"] == "1"


def test_eco_refers_back_to_oig_a_case_oig_transferred_and_oig_receives_it_anew(client):
    """OIG passes a retaliation claim to ECO; ECO finds prima facie evidence and refers it to OIG for
    investigation: OIG's closed handling is received again (its first state, deadlines from today), and
    ECO's memo, sealed for OIG under a key of its own, is readable by OIG and by no one else."""
    from sqlmodel import Session, col, select

    from crypto import CryptoError, unwrap_record_key
    from intake.service import referral
    from intake.store import CaseRecord, Handling

    ctx = app_context(client)
    report = validate_report(ctx.policy, ["misconduct"], "Moved after I reported.", {})
    filed = reporting.file_report(ctx, report)
    case_id = filed.cases[0].id
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    casework.add_note(ctx, oig, case_id, "OIG's own note before the transfer.")
    referral.refer(ctx, oig, case_id, "ECO", None, "Retaliation: ECO's.")
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    casework.transition(ctx, eco, case_id, "acknowledged")
    casework.transition(ctx, eco, case_id, "preliminary_assessment")
    casework.determine(ctx, eco, case_id, True, "Prima facie evidence of retaliation.")
    html_login(client, "eco-1")
    page = client.get(f"/officer/cases/{case_id}").text
    assert f'action="/officer/cases/{case_id}/referral"' in page and "already holds this case" not in page
    ctx.now.now += dt.timedelta(days=5)
    view = referral.refer(ctx, eco, case_id, "OIG", "The complainant asked us to act quickly.", "Prima facie found: investigate.")
    assert view.status == "referred_to_oig"
    with Session(ctx.engine) as db:
        theirs = db.get(Handling, (case_id, "OIG"))
        (memo,) = db.exec(select(CaseRecord).where(CaseRecord.case_id == case_id, col(CaseRecord.key_wrap).is_not(None))).all()
    assert (theirs.status, theirs.opened_on, theirs.closed_on, theirs.acknowledged_on) == ("received", ctx.today(), None, None)
    detail = casework.open_case(ctx, oig, case_id)
    assert [(r.kind, r.text) for r in detail.records] == [
        ("note", "OIG's own note before the transfer."),
        ("referral_memo", "Retaliation: ECO's."),
        ("referral_memo", "Prima facie found: investigate."),
    ]
    with pytest.raises(CryptoError):  # ECO's office key does not open what was sealed for OIG
        unwrap_record_key(eco.office_key, memo.key_wrap, case_id, "OIG", memo.id)
    assert "Prima facie found" not in str([r.text for r in casework.open_case(ctx, eco, case_id).records if r.kind == "note"])
    assert case_id in [r.id for r in inbox.inbox(ctx, oig, "open").rows]
    room = reporting.case_room(ctx, reporting.open_case_room(ctx, filed.passphrase))[0]
    assert room.writing_to == "OIG"
    entry = [e for e in audit.entries(ctx.engine) if e["action"] == "referred"][-1]
    assert (entry["to"], entry["returned"]) == ("OIG", "yes")
    with pytest.raises(Conflict):  # OIG is working on it again: it cannot be sent to OIG twice
        referral.refer(ctx, eco, case_id, "OIG", "again", "memo")
