"""Accessibility: axe-core (WCAG 2.1 A and AA rules) on every page of the reporter and officer
flows, and every page usable at 320 px wide.

The pages carry no script; the test injects axe-core into its own Chromium context (with
the page's CSP bypassed for that injection only), so what is checked is exactly what a
reporter's browser gets.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ..server import totp_now
from .conftest import ARTIFACTS
from .journeys import SEND, choose_concern, passphrase_on

pytestmark = pytest.mark.browser

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from npm (installed into the project's node_modules by .ci/run or on first use)."""
    script = PROJECT / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            if os.environ.get("INTAKE_REQUIRE_BROWSER") == "1":
                pytest.fail("npm is needed to install axe-core")
            pytest.skip("npm is not installed")
        subprocess.run(
            [npm, "install", "--no-save", "--no-audit", "--no-fund", "axe-core@4"],
            cwd=PROJECT,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return script.read_text(encoding="utf-8")


def pages_of_both_flows(browser, base, credentials, lang):
    """Visit every page once, as a reporter and as an officer (JavaScript off), and yield (name, url, context)."""
    context = browser.new_context(java_script_enabled=False, base_url=base)
    page = context.new_page()
    page.goto(f"/?lang={lang}")
    yield "home", "/", context
    yield "report-form", "/report", context
    yield "report-form-retaliation", "/report?concern=retaliation", context
    yield "report-form-both", "/report?concern=both", context
    yield "report-form-advice", "/report?concern=advice", context
    choose_concern(page, "retaliation", lang)
    page.locator("#description-text").fill("An account for the accessibility check.")
    page.locator(SEND).click()
    passphrase = passphrase_on(page)
    yield "passphrase", None, context  # the page just rendered, kept in `page`
    yield "caseroom-login", "/caseroom/login", context
    page.goto("/caseroom/login")
    page.locator("#passphrase").fill(passphrase)
    page.locator("form[action='/caseroom/login'] button[type=submit]").click()
    yield "caseroom", "/caseroom", context
    yield "not-found", "/no/such/page", context
    officer = next(o for o in credentials["officers"] if o["office"] == "ECO")  # the report above is retaliation
    office = browser.new_context(java_script_enabled=False, base_url=base)
    login = office.new_page()
    login.goto(f"/officer/login?lang={lang}")
    yield "officer-login", "/officer/login", office
    login.locator("#username").fill(officer["username"])
    login.locator("#password").fill(officer["password"])
    login.locator("#code").fill(totp_now(officer))
    login.locator("form[action='/officer/login'] button[type=submit]").click()
    yield "officer-inbox", "/officer", office
    case = login.locator("table.inbox a").first.get_attribute("href")
    yield "officer-case", case, office
    yield "officer-account", "/officer/account", office
    yield "officer-export", f"{case}/export", office
    context.close()
    office.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_no_wcag_a_or_aa_violation_on_any_page(browser, instance, axe_source, lang):
    base, credentials = instance
    failures = {}
    checker = browser.new_context(java_script_enabled=True, bypass_csp=True, base_url=base)
    for name, url, source_context in pages_of_both_flows(browser, base, credentials, lang):
        checker.clear_cookies()
        checker.add_cookies(source_context.cookies())
        page = checker.new_page()
        if url is None:
            # The passphrase page is the answer to a POST: check its HTML as rendered for the reporter.
            html = source_context.pages[0].content()
            page.set_content(html)
        else:
            page.goto(url)
        page.add_script_tag(content=axe_source)
        result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        violations = [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]
        ]
        if violations:
            failures[name] = violations
        page.close()
    checker.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-report-{lang}.json").write_text(json.dumps(failures, indent=1))
    assert failures == {}, json.dumps(failures, indent=1)


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize(
    "path", ["/", "/report", "/report?concern=retaliation", "/report?concern=both", "/caseroom/login", "/officer/login"]
)
def test_pages_work_at_320_px_wide(browser, instance, path, lang):
    """WCAG 1.4.10 reflow: at 320 px nothing needs horizontal scrolling. (JavaScript is on in
    this context only to measure; the pages have none of their own.)"""
    base, _ = instance
    context = browser.new_context(base_url=base, viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
    name = re.sub(r"\W+", "_", path).strip("_") or "home"
    shot = ARTIFACTS / "320px" / f"{name}-{lang}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()
