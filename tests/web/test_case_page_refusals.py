"""The officer's case page offers only what the service accepts in the case's state, and a refused
action shows the page again with the reason in words and everything typed kept; nothing changes."""

import re

from sqlmodel import Session, select

from intake.store import CaseRecord, Handling, ProtectiveMeasure

from ..helpers import api_login, app_context, file_via_api, html_login, post_form

RAW_IDS = ("referred_to_oig", "preliminary_assessment", "transferred_to_oig", "acknowledged")


def eco_case(client, *states: str) -> str:
    case_id = file_via_api(client, ["retaliation"], "I was moved after the audit.")["cases"][0]["id"]
    eco = api_login(client, "eco-1")
    for state in states:
        assert client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": state}, headers=eco).status_code == 200
    return case_id


def status(client, case_id: str, office: str = "ECO") -> str:
    with Session(app_context(client).engine) as db:
        return db.get(Handling, (case_id, office)).status


def records(client, case_id: str) -> int:
    with Session(app_context(client).engine) as db:
        return len(db.exec(select(CaseRecord).where(CaseRecord.case_id == case_id)).all())


def forms_on(page: str) -> set[str]:
    return set(re.findall(r'<form method="post" action="/officer/cases/[^/"]+/([^"]+)"', page))


def test_at_acknowledged_only_what_can_be_done_is_offered(client):
    case_id = eco_case(client, "acknowledged")
    html_login(client, "eco-1")
    page = client.get(f"/officer/cases/{case_id}").text
    assert "Prima facie determination" not in page  # the assessment has not started
    assert "Refer to OIG" not in page  # no referral on prima facie evidence before the assessment
    assert 'name="state" value="transferred_to_oig"' in page  # a misrouted report can still go to OIG
    assert "determination" not in forms_on(page)


def test_a_referral_sent_when_not_possible_keeps_the_memo_and_says_why_in_words(client):
    case_id = eco_case(client, "acknowledged")
    html_login(client, "eco-1")
    before = records(client, case_id)
    refused = post_form(
        client,
        f"/officer/cases/{case_id}/referral",
        {"state": "referred_to_oig", "memo": "A memo I spent an hour on.", "reason": "urgent"},
    )
    assert refused.status_code == 409
    assert "A memo I spent an hour on." in refused.text and "Nothing was changed" in refused.text
    summary = re.search(r'<div class="error-summary".*?<a href="[^"]*">(.*?)</a>', refused.text, re.S).group(1)
    assert "“Acknowledged”" in summary and not any(raw in summary for raw in RAW_IDS)
    assert status(client, case_id) == "acknowledged" and records(client, case_id) == before


def test_the_determination_sent_before_the_assessment_is_refused_with_the_reasons_kept(client):
    case_id = eco_case(client, "acknowledged")
    html_login(client, "eco-1")
    refused = post_form(
        client, f"/officer/cases/{case_id}/determination", {"prima_facie": "found", "reasons": "Strong timing link."}
    )
    assert refused.status_code == 409 and "Strong timing link." in refused.text
    assert "move the case to it first" in refused.text
    eco = api_login(client, "eco-1")
    assert client.get(f"/api/v1/officer/cases/{case_id}", headers=eco).json()["determination"] is None


def test_a_review_date_in_the_past_keeps_the_note_and_the_choices(client):
    case_id = eco_case(client, "acknowledged", "preliminary_assessment")
    html_login(client, "eco-1")
    typed = {
        "kind": "reporting_line_change",
        "recommended_to": "Chief of Mission",
        "review_on": "2001-01-01",
        "note": "Agreed by phone.",
    }
    refused = post_form(client, f"/officer/cases/{case_id}/measures", typed)
    assert refused.status_code == 409
    form = re.search(
        r'<form method="post" action="/officer/cases/[^"]+/measures" id="form-measure".*?</form>', refused.text, re.S
    )
    assert "Agreed by phone." in form.group(0) and 'value="Chief of Mission"' in form.group(0)
    assert 'value="reporting_line_change" selected' in form.group(0) and 'value="2001-01-01"' in form.group(0)
    assert "<details open>" in refused.text.replace("<details open >", "<details open>")
    with Session(app_context(client).engine) as db:
        assert db.exec(select(ProtectiveMeasure).where(ProtectiveMeasure.case_id == case_id)).first() is None


def test_each_refused_form_keeps_its_words(client):
    case_id = eco_case(client, "acknowledged", "preliminary_assessment")
    html_login(client, "eco-1")
    cases = [
        ("extension", {"deadline": "preliminary_assessment", "days": "99", "reason": "Witness abroad."}, "Witness abroad."),
        ("notes", {"note": "x" * 2001}, "x" * 2001),
        ("transitions", {"to": "investigation", "note": "my move note"}, "my move note"),
        ("reopening", {"reason": "new evidence arrived"}, "new evidence arrived"),
        ("recusal", {"note": "My cousin is the manager."}, "My cousin is the manager."),  # the tick is missing
    ]
    for action, fields, kept in cases:
        refused = post_form(client, f"/officer/cases/{case_id}/{action}", fields)
        assert refused.status_code in (400, 409), (action, refused.status_code)
        assert kept in refused.text, action
        assert "Nothing was changed" in refused.text, action
    assert status(client, case_id) == "preliminary_assessment"


def test_a_reply_refused_keeps_its_text(client):
    case_id = eco_case(client)
    html_login(client, "eco-1")
    refused = post_form(client, f"/officer/cases/{case_id}/messages", {"body": "Dear complainant,\x07 we"})
    assert refused.status_code == 400 and "Dear complainant,\ufffd we" in refused.text and "\x07" not in refused.text
    assert "The reply: contains characters that are not text" in refused.text


def test_after_prima_facie_found_no_transfer_as_not_retaliation(client):
    case_id = eco_case(client, "acknowledged", "preliminary_assessment")
    eco = api_login(client, "eco-1")
    found = {"prima_facie": True, "reasons": "timing"}
    assert client.post(f"/api/v1/officer/cases/{case_id}/determination", json=found, headers=eco).status_code == 200
    html_login(client, "eco-1")
    page = client.get(f"/officer/cases/{case_id}").text
    assert "Not retaliation: transfer to OIG" not in page and 'value="referred_to_oig"' in page
    refused = post_form(client, f"/officer/cases/{case_id}/referral", {"state": "transferred_to_oig", "memo": "m", "reason": "r"})
    assert refused.status_code == 409 and "refer the case for investigation instead" in refused.text
    assert status(client, case_id) == "preliminary_assessment"


def test_not_found_at_the_assessment_offers_the_closing_decision(client):
    case_id = eco_case(client, "acknowledged", "preliminary_assessment")
    eco = api_login(client, "eco-1")
    client.post(f"/api/v1/officer/cases/{case_id}/determination", json={"prima_facie": False, "reasons": "none"}, headers=eco)
    html_login(client, "eco-1")
    page = client.get(f"/officer/cases/{case_id}").text
    assert f'href="/officer/cases/{case_id}/decide?to=closed_no_prima_facie"' in page
    assert client.get(f"/officer/cases/{case_id}/decide?to=closed_no_prima_facie").status_code == 200


def test_a_decision_no_longer_possible_shows_the_case_with_the_words_kept(client):
    case_id = eco_case(client, "acknowledged", "preliminary_assessment")
    html_login(client, "eco-1")
    refused = post_form(
        client,
        f"/officer/cases/{case_id}/transitions",
        {"to": "closed_no_prima_facie", "reason": "my reasons", "message": "my message to them"},
    )
    assert refused.status_code == 409
    assert "my reasons" in refused.text and "my message to them" in refused.text
    assert "Record the prima facie determination as not found first." in refused.text


def test_the_history_gathers_openings_and_shows_decisions_only_on_request(client):
    case_id = eco_case(client, "acknowledged")
    html_login(client, "eco-1")
    for _ in range(5):
        client.get(f"/officer/cases/{case_id}")
    page = client.get(f"/officer/cases/{case_id}").text
    history = re.search(r'<ol class="history".*?</ol>', page, re.S).group(0)
    assert history.count("opened the case") == 1 and "(6 times that day)" in history
    assert "moved the case to: Acknowledged" in history
    decisions = client.get(f"/officer/cases/{case_id}?history=decisions").text
    only = re.search(r'<ol class="history".*?</ol>', decisions, re.S).group(0)
    assert "opened the case" not in only and "moved the case to: Acknowledged" in only


def test_the_last_officer_who_can_open_a_case_is_not_offered_to_step_away_from_it(client):
    case_id = eco_case(client)
    html_login(client, "eco-1")  # the only officer of ECO
    page = client.get(f"/officer/cases/{case_id}").text
    assert "recusal" not in forms_on(page)
    assert "You are the last officer of your office who can open this case" in page


def test_the_extension_form_allows_only_the_days_left_of_the_one_extension(client):
    case_id = eco_case(client, "acknowledged", "preliminary_assessment")
    eco = api_login(client, "eco-1")
    extend = {"deadline": "preliminary_assessment", "days": 20, "reason": "A witness is on mission."}
    assert client.post(f"/api/v1/officer/cases/{case_id}/extension", json=extend, headers=eco).status_code == 200
    html_login(client, "eco-1")
    page = client.get(f"/officer/cases/{case_id}").text
    form = re.search(r'action="/officer/cases/[^"]+/extension".*?</form>', page, re.S).group(0)
    assert 'max="10"' in form and "at most 10" in form
    assert client.post(f"/api/v1/officer/cases/{case_id}/extension", json={**extend, "days": 10}, headers=eco).status_code == 200
    assert "/extension" not in client.get(f"/officer/cases/{case_id}").text  # nothing left to extend


def test_a_unicode_digit_in_a_number_field_is_refused_never_a_500(client):
    case_id = eco_case(client, "acknowledged", "preliminary_assessment")
    html_login(client, "eco-1")
    for days in ("²", "١٠", "5\x00"):
        refused = post_form(
            client, f"/officer/cases/{case_id}/extension", {"deadline": "preliminary_assessment", "days": days, "reason": "r"}
        )
        assert refused.status_code == 409, (days, refused.status_code)
    for page in ("²", "١", "0x1"):
        assert client.get(f"/officer?page={page}").status_code == 200
        assert client.get(f"/api/v1/officer/cases?page={page}", headers=api_login(client, "eco-1")).status_code == 200
