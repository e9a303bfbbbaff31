"""ECO's referral to OIG with the complainant's consent, in Chromium with JavaScript off."""

import pytest

from .test_walkthrough import log_in, new_page

pytestmark = pytest.mark.browser


def test_consent_then_referral_then_oig_reads(browser, instance, shots):
    base, credentials = instance
    by_office = {o["office"]: o for o in credentials["officers"]}

    context, page = new_page(browser, base)
    page.goto("/report")
    page.get_by_label("I was punished or threatened because I reported").check()
    page.locator("#description").fill("My post was abolished two weeks after I gave evidence to the auditors.")
    page.get_by_role("button", name="Send the report").click()
    passphrase = page.locator("#passphrase").inner_text().strip()
    context.close()

    eco_context, eco = log_in(browser, base, by_office["ECO"])
    eco.locator("table.inbox a").first.click()
    case_url = eco.url
    for status in ["Acknowledged", "Preliminary assessment"]:
        eco.get_by_label("New status").select_option(label=status)
        eco.get_by_role("button", name="Change status").click()
        assert eco.get_by_text("The case moved on.").is_visible()
    eco.get_by_label("Record").select_option(label="Temporary change of reporting lines")
    eco.get_by_role("button", name="Record", exact=True).click()
    eco.get_by_role("button", name="Ask the complainant's consent in the case room").click()
    assert eco.get_by_text("The complainant is asked for consent").is_visible()
    shots(eco, "01-eco-case-consent-requested")

    context, page = new_page(browser, base)
    page.goto("/caseroom/login")
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Open").click()
    assert page.get_by_text("May the Ethics and Conduct Office share your complaint").is_visible()
    shots(page, "02-caseroom-consent-question")
    page.get_by_label("Yes, share it with OIG").check()
    page.get_by_role("button", name="Send my answer").click()
    assert page.get_by_text("Your answer was recorded").is_visible()
    context.close()

    eco.goto(case_url)
    eco.get_by_role("button", name="Refer to OIG").click()
    assert eco.get_by_text("The case was referred to OIG.").is_visible()
    shots(eco, "03-eco-case-referred")
    eco_context.close()

    oig_context, oig = log_in(browser, base, by_office["OIG"])
    oig.locator("table.inbox a").first.click()
    assert oig.get_by_text("My post was abolished two weeks after I gave evidence").is_visible()
    shots(oig, "04-oig-reads-referred-case")
    oig_context.close()

    context, page = new_page(browser, base)
    page.goto("/caseroom/login")
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Open").click()
    assert page.get_by_text("has referred your complaint to the Office of the Inspector General").first.is_visible()
    shots(page, "05-caseroom-after-referral")
    context.close()
