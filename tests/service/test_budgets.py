"""Abuse budgets: reports, messages per case and case-room openings per passphrase; over
budget is 503 with Retry-After and a human message, and nothing is kept."""

import dataclasses
import datetime as dt

import pytest
from starlette.testclient import TestClient

from intake.app import create_app

from ..clock import Clock
from ..helpers import caseroom_login, post_form
from ..web.test_hostile_input import snapshot

REPORT = {"concerns": ["misconduct"], "description": "budget test", "answers": {}}


@pytest.fixture
def tight(ctx):
    ctx.settings = dataclasses.replace(
        ctx.settings, submissions_per_hour=3, messages_per_case_per_day=2, openings_per_case_room_per_hour=2
    )
    # In the day's first hour, an hourly budget has its limit once (it accrues hour by hour: #24 item 15).
    ctx.now = Clock(dt.datetime(2026, 5, 1, 0, 10, tzinfo=dt.UTC))
    with TestClient(create_app(ctx), base_url="http://127.0.0.1") as client:
        yield client


def test_global_submission_budget(tight, ctx):
    for _ in range(3):
        assert tight.post("/api/v1/reports", json=REPORT).status_code == 201
    before = snapshot(ctx)
    refused = tight.post("/api/v1/reports", json=REPORT)
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
    assert "Very many reports" in refused.json()["error"]
    page = post_form(tight, "/report", {"concern": "misconduct", "description": "my words are kept on the page"})
    assert page.status_code == 503 and "my words are kept on the page" in page.text and "Retry-After" not in page.text
    assert snapshot(ctx) == before


def test_message_budget_per_case(tight, ctx):
    one, two = (tight.post("/api/v1/reports", json=REPORT).json() for _ in range(2))
    reporter = caseroom_login(tight, one["passphrase"])
    case = one["cases"][0]["id"]
    for _ in range(2):
        assert tight.post(f"/api/v1/caseroom/cases/{case}/messages", json={"body": "hi"}, headers=reporter).status_code == 201
    before = snapshot(ctx)
    refused = tight.post(f"/api/v1/caseroom/cases/{case}/messages", json={"body": "hi"}, headers=reporter)
    assert refused.status_code == 503 and "retry-after" in refused.headers
    assert snapshot(ctx) == before
    other = caseroom_login(tight, two["passphrase"])
    assert (
        tight.post(f"/api/v1/caseroom/cases/{two['cases'][0]['id']}/messages", json={"body": "hi"}, headers=other).status_code
        == 201
    )


def test_case_room_openings_per_passphrase_are_slowed(tight):
    one, two = (tight.post("/api/v1/reports", json=REPORT).json() for _ in range(2))
    for _ in range(2):
        caseroom_login(tight, one["passphrase"])
    refused = tight.post("/api/v1/caseroom/session", json={"passphrase": one["passphrase"]})
    assert refused.status_code == 503 and "opened very many times" in refused.json()["error"]
    caseroom_login(tight, two["passphrase"])  # another case room is not slowed


def test_a_request_that_gets_no_argon2_slot_or_is_refused_costs_nothing(tight, ctx):
    """The attack of the review: concurrent posts that got 503 still spent the budget, so one
    anonymous client could lock every reporter out. Now only a filed report costs a unit."""
    from intake.service.context import Argon2Gate

    real_gate = ctx.gate
    ctx.gate = Argon2Gate(concurrency=1, wait_seconds=0)
    ctx.gate._slots.acquire()  # every slot taken: each request waits 0 s and gets 503
    for _ in range(10):
        assert tight.post("/api/v1/reports", json=REPORT).status_code == 503
    ctx.gate = real_gate
    key = {"Idempotency-Key": "the-same-key-every-time-0001"}
    assert tight.post("/api/v1/reports", json=REPORT, headers=key).status_code == 201
    for _ in range(5):  # resends refused as already received
        assert tight.post("/api/v1/reports", json=REPORT, headers=key).status_code == 409
    for _ in range(2):  # the budget of 3 still has its last two units
        assert tight.post("/api/v1/reports", json=REPORT).status_code == 201
    assert tight.post("/api/v1/reports", json=REPORT).status_code == 503


def test_budget_rows_say_neither_which_budget_nor_which_hour(tight, ctx):
    from sqlmodel import Session, select

    from intake.store import Budget

    filed = tight.post("/api/v1/reports", json=REPORT).json()
    reporter = caseroom_login(tight, filed["passphrase"])
    case = filed["cases"][0]["id"]
    tight.post(f"/api/v1/caseroom/cases/{case}/messages", json={"body": "hi"}, headers=reporter)
    with Session(ctx.engine) as db:
        rows = db.exec(select(Budget)).all()
    assert len(rows) == 3  # submissions, this case's messages, this passphrase's openings
    for row in rows:
        assert set(row.key) <= set("0123456789abcdef") and case not in row.key and "submissions" not in row.key
        assert type(row.day) is dt.date  # the day alone, never the hour


def test_concurrent_spenders_spend_exactly_the_limit(ctx):
    """Twelve threads spend one budget of five at the same moment: five pass, seven are refused, and
    the row says five (the upsert is atomic on both databases; SQLite serialises, PostgreSQL locks)."""
    import threading

    from intake.service import budgets
    from intake.service.errors import Busy
    from intake.store import Budget, transaction

    allowance = budgets.Allowance("burst", 5, budgets.dt.timedelta(days=1), "spent")
    start, outcomes = threading.Barrier(12), []

    def spender() -> None:
        start.wait()
        try:
            with transaction(ctx.engine) as db:
                budgets.spend(ctx, db, allowance)
            outcomes.append("spent")
        except Busy:
            outcomes.append("refused")

    threads = [threading.Thread(target=spender) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["spent"] * 5
    with transaction(ctx.engine) as db:
        assert db.get(Budget, budgets._row_key(ctx, allowance)).used == 5


def test_budget_rows_give_back_no_hour_even_with_the_instance_key(tight, ctx):
    """#24 item 15: on main, the instance's lookup key (in instance.json, in every backup) turned the
    submissions row back into "08:00 UTC, 3 reports". Every row now counts a whole day."""
    from sqlmodel import Session, select

    from intake.service import budgets
    from intake.store import Budget

    ctx.now.now = dt.datetime(2026, 5, 1, 8, 20, tzinfo=dt.UTC)
    for _ in range(3):
        assert tight.post("/api/v1/reports", json=REPORT).status_code == 201
    with Session(ctx.engine) as db:
        rows = {row.key: row.used for row in db.exec(select(Budget)).all()}
    day = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    hours = {budgets.row_key(ctx.instance.lookup_key, "submissions", day + dt.timedelta(hours=h)) for h in range(1, 24)}
    assert not hours & set(rows)
    assert rows[budgets.row_key(ctx.instance.lookup_key, "submissions", day)] == 3


def test_an_hourly_budget_accrues_over_the_day(tight, ctx):
    """#24 item 15: with day rows, an hourly budget allows its limit once for each hour begun that day."""
    for _ in range(3):
        assert tight.post("/api/v1/reports", json=REPORT).status_code == 201
    refused = tight.post("/api/v1/reports", json=REPORT)
    assert refused.status_code == 503 and 0 < int(refused.headers["retry-after"]) <= 3001  # the next hour
    ctx.now.now = dt.datetime(2026, 5, 1, 2, 5, tzinfo=dt.UTC)  # two more hours begun: six more
    for _ in range(6):
        assert tight.post("/api/v1/reports", json=REPORT).status_code == 201
    assert tight.post("/api/v1/reports", json=REPORT).status_code == 503
    ctx.now.now = dt.datetime(2026, 5, 2, 0, 1, tzinfo=dt.UTC)  # a new day starts from nothing
    assert tight.post("/api/v1/reports", json=REPORT).status_code == 201
