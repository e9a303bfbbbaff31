"""Small helpers the tests share: log in (password and a fresh TOTP code), file a report,
open a case room."""

import re
import threading
from collections.abc import Callable

import pyotp
from sqlmodel import Session, select
from starlette.testclient import TestClient

from intake.service import officers
from intake.service.casefiles import Reader, open_for_office
from intake.service.context import Context
from intake.service.errors import AuthenticationFailed
from intake.store import Officer, transaction

from .conftest import PASSWORDS
from .enrolments import enrolments

TOTP_STEP = 30
_tokens: dict[tuple[int, str], str] = {}


def totp_code(ctx: Context, username: str, secret: str | None = None) -> str:
    """The code an officer's authenticator shows now, or for the next step if this one was used."""
    secret = secret or enrolments(ctx)[username].totp_secret
    with Session(ctx.engine) as db:
        last = db.exec(select(Officer.last_totp_step).where(Officer.username == username)).first()
    step = int(ctx.now().timestamp()) // TOTP_STEP
    if last is not None and step <= last:
        step = last + 1  # still accepted: the server allows one step of clock drift either way
    return pyotp.TOTP(secret).at(step * TOTP_STEP)


def officer_token(ctx: Context, username: str) -> str:
    """A live session of this officer: reused while it lives, as an officer's browser would."""
    key = (id(ctx), username)
    token = _tokens.get(key)
    if token:
        try:
            officers.current(ctx, token)
            return token
        except AuthenticationFailed:
            pass
    token = officers.log_in(ctx, username, PASSWORDS[username], totp_code(ctx, username))
    _tokens[key] = token
    return token


def app_context(client: TestClient) -> Context:
    return client.app.app.state.ctx


def api_login(client: TestClient, username: str) -> dict[str, str]:
    key = (id(client), username)
    headers = {"Authorization": f"Bearer {_tokens[key]}"} if key in _tokens else None
    if headers and client.get("/api/v1/officer/cases", headers=headers).status_code == 200:
        return headers
    ctx = app_context(client)
    response = client.post(
        "/api/v1/officer/session", json={"username": username, "password": PASSWORDS[username], "totp": totp_code(ctx, username)}
    )
    assert response.status_code == 201, response.text
    _tokens[key] = response.json()["token"]
    return {"Authorization": f"Bearer {_tokens[key]}"}


def csrf(client: TestClient) -> str:
    """The CSRF token of this browser's session, read from a form as a browser would have it."""
    page = client.get("/caseroom/login").text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def post_form(client: TestClient, url: str, data: dict | None = None, **kwargs):
    """POST an HTML form with this session's CSRF token, as the page's own form would."""
    return client.post(url, data={**(data or {}), "csrf": csrf(client)}, **kwargs)


def html_login(client: TestClient, username: str):
    """Log in through the officer login page."""
    return post_form(
        client,
        "/officer/login",
        {"username": username, "password": PASSWORDS[username], "code": totp_code(app_context(client), username)},
    )


def file_via_api(client: TestClient, concerns: list[str], description: str, answers: dict | None = None) -> dict:
    response = client.post("/api/v1/reports", json={"concerns": concerns, "description": description, "answers": answers or {}})
    assert response.status_code == 201, response.text
    return response.json()


def caseroom_login(client: TestClient, passphrase: str) -> dict[str, str]:
    response = client.post("/api/v1/caseroom/session", json={"passphrase": passphrase})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def while_case_is_held(
    ctx: Context, holder: Reader, case_id: str, action: Callable[[], None], seconds: float
) -> tuple[bool, bool]:
    """Run `action` in a thread while `holder`'s transaction holds the case (open_for_office, for update):
    whether it had finished after `seconds` with the case still held, and whether it finished once let go."""
    done = threading.Event()

    def run() -> None:
        action()
        done.set()

    with transaction(ctx.engine) as db:
        open_for_office(db, holder, case_id, for_update=True)
        thread = threading.Thread(target=run)
        thread.start()
        while_held = done.wait(seconds)
    thread.join(10)
    return while_held, done.is_set()
