"""Abuse budgets that identify no one: a global budget of reports, a budget of messages per
case, and a slowdown of case-room openings per passphrase.

Each budget is a counter per fixed window, kept in the database so every app process
shares it. A unit is spent in the transaction that does the work it pays for, so a
request that fails (no Argon2 slot, a refusal, a crash) costs nothing. Over budget, the
caller gets Busy: HTTP 503 with Retry-After and a message a person understands.

Nothing here looks at an address, and no row says when: a row's key is a keyed hash of
the budget and its day (the key is the instance's, never in the database), and the row
keeps only the day, for clearing old rows. Every row counts a whole UTC day, even for a
budget of so many an hour, so that even the instance's key gives back no hour (#24 item
15: with hour rows and instance.json, a backup said "08:00 UTC, 8 reports"). An hourly
budget accrues instead: by the n-th hour of the day, n times its hourly limit may have
been used that day. A day's count of reports is no more than the cases' received day says.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlmodel import Session, col, delete

from policies.text import N_, Text

from ..store import Budget, add_one, reading
from .context import Context
from .errors import Busy

SUBMISSIONS = "submissions"
KEEP_DAYS = 2


def _window(now: dt.datetime, length: dt.timedelta) -> dt.datetime:
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return epoch + ((now - epoch) // length) * length


@dataclass(frozen=True)
class Allowance:
    """One budget: `limit` units of `key` per window of `length`; `message` says so when it is spent."""

    key: str
    limit: int
    length: dt.timedelta
    message: str


def row_key(lookup_key: bytes, name: str, window: dt.datetime) -> str:
    """The row of budget `name` in the window starting at `window` (PROTOCOL.md section 9)."""
    data = f"{name}|{window.isoformat()}".encode()
    return hashlib.blake2b(data, key=lookup_key, digest_size=24, person=b"intake-budget").hexdigest()


DAY = dt.timedelta(days=1)


def _row_key(ctx: Context, allowance: Allowance) -> str:
    """The row of this budget's day: unreadable without the instance's key, and with it, no hour."""
    return row_key(ctx.instance.lookup_key, allowance.key, _window(ctx.now(), DAY))


def _allowed(ctx: Context, allowance: Allowance) -> int:
    """How many units the day's row may hold now: the limit of each window begun so far today."""
    now = ctx.now()
    begun = (now - _window(now, DAY)) // allowance.length + 1
    return allowance.limit * min(begun, max(1, DAY // allowance.length))


def _refusal(ctx: Context, allowance: Allowance) -> Busy:
    now = ctx.now()
    retry_after = max(1, int((_window(now, allowance.length) + allowance.length - now).total_seconds()) + 1)
    return Busy(retry_after, Text(allowance.message, minutes=-(-retry_after // 60)))


def check(ctx: Context, allowance: Allowance) -> None:
    """Raise Busy if the budget is spent now, without spending any: asked before an upload is taken."""
    with reading(ctx.engine) as db:
        row = db.get(Budget, _row_key(ctx, allowance))
        if allowance.limit < 1 or (row is not None and row.used >= _allowed(ctx, allowance)):
            raise _refusal(ctx, allowance)


def spend(ctx: Context, db: Session, allowance: Allowance) -> None:
    """Use one unit of the budget, in the caller's transaction (rolled back with it), or raise Busy.

    One statement: insert the window's row with one unit used, or add one to it while it is
    under the limit (an upsert, atomic against concurrent spenders on both databases); no row
    back means the budget is spent.
    """
    if allowance.limit < 1:
        raise _refusal(ctx, allowance)
    used = add_one(db, _row_key(ctx, allowance), ctx.today(), _allowed(ctx, allowance))
    if used is None:
        raise _refusal(ctx, allowance)
    if used == 1:  # a new window: the moment to forget old ones
        db.exec(delete(Budget).where(col(Budget.day) < ctx.today() - dt.timedelta(days=KEEP_DAYS)))


def submissions(ctx: Context) -> Allowance:
    return Allowance(
        SUBMISSIONS,
        ctx.settings.submissions_per_hour,
        dt.timedelta(hours=1),
        N_(
            "Very many reports are arriving right now, so this one was not accepted. Nothing was kept. "
            "Please try again in about {minutes} minutes."
        ),
    )


def messages(ctx: Context, case_id: str) -> Allowance:
    return Allowance(
        f"messages:{case_id}",
        ctx.settings.messages_per_case_per_day,
        dt.timedelta(days=1),
        N_("This case has had very many messages today, so this one was not sent. Please try again in about {minutes} minutes."),
    )


def case_room_openings(ctx: Context, lookup: bytes) -> Allowance:
    """Openings of one passphrase's case room; the key is recomputable only from the passphrase."""
    return Allowance(
        "opening:" + lookup.hex(),
        ctx.settings.openings_per_case_room_per_hour,
        dt.timedelta(hours=1),
        N_("This case room was opened very many times in the last hour. Please try again in about {minutes} minutes."),
    )
