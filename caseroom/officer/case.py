"""Working a case: read it, reply, move it on, ask consent, refer, record protective measures."""

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake.service import casework
from intake.service.context import Context
from intake.service.officers import OfficerSession
from intake.web.downloads import download
from intake.web.forms import read_form, read_small_form
from intake.web.templating import context_of, render, translate
from intake.web.uploads import Upload
from policies.text import N_

from .login import officer_of, to_login

NOTICES = {
    "sent": N_("Your reply was sent."),
    "moved": N_("The case moved on. The complainant sees the new status in the case room."),
    "consent": N_("The complainant is asked for consent in the case room."),
    "referred": N_("The case was referred to OIG. The complainant was told in the case room."),
    "recorded": N_("Recorded."),
    "warned": N_("The warning is in the case room."),
}


async def case(request: Request) -> Response:
    officer = await officer_of(request)
    if officer is None:
        return to_login()
    detail = await run_in_threadpool(casework.open_case, context_of(request), officer, request.path_params["case_id"])
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return render(
        request, "caseroom/officer/case.html", officer=officer, case=detail, notice=notice and translate(request, notice)
    )


async def reply(request: Request) -> Response:
    officer = await officer_of(request)
    if officer is None:
        return to_login()
    ctx, case_id = context_of(request), request.path_params["case_id"]

    def check(form: Upload) -> str:
        return casework.check_reply(ctx, officer, case_id, form.get("body", ""), form.files_chosen > 0)

    form = await read_form(request, check=check)
    await run_in_threadpool(casework.reply, ctx, officer, case_id, form.get("body", ""), form.files)
    return RedirectResponse(f"/officer/cases/{case_id}?notice=sent", status_code=303)


async def download_file(request: Request) -> Response:
    officer = await officer_of(request)
    if officer is None:
        return to_login()
    view, content = await run_in_threadpool(
        casework.open_file, context_of(request), officer, request.path_params["case_id"], request.path_params["file_id"]
    )
    return download(view, content)


async def _case_action(request: Request, action: Callable[..., object], notice: str, *fields: str) -> Response:
    """Run one case action from a small form and go back to the case with a notice."""
    officer = await officer_of(request)
    if officer is None:
        return to_login()
    form = await read_small_form(request)
    case_id = request.path_params["case_id"]
    await run_in_threadpool(action, context_of(request), officer, case_id, *(form.get(f) or None for f in fields))
    return RedirectResponse(f"/officer/cases/{case_id}?notice={notice}", status_code=303)


async def transition(request: Request) -> Response:
    return await _case_action(request, casework.transition, "moved", "to", "note")


async def request_consent(request: Request) -> Response:
    return await _case_action(request, casework.request_consent, "consent")


def _refer(ctx: Context, officer: OfficerSession, case_id: str, reason: str | None) -> object:
    lifecycle = ctx.policy.lifecycles[officer.office]
    return casework.refer(ctx, officer, case_id, lifecycle.refers_to, reason)


async def refer(request: Request) -> Response:
    return await _case_action(request, _refer, "referred", "reason")


def _record(ctx: Context, officer: OfficerSession, case_id: str, choice: str | None, note: str | None) -> str:
    """The form's one select holds "protective_measure:<id>" or "onward_referral:<id>"."""
    kind, _, item = (choice or "").partition(":")
    return casework.record_action(ctx, officer, case_id, kind, item, note or "")


async def record_action(request: Request) -> Response:
    return await _case_action(request, _record, "recorded", "action", "note")


async def warn(request: Request) -> Response:
    return await _case_action(request, casework.warn_of_abandonment, "warned")
