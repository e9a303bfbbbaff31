"""ECO's annual report from seeded years: exact counts in the internal report, the
threshold and complementary rule per table in the publication draft, the seed's 2022
figures rebuilt through the service, and the files written."""

import csv
import dataclasses
import datetime as dt

import pytest

from intake.annual_report import write_both
from intake.service import casework, officers, protection, referral, reporting, statistics
from intake.service.errors import Conflict
from policies import validate_report
from policies.disclosure import suppress

from ..casework_steps import walk
from ..clock import Clock
from ..helpers import officer_token

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
    clock.now = COMPUTED_ON  # the figures are what is known that day
    return eco


# After every seeded case and request: the wca complaint of 27 March is past its 30 days unassessed,
# those of 5 and 23 April are still inside them.
COMPUTED_ON = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


ADVICE = (
    [("gifts", 0)] * 3
    + [("gifts", 1)] * 4
    + [("gifts", 2)]
    + [("outside_activities", 2)] * 3
    + [("outside_activities", 3)] * 3
    + [(None, None)] * 2
)


def table(report, table_id):
    return next(t for t in report.tables if t.spec.id == table_id)


def exact(report, table_id):
    return {r.key: r.count for r in table(report, table_id).rows if r.count}


def draft(report, table_id):
    return {r.key: r.shown for r in table(report, table_id).rows if r.count or r.shown != "0"}


def summary(report):
    return {f.key: (f.value, f.previous) for f in report.summary}


def test_the_internal_report_has_exact_counts_beside_last_year(ctx, seeded):
    internal, _ = statistics.eco_annual_report(ctx, seeded, 2026)
    assert not internal.publication
    assert exact(internal, "regions") == {"mena": 7, "wca": 5, "hq": 1}
    assert exact(internal, "workplace") == {"headquarters": 1, "field": 12}
    assert exact(internal, "outcomes") == {"referred": 2, "closed_after_assessment": 8, "open": 3}
    assert exact(internal, "measures_recommended") == {"physical_separation": 1}
    assert {r.key: r.previous for r in table(internal, "regions").rows if r.previous} == {"hq": 3}  # 2025's complaints
    numbers = summary(internal)
    assert numbers["received"] == ("13", "3") and numbers["referred"] == ("2", "0")
    assert numbers["with_measures_recommended"] == ("1", "0")
    # 9 of 11: ten concluded (one on day 40), one unassessed past its 30 days; 2025's three, never
    # assessed, are all past theirs.
    assert numbers["concluded_within_30_days"] == ("82%", "0%")
    assert numbers["advice_received"] == ("16", "0")


def test_the_publication_draft_withholds_small_counts_table_by_table(ctx, seeded):
    _, publication = statistics.eco_annual_report(ctx, seeded, 2026)
    assert publication.publication
    # mena 7, wca 5, hq 1: hq alone is small, so the next smallest (wca) is hidden with it; wca is not
    # small, so neither says "<5" (which could then tell them apart).
    assert draft(publication, "regions") == {"mena": "7", "wca": "suppressed", "hq": "suppressed"}
    assert draft(publication, "workplace") == {"headquarters": "suppressed", "field": "suppressed"}
    assert draft(publication, "acts") == {
        "harassment_abuse": "9",
        "termination_non_extension": "<5",
        "non_selection": "<5",
        "other": "<5",
    }
    # referred 2 is small; open 3 is small too: two hidden cells adding up to 5, each can be 1 to 4. Their sum
    # is known, so neither says "<5" (#24 item 13: two "<5" adding up to 8 would both be 4).
    outcomes = {"referred": "suppressed", "closed_after_assessment": "8", "open": "suppressed"}
    assert draft(publication, "outcomes") == outcomes
    numbers = summary(publication)
    # 2025: 3 complaints, so every outcome cell reads "<5", the empty referred one too.
    assert numbers["received"] == ("13", "<5") and numbers["referred"] == ("suppressed", "<5")
    days = [5, 5, 5, 10, 10, 12, 12, 20, 25, 40]
    assert numbers["assessment_days_mean"][0] == f"{sum(days) / len(days):.1f}"
    assert numbers["assessment_days_median"][0] == "11.0"
    assert numbers["concluded_within_30_days"][0] == "suppressed"  # 9 of 11: the two late ones would show
    assert numbers["first_response_within_48_hours"][0] == "62%"  # 8 of 13 within 2 days, 5 later
    assert numbers["advice_received"][0] == "16"
    assert numbers["advice_answered_by_next_day"][0] == "44%"  # 7 of 16 (the two never answered count as late)
    assert numbers["advice_answered_within_two_days"][0] == "69%"  # 11 of 16
    assert draft(publication, "advice") == {"gifts": "8", "outside_activities": "suppressed", "not_given": "suppressed"}
    reasons = {(t.spec.id, r.key): reason for t, r, reason in publication.withheld()}
    assert reasons[("regions", "hq")] == "small" and reasons[("regions", "wca")] == "protects_another"


def test_no_withheld_count_can_be_recovered_from_a_total(ctx, seeded):
    _, publication = statistics.eco_annual_report(ctx, seeded, 2026)
    for t in publication.tables:
        if t.partition:
            hidden = [r for r in t.rows if not r.shown.isdigit()]
            assert len(hidden) != 1, t.spec.id
            assert sum(r.count for r in t.rows) == t.total


def test_a_table_publishes_what_the_organization_decides(ctx, seeded):
    """A per-table threshold: 1 publishes every count (as the 2022 report did for HQ); 10 withholds more."""
    tables = tuple(
        dataclasses.replace(t, threshold={"regions": 1, "workplace": 1, "acts": 10}.get(t.id, t.threshold))
        for t in ctx.policy.statistics.tables
    )
    ctx.policy = dataclasses.replace(ctx.policy, statistics=dataclasses.replace(ctx.policy.statistics, tables=tables))
    _, publication = statistics.eco_annual_report(ctx, seeded, 2026)
    assert draft(publication, "regions") == {"mena": "7", "wca": "5", "hq": "1"}
    assert draft(publication, "workplace") == {"headquarters": "1", "field": "12"}
    assert draft(publication, "acts") == {
        "harassment_abuse": "<10",
        "termination_non_extension": "<10",
        "non_selection": "<10",
        "other": "<10",
    }
    outcomes = {"referred": "suppressed", "closed_after_assessment": "8", "open": "suppressed"}
    assert draft(publication, "outcomes") == outcomes  # the default


@pytest.mark.parametrize(
    "counts, total, hidden",
    [
        ({"a": 10, "b": 3, "c": 7}, 20, {"b", "c"}),
        ({"a": 10, "b": 3, "c": 2}, 15, {"b", "c"}),
        ({"a": 10, "b": 3, "c": 0}, 13, {"a", "b"}),
        ({"a": 10, "b": 6, "c": 0}, 16, set()),
        ({"a": 3, "b": 1}, 4, {"a", "b"}),
        ({"a": 3, "b": 9}, None, {"a"}),
        # #24 item 13: two small cells whose sum is known protect each other only if each can still be 1 to 4.
        ({"a": 1, "b": 1, "c": 20}, 22, {"a", "b", "c"}),
        ({"a": 4, "b": 4, "c": 20}, 28, {"a", "b"}),
        ({"a": 2, "b": 3, "c": 20}, 25, {"a", "b"}),
        # Every non-zero cell small and still too few to protect each other: the zeros are withheld with them.
        ({"a": 1, "b": 1, "c": 1, "d": 2, "e": 0}, 5, {"a", "b", "c", "d", "e"}),
    ],
)
def test_suppression_rule(counts, total, hidden):
    published = suppress(counts, 5, total)
    assert {c.key for c in published if c.suppressed} == hidden
    # A small cell says "<5" where no published total ties the hidden ones together (or the total is small
    # itself); where one does, they say only "suppressed" (#24 item 13).
    tied = total is not None and total >= 5
    assert {c.shown for c in published if c.suppressed} <= ({"suppressed"} if tied else {"<5"})
    assert all(c.shown == "0" for c in published if c.count == 0 and c.key not in hidden)
    assert all(c.reason for c in published if c.suppressed) and not any(c.reason for c in published if not c.suppressed)


def test_only_eco_computes_the_report(ctx):
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    with pytest.raises(Conflict):
        statistics.eco_annual_report(ctx, oig, 2026)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_report_files(ctx, seeded, tmp_path, lang):
    internal, publication = statistics.eco_annual_report(ctx, seeded, 2026)
    written = write_both(internal, publication, tmp_path / "report", lang)
    inside = (tmp_path / "report" / "internal" / "report.html").read_text()
    outside = (tmp_path / "report" / "publication" / "report.html").read_text()
    assert "<script" not in inside + outside and "style=" not in inside + outside
    if lang == "en":
        assert "INTERNAL" in inside and "Draft for publication" in outside and "INTERNAL" not in outside
        # #24 item 13: a reason beside a withheld cell ("a count from 1 to 4", "withheld so that a small
        # count ... cannot be worked out") says more than the draft's "suppressed": the list is inside only.
        assert "What the publication draft withholds, and why" in inside
        assert "withholds, and why" not in outside and "a count from 1 to" not in outside
        assert "cannot be worked out from the total" not in outside
    else:
        assert 'dir="rtl"' in inside and 'dir="rtl"' in outside
    with open(tmp_path / "report" / "publication" / "regions.csv", encoding="utf-8") as regions:
        rows = list(csv.reader(regions))
    assert rows[0][1:] == ["2026", rows[0][2], "2025"] and len(rows) == 1 + len(table(publication, "regions").rows)
    mena = next(r for r in rows if r[1] == "7")
    assert mena[2] == "54%"  # 7 of 13
    with open(tmp_path / "report" / "internal" / "regions.csv", encoding="utf-8") as regions:
        assert any(r[1] == "1" for r in csv.reader(regions))  # the exact count, inside only
    svg = (tmp_path / "report" / "publication" / "regions.svg").read_text()
    assert svg.startswith("<svg") and ("suppressed" in svg or "م" in svg)
    empty = (tmp_path / "report" / "publication" / "measures_implemented.svg").read_text()
    assert "<rect" not in empty  # nothing implemented: a sentence, not an axis
    assert len([p for p in written if p.suffix == ".svg"]) == 2 * len(internal.tables)


# The ECO Annual Report 2022, s.2: 36 complaints (24 in 2021), 2 from HQ; MENA 12, WCA 6, EHA 4,
# CNAC 4; harassment or abuse one-third (12), termination or non-extension 10, non-selection and
# evaluation 20% (7), not identified 20% (7); prima facie and referred 2, closed after the preliminary
# assessment 23, abandoned or withdrawn 7; protective measures in 3 cases; 7 general enquiries.
REGIONS_2022 = ["hq"] * 2 + ["mena"] * 12 + ["wca"] * 6 + ["eha"] * 4 + ["cnac"] * 4 + ["seeca"] * 3 + ["eea"] * 3 + ["saf"] * 2
ACTS_2022 = (
    [["harassment_abuse"]] * 12
    + [["termination_non_extension"]] * 10
    + [["non_selection"]] * 3
    + [["evaluation_or_conditions"]] * 4
    + [[]] * 7
)
OUTCOMES_2022 = (
    [["acknowledged", "preliminary_assessment", "referred_to_oig"]] * 2
    + [["acknowledged", "preliminary_assessment", "closed_no_prima_facie"]] * 23
    + [["acknowledged", "preliminary_assessment", "abandoned"]] * 3
    + [["withdrawn"]] * 4
    + [["acknowledged"]] * 4
)


@pytest.mark.slow
def test_the_seeds_2022_figures_come_back_from_cases_made_through_the_service(ctx):
    clock = ctx.now = Clock(dt.datetime(2021, 3, 1, 9, 0, tzinfo=dt.UTC))
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    for n in range(24):
        clock.now = dt.datetime(2021, 3, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(days=10 * n)
        reporting.file_report(ctx, validate_report(ctx.policy, ["retaliation"], f"2021 case {n}", {"region": "mena"}))
    assert len(REGIONS_2022) == len(ACTS_2022) == len(OUTCOMES_2022) == 36
    for n, (region, acts, path) in enumerate(zip(REGIONS_2022, ACTS_2022, OUTCOMES_2022, strict=True)):
        clock.now = dt.datetime(2022, 1, 3, 9, 0, tzinfo=dt.UTC) + dt.timedelta(days=6 * n)
        filed = reporting.file_report(
            ctx, validate_report(ctx.policy, ["retaliation"], f"2022 case {n}", {"region": region, "adverse_actions": acts})
        )
        case_id = filed.cases[0].id
        eco = officers.current(ctx, officer_token(ctx, "eco-1"))
        if n in (5, 9, 14):
            protection.recommend(ctx, eco, case_id, "flexible_working", "Chief of Mission")
        if path == ["withdrawn"]:
            reporting.withdraw(ctx, reporting.open_case_room(ctx, filed.passphrase), case_id)
        else:
            walk(ctx, eco, case_id, path, filed.passphrase)
    for n in range(7):
        clock.now = dt.datetime(2022, 9, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(days=n)
        reporting.file_report(ctx, validate_report(ctx.policy, ["advice"], f"enquiry {n}", {"advice_topic": "retaliation"}))
    clock.now = dt.datetime(2023, 1, 20, 9, 0, tzinfo=dt.UTC)
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    internal, publication = statistics.eco_annual_report(ctx, eco, 2022)
    numbers = summary(internal)
    assert numbers["received"] == ("36", "24")
    assert numbers["referred"][0] == "2" and numbers["with_measures_recommended"][0] == "3"
    assert numbers["advice_received"][0] == "7"
    assert exact(internal, "workplace") == {"headquarters": 2, "field": 34}
    regions = exact(internal, "regions")
    assert (regions["mena"], regions["wca"], regions["eha"], regions["cnac"]) == (12, 6, 4, 4)
    assert exact(internal, "acts") == {
        "harassment_abuse": 12,
        "termination_non_extension": 10,
        "non_selection": 3,
        "evaluation_or_conditions": 4,
        "other": 7,
    }
    assert exact(internal, "outcomes") == {"referred": 2, "closed_after_assessment": 23, "abandoned_or_withdrawn": 7, "open": 4}
    assert exact(internal, "measures_recommended") == {"flexible_working": 3}
    mena = next(r for r in table(internal, "regions").rows if r.key == "mena")
    assert round(100 * mena.count / table(internal, "regions").total) == 33  # "one-third of the complaints"
    # The shipped default withholds what 2022 published by choice: the draft says so.
    assert draft(publication, "workplace") == {"headquarters": "suppressed", "field": "suppressed"}
    assert draft(publication, "outcomes")["closed_after_assessment"] == "23"
