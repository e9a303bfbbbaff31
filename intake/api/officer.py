"""The officers' API: log in, the office's cases, and the same case work as the pages."""

from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..service import casework, officers
from ..web.downloads import download
from ..web.templating import context_of
from .requests import bearer, read_json, read_json_and_files
from .shapes import file_json, handling_json, message_json, pending_json


async def officer_login(request: Request) -> Response:
    data = await read_json(request)
    token = await run_in_threadpool(
        officers.log_in, context_of(request), data.get("username"), data.get("password"), data.get("totp")
    )
    return JSONResponse({"token": token}, status_code=201)


async def _officer(request: Request) -> officers.OfficerSession:
    return await run_in_threadpool(officers.current, context_of(request), bearer(request))


async def officer_logout(request: Request) -> Response:
    await run_in_threadpool(officers.log_out, context_of(request), bearer(request))
    return Response(status_code=204)


async def officer_cases(request: Request) -> Response:
    officer = await _officer(request)
    rows = await run_in_threadpool(casework.inbox, context_of(request), officer)
    return JSONResponse(
        {
            "cases": [
                {
                    "id": r.id,
                    "office": r.office,
                    "status": r.status,
                    "received_on": r.received_on,
                    "unread": r.unread,
                    "flag": r.flag,
                    "next_due": r.next_due,
                }
                for r in rows
            ]
        }
    )


async def officer_case(request: Request) -> Response:
    officer = await _officer(request)
    detail = await run_in_threadpool(casework.open_case, context_of(request), officer, request.path_params["case_id"])
    return JSONResponse(
        {
            "id": detail.id,
            "office": detail.office,
            "status": detail.status,
            "received_on": detail.received_on,
            "acknowledged_on": detail.acknowledged_on,
            "description": detail.description,
            "answers": detail.answers,
            "handling": handling_json(detail.handling),
            "other_handlings": [handling_json(h) for h in detail.other_handlings],
            "allowed_transitions": [state for state, _, via in detail.allowed if not via],
            "actions": [asdict(a) for a in detail.actions],
            "files": [file_json(f) for f in detail.files],
            "messages": [message_json(m) for m in detail.messages],
        }
    )


async def officer_write(request: Request) -> Response:
    ctx, officer, case_id = context_of(request), await _officer(request), request.path_params["case_id"]

    def check(data: dict, has_files: bool) -> Any:
        return casework.check_reply(ctx, officer, case_id, data.get("body"), has_files)

    data, upload = await read_json_and_files(request, "message", check)
    message_id = await run_in_threadpool(casework.reply, ctx, officer, case_id, data.get("body"), upload.files)
    return JSONResponse({"id": message_id, "files": pending_json(upload.files)}, status_code=201)


async def officer_file(request: Request) -> Response:
    officer = await _officer(request)
    view, content = await run_in_threadpool(
        casework.open_file, context_of(request), officer, request.path_params["case_id"], request.path_params["file_id"]
    )
    return download(view, content)


async def officer_transition(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    view = await run_in_threadpool(
        casework.transition, context_of(request), officer, request.path_params["case_id"], data.get("to"), data.get("note")
    )
    return JSONResponse(handling_json(view))


async def officer_referral(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    view = await run_in_threadpool(
        casework.refer, context_of(request), officer, request.path_params["case_id"], data.get("to"), data.get("reason")
    )
    return JSONResponse(handling_json(view))


async def officer_consent_request(request: Request) -> Response:
    officer = await _officer(request)
    await run_in_threadpool(casework.request_consent, context_of(request), officer, request.path_params["case_id"])
    return JSONResponse({"consent": "requested"})


async def officer_action(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    action_id = await run_in_threadpool(
        casework.record_action,
        context_of(request),
        officer,
        request.path_params["case_id"],
        data.get("kind"),
        data.get("item"),
        data.get("note", ""),
    )
    return JSONResponse({"id": action_id}, status_code=201)


async def officer_warning(request: Request) -> Response:
    officer = await _officer(request)
    await run_in_threadpool(casework.warn_of_abandonment, context_of(request), officer, request.path_params["case_id"])
    return JSONResponse({"warned": True})
