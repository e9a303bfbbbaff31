"""Officer pages: login, the office's inbox, a case, reply, acknowledge."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake.service import casework, officers
from intake.service.attachments import discard
from intake.service.errors import AuthenticationFailed, TooManyAttempts
from intake import i18n
from intake.markers import N_
from intake.web import cookies
from intake.web.downloads import download
from intake.web.forms import read_form, read_small_form
from intake.web.templating import language, render, system_messages


SESSION_KEY = "officer"
NOTICES = {
    "sent": N_("Your reply was sent."),
    "moved": N_("The case moved on. The complainant sees the new status in the case room."),
    "consent": N_("The complainant is asked for consent in the case room."),
    "referred": N_("The case was referred to OIG. The complainant was told in the case room."),
    "recorded": N_("Recorded."),
    "warned": N_("The warning is in the case room."),
}


async def _officer(request: Request) -> officers.OfficerSession | None:
    try:
        return await run_in_threadpool(officers.current, request.app.state.ctx, request.session.get(SESSION_KEY))
    except AuthenticationFailed:
        return None


def _to_login() -> Response:
    return RedirectResponse("/officer/login", status_code=303)


async def login_page(request: Request) -> Response:
    return render(request, "officer_login.html", officer=None, error=None)


async def login(request: Request) -> Response:
    form = await read_small_form(request)
    try:
        token = await run_in_threadpool(officers.log_in, request.app.state.ctx, form.get("username", ""), form.get("password", ""),
                                        form.get("code", ""))
    except AuthenticationFailed as failed:
        return render(request, "officer_login.html", status_code=401, officer=None, error=i18n.gettext(language(request), i18n.message_of(failed)))
    except TooManyAttempts as wait:
        return render(request, "officer_login.html", status_code=429, officer=None, error=i18n.gettext(language(request), i18n.message_of(wait)),
                      headers={"Retry-After": str(wait.retry_after)})
    cookies.restart(request)
    request.session[SESSION_KEY] = token
    return RedirectResponse("/officer", status_code=303)


async def inbox(request: Request) -> Response:
    officer = await _officer(request)
    if officer is None:
        return _to_login()
    cases = await run_in_threadpool(casework.inbox, request.app.state.ctx, officer)
    return render(request, "officer_inbox.html", officer=officer, cases=cases)


async def case(request: Request) -> Response:
    officer = await _officer(request)
    if officer is None:
        return _to_login()
    detail = await run_in_threadpool(casework.open_case, request.app.state.ctx, officer, request.path_params["case_id"])
    notice = NOTICES.get(request.query_params.get("notice", ""))
    notice = notice and i18n.gettext(language(request), notice)
    return render(request, "officer_case.html", officer=officer, case=detail, notice=notice,
                  system=system_messages(request, detail.messages))


async def reply(request: Request) -> Response:
    officer = await _officer(request)
    if officer is None:
        return _to_login()
    ctx = request.app.state.ctx
    form = await read_form(request)
    case_id = request.path_params["case_id"]
    try:
        await run_in_threadpool(casework.reply, ctx, officer, case_id, form.get("body", ""), form.files)
    except BaseException:
        await run_in_threadpool(discard, ctx, form.files)
        raise
    return RedirectResponse(f"/officer/cases/{case_id}?notice=sent", status_code=303)


async def download_file(request: Request) -> Response:
    officer = await _officer(request)
    if officer is None:
        return _to_login()
    view, content = await run_in_threadpool(casework.open_file, request.app.state.ctx, officer,
                                            request.path_params["case_id"], request.path_params["file_id"])
    return download(view, content)


async def _case_action(request: Request, action, notice: str, *fields: str) -> Response:
    """Run one case action from a small form and go back to the case with a notice."""
    officer = await _officer(request)
    if officer is None:
        return _to_login()
    form = await read_small_form(request)
    case_id = request.path_params["case_id"]
    await run_in_threadpool(action, request.app.state.ctx, officer, case_id, *(form.get(f) or None for f in fields))
    return RedirectResponse(f"/officer/cases/{case_id}?notice={notice}", status_code=303)


async def transition(request: Request) -> Response:
    return await _case_action(request, casework.transition, "moved", "to", "note")


async def request_consent(request: Request) -> Response:
    return await _case_action(request, casework.request_consent, "consent")


async def refer(request: Request) -> Response:
    return await _case_action(request, _refer_to_oig, "referred", "reason")


def _record(ctx, officer, case_id, choice, note):
    """The form's one select holds "protective_measure:<id>" or "onward_referral:<id>"."""
    kind, _, item = (choice or "").partition(":")
    return casework.record_action(ctx, officer, case_id, kind, item, note or "")


async def record_action(request: Request) -> Response:
    return await _case_action(request, _record, "recorded", "action", "note")


def _refer_to_oig(ctx, officer, case_id, reason):
    return casework.refer(ctx, officer, case_id, "OIG", reason)


async def warn(request: Request) -> Response:
    return await _case_action(request, casework.warn_of_abandonment, "warned")


async def logout(request: Request) -> Response:
    await read_small_form(request)
    await run_in_threadpool(officers.log_out, request.app.state.ctx, request.session.get(SESSION_KEY))
    request.session.clear()
    return RedirectResponse("/officer/login", status_code=303, headers={"Clear-Site-Data": '"cache", "cookies", "storage"'})
