"""Every officer page (caseroom/officer/, through login.officer_page) turns a browser without an unlocked
officer session to the login page: no session at all, or one that ended. Nothing is shown and nothing changes."""

import pytest
from sqlmodel import Session, func, select
from starlette.routing import Route
from starlette.testclient import TestClient

from caseroom.officer import case
from intake.app import routes
from intake.store import AuditEntry, CaseAction, Message

from ..helpers import csrf, file_via_api, html_login, post_form


def pages_under(prefix: str, open_to_all: set[str]) -> list[tuple[str, str]]:
    """(method, path template) of every page of the app under `prefix`, but the ones anyone may open."""
    return sorted(
        (method, route.path)
        for route in routes()
        if isinstance(route, Route) and route.path.startswith(prefix) and route.path not in open_to_all
        for method in route.methods or ()
        if method != "HEAD"
    )


OFFICER_PAGES = pages_under("/officer", {"/officer/login", "/officer/logout"})


def test_the_officer_pages_are_all_found():
    # A route table read wrongly would make the tests below pass on nothing.
    assert len(OFFICER_PAGES) >= 20
    assert ("GET", "/officer") in OFFICER_PAGES and ("POST", "/officer/cases/{case_id}/notes") in OFFICER_PAGES


@pytest.mark.parametrize(("method", "template"), OFFICER_PAGES)
def test_without_a_session_an_officer_page_is_the_login_page(client, method, template):
    case_id = _case(client)
    before = _events(client)
    response = _visit(client, method, template, case_id)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/officer/login"
    assert _events(client) == before  # nothing done, nothing recorded


@pytest.mark.parametrize(("method", "template"), OFFICER_PAGES)
def test_after_logout_an_officer_page_is_the_login_page(client, method, template):
    case_id = _case(client)
    assert html_login(client, "eco-1").status_code in (200, 303)
    assert client.get("/officer", follow_redirects=False).status_code == 200
    # The same browser session, kept by another tab after this one logged out: its token no longer opens anything.
    stale = TestClient(client.app, base_url="http://127.0.0.1", cookies=dict(client.cookies))
    stale_csrf = csrf(stale)
    post_form(client, "/officer/logout", follow_redirects=False)
    before = _events(client)
    response = _visit(stale, method, template, case_id, stale_csrf)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/officer/login"
    assert _events(client) == before


def test_the_page_keeps_its_own_name():
    # Route names, tracebacks and the docs read the page's name and docstring, not the helper's.
    assert case.reply.__name__ == "reply" and case.reply.__doc__ == case.reply.__wrapped__.__doc__


def _visit(client: TestClient, method: str, template: str, case_id: str, token: str | None = None):
    url = template.format(case_id=case_id, file_id="F-000000000000", measure_id="P-0000000000")
    if method == "GET":
        return client.get(url, follow_redirects=False)
    fields = {"csrf": token or csrf(client), "note": "typed", "confirm": "yes", "body": "typed", "reason": "typed"}
    return client.post(url, data=fields, follow_redirects=False)


def _case(client: TestClient) -> str:
    filed = file_via_api(client, ["misconduct"], "The stores ledger does not match the deliveries.")
    return filed["cases"][0]["id"]


def _events(client: TestClient) -> list[int]:
    """How many entries the audit log, the case actions and the messages hold: a page that did something adds one."""
    with Session(client.app.app.state.ctx.engine) as db:
        return [db.exec(select(func.count()).select_from(table)).one() for table in (AuditEntry, CaseAction, Message)]
