"""The shipped policy, routing for every combination of concerns, and answer validation."""

from itertools import combinations

import pytest

from policies import InvalidReport, PolicyError, load_policy, route, validate_report
from policies.model import parse_policy

POLICY = load_policy()
CONCERNS = ["retaliation", "misconduct", "both", "not_sure"]


def expected_offices(concerns: set[str]) -> tuple[str, ...]:
    eco = bool(concerns & {"retaliation", "both"})
    oig = bool(concerns & {"misconduct", "both", "not_sure"})
    return tuple(code for code, wanted in (("ECO", eco), ("OIG", oig)) if wanted)


@pytest.mark.parametrize(
    "concerns", [set(c) for n in range(1, 5) for c in combinations(CONCERNS, n)], ids=lambda c: "+".join(sorted(c))
)
def test_routing_table_for_every_combination(concerns):
    report = validate_report(POLICY, sorted(concerns), "what happened", {})
    assert route(POLICY, report.concerns) == expected_offices(concerns)


def test_the_named_routes():
    assert route(POLICY, frozenset({"retaliation"})) == ("ECO",)
    assert route(POLICY, frozenset({"misconduct"})) == ("OIG",)
    assert route(POLICY, frozenset({"not_sure"})) == ("OIG",)
    assert route(POLICY, frozenset({"retaliation", "misconduct"})) == ("ECO", "OIG")


def test_shipped_policy_has_the_questions_the_form_needs():
    assert [c.id for c in POLICY.concerns] == CONCERNS
    assert {a.id for a in POLICY.protected_activities} == {"reported_misconduct", "cooperated_audit_investigation"}
    assert [a.id for a in POLICY.adverse_actions] == [
        "harassment_abuse",
        "termination_non_extension",
        "non_selection",
        "evaluation_or_conditions",
        "other",
    ]
    assert len(POLICY.misconduct_kinds) >= 10
    assert all(k.examples and k.description for k in POLICY.misconduct_kinds if k.id != "other")
    assert POLICY.regions[-1].id == "prefer_not_to_say"


def test_valid_report_with_every_answer():
    report = validate_report(
        POLICY,
        ["retaliation"],
        "  My contract was not renewed.\r\n",
        {
            "misconduct_kinds": ["harassment"],
            "protected_activity": "reported_misconduct",
            "adverse_actions": ["termination_non_extension", "non_selection"],
            "happened": "March 2026",
            "region": "mena",
        },
    )
    assert report.description == "My contract was not renewed."
    assert report.answers()["adverse_actions"] == ["termination_non_extension", "non_selection"]


@pytest.mark.parametrize(
    "concerns, description, answers, field",
    [
        ([], "x", {}, "concerns"),
        (None, "x", {}, "concerns"),
        (["bribery"], "x", {}, "concerns"),
        ([1], "x", {}, "concerns"),
        (["misconduct"], "", {}, "description"),
        (["misconduct"], "   \n ", {}, "description"),
        (["misconduct"], None, {}, "description"),
        (["misconduct"], 42, {}, "description"),
        (["misconduct"], "x" * 50_001, {}, "description"),
        (["misconduct"], "nul \x00 byte", {}, "description"),
        (["misconduct"], "x", {"misconduct_kinds": ["not-a-kind"]}, "misconduct_kinds"),
        (["misconduct"], "x", {"misconduct_kinds": "harassment"}, "misconduct_kinds"),
        (["misconduct"], "x", {"protected_activity": "sang loudly"}, "protected_activity"),
        (["misconduct"], "x", {"adverse_actions": [{"nested": True}]}, "adverse_actions"),
        (["misconduct"], "x", {"happened": "y" * 201}, "happened"),
        (["misconduct"], "x", {"region": "atlantis"}, "region"),
        (["misconduct"], "x", {"favourite_colour": "blue"}, "answers"),
        (["misconduct"], "x", ["not", "an", "object"], "answers"),
    ],
)
def test_invalid_answers_are_named(concerns, description, answers, field):
    with pytest.raises(InvalidReport) as refused:
        validate_report(POLICY, concerns, description, answers)
    assert field in refused.value.errors


def test_broken_policy_files_stop_with_a_message():
    with pytest.raises(PolicyError, match="not valid TOML"):
        parse_policy("version = ")
    with pytest.raises(PolicyError, match="version"):
        parse_policy("")
    text = (load_policy.__wrapped__.__globals__["resources"].files("policies") / "policy.toml").read_text()
    with pytest.raises(PolicyError, match="routing"):
        parse_policy(text.replace('not_sure = ["OIG"]', 'not_sure = ["NOBODY"]'))
