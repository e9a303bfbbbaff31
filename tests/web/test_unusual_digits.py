"""#24 item 12: a Unicode digit in a number, and NUL in an id or a name, answer 4xx, never 500,
on SQLite and on PostgreSQL, and change nothing."""

from types import SimpleNamespace

import pytest
from starlette.testclient import TestClient

from intake.app import create_app

from ..helpers import api_login, file_via_api, html_login, post_form
from .lasting import lasting as snapshot


@pytest.fixture
def world(ctx):
    app = create_app(ctx)
    officer, api = TestClient(app, base_url="http://127.0.0.1"), TestClient(app, base_url="http://127.0.0.1")
    html_login(officer, "eco-1")
    case_id = file_via_api(api, ["retaliation"], "a case")["cases"][0]["id"]
    officer.get(f"/officer/cases/{case_id}")  # its first opening makes the handling key: a view changes nothing more
    return SimpleNamespace(ctx=ctx, officer=officer, api=api, bearer=api_login(api, "eco-1"), case_id=case_id)


@pytest.mark.parametrize("page", ["²", "١", "𝟙", "\x00", "9" * 50])
def test_an_inbox_page_number_in_other_digits_is_no_500(world, page):
    """#24 item 12: `?page=²` on the inbox, the page and the API: isdigit() is true, int() fails."""
    assert world.officer.get("/officer", params={"page": page}).status_code < 500
    assert world.api.get("/api/v1/officer/cases", params={"page": page}, headers=world.bearer).status_code < 500


@pytest.mark.parametrize("days", ["²", "١٥", "\x00", "9" * 50])
def test_extension_days_in_other_digits_are_refused(world, days):
    """#24 item 12: `days=²` on the extension form."""
    before = snapshot(world.ctx)
    fields = {"deadline": "preliminary_assessment", "days": days, "reason": "r"}
    response = post_form(world.officer, f"/officer/cases/{world.case_id}/extension", fields, follow_redirects=False)
    assert 400 <= response.status_code < 500
    assert snapshot(world.ctx) == before


@pytest.mark.parametrize("measure", ["P-%00", "%00", "P-0000000000%00"])
def test_nul_in_a_measure_id_is_not_found(world, measure):
    """#24 item 12: on PostgreSQL a NUL in a measure id was a 500."""
    before = snapshot(world.ctx)
    path = f"/cases/{world.case_id}/measures/{measure}"
    response = post_form(world.officer, f"/officer{path}", {"status": "lifted"}, follow_redirects=False)
    assert 400 <= response.status_code < 500
    response = world.api.post(f"/api/v1/officer{path}", json={"status": "lifted"}, headers=world.bearer)
    assert 400 <= response.status_code < 500
    assert snapshot(world.ctx) == before


@pytest.mark.parametrize(
    "path, fields",
    [
        ("/officer/login", {"username": "eco\x00", "password": "x", "code": "123456"}),
        ("/officer/cases/{case}/assignment", {"username": "eco-1\x00"}),
        ("/officer/cases/{case}/share", {"username": "oig\x00", "confirm": "yes"}),
        ("/officer/conflicts/decision", {"case_id": "{case}", "username": "eco\x00", "decision": "upheld", "reason": "r"}),
    ],
)
def test_nul_in_a_username_on_a_page_form_is_refused(world, path, fields):
    """#24 item 12: on PostgreSQL a NUL in a page-form username was a 500."""
    before = snapshot(world.ctx)
    fields = {k: v.replace("{case}", world.case_id) for k, v in fields.items()}
    response = post_form(world.officer, path.replace("{case}", world.case_id), fields, follow_redirects=False)
    assert 400 <= response.status_code < 500
    assert snapshot(world.ctx) == before


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/officer/session", {"username": "eco\x00", "password": "x", "totp": "123456"}),
        ("/api/v1/officer/cases/{case}/assignment", {"username": "eco-1\x00"}),
    ],
)
def test_nul_in_a_username_in_the_api_is_refused(world, path, body):
    """#24 item 12: the same through the API (JSON refuses NUL before anything reads it)."""
    before = snapshot(world.ctx)
    response = world.api.post(path.replace("{case}", world.case_id), json=body, headers=world.bearer)
    assert 400 <= response.status_code < 500
    assert snapshot(world.ctx) == before
