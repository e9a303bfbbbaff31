"""ECO's annual figures say what happened, on the day they are computed (issue 23, item 7):
a share in time counts every case whose time has run out, answered or not, and none still
inside it; a report ECO found not to be retaliation is no complaint of retaliation; the
harm categories are named in the third person; and the draft withholds the new lines, and
the old ones' differences, as it withholds a small count."""

import csv
import dataclasses
import datetime as dt
import itertools

import pytest

from intake.annual_report import write_both
from intake.service import casework, protection, referral, reporting, statistics
from policies import PolicyError, validate_report
from policies.deadlines import HandlingFacts, deadlines
from policies.model import parse_policy, shipped_policy_text
from policies.vocabulary import Office

from ..casework_steps import officer, walk
from ..clock import Clock

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(START)
    return ctx.now


def complaint(ctx, region="mena", acts=(), concern="retaliation"):
    answers = {"region": region, "adverse_actions": list(acts)} if concern == "retaliation" else {}
    filed = reporting.file_report(ctx, validate_report(ctx.policy, [concern], "what happened", answers))
    return filed.passphrase, filed.cases[0].id


def request_advice(ctx, topic="gifts"):
    return reporting.file_report(ctx, validate_report(ctx.policy, ["advice"], "a question", {"advice_topic": topic})).cases[0].id


def conclude(ctx, eco, case_id):
    """No prima facie evidence: the assessment concludes and the complaint closes, today."""
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment", "closed_no_prima_facie"])


def withdraw(ctx, passphrase, case_id):
    reporting.withdraw(ctx, reporting.open_case_room(ctx, passphrase), case_id)


def figures(ctx, eco, year=2026):
    return statistics.eco_annual_report(ctx, eco, year)


def line(report, key):
    return next(f.value for f in report.summary if f.key == key)


def rows(report, rows_kind):
    table = next(t for t in report.tables if t.spec.rows == rows_kind)
    return {r.key: r.count for r in table.rows if r.count}


# 1. Preliminary assessments concluded within 30 days


def test_an_assessment_left_waiting_past_its_30_days_counts_as_not_within_them(ctx, clock):
    eco = officer(ctx, "eco-1")
    concluded = [complaint(ctx)[1] for _ in range(4)]
    complaint(ctx)  # never assessed
    clock.advance(5)
    for case_id in concluded:
        conclude(ctx, eco, case_id)
    clock.advance(20)
    complaint(ctx)  # day 25: inside its 30 days on the day of the figures, so counted neither way
    clock.advance(15)
    internal, _ = figures(ctx, eco)
    assert line(internal, "concluded_within_30_days") == "80%"  # was 100%: only the finished ones counted
    assessed = internal.counts[0].assessed
    assert (assessed.kept, assessed.late) == (4, 1)


def test_the_30th_day_is_within_and_the_31st_is_past(ctx, clock):
    eco = officer(ctx, "eco-1")
    _, on_time = complaint(ctx)
    complaint(ctx)
    clock.advance(30)
    conclude(ctx, eco, on_time)
    internal, _ = figures(ctx, eco)
    assert line(internal, "concluded_within_30_days") == "100%"  # the other's 30th day: not late yet
    clock.advance(1)
    internal, _ = figures(ctx, eco)
    assert line(internal, "concluded_within_30_days") == "50%"
    assert line(internal, "assessment_days_mean") == "30.0"  # days are over concluded assessments only


def test_a_complaint_closed_unassessed_counts_only_if_it_closed_after_its_30_days(ctx, clock):
    eco = officer(ctx, "eco-1")
    early, late = complaint(ctx), complaint(ctx)
    _, assessed = complaint(ctx)
    clock.advance(3)
    withdraw(ctx, *early)  # withdrawn in time: ECO was not late
    conclude(ctx, eco, assessed)
    clock.advance(32)
    withdraw(ctx, *late)  # withdrawn on day 35, never assessed: closing hides no lateness
    internal, _ = figures(ctx, eco)
    assert line(internal, "concluded_within_30_days") == "50%"  # was 100%
    assert (internal.counts[0].assessed.kept, internal.counts[0].assessed.late) == (1, 1)


def test_an_extension_for_exceptional_circumstances_does_not_move_the_30_days(ctx, clock):
    """IN/282: "within 30 calendar days, unless justified by exceptional circumstances". The figure says
    30 days, so an extended assessment concluded on day 40 is not within them; the line beside says how
    many of the late ones were extended."""
    eco = officer(ctx, "eco-1")
    _, extended = complaint(ctx)
    _, prompt = complaint(ctx)
    walk(ctx, eco, extended, ["acknowledged", "preliminary_assessment"])
    casework.extend(ctx, eco, extended, "preliminary_assessment", 15, "The only witness is on mission.")
    clock.advance(5)
    conclude(ctx, eco, prompt)
    clock.advance(35)
    walk(ctx, eco, extended, ["closed_no_prima_facie"])
    internal, publication = figures(ctx, eco)
    assert line(internal, "concluded_within_30_days") == "50%"
    assert line(internal, "concluded_late_with_extension") == "1"
    assert line(publication, "concluded_late_with_extension") == "<5"


# 2. Answered within 48 hours, and the advice figures


def test_a_complaint_still_inside_its_48_hours_is_not_counted_as_unanswered(ctx, clock):
    eco = officer(ctx, "eco-1")
    _, answered = complaint(ctx)
    complaint(ctx)  # never answered
    clock.advance(2)
    casework.reply(ctx, eco, answered, "We have your complaint.")  # the second day: within 48 hours
    clock.advance(1)
    _, newest = complaint(ctx)  # received on the day of the figures
    internal, _ = figures(ctx, eco)
    assert line(internal, "first_response_within_48_hours") == "50%"  # was 33%: the newest counted as a failure
    clock.advance(2)
    assert line(figures(ctx, eco)[0], "first_response_within_48_hours") == "50%"  # its second day: not late yet
    clock.advance(1)
    assert line(figures(ctx, eco)[0], "first_response_within_48_hours") == "33%"
    casework.reply(ctx, eco, newest, "Sorry for the wait.")  # answered late: still not within 48 hours
    assert line(figures(ctx, eco)[0], "first_response_within_48_hours") == "33%"


def test_an_advice_request_received_today_is_not_a_late_answer(ctx, clock):
    eco = officer(ctx, "eco-1")
    same_day, next_day = request_advice(ctx), request_advice(ctx)
    casework.reply(ctx, eco, same_day, "Here is our advice.")
    clock.advance(1)
    casework.reply(ctx, eco, next_day, "Here is our advice.")
    request_advice(ctx)  # today, not answered yet
    internal, _ = figures(ctx, eco)
    assert line(internal, "advice_received") == "3"
    assert line(internal, "advice_answered_by_next_day") == "100%"  # was 67%
    assert line(internal, "advice_answered_within_two_days") == "100%"
    clock.advance(2)
    internal, _ = figures(ctx, eco)
    assert line(internal, "advice_answered_by_next_day") == "67%"  # its next day is over
    assert line(internal, "advice_answered_within_two_days") == "100%"  # its second day is not
    clock.advance(1)
    assert line(figures(ctx, eco)[0], "advice_answered_within_two_days") == "67%"


def test_nothing_to_judge_yet_says_so(ctx, clock):
    eco = officer(ctx, "eco-1")
    complaint(ctx)
    internal, _ = figures(ctx, eco)
    assert line(internal, "first_response_within_48_hours") == "no cases"
    assert line(internal, "concluded_within_30_days") == "no cases"


# 3. A report ECO passed to OIG as not retaliation


def test_a_report_eco_found_not_to_be_retaliation_is_no_complaint_of_retaliation(ctx, clock):
    eco = officer(ctx, "eco-1")
    complaint(ctx, "mena", ["harassment_abuse"])
    complaint(ctx, "hq", ["non_selection"])
    _, misrouted = complaint(ctx, "wca", ["termination_non_extension"])
    protection.recommend(ctx, eco, misrouted, "flexible_working", "Chief of Mission")
    clock.advance(3)
    referral.refer(ctx, eco, misrouted, "OIG", "Procurement fraud, not retaliation.", "memo", "transferred_to_oig")
    internal, publication = figures(ctx, eco)
    assert line(internal, "received") == "2"  # was 3
    assert line(internal, "not_retaliation") == "1"
    assert rows(internal, "region") == {"mena": 1, "hq": 1}
    assert rows(internal, "workplace") == {"headquarters": 1, "field": 1}
    assert rows(internal, "adverse_action") == {"harassment_abuse": 1, "non_selection": 1}
    assert rows(internal, "measure_recommended") == {} and line(internal, "with_measures_recommended") == "0"
    outcomes = next(t for t in internal.tables if t.spec.rows == "outcome")
    assert {r.key: r.count for r in outcomes.rows if r.count} == {"open": 2}
    assert "transferred_to_oig" not in {r.key for r in outcomes.rows}
    assert sum(r.count for r in outcomes.rows) == outcomes.total == 2  # the rows add up to what the total says
    # ECO's clock ran for it all the same: its assessment, concluded on day 3, counts in the timeliness.
    assert (internal.counts[0].assessed.kept, internal.counts[0].assessed.late) == (1, 0)
    assert line(publication, "not_retaliation") == "<5"


def test_a_complaint_oig_transferred_to_eco_counts_unless_eco_passes_it_back_as_not_retaliation(ctx, clock):
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    _, retaliation = complaint(ctx, concern="misconduct")
    _, misconduct = complaint(ctx, concern="misconduct")
    for case_id in (retaliation, misconduct):
        referral.refer(ctx, oig, case_id, "ECO", None, "Retaliation: ECO's mandate (IN/282).")
    referral.refer(ctx, eco, misconduct, "OIG", "Not retaliation after all.", "memo", "transferred_to_oig")
    internal, _ = figures(ctx, eco)
    assert (line(internal, "received"), line(internal, "transferred_in")) == ("1", "1")  # were 2 and 2
    assert line(internal, "not_retaliation") == "1"


# 4. Harm categories in the third person


def test_harm_categories_print_in_the_third_person(ctx, clock, tmp_path):
    eco = officer(ctx, "eco-1")
    acts = [a.id for a in ctx.policy.adverse_actions]
    complaint(ctx, "prefer_not_to_say", acts)
    complaint(ctx, "mena", [])
    internal, publication = figures(ctx, eco)
    write_both(internal, publication, tmp_path, "en")
    written = "".join(
        (tmp_path / part / name).read_text(encoding="utf-8")
        for part in ("internal", "publication")
        for name in ("report.html", "acts.csv", "acts.svg", "regions.csv", "regions.svg")
    )
    assert "Termination or non-extension of contract, or abolition of post" in written
    for act in ctx.policy.adverse_actions:
        assert act.short and act.short != act.label
        assert act.label not in written, act.label  # "My contract was ended ..." was printed
    assert "I prefer not to say" not in written  # counted under "Not given"
    assert rows(internal, "region") == {"not_given": 1, "mena": 1}
    with open(tmp_path / "internal" / "acts.csv", encoding="utf-8") as acts_csv:
        labels = [row[0] for row in csv.reader(acts_csv)][1:]
    assert labels == [a.short for a in ctx.policy.adverse_actions]


def test_every_adverse_action_needs_its_third_person_name():
    text = shipped_policy_text()
    missing = text.replace('short = "Non-selection for a post"\n', "", 1)
    assert missing != text
    with pytest.raises(PolicyError, match=r"\[\[adverse_actions\]\]: `short` must be a non-empty string") as refused:
        parse_policy(missing)
    line_number = int(str(refused.value).split("line ")[1].split(":")[0])
    assert missing.splitlines()[line_number] == 'id = "non_selection"'  # the entry's header line is named


# 5. What the draft publishes


# Summary lines that count a part of the complaints received: a reader can take the difference.
PARTS_OF_RECEIVED = ("transferred_in", "referred", "with_measures_recommended", "with_measures_implemented")


def assert_no_small_difference(publication, threshold):
    for part, whole in ((p, "received") for p in PARTS_OF_RECEIVED):
        a, b = line(publication, part), line(publication, whole)
        if a.isdigit() and b.isdigit():
            assert not 0 < int(b) - int(a) < threshold, (part, a, whole, b)


def with_threshold(ctx, threshold):
    tables = tuple(dataclasses.replace(t, threshold=threshold) for t in ctx.policy.statistics.tables)
    ctx.policy = dataclasses.replace(
        ctx.policy, statistics=dataclasses.replace(ctx.policy.statistics, threshold=threshold, tables=tables)
    )


def test_the_referred_line_withholds_what_the_outcome_table_withholds(ctx, clock):
    """Referred 3, closed 4, still open 1 (threshold 3): the table hides "still open" and, to protect it,
    "referred"; a summary line printing 3 would give the 1 back (8 - 3 - 4)."""
    with_threshold(ctx, 3)
    eco = officer(ctx, "eco-1")
    for _ in range(3):
        _, case_id = complaint(ctx)
        walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment"])
        casework.determine(ctx, eco, case_id, True, "evidence")
        referral.refer(ctx, eco, case_id, "OIG", "at risk: no time to wait", "memo")
    for _ in range(4):
        conclude(ctx, eco, complaint(ctx)[1])
    complaint(ctx)
    _, publication = figures(ctx, eco)
    outcomes = {r.key: r.shown for r in next(t for t in publication.tables if t.spec.rows == "outcome").rows}
    assert (outcomes["referred"], outcomes["closed_after_assessment"], outcomes["open"]) == ("suppressed", "4", "suppressed")
    assert line(publication, "referred") == "suppressed"  # was 3
    assert_no_small_difference(publication, 3)


def test_a_part_of_the_complaints_received_is_withheld_when_the_rest_is_small(ctx, clock):
    """4 complaints, 3 with measures (threshold 3): "3 of 4" would tell that one complaint had none."""
    with_threshold(ctx, 3)
    eco = officer(ctx, "eco-1")
    for n in range(4):
        _, case_id = complaint(ctx)
        if n:
            protection.recommend(ctx, eco, case_id, "flexible_working", "Chief of Mission")
    internal, publication = figures(ctx, eco)
    assert (line(internal, "received"), line(internal, "with_measures_recommended")) == ("4", "3")
    assert line(publication, "received") == "4"
    assert line(publication, "with_measures_recommended") == "suppressed"  # was 3
    assert_no_small_difference(publication, 3)


def test_a_share_with_one_small_side_is_withheld_in_the_draft(ctx, clock):
    eco = officer(ctx, "eco-1")
    cases = [complaint(ctx)[1] for _ in range(6)]
    clock.advance(2)
    for case_id in cases[:5]:
        casework.reply(ctx, eco, case_id, "We have your complaint.")
    clock.advance(1)
    internal, publication = figures(ctx, eco)
    assert line(internal, "first_response_within_48_hours") == "83%"
    assert line(publication, "first_response_within_48_hours") == "suppressed"  # the one late answer would show
    assert_no_small_difference(publication, 5)


@pytest.mark.parametrize(("part", "whole", "shown"), [(199, 200, "99%"), (1, 200, "1%"), (200, 200, "100%"), (0, 7, "0%")])
def test_no_share_rounds_to_all_or_none_when_it_is_not(part, whole, shown):
    assert statistics._share(part, whole, None) == shown


def test_the_report_says_the_day_its_figures_were_computed(ctx, clock, tmp_path):
    eco = officer(ctx, "eco-1")
    complaint(ctx)
    clock.advance(40)
    internal, publication = figures(ctx, eco)
    assert internal.computed_on == publication.computed_on == dt.date(2026, 4, 11)
    write_both(internal, publication, tmp_path, "en")
    assert "Figures as of 2026-04-11" in (tmp_path / "publication" / "report.html").read_text()
    assert publication.counts is None  # the exact counts stay with the internal report


# The rule the shares use is the deadlines' own.

DAY = dt.timedelta(days=1)
MAPPED = {"met": True, "met_late": False, "overdue": False, "missed": False, "open": None, "due": None, "moot": None}


@pytest.mark.parametrize("name", ["first_response", "preliminary_assessment"])
def test_kept_in_time_judges_as_the_deadlines_do(ctx, name):
    opened = dt.date(2026, 3, 2)
    days = 40
    for done, closed, today in itertools.product(
        [None, *(opened + n * DAY for n in range(0, days, 3))],
        [None, *(opened + n * DAY for n in range(0, days, 3))],
        [opened + n * DAY for n in range(0, days, 2)],
    ):
        if (done and done > today) or (closed and (closed > today or (done and done > closed))):
            continue
        facts = HandlingFacts(
            Office.ECO,
            opened,
            closed is not None,
            closed_on=closed,
            first_response_on=done if name == "first_response" else None,
            assessment_concluded_on=done if name == "preliminary_assessment" else None,
        )
        (deadline,) = [d for d in deadlines(ctx.policy, facts, today) if d.name == name]
        assert statistics.kept_in_time(deadline.due_on, done, closed, today) == MAPPED[deadline.state], (done, closed, today)


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [(6, 12, "6"), (2, 10, "<5"), (8, 10, "suppressed"), (10, 10, "10"), (0, 3, "0"), (0, 0, "0")],
)
def test_a_part_of_a_published_whole(part, whole, shown):
    """8 of 10 would say that 2 are not: withheld. 0 of a withheld whole ("<5") says nothing more."""
    assert statistics._part(part, whole, 5) == shown


def test_a_region_withheld_cannot_be_worked_out_from_the_workplace_table(ctx, clock):
    """hq 6, mena 7, wca 1 of 14: the region table hides wca and, to protect it, hq; a published
    "headquarters: 6" would give wca back (14 - 7 - 6)."""
    eco = officer(ctx, "eco-1")
    for region, n in (("hq", 6), ("mena", 7), ("wca", 1)):
        for _ in range(n):
            complaint(ctx, region)
    _, publication = figures(ctx, eco)
    shown = {t.spec.rows: {r.key: r.shown for r in t.rows if r.count} for t in publication.tables}
    assert shown["region"] == {"hq": "suppressed", "mena": "7", "wca": "suppressed"}
    assert shown["workplace"] == {"headquarters": "suppressed", "field": "suppressed"}  # was 6 and 8
    reasons = {(t.spec.rows, r.key): reason for t, r, reason in publication.withheld()}
    assert reasons[("workplace", "headquarters")] == "linked"


def test_a_misconduct_report_about_oigs_head_held_by_eco_is_no_complaint_of_retaliation(ctx):
    eco = officer(ctx, "eco-1")
    year = ctx.today().year
    before = statistics.eco_annual_report(ctx, eco, year)[0]
    report = validate_report(ctx.policy, ["misconduct"], "The head of OIG took bribes.", {"office_concerned": "head"})
    assert reporting.file_report(ctx, report).cases[0].office == "ECO"
    after = statistics.eco_annual_report(ctx, eco, year)[0]
    assert after.counts == before.counts
