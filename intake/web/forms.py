"""Reading HTML forms: small urlencoded ones in memory, multipart ones streamed.

Every form that changes state carries a CSRF token, checked here before anything else
(web/csrf.py). A urlencoded form carries no files, so it is read whole, but never more
than SMALL_BODY_LIMIT bytes, even on a route whose multipart uploads may be gigabytes.
"""

from urllib.parse import parse_qsl

from starlette.requests import Request

from policies.text import N_, Text

from . import csrf
from .bad_request import BadRequest
from .limits import DEFAULT_BODY_LIMIT, BodyTooLarge
from .templating import context_of
from .uploads import Check, Upload, is_multipart, read_upload, run_check

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 100
ASCII_DIGITS = frozenset("0123456789")


def whole_number(value: str | None, max_digits: int) -> int | None:
    """A whole number typed in a form or a query ("12"), or None. Only ASCII digits: str.isdigit() is also
    true of "²" or "١", which int() then refuses, and a refusal of ours is a 4xx, never a 500."""
    if not value or len(value) > max_digits or not set(value) <= ASCII_DIGITS:
        return None
    return int(value)


async def read_capped_body(request: Request, limit: int = DEFAULT_BODY_LIMIT) -> bytes:
    """The whole body, or BodyTooLarge as soon as it passes `limit`."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


async def read_small_form(request: Request) -> Upload:
    """The fields of a urlencoded form with a valid CSRF token, or BadRequest for anything else."""
    form = await _urlencoded_fields(request)
    csrf.check(request, form.get(csrf.FIELD) or None)
    return form


def _taking_body(request: Request) -> None:
    """Say on the request that its body is being read here: a database outage later in the request
    then shows the fields kept on `typed` (web/outage.py), and never waits for a body already read."""
    request.state.body_taken = True
    request.state.typed = None


def _typed(request: Request, form: Upload) -> Upload:
    request.state.typed = form
    return form


async def read_form(request: Request, check: Check | None = None, keep_refusal: bool = False) -> Upload:
    """A form that may carry files: multipart is streamed and encrypted, urlencoded read small.

    The CSRF token and then `check` are run on the text fields before a file is stored.
    A refusal is raised, or, with `keep_refusal`, left on `Upload.refused` with the
    fields, so a page can show the form again with every word the reader typed.
    """

    def checked(upload: Upload) -> object:
        csrf.check(request, upload.get(csrf.FIELD) or None)
        return check(upload) if check is not None else None

    if is_multipart(request):
        _taking_body(request)
        upload = _typed(request, await read_upload(request, context_of(request), checked))
    else:
        upload = await _urlencoded_fields(request)
        run_check(upload, checked)
    if upload.refused is not None and not keep_refusal:
        raise upload.refused
    return upload


async def _urlencoded_fields(request: Request) -> Upload:
    """A urlencoded form's fields (as an Upload without files), its CSRF token not yet checked."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise BadRequest(Text(N_("This form must be sent as {kind}."), kind=FORM_TYPE), status_code=415)
    _taking_body(request)
    body = await read_capped_body(request)
    form = Upload()
    try:
        for name, value in parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS):
            form.fields.setdefault(name, []).append(value)
        return _typed(request, form)
    except UnicodeDecodeError:
        raise BadRequest(N_("The form contains bytes that are not UTF-8 text.")) from None
    except ValueError:
        raise BadRequest(N_("The form has too many fields.")) from None
