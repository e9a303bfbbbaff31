"""The whole first-user story in Chromium with JavaScript off, reporter and officer."""

import re
from pathlib import Path

import pytest

from .journeys import SEND, choose_concern, file_report, log_in, new_page, open_case_room, passphrase_on

pytestmark = pytest.mark.browser

EVIDENCE = b"termination letter\x00\x01" * 5000


def test_report_caseroom_officer_reply_walkthrough(browser, instance, shots):
    base, credentials = instance
    eco = next(o for o in credentials["officers"] if o["office"] == "ECO")

    reporter_context, page = new_page(browser, base)
    page.goto("/")
    shots(page, "01-home")
    page.get_by_role("link", name="Make a report").click()
    page.get_by_label("I was punished or threatened because I reported").check()
    shots(page, "02-report-step-1")
    page.get_by_role("button", name="Next: the questions").click()
    # Step 2 asks only what retaliation needs.
    assert page.get_by_text("What had you done before it happened?").is_visible()
    assert page.locator('[name="q.misconduct_kinds"]').count() == 0
    page.get_by_label("I reported misconduct or something I believed was wrong", exact=True).check()
    page.locator('input[name="q.adverse_actions"]').first.check()
    page.locator('input[name$=".when"]').first.fill("two weeks after my interview")
    page.locator('input[name$=".who"]').first.fill("my supervisor")
    page.locator('input[name="q.safety_risk"][value="no"]').check()
    page.locator("#description-text").fill("After I spoke to the auditors my contract was not extended. <b>bold?</b>")
    page.get_by_label("Evidence files").set_input_files(
        files=[{"name": "letter.bin", "mimeType": "application/octet-stream", "buffer": EVIDENCE}]
    )
    shots(page, "03-report-step-2")
    page.get_by_role("button", name="Send the report").click()
    passphrase = passphrase_on(page)
    assert page.get_by_role("heading", name="Your report was sent").is_visible()
    assert len(passphrase.split()) == 8
    assert page.get_by_text("Ethics and Conduct Office").first.is_visible()
    shots(page, "04-passphrase")
    # Shown once: a reload finds it gone, and files nothing twice.
    page.reload()
    assert page.locator("#passphrase").count() == 0
    assert page.get_by_text("shown only once").first.is_visible()
    page.go_back()
    page.go_forward()
    assert page.locator("#passphrase").count() == 0

    page.goto("/caseroom/login")
    page.get_by_label("Passphrase").fill(passphrase.upper())
    page.get_by_role("button", name="Open").click()
    page.wait_for_url(re.compile(r".*/caseroom$"))
    assert page.get_by_role("heading", name="Your case room").is_visible()
    assert page.get_by_text("No messages yet.").is_visible()
    shots(page, "05-caseroom")
    page.get_by_role("button", name="Leave the case room").click()
    page.wait_for_url(re.compile(r".*/$"))
    reporter_context.close()

    officer_context, office = log_in(browser, base, eco)
    assert office.locator("table.inbox tbody tr").count() == 1  # the reload filed nothing
    shots(office, "06-officer-inbox")
    office.locator("table.inbox a").first.click()
    assert office.get_by_text("my contract was not extended. <b>bold?</b>").is_visible()
    assert office.get_by_text("I reported misconduct or something I believed was wrong").is_visible()
    assert office.get_by_text("two weeks after my interview").is_visible()
    with office.expect_download() as downloaded:
        office.get_by_role("link", name="letter.bin").click()
    assert Path(downloaded.value.path()).read_bytes() == EVIDENCE
    shots(office, "07-officer-case")
    office.get_by_label("Reply to the reporter").fill("Thank you for telling us. Are you safe at work?")
    office.get_by_role("button", name="Send reply").click()
    assert office.get_by_text("Your reply was sent.").is_visible()
    office.get_by_role("button", name="Log out").click()
    office.wait_for_url(re.compile(r".*/officer/login$"))
    officer_context.close()

    reporter_context, page = open_case_room(browser, base, passphrase)
    assert page.get_by_text("Thank you for telling us. Are you safe at work?").is_visible()
    shots(page, "08-caseroom-reply")
    page.get_by_role("button", name="Leave quickly").click()
    page.wait_for_url(re.compile(r".*bbc.*|about:blank|.*/caseroom/logout$"))
    reporter_context.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_report_of_both_at_320_px_gives_each_office_only_its_part(browser, instance, shots, lang):
    base, credentials = instance
    by_office = {o["office"]: o for o in credentials["officers"]}
    context, page = new_page(browser, base, viewport={"width": 320, "height": 800})
    choose_concern(page, "both", lang)
    assert page.locator("section.part").count() == 2
    page.locator("#retaliation-description-text").fill("PART-ECO: my post was abolished after I testified.")
    page.locator("#misconduct-description-text").fill("PART-OIG: the fuel of the office is sold.")
    page.locator('input[name="misconduct.q.misconduct_kinds"]').first.check()
    page.locator('input[name="retaliation.q.safety_risk"][value="not_sure"]').check()
    shots(page, f"01-both-form-320-{lang}")
    page.locator(SEND).click()
    passphrase_on(page)
    # They said they may not be safe: the safety contact comes first, above the passphrase.
    assert page.locator(".safety").first.is_visible()
    assert page.locator("ul.filed li").count() == 2
    shots(page, f"02-both-passphrase-320-{lang}")
    context.close()

    for office, mine, theirs in (("ECO", "PART-ECO", "PART-OIG"), ("OIG", "PART-OIG", "PART-ECO")):
        officer_context, officer = log_in(browser, base, by_office[office])
        officer.locator("table.inbox a").first.click()
        assert officer.get_by_text(mine).is_visible()
        assert theirs not in officer.content()
        assert officer.locator("dd bdi.case-id").count() == 1  # the other part's case: its id and status only
        if office == "ECO":
            assert officer.get_by_text("The complainant may be in danger now").is_visible()
        officer_context.close()


def test_advice_is_asked_and_answered(browser, instance, shots):
    base, credentials = instance
    eco = next(o for o in credentials["officers"] if o["office"] == "ECO")
    context, page = new_page(browser, base)
    page.goto("/")
    page.get_by_role("link", name="Ask for confidential advice").click()
    assert page.get_by_role("heading", name="Ask for confidential advice").is_visible()
    page.locator('input[name="q.advice_topic"][value="gifts"]').check()
    page.locator("#description-text").fill("A supplier offered me a book. May I accept it?")
    shots(page, "01-advice-form")
    page.locator(SEND).click()
    passphrase = passphrase_on(page)
    context.close()

    officer_context, office = log_in(browser, base, eco)
    office.locator("table.inbox a").first.click()
    assert office.get_by_text("A supplier offered me a book.").is_visible()
    office.get_by_label("Reply to the reporter").fill("You may accept it if it is worth under 100 USD.")
    office.get_by_role("button", name="Send reply").click()
    office.get_by_label("Advice given", exact=True).check()
    office.get_by_role("button", name="Change status").click()
    assert office.get_by_text("The case moved on.").is_visible()
    shots(office, "02-advice-answered")
    officer_context.close()

    context, room = open_case_room(browser, base, passphrase)
    assert room.get_by_text("You may accept it if it is worth under 100 USD.").is_visible()
    assert room.get_by_text("The Ethics and Conduct Office has answered here.").is_visible()
    shots(room, "03-advice-caseroom")
    context.close()


def test_pages_carry_no_script_with_javascript_off(browser, instance):
    base, _ = instance
    context, page = new_page(browser, base)
    for path in ["/", "/report", "/caseroom/login", "/officer/login"]:
        response = page.goto(path)
        assert response.status == 200
        assert page.locator("script").count() == 0
        assert "script-src" not in response.headers["content-security-policy"]
    context.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_identity_left_sealed_is_shared_from_the_case_room_then_read_by_eco(browser, instance, shots, lang):
    base, credentials = instance
    eco = next(o for o in credentials["officers"] if o["office"] == "ECO")
    context, page = new_page(browser, base, viewport={"width": 320, "height": 800})
    choose_concern(page, "retaliation", lang)
    page.locator('input[name="q.identity_consent"][value="later"]').check()
    page.locator('textarea[name="q.identity"]').fill("Amal Haddad, Finance, ext. 4411 (after 6 pm)")
    page.locator("#description-text").fill("My post was abolished after I testified.")
    page.locator(SEND).click()
    passphrase = passphrase_on(page)
    context.close()

    context, room = open_case_room(browser, base, passphrase)
    room.set_viewport_size({"width": 320, "height": 800})
    room.goto(f"/caseroom?lang={lang}")
    assert room.locator("form.identity").is_visible()
    shots(room, f"01-caseroom-identity-sealed-320-{lang}")
    room.locator("form.identity button").click()
    room.wait_for_url(re.compile(r".*notice=identity_shared$"))
    shots(room, f"02-caseroom-identity-shared-320-{lang}")
    context.close()

    officer_context, office = log_in(browser, base, eco)
    office.set_viewport_size({"width": 1280, "height": 900})
    office.locator("table.inbox a").first.click()
    assert "Amal Haddad" not in office.content()
    shots(office, f"03-officer-identity-offered-1280-{lang}")
    office.get_by_role("button", name="Read who the complainant is").click()
    assert office.get_by_text("Amal Haddad, Finance, ext. 4411 (after 6 pm)").is_visible()
    shots(office, f"04-officer-identity-read-1280-{lang}")
    officer_context.close()

    context, room = open_case_room(browser, base, passphrase)
    assert room.locator("form.identity button").count() == 0  # read: it can no longer be taken back
    context.close()


def test_a_message_sent_without_a_cookie_says_nothing_was_sent_and_a_withdrawal_asks_first(browser, instance, shots):
    """A case-room post with no session is not read at all (#24 item 11: a stranger's body holds no
    memory), so the reporter is told plainly that nothing was sent, and sends it again once open."""
    base, credentials = instance
    eco = next(o for o in credentials["officers"] if o["office"] == "ECO")
    passphrase, (case_id,) = file_report(browser, base, "My post was abolished after I testified.", concern="retaliation")
    context, room = open_case_room(browser, base, passphrase)
    room.locator(f"#body-{case_id}").fill("The new manager threatened me again today.")
    context.clear_cookies()  # Tor Browser's "New Identity", or a cookie the browser dropped
    room.get_by_role("button", name="Send", exact=True).click()
    assert room.get_by_text("Your case room is not open, so nothing was sent.").is_visible()
    shots(room, "01-message-not-sent")
    room.get_by_label("Passphrase").fill(passphrase)
    room.get_by_role("button", name="Open").click()
    room.locator(f"#body-{case_id}").wait_for()
    assert not room.get_by_text("The new manager threatened me again today.").is_visible()  # nothing was filed
    room.locator(f"#body-{case_id}").fill("The new manager threatened me again today.")
    room.get_by_role("button", name="Send", exact=True).click()
    assert room.get_by_text("Your message was sent.").is_visible()
    assert room.get_by_text("The new manager threatened me again today.").is_visible()

    room.get_by_role("link", name="Withdraw this report").click()
    room.get_by_label("Why (optional; the office reads this)").fill("I found another job.")
    room.get_by_role("button", name="Withdraw the report").click()
    assert "/withdraw" in room.url  # the browser asks for the tick first
    room.get_by_label("Yes, I want to withdraw this report.").check()
    shots(room, "02-withdraw-confirm")
    room.get_by_role("button", name="Withdraw the report").click()
    assert room.get_by_text("Your report is withdrawn.").is_visible()
    context.close()

    officer_context, office = log_in(browser, base, eco)
    office.goto(f"/officer/cases/{case_id}")
    assert office.get_by_text("I found another job.").is_visible()
    assert office.locator(".status-tag").inner_text() == "Withdrawn by the complainant"
    officer_context.close()
