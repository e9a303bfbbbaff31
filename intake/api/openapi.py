"""The OpenAPI 3.1 document of /api/v1, written out by hand so it says exactly what the
handlers in api.py accept and return (outside checkers test the service against it)."""

from typing import Any

from policies import Concern, Office, Policy
from policies.form import MAX_ACTION_TEXT_CHARS, MAX_DESCRIPTION_CHARS
from policies.model import Question

from ..service.inbox import CONCERNS as INBOX_CONCERNS
from ..service.inbox import FILTERS as INBOX_FILTERS
from ..service.inbox import SAFETY as INBOX_SAFETY
from ..service.inbox import SORTS as INBOX_SORTS
from ..service.inbox import states as inbox_states


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
    "503": _ok("Busy; see Retry-After", _ref("Error")),
    "507": _ok("The service's storage is full; nothing was kept", _ref("Error")),
}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _op(summary: str, responses: dict, body: dict | None = None, secure: bool = False, errors: tuple[str, ...] = ()) -> dict:
    op = {"summary": summary, "responses": {**responses, **{code: ERRORS[code] for code in errors}}}
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
    if secure:
        op["security"] = BEARER
    return op


CASE_ID = [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 40}}]
FILE_ID = [{"name": "file_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 40}}]
BINARY = {
    "description": "The file, as an attachment",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}
TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": ["string", "null"]}
DECLARATION = {
    "type": "object",
    "properties": {
        "case": TEXT,
        "username": TEXT,
        "declared_on": {"type": "string", "format": "date"},
        "note": {**NULLABLE_TEXT, "description": "null where the caller cannot open the case"},
        "decision": {"enum": ["upheld", "lifted", None], "description": "null while pending"},
        "decided_on": NULLABLE_TEXT,
        "decided_by": {**NULLABLE_TEXT, "description": "who decided, or recorded the Director General's decision"},
        "director_general": {"type": "boolean", "description": "the decision is the Director General's (ECO Charter 4.7)"},
        "reason": {**NULLABLE_TEXT, "description": "the decision's reason; null where the caller cannot open the case"},
        "lifted_on": NULLABLE_TEXT,
        "decider": {"enum": ["head", "director_general"], "description": "who decides it"},
        "can_decide": {"type": "boolean", "description": "the caller may record a decision on it now"},
    },
}
DECLARATIONS = {"type": "array", "items": DECLARATION}
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


def _action(summary: str, properties: dict[str, Any], required: list[str], created: bool = False) -> dict[str, Any]:
    """An officer's POST on a case with a small JSON body."""
    answer = {"201": _ok("Recorded", _ref("Created"))} if created else {"200": _ok("Done", {"type": "object"})}
    return {
        "parameters": CASE_ID,
        "post": _op(
            summary,
            answer,
            {"type": "object", "required": required, "properties": properties},
            secure=True,
            errors=("400", "401", "404", "409", "413", "415"),
        ),
    }


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


def _report_in(policy: Policy) -> dict[str, Any]:
    """One concern: `description` and `answers`. Both retaliation and misconduct: `parts`, an account for each office."""
    description = {"type": "string", "minLength": 1, "maxLength": MAX_DESCRIPTION_CHARS}

    def part(concern: Concern) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": ["description"],
            "properties": {"description": description, "answers": _answers(policy, policy.questions_for(concern))},
        }

    return {
        "type": "object",
        "required": ["concerns"],
        "properties": {
            "concerns": {"type": "array", "minItems": 1, "items": {"enum": [c.id for c in policy.concerns]}},
            "description": description,
            "answers": _answers(policy, policy.questions),
            "parts": {
                "type": "object",
                "additionalProperties": False,
                "required": ["retaliation", "misconduct"],
                "properties": {"retaliation": part(Concern.RETALIATION), "misconduct": part(Concern.MISCONDUCT)},
            },
            "restricted": {
                "type": "boolean",
                "description": (
                    "The report concerns someone in the office that receives it: only that office's head(s) can open "
                    'it (as office_concerned = "someone"; "head" sends it to the other office).'
                ),
            },
        },
    }


def openapi_document(policy: Policy) -> dict[str, Any]:
    message = {
        "type": "object",
        "required": ["id", "author", "body", "sent_on"],
        "properties": {
            "id": TEXT,
            "author": {"enum": ["reporter", "officer", "service"]},
            "body": TEXT,
            "sent_on": {"type": "string", "format": "date"},
        },
    }
    schemas = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": TEXT, "fields": {"type": "object", "additionalProperties": TEXT}},
        },
        "Token": {"type": "object", "required": ["token"], "properties": {"token": TEXT}},
        # `device`: keep it and send it with the next login; failures from it are counted apart from
        # everyone else's guesses at the username (officers.authenticate).
        "OfficerToken": {"type": "object", "required": ["token", "device"], "properties": {"token": TEXT, "device": TEXT}},
        "Created": {"type": "object", "required": ["id"], "properties": {"id": TEXT}},
        "Message": message,
        "MessageIn": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "maxLength": 20000}}},
        "ReportIn": _report_in(policy),
        "Filed": {
            "type": "object",
            "required": ["passphrase", "cases"],
            "properties": {
                "passphrase": TEXT,
                "cases": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "office"],
                        "properties": {"id": TEXT, "office": {"enum": ["ECO", "OIG"]}},
                    },
                },
            },
        },
        "CaseRoom": {
            "type": "object",
            "required": ["cases"],
            "properties": {
                "cases": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "office", "status", "received_on", "messages"],
                        "properties": {
                            "id": TEXT,
                            "office": TEXT,
                            "status": TEXT,
                            "received_on": {"type": "string", "format": "date"},
                            "messages": {"type": "array", "items": _ref("Message")},
                            "identity": _ref("IdentityStatus"),
                            "deleted_on": {"type": ["string", "null"], "format": "date"},
                            "restricted": {"type": "boolean"},
                        },
                    },
                }
            },
        },
        "Inbox": _inbox(policy),
        "Case": {
            "type": "object",
            "required": ["id", "office", "status", "received_on", "description", "answers", "messages"],
            "properties": {
                "id": TEXT,
                "office": TEXT,
                "status": TEXT,
                "received_on": {"type": "string", "format": "date"},
                "acknowledged_on": {"type": ["string", "null"], "format": "date"},
                "description": TEXT,
                "answers": {"type": "object"},
                "messages": {"type": "array", "items": _ref("Message")},
                "identity": _ref("IdentityStatus"),
                "linked": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "office", "status"],
                        "properties": {"id": TEXT, "office": TEXT, "status": TEXT},
                    },
                },
            },
        },
        "IdentityStatus": {
            "type": "object",
            "required": ["left", "shared", "read"],
            "properties": {"left": {"type": "boolean"}, "shared": {"type": "boolean"}, "read": {"type": "boolean"}},
        },
    }
    paths: dict[str, dict[str, Any]] = {
        "/api/v1/form": {
            "get": {
                **_op(
                    "The report form's questions, from the policy, in a language",
                    {"200": _ok("The questions", {"type": "object"})},
                ),
                "parameters": [{"name": "lang", "in": "query", "required": False, "schema": {"enum": ["en", "fr", "es", "ar"]}}],
            }
        },
        "/api/v1/reports": {
            "post": {
                **_op(
                    "File a report; returns the passphrase, once",
                    {"201": _ok("Filed", _ref("Filed"))},
                    _ref("ReportIn"),
                    errors=("400", "409", "413", "415", "422", "503"),
                ),
                # A retry with the same key files nothing and gets 409: the passphrase is never kept to be shown again.
                "parameters": [IDEMPOTENCY_KEY],
            }
        },
        "/api/v1/caseroom/session": {
            "post": _op(
                "Open the case room with a passphrase",
                {"201": _ok("A session token", _ref("Token"))},
                {
                    "type": "object",
                    "required": ["passphrase"],
                    "properties": {
                        "passphrase": {
                            "type": "string",
                            "maxLength": 500,
                            "description": "The words, in any case, separated by spaces, hyphens, dots, commas or line "
                            "breaks; a wrong or missing letter never opens a case room",
                        }
                    },
                },
                errors=("400", "401", "413", "415", "503"),
            ),
            "delete": _op("Leave the case room", {"204": {"description": "Session ended"}}, secure=True),
        },
        "/api/v1/caseroom": {
            "get": _op(
                "The reporter's cases and messages", {"200": _ok("The case room", _ref("CaseRoom"))}, secure=True, errors=("401",)
            )
        },
        "/api/v1/caseroom/cases/{case_id}/messages": {
            "parameters": CASE_ID,
            "post": {
                **_op(
                    "Write to the office",
                    {"201": _ok("Sent", _ref("Created"))},
                    _ref("MessageIn"),
                    secure=True,
                    errors=("400", "401", "404", "409", "413", "415", "422", "503"),
                ),
                "description": "With an Idempotency-Key, the same key sends nothing twice (409): a retry after a lost "
                "answer is safe. The API tells a repeat by its key only: the same text under a new key, or with no key, "
                "is a new message (a reminder, say). The case room's HTML form, whose browser may restore a sent "
                "message under a fresh one-time token, also refuses the same text as the reporter's latest message on "
                "the case with no file, unless the reporter confirms it.",
                "parameters": [IDEMPOTENCY_KEY],
            },
        },
        "/api/v1/caseroom/cases/{case_id}/consent": {
            "parameters": CASE_ID,
            "post": _op(
                "Answer ECO's request to refer the complaint to OIG (ECO Charter 4.8)",
                {"200": _ok("Recorded", {"type": "object"})},
                {"type": "object", "required": ["referral"], "properties": {"referral": {"type": "boolean"}}},
                secure=True,
                errors=("400", "401", "404", "409", "413", "415"),
            ),
        },
        "/api/v1/caseroom/cases/{case_id}/identity-consent": {
            "parameters": CASE_ID,
            "post": _op(
                "Let the office know who you are (agree), or take that back while no officer has read it",
                {
                    "200": _ok(
                        "Whether the office may now read it", {"type": "object", "properties": {"shared": {"type": "boolean"}}}
                    )
                },
                {"type": "object", "required": ["agree"], "properties": {"agree": {"type": "boolean"}}},
                secure=True,
                errors=("400", "401", "404", "409", "413", "415", "422"),
            ),
        },
        "/api/v1/caseroom/cases/{case_id}/withdrawal": {
            "parameters": CASE_ID,
            "post": _op(
                "The complainant withdraws: every office still handling the case closes it",
                {"200": _ok("Withdrawn", {"type": "object"})},
                {"type": "object", "properties": {"reason": {"type": ["string", "null"], "maxLength": 20000}}},
                secure=True,
                errors=("400", "401", "404", "409", "413", "415", "422"),
            ),
        },
        "/api/v1/caseroom/cases/{case_id}/files/{file_id}": {
            "parameters": CASE_ID + FILE_ID,
            "get": _op("Download a file of the case, decrypted", {"200": BINARY}, secure=True, errors=("401", "404")),
        },
        "/api/v1/officer/session": {
            "post": _op(
                "Officer login",
                {"201": _ok("A session token, and this client's device token", _ref("OfficerToken"))},
                {
                    "type": "object",
                    "required": ["username", "password", "totp"],
                    "properties": {"username": TEXT, "password": TEXT, "totp": TEXT, "device": TEXT},
                },
                errors=("400", "401", "413", "415", "429", "503"),
            ),
            "delete": _op("Officer logout", {"204": {"description": "Session ended"}}, secure=True),
        },
        "/api/v1/officer/cases": {
            "get": {
                **_op(
                    "The office's cases: one page, filtered, narrowed, searched by case id, sorted",
                    {"200": _ok("The inbox", _ref("Inbox"))},
                    secure=True,
                    errors=("401", "422"),
                ),
                "parameters": _inbox_parameters(policy),
            }
        },
        "/api/v1/officer/cases/{case_id}": {
            "parameters": CASE_ID,
            "get": _op(
                "A decrypted case (audit-logged)", {"200": _ok("The case", _ref("Case"))}, secure=True, errors=("401", "404")
            ),
        },
        "/api/v1/officer/cases/{case_id}/messages": {
            "parameters": CASE_ID,
            "post": _op(
                "Reply to the reporter",
                {"201": _ok("Sent", _ref("Created"))},
                _ref("MessageIn"),
                secure=True,
                errors=("400", "401", "404", "413", "415", "422"),
            ),
        },
        "/api/v1/officer/cases/{case_id}/files/{file_id}": {
            "parameters": CASE_ID + FILE_ID,
            "get": _op(
                "Download a file of the case, decrypted (audit-logged)", {"200": BINARY}, secure=True, errors=("401", "404")
            ),
        },
        "/api/v1/officer/cases/{case_id}/transitions": {
            "parameters": CASE_ID,
            "post": _op(
                "Move the office's handling of the case to another state; a closing state needs a reason and a message",
                {"200": _ok("The new state", {"type": "object"})},
                {"type": "object", "required": ["to"], "properties": {"to": TEXT, "note": TEXT, "reason": TEXT, "message": TEXT}},
                secure=True,
                errors=("400", "401", "404", "409", "413", "415", "422"),
            ),
        },
        "/api/v1/officer/cases/{case_id}/reopening": _action(
            "Reopen a closed handling, with a reason", {"reason": TEXT}, ["reason"]
        ),
        "/api/v1/officer/cases/{case_id}/determination": _action(
            "Record the prima facie determination (ECO), with reasons",
            {"prima_facie": {"type": "boolean"}, "reasons": TEXT},
            ["prima_facie", "reasons"],
        ),
        "/api/v1/officer/cases/{case_id}/extension": _action(
            "Extend a deadline the policy lets the office extend, with a reason",
            {"deadline": TEXT, "days": {"type": "integer", "minimum": 1}, "reason": TEXT},
            ["deadline", "days", "reason"],
        ),
        "/api/v1/officer/cases/{case_id}/assignment": _action(
            "Assign the case to an officer of the office, or to nobody", {"username": {"type": ["string", "null"]}}, ["username"]
        ),
        "/api/v1/officer/cases/{case_id}/notes": _action(
            "An internal note, sealed under the office's own key", {"note": TEXT}, ["note"], created=True
        ),
        "/api/v1/officer/cases/{case_id}/measures": _action(
            "Recommend a protective measure or make an onward referral (the protection file)",
            {"kind": TEXT, "recommended_to": TEXT, "note": TEXT, "review_on": {"type": "string", "format": "date"}},
            ["kind", "recommended_to"],
            created=True,
        ),
        "/api/v1/officer/cases/{case_id}/measures/{measure_id}": {
            **_action(
                "Move a measure on: implemented, declined, lifted; its next review; a note",
                {
                    "status": {"enum": ["recommended", "implemented", "declined", "lifted"]},
                    "review_on": {"type": "string", "format": "date"},
                    "note": TEXT,
                },
                ["status"],
            ),
            "parameters": [
                *CASE_ID,
                {"name": "measure_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 40}},
            ],
        },
        "/api/v1/officer/cases/{case_id}/referral": {
            "parameters": CASE_ID,
            "post": _op(
                "ECO refers the case to OIG (prima facie evidence) or transfers a report that is not about retaliation "
                "(state transferred_to_oig), with consent or a written reason; OIG transfers to ECO what is ECO's. "
                "A memo for the receiving office. receiver_concerned: whether the case is about someone in the "
                'receiving office; unless "no", it arrives there restricted to that office\'s heads',
                {"200": _ok("Referred", {"type": "object"})},
                {
                    "type": "object",
                    "required": ["to", "memo"],
                    "properties": {
                        "to": {"enum": ["OIG", "ECO"]},
                        "reason": TEXT,
                        "memo": TEXT,
                        "state": {"enum": sorted({s for lc in policy.lifecycles.values() for s in lc.referral_states})},
                        "receiver_concerned": {"enum": ["no", "yes", "not_known"]},
                    },
                },
                secure=True,
                errors=("400", "401", "404", "409", "413", "415"),
            ),
        },
        "/api/v1/officer/cases/{case_id}/consent-request": {
            "parameters": CASE_ID,
            "post": _op(
                "Ask the complainant's consent to a referral, in the case room",
                {"200": _ok("Asked", {"type": "object"})},
                secure=True,
                errors=("401", "404", "409"),
            ),
        },
        "/api/v1/officer/cases/{case_id}/identity-reading": {
            "parameters": CASE_ID,
            "post": _op(
                "Read who the complainant is, once they consented (recorded; consent can no longer be taken back)",
                {"200": _ok("The identity", {"type": "object", "required": ["identity"], "properties": {"identity": TEXT}})},
                secure=True,
                errors=("401", "404", "409"),
            ),
        },
        "/api/v1/officer/cases/{case_id}/recusal": {
            "parameters": CASE_ID,
            "post": _op(
                "Declare a conflict of interest and step away from the case (ECO Charter 4.5-4.7). The last officer "
                "of the office who can open the case cannot leave it with nobody: for a restricted case they name an "
                "officer to hand it on to (hand_to; without it the 409 lists them as allowed), otherwise it is refused",
                {
                    "201": _ok(
                        "Recused",
                        {
                            "type": "object",
                            "properties": {"recused": {"type": "boolean"}, "handed_to": {"type": ["string", "null"]}},
                        },
                    )
                },
                {
                    "type": "object",
                    "required": ["note"],
                    "properties": {
                        "note": {"type": "string", "maxLength": 2000},
                        "hand_to": {"type": "string", "maxLength": 64, "description": "the officer who takes the case"},
                    },
                },
                secure=True,
                errors=("400", "401", "404", "409", "413", "415"),
            ),
        },
        "/api/v1/officer/cases/{case_id}/recusal/decision": {
            "parameters": CASE_ID,
            "post": _op(
                "The decision on an officer's declared conflict, with a reason: upheld (they stay away) or lifted "
                "(they may work on the case again). A head of the office who can open the case decides; where there "
                "is none, an officer who can open it records the Director General's decision (director_general: true)",
                {"200": _ok("Recorded", {"type": "object", "properties": {"decision": {"enum": ["upheld", "lifted"]}}})},
                {
                    "type": "object",
                    "required": ["username", "decision", "reason"],
                    "properties": {
                        "username": TEXT,
                        "decision": {"enum": ["upheld", "lifted"]},
                        "reason": {"type": "string", "maxLength": 2000},
                        "director_general": {"type": "boolean", "default": False},
                    },
                },
                secure=True,
                errors=("400", "401", "404", "409", "413", "415"),
            ),
        },
        "/api/v1/officer/cases/{case_id}/share": _action(
            "A head shares a restricted case with a named officer of the office (one more key wrap; the complainant is told)",
            {"username": TEXT},
            ["username"],
        ),
        "/api/v1/officer/conflicts": {
            "get": _op(
                "The declarations of conflicts of interest the officer may see: a head sees the office's; anyone sees "
                "their own and those they may record the Director General's decision on",
                {"200": _ok("The declarations", {"type": "object", "properties": {"declarations": DECLARATIONS}})},
                secure=True,
                errors=("401",),
            ),
        },
        "/api/v1/officer/cases/{case_id}/abandonment-warning": {
            "parameters": CASE_ID,
            "post": _op(
                "Post the warning that must precede closing a case as abandoned",
                {"200": _ok("Posted", {"type": "object"})},
                secure=True,
                errors=("401", "404", "409"),
            ),
        },
    }
    _with_files(paths["/api/v1/reports"]["post"], "report", _ref("ReportIn"))
    _with_files(paths["/api/v1/caseroom/cases/{case_id}/messages"]["post"], "message", _ref("MessageIn"))
    _with_files(paths["/api/v1/officer/cases/{case_id}/messages"]["post"], "message", _ref("MessageIn"))
    for operations in paths.values():
        for method in ("post", "put", "delete"):
            if method in operations:  # every state-changing request passes api/cross_site.py first
                operations[method]["responses"].setdefault("403", ERRORS["403"])
    return {
        "openapi": "3.1.0",
        "info": {"title": "Confidential reporting intake API", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
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


def _inbox(policy: Policy) -> dict[str, Any]:
    nullable_text = {"type": ["string", "null"]}
    return {
        "type": "object",
        "required": ["cases", "page", "pages", "total"],
        "properties": {
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
            "total": {"type": "integer"},
            "filter": {"enum": list(INBOX_FILTERS)},
            "sort": {"enum": list(INBOX_SORTS)},
            "q": TEXT,
            "concern": nullable_text,
            "region": nullable_text,
            "state": nullable_text,
            "safety": nullable_text,
            "cases": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "office", "status", "received_on", "unread"],
                    "properties": {
                        "id": TEXT,
                        "office": TEXT,
                        "status": TEXT,
                        "received_on": {"type": "string", "format": "date"},
                        "unread": {"type": "boolean"},
                        "assignee": nullable_text,
                        "next_deadline": {
                            "type": ["object", "null"],
                            "properties": {"name": TEXT, "due_on": {"type": "string", "format": "date"}},
                        },
                        "concerns": {
                            "description": "What the case is for this office: both for a part of a report of both, the "
                            "receiving office's concern for a case another office transferred as not its own",
                            "type": "array",
                            "items": {"enum": list(INBOX_CONCERNS)},
                        },
                        "reported_concerns": {"type": "array", "items": {"enum": list(INBOX_CONCERNS)}},
                        "transferred_by": {"enum": [*(str(o) for o in Office), None]},
                        "region": nullable_text,
                        "may_be_in_danger": {"type": "boolean"},
                        "protection_now": {"type": "boolean"},
                        "other_part": {
                            "description": "The other case of a report of both, where the officer may know of it",
                            "type": ["object", "null"],
                            "properties": {"id": TEXT, "office": TEXT, "status": TEXT},
                        },
                        "referred_in": {"type": "boolean"},
                        "open_measures": {"type": "integer"},
                        "needs_officer": {
                            "description": "Closed with protective measures still open and nobody assigned",
                            "type": "boolean",
                        },
                        "closed": {"type": "boolean"},
                        "restricted": {"type": "boolean"},
                    },
                },
            },
        },
    }
