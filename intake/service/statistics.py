"""The figures of ECO's annual report, computed by an unlocked ECO officer.

The server keeps no per-case category, act or region in the clear, so these figures
can only be computed with the office key: the officer's session opens each case's
sealed answers and recorded measures, counts, and keeps nothing. What is published
goes through policies.disclosure: small counts become "<5", and anything that would
give one back is hidden too.
"""

import datetime as dt
import json
import statistics
from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, col, select

from crypto import open_record, unwrap_case_key
from policies import Office
from policies.disclosure import Cell, publish_total, small, suppress
from policies.model import ADVICE

from ..store import Case, CaseAction, CaseKeyWrap, Handling, ProtectiveMeasure, office_holder, transaction
from . import audit
from .context import Context
from .errors import Conflict
from .officers import OfficerSession

NOT_GIVEN = "not_given"


@dataclass(frozen=True)
class Table:
    title: str
    cells: list[Cell]
    labels: dict[str, str]
    partition: bool  # the cells add up to the year's complaints (or advice requests)
    counts: str = "Complaints"  # what each cell counts


@dataclass(frozen=True)
class AnnualFigures:
    year: int
    threshold: int
    received: str
    referred: str
    with_measures: str
    assessment_days_mean: str
    assessment_days_median: str
    concluded_within_30_days: str
    first_response_within_48_hours: str
    tables: list[Table]
    # Advice requests (seed 004 publishes their number and the share answered within 24 and 48 hours).
    # Only days are stored, never times: "by the next day" and "within two days" are what can be told.
    advice_received: str = "0"
    advice_answered_by_next_day: str = "no cases"
    advice_answered_within_two_days: str = "no cases"


def _share(part: int, whole: int, threshold: int) -> str:
    """A percentage, unless it (with `whole`) would give back a small count."""
    if whole == 0:
        return "no cases"
    if small(whole, threshold) or small(part, threshold) or small(whole - part, threshold):
        return "suppressed"
    return f"{100 * part / whole:.0f}%"


def _days(values: list[int], threshold: int, how) -> str:
    if not values:
        return "no cases"
    return "suppressed" if len(values) < threshold else f"{how(values):.1f}"


def _days_to_answer(handling: Handling) -> int | None:
    """Days from receipt to the first answer an officer wrote; None if none was written (it counts as late)."""
    return (handling.first_response_on - handling.opened_on).days if handling.first_response_on else None


def _old_actions(db: Session, case_id: str, key: bytes) -> set[str]:
    """Measures recorded before revision 0005 that no ECO officer has opened since (casework moves them on opening)."""
    return {
        json.loads(open_record(key, a.body, case_id, "action", a.id))["item"]
        for a in db.exec(select(CaseAction).where(CaseAction.case_id == case_id)).all()
    }


def eco_annual_figures(ctx: Context, officer: OfficerSession, year: int) -> AnnualFigures:
    """The year's ECO figures; audit-logged. Needs an unlocked ECO officer."""
    if officer.office != Office.ECO:
        raise Conflict("The ECO annual report is computed by an ECO officer.")
    policy, threshold = ctx.policy, ctx.policy.small_cell_threshold
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    acts: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    measures: Counter[str] = Counter()
    received = with_measures = responded = responded_in_time = 0
    assessment_days: list[int] = []
    advice: list[tuple[str, int | None]] = []  # (topic, days to the first answer)
    with Session(ctx.engine) as db:
        rows = db.exec(
            select(Handling, Case)
            .join(Case, col(Case.id) == Handling.case_id)
            .where(Handling.office == Office.ECO, Handling.opened_on >= start, Handling.opened_on <= end)
        ).all()
        for handling, case in rows:
            wrap = db.get(CaseKeyWrap, (case.id, office_holder(Office.ECO)))
            if wrap is None:  # not ECO's to read (a case ECO does not hold the key of)
                continue
            key = unwrap_case_key(officer.office_key, wrap.wrap, case.id)
            answers = json.loads(open_record(key, case.answers, case.id, "answers", case.id))
            if handling.kind == ADVICE:
                advice.append((answers.get("advice_topic") or NOT_GIVEN, _days_to_answer(handling)))
                continue
            received += 1
            for act in answers.get("adverse_actions") or ["other"]:
                acts[act] += 1
            regions[answers.get("region") or NOT_GIVEN] += 1
            outcomes[handling.status if policy.lifecycles[Office.ECO].is_closed(handling.status) else "open"] += 1
            recorded = {
                json.loads(open_record(key, m.body, case.id, "measure", m.id))["item"]
                for m in db.exec(select(ProtectiveMeasure).where(ProtectiveMeasure.case_id == case.id)).all()
            } | _old_actions(db, case.id, key)
            case_measures = recorded & policy.ids("protective_measures")
            with_measures += bool(case_measures)
            measures.update(case_measures)
            if handling.assessment_concluded_on:
                assessment_days.append((handling.assessment_concluded_on - handling.opened_on).days)
            # Every complaint counts: one nobody answered was not answered within 48 hours.
            # first_response_on is set only by a message an officer wrote (casework._responded).
            responded += 1
            if handling.first_response_on:
                responded_in_time += (
                    handling.first_response_on - handling.opened_on
                ).days * 24 <= policy.deadlines.first_response_hours
    within_30 = sum(d <= policy.deadlines.preliminary_assessment_days for d in assessment_days)
    eco = policy.lifecycles[Office.ECO]
    outcome_counts = {state: outcomes[state] for state in eco.states if eco.is_closed(state)} | {"open": outcomes["open"]}
    outcome_cells = suppress(outcome_counts, threshold, received)
    tables = [
        Table(
            "Complaints by kind of retaliatory act",
            suppress({a.id: acts[a.id] for a in policy.adverse_actions}, threshold),
            {a.id: a.label for a in policy.adverse_actions},
            partition=False,
        ),
        Table(
            "Complaints by region",
            suppress({r.id: regions[r.id] for r in policy.regions} | {NOT_GIVEN: regions[NOT_GIVEN]}, threshold, received),
            {r.id: r.label for r in policy.regions} | {NOT_GIVEN: "Not given"},
            partition=True,
        ),
        Table(
            "Complaints by outcome",
            outcome_cells,
            {s: eco.states[s].label for s in eco.states} | {"open": "Still open"},
            partition=True,
        ),
        Table(
            "Protective measures recommended",
            suppress({m.id: measures[m.id] for m in policy.protective_measures}, threshold),
            {m.id: m.label for m in policy.protective_measures},
            partition=False,
        ),
    ]
    topics = Counter(topic for topic, _ in advice)
    tables.append(
        Table(
            "Advice requests by topic",
            suppress({t.id: topics[t.id] for t in policy.advice_topics} | {NOT_GIVEN: topics[NOT_GIVEN]}, threshold, len(advice)),
            {t.id: t.label for t in policy.advice_topics} | {NOT_GIVEN: "Not given"},
            partition=True,
            counts="Advice requests",
        )
    )
    answered = [days for _, days in advice]
    referred_cell = next(c for c in outcome_cells if c.key == eco.referral_state)
    figures = AnnualFigures(
        year=year,
        threshold=threshold,
        received=publish_total(received, threshold),
        referred=referred_cell.shown,
        with_measures=publish_total(with_measures, threshold),
        assessment_days_mean=_days(assessment_days, threshold, statistics.mean),
        assessment_days_median=_days(assessment_days, threshold, statistics.median),
        concluded_within_30_days=_share(within_30, len(assessment_days), threshold),
        first_response_within_48_hours=_share(responded_in_time, responded, threshold),
        tables=tables,
        advice_received=publish_total(len(advice), threshold),
        advice_answered_by_next_day=_share(sum(d is not None and d <= 1 for d in answered), len(advice), threshold),
        advice_answered_within_two_days=_share(sum(d is not None and d <= 2 for d in answered), len(advice), threshold),
    )
    with transaction(ctx.engine) as db:
        audit.record(ctx, db, "annual report computed", officer.officer_id, None, year=str(year))
    return figures
