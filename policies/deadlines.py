"""The procedure's deadlines for one office's handling of a case, computed from the policy.

Dates only: reporter-originated events are kept at day precision, so a 48-hour target
is checked as "within 2 calendar days of receipt". Each deadline carries its source
(policy.toml, [deadlines.sources]) so an officer can see why it is there.

Only what an officer does for the complainant meets a deadline: the first response and
the feedback clock move on a message an officer writes, never on a status change or one
of the service's own notices (the service layer records those dates; this module only
reads them).
"""

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from .model import REPORT, Policy
from .text import N_
from .vocabulary import Office

LABELS = {
    "acknowledgement": N_("Acknowledge the report"),
    "first_response": N_("First response to the reporter"),
    "preliminary_assessment": N_("Conclude the preliminary assessment"),
    "feedback": N_("Give the reporter feedback"),
    "measure_review": N_("Review a protective measure"),
}
PENDING = ("open", "due", "overdue")


@dataclass(frozen=True)
class HandlingFacts:
    """What the deadlines depend on; all dates at day precision. `kind` picks the lifecycle whose
    deadlines apply (a report's, the office's own; an advice request's, [advice])."""

    office: Office
    opened_on: dt.date
    closed: bool
    closed_on: dt.date | None = None
    acknowledged_on: dt.date | None = None
    first_response_on: dt.date | None = None
    assessment_concluded_on: dt.date | None = None
    assessment_started_on: dt.date | None = None  # a reopened assessment's new start; None: opened_on
    last_feedback_on: dt.date | None = None
    extensions: Mapping[str, int] = field(default_factory=dict)
    reviews: tuple[dt.date, ...] = ()  # the review dates of the office's open protective measures
    kind: str = REPORT


@dataclass(frozen=True)
class Deadline:
    name: str
    label: str
    due_on: dt.date
    met_on: dt.date | None
    state: str  # met, met_late, open, due, overdue, missed (closed late without it), moot (closed in time without it)
    source: str = ""
    extended_days: int = 0

    @property
    def pending(self) -> bool:
        return self.state in PENDING


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day where it has no such day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _deadline(
    policy: Policy,
    name: str,
    due_on: dt.date,
    met_on: dt.date | None,
    ended_on: dt.date | None,
    today: dt.date,
    extended_days: int = 0,
) -> Deadline:
    """`ended_on`: the day the handling closed, if it did. A deadline closed over unmet is moot if the
    closure came in time, and missed if it came after the due date: closing hides no lateness."""
    if met_on is not None:
        state = "met" if met_on <= due_on else "met_late"
    elif ended_on is not None:
        state = "moot" if ended_on <= due_on else "missed"
    elif today > due_on:
        state = "overdue"
    elif today >= due_on - dt.timedelta(days=policy.deadlines.due_soon_days):
        state = "due"
    else:
        state = "open"
    return Deadline(name, LABELS[name], due_on, met_on, state, policy.deadlines.sources.get(name, ""), extended_days)


def deadlines(policy: Policy, facts: HandlingFacts, today: dt.date) -> list[Deadline]:
    """Every deadline the handling's lifecycle keeps, met or not, in the order they fall due: an
    advice request only its first answer ([advice] deadlines), never a complaint's clock."""
    d = policy.deadlines
    kept = policy.lifecycle(facts.office, facts.kind).deadlines
    extra = {name: facts.extensions.get(name, 0) for name in kept}
    ended = (facts.closed_on or today) if facts.closed else None
    out = []
    if "acknowledgement" in kept:
        due = facts.opened_on + dt.timedelta(days=d.acknowledgement_days + extra["acknowledgement"])
        out.append(_deadline(policy, "acknowledgement", due, facts.acknowledged_on, ended, today, extra["acknowledgement"]))
    if "first_response" in kept:
        due = facts.opened_on + dt.timedelta(days=-(-d.first_response_hours // 24) + extra["first_response"])
        out.append(_deadline(policy, "first_response", due, facts.first_response_on, ended, today, extra["first_response"]))
    if "preliminary_assessment" in kept:
        # IN/282: within 30 calendar days of receipt; a reopened assessment has 30 days of its own.
        days = d.preliminary_assessment_days + extra["preliminary_assessment"]
        due = (facts.assessment_started_on or facts.opened_on) + dt.timedelta(days=days)
        out.append(
            _deadline(
                policy,
                "preliminary_assessment",
                due,
                facts.assessment_concluded_on,
                ended,
                today,
                extra["preliminary_assessment"],
            )
        )
    if "feedback" in kept and not facts.closed:
        # Directive (EU) 2019/1937 Art. 9(1)(f): three months from the acknowledgement, or from the
        # end of the seven days after the report when none was sent; then from the last feedback.
        start = facts.last_feedback_on or facts.acknowledged_on or facts.opened_on + dt.timedelta(days=d.acknowledgement_days)
        due = add_months(start, d.feedback_months) + dt.timedelta(days=extra["feedback"])
        out.append(_deadline(policy, "feedback", due, None, None, today, extra["feedback"]))
    # Protection outlives the handling (ISO 37002 8.5): reviews are due whether or not it is closed.
    out += [_deadline(policy, "measure_review", review, None, None, today) for review in facts.reviews]
    return sorted(out, key=lambda deadline: deadline.due_on)


def next_pending(items: list[Deadline]) -> Deadline | None:
    """The pending deadline that falls due first, if any."""
    return min((i for i in items if i.pending), key=lambda i: i.due_on, default=None)


def urgency(items: list[Deadline]) -> tuple[int, dt.date]:
    """Sort key for an inbox: overdue first, then due soon, then by the next due date."""
    pending = [item for item in items if item.pending]
    rank = 0 if any(i.state == "overdue" for i in pending) else 1 if any(i.state == "due" for i in pending) else 2
    return rank, min((i.due_on for i in pending), default=dt.date.max)
