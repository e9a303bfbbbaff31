"""Reading HTML forms: small urlencoded ones in memory, multipart ones streamed.

A urlencoded form carries no files, so it is read whole, but never more than
SMALL_BODY_LIMIT bytes, even on a route whose multipart uploads may be gigabytes.
"""

from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request

from ..service.attachments import discard
from . import csrf
from ..markers import N_, Text
from .bad_request import BadRequest
from .limits import DEFAULT_BODY_LIMIT, BodyTooLarge
from .uploads import Upload, is_multipart, read_upload

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 100


async def read_capped_body(request: Request, limit: int = DEFAULT_BODY_LIMIT) -> bytes:
    """The whole body, or BodyTooLarge as soon as it passes `limit`."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


async def read_small_form(request: Request) -> FormData:
    """The fields of a urlencoded form with a valid CSRF token, or BadRequest for anything else."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise BadRequest(Text(N_("This form must be sent as {kind}."), kind=FORM_TYPE), status_code=415)
    body = await read_capped_body(request)
    try:
        form = FormData(parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS))
    except UnicodeDecodeError:
        raise BadRequest(N_("The form contains bytes that are not UTF-8 text.")) from None
    except ValueError:
        raise BadRequest(N_("The form has too many fields.")) from None
    csrf.check(request, form.get(csrf.FIELD))
    return form


async def read_form(request: Request) -> Upload:
    """A form that may carry files: multipart is streamed and encrypted, urlencoded read small."""
    if is_multipart(request):
        upload = await read_upload(request)
        try:
            csrf.check(request, upload.get(csrf.FIELD) or None)
        except BadRequest:
            await run_in_threadpool(discard, request.app.state.ctx, upload.files)
            raise
        return upload
    form = await read_small_form(request)
    upload = Upload()
    for name, value in form.multi_items():
        upload.fields.setdefault(name, []).append(value)
    return upload
