"""Officer pages: login, the office's inbox, a case, reply, acknowledge."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake.service import officers
from intake.service.attachments import discard
from intake.service.errors import AuthenticationFailed
from intake.web.downloads import download
from intake.web.forms import read_form, read_small_form
from intake.web.templating import render

from .statuses import STATUS_LABELS

SESSION_KEY = "officer"
NOTICES = {"sent": "Your reply was sent.", "acknowledged": "The reporter will see that the report was acknowledged."}


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
        token = await run_in_threadpool(officers.log_in, request.app.state.ctx, form.get("username", ""), form.get("password", ""))
    except AuthenticationFailed as failed:
        return render(request, "officer_login.html", status_code=401, officer=None, error=str(failed))
    request.session.clear()
    request.session[SESSION_KEY] = token
    return RedirectResponse("/officer", status_code=303)


async def inbox(request: Request) -> Response:
    officer = await _officer(request)
    if officer is None:
        return _to_login()
    cases = await run_in_threadpool(officers.inbox, request.app.state.ctx, officer)
    return render(request, "officer_inbox.html", officer=officer, cases=cases, status_labels=STATUS_LABELS)


async def case(request: Request) -> Response:
    officer = await _officer(request)
    if officer is None:
        return _to_login()
    detail = await run_in_threadpool(officers.open_case, request.app.state.ctx, officer, request.path_params["case_id"])
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return render(request, "officer_case.html", officer=officer, case=detail, notice=notice, status_labels=STATUS_LABELS)


async def reply(request: Request) -> Response:
    officer = await _officer(request)
    if officer is None:
        return _to_login()
    ctx = request.app.state.ctx
    form = await read_form(request)
    case_id = request.path_params["case_id"]
    try:
        await run_in_threadpool(officers.reply, ctx, officer, case_id, form.get("body", ""), form.files)
    except BaseException:
        await run_in_threadpool(discard, ctx, form.files)
        raise
    return RedirectResponse(f"/officer/cases/{case_id}?notice=sent", status_code=303)


async def download_file(request: Request) -> Response:
    officer = await _officer(request)
    if officer is None:
        return _to_login()
    view, content = await run_in_threadpool(officers.open_file, request.app.state.ctx, officer,
                                            request.path_params["case_id"], request.path_params["file_id"])
    return download(view, content)


async def acknowledge(request: Request) -> Response:
    officer = await _officer(request)
    if officer is None:
        return _to_login()
    case_id = request.path_params["case_id"]
    await run_in_threadpool(officers.acknowledge, request.app.state.ctx, officer, case_id)
    return RedirectResponse(f"/officer/cases/{case_id}?notice=acknowledged", status_code=303)


async def logout(request: Request) -> Response:
    await run_in_threadpool(officers.log_out, request.app.state.ctx, request.session.get(SESSION_KEY))
    request.session.clear()
    return RedirectResponse("/officer/login", status_code=303, headers={"Clear-Site-Data": '"cache", "cookies", "storage"'})
