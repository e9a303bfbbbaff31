"""Whatever a reporter leaves blank, the office can open its case: every optional answer blank or
filled, in every concern, renders on the officer's case page in English and Arabic."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from intake.app import create_app
from intake.service import reporting
from policies import validate_report
from policies.answers import read_answers

from ..helpers import html_login, post_form
from ..strategies import answers_for


def officer_client(ctx, username: str) -> TestClient:
    client = TestClient(create_app(ctx), base_url="http://127.0.0.1")
    html_login(client, username)
    return client


def test_a_harm_ticked_with_when_and_who_left_blank_opens_for_eco(client, ctx):
    sent = post_form(
        client,
        "/report",
        {
            "concern": "retaliation",
            "description": "I lost my post after the audit.",
            "q.adverse_actions": "termination_non_extension",
        },
    )
    assert "/report/sent" in str(sent.url)
    html_login(client, "eco-1")
    (row,) = re.findall(r'href="/officer/cases/(ECO-[0-9A-F]+)"', client.get("/officer").text)[:1]
    for lang in ("en", "ar"):
        page = client.get(f"/officer/cases/{row}?lang={lang}")
        assert page.status_code == 200, page.text[:500]
    assert "My contract was ended or not renewed, or my post was abolished" in client.get(f"/officer/cases/{row}?lang=en").text


def test_a_retaliation_complaint_about_ecos_head_opens_for_oig_with_its_harms_blank(ctx):
    report = validate_report(
        ctx.policy,
        ["retaliation"],
        "The head of ECO retaliated.",
        {
            "adverse_actions": ["threats", "other"],
            "adverse_actions_details": {"other": {"who": "the head"}},
            "office_concerned": "head",
        },
    )
    (case,) = reporting.file_report(ctx, report).cases
    assert case.office == "OIG"
    oig = officer_client(ctx, "oig-1")
    for lang in ("en", "ar"):
        page = oig.get(f"/officer/cases/{case.id}?lang={lang}")
        assert page.status_code == 200, page.text[:500]
    assert "the head" in oig.get(f"/officer/cases/{case.id}").text


def test_answers_stored_in_an_older_or_odd_shape_still_read():
    from policies import load_policy

    policy = load_policy()
    odd = {
        "concerns": ["retaliation"],
        "adverse_actions": ["threats", "no_longer_in_the_policy", 7],
        "adverse_actions_details": {"threats": "not a mapping", "no_longer_in_the_policy": {"when": 3, "who": "them"}},
        "protected_activity": None,
        "region": ["not", "a", "single"],
    }
    read = read_answers(policy, odd)
    actions = next(a for a in read.answered if a.question.id == "adverse_actions")
    assert [(c.label, c.when, c.who) for c in actions.chosen] == [
        ("I was threatened with one of these, or with something else", "", ""),
        ("no_longer_in_the_policy", "", "them"),
    ]
    assert "protected_activity" in [q.id for q in read.unanswered]
    assert read_answers(policy, {}).concerns == ()


def every_answer(policy, concern: str, details: bool) -> dict:
    """Every question of the concern answered with every choice it offers; actions with or without when and who."""
    answers: dict = {}
    for question in policy.questions_for(concern):
        ids = sorted(policy.ids(question.choices)) if question.choices else []
        if question.type == "single":
            answers[question.id] = ids[0]
        elif question.type in ("multiple", "actions"):
            answers[question.id] = ids
            if question.type == "actions" and details:
                answers[f"{question.id}_details"] = {a: {"when": "March", "who": "my manager"} for a in ids}
        else:
            answers[question.id] = "some words"
    return answers


@pytest.mark.parametrize("concern", ["retaliation", "misconduct", "not_sure", "advice"])
@pytest.mark.parametrize("shape", ["nothing but the account", "every choice, no details", "every choice with details"])
def test_each_concern_opens_with_nothing_or_everything_answered(ctx, concern, shape):
    answers = {} if shape == "nothing but the account" else every_answer(ctx.policy, concern, "with details" in shape)
    answers.pop("office_concerned", None)  # about the office: tested above
    filed = reporting.file_report(ctx, validate_report(ctx.policy, [concern], "What happened.", answers))
    for case in filed.cases:
        client = officer_client(ctx, "eco-1" if case.office == "ECO" else "oig-1")
        for lang in ("en", "ar"):
            page = client.get(f"/officer/cases/{case.id}?lang={lang}")
            assert page.status_code == 200, page.text[:300]


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_combination_of_answers_opens_for_the_office_in_english_and_arabic(ctx, data):
    concern = data.draw(st.sampled_from(["retaliation", "misconduct", "not_sure", "advice"]))
    answers = data.draw(answers_for(ctx.policy, concern))
    report = validate_report(ctx.policy, [concern], "What happened, in my words.", answers)
    filed = reporting.file_report(ctx, report)
    for case in filed.cases:
        client = officer_client(ctx, "eco-1" if case.office == "ECO" else "oig-1")
        for lang in ("en", "ar"):
            page = client.get(f"/officer/cases/{case.id}?lang={lang}")
            assert page.status_code == 200, (answers, page.text[:300])
            assert "<script>alert(1)</script>" not in page.text
