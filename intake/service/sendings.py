"""One report, one message, per sending.

Every form that files something carries a one-time token (the API: an `Idempotency-Key`
header). The token's digest is kept, at day precision, in the same transaction as what it
filed: the same form sent again (a reload of the passphrase page over Tor, a double click,
a client's retry) files nothing and gets "already received". Nothing here says who sent it.
"""

import datetime as dt
import hashlib
import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from policies.text import N_

from ..store import Sending, reading
from .context import Context
from .errors import Conflict

KEEP_DAYS = 7
MIN_KEY_CHARS = 16
MAX_KEY_CHARS = 200


class AlreadyReceived(Conflict):
    """What this sending carried was filed already; nothing more was."""


ALREADY_REPORTED = N_("This report was already received. Nothing new was filed, and no new passphrase was made.")
ALREADY_SENT = N_("This message was already sent. It was not sent again.")


def new_token() -> str:
    """A token for a form about to be shown."""
    return secrets.token_urlsafe(24)


def _digest(token: str) -> bytes:
    return hashlib.blake2b(token.encode("utf-8"), digest_size=32, person=b"intake-sending").digest()


def valid(token: object) -> str | None:
    """The token if it is one a form or client could have made, else None (then nothing is deduplicated)."""
    if isinstance(token, str) and MIN_KEY_CHARS <= len(token) <= MAX_KEY_CHARS and token.isprintable():
        return token
    return None


def check(ctx: Context, token: str | None, already: str) -> None:
    """Refuse early (before an upload is stored) a sending that was received already."""
    if token is None:
        return
    with reading(ctx.engine) as db:
        if db.get(Sending, _digest(token)) is not None:
            raise AlreadyReceived(already)


def record(ctx: Context, db: Session, token: str | None, already: str) -> None:
    """Mark the sending received, in the transaction that files what it carried."""
    if token is None:
        return
    if db.get(Sending, _digest(token)) is not None:
        raise AlreadyReceived(already)
    db.exec(delete(Sending).where(col(Sending.seen_on) < ctx.today() - dt.timedelta(days=KEEP_DAYS)))
    db.add(Sending(digest=_digest(token), seen_on=ctx.today()))
    try:
        db.flush()
    except IntegrityError:  # a parallel resend got there first
        raise AlreadyReceived(already) from None
