"""The officers' API: log in, the office's cases, and the same case work as the pages.

Most handlers are one service call: endpoint() parses the body into its model, calls, and
answers; what remains written out here is the inbox's query and the messages that carry files.
"""

from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from policies.text import N_, Text

from ..service import casework, inbox, officers, protection, recusal, referral, restriction
from ..web.downloads import download
from ..web.errors import error_response
from ..web.forms import whole_number
from ..web.templating import context_of
from . import models as m
from .endpoint import Call, answer, endpoint
from .requests import bearer, read_message
from .shapes import file_json, handling, measure_json, message_json, sent


def _log_in(c: Call[m.OfficerLoginIn]) -> m.OfficerToken:
    b = c.body
    token = officers.log_in(c.ctx, b.username, b.password, b.totp, b.device)
    return m.OfficerToken(token=token, device=officers.device_token(c.ctx, b.username))


officer_login = endpoint(_log_in, m.OfficerLoginIn, status=201)
officer_logout = endpoint(lambda c: officers.log_out(c.ctx, c.token))


async def _officer(request: Request) -> officers.OfficerSession:
    return await run_in_threadpool(officers.current, context_of(request), bearer(request))


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
    return answer(
        m.Inbox.model_validate(
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
        "other_part": {"id": other.id, "office": other.office, "status": other.status, "stepped_away": other.stepped_away}
        if other
        else None,
        "referred_in": r.referred_in,
        "open_measures": r.open_measures,
        "needs_officer": r.needs_officer,
        "closed": r.closed,
        "restricted": r.restricted,
    }


def _case(c: Call[None]) -> m.Case:
    detail = casework.open_case(c.ctx, c.by, c.case_id)
    return m.Case.model_validate(
        {
            "id": detail.id,
            "office": detail.office,
            "status": detail.status,
            "received_on": detail.received_on,
            "acknowledged_on": detail.acknowledged_on,
            "description": detail.description,
            "answers": detail.answers,
            "language": detail.language,
            "handling": handling(detail.handling),
            "other_handlings": [handling(h) for h in detail.other_handlings],
            "allowed_transitions": [move.state for move in detail.moves if not move.via],
            "decisions": [move.state for move in detail.decisions],
            # The reader's own office's records only: another office's notes never leave it.
            "actions": [asdict(r) for r in detail.records],
            "measures": [measure_json(x) for x in detail.measures],
            "determination": detail.handling.determination,
            "assignee": detail.assignee,
            "history": [asdict(h) for h in detail.history],
            # The other case of a report of both kinds: where it stands, never what it holds.
            "linked": [{"id": x.id, "office": x.office, "status": x.status} for x in detail.linked],
            "identity": asdict(detail.identity),
            # A restricted case: who holds a key to it (empty for an ordinary case).
            "restricted": detail.restricted,
            "holders": [asdict(h) for h in detail.holders],
            "files": [file_json(f) for f in detail.files],
            "messages": [message_json(x) for x in detail.messages],
        }
    )


officer_case = endpoint(_case, officer=True)


def _identity(c: Call[None]) -> m.Identity:
    """Read who the complainant is (they consented); recorded in the case's history."""
    return m.Identity(identity=casework.read_identity(c.ctx, c.by, c.case_id))


officer_identity = endpoint(_identity, officer=True)


async def officer_write(request: Request) -> Response:
    ctx, officer, case_id = context_of(request), await _officer(request), request.path_params["case_id"]

    def check(body: m.MessageIn, has_files: bool) -> Any:
        return casework.check_reply(ctx, officer, case_id, body.body, has_files)

    body, upload = await read_message(request, check)
    message_id = await run_in_threadpool(casework.reply, ctx, officer, case_id, body.body, upload.files)
    return answer(sent(message_id, upload.files), 201)


officer_file = endpoint(lambda c: download(*casework.open_file(c.ctx, c.by, c.case_id, c.path["file_id"])), officer=True)


def _transition(c: Call[m.TransitionIn]) -> m.Handling:
    b = c.body
    return handling(casework.transition(c.ctx, c.by, c.case_id, b.to, b.note, b.reason, b.message))


def _reopen(c: Call[m.ReopeningIn]) -> m.Handling:
    return handling(casework.reopen(c.ctx, c.by, c.case_id, c.body.reason))


def _determine(c: Call[m.DeterminationIn]) -> m.Handling:
    return handling(casework.determine(c.ctx, c.by, c.case_id, c.body.prima_facie, c.body.reasons))


def _extend(c: Call[m.ExtensionIn]) -> m.Handling:
    b = c.body
    return handling(casework.extend(c.ctx, c.by, c.case_id, b.deadline, b.days, b.reason))


def _assign(c: Call[m.AssignmentIn]) -> m.Assigned:
    # "username" is required: null unassigns, so a body that forgot the field must not.
    return m.Assigned(assignee=casework.assign(c.ctx, c.by, c.case_id, c.body.username))


def _note(c: Call[m.NoteIn]) -> m.Created:
    return m.Created(id=casework.add_note(c.ctx, c.by, c.case_id, c.body.note))


def _refer(c: Call[m.ReferralIn]) -> m.Handling:
    b = c.body
    return handling(referral.refer(c.ctx, c.by, c.case_id, b.to, b.reason, b.memo, b.state, b.receiver_concerned))


def _ask_consent(c: Call[None]) -> m.ConsentRequested:
    referral.request_consent(c.ctx, c.by, c.case_id)
    return m.ConsentRequested(consent="requested")


def _recommend(c: Call[m.MeasureIn]) -> m.Created:
    b = c.body
    return m.Created(id=protection.recommend(c.ctx, c.by, c.case_id, b.kind, b.recommended_to, b.note, b.review_on))


def _update_measure(c: Call[m.MeasureUpdateIn]) -> m.MeasureStatus:
    b, measure_id = c.body, c.path["measure_id"]
    status = protection.update(c.ctx, c.by, c.case_id, measure_id, b.status, b.review_on, b.note)
    return m.MeasureStatus(id=measure_id, status=status)


def _warn(c: Call[None]) -> m.Warned:
    casework.warn_of_abandonment(c.ctx, c.by, c.case_id)
    return m.Warned(warned=True)


def _recuse(c: Call[m.RecusalIn]) -> m.Recused:
    """Declare a conflict of interest on a case and step away from it; the last officer who can open a
    restricted case names one to hand it on to ("hand_to"; a 409 without it lists them as "allowed")."""
    recusal.declare(c.ctx, c.by, c.case_id, c.body.note, c.body.hand_to)
    return m.Recused(recused=True, handed_to=c.body.hand_to)


def _decide(c: Call[m.RecusalDecisionIn]) -> m.Decided:
    """The decision on an officer's declared conflict: upheld or lifted, with a reason."""
    b = c.body
    recusal.decide(c.ctx, c.by, c.case_id, b.username, b.decision, b.reason, b.director_general)
    return m.Decided(decision=b.decision)


def _share(c: Call[m.ShareIn]) -> m.Shared:
    """A head shares a restricted case with a named officer of the office."""
    restriction.share(c.ctx, c.by, c.case_id, c.body.username)
    return m.Shared(shared=True)


def _conflicts(c: Call[None]) -> m.Declarations:
    """The declarations of conflicts of interest the officer may see (a head: the office's), each pending or decided."""
    found = recusal.declarations(c.ctx, c.by)
    return m.Declarations(declarations=[m.Declaration.model_validate(d) for d in found])


officer_transition = endpoint(_transition, m.TransitionIn, officer=True)
officer_reopen = endpoint(_reopen, m.ReopeningIn, officer=True)
officer_determination = endpoint(_determine, m.DeterminationIn, officer=True)
officer_extension = endpoint(_extend, m.ExtensionIn, officer=True)
officer_assignment = endpoint(_assign, m.AssignmentIn, officer=True)
officer_note = endpoint(_note, m.NoteIn, officer=True, status=201)
officer_referral = endpoint(_refer, m.ReferralIn, officer=True)
officer_consent_request = endpoint(_ask_consent, officer=True)
officer_measure = endpoint(_recommend, m.MeasureIn, officer=True, status=201)
officer_measure_update = endpoint(_update_measure, m.MeasureUpdateIn, officer=True)
officer_warning = endpoint(_warn, officer=True)
officer_recusal = endpoint(_recuse, m.RecusalIn, officer=True, status=201)
officer_recusal_decision = endpoint(_decide, m.RecusalDecisionIn, officer=True)
officer_share = endpoint(_share, m.ShareIn, officer=True)
officer_conflicts = endpoint(_conflicts, officer=True)
