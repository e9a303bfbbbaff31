"""#24 item 16: the reporter says whether their report is about someone in the office they write to,
never the other one. A case referred or transferred to the other office arrives there restricted to
its heads unless the officer who passes it on says it is about no one there; on main it arrived
open to every officer of the receiving office."""

import datetime as dt

import pyotp
import pytest
from sqlmodel import Session

from intake.service import casework, inbox, officers, referral, reporting
from intake.service.errors import Conflict, NotFound
from intake.store import Handling
from policies import validate_report

from ..casework_steps import paths_to, satisfy
from ..clock import Clock
from ..conftest import PASSWORDS
from ..enrolments import enrolments
from ..files import snapshot
from ..helpers import api_login, app_context, file_via_api, html_login, post_form

MEMBER = "a member's password of many words"


@pytest.fixture(autouse=True)
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def code(ctx, secret: str) -> str:
    ctx.now.now += dt.timedelta(seconds=31)
    return pyotp.TOTP(secret).at(ctx.now())


def officer(ctx, username: str):
    secret = enrolments(ctx)[username].totp_secret
    return officers.current(ctx, officers.log_in(ctx, username, PASSWORDS[username], code(ctx, secret)))


def member(ctx, office: str):
    """A member (not a head) of the office, added by its founding head."""
    head, username = f"{office.lower()}-1", f"{office.lower()}-9"
    head_code = code(ctx, enrolments(ctx)[head].totp_secret)
    enrolment = officers.add_officer(ctx, head, PASSWORDS[head], head_code, username, MEMBER)
    return officers.current(ctx, officers.log_in(ctx, username, MEMBER, code(ctx, enrolment.totp_secret)))


def pass_on(ctx, who, concern: str, words: str, **kwargs) -> str:
    """File a report of `concern` (about no one in the office it goes to) and pass it to the other office."""
    report = validate_report(ctx.policy, [concern], words, {"office_concerned": "no"})
    case_id = reporting.file_report(ctx, report).cases[0].id
    lifecycle = ctx.policy.lifecycles[who.office]
    target = lifecycle.referral_state if who.office == "ECO" else "transferred_to_eco"
    for state in paths_to(lifecycle, target)[:-1]:
        satisfy(ctx, who, case_id, lifecycle.states[state], None)
        casework.transition(ctx, who, case_id, state)
    satisfy(ctx, who, case_id, lifecycle.states[target], None)
    referral.refer(ctx, who, case_id, lifecycle.refers_to, "test: without asking", "test: the memo", target, **kwargs)
    return case_id


def test_a_complaint_about_someone_in_oig_referred_there_is_for_oig_s_head(ctx):
    """#24 item 16: referred to OIG without a word about OIG's people, the case is OIG's head's alone."""
    oig_member = member(ctx, "OIG")
    eco, oig_head = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    case_id = pass_on(ctx, eco, "retaliation", "An OIG investigator's partner ended my contract.")
    with Session(ctx.engine) as db:
        assert db.get(Handling, (case_id, "OIG")).restricted_key is not None
    with pytest.raises(NotFound):
        casework.open_case(ctx, oig_member, case_id)
    assert case_id not in {r.id for r in inbox.inbox(ctx, oig_member, "all").rows}
    assert casework.open_case(ctx, oig_head, case_id).description.startswith("An OIG investigator's")


def test_a_report_transferred_to_eco_is_for_eco_s_head_unless_oig_says_it_is_about_no_one_there(ctx):
    """#24 item 16: the same for a transfer from OIG to ECO; "no" sends it to the whole office."""
    eco_member = member(ctx, "ECO")
    oig = officer(ctx, "oig-1")
    restricted = pass_on(ctx, oig, "misconduct", "An ECO officer's husband threatened me for reporting fraud.")
    open_to_all = pass_on(ctx, oig, "misconduct", "My supervisor threatened me.", receiver_concerned="no")
    with pytest.raises(NotFound):
        casework.open_case(ctx, eco_member, restricted)
    assert casework.open_case(ctx, eco_member, open_to_all).id == open_to_all


def test_an_answer_that_is_not_one_of_the_choices_changes_nothing(ctx):
    """#24 item 16: bad input is a clear refusal, and the store is left as it was."""
    eco = officer(ctx, "eco-1")
    report = validate_report(ctx.policy, ["retaliation"], "My manager ended my contract.", {"office_concerned": "no"})
    case_id = reporting.file_report(ctx, report).cases[0].id
    lifecycle = ctx.policy.lifecycles["ECO"]
    for state in paths_to(lifecycle, lifecycle.referral_state)[:-1]:
        satisfy(ctx, eco, case_id, lifecycle.states[state], None)
        casework.transition(ctx, eco, case_id, state)
    satisfy(ctx, eco, case_id, lifecycle.states[lifecycle.referral_state], None)
    before = snapshot(ctx)
    for answer in ("maybe", ["no"], {"no": 1}, 1, "NO"):
        with pytest.raises(Conflict):
            referral.refer(ctx, eco, case_id, "OIG", "a reason", "a memo", receiver_concerned=answer)
    assert snapshot(ctx) == before


def _restricted_at(client, case_id: str, office: str) -> bool:
    from intake.store import Handling as Row

    with Session(app_context(client).engine) as db:
        return db.get(Row, (case_id, office)).restricted_key is not None


def test_the_page_asks_and_the_api_takes_the_answer(client):
    """#24 item 16: the referral form asks whether the case is about someone in OIG (restricted unless "no"),
    and the API takes `receiver_concerned`; a wrong answer is a 409 that changes nothing."""
    eco = api_login(client, "eco-1")
    cases = []
    for _ in range(3):
        case_id = file_via_api(client, ["retaliation"], "I was moved after the audit.")["cases"][0]["id"]
        for state in ("acknowledged", "preliminary_assessment"):
            assert client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": state}, headers=eco).status_code == 200
        found = {"prima_facie": True, "reasons": "timing"}
        assert client.post(f"/api/v1/officer/cases/{case_id}/determination", json=found, headers=eco).status_code == 200
        cases.append(case_id)
    by_page, by_default, by_api = cases
    html_login(client, "eco-1")
    page = client.get(f"/officer/cases/{by_page}").text
    assert 'name="receiver_concerned" id="referral-referred_to_oig-concerned-yes" value="not_known" checked' in page
    fields = {"state": "referred_to_oig", "memo": "A memo.", "reason": "Urgent."}
    assert post_form(client, f"/officer/cases/{by_page}/referral", fields | {"receiver_concerned": "no"}).status_code == 200
    assert post_form(client, f"/officer/cases/{by_default}/referral", fields).status_code == 200
    assert not _restricted_at(client, by_page, "OIG") and _restricted_at(client, by_default, "OIG")
    body = {"to": "OIG", "memo": "A memo.", "reason": "Urgent."}
    before = snapshot(app_context(client))
    refused = client.post(f"/api/v1/officer/cases/{by_api}/referral", json=body | {"receiver_concerned": "perhaps"}, headers=eco)
    assert refused.status_code == 422 and list(refused.json()["fields"]) == ["receiver_concerned"]
    assert snapshot(app_context(client)) == before
    done = client.post(f"/api/v1/officer/cases/{by_api}/referral", json=body | {"receiver_concerned": "no"}, headers=eco)
    assert done.status_code == 200 and not _restricted_at(client, by_api, "OIG")
