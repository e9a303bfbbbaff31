"""Reading API requests: a JSON object, or multipart with a JSON part and files; the Bearer token."""

import json
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from policies.text import N_, Text

from ..web.bad_request import BadRequest
from ..web.forms import read_capped_body
from ..web.templating import context_of
from ..web.uploads import Upload, is_multipart, read_upload, run_check

JsonCheck = Callable[[dict, bool], Any]


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def read_json(request: Request) -> dict:
    """The request's JSON object, or BadRequest saying what is wrong with it."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BadRequest(N_("Send JSON with Content-Type: application/json."), status_code=415)
    return parse_json(await read_capped_body(request))


def parse_json(body: bytes) -> dict:
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest(N_("The body is not UTF-8 text.")) from None
    except (ValueError, RecursionError):
        raise BadRequest(N_("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise BadRequest(N_("The body must be a JSON object."))
    try:
        storable = _storable(data)
    except RecursionError:
        raise BadRequest(N_("The body is not valid JSON.")) from None
    if not storable:
        raise BadRequest(N_("Text may not contain NUL characters or unpaired surrogates."), status_code=422)
    return data


def _storable(value: object) -> bool:
    """False if any string, key or value, holds NUL or a lone surrogate: JSON can carry both
    ("\\u0000", "\\ud800"), PostgreSQL refuses the first and UTF-8 cannot encode the second."""
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    return True


async def read_json_and_files(request: Request, part: str, check: JsonCheck) -> tuple[dict, Upload]:
    """JSON alone, or multipart/form-data with a JSON part named `part` (before the files) and `files` parts.

    `check(data, has_files)` runs before any file is stored; what it returns is on
    `Upload.checked`. A refusal is raised, with nothing stored.
    """
    if not is_multipart(request):
        data, upload = await read_json(request), Upload()
        await run_in_threadpool(run_check, upload, lambda _: check(data, False))  # it may read the database
    else:

        def parsed(upload: Upload) -> tuple[dict, Any]:
            if part in upload.fields:
                data = parse_json(upload.get(part).encode("utf-8"))
            elif part == "message" and "body" in upload.fields:
                data = {"body": upload.get("body")}
            else:
                raise BadRequest(
                    Text(N_("The multipart body needs a part named {name} holding JSON, before the files."), name=part)
                )
            return data, check(data, upload.files_chosen > 0)

        upload = await read_upload(request, context_of(request), parsed)
        if upload.refused is None:
            data, upload.checked = upload.checked
    if upload.refused is not None:
        raise upload.refused
    return data, upload


async def read_message(request: Request, check: JsonCheck) -> tuple[dict, Upload]:
    """A message: JSON alone, or multipart with a JSON part named "message" and files.

    `check` runs only where files may come, before the first is stored: a message without
    files stores nothing before the write, and the write makes every check itself.
    """
    if not is_multipart(request):
        return await read_json(request), Upload()
    return await read_json_and_files(request, "message", check)
