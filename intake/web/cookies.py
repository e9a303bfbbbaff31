"""What the signed session cookie carries, by name, and starting it afresh at login.

The cookie is signed, not encrypted: whoever holds the browser can read it, so it holds
as little as it can. Opaque tokens (the keys themselves live server-side, sealed under a
key the token carries: service/sessions.py), the CSRF token, the reader's language, and,
once this browser has filed a report, a keyed digest of each report it filed
(service/sendings.py): it says that a report was sent, which the browser's own history
says too, and nothing of what it said. The cookie has no expiry: it ends with the browser.
A login starts a new cookie, so nothing planted before it survives (no fixation), except
the language and those digests, which the server itself wrote.
"""

from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import i18n
from ..rendering import environment

LANGUAGE = "lang"
REPORTER = "caseroom"  # the reporter's case-room session token
OFFICER = "officer"  # the officer's session token
RECEIPT = "receipt"  # a new passphrase's receipt, from the report's POST to the one page that shows it
SENT = "sent"  # digests of the reports this browser filed: the back button then Send files nothing twice
KEPT = (LANGUAGE, SENT)
DEVICE_DAYS = 180  # a browser an officer logged in from is remembered this long after its last login


def session_cookie(secure: bool) -> str:
    """The session cookie's name: `__Host-` where it is Secure (web/onion.py decides which)."""
    return "__Host-intake" if secure else "intake"


def device_cookie(secure: bool) -> str:
    """The officer's device cookie (officers.device_token): a cookie of its own, not in the session,
    since it outlives the browser's session and a logout (OWASP's device cookies)."""
    return "__Host-intake-device" if secure else "intake-device"


def remember_device(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(
        device_cookie(secure), token, max_age=DEVICE_DAYS * 86400, path="/", secure=secure, httponly=True, samesite="strict"
    )


def restart(request: Request) -> None:
    kept = {name: request.session[name] for name in KEPT if request.session.get(name)}
    request.session.clear()
    request.session.update(kept)


class CrossSiteVisits:
    """Another site's link or form never logs anybody out (#24 item 9).

    The session cookie is SameSite=Strict, so a browser that follows another site's link (or posts
    its form) to here sends no cookie, and says so: `Sec-Fetch-Site: cross-site`. Whatever page then
    touched the session (every page makes a CSRF token) would set a fresh, empty cookie over the one
    holding the reporter's or officer's token: one link on any site, and they are logged out. So a
    response to a cross-site request never sets a cookie, and a cross-site navigation (GET) gets a
    small page that re-enters this site at the same address, from this site (a meta refresh, and a
    link for browsers that do not follow it): that request carries the cookie and gets the page,
    with a CSRF token that is in the session. A first visit from a link keeps its session the same
    way. Browsers that send no Sec-Fetch-Site (older ones) are served as before.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fetch = _fetch_headers(scope) if scope["type"] == "http" else {}
        if fetch.get("site") != "cross-site":
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD") and fetch.get("mode") == "navigate" and not scope["path"].startswith(NOT_PAGES):
            await _re_entry(scope, send)
            return

        async def without_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [(k, v) for k, v in message["headers"] if k.lower() != b"set-cookie"]}
            await send(message)

        await self.app(scope, receive, without_cookies)


NOT_PAGES = ("/api/", "/static/")  # no session there: the API takes Bearer tokens, and files are files


def _fetch_headers(scope: Scope) -> dict[str, str]:
    """The browser's Sec-Fetch-Site and Sec-Fetch-Mode, as "site" and "mode"."""
    return {
        name.decode("latin-1")[len("sec-fetch-") :]: value.decode("latin-1").strip().lower()
        for name, value in scope["headers"]
        if name in (b"sec-fetch-site", b"sec-fetch-mode")
    }


def re_entry_target(scope: Scope) -> str:
    """The address asked for, as a path of this origin: one leading slash (never "//host" or "/\\host",
    which a browser reads as another site), and every other character percent-encoded as it came."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    path = "/" + quote(raw.decode("latin-1").lstrip("/\\"), safe=URL_SAFE)
    query = quote(scope.get("query_string", b"").decode("latin-1"), safe=URL_SAFE + "?")
    return f"{path}?{query}" if query else path


URL_SAFE = "/%-._~!$&()*+,;=:@"  # not the quotes: the address sits in an attribute and a refresh


async def _re_entry(scope: Scope, send: Send) -> None:
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    lang = i18n.valid(query.get("lang")) or i18n.negotiate(headers.get("accept-language"))
    page = environment(lang).get_template("intake/re_entry.html").render(target=re_entry_target(scope))
    response = HTMLResponse(page, headers={"Content-Language": lang})
    await response(scope, _no_body_receive, send)


async def _no_body_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
