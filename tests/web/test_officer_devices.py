"""#24 item 10 over HTTP: a browser the officer logged in from keeps a device cookie, and failures
from it count apart from everyone else's guesses; the API's clients get the same as a token."""

import datetime as dt

from starlette.testclient import TestClient

from ..conftest import PASSWORDS
from ..helpers import app_context, csrf, totp_code


def login_form(client: TestClient, password: str, code: str = "123456"):
    fields = {"username": "eco-1", "password": password, "code": code, "csrf": csrf(client)}
    return client.post("/officer/login", data=fields, follow_redirects=False)


def test_an_officers_browser_logs_in_while_a_stranger_guesses(client):
    """The officer's browser got a device cookie at its last login; a stranger's guesses lock only the
    strangers (the 429 they get), never that browser, with the right password and a current code."""
    ctx = app_context(client)
    first = login_form(client, PASSWORDS["eco-1"], totp_code(ctx, "eco-1"))
    assert first.status_code == 303 and "intake-device" in first.headers["set-cookie"]
    assert "max-age=" in first.headers["set-cookie"].lower() and "httponly" in first.headers["set-cookie"].lower()
    logged_out = client.post("/officer/logout", data={"csrf": csrf(client)}, follow_redirects=False)
    assert "cookies" not in logged_out.headers["clear-site-data"]  # the device cookie stays
    stranger = TestClient(client.app, base_url=str(client.base_url))
    answers = [login_form(stranger, "a wrong password guess").status_code for _ in range(6)]
    assert answers == [401, 401, 401, 429, 429, 429]
    ctx.now = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31)  # a fresh code
    assert login_form(client, PASSWORDS["eco-1"], totp_code(ctx, "eco-1")).status_code == 303
    assert client.get("/officer", follow_redirects=False).status_code == 200
    assert login_form(stranger, PASSWORDS["eco-1"], totp_code(ctx, "eco-1")).status_code == 429


def test_an_api_client_keeps_its_device_token(client):
    ctx = app_context(client)
    body = {"username": "eco-1", "password": PASSWORDS["eco-1"], "totp": totp_code(ctx, "eco-1")}
    first = client.post("/api/v1/officer/session", json=body)
    assert first.status_code == 201 and set(first.json()) == {"token", "device"}
    device = first.json()["device"]
    for _ in range(4):
        client.post("/api/v1/officer/session", json={**body, "password": "a wrong password guess"})
    assert client.post("/api/v1/officer/session", json={**body, "password": "a wrong password guess"}).status_code == 429
    ctx.now = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31)
    again = client.post("/api/v1/officer/session", json={**body, "totp": totp_code(ctx, "eco-1"), "device": device})
    assert again.status_code == 201
