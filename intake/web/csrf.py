"""CSRF tokens for every form that changes state.

The token lives in the signed session cookie (SameSite=Strict already keeps other
sites' requests from carrying it) and in a hidden field of every form; a POST whose
field does not match is refused with 403 before anything is stored. The JSON API
takes no cookies, only Bearer tokens, so it needs none.
"""

import hmac
import secrets

from starlette.requests import Request

from policies.text import N_

from .bad_request import BadRequest

FIELD = "csrf"
EXPIRED = N_(
    "This form has expired or did not come from this site. Nothing was sent or kept. "
    "Go back, reload the page and send it again. (This site needs cookies to work.)"
)


def token(request: Request) -> str:
    """The session's token, made on first use."""
    if FIELD not in request.session:
        request.session[FIELD] = secrets.token_urlsafe(32)
    return request.session[FIELD]


def check(request: Request, submitted: str | None) -> None:
    expected = request.session.get(FIELD)
    if not expected or not isinstance(submitted, str) or not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise BadRequest(EXPIRED, status_code=403)
