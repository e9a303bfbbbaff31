"""The whole first-user story in Chromium with JavaScript off, reporter and officer."""

import re
from pathlib import Path

import pytest

from ..server import totp_now

pytestmark = pytest.mark.browser

EVIDENCE = b"termination letter\x00\x01" * 5000


def new_page(browser, base):
    context = browser.new_context(java_script_enabled=False, base_url=base)
    return context, context.new_page()


def log_in(browser, base, officer):
    """An officer's browser (JavaScript off), logged in with password and a fresh code, on the inbox."""
    context, page = new_page(browser, base)
    page.goto("/officer/login")
    page.get_by_label("Username").fill(officer["username"])
    page.get_by_label("Password").fill(officer["password"])
    page.get_by_label("Authentication code").fill(totp_now(officer))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/officer$"))
    return context, page


def test_report_caseroom_officer_reply_walkthrough(browser, instance, shots):
    base, credentials = instance
    eco = next(o for o in credentials["officers"] if o["office"] == "ECO")

    reporter_context, page = new_page(browser, base)
    page.goto("/")
    shots(page, "01-home")
    page.get_by_role("link", name="Make a report").click()
    page.get_by_label("I was punished or threatened because I reported").check()
    page.get_by_label("I reported misconduct or something I believed was wrong", exact=True).check()
    page.locator("#description").fill("After I spoke to the auditors my contract was not extended. <b>bold?</b>")
    page.get_by_label("Evidence files").set_input_files(
        files=[{"name": "letter.bin", "mimeType": "application/octet-stream", "buffer": EVIDENCE}]
    )
    shots(page, "02-report-form")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(re.compile(r".*/report$"))
    assert page.get_by_role("heading", name="Your report was sent").is_visible()
    passphrase = page.locator("#passphrase").inner_text().strip()
    assert len(passphrase.split()) == 7
    assert page.get_by_text("Ethics and Conduct Office").first.is_visible()
    shots(page, "03-passphrase")

    page.get_by_role("button", name="go to my case room").click()
    assert page.get_by_role("heading", name="Your report was sent").is_visible()  # not without the tick
    page.get_by_label("I have written my passphrase down").check()
    page.get_by_role("button", name="go to my case room").click()
    page.get_by_label("Passphrase").fill(passphrase.upper())
    page.get_by_role("button", name="Open").click()
    page.wait_for_url(re.compile(r".*/caseroom$"))
    assert page.get_by_role("heading", name="Your case room").is_visible()
    assert page.get_by_text("No messages yet.").is_visible()
    shots(page, "04-caseroom")
    page.get_by_role("button", name="Leave the case room").click()
    page.wait_for_url(re.compile(r".*/$"))
    reporter_context.close()

    officer_context, office = log_in(browser, base, eco)
    shots(office, "05-officer-inbox")
    office.locator("table.inbox a").first.click()
    assert office.get_by_text("my contract was not extended. <b>bold?</b>").is_visible()
    assert office.get_by_text("I reported misconduct or something I believed was wrong").is_visible()
    with office.expect_download() as downloaded:
        office.get_by_role("link", name="letter.bin").click()
    assert Path(downloaded.value.path()).read_bytes() == EVIDENCE
    shots(office, "06-officer-case")
    office.get_by_label("Reply to the reporter").fill("Thank you for telling us. Are you safe at work?")
    office.get_by_role("button", name="Send reply").click()
    assert office.get_by_text("Your reply was sent.").is_visible()
    office.get_by_role("button", name="Log out").click()
    office.wait_for_url(re.compile(r".*/officer/login$"))
    officer_context.close()

    reporter_context, page = new_page(browser, base)
    page.goto("/caseroom/login")
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Open").click()
    assert page.get_by_text("Thank you for telling us. Are you safe at work?").is_visible()
    shots(page, "07-caseroom-reply")
    reporter_context.close()


def test_pages_carry_no_script_with_javascript_off(browser, instance):
    base, _ = instance
    context, page = new_page(browser, base)
    for path in ["/", "/report", "/caseroom/login", "/officer/login"]:
        response = page.goto(path)
        assert response.status == 200
        assert page.locator("script").count() == 0
        assert "script-src" not in response.headers["content-security-policy"]
    context.close()
