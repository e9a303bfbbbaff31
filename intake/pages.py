"""The reporter's intake pages: the start page, the two-step report form, and the passphrase page.

The form works without JavaScript in two steps: first what the concern is (a plain GET, so
nothing is stored and the back button just works), then only the questions that concern
needs. A report of both retaliation and misconduct asks for the two accounts apart, one
for each office.

One report per sending: the form carries a one-time token, and a successful POST answers
with a redirect (post/redirect/get) to the page that shows the passphrase, once. The
passphrase waits for that page sealed server-side under a key only the reporter's cookie
holds; it is never in a URL, and the page deletes it as it shows it, so a reload shows it no
more and a resent form files nothing twice.

The back button fetches the form again (no-store) with a fresh token. The form asks the
browser not to restore what was typed (autocomplete="off": after "Leave quickly", Back must
not bring the report back either), says that a report was sent from this browser and where
its answers are, and the same report sent again from this browser session without a file is
refused as already received (sendings.refuse_resent); a different report is filed.
"""

import dataclasses

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from policies import Concern, InvalidReport, Policy, ReportInput, validate_report
from policies.form import CONTROL
from policies.model import Question
from policies.text import N_

from . import i18n
from .service import reporting, sendings
from .service.errors import Busy, Unavailable
from .store import OUTAGES, unavailable
from .web import cookies, onion
from .web.bad_request import BadRequest
from .web.forms import read_form
from .web.templating import context_of, language, render, translate
from .web.uploads import Upload

BOTH_PARTS = (Concern.RETALIATION, Concern.MISCONDUCT)
SENT_PAGE = "/report/sent"


async def home(request: Request) -> Response:
    return render(request, "intake/home.html")


def _concern(value: str | None, policy: Policy) -> str | None:
    return value if value in {c.id for c in policy.concerns} else None


def _field(question: Question, prefix: str, both: bool) -> str:
    """The form field of a question: shared questions of a two-part report (the region) are asked once."""
    shared = both and question.id == "region"
    return f"q.{question.id}" if shared else f"{prefix}q.{question.id}"


def part_from_form(policy: Policy, concern: Concern, form: Upload, prefix: str = "", both: bool = False) -> dict[str, object]:
    """The description and answers of one part, as the API would send them, from the HTML form's fields."""
    answers: dict[str, object] = {}
    for question in policy.questions_for(concern):
        name = _field(question, prefix, both)
        if question.type == "multiple":
            answers[question.id] = form.getlist(name)
        elif question.type == "actions":
            answers[question.id] = form.getlist(name)
            # Every action with something typed, ticked or not: words are never dropped without a word.
            details = {
                action: {"when": form.get(f"{name}.{action}.when"), "who": form.get(f"{name}.{action}.who")}
                for action in policy.ids(question.choices)
            }
            answers[f"{question.id}_details"] = {a: d for a, d in details.items() if d["when"] or d["who"]}
        else:
            answers[question.id] = form.get(name) or None
    return {"description": form.get(f"{prefix}description", ""), "answers": answers}


def report_from_form(request: Request, form: Upload) -> ReportInput:
    """Validate the HTML form through the same policy check as the API, then the cheap refusals."""
    ctx = context_of(request)
    concern = _concern(form.get("concern"), ctx.policy)
    if concern is None:
        raise InvalidReport({"concerns": N_("choose what your concern is about")})
    if concern == Concern.BOTH:
        parts = {c: part_from_form(ctx.policy, c, form, f"{c}.", both=True) for c in BOTH_PARTS}
        report = validate_report(ctx.policy, [concern], parts=parts)
    else:
        one = part_from_form(ctx.policy, Concern(concern), form)
        report = validate_report(ctx.policy, [concern], one["description"], one["answers"])
    sendings.refuse_resent(sendings.report_digest(ctx, report), request.session.get(cookies.SENT), form.files_chosen > 0)
    return reporting.check_report(ctx, report, sendings.valid(form.get("sending")))


def _shown(form: Upload) -> Upload:
    """The form's text as it goes back on the page: every word kept, control characters (the refusal named
    them) shown as the replacement character."""
    fields = {name: [CONTROL.sub("\ufffd", v) for v in values] for name, values in form.fields.items()}
    return dataclasses.replace(form, fields=fields)


def _titles(request: Request, policy: Policy) -> dict[str, str]:
    """What the error summary calls each field: the question, as the reporter read it."""
    titles = {
        "concerns": N_("What is your concern about"),
        "description": N_("What happened"),
        "answers": N_("Your answers"),
        "parts": N_("Your two accounts"),
        "files": N_("Evidence"),
    }
    for question in policy.questions:
        titles[question.id] = question.label
    for concern in BOTH_PARTS:
        for key in list(titles):
            titles[f"{concern}.{key}"] = titles[key]
    return {key: translate(request, text) for key, text in titles.items()}


def _form_page(
    request: Request,
    form: Upload | None,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    busy: Busy | None = None,
) -> Response:
    """The form, step 1 (no concern yet) or step 2 (its questions), with every word the reporter typed."""
    ctx = context_of(request)
    form = _shown(form or Upload())
    concern = _concern(form.get("concern") or request.query_params.get("concern"), ctx.policy)
    headers = {"Retry-After": str(busy.retry_after)} if busy else None
    return render(
        request,
        "intake/report_form.html",
        status_code=status_code,
        headers=headers,
        concern=concern,
        form=form,
        sending=form.get("sending") or sendings.new_token(),
        errors={k: translate(request, v) for k, v in (errors or {}).items()},
        titles=_titles(request, ctx.policy),
        files_dropped=form.files_chosen if form.refused else 0,
        notice=notice and translate(request, notice),
        busy=busy and translate(request, i18n.message_of(busy)),
        sent_before=bool(sendings.filed_before(request.session.get(cookies.SENT))),
    )


async def report_form(request: Request) -> Response:
    return _form_page(request, None)


async def submit_report(request: Request) -> Response:
    try:
        form = await read_form(request, check=lambda fields: report_from_form(request, fields), keep_refusal=True)
    except OUTAGES as error:  # the database went while the files arrived (they are gone): the form as typed
        typed = getattr(request.state, "typed", None)
        if not unavailable(error) or typed is None:
            raise
        return _form_page(request, dataclasses.replace(typed, refused=error), status_code=503, busy=Unavailable())
    refused = Unavailable() if unavailable(form.refused) else form.refused
    if isinstance(refused, InvalidReport):
        return _form_page(request, form, status_code=400, errors=refused.errors)
    if isinstance(refused, Busy):
        # Keep every word the reporter typed on the page: only the files must be chosen again.
        return _form_page(request, form, status_code=503, busy=refused)
    if isinstance(refused, sendings.AlreadyReceived):
        return await _already_received(request, form)
    if isinstance(refused, BadRequest) and refused.status_code == 403 and request.headers.get("sec-fetch-site") != "cross-site":
        # The session cookie was lost or ended (the CSRF token no longer matches): nothing was sent,
        # and nothing typed is lost; a fresh token comes with the page. (Another site's forged post
        # gets the plain refusal: this page is not for showing it what it sent.)
        return _form_page(
            request,
            form,
            status_code=400,
            notice=N_(
                "Your session had ended, so nothing was sent. Your answers are below: check them and "
                "send again (files must be chosen again)."
            ),
        )
    if refused is not None:
        raise refused
    ctx = context_of(request)
    token = sendings.valid(form.get("sending"))
    try:
        filed = await run_in_threadpool(
            reporting.file_report, ctx, form.checked, form.files, language(request), token, hold_receipt=True
        )
    except sendings.AlreadyReceived:  # a resend that raced the first one
        return await _already_received(request, form)
    except OUTAGES as error:  # the database went away: nothing committed (or, in doubt, the same sending files it once)
        if not unavailable(error):
            raise
        return _form_page(request, form, status_code=503, busy=Unavailable())
    request.session[cookies.SENT] = sendings.remember(
        sendings.report_digest(ctx, form.checked), request.session.get(cookies.SENT)
    )
    return await _passphrase_next(request, filed, form.checked, token)


async def _already_received(request: Request, form: Upload) -> Response:
    """A report form sent again: "already received", unless its sending still holds the receipt (the database went
    away after the filing committed, before the answer reached the reporter): then its passphrase page, once."""
    filed = await run_in_threadpool(reporting.held_report, context_of(request), sendings.valid(form.get("sending")))
    if filed is None:
        return render(request, "intake/already_received.html", status_code=409)
    return await _passphrase_next(request, filed, form.checked, None)


async def _passphrase_next(
    request: Request, filed: reporting.FiledReport, report: ReportInput | None, token: str | None
) -> Response:
    """To the passphrase page, whose receipt is kept for it once; the sending's held copy is then forgotten."""
    ctx = context_of(request)
    danger = report is not None and any(part.answers.get("safety_risk") in ("yes", "not_sure") for part in report.parts)
    try:
        receipt = await run_in_threadpool(reporting.keep_receipt, ctx, filed, danger, report)
        await run_in_threadpool(sendings.release, ctx, token)
    except OUTAGES as error:
        if not unavailable(error):
            raise
        # The report is filed, and a resend would be refused as already received: the passphrase is shown in
        # this answer, never lost because its one-time copy for the next page could not be kept.
        shown = reporting.receipt_at_once(ctx, filed, danger, report)
        return render(request, "intake/passphrase.html", receipt=shown, where=_come_back_at(request))
    request.session[cookies.RECEIPT] = receipt
    return RedirectResponse(SENT_PAGE, status_code=303)


def _come_back_at(request: Request) -> str:
    return onion.come_back_at(request.scope, context_of(request).settings) or str(request.base_url)


async def report_sent(request: Request) -> Response:
    """The passphrase, once. A reload, or the back button, finds it gone."""
    receipt = await run_in_threadpool(reporting.take_receipt, context_of(request), request.session.pop(cookies.RECEIPT, None))
    if receipt is None:
        return render(request, "intake/passphrase_gone.html")
    return render(request, "intake/passphrase.html", receipt=receipt, where=_come_back_at(request))
