"""Abuse budgets that identify no one: a global budget of reports, a budget of messages per
case, and a slowdown of case-room openings per passphrase.

Each budget is a counter per fixed window, kept in the database so every app process
shares it. Over budget, the caller gets Busy: HTTP 503 with Retry-After and a message
a person understands. Nothing here looks at an address.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from policies.text import N_, Text

from ..store import Budget, transaction
from .context import Context
from .errors import Busy

SUBMISSIONS = "submissions"


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


def _refusal(ctx: Context, allowance: Allowance) -> Busy:
    now = ctx.now()
    retry_after = max(1, int((_window(now, allowance.length) + allowance.length - now).total_seconds()) + 1)
    return Busy(retry_after, Text(allowance.message, minutes=-(-retry_after // 60)))


def _used(row: Budget | None, start: dt.datetime) -> int:
    if row is None:
        return 0
    row_start = row.window_start if row.window_start.tzinfo else row.window_start.replace(tzinfo=dt.UTC)
    return row.used if row_start == start else 0


def check(ctx: Context, allowance: Allowance) -> None:
    """Raise Busy if the budget is spent now, without spending any: asked before an upload is taken."""
    start = _window(ctx.now(), allowance.length)
    with Session(ctx.engine) as db:
        if _used(db.get(Budget, allowance.key), start) >= allowance.limit:
            raise _refusal(ctx, allowance)


def spend(ctx: Context, allowance: Allowance) -> None:
    """Use one unit of the budget in the current window, or raise Busy with its message."""
    now = ctx.now()
    start = _window(now, allowance.length)
    for _ in range(2):  # a parallel first spender may insert the row first; then count on it
        try:
            with transaction(ctx.engine) as db:
                row = db.get(Budget, allowance.key, with_for_update=True)
                if row is None and allowance.limit < 1:
                    raise _refusal(ctx, allowance)
                if row is None:
                    # New keys come with new windows: the moment to forget windows long past.
                    db.exec(delete(Budget).where(col(Budget.window_start) < now - dt.timedelta(days=2)))
                    db.add(Budget(key=allowance.key, window_start=start, used=1))
                    return
                used = _used(row, start)
                if used >= allowance.limit:
                    raise _refusal(ctx, allowance)
                row.window_start, row.used = start, used + 1
                db.add(row)
                return
        except IntegrityError:
            continue
    raise _refusal(ctx, allowance)


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
    length = dt.timedelta(hours=1)
    window = _window(ctx.now(), length).isoformat().encode()
    key = "opening:" + hashlib.blake2b(lookup + window, digest_size=24, person=b"intake-budget").hexdigest()
    return Allowance(
        key,
        ctx.settings.openings_per_case_room_per_hour,
        length,
        N_("This case room was opened very many times in the last hour. Please try again in about {minutes} minutes."),
    )
