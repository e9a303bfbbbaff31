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


def report(client, concern="retaliation", description="Retaliation after audit", details="in May, by my manager"):
    """File a retaliation report through the HTML form; the answer is the passphrase page (after the redirect).

    `details` goes into every free-text answer, so hostile text reaches every place an officer reads it."""
    response = post_form(
        client,
        "/report",
        {
            "concern": concern,
            "description": description,
            "q.protected_activity": "cooperated_audit_investigation",
            "q.protected_activity_on": details,
            "q.reported_to": details,
            "q.adverse_actions": ["non_selection", "other"],
            "q.adverse_actions.non_selection.when": details,
            "q.adverse_actions.other.who": details,
            "q.safety_risk": "no",
            "q.protection_wanted": details,
            "q.region": "mena",
        },
    )
    assert response.status_code == 200 and "/report/sent" in str(response.url), response.text
    return response


def test_reporter_and_officer_walk_through(client):
    page = report(client)
    assert "Ethics and Conduct Office" in page.text
    assert "only way back into your case room" in page.text and "Nobody, not even the office, can recover it" in page.text
    passphrase = passphrase_from(page.text)
    assert len(passphrase.split()) == 8

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
    response = post_form(
        client,
        "/report",
        {
            "concern": "retaliation",
            "description": "my words <b>stay</b>",
            "q.safety_risk": "perhaps",
            "q.reported_to": "the auditors",
        },
    )
    assert response.status_code == 400
    assert "is not one of the choices offered" in response.text
    assert "my words &lt;b&gt;stay&lt;/b&gt;" in response.text and ">the auditors</textarea>" in response.text
    assert 'aria-invalid="true"' in response.text
    step_one = post_form(client, "/report", {"concern": "", "description": "kept"})
    assert step_one.status_code == 400 and "choose what your concern is about" in step_one.text


def test_the_passphrase_is_shown_once_and_a_resent_form_files_nothing(client, ctx):
    from sqlmodel import Session, func, select

    from intake.store import Case

    form = client.get("/report?concern=misconduct").text
    sending = re.search(r'name="sending" value="([^"]+)"', form).group(1)
    fields = {"concern": "misconduct", "description": "The fuel is sold.", "sending": sending}
    first = post_form(client, "/report", fields, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/report/sent"
    shown = client.get("/report/sent")
    assert len(passphrase_from(shown.text).split()) == 8
    again = client.get("/report/sent")  # a reload, or the back button
    assert passphrase_from(again.text) == "" and "shown only once" in again.text
    resent = post_form(client, "/report", fields)  # the form sent twice (a reload of the POST, a double click)
    assert resent.status_code == 409 and "already received" in resent.text
    with Session(ctx.engine) as db:
        assert db.exec(select(func.count()).select_from(Case)).one() == 1


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
        report(client, description=f"before {text} after", details=f"detail {text}")
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
    assert "".join(hostile.text).count(f"detail {payload}") == 5


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


def test_no_page_has_script_or_inline_style_or_third_party(client, ctx):
    pages = [client.get(p).text for p in ["/", "/report", "/caseroom/login", "/officer/login"]]
    pages.append(report(client).text)
    for html in pages:
        assert "<script" not in html.lower()
        assert " style=" not in html.lower()
        # The one link away: "Leave quickly", to the ordinary site the policy names, with no referrer.
        quick_exit = f'<a href="{ctx.policy.organization.quick_exit}" rel="noreferrer">'
        assert not re.search(r'(src|href)="(https?:)?//', html.replace(quick_exit, ""))


def test_session_cookie_is_strict_and_httponly(client):
    report_page = report(client)
    response = post_form(client, "/caseroom/login", {"passphrase": passphrase_from(report_page.text)}, follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_server_error_page_still_carries_the_security_headers(ctx):
    from starlette.testclient import TestClient

    from intake.app import create_app

    from ..schema import drop_schema

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
        assert len(passphrase_from(response.text).split()) == 8
