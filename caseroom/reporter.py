"""The reporter's case room pages: open it with the passphrase, read, write, answer, leave."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake import i18n
from intake.service import reporting
from intake.service.errors import AuthenticationFailed
from intake.web import cookies
from intake.web.downloads import download
from intake.web.forms import read_form, read_small_form
from intake.web.templating import context_of, render, translate
from intake.web.uploads import Upload
from policies.text import N_

SESSION_KEY = cookies.REPORTER
NOTICES = {
    "sent": N_("Your message was sent."),
    "consent": N_("Thank you. Your answer was recorded and the office will see it."),
    "withdrawn": N_("Your report is withdrawn. You can still read and write here."),
}


def _to_login() -> Response:
    return RedirectResponse("/caseroom/login", status_code=303)


async def login_page(request: Request) -> Response:
    return render(request, "caseroom/reporter/login.html", error=None)


async def login(request: Request) -> Response:
    form = await read_small_form(request)
    try:
        token = await run_in_threadpool(reporting.open_case_room, context_of(request), form.get("passphrase"))
    except AuthenticationFailed as failed:
        return render(request, "caseroom/reporter/login.html", status_code=401, error=translate(request, i18n.message_of(failed)))
    cookies.restart(request)
    request.session[SESSION_KEY] = token
    return RedirectResponse("/caseroom", status_code=303)


async def case_room(request: Request) -> Response:
    try:
        cases = await run_in_threadpool(reporting.case_room, context_of(request), request.session.get(SESSION_KEY))
    except AuthenticationFailed:
        return _to_login()
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return render(request, "caseroom/reporter/room.html", cases=cases, notice=notice and translate(request, notice))


async def write(request: Request) -> Response:
    ctx, token, case_id = context_of(request), request.session.get(SESSION_KEY), request.path_params["case_id"]
    try:
        # A stranger's upload is refused before a byte of it is read.
        await run_in_threadpool(reporting.check_access, ctx, token, case_id)
    except AuthenticationFailed:
        return _to_login()

    def check(form: Upload) -> str:
        return reporting.check_message(ctx, case_id, form.get("body", ""), form.files_chosen > 0)

    form = await read_form(request, check=check)
    try:
        await run_in_threadpool(reporting.reporter_writes, ctx, token, case_id, form.get("body", ""), form.files)
    except AuthenticationFailed:
        return _to_login()
    return RedirectResponse("/caseroom?notice=sent", status_code=303)


async def consent(request: Request) -> Response:
    form = await read_small_form(request)
    answer = {"yes": True, "no": False}.get(form.get("answer", ""))
    try:
        await run_in_threadpool(
            reporting.answer_consent,
            context_of(request),
            request.session.get(SESSION_KEY),
            request.path_params["case_id"],
            answer,
        )
    except AuthenticationFailed:
        return _to_login()
    return RedirectResponse("/caseroom?notice=consent", status_code=303)


async def withdraw_page(request: Request) -> Response:
    """The confirmation step before withdrawing: what it means, an optional reason."""
    try:
        cases = await run_in_threadpool(reporting.case_room, context_of(request), request.session.get(SESSION_KEY))
    except AuthenticationFailed:
        return _to_login()
    chosen = next((c for c in cases if c.id == request.path_params["case_id"] and c.withdrawable), None)
    if chosen is None:
        return RedirectResponse("/caseroom", status_code=303)
    return render(request, "caseroom/reporter/withdraw.html", case=chosen)


async def withdraw(request: Request) -> Response:
    form = await read_small_form(request)
    try:
        await run_in_threadpool(
            reporting.withdraw,
            context_of(request),
            request.session.get(SESSION_KEY),
            request.path_params["case_id"],
            form.get("reason") or None,
        )
    except AuthenticationFailed:
        return _to_login()
    return RedirectResponse("/caseroom?notice=withdrawn", status_code=303)


async def download_file(request: Request) -> Response:
    try:
        view, content = await run_in_threadpool(
            reporting.open_file,
            context_of(request),
            request.session.get(SESSION_KEY),
            request.path_params["case_id"],
            request.path_params["file_id"],
        )
    except AuthenticationFailed:
        return _to_login()
    return download(view, content)


async def logout(request: Request) -> Response:
    await read_small_form(request)
    await run_in_threadpool(reporting.leave_case_room, context_of(request), request.session.get(SESSION_KEY))
    request.session.clear()
    return RedirectResponse("/", status_code=303, headers={"Clear-Site-Data": '"cache", "cookies", "storage"'})
