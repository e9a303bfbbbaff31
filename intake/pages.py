"""The reporter's intake pages: the start page, the report form, and the passphrase page.

The passphrase is shown in the response to the form's POST and nowhere else: it is
never in a URL, a redirect, a cookie or a log, and the page is sent with no-store.
"""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from policies import InvalidReport, ReportInput, validate_report
from policies.text import N_

from . import i18n
from .service import reporting
from .service.errors import Busy
from .web.forms import read_form
from .web.templating import context_of, language, render, translate
from .web.uploads import Upload

QUESTION_TITLES = {
    "concerns": N_("What is your concern about"),
    "misconduct_kinds": N_("What kind of misconduct"),
    "protected_activity": N_("What you had done before"),
    "adverse_actions": N_("What was done to you"),
    "happened": N_("When it happened"),
    "region": N_("Region or duty station"),
    "description": N_("What happened"),
    "answers": N_("Your answers"),
}


def translated(request: Request, messages: dict[str, str]) -> dict[str, str]:
    return {key: translate(request, text) for key, text in messages.items()}


async def home(request: Request) -> Response:
    return render(request, "intake/home.html")


def form_values(form: Upload | None) -> dict:
    """What the reporter had typed, to show the form again without losing a word."""
    form = form or Upload()
    return {
        "concern": form.get("concern", ""),
        "misconduct_kinds": form.getlist("misconduct_kinds"),
        "protected_activity": form.get("protected_activity", ""),
        "adverse_actions": form.getlist("adverse_actions"),
        "happened": form.get("happened", ""),
        "region": form.get("region", ""),
        "description": form.get("description", ""),
        "clean_metadata": form.clean_metadata(),
    }


def report_from_form(request: Request, form: Upload) -> ReportInput:
    """Validate the HTML form's fields through the same policy check as the API, and the budget."""
    ctx = context_of(request)
    concern = form.get("concern")
    answers = {
        "misconduct_kinds": form.getlist("misconduct_kinds"),
        "protected_activity": form.get("protected_activity") or None,
        "adverse_actions": form.getlist("adverse_actions"),
        "happened": form.get("happened", ""),
        "region": form.get("region") or None,
    }
    report = validate_report(ctx.policy, [concern] if concern else [], form.get("description", ""), answers)
    return reporting.check_report(ctx, report)


def _form_page(
    request: Request, form: Upload | None, status_code: int = 200, errors: dict[str, str] | None = None, busy: Busy | None = None
) -> Response:
    headers = {"Retry-After": str(busy.retry_after)} if busy else None
    return render(
        request,
        "intake/report_form.html",
        status_code=status_code,
        headers=headers,
        values=form_values(form),
        errors=translated(request, errors or {}),
        question_titles=translated(request, QUESTION_TITLES),
        files_dropped=form.files_chosen if form and form.refused else 0,
        busy=busy and translate(request, i18n.message_of(busy)),
    )


async def report_form(request: Request) -> Response:
    return _form_page(request, None)


async def submit_report(request: Request) -> Response:
    form = await read_form(request, check=lambda fields: report_from_form(request, fields), keep_refusal=True)
    if isinstance(form.refused, InvalidReport):
        return _form_page(request, form, status_code=400, errors=form.refused.errors)
    if isinstance(form.refused, Busy):
        # Keep every word the reporter typed on the page: only the files must be chosen again.
        return _form_page(request, form, status_code=503, busy=form.refused)
    if form.refused is not None:
        raise form.refused
    filed = await run_in_threadpool(reporting.file_report, context_of(request), form.checked, form.files, language(request))
    return render(request, "intake/passphrase.html", passphrase=filed.passphrase, cases=filed.cases, files=form.files)
