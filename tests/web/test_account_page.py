"""The officer's account page: their notification address, given, changed and removed by them alone,
refused with a clear 409 when it is not one address (nothing stored), and never shown to another officer."""

from sqlmodel import Session, func, select
from starlette.testclient import TestClient

from intake.app import create_app
from intake.store import NotificationAddress

from ..helpers import app_context, html_login, post_form

ADDRESS = "oig-one@example.org"


def stored(client: TestClient) -> int:
    with Session(app_context(client).engine) as db:
        return db.exec(select(func.count()).select_from(NotificationAddress)).one()


def test_an_officer_gives_changes_and_removes_their_address(client):
    assert client.get("/officer/account", follow_redirects=False).headers["location"] == "/officer/login"
    html_login(client, "oig-1")
    page = client.get("/officer/account")
    assert page.status_code == 200 and "You have given no address" in page.text
    assert 'href="/officer/account"' in client.get("/officer").text  # in the workspace's navigation

    saved = post_form(client, "/officer/account/notifications", {"address": ADDRESS}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/officer/account?notice=given"
    page = client.get("/officer/account?notice=given")
    assert f'value="{ADDRESS}"' in page.text and "Your address is saved" in page.text
    post_form(client, "/officer/account/notifications", {"address": "oig-two@example.org"})
    assert 'value="oig-two@example.org"' in client.get("/officer/account").text and stored(client) == 1

    removed = post_form(client, "/officer/account/notifications", {"remove": "1"}, follow_redirects=False)
    assert removed.headers["location"] == "/officer/account?notice=removed"
    assert "You have given no address" in client.get("/officer/account").text and stored(client) == 0


def test_what_is_not_one_address_is_refused_and_nothing_is_stored(client):
    html_login(client, "oig-1")
    hostile = '"><script>alert(1)</script>@example.org'
    for typed in ("", "not an address", "a@example.org, b@example.org", hostile):
        refused = post_form(client, "/officer/account/notifications", {"address": typed})
        assert refused.status_code == 409 and "Nothing was changed" in refused.text
        assert "Give one e-mail address" in refused.text
        assert "<script>alert(1)</script>" not in refused.text  # kept in the box, escaped
    assert "&lt;script&gt;" in refused.text
    assert stored(client) == 0
    no_token = client.post("/officer/account/notifications", data={"address": ADDRESS})
    assert no_token.status_code in (400, 403) and stored(client) == 0


def test_another_officer_never_sees_the_address(client, ctx):
    html_login(client, "oig-1")
    post_form(client, "/officer/account/notifications", {"address": ADDRESS})
    with TestClient(create_app(ctx), base_url="http://127.0.0.1") as other:
        html_login(other, "eco-1")
        for path in ("/officer/account", "/officer", "/officer/conflicts"):
            page = other.get(path)
            assert page.status_code == 200 and ADDRESS not in page.text
        assert "You have given no address" in other.get("/officer/account").text


def test_the_page_reads_in_arabic(client):
    html_login(client, "oig-1")
    page = client.get("/officer/account?lang=ar")
    assert page.status_code == 200 and 'dir="rtl"' in page.text and 'dir="ltr" maxlength="254"' in page.text
