"""Another site's link or form logs nobody out (#24 item 9).

The session cookie is SameSite=Strict: a browser following another site's link, or posting its
form, sends no cookie and says `Sec-Fetch-Site: cross-site`. The tests play such a browser with
the headers a real one sends, on a second client that holds no cookie, then give the victim's
browser whatever cookie that response set, as the browser would have stored it."""

import re

import pytest
from starlette.testclient import TestClient

from intake.web.cookies import re_entry_target

from ..helpers import file_via_api, html_login, post_form

LINK_FROM_ANOTHER_SITE = {  # a top-level navigation: a click on another site's link
    "sec-fetch-site": "cross-site",
    "sec-fetch-mode": "navigate",
    "sec-fetch-dest": "document",
    "sec-fetch-user": "?1",
    "upgrade-insecure-requests": "1",
    "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
FORM_FROM_ANOTHER_SITE = {  # another site's form, posted at its visitor's browser
    "sec-fetch-site": "cross-site",
    "sec-fetch-mode": "navigate",
    "sec-fetch-dest": "document",
    "origin": "https://elsewhere.example",
}
SAME_ORIGIN_NAVIGATION = {"sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}


def visit_from_another_site(victim: TestClient, method: str, url: str, headers: dict[str, str], **kwargs):
    """The request the victim's browser makes for another site: no cookie. Whatever cookie the answer
    sets, the victim's browser keeps (a Set-Cookie on a top-level navigation is stored)."""
    stranger = TestClient(victim.app, base_url=str(victim.base_url), follow_redirects=False)
    response = stranger.request(method, url, headers=headers, **kwargs)
    for name, value in stranger.cookies.items():
        victim.cookies.set(name, value)
    return response


PAGES = ["/", "/report", "/report?lang=fr", "/caseroom/login", "/caseroom", "/officer", "/officer/login", "/officer/conflicts"]


@pytest.mark.parametrize("url", PAGES)
def test_a_link_from_another_site_logs_no_officer_out(client, url):
    """#24 item 9: the page answering another site's link set a fresh session cookie over the one
    holding the officer's token."""
    assert html_login(client, "eco-1").status_code == 200
    assert client.get("/officer", follow_redirects=False).status_code == 200
    response = visit_from_another_site(client, "GET", url, LINK_FROM_ANOTHER_SITE)
    assert "set-cookie" not in response.headers
    assert client.get("/officer", follow_redirects=False).status_code == 200


@pytest.mark.parametrize("url", ["/report", "/caseroom/login", "/officer/login"])
def test_a_link_from_another_site_logs_no_reporter_out(client, url):
    """#24 item 9, the reporter's side: their case room stays open."""
    filed = file_via_api(client, ["misconduct"], "The fuel is sold.")
    assert post_form(client, "/caseroom/login", {"passphrase": filed["passphrase"]}, follow_redirects=False).status_code == 303
    assert client.get("/caseroom", follow_redirects=False).status_code == 200
    visit_from_another_site(client, "GET", url, LINK_FROM_ANOTHER_SITE)
    assert client.get("/caseroom", follow_redirects=False).status_code == 200


@pytest.mark.parametrize("url", ["/officer/logout", "/caseroom/logout", "/report", "/officer/login"])
def test_a_form_from_another_site_logs_nobody_out(client, url):
    """#24 item 9: a forged post is refused (CSRF), and its refusal sets no cookie either."""
    assert html_login(client, "eco-1").status_code == 200
    response = visit_from_another_site(client, "POST", url, FORM_FROM_ANOTHER_SITE, data={"csrf": "forged"})
    assert response.status_code == 403 and "set-cookie" not in response.headers
    assert client.get("/officer", follow_redirects=False).status_code == 200


def test_a_link_re_enters_from_this_site_and_then_the_page_works(client):
    """The answer to another site's link is a page that goes on to the same address from this site:
    that request carries the cookie (here: the officer's inbox), and a first visit gets its session."""
    assert html_login(client, "eco-1").status_code == 200
    response = visit_from_another_site(client, "GET", "/officer?page=2&lang=fr", LINK_FROM_ANOTHER_SITE)
    assert response.status_code == 200 and "set-cookie" not in response.headers
    assert response.headers["content-language"] == "fr"
    target = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', response.text).group(1)
    assert target.replace("&amp;", "&") == "/officer?page=2&lang=fr"
    assert f'href="{target}"' in response.text  # for a browser that does not follow a refresh
    assert client.get("/officer", headers=SAME_ORIGIN_NAVIGATION, follow_redirects=False).status_code == 200
    newcomer = TestClient(client.app, base_url=str(client.base_url))
    assert newcomer.get("/report", headers=LINK_FROM_ANOTHER_SITE).cookies == {}
    form = newcomer.get("/report", headers=SAME_ORIGIN_NAVIGATION)
    assert form.status_code == 200 and newcomer.cookies  # the re-entry gets the session its form's token is in


def test_files_and_the_api_are_not_re_entered(client):
    """Not navigations, or not pages: served as before, still without a cookie."""
    stylesheet = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "style"}
    style = visit_from_another_site(client, "GET", "/static/style.css", stylesheet)
    assert style.status_code == 200 and "refresh" not in style.text
    api = visit_from_another_site(client, "GET", "/api/v1/officer/cases", LINK_FROM_ANOTHER_SITE)
    assert api.status_code == 401 and api.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("raw_path", "query", "target"),
    [
        (b"//elsewhere.example/x", b"", "/elsewhere.example/x"),
        (b"/\\elsewhere.example", b"", "/elsewhere.example"),
        (b"/x\\y", b"", "/x%5Cy"),
        (b"/report", b'lang=fr&x="><b>', "/report?lang=fr&x=%22%3E%3Cb%3E"),
        (b"/caf%C3%A9", b"", "/caf%C3%A9"),
        (b"/report", b"x=it's", "/report?x=it%27s"),
    ],
)
def test_the_re_entry_stays_on_this_origin(raw_path, query, target):
    """A path that a browser would read as another host ("//host", "/\\host") re-enters as a path here."""
    scope = {"type": "http", "path": raw_path.decode(), "raw_path": raw_path, "query_string": query}
    assert re_entry_target(scope) == target
