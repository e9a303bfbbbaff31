"""The inbox page and the API's inbox (issue 23, item 9): the danger and protection-now signals in
words, the GET form's choices and the links that keep them, the other part of a report of both, a
transferred case read as what it is, a protection file nobody keeps; the API's new fields, and an
unknown value refused by name."""

import datetime as dt
import html
import re

from intake.service import officers

from ..conftest import PASSWORDS
from ..enrolments import enrolments
from ..helpers import api_login, app_context, file_via_api, html_login, totp_code


def rows(page: str) -> list[str]:
    return re.findall(r"<tr(?: class=\"unread\")?>\s*<td class=\"case-id\">.*?</tr>", page, re.S)


def row_of(page: str, case_id: str) -> str:
    (found,) = [r for r in rows(page) if f'<td class="case-id"><a href="/officer/cases/{case_id}"' in r]
    return found


def cell(row: str, label: str) -> str:
    return re.search(rf'<td data-label="{label}">(.*?)</td>', row, re.S).group(1)


def both_via_api(client, retaliation: dict | None = None, misconduct: dict | None = None) -> dict[str, str]:
    parts = {
        "retaliation": {"description": "what was done to me", "answers": retaliation or {}},
        "misconduct": {"description": "what I saw", "answers": misconduct or {}},
    }
    filed = client.post("/api/v1/reports", json={"concerns": ["both"], "parts": parts})
    assert filed.status_code == 201, filed.text
    return {c["office"]: c["id"] for c in filed.json()["cases"]}


def test_a_row_says_in_words_when_the_reporter_may_be_in_danger_and_the_form_filters_to_them(client):
    in_danger = file_via_api(client, ["retaliation"], "threats", {"safety_risk": "yes", "region": "mena"})["cases"][0]["id"]
    now = file_via_api(client, ["retaliation"], "demoted", {"protection_by": "now"})["cases"][0]["id"]
    calm = file_via_api(client, ["retaliation"], "a bad review", {"safety_risk": "no"})["cases"][0]["id"]
    html_login(client, "eco-1")
    page = client.get("/officer").text
    assert '<strong class="tag danger">May be in danger now</strong>' in row_of(page, in_danger)
    assert '<strong class="tag danger">Protection needed now</strong>' in row_of(page, now)
    assert "tag danger" not in row_of(page, calm)
    narrowed = client.get("/officer?safety=urgent").text
    assert {in_danger, now} == {c for c in (in_danger, now, calm) if f'/officer/cases/{c}"' in narrowed}
    assert '<option value="urgent" selected>' in narrowed and "2 cases" in narrowed
    # The filter links and the form keep the choice: a GET form, no script.
    assert 'href="/officer?filter=mine&amp;sort=urgency&amp;safety=urgent"' in narrowed
    assert re.search(r'<form method="get" action="/officer" class="inbox-search"', narrowed)
    combined = client.get("/officer?safety=danger&region=mena&state=received&concern=retaliation").text
    assert [c for c in (in_danger, now, calm) if f'/officer/cases/{c}"' in combined] == [in_danger]
    for name, value in (("concern", "retaliation"), ("region", "mena"), ("state", "received"), ("safety", "danger")):
        assert f'<option value="{value}" selected>' in combined, name


def test_the_state_choice_groups_the_advice_requests_at_eco_only(client):
    html_login(client, "eco-1")
    page = client.get("/officer").text
    assert '<optgroup label="Advice requests">' in page and '<option value="advice:received">' in page
    html_login(client, "oig-1")
    page = client.get("/officer").text
    assert "advice:" not in page and 'value="advice"' not in page and "<optgroup" not in page
    assert '<option value="intake_assessment">' in page and '<option value="preliminary_assessment">' not in page


def test_the_parts_of_a_report_of_both_name_each_other_on_the_page(client):
    parts = both_via_api(client)
    html_login(client, "oig-1")
    at_oig = row_of(client.get("/officer").text, parts["OIG"])
    concern = cell(at_oig, "Concern")
    assert concern.startswith("Misconduct and retaliation")
    assert "The reporter chose" not in concern  # this part's account is misconduct; the line below says why
    assert "The same report's other part" in concern and f'<bdi class="case-id">{parts["ECO"]}</bdi>' in concern
    assert "<br>ECO, Received</span>" in concern
    assert f'href="/officer/cases/{parts["ECO"]}"' not in at_oig  # not OIG's to open: no link to a 404


def test_a_restricted_other_part_is_not_named_to_the_other_office_nor_to_a_member(client):
    parts = both_via_api(client, retaliation={"office_concerned": "someone"})
    ctx = app_context(client)
    enrolments(ctx)["eco-2"] = officers.add_officer(
        ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"), "eco-2", "eco member password two"
    )
    html_login(client, "oig-1")
    page = client.get("/officer").text
    at_oig = row_of(page, parts["OIG"])
    assert parts["ECO"] not in page and "other part" not in at_oig and cell(at_oig, "Concern").startswith("Misconduct")
    assert parts["OIG"] not in client.get("/officer?concern=both").text
    api = client.get("/api/v1/officer/cases?concern=both", headers=api_login(client, "oig-1")).json()
    assert api["cases"] == []
    (only,) = client.get("/api/v1/officer/cases", headers=api_login(client, "oig-1")).json()["cases"]
    assert only["other_part"] is None and only["concerns"] == ["misconduct"]
    PASSWORDS["eco-2"] = "eco member password two"
    try:
        member = api_login(client, "eco-2")
        for query in ("", "?filter=all", "?concern=both", "?safety=urgent", "?filter=all&concern=retaliation"):
            assert client.get(f"/api/v1/officer/cases{query}", headers=member).json()["cases"] == [], query
    finally:
        del PASSWORDS["eco-2"]


def test_a_case_eco_transferred_as_not_retaliation_does_not_read_as_retaliation_at_oig(client):
    case_id = file_via_api(client, ["retaliation"], "my contract was not renewed", {"region": "hq"})["cases"][0]["id"]
    eco = api_login(client, "eco-1")
    client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": "acknowledged"}, headers=eco)
    moved = client.post(
        f"/api/v1/officer/cases/{case_id}/referral",
        json={"to": "OIG", "state": "transferred_to_oig", "reason": "not about retaliation", "memo": "fraud, see the account"},
        headers=eco,
    )
    assert moved.status_code == 200, moved.text
    html_login(client, "oig-1")
    concern = cell(row_of(client.get("/officer").text, case_id), "Concern")
    assert concern.startswith("Misconduct<br>")
    assert "Transferred by ECO: not retaliation" in concern and "The reporter chose: Retaliation" in concern
    (listed,) = client.get("/api/v1/officer/cases", headers=api_login(client, "oig-1")).json()["cases"]
    assert (listed["concerns"], listed["reported_concerns"], listed["transferred_by"]) == (["misconduct"], ["retaliation"], "ECO")


def test_a_protection_file_nobody_keeps_says_it_needs_an_officer(client):
    case_id = file_via_api(client, ["retaliation"], "threats")["cases"][0]["id"]
    eco = api_login(client, "eco-1")
    base = f"/api/v1/officer/cases/{case_id}"
    client.post(f"{base}/measures", json={"kind": "flexible_working", "recommended_to": "Head of Office"}, headers=eco)
    for state in ("acknowledged", "preliminary_assessment"):
        client.post(f"{base}/transitions", json={"to": state}, headers=eco)
    client.post(f"{base}/determination", json={"prima_facie": False, "reasons": "no link in time"}, headers=eco)
    closed = client.post(
        f"{base}/transitions", json={"to": "closed_no_prima_facie", "reason": "r", "message": "We closed it."}, headers=eco
    )
    assert closed.status_code == 200, closed.text
    html_login(client, "eco-1")
    row = row_of(client.get("/officer?filter=unassigned").text, case_id)
    assert cell(row, "Assigned to") == "<strong>Nobody: the protection file needs an officer</strong>"
    (listed,) = client.get("/api/v1/officer/cases?filter=unassigned", headers=eco).json()["cases"]
    assert listed["needs_officer"] and listed["closed"] and listed["open_measures"] == 1


def test_what_the_officer_typed_in_the_address_is_never_shown_unescaped(client):
    file_via_api(client, ["misconduct"], "fuel is sold", {"region": "wca"})
    html_login(client, "oig-1")
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    page = client.get("/officer", params={name: hostile for name in ("q", "concern", "region", "state", "safety", "sort")})
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;' in page.text  # the case id box keeps it, escaped
    assert hostile not in html.unescape(re.sub(r'value="[^"]*"', "", page.text))  # and nothing else echoes it


def test_the_api_refuses_a_value_its_inbox_does_not_take_by_name(client):
    oig = api_login(client, "oig-1")
    for name, value in (
        ("concern", "bribery"),
        ("region", "atlantis"),
        ("state", "preliminary_assessment"),  # ECO's, not OIG's
        ("safety", "yes"),
        ("filter", "nonsense"),
        ("sort", "random"),
        ("concern", "advice"),  # ECO's requests
    ):
        refused = client.get("/api/v1/officer/cases", params={name: value}, headers=oig)
        assert refused.status_code == 422, (name, value)
        assert set(refused.json()["fields"]) == {name} and "must be one of" in refused.json()["fields"][name]
    assert "intake_assessment" in client.get("/api/v1/officer/cases?state=x", headers=oig).json()["fields"]["state"]
    assert client.get("/api/v1/officer/cases?page=abc&concern=&region=", headers=oig).status_code == 200
    eco = api_login(client, "eco-1")
    assert client.get("/api/v1/officer/cases?state=advice:received&concern=advice", headers=eco).status_code == 200


def test_the_api_inbox_carries_the_signals_and_the_other_part(client):
    parts = both_via_api(client, retaliation={"safety_risk": "not_sure", "protection_by": "now", "region": "eha"})
    eco = api_login(client, "eco-1")
    answer = client.get("/api/v1/officer/cases?safety=urgent&region=eha&concern=both", headers=eco).json()
    (listed,) = answer["cases"]
    assert (answer["safety"], answer["region"], answer["concern"], answer["total"]) == ("urgent", "eha", "both", 1)
    assert listed["may_be_in_danger"] and listed["protection_now"]
    assert listed["concerns"] == ["both"] and listed["reported_concerns"] == ["retaliation"]
    assert listed["other_part"] == {"id": parts["OIG"], "office": "OIG", "status": "received", "stepped_away": False}
    assert client.get("/api/v1/officer/cases?safety=urgent", headers=api_login(client, "oig-1")).json()["cases"] == []


def test_the_openapi_document_lists_the_inbox_choices(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/officer/cases"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert set(parameters) == {"filter", "q", "sort", "concern", "region", "state", "safety", "page"}
    assert parameters["concern"]["enum"] == ["retaliation", "misconduct", "both", "not_sure", "advice"]
    assert "wca" in parameters["region"]["enum"] and "advice:received" in parameters["state"]["enum"]
    assert parameters["safety"]["enum"] == ["urgent", "danger", "protection_now"]
    assert "422" in operation["responses"]
    schemas = document["components"]["schemas"]
    row_name = schemas["Inbox"]["properties"]["cases"]["items"]["$ref"].rsplit("/", 1)[1]
    row = schemas[row_name]["properties"]
    assert {"may_be_in_danger", "protection_now", "other_part", "needs_officer", "transferred_by"} <= set(row)


def test_an_other_part_the_same_office_holds_is_a_link(client):
    """A retaliation part about ECO's head goes to OIG, restricted to OIG's head, beside the misconduct part."""
    parts = client.post(
        "/api/v1/reports",
        json={
            "concerns": ["both"],
            "parts": {
                "retaliation": {"description": "ECO's head ended my contract", "answers": {"office_concerned": "head"}},
                "misconduct": {"description": "what I saw", "answers": {}},
            },
        },
    ).json()["cases"]
    assert [c["office"] for c in parts] == ["OIG", "OIG"]
    first, second = (c["id"] for c in parts)
    html_login(client, "oig-1")
    page = client.get("/officer").text
    assert f'<a href="/officer/cases/{second}"><bdi class="case-id">{second}</bdi></a>' in cell(row_of(page, first), "Concern")
    assert f'<a href="/officer/cases/{first}"><bdi class="case-id">{first}</bdi></a>' in cell(row_of(page, second), "Concern")


def test_the_api_inbox_says_when_the_other_part_is_one_the_officer_stepped_away_from(client):
    """As the page does (tests/service/test_inbox.py has the rule): both parts at ECO, its first head steps away
    from one; the other's row names it with stepped_away, so a client does not offer a case that answers 404."""
    from intake.service import recusal

    from ..casework_steps import walk
    from ..clock import Clock
    from ..service.test_inbox import MEMBER_PASSWORD, member, officer

    ctx = app_context(client)
    ctx.now = clock = Clock(dt.datetime.now(dt.UTC))
    parts = both_via_api(client)
    walk(ctx, officer(ctx, "oig-1"), parts["OIG"], ["transferred_to_eco"])
    member(ctx)
    officers.set_role(ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"), "eco-2", True, ())
    for step in (lambda: officer(ctx, "eco-1"), lambda: api_login(client, "eco-1")):
        clock.now += dt.timedelta(seconds=31)  # each login takes the authenticator's next code
        head = step()
    recusal.declare(ctx, officer(ctx, "eco-1"), parts["ECO"], "I know the respondent.")
    seen = {c["id"]: c for c in client.get("/api/v1/officer/cases?filter=all", headers=head).json()["cases"]}
    assert parts["ECO"] not in seen
    assert seen[parts["OIG"]]["other_part"] == {"id": parts["ECO"], "office": "ECO", "status": "received", "stepped_away": True}
    assert client.get(f"/api/v1/officer/cases/{parts['ECO']}", headers=head).status_code == 404
    login = {"username": "eco-2", "password": MEMBER_PASSWORD, "totp": totp_code(ctx, "eco-2")}
    second = {"Authorization": f"Bearer {client.post('/api/v1/officer/session', json=login).json()['token']}"}
    other_head = {c["id"]: c for c in client.get("/api/v1/officer/cases", headers=second).json()["cases"]}
    assert other_head[parts["OIG"]]["other_part"]["stepped_away"] is False
