"""Abuse budgets that identify no one: a global budget of reports, a budget of messages per
case, and a slowdown of case-room openings per passphrase.

Each budget is a counter per fixed window, kept in the database so every app process
shares it. Over budget, the caller gets Busy: HTTP 503 with Retry-After and a message
a person understands. Nothing here looks at an address.
"""

import datetime as dt
import hashlib

from sqlalchemy.exc import IntegrityError
from sqlmodel import delete

from ..markers import N_, Text
from ..store import Budget, transaction
from .context import Context
from .errors import Busy

SUBMISSIONS = "submissions"


def _window(now: dt.datetime, length: dt.timedelta) -> dt.datetime:
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    return epoch + ((now - epoch) // length) * length


def spend(ctx: Context, key: str, limit: int, length: dt.timedelta, message: str) -> None:
    """Use one unit of `key`'s budget in the current window, or raise Busy(message)."""
    now = ctx.now()
    start = _window(now, length)
    retry_after = max(1, int((start + length - now).total_seconds()) + 1)
    message = Text(message, minutes=-(-retry_after // 60))
    for _ in range(2):  # a parallel first spender may insert the row first; then count on it
        try:
            with transaction(ctx.engine) as db:
                row = db.get(Budget, key, with_for_update=True)
                if row is None:
                    # New keys come with new windows: the moment to forget windows long past.
                    db.exec(delete(Budget).where(Budget.window_start < now - dt.timedelta(days=2)))
                    db.add(Budget(key=key, window_start=start, used=1))
                    return
                row_start = row.window_start if row.window_start.tzinfo else row.window_start.replace(tzinfo=dt.timezone.utc)
                if row_start != start:
                    row.window_start, row.used = start, 1
                elif row.used >= limit:
                    raise Busy(retry_after, message)
                else:
                    row.used += 1
                db.add(row)
                return
        except IntegrityError:
            continue
    raise Busy(retry_after, message)


def submission(ctx: Context) -> None:
    s = ctx.settings
    spend(ctx, SUBMISSIONS, s.submissions_per_hour, dt.timedelta(hours=1),
          N_("Very many reports are arriving right now, so this one was not accepted. Nothing was kept. "
             "Please try again in about {minutes} minutes."))


def message(ctx: Context, case_id: str) -> None:
    spend(ctx, f"messages:{case_id}", ctx.settings.messages_per_case_per_day, dt.timedelta(days=1),
          N_("This case has had very many messages today, so this one was not sent. Please try again in about {minutes} minutes."))


def case_room_opening(ctx: Context, lookup: bytes) -> None:
    """Slow down one passphrase's case room; the key is recomputable only from the passphrase."""
    length = dt.timedelta(hours=1)
    window = _window(ctx.now(), length).isoformat().encode()
    key = "opening:" + hashlib.blake2b(lookup + window, digest_size=24, person=b"intake-budget").hexdigest()
    spend(ctx, key, ctx.settings.openings_per_case_room_per_hour, length,
          N_("This case room was opened very many times in the last hour. Please try again in about {minutes} minutes."))
