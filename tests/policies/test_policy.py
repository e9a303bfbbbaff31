"""The shipped policy, routing for every combination of concerns, and answer validation."""

import re

import pytest

from policies import InvalidReport, PolicyError, load_policy, route, validate_report
from policies.model import parse_policy

POLICY = load_policy()
CONCERNS = ["retaliation", "misconduct", "both", "not_sure", "advice"]
BOTH_PARTS = {
    "retaliation": {"description": "what was done to me", "answers": {}},
    "misconduct": {"description": "the fraud", "answers": {}},
}


def expected_offices(concern: str) -> tuple[str, ...]:
    return {"retaliation": ("ECO",), "misconduct": ("OIG",), "both": ("ECO", "OIG"), "not_sure": ("OIG",), "advice": ("ECO",)}[
        concern
    ]


@pytest.mark.parametrize("concern", CONCERNS)
def test_routing_of_each_concern_gives_each_office_its_part(concern):
    if concern == "both":
        report = validate_report(POLICY, [concern], parts=BOTH_PARTS)
    else:
        report = validate_report(POLICY, [concern], "what happened", {})
    offices = [office for part in report.parts for office in route(POLICY, frozenset({part.concern}))]
    assert tuple(offices) == expected_offices(concern)
    if concern == "both":
        assert [(p.concern, p.description) for p in report.parts] == [
            ("retaliation", "what was done to me"),
            ("misconduct", "the fraud"),
        ]


@pytest.mark.parametrize("concerns", [["retaliation", "not_sure"], ["misconduct", "advice"], ["both", "not_sure"]])
def test_other_combinations_are_refused(concerns):
    with pytest.raises(InvalidReport) as refused:
        validate_report(POLICY, concerns, "x", {}, BOTH_PARTS)
    assert "concerns" in refused.value.errors


def test_a_report_of_both_needs_its_two_accounts_apart():
    for parts in [
        None,
        {},
        {"retaliation": BOTH_PARTS["retaliation"]},
        {**BOTH_PARTS, "extra": {}},
        {"retaliation": "text", "misconduct": "text"},
    ]:
        with pytest.raises(InvalidReport) as refused:
            validate_report(POLICY, ["both"], "the whole story", {}, parts)
        assert "parts" in refused.value.errors
    with pytest.raises(InvalidReport) as refused:
        validate_report(POLICY, ["both"], parts={**BOTH_PARTS, "misconduct": {"description": ""}})
    assert "misconduct.description" in refused.value.errors
    with pytest.raises(InvalidReport) as refused:  # a question of the other part is not asked here
        validate_report(
            POLICY, ["both"], parts={**BOTH_PARTS, "misconduct": {"description": "x", "answers": {"protected_activity": "x"}}}
        )
    assert "misconduct.answers" in refused.value.errors


def test_the_named_routes():
    assert route(POLICY, frozenset({"retaliation"})) == ("ECO",)
    assert route(POLICY, frozenset({"misconduct"})) == ("OIG",)
    assert route(POLICY, frozenset({"not_sure"})) == ("OIG",)
    assert route(POLICY, frozenset({"advice"})) == ("ECO",)


def test_shipped_policy_has_the_questions_the_form_needs():
    assert [c.id for c in POLICY.concerns] == CONCERNS
    assert {a.id for a in POLICY.protected_activities} == {"reported_misconduct", "cooperated_audit_investigation"}
    assert [a.id for a in POLICY.adverse_actions] == [
        "harassment_abuse",
        "termination_non_extension",
        "non_selection",
        "evaluation_or_conditions",
        "threats",
        "other",
    ]
    assert len(POLICY.misconduct_kinds) >= 10
    assert all(k.examples and k.description for k in POLICY.misconduct_kinds if k.id != "other")
    assert POLICY.regions[-1].id == "prefer_not_to_say"
    # What ECO's preliminary assessment needs (ECO Annual Report 2022 s.2): the protected activity and
    # its date, to whom, each adverse action with when and who, safety, protection, identity.
    asked = [q.id for q in POLICY.questions_for("retaliation")]
    for needed in (
        "protected_activity",
        "protected_activity_on",
        "reported_to",
        "adverse_actions",
        "safety_risk",
        "protection_wanted",
        "protection_by",
        "identity_consent",
        "identity",
    ):
        assert needed in asked
    assert [q.id for q in POLICY.questions_for("advice")] == ["advice_topic", "region"]


def test_valid_retaliation_report_with_every_answer():
    report = validate_report(
        POLICY,
        ["retaliation"],
        "  My contract was not renewed.\r\n",
        {
            "protected_activity": "reported_misconduct",
            "protected_activity_on": "January 2026",
            "reported_to": "OIG, reference 2026-114",
            "adverse_actions": ["termination_non_extension", "threats"],
            "adverse_actions_details": {
                "termination_non_extension": {"when": "March 2026", "who": "my supervisor"},
                "threats": {"when": "February", "who": ""},
            },
            "safety_risk": "no",
            "protection_wanted": "a different reporting line",
            "protection_by": "week",
            "identity_consent": "later",
            "identity": "A. Person, +41 ...",
            "region": "mena",
        },
    )
    (part,) = report.parts
    assert part.description == "My contract was not renewed."
    assert part.answers["adverse_actions"] == ["termination_non_extension", "threats"]
    assert part.answers["adverse_actions_details"]["termination_non_extension"] == {"when": "March 2026", "who": "my supervisor"}
    assert part.identity == "A. Person, +41 ..." and "identity" not in part.answers and not part.identity_shared
    assert report.answers_of(part)["concerns"] == ["retaliation"]


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
        (["retaliation"], "x", {"protected_activity": "sang loudly"}, "protected_activity"),
        (["retaliation"], "x", {"adverse_actions": [{"nested": True}]}, "adverse_actions"),
        (["retaliation"], "x", {"adverse_actions": ["threats"], "adverse_actions_details": {"other": {}}}, "adverse_actions"),
        (
            ["retaliation"],
            "x",
            {"adverse_actions": ["threats"], "adverse_actions_details": {"threats": {"when": 3}}},
            "adverse_actions",
        ),
        (["retaliation"], "x", {"identity": "x" * 1001}, "identity"),
        (["misconduct"], "x", {"protected_activity": "reported_misconduct"}, "answers"),
        (["misconduct"], "x", {"happened": "y" * 201}, "happened"),
        (["misconduct"], "x", {"region": "atlantis"}, "region"),
        (["misconduct"], "x", {"favourite_colour": "blue"}, "answers"),
        (["misconduct"], "x", ["not", "an", "object"], "answers"),
        (["advice"], "x", {"advice_topic": "bribery"}, "advice_topic"),
    ],
)
def test_invalid_answers_are_named(concerns, description, answers, field):
    with pytest.raises(InvalidReport) as refused:
        validate_report(POLICY, concerns, description, answers)
    assert field in refused.value.errors


def test_a_refusal_never_repeats_what_was_sent():
    with pytest.raises(InvalidReport) as refused:
        validate_report(POLICY, ["misconduct"], "x", {"MYSECRET-question": "MYSECRET-answer"})
    assert "MYSECRET" not in str(refused.value)


def test_broken_policy_files_stop_with_a_message():
    with pytest.raises(PolicyError, match="not valid TOML"):
        parse_policy("version = ")
    with pytest.raises(PolicyError, match="version"):
        parse_policy("")
    text = (load_policy.__wrapped__.__globals__["resources"].files("policies") / "policy.toml").read_text()
    with pytest.raises(PolicyError, match="routing"):
        parse_policy(text.replace('not_sure = ["OIG"]', 'not_sure = ["NOBODY"]'))


@pytest.mark.parametrize(
    "change, message",
    [
        (('states = ["abandoned", "withdrawn"]', 'states = ["abandoned"]'), "every closed ECO state must be in an outcome group"),
        (('states = ["referred_to_oig"]', 'states = ["received"]'), "closed ECO states"),
        (('rows = "region"', 'rows = "religion"'), "`rows` must be one of"),
        (('id = "regions"\ntitle', 'id = "workplace"\ntitle'), "is used twice"),
        (('headquarters = ["hq"]', 'headquarters = ["moon"]'), "`headquarters` must list region ids"),
        (('rows = "region"\n', 'rows = "region"\nthreshold = 0\n'), "`threshold` must be a whole number of at least 1"),
    ],
)
def test_the_annual_report_tables_are_checked(change, message):
    text = (load_policy.__wrapped__.__globals__["resources"].files("policies") / "policy.toml").read_text()
    assert change[0] in text
    with pytest.raises(PolicyError, match=message):
        parse_policy(text.replace(change[0], change[1], 1))


def test_each_report_table_names_its_source_and_the_default_threshold_is_five():
    statistics = load_policy().statistics
    assert statistics.threshold == 5 and all(t.threshold == 5 for t in statistics.tables)
    assert all(t.source for t in statistics.tables)
    assert {t.rows for t in statistics.tables} >= {"region", "workplace", "adverse_action", "outcome", "advice_topic"}


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("quick_exit_onion", "https://www.bbc.com/weather", "an onion service's"),
        ("quick_exit_onion", "javascript:alert(1)", "must be a web address"),
        ("quick_exit", "javascript:alert(1)", "must be a web address"),
        ("quick_exit", "https://www.bbcweb3hytmzhn5d532owbu6oqadra5z3ar726vq5kgwwn6aucdccrad.onion/", "off the onion"),
        ("quick_exit_onion", "", "must be a non-empty string"),
    ],
)
def test_each_quick_exit_is_an_address_of_its_own_network(key, value, message):
    """Issue 26: an onion visitor leaves to an onion site, a clearnet one to a clearnet site, and a
    policy that mixes them up (or names no onion exit) does not load."""
    text = (load_policy.__wrapped__.__globals__["resources"].files("policies") / "policy.toml").read_text()
    changed, count = re.subn(rf'(?m)^{key} = ".*"$', f'{key} = "{value}"', text)
    assert count == 1
    with pytest.raises(PolicyError, match=message):
        parse_policy(changed)
    organization = load_policy().organization
    assert organization.quick_exit.startswith("https://") and ".onion/" in organization.quick_exit_onion
