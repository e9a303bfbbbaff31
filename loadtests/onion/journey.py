"""The reporter's journey in Chromium with JavaScript off, timed: home, the form, a report with a
5 MiB file, the passphrase page, an officer's reply, the case room reopened with the passphrase.

The same steps run against the app on loopback and over the onion, so the two can be compared.
The browsers are set up as Tor Browser at its Safest level would be: no JavaScript, no web fonts,
names resolved by the proxy (socks5 in Chromium sends the host name, and the resolver rule makes
sure nothing is looked up here).
"""

import hashlib
import os
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, Playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS

# The browser tests' Chromium, and as Tor Browser's Safest level: no web fonts.
ONION_CHROMIUM_ARGS = [*CHROMIUM_ARGS, "--disable-remote-fonts"]
EVIDENCE_MIB = 5
FORM_LOADS = 5  # the form's first byte is timed this many times, the median kept (one load is noise)
NAVIGATION_MS = 90_000


@dataclass
class Client:
    """One kind of browser: on loopback, or over the onion as Tor Browser or as a stock browser."""

    name: str
    label: str
    socks_port: int | None = None
    secure_onion: str | None = None  # an onion origin Chromium treats as secure, as Tor Browser does

    def launch(self, playwright: Playwright) -> Browser:
        args = list(ONION_CHROMIUM_ARGS)
        proxy = None
        if self.socks_port:
            proxy = {"server": f"socks5://127.0.0.1:{self.socks_port}"}
            args.append("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")  # no name is resolved here
        if self.secure_onion:
            args.append(f"--unsafely-treat-insecure-origin-as-secure=http://{self.secure_onion}")
        return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args, proxy=proxy)


@dataclass
class Timings:
    """Seconds, measured by the browser (Resource Timing through Playwright) or around a click."""

    form_ttfb: float = 0.0  # GET /report: the request's start to the first byte of the answer (median)
    file_seconds: float = 0.0  # click on Send to the passphrase page shown, the file included
    post_seconds: float = 0.0  # the POST alone: request start to first byte of the redirect
    reopen_seconds: float = 0.0  # passphrase typed to the case room shown
    evidence_bytes: int = 0
    screenshots: list[str] = field(default_factory=list)

    @property
    def upload_mb_per_s(self) -> float:
        return self.evidence_bytes / 1e6 / self.post_seconds if self.post_seconds else 0.0


@dataclass
class Journey:
    """What the reporter was shown that must stay on the onion: where to come back, where to flee."""

    where: str
    quick_exit: str


class JourneyFailed(Exception):
    pass


def evidence() -> bytes:
    """Bytes no compression on the way could shrink, so the upload rate is the wire's."""
    return os.urandom(EVIDENCE_MIB * 1024 * 1024)


def shot(page: Page, out: Path, client: Client, name: str, timings: Timings | None = None) -> None:
    path = out / f"{client.name}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if timings:
        timings.screenshots.append(path.name)


def heading(page: Page) -> str:
    found = page.locator("h1")
    return found.first.inner_text().strip() if found.count() else page.title()


def first_load(browser: Browser, url: str, deadline: float) -> float:
    """Loads `url` until it answers (a new onion can take a few seconds after its descriptor is
    out: introduction and rendezvous circuits); returns when it did, in monotonic seconds."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    last = ""
    try:
        while time.monotonic() < deadline:
            try:
                response = page.goto(url, timeout=30_000)
                if response and response.ok:
                    return time.monotonic()
                last = f"status {response.status if response else 'none'}"
            except Exception as error:  # Playwright's net::ERR_* while the circuits are built  # noqa: BLE001
                last = str(error).splitlines()[0]
            time.sleep(1)
    finally:
        context.close()
    raise JourneyFailed(f"{url} never answered: {last}")


def home_page(browser: Browser, url: str, out: Path, name: str, width: int = 1280, lang: str = "en") -> None:
    """One page load of the home page, in `lang` at `width` px (a phone behind Orbot, say): it must
    answer with the home page's heading, in that language."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        response = page.goto(f"{url}/?lang={lang}", timeout=NAVIGATION_MS)
        if response is None or not response.ok:
            raise JourneyFailed(f"{url} answered {response.status if response else 'nothing'}")
        if page.locator("html").get_attribute("lang") != lang or not page.locator("h1").count():
            raise JourneyFailed(f"{url}/?lang={lang} is not the home page in {lang}: {heading(page)!r}")
        page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    finally:
        context.close()


def report(page: Page, base: str, client: Client, out: Path, timings: Timings, file: bytes) -> tuple[str, str]:
    """Home, the form's two steps, the report with its file sent; returns (passphrase, case id)."""
    page.goto(base + "/")
    if "Report misconduct or retaliation" not in heading(page):
        raise JourneyFailed(f"the home page over {client.label} shows {heading(page)!r}")
    shot(page, out, client, "01-home", timings)
    firsts = []
    for _ in range(FORM_LOADS):
        response = page.goto(base + "/report")
        if response is None or not response.ok:
            raise JourneyFailed(f"the form answered {response.status if response else 'nothing'}")
        firsts.append(response.request.timing["responseStart"] / 1000)  # from the request's start
    timings.form_ttfb = statistics.median(firsts)
    page.locator('input[name="concern"][value="misconduct"]').check()
    page.locator("form[action='/report'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/report\?concern=misconduct$"))
    page.locator("#description-text").fill(f"Fuel sold from the motor pool; sent by {client.label}.")
    page.get_by_label("Evidence files").set_input_files(
        files=[{"name": "ledger.bin", "mimeType": "application/octet-stream", "buffer": file}]
    )
    shot(page, out, client, "02-form", timings)
    started = time.monotonic()
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/report")) as posted:
        page.locator("form[action='/report'] button[type=submit]").click()
    if posted.value.status == 303:
        page.wait_for_url(re.compile(r".*/report/sent$"))
        page.wait_for_load_state("load")
    else:
        page.wait_for_load_state("load")
    timings.file_seconds = time.monotonic() - started
    post_timing = posted.value.request.timing
    timings.post_seconds = (post_timing["responseStart"] - post_timing["requestStart"]) / 1000
    timings.evidence_bytes = len(file)
    if not page.url.endswith("/report/sent"):
        shot(page, out, client, "03-refused", timings)
        raise JourneyFailed(
            f"the report was not filed over {client.label}: the browser shows {page.url} ({heading(page)!r}, "
            f"POST answered {posted.value.status})"
        )
    passphrase = page.locator("#passphrase").inner_text().strip()
    case_id = page.locator("ul.filed strong").first.inner_text().strip()
    shot(page, out, client, "03-passphrase", timings)
    return " ".join(passphrase.split()), case_id


def come_back_address(page: Page) -> str:
    return page.locator("bdi.address").first.inner_text().strip()


def officer_reply(office: httpx.Client, case_id: str, file: bytes, text: str) -> None:
    """The officer (over loopback, as an office works) finds the file intact and answers."""
    case = office.get(f"/api/v1/officer/cases/{case_id}")
    case.raise_for_status()
    (listed,) = case.json()["files"]
    received = office.get(f"/api/v1/officer/cases/{case_id}/files/{listed['id']}")
    received.raise_for_status()
    if hashlib.sha256(received.content).digest() != hashlib.sha256(file).digest():
        raise JourneyFailed(f"the officer's copy of the file differs from what was sent ({len(received.content)} bytes)")
    office.post(f"/api/v1/officer/cases/{case_id}/messages", json={"body": text}).raise_for_status()


def reopen(browser: Browser, base: str, client: Client, passphrase: str, reply: str, out: Path, timings: Timings) -> None:
    """A new browser session (nothing kept from the report) opens the case room and reads the reply."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(NAVIGATION_MS)
    try:
        page.goto(base + "/caseroom/login")
        page.get_by_label("Passphrase").fill(passphrase)
        started = time.monotonic()
        page.get_by_role("button", name="Open").click()
        page.locator("form[action='/caseroom/logout'], .error-summary").first.wait_for()
        # Over Tor the page arrives in pieces and the browser shows each as it comes: wait for all of it.
        page.wait_for_load_state("load")
        timings.reopen_seconds = time.monotonic() - started
        if page.locator("form[action='/caseroom/logout']").count() == 0:
            shot(page, out, client, "04-refused", timings)
            raise JourneyFailed(f"the case room did not open over {client.label}: {heading(page)!r}")
        if not page.get_by_text(reply).first.is_visible():
            shot(page, out, client, "04-no-reply", timings)
            raise JourneyFailed(f"the officer's reply is not in the case room over {client.label}")
        shot(page, out, client, "04-caseroom-reply", timings)
    finally:
        context.close()


def walk(browser: Browser, base: str, client: Client, office: httpx.Client, out: Path) -> tuple[Timings, Journey]:
    """The whole journey; returns its timings and what the passphrase page pointed to."""
    timings = Timings()
    file = evidence()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(NAVIGATION_MS)
    try:
        passphrase, case_id = report(page, base, client, out, timings, file)
        where = come_back_address(page)
        exit_link = page.get_by_role("link", name="Leave quickly").first.get_attribute("href") or ""
    finally:
        context.close()
    reply = f"We received your report and the file ({client.label}). Are you safe?"
    officer_reply(office, case_id, file, reply)
    reopen(browser, base, client, passphrase, reply, out, timings)
    return timings, Journey(where=where, quick_exit=exit_link)
