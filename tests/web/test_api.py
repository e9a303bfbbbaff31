"""The JSON API over real HTTP semantics (ASGI in-process): flows, need to know, bad input."""

import json

import pytest

from intake.api import models as m

from ..files import multipart
from ..helpers import api_login, caseroom_login, file_via_api


def test_form_lists_the_policy_questions(client, ctx):
    form = client.get("/api/v1/form?lang=fr").json()
    assert [c["id"] for c in form["concerns"]] == ["retaliation", "misconduct", "both", "not_sure", "advice"]
    assert list(form["questions"]) == [q.id for q in ctx.policy.questions]
    assert form["questions"]["identity"]["type"] == "identity" and form["questions"]["identity"]["for"] == ["retaliation"]
    assert form["questions"]["advice_topic"]["for"] == ["advice"]
    safety = form["questions"]["safety_risk"]
    assert safety["label"] != ctx.policy.questions_for("retaliation")[0].label  # in French
    assert [c["id"] for c in safety["choices"]] == ["yes", "not_sure", "no"]


def test_the_form_answers_what_its_model_documents_and_nothing_empty(client):
    """The form's answer is its model (intake/api/models.py: Form) as the document says, with `for` by its
    name and no empty parts: a text question has no `choices`, a choice question no `max_length`."""
    form = client.get("/api/v1/form?lang=ar").json()
    assert m.Form.model_validate(form).lang == "ar"
    documented = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/form"]["get"]["responses"]["200"]
    assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Form"}
    for question in form["questions"].values():
        assert None not in question.values() and "for_" not in question and question["for"]
        assert ("choices" in question) != ("max_length" in question)
    kinds = [c for q in form["questions"].values() for c in q.get("choices", []) if "examples" in c]
    assert kinds and all(c["description"] and c["examples"] for c in kinds)


def test_a_report_of_both_sends_each_office_its_own_account(client):
    both = {
        "concerns": ["both"],
        "parts": {
            "retaliation": {
                "description": "RET: my post was abolished",
                "answers": {"protected_activity": "reported_misconduct"},
            },
            "misconduct": {"description": "MIS: fuel is sold", "answers": {"misconduct_kinds": ["fraud_corruption"]}},
        },
    }
    refused = client.post("/api/v1/reports", json={"concerns": ["both"], "description": "one account for two offices"})
    assert refused.status_code == 422 and "parts" in refused.json()["fields"]
    crossed = json.loads(json.dumps(both))
    crossed["parts"]["misconduct"]["answers"] = {"protected_activity": "reported_misconduct"}  # a retaliation question
    refused = client.post("/api/v1/reports", json=crossed)
    assert refused.status_code == 422 and "misconduct.answers" in refused.json()["fields"]
    filed = client.post("/api/v1/reports", json=both)
    assert filed.status_code == 201, filed.text
    eco_case, oig_case = (c["id"] for c in filed.json()["cases"])
    eco = client.get(f"/api/v1/officer/cases/{eco_case}", headers=api_login(client, "eco-1")).json()
    oig = client.get(f"/api/v1/officer/cases/{oig_case}", headers=api_login(client, "oig-1")).json()
    assert eco["description"] == "RET: my post was abolished" and "MIS" not in json.dumps(eco)
    assert oig["description"] == "MIS: fuel is sold" and "RET" not in json.dumps(oig)
    assert eco["linked"] == [{"id": oig_case, "office": "OIG", "status": "received"}]
    assert oig["linked"] == [{"id": eco_case, "office": "ECO", "status": "received"}]


def test_the_same_idempotency_key_files_nothing_twice(client, ctx):
    from sqlmodel import Session, func, select

    from intake.store import Case

    report = {"concerns": ["misconduct"], "description": "The fuel is sold."}
    key = {"Idempotency-Key": "b7c1d0a2-5e1f-4f3a-9a57-0f5d3e9c2b11"}
    assert client.post("/api/v1/reports", json=report, headers={"Idempotency-Key": "short"}).status_code == 400
    first = client.post("/api/v1/reports", json=report, headers=key)
    assert first.status_code == 201
    again = client.post("/api/v1/reports", json=report, headers=key)
    assert again.status_code == 409 and "already received" in again.json()["error"]
    assert "passphrase" not in again.json()
    other = client.post("/api/v1/reports", json=report, headers={"Idempotency-Key": "another-random-key-0001"})
    assert other.status_code == 201
    with Session(ctx.engine) as db:
        assert db.exec(select(func.count()).select_from(Case)).one() == 2


def test_advice_goes_to_eco_as_a_request_for_advice(client):
    filed = client.post(
        "/api/v1/reports",
        json={
            "concerns": ["advice"],
            "description": "May I accept a book from a supplier?",
            "answers": {"advice_topic": "gifts"},
        },
    )
    assert filed.status_code == 201, filed.text
    (case,) = filed.json()["cases"]
    assert case["office"] == "ECO"
    eco = api_login(client, "eco-1")
    detail = client.get(f"/api/v1/officer/cases/{case['id']}", headers=eco).json()
    assert detail["status"] == "received" and detail["answers"]["advice_topic"] == "gifts"
    assert "answered" in detail["allowed_transitions"]
    # A request for advice is not a complaint: no determination, no protection file, no referral.
    url = f"/api/v1/officer/cases/{case['id']}"
    assert client.post(f"{url}/determination", json={"prima_facie": True, "reasons": "r"}, headers=eco).status_code == 409
    measure = {"kind": "physical_separation", "recommended_to": "HR"}
    refused = client.post(f"{url}/measures", json=measure, headers=eco)
    assert refused.status_code == 409 and "request for advice" in refused.json()["error"], refused.text
    assert client.post(f"{url}/consent-request", json={}, headers=eco).status_code == 409
    assert client.post(f"/api/v1/officer/cases/{case['id']}/messages", json={"body": "Yes, below 100 USD."}, headers=eco)
    moved = client.post(f"/api/v1/officer/cases/{case['id']}/transitions", json={"to": "answered"}, headers=eco)
    assert moved.status_code == 200, moved.text
    reporter = caseroom_login(client, filed.json()["passphrase"])
    room = client.get("/api/v1/caseroom", headers=reporter).json()["cases"][0]
    assert room["status"] == "answered" and room["messages"][-1]["body"] == "Yes, below 100 USD."
    assert client.get("/api/v1/officer/cases", headers=api_login(client, "oig-1")).json()["cases"] == []


def test_identity_is_read_only_after_consent_and_consent_holds_once_read(client):
    filed = client.post(
        "/api/v1/reports",
        json={
            "concerns": ["retaliation"],
            "description": "My contract was not renewed after I spoke to the auditors.",
            "answers": {"identity": "Amal Haddad, +41 22 000 00 00 (evenings)", "identity_consent": "later"},
        },
    ).json()
    case_id = filed["cases"][0]["id"]
    eco, oig = api_login(client, "eco-1"), api_login(client, "oig-1")
    reporter = caseroom_login(client, filed["passphrase"])
    detail = client.get(f"/api/v1/officer/cases/{case_id}", headers=eco).json()
    assert detail["identity"] == {"left": True, "shared": False, "read": False}
    assert "Amal" not in json.dumps(detail)
    assert client.post(f"/api/v1/officer/cases/{case_id}/identity-reading", headers=eco).status_code == 409
    assert client.post(f"/api/v1/officer/cases/{case_id}/identity-reading", headers=oig).status_code == 404

    consent = f"/api/v1/caseroom/cases/{case_id}/identity-consent"
    mistyped = client.post(consent, json={"agree": "yes"}, headers=reporter)
    assert mistyped.status_code == 422 and "agree" in mistyped.json()["fields"]
    assert client.post(consent, json={"agree": True}, headers=reporter).json() == {"shared": True}
    assert client.post(consent, json={"agree": False}, headers=reporter).json() == {"shared": False}  # taken back
    assert client.post(f"/api/v1/officer/cases/{case_id}/identity-reading", headers=eco).status_code == 409
    assert client.post(consent, json={"agree": True}, headers=reporter).json() == {"shared": True}
    read = client.post(f"/api/v1/officer/cases/{case_id}/identity-reading", headers=eco)
    assert read.json() == {"identity": "Amal Haddad, +41 22 000 00 00 (evenings)"}
    assert client.post(consent, json={"agree": False}, headers=reporter).json() == {"shared": True}  # read: too late
    room = client.get("/api/v1/caseroom", headers=reporter).json()["cases"][0]
    assert room["identity"] == {"left": True, "shared": True, "read": True}
    history = client.get(f"/api/v1/officer/cases/{case_id}", headers=eco).json()["history"]
    assert [h["action"] for h in history].count("identity read") == 1


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
        ("/api/v1/reports", {"content-type": "text/plain"}, b'{"concerns": ["misconduct"], "description": "x"}', 403),
        (
            "/api/v1/reports",
            {"content-type": "text/plain", "x-intake-client": "tests"},
            b'{"concerns": ["misconduct"], "description": "x"}',
            415,
        ),
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
        ("/api/v1/caseroom/session", {"content-type": "application/json"}, b'{"passphrase": 12}', 422),
        ("/api/v1/officer/session", {"content-type": "application/json"}, b'{"username": ["a"], "password": {}}', 422),
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


def test_the_document_describes_the_multipart_bodies_the_api_takes(client):
    """Built from the document alone, a multipart report and message with files are accepted."""
    document = client.get("/api/v1/openapi.json").json()
    report = document["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert report["schema"]["required"] == ["report"] and report["encoding"]["report"]["contentType"] == "application/json"
    assert {"files", "clean_metadata"} <= set(report["schema"]["properties"])
    header = [p for p in document["paths"]["/api/v1/reports"]["post"]["parameters"] if p["in"] == "header"]
    assert "X-Intake-Client" in {p["name"] for p in header}
    body, headers = multipart(
        {"clean_metadata": "off", "report": json.dumps({"concerns": ["misconduct"], "description": "Invoices.", "answers": {}})},
        [("ledger.bin", b"\x00\x01 ledger")],
    )
    filed = client.post("/api/v1/reports", content=body, headers=headers)
    assert filed.status_code == 201, filed.text
    assert [f["name"] for f in filed.json()["files"]] == ["ledger.bin"]
    case_id = filed.json()["cases"][0]["id"]
    path = "/api/v1/caseroom/cases/{case_id}/messages"
    message = document["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert message["schema"]["required"] == ["message"]
    reporter = caseroom_login(client, filed.json()["passphrase"])
    body, headers = multipart({"message": json.dumps({"body": "One more."})}, [("more.bin", b"more")])
    sent = client.post(path.format(case_id=case_id), content=body, headers={**headers, **reporter})
    assert sent.status_code == 201, sent.text
    without_header = {k: v for k, v in headers.items() if k != "x-intake-client"}
    refused = client.post(path.format(case_id=case_id), content=body, headers={**without_header, **reporter})
    assert refused.status_code == 403  # as the document says


def test_a_message_with_the_same_idempotency_key_is_sent_once(client):
    filed = file_via_api(client, ["misconduct"], "The fuel is sold.")
    case_id = filed["cases"][0]["id"]
    reporter = caseroom_login(client, filed["passphrase"])
    key = {**reporter, "Idempotency-Key": "6f1c2b0e-message-retry-0001"}
    url = f"/api/v1/caseroom/cases/{case_id}/messages"
    assert client.post(url, json={"body": "Three trucks a week."}, headers=key).status_code == 201
    again = client.post(url, json={"body": "Three trucks a week."}, headers=key)
    assert again.status_code == 409 and "already sent" in again.json()["error"]
    room = client.get("/api/v1/caseroom", headers=reporter).json()["cases"][0]
    assert [m["body"] for m in room["messages"]] == ["Three trucks a week."]


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "multipart/form-data; boundary=b"},
    ],
)
def test_another_sites_page_cannot_file_or_log_in_through_the_api(client, ctx, headers):
    """A page elsewhere can make its visitors' browsers post forms here; the API refuses them all."""
    from sqlmodel import Session, func, select

    from intake.store import Case

    body = (
        b'--b\r\nContent-Disposition: form-data; name="report"\r\n\r\n'
        b'{"concerns": ["misconduct"], "description": "x"}\r\n--b--\r\n'
    )
    for path in ("/api/v1/reports", "/api/v1/caseroom/session", "/api/v1/officer/session"):
        response = client.post(path, content=body, headers={"content-type": "application/json", **headers})
        assert response.status_code == 403 and "other web pages" in response.json()["error"], (path, response.text)
    with Session(ctx.engine) as db:
        assert db.exec(select(func.count()).select_from(Case)).one() == 0
    same_origin = {"origin": "http://127.0.0.1", "sec-fetch-site": "same-origin"}
    allowed = client.post("/api/v1/reports", json={"concerns": ["misconduct"], "description": "x"}, headers=same_origin)
    assert allowed.status_code == 201


def test_the_early_checks_of_a_json_body_run_off_the_event_loop(client, ctx, monkeypatch):
    """They read the database (a budget, a sending): on the event loop, a wait for SQLite's lock or a
    PostgreSQL round trip would stall every other request of the process."""
    import asyncio

    from intake.service import reporting

    on_the_loop = []
    original = reporting.check_report

    def recording(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            on_the_loop.append(True)
        except RuntimeError:
            on_the_loop.append(False)
        return original(*args, **kwargs)

    monkeypatch.setattr(reporting, "check_report", recording)
    filed = client.post("/api/v1/reports", json={"concerns": ["misconduct"], "description": "checked off the loop"})
    assert filed.status_code == 201 and on_the_loop == [False]


def test_a_message_without_files_is_checked_by_the_write_itself(client):
    """No early check runs for a JSON message: the write refuses a stranger, an empty text and a repeat alike."""
    mine, other = (file_via_api(client, ["misconduct"], text) for text in ("mine", "someone else's"))
    headers = caseroom_login(client, mine["passphrase"])
    other_case = other["cases"][0]["id"]
    own_case = mine["cases"][0]["id"]
    assert client.post(f"/api/v1/caseroom/cases/{other_case}/messages", json={"body": "hi"}, headers=headers).status_code == 404
    assert client.post(f"/api/v1/caseroom/cases/{own_case}/messages", json={"body": "  "}, headers=headers).status_code == 422
    once = {**headers, "Idempotency-Key": "a-key-of-sixteen-or-more"}
    assert client.post(f"/api/v1/caseroom/cases/{own_case}/messages", json={"body": "hello"}, headers=once).status_code == 201
    again = client.post(f"/api/v1/caseroom/cases/{own_case}/messages", json={"body": "hello"}, headers=once)
    assert again.status_code == 409, again.text
    room = client.get("/api/v1/caseroom", headers=headers).json()
    assert [m["body"] for m in room["cases"][0]["messages"]] == ["hello"]


def test_the_legacy_actions_endpoint_is_gone(client):
    """The protection file's /measures replaced /actions (version 0.x): the old address records nothing."""
    filed = file_via_api(client, ["misconduct"], "The fuel is sold.")
    case_id = filed["cases"][0]["id"]
    officer = api_login(client, "oig-1")
    gone = client.post(
        f"/api/v1/officer/cases/{case_id}/actions", json={"kind": "protective_measure", "item": "OSS"}, headers=officer
    )
    assert gone.status_code in (404, 405)
    assert client.get(f"/api/v1/officer/cases/{case_id}", headers=officer).json()["measures"] == []
    assert "/api/v1/officer/cases/{case_id}/actions" not in client.get("/api/v1/openapi.json").json()["paths"]
