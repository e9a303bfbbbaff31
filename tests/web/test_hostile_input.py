"""Hostile input on every form and API route: each gets a clear 4xx, and the database and
blob store are exactly as before (every row of every table, every blob's bytes)."""

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from intake.app import create_app

from ..conftest import database_url, make_instance
from ..helpers import api_login, caseroom_login, csrf, file_via_api, html_login, post_form
from ..schema import drop_schema


def snapshot(ctx) -> dict:
    """Every row of every table, and every file under the blob directory with its SHA-256.

    Only web_session.idle_until is left out: it is the one value a read may move (at most
    every 10 minutes, when a session's coarse idle deadline rolls over).
    """
    rows = {}
    with ctx.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.c if (table.name, c.name) != ("web_session", "idle_until")]
            rows[table.name] = sorted(repr(tuple(r)) for r in connection.execute(select(*columns)))
    directory = getattr(ctx.blobs, "root", None)  # the database store's chunks are rows (blob_chunk), above
    blobs = {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (Path(directory).rglob("*") if directory else ())
        if p.is_file()
    }
    return {"rows": rows, "blobs": blobs}


class World:
    """One instance with a reporter and an officer logged in, in browsers of their own."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        app = create_app(ctx)
        self.anonymous = TestClient(app, base_url="http://127.0.0.1")
        self.reporter = TestClient(app, base_url="http://127.0.0.1")
        self.officer = TestClient(app, base_url="http://127.0.0.1")
        self.api = TestClient(app, base_url="http://127.0.0.1")
        filed = file_via_api(self.api, ["retaliation"], "the case under attack")
        self.case_id = filed["cases"][0]["id"]
        post_form(self.reporter, "/caseroom/login", {"passphrase": filed["passphrase"]})
        html_login(self.officer, "eco-1")
        self.reporter_bearer = caseroom_login(self.api, filed["passphrase"])
        self.officer_bearer = api_login(self.api, "eco-1")
        self.stale_token = csrf(TestClient(app, base_url="http://127.0.0.1"))  # valid, but of another browser's session


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    ctx = make_instance(tmp / "data", database_url(tmp))
    yield World(ctx)
    drop_schema(ctx.engine)
    ctx.engine.dispose()


URLENCODED = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}
CASE = "{case}"

# (who posts, path, a valid body's fields)
HTML_ROUTES = [
    ("anonymous", "/report", {"concern": "misconduct", "description": "valid"}),
    ("anonymous", "/caseroom/login", {"passphrase": "some words"}),
    ("reporter", f"/caseroom/cases/{CASE}/messages", {"body": "hello"}),
    ("reporter", f"/caseroom/cases/{CASE}/consent", {"answer": "yes"}),
    ("reporter", f"/caseroom/cases/{CASE}/identity", {"answer": "yes"}),
    ("reporter", "/caseroom/logout", {}),
    ("anonymous", "/officer/login", {"username": "eco-1", "password": "x", "code": "1"}),
    ("officer", f"/officer/cases/{CASE}/transitions", {"to": "acknowledged"}),
    ("officer", f"/officer/cases/{CASE}/consent-request", {}),
    ("officer", f"/officer/cases/{CASE}/referral", {"reason": "because"}),
    ("officer", f"/officer/cases/{CASE}/measures", {"kind": "suspension", "recommended_to": "DHR"}),
    ("officer", f"/officer/cases/{CASE}/measures/P-0000000000", {"status": "lifted"}),
    ("officer", f"/officer/cases/{CASE}/determination", {"prima_facie": "found", "reasons": "r"}),
    ("officer", f"/officer/cases/{CASE}/extension", {"deadline": "preliminary_assessment", "days": "5", "reason": "r"}),
    ("officer", f"/officer/cases/{CASE}/assignment", {"username": "eco-1"}),
    ("officer", f"/officer/cases/{CASE}/notes", {"note": "n"}),
    ("officer", f"/officer/cases/{CASE}/reopening", {"reason": "r"}),
    ("reporter", f"/caseroom/cases/{CASE}/withdrawal", {"reason": "r"}),
    ("officer", f"/officer/cases/{CASE}/abandonment-warning", {}),
    ("officer", f"/officer/cases/{CASE}/messages", {"body": "hello"}),
    ("officer", f"/officer/cases/{CASE}/identity", {}),
    ("officer", "/officer/account/notifications", {"address": "officer@example.org"}),
    ("officer", "/officer/logout", {}),
]


def urlencoded(fields: dict) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()


def html_attacks(world: World, fields: dict, client: TestClient) -> list[tuple[str, bytes, dict]]:
    token = csrf(client)
    good = {**fields, "csrf": token}
    return [
        ("missing CSRF token", urlencoded(fields), URLENCODED),
        ("stale CSRF token", urlencoded({**fields, "csrf": world.stale_token}), URLENCODED),
        ("wrong content type", urlencoded(good), {"content-type": "text/plain"}),
        ("JSON instead of a form", json.dumps(good).encode(), JSON),
        ("oversized body", b"a=" + b"x" * (1024 * 1024 + 10), URLENCODED),
        ("invalid UTF-8", urlencoded(good) + b"&body=%FF%FE&description=%C3%28", URLENCODED),
        ("raw bytes that are not text", urlencoded(good) + b"&x=\xff\xfe", URLENCODED),
        ("thousands of fields", urlencoded(good) + b"".join(b"&f%d=1" % i for i in range(5000)), URLENCODED),
        (
            "malformed multipart",
            b'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n' + token.encode(),
            {"content-type": "multipart/form-data; boundary=b"},
        ),
        ("multipart without a boundary", b"anything", {"content-type": "multipart/form-data"}),
    ]


def html_cases():
    for who, path, fields in HTML_ROUTES:
        for n in range(10):
            yield pytest.param(who, path, fields, n, id=f"{path}-{n}")


@pytest.mark.parametrize("who, path, fields, attack", list(html_cases()))
def test_every_form_refuses_hostile_input_and_keeps_nothing(world, who, path, fields, attack):
    client = getattr(world, who)
    name, body, headers = html_attacks(world, fields, client)[attack]
    before = snapshot(world.ctx)
    response = client.post(path.replace(CASE, world.case_id), content=body, headers=headers, follow_redirects=False)
    assert 400 <= response.status_code < 500, (name, response.status_code)
    assert response.text.strip(), name
    assert snapshot(world.ctx) == before, name


def test_nul_bytes_and_unknown_choices_in_a_valid_form(world):
    before = snapshot(world.ctx)
    for fields in [
        {"concern": "misconduct", "description": "nul \x00 byte"},
        {"concern": "bribery", "description": "x"},
        {"concern": "misconduct", "description": "x", "q.misconduct_kinds": "no_such_kind"},
        {"concern": "retaliation", "description": "x", "q.adverse_actions": "exile"},
        {"concern": "retaliation", "description": "x", "q.safety_risk": "maybe so"},
        {"concern": "retaliation", "description": "x", "q.identity": "me" * 1000},
        {"concern": "retaliation", "description": "x", "q.adverse_actions.termination_non_extension.when": "not ticked"},
        {"concern": "both", "description": "one account for two offices"},
        {"concern": "both", "retaliation.description": "x", "misconduct.description": "\x00"},
        {"concern": "advice", "description": "x", "q.advice_topic": "lottery"},
    ]:
        response = post_form(world.anonymous, "/report", fields)
        assert response.status_code == 400, fields
        assert "\x00" not in response.text
    assert snapshot(world.ctx) == before


API_ROUTES = [
    (None, "/api/v1/reports", {"concerns": ["misconduct"], "description": "valid"}),
    (None, "/api/v1/caseroom/session", {"passphrase": "some words"}),
    ("reporter", f"/api/v1/caseroom/cases/{CASE}/messages", {"body": "hello"}),
    ("reporter", f"/api/v1/caseroom/cases/{CASE}/consent", {"referral": True}),
    ("reporter", f"/api/v1/caseroom/cases/{CASE}/identity-consent", {"agree": True}),
    (None, "/api/v1/officer/session", {"username": "eco-1", "password": "x", "totp": "1"}),
    ("officer", f"/api/v1/officer/cases/{CASE}/messages", {"body": "hello"}),
    ("officer", f"/api/v1/officer/cases/{CASE}/transitions", {"to": "no_such_state"}),
    ("officer", f"/api/v1/officer/cases/{CASE}/referral", {"to": "OIG"}),
    ("officer", f"/api/v1/officer/cases/{CASE}/measures", {"kind": "OSS", "recommended_to": "OSS"}),
    ("officer", f"/api/v1/officer/cases/{CASE}/measures/P-0000000000", {"status": "lifted"}),
    ("officer", f"/api/v1/officer/cases/{CASE}/determination", {"prima_facie": True, "reasons": "r"}),
    ("officer", f"/api/v1/officer/cases/{CASE}/extension", {"deadline": "preliminary_assessment", "days": 5, "reason": "r"}),
    ("officer", f"/api/v1/officer/cases/{CASE}/assignment", {"username": "eco-1"}),
    ("officer", f"/api/v1/officer/cases/{CASE}/notes", {"note": "n"}),
    ("officer", f"/api/v1/officer/cases/{CASE}/reopening", {"reason": "r"}),
    ("reporter", f"/api/v1/caseroom/cases/{CASE}/withdrawal", {"reason": "r"}),
]

API_ATTACKS = [
    ("malformed JSON", lambda valid: b'{"concerns": [', JSON),
    ("invalid UTF-8", lambda valid: b'{"body": "\xff\xfe"}', JSON),
    ("deeply nested", lambda valid: b'{"a":' * 20000 + b"1" + b"}" * 20000, JSON),
    ("not an object", lambda valid: b"[1, 2, 3]", JSON),
    ("wrong content type", lambda valid: json.dumps(valid).encode(), {"content-type": "text/plain"}),
    ("form instead of JSON", lambda valid: b"body=x", URLENCODED),
    ("oversized", lambda valid: b'{"body": "' + b"x" * (1024 * 1024 + 10) + b'"}', JSON),
    (
        "NUL bytes in every text",
        lambda valid: json.dumps({k: (v + "\x00" if isinstance(v, str) else v) for k, v in valid.items()}).encode(),
        JSON,
    ),
    (
        "lone surrogates in every text",
        lambda valid: json.dumps({k: (v + "\ud800" if isinstance(v, str) else v) for k, v in valid.items()}).encode(),
        JSON,
    ),
    (
        "thousands of fields",
        lambda valid: json.dumps({**{f"k{i}": i for i in range(5000)}, "answers": {f"q{i}": i for i in range(5000)}}).encode(),
        JSON,
    ),
    ("wrong types", lambda valid: json.dumps({k: {"nested": [v]} for k, v in valid.items()}).encode(), JSON),
    (
        "malformed multipart",
        lambda valid: b'--b\r\nContent-Disposition: form-data; name="report"\r\n\r\n{}',
        {"content-type": "multipart/form-data; boundary=b"},
    ),
]


@pytest.mark.parametrize("who, path, valid", API_ROUTES, ids=[r[1] for r in API_ROUTES])
@pytest.mark.parametrize("name, make, headers", API_ATTACKS, ids=[a[0] for a in API_ATTACKS])
def test_every_api_route_refuses_hostile_input_and_keeps_nothing(world, who, path, valid, name, make, headers):
    auth = {"reporter": world.reporter_bearer, "officer": world.officer_bearer}.get(who, {})
    before = snapshot(world.ctx)
    response = world.api.post(path.replace(CASE, world.case_id), content=make(valid), headers={**headers, **auth})
    assert 400 <= response.status_code < 500, (name, response.status_code, response.text[:200])
    assert response.json()["error"], name
    assert snapshot(world.ctx) == before, name


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/officer/cases/%00",
        "/api/v1/officer/cases/" + "A" * 5000,
        "/api/v1/officer/cases/ECO-%00%00%00",
        "/api/v1/officer/cases/{case}/files/%00",
        "/api/v1/officer/cases/{case}/files/F-" + "9" * 3000,
        "/api/v1/caseroom/cases/%00/files/%00",
        "/officer/cases/%27%20OR%201%3D1--",
    ],
)
def test_hostile_ids_in_paths_are_404(world, path):
    headers = world.officer_bearer if "/officer/" in path else world.reporter_bearer
    client = world.api if path.startswith("/api") else world.officer
    before = snapshot(world.ctx)
    response = client.get(path.replace(CASE, world.case_id), headers=headers if path.startswith("/api") else {})
    assert response.status_code == 404
    assert snapshot(world.ctx) == before
