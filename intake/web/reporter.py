"""Reporter pages: the start page, the report form, and the passphrase page.

The passphrase is shown in the response to the form's POST and nowhere else: it is
never in a URL, a redirect, a cookie or a log, and the page is sent with no-store.
"""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from policies import InvalidReport, validate_report

from ..service import reporting
from ..service.attachments import discard
from ..service.errors import Busy
from .forms import read_form
from .. import i18n
from ..markers import N_
from .templating import language, render
from .uploads import Upload

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
    lang = language(request)
    return {key: i18n.gettext(lang, text) for key, text in messages.items()}


async def home(request: Request) -> Response:
    return render(request, "home.html")


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


def report_from_form(request: Request, form: Upload):
    """Validate the HTML form's fields through the same policy check as the API."""
    concern = form.get("concern")
    answers = {
        "misconduct_kinds": form.getlist("misconduct_kinds"),
        "protected_activity": form.get("protected_activity") or None,
        "adverse_actions": form.getlist("adverse_actions"),
        "happened": form.get("happened", ""),
        "region": form.get("region") or None,
    }
    return validate_report(request.app.state.ctx.policy, [concern] if concern else [], form.get("description", ""), answers)


async def report_form(request: Request) -> Response:
    return render(request, "report_form.html", values=form_values(None), errors={}, question_titles=QUESTION_TITLES, files_dropped=0,
                  busy=None)


async def submit_report(request: Request) -> Response:
    ctx = request.app.state.ctx
    form = await read_form(request)
    try:
        report = report_from_form(request, form)
        filed = await run_in_threadpool(reporting.file_report, ctx, report, form.files)
    except InvalidReport as invalid:
        await run_in_threadpool(discard, ctx, form.files)
        return render(request, "report_form.html", status_code=400, values=form_values(form), errors=translated(request, invalid.errors),
                      question_titles=translated(request, QUESTION_TITLES), files_dropped=len(form.files), busy=None)
    except Busy as busy:
        # Keep every word the reporter typed on the page: only the files must be chosen again.
        await run_in_threadpool(discard, ctx, form.files)
        return render(request, "report_form.html", status_code=503, headers={"Retry-After": str(busy.retry_after)},
                      values=form_values(form), errors={}, busy=i18n.gettext(language(request), i18n.message_of(busy)), question_titles=translated(request, QUESTION_TITLES),
                      files_dropped=len(form.files))
    except BaseException:
        await run_in_threadpool(discard, ctx, form.files)
        raise
    return render(request, "passphrase.html", passphrase=filed.passphrase, cases=filed.cases, files=form.files)
