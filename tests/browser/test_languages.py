"""The report flow in each of the organization's languages, in Chromium with JavaScript off;
Arabic renders right to left. Screenshots of every step are saved."""

import pytest

from intake import i18n

from .journeys import SEND, new_page, passphrase_on

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", i18n.CODES)
def test_report_flow_in_every_language(browser, instance, shots, lang):
    base, _ = instance
    context, page = new_page(browser, base)
    page.goto(f"/?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    direction = page.locator("html").get_attribute("dir")
    assert direction == ("rtl" if lang in i18n.RIGHT_TO_LEFT else "ltr")
    shots(page, f"{lang}-1-home")
    page.locator("a[href='/report']").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == i18n.gettext(lang, "Make a report")
    page.locator('input[name="concern"][value="retaliation"]').check()
    page.locator("form[action='/report'] button[type=submit]").click()
    page.locator("#description-text").fill(
        {"en": "My contract was ended.", "fr": "Mon contrat a pris fin.", "es": "Mi contrato terminó.", "ar": "انتهى عقدي."}[lang]
    )
    shots(page, f"{lang}-2-form")
    page.locator(SEND).click()
    assert len(passphrase_on(page).split()) == 8
    assert page.get_by_role("heading", level=1).inner_text() == i18n.gettext(lang, "Your report was sent")
    shots(page, f"{lang}-3-passphrase")
    passphrase = page.locator("#passphrase").inner_text().strip()
    page.goto("/caseroom/login")
    page.locator("#passphrase").fill(passphrase)
    page.locator("form[action='/caseroom/login'] button[type=submit]").click()
    assert page.locator("html").get_attribute("lang") == lang  # the choice followed the reporter in
    shots(page, f"{lang}-4-caseroom")
    if lang in i18n.RIGHT_TO_LEFT:
        # Right to left for real: the site name, first in the header, sits at its right end.
        brand = page.locator("header .brand").bounding_box()
        header = page.locator("header.site").bounding_box()
        assert brand["x"] + brand["width"] / 2 > header["x"] + header["width"] / 2
    context.close()
