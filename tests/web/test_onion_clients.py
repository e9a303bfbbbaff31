"""Every onion client served (issue 26): the deployment as shipped (INTAKE_SECURE_COOKIES=1 and its
onion address configured), driven through the real app over HTTP.

The clients are httpx's, whose cookie jar (the standard library's) sends a Secure cookie back over
https only and knows nothing of .onion: the way Chrome or Firefox behind Orbot, Onion Browser and
curl behave over http://...onion. Tor Browser sends back whatever they send back, and more.
"""

import dataclasses
import re
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
from starlette.testclient import TestClient

from intake.app import create_app
from intake.service.context import Context

from ..helpers import csrf, html_login, post_form
from .test_pages import passphrase_from, report
from .test_sent_once import cases

ONION = "intakeonionservicex2345abcdefghijklmnopqrstuvwxyz234567d.onion"
CLEARNET = "https://report.example.org"


@pytest.fixture
def shipped(ctx: Context) -> Context:
    """The instance as the shipped deploy files run it: secure cookies, and its onion address known."""
    ctx.settings = dataclasses.replace(ctx.settings, secure_cookies=True, onion_address=ONION)
    return ctx


@pytest.fixture
def onion(shipped: Context) -> Iterator[TestClient]:
    """A stock browser over Tor: plain http to the onion address."""
    with TestClient(create_app(shipped), base_url=f"http://{ONION}") as client:
        yield client


@pytest.fixture
def clearnet(shipped: Context) -> Iterator[TestClient]:
    with TestClient(create_app(shipped), base_url=CLEARNET) as client:
        yield client


def set_cookies(response) -> dict[str, str]:
    """Each cookie the response sets, by name, with its attributes as sent."""
    return {SimpleCookie(line).popitem()[0]: line for line in response.headers.get_list("set-cookie")}


def test_a_stock_browser_over_the_onion_files_a_report_and_comes_back(onion):
    form = onion.get("/report?concern=retaliation")
    cookie = set_cookies(form)["intake"]
    assert "secure" not in cookie.lower() and "__Host-" not in cookie
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    sent = report(onion)  # the CSRF token came back in the cookie: the form is filed
    assert f"http://{ONION}/caseroom/login" in sent.text  # come back here, over Tor
    room = post_form(onion, "/caseroom/login", {"passphrase": passphrase_from(sent.text)})
    assert room.status_code == 200 and str(room.url).endswith("/caseroom"), room.text
    assert "Ethics and Conduct Office" in room.text


def test_without_the_onion_configured_the_same_browser_cannot_file(ctx):
    """What the shipped deployment did before (issue 26): a Secure cookie over http is never sent back."""
    ctx.settings = dataclasses.replace(ctx.settings, secure_cookies=True)
    with TestClient(create_app(ctx), base_url=f"http://{ONION}") as client:
        assert "secure" in set_cookies(client.get("/report"))["__Host-intake"].lower()
        refused = client.post("/report", data={"concern": "misconduct", "description": "x", "csrf": csrf(client)})
    assert refused.status_code == 400 and "Your session had ended, so nothing was sent" in refused.text
    assert cases(ctx) == 0


def test_clearnet_https_keeps_host_prefixed_secure_cookies(clearnet):
    cookie = set_cookies(clearnet.get("/report"))["__Host-intake"]
    assert re.search(r"(?i); secure", cookie) and "path=/" in cookie and "domain" not in cookie.lower()
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    sent = report(clearnet)  # no public address configured here: the one the browser used
    assert f"{CLEARNET}/caseroom/login" in sent.text


def test_officer_device_cookie_follows_the_same_rule(onion, clearnet):
    over_onion = set_cookies(html_login(onion, "eco-1").history[0])
    assert "secure" not in over_onion["intake-device"].lower() and "httponly" in over_onion["intake-device"].lower()
    assert onion.get("/officer", follow_redirects=False).status_code == 200
    over_clearnet = set_cookies(html_login(clearnet, "oig-1").history[0])
    assert "secure" in over_clearnet["__Host-intake-device"].lower()
    assert clearnet.get("/officer", follow_redirects=False).status_code == 200


def test_a_forged_onion_host_on_the_clearnet_changes_nothing_for_others(onion, clearnet, shipped):
    """Claiming the onion's name gets the claimant, alone, the onion's cookie; the clearnet side never
    reads that cookie, so it cannot be planted on (or downgrade) anybody else's clearnet session."""
    victim = report(clearnet)  # a browser on the clearnet, holding its __Host- session
    with TestClient(create_app(shipped), base_url=CLEARNET, headers={"host": ONION}) as forger:
        forged = forger.get("/report")
    assert set(set_cookies(forged)) == {"intake"} and "onion-location" not in forged.headers
    # The victim's browser goes on as before, under its Secure cookie.
    room = post_form(clearnet, "/caseroom/login", {"passphrase": passphrase_from(victim.text)})
    assert room.status_code == 200 and str(room.url).endswith("/caseroom")
    assert "secure" in set_cookies(room.history[0])["__Host-intake"].lower()
    # A valid onion-side session, its cookie handed to the clearnet side, is not read there.
    entered = post_form(onion, "/caseroom/login", {"passphrase": passphrase_from(victim.text)})
    assert str(entered.url).endswith("/caseroom")
    with TestClient(create_app(shipped), base_url=CLEARNET, cookies={"intake": onion.cookies["intake"]}) as stranger:
        assert stranger.get("/caseroom", follow_redirects=False).status_code == 303
    with TestClient(create_app(shipped), base_url=f"http://{ONION}", cookies={"intake": onion.cookies["intake"]}) as same:
        assert same.get("/caseroom", follow_redirects=False).status_code == 200  # the same cookie where it belongs


def test_onion_location_on_clearnet_responses_only(onion, clearnet):
    page = clearnet.get("/report?concern=misconduct&lang=fr")
    assert page.headers["onion-location"] == f"http://{ONION}/report?concern=misconduct&lang=fr"
    assert clearnet.get("/no/such/page").headers["onion-location"] == f"http://{ONION}/no/such/page"
    assert "onion-location" not in onion.get("/report").headers
    assert "onion-location" not in onion.get("/no/such/page").headers


def test_onion_location_carries_a_path_only_as_a_path_of_the_onion(clearnet):
    """A path cannot make the header name another host, or split it."""
    for path, expected in [
        ("//evil.example/x", "/evil.example/x"),
        ("/a%0d%0aSet-Cookie:%20x=1", "/a%0d%0aSet-Cookie:%20x=1"),
        ("/caf%C3%A9?q=%22x%22", "/caf%C3%A9?q=%22x%22"),
    ]:
        header = clearnet.get(CLEARNET + path).headers["onion-location"]
        assert header == f"http://{ONION}{expected}", (path, header)


def test_no_onion_location_without_an_onion(client):
    assert "onion-location" not in client.get("/").headers


def test_leave_quickly_stays_on_the_onion_for_onion_visitors(onion, clearnet, shipped):
    organization = shipped.policy.organization
    assert organization.quick_exit_onion != organization.quick_exit
    assert f'href="{organization.quick_exit_onion}"' in onion.get("/").text
    assert f'href="{organization.quick_exit}"' in clearnet.get("/").text
    assert organization.quick_exit_onion not in clearnet.get("/").text
    # From the case room, the quick logout's page sends them on the same way.
    sent = report(onion)
    post_form(onion, "/caseroom/login", {"passphrase": passphrase_from(sent.text)})
    left = post_form(onion, "/caseroom/logout", {"quick": "1"})
    assert f'content="0; url={organization.quick_exit_onion}"' in left.text


def test_come_back_address_is_configured_never_the_host_header(shipped):
    """A clearnet visitor is told the configured public address, whatever Host they sent; an onion
    visitor the onion."""
    shipped.settings = dataclasses.replace(shipped.settings, public_address="https://report.example.org/")
    with TestClient(create_app(shipped), base_url="https://attacker.example") as client:
        sent = report(client)
    assert "https://report.example.org/caseroom/login" in sent.text and "attacker.example" not in sent.text
    with TestClient(create_app(shipped), base_url=f"http://{ONION.upper()}:80") as client:
        sent = report(client)
    assert f"http://{ONION}/caseroom/login" in sent.text


@pytest.mark.parametrize(
    "host, on_the_onion",
    [
        (ONION, True),
        (f"{ONION}:80", True),
        (ONION.upper(), True),
        (f"www.{ONION}", True),  # Tor sends an onion's subdomains to the same service
        (f"{ONION}.", True),
        (f"{ONION}.evil.example", False),
        (f"x{ONION}", False),
        ("report.example.org", False),
        ("", False),
    ],
)
def test_only_the_configured_onion_is_the_onion(shipped, host, on_the_onion):
    with TestClient(create_app(shipped), base_url=CLEARNET, headers={"host": host}) as client:
        response = client.get("/report")
    assert set(set_cookies(response)) == ({"intake"} if on_the_onion else {"__Host-intake"})
    assert ("onion-location" in response.headers) is not on_the_onion
