"""Server-side sessions whose contents only the holder of the cookie can read.

A token is `<id>.<key>` (base64url). The database keeps BLAKE2b(id) and the session's
payload (the unlocked case or office keys) sealed under `key`; the key lives only in
the reporter's or officer's cookie or Bearer header. A copy of the database therefore
holds no usable session, and any app process can serve any request.
"""

import base64
import datetime as dt
import hashlib
import json
import secrets
from contextlib import nullcontext

from sqlalchemy import bindparam
from sqlmodel import Session, col, delete

from crypto import CryptoError, open_sealed, seal
from policies import SessionKind
from policies.text import N_

from ..store import WebSession, reading, transaction
from .context import Context
from .errors import AuthenticationFailed

NOT_LOGGED_IN = N_("Please log in.")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _coarse(moment: dt.datetime) -> dt.datetime:
    """Round up to the next 10 minutes: the stored expiry should not tell the time of a visit."""
    step = dt.timedelta(minutes=10)
    floor = moment.replace(second=0, microsecond=0) - dt.timedelta(minutes=moment.minute % 10)
    return floor + step


PURGE_EVERY = dt.timedelta(minutes=1)


def _purge_expired(ctx: Context, db: Session, now: dt.datetime) -> None:
    """Delete the sessions that have ended, at most once a minute per process: not on every login
    (a statement each, scanning the table), and an ended row opens nothing anyway (resume refuses it)."""
    if ctx.sessions_purged_at is not None and now - ctx.sessions_purged_at < PURGE_EVERY:
        return
    ctx.sessions_purged_at = now
    db.exec(delete(WebSession).where((col(WebSession.expires_at) < now) | (col(WebSession.idle_until) < now)))


def _digest(session_id: bytes) -> bytes:
    return hashlib.blake2b(session_id, digest_size=32, person=b"intake-session").digest()


RECEIPT_MINUTES = 30


def idle_minutes(ctx: Context, kind: SessionKind) -> int:
    """How long a session of `kind` lives without use: officers' short, reporters' long enough to write over Tor."""
    return {
        SessionKind.OFFICER: ctx.settings.officer_idle_minutes,
        SessionKind.REPORTER: ctx.settings.reporter_idle_minutes,
        SessionKind.RECEIPT: RECEIPT_MINUTES,
    }[kind]


def start(ctx: Context, kind: SessionKind, payload: dict, subject: str | None = None, db: Session | None = None) -> str:
    """A new session; returns the token to hand to the browser or API client.

    With `db`, the session is made in the caller's transaction (committed, or not, with what
    it pays for: a case-room opening's budget unit).
    """
    session_id, key = secrets.token_bytes(16), secrets.token_bytes(32)
    digest = _digest(session_id)
    now = ctx.now()
    sealed = seal(key, json.dumps(payload).encode("utf-8"), "session", kind, digest.hex())
    with nullcontext(db) if db is not None else transaction(ctx.engine) as db:
        _purge_expired(ctx, db, now)
        db.add(
            WebSession(
                id_digest=digest,
                kind=kind,
                subject=subject,
                payload=sealed,
                idle_until=_coarse(now + dt.timedelta(minutes=idle_minutes(ctx, kind))),
                expires_at=_coarse(now + dt.timedelta(minutes=ctx.settings.session_absolute_minutes)),
            )
        )
    return f"{_b64(session_id)}.{_b64(key)}"


def resume(ctx: Context, token: str | None, kind: SessionKind, db: Session | None = None) -> dict:
    """The payload of a live session of `kind`, or AuthenticationFailed.

    With `db`, a `reading` session of the caller's (one connection for the resume and the page):
    a change to the session row (its idle limit moved, or it ended) is committed on it.
    """
    try:
        id_text, key_text = (token or "").split(".")
        session_id, key = _unb64(id_text), _unb64(key_text)
    except ValueError:
        raise AuthenticationFailed(NOT_LOGGED_IN) from None
    if len(session_id) != 16 or len(key) != 32:
        raise AuthenticationFailed(NOT_LOGGED_IN)
    digest, now = _digest(session_id), ctx.now()
    # Read, and written only when something changed: most requests resume without a write.
    with nullcontext(db) if db is not None else reading(ctx.engine) as db:
        row = db.get(WebSession, digest)
        if row is None or row.kind != kind:
            raise AuthenticationFailed(NOT_LOGGED_IN)
        expired = row.idle_until < now or row.expires_at < now
        if expired:
            db.delete(row)
            db.commit()
        else:
            try:
                payload = json.loads(open_sealed(key, row.payload, "session", kind, digest.hex()))
            except CryptoError:
                raise AuthenticationFailed(NOT_LOGGED_IN) from None
            idle_until = min(row.expires_at, _coarse(now + dt.timedelta(minutes=idle_minutes(ctx, kind))))
            if idle_until != row.idle_until:  # coarse times change at most every 10 minutes
                row.idle_until = idle_until
                db.add(row)
                db.commit()
    if expired:
        raise AuthenticationFailed(N_("Your session has ended. Please log in again."))
    return payload


def end_all(ctx: Context, subject: str) -> None:
    """End every session of an officer (disabled, or their password changed)."""
    with transaction(ctx.engine) as db:
        db.exec(delete(WebSession).where(col(WebSession.subject) == subject))


ENDING = delete(WebSession).where(col(WebSession.id_digest) == bindparam("digest"))


def end(ctx: Context, token: str | None) -> None:
    """Forget a session (logout). Unknown tokens are ignored."""
    try:
        session_id = _unb64((token or "").split(".")[0])
    except ValueError:
        return
    # One statement: written at once on PostgreSQL (autocommit), in a transaction of its own on SQLite.
    with reading(ctx.engine) as db:
        db.exec(ENDING, params={"digest": _digest(session_id)})
        db.commit()
