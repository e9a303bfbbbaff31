"""The case-work API that outside tools use: the inbox's pages and columns, assignment, the
determination, extensions, the protection file, the history, and the complainant's withdrawal."""

from ..helpers import api_login, caseroom_login, file_via_api


def case_of(client, concern="retaliation"):
    filed = file_via_api(client, [concern], "the account", {"region": "mena"})
    return filed["cases"][0]["id"], filed


def test_inbox_pages_filters_and_next_deadline(client):
    for _ in range(3):
        case_of(client, "misconduct")
    oig = api_login(client, "oig-1")
    inbox = client.get("/api/v1/officer/cases?filter=open&page=1", headers=oig).json()
    assert (inbox["page"], inbox["pages"], len(inbox["cases"])) == (1, 1, 3)
    row = inbox["cases"][0]
    assert row["next_deadline"] == {"name": "first_response", "due_on": row["next_due"]}
    assert row["assignee"] is None and row["region"] == "mena" and row["concerns"] == ["misconduct"]
    assert client.get("/api/v1/officer/cases?filter=closed", headers=oig).json()["cases"] == []
    assert client.get(f"/api/v1/officer/cases?filter=all&q={row['id'][-5:]}", headers=oig).json()["cases"][0]["id"] == row["id"]
    assert client.get("/api/v1/officer/cases?page=abc", headers=oig).status_code == 200


def test_assignment_determination_extension_measures_and_history(client):
    case_id, filed = case_of(client)
    eco, oig = api_login(client, "eco-1"), api_login(client, "oig-1")
    base = f"/api/v1/officer/cases/{case_id}"
    assert client.post(f"{base}/assignment", json={"username": "eco-1"}, headers=eco).json() == {"assignee": "eco-1"}
    assert client.post(f"{base}/assignment", json={"username": "oig-1"}, headers=eco).status_code == 409
    forgot = client.post(f"{base}/assignment", json={}, headers=eco)  # null unassigns; a forgotten field must not
    assert forgot.status_code == 422 and forgot.json()["fields"] == {"username": "is required"}
    assert client.post(f"{base}/assignment", json={"username": "eco-1"}, headers=oig).status_code == 404
    for state in ("acknowledged", "preliminary_assessment"):
        client.post(f"{base}/transitions", json={"to": state}, headers=eco)
    extended = client.post(
        f"{base}/extension", json={"deadline": "preliminary_assessment", "days": 7, "reason": "witness away"}, headers=eco
    )
    assert extended.status_code == 200
    (assessment,) = [d for d in extended.json()["deadlines"] if d["name"] == "preliminary_assessment"]
    assert assessment["extended_days"] == 7 and "30 calendar days" in assessment["source"]
    mistyped = client.post(f"{base}/determination", json={"prima_facie": "yes", "reasons": "r"}, headers=eco)
    assert mistyped.status_code == 422 and mistyped.json()["fields"] == {"prima_facie": "must be true or false"}
    determined = client.post(f"{base}/determination", json={"prima_facie": False, "reasons": "no link in time"}, headers=eco)
    assert determined.status_code == 200 and determined.json()["determination"] == "not_found"
    measure = client.post(
        f"{base}/measures",
        json={"kind": "OSS", "recommended_to": "Office of Staff Security", "note": "threats by phone"},
        headers=eco,
    )
    assert measure.status_code == 201
    measure_id = measure.json()["id"]
    moved = client.post(f"{base}/measures/{measure_id}", json={"status": "implemented", "review_on": "2099-01-01"}, headers=eco)
    assert moved.json() == {"id": measure_id, "status": "implemented"}
    unknown = client.post(f"{base}/measures/{measure_id}", json={"status": "gone"}, headers=eco)
    assert unknown.status_code == 422 and list(unknown.json()["fields"]) == ["status"]
    detail = client.get(base, headers=eco).json()
    assert detail["assignee"] == "eco-1" and detail["determination"] == "not_found"
    (listed,) = detail["measures"]
    assert (listed["item"], listed["status"], listed["review_on"], listed["notes"][0]["text"]) == (
        "OSS",
        "implemented",
        "2099-01-01",
        "threats by phone",
    )
    actions = [h["action"] for h in detail["history"]]
    assert {"assigned", "deadline extended", "prima facie determination", "measure recommended", "measure updated"} <= set(
        actions
    )
    assert all(h["officer"] == "eco-1" for h in detail["history"])
    # The complainant sees the measure and where it stands, not ECO's note.
    (room,) = client.get("/api/v1/caseroom", headers=caseroom_login(client, filed["passphrase"])).json()["cases"]
    assert [(m["item"], m["status"]) for m in room["measures"]] == [("OSS", "implemented")] and "notes" not in room["measures"][0]


def test_the_complainant_withdraws_through_the_api(client):
    case_id, filed = case_of(client)
    reporter = caseroom_login(client, filed["passphrase"])
    url = f"/api/v1/caseroom/cases/{case_id}/withdrawal"
    more = client.post(url, json={"reason": "x", "confirm": True}, headers=reporter)
    assert more.status_code == 422 and list(more.json()["fields"]) == ["confirm"]
    assert client.post(url, json={"reason": "I found another job."}, headers=reporter).json() == {"withdrawn": ["ECO"]}
    assert client.post(url, json={}, headers=reporter).status_code == 409
    eco = api_login(client, "eco-1")
    detail = client.get(f"/api/v1/officer/cases/{case_id}", headers=eco).json()
    assert detail["status"] == "withdrawn" and detail["messages"][-1]["body"] == "I found another job."
    other = file_via_api(client, ["misconduct"], "x")
    assert client.post(url, json={}, headers=caseroom_login(client, other["passphrase"])).status_code == 404
