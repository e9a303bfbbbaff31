"""Content-free notifications: officers hear that there is something to look at, never what.

- An officer gives an address on their own account page; it is sealed under the instance's
  notification key (crypto.seal_address), bound to their officer id, and shown to nobody else.
  The service must read it to send mail to it: a deliberate exception to "the server stores
  nothing it could read on its own", and the narrowest one (SECURITY.md, "Notifications").
- What arrives for an office (a report, a case referred in, a reporter's message) is counted as a
  NotificationEvent: the office, the case (to count only cases the officer can open) and the kind,
  with no time. The events are the queue: an officer's digest counts those past their `seen_event`,
  which moves only once the mail is accepted by the mail server, so nothing is lost while it is down.
- A digest says only counts ("2 new reports, 1 new message, 1 deadline due within 2 days") under
  one subject, never a case id, an office's words or a reporter's. It goes out once a period
  (MailSettings.interval_minutes), each time at a random delay into the period, so a mail's time
  says nothing of when a report came in. A failed send is tried again with back-off.
- `intake notify run` (a systemd timer, every few minutes) sends what is due; several runs at once,
  on one machine or many, send each digest once (a lease on the officer's row).
"""

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete, select

from crypto import DecryptionError, notification_key, open_address, seal_address
from policies.text import N_

from ..mailer import MailFailure, parse_address
from ..settings import MailSettings
from ..store import Handling, NotificationAddress, NotificationEvent, Officer, reading, transaction
from . import audit
from .access import can_open
from .context import Context
from .errors import Conflict
from .officers import OfficerSession

log = logging.getLogger("intake.notifications")

REPORT, MESSAGE = "report", "message"
MEASURE_REVIEW = "measure_review"  # the name policies/deadlines.py gives a measure's review date
# A sender's hold on an officer's row while it sends their digest; one that dies frees it by this time.
LEASE = dt.timedelta(minutes=10)
FIRST_RETRY = dt.timedelta(minutes=5)
NOT_AN_ADDRESS = N_("Give one e-mail address, such as name@example.org.")


@dataclass(frozen=True)
class Counts:
    """What a digest says: numbers only."""

    reports: int = 0
    messages: int = 0
    due_soon: int = 0  # deadlines due within `due_soon_days`
    overdue: int = 0
    reviews_due: int = 0  # protective measures whose review date is within `due_soon_days` or past
    due_soon_days: int = 2

    def quiet(self) -> bool:
        return not (self.reports or self.messages or self.due_soon or self.overdue or self.reviews_due)


@dataclass(frozen=True)
class Digest:
    """One digest to send: the address, the officer's language, the counts."""

    officer_id: str
    address: str
    language: str
    counts: Counts


@dataclass(frozen=True)
class RunResult:
    sent: int = 0
    quiet: int = 0  # digests due with nothing to say, not sent (MailSettings.send_when_quiet off)
    failed: int = 0


def _key(ctx: Context) -> bytes:
    return notification_key(ctx.instance.lookup_key)


def arrived(db: Session, case_id: str, office: str, kind: str) -> None:
    """Something new for `office` on `case_id`, in the caller's transaction: counted in the next digests
    of the office's officers who gave an address (none: nothing is written, nothing piles up)."""
    listening = db.exec(
        select(NotificationAddress.officer_id)
        .join(Officer, col(Officer.id) == NotificationAddress.officer_id)
        .where(col(Officer.office) == office, col(Officer.active))
        .limit(1)
    ).first()
    if listening is not None:
        db.add(NotificationEvent(office=office, case_id=case_id, kind=kind))


def _next_digest(ctx: Context, mail: MailSettings, after: dt.datetime) -> dt.datetime:
    """The start of the period after `after`'s, plus a random delay of up to `max_delay_minutes`.

    Periods are counted from 2000-01-01 UTC, so every officer's digest falls in the same period
    whatever happened; the delay is drawn anew for each digest."""
    period = dt.timedelta(minutes=mail.interval_minutes)
    origin = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    start = origin + ((after - origin) // period + 1) * period
    return start + dt.timedelta(seconds=secrets.randbelow(mail.max_delay_minutes * 60 + 1))


def address_of(ctx: Context, officer: OfficerSession) -> str | None:
    """The officer's own notification address, for their account page only."""
    with reading(ctx.engine) as db:
        row = db.get(NotificationAddress, officer.officer_id)
    return None if row is None else open_address(_key(ctx), row.sealed, officer.officer_id)


def set_address(ctx: Context, officer: OfficerSession, address: object, language: str) -> None:
    """Give or change the officer's address (Conflict naming the problem if it is not one address).

    A new address is due at once: the next `intake notify run` sends a first digest if there is
    something to say (deadlines; what arrives from now on), then one a period. The web process does
    not know the sender's period (only the timer's unit is configured for mail), so it sets no other
    time. Audit-logged without the address."""
    try:
        clean = parse_address(address) if isinstance(address, str) else None
    except ValueError:
        clean = None
    if clean is None:
        raise Conflict(NOT_AN_ADDRESS)
    sealed = seal_address(_key(ctx), clean, officer.officer_id)
    with transaction(ctx.engine) as db:
        latest = db.exec(select(func.max(NotificationEvent.number))).one() or 0
        row = db.get(NotificationAddress, officer.officer_id, with_for_update=True)
        if row is None:
            row = NotificationAddress(officer_id=officer.officer_id, sealed=sealed, seen_event=latest, next_digest_at=ctx.now())
            action = "notification address given"
        else:
            row.sealed, action = sealed, "notification address changed"
        row.language = language
        db.add(row)
        audit.record(ctx, db, action, officer.officer_id)


def remove_address(ctx: Context, officer: OfficerSession) -> bool:
    """No more digests for this officer; False if they had given no address."""
    with transaction(ctx.engine) as db:
        row = db.get(NotificationAddress, officer.officer_id, with_for_update=True)
        if row is None:
            return False
        db.delete(row)
        audit.record(ctx, db, "notification address removed", officer.officer_id)
        _forget_counted(db)
    return True


def counts(ctx: Context, db: Session, officer_id: str, office: str, seen: int, upto: int) -> Counts:
    """The officer's digest: events past `seen` up to `upto` on handlings they can open, and the
    deadlines of those handlings due within the policy's `due_soon_days` or past."""
    me = aliased(Officer)
    kinds = dict(
        db.exec(
            select(NotificationEvent.kind, func.count())
            .join(
                Handling,
                and_(col(Handling.case_id) == NotificationEvent.case_id, col(Handling.office) == NotificationEvent.office),
            )
            .join(me, col(me.id) == officer_id)
            .where(
                col(NotificationEvent.office) == office,
                col(NotificationEvent.number) > seen,
                col(NotificationEvent.number) <= upto,
                can_open(me, Handling),
            )
            .group_by(col(NotificationEvent.kind))
        ).all()
    )
    today = ctx.today()
    days = ctx.policy.deadlines.due_soon_days
    soon = today + dt.timedelta(days=days)
    due = db.exec(
        select(col(Handling.next_due), col(Handling.next_due_on))
        .join(me, col(me.id) == officer_id)
        .where(col(Handling.office) == office, col(Handling.next_due_on) <= soon, can_open(me, Handling))
    ).all()
    reviews = sum(1 for name, _ in due if name == MEASURE_REVIEW)
    others = [day for name, day in due if name != MEASURE_REVIEW and day is not None]
    return Counts(
        reports=kinds.get(REPORT, 0),
        messages=kinds.get(MESSAGE, 0),
        due_soon=sum(1 for day in others if day >= today),
        overdue=sum(1 for day in others if day < today),
        reviews_due=reviews,
        due_soon_days=days,
    )


def _due(ctx: Context, now: dt.datetime) -> list[str]:
    with reading(ctx.engine) as db:
        return list(
            db.exec(
                select(NotificationAddress.officer_id)
                .where(col(NotificationAddress.next_digest_at) <= now)
                .order_by(col(NotificationAddress.next_digest_at))
            ).all()
        )


def _claim(ctx: Context, officer_id: str, now: dt.datetime) -> bool:
    """Take the lease on the officer's row if it is still due and nobody holds it: one atomic update,
    so of several senders (processes, machines) exactly one wins."""
    free = (col(NotificationAddress.claimed_until).is_(None)) | (col(NotificationAddress.claimed_until) < now)
    with transaction(ctx.engine) as db:
        result = db.exec(
            update(NotificationAddress)
            .where(col(NotificationAddress.officer_id) == officer_id, col(NotificationAddress.next_digest_at) <= now, free)
            .values(claimed_until=now + LEASE)
        )
        return bool(result.rowcount == 1)


def _prepare(ctx: Context, officer_id: str) -> tuple[Digest, int] | None:
    """The digest of a claimed row and the last event it counts; None if the officer is gone or inactive."""
    with reading(ctx.engine) as db:
        row = db.get(NotificationAddress, officer_id)
        officer = db.get(Officer, officer_id)
        if row is None or officer is None:
            return None
        if not officer.active:
            return None
        upto = db.exec(select(func.max(NotificationEvent.number))).one() or 0
        found = counts(ctx, db, officer_id, officer.office, row.seen_event, upto)
        try:
            address = open_address(_key(ctx), row.sealed, officer_id)
        except DecryptionError:
            log.error("a notification address does not open for its officer: not sent; the officer should give it again")
            return None
        return Digest(officer_id, address, row.language, found), upto


def _settle(ctx: Context, officer_id: str, upto: int | None, failure: str | None, now: dt.datetime) -> None:
    """After a send (or a quiet digest): move the officer's row on and free it.

    Sent or quiet: `seen_event` becomes `upto` and the next digest is the next period's. Failed:
    nothing counted is marked seen, and the next try comes after a back-off that doubles from five
    minutes up to one period."""
    mail = ctx.settings.mail
    with transaction(ctx.engine) as db:
        row = db.get(NotificationAddress, officer_id, with_for_update=True)
        if row is None:
            return
        if failure is None:
            row.seen_event = max(row.seen_event, upto or 0)
            row.attempts, row.last_failure = 0, None
            row.next_digest_at = _next_digest(ctx, mail, now)
        else:
            row.attempts += 1
            wait = min(FIRST_RETRY * 2 ** (row.attempts - 1), dt.timedelta(minutes=mail.interval_minutes))
            row.next_digest_at, row.last_failure = now + wait, failure
        row.claimed_until = None
        db.add(row)
        if failure is None and upto is not None:
            audit.record(ctx, db, "notification digest sent", None, to=officer_id)
        _forget_counted(db)


def _forget_counted(db: Session) -> None:
    """Delete the events every officer of their office with an address has had counted (none: all of them)."""
    watermarks = dict(
        db.exec(
            select(Officer.office, func.min(NotificationAddress.seen_event))
            .join(Officer, col(Officer.id) == NotificationAddress.officer_id)
            .where(col(Officer.active))
            .group_by(col(Officer.office))
        ).all()
    )
    offices = db.exec(select(NotificationEvent.office).distinct()).all()
    for office in offices:
        limit = watermarks.get(office)
        statement = delete(NotificationEvent).where(col(NotificationEvent.office) == office)
        if limit is not None:
            statement = statement.where(col(NotificationEvent.number) <= limit)
        db.exec(statement)


Deliver = Callable[[Digest], None]


def run(ctx: Context, deliver: Deliver) -> RunResult:
    """Send every digest that is due now through `deliver` (which raises MailFailure when it fails)."""
    mail = ctx.settings.mail
    sent = quiet = failed = 0
    now = ctx.now()
    for officer_id in _due(ctx, now):
        if not _claim(ctx, officer_id, now):
            continue  # another sender has it
        prepared = _prepare(ctx, officer_id)
        if prepared is None:
            _settle(ctx, officer_id, None, None, now)
            continue
        digest, upto = prepared
        if digest.counts.quiet() and not mail.send_when_quiet:
            _settle(ctx, officer_id, upto, None, now)
            quiet += 1
            continue
        try:
            deliver(digest)
        except MailFailure as failure:
            # The step only: the server's words may quote the address.
            log.warning("a notification digest was not sent (%s); it is tried again later", failure.stage)
            _settle(ctx, officer_id, None, failure.stage, now)
            failed += 1
            continue
        _settle(ctx, officer_id, upto, None, now)
        sent += 1
    return RunResult(sent, quiet, failed)


def pending(ctx: Context) -> dict[str, int]:
    """For `intake notify run`'s summary: how many officers have an address, how many wait for a retry."""
    with reading(ctx.engine) as db:
        total = db.exec(select(func.count()).select_from(NotificationAddress)).one()
        retrying = db.exec(
            select(func.count()).select_from(NotificationAddress).where(col(NotificationAddress.attempts) > 0)
        ).one()
    return {"addresses": int(total), "retrying": int(retrying)}
