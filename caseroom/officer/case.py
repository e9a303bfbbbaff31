"""Working a case: read it, reply, move it on, decide, reopen, determine, extend, assign,
keep the protection file, ask consent, refer, take notes, step away on a conflict of interest."""

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake import i18n
from intake.service import casework, protection, recusal, referral, restriction
from intake.service.context import Context
from intake.service.errors import Conflict
from intake.service.officers import OfficerSession
from intake.web.downloads import download
from intake.web.forms import read_form, read_small_form, whole_number
from intake.web.templating import context_of, notice_of, render, translate
from intake.web.uploads import Upload
from policies import InvalidReport
from policies.form import CONTROL
from policies.text import N_, Text

from .login import officer_page

NOTICES = {
    "sent": N_("Your reply was sent."),
    "moved": N_("The case moved on. The complainant sees the new status in the case room."),
    "decided": N_("Done. The complainant reads your message in the case room."),
    "reopened": N_("The case is open again."),
    "determined": N_("The determination is recorded."),
    "extended": N_("The deadline is extended."),
    "assigned": N_("The assignment is saved."),
    "noted": N_("The note is saved."),
    "consent": N_("The complainant is asked for consent in the case room."),
    "referred": N_("The case was referred to OIG. The complainant was told in the case room."),
    "transferred_to_eco": N_("The case was transferred to ECO. The reporter was told in the case room."),
    "transferred_to_oig": N_("The case was transferred to OIG. The reporter was told in the case room."),
    "recorded": N_("Recorded."),
    "warned": N_("The warning is in the case room."),
    "shared": N_("The officer can now open the case. The complainant was told in the case room."),
}


# What each audit-logged action on a case is called in its history.
HISTORY = {
    "case opened": N_("opened the case"),
    "reply": N_("wrote to the complainant"),
    "status changed": N_("moved the case to: %(state)s"),
    "reopened": N_("reopened the case"),
    "prima facie determination": N_("recorded the prima facie determination"),
    "deadline extended": N_("extended a deadline"),
    "assigned": N_("changed who the case is assigned to"),
    "note added": N_("added an internal note"),
    "measure recommended": N_("recorded a protective measure or onward referral"),
    "measure updated": N_("updated a protective measure"),
    "consent requested": N_("asked the complainant's consent"),
    "referred": N_("referred the case"),
    "abandonment warning": N_("posted the abandonment warning"),
    "file downloaded": N_("downloaded a file"),
    "case exported": N_("exported the case as a sealed bundle"),
    "case purged": N_("purged the case"),
    "identity read": N_("read who the complainant is"),
    "conflict declared": N_("declared a conflict of interest and stepped away from the case"),
    "recusal lifted": N_("lifted an officer's recusal, with a reason"),
    "conflict upheld": N_("upheld an officer's declared conflict of interest, with a reason"),
    "restricted case shared": N_("shared the restricted case with one more officer"),
    "restricted case withheld": N_("withheld the restricted case from a newly named head"),
}


@dataclass(frozen=True)
class Refusal:
    """An action on the case page that the service refused: which form it came from, why (in the
    officer's language), and every word typed in it, so the page shows that form again as the
    officer left it, with the reason beside it. Nothing was changed."""

    form: str = ""
    message: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)
    files_dropped: int = 0  # files chosen with a refused reply: not kept, to be chosen again
    status_code: int = 409  # 409: not possible in the case's state; 400: something typed needs another look

    def kept(self, form: str, name: str) -> str:
        """What the officer typed in `name` of `form`, if that is the form refused."""
        return self.fields.get(name, "") if form == self.form else ""


NO_REFUSAL = Refusal()
# What a refused field is called, where the service names it (InvalidReport).
FIELDS = {"body": N_("The reply"), "reason": N_("The reason"), "message": N_("The message to the complainant")}
# What each text of a refused form is called where the page shows it apart (its form is gone).
KEPT_LABELS = {
    "body": N_("Reply to the reporter"),
    "note": N_("Note"),
    "reason": N_("Reason"),
    "reasons": N_("Reasons"),
    "memo": N_("Memo"),
    "message": N_("Message to the complainant"),
    "recommended_to": N_("Recommended to"),
}


def _why(request: Request, error: Exception) -> str:
    if isinstance(error, InvalidReport):
        return "; ".join(
            translate(request, Text(N_("{field}: {problem}"), field=Text(FIELDS.get(name, name)), problem=Text(problem)))
            for name, problem in error.errors.items()
        )
    return translate(request, i18n.message_of(error))


def _refused(request: Request, form_name: str, form: Upload, error: Exception) -> Refusal:
    # Control characters (the refusal may name them) go back as the replacement character, as on the reporter's form.
    typed = {name: CONTROL.sub("\ufffd", values[-1]) for name, values in form.fields.items() if name != "csrf" and values}
    return Refusal(form_name, _why(request, error), typed, status_code=400 if isinstance(error, InvalidReport) else 409)


async def _page(request: Request, officer: OfficerSession, case_id: str, refusal: Refusal = NO_REFUSAL) -> Response:
    """The case page; after a refused action, with that form as the officer left it (400 or 409: nothing changed)."""
    detail = await run_in_threadpool(casework.open_case, context_of(request), officer, case_id)
    return render(
        request,
        "caseroom/officer/case.html",
        status_code=refusal.status_code if refusal.form else 200,
        officer=officer,
        case=detail,
        history_labels=HISTORY,
        history_only_decisions=request.query_params.get("history") == "decisions",
        notice=notice_of(request, NOTICES),
        refusal=refusal,
        kept_labels=KEPT_LABELS,
    )


@officer_page
async def case(request: Request, officer: OfficerSession) -> Response:
    return await _page(request, officer, request.path_params["case_id"])


@officer_page
async def reply(request: Request, officer: OfficerSession) -> Response:
    ctx, case_id = context_of(request), request.path_params["case_id"]

    def check(form: Upload) -> str:
        return casework.check_reply(ctx, officer, case_id, form.get("body", ""), form.files_chosen > 0)

    form = await read_form(request, check=check, keep_refusal=True)
    refused = form.refused
    if refused is None:
        try:
            await run_in_threadpool(casework.reply, ctx, officer, case_id, form.get("body", ""), form.files)
            return _back(case_id, "sent")
        except (Conflict, InvalidReport) as error:
            refused = error
    if isinstance(refused, (Conflict, InvalidReport)):
        refusal = _refused(request, "reply", form, refused)
        return await _page(request, officer, case_id, dataclasses.replace(refusal, files_dropped=form.files_chosen))
    raise refused


@officer_page
async def read_identity(request: Request, officer: OfficerSession) -> Response:
    """Who the complainant is, shown once on its own page (a POST: the reading is an act the history records)."""
    form = await read_small_form(request)
    case_id = request.path_params["case_id"]
    try:
        text = await run_in_threadpool(casework.read_identity, context_of(request), officer, case_id)
    except Conflict as error:
        return await _page(request, officer, case_id, _refused(request, "identity", form, error))
    return render(request, "caseroom/officer/identity.html", officer=officer, case_id=case_id, identity=text)


@officer_page
async def download_file(request: Request, officer: OfficerSession) -> Response:
    view, content = await run_in_threadpool(
        casework.open_file, context_of(request), officer, request.path_params["case_id"], request.path_params["file_id"]
    )
    return download(view, content)


def _back(case_id: str, notice: str) -> Response:
    return RedirectResponse(f"/officer/cases/{case_id}?notice={notice}", status_code=303)


async def _act(
    request: Request,
    officer: OfficerSession,
    form_name: str,
    action: Callable[..., object],
    notice: str,
    *fields: str,
    confirm: str | None = None,
) -> Response:
    """Run one case action from a small form and go back to the case with a notice; a refusal (or a
    missing tick: `confirm` names what it confirms) shows the case page again with the form as typed."""
    form = await read_small_form(request)
    ctx, case_id = context_of(request), request.path_params["case_id"]
    try:
        if confirm is not None and form.get("confirm") != "yes":
            raise Conflict(confirm)
        await run_in_threadpool(action, ctx, officer, case_id, *(form.get(f) or None for f in fields))
    except (Conflict, InvalidReport) as error:
        return await _page(request, officer, case_id, _refused(request, form_name, form, error))
    return _back(case_id, notice)


@officer_page
async def decide(request: Request, officer: OfficerSession) -> Response:
    """The confirmation step of a decision: the reason and the prefilled message, nothing changed yet.
    A decision not possible now shows the case page, saying why."""
    ctx, case_id = context_of(request), request.path_params["case_id"]
    try:
        form = await run_in_threadpool(casework.decision_form, ctx, officer, case_id, request.query_params.get("to"))
    except Conflict as error:
        return await _page(request, officer, case_id, Refusal("decision", _why(request, error)))
    return _decision_page(request, officer, form, {"reason": "", "message": i18n.gettext(form.language, form.message_template)})


def _decision_page(
    request: Request,
    officer: OfficerSession,
    form: casework.DecisionForm,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "caseroom/officer/decide.html",
        status_code=400 if errors else 200,
        officer=officer,
        decision=form,
        values=values,
        errors={k: translate(request, v) for k, v in (errors or {}).items()},
    )


@officer_page
async def transition(request: Request, officer: OfficerSession) -> Response:
    """A routine move, or a decision sent from its confirmation step. A decision missing its reason or
    message comes back to that step with every word kept; a move or decision no longer possible shows
    the case page, saying why, with what was typed. Nothing changes either way."""
    form = await read_small_form(request)
    ctx, case_id = context_of(request), request.path_params["case_id"]
    target = form.get("to") or None
    try:
        await run_in_threadpool(
            casework.transition,
            ctx,
            officer,
            case_id,
            target,
            form.get("note") or None,
            form.get("reason") or None,
            form.get("message") or None,
        )
    except InvalidReport as invalid:
        try:
            decision = await run_in_threadpool(casework.decision_form, ctx, officer, case_id, target)
        except Conflict as error:
            return await _page(request, officer, case_id, _refused(request, "decision", form, error))
        return _decision_page(
            request, officer, decision, {"reason": form.get("reason"), "message": form.get("message")}, invalid.errors
        )
    except Conflict as error:
        decided = bool(form.get("reason") or form.get("message"))
        return await _page(request, officer, case_id, _refused(request, "decision" if decided else "move", form, error))
    return _back(case_id, "decided" if form.get("message") else "moved")


@officer_page
async def reopen(request: Request, officer: OfficerSession) -> Response:
    return await _act(request, officer, "reopen", casework.reopen, "reopened", "reason")


def _determine(ctx: Context, officer: OfficerSession, case_id: str, found: str | None, reasons: str | None) -> object:
    return casework.determine(ctx, officer, case_id, {"found": True, "not_found": False}.get(found or ""), reasons)


@officer_page
async def determine(request: Request, officer: OfficerSession) -> Response:
    return await _act(request, officer, "determination", _determine, "determined", "prima_facie", "reasons")


def _extend(
    ctx: Context, officer: OfficerSession, case_id: str, deadline: str | None, days: str | None, reason: str | None
) -> object:
    return casework.extend(ctx, officer, case_id, deadline, whole_number(days, 4), reason)


@officer_page
async def extend(request: Request, officer: OfficerSession) -> Response:
    return await _act(request, officer, "extension", _extend, "extended", "deadline", "days", "reason")


@officer_page
async def assign(request: Request, officer: OfficerSession) -> Response:
    return await _act(request, officer, "assignment", casework.assign, "assigned", "username")


@officer_page
async def add_note(request: Request, officer: OfficerSession) -> Response:
    return await _act(request, officer, "note", casework.add_note, "noted", "note")


@officer_page
async def request_consent(request: Request, officer: OfficerSession) -> Response:
    return await _act(request, officer, "consent", referral.request_consent, "consent")


@officer_page
async def refer(request: Request, officer: OfficerSession) -> Response:
    """A referral or a transfer (the form's `state` says which, where the office has both)."""
    ctx = context_of(request)
    form = await read_small_form(request)
    lifecycle = ctx.policy.lifecycles[officer.office]
    state = form.get("state") or lifecycle.referral_state or ""
    case_id = request.path_params["case_id"]
    try:
        await run_in_threadpool(
            referral.refer,
            ctx,
            officer,
            case_id,
            lifecycle.refers_to,
            form.get("reason") or None,
            form.get("memo") or None,
            state,
            form.get("receiver_concerned") or None,
        )
    except (Conflict, InvalidReport) as error:
        return await _page(request, officer, case_id, _refused(request, f"referral-{state}", form, error))
    requires_determination = state in lifecycle.states and lifecycle.states[state].requires_determination
    return _back(case_id, "referred" if requires_determination else f"transferred_to_{lifecycle.refers_to}".lower())


@officer_page
async def recommend_measure(request: Request, officer: OfficerSession) -> Response:
    return await _act(
        request, officer, "measure", protection.recommend, "recorded", "kind", "recommended_to", "note", "review_on"
    )


@officer_page
async def update_measure(request: Request, officer: OfficerSession) -> Response:
    measure_id = request.path_params["measure_id"]

    def update(ctx: Context, officer: OfficerSession, case_id: str, status: str | None, review_on: str | None, note: str | None):
        return protection.update(ctx, officer, case_id, measure_id, status, review_on, note or "")

    return await _act(request, officer, f"measure-{measure_id}", update, "recorded", "status", "review_on", "note")


@officer_page
async def declare_conflict(request: Request, officer: OfficerSession) -> Response:
    """Step away from a case: a note for whoever decides, and a tick that says what it means (no one-click
    recusal). The last officer who can open a restricted case is shown a second step: name the officer
    it is handed on to, and tick again (recusal.HandOnNeeded); nothing changes until then."""
    form = await read_small_form(request)
    case_id = request.path_params["case_id"]
    note, hand_to = form.get("note") or None, form.get("hand_to") or None
    try:
        if form.get("confirm") != "yes":
            raise Conflict(N_("Tick the box to confirm that you step away from this case."))
        await run_in_threadpool(recusal.declare, context_of(request), officer, case_id, note, hand_to)
    except recusal.HandOnNeeded as needed:
        return render(
            request, "caseroom/officer/hand_on.html", officer=officer, case_id=case_id, note=note or "", allowed=needed.allowed
        )
    except (Conflict, InvalidReport) as error:
        return await _page(request, officer, case_id, _refused(request, "recusal", form, error))
    return RedirectResponse(f"/officer/conflicts?notice={'handed_on' if hand_to else 'declared'}", status_code=303)


@officer_page
async def share(request: Request, officer: OfficerSession) -> Response:
    """A head gives a named officer a restricted case: a tick confirms they checked the officer (no one-click sharing)."""
    confirm = N_("Tick the box to confirm that this officer has no part in what the report is about.")
    return await _act(request, officer, "share", restriction.share, "shared", "username", confirm=confirm)


@officer_page
async def warn(request: Request, officer: OfficerSession) -> Response:
    return await _act(request, officer, "warning", casework.warn_of_abandonment, "warned")
