"""The API answers its own clients, not other web pages.

A page on another site can make a visitor's browser POST a form (urlencoded, multipart or
text/plain) anywhere, without asking; JSON and an Authorization header need the browser to
ask first (CORS), and this API never says yes. So a state-changing request is refused when
the browser says it comes from another site (`Sec-Fetch-Site`, or an `Origin` that is not
this host), and a form-shaped body must carry the `X-Intake-Client` header, which no page
of another site can add. The no-JavaScript pages are not under /api/v1: they keep their
CSRF tokens.
"""

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from policies.text import N_

from ..web.bad_request import BadRequest

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
CLIENT_HEADER = "x-intake-client"
REFUSED = N_("This address takes requests from intake's clients only, not from other web pages.")


class CrossSiteGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
            if _from_another_site(headers) or _form_without_client_header(headers):
                raise BadRequest(REFUSED, status_code=403)
        await self.app(scope, receive, send)


def _from_another_site(headers: dict[str, str]) -> bool:
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower()


def _form_without_client_header(headers: dict[str, str]) -> bool:
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in FORM_TYPES and not headers.get(CLIENT_HEADER)
