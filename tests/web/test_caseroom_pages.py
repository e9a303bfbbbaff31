"""Every page of the reporter's case room (caseroom/reporter.py, through reporter_page) answers a browser
whose case room is not open with the passphrase page: no session at all, or one that was left. Nothing
is shown of any case and nothing changes."""

import pytest
from sqlmodel import Session, func, select
from starlette.testclient import TestClient

from caseroom import reporter
from intake.store import AuditEntry

from ..files import snapshot
from ..helpers import csrf, file_via_api, post_form
from .test_officer_pages import pages_under

ROOM_PAGES = pages_under("/caseroom", {"/caseroom/login", "/caseroom/logout"})
WRITE = ("POST", "/caseroom/cases/{case_id}/messages")  # the login page itself, keeping what was typed (test_caseroom.py)


def test_the_case_room_pages_are_all_found():
    assert len(ROOM_PAGES) >= 7 and WRITE in ROOM_PAGES and ("GET", "/caseroom") in ROOM_PAGES


@pytest.mark.parametrize(("method", "template"), ROOM_PAGES)
def test_without_a_session_a_case_room_page_is_the_login_page(client, ctx, method, template):
    filed = file_via_api(client, ["misconduct"], "The fuel is sold at night.")
    before = _state(ctx)
    response = _visit(client, method, template, filed["cases"][0]["id"])
    _assert_login_page(response, method, template)
    assert _state(ctx) == before


@pytest.mark.parametrize(("method", "template"), ROOM_PAGES)
def test_after_leaving_a_case_room_page_is_the_login_page(client, ctx, method, template):
    filed = file_via_api(client, ["misconduct"], "The fuel is sold at night.")
    assert post_form(client, "/caseroom/login", {"passphrase": filed["passphrase"]}).status_code == 200
    # The same session, kept by another tab after this one left: its token no longer opens the room.
    stale = TestClient(client.app, base_url="http://127.0.0.1", cookies=dict(client.cookies))
    stale_csrf = csrf(stale)
    post_form(client, "/caseroom/logout", follow_redirects=False)
    before = _state(ctx)
    response = _visit(stale, method, template, filed["cases"][0]["id"], stale_csrf)
    _assert_login_page(response, method, template)
    assert "fuel" not in response.text
    assert _state(ctx) == before


def test_the_page_keeps_its_own_name():
    assert reporter.withdraw_page.__name__ == "withdraw_page"
    assert reporter.withdraw_page.__doc__ == reporter.withdraw_page.__wrapped__.__doc__


def _visit(client: TestClient, method: str, template: str, case_id: str, token: str | None = None):
    url = template.format(case_id=case_id, file_id="F-000000000000")
    if method == "GET":
        return client.get(url, follow_redirects=False)
    fields = {"csrf": token or csrf(client), "answer": "yes", "reason": "typed", "body": "typed words"}
    return client.post(url, data=fields, follow_redirects=False)


def _assert_login_page(response, method: str, template: str) -> None:
    if (method, template) == WRITE:
        assert response.status_code == 401 and 'name="passphrase"' in response.text
    else:
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/caseroom/login"


def _state(ctx) -> tuple[dict, int]:
    with Session(ctx.engine) as db:
        return snapshot(ctx), db.exec(select(func.count()).select_from(AuditEntry)).one()
