"""#24 item 9 in real Chromium (JavaScript off): another site's link and another site's form log
nobody out. The other site is served by Playwright at an address of its own (another site: a
different host), so Chromium sends what it sends across sites: no SameSite=Strict cookie, and
`Sec-Fetch-Site: cross-site`."""

import re

import pytest

from .journeys import log_in

pytestmark = pytest.mark.browser

ELSEWHERE = "http://elsewhere.test"


def another_site(context, body: str) -> None:
    context.route(f"{ELSEWHERE}/**", lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body))


def test_a_link_and_a_form_on_another_site_log_no_officer_out(browser, instance):
    base, credentials = instance
    context, page = log_in(browser, base, credentials["officers"][0])
    another_site(
        context,
        f'<!doctype html><title>News</title><p><a id="link" href="{base}/officer/login">Intake</a></p>'
        f'<form method="post" action="{base}/officer/logout"><button id="out">Win a prize</button></form>',
    )
    page.goto(f"{ELSEWHERE}/news")
    page.click("#link")
    page.wait_for_url(re.compile(r".*/officer/login$"))
    # The re-entry page has that address too: wait for the login page it reloads into, or the next goto
    # races its refresh ("navigation interrupted by another navigation").
    page.get_by_label("Username").wait_for()
    page.goto(f"{base}/officer")
    assert page.url.endswith("/officer"), page.url  # still logged in: not sent to the login page
    page.goto(f"{ELSEWHERE}/news")
    page.click("#out")
    page.wait_for_load_state()
    page.goto(f"{base}/officer")
    assert page.url.endswith("/officer"), page.url
    context.close()
