"""ECO's determination, protection and referral to OIG with the complainant's consent, in
Chromium with JavaScript off."""

import pytest

from .journeys import SEND, choose_concern, log_in, new_page, open_case_room, passphrase_on

pytestmark = pytest.mark.browser


def test_determination_consent_then_referral_then_oig_reads(browser, instance, shots):
    base, credentials = instance
    by_office = {o["office"]: o for o in credentials["officers"]}

    context, page = new_page(browser, base)
    choose_concern(page, "retaliation")
    page.locator("#description-text").fill("My post was abolished two weeks after I gave evidence to the auditors.")
    page.locator(SEND).click()
    passphrase = passphrase_on(page)
    context.close()

    eco_context, eco = log_in(browser, base, by_office["ECO"])
    eco.locator("table.inbox a").first.click()
    case_url = eco.url
    # Nothing is chosen for the officer: the button alone moves nothing.
    assert eco.locator('input[name="to"]:checked').count() == 0
    eco.get_by_role("button", name="Change status").click()
    assert eco.url == case_url  # the browser refused the form: a status must be chosen
    for status in ["Acknowledged", "Preliminary assessment"]:
        eco.get_by_label(status, exact=True).check()
        eco.get_by_role("button", name="Change status").click()
        assert eco.get_by_text("The case moved on.").is_visible()
    eco.get_by_text("Recommend a protective measure or refer onward").click()
    eco.get_by_label("What", exact=True).select_option(label="Temporary change of reporting lines")
    eco.get_by_label("Recommended to").fill("Chief of Mission")
    eco.get_by_role("button", name="Record", exact=True).click()
    assert eco.get_by_text("Recommended on").first.is_visible()
    eco.get_by_label("Prima facie evidence of retaliation found").check()
    eco.get_by_label("Reasons").fill("The abolition followed the testimony by two weeks.")
    eco.get_by_role("button", name="Record the determination").click()
    assert eco.get_by_text("The determination is recorded.").is_visible()
    eco.get_by_role("button", name="Ask the complainant's consent in the case room").click()
    assert eco.get_by_text("The complainant is asked for consent").is_visible()
    shots(eco, "01-eco-case-consent-requested")

    context, page = open_case_room(browser, base, passphrase)
    assert page.get_by_text("May the Ethics and Conduct Office share your complaint").is_visible()
    assert page.get_by_text("never ECO's own notes").is_visible()
    shots(page, "02-caseroom-consent-question")
    page.get_by_label("No, do not share it").check()
    page.get_by_role("button", name="Send my answer").click()
    assert page.get_by_text("Your answer: no, do not share it.").is_visible()
    page.get_by_label("Yes, share it with OIG").check()
    page.get_by_role("button", name="Change my answer").click()
    assert page.get_by_text("Your answer: yes, share it.").is_visible()
    assert page.get_by_text("Temporary change of reporting lines").is_visible()  # the measure, status only
    context.close()

    eco.goto(case_url)
    eco.get_by_label("Referral memo for OIG").fill("Prima facie: the timing. Protection: reporting lines changed.")
    eco.get_by_role("button", name="Refer to OIG").click()
    assert eco.url.startswith(case_url)  # not without ticking the confirmation
    eco.get_by_label("refer the case to OIG now").check()
    eco.get_by_role("button", name="Refer to OIG").click()
    assert eco.get_by_text("The case was referred to OIG.").is_visible()
    # The protection file stays with ECO after the referral.
    assert eco.get_by_text("Update this measure").is_visible()
    shots(eco, "03-eco-case-referred")
    eco_context.close()

    oig_context, oig = log_in(browser, base, by_office["OIG"])
    oig.locator("table.inbox a").first.click()
    assert oig.get_by_text("My post was abolished two weeks after I gave evidence").is_visible()
    assert oig.get_by_text("Prima facie: the timing.").is_visible()  # the memo
    assert oig.get_by_text("The abolition followed the testimony").count() == 0  # ECO's reasons stay home
    shots(oig, "04-oig-reads-referred-case")
    oig_context.close()

    context, page = open_case_room(browser, base, passphrase)
    assert page.get_by_text("has referred your complaint to the Office of the Inspector General").first.is_visible()
    shots(page, "05-caseroom-after-referral")
    context.close()
