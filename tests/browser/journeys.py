"""The steps the browser tests share: a reporter's browser and an officer's (JavaScript off),
the two-step report form, the passphrase page, the case room."""

import re

from ..server import totp_now

SEND = "form[action='/report'] button[type=submit]"


def new_page(browser, base, **options):
    context = browser.new_context(java_script_enabled=False, base_url=base, **options)
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


def choose_concern(page, concern: str, lang: str = "en") -> None:
    """Step 1 of the form: what the concern is about (a plain GET), then step 2 shows its questions."""
    page.goto(f"/report?lang={lang}")
    page.locator(f'input[name="concern"][value="{concern}"]').check()
    page.locator("form[action='/report'] button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/report\?concern={concern}$"))


def passphrase_on(page) -> str:
    """The passphrase on the page shown once after sending (waits for it: Argon2 runs first)."""
    page.wait_for_url(re.compile(r".*/report/sent$"), timeout=30_000)
    return page.locator("#passphrase").inner_text().strip()


def file_report(browser, base, description: str, concern: str = "misconduct", lang: str = "en") -> tuple[str, list[str]]:
    """A report of one concern with only its account; returns (passphrase, case ids)."""
    context, page = new_page(browser, base)
    choose_concern(page, concern, lang)
    page.locator("#description-text").fill(description)
    page.locator(SEND).click()
    passphrase = passphrase_on(page)
    cases = [c.strip() for c in page.locator("ul.filed strong").all_inner_texts()]
    context.close()
    return passphrase, cases


def open_case_room(browser, base, passphrase: str):
    context, page = new_page(browser, base)
    page.goto("/caseroom/login")
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Open").click()
    # Argon2 on a busy machine can outlast the click; wait for the room, not for a fixed time.
    page.locator("form[action='/caseroom/logout']").first.wait_for(timeout=30_000)
    return context, page
