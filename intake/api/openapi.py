"""The OpenAPI 3.1 document of /api/v1, generated from the models the handlers read and answer
(api/models.py), so it cannot drift from them; outside checkers test the service against it.

What is written here is what a model cannot say: each operation's summary and error answers, the
paths' parameters, and the policy's own lists (concerns, questions, choices), which are
configuration read when the service starts, not types.
"""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from policies import Concern, Office, Policy
from policies.form import MAX_ACTION_TEXT_CHARS
from policies.model import Question

from ..service.inbox import CONCERNS as INBOX_CONCERNS
from ..service.inbox import FILTERS as INBOX_FILTERS
from ..service.inbox import SAFETY as INBOX_SAFETY
from ..service.inbox import SORTS as INBOX_SORTS
from ..service.inbox import states as inbox_states
from . import models as m


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(description: str, schema: dict | None = None) -> dict:
    return {"description": description, **(_json(schema) if schema else {})}


ERRORS = {
    "400": _ok("Malformed request", _ref("Error")),
    "401": _ok("Not logged in, or the secret does not open anything", _ref("Error")),
    "403": _ok(
        "From another site (Sec-Fetch-Site, Origin), or a form-shaped body without the X-Intake-Client header",
        _ref("Error"),
    ),
    "404": _ok("No such case for this caller", _ref("Error")),
    "409": _ok("The case is not in a state that allows this", _ref("Error")),
    "408": _ok("The body stopped arriving (an upload idle too long); nothing was kept", _ref("Error")),
    "413": _ok("Body too large", _ref("Error")),
    "415": _ok("Not JSON (nor, where files are taken, multipart/form-data)", _ref("Error")),
    "422": _ok("Answers need another look", _ref("Error")),
    "429": _ok("Too many failed attempts on this account; see Retry-After", _ref("Error")),
    "503": _ok("Busy, or the database unreachable for a moment (nothing was kept); see Retry-After", _ref("Error")),
    "507": _ok("The service's storage is full; nothing was kept", _ref("Error")),
}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


CASE_ID = [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 40}}]
FILE_ID = [{"name": "file_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 40}}]
BINARY = {
    "description": "The file, as an attachment",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Random, one for each report or message, kept across retries: the same key files nothing twice (409).",
    "schema": {"type": "string", "minLength": 16, "maxLength": 200},
}
CLIENT_HEADER = {
    "name": "X-Intake-Client",
    "in": "header",
    "required": False,
    "description": "Any short name of the client. Required with a multipart body: a web page on another site "
    "cannot send it, so a visitor's browser cannot be made to file or write through the API.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 100},
}


def _with_files(op: dict[str, Any], part: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An operation that takes JSON alone, or multipart/form-data: the same JSON as a part named
    `part` (first), then evidence files as `files` parts, streamed, encrypted as they arrive."""
    op["requestBody"]["content"]["multipart/form-data"] = {
        "schema": {
            "type": "object",
            "required": [part],
            "properties": {
                part: {**schema, "description": "The same JSON object as the application/json body; before the files"},
                "clean_metadata": {
                    "type": "string",
                    "enum": ["on", "off"],
                    "description": "on (the default): hidden metadata (authors, GPS, device) is removed from "
                    "documents and pictures before encryption; off: the files are kept exactly as sent",
                },
                "files": {
                    "type": "array",
                    "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                    "description": "Evidence files, each a part with a filename (at most INTAKE_MAX_FILES_PER_MESSAGE, "
                    "each at most INTAKE_MAX_FILE_MIB)",
                },
            },
        },
        "encoding": {part: {"contentType": "application/json"}, "files": {"contentType": "application/octet-stream"}},
    }
    op["parameters"] = [*op.get("parameters", []), CLIENT_HEADER]
    for code in ("408", "507"):
        op["responses"].setdefault(code, ERRORS[code])
    return op


def _answers(policy: Policy, questions: tuple[Question, ...]) -> dict[str, Any]:
    """The answers object of a part: each question of the policy by its type (the form lists them too)."""
    properties: dict[str, Any] = {}
    for q in questions:
        choices = sorted(policy.ids(q.choices)) if q.choices else []
        if q.type == "single":
            properties[q.id] = {"enum": [*choices, None]}
        elif q.type in ("multiple", "actions"):
            properties[q.id] = {"type": "array", "items": {"enum": choices}, "maxItems": len(choices)}
        else:
            properties[q.id] = {"type": ["string", "null"], "maxLength": q.max_length}
        if q.type == "actions":
            detail = {"type": ["string", "null"], "maxLength": MAX_ACTION_TEXT_CHARS}
            properties[f"{q.id}_details"] = {
                "type": "object",
                "propertyNames": {"enum": choices},
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"when": detail, "who": detail},
                },
            }
    return {"type": "object", "additionalProperties": False, "properties": properties}


def _refine_report(policy: Policy, schema: dict[str, Any]) -> None:
    """The report's concerns, answers and parts as this policy asks them (the form lists them too)."""
    description = schema["properties"]["description"]["anyOf"][0]

    def part(concern: Concern) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": ["description"],
            "properties": {"description": description, "answers": _answers(policy, policy.questions_for(concern))},
        }

    properties = schema["properties"]
    properties["concerns"]["items"] = {"enum": [c.id for c in policy.concerns]}
    properties["answers"] = _answers(policy, policy.questions)
    properties["parts"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["retaliation", "misconduct"],
        "properties": {"retaliation": part(Concern.RETALIATION), "misconduct": part(Concern.MISCONDUCT)},
    }


def _refine(policy: Policy, schemas: dict[str, Any]) -> None:
    """Where a model names a string the policy's lists narrow: the document says which values it takes."""
    _refine_report(policy, schemas["ReportIn"])
    referral_states = sorted({s for lc in policy.lifecycles.values() for s in lc.referral_states})
    schemas["ReferralIn"]["properties"]["state"]["anyOf"][0] = {"enum": referral_states}
    inbox = schemas["Inbox"]["properties"]
    inbox["filter"] = {"enum": list(INBOX_FILTERS)}
    inbox["sort"] = {"enum": list(INBOX_SORTS)}
    for name in ("concerns", "reported_concerns"):
        schemas["InboxCase"]["properties"][name]["items"] = {"enum": list(INBOX_CONCERNS)}


@dataclass(frozen=True)
class Operation:
    """One method on one path: what it does, what it takes and answers, and how it may refuse."""

    summary: str
    answer: type[m.Answer] | dict[str, Any] | None
    body: type[m.Body] | None = None
    status: int = 200
    answered: str = "Done"
    errors: tuple[str, ...] | None = None  # None: BODY_ERRORS for an operation with a body, else NO_BODY_ERRORS
    secure: bool = True
    description: str | None = None


BODY_ERRORS = ("400", "401", "404", "409", "413", "415", "422")
NO_BODY_ERRORS = ("401", "404", "409")
FILING_ERRORS = ("400", "409", "413", "415", "422", "503")  # no session yet: no 401, and no case to miss
OPENING_ERRORS = ("400", "401", "413", "415", "422", "503")  # 401: the passphrase opens nothing
REFERRAL = (
    "ECO refers the case to OIG (prima facie evidence) or transfers a report that is not about retaliation "
    "(state transferred_to_oig), with consent or a written reason; OIG transfers to ECO what is ECO's. "
    "A memo for the receiving office. receiver_concerned: whether the case is about someone in the "
    'receiving office; unless "no", it arrives there restricted to that office\'s heads'
)
RECUSAL = (
    "Declare a conflict of interest and step away from the case (ECO Charter 4.5-4.7). The last officer "
    "of the office who can open the case cannot leave it with nobody: for a restricted case they name an "
    "officer to hand it on to (hand_to; without it the 409 lists them as allowed), otherwise it is refused"
)
RECUSAL_DECISION = (
    "The decision on an officer's declared conflict, with a reason: upheld (they stay away) or lifted "
    "(they may work on the case again). A head of the office who can open the case decides; where there "
    "is none, an officer who can open it records the Director General's decision (director_general: true)"
)
SENT_ONCE = (
    "With an Idempotency-Key, the same key sends nothing twice (409): a retry after a lost "
    "answer is safe. The API tells a repeat by its key only: the same text under a new key, or with no key, "
    "is a new message (a reminder, say). The case room's HTML form, whose browser may restore a sent "
    "message under a fresh one-time token, also refuses the same text as the reporter's latest message on "
    "the case with no file, unless the reporter confirms it."
)
FILED_ONCE = (
    "With an Idempotency-Key, the same key files nothing twice (409). Keep the key across retries: when a "
    "503 hid a filing that had in fact been made (the database went away as it answered), the retry of the "
    "same report under the same key is answered 201 with its passphrase, cases and files, once; then 409."
)
CASE = "/api/v1/officer/cases/{case_id}"
ROOM = "/api/v1/caseroom/cases/{case_id}"
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("/api/v1/form", "get"): Operation(
        "The report form's questions, from the policy, in a language",
        m.Form,
        answered="The questions",
        errors=(),
        secure=False,
    ),
    ("/api/v1/reports", "post"): Operation(
        "File a report; returns the passphrase, once",
        m.Filed,
        m.ReportIn,
        201,
        "Filed",
        FILING_ERRORS,
        secure=False,
        description=FILED_ONCE,
    ),
    ("/api/v1/caseroom/session", "post"): Operation(
        "Open the case room with a passphrase", m.Token, m.PassphraseIn, 201, "A session token", OPENING_ERRORS, secure=False
    ),
    ("/api/v1/caseroom/session", "delete"): Operation(
        "Leave the case room", None, status=204, answered="Session ended", errors=()
    ),
    ("/api/v1/caseroom", "get"): Operation(
        "The reporter's cases and messages", m.CaseRoom, answered="The case room", errors=("401",)
    ),
    (f"{ROOM}/messages", "post"): Operation(
        "Write to the office", m.Sent, m.MessageIn, 201, "Sent", (*BODY_ERRORS, "503"), description=SENT_ONCE
    ),
    (f"{ROOM}/consent", "post"): Operation(
        "Answer ECO's request to refer the complaint to OIG (ECO Charter 4.8)", m.ConsentAnswer, m.ConsentIn
    ),
    (f"{ROOM}/identity-consent", "post"): Operation(
        "Let the office know who you are (agree), or take that back while no officer has read it",
        m.IdentityShared,
        m.IdentityConsentIn,
        answered="Whether the office may now read it",
    ),
    (f"{ROOM}/withdrawal", "post"): Operation(
        "The complainant withdraws: every office still handling the case closes it",
        m.Withdrawn,
        m.WithdrawalIn,
        answered="Withdrawn",
    ),
    (f"{ROOM}/files/{{file_id}}", "get"): Operation("Download a file of the case, decrypted", None, errors=("401", "404")),
    ("/api/v1/officer/session", "post"): Operation(
        "Officer login",
        m.OfficerToken,
        m.OfficerLoginIn,
        201,
        "A session token, and this client's device token",
        ("400", "401", "413", "415", "422", "429", "503"),
        secure=False,
    ),
    ("/api/v1/officer/session", "delete"): Operation("Officer logout", None, status=204, answered="Session ended", errors=()),
    ("/api/v1/officer/cases", "get"): Operation(
        "The office's cases: one page, filtered, narrowed, searched by case id, sorted",
        m.Inbox,
        answered="The inbox",
        errors=("401", "422"),
    ),
    (CASE, "get"): Operation("A decrypted case (audit-logged)", m.Case, answered="The case", errors=("401", "404")),
    (f"{CASE}/messages", "post"): Operation("Reply to the reporter", m.Sent, m.MessageIn, 201, "Sent", BODY_ERRORS),
    (f"{CASE}/files/{{file_id}}", "get"): Operation(
        "Download a file of the case, decrypted (audit-logged)", None, errors=("401", "404")
    ),
    (f"{CASE}/transitions", "post"): Operation(
        "Move the office's handling of the case to another state; a closing state needs a reason and a message",
        m.Handling,
        m.TransitionIn,
        answered="The new state",
    ),
    (f"{CASE}/reopening", "post"): Operation("Reopen a closed handling, with a reason", m.Handling, m.ReopeningIn),
    (f"{CASE}/determination", "post"): Operation(
        "Record the prima facie determination (ECO), with reasons", m.Handling, m.DeterminationIn
    ),
    (f"{CASE}/extension", "post"): Operation(
        "Extend a deadline the policy lets the office extend, with a reason", m.Handling, m.ExtensionIn
    ),
    (f"{CASE}/assignment", "post"): Operation(
        "Assign the case to an officer of the office, or to nobody", m.Assigned, m.AssignmentIn
    ),
    (f"{CASE}/notes", "post"): Operation(
        "An internal note, sealed under the office's own key", m.Created, m.NoteIn, 201, "Recorded", BODY_ERRORS
    ),
    (f"{CASE}/measures", "post"): Operation(
        "Recommend a protective measure or make an onward referral (the protection file)",
        m.Created,
        m.MeasureIn,
        201,
        "Recorded",
        BODY_ERRORS,
    ),
    (f"{CASE}/measures/{{measure_id}}", "post"): Operation(
        "Move a measure on: implemented, declined, lifted; its next review; a note",
        m.MeasureStatus,
        m.MeasureUpdateIn,
    ),
    (f"{CASE}/referral", "post"): Operation(REFERRAL, m.Handling, m.ReferralIn, answered="Referred"),
    (f"{CASE}/consent-request", "post"): Operation(
        "Ask the complainant's consent to a referral, in the case room",
        m.ConsentRequested,
        answered="Asked",
    ),
    (f"{CASE}/identity-reading", "post"): Operation(
        "Read who the complainant is, once they consented (recorded; consent can no longer be taken back)",
        m.Identity,
        answered="The identity",
    ),
    (f"{CASE}/recusal", "post"): Operation(RECUSAL, m.Recused, m.RecusalIn, 201, "Recused", BODY_ERRORS),
    (f"{CASE}/recusal/decision", "post"): Operation(RECUSAL_DECISION, m.Decided, m.RecusalDecisionIn, answered="Recorded"),
    (f"{CASE}/share", "post"): Operation(
        "A head shares a restricted case with a named officer of the office (one more key wrap; the complainant is told)",
        m.Shared,
        m.ShareIn,
    ),
    ("/api/v1/officer/conflicts", "get"): Operation(
        "The declarations of conflicts of interest the officer may see: a head sees the office's; anyone sees "
        "their own and those they may record the Director General's decision on",
        m.Declarations,
        answered="The declarations",
        errors=("401",),
    ),
    (f"{CASE}/abandonment-warning", "post"): Operation(
        "Post the warning that must precede closing a case as abandoned", m.Warned, answered="Posted"
    ),
}
ANSWERS: tuple[type[m.Answer], ...] = (
    m.Error,
    *sorted({op.answer for op in OPERATIONS.values() if isinstance(op.answer, type)}, key=lambda a: a.__name__),
)
PATH_PARAMETER = {"type": "string", "maxLength": 40}


def schemas() -> dict[str, Any]:
    """The models' JSON Schemas, each under its class name, referring to one another there."""
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(model, "validation") for model in m.REQUESTS]
    wanted += [(model, "serialization") for model in ANSWERS]
    _, found = models_json_schema(wanted, ref_template="#/components/schemas/{model}")
    return dict(sorted(found["$defs"].items()))


def _operation(path: str, method: str, op: Operation) -> dict[str, Any]:
    if op.answer is None and op.status == 200:
        answered: dict[str, Any] = BINARY
    elif isinstance(op.answer, type):
        answered = _ok(op.answered, _ref(op.answer.__name__))
    else:
        answered = _ok(op.answered, op.answer)
    out: dict[str, Any] = {"summary": op.summary, "responses": {str(op.status): answered}}
    for code in op.errors if op.errors is not None else BODY_ERRORS if op.body else NO_BODY_ERRORS:
        out["responses"][code] = ERRORS[code]
    if method != "get":  # every state-changing request passes api/cross_site.py first
        out["responses"].setdefault("403", ERRORS["403"])
    out["responses"].setdefault("503", ERRORS["503"])  # any call, while the database is unreachable (web/errors.py)
    if op.description:
        out["description"] = op.description
    if op.body is not None:
        out["requestBody"] = {"required": True, **_json(_ref(op.body.__name__))}
    if op.secure:
        out["security"] = BEARER
    return out


def _parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [{"name": name, "in": "path", "required": True, "schema": PATH_PARAMETER} for name in names]


def openapi_document(policy: Policy) -> dict[str, Any]:
    """The whole document: the operations above, the models' schemas narrowed by the policy."""
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), op in OPERATIONS.items():
        item = paths.setdefault(path, {})
        if "{" in path:
            item["parameters"] = _parameters(path)
        item[method] = _operation(path, method, op)
    paths["/api/v1/form"]["get"]["parameters"] = [
        {"name": "lang", "in": "query", "required": False, "schema": {"enum": ["en", "fr", "es", "ar"]}}
    ]
    # A retry with the same key files nothing and gets 409: the passphrase is never kept to be shown again.
    paths["/api/v1/reports"]["post"]["parameters"] = [IDEMPOTENCY_KEY]
    paths[f"{ROOM}/messages"]["post"]["parameters"] = [IDEMPOTENCY_KEY]
    paths["/api/v1/officer/cases"]["get"]["parameters"] = _inbox_parameters(policy)
    _with_files(paths["/api/v1/reports"]["post"], "report", _ref("ReportIn"))
    _with_files(paths[f"{ROOM}/messages"]["post"], "message", _ref("MessageIn"))
    _with_files(paths[f"{CASE}/messages"]["post"], "message", _ref("MessageIn"))
    components = schemas()
    _refine(policy, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Confidential reporting intake API", "version": "1"},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def _inbox_parameters(policy: Policy) -> list[dict[str, Any]]:
    """The inbox's query: a value it does not take is refused (422, "fields" naming the values each takes)."""

    def choice(name: str, values: list[str], description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": description, "schema": {"enum": values}}

    offices = [Office(code) for code in policy.lifecycles]
    states = sorted({value for office in offices for value, _, _ in inbox_states(policy, office)})
    return [
        choice("filter", list(INBOX_FILTERS), "Which cases, by the clear facts of their handling (default: open)"),
        {"name": "q", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 40}},
        choice("sort", list(INBOX_SORTS), "Order (default: urgency, the next deadline first)"),
        choice("concern", list(INBOX_CONCERNS), "The report's concern, as the office reads it (advice: ECO only)"),
        choice("region", [r.id for r in policy.regions], "The region the reporter gave"),
        choice(
            "state",
            states,
            "The handling's state, of the office's own lifecycle; advice:<state> for an advice request's (ECO)",
        ),
        choice(
            "safety",
            list(INBOX_SAFETY),
            "danger: the reporter or someone close may be in danger now; protection_now: protection asked for "
            "at once; urgent: either",
        ),
        {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
    ]
