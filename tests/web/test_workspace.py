"""The officers' workspace through the real app (no browser): nothing preselected, decisions only
through their confirmation step, the inbox's filters and columns, error pages that keep the
workspace, language links that work from any page."""

import re

from ..helpers import api_login, caseroom_login, file_via_api, html_login, post_form


def misconduct_case(client) -> tuple[str, dict]:
    filed = file_via_api(client, ["misconduct"], "fuel is sold")
    oig = api_login(client, "oig-1")
    case_id = filed["cases"][0]["id"]
    for state in ("acknowledged", "intake_assessment"):
        client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": state}, headers=oig)
    return case_id, filed


def test_no_state_is_preselected_and_decisions_sit_apart(client):
    case_id, _ = misconduct_case(client)
    html_login(client, "oig-1")
    page = client.get(f"/officer/cases/{case_id}").text
    assert " checked" not in re.search(r"<legend>Move the case on</legend>.*?</fieldset>", page, re.S).group(0)
    assert "<select" not in re.search(r'action="/officer/cases/[^"]+/transitions".*?</form>', page, re.S).group(0)
    routine = re.search(r"<legend>Move the case on</legend>(.*?)</fieldset>", page, re.S).group(1)
    assert "Investigation" in routine and "Closed at intake" not in routine
    decisions = re.search(r'<section class="panel decisions".*?</section>', page, re.S).group(0)
    assert f'href="/officer/cases/{case_id}/decide?to=closed_at_intake"' in decisions


def test_a_decision_posted_without_its_reason_changes_nothing_and_keeps_the_words(client):
    case_id, filed = misconduct_case(client)
    html_login(client, "oig-1")
    confirm = client.get(f"/officer/cases/{case_id}/decide?to=closed_at_intake")
    assert confirm.status_code == 200 and "assessed your report and closed it" in confirm.text
    # One click on a forged form: no reason, no message.
    refused = post_form(client, f"/officer/cases/{case_id}/transitions", {"to": "closed_at_intake"})
    assert refused.status_code == 400 and "Nothing has changed yet" in refused.text
    kept = post_form(client, f"/officer/cases/{case_id}/transitions", {"to": "closed_at_intake", "message": "my words"})
    assert kept.status_code == 400 and "my words" in kept.text
    oig = api_login(client, "oig-1")
    assert client.get(f"/api/v1/officer/cases/{case_id}", headers=oig).json()["status"] == "intake_assessment"
    done = post_form(
        client,
        f"/officer/cases/{case_id}/transitions",
        {"to": "closed_at_intake", "reason": "out of scope", "message": "We closed it: a contract dispute."},
        follow_redirects=True,
    )
    assert "Done. The complainant reads your message" in done.text
    room = client.get("/api/v1/caseroom", headers=caseroom_login(client, filed["passphrase"])).json()["cases"][0]
    assert room["messages"][-1]["body"] == "We closed it: a contract dispute." and room["closed"]
    # A decision that is not possible now is not offered, and its confirmation step refuses.
    assert client.get(f"/officer/cases/{case_id}/decide?to=closed_at_intake").status_code == 409


def test_the_confirmation_step_speaks_the_complainants_language(client):
    filed = client.post("/api/v1/reports?lang=fr", json={"concerns": ["misconduct"], "description": "x"}).json()
    case_id = filed["cases"][0]["id"]
    oig = api_login(client, "oig-1")
    for state in ("acknowledged", "intake_assessment"):
        client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": state}, headers=oig)
    html_login(client, "oig-1")
    page = client.get(f"/officer/cases/{case_id}/decide?to=closed_at_intake&lang=en").text
    prefilled = re.search(r'<textarea name="message"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "Bureau" in prefilled and "Français" in page


def test_inbox_columns_filters_and_paging(client):
    for n in range(3):
        file_via_api(client, ["misconduct"], f"report {n}", {"region": "wca"})
    html_login(client, "oig-1")
    page = client.get("/officer").text
    assert page.count('<td class="case-id">') == 3
    assert "West and Central Africa (WCA)" in page and "Misconduct" in page and "Nobody" in page
    assert "First response to the reporter" in page  # which deadline is next
    assert client.get("/officer?filter=closed").text.count('<td class="case-id">') == 0
    assert client.get("/officer?filter=nonsense&sort=nonsense&page=-3").status_code == 200
    assert client.get("/officer?q=" + "%25" * 30).status_code == 200


def test_an_officer_error_page_keeps_the_workspace_and_its_language_links_work(client):
    html_login(client, "eco-1")
    missing = client.get("/officer/cases/ECO-0000000000")
    assert missing.status_code == 404 and "Log out" in missing.text and "Back to the inbox" in missing.text
    # An error answering a form (a POST) links languages to a page that exists for a GET.
    refused = post_form(client, "/officer/cases/ECO-0000000000/notes", {"note": "x"})
    assert refused.status_code == 404
    links = re.findall(r'<a href="([^"]+)" hreflang="(\w+)"', refused.text)
    assert links and all(href == f"/officer?lang={code}" for href, code in links)
    for href, _ in links:
        assert client.get(href).status_code == 200
    # On a GET page the links keep the page and its query.
    inbox = client.get("/officer?filter=mine&lang=en").text
    assert 'href="/officer?filter=mine&amp;lang=fr"' in inbox
