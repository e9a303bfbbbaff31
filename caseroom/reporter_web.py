"""The reporter's case room pages: log in with the passphrase, read, write, leave."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake.service import reporting
from intake.service.attachments import discard
from intake.service.errors import AuthenticationFailed
from intake import i18n
from intake.markers import N_
from intake.web import cookies
from intake.web.downloads import download
from intake.web.forms import read_form, read_small_form
from intake.web.templating import language, render, system_messages


SESSION_KEY = "caseroom"
NOTICES = {"sent": N_("Your message was sent."), "consent": N_("Thank you. Your answer was recorded and the office will see it.")}


async def login_page(request: Request) -> Response:
    return render(request, "caseroom_login.html", error=None)


async def login(request: Request) -> Response:
    form = await read_small_form(request)
    ctx = request.app.state.ctx
    try:
        token = await run_in_threadpool(reporting.open_case_room, ctx, form.get("passphrase", ""))
    except AuthenticationFailed as failed:
        return render(request, "caseroom_login.html", status_code=401, error=i18n.gettext(language(request), i18n.message_of(failed)))
    cookies.restart(request)
    request.session[SESSION_KEY] = token
    return RedirectResponse("/caseroom", status_code=303)


async def case_room(request: Request) -> Response:
    ctx = request.app.state.ctx
    try:
        cases = await run_in_threadpool(reporting.case_room, ctx, request.session.get(SESSION_KEY))
    except AuthenticationFailed:
        return RedirectResponse("/caseroom/login", status_code=303)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    notice = notice and i18n.gettext(language(request), notice)
    system = system_messages(request, [m for case in cases for m in case.messages])
    return render(request, "caseroom.html", cases=cases, notice=notice, system=system)


async def write(request: Request) -> Response:
    ctx = request.app.state.ctx
    try:
        await run_in_threadpool(reporting.check_access, ctx, request.session.get(SESSION_KEY), request.path_params["case_id"])
    except AuthenticationFailed:
        return RedirectResponse("/caseroom/login", status_code=303)
    form = await read_form(request)
    try:
        await run_in_threadpool(reporting.reporter_writes, ctx, request.session.get(SESSION_KEY), request.path_params["case_id"],
                                form.get("body", ""), form.files)
    except AuthenticationFailed:
        await run_in_threadpool(discard, ctx, form.files)
        return RedirectResponse("/caseroom/login", status_code=303)
    except BaseException:
        await run_in_threadpool(discard, ctx, form.files)
        raise
    return RedirectResponse("/caseroom?notice=sent", status_code=303)


async def consent(request: Request) -> Response:
    form = await read_small_form(request)
    answer = {"yes": True, "no": False}.get(form.get("answer", ""))
    try:
        await run_in_threadpool(reporting.answer_consent, request.app.state.ctx, request.session.get(SESSION_KEY),
                                request.path_params["case_id"], answer)
    except AuthenticationFailed:
        return RedirectResponse("/caseroom/login", status_code=303)
    return RedirectResponse("/caseroom?notice=consent", status_code=303)


async def download_file(request: Request) -> Response:
    ctx = request.app.state.ctx
    try:
        view, content = await run_in_threadpool(reporting.open_file, ctx, request.session.get(SESSION_KEY),
                                                request.path_params["case_id"], request.path_params["file_id"])
    except AuthenticationFailed:
        return RedirectResponse("/caseroom/login", status_code=303)
    return download(view, content)


async def logout(request: Request) -> Response:
    await read_small_form(request)
    await run_in_threadpool(reporting.leave_case_room, request.app.state.ctx, request.session.get(SESSION_KEY))
    request.session.clear()
    return RedirectResponse("/", status_code=303, headers={"Clear-Site-Data": '"cache", "cookies", "storage"'})
