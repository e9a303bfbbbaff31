"""The reporter's API: the form's questions, filing a report, the case room."""

from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from policies import Choice, MisconductKind, ReportInput, validate_report
from policies.model import Question
from policies.text import N_

from .. import i18n
from ..service import reporting, sendings
from ..web.bad_request import BadRequest
from ..web.downloads import download
from ..web.templating import context_of
from .requests import bearer, read_json, read_json_and_files, read_message
from .shapes import file_json, handling_json, measure_json, message_json, pending_json


async def form(request: Request) -> Response:
    """The report form's questions, in `?lang=` (or the Accept-Language) of the caller."""
    policy = context_of(request).policy
    lang = i18n.valid(request.query_params.get("lang")) or i18n.negotiate(request.headers.get("accept-language"))
    _ = i18n.translations(lang).gettext

    def choice(item: Choice | MisconductKind) -> dict[str, object]:
        out: dict[str, object] = {"id": item.id, "label": _(item.label)}
        if isinstance(item, MisconductKind):
            out.update(description=_(item.description), examples=[_(e) for e in item.examples])
        return out

    def question(q: Question) -> dict[str, object]:
        out: dict[str, object] = {"type": q.type, "label": _(q.label), "for": list(q.concerns)}
        if q.hint:
            out["hint"] = _(q.hint)
        if q.choices:
            out["choices"] = [choice(c) for c in policy.choices_of(q.choices)]
        else:
            out["max_length"] = q.max_length
        return out

    return JSONResponse(
        {
            "policy_version": policy.version,
            "lang": lang,
            "concerns": [{"id": c.id, "label": _(c.label), "hint": _(c.hint)} for c in policy.concerns],
            # Each question says which concerns ask it; a report of "both" sends two parts, each with its own.
            "questions": {q.id: question(q) for q in policy.questions},
            "description": {"type": "text", "required": True, "max_length": 50000},
        },
        headers={"Content-Language": lang},
    )


def idempotency_key(request: Request) -> str | None:
    """The client's Idempotency-Key: the same key files nothing twice (a retry after a lost answer)."""
    given = request.headers.get("idempotency-key")
    if given is None:
        return None
    if sendings.valid(given) is None:
        raise BadRequest(N_("An Idempotency-Key is 16 to 200 characters, random, one for each report or message."))
    return f"api:{given}"


async def file_report(request: Request) -> Response:
    ctx = context_of(request)
    key = idempotency_key(request)

    def check(data: dict, has_files: bool) -> ReportInput:
        report = validate_report(
            ctx.policy,
            data.get("concerns"),
            data.get("description"),
            data.get("answers"),
            data.get("parts"),
            data.get("restricted"),
        )
        return reporting.check_report(ctx, report, key)

    _, upload = await read_json_and_files(request, "report", check)
    lang = i18n.valid(request.query_params.get("lang")) or i18n.negotiate(request.headers.get("accept-language"))
    filed = await run_in_threadpool(reporting.file_report, ctx, upload.checked, upload.files, lang, key)
    return JSONResponse(
        {
            "passphrase": filed.passphrase,
            "cases": [asdict(c) for c in filed.cases],
            "files": pending_json(upload.files),
        },
        status_code=201,
    )


async def caseroom_login(request: Request) -> Response:
    data = await read_json(request)
    token = await run_in_threadpool(reporting.open_case_room, context_of(request), data.get("passphrase"))
    return JSONResponse({"token": token}, status_code=201)


async def caseroom_logout(request: Request) -> Response:
    await run_in_threadpool(reporting.leave_case_room, context_of(request), bearer(request))
    return Response(status_code=204)


async def caseroom(request: Request) -> Response:
    cases = await run_in_threadpool(reporting.case_room, context_of(request), bearer(request))
    return JSONResponse(
        {
            "cases": [
                {
                    "id": c.id,
                    "office": c.office,
                    "status": c.status,
                    "received_on": c.received_on,
                    "handlings": [dict(handling_json(h), reporter_text=h.reporter_text) for h in c.handlings],
                    "consent_requested": c.consent_requested,
                    "consent": c.consent_open.consent if c.consent_open else None,
                    "closed": c.closed,
                    "measures": [measure_json(m, with_notes=False) for m in c.measures],
                    "files": [file_json(f) for f in c.files],
                    "messages": [message_json(m) for m in c.messages],
                    "identity": asdict(c.identity),
                    "deleted_on": c.deleted_on,
                    "restricted": c.restricted,
                }
                for c in cases
            ]
        }
    )


async def caseroom_write(request: Request) -> Response:
    ctx, token, case_id = context_of(request), bearer(request), request.path_params["case_id"]
    # A stranger's message, JSON or upload, is refused before a byte of it is read.
    await run_in_threadpool(reporting.check_access, ctx, token, case_id)

    key = idempotency_key(request)

    def check(data: dict, has_files: bool) -> Any:
        return reporting.check_message(ctx, case_id, data.get("body"), has_files, key)

    data, upload = await read_message(request, check)
    # The client's Idempotency-Key tells a retry: the same words under a new key are a new message.
    message_id = await run_in_threadpool(
        reporting.reporter_writes, ctx, token, case_id, data.get("body"), upload.files, key, again=True
    )
    return JSONResponse({"id": message_id, "files": pending_json(upload.files)}, status_code=201)


async def caseroom_identity(request: Request) -> Response:
    """Let the office know who you are (`{"agree": true}`), or take that back (`false`) while no one has read it."""
    data = await read_json(request)
    shared = await run_in_threadpool(
        reporting.share_identity, context_of(request), bearer(request), request.path_params["case_id"], data.get("agree")
    )
    return JSONResponse({"shared": shared})


async def caseroom_consent(request: Request) -> Response:
    data = await read_json(request)
    answer = await run_in_threadpool(
        reporting.answer_consent, context_of(request), bearer(request), request.path_params["case_id"], data.get("referral")
    )
    return JSONResponse({"consent": answer})


async def caseroom_withdrawal(request: Request) -> Response:
    data = await read_json(request)
    if set(data) - {"reason"}:  # an irreversible act: nothing but what it means is accepted
        raise BadRequest(N_("A withdrawal takes only an optional reason."))
    offices = await run_in_threadpool(
        reporting.withdraw, context_of(request), bearer(request), request.path_params["case_id"], data.get("reason")
    )
    return JSONResponse({"withdrawn": list(offices)})


async def caseroom_file(request: Request) -> Response:
    view, content = await run_in_threadpool(
        reporting.open_file, context_of(request), bearer(request), request.path_params["case_id"], request.path_params["file_id"]
    )
    return download(view, content)
