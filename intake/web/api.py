"""The JSON API under /api/v1: the same service calls as the pages, for tools and load tests.

Authentication is a Bearer token (the same server-side sessions as the cookies use).
The OpenAPI document is at /api/v1/openapi.json.
"""

import json
from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from policies import validate_report

from .. import i18n
from ..service import casework, officers, reporting
from ..service.casefiles import HandlingView
from ..service.attachments import FileView, discard
from .downloads import download
from ..markers import N_, Text
from .bad_request import BadRequest
from .forms import read_capped_body
from .openapi import openapi_document
from .uploads import Upload, is_multipart, read_upload


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
    return data


async def read_json_and_files(request: Request, part: str) -> tuple[dict, Upload]:
    """JSON alone, or multipart/form-data with a JSON part named `part` and `files` parts."""
    if not is_multipart(request):
        return await read_json(request), Upload()
    upload = await read_upload(request)
    try:
        if part in upload.fields:
            return parse_json(upload.get(part).encode("utf-8")), upload
        if part == "message" and "body" in upload.fields:
            return {"body": upload.get("body")}, upload
        raise BadRequest(Text(N_("The multipart body needs a part named {name} holding JSON."), name=part))
    except BaseException:
        await run_in_threadpool(discard, request.app.state.ctx, upload.files)
        raise


async def with_files(request: Request, upload: Upload, fn, *args):
    """Call a service function with the upload's files; remove them if it fails."""
    try:
        return await run_in_threadpool(fn, *args, upload.files)
    except BaseException:
        await run_in_threadpool(discard, request.app.state.ctx, upload.files)
        raise


def pending_json(upload: Upload) -> list[dict]:
    """What the sender is told of the files they just sent: sizes, and whether each was cleaned."""
    return [{"name": f.name, "size": f.size, "metadata_removed": f.cleaned} for f in upload.files]


def file_json(view: FileView) -> dict:
    return {"id": view.id, "name": view.name, "size": view.size, "metadata_removed": view.cleaned}


def handling_json(view: HandlingView) -> dict:
    return {
        "office": view.office, "status": view.status, "label": view.label, "opened_on": view.opened_on,
        "acknowledged_on": view.acknowledged_on, "closed": view.closed, "consent": view.consent,
        "deadlines": [{"name": d.name, "due_on": d.due_on.isoformat(), "met_on": d.met_on.isoformat() if d.met_on else None,
                       "state": d.state} for d in view.deadlines],
    }


def message_json(message) -> dict:
    return {"id": message.id, "author": message.author, "office": message.office, "body": message.body,
            "sent_on": message.sent_on, "files": [file_json(f) for f in message.files]}


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def form(request: Request) -> Response:
    """The report form's questions, in `?lang=` (or the Accept-Language) of the caller."""
    policy = request.app.state.ctx.policy
    lang = i18n.valid(request.query_params.get("lang")) or i18n.negotiate(request.headers.get("accept-language"))
    _ = i18n.translations(lang).gettext

    def choices(items):
        return [{"id": i.id, "label": _(i.label)} for i in items]

    return JSONResponse({
        "policy_version": policy.version,
        "lang": lang,
        "concerns": [{"id": c.id, "label": _(c.label), "hint": _(c.hint)} for c in policy.concerns],
        "questions": {
            "misconduct_kinds": {"type": "multiple", "choices": [
                {"id": k.id, "label": _(k.label), "description": _(k.description), "examples": [_(e) for e in k.examples]}
                for k in policy.misconduct_kinds]},
            "protected_activity": {"type": "single", "choices": choices(policy.protected_activities)},
            "adverse_actions": {"type": "multiple", "choices": choices(policy.adverse_actions)},
            "happened": {"type": "text", "max_length": 200},
            "region": {"type": "single", "choices": choices(policy.regions)},
        },
        "description": {"type": "text", "required": True, "max_length": 50000},
    }, headers={"Content-Language": lang})


async def file_report(request: Request) -> Response:
    ctx = request.app.state.ctx
    data, upload = await read_json_and_files(request, "report")
    try:
        report = validate_report(ctx.policy, data.get("concerns"), data.get("description"), data.get("answers"))
    except BaseException:
        await run_in_threadpool(discard, ctx, upload.files)
        raise
    filed = await with_files(request, upload, reporting.file_report, ctx, report)
    return JSONResponse({
        "passphrase": filed.passphrase,
        "cases": [asdict(c) for c in filed.cases],
        "files": pending_json(upload),
    }, status_code=201)


async def caseroom_login(request: Request) -> Response:
    data = await read_json(request)
    token = await run_in_threadpool(reporting.open_case_room, request.app.state.ctx, data.get("passphrase"))
    return JSONResponse({"token": token}, status_code=201)


async def caseroom_logout(request: Request) -> Response:
    await run_in_threadpool(reporting.leave_case_room, request.app.state.ctx, bearer(request))
    return Response(status_code=204)


async def caseroom(request: Request) -> Response:
    cases = await run_in_threadpool(reporting.case_room, request.app.state.ctx, bearer(request))
    return JSONResponse({"cases": [
        {"id": c.id, "office": c.office, "status": c.status, "received_on": c.received_on,
         "handlings": [dict(handling_json(h), reporter_text=h.reporter_text) for h in c.handlings],
         "consent_requested": c.consent_requested,
         "files": [file_json(f) for f in c.files],
         "messages": [message_json(m) for m in c.messages]}
        for c in cases
    ]})


async def caseroom_write(request: Request) -> Response:
    ctx, case_id = request.app.state.ctx, request.path_params["case_id"]
    await run_in_threadpool(reporting.check_access, ctx, bearer(request), case_id)
    data, upload = await read_json_and_files(request, "message")
    message_id = await with_files(request, upload, reporting.reporter_writes, ctx, bearer(request), case_id, data.get("body"))
    return JSONResponse({"id": message_id, "files": pending_json(upload)},
                        status_code=201)


async def caseroom_consent(request: Request) -> Response:
    data = await read_json(request)
    answer = await run_in_threadpool(reporting.answer_consent, request.app.state.ctx, bearer(request),
                                     request.path_params["case_id"], data.get("referral"))
    return JSONResponse({"consent": answer})


async def caseroom_file(request: Request) -> Response:
    view, content = await run_in_threadpool(reporting.open_file, request.app.state.ctx, bearer(request),
                                            request.path_params["case_id"], request.path_params["file_id"])
    return download(view, content)


async def officer_login(request: Request) -> Response:
    data = await read_json(request)
    token = await run_in_threadpool(officers.log_in, request.app.state.ctx, data.get("username"), data.get("password"), data.get("totp"))
    return JSONResponse({"token": token}, status_code=201)


async def _officer(request: Request) -> officers.OfficerSession:
    return await run_in_threadpool(officers.current, request.app.state.ctx, bearer(request))


async def officer_logout(request: Request) -> Response:
    await run_in_threadpool(officers.log_out, request.app.state.ctx, bearer(request))
    return Response(status_code=204)


async def officer_cases(request: Request) -> Response:
    officer = await _officer(request)
    rows = await run_in_threadpool(casework.inbox, request.app.state.ctx, officer)
    return JSONResponse({"cases": [
        {"id": r.id, "office": r.office, "status": r.status, "received_on": r.received_on, "unread": r.unread,
         "flag": r.flag, "next_due": r.next_due} for r in rows]})


async def officer_case(request: Request) -> Response:
    officer = await _officer(request)
    detail = await run_in_threadpool(casework.open_case, request.app.state.ctx, officer, request.path_params["case_id"])
    return JSONResponse({
        "id": detail.id, "office": detail.office, "status": detail.status, "received_on": detail.received_on,
        "acknowledged_on": detail.acknowledged_on, "description": detail.description, "answers": detail.answers,
        "handling": handling_json(detail.handling), "other_handlings": [handling_json(h) for h in detail.other_handlings],
        "allowed_transitions": [state for state, _, via in detail.allowed if not via],
        "actions": [asdict(a) for a in detail.actions],
        "files": [file_json(f) for f in detail.files],
        "messages": [message_json(m) for m in detail.messages],
    })


async def officer_write(request: Request) -> Response:
    officer = await _officer(request)
    data, upload = await read_json_and_files(request, "message")
    message_id = await with_files(request, upload, casework.reply, request.app.state.ctx, officer, request.path_params["case_id"], data.get("body"))
    return JSONResponse({"id": message_id, "files": pending_json(upload)},
                        status_code=201)


async def officer_file(request: Request) -> Response:
    officer = await _officer(request)
    view, content = await run_in_threadpool(casework.open_file, request.app.state.ctx, officer,
                                            request.path_params["case_id"], request.path_params["file_id"])
    return download(view, content)


async def officer_transition(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    view = await run_in_threadpool(casework.transition, request.app.state.ctx, officer, request.path_params["case_id"],
                                   data.get("to"), data.get("note"))
    return JSONResponse(handling_json(view))


async def officer_referral(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    view = await run_in_threadpool(casework.refer, request.app.state.ctx, officer, request.path_params["case_id"],
                                   data.get("to"), data.get("reason"))
    return JSONResponse(handling_json(view))


async def officer_consent_request(request: Request) -> Response:
    officer = await _officer(request)
    await run_in_threadpool(casework.request_consent, request.app.state.ctx, officer, request.path_params["case_id"])
    return JSONResponse({"consent": "requested"})


async def officer_action(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    action_id = await run_in_threadpool(casework.record_action, request.app.state.ctx, officer, request.path_params["case_id"],
                                        data.get("kind"), data.get("item"), data.get("note", ""))
    return JSONResponse({"id": action_id}, status_code=201)


async def officer_warning(request: Request) -> Response:
    officer = await _officer(request)
    await run_in_threadpool(casework.warn_of_abandonment, request.app.state.ctx, officer, request.path_params["case_id"])
    return JSONResponse({"warned": True})


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


routes = [
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/form", form, methods=["GET"]),
    Route("/reports", file_report, methods=["POST"]),
    Route("/caseroom/session", caseroom_login, methods=["POST"]),
    Route("/caseroom/session", caseroom_logout, methods=["DELETE"]),
    Route("/caseroom", caseroom, methods=["GET"]),
    Route("/caseroom/cases/{case_id}/messages", caseroom_write, methods=["POST"]),
    Route("/caseroom/cases/{case_id}/files/{file_id}", caseroom_file, methods=["GET"]),
    Route("/caseroom/cases/{case_id}/consent", caseroom_consent, methods=["POST"]),
    Route("/officer/session", officer_login, methods=["POST"]),
    Route("/officer/session", officer_logout, methods=["DELETE"]),
    Route("/officer/cases", officer_cases, methods=["GET"]),
    Route("/officer/cases/{case_id}", officer_case, methods=["GET"]),
    Route("/officer/cases/{case_id}/messages", officer_write, methods=["POST"]),
    Route("/officer/cases/{case_id}/files/{file_id}", officer_file, methods=["GET"]),
    Route("/officer/cases/{case_id}/transitions", officer_transition, methods=["POST"]),
    Route("/officer/cases/{case_id}/referral", officer_referral, methods=["POST"]),
    Route("/officer/cases/{case_id}/consent-request", officer_consent_request, methods=["POST"]),
    Route("/officer/cases/{case_id}/actions", officer_action, methods=["POST"]),
    Route("/officer/cases/{case_id}/abandonment-warning", officer_warning, methods=["POST"]),
]
