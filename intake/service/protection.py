"""The protection file: protective measures and onward referrals, kept until every one is lifted.

ECO recommends temporary measures to protect a complainant and refers them onward
(OSS for a safety risk, SWO for welfare, OOM, LEG, DHR; ECO Annual Report 2022 s.2). A
measure has a recipient, a status with its dates and a review date; it outlives the
handling: a referral or a closure leaves it open until it is lifted or declined, and its
review dates keep showing in the inbox (ISO 37002:2021, 8.5, monitoring after closure).

What a measure is and to whom it went are sealed under the case key, so an office the
case is referred to, and the complainant, can see that measures exist and where they
stand; the recording office's notes on it are its own (office_records.py).
"""

import datetime as dt
import json
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from crypto import open_record, seal_record
from policies import Office
from policies.text import N_

from ..store import ProtectiveMeasure, transaction
from . import audit, office_records
from .casefiles import MEASURE_ID, OPEN_MEASURE, OpenCase, new_id, officer_text, open_for_office, refresh
from .context import Context
from .errors import Conflict, NotFound
from .office_records import OfficeRecord, RecordKind
from .officers import OfficerSession

MAX_RECIPIENT_CHARS = 200
MAX_NOTE_CHARS = 2000
MEASURE_ID_PREFIX = "P-"
NOT_A_COMPLAINT = N_(
    "Protective measures and onward referrals are recorded on a complaint of retaliation, "
    "not on another report or a request for advice."
)


class MeasureStatus(StrEnum):
    RECOMMENDED = "recommended"
    IMPLEMENTED = "implemented"
    DECLINED = "declined"
    LIFTED = "lifted"


FINAL = {MeasureStatus.DECLINED, MeasureStatus.LIFTED}


@dataclass(frozen=True)
class MeasureView:
    id: str
    office: Office
    kind: str  # protective_measure or onward_referral
    item: str
    label: str
    recommended_to: str
    status: MeasureStatus
    recommended_on: str
    status_on: str
    review_on: str | None
    notes: tuple[OfficeRecord, ...] = ()  # the recording office's notes: for that office only

    @property
    def open(self) -> bool:
        return self.status in OPEN_MEASURE


def _review_date(ctx: Context, value: object) -> dt.date | None:
    """An ISO date (YYYY-MM-DD), today or later; None for none given."""
    if value in (None, ""):
        return None
    try:
        day = dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or day < ctx.today():
        raise Conflict(N_("The review date must be a date (YYYY-MM-DD), today or later."))
    return day


def _kind_of(ctx: Context, item: object) -> str:
    if isinstance(item, str) and item in ctx.policy.ids("protective_measures"):
        return "protective_measure"
    if isinstance(item, str) and item in ctx.policy.ids("onward_referrals"):
        return "onward_referral"
    raise Conflict(N_("Unknown protective measure or onward referral."))


def recommend(
    ctx: Context,
    officer: OfficerSession,
    case_id: str,
    item: object,
    recommended_to: object,
    note: object = "",
    review_on: object = None,
) -> str:
    """Record a measure recommended (or an onward referral made), open until it is lifted or declined.

    Allowed whatever the handling's state: protection is needed after a referral or a
    closure as much as before.
    """
    kind = _kind_of(ctx, item)
    recipient = officer_text(recommended_to, "recommended_to", MAX_RECIPIENT_CHARS)
    note_text = officer_text(note, "note", MAX_NOTE_CHARS)
    review = _review_date(ctx, review_on) or ctx.today() + dt.timedelta(days=ctx.policy.deadlines.measure_review_days)
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        if not ctx.policy.lifecycle(opened.handling.office, opened.handling.kind).records_protection:
            # ECO's complaints, and a complaint about ECO's head wherever it is held: not OIG's own reports,
            # nor requests for advice (ECO Annual Report 2022 s.2: ECO recommends temporary measures).
            raise Conflict(NOT_A_COMPLAINT)
        measure_id = new_id("P")
        body = json.dumps({"kind": kind, "item": item, "recommended_to": recipient}).encode("utf-8")
        db.add(
            ProtectiveMeasure(
                id=measure_id,
                case_id=opened.case.id,
                office=officer.office,
                status=MeasureStatus.RECOMMENDED,
                recommended_on=ctx.today(),
                status_on=ctx.today(),
                review_on=review,
                body=seal_record(opened.key, body, opened.case.id, "measure", measure_id),
            )
        )
        if note_text:
            key = office_records.key_of(db, opened.handling, opened.holder_key)
            office_records.add(ctx, db, opened.handling, key, officer.officer_id, RecordKind.MEASURE_NOTE, note_text, measure_id)
        db.flush()
        refresh(ctx, db, opened.handling)
        audit.record(ctx, db, "measure recommended", officer.officer_id, opened.case.id, measure=measure_id)
    return measure_id


def update(
    ctx: Context,
    officer: OfficerSession,
    case_id: str,
    measure_id: object,
    status: object,
    review_on: object = None,
    note: object = "",
) -> MeasureStatus:
    """Move a measure on (implemented, declined, lifted), set its next review, add a note."""
    if not isinstance(measure_id, str) or not MEASURE_ID.fullmatch(measure_id):
        raise NotFound(N_("There is no such measure on this case."))
    if not isinstance(status, str) or status not in set(MeasureStatus):
        raise Conflict(N_("The status must be recommended, implemented, declined or lifted."))
    new_status = MeasureStatus(str(status))
    note_text = officer_text(note, "note", MAX_NOTE_CHARS)
    review = _review_date(ctx, review_on)
    with transaction(ctx.engine) as db:
        opened = open_for_office(db, officer, case_id, for_update=True)
        row = db.exec(
            select(ProtectiveMeasure).where(ProtectiveMeasure.id == measure_id, ProtectiveMeasure.case_id == opened.case.id)
        ).first()
        if row is None or row.office != officer.office:
            raise NotFound(N_("There is no such measure on this case."))
        if row.status == MeasureStatus.LIFTED:
            raise Conflict(N_("This measure was lifted: record a new one instead."))
        if row.status == MeasureStatus.DECLINED:
            raise Conflict(N_("This measure was declined: record a new one instead."))
        if new_status != row.status:
            row.status, row.status_on = new_status, ctx.today()
        row.review_on = None if new_status in FINAL else (review or row.review_on)
        db.add(row)
        if note_text:
            key = office_records.key_of(db, opened.handling, opened.holder_key)
            office_records.add(ctx, db, opened.handling, key, officer.officer_id, RecordKind.MEASURE_NOTE, note_text, row.id)
        db.flush()
        refresh(ctx, db, opened.handling)
        audit.record(ctx, db, "measure updated", officer.officer_id, opened.case.id, measure=row.id, status=new_status)
    return new_status


def migrate_old(db: Session, opened: OpenCase, office: str, recorded_on: dt.date, kind: str, item: str, review_days: int) -> str:
    """A measure recorded before revision 0005 (as a case action), as a measure of the protection file:
    recommended on the day it was recorded, to a recipient nobody wrote down, due for review."""
    measure_id = new_id("P")
    body = json.dumps({"kind": kind, "item": item, "recommended_to": ""}).encode("utf-8")
    db.add(
        ProtectiveMeasure(
            id=measure_id,
            case_id=opened.case.id,
            office=office,
            status=MeasureStatus.RECOMMENDED,
            recommended_on=recorded_on,
            status_on=recorded_on,
            review_on=recorded_on + dt.timedelta(days=review_days),
            body=seal_record(opened.key, body, opened.case.id, "measure", measure_id),
        )
    )
    return measure_id


MEASURES = (
    select(ProtectiveMeasure)
    .where(col(ProtectiveMeasure.case_id) == bindparam("case_id"))
    .order_by(col(ProtectiveMeasure.number))
)


def read(
    ctx: Context, db: Session, case_id: str, case_key: bytes, notes: tuple[OfficeRecord, ...] = (), notes_of: Office | None = None
) -> tuple[MeasureView, ...]:
    """The case's measures, oldest first; with `notes_of`, that office's own notes on its measures."""
    out = []
    rows = db.exec(MEASURES, params={"case_id": case_id}).all()
    for row in rows:
        body = json.loads(open_record(case_key, row.body, case_id, "measure", row.id))
        field = "protective_measures" if body["kind"] == "protective_measure" else "onward_referrals"
        own = tuple(n for n in notes if n.about == row.id) if notes_of == row.office else ()
        out.append(
            MeasureView(
                row.id,
                Office(row.office),
                body["kind"],
                body["item"],
                ctx.policy.label(field, body["item"]),
                body["recommended_to"],
                MeasureStatus(row.status),
                row.recommended_on.isoformat(),
                row.status_on.isoformat(),
                row.review_on.isoformat() if row.review_on else None,
                own,
            )
        )
    return tuple(out)
