"""Officer login and logout, and the unlocked officer of a request."""

import functools
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake import i18n
from intake.service import officers
from intake.service.errors import AuthenticationFailed, TooManyAttempts
from intake.web import cookies, onion
from intake.web.forms import read_small_form
from intake.web.templating import context_of, render, translate

SESSION_KEY = cookies.OFFICER


async def officer_of(request: Request) -> officers.OfficerSession | None:
    """The officer whose session this request carries, or None (the page sends them to log in)."""
    try:
        return await run_in_threadpool(officers.current, context_of(request), request.session.get(SESSION_KEY))
    except AuthenticationFailed:
        return None


def to_login() -> Response:
    return RedirectResponse("/officer/login", status_code=303)


# A page that only an officer with an unlocked session sees: it is handed that officer.
OfficerPage = Callable[[Request, officers.OfficerSession], Awaitable[Response]]


def officer_page(page: OfficerPage) -> Callable[[Request], Awaitable[Response]]:
    """Every officer page starts the same way: find the request's officer, or send the browser to the login
    page. Written once here, so no page can forget it, and a request without a session is turned away
    before its form or query is read. The page then reads what it needs, makes its one service call
    and renders."""

    @functools.wraps(page)
    async def with_officer(request: Request) -> Response:
        officer = await officer_of(request)
        if officer is None:
            return to_login()
        return await page(request, officer)

    return with_officer


async def login_page(request: Request) -> Response:
    return _login_page(request)


def _login_page(
    request: Request, status_code: int = 200, refused: Exception | None = None, headers: dict[str, str] | None = None
) -> Response:
    """The login form; after a refused login (401) or too many attempts (429), why, in the officer's language."""
    error = translate(request, i18n.message_of(refused)) if refused else None
    return render(request, "caseroom/officer/login.html", status_code=status_code, officer=None, error=error, headers=headers)


async def login(request: Request) -> Response:
    form = await read_small_form(request)
    ctx = context_of(request)
    secure = onion.secure_cookies(request.scope, ctx.settings)
    device = request.cookies.get(cookies.device_cookie(secure))
    try:
        token = await run_in_threadpool(
            officers.log_in, ctx, form.get("username", ""), form.get("password", ""), form.get("code", ""), device
        )
    except AuthenticationFailed as failed:
        return _login_page(request, 401, failed)
    except TooManyAttempts as wait:
        return _login_page(request, 429, wait, {"Retry-After": str(wait.retry_after)})
    cookies.restart(request)
    request.session[SESSION_KEY] = token
    response = RedirectResponse("/officer", status_code=303)
    cookies.remember_device(response, officers.device_token(ctx, form.get("username", "")), secure)
    return response


async def logout(request: Request) -> Response:
    await read_small_form(request)
    await run_in_threadpool(officers.log_out, context_of(request), request.session.get(SESSION_KEY))
    request.session.clear()  # the session cookie goes with it (Starlette deletes an emptied session's cookie)
    # Not "cookies": the device cookie stays, so this browser's next login is not held up by another's guesses.
    return RedirectResponse("/officer/login", status_code=303, headers={"Clear-Site-Data": '"cache", "storage"'})
