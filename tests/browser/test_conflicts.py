"""A conflict of interest in Chromium with JavaScript off: the officer steps away from a case only
after writing a note and ticking what it means; the case leaves their inbox and its page is gone;
the head's list. Screenshots at 1280 and 320 px, in English and Arabic."""

import re

import pytest

from .journeys import file_report, log_in

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
