"""Conflicts of interest: the declarations an officer may see, and the decision on one (upheld or lifted, with a reason)."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake import i18n
from intake.service import recusal
from intake.service.errors import Conflict
from intake.service.officers import OfficerSession
from intake.web.forms import read_small_form
from intake.web.templating import context_of, notice_of, render, translate
from policies.text import N_

from .login import officer_page

NOTICES = {
    "declared": N_("You stepped away from the case: it is no longer in your inbox. Whoever decides on it sees your note."),
    "handed_on": N_(
        "You stepped away from the case and handed it on: the officer you named can open it, and the complainant was told."
    ),
    "upheld": N_("The declaration is upheld: the officer stays away from the case."),
    "lifted": N_("The recusal is lifted: the officer can work on the case again."),
}
# The tick a decision needs: "yes" where a head decides, "director_general" where the one recording it says it
# is the Director General's decision (ECO Charter 4.7).
TICKS = {"yes": False, "director_general": True}


@officer_page
async def conflicts(request: Request, officer: OfficerSession) -> Response:
    return await _page(request, officer)


async def _page(request: Request, officer: OfficerSession, refused: dict[str, str] | None = None) -> Response:
    """The declarations; after a refused decision, with that form as the officer left it and why (409: nothing changed)."""
    found = await run_in_threadpool(recusal.declarations, context_of(request), officer)
    return render(
        request,
        "caseroom/officer/conflicts.html",
        status_code=409 if refused else 200,
        officer=officer,
        declarations=found,
        notice=notice_of(request, NOTICES),
        refused=refused or {},
    )


@officer_page
async def decide(request: Request, officer: OfficerSession) -> Response:
    """A decision on a declaration: the choice, a reason, and the tick that says whose decision it is."""
    form = await read_small_form(request)
    tick = form.get("confirm") or ""
    decision = form.get("decision")
    try:
        if tick not in TICKS:
            raise Conflict(N_("Tick the box to confirm the decision."))
        await run_in_threadpool(
            recusal.decide,
            context_of(request),
            officer,
            form.get("case_id"),
            form.get("username"),
            decision,
            form.get("reason") or None,
            TICKS[tick],
        )
    except Conflict as error:
        kept = {name: form.get(name) for name in ("case_id", "username", "decision", "reason")}
        return await _page(request, officer, {**kept, "message": translate(request, i18n.message_of(error))})
    done = "upheld" if decision == "upheld" else "lifted"  # decide() accepted no other
    return RedirectResponse(f"/officer/conflicts?notice={done}", status_code=303)
