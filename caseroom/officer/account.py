"""The officer's own account page: where their notification digests go (an address only they see)."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake import i18n
from intake.service import notifications
from intake.service.errors import Conflict
from intake.service.officers import OfficerSession
from intake.web.forms import read_small_form
from intake.web.templating import context_of, language, notice_of, render, translate
from policies.text import N_

from .login import officer_page

NOTICES = {
    "given": N_("Your address is saved. A first digest comes soon if there is something for you, then one a period."),
    "removed": N_("Your address is removed: no more digests are sent to you."),
}


@officer_page
async def account(request: Request, officer: OfficerSession) -> Response:
    return await _page(request, officer)


async def _page(request: Request, officer: OfficerSession, refused: dict[str, str] | None = None) -> Response:
    address = await run_in_threadpool(notifications.address_of, context_of(request), officer)
    return render(
        request,
        "caseroom/officer/account.html",
        status_code=409 if refused else 200,
        officer=officer,
        address=address,
        notice=notice_of(request, NOTICES),
        refused=refused or {},
    )


@officer_page
async def notification_address(request: Request, officer: OfficerSession) -> Response:
    """Give, change or remove the officer's own address (`remove` set: remove)."""
    form = await read_small_form(request)
    ctx = context_of(request)
    if form.get("remove"):
        await run_in_threadpool(notifications.remove_address, ctx, officer)
        return RedirectResponse("/officer/account?notice=removed", status_code=303)
    typed = form.get("address") or ""
    try:
        await run_in_threadpool(notifications.set_address, ctx, officer, typed, language(request))
    except Conflict as error:
        return await _page(request, officer, {"address": typed, "message": translate(request, i18n.message_of(error))})
    return RedirectResponse("/officer/account?notice=given", status_code=303)
