"""The reporter's case room pages: open it with the passphrase, read, write, answer, leave.

A message is sent once. Its form carries a one-time token, and the back button, which fetches
the room again with a fresh token, finds an empty box (autocomplete="off": the browser does
not restore what was typed, which also keeps "Leave quickly" then Back from showing it). A
browser that restores it anyway sends the very words of the reporter's latest message: the
service refuses those (409) unless the reporter ticks that they mean it, and the words stay in
the box (reporting.reporter_writes).
"""

import functools
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake import i18n
from intake.service import reporting, sendings
from intake.service.errors import AuthenticationFailed
from intake.web import cookies, csrf
from intake.web.bad_request import BadRequest
from intake.web.downloads import download
from intake.web.forms import read_form, read_small_form
from intake.web.templating import context_of, render, translate
from intake.web.uploads import Upload
from policies.form import CONTROL
from policies.text import N_

SESSION_KEY = cookies.REPORTER
NOTICES = {
    "sent": N_("Your message was sent."),
    "consent": N_("Thank you. Your answer was recorded and the office will see it."),
    "withdrawn": N_("Your report is withdrawn. You can still read and write here."),
    "already_sent": N_("This message was already sent. It was not sent again."),
    "identity_shared": N_("The office may now know who you are."),
    "identity_kept": N_("Who you are stays sealed: the office cannot read it."),
    "identity_read": N_("An officer has already read who you are, so this can no longer be taken back."),
}


def _to_login() -> Response:
    return RedirectResponse("/caseroom/login", status_code=303)


# A page of the open case room: it is handed the session's token (None without one) for its service call.
ReporterPage = Callable[[Request, str | None], Awaitable[Response]]


def reporter_page(page: ReporterPage) -> Callable[[Request], Awaitable[Response]]:
    """Every case room page passes the session's token to the service, which checks it with the request's
    one call; a session it does not know (none, ended, logged out) sends the browser to the passphrase page.
    Written once here, so no page answers an ended session with an error page instead."""

    @functools.wraps(page)
    async def with_session(request: Request) -> Response:
        try:
            return await page(request, request.session.get(SESSION_KEY))
        except AuthenticationFailed:
            return _to_login()

    return with_session


async def login_page(request: Request) -> Response:
    return _login_page(request)


def _login_page(
    request: Request, status_code: int = 200, error: str | None = None, notice: str | None = None, pending: dict | None = None
) -> Response:
    return render(request, "caseroom/reporter/login.html", status_code=status_code, error=error, notice=notice, pending=pending)


async def login(request: Request) -> Response:
    form = await read_small_form(request)
    pending = {"case": form.get("pending_case"), "body": _shown(form.get("pending_body"))} if form.get("pending_body") else None
    try:
        token = await run_in_threadpool(reporting.open_case_room, context_of(request), form.get("passphrase"))
    except AuthenticationFailed as failed:
        return _login_page(request, 401, error=translate(request, i18n.message_of(failed)), pending=pending)
    cookies.restart(request)
    request.session[SESSION_KEY] = token
    if pending:
        # The message kept across the login goes back in its box, not sent: the reporter checks it and sends it.
        return await _room(
            request,
            token,
            {pending["case"]: pending["body"]},
            N_("Your message is back in its box below. It is not sent yet: check it, then press Send."),
        )
    return RedirectResponse("/caseroom", status_code=303)


@reporter_page
async def case_room(request: Request, token: str | None) -> Response:
    return await _room(request, token, {}, NOTICES.get(request.query_params.get("notice", "")))


async def _room(
    request: Request,
    token: str | None,
    drafts: dict[str, str],
    notice: str | None,
    status_code: int = 200,
    ask_again: str | None = None,
) -> Response:
    """The room; `drafts` go back in their cases' boxes; `ask_again`: the case whose message repeats the
    reporter's latest, where a tick sends it all the same. A page of the room's (reporter_page): an
    ended session is the login page."""
    cases = await run_in_threadpool(reporting.case_room, context_of(request), token)
    return render(
        request,
        "caseroom/reporter/room.html",
        status_code=status_code,
        cases=cases,
        drafts=drafts,
        ask_again=ask_again,
        sending=sendings.new_token,
        notice=notice and translate(request, notice),
    )


@reporter_page
async def write(request: Request, token: str | None) -> Response:
    ctx, case_id = context_of(request), request.path_params["case_id"]
    if not token:
        # No case room session at all, so nothing of the body is read: a stranger's post costs no memory.
        # (A session that ended still has its token: its words are read, within the text limit, and kept.)
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise BadRequest(csrf.EXPIRED, status_code=403)  # another site's forged post: the plain refusal
        return _login_page(
            request,
            401,
            notice=translate(request, N_("Your case room is not open, so nothing was sent. Type your passphrase to open it.")),
        )
    try:
        # A stranger's upload is refused before a byte of it is read.
        await run_in_threadpool(reporting.check_access, ctx, token, case_id)
        ended = None
    except AuthenticationFailed as failed:
        ended = failed  # read the text fields anyway (no file is kept): nothing the reporter typed is lost

    def check(form: Upload) -> str:
        if ended is not None:
            raise ended
        return reporting.check_message(ctx, case_id, form.get("body", ""), form.files_chosen > 0, _sending(form))

    form = await read_form(request, check=check, keep_refusal=True)
    if _session_ended(request, form.refused):
        return _login_keeping(request, case_id, form.get("body", ""))
    if isinstance(form.refused, sendings.AlreadyReceived):
        return RedirectResponse("/caseroom?notice=already_sent", status_code=303)
    if form.refused is not None:
        raise form.refused
    body, again = form.get("body", ""), form.get("again") == "yes"
    try:
        await run_in_threadpool(reporting.reporter_writes, ctx, token, case_id, body, form.files, _sending(form), again)
    except AuthenticationFailed:
        return _login_keeping(request, case_id, body)
    except sendings.AlreadyReceived:  # a resend that raced the first
        return RedirectResponse("/caseroom?notice=already_sent", status_code=303)
    except sendings.SameAsLast as same:  # most likely the last message, restored by the back button
        return await _room(request, token, {case_id: _shown(body)}, i18n.message_of(same), status_code=409, ask_again=case_id)
    return RedirectResponse("/caseroom?notice=sent", status_code=303)


def _sending(form: Upload) -> str | None:
    return sendings.valid(form.get("sending"))


def _session_ended(request: Request, refused: Exception | None) -> bool:
    """The case room session ended (idle too long), or the cookie is gone (the CSRF token no longer matches
    it) on the reporter's own page: not another site's forged post, which gets the plain refusal."""
    if isinstance(refused, AuthenticationFailed):
        return True
    return (
        isinstance(refused, BadRequest) and refused.status_code == 403 and request.headers.get("sec-fetch-site") != "cross-site"
    )


def _login_keeping(request: Request, case_id: str, body: str) -> Response:
    """The login page holding the message that could not be sent: after the passphrase, it is back in its box."""
    return _login_page(
        request,
        401,
        notice=translate(
            request,
            N_(
                "Your case room had closed, so your message was not sent. It is kept below: type your passphrase "
                "to open the case room again, then check it and send it (files must be chosen again)."
            ),
        ),
        pending={"case": case_id, "body": _shown(body)},
    )


def _shown(text: str) -> str:
    return CONTROL.sub("\ufffd", text)


@reporter_page
async def consent(request: Request, token: str | None) -> Response:
    form = await read_small_form(request)
    answer = {"yes": True, "no": False}.get(form.get("answer", ""))
    await run_in_threadpool(reporting.answer_consent, context_of(request), token, request.path_params["case_id"], answer)
    return RedirectResponse("/caseroom?notice=consent", status_code=303)


@reporter_page
async def identity(request: Request, token: str | None) -> Response:
    """The complainant lets the office know who they are, or takes that back while no one has read it."""
    form = await read_small_form(request)
    agree = {"yes": True, "no": False}.get(form.get("answer", ""))
    shared = await run_in_threadpool(reporting.share_identity, context_of(request), token, request.path_params["case_id"], agree)
    notice = "identity_shared" if agree else ("identity_read" if shared else "identity_kept")
    return RedirectResponse(f"/caseroom?notice={notice}", status_code=303)


@reporter_page
async def withdraw_page(request: Request, token: str | None) -> Response:
    """The confirmation step before withdrawing: what it means, an optional reason."""
    cases = await run_in_threadpool(reporting.case_room, context_of(request), token)
    chosen = next((c for c in cases if c.id == request.path_params["case_id"] and c.withdrawable), None)
    if chosen is None:
        return RedirectResponse("/caseroom", status_code=303)
    return render(request, "caseroom/reporter/withdraw.html", case=chosen)


@reporter_page
async def withdraw(request: Request, token: str | None) -> Response:
    form = await read_small_form(request)
    case_id, reason = request.path_params["case_id"], form.get("reason") or None
    await run_in_threadpool(reporting.withdraw, context_of(request), token, case_id, reason)
    return RedirectResponse("/caseroom?notice=withdrawn", status_code=303)


@reporter_page
async def download_file(request: Request, token: str | None) -> Response:
    case_id, file_id = request.path_params["case_id"], request.path_params["file_id"]
    view, content = await run_in_threadpool(reporting.open_file, context_of(request), token, case_id, file_id)
    return download(view, content)


async def logout(request: Request) -> Response:
    """Leave the case room: the session ends, and the browser forgets this site's cookies and cache.
    "Leave quickly" does the same, then goes to an ordinary site."""
    form = await read_small_form(request)
    await run_in_threadpool(reporting.leave_case_room, context_of(request), request.session.get(SESSION_KEY))
    request.session.clear()
    forget = {"Clear-Site-Data": '"cache", "cookies", "storage"'}
    if form.get("quick"):
        # CSP's form-action forbids a form's redirect to another site; a refresh of this page is not a form's.
        return render(request, "caseroom/reporter/leaving.html", headers=forget)
    return RedirectResponse("/", status_code=303, headers=forget)
