"""ECO annual-report figures from a seeded year: expected counts, "<5" cells, and no
suppressed count recoverable from a published total."""

import csv
import datetime as dt

import pytest

from intake.annual_report import write_report
from intake.service import casework, officers, protection, referral, reporting, statistics
from intake.service.errors import Conflict
from policies import validate_report
from policies.disclosure import suppress

from ..helpers import officer_token
from .test_casework import Clock

# (region, acts, days to first response, days to conclude, outcome); received in 2026.
SEEDED = (
    [("mena", ["harassment_abuse"], 1, 5, "closed_no_prima_facie")] * 3
    + [("mena", ["harassment_abuse", "termination_non_extension"], 1, 10, "closed_no_prima_facie")] * 2
    + [("mena", ["termination_non_extension"], 2, 12, "closed_no_prima_facie")] * 2
    + [("wca", ["harassment_abuse"], 3, 20, "referred_to_oig")]
    + [("wca", ["non_selection"], 3, 25, "referred_to_oig")]
    + [("wca", ["harassment_abuse"], 3, None, None)] * 2
    + [("wca", [], 4, 40, "closed_no_prima_facie")]
    + [("hq", ["harassment_abuse"], 1, None, None)]
)


@pytest.fixture
def seeded(ctx):
    ctx.now = clock = Clock(dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.UTC))
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    for _ in range(3):  # last year's complaints must not count
        reporting.file_report(ctx, validate_report(ctx.policy, ["retaliation"], "2025", {"region": "hq"}))
    for n, (region, acts, respond, conclude, outcome) in enumerate(SEEDED):
        clock.now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC) + dt.timedelta(days=9 * n)
        filed = reporting.file_report(
            ctx, validate_report(ctx.policy, ["retaliation"], f"case {n}", {"region": region, "adverse_actions": acts})
        )
        case_id = filed.cases[0].id
        clock.advance(respond)
        casework.reply(ctx, eco, case_id, "We have your complaint.")
        casework.transition(ctx, eco, case_id, "acknowledged")
        casework.transition(ctx, eco, case_id, "preliminary_assessment")
        if n == 0:
            protection.recommend(ctx, eco, case_id, "physical_separation", "Head of Office")
        if outcome:
            clock.advance(conclude - respond)
            casework.determine(ctx, eco, case_id, outcome == "referred_to_oig", "seeded")
            if outcome == "referred_to_oig":
                referral.refer(ctx, eco, case_id, "OIG", "seeded: prima facie evidence", "seeded memo")
            else:
                casework.transition(ctx, eco, case_id, outcome, reason="seeded", message="seeded")
    # Requests for advice: counted apart, never as complaints. (topic, days to the first answer)
    for n, (topic, respond) in enumerate(ADVICE):
        clock.now = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC) + dt.timedelta(days=5 * n)
        answers = {"advice_topic": topic} if topic else {}
        case_id = reporting.file_report(ctx, validate_report(ctx.policy, ["advice"], f"question {n}", answers)).cases[0].id
        if respond is not None:
            clock.advance(respond)
            casework.reply(ctx, eco, case_id, "Here is our advice.")
            casework.transition(ctx, eco, case_id, "answered")
    return eco


ADVICE = (
    [("gifts", 0)] * 3
    + [("gifts", 1)] * 4
    + [("gifts", 2)]
    + [("outside_activities", 2)] * 3
    + [("outside_activities", 3)] * 3
    + [(None, None)] * 2
)


def cells(figures, title):
    table = next(t for t in figures.tables if t.title == title)
    return {c.key: c.shown for c in table.cells if c.count or c.shown != "0"}


def test_seeded_year_gives_the_expected_figures(ctx, seeded):
    figures = statistics.eco_annual_figures(ctx, seeded, 2026)
    assert figures.received == "13"
    # mena 7, wca 5, hq 1: hq alone is small, so the next smallest (wca) is hidden with it; wca is not
    # small, so neither says "<5" (which could then tell them apart).
    assert cells(figures, "Complaints by region") == {"mena": "7", "wca": "suppressed", "hq": "suppressed"}
    assert cells(figures, "Complaints by kind of retaliatory act") == {
        "harassment_abuse": "9",
        "termination_non_extension": "<5",
        "non_selection": "<5",
        "other": "<5",
    }
    # referred 2 is small; open 3 is small too: two hidden cells, nothing to recover.
    assert cells(figures, "Complaints by outcome") == {"referred_to_oig": "<5", "closed_no_prima_facie": "8", "open": "<5"}
    assert figures.referred == "<5"
    assert figures.with_measures == "<5"
    days = [5, 5, 5, 10, 10, 12, 12, 20, 25, 40]
    assert figures.assessment_days_mean == f"{sum(days) / len(days):.1f}"
    assert figures.assessment_days_median == "11.0"
    assert figures.concluded_within_30_days == "suppressed"  # 9 of 10: the one late case would show
    assert figures.first_response_within_48_hours == "62%"  # 8 of 13 within 2 days, 5 later
    assert figures.advice_received == "16"
    assert figures.advice_answered_by_next_day == "44%"  # 7 of 16 (the two never answered count as late)
    assert figures.advice_answered_within_two_days == "69%"  # 11 of 16
    topics = cells(figures, "Advice requests by topic")
    assert topics == {"gifts": "8", "outside_activities": "suppressed", "not_given": "suppressed"}


def test_no_suppressed_count_can_be_recovered_from_a_total(ctx, seeded):
    figures = statistics.eco_annual_figures(ctx, seeded, 2026)
    for table in figures.tables:
        if table.partition:
            hidden = [c for c in table.cells if c.suppressed]
            assert len(hidden) != 1, table.title
            assert sum(c.count for c in table.cells) == (len(ADVICE) if table.counts == "Advice requests" else 13)


@pytest.mark.parametrize(
    "counts, total, hidden",
    [
        ({"a": 10, "b": 3, "c": 7}, 20, {"b", "c"}),
        ({"a": 10, "b": 3, "c": 2}, 15, {"b", "c"}),
        ({"a": 10, "b": 3, "c": 0}, 13, {"a", "b"}),
        ({"a": 10, "b": 6, "c": 0}, 16, set()),
        ({"a": 3, "b": 1}, 4, {"a", "b"}),
        ({"a": 3, "b": 9}, None, {"a"}),
    ],
)
def test_suppression_rule(counts, total, hidden):
    published = suppress(counts, 5, total)
    assert {c.key for c in published if c.suppressed} == hidden
    # A small cell hidden alone says "<5"; when another is hidden to protect it, both say only "suppressed".
    alone = all(counts[k] < 5 for k in hidden)
    assert {c.shown for c in published if c.suppressed} <= ({"<5"} if alone else {"suppressed"})
    assert all(c.shown == "0" for c in published if c.count == 0)


def test_only_eco_computes_the_report(ctx):
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    with pytest.raises(Conflict):
        statistics.eco_annual_figures(ctx, oig, 2026)


def test_report_files_publish_only_what_may_be_published(ctx, seeded, tmp_path):
    figures = statistics.eco_annual_figures(ctx, seeded, 2026)
    written = write_report(figures, tmp_path / "report")
    html = (tmp_path / "report" / "report.html").read_text()
    assert "&lt;5" in html and "<script" not in html and "style=" not in html
    with open(tmp_path / "report" / "figures.csv") as figures_csv:
        rows = list(csv.reader(figures_csv))
    assert ["summary", "received", "13"] in rows
    assert ["Complaints by region", "Headquarters (HQ)", "suppressed"] in rows
    svg = (tmp_path / "report" / "chart-1.svg").read_text()
    assert svg.startswith("<?xml") and "&lt;5" in svg
    assert len([p for p in written if p.suffix == ".svg"]) == len(figures.tables)
