"""The officers' workspace in Chromium with JavaScript off: the inbox at real widths, a decision
that ends a case only after its confirmation step, the message the complainant then reads, and
reopening. Screenshots at 1280 and 320 px, in English and Arabic."""

import re

import pytest

from .journeys import file_report, log_in, open_case_room

pytestmark = pytest.mark.browser


def test_a_decision_is_confirmed_with_a_reason_and_a_message_the_complainant_reads(browser, instance, shots):
    base, credentials = instance
    oig_login = next(o for o in credentials["officers"] if o["office"] == "OIG")
    english, _ = file_report(browser, base, "Someone sells the office's fuel.")
    arabic, (arabic_case,) = file_report(browser, base, "موظف يبيع وقود المكتب. \u202ereversed text\u202c للتحقق", lang="ar")

    context, oig = log_in(browser, base, oig_login)
    oig.set_viewport_size({"width": 1280, "height": 900})
    assert oig.locator("table.inbox tbody tr").count() == 2
    case_id_width = oig.locator("table.inbox td.case-id a").first.bounding_box()
    assert case_id_width["height"] < 30  # the case id stays on one line at 1280 px
    shots(oig, "01-inbox-1280-en")
    oig.set_viewport_size({"width": 320, "height": 800})
    shots(oig, "02-inbox-320-en")
    oig.set_viewport_size({"width": 1280, "height": 900})

    # The Arabic reporter's case: reporter text is isolated and read right to left.
    oig.get_by_label("Case id").fill(arabic_case[-4:].lower())
    oig.get_by_role("button", name="Show").click()
    assert oig.locator("table.inbox tbody tr").count() == 1
    oig.locator("table.inbox td.case-id a").first.click()
    case_url = oig.url
    assert case_url.endswith(arabic_case)
    assert oig.locator(".reporter-text").get_attribute("dir") == "auto"
    for status in ["Acknowledged", "Intake assessment"]:
        oig.get_by_label(status, exact=True).check()
        oig.get_by_role("button", name="Change status").click()
    shots(oig, "03-case-1280-en")

    # The decision: from its own panel, to a confirmation step prefilled in the complainant's language.
    assert oig.locator(".panel.decisions").is_visible()
    oig.get_by_role("link", name="Closed at intake").click()
    assert "/decide?to=closed_at_intake" in oig.url
    message = oig.locator("#message").input_value()
    assert "أغلق" in message or "مكتب" in message, message  # the template, in Arabic
    shots(oig, "04-decide-1280-en")
    oig.locator("#message").fill("أغلقنا بلاغك لأنه يتعلق بنزاع تعاقدي. يمكنك الكتابة هنا.")
    # Without the reason the browser refuses; a forged post without it changes nothing (tested in the API).
    oig.get_by_role("button", name=re.compile("Confirm")).click()
    assert "/decide" in oig.url
    oig.locator("#reason").fill("A contract dispute: not misconduct.")
    oig.get_by_role("button", name=re.compile("Confirm")).click()
    assert oig.get_by_text("Done. The complainant reads your message in the case room.").is_visible()
    assert oig.get_by_text("Closed at intake").first.is_visible()

    reporter_context, room = open_case_room(browser, base, arabic)
    assert room.get_by_text("أغلقنا بلاغك لأنه يتعلق بنزاع تعاقدي").is_visible()
    reporter_context.close()

    oig.goto(case_url)
    oig.get_by_label("Reason to reopen").fill("The reporter sent the invoices.")
    oig.get_by_role("button", name="Reopen the case").click()
    assert oig.get_by_text("The case is open again.").is_visible()
    history = oig.locator("ol.history").inner_text()
    assert "reopened the case" in history and oig_login["username"] in history

    # The same pages in Arabic, at both widths.
    oig.goto("/officer?lang=ar")
    assert oig.locator("html").get_attribute("dir") == "rtl"
    shots(oig, "05-inbox-1280-ar")
    oig.set_viewport_size({"width": 320, "height": 800})
    shots(oig, "06-inbox-320-ar")
    oig.goto(case_url)
    shots(oig, "07-case-320-ar")
    oig.set_viewport_size({"width": 1280, "height": 900})
    shots(oig, "08-case-1280-ar")

    # An error page keeps the workspace's header, and its language links work.
    oig.goto("/officer/cases/OIG-0000000000?lang=en")
    assert oig.get_by_role("button", name="Log out").is_visible()
    oig.get_by_role("link", name="Français").click()
    assert oig.locator("html").get_attribute("lang") == "fr"
    context.close()
    assert english
