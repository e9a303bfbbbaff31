"""Case work on ordinary days, where features meet: an advice request on its own clock, a
complaint with its optional answers left blank, a closing message still holding the template's
placeholder, a step the page offers that the service then refuses, a reopened assessment."""

import datetime as dt

import pytest
from sqlmodel import Session

from intake.service import casework, inbox, officers, reporting
from intake.service.errors import Conflict
from intake.store import Handling
from policies import validate_report

from ..helpers import officer_token
from .test_casework import Clock


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
