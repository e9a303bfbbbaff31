"""The API's models are its contract: the document served is the one generated from them, and a body
that is not of its model's shape is refused with 422 naming the field, with nothing stored."""

import json
from typing import Any, get_args

import pytest

from intake.api import models as m
from intake.api.openapi import OPERATIONS, openapi_document, schemas

from .test_hostile_input import snapshot, world  # noqa: F401 (world is a fixture: one instance for the module)

# A body each model takes, of the right shape (the service may still refuse it: a state, a name).
VALID: dict[type[m.Body], dict[str, Any]] = {
    m.ReportIn: {"concerns": ["misconduct"], "description": "valid"},
    m.PassphraseIn: {"passphrase": "some words"},
    m.MessageIn: {"body": "hello"},
    m.ConsentIn: {"referral": True},
    m.IdentityConsentIn: {"agree": True},
    m.WithdrawalIn: {"reason": "r"},
    m.OfficerLoginIn: {"username": "eco-1", "password": "x", "totp": "1"},
    m.TransitionIn: {"to": "acknowledged"},
    m.ReopeningIn: {"reason": "r"},
    m.DeterminationIn: {"prima_facie": True, "reasons": "r"},
    m.ExtensionIn: {"deadline": "preliminary_assessment", "days": 5, "reason": "r"},
    m.AssignmentIn: {"username": "eco-1"},
    m.NoteIn: {"note": "n"},
    m.MeasureIn: {"kind": "OSS", "recommended_to": "OSS"},
    m.MeasureUpdateIn: {"status": "lifted"},
    m.ReferralIn: {"to": "OIG", "memo": "m"},
    m.RecusalIn: {"note": "n"},
    m.RecusalDecisionIn: {"username": "eco-1", "decision": "upheld", "reason": "r"},
    m.ShareIn: {"username": "eco-2"},
}
BODIES = [(path, op.body) for (path, method), op in OPERATIONS.items() if op.body is not None]


def wrong_value(annotation: object) -> object:
    """A JSON value of another type than the field takes."""
    kinds = {annotation, *get_args(annotation)}
    if bool in kinds or int in kinds or any(getattr(k, "__origin__", None) in (list, dict) for k in kinds):
        return "yes"
    return 12345  # for text, a choice of texts, or text or null


MISSING = [(path, model, name) for path, model in BODIES for name, field in model.model_fields.items() if field.is_required()]
MISTYPED = [(path, model, name) for path, model in BODIES for name in model.model_fields]


def test_every_documented_body_has_a_valid_example_here():
    assert {model for _, model in BODIES} == set(VALID) == set(m.REQUESTS)
    for model, body in VALID.items():
        model.model_validate(body)


def test_the_document_served_is_the_one_generated_from_the_models(client, ctx):
    served = client.get("/api/v1/openapi.json").json()
    assert served == json.loads(json.dumps(openapi_document(ctx.policy)))
    generated = schemas()
    # The policy narrows a few fields to its own lists (api/openapi.py _refine); every other schema is the model's own.
    narrowed = {"ReportIn", "ReferralIn", "Inbox", "InboxCase"}
    for name, schema in served["components"]["schemas"].items():
        if name not in narrowed:
            assert schema == generated[name], name
    for model in [*m.REQUESTS]:
        assert served["components"]["schemas"][model.__name__].get("required", []) == [
            n for n, f in model.model_fields.items() if f.is_required()
        ]
    documented = {
        (path, method): op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for path, item in served["paths"].items()
        for method, op in item.items()
        if method != "parameters" and "requestBody" in op
    }
    assert documented == {key: op.body.__name__ for key, op in OPERATIONS.items() if op.body is not None}


def _post(world, path: str, body: dict[str, Any]):  # noqa: F811 (world: the fixture)
    who = world.reporter_bearer if "/caseroom/cases/" in path else world.officer_bearer if "/officer/cases/" in path else {}
    url = path.replace("{case_id}", world.case_id).replace("{measure_id}", "P-0000000000")
    return world.api.post(url, json=body, headers=who)


@pytest.mark.parametrize("path, model, name", MISSING, ids=[f"{p} {n}" for p, _, n in MISSING])
def test_a_missing_field_answers_422_naming_it_and_stores_nothing(world, path, model, name):  # noqa: F811
    body = {k: v for k, v in VALID[model].items() if k != name}
    before = snapshot(world.ctx)
    refused = _post(world, path, body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["fields"] == {name: "is required"}
    assert snapshot(world.ctx) == before


@pytest.mark.parametrize("path, model, name", MISTYPED, ids=[f"{p} {n}" for p, _, n in MISTYPED])
def test_a_mistyped_field_answers_422_naming_it_and_stores_nothing(world, path, model, name):  # noqa: F811
    body = {**VALID[model], name: wrong_value(model.model_fields[name].annotation)}
    before = snapshot(world.ctx)
    refused = _post(world, path, body)
    assert refused.status_code == 422, refused.text
    assert {field.split(".")[0] for field in refused.json()["fields"]} == {name}
    assert snapshot(world.ctx) == before
