"""The officers' API: log in, the office's cases, and the same case work as the pages."""

from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from policies.text import N_, Text

from ..service import casework, inbox, officers, protection, recusal, referral, restriction
from ..web.bad_request import BadRequest
from ..web.downloads import download
from ..web.errors import error_response
from ..web.forms import whole_number
from ..web.templating import context_of
from .requests import bearer, read_json, read_message
from .shapes import file_json, handling_json, measure_json, message_json, pending_json


async def officer_login(request: Request) -> Response:
    data = await read_json(request)
    ctx = context_of(request)
    token = await run_in_threadpool(
        officers.log_in, ctx, data.get("username"), data.get("password"), data.get("totp"), data.get("device")
    )
    return JSONResponse({"token": token, "device": officers.device_token(ctx, data["username"])}, status_code=201)


async def _officer(request: Request) -> officers.OfficerSession:
    return await run_in_threadpool(officers.current, context_of(request), bearer(request))


async def officer_logout(request: Request) -> Response:
    await run_in_threadpool(officers.log_out, context_of(request), bearer(request))
    return Response(status_code=204)


def _page_number(value: str | None) -> int:
    return whole_number(value, 6) or 1


# The inbox's choices that take one of a list of values (inbox.allowed); an unknown one is refused, never
# quietly replaced: a tool that asked for the cases of one region must not be handed every case.
INBOX_CHOICES = ("filter", "sort", "concern", "region", "state", "safety")


async def officer_cases(request: Request) -> Response:
    officer = await _officer(request)
    params = request.query_params
    ctx = context_of(request)
    chosen = {name: params.get(name) or "" for name in INBOX_CHOICES}
    refused = inbox.unknown(ctx.policy, officer.office, **chosen)
    if refused:
        return await error_response(
            request,
            422,
            N_('The inbox does not take some of these values: "fields" says which values each choice takes.'),
            fields={name: Text(N_("must be one of: {values}"), values=", ".join(values)) for name, values in refused.items()},
        )
    page = await run_in_threadpool(
        inbox.inbox,
        ctx,
        officer,
        chosen["filter"] or "open",
        params.get("q") or "",
        chosen["sort"] or "urgency",
        _page_number(params.get("page")),
        concern=chosen["concern"],
        region=chosen["region"],
        state=chosen["state"],
        safety=chosen["safety"],
    )
    return JSONResponse(
        {
            "cases": [_inbox_row(r) for r in page.rows],
            "page": page.page,
            "pages": page.pages,
            "total": page.total,
            "filter": page.filter,
            "sort": page.sort,
            "q": page.query,
            "concern": page.concern or None,
            "region": page.region or None,
            "state": page.state or None,
            "safety": page.safety or None,
        }
    )


def _inbox_row(r: inbox.InboxRow) -> dict[str, Any]:
    other = r.other_part
    return {
        "id": r.id,
        "office": r.office,
        "status": r.status,
        "received_on": r.received_on,
        "unread": r.unread,
        "flag": r.flag,
        "next_due": r.next_due,
        "assignee": r.assignee,
        "next_deadline": {"name": r.next_deadline, "due_on": r.next_due} if r.next_deadline else None,
        "concerns": list(r.concerns),
        "reported_concerns": list(r.reported_concerns),
        "transferred_by": r.transferred_by,
        "region": r.region,
        "may_be_in_danger": r.danger,
        "protection_now": r.protection_now,
        # The other case of a report of both: where it stands, never what it holds.
        "other_part": {"id": other.id, "office": other.office, "status": other.status} if other else None,
        "referred_in": r.referred_in,
        "open_measures": r.open_measures,
        "needs_officer": r.needs_officer,
        "closed": r.closed,
        "restricted": r.restricted,
    }


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
            "language": detail.language,
            "handling": handling_json(detail.handling),
            "other_handlings": [handling_json(h) for h in detail.other_handlings],
            "allowed_transitions": [m.state for m in detail.moves if not m.via],
            "decisions": [m.state for m in detail.decisions],
            # The reader's own office's records only: another office's notes never leave it.
            "actions": [asdict(r) for r in detail.records],
            "measures": [measure_json(m) for m in detail.measures],
            "determination": detail.handling.determination,
            "assignee": detail.assignee,
            "history": [asdict(h) for h in detail.history],
            # The other case of a report of both kinds: where it stands, never what it holds.
            "linked": [{"id": c.id, "office": c.office, "status": c.status} for c in detail.linked],
            "identity": asdict(detail.identity),
            # A restricted case: who holds a key to it (empty for an ordinary case).
            "restricted": detail.restricted,
            "holders": [asdict(h) for h in detail.holders],
            "files": [file_json(f) for f in detail.files],
            "messages": [message_json(m) for m in detail.messages],
        }
    )


async def officer_identity(request: Request) -> Response:
    """Read who the complainant is (they consented); recorded in the case's history."""
    officer = await _officer(request)
    text = await run_in_threadpool(casework.read_identity, context_of(request), officer, request.path_params["case_id"])
    return JSONResponse({"identity": text})


async def officer_write(request: Request) -> Response:
    ctx, officer, case_id = context_of(request), await _officer(request), request.path_params["case_id"]

    def check(data: dict, has_files: bool) -> Any:
        return casework.check_reply(ctx, officer, case_id, data.get("body"), has_files)

    data, upload = await read_message(request, check)
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
        casework.transition,
        context_of(request),
        officer,
        request.path_params["case_id"],
        data.get("to"),
        data.get("note"),
        data.get("reason"),
        data.get("message"),
    )
    return JSONResponse(handling_json(view))


async def officer_reopen(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    view = await run_in_threadpool(
        casework.reopen, context_of(request), officer, request.path_params["case_id"], data.get("reason")
    )
    return JSONResponse(handling_json(view))


async def officer_determination(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    view = await run_in_threadpool(
        casework.determine,
        context_of(request),
        officer,
        request.path_params["case_id"],
        data.get("prima_facie"),
        data.get("reasons"),
    )
    return JSONResponse(handling_json(view))


async def officer_extension(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    view = await run_in_threadpool(
        casework.extend,
        context_of(request),
        officer,
        request.path_params["case_id"],
        data.get("deadline"),
        data.get("days"),
        data.get("reason"),
    )
    return JSONResponse(handling_json(view))


async def officer_assignment(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    if "username" not in data:  # null unassigns: a body that forgot the field must not
        raise BadRequest(N_('Name the officer in "username", or null for nobody.'))
    assignee = await run_in_threadpool(
        casework.assign, context_of(request), officer, request.path_params["case_id"], data.get("username")
    )
    return JSONResponse({"assignee": assignee})


async def officer_note(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    note_id = await run_in_threadpool(
        casework.add_note, context_of(request), officer, request.path_params["case_id"], data.get("note")
    )
    return JSONResponse({"id": note_id}, status_code=201)


async def officer_referral(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    view = await run_in_threadpool(
        referral.refer,
        context_of(request),
        officer,
        request.path_params["case_id"],
        data.get("to"),
        data.get("reason"),
        data.get("memo"),
        data.get("state"),
        data.get("receiver_concerned"),
    )
    return JSONResponse(handling_json(view))


async def officer_consent_request(request: Request) -> Response:
    officer = await _officer(request)
    await run_in_threadpool(referral.request_consent, context_of(request), officer, request.path_params["case_id"])
    return JSONResponse({"consent": "requested"})


async def officer_measure(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    measure_id = await run_in_threadpool(
        protection.recommend,
        context_of(request),
        officer,
        request.path_params["case_id"],
        data.get("kind"),
        data.get("recommended_to"),
        data.get("note", ""),
        data.get("review_on"),
    )
    return JSONResponse({"id": measure_id}, status_code=201)


async def officer_measure_update(request: Request) -> Response:
    officer = await _officer(request)
    data = await read_json(request)
    status = await run_in_threadpool(
        protection.update,
        context_of(request),
        officer,
        request.path_params["case_id"],
        request.path_params["measure_id"],
        data.get("status"),
        data.get("review_on"),
        data.get("note", ""),
    )
    return JSONResponse({"id": request.path_params["measure_id"], "status": status})


async def officer_warning(request: Request) -> Response:
    officer = await _officer(request)
    await run_in_threadpool(casework.warn_of_abandonment, context_of(request), officer, request.path_params["case_id"])
    return JSONResponse({"warned": True})


async def officer_recusal(request: Request) -> Response:
    """Declare a conflict of interest on a case and step away from it; the last officer who can open a
    restricted case names one to hand it on to ("hand_to"; a 409 without it lists them as "allowed")."""
    officer = await _officer(request)
    data = await read_json(request)
    await run_in_threadpool(
        recusal.declare, context_of(request), officer, request.path_params["case_id"], data.get("note"), data.get("hand_to")
    )
    return JSONResponse({"recused": True, "handed_to": data.get("hand_to")}, status_code=201)


async def officer_recusal_decision(request: Request) -> Response:
    """The decision on an officer's declared conflict: upheld or lifted, with a reason."""
    officer = await _officer(request)
    data = await read_json(request)
    await run_in_threadpool(
        recusal.decide,
        context_of(request),
        officer,
        request.path_params["case_id"],
        data.get("username"),
        data.get("decision"),
        data.get("reason"),
        data.get("director_general", False),
    )
    return JSONResponse({"decision": data.get("decision")})


async def officer_share(request: Request) -> Response:
    """A head shares a restricted case with a named officer of the office."""
    officer = await _officer(request)
    data = await read_json(request)
    await run_in_threadpool(restriction.share, context_of(request), officer, request.path_params["case_id"], data.get("username"))
    return JSONResponse({"shared": True})


async def officer_conflicts(request: Request) -> Response:
    """The declarations of conflicts of interest the officer may see (a head: the office's), each pending or decided."""
    officer = await _officer(request)
    found = await run_in_threadpool(recusal.declarations, context_of(request), officer)
    return JSONResponse(
        {
            "declarations": [
                {
                    "case": d.case_id,
                    "username": d.username,
                    "declared_on": d.declared_on,
                    "note": d.note,
                    "decision": d.decision,
                    "decided_on": d.decided_on,
                    "decided_by": d.decided_by,
                    "director_general": d.director_general,
                    "reason": d.reason,
                    "lifted_on": d.lifted_on,
                    "decider": d.decider,
                    "can_decide": d.can_decide,
                }
                for d in found
            ]
        }
    )
