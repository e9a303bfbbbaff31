"""The officer's account page in Chromium with JavaScript off: the address given, kept and shown to its
officer, in English and Arabic, at 1280 and 320 px (nothing scrolls sideways at 320)."""

import os
from pathlib import Path

import pytest

from .conftest import ARTIFACTS
from .journeys import log_in

pytestmark = pytest.mark.browser
# Screenshots for the lead's review, where the helpers' shared directory is (outside CI's checkout otherwise).
SHOTS = [ARTIFACTS / "account"] + ([Path(os.environ["INTAKE_SHOTS_DIR"])] if os.environ.get("INTAKE_SHOTS_DIR") else [])


def shoot(page, name: str) -> None:
    for directory in SHOTS:
        directory.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_an_officer_gives_their_address_on_the_account_page(browser, instance, lang):
    base, credentials = instance
    officer = next(o for o in credentials["officers"] if o["office"] == "OIG")
    context, page = log_in(browser, base, officer)
    page.goto(f"/officer/account?lang={lang}")
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    shoot(page, f"account-empty-{lang}-1280")
    page.locator("#address").fill("officer@localhost")  # the browser accepts it; the server wants a domain
    page.locator("form[action='/officer/account/notifications'] button[type=submit]").first.click()
    assert page.locator(".error-summary").is_visible() and page.locator("#address").input_value() == "officer@localhost"
    shoot(page, f"account-refused-{lang}-1280")
    page.locator("#address").fill("oig-officer@example.org")
    page.locator("form[action='/officer/account/notifications'] button[type=submit]").first.click()
    page.wait_for_url(f"{base}/officer/account?notice=given")
    assert page.locator("#address").input_value() == "oig-officer@example.org"
    assert page.locator("p.notice[role=status]").first.is_visible()
    shoot(page, f"account-saved-{lang}-1280")

    narrow = browser.new_context(base_url=base, viewport={"width": 320, "height": 640})  # JavaScript only to measure
    narrow.add_cookies(context.cookies())
    small = narrow.new_page()
    small.goto(f"/officer/account?lang={lang}")
    assert small.locator("#address").input_value() == "oig-officer@example.org"
    shoot(small, f"account-saved-{lang}-320")
    assert small.evaluate("document.documentElement.scrollWidth") <= 320
    narrow.close()
    context.close()
