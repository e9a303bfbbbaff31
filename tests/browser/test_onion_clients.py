"""Issue 26 in real Chromium (JavaScript off) as a stock browser behind Orbot is: it has no rule
for .onion, so a `Secure` cookie is never sent back over http://...onion. The onion name is
mapped to the loopback server (Chromium's host resolver rules), so the requests carry the onion's
Host as they do when Tor delivers them; the deployment is configured as shipped (secure cookies,
its onion address known). The real journey over a private Tor network is `make onion-check`."""

import re

import pytest

from policies import load_policy

from ..server import init_demo, serving
from .conftest import CHROMIUM, CHROMIUM_ARGS
from .journeys import SEND, choose_concern, new_page, open_case_room, passphrase_on

pytestmark = pytest.mark.browser

ONION = "intakeonionservicex2345abcdefghijklmnopqrstuvwxyz234567d.onion"


@pytest.fixture
def stock_browser(browser):
    """Chromium that reaches the onion name on loopback, and treats it as any http site (launched by
    the session's Playwright: a second one in the same thread is refused)."""
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {ONION} 127.0.0.1"]
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield chromium
    chromium.close()


@pytest.fixture
def onion_base(tmp_path):
    env = {"INTAKE_DATABASE_URL": "", "INTAKE_SECURE_COOKIES": "1", "INTAKE_ONION_ADDRESS": ONION}
    init_demo(tmp_path / "var", env)
    with serving(tmp_path / "var", env) as base:
        yield base.replace("127.0.0.1", ONION)


def test_a_stock_browser_files_over_http_onion_and_comes_back(stock_browser, onion_base, shots):
    context, page = new_page(stock_browser, onion_base, viewport={"width": 1280, "height": 900})
    choose_concern(page, "misconduct")
    quick_exit = load_policy().organization.quick_exit_onion
    assert page.locator(".quick-exit a").get_attribute("href") == quick_exit  # leaving stays on Tor
    [cookie] = context.cookies()
    assert cookie["name"] == "intake" and not cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.locator("#description-text").fill("The fuel is sold at night.")
    page.locator(SEND).click()
    passphrase = passphrase_on(page)  # the form was filed: the CSRF token came back in the cookie
    assert re.search(rf"http://{ONION}/caseroom/login", page.content())
    shots(page, "passphrase-1280-en")
    cases = [c.strip() for c in page.locator("ul.filed strong").all_inner_texts()]
    context.close()
    for width, lang in [(1280, "ar"), (320, "en"), (320, "ar")]:
        context, page = new_page(stock_browser, onion_base, viewport={"width": width, "height": 900})
        page.goto(f"/report?lang={lang}")
        shots(page, f"form-{width}-{lang}")
        context.close()
    context, page = open_case_room(stock_browser, onion_base, passphrase)
    assert cases and cases[0] in page.content()
    shots(page, "caseroom-1280-en")
    context.close()
