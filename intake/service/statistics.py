"""The figures of ECO's annual report, computed by an unlocked ECO officer.

The server keeps no per-case category, act or region in the clear, so these figures
can only be computed with the office key: the officer's session opens each case's
sealed answers and recorded measures, counts, and keeps nothing. One run gives the
year and the year before it, exact (the internal report, for ECO only), and the
publication draft, where each table of policy.toml's [statistics] withholds its small
counts (policies.disclosure) and says which and why.
"""

import datetime as dt
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from crypto import open_record, unwrap_case_key
from policies import Office, Policy
from policies.disclosure import publish_total, small, suppress
from policies.model import ADVICE, ReportTable
from policies.text import N_

from ..store import Case, CaseAction, CaseKeyWrap, Handling, ProtectiveMeasure, office_holder, reading, transaction
from . import audit
from .casefiles import holder_key
from .context import Context
from .errors import Conflict
from .officers import OfficerSession

NOT_GIVEN = "not_given"
OPEN = "open"
RESTRICTED = "restricted"  # a restricted case not wrapped to the officer who computes the figures
HEADQUARTERS, FIELD = "headquarters", "field"
IMPLEMENTED = {"implemented", "lifted"}  # a lifted measure was in place until it was lifted
NO_CASES, WITHHELD = "no cases", "suppressed"


@dataclass
class YearCounts:
    """One year's exact counts: what the internal report shows."""

    year: int
    received: int = 0
    transferred_in: int = 0  # complaints OIG passed to ECO
    rows: dict[str, Counter[str]] = field(default_factory=dict)  # by REPORT_ROWS kind
    with_measures_recommended: int = 0
    with_measures_implemented: int = 0
    assessment_days: list[int] = field(default_factory=list)
    responded_in_time: int = 0
    advice_days: list[int | None] = field(default_factory=list)  # days to the first answer, None if none

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

    def withheld(self) -> list[tuple[ReportTableFigures, Row, str]]:
        """What the draft withholds, and why: (table, row, reason), this year's figures."""
        return [(t, r, r.reason) for t in self.tables for r in t.rows if r.reason]


def _count_year(ctx: Context, officer: OfficerSession, db: Session, year: int) -> YearCounts:
    policy = ctx.policy
    eco = policy.lifecycles[Office.ECO]
    group_of = {state: g.id for g in policy.statistics.outcomes for state in g.states}
    counts = YearCounts(year)
    rows = db.exec(
        select(Handling, Case)
        .join(Case, col(Case.id) == Handling.case_id)
        .where(
            Handling.office == Office.ECO, Handling.opened_on >= dt.date(year, 1, 1), Handling.opened_on <= dt.date(year, 12, 31)
        )
    ).all()
    for handling, case in rows:
        wrap = db.get(CaseKeyWrap, (case.id, office_holder(Office.ECO)))
        if wrap is None:  # not ECO's to read
            continue
        holder = holder_key(db, officer, handling)
        # A restricted case this officer cannot open still counts, by what the handling says in clear.
        key = unwrap_case_key(holder, wrap.wrap, case.id) if holder else None
        answers = json.loads(open_record(key, case.answers, case.id, "answers", case.id)) if key else {}
        unread = RESTRICTED if key is None else NOT_GIVEN
        if handling.kind == ADVICE:
            counts.by("advice_topic")[answers.get("advice_topic") or unread] += 1
            answered = handling.first_response_on
            counts.advice_days.append((answered - handling.opened_on).days if answered else None)
            continue
        counts.received += 1
        counts.transferred_in += case.office != Office.ECO
        for act in answers.get("adverse_actions") or (["other"] if key else [RESTRICTED]):
            counts.by("adverse_action")[act] += 1
        region = answers.get("region") or unread
        counts.by("region")[region] += 1
        workplace = (
            HEADQUARTERS
            if region in policy.statistics.headquarters
            else region
            if region == RESTRICTED
            else NOT_GIVEN
            if region in (NOT_GIVEN, "prefer_not_to_say")
            else FIELD
        )
        counts.by("workplace")[workplace] += 1
        counts.by("outcome")[group_of.get(handling.status, OPEN) if eco.is_closed(handling.status) else OPEN] += 1
        recommended, implemented = _measures(db, case.id, key) if key else (set(), set())
        counts.by("measure_recommended").update(recommended & policy.ids("protective_measures"))
        counts.by("measure_implemented").update(implemented & policy.ids("protective_measures"))
        counts.by("onward_referral").update(recommended & policy.ids("onward_referrals"))
        counts.with_measures_recommended += bool(recommended & policy.ids("protective_measures"))
        counts.with_measures_implemented += bool(implemented & policy.ids("protective_measures"))
        if handling.assessment_concluded_on:
            counts.assessment_days.append((handling.assessment_concluded_on - handling.opened_on).days)
        # Every complaint counts: one nobody answered was not answered within 48 hours.
        # first_response_on is set only by a message an officer wrote (casework._responded).
        if handling.first_response_on:
            hours = (handling.first_response_on - handling.opened_on).days * 24
            counts.responded_in_time += hours <= policy.deadlines.first_response_hours
    return counts


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


def _row_labels(policy: Policy, rows: str) -> dict[str, str]:
    not_given = {NOT_GIVEN: N_("Not given")}
    return {
        "region": {r.id: r.label for r in policy.regions} | not_given,
        "workplace": {HEADQUARTERS: N_("Headquarters"), FIELD: N_("Missions and regional offices")} | not_given,
        "adverse_action": {a.id: a.label for a in policy.adverse_actions},
        "outcome": {g.id: g.label for g in policy.statistics.outcomes} | {OPEN: N_("Still open")},
        "measure_recommended": {m.id: m.label for m in policy.protective_measures},
        "measure_implemented": {m.id: m.label for m in policy.protective_measures},
        "onward_referral": {m.id: m.label for m in policy.onward_referrals},
        "advice_topic": {t.id: t.label for t in policy.advice_topics} | not_given,
    }[rows]


PARTITIONS = {"region", "workplace", "outcome", "advice_topic"}  # each complaint (or request) in exactly one row


def _table(
    spec: ReportTable, labels: dict[str, str], now: YearCounts, before: YearCounts, publication: bool
) -> ReportTableFigures:
    advice = spec.rows == "advice_topic"
    total, previous_total = (len(now.advice_days), len(before.advice_days)) if advice else (now.received, before.received)
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


def _share(part: int, whole: int, threshold: int | None) -> str:
    """A percentage; in the draft, withheld if it (with `whole`) would give back a small count."""
    if whole == 0:
        return NO_CASES
    if threshold is not None and (small(whole, threshold) or small(part, threshold) or small(whole - part, threshold)):
        return WITHHELD
    return f"{100 * part / whole:.0f}%"


def _days(values: list[int], threshold: int | None, how) -> str:
    if not values:
        return NO_CASES
    return WITHHELD if threshold is not None and len(values) < threshold else f"{how(values):.1f}"


def _summary(ctx: Context, year: YearCounts, threshold: int | None) -> dict[str, tuple[str, str]]:
    deadlines = ctx.policy.deadlines
    referred = next(g for g in ctx.policy.statistics.outcomes if ctx.policy.lifecycles[Office.ECO].referral_state in g.states)

    def count(value: int) -> str:
        return str(value) if threshold is None else publish_total(value, threshold)

    within = sum(d <= deadlines.preliminary_assessment_days for d in year.assessment_days)
    advice = year.advice_days
    return {
        "received": (N_("Complaints of retaliation received"), count(year.received)),
        "transferred_in": (N_("Complaints transferred to ECO by OIG"), count(year.transferred_in)),
        "referred": (N_("Prima facie evidence found: referred to OIG"), count(year.by("outcome")[referred.id])),
        "with_measures_recommended": (
            N_("Complaints with temporary protective measures recommended"),
            count(year.with_measures_recommended),
        ),
        "with_measures_implemented": (
            N_("Complaints with temporary protective measures implemented"),
            count(year.with_measures_implemented),
        ),
        "assessment_days_mean": (
            N_("Days to conclude a preliminary assessment: average"),
            _days(year.assessment_days, threshold, statistics.mean),
        ),
        "assessment_days_median": (
            N_("Days to conclude a preliminary assessment: median"),
            _days(year.assessment_days, threshold, statistics.median),
        ),
        "concluded_within_30_days": (
            N_("Preliminary assessments concluded within 30 days"),
            _share(within, len(year.assessment_days), threshold),
        ),
        "first_response_within_48_hours": (
            N_("Complaints answered within 48 hours"),
            _share(year.responded_in_time, year.received, threshold),
        ),
        "advice_received": (N_("General enquiries and requests for advice"), count(len(advice))),
        # Only days are stored, never times: "by the next day" is what 24 hours can honestly be.
        "advice_answered_by_next_day": (
            N_("Enquiries answered by the next day"),
            _share(sum(d is not None and d <= 1 for d in advice), len(advice), threshold),
        ),
        "advice_answered_within_two_days": (
            N_("Enquiries answered within two days"),
            _share(sum(d is not None and d <= 2 for d in advice), len(advice), threshold),
        ),
    }


def _report(ctx: Context, now: YearCounts, before: YearCounts, publication: bool) -> AnnualReport:
    policy = ctx.policy
    threshold = policy.statistics.threshold if publication else None
    this_year, last_year = _summary(ctx, now, threshold), _summary(ctx, before, threshold)
    summary = tuple(Figure(k, label, value, last_year[k][1]) for k, (label, value) in this_year.items())
    tables = tuple(_table(t, _row_labels(policy, t.rows), now, before, publication) for t in policy.statistics.tables)
    return AnnualReport(now.year, publication, policy.statistics.threshold, summary, tables)


def eco_annual_report(ctx: Context, officer: OfficerSession, year: int) -> tuple[AnnualReport, AnnualReport]:
    """The internal report (exact counts) and the publication draft of `year`, each beside the
    year before; audit-logged. Needs an unlocked ECO officer."""
    if officer.office != Office.ECO:
        raise Conflict("The ECO annual report is computed by an ECO officer.")
    with reading(ctx.engine) as db:
        now, before = _count_year(ctx, officer, db, year), _count_year(ctx, officer, db, year - 1)
    with transaction(ctx.engine) as db:
        audit.record(ctx, db, "annual report computed", officer.officer_id, None, year=str(year))
    return _report(ctx, now, before, publication=False), _report(ctx, now, before, publication=True)
