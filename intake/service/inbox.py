"""The office's inbox: its cases, filtered, searched, sorted and paged in the database.

Each handling keeps its next pending deadline (and which one) and its count of open
protective measures in its own row (casefiles.refresh), so the inbox is one indexed query
whatever the office's volume; only the page's own rows are decrypted, for the concern and
the region the report gives. "Unread" is per officer: a handling counts what arrived for
the office (`activity`), an officer's CaseReading what they have seen of it.
"""

import datetime as dt
import functools
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy
from sqlalchemy import Integer, and_, bindparam, exists, func, or_
from sqlmodel import col

from crypto import CryptoError, open_record, public_key_of, unwrap_case_key
from policies import Office
from policies.deadlines import LABELS

from ..store import Case, CaseKeyWrap, CaseReading, Handling, Officer, RestrictionWrap, office_holder, reading
from .casefiles import NOT_RECUSED, OFFICE_WRAP, OWN_RESTRICTION_WRAP, holder_key_from
from .context import Context
from .officers import OfficerSession

FILTERS = ("open", "overdue", "due_soon", "referred_in", "closed", "mine", "unassigned", "all")
SORTS = ("urgency", "newest", "oldest", "case")
PAGE_SIZE = 50
MAX_QUERY_CHARS = 40


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
    concerns: tuple[str, ...]
    region: str | None
    referred_in: bool
    open_measures: int
    closed: bool
    restricted: bool = False  # about someone in the office: only the officers it is wrapped to see it


@dataclass(frozen=True)
class InboxPage:
    rows: tuple[InboxRow, ...]
    filter: str
    query: str
    sort: str
    page: int
    pages: int
    total: int


def _filtered(name: str, searching: bool) -> list[Any]:
    """The conditions of a filter, with bound parameters: office, officer_id, today, soon, query."""
    closed = col(Handling.closed_on).is_not(None)
    conditions: list[Any] = [
        Handling.office == bindparam("office"),
        # A case the officer recused themselves from is not theirs to see.
        NOT_RECUSED,
        # A restricted case exists only for the officers it is wrapped to (restriction.py).
        or_(col(Handling.restricted_key).is_(None), exists().where(OWN_RESTRICTION_WRAP)),
    ]
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
        conditions += [col(Handling.assignee).is_(None), ~closed]
    if searching:  # the query comes escaped for LIKE, with "/" (_like_escaped)
        conditions.append(col(Handling.case_id).contains(bindparam("query"), escape="/"))
    return conditions


def _like_escaped(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _order(sort: str) -> list[Any]:
    if sort == "newest":
        return [col(Handling.opened_on).desc(), col(Handling.case_id)]
    if sort == "oldest":
        return [col(Handling.opened_on), col(Handling.case_id)]
    if sort == "case":
        return [col(Handling.case_id)]
    # The next deadline first (overdue ones are the earliest), cases without one last.
    return [col(Handling.next_due_on).is_(None), col(Handling.next_due_on), col(Handling.opened_on).desc(), col(Handling.case_id)]


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


@functools.cache
def _statements(name: str, order: str, searching: bool) -> tuple[Any, Any]:
    """A filter's count and a page's rows, built once per filter, sort and search (store.py: "Statements built once")."""
    conditions = _filtered(name, searching)
    # First the page's case ids, from the handlings alone (the case row only where a filter reads
    # it): sorting the office's cases must not drag every joined row along.
    count = sqlalchemy.select(func.count()).select_from(Handling)
    ids = sqlalchemy.select(col(Handling.case_id))
    if name == "referred_in":
        count = count.join(Case, col(Case.id) == Handling.case_id)
        ids = ids.join(Case, col(Case.id) == Handling.case_id)
    page_ids = (
        ids.where(*conditions)
        .order_by(*_order(order))
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )
    # Then what the page shows, for those ids only, in one statement: of the case, not its account (the
    # inbox does not show it), and the wraps that open its answers. The ids go in as a subquery, not as
    # a list: fifty parameters make a statement too long for the driver to cache or prepare.
    rows = (
        sqlalchemy.select(
            Handling,
            col(Case.office),
            col(Case.answers),
            col(CaseReading.seen),
            col(Officer.username),
            col(CaseKeyWrap.wrap),
            col(RestrictionWrap.wrap),
        )
        .join(Case, col(Case.id) == Handling.case_id)
        .join(
            CaseReading,
            and_(col(CaseReading.case_id) == Handling.case_id, col(CaseReading.officer_id) == bindparam("officer_id")),
            isouter=True,
        )
        .join(Officer, col(Officer.id) == Handling.assignee, isouter=True)
        .join(CaseKeyWrap, OFFICE_WRAP, isouter=True)
        .join(RestrictionWrap, OWN_RESTRICTION_WRAP, isouter=True)
        .where(col(Handling.case_id).in_(page_ids.correlate(None)), col(Handling.office) == bindparam("office"))
        .order_by(*_order(order))
    )
    return count.where(*conditions), rows


def inbox(
    ctx: Context, officer: OfficerSession, filter: str = "open", query: str = "", sort: str = "urgency", page: int = 1
) -> InboxPage:
    """One page of the office's cases. Unknown filters and sorts fall back to the defaults."""
    name = filter if filter in FILTERS else "open"
    order = sort if sort in SORTS else "urgency"
    # A case id or a piece of one; LIKE's wildcards in it are escaped (_like_escaped).
    query = "".join(ch for ch in (query or "")[:MAX_QUERY_CHARS].strip() if ch.isprintable())
    today, soon = ctx.today(), ctx.today() + dt.timedelta(days=ctx.policy.deadlines.due_soon_days)
    count, rows_of = _statements(name, order, bool(query))
    params = {
        "office": officer.office,
        "officer_id": officer.officer_id,
        "holder": office_holder(officer.office),
        "today": today,
        "soon": soon,
        "query": _like_escaped(query.upper()),
        "limit": PAGE_SIZE,
    }
    with reading(ctx.engine) as db:
        total = db.execute(count, params).scalar_one()
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        rows = db.execute(rows_of, {**params, "offset": (page - 1) * PAGE_SIZE}).all()
    out, office_public = [], public_key_of(officer.office_key)
    for handling, filed_with, sealed_answers, seen, assignee, wrap, restricted_wrap in rows:
        answers = _answers(officer, office_public, handling, sealed_answers, wrap or b"", restricted_wrap)
        due = handling.next_due_on
        flag = "" if due is None else "overdue" if due < today else "due" if due <= soon else ""
        out.append(
            InboxRow(
                id=handling.case_id,
                office=Office(filed_with),
                status=handling.status,
                label=ctx.policy.lifecycle(handling.office, handling.kind).states[handling.status].label,
                received_on=handling.opened_on.isoformat(),
                unread=(seen or 0) < handling.activity,
                flag=flag,
                next_due=due.isoformat() if due else None,
                next_deadline=handling.next_due,
                next_deadline_label=LABELS.get(handling.next_due or ""),
                assignee=assignee,
                concerns=tuple(answers.get("concerns") or ()),
                region=answers.get("region"),
                referred_in=filed_with != handling.office,
                open_measures=handling.open_measures,
                closed=handling.closed_on is not None,
                restricted=handling.restricted_key is not None,
            )
        )
    return InboxPage(tuple(out), name, query, order, page, pages, total)
