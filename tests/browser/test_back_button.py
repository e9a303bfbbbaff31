"""The back button, in Chromium with JavaScript off (issue 23, items 6 and 12): after a report or a message
was sent it files nothing twice, and after "Leave quickly" it brings back neither the typed report, nor the
message being written, nor the identity the complainant left sealed.

"Leave quickly" points here to a plain local page (an ordinary site of the test's own), through the
policy file the server is started with, as an organization would set it.
"""

import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from ..conftest import on_postgres
from ..server import init_demo, officer_login, serving
from .journeys import SEND, choose_concern, new_page, open_case_room, passphrase_on

pytestmark = pytest.mark.browser

POLICY = Path(__file__).resolve().parents[2] / "policies" / "policy.toml"
ACCOUNT = "After I spoke to the auditors my contract was not extended."
IDENTITY = "Amal Haddad, extension 4411"
MESSAGE = "They moved my desk next to the manager's office."


class OrdinarySite(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>Weather</title><p>Sunny, 24 degrees.</p>")

    def log_message(self, *args):
        pass


@pytest.fixture
def site(tmp_path):
    """A demo instance whose "Leave quickly" goes to a local ordinary site: (base URL, credentials, exit URL)."""
    ordinary = ThreadingHTTPServer(("127.0.0.1", 0), OrdinarySite)
    threading.Thread(target=ordinary.serve_forever, daemon=True).start()
    exit_url = f"http://127.0.0.1:{ordinary.server_address[1]}/weather"
    policy = tmp_path / "policy.toml"
    text = POLICY.read_text(encoding="utf-8")
    policy.write_text(re.sub(r'(?m)^quick_exit = ".*"$', f'quick_exit = "{exit_url}"', text), encoding="utf-8")
    env = {"INTAKE_POLICY_FILE": str(policy), "INTAKE_DATABASE_URL": ""}
    if on_postgres():
        from intake.store import make_engine

        from ..schema import drop_schema

        engine = make_engine(os.environ["TEST_DATABASE_URL"])
        drop_schema(engine)
        engine.dispose()
        env["INTAKE_DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    credentials = init_demo(tmp_path / "var", env)
    try:
        with serving(tmp_path / "var", env) as base:
            yield base, credentials, exit_url
    finally:
        ordinary.shutdown()
        ordinary.server_close()  # its listening socket too: left open it is a ResourceWarning, and warnings fail tests


def eco_cases(base, credentials):
    """How many cases ECO's inbox holds, asked over the API by one officer session (a code is used once)."""
    officer = next(o for o in credentials["officers"] if o["office"] == "ECO")
    headers = officer_login(base, officer)
    return lambda: len(httpx.get(base + "/api/v1/officer/cases", headers=headers).json()["cases"])


def fill_retaliation(page):
    choose_concern(page, "retaliation")
    page.locator("#description-text").fill(ACCOUNT)
    page.locator("#q-identity").fill(IDENTITY)


def typed(page) -> list[str]:
    """Everything in the page's text boxes."""
    return [box.input_value() for box in page.locator("textarea, input[type=text]").all()]


def test_back_after_sending_a_report_finds_an_empty_form_and_send_files_nothing(browser, site, shots):
    base, credentials, _ = site
    cases = eco_cases(base, credentials)
    context, page = new_page(browser, base)
    fill_retaliation(page)
    page.locator(SEND).click()
    passphrase_on(page)

    page.go_back()
    assert re.search(r"/report\?concern=retaliation$", page.url)
    assert ACCOUNT not in typed(page) and IDENTITY not in typed(page)  # not restored
    assert page.get_by_text("You have already sent a report from this browser").is_visible()
    shots(page, "01-back-after-sending")
    page.locator(SEND).click()  # Send on the empty form: nothing to file
    assert page.get_by_text("Please check your answers").is_visible()
    assert cases() == 1

    # A browser that restores the words anyway (here: typed back as they were) files nothing either.
    page.goto("/report?concern=retaliation")
    page.locator("#description-text").fill(ACCOUNT)
    page.locator("#q-identity").fill(IDENTITY)
    page.locator(SEND).click()
    assert page.get_by_role("heading", name="This report was already received").is_visible()
    assert page.locator("#passphrase").count() == 0
    shots(page, "02-already-received")
    page.get_by_role("link", name="Make a new, separate report").click()
    page.wait_for_url(re.compile(r".*/report$"))

    # A different report from the same browser is filed.
    choose_concern(page, "retaliation")
    page.locator("#description-text").fill("And my travel was refused twice since.")
    page.locator(SEND).click()
    passphrase_on(page)
    assert cases() == 2
    context.close()


def test_leave_quickly_then_back_brings_back_nothing_of_the_report(browser, site):
    base, _, exit_url = site
    context, page = new_page(browser, base)
    fill_retaliation(page)
    page.get_by_role("link", name="Leave quickly").click()
    page.wait_for_url(exit_url)
    page.go_back()
    assert re.search(r"/report\?concern=retaliation$", page.url)
    assert ACCOUNT not in typed(page) and IDENTITY not in typed(page)
    assert ACCOUNT not in page.content() and IDENTITY not in page.content()
    context.close()


def test_leave_quickly_in_the_case_room_then_back_shows_neither_the_message_nor_the_identity(browser, site, shots):
    base, _, exit_url = site
    filed = httpx.post(
        base + "/api/v1/reports",
        json={
            "concerns": ["retaliation"],
            "description": ACCOUNT,
            "answers": {"identity": IDENTITY, "identity_consent": "later"},
        },
    ).json()
    context, page = open_case_room(browser, base, filed["passphrase"])
    page.get_by_text("What you left with your report").click()
    assert page.get_by_text(IDENTITY).is_visible()
    page.locator("textarea[name=body]").fill(MESSAGE)
    page.get_by_role("button", name="Leave quickly").click()
    page.wait_for_url(exit_url)

    seen = []
    for _ in range(3):  # every page the back button reaches
        page.go_back()
        page.wait_for_load_state()
        seen.append(page.url)
        content = page.content()
        assert IDENTITY not in content and MESSAGE not in content, page.url
        assert MESSAGE not in typed(page), page.url
    assert any(url.endswith("/caseroom/login") for url in seen), seen
    shots(page, "03-back-after-leaving-the-room")
    context.close()


def test_leave_quickly_from_the_withdrawal_step_also_ends_the_case_room(browser, site):
    """The withdrawal step is a page of the case room: leaving quickly there ends the session too, so Back
    cannot reach the room and the identity shown in it."""
    base, _, exit_url = site
    filed = httpx.post(
        base + "/api/v1/reports",
        json={
            "concerns": ["retaliation"],
            "description": ACCOUNT,
            "answers": {"identity": IDENTITY, "identity_consent": "later"},
        },
    ).json()
    context, page = open_case_room(browser, base, filed["passphrase"])
    page.get_by_role("link", name="Withdraw this report").click()
    page.locator("#reason").fill("I am afraid of what happens next.")
    page.get_by_text("Leave quickly").click()  # a link on other pages, a button that ends the session here
    page.wait_for_url(exit_url)
    for _ in range(3):
        page.go_back()
        page.wait_for_load_state()
        content = page.content()
        assert IDENTITY not in content and ACCOUNT not in content, page.url
        assert "I am afraid" not in content and "I am afraid of what happens next." not in typed(page), page.url
    context.close()


def test_back_after_sending_a_message_finds_an_empty_box_and_a_restored_one_is_asked_about(browser, site, shots):
    base, _, _ = site
    filed = httpx.post(base + "/api/v1/reports", json={"concerns": ["misconduct"], "description": "The fuel is sold."}).json()
    context, page = open_case_room(browser, base, filed["passphrase"])
    page.locator("textarea[name=body]").fill(MESSAGE)
    page.get_by_role("button", name="Send", exact=True).click()
    assert page.get_by_text("Your message was sent.").is_visible()

    page.go_back()
    assert page.locator("textarea[name=body]").input_value() == ""
    # Restored anyway (typed back here): the same words as the last message are asked about, not sent.
    page.locator("textarea[name=body]").fill(MESSAGE)
    page.get_by_role("button", name="Send", exact=True).click()
    assert page.get_by_text("You already sent this message").is_visible()
    assert page.locator("textarea[name=body]").input_value() == MESSAGE  # the words are kept
    shots(page, "04-same-message-asked")
    assert page.locator("ol.messages li").count() == 1
    page.get_by_label("Yes, send the same words again").check()
    page.get_by_role("button", name="Send", exact=True).click()
    assert page.get_by_text("Your message was sent.").is_visible()
    assert page.locator("ol.messages li").count() == 2
    context.close()
