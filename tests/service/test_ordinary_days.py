"""Case work on ordinary days, where features meet: an advice request on its own clock, a
complaint with its optional answers left blank, a closing message still holding the template's
placeholder, a step the page offers that the service then refuses, a reopened assessment."""

import datetime as dt
import re

import pytest
from sqlmodel import Session

from intake import i18n
from intake.service import casework, inbox, officers, protection, referral, reporting
from intake.service.errors import Conflict
from intake.store import Handling
from policies import InvalidReport, load_policy, validate_report
from policies.model import PLACEHOLDER

from ..casework_steps import file, paths_to, satisfy, walk
from ..clock import Clock
from ..helpers import officer_token


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def eco(ctx):
    return officers.current(ctx, officer_token(ctx, "eco-1"))


def ask_advice(ctx, topic="gifts"):
    filed = reporting.file_report(ctx, validate_report(ctx.policy, ["advice"], "May I accept a gift?", {"advice_topic": topic}))
    return filed.passphrase, filed.cases[0].id


def handling_of(ctx, case_id, office="ECO") -> Handling:
    with Session(ctx.engine) as db:
        return db.get(Handling, (case_id, office))


# --- An advice request keeps the advice lifecycle's deadlines: a first answer, nothing else ---


def test_an_advice_request_runs_only_its_first_answer_clock(ctx, clock):
    passphrase, case_id = ask_advice(ctx)
    detail = casework.open_case(ctx, eco(ctx), case_id)
    assert [d.name for d in detail.handling.deadlines] == ["first_response"]
    (room,) = reporting.case_room(ctx, reporting.open_case_room(ctx, passphrase))
    assert [what for _, what, _ in room.expectations()] == ["a first answer from the office"]


def test_an_answered_advice_request_is_never_overdue_and_closes_with_nothing_missed(ctx, clock):
    _, case_id = ask_advice(ctx)
    casework.reply(ctx, eco(ctx), case_id, "You may accept it if its value is nominal.")
    casework.transition(ctx, eco(ctx), case_id, "answered")
    clock.advance(40)
    page = inbox.inbox(ctx, eco(ctx), "overdue")
    assert case_id not in [row.id for row in page.rows]
    row = next(r for r in inbox.inbox(ctx, eco(ctx), "all").rows if r.id == case_id)
    assert row.next_deadline is None and row.flag == ""
    casework.transition(ctx, eco(ctx), case_id, "closed", reason="answered", message="We close your request.")
    detail = casework.open_case(ctx, eco(ctx), case_id)
    assert [(d.name, d.state) for d in detail.handling.deadlines] == [("first_response", "met")]


def test_an_unanswered_advice_request_is_overdue_after_its_48_hours_only(ctx, clock):
    _, case_id = ask_advice(ctx)
    clock.advance(2)
    assert case_id not in [r.id for r in inbox.inbox(ctx, eco(ctx), "overdue").rows]
    clock.advance(1)
    assert case_id in [r.id for r in inbox.inbox(ctx, eco(ctx), "overdue").rows]
    assert handling_of(ctx, case_id).next_due == "first_response"


def test_an_advice_request_has_no_extendable_deadline(ctx, clock):
    _, case_id = ask_advice(ctx)
    with pytest.raises(Conflict):
        casework.extend(ctx, eco(ctx), case_id, "preliminary_assessment", 5, "busy")


# --- A closing message is never sent with the template's part for the officer still in it ---

PLACEHELD = [
    (office, state.id)
    for office in ("ECO", "OIG")
    for state in load_policy().lifecycles[office].states.values()
    if PLACEHOLDER.search(state.message)
]
HEAD_PLACEHELD = [
    (office, state.id)
    for office, lifecycle in load_policy().head_lifecycles.items()
    for state in lifecycle.states.values()
    if PLACEHOLDER.search(state.message)
]


def test_the_templates_that_need_the_officers_words_are_the_ones_expected():
    assert set(PLACEHELD) == {
        ("ECO", "closed_no_prima_facie"),
        ("OIG", "closed_not_substantiated"),
        ("OIG", "closed_at_intake"),
        ("OIG", "referred_elsewhere"),
    }


@pytest.mark.parametrize("lang", i18n.CODES)
@pytest.mark.parametrize(
    "office, state_id, kind", [(*p, "report") for p in PLACEHELD] + [(*p, "about_head") for p in HEAD_PLACEHELD]
)
def test_every_translation_keeps_the_part_for_the_officer(lang, office, state_id, kind):
    template = load_policy().lifecycle(office, kind).states[state_id].message
    assert len(PLACEHOLDER.findall(i18n.gettext(lang, template))) == len(PLACEHOLDER.findall(template))


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("office, state_id", PLACEHELD)
def test_the_prefilled_message_confirmed_as_it_stands_is_refused_and_changes_nothing(ctx, clock, lang, office, state_id):
    who = officers.current(ctx, officer_token(ctx, "eco-1" if office == "ECO" else "oig-1"))
    passphrase, case_id = file(ctx, "retaliation" if office == "ECO" else "misconduct")
    walk(ctx, who, case_id, paths_to(ctx.policy.lifecycles[office], state_id)[:-1], passphrase)
    state = ctx.policy.lifecycles[office].states[state_id]
    satisfy(ctx, who, case_id, state, passphrase)
    before = handling_of(ctx, case_id, office)
    messages_before = len(casework.open_case(ctx, who, case_id).messages)
    prefilled = i18n.gettext(lang, casework.decision_form(ctx, who, case_id, state_id).message_template)
    with pytest.raises(InvalidReport) as refused:
        casework.transition(ctx, who, case_id, state_id, reason="the reasons", message=prefilled)
    assert "double square brackets" in refused.value.errors["message"]
    after = handling_of(ctx, case_id, office)
    assert (after.status, after.closed_on) == (before.status, before.closed_on)
    assert len(casework.open_case(ctx, who, case_id).messages) == messages_before
    written = PLACEHOLDER.sub("the office's own words", prefilled)
    casework.transition(ctx, who, case_id, state_id, reason="the reasons", message=written)
    assert handling_of(ctx, case_id, office).status == state_id


# --- A report about an office's head keeps the procedure it was meant for, at the other office ---


def about_head(ctx, concern, text="The head did it."):
    report = validate_report(
        ctx.policy,
        [concern],
        text,
        {"office_concerned": "head", "safety_risk": "no"} if concern == "retaliation" else {"office_concerned": "head"},
    )
    filed = reporting.file_report(ctx, report)
    return filed.passphrase, filed.cases[0]


def test_a_retaliation_complaint_about_ecos_head_gets_ecos_procedure_at_oig(ctx, clock):
    passphrase, case = about_head(ctx, "retaliation")
    assert case.office == "OIG"
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    detail = casework.open_case(ctx, oig, case.id)
    assert {d.name for d in detail.handling.deadlines} == {
        "acknowledgement",
        "first_response",
        "preliminary_assessment",
        "feedback",
    }
    (room,) = reporting.case_room(ctx, reporting.open_case_room(ctx, passphrase))
    assert "the result of the preliminary assessment" in [what for _, what, _ in room.expectations()]
    casework.transition(ctx, oig, case.id, "acknowledged")
    casework.transition(ctx, oig, case.id, "preliminary_assessment")
    assert casework.open_case(ctx, oig, case.id).can_determine
    measure = protection.recommend(ctx, oig, case.id, "reporting_line_change", "the Director General", "")
    assert measure
    clock.advance(12)
    casework.determine(ctx, oig, case.id, True, "timing and a witness")
    view = casework.transition(ctx, oig, case.id, "investigation")
    assessment = next(d for d in view.deadlines if d.name == "preliminary_assessment")
    assert (assessment.state, view.status) == ("met", "investigation")
    with pytest.raises(Conflict):  # never back to the office whose head it is about
        referral.refer(ctx, oig, case.id, "ECO", "reason", "memo")


def test_a_misconduct_report_about_oigs_head_gets_oigs_intake_at_eco(ctx, clock):
    _, case = about_head(ctx, "misconduct")
    assert case.office == "ECO"
    detail = casework.open_case(ctx, eco(ctx), case.id)
    assert {d.name for d in detail.handling.deadlines} == {"acknowledgement", "first_response", "feedback"}
    assert not detail.can_determine and not detail.referral_blocked
    assert [m.state for m in detail.moves] == ["acknowledged"]
    with pytest.raises(Conflict):
        protection.recommend(ctx, eco(ctx), case.id, "reporting_line_change", "someone", "")
    casework.transition(ctx, eco(ctx), case.id, "acknowledged")
    casework.transition(ctx, eco(ctx), case.id, "intake_assessment")
    with pytest.raises(Conflict):
        casework.determine(ctx, eco(ctx), case.id, True, "no such step here")


# --- A reopened preliminary assessment runs a clock of its own ---


def test_a_reopened_assessment_has_thirty_days_of_its_own(ctx, clock):
    passphrase, case_id = file(ctx, "retaliation")
    who = eco(ctx)
    walk(ctx, who, case_id, ["acknowledged", "preliminary_assessment", "closed_no_prima_facie"], passphrase)
    clock.advance(20)
    casework.reopen(ctx, who, case_id, "New evidence: a second witness.")
    view = casework.open_case(ctx, who, case_id).handling
    assessment = next(d for d in view.deadlines if d.name == "preliminary_assessment")
    assert view.status == "preliminary_assessment" and view.determination is None
    assert (assessment.state, assessment.due_on) == ("open", ctx.today() + dt.timedelta(days=30))
    (room,) = reporting.case_room(ctx, reporting.open_case_room(ctx, passphrase))
    assert ("ECO", "the result of the preliminary assessment", assessment.due_on.isoformat()) in room.expectations()
    assert handling_of(ctx, case_id).next_due == "preliminary_assessment"
    clock.advance(31)
    assert case_id in [r.id for r in inbox.inbox(ctx, who, "overdue").rows]
    casework.determine(ctx, who, case_id, False, "The witness saw nothing.")
    assessment = next(d for d in casework.open_case(ctx, who, case_id).handling.deadlines if d.name == "preliminary_assessment")
    assert assessment.state == "met_late"


def test_consent_on_the_form_to_ecos_knowing_is_not_taken_for_oig_on_a_complaint_about_ecos_head(ctx, clock):
    answers = {"office_concerned": "head", "identity_consent": "yes", "identity": "Amina, on the staff list"}
    filed = reporting.file_report(ctx, validate_report(ctx.policy, ["retaliation"], "The head of ECO did it.", answers))
    (case,) = filed.cases
    assert case.office == "OIG"
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    assert not casework.open_case(ctx, oig, case.id).identity.shared
    with pytest.raises(Conflict):
        casework.read_identity(ctx, oig, case.id)
    token = reporting.open_case_room(ctx, filed.passphrase)
    assert reporting.share_identity(ctx, token, case.id, True)  # asked again in the room, which names OIG
    assert casework.read_identity(ctx, oig, case.id) == "Amina, on the staff list"


def test_a_measure_whose_review_is_overdue_can_be_saved_from_its_form(client, ctx):
    from ..helpers import html_login, post_form

    ctx.now = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    _, case_id = file(ctx, "retaliation")
    who = eco(ctx)
    measure = protection.recommend(ctx, who, case_id, "flexible_working", "the Chief of Mission", "", "2026-03-10")
    ctx.now.advance(20)  # the review date has passed
    html_login(client, "eco-1")
    page = client.get(f"/officer/cases/{case_id}").text
    form = re.search(rf'action="/officer/cases/{case_id}/measures/{measure}".*?</form>', page, re.S).group(0)
    assert 'value="2026-03-10"' not in form and 'min="2026-03-22"' in form
    saved = post_form(client, f"/officer/cases/{case_id}/measures/{measure}", {"status": "implemented", "review_on": ""})
    assert saved.status_code == 200 and "Recorded." in saved.text
