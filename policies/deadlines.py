"""The procedure's deadlines for one office's handling of a case, computed from the policy.

Dates only: reporter-originated events are kept at day precision, so a 48-hour target
is checked as "within 2 calendar days of receipt".
"""

import calendar
import datetime as dt
from dataclasses import dataclass

from .model import Policy
from .text import N_
from .vocabulary import Office

LABELS = {
    "acknowledgement": N_("Acknowledge the report"),
    "first_response": N_("First response to the reporter"),
    "preliminary_assessment": N_("Conclude the preliminary assessment"),
    "feedback": N_("Give the reporter feedback"),
}


@dataclass(frozen=True)
class HandlingFacts:
    """What the deadlines depend on; all dates at day precision."""

    office: Office
    opened_on: dt.date
    closed: bool
    acknowledged_on: dt.date | None = None
    first_response_on: dt.date | None = None
    assessment_concluded_on: dt.date | None = None
    last_feedback_on: dt.date | None = None


@dataclass(frozen=True)
class Deadline:
    name: str
    label: str
    due_on: dt.date
    met_on: dt.date | None
    state: str  # met, met_late, open, due, overdue, moot

    @property
    def pending(self) -> bool:
        return self.state in ("open", "due", "overdue")


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day where it has no such day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _deadline(policy: Policy, name: str, due_on: dt.date, met_on: dt.date | None, closed: bool, today: dt.date) -> Deadline:
    if met_on is not None:
        state = "met" if met_on <= due_on else "met_late"
    elif closed:
        state = "moot"
    elif today > due_on:
        state = "overdue"
    elif today >= due_on - dt.timedelta(days=policy.deadlines.due_soon_days):
        state = "due"
    else:
        state = "open"
    return Deadline(name, LABELS[name], due_on, met_on, state)


def deadlines(policy: Policy, facts: HandlingFacts, today: dt.date) -> list[Deadline]:
    """Every deadline the office keeps on this handling, met or not, in the order they fall due."""
    d = policy.deadlines
    kept = policy.lifecycles[facts.office].deadlines
    out = []
    if "acknowledgement" in kept:
        out.append(
            _deadline(
                policy,
                "acknowledgement",
                facts.opened_on + dt.timedelta(days=d.acknowledgement_days),
                facts.acknowledged_on,
                facts.closed,
                today,
            )
        )
    if "first_response" in kept:
        out.append(
            _deadline(
                policy,
                "first_response",
                facts.opened_on + dt.timedelta(days=-(-d.first_response_hours // 24)),
                facts.first_response_on,
                facts.closed,
                today,
            )
        )
    if "preliminary_assessment" in kept:
        out.append(
            _deadline(
                policy,
                "preliminary_assessment",
                facts.opened_on + dt.timedelta(days=d.preliminary_assessment_days),
                facts.assessment_concluded_on,
                facts.closed and facts.assessment_concluded_on is None,
                today,
            )
        )
    if "feedback" in kept and not facts.closed:
        out.append(
            _deadline(
                policy, "feedback", add_months(facts.last_feedback_on or facts.opened_on, d.feedback_months), None, False, today
            )
        )
    return sorted(out, key=lambda deadline: deadline.due_on)


def urgency(items: list[Deadline]) -> tuple[int, dt.date]:
    """Sort key for an inbox: overdue first, then due soon, then by the next due date."""
    pending = [item for item in items if item.pending]
    rank = 0 if any(i.state == "overdue" for i in pending) else 1 if any(i.state == "due" for i in pending) else 2
    return rank, min((i.due_on for i in pending), default=dt.date.max)
