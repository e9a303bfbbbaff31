"""What reporters and officers both read of a case: messages, files, each office's handling.

Shared by reporting.py (the reporter's side) and casework.py and its neighbours (the
offices' side), so both show a case the same way. `refresh` keeps a handling's next
deadline and open measures in its row after every change, for the inbox.
"""

import datetime as dt
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy
from sqlalchemy import and_, bindparam, exists, or_
from sqlmodel import Session, col, select

from crypto import CryptoError, open_record, seal_record, unwrap_case_key, unwrap_restriction_key
from policies import MAX_MESSAGE_CHARS, Author, Consent, InvalidReport, Office, clean_text
from policies.deadlines import Deadline, HandlingFacts, deadlines, next_pending
from policies.text import N_, Text

from ..store import (
    Case,
    CaseKeyWrap,
    Handling,
    Message,
    ProtectiveMeasure,
    Recusal,
    RestrictionWrap,
    office_holder,
    office_public_key,
)
from . import attachments, notices
from .attachments import FileView, PendingFile
from .context import Context
from .errors import Conflict, NotFound

REPORTER_DEADLINE_TEXT = {
    "acknowledgement": N_("an acknowledgement of your report"),
    "first_response": N_("a first answer from the office"),
    "preliminary_assessment": N_("the result of the preliminary assessment"),
    "feedback": N_("news on your case"),
}
NO_SUCH_CASE = N_("There is no such case in your office.")
OPEN_MEASURE = ("recommended", "implemented")

# What new_id makes: never let anything else near a database query.
CASE_ID = re.compile(r"[A-Z]{3}-[0-9A-F]{10}")
MEASURE_ID = re.compile(r"P-[0-9A-F]{10}")


def plausible_username(value: object) -> bool:
    """Could this name an officer? Only then may it reach a query: PostgreSQL refuses a NUL in any
    text it is sent (a 500, not an answer), and no username holds a NUL, a lone surrogate or 65 characters."""
    return isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable()


def new_id(prefix: str) -> str:
    """A case, message or record id: unguessable, short enough to read over the phone."""
    return f"{prefix}-{secrets.token_hex(5).upper()}"


@dataclass(frozen=True)
class MessageView:
    """A message as its reader sees it. A service notice's `body` is a Text, translated where shown."""

    id: str
    author: Author
    body: str
    sent_on: str
    files: tuple[FileView, ...] = ()
    office: Office | None = None


@dataclass(frozen=True)
class HandlingView:
    """One office's handling of a case, as both sides may see it."""

    office: Office
    status: str
    label: str
    reporter_text: str
    opened_on: str
    acknowledged_on: str | None
    closed: bool
    consent: Consent | None
    deadlines: tuple[Deadline, ...]
    determination: str | None = None
    closed_on: str | None = None

    def expectations(self) -> list[tuple[str, str]]:
        """(what, by when) the reporter can expect next, from the pending deadlines."""
        return [
            (REPORTER_DEADLINE_TEXT[d.name], d.due_on.isoformat())
            for d in self.deadlines
            if d.pending and d.name in REPORTER_DEADLINE_TEXT
        ]


def _open_measure_reviews(db: Session, case_id: str, office: str) -> list[dt.date | None]:
    """The review date (or None) of each open protective measure an office recorded on a case."""
    return list(
        db.exec(
            select(col(ProtectiveMeasure.review_on)).where(
                ProtectiveMeasure.case_id == case_id,
                ProtectiveMeasure.office == office,
                col(ProtectiveMeasure.status).in_(OPEN_MEASURE),
            )
        ).all()
    )


def reviews(db: Session, case_id: str, office: str) -> tuple[dt.date, ...]:
    """The review dates of the open protective measures an office recorded on a case."""
    return tuple(sorted(day for day in _open_measure_reviews(db, case_id, office) if day is not None))


def reviews_of(db: Session, handling: Handling) -> tuple[dt.date, ...]:
    """`reviews` of a handling read in this transaction: none asked for when it counts no open measure
    (`refresh` keeps that count with every change to the handling or its measures)."""
    return reviews(db, handling.case_id, handling.office) if handling.open_measures else ()


def facts(ctx: Context, handling: Handling, review_dates: tuple[dt.date, ...] = ()) -> HandlingFacts:
    return HandlingFacts(
        office=Office(handling.office),
        opened_on=handling.opened_on,
        closed=ctx.policy.lifecycle(handling.office, handling.kind).is_closed(handling.status),
        closed_on=handling.closed_on,
        acknowledged_on=handling.acknowledged_on,
        first_response_on=handling.first_response_on,
        assessment_concluded_on=handling.assessment_concluded_on,
        assessment_started_on=handling.assessment_started_on,
        last_feedback_on=handling.last_feedback_on,
        extensions=json.loads(handling.extensions or "{}"),
        reviews=review_dates,
        kind=handling.kind,
    )


def view_handling(ctx: Context, handling: Handling, review_dates: tuple[dt.date, ...] = ()) -> HandlingView:
    state = ctx.policy.lifecycle(handling.office, handling.kind).states[handling.status]
    return HandlingView(
        office=Office(handling.office),
        status=handling.status,
        label=state.label,
        reporter_text=state.reporter,
        opened_on=handling.opened_on.isoformat(),
        acknowledged_on=handling.acknowledged_on.isoformat() if handling.acknowledged_on else None,
        closed=state.closed,
        consent=Consent(handling.consent) if handling.consent else None,
        deadlines=tuple(deadlines(ctx.policy, facts(ctx, handling, review_dates), ctx.today())),
        determination=handling.determination,
        closed_on=handling.closed_on.isoformat() if handling.closed_on else None,
    )


def refresh(ctx: Context, db: Session, handling: Handling, new: bool = False) -> tuple[dt.date, ...]:
    """Recompute what the inbox filters and sorts on: the next pending deadline and the open measures;
    returns the open measures' review dates it read (`reviews`), for the page that shows the handling.

    Called after every change to a handling or its measures, inside the same transaction,
    so the row never disagrees with what the case page computes. A `new` handling has no
    measures yet, so nothing is asked of the database for them.
    """
    open_reviews = [] if new else _open_measure_reviews(db, handling.case_id, handling.office)
    review_dates = tuple(sorted(day for day in open_reviews if day is not None))
    upcoming = next_pending(deadlines(ctx.policy, facts(ctx, handling, review_dates), ctx.today()))
    handling.next_due_on = upcoming.due_on if upcoming else None
    handling.next_due = upcoming.name if upcoming else None
    handling.open_measures = len(open_reviews)
    db.add(handling)
    return review_dates


@dataclass
class OpenCase:
    """A case as one office holds it: the case row, the office's handling, the case key, and the
    holder key: the private key the office's wraps of this case open with (the office key, or a
    restricted case's own key)."""

    case: Case
    handling: Handling
    key: bytes
    holder_key: bytes


class Reader(Protocol):
    """Who opens a case: an officer of an office, with the office key and their own key their session unlocked."""

    @property
    def officer_id(self) -> str: ...
    @property
    def office(self) -> Office: ...
    @property
    def office_key(self) -> bytes: ...
    @property
    def officer_key(self) -> bytes: ...


def recused(db: Session, case_id: str, officer_id: str) -> bool:
    """Whether the officer declared a conflict on the case that the head has not lifted."""
    recusal = db.get(Recusal, (case_id, officer_id))
    return recusal is not None and recusal.lifted_on is None


def holder_key(db: Session, officer: Reader, handling: Handling) -> bytes | None:
    """The private key that opens what the officer's office holds of this case: the office key; for a
    restricted case, the case's own key, if it was wrapped to this officer (None: not theirs to open)."""
    if handling.restricted_key is None:
        return officer.office_key
    row = db.get(RestrictionWrap, (handling.case_id, handling.office, officer.officer_id))
    return holder_key_from(officer, handling, row.wrap if row else None)


def holder_key_from(officer: Reader, handling: Handling, restricted_wrap: bytes | None) -> bytes | None:
    """holder_key, with the restricted case's wrap to this officer already read (None: there is none)."""
    if handling.restricted_key is None:
        return officer.office_key
    if restricted_wrap is None:
        return None
    try:
        return unwrap_restriction_key(officer.officer_key, restricted_wrap, handling.case_id, handling.office)
    except CryptoError:
        return None


# What an officer may see of a case, as parts of the statements that show an office's cases
# (open_for_office, the inbox); their parameters are officer_id and holder (office_holder).
# No recusal of the officer's stands on the handling's case (see recused):
NOT_RECUSED = ~exists().where(
    col(Recusal.case_id) == Handling.case_id,
    col(Recusal.officer_id) == bindparam("officer_id"),
    col(Recusal.lifted_on).is_(None),
)
# The office's wrap of the case key (to join on):
OFFICE_WRAP = and_(col(CaseKeyWrap.case_id) == Handling.case_id, col(CaseKeyWrap.holder) == bindparam("holder"))
# A restricted case's wrap to the officer (to join on, or to ask whether it exists):
OWN_RESTRICTION_WRAP = and_(
    col(RestrictionWrap.case_id) == Handling.case_id,
    col(RestrictionWrap.office) == Handling.office,
    col(RestrictionWrap.officer_id) == bindparam("officer_id"),
)


def _opening(for_update: bool) -> sqlalchemy.Select:
    """The statement open_for_office runs (store.py: "Statements")."""
    statement = (
        sqlalchemy.select(Handling, Case, col(CaseKeyWrap.wrap), col(RestrictionWrap.wrap))
        .join(Case, col(Case.id) == Handling.case_id)
        .join(CaseKeyWrap, OFFICE_WRAP, isouter=True)
        .join(RestrictionWrap, OWN_RESTRICTION_WRAP, isouter=True)
        .where(
            col(Handling.case_id) == bindparam("case_id"),
            col(Handling.office) == bindparam("office"),
            NOT_RECUSED,
            # A restricted case not wrapped to the officer gives no row, so it is not locked either:
            # a member's probe never waits on a case they may not know of.
            or_(col(Handling.restricted_key).is_(None), col(RestrictionWrap.officer_id).is_not(None)),
        )
    )
    # The handling only: the outer-joined wraps may be absent, and PostgreSQL locks no absent row.
    return statement.with_for_update(of=Handling) if for_update else statement


OPENING = {False: _opening(False), True: _opening(True)}


def open_for_office(db: Session, officer: Reader, case_id: object, for_update: bool = False) -> OpenCase:
    """The case, the office's handling of it and its key; NotFound for anything else (a case of
    another office, a restricted case not wrapped to this officer, or one the officer recused
    themselves from: each indistinguishable from none).

    One statement, because every case page and every action on a case starts here: the handling
    (locked with `for_update`), the case, the office's wrap of the case key and, for a restricted
    case, its wrap to this officer; no row at all where a recusal stands. The wraps are read as the
    statement starts, before any wait for the lock: an officer whose access another transaction was
    granting at that moment is refused this once, never the other way round.
    """
    if not isinstance(case_id, str) or not CASE_ID.fullmatch(case_id):
        raise NotFound(NO_SUCH_CASE)
    if for_update:
        # The office row before the handling, as `intake office rotate` takes them (LOCK ORDER in
        # store.py): an action that wraps a key to the office (a first handling key) would otherwise
        # hold the handling the rotation waits for, while waiting for the office row it holds.
        office_public_key(db, officer.office)
    found = db.execute(
        OPENING[for_update],
        {"case_id": case_id, "office": officer.office, "holder": office_holder(officer.office), "officer_id": officer.officer_id},
    ).first()
    if found is None:
        raise NotFound(NO_SUCH_CASE)
    handling, case, wrap, restricted_wrap = found
    key = holder_key_from(officer, handling, restricted_wrap)
    if key is None or wrap is None:
        raise NotFound(NO_SUCH_CASE)
    try:
        return OpenCase(case, handling, unwrap_case_key(key, wrap, case_id), key)
    except CryptoError:
        raise NotFound(NO_SUCH_CASE) from None


MESSAGES = select(Message).where(col(Message.case_id) == bindparam("case_id")).order_by(col(Message.number))
HANDLINGS = (
    select(Handling).where(col(Handling.case_id) == bindparam("case_id")).order_by(col(Handling.opened_on), col(Handling.office))
)


# Locked, and read as they are once the lock is had (a row another transaction changed meanwhile is read anew).
HANDLINGS_FOR_UPDATE = HANDLINGS.with_for_update().execution_options(populate_existing=True)


def handlings(db: Session, case_id: str, for_update: bool = False) -> list[Handling]:
    """The offices handling a case, in the order they received it (`for_update`: locked, for a change
    the reporter makes to all of them; the caller holds the case first, lock_case)."""
    return list(db.exec(HANDLINGS_FOR_UPDATE if for_update else HANDLINGS, params={"case_id": case_id}).all())


def lock_case(db: Session, case_id: str) -> Case | None:
    """The case row, held until the transaction ends (FOR NO KEY UPDATE: rows that refer to the case, a
    message, a file, may still be added meanwhile).

    What changes the set of a case's handlings or all of them at once takes it first: a referral (which
    adds a handling), a withdrawal, an answer to a request for consent, anything new from the complainant.
    Each then reads the handlings after the other committed, the one a referral added included: a
    withdrawal racing a referral once closed ECO's handling over `referred_to_oig` and left OIG's open
    (#24 item 4). Lock order: store.py, LOCK ORDER."""
    if not CASE_ID.fullmatch(case_id):
        return None
    return db.get(Case, case_id, with_for_update={"key_share": True}, populate_existing=True)


def read_messages(db: Session, case_id: str, case_key: bytes) -> tuple[tuple[MessageView, ...], tuple[FileView, ...]]:
    """Every message of a case, oldest first, decrypted with its files; and the report's own files."""
    rows = db.exec(MESSAGES, params={"case_id": case_id}).all()
    files = attachments.files_by_message(db, case_id, case_key)
    messages = tuple(
        MessageView(
            m.id,
            Author(m.author),
            _body(m, open_record(case_key, m.body, case_id, "message", m.id)),
            m.sent_on.isoformat(),
            tuple(files.get(m.id, ())),
            Office(m.office) if m.office else None,
        )
        for m in rows
    )
    return messages, tuple(files.get(None, ()))


def _body(message: Message, plaintext: bytes) -> str:
    if message.author == Author.SERVICE:
        return notices.decode(plaintext)
    return plaintext.decode("utf-8")


def add_message(
    db: Session,
    ctx: Context,
    case_id: str,
    case_key: bytes,
    author: Author,
    body: str,
    office: str | None = None,
    officer_id: str | None = None,
    files: Sequence[PendingFile] = (),
) -> str:
    """Seal and store one message with its files; the caller's transaction commits it."""
    message_id = new_id("M")
    attachments.attach(db, case_id, case_key, message_id, files)
    _store(db, ctx, case_id, case_key, message_id, author, body.encode("utf-8"), office, officer_id)
    return message_id


def add_notice(
    db: Session,
    ctx: Context,
    case_id: str,
    case_key: bytes,
    kind: notices.Notice,
    office: str,
    officer_id: str,
    **params: str | int,
) -> str:
    """Seal and store one of the service's own notices, written on an officer's action."""
    message_id = new_id("M")
    _store(db, ctx, case_id, case_key, message_id, Author.SERVICE, notices.encode(kind, **params), office, officer_id)
    return message_id


def _store(
    db: Session,
    ctx: Context,
    case_id: str,
    case_key: bytes,
    message_id: str,
    author: Author,
    plaintext: bytes,
    office: str | None,
    officer_id: str | None,
) -> None:
    db.add(
        Message(
            id=message_id,
            case_id=case_id,
            author=author,
            office=office,
            officer_id=officer_id,
            sent_on=ctx.today(),
            body=seal_record(case_key, plaintext, case_id, "message", message_id),
        )
    )


# What an officer's text is called when it is refused, one message each so every language can say it.
FIELD_REFUSALS = {
    "note": N_("The note {problem}."),
    "reason": N_("The reason {problem}."),
    "reasons": N_("The reasons {problem}."),
    "memo": N_("The memo {problem}."),
    "recommended_to": N_("Who it is recommended to {problem}."),
}


def officer_text(value: object, name: str, limit: int, required: bool = False) -> str:
    """An officer's note, reason or memo as clean text, or Conflict saying (translatably) what is wrong."""
    errors: dict[str, str] = {}
    text = clean_text(value, limit, name, errors, required=required)
    if errors:
        problem = errors[name]
        raise Conflict(Text(FIELD_REFUSALS[name], problem=problem if isinstance(problem, Text) else Text(problem)))
    return text


def clean_message(body: object, has_files: bool = False) -> str:
    """The message text, or InvalidReport. A message may be empty only if it carries files."""
    errors: dict[str, str] = {}
    text = clean_text(body, MAX_MESSAGE_CHARS, "body", errors, required=not has_files)
    if errors:
        raise InvalidReport(errors)
    return text
