"""The reporter's API: the form's questions, filing a report, the case room."""

from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from policies import Choice, ReportInput, validate_report
from policies.text import N_

from .. import i18n
from ..service import reporting
from ..web.bad_request import BadRequest
from ..web.downloads import download
from ..web.templating import context_of
from .requests import bearer, read_json, read_json_and_files
from .shapes import file_json, handling_json, measure_json, message_json, pending_json


async def form(request: Request) -> Response:
    """The report form's questions, in `?lang=` (or the Accept-Language) of the caller."""
    policy = context_of(request).policy
    lang = i18n.valid(request.query_params.get("lang")) or i18n.negotiate(request.headers.get("accept-language"))
    _ = i18n.translations(lang).gettext

    def choices(items: tuple[Choice, ...]) -> list[dict[str, str]]:
        return [{"id": i.id, "label": _(i.label)} for i in items]

    return JSONResponse(
        {
            "policy_version": policy.version,
            "lang": lang,
            "concerns": [{"id": c.id, "label": _(c.label), "hint": _(c.hint)} for c in policy.concerns],
            "questions": {
                "misconduct_kinds": {
                    "type": "multiple",
                    "choices": [
                        {"id": k.id, "label": _(k.label), "description": _(k.description), "examples": [_(e) for e in k.examples]}
                        for k in policy.misconduct_kinds
                    ],
                },
                "protected_activity": {"type": "single", "choices": choices(policy.protected_activities)},
                "adverse_actions": {"type": "multiple", "choices": choices(policy.adverse_actions)},
                "happened": {"type": "text", "max_length": 200},
                "region": {"type": "single", "choices": choices(policy.regions)},
            },
            "description": {"type": "text", "required": True, "max_length": 50000},
        },
        headers={"Content-Language": lang},
    )


async def file_report(request: Request) -> Response:
    ctx = context_of(request)

    def check(data: dict, has_files: bool) -> ReportInput:
        report = validate_report(ctx.policy, data.get("concerns"), data.get("description"), data.get("answers"))
        return reporting.check_report(ctx, report)

    _, upload = await read_json_and_files(request, "report", check)
    lang = i18n.valid(request.query_params.get("lang")) or i18n.negotiate(request.headers.get("accept-language"))
    filed = await run_in_threadpool(reporting.file_report, ctx, upload.checked, upload.files, lang)
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
                }
                for c in cases
            ]
        }
    )


async def caseroom_write(request: Request) -> Response:
    ctx, token, case_id = context_of(request), bearer(request), request.path_params["case_id"]
    # A stranger's upload is refused before a byte of it is read.
    await run_in_threadpool(reporting.check_access, ctx, token, case_id)

    def check(data: dict, has_files: bool) -> Any:
        return reporting.check_message(ctx, case_id, data.get("body"), has_files)

    data, upload = await read_json_and_files(request, "message", check)
    message_id = await run_in_threadpool(reporting.reporter_writes, ctx, token, case_id, data.get("body"), upload.files)
    return JSONResponse({"id": message_id, "files": pending_json(upload.files)}, status_code=201)


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
