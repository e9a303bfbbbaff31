"""The office's inbox: its cases, filtered, searched, sorted and paged.

Each handling keeps its next pending deadline (and which one) and its count of open
protective measures in its own row (casefiles.refresh), so the default inbox is one indexed
query whatever the office's volume; only the page's own rows are decrypted, for the concern,
the region and the safety answers the report gives. "Unread" is per officer: a handling
counts what arrived for the office (`activity`), an officer's CaseReading what they have
seen of it.

An office narrows its inbox two ways:
- by what the database holds in clear, as conditions of the query: the filters (open,
  overdue, ...), the case id, the state (the handling's status and kind), and whether the
  case is one part of a report of both (the parts share `Case.report_id`) or an advice request;
- by what only the sealed answers say: the concern, the region, the danger the reporter is
  in. The answers are sealed under each case key and no clear column or blind index may say
  them (SECURITY.md: a copy of the database must not count the cases of a region). So when an
  officer asks for one of these, every case the query's conditions leave is decrypted, and
  the inbox is narrowed, counted and paged in memory (loadtests/bench_inbox.py measures what
  that costs); the default view still decrypts only its page.

The concern a row shows is what the case is for the office reading it: a part of a report of
both whose other part the officer may know of (casework._linked's rule: a restricted other
part only for an officer who holds it, or its existence would say who the report is about)
is "both"; a case another office transferred as not its own (not a prima facie referral)
is the concern the receiving office handles (ECO's "not retaliation" transfer is misconduct
at OIG; OIG's transfer to ECO is retaliation at ECO), with the reporter's own concern beside
it; otherwise the reporter's own.
"""

import datetime as dt
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy
from sqlalchemy import Integer, and_, bindparam, exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import col

from crypto import CryptoError, open_record, public_key_of, unwrap_case_key
from policies import Concern, Office, Policy
from policies.answers import in_danger, protection_now
from policies.deadlines import LABELS
from policies.model import ADVICE, REPORT, State

from ..store import Case, CaseKeyWrap, CaseReading, Handling, Officer, Recusal, RestrictionWrap, office_holder, reading
from .casefiles import NOT_RECUSED, OFFICE_WRAP, OWN_RESTRICTION_WRAP, holder_key_from
from .context import Context
from .officers import OfficerSession

FILTERS = ("open", "overdue", "due_soon", "referred_in", "closed", "mine", "unassigned", "all")
SORTS = ("urgency", "newest", "oldest", "case")
CONCERNS = tuple(str(c) for c in Concern)  # the report's concern: retaliation, misconduct, both, not_sure, advice
# The safety signals of a retaliation complaint: "urgent" is either of the other two.
SAFETY = ("urgent", "danger", "protection_now")
ADVICE_STATE = "advice:"  # the state filter's prefix for a state of the advice lifecycle
PAGE_SIZE = 50
MAX_QUERY_CHARS = 40
# What a case id is made of (an office code, a hyphen, upper-case hex): the only characters searched for.
CASE_ID_PIECE = re.compile(r"[A-Z0-9-]+")


@dataclass(frozen=True)
class OtherPart:
    """The other case of a report of both: which office holds it and where it stands, never its content."""

    id: str
    office: Office
    status: str
    label: str
    stepped_away: bool = False  # the officer declared a conflict on it that stands: it is not theirs to open


@dataclass(frozen=True)
class InboxRow:
    id: str
    office: Office  # the office the report was routed to
    status: str
    label: str
    received_on: str
    unread: bool
    flag: str  # overdue, due or ""
    next_due: str | None  # the date
    next_deadline: str | None  # which deadline
    next_deadline_label: str | None
    assignee: str | None
    concerns: tuple[str, ...]  # what the case is for this office (see the module's docstring)
    region: str | None
    referred_in: bool
    open_measures: int
    closed: bool
    restricted: bool = False  # about someone in the office: only the officers it is wrapped to see it
    reported_concerns: tuple[str, ...] = ()  # what the reporter chose (for a part of a report of both: that part's)
    transferred_by: Office | None = None  # the office that passed the case on as not its own
    transfer_label: str | None = None  # and its state: why (ECO: "Not retaliation: transferred to OIG")
    danger: bool = False  # the reporter, or someone close, may be in danger now
    protection_now: bool = False  # the complainant asked for protection at once
    other_part: OtherPart | None = None  # a report of both: its other case, where the officer may know of it
    needs_officer: bool = False  # closed with measures still open and nobody assigned: the protection file has no owner


@dataclass(frozen=True)
class InboxPage:
    rows: tuple[InboxRow, ...]
    filter: str
    query: str
    sort: str
    page: int
    pages: int
    total: int
    concern: str = ""
    region: str = ""
    state: str = ""
    safety: str = ""


def states(policy: Policy, office: Office) -> tuple[tuple[str, str, str], ...]:
    """The states an office's cases can be in, as the state filter takes them: (value, label, kind)."""
    found = [(s.id, s.label, REPORT) for s in policy.lifecycles[office].states.values()]
    if policy.advice.office == office:
        found += [(ADVICE_STATE + s.id, s.label, ADVICE) for s in policy.advice.states.values()]
    return tuple(found)


def allowed(policy: Policy, office: Office) -> dict[str, tuple[str, ...]]:
    """The values each of the inbox's choices takes in this office (its states are its own, and advice
    requests go to one office only)."""
    return {
        "filter": FILTERS,
        "sort": SORTS,
        "concern": tuple(c for c in CONCERNS if c != Concern.ADVICE or policy.advice.office == office),
        "region": tuple(r.id for r in policy.regions),
        "state": tuple(value for value, _, _ in states(policy, office)),
        "safety": SAFETY,
    }


def unknown(policy: Policy, office: Office, **chosen: str) -> dict[str, tuple[str, ...]]:
    """The choices (filter=..., concern=...) whose value the office's inbox does not take, each with
    the values it takes: the API refuses them (the page falls back to "any", and its form shows it)."""
    values = allowed(policy, office)
    return {name: values[name] for name, value in chosen.items() if value and value not in values[name]}


@dataclass(frozen=True)
class _Shape:
    """Which conditions a request puts in the query (their values are parameters): a statement per shape."""

    filter: str
    searching: bool
    by_state: bool
    # "both": parts of a report of both only; "advice": advice requests only; "single": neither.
    concern: str = ""
    order: str = "urgency"


def _other_part(case: Any, handling: Any, wrap: Any) -> tuple[Any, Any, Any]:
    """What makes `case` (aliased), with `handling`, its routed office's, the other part of the report of
    both of Case where the officer may know of it (casework._linked's rule: a restricted other part only
    for an officer it is wrapped to): the same report, its handling, and that rule (`wrap` an alias too)."""
    same_report = and_(col(case.report_id) == Case.report_id, col(case.id) != Case.id)
    its_handling = and_(col(handling.case_id) == case.id, col(handling.office) == case.office)
    known = or_(
        col(handling.restricted_key).is_(None),
        exists().where(
            col(wrap.case_id) == case.id, col(wrap.office) == case.office, col(wrap.officer_id) == bindparam("officer_id")
        ),
    )
    return same_report, its_handling, known


# The other part, as a page's rows show it (joined), and as a condition (its own aliases: a condition
# made of the joined ones would be correlated to the join).
OTHER_CASE = aliased(Case, name="other_case")
OTHER_HANDLING = aliased(Handling, name="other_handling")
OTHER_PART = _other_part(OTHER_CASE, OTHER_HANDLING, aliased(RestrictionWrap, name="other_wrap"))
HAS_OTHER_PART = exists().where(
    *_other_part(aliased(Case, name="part"), aliased(Handling, name="part_handling"), aliased(RestrictionWrap, name="part_wrap"))
)
ORIGIN = aliased(Handling, name="origin")  # the handling of the office a case was routed to
# The officer's standing recusal from the other part: named on the row, but no link to a page that is not theirs.
STEPPED_AWAY_FROM_OTHER = (
    exists()
    .where(
        col(Recusal.case_id) == OTHER_CASE.id,
        col(Recusal.officer_id) == bindparam("officer_id"),
        col(Recusal.lifted_on).is_(None),
    )
    .label("stepped_away_from_other")
)


def _filtered(shape: _Shape) -> list[Any]:
    """The conditions of a shape, with bound parameters: office, officer_id, today, soon, query, status, kind."""
    closed = col(Handling.closed_on).is_not(None)
    conditions: list[Any] = [
        Handling.office == bindparam("office"),
        # A case the officer recused themselves from is not theirs to see.
        NOT_RECUSED,
        # A restricted case exists only for the officers it is wrapped to (restriction.py).
        or_(col(Handling.restricted_key).is_(None), exists().where(OWN_RESTRICTION_WRAP)),
    ]
    name = shape.filter
    if name == "open":
        conditions.append(or_(~closed, col(Handling.open_measures) > 0))
    elif name == "overdue":
        conditions.append(col(Handling.next_due_on) < bindparam("today"))
    elif name == "due_soon":
        conditions.append(and_(col(Handling.next_due_on) >= bindparam("today"), col(Handling.next_due_on) <= bindparam("soon")))
    elif name == "referred_in":
        conditions.append(col(Case.office) != Handling.office)
    elif name == "closed":
        conditions.append(closed)
    elif name == "mine":
        conditions.append(Handling.assignee == bindparam("officer_id"))
    elif name == "unassigned":
        # A closed handling with measures still open is a protection file someone must keep.
        conditions += [col(Handling.assignee).is_(None), or_(~closed, col(Handling.open_measures) > 0)]
    if shape.searching:  # only a case id's own characters reach here (CASE_ID_PIECE), none of them LIKE's wildcards
        conditions.append(col(Handling.case_id).contains(bindparam("query")))
    if shape.by_state:
        conditions += [Handling.status == bindparam("status"), Handling.kind == bindparam("kind")]
    if shape.concern == "both":
        conditions.append(HAS_OTHER_PART)
    elif shape.concern == "advice":
        conditions.append(Handling.kind == ADVICE)
    elif shape.concern == "single":
        conditions += [Handling.kind != ADVICE, ~HAS_OTHER_PART]
    return conditions


def _needs_case(shape: _Shape) -> bool:
    return shape.filter == "referred_in" or shape.concern in ("both", "single")


def _order(sort: str) -> list[Any]:
    if sort == "newest":
        return [col(Handling.opened_on).desc(), col(Handling.case_id)]
    if sort == "oldest":
        return [col(Handling.opened_on), col(Handling.case_id)]
    if sort == "case":
        return [col(Handling.case_id)]
    # The next deadline first (overdue ones are the earliest), cases without one last.
    return [col(Handling.next_due_on).is_(None), col(Handling.next_due_on), col(Handling.opened_on).desc(), col(Handling.case_id)]


@dataclass(frozen=True)
class _Statements:
    count: Any  # the shape's count
    page: Any  # one page's rows (offset, limit)
    every: Any  # every row of the shape, to narrow by the sealed answers


@functools.cache
def _statements(shape: _Shape) -> _Statements:
    """A shape's statements, built on its first use (store.py: "Statements")."""
    conditions = _filtered(shape)
    # First the page's case ids, from the handlings alone (the case row only where a condition reads
    # it): sorting the office's cases must not drag every joined row along.
    count = sqlalchemy.select(func.count()).select_from(Handling)
    ids = sqlalchemy.select(col(Handling.case_id))
    if _needs_case(shape):
        count = count.join(Case, col(Case.id) == Handling.case_id)
        ids = ids.join(Case, col(Case.id) == Handling.case_id)
    every_id = ids.where(*conditions)
    page_ids = (
        every_id.order_by(*_order(shape.order))
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )
    # Then what the page shows, for those ids only, in one statement: of the case, not its account (the
    # inbox does not show it), the wraps that open its answers, the other part of a report of both and
    # the handling of the office that passed the case on. The ids go in as a subquery, not as a list:
    # fifty parameters make a statement too long for the driver to cache or prepare. Every row of the
    # shape (to narrow by the answers) comes the same way, all the ids at once.
    page, every = (_rows(chosen.subquery("chosen")).order_by(*_order(shape.order)) for chosen in (page_ids, every_id))
    return _Statements(count.where(*conditions), page, every)


def _rows(chosen: sqlalchemy.Subquery) -> sqlalchemy.Select:
    """What the inbox shows of the `chosen` cases. The statement starts from them, so that a database
    that misjudges how few they are (PostgreSQL before its statistics are gathered) still looks up the
    rest of each by its key, rather than joining every case of the office and keeping fifty."""
    same_report, its_handling, known = OTHER_PART
    return (
        sqlalchemy.select(
            Handling,
            col(Case.office),
            col(Case.answers),
            col(CaseReading.seen),
            col(Officer.username),
            col(CaseKeyWrap.wrap),
            col(RestrictionWrap.wrap),
            col(OTHER_CASE.id),
            col(OTHER_CASE.office),
            col(OTHER_HANDLING.status),
            col(OTHER_HANDLING.kind),
            STEPPED_AWAY_FROM_OTHER,
            col(ORIGIN.status),
            col(ORIGIN.kind),
        )
        .select_from(chosen)
        .join(Handling, and_(col(Handling.case_id) == chosen.c.case_id, col(Handling.office) == bindparam("office")))
        .join(Case, col(Case.id) == Handling.case_id)
        .join(
            CaseReading,
            and_(col(CaseReading.case_id) == Handling.case_id, col(CaseReading.officer_id) == bindparam("officer_id")),
            isouter=True,
        )
        .join(Officer, col(Officer.id) == Handling.assignee, isouter=True)
        .join(CaseKeyWrap, OFFICE_WRAP, isouter=True)
        .join(RestrictionWrap, OWN_RESTRICTION_WRAP, isouter=True)
        # The other part's case, then its handling only where the officer may know of it: no handling, no
        # other part (two joins, not a join of the two, which SQLite would build whole for every page).
        .join(OTHER_CASE, same_report, isouter=True)
        .join(OTHER_HANDLING, and_(its_handling, known), isouter=True)
        .join(
            ORIGIN,
            and_(col(ORIGIN.case_id) == Handling.case_id, col(ORIGIN.office) == Case.office, col(Case.office) != Handling.office),
            isouter=True,
        )
    )


def _answers(
    officer: OfficerSession, office_public: bytes, handling: Handling, sealed: bytes, wrap: bytes, restricted_wrap: bytes | None
) -> dict[str, Any]:
    case_id = handling.case_id
    holder = holder_key_from(officer, handling, restricted_wrap)
    if holder is None:
        return {}
    # The office's public key, derived once a page: a scalar multiplication fewer per row.
    public = office_public if handling.restricted_key is None else None
    try:
        key = unwrap_case_key(holder, wrap, case_id, recipient_public=public)
        answers: dict[str, Any] = json.loads(open_record(key, sealed, case_id, "answers", case_id))
        return answers
    except CryptoError:
        return {}


def _transfer(policy: Policy, routed_to: str, office: str, origin_status: str | None, origin_kind: str | None) -> State | None:
    """The state of the office the case was routed to, if that office passed the case on as not its
    own: a transfer, not a referral on prima facie evidence (which needs a determination)."""
    if routed_to == office or origin_status is None:
        return None
    state = policy.lifecycle(routed_to, origin_kind or REPORT).states.get(origin_status)
    if state is None or state.via != "referral" or state.requires_determination:
        return None
    return state


def _handled_by(policy: Policy, office: str) -> str:
    """The concern the policy routes to this office alone (ECO: retaliation; OIG: misconduct)."""
    return next((str(c) for c in (Concern.RETALIATION, Concern.MISCONDUCT) if policy.routing.get(c) == (office,)), "")


@dataclass(frozen=True)
class _Today:
    today: dt.date
    soon: dt.date


@dataclass(frozen=True)
class _Opened:
    """One row of the statement, its answers opened, and what the case is for the office reading it."""

    found: Any
    answers: dict[str, Any]
    concerns: tuple[str, ...]
    transfer: State | None
    other_part: OtherPart | None

    @property
    def handling(self) -> Handling:
        return self.found[0]

    @property
    def urgent(self) -> bool:
        return in_danger(self.answers) or protection_now(self.answers)


def _open(policy: Policy, officer: OfficerSession, office_public: bytes, found: Any) -> _Opened:
    handling, routed_to, sealed, _, _, wrap, restricted_wrap, other_id, other_office, other_status, other_kind, away, *origin = (
        found
    )
    answers = _answers(officer, office_public, handling, sealed, wrap or b"", restricted_wrap)
    reported = tuple(str(c) for c in answers.get("concerns") or ())
    transfer = _transfer(policy, routed_to, handling.office, *origin)
    other_part = None
    if other_status is not None:
        label = policy.lifecycle(other_office, other_kind).states[other_status].label
        other_part = OtherPart(other_id, Office(other_office), other_status, label, bool(away))
    handled_here = _handled_by(policy, handling.office)
    concerns = (str(Concern.BOTH),) if other_part else (handled_here,) if transfer and handled_here else reported
    return _Opened(found, answers, concerns, transfer, other_part)


def _row(policy: Policy, opened: _Opened, when: _Today) -> InboxRow:
    """One row as the office reads it."""
    handling, routed_to, _, seen, assignee, *_ = opened.found
    answers = opened.answers
    reported = tuple(str(c) for c in answers.get("concerns") or ())
    due = handling.next_due_on
    closed = handling.closed_on is not None
    return InboxRow(
        id=handling.case_id,
        office=Office(routed_to),
        status=handling.status,
        label=policy.lifecycle(handling.office, handling.kind).states[handling.status].label,
        received_on=handling.opened_on.isoformat(),
        unread=(seen or 0) < handling.activity,
        flag="" if due is None else "overdue" if due < when.today else "due" if due <= when.soon else "",
        next_due=due.isoformat() if due else None,
        next_deadline=handling.next_due,
        next_deadline_label=LABELS.get(handling.next_due or ""),
        assignee=assignee,
        concerns=opened.concerns,
        region=answers.get("region"),
        referred_in=routed_to != handling.office,
        open_measures=handling.open_measures,
        closed=closed,
        restricted=handling.restricted_key is not None,
        reported_concerns=reported,
        transferred_by=Office(routed_to) if opened.transfer else None,
        transfer_label=opened.transfer.label if opened.transfer else None,
        danger=in_danger(answers),
        protection_now=protection_now(answers),
        other_part=opened.other_part,
        needs_officer=closed and handling.open_measures > 0 and assignee is None,
    )


@dataclass(frozen=True)
class _Narrowing:
    """What the sealed answers must say for a case to be shown ("" for anything)."""

    concern: str
    region: str
    safety: str

    @property
    def needs_answers(self) -> bool:
        """Whether only the answers can say: "both" and "advice" the database answers alone (_Shape.concern)."""
        return bool(self.region or self.safety or self.concern not in ("", "both", "advice"))

    def admits(self, opened: _Opened) -> bool:
        answers = opened.answers
        safe = {
            "": True,
            "urgent": opened.urgent,
            "danger": in_danger(answers),
            "protection_now": protection_now(answers),
        }[self.safety]
        return (
            safe
            and (not self.concern or self.concern in opened.concerns)
            and (not self.region or self.region == answers.get("region"))
        )


def _urgent_first_among_equals(cases: Iterable[_Opened]) -> list[_Opened]:
    """Cases in deadline order and, where the next deadline falls on the same day, those whose reporter
    may be in danger or needs protection now first (ECO Annual Report 2022 s.2: an immediate risk to the
    complainant's safety goes to the Office of Staff Security at once). The sort is stable: otherwise the
    database's order stays."""
    return sorted(cases, key=lambda c: (c.handling.next_due_on is None, c.handling.next_due_on or dt.date.min, not c.urgent))


def _unique(found: Iterable[Any]) -> list[Any]:
    """Each case once (a report has one other part; should it ever have two, the first is shown)."""
    first: dict[str, Any] = {}
    for row in found:
        first.setdefault(row[0].case_id, row)
    return list(first.values())


def inbox(
    ctx: Context,
    officer: OfficerSession,
    filter: str = "open",
    query: str = "",
    sort: str = "urgency",
    page: int = 1,
    concern: str = "",
    region: str = "",
    state: str = "",
    safety: str = "",
) -> InboxPage:
    """One page of the office's cases. Unknown choices fall back to the defaults ("open", "urgency", any).

    Sorted by urgency, a case whose reporter may be in danger or needs protection now comes first among
    those due the same day: across every page when the answers narrow the inbox (every case is opened
    then), within the page otherwise (ordering the office's cases by their sealed answers would open
    them all on every view).
    """
    values = allowed(ctx.policy, officer.office)
    name = filter if filter in FILTERS else "open"
    order = sort if sort in SORTS else "urgency"
    concern, region, state, safety = (
        value if value in values[choice] else ""
        for choice, value in (("concern", concern), ("region", region), ("state", state), ("safety", safety))
    )
    # A case id or a piece of one, in any case. Anything else matches no case, so it is not searched for:
    # "%" or "_" never reach LIKE as wildcards.
    query = "".join(ch for ch in (query or "")[:MAX_QUERY_CHARS].strip() if ch.isprintable())
    if query and not CASE_ID_PIECE.fullmatch(query.upper()):
        return InboxPage((), name, query, order, 1, 1, 0, concern, region, state, safety)
    by_sql = {"both": "both", "advice": "advice"}.get(concern, "single" if concern else "")
    statements = _statements(_Shape(name, bool(query), bool(state), by_sql, order))
    narrowing = _Narrowing(concern, region, safety)
    kind, status = (ADVICE, state.removeprefix(ADVICE_STATE)) if state.startswith(ADVICE_STATE) else (REPORT, state)
    when = _Today(ctx.today(), ctx.today() + dt.timedelta(days=ctx.policy.deadlines.due_soon_days))
    params = {
        "office": officer.office,
        "officer_id": officer.officer_id,
        "holder": office_holder(officer.office),
        "today": when.today,
        "soon": when.soon,
        "query": query.upper(),
        "status": status,
        "kind": kind,
        "limit": PAGE_SIZE,
    }
    with reading(ctx.engine) as db:
        if narrowing.needs_answers:
            found = db.execute(statements.every, params).all()
        else:
            total = db.execute(statements.count, params).scalar_one()
            pages = max(1, -(-total // PAGE_SIZE))
            page = min(max(1, page), pages)
            found = db.execute(statements.page, {**params, "offset": (page - 1) * PAGE_SIZE}).all()
    office_public = public_key_of(officer.office_key)
    cases = [_open(ctx.policy, officer, office_public, f) for f in _unique(found)]
    if narrowing.needs_answers:
        cases = [c for c in cases if narrowing.admits(c)]
        total = len(cases)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
    if order == "urgency":
        cases = _urgent_first_among_equals(cases)
    if narrowing.needs_answers:
        cases = cases[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    rows = tuple(_row(ctx.policy, c, when) for c in cases)
    return InboxPage(rows, name, query, order, page, pages, total, concern, region, state, safety)
