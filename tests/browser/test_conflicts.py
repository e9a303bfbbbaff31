"""A conflict of interest in Chromium with JavaScript off: the officer steps away from a case only
after writing a note and ticking what it means; the case leaves their inbox and its page is gone;
the head's list. Screenshots at 1280 and 320 px, in English and Arabic."""

import re

import pytest

from .journeys import file_report, log_in, open_case_room

pytestmark = pytest.mark.browser


def test_an_officer_steps_away_from_a_case_and_it_is_gone_for_them(browser, instance, shots):
    base, credentials = instance
    eco_login = next(o for o in credentials["officers"] if o["office"] == "ECO")
    _, (case_id,) = file_report(browser, base, "My contract was not renewed after I testified.", concern="retaliation")
    context, eco = log_in(browser, base, eco_login)
    eco.goto(f"/officer/cases/{case_id}")
    eco.get_by_text("I have a personal stake in this case: step away from it").click()
    eco.set_viewport_size({"width": 1280, "height": 900})
    eco.locator("#conflict-title").scroll_into_view_if_needed()
    shots(eco, "01-case-conflict-1280-en")
    eco.set_viewport_size({"width": 320, "height": 800})
    shots(eco, "02-case-conflict-320-en")
    eco.get_by_label("What the conflict is, for the head of your office (required; encrypted)").fill(
        "The respondent is my former manager."
    )
    # Without the tick the browser does not send the form: nothing changes on one click.
    eco.get_by_role("button", name="Declare the conflict").click()
    assert eco.url.endswith(case_id)
    eco.get_by_label("I step away from this case").check()
    eco.get_by_role("button", name="Declare the conflict").click()
    eco.wait_for_url(re.compile(r".*/officer/conflicts\?notice=declared$"))
    assert "You stepped away from the case" in eco.locator("p.notice").inner_text()
    # The founding officer heads ECO: their own conflict is listed, its note and its lifting for another head.
    assert case_id in eco.locator("ul.records").inner_text()
    assert eco.locator("form[action='/officer/conflicts/lift']").count() == 0
    shots(eco, "03-conflicts-320-en")
    eco.set_viewport_size({"width": 1280, "height": 900})
    shots(eco, "04-conflicts-1280-en")
    assert eco.goto(f"/officer/cases/{case_id}").status == 404
    eco.goto("/officer?filter=all")
    assert case_id not in eco.content()
    eco.goto("/officer/conflicts?lang=ar")
    assert eco.locator("html").get_attribute("dir") == "rtl"
    shots(eco, "05-conflicts-1280-ar")
    eco.set_viewport_size({"width": 320, "height": 800})
    shots(eco, "06-conflicts-320-ar")
    context.close()


def test_oig_transfers_a_retaliation_report_to_eco_and_the_reporter_is_told(browser, instance, shots):
    base, credentials = instance
    oig_login = next(o for o in credentials["officers"] if o["office"] == "OIG")
    eco_login = next(o for o in credentials["officers"] if o["office"] == "ECO")
    passphrase, (case_id,) = file_report(browser, base, "After I reported the fraud my post was abolished.")
    context, oig = log_in(browser, base, oig_login)
    oig.goto(f"/officer/cases/{case_id}")
    oig.locator("#transfer-title").scroll_into_view_if_needed()
    oig.set_viewport_size({"width": 1280, "height": 900})
    shots(oig, "01-transfer-1280-en")
    oig.get_by_label("Memo for ECO (required)").fill("Retaliation for reporting fraud: ECO's mandate (IN/282).")
    oig.get_by_role("button", name="Transfer to ECO").click()
    assert oig.url.endswith(case_id)  # not without the tick
    oig.get_by_label("I have checked the memo: transfer the case to ECO now. This cannot be undone.").check()
    oig.get_by_role("button", name="Transfer to ECO").click()
    assert oig.get_by_text("The case was transferred to ECO.").is_visible()
    context.close()
    context, eco = log_in(browser, base, eco_login)
    eco.goto("/officer?filter=referred_in")
    assert case_id in eco.content()
    eco.goto(f"/officer/cases/{case_id}?lang=ar")
    assert "ECO's mandate (IN/282)" in eco.content()
    eco.set_viewport_size({"width": 320, "height": 800})
    shots(eco, "02-eco-receives-320-ar")
    context.close()
    context, room = open_case_room(browser, base, passphrase)
    assert room.get_by_text("has passed your report to the Ethics and Conduct Office").first.is_visible()
    assert room.get_by_text("Write to the Ethics and Conduct Office").is_visible()  # the office that now handles it
    shots(room, "03-reporter-told-1280-en")
    context.close()
