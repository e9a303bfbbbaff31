"""Conflicts of interest: the head's list of the office's declarations, and their decision to lift one."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake.service import recusal
from intake.service.errors import Conflict
from intake.web.forms import read_small_form
from intake.web.templating import context_of, notice_of, render
from policies.text import N_

from .login import officer_of, to_login

NOTICES = {
    "declared": N_("You stepped away from the case: it is no longer in your inbox. The head of your office sees your note."),
    "lifted": N_("The recusal is lifted: the officer can work on the case again."),
}


def _declarations(ctx, officer):
    """The list for a head; None for anyone else (the page then says who decides)."""
    try:
        return recusal.declarations(ctx, officer)
    except Conflict:
        return None


async def conflicts(request: Request) -> Response:
    officer = await officer_of(request)
    if officer is None:
        return to_login()
    found = await run_in_threadpool(_declarations, context_of(request), officer)
    notice = notice_of(request, NOTICES)
    return render(request, "caseroom/officer/conflicts.html", officer=officer, declarations=found, notice=notice)


async def lift(request: Request) -> Response:
    officer = await officer_of(request)
    if officer is None:
        return to_login()
    form = await read_small_form(request)
    if form.get("confirm") != "yes":
        raise Conflict(N_("Tick the box to confirm your decision."))
    await run_in_threadpool(recusal.lift, context_of(request), officer, form.get("case_id"), form.get("username"))
    return RedirectResponse("/officer/conflicts?notice=lifted", status_code=303)
