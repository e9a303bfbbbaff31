"""The reporter's API: the form's questions, filing a report, the case room."""

from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from policies import Choice, MisconductKind, ReportInput, validate_report
from policies.form import MAX_DESCRIPTION_CHARS
from policies.model import Question
from policies.text import N_

from .. import i18n
from ..service import reporting, sendings
from ..service.context import Context
from ..store import OUTAGES, unavailable
from ..web.bad_request import BadRequest
from ..web.downloads import download
from ..web.templating import context_of
from . import models as m
from .endpoint import Call, answer, endpoint
from .requests import bearer, read_json_and_files, read_message
from .shapes import file_json, handling_json, measure_json, message_json, sent


async def form(request: Request) -> Response:
    """The report form's questions, in `?lang=` (or the Accept-Language) of the caller."""
    policy = context_of(request).policy
    lang = i18n.valid(request.query_params.get("lang")) or i18n.negotiate(request.headers.get("accept-language"))
    _ = i18n.translations(lang).gettext

    def choice(item: Choice | MisconductKind) -> m.FormChoice:
        if isinstance(item, MisconductKind):
            return m.FormChoice(
                id=item.id, label=_(item.label), description=_(item.description), examples=[_(e) for e in item.examples]
            )
        return m.FormChoice(id=item.id, label=_(item.label))

    def question(q: Question) -> m.FormQuestion:
        return m.FormQuestion(
            type=q.type,
            label=_(q.label),
            for_=list(q.concerns),
            hint=_(q.hint) if q.hint else None,
            choices=[choice(c) for c in policy.choices_of(q.choices)] if q.choices else None,
            max_length=None if q.choices else q.max_length,
        )

    form = m.Form(
        policy_version=policy.version,
        lang=lang,
        concerns=[m.FormConcern(id=c.id, label=_(c.label), hint=_(c.hint)) for c in policy.concerns],
        questions={q.id: question(q) for q in policy.questions},
        description=m.FormDescription(type="text", required=True, max_length=MAX_DESCRIPTION_CHARS),
    )
    # By alias ("for") and without the parts a question does not have, as the API has always answered.
    return JSONResponse(form.model_dump(mode="json", by_alias=True, exclude_none=True), headers={"Content-Language": lang})


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

    sent: list[ReportInput] = []

    def check(body: m.ReportIn, has_files: bool) -> ReportInput:
        report = validate_report(ctx.policy, body.concerns, body.description, body.answers, body.parts, body.restricted)
        sent.append(report)
        return reporting.check_report(ctx, report, key)

    lang = i18n.valid(request.query_params.get("lang")) or i18n.negotiate(request.headers.get("accept-language"))
    try:
        _, upload = await read_json_and_files(request, "report", m.ReportIn, check)
        filed = await run_in_threadpool(
            reporting.file_report, ctx, upload.checked, upload.files, lang, key, hold_receipt=True, same_report_only=True
        )
    except sendings.AlreadyReceived:
        # The same report under its key again after a 503 that hid a filing which had committed: its passphrase,
        # once (sendings.py). Another report under that key is refused as ever.
        held = await run_in_threadpool(reporting.held_report, ctx, key, sent[-1]) if sent else None
        if held is None:
            raise
        filed = held
    else:
        await _forget_held(ctx, key)
    files = [{"name": f.name, "size": f.size, "metadata_removed": f.cleaned} for f in filed.files]
    return answer(
        m.Filed.model_validate({"passphrase": filed.passphrase, "cases": [asdict(c) for c in filed.cases], "files": files}),
        201,
    )


async def _forget_held(ctx: Context, key: str | None) -> None:
    """The answer is ready: its held copy goes, as the report form's does once its passphrase page is ready.
    If the database went meanwhile, the answer is given all the same; a retry under the key shows it once more."""
    try:
        await run_in_threadpool(sendings.release, ctx, key)
    except OUTAGES as error:
        if not unavailable(error):
            raise


caseroom_login = endpoint(lambda c: m.Token(token=reporting.open_case_room(c.ctx, c.body.passphrase)), m.PassphraseIn, status=201)
caseroom_logout = endpoint(lambda c: reporting.leave_case_room(c.ctx, c.token))


def _room(c: Call[None]) -> m.CaseRoom:
    cases = reporting.case_room(c.ctx, c.token)
    return m.CaseRoom.model_validate(
        {
            "cases": [
                {
                    "id": x.id,
                    "office": x.office,
                    "status": x.status,
                    "received_on": x.received_on,
                    "handlings": [dict(handling_json(h), reporter_text=h.reporter_text) for h in x.handlings],
                    "consent_requested": x.consent_requested,
                    "consent": x.consent_open.consent if x.consent_open else None,
                    "closed": x.closed,
                    "measures": [measure_json(measure, with_notes=False) for measure in x.measures],
                    "files": [file_json(f) for f in x.files],
                    "messages": [message_json(message) for message in x.messages],
                    "identity": asdict(x.identity),
                    "deleted_on": x.deleted_on,
                    "restricted": x.restricted,
                }
                for x in cases
            ]
        }
    )


caseroom = endpoint(_room)


async def caseroom_write(request: Request) -> Response:
    ctx, token, case_id = context_of(request), bearer(request), request.path_params["case_id"]
    # A stranger's message, JSON or upload, is refused before a byte of it is read.
    await run_in_threadpool(reporting.check_access, ctx, token, case_id)

    key = idempotency_key(request)

    def check(body: m.MessageIn, has_files: bool) -> Any:
        return reporting.check_message(ctx, case_id, body.body, has_files, key)

    body, upload = await read_message(request, check)
    # The client's Idempotency-Key tells a retry: the same words under a new key are a new message.
    message_id = await run_in_threadpool(reporting.reporter_writes, ctx, token, case_id, body.body, upload.files, key, again=True)
    return answer(sent(message_id, upload.files), 201)


def _identity(c: Call[m.IdentityConsentIn]) -> m.IdentityShared:
    """Let the office know who you are (`{"agree": true}`), or take that back (`false`) while no one has read it."""
    return m.IdentityShared(shared=reporting.share_identity(c.ctx, c.token, c.case_id, c.body.agree))


def _consent(c: Call[m.ConsentIn]) -> m.ConsentAnswer:
    return m.ConsentAnswer(consent=reporting.answer_consent(c.ctx, c.token, c.case_id, c.body.referral))


def _withdraw(c: Call[m.WithdrawalIn]) -> m.Withdrawn:
    """An irreversible act: its model takes nothing but an optional reason."""
    return m.Withdrawn(withdrawn=list(reporting.withdraw(c.ctx, c.token, c.case_id, c.body.reason)))


caseroom_identity = endpoint(_identity, m.IdentityConsentIn)
caseroom_consent = endpoint(_consent, m.ConsentIn)
caseroom_withdrawal = endpoint(_withdraw, m.WithdrawalIn)
caseroom_file = endpoint(lambda c: download(*reporting.open_file(c.ctx, c.token, c.case_id, c.path["file_id"])))
