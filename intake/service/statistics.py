"""The figures of ECO's annual report, computed by an unlocked ECO officer.

The server keeps no per-case category, act or region in the clear, so these figures
can only be computed with the office key: the officer's session opens each case's
sealed answers and recorded measures, counts, and keeps nothing. One run gives the
year and the year before it, exact (the internal report, for ECO only), and the
publication draft, where each table of policy.toml's [statistics] withholds its small
counts (policies.disclosure) and says which and why.

What each figure counts
-----------------------
Every figure is what is known on `today`, the day the figures are computed (the report
prints it): a case still open counts where it stands that day.

*Reports* of a year are ECO's handlings of reports (not advice requests, nor a report about
OIG's head, which ECO holds on OIG's intake procedure: [about_the_head.OIG]) opened in that
year (`opened_on`; a case OIG transferred to ECO opens ECO's handling on the transfer, and a
handling received again counts in the year of its latest opening). Two kinds:

- *not retaliation*: the handling is in a state ECO reaches by a referral without a prima
  facie determination (`not_retaliation_states`: `transferred_to_oig`, a report ECO found
  to be about other misconduct and passed to OIG). Counted apart, in no complaint figure.
- *complaints of retaliation*: every other report, withdrawn and restricted ones included.

Summary lines (key: definition):

- received: complaints of retaliation.
- transferred_in: complaints whose case was filed with OIG (OIG passed it to ECO).
- not_retaliation: reports found not to be retaliation.
- referred: complaints in the outcome group holding ECO's referral state (`referred_to_oig`).
- with_measures_recommended / with_measures_implemented: complaints with at least one
  protective measure recorded / implemented or lifted (onward referrals are not measures).
- assessment_days_mean / _median: over reports (both kinds) whose preliminary assessment is
  concluded: days from opening (or, for an assessment reopened, from `assessment_started_on`) to
  `assessment_concluded_on`. Unconcluded ones are not in
  these two; concluded_within_30_days counts them.
- concluded_within_30_days: share of reports, by `kept_in_time` with due = opened (or the
  reopened assessment's start) + the policy's preliminary_assessment_days (30), done = assessment_concluded_on. The figure says
  30 days, so an extension for exceptional circumstances (IN/282) does not move the due day:
- concluded_late_with_extension: reports counted as not within 30 days whose preliminary
  assessment was extended (the justified share of the late ones, shown beside them).
- first_response_within_48_hours: share of reports, by `kept_in_time` with due = opened +
  first_response_hours in whole days (48 hours: 2 days; only days are stored), done =
  first_response_on (the first message an officer wrote).
- advice_received: advice requests opened in the year.
- advice_answered_by_next_day / advice_answered_within_two_days: share of advice requests,
  by `kept_in_time` with due = opened + 1 / + 2 days, done = first_response_on.

Timeliness covers both kinds of report: ECO's clock ran for each, and leaving out a report it
took long to find was not retaliation would flatter the figure.

The tables (policy.toml [[statistics.tables]]) count complaints of retaliation, the advice
table advice requests: by region (not given and "prefer not to say" together), workplace,
kind of act (several per complaint; none chosen counts as "other"), outcome (the closed
state's group, or "still open"; the group of the not-retaliation state is no row), measure
and onward referral (several per complaint). A restricted case the computing officer cannot
open counts in a "restricted" row of the tables that need its sealed answers.

In the publication draft, counts of 1 to threshold-1 are withheld, and in a table whose rows add
up to a published total, enough others beside them that no published cell, total or difference
narrows a withheld one below "1 to threshold-1" (policies.disclosure); a summary count that is
part of the complaints received is withheld also when the rest is such a count (`_part`); the
referred line shows the outcome table's own cell; the workplace table, which groups the region
table's rows, is withheld as the region table lets it be (`_linked_column`); a share is withheld
when it, its complement or its whole is such a count; days when fewer than threshold cases.
tests/service/test_disclosure_joint.py checks this as a reader who knows every rule would.
"""

import datetime as dt
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field, replace

from sqlmodel import Session, col, select

from crypto import open_record, unwrap_case_key
from policies import Office, Policy
from policies.disclosure import SMALL, SMALL_TOTAL, SUPPRESSED, publish_total, small, suppress
from policies.model import ABOUT_HEAD, ADVICE, Choice, Lifecycle, ReportTable
from policies.text import N_

from ..store import Case, CaseAction, CaseKeyWrap, Handling, ProtectiveMeasure, office_holder, snapshot, transaction
from . import audit
from .casefiles import holder_key
from .context import Context
from .errors import Conflict
from .officers import OfficerSession

NOT_GIVEN = "not_given"
DECLINED = "prefer_not_to_say"  # the region answer counted with the unanswered ones, as "Not given"
OPEN = "open"
RESTRICTED = "restricted"  # a restricted case not wrapped to the officer who computes the figures
HEADQUARTERS, FIELD = "headquarters", "field"
IMPLEMENTED = {"implemented", "lifted"}  # a lifted measure was in place until it was lifted
NO_CASES, WITHHELD = "no cases", SUPPRESSED
LINKED = "linked"  # a workplace count withheld because it holds a region count the region table withholds


def kept_in_time(due_on: dt.date, done_on: dt.date | None, closed_on: dt.date | None, today: dt.date) -> bool | None:
    """Whether a time limit was kept, by the rule of policies.deadlines: True if done by `due_on`
    ("met"); False if done after it ("met_late"), or not done and the handling still open after it
    ("overdue") or closed after it ("missed"); None, counted neither way, if not done and the time
    has not run out ("open", "due") or the handling closed in time ("moot": withdrawn, say).
    `closed_on`: the day the handling closed, None while it is open."""
    if done_on is not None:
        return done_on <= due_on
    ended = closed_on if closed_on is not None else today
    return False if ended > due_on else None


def not_retaliation_states(policy: Policy) -> frozenset[str]:
    """ECO's states for a report found not to be retaliation: those reached by a referral that needs
    no prima facie determination (a misrouted report passed to OIG), unlike the referral on evidence."""
    eco = policy.lifecycles[Office.ECO]
    return frozenset(s.id for s in eco.states.values() if s.via == "referral" and not s.requires_determination)


def closed_on(lifecycle: Lifecycle, handling: Handling, today: dt.date) -> dt.date | None:
    """The day the handling closed, None while it is open (a closed one without its day: today)."""
    return (handling.closed_on or today) if lifecycle.is_closed(handling.status) else None


@dataclass
class Tally:
    """How many kept a time limit and how many did not; those `kept_in_time` does not judge are left out."""

    kept: int = 0
    late: int = 0

    def add(self, result: bool | None) -> None:
        if result is True:
            self.kept += 1
        elif result is False:
            self.late += 1

    @property
    def counted(self) -> int:
        return self.kept + self.late


@dataclass
class YearCounts:
    """One year's exact counts: what the internal report shows (definitions: the module's docstring)."""

    year: int
    received: int = 0  # complaints of retaliation
    transferred_in: int = 0  # complaints OIG passed to ECO
    not_retaliation: int = 0  # reports ECO found not to be retaliation and passed to OIG
    rows: dict[str, Counter[str]] = field(default_factory=dict)  # by REPORT_ROWS kind
    with_measures_recommended: int = 0
    with_measures_implemented: int = 0
    assessment_days: list[int] = field(default_factory=list)  # reports with a concluded assessment
    assessed: Tally = field(default_factory=Tally)  # concluded within 30 days
    late_with_extension: int = 0  # of assessed.late: extended for exceptional circumstances
    answered: Tally = field(default_factory=Tally)  # first answer within 48 hours
    advice_received: int = 0
    advice_next_day: Tally = field(default_factory=Tally)
    advice_two_days: Tally = field(default_factory=Tally)

    def by(self, kind: str) -> Counter[str]:
        return self.rows.setdefault(kind, Counter())


@dataclass(frozen=True)
class Row:
    key: str
    label: str  # the policy's English label; translated where it is shown
    count: int
    previous: int
    shown: str = ""  # the publication draft's value ("" in the internal report)
    previous_shown: str = ""
    reason: str | None = None  # why the draft withholds this year's count
    previous_reason: str | None = None


@dataclass(frozen=True)
class ReportTableFigures:
    spec: ReportTable
    counts: str  # "complaints" or "advice requests": what each row counts
    partition: bool  # the rows add up to `total` (else a complaint can count in several rows)
    total: int
    previous_total: int
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Figure:
    """A summary line: a count, a share (percent) or a number of days, this year and the year before."""

    key: str
    label: str
    value: str
    previous: str


@dataclass(frozen=True)
class AnnualReport:
    year: int
    publication: bool  # False: exact counts, for ECO only; True: the draft to publish
    threshold: int  # the default threshold (each table's own is on its spec)
    summary: tuple[Figure, ...]
    tables: tuple[ReportTableFigures, ...]
    computed_on: dt.date  # the day the figures were computed: what they say is what was known then
    counts: tuple[YearCounts, YearCounts] | None = None  # the exact counts (this year, the year before); internal only

    def withheld(self) -> list[tuple[ReportTableFigures, Row, str]]:
        """What the draft withholds, and why: (table, row, reason), this year's figures."""
        return [(t, r, r.reason) for t in self.tables for r in t.rows if r.reason]


def _count_year(ctx: Context, officer: OfficerSession, db: Session, year: int, today: dt.date) -> YearCounts:
    policy = ctx.policy
    counts = YearCounts(year)
    not_retaliation = not_retaliation_states(policy)
    rows = db.exec(
        select(Handling, Case)
        .join(Case, col(Case.id) == Handling.case_id)
        .where(
            Handling.office == Office.ECO, Handling.opened_on >= dt.date(year, 1, 1), Handling.opened_on <= dt.date(year, 12, 31)
        )
    ).all()
    for handling, case in rows:
        if handling.kind == ABOUT_HEAD:  # misconduct about OIG's head, on OIG's intake at ECO: no complaint of ECO's
            continue
        wrap = db.get(CaseKeyWrap, (case.id, office_holder(Office.ECO)))
        if wrap is None:  # not ECO's to read
            continue
        holder = holder_key(db, officer, handling)
        # A restricted case this officer cannot open still counts, by what the handling says in clear.
        key = unwrap_case_key(holder, wrap.wrap, case.id) if holder else None
        answers = json.loads(open_record(key, case.answers, case.id, "answers", case.id)) if key else {}
        if handling.kind == ADVICE:
            _count_advice(policy, counts, handling, answers.get("advice_topic") or (NOT_GIVEN if key else RESTRICTED), today)
        else:
            _count_timeliness(policy, counts, handling, today)
            if handling.status in not_retaliation:
                counts.not_retaliation += 1
            else:
                _count_complaint(db, policy, counts, handling, case, key, answers)
    return counts


def _count_advice(policy: Policy, counts: YearCounts, handling: Handling, topic: str, today: dt.date) -> None:
    counts.advice_received += 1
    counts.by("advice_topic")[topic] += 1
    ended = closed_on(policy.advice, handling, today)
    day = dt.timedelta(days=1)
    counts.advice_next_day.add(kept_in_time(handling.opened_on + day, handling.first_response_on, ended, today))
    counts.advice_two_days.add(kept_in_time(handling.opened_on + 2 * day, handling.first_response_on, ended, today))


def _count_timeliness(policy: Policy, counts: YearCounts, handling: Handling, today: dt.date) -> None:
    """The first answer and the preliminary assessment of a report, against the days the figures' labels
    say (extensions move neither: they are counted beside the late ones)."""
    deadlines = policy.deadlines
    ended = closed_on(policy.lifecycles[Office.ECO], handling, today)
    answer_due = handling.opened_on + dt.timedelta(days=-(-deadlines.first_response_hours // 24))
    counts.answered.add(kept_in_time(answer_due, handling.first_response_on, ended, today))
    # A reopened assessment counts from the day it started again (casework._assess_again), with 30 days of its own.
    started = handling.assessment_started_on or handling.opened_on
    assessment_due = started + dt.timedelta(days=deadlines.preliminary_assessment_days)
    assessed = kept_in_time(assessment_due, handling.assessment_concluded_on, ended, today)
    counts.assessed.add(assessed)
    extended = json.loads(handling.extensions or "{}").get("preliminary_assessment", 0) > 0
    counts.late_with_extension += assessed is False and extended
    if handling.assessment_concluded_on:
        counts.assessment_days.append((handling.assessment_concluded_on - started).days)


def _count_complaint(
    db: Session, policy: Policy, counts: YearCounts, handling: Handling, case: Case, key: bytes | None, answers: dict
) -> None:
    eco = policy.lifecycles[Office.ECO]
    group_of = {state: g.id for g in policy.statistics.outcomes for state in g.states}
    counts.received += 1
    counts.transferred_in += case.office != Office.ECO
    for act in answers.get("adverse_actions") or (["other"] if key else [RESTRICTED]):
        counts.by("adverse_action")[act] += 1
    region = answers.get("region") or (NOT_GIVEN if key else RESTRICTED)
    region = NOT_GIVEN if region == DECLINED else region
    counts.by("region")[region] += 1
    counts.by("workplace")[_workplace_of(policy, region)] += 1
    counts.by("outcome")[group_of.get(handling.status, OPEN) if eco.is_closed(handling.status) else OPEN] += 1
    recommended, implemented = _measures(db, case.id, key) if key else (set(), set())
    measures = policy.ids("protective_measures")
    counts.by("measure_recommended").update(recommended & measures)
    counts.by("measure_implemented").update(implemented & measures)
    counts.by("onward_referral").update(recommended & policy.ids("onward_referrals"))
    counts.with_measures_recommended += bool(recommended & measures)
    counts.with_measures_implemented += bool(implemented & measures)


def _measures(db: Session, case_id: str, key: bytes) -> tuple[set[str], set[str]]:
    """The items recommended for a case (measures and onward referrals), and those implemented."""
    recommended, implemented = set(), set()
    for m in db.exec(select(ProtectiveMeasure).where(ProtectiveMeasure.case_id == case_id)).all():
        item = json.loads(open_record(key, m.body, case_id, "measure", m.id))["item"]
        recommended.add(item)
        if m.status in IMPLEMENTED:
            implemented.add(item)
    # Recorded before revision 0005 and not opened since (casework moves them on opening): recommended.
    for a in db.exec(select(CaseAction).where(CaseAction.case_id == case_id)).all():
        recommended.add(json.loads(open_record(key, a.body, case_id, "action", a.id))["item"])
    return recommended, implemented


def _names(items: tuple[Choice, ...]) -> dict[str, str]:
    """Row labels: each choice's `short`, written for a reader of the report (the label is the reporter's)."""
    return {item.id: item.short or item.label for item in items}


def _row_labels(policy: Policy, rows: str) -> dict[str, str]:
    not_given = {NOT_GIVEN: N_("Not given")}
    not_retaliation = not_retaliation_states(policy)
    return {
        "region": {k: v for k, v in _names(policy.regions).items() if k != DECLINED} | not_given,
        "workplace": {HEADQUARTERS: N_("Headquarters"), FIELD: N_("Missions and regional offices")} | not_given,
        "adverse_action": _names(policy.adverse_actions),
        "outcome": {g.id: g.label for g in policy.statistics.outcomes if not set(g.states) <= not_retaliation}
        | {OPEN: N_("Still open")},
        "measure_recommended": _names(policy.protective_measures),
        "measure_implemented": _names(policy.protective_measures),
        "onward_referral": _names(policy.onward_referrals),
        "advice_topic": _names(policy.advice_topics) | not_given,
    }[rows]


PARTITIONS = {"region", "workplace", "outcome", "advice_topic"}  # each complaint (or request) in exactly one row


def _table(
    spec: ReportTable, labels: dict[str, str], now: YearCounts, before: YearCounts, publication: bool
) -> ReportTableFigures:
    advice = spec.rows == "advice_topic"
    total, previous_total = (now.advice_received, before.advice_received) if advice else (now.received, before.received)
    if now.by(spec.rows)[RESTRICTED] or before.by(spec.rows)[RESTRICTED]:
        labels = labels | {RESTRICTED: N_("Restricted cases not shared with the officer who made this report")}
    this_year = {k: now.by(spec.rows)[k] for k in labels}
    last_year = {k: before.by(spec.rows)[k] for k in labels}
    partition = spec.rows in PARTITIONS
    if not publication:
        rows = tuple(Row(k, labels[k], this_year[k], last_year[k]) for k in labels)
    else:
        cells = suppress(this_year, spec.threshold, total if partition else None)
        previous_cells = suppress(last_year, spec.threshold, previous_total if partition else None)
        rows = tuple(
            Row(k, labels[k], this_year[k], last_year[k], c.shown, p.shown, c.reason, p.reason)
            for k, c, p in zip(labels, cells, previous_cells, strict=True)
        )
    return ReportTableFigures(spec, "advice requests" if advice else "complaints", partition, total, previous_total, rows)


def percent(part: int, whole: int) -> str:
    """`part` of `whole` in whole percent, never rounded to 100% while one is missing, nor to 0% while one is there."""
    share = round(100 * part / whole)
    if part < whole:
        share = min(share, 99)
    if part > 0:
        share = max(share, 1)
    return f"{share}%"


def _share(part: int, whole: int, threshold: int | None) -> str:
    """A percentage; in the draft, withheld if it (with `whole`) would give back a small count."""
    if whole == 0:
        return NO_CASES
    if threshold is not None and (small(whole, threshold) or small(part, threshold) or small(whole - part, threshold)):
        return WITHHELD
    return percent(part, whole)


def _part(part: int, whole: int, threshold: int | None) -> str:
    """A count that is part of a published whole: in the draft, withheld if it is small, or if what the
    whole holds besides it is and the whole is published (their difference would give that back)."""
    if threshold is None:
        return str(part)
    if small(part, threshold):
        return publish_total(part, threshold)
    return WITHHELD if small(whole - part, threshold) and not small(whole, threshold) else str(part)


def _days(values: list[int], threshold: int | None, how) -> str:
    if not values:
        return NO_CASES
    return WITHHELD if threshold is not None and len(values) < threshold else f"{how(values):.1f}"


def _summary(ctx: Context, year: YearCounts, threshold: int | None) -> dict[str, tuple[str, str]]:
    referred = next(g for g in ctx.policy.statistics.outcomes if ctx.policy.lifecycles[Office.ECO].referral_state in g.states)

    def count(value: int) -> str:
        return str(value) if threshold is None else publish_total(value, threshold)

    def share(tally: Tally) -> str:
        return _share(tally.kept, tally.counted, threshold)

    return {
        "received": (N_("Complaints of retaliation received"), count(year.received)),
        "transferred_in": (
            N_("Complaints transferred to ECO by OIG"),
            _part(year.transferred_in, year.received, threshold),
        ),
        "not_retaliation": (
            N_("Reports to ECO found not to be retaliation, transferred to OIG"),
            count(year.not_retaliation),
        ),
        # In the draft, replaced by the outcome table's own cell (_report): the two must withhold alike.
        "referred": (N_("Prima facie evidence found: referred to OIG"), count(year.by("outcome")[referred.id])),
        "with_measures_recommended": (
            N_("Complaints with temporary protective measures recommended"),
            _part(year.with_measures_recommended, year.received, threshold),
        ),
        "with_measures_implemented": (
            N_("Complaints with temporary protective measures implemented"),
            _part(year.with_measures_implemented, year.received, threshold),
        ),
        "assessment_days_mean": (
            N_("Days to conclude a preliminary assessment: average"),
            _days(year.assessment_days, threshold, statistics.mean),
        ),
        "assessment_days_median": (
            N_("Days to conclude a preliminary assessment: median"),
            _days(year.assessment_days, threshold, statistics.median),
        ),
        "concluded_within_30_days": (N_("Preliminary assessments concluded within 30 days"), share(year.assessed)),
        "concluded_late_with_extension": (
            N_("Preliminary assessments not concluded within 30 days, extended for exceptional circumstances"),
            count(year.late_with_extension),
        ),
        "first_response_within_48_hours": (N_("Complaints answered within 48 hours"), share(year.answered)),
        "advice_received": (N_("General enquiries and requests for advice"), count(year.advice_received)),
        # Only days are stored, never times: "by the next day" is what 24 hours can honestly be.
        "advice_answered_by_next_day": (N_("Enquiries answered by the next day"), share(year.advice_next_day)),
        "advice_answered_within_two_days": (N_("Enquiries answered within two days"), share(year.advice_two_days)),
    }


def _workplace_of(policy: Policy, region: str) -> str:
    """The workplace row a region row counts in: the region table's rows, grouped."""
    if region in policy.statistics.headquarters:
        return HEADQUARTERS
    return region if region in (RESTRICTED, NOT_GIVEN) else FIELD


def _linked_column(policy: Policy, regions: list[tuple[str, str]], workplace: list[tuple[str, int, str]]) -> list[str]:
    """One year's workplace column, as the region column (key, shown) lets it be published.

    The workplace table groups the region table's rows, so it is withheld with them, not on its own:
    a workplace count is withheld when it holds a withheld region count and the withheld regions lie in
    more than one workplace group (regions hq 7, eea 2, mena 8 of 17, hq and eea withheld: a published
    "headquarters: 7" gives eea back). When they all lie in one group, that group's count is its
    published regions plus their sum, which the region table's total already gives: it is published.
    A workplace cell withheld on its own rule could instead be given back by the region table."""
    hidden = {_workplace_of(policy, key): shown for key, shown in regions if not shown.isdigit()}
    if len(hidden) < 2:
        return [str(count) for _, count, _ in workplace]
    return [hidden.get(key, str(count)) for key, count, _ in workplace]


def _withhold_linked(policy: Policy, tables: tuple[ReportTableFigures, ...]) -> tuple[ReportTableFigures, ...]:
    """The workplace table withheld as the region table lets it be (_linked_column), each year."""
    regions = next((t for t in tables if t.spec.rows == "region"), None)
    if regions is None or all(r.shown.isdigit() and r.previous_shown.isdigit() for r in regions.rows):
        return tables

    def reason(shown: str, count: int, threshold: int) -> str | None:
        if shown.isdigit():
            return None
        return SMALL_TOTAL if shown.startswith("<") else SMALL if small(count, threshold) else LINKED

    def linked(table: ReportTableFigures) -> ReportTableFigures:
        t = table.spec.threshold
        now = _linked_column(policy, [(r.key, r.shown) for r in regions.rows], [(r.key, r.count, r.shown) for r in table.rows])
        before = _linked_column(
            policy, [(r.key, r.previous_shown) for r in regions.rows], [(r.key, r.previous, r.previous_shown) for r in table.rows]
        )
        rows = tuple(
            replace(r, shown=a, reason=reason(a, r.count, t), previous_shown=b, previous_reason=reason(b, r.previous, t))
            for r, a, b in zip(table.rows, now, before, strict=True)
        )
        return replace(table, rows=rows)

    return tuple(linked(t) if t.spec.rows == "workplace" else t for t in tables)


def _published_referred(policy: Policy, tables: tuple[ReportTableFigures, ...]) -> tuple[str, str] | None:
    """The draft's referred count as the outcome table shows it, if there is one: the table may withhold it
    to protect another cell, and the summary must not give it back."""
    referred = next(g.id for g in policy.statistics.outcomes if policy.lifecycles[Office.ECO].referral_state in g.states)
    for table in tables:
        for row in table.rows if table.spec.rows == "outcome" else ():
            if row.key == referred:
                return row.shown, row.previous_shown
    return None


def _report(ctx: Context, now: YearCounts, before: YearCounts, publication: bool, today: dt.date) -> AnnualReport:
    policy = ctx.policy
    threshold = policy.statistics.threshold if publication else None
    tables = tuple(_table(t, _row_labels(policy, t.rows), now, before, publication) for t in policy.statistics.tables)
    if publication:
        tables = _withhold_linked(policy, tables)
    this_year, last_year = _summary(ctx, now, threshold), _summary(ctx, before, threshold)
    summary = [Figure(k, label, value, last_year[k][1]) for k, (label, value) in this_year.items()]
    shown = _published_referred(policy, tables) if publication else None
    if shown:
        summary = [Figure(f.key, f.label, *shown) if f.key == "referred" else f for f in summary]
    exact = None if publication else (now, before)
    return AnnualReport(now.year, publication, policy.statistics.threshold, tuple(summary), tables, today, exact)


def eco_annual_report(ctx: Context, officer: OfficerSession, year: int) -> tuple[AnnualReport, AnnualReport]:
    """The internal report (exact counts) and the publication draft of `year`, each beside the
    year before, as known today; audit-logged. Needs an unlocked ECO officer."""
    if officer.office != Office.ECO:
        raise Conflict("The ECO annual report is computed by an ECO officer.")
    today = ctx.today()
    # Both years, and every table each count reads, as of one moment (store.snapshot): a report filed while
    # the figures are computed is in all of them or in none.
    with snapshot(ctx.engine) as connection, Session(connection) as db:
        now, before = _count_year(ctx, officer, db, year, today), _count_year(ctx, officer, db, year - 1, today)
    with transaction(ctx.engine) as db:
        audit.record(ctx, db, "annual report computed", officer.officer_id, None, year=str(year))
    return _report(ctx, now, before, False, today), _report(ctx, now, before, True, today)
