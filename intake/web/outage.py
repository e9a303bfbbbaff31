"""A database outage in the middle of a form: nothing typed is lost.

When the database cannot be reached (restarting, failing over: store.unavailable), the request's
transaction never committed, so nothing of it was kept. The reader gets 503 with Retry-After,
and a page that holds what they typed in a form that sends it again to the same address. The
report form has its own, richer way (intake/pages.py shows the whole form again); this one serves
the case room's message and the officers' forms, whose own pages need the database to draw.

The words come from the form the handler read (web/forms.py keeps it on `request.state.typed`),
or, when the outage came before the handler read the body (the session check of an officer page
goes to the database first), from the body read here, its text only: no file is stored. Secrets
(a passphrase, a password, a code) are never written back into a page, nor a confirming tick, and
nothing at all of a post whose CSRF token does not match: another site's forged post is not shown
what it sent.
"""

from dataclasses import dataclass

from starlette.requests import Request

from policies.form import CONTROL
from policies.text import N_

from ..service.errors import Unavailable
from . import csrf
from .bad_request import BadRequest
from .forms import read_form
from .uploads import Upload, is_multipart

# The free text of our forms, shown in boxes the reader can check and correct; what each is called.
TEXTS = {
    "body": N_("Your message"),
    "pending_body": N_("Your message"),  # the case room's login page, holding a message for after it
    "description": N_("What happened"),
    "note": N_("Note"),
    "reason": N_("Reason"),
    "reasons": N_("Reasons"),
    "memo": N_("Memo"),
    "message": N_("Message to the complainant"),
    "recommended_to": N_("Recommended to"),
}
# Never written back into a page: a secret stays only where the reader typed it; and a tick that confirms
# an act that cannot be undone (or sends the same words again) is given again on the form's own page,
# where the act is explained, not carried unseen in the form sent again.
NOT_CARRIED = frozenset({csrf.FIELD, "passphrase", "password", "code", "recovery_key", "confirm", "again"})


@dataclass(frozen=True)
class Resend:
    """What the outage page's form sends again: to the same address, the same way, with every
    field as it came (the one-time `sending` token included, so a message that was in fact stored
    just before the outage is not stored twice), the free text in boxes."""

    action: str
    multipart: bool
    texts: list[tuple[str, str, str]]  # field, what it is called, what was typed
    hidden: list[tuple[str, str]]
    files_dropped: int


def _refuse_files(_form: Upload) -> None:
    raise Unavailable  # read the text fields only: a refusing check keeps every file part unstored


async def _typed(request: Request) -> Upload | None:
    """The fields the handler read, or the body's text fields read now (no file kept)."""
    if getattr(request.state, "body_taken", False):
        return getattr(request.state, "typed", None)
    try:
        return await read_form(request, check=_refuse_files, keep_refusal=True)
    except Exception:  # noqa: BLE001 (not a form, a malformed or too large one, a client gone: the 503 stands without the words)
        return None


async def resend(request: Request) -> Resend | None:
    """The form to send again, for a POST of an HTML form whose text could be kept; else None."""
    if request.method != "POST" or request.url.path.startswith("/api/"):
        return None
    form = await _typed(request)
    if form is None:
        return None
    try:
        csrf.check(request, form.get(csrf.FIELD) or None)
    except BadRequest:
        return None
    shown = {name: [CONTROL.sub("\ufffd", value) for value in values] for name, values in form.fields.items()}
    texts = [(name, TEXTS[name], values[-1]) for name, values in shown.items() if name in TEXTS and values and values[-1]]
    if not texts:
        return None  # nothing typed to keep (a login, a button): the plain 503 page says to try again
    carried = {name: values for name, values in shown.items() if name not in TEXTS and name not in NOT_CARRIED}
    hidden = [(name, value) for name, values in carried.items() for value in values]
    return Resend(request.url.path, is_multipart(request), texts, hidden, form.files_chosen)
