"""The office's inbox: its cases, filtered, narrowed, searched, sorted and paged (a GET form, no script)."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from intake.service import inbox as service
from intake.service.officers import OfficerSession
from intake.web.forms import whole_number
from intake.web.templating import context_of, render
from policies.text import N_

from .login import officer_page

FILTERS = (
    ("open", N_("Open cases")),
    ("overdue", N_("Overdue")),
    ("due_soon", N_("Due soon")),
    ("referred_in", N_("Referred in")),
    ("mine", N_("Assigned to me")),
    ("unassigned", N_("Unassigned")),
    ("closed", N_("Closed")),
    ("all", N_("All")),
)
SORTS = (
    ("urgency", N_("Next deadline first")),
    ("newest", N_("Newest first")),
    ("oldest", N_("Oldest first")),
    ("case", N_("By case id")),
)
SAFETY = (
    ("urgent", N_("In danger or protection needed now")),
    ("danger", N_("May be in danger now")),
    ("protection_now", N_("Protection needed now")),
)
# What a case another office transferred as not its own is, said by the office that passed it on.
TRANSFERRED = {
    "ECO": N_("Transferred by ECO: not retaliation"),
    "OIG": N_("Transferred by OIG: retaliation, or a matter within ECO's mandate"),
}
# The inbox's choices besides the filter, as the form sends them (service.inbox takes them by these names).
NARROWING = ("concern", "region", "state", "safety")


@officer_page
async def inbox(request: Request, officer: OfficerSession) -> Response:
    params = request.query_params
    page = await run_in_threadpool(
        service.inbox,
        context_of(request),
        officer,
        params.get("filter") or "open",
        params.get("q") or "",
        params.get("sort") or "urgency",
        whole_number(params.get("page"), 6) or 1,
        **{name: params.get(name) or "" for name in NARROWING},
    )
    return render(
        request,
        "caseroom/officer/inbox.html",
        officer=officer,
        page=page,
        filters=FILTERS,
        sorts=SORTS,
        safety=SAFETY,
        transferred=TRANSFERRED,
        concerns=service.allowed(context_of(request).policy, officer.office)["concern"],
        states=service.states(context_of(request).policy, officer.office),
    )
