"""Reading API requests: a JSON object, or multipart with a JSON part and files; the Bearer token."""

import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from policies.form import InvalidReport
from policies.text import N_, Text

from ..web.bad_request import BadRequest
from ..web.forms import read_capped_body
from ..web.templating import context_of
from ..web.uploads import Upload, is_multipart, read_upload, run_check
from .models import Body, MessageIn

B = TypeVar("B", bound=Body)
JsonCheck = Callable[[B, bool], Any]

# What a field is told when its value is not of the model's shape, by pydantic's error type.
PROBLEMS = {
    "missing": N_("is required"),
    "string_type": N_("must be text"),
    "bool_type": N_("must be true or false"),
    "int_type": N_("must be a whole number"),
    "list_type": N_("must be a list"),
    "dict_type": N_("must be an object"),
    "literal_error": N_("is not one of the choices offered"),
    "extra_forbidden": N_("is not a field this request takes"),
}
OTHER_PROBLEM = N_("is not a value this field takes")


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


def parse(model: type[B], data: dict) -> B:
    """The body as its model, or a 422 naming each field that is missing or of the wrong shape.

    It runs after parse_json: the size limit and the NUL/surrogate check come first, whatever the model."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidReport({_field(e["loc"]): _problem(e) for e in error.errors()}) from None


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _problem(error: Any) -> str:
    if error["type"] == "string_too_long":
        limit, length = error["ctx"]["max_length"], len(error["input"])
        return Text(N_("is too long: at most {limit} characters, this has {length}"), limit=limit, length=length)
    return PROBLEMS.get(error["type"], OTHER_PROBLEM)


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


async def read_json_and_files(request: Request, part: str, model: type[B], check: JsonCheck[B]) -> tuple[B, Upload]:
    """JSON alone, or multipart/form-data with a JSON part named `part` (before the files) and `files` parts.

    The JSON is read as `model`; then `check(body, has_files)` runs before any file is stored; what it
    returns is on `Upload.checked`. A refusal is raised, with nothing stored.
    """
    if not is_multipart(request):
        data, upload = parse(model, await read_json(request)), Upload()
        await run_in_threadpool(run_check, upload, lambda _: check(data, False))  # it may read the database
    else:

        def parsed(upload: Upload) -> tuple[B, Any]:
            if part in upload.fields:
                data = parse(model, parse_json(upload.get(part).encode("utf-8")))
            elif part == "message" and "body" in upload.fields:
                data = parse(model, {"body": upload.get("body")})
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


async def read_message(request: Request, check: JsonCheck[MessageIn]) -> tuple[MessageIn, Upload]:
    """A message: JSON alone, or multipart with a JSON part named "message" and files.

    `check` runs only where files may come, before the first is stored: a message without
    files stores nothing before the write, and the write makes every check itself.
    """
    if not is_multipart(request):
        return parse(MessageIn, await read_json(request)), Upload()
    return await read_json_and_files(request, "message", MessageIn, check)
