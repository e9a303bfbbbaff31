"""The HTML pages: the reporter and officer flows without JavaScript, escaping, headers."""

import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from starlette.routing import Mount, Route

from intake.app import routes
from intake.web.headers import SECURITY_HEADERS

from ..conftest import PASSWORDS
from ..helpers import html_login, post_form

FORM = {"content-type": "application/x-www-form-urlencoded"}


def passphrase_from(html: str) -> str:
    return " ".join(re.findall(r'<span class="word">([^<]+)</span>', html))


def report(client, concern="retaliation", description="Retaliation after audit"):
    response = post_form(
        client,
        "/report",
        {
            "concern": concern,
            "description": description,
            "protected_activity": "cooperated_audit_investigation",
            "adverse_actions": ["non_selection", "other"],
            "region": "mena",
            "happened": "May",
        },
    )
    assert response.status_code == 200, response.text
    return response


def test_reporter_and_officer_walk_through(client):
    page = report(client)
    assert "Ethics and Conduct Office" in page.text
    assert "only way back into your case room" in page.text and "Nobody, not even the office, can recover it" in page.text
    passphrase = passphrase_from(page.text)
    assert len(passphrase.split()) == 7

    room = post_form(client, "/caseroom/login", {"passphrase": passphrase.upper()}, follow_redirects=True)
    assert room.status_code == 200 and "Your case room" in room.text and "Received" in room.text
    post_form(client, "/caseroom/logout")
    assert "Open your case room" in client.get("/caseroom", follow_redirects=True).text

    html_login(client, "eco-1")
    inbox = client.get("/officer")
    case_id = re.search(r'href="/officer/cases/([A-Z0-9-]+)"', inbox.text).group(1)
    case = client.get(f"/officer/cases/{case_id}")
    assert "Retaliation after audit" in case.text and "Middle East" in case.text
    post_form(client, f"/officer/cases/{case_id}/transitions", {"to": "acknowledged"})
    post_form(client, f"/officer/cases/{case_id}/messages", {"body": "Please tell us more."})
    post_form(client, "/officer/logout")
    assert client.get("/officer", follow_redirects=False).status_code == 303

    room = post_form(client, "/caseroom/login", {"passphrase": passphrase}, follow_redirects=True)
    assert "Please tell us more." in room.text and "Acknowledged" in room.text


def test_form_errors_keep_what_was_typed(client):
    response = post_form(client, "/report", {"concern": "", "description": "my words <b>stay</b>"})
    assert response.status_code == 400
    assert "choose what your concern is about" in response.text
    assert "my words &lt;b&gt;stay&lt;/b&gt;" in response.text
    assert 'aria-invalid="true"' in response.text


def test_wrong_passphrase_page(client):
    response = post_form(client, "/caseroom/login", {"passphrase": "not the right words at all friend"})
    assert response.status_code == 401
    assert "No case room opens with this passphrase" in response.text


def test_wrong_officer_password_page(client):
    response = post_form(client, "/officer/login", {"username": "eco-1", "password": "wrong wrong wrong", "code": "123456"})
    assert response.status_code == 401 and "not right" in response.text


class Inventory(HTMLParser):
    """Every tag and attribute a browser would build from a page, and its visible text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.text = [], [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "<svg/onload=alert(1)>",
        '<a href="javascript:alert(1)">click</a>',
        "</textarea><script>alert(1)</script>",
        "<style>body{display:none}</style>",
    ],
)
def test_hostile_report_text_is_escaped_for_officers(client, payload):
    html_login(client, "eco-1")

    def officer_view(text: str) -> Inventory:
        report(client, description=f"before {text} after")
        case_id = re.search(
            r'<tr class="unread">\s*<td class="case-id"><a href="/officer/cases/([A-Z0-9-]+)"', client.get("/officer").text
        ).group(1)
        post_form(client, f"/officer/cases/{case_id}/messages", {"body": f"quoted: {text}"})
        return Inventory(client.get(f"/officer/cases/{case_id}").text)

    benign, hostile = officer_view("plain words"), officer_view(payload)
    # The hostile page has exactly the elements and attributes of the benign one: nothing was injected.
    assert Counter(hostile.tags) == Counter(benign.tags)
    assert len(hostile.attributes) == len(benign.attributes)
    assert not [a for a in hostile.attributes if a[0].startswith("on") or (a[1] or "").startswith("javascript:")]
    assert f"before {payload} after" in "".join(hostile.text)
    assert f"quoted: {payload}" in "".join(hostile.text)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "ECO-0000000000", path)


def every_route():
    for route in routes():
        if isinstance(route, Route):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, concrete(route.path)
        elif isinstance(route, Mount) and route.path == "/api/v1":
            for sub in route.routes:
                for method in sorted(sub.methods - {"HEAD"}):
                    yield method, "/api/v1" + concrete(sub.path)
    yield "GET", "/static/style.css"
    yield "GET", "/no/such/page"
    yield "GET", "/api/v1/no-such-route"


@pytest.mark.parametrize("method, path", list(every_route()))
def test_every_response_carries_the_security_headers(client, method, path):
    response = client.request(
        method, path, headers=FORM if method == "POST" and not path.startswith("/api") else {}, follow_redirects=False
    )
    assert response.status_code < 500, (method, path, response.status_code)
    for name, value in SECURITY_HEADERS:
        assert response.headers.get(name.decode()) == value.decode(), (method, path, name)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
    assert "server" not in response.headers


def test_no_page_has_script_or_inline_style_or_third_party(client):
    pages = [client.get(p).text for p in ["/", "/report", "/caseroom/login", "/officer/login"]]
    pages.append(report(client).text)
    for html in pages:
        assert "<script" not in html.lower()
        assert " style=" not in html.lower()
        assert not re.search(r'(src|href)="(https?:)?//', html)


def test_session_cookie_is_strict_and_httponly(client):
    report_page = report(client)
    response = post_form(client, "/caseroom/login", {"passphrase": passphrase_from(report_page.text)}, follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_server_error_page_still_carries_the_security_headers(ctx):
    from starlette.testclient import TestClient

    from intake.app import create_app
    from intake.store import drop_schema

    drop_schema(ctx.engine)  # every database call now fails: the app must answer 500
    with TestClient(create_app(ctx), raise_server_exceptions=False) as broken:
        response = broken.post(
            "/api/v1/officer/session", json={"username": "eco-1", "password": PASSWORDS["eco-1"], "totp": "123456"}
        )
    assert response.status_code == 500
    assert "eco officer password" not in response.text
    for name, value in SECURITY_HEADERS:
        assert response.headers.get(name.decode()) == value.decode()


def test_the_longest_valid_account_in_any_script_is_accepted(client):
    for char in ("é", "中", "\U0001f600"):
        response = post_form(client, "/report", {"concern": "misconduct", "description": char * 50_000})
        assert response.status_code == 200, (char, response.status_code)
        assert len(passphrase_from(response.text).split()) == 7
