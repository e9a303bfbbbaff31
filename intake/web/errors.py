"""Turning refusals into clear HTTP answers: HTML for pages, JSON under /api/."""

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from policies import InvalidReport
from policies.text import N_

from .. import i18n
from ..service import officers
from ..service.errors import (
    AuthenticationFailed,
    Busy,
    Conflict,
    NotFound,
    StorageFull,
    TooLarge,
    TooManyAttempts,
    Unavailable,
)
from ..service.officers import OfficerSession
from ..store import OUTAGES, unavailable
from . import cookies, outage
from .bad_request import BadRequest
from .limits import BodyStalled, BodyTooLarge
from .templating import context_of, language, render

log = logging.getLogger(__name__)
TITLES = {
    400: N_("Something in the request is wrong"),
    401: N_("Please log in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("Not possible now"),
    413: N_("Too large"),
    415: N_("Wrong kind of request"),
    422: N_("Please check your answers"),
    429: N_("Please wait"),
    503: N_("Busy"),
    408: N_("The upload stalled"),
    507: N_("Storage full"),
}


async def error_response(
    request: Request,
    status_code: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    resend: outage.Resend | None = None,
    **extra: object,
) -> Response:
    """The refusal as JSON under /api/, else as a page; `resend`: a form holding what the reader typed."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message, **extra}, status_code=status_code, headers=headers)
    lang = language(request)
    title = i18n.gettext(lang, TITLES.get(status_code, N_("Something went wrong")))
    page = {"title": title, "message": i18n.gettext(lang, message), "resend": resend}
    if request.url.path.startswith("/officer"):
        # The officer keeps their workspace's header (and a way back) on an error page.
        officer = await _officer_or_none(request)
        return render(request, "caseroom/officer/error.html", status_code=status_code, headers=headers, officer=officer, **page)
    return render(request, "intake/error.html", status_code=status_code, headers=headers, **page)


async def _officer_or_none(request: Request) -> OfficerSession | None:
    if getattr(request.state, "database_unavailable", False):
        return None  # the page of an outage does not wait on the database a second time
    try:
        return await run_in_threadpool(officers.current, context_of(request), request.session.get(cookies.OFFICER))
    except Exception:  # noqa: BLE001 (no session, or the error page of an error: the page renders without the name)
        return None


async def on_bad_request(request: Request, error: BadRequest) -> Response:
    return await error_response(request, error.status_code, error.message)


async def on_invalid(request: Request, error: InvalidReport) -> Response:
    return await error_response(request, 422, N_("Some answers need another look."), fields=error.errors)


async def on_not_found(request: Request, error: NotFound) -> Response:
    return await error_response(request, 404, i18n.message_of(error))


async def on_unauthenticated(request: Request, error: AuthenticationFailed) -> Response:
    return await error_response(request, 401, i18n.message_of(error))


async def on_conflict(request: Request, error: Conflict) -> Response:
    allowed = getattr(error, "allowed", None)
    if allowed is None:
        return await error_response(request, 409, i18n.message_of(error))
    return await error_response(request, 409, i18n.message_of(error), allowed=list(allowed))


async def on_busy(request: Request, error: Busy) -> Response:
    return await error_response(request, 503, i18n.message_of(error), headers={"Retry-After": str(error.retry_after)})


async def on_outage(request: Request, error: Exception) -> Response:
    """The database could not be reached (store.unavailable): 503, and on a form, what was typed, to send
    again. Logged by the kind of error only: its message may quote a statement's parameters. Any other
    error of those classes (SQLite names a missing table so) goes on to the 500 page and the log."""
    if not unavailable(error):
        raise error
    log.warning("database unavailable (%s): answered 503", type(error).__name__)
    request.state.database_unavailable = True
    busy = Unavailable()
    headers = {"Retry-After": str(busy.retry_after)}
    return await error_response(request, 503, i18n.message_of(busy), headers=headers, resend=await outage.resend(request))


async def on_too_many(request: Request, error: TooManyAttempts) -> Response:
    return await error_response(request, 429, i18n.message_of(error), headers={"Retry-After": str(error.retry_after)})


async def on_too_large(request: Request, error: BodyTooLarge | TooLarge) -> Response:
    return await error_response(request, 413, i18n.message_of(error))


async def on_stalled(request: Request, error: BodyStalled) -> Response:
    return await error_response(request, 408, i18n.message_of(error), headers={"Connection": "close"})


async def on_storage_full(request: Request, error: StorageFull) -> Response:
    return await error_response(request, 507, i18n.message_of(error))


async def on_disconnect(request: Request, error: ClientDisconnect) -> Response:
    # Nobody is listening any more; the upload's blobs were already removed.
    return await error_response(request, 400, N_("The upload was interrupted. Nothing was kept; please send it again."))


async def on_http(request: Request, error: HTTPException) -> Response:
    messages = {404: N_("There is no page at this address."), 405: N_("This address does not accept that method.")}
    return await error_response(
        request, error.status_code, messages.get(error.status_code, str(error.detail)), headers=error.headers
    )


async def on_server_error(request: Request, error: Exception) -> Response:
    # Deliberately generic: an exception message may carry case data.
    return await error_response(
        request, 500, N_("Something went wrong on our side. Nothing you sent was kept half-way; please try again.")
    )


HANDLERS: dict[Any, Callable[[Request, Any], Awaitable[Response]]] = {
    BadRequest: on_bad_request,
    InvalidReport: on_invalid,
    NotFound: on_not_found,
    AuthenticationFailed: on_unauthenticated,
    Conflict: on_conflict,
    Busy: on_busy,
    **dict.fromkeys(OUTAGES, on_outage),
    TooManyAttempts: on_too_many,
    BodyTooLarge: on_too_large,
    BodyStalled: on_stalled,
    TooLarge: on_too_large,
    StorageFull: on_storage_full,
    ClientDisconnect: on_disconnect,
    HTTPException: on_http,
    Exception: on_server_error,
}
