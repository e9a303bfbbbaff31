"""One report, one message, per sending.

Every form that files something carries a one-time token (the API: an `Idempotency-Key`
header). The token's digest is kept, at day precision, in the same transaction as what it
filed: the same form sent again (a reload of the passphrase page over Tor, a double click,
a client's retry) files nothing and gets "already received". Nothing here says who sent it.

A token cannot tell the back button from a new report: the form pages are sent with
`Cache-Control: no-store`, so Back fetches the form again with a fresh token, and a browser
that restores what was typed (the forms ask it not to, with autocomplete="off") would send
the same words under it. So the browser session also keeps a keyed digest of each report it
filed (`report_digest`, in the session cookie, gone when the browser closes): the same report
from the same browser session, without a file (a browser never restores a chosen file), is
"already received" too. A different report, from a second tab or later, is filed. Messages
have their own rule in reporting.reporter_writes (the case key is in the session there, so the
text itself can be compared).

A report's sending (the form's token, or the API's Idempotency-Key) also holds its receipt (the
passphrase, the cases and the files), sealed under a key from the token, from the filing's transaction
until the answer has been prepared (`hold`, `release`): when the database went away after the filing
committed but before the reporter saw the answer (a failover), the form comes back with a 503 and the
same token, and sending it again gets the passphrase once (`take_held`) instead of "already received"
and no way back into the report; so does an API client's retry of the same report under its key.
"""

import dataclasses
import datetime as dt
import hashlib
import json
import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from crypto import CryptoError, held_receipt_key, open_sealed, seal
from policies import ReportInput
from policies.text import N_

from ..store import Sending, reading, transaction
from .context import Context
from .errors import Conflict

KEEP_DAYS = 7
MIN_KEY_CHARS = 16
MAX_KEY_CHARS = 200
KEEP_REPORTS = 8  # the reports a browser session remembers it filed (a few tabs' worth)


class AlreadyReceived(Conflict):
    """What this sending carried was filed already; nothing more was."""


class SameAsLast(Conflict):
    """A message with the very words of the reporter's latest message on the case, and no file: most likely
    the last one again, restored by the browser. Sent only when the reporter says they mean it."""


ALREADY_REPORTED = N_("This report was already received. Nothing new was filed, and no new passphrase was made.")
ALREADY_SENT = N_("This message was already sent. It was not sent again.")
SAME_AS_LAST = N_(
    "You already sent this message: it is the last one you wrote here. It was not sent again. If you do mean to "
    "send the same words again, tick the box under it and press Send."
)


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


HELD = "held-receipt"


def hold(ctx: Context, db: Session, token: str | None, receipt: dict[str, object], bound: str = "") -> None:
    """Hold a report's receipt with its sending (recorded already, in this transaction) until `release`.

    `bound` (a report's `report_digest`, for the API): the receipt opens only for a resend of that same
    report, so that whoever guesses a client's Idempotency-Key does not get the passphrase with it."""
    row = db.get(Sending, _digest(token)) if token else None
    if token is None or row is None:
        return
    row.held = seal(_held_key(ctx, token, bound), json.dumps(receipt).encode("utf-8"), HELD)
    db.add(row)


def _held_key(ctx: Context, token: str, bound: str) -> bytes:
    return held_receipt_key(f"{token}\n{bound}" if bound else token, ctx.instance.lookup_key)


def release(ctx: Context, token: str | None) -> None:
    """Forget a held receipt: its passphrase page is ready, and a passphrase is shown once."""
    if token is None:
        return
    with transaction(ctx.engine) as db:
        row = db.get(Sending, _digest(token))
        if row is not None and row.held is not None:
            row.held = None
            db.add(row)


def take_held(ctx: Context, token: str | None, bound: str = "") -> dict[str, object] | None:
    """The receipt a sending holds, once (it is forgotten as it is read); None when it holds none, or holds
    one bound to another report (`hold`): that one stays, for its own sender's resend."""
    if token is None:
        return None
    with transaction(ctx.engine) as db:
        row = db.get(Sending, _digest(token), with_for_update=True)
        if row is None or row.held is None:
            return None
        try:
            receipt = open_sealed(_held_key(ctx, token, bound), row.held, HELD)
        except CryptoError:
            return None
        row.held = None
        db.add(row)
    return json.loads(receipt)


def report_digest(ctx: Context, report: ReportInput) -> str:
    """What a report says (its concerns, accounts, answers and identity), as a digest keyed with the instance's
    lookup key: the session cookie can hold it without telling whoever holds the browser what was reported,
    nor letting them test a guess."""
    said = json.dumps(dataclasses.asdict(report), sort_keys=True, default=sorted, ensure_ascii=False).encode("utf-8")
    return hashlib.blake2b(said, key=ctx.instance.lookup_key, digest_size=16, person=b"intake-resent").hexdigest()


def filed_before(sent: object) -> list[str]:
    """The digests a session cookie holds of the reports its browser filed (anything else: none)."""
    return [d for d in sent if isinstance(d, str)][-KEEP_REPORTS:] if isinstance(sent, list) else []


def refuse_resent(digest: str, sent: object, has_files: bool) -> None:
    """Refuse a report this browser session filed already, sent again without a file (the back button)."""
    if not has_files and digest in filed_before(sent):
        raise AlreadyReceived(ALREADY_REPORTED)


def remember(digest: str, sent: object) -> list[str]:
    """The session's digests with this report's, the oldest forgotten past KEEP_REPORTS."""
    return [*(d for d in filed_before(sent) if d != digest), digest][-KEEP_REPORTS:]
