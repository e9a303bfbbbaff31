"""The JSON API over real HTTP semantics (ASGI in-process): flows, need to know, bad input."""

import json

import pytest

from ..helpers import api_login, caseroom_login, file_via_api


def test_form_lists_the_policy_questions(client):
    form = client.get("/api/v1/form").json()
    assert [c["id"] for c in form["concerns"]] == ["retaliation", "misconduct", "both", "not_sure"]
    assert {"misconduct_kinds", "protected_activity", "adverse_actions", "happened", "region"} <= set(form["questions"])


def test_report_reply_and_read_back(client):
    filed = file_via_api(
        client, ["retaliation"], "I was moved after the audit.", {"protected_activity": "cooperated_audit_investigation"}
    )
    assert [c["office"] for c in filed["cases"]] == ["ECO"]
    case_id = filed["cases"][0]["id"]
    eco = api_login(client, "eco-1")
    assert [c["id"] for c in client.get("/api/v1/officer/cases", headers=eco).json()["cases"]] == [case_id]
    case = client.get(f"/api/v1/officer/cases/{case_id}", headers=eco).json()
    assert case["description"] == "I was moved after the audit."
    assert case["answers"]["protected_activity"] == "cooperated_audit_investigation"
    assert (
        client.post(f"/api/v1/officer/cases/{case_id}/messages", json={"body": "We received it."}, headers=eco).status_code == 201
    )
    assert (
        client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": "acknowledged"}, headers=eco).status_code == 200
    )

    reporter = caseroom_login(client, filed["passphrase"])
    room = client.get("/api/v1/caseroom", headers=reporter).json()
    assert room["cases"][0]["status"] == "acknowledged"
    assert [(m["author"], m["body"]) for m in room["cases"][0]["messages"]] == [("officer", "We received it.")]
    assert client.post(f"/api/v1/caseroom/cases/{case_id}/messages", json={"body": "Thanks"}, headers=reporter).status_code == 201
    assert client.delete("/api/v1/caseroom/session", headers=reporter).status_code == 204
    assert client.get("/api/v1/caseroom", headers=reporter).status_code == 401


def test_other_office_gets_404(client):
    filed = file_via_api(client, ["misconduct"], "OIG matter")
    eco = api_login(client, "eco-1")
    case_id = filed["cases"][0]["id"]
    assert client.get(f"/api/v1/officer/cases/{case_id}", headers=eco).status_code == 404
    assert client.post(f"/api/v1/officer/cases/{case_id}/messages", json={"body": "x"}, headers=eco).status_code == 404
    assert client.get("/api/v1/officer/cases/NOPE-123", headers=eco).status_code == 404


def test_reporter_token_never_reaches_another_case(client):
    a = file_via_api(client, ["misconduct"], "A")
    b = file_via_api(client, ["misconduct"], "B")
    token_a = caseroom_login(client, a["passphrase"])
    response = client.post(f"/api/v1/caseroom/cases/{b['cases'][0]['id']}/messages", json={"body": "x"}, headers=token_a)
    assert response.status_code == 404
    assert [c["id"] for c in client.get("/api/v1/caseroom", headers=token_a).json()["cases"]] == [a["cases"][0]["id"]]
    # An officer token is not a reporter token, and the reverse.
    eco = api_login(client, "eco-1")
    assert client.get("/api/v1/caseroom", headers=eco).status_code == 401
    assert client.get("/api/v1/officer/cases", headers=token_a).status_code == 401


def test_wrong_and_unknown_passphrases_answer_alike(client):
    filed = file_via_api(client, ["misconduct"], "x")
    words = filed["passphrase"].split()
    words[0] = "abacus" if words[0] != "abacus" else "zoom"
    one_off = client.post("/api/v1/caseroom/session", json={"passphrase": " ".join(words)})
    unknown = client.post("/api/v1/caseroom/session", json={"passphrase": "never issued passphrase at all here ok"})
    assert one_off.status_code == unknown.status_code == 401
    assert one_off.json() == unknown.json()


@pytest.mark.parametrize(
    "path, headers, body, status",
    [
        ("/api/v1/reports", {"content-type": "application/json"}, b"{not json", 400),
        ("/api/v1/reports", {"content-type": "application/json"}, b"\xff\xfe", 400),
        ("/api/v1/reports", {"content-type": "application/json"}, b"[1, 2]", 400),
        ("/api/v1/reports", {"content-type": "application/json"}, b"[" * 100_000 + b"]" * 100_000, 400),
        ("/api/v1/reports", {"content-type": "application/json"}, b'{"a":' * 5000 + b"1" + b"}" * 5000, 400),
        ("/api/v1/reports", {"content-type": "text/plain"}, b'{"concerns": ["misconduct"], "description": "x"}', 415),
        (
            "/api/v1/reports",
            {"content-type": "application/json"},
            json.dumps({"concerns": ["bribery"], "description": "x"}).encode(),
            422,
        ),
        (
            "/api/v1/reports",
            {"content-type": "application/json"},
            json.dumps({"concerns": ["misconduct"], "description": "a\u0000b"}).encode(),
            422,
        ),
        (
            "/api/v1/reports",
            {"content-type": "application/json"},
            json.dumps({"concerns": ["misconduct"], "description": "x" * 50_001}).encode(),
            422,
        ),
        ("/api/v1/reports", {"content-type": "application/json"}, b"x" * 1_100_000, 413),
        ("/api/v1/caseroom/session", {"content-type": "application/json"}, b'{"passphrase": 12}', 401),
        ("/api/v1/officer/session", {"content-type": "application/json"}, b'{"username": ["a"], "password": {}}', 401),
    ],
)
def test_bad_input_gets_a_clear_4xx_and_stores_nothing(client, ctx, path, headers, body, status):
    from sqlmodel import Session, select

    from intake.store import Case

    response = client.post(path, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]
    with Session(ctx.engine) as db:
        assert db.exec(select(Case)).all() == []


def test_openapi_document_matches_the_routes(client):
    from intake.api import routes

    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item if method != "parameters"}
    served = {
        ("/api/v1" + route.path, method)
        for route in routes
        for method in route.methods - {"HEAD"}
        if route.path != "/openapi.json"
    }
    assert documented == served
