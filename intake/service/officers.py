"""Officers: how they come to be (enrolment, the key ceremony) and how they log in.

An officer's session holds their office's private key, unlocked at login with their
password, so every case wrapped to that office opens for them and no other does
(casework.py).
"""

import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from crypto import (
    CryptoError,
    derive_password_key,
    generate_keypair,
    generate_recovery_key,
    lock_officer_key,
    unlock_officer_key,
    unwrap_office_key,
    wrap_office_key,
)

from ..store import Office, Officer, transaction
from . import audit, sessions
from .context import Context
from .errors import AuthenticationFailed

OFFICER = "officer"
LOGIN_FAILED = "The username or password is not right."
MIN_PASSWORD_CHARS = 12


@dataclass(frozen=True)
class OfficerSession:
    officer_id: str
    username: str
    office: str
    office_key: bytes


@dataclass(frozen=True)
class Enrolment:
    officer_id: str
    username: str
    office: str
    recovery_key: str


def _new_officer(ctx: Context, username: str, office: str, password: str, office_private: bytes) -> tuple[Officer, str]:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"an officer password has at least {MIN_PASSWORD_CHARS} characters")
    if not username or len(username) > 64 or not username.replace("-", "").replace(".", "").replace("_", "").isalnum():
        raise ValueError("a username is 1-64 letters, digits, dots, dashes or underscores")
    officer_id = f"officer-{secrets.token_hex(6)}"
    keys = generate_keypair()
    salt = secrets.token_bytes(16)
    password_key = ctx.gate.run(derive_password_key, password, salt, ctx.instance.argon2)
    recovery_text, recovery_key = generate_recovery_key()
    return Officer(
        id=officer_id,
        username=username,
        office=office,
        public_key=keys.public,
        password_salt=salt,
        key_by_password=lock_officer_key(keys.private, password_key, officer_id, "password"),
        key_by_recovery=lock_officer_key(keys.private, recovery_key, officer_id, "recovery"),
        office_key_wrap=wrap_office_key(office_private, keys.public, office),
    ), recovery_text


def found_office(ctx: Context, code: str, username: str, password: str) -> Enrolment:
    """Create an office's keypair and its first officer (at `intake init`)."""
    if code not in ctx.policy.offices:
        raise ValueError(f"unknown office {code}")
    office_keys = generate_keypair()
    officer, recovery = _new_officer(ctx, username, code, password, office_keys.private)
    with transaction(ctx.engine) as db:
        audit.ensure_head(db)
        db.flush()
        db.add(Office(code=code, public_key=office_keys.public))
        db.flush()
        db.add(officer)
        db.flush()
        audit.record(ctx, db, "office founded", officer.id, office=code)
    return Enrolment(officer.id, username, code, recovery)


def _unlock(ctx: Context, officer: Officer | None, password: str) -> bytes:
    """The office private key, if `password` is this officer's; else AuthenticationFailed."""
    if officer is None or not officer.active or officer.office_key_wrap is None:
        # Same Argon2 work as a real attempt, so timing does not say which usernames exist.
        ctx.gate.run(derive_password_key, password, bytes(16), ctx.instance.argon2)
        raise AuthenticationFailed(LOGIN_FAILED)
    password_key = ctx.gate.run(derive_password_key, password, officer.password_salt, ctx.instance.argon2)
    try:
        private = unlock_officer_key(officer.key_by_password, password_key, officer.id, "password")
        return unwrap_office_key(private, officer.office_key_wrap, officer.office)
    except CryptoError:
        raise AuthenticationFailed(LOGIN_FAILED) from None


def add_officer(ctx: Context, sponsor_username: str, sponsor_password: str, username: str, password: str) -> Enrolment:
    """The key ceremony: a member of the office unlocks the office key and wraps it for a new officer."""
    with Session(ctx.engine) as db:
        sponsor = db.exec(select(Officer).where(Officer.username == sponsor_username)).first()
    office_private = _unlock(ctx, sponsor, sponsor_password)
    officer, recovery = _new_officer(ctx, username, sponsor.office, password, office_private)
    with transaction(ctx.engine) as db:
        if db.exec(select(Officer).where(Officer.username == username)).first():
            raise ValueError(f"the username {username!r} is taken")
        db.add(officer)
        db.flush()
        audit.record(ctx, db, "officer added", sponsor.id, new_officer=officer.id, office=sponsor.office)
    return Enrolment(officer.id, username, sponsor.office, recovery)


def log_in(ctx: Context, username: object, password: object) -> str:
    """An officer session token, or AuthenticationFailed with one message for every failure."""
    if not isinstance(username, str) or not isinstance(password, str) or len(username) > 64 or len(password) > 1024:
        raise AuthenticationFailed(LOGIN_FAILED)
    with Session(ctx.engine) as db:
        officer = db.exec(select(Officer).where(Officer.username == username)).first()
    office_key = _unlock(ctx, officer, password)
    token = sessions.start(ctx, OFFICER, {"officer_id": officer.id, "username": officer.username, "office": officer.office, "office_key": office_key.hex()})
    with transaction(ctx.engine) as db:
        audit.record(ctx, db, "login", officer.id)
    return token


def current(ctx: Context, token: str | None) -> OfficerSession:
    payload = sessions.resume(ctx, token, OFFICER)
    return OfficerSession(payload["officer_id"], payload["username"], payload["office"], bytes.fromhex(payload["office_key"]))


def log_out(ctx: Context, token: str | None) -> None:
    try:
        officer = current(ctx, token)
    except AuthenticationFailed:
        return
    sessions.end(ctx, token)
    with transaction(ctx.engine) as db:
        audit.record(ctx, db, "logout", officer.officer_id)
