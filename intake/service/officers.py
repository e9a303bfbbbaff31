"""Officers: enrolment (the key ceremony), logging in with a password and a TOTP code,
changing the password, recovering with the recovery key, and disabling an account.

An officer's session holds their office's private key, unlocked at login, so every case
wrapped to that office opens for them and no other does (casework.py). A login needs
all of: the password (the key one Argon2id call derives from it must unlock the officer's
private key), and a TOTP code never used before. Attempts are counted per username, known
or not, never per address, and each one past the third doubles the wait before the next.
"""

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete, select

from crypto import (
    CryptoError,
    derive_password_key,
    generate_keypair,
    generate_recovery_key,
    lock_officer_key,
    open_sealed,
    parse_recovery_key,
    seal,
    unlock_officer_key,
    unwrap_case_key,
    unwrap_office_key,
    unwrap_restriction_key,
    wrap_office_key,
)
from policies import Office, SessionKind
from policies.text import N_, Text

from ..store import (
    CaseKeyWrap,
    Handling,
    LoginAttempts,
    NotificationAddress,
    Officer,
    RestrictionWrap,
    insert_if_absent,
    office_holder,
    office_public_key,
    reading,
    transaction,
)
from ..store import Office as OfficeRow
from . import audit, notices, restriction, sessions
from .access import lock_office, only_openers, openers
from .casefiles import recused
from .context import Context
from .errors import AuthenticationFailed, Conflict, TooManyAttempts

LOGIN_FAILED = N_("The username, password or authentication code is not right.")
NOT_RESTRICTED_HERE = N_("Not a restricted case of your office, so nothing was changed: {cases}")
MIN_PASSWORD_CHARS = 12
TOTP_STEP_SECONDS = 30
FREE_FAILURES = 3
MAX_LOCK_SECONDS = 15 * 60
# Failures from devices that never logged in as this officer share one counter, whose lock is this
# long and never grows: nobody else's guesses can lock the officer out for longer, and a guesser
# gets about one evaluation per lock (96 a day for each username), against password and code.
UNKNOWN_DEVICE_LOCK_SECONDS = 15 * 60
ISSUER = "intake"


@dataclass(frozen=True)
class OfficerSession:
    officer_id: str
    username: str
    office: Office
    office_key: bytes
    officer_key: bytes  # the officer's own private key: it opens the restricted cases wrapped to them


@dataclass(frozen=True)
class Enrolment:
    """What a new officer is shown once: the recovery key and the TOTP secret to scan."""

    officer_id: str
    username: str
    office: Office
    recovery_key: str
    totp_secret: str

    @property
    def totp_uri(self) -> str:
        return pyotp.TOTP(self.totp_secret).provisioning_uri(name=self.username, issuer_name=f"{ISSUER} {self.office}")


@dataclass(frozen=True)
class Unlocked:
    officer: Officer
    private_key: bytes
    totp_secret: str


def check_new_password(password: object) -> str:
    """The password if an officer may have it; ValueError saying what one is, if not."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS or len(password) > 1024:
        raise ValueError(f"an officer password has {MIN_PASSWORD_CHARS} to 1024 characters")
    return password


def check_username(username: str) -> str:
    """The username if an officer may have it; ValueError saying what one is, if not."""
    if not username or len(username) > 64 or not username.replace("-", "").replace(".", "").replace("_", "").isalnum():
        raise ValueError("a username is 1-64 letters, digits, dots, dashes or underscores")
    return username


def _lock(ctx: Context, officer: Officer, private_key: bytes, totp_secret: str, password: str) -> None:
    """(Re)lock the officer's private key and TOTP secret under a new password."""
    officer.password_salt = secrets.token_bytes(16)
    password_key = ctx.gate.run(derive_password_key, password, officer.password_salt, ctx.instance.argon2)
    officer.key_by_password = lock_officer_key(private_key, password_key, officer.id, "password")
    officer.totp_by_password = seal(password_key, totp_secret.encode("ascii"), "officer-totp", officer.id, "password")


def _lock_recovery(officer: Officer, private_key: bytes, totp_secret: str) -> str:
    """A fresh recovery key for the officer's private key and TOTP secret; its text, shown once."""
    recovery_text, recovery_key = generate_recovery_key()
    officer.key_by_recovery = lock_officer_key(private_key, recovery_key, officer.id, "recovery")
    officer.totp_by_recovery = seal(recovery_key, totp_secret.encode("ascii"), "officer-totp", officer.id, "recovery")
    return recovery_text


def _new_officer(ctx: Context, username: str, office: Office, password: str, office_private: bytes) -> tuple[Officer, Enrolment]:
    check_new_password(password)
    check_username(username)
    keys, totp_secret = generate_keypair(), pyotp.random_base32()
    officer = Officer(
        id=f"officer-{secrets.token_hex(6)}",
        username=username,
        office=office,
        public_key=keys.public,
        password_salt=b"",
        key_by_password=b"",
        key_by_recovery=b"",
        office_key_wrap=wrap_office_key(office_private, keys.public, office),
    )
    _lock(ctx, officer, keys.private, totp_secret, password)
    recovery = _lock_recovery(officer, keys.private, totp_secret)
    return officer, Enrolment(officer.id, username, office, recovery, totp_secret)


def found_office(ctx: Context, code: str, username: str, password: str) -> Enrolment:
    """Create an office's keypair and its first officer (at `intake init`)."""
    if code not in ctx.policy.offices:
        raise ValueError(f"unknown office {code}")
    code = Office(code)
    office_keys = generate_keypair()
    officer, enrolment = _new_officer(ctx, username, code, password, office_keys.private)
    with transaction(ctx.engine) as db:
        audit.ensure_head(db, ctx.instance)
        db.flush()
        db.add(OfficeRow(code=code, public_key=office_keys.public))
        db.flush()
        officer.head = True  # the founding officer heads the office until `intake officer role` says otherwise
        db.add(officer)
        db.flush()
        audit.record(ctx, db, "office founded", officer.id, office=code)
    return enrolment


@dataclass(frozen=True)
class RoleChange:
    """What `set_role` did. Naming a head also gives them the office's restricted cases that the
    deciding officer holds (DESIGN.md: a head named later receives the wraps of cases not about
    them from a head who holds them); each case the new head did not receive is listed with why."""

    username: str
    head: bool
    first_head: bool = False  # the office had no head: a member named the first
    shared: tuple[str, ...] = ()  # wrapped to the new head now
    already: tuple[str, ...] = ()  # the new head could open them before
    withheld: tuple[str, ...] = ()  # the deciding officer said they are about the new head
    declared: tuple[str, ...] = ()  # the new head declared a conflict of interest on them (and holds no new key)
    stepped_away: tuple[str, ...] = ()  # the deciding officer declared a conflict on them: not theirs to give
    rescued: tuple[str, ...] = ()  # ... unless nobody could open them at all: given, so that someone can again
    not_held: tuple[str, ...] = ()  # the deciding officer holds no key to them: another holder must share them


def set_role(
    ctx: Context,
    by_username: str,
    by_password: str,
    by_code: str,
    username: str,
    head: bool,
    withhold: tuple[str, ...] = (),
    dry_run: bool = False,
) -> RoleChange:
    """Make an officer the head of their office, or a member again (ECO Charter 4.6: the head
    receives the office's declarations of conflicts of interest).

    Decided by a head of the same office; an office that has no head yet takes its first from
    any of its members. An office always keeps at least one head. A head made a member keeps
    the restricted cases wrapped to them (a key given cannot be taken back), so no case loses
    the officers who can open it.

    Naming a head, the deciding officer (whose private key the password unlocks here) wraps to
    the new head each restricted case of the office they hold, except the cases in `withhold`
    (the deciding officer says they are about the new head: checked against the office's
    restricted cases, so a mistyped id refuses everything rather than share the case it meant),
    the cases the new head declared a conflict on, and those the deciding officer stepped away
    from (except a case nobody can open at all, which an earlier version let a sole head leave so:
    the new head is its way back). Each case given or withheld is in the audit chain; the complainant is told in the case
    room, as for any sharing. `dry_run`: work out the same and change nothing (a key given cannot
    be taken back, so the CLI lets the deciding head see the list first).
    """
    if withhold and not head:
        raise Conflict(N_("Cases are withheld only from an officer being named head."))
    unlocked = authenticate(ctx, by_username, by_password, by_code, at_the_server=True)  # the CLI's
    try:
        return _set_role(ctx, unlocked, username, head, frozenset(withhold), dry_run)
    except _Rehearsed as rehearsal:
        return rehearsal.change


class _Rehearsed(Exception):
    """Raised out of a dry run's transaction, so that everything it did is rolled back."""

    def __init__(self, change: RoleChange) -> None:
        super().__init__()
        self.change = change


def _set_role(ctx: Context, unlocked: Unlocked, username: str, head: bool, withhold: frozenset[str], dry_run: bool) -> RoleChange:
    by = unlocked.officer
    with transaction(ctx.engine) as db:
        lock_office(db, by.office)
        members = db.exec(select(Officer).where(Officer.office == by.office, col(Officer.active))).all()
        heads = {m.id for m in members if m.head}
        if heads and by.id not in heads:
            raise Conflict(N_("Only a head of the office can change who heads it."))
        target = next((m for m in members if m.username == username), None)
        if target is None:
            raise Conflict(N_("No active officer of your office has that username."))
        if not head and heads == {target.id}:
            raise Conflict(N_("An office keeps at least one head: name another first."))
        target.head = head
        db.add(target)
        audit.record(ctx, db, "role changed", by.id, of=target.id, head="yes" if head else "no")
        if head:
            giver = next(m for m in members if m.id == by.id)
            change = _hand_over(ctx, db, giver, unlocked.private_key, target, withhold, first_head=not heads)
        else:
            change = RoleChange(target.username, False)
        if dry_run:
            raise _Rehearsed(change)
        return change


def _hand_over(
    ctx: Context, db: Session, giver: Officer, giver_key: bytes, head: Officer, withhold: frozenset[str], first_head: bool
) -> RoleChange:
    """Give a newly named head the office's restricted cases the giver holds (see set_role)."""
    restricted = db.exec(
        select(Handling)
        .where(Handling.office == giver.office, col(Handling.restricted_key).is_not(None))
        .order_by(col(Handling.case_id))
    ).all()
    unknown = sorted(withhold - {h.case_id for h in restricted})
    if unknown:
        raise Conflict(Text(NOT_RESTRICTED_HERE, cases=", ".join(unknown)))
    outcomes = ("shared", "rescued", "already", "withheld", "declared", "stepped_away", "not_held")
    sorted_out: dict[str, list[str]] = {k: [] for k in outcomes}
    notice = notices.Notice.SHARED if giver.head else notices.Notice.NEW_READER
    for handling in restricted:
        case_id = handling.case_id
        if recused(db, case_id, head.id):
            outcome = "declared"
        elif restriction.holds(db, case_id, handling.office, head.id):
            outcome = "already"
        elif case_id in withhold:
            outcome = "withheld"
            audit.record(ctx, db, "restricted case withheld", giver.id, case_id, of=head.id)
        elif recused(db, case_id, giver.id) and openers(db, case_id, handling.office):
            outcome = "stepped_away"
        else:
            keys = _restricted_keys(db, handling, giver, giver_key)
            if keys is None:
                outcome = "not_held"
            elif recused(db, case_id, giver.id):
                # Nobody can open it (left so before declarations were guarded): the new head is its way back.
                restriction.give(ctx, db, handling, keys[0], keys[1], giver.id, head, notice, new_head="yes", orphaned="yes")
                outcome = "rescued"
            else:
                restriction.give(ctx, db, handling, keys[0], keys[1], giver.id, head, notice, new_head="yes")
                outcome = "shared"
        sorted_out[outcome].append(case_id)
    return RoleChange(head.username, True, first_head, **{k: tuple(v) for k, v in sorted_out.items()})


def _restricted_keys(db: Session, handling: Handling, holder: Officer, holder_key: bytes) -> tuple[bytes, bytes] | None:
    """(case key, restricted private key) of a restricted handling, opened with a holder's own private
    key; None where it was never wrapped to them."""
    given = db.get(RestrictionWrap, (handling.case_id, handling.office, holder.id))
    wrap = db.get(CaseKeyWrap, (handling.case_id, office_holder(handling.office)))
    if given is None or wrap is None:
        return None
    try:
        private = unwrap_restriction_key(holder_key, given.wrap, handling.case_id, handling.office)
        return unwrap_case_key(private, wrap.wrap, handling.case_id), private
    except CryptoError:
        return None


def _heads(db: Session, office: str) -> int:
    """How many active heads the office has (restricted cases are wrapped to them when filed)."""
    return len(db.exec(select(Officer.id).where(Officer.office == office, col(Officer.active), col(Officer.head))).all())


def offices_without_head(engine: Engine) -> list[str]:
    """The founded offices with no active head (possible after migration 0008 on an office of several officers)."""
    with reading(engine) as db:
        founded = set(db.exec(select(OfficeRow.code)).all())
        headed = set(db.exec(select(Officer.office).where(col(Officer.active), col(Officer.head))).all())
    return sorted(founded - headed)


def _only_holder_of(db: Session, officer_id: str) -> list[str]:
    """The restricted cases no other active officer holds a wrap for: disabling this one would lose them."""
    other, colleague = aliased(RestrictionWrap), aliased(Officer)
    held_by_another = (
        select(col(other.case_id))
        .join(colleague, col(colleague.id) == other.officer_id)
        .where(
            col(other.case_id) == RestrictionWrap.case_id,
            col(other.office) == RestrictionWrap.office,
            col(other.officer_id) != officer_id,
            col(colleague.active),
        )
        .exists()
    )
    return sorted(
        db.exec(
            select(RestrictionWrap.case_id)
            .join(Officer, col(Officer.id) == RestrictionWrap.officer_id)
            .where(RestrictionWrap.officer_id == officer_id, col(Officer.active), ~held_by_another)
        ).all()
    )


def _step_of(totp: pyotp.TOTP, code: str, now: dt.datetime, last_step: int | None) -> int | None:
    """The time step `code` belongs to (this one or either neighbour), if it is newer than `last_step`."""
    current = int(now.timestamp()) // TOTP_STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if (last_step is None or step > last_step) and hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
            return step
    return None


def _row_for_update(db: Session, officer_id: str) -> Officer:
    """The officer's row, locked for this transaction (it exists: officers are disabled, never deleted)."""
    officer = db.get(Officer, officer_id, with_for_update=True)
    if officer is None:
        raise AuthenticationFailed(LOGIN_FAILED)
    return officer


def login_key(lookup_key: bytes, username: str) -> str:
    """The row that counts failed logins under `username`, known or not (PROTOCOL.md section 9)."""
    return hashlib.blake2b(username.encode("utf-8"), key=lookup_key, digest_size=24, person=b"intake-login").hexdigest()


def decoy_salt(lookup_key: bytes, username: str) -> bytes:
    """The salt an unknown username's Argon2 call uses, so it costs what a known one does (PROTOCOL.md section 9)."""
    return hashlib.blake2b(username.encode("utf-8"), key=lookup_key, digest_size=16, person=b"intake-decoy").digest()


def device_token(ctx: Context, username: str) -> str:
    """A token for the browser or client an officer just logged in from (OWASP's device cookie).

    `<nonce>.<tag>` (base64url): a random nonce and a keyed digest binding it to the username, so
    nothing is stored for it, it says nothing of whose it is, and it counts only for that username.
    """
    nonce = secrets.token_bytes(16)
    return f"{_b64(nonce)}.{_b64(device_tag(ctx.instance.lookup_key, username, nonce))}"


def device_tag(lookup_key: bytes, username: str, nonce: bytes) -> bytes:
    """What binds a device token's nonce to the username (PROTOCOL.md section 9)."""
    message = len(nonce).to_bytes(1, "big") + nonce + username.encode("utf-8")
    return hashlib.blake2b(message, key=lookup_key, digest_size=16, person=b"intake-device").digest()


def device_key(lookup_key: bytes, nonce: bytes) -> str:
    """The row that counts a known device's failed logins (PROTOCOL.md section 9)."""
    return hashlib.blake2b(nonce, key=lookup_key, digest_size=24, person=b"intake-device-n").hexdigest()


def _known_device(ctx: Context, username: str, device: object) -> bytes | None:
    """The nonce of `device` if it is a token this instance gave a login as `username`, else None."""
    if not isinstance(device, str) or len(device) > 64 or device.count(".") != 1:
        return None
    try:
        nonce, tag = (base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in device.split("."))
    except ValueError:
        return None
    if len(nonce) != 16 or not hmac.compare_digest(tag, device_tag(ctx.instance.lookup_key, username, nonce)):
        return None
    return nonce


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class Counter:
    """The failures an attempt counts under: its device's own, or those of every unknown device."""

    key: str
    doubling: bool  # a known device's own lock grows; the shared one never does


def _counter(ctx: Context, username: str, device: object) -> Counter:
    nonce = _known_device(ctx, username, device)
    if nonce is None:
        return Counter(login_key(ctx.instance.lookup_key, username), doubling=False)
    return Counter(device_key(ctx.instance.lookup_key, nonce), doubling=True)


def _count_attempt(ctx: Context, counter: Counter) -> None:
    """Count this attempt before it is evaluated, or refuse it while its counter is locked.

    Counted inside the Argon2 slot: concurrent guesses queue for the slot and each sees the count
    the ones before it left, so a burst gets no more evaluations than a sequence. A device that
    once logged in as this officer has a counter of its own (nobody else's guesses reach it):
    past FREE_FAILURES, each of its failures locks it for twice as long as the last, up to
    MAX_LOCK_SECONDS. Every other device shares the username's counter (a keyed hash, known
    username or not, so nothing typed is stored): past FREE_FAILURES it locks for
    UNKNOWN_DEVICE_LOCK_SECONDS, never longer; an attempt refused during that lock still counts
    (it is no free probe, and keeps the failures remembered) but never lengthens it, so the next
    failure after it locks again at once. Success clears its counter.
    """
    now = ctx.now()
    forget_after = now + dt.timedelta(seconds=2 * max(MAX_LOCK_SECONDS, UNKNOWN_DEVICE_LOCK_SECONDS))
    wait: int | None = None
    with transaction(ctx.engine) as db:
        db.exec(delete(LoginAttempts).where(col(LoginAttempts.forget_after) < now))
        insert_if_absent(db, LoginAttempts(key=counter.key, failures=0, forget_after=forget_after))
        row = db.get(LoginAttempts, counter.key, with_for_update=True, populate_existing=True)
        if row is None:  # a concurrent success cleared it between the two statements
            row = LoginAttempts(key=counter.key, failures=0, forget_after=forget_after)
        locked_until = _aware(row.locked_until)
        row.forget_after = forget_after
        if locked_until is not None and locked_until > now:
            wait = max(1, int((locked_until - now).total_seconds() + 0.999))
            if not counter.doubling:  # a device's own lock grows with its evaluated failures only
                row.failures += 1
        else:
            row.failures += 1
            beyond = row.failures - FREE_FAILURES
            if beyond >= 0:
                seconds = min(MAX_LOCK_SECONDS, 2**beyond) if counter.doubling else UNKNOWN_DEVICE_LOCK_SECONDS
                row.locked_until = now + dt.timedelta(seconds=seconds)
        db.add(row)
    if wait is not None:  # raised once the count is committed
        raise TooManyAttempts(wait)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def credential(officer: Officer) -> str:
    """A digest of the officer's locks as they stand: it changes whenever the password or recovery
    key does (each is a fresh salt or key and a fresh lock), and is kept in every session started.

    A session is only as good as the credential it was started with: `current()` compares it with
    the row on every request, so a login that read the row before a password change committed (its
    Argon2 call ran meanwhile) keeps no session, however the race falls (#24 item 8).
    """
    locks = officer.password_salt + officer.key_by_password + officer.key_by_recovery
    return hashlib.blake2b(locks, digest_size=16, person=b"intake-locks").hexdigest()


def authenticate(
    ctx: Context,
    username: object,
    password: object,
    code: object,
    recovery: str | None = None,
    device: object = None,
    at_the_server: bool = False,
) -> Unlocked:
    """Check every factor and return the unlocked officer; one message for every failure.

    Whatever is wrong (an unknown username, the password, the code), an attempt costs the
    same: one Argon2 call, which derives the key that unlocks the officer's private key; the
    unlocking is the password check. With `recovery` (a recovery key's text) instead of the
    password, the recovery lock is used. `device`: the token an earlier login from this browser
    or client was given (`device_token`), which counts failures apart from everyone else's.
    `at_the_server`: the `intake` command, run on the server by someone who can read
    instance.json and the database anyway: it is never refused for failures over the web (the
    colleagues who would disable an insider must not be locked out by that insider's guesses),
    and its own are not counted there.
    """
    if (
        not (isinstance(username, str) and isinstance(password, str) and isinstance(code, str))
        or len(username) > 64
        or len(password) > 1024
        or len(code) > 10
        or not username.isprintable()
    ):
        raise AuthenticationFailed(LOGIN_FAILED)
    counter = None if at_the_server else _counter(ctx, username, device)
    with ctx.gate.slot():
        if counter is not None:
            _count_attempt(ctx, counter)
        with reading(ctx.engine) as db:
            officer = db.exec(select(Officer).where(Officer.username == username)).first()
        usable = officer is not None and officer.active and officer.office_key_wrap is not None
        salt = officer.password_salt if officer is not None and usable else decoy_salt(ctx.instance.lookup_key, username)
        password_key = derive_password_key(password, salt, ctx.instance.argon2)
    if officer is None or not usable:
        raise AuthenticationFailed(LOGIN_FAILED)
    try:
        if recovery is not None:
            key = parse_recovery_key(recovery)
            private = unlock_officer_key(officer.key_by_recovery, key, officer.id, "recovery")
            if officer.totp_by_recovery is None:
                raise Conflict("Two-factor authentication is not set up for this account: run `intake officer totp`.")
            totp_secret = open_sealed(key, officer.totp_by_recovery, "officer-totp", officer.id, "recovery").decode("ascii")
        else:
            private = unlock_officer_key(officer.key_by_password, password_key, officer.id, "password")
            if officer.totp_by_password is None:
                raise Conflict("Two-factor authentication is not set up for this account: run `intake officer totp`.")
            totp_secret = open_sealed(password_key, officer.totp_by_password, "officer-totp", officer.id, "password").decode(
                "ascii"
            )
    except CryptoError:
        raise AuthenticationFailed(LOGIN_FAILED) from None
    step = _step_of(pyotp.TOTP(totp_secret), code.strip(), ctx.now(), officer.last_totp_step)
    if step is None:
        raise AuthenticationFailed(LOGIN_FAILED)
    with transaction(ctx.engine) as db:
        fresh = _row_for_update(db, officer.id)
        if fresh.last_totp_step is not None and step <= fresh.last_totp_step:  # a parallel login used it first
            raise AuthenticationFailed(LOGIN_FAILED)
        if credential(fresh) != credential(officer) or not fresh.active:  # changed or disabled during Argon2
            raise AuthenticationFailed(LOGIN_FAILED)
        fresh.last_totp_step = step
        db.add(fresh)
        if counter is not None:
            db.exec(delete(LoginAttempts).where(col(LoginAttempts.key) == counter.key))
    return Unlocked(fresh, private, totp_secret)


def log_in(
    ctx: Context, username: object, password: object, code: object, device: object = None, at_the_server: bool = False
) -> str:
    """An officer session token, after the password and a fresh TOTP code (`authenticate` says what
    `device` and `at_the_server` are)."""
    unlocked = authenticate(ctx, username, password, code, device=device, at_the_server=at_the_server)
    officer = unlocked.officer  # the row as it stood when its lock was opened: its credential is the one proven
    try:
        office_key = unwrap_office_key(unlocked.private_key, officer.office_key_wrap or b"", officer.office)
    except CryptoError:
        raise AuthenticationFailed(LOGIN_FAILED) from None
    token = sessions.start(
        ctx,
        SessionKind.OFFICER,
        {
            "officer_id": officer.id,
            "username": officer.username,
            "office": officer.office,
            "office_key": office_key.hex(),
            "officer_key": unlocked.private_key.hex(),
            "credential": credential(officer),
        },
        subject=officer.id,
    )
    with transaction(ctx.engine) as db:
        audit.record(ctx, db, "login", officer.id)
    return token


def add_officer(
    ctx: Context, sponsor_username: str, sponsor_password: str, sponsor_code: str, username: str, password: str
) -> Enrolment:
    """The key ceremony: a member of the office unlocks the office key and wraps it for a new officer."""
    check_new_password(password)
    sponsor = authenticate(ctx, sponsor_username, sponsor_password, sponsor_code, at_the_server=True)  # the CLI's
    office_private = unwrap_office_key(sponsor.private_key, sponsor.officer.office_key_wrap or b"", sponsor.officer.office)
    officer, enrolment = _new_officer(ctx, username, Office(sponsor.officer.office), password, office_private)
    with transaction(ctx.engine) as db:
        if db.exec(select(Officer).where(Officer.username == username)).first():
            raise ValueError(f"the username {username!r} is taken")
        # The office key as it is now, under the lock rotation takes (store.office_public_key): a rotation
        # committed since the sponsor logged in has replaced the key their login unwrapped (#24 item 2).
        office_public_key(db, sponsor.officer.office)
        sponsor_row = db.get(Officer, sponsor.officer.id, populate_existing=True)
        wrap = sponsor_row.office_key_wrap if sponsor_row else None
        current = unwrap_office_key(sponsor.private_key, wrap or b"", officer.office)
        officer.office_key_wrap = wrap_office_key(current, officer.public_key, officer.office)
        db.add(officer)
        db.flush()
        audit.record(ctx, db, "officer added", sponsor.officer.id, new_officer=officer.id, office=sponsor.officer.office)
    return enrolment


def change_password(ctx: Context, username: str, password: str, code: str, new_password: str) -> None:
    """Re-lock the private key and TOTP secret under a new password; other sessions end."""
    check_new_password(new_password)
    unlocked = authenticate(ctx, username, password, code, at_the_server=True)  # only the CLI changes a password
    _relock(ctx, unlocked, new_password, "password changed")


def recover(ctx: Context, username: str, recovery_key: str, code: str, new_password: str) -> str:
    """After a lost password: the recovery key and a TOTP code set a new password.

    The recovery key is used up: a new one is returned, to be shown once.
    """
    check_new_password(new_password)
    unlocked = authenticate(ctx, username, "", code, recovery=recovery_key, at_the_server=True)  # the CLI's
    recovery = _relock(ctx, unlocked, new_password, "recovered with the recovery key", new_recovery=True)
    assert recovery is not None
    return recovery


def _relock(ctx: Context, unlocked: Unlocked, new_password: str, action: str, new_recovery: bool = False) -> str | None:
    with transaction(ctx.engine) as db:
        officer = _row_for_update(db, unlocked.officer.id)
        _lock(ctx, officer, unlocked.private_key, unlocked.totp_secret, new_password)
        recovery = _lock_recovery(officer, unlocked.private_key, unlocked.totp_secret) if new_recovery else None
        db.add(officer)
        audit.record(ctx, db, action, officer.id)
    sessions.end_all(ctx, unlocked.officer.id)
    return recovery


def set_up_totp(ctx: Context, username: str, password: str) -> str:
    """Give an account that has none (made before two-factor existed) its TOTP secret."""
    with reading(ctx.engine) as db:
        officer = db.exec(select(Officer).where(Officer.username == username)).first()
    if officer is None or officer.totp_by_password is not None:
        raise Conflict("This account has no missing two-factor set-up.")
    password_key = ctx.gate.run(derive_password_key, password, officer.password_salt, ctx.instance.argon2)
    try:
        private = unlock_officer_key(officer.key_by_password, password_key, officer.id, "password")
    except CryptoError:
        raise AuthenticationFailed(LOGIN_FAILED) from None
    secret = pyotp.random_base32()
    with transaction(ctx.engine) as db:
        fresh = _row_for_update(db, officer.id)
        fresh.totp_by_password = seal(password_key, secret.encode("ascii"), "officer-totp", officer.id, "password")
        _lock_recovery(fresh, private, secret)
        db.add(fresh)
        audit.record(ctx, db, "two-factor set up", officer.id)
    return secret


def disable(ctx: Context, sponsor_username: str, sponsor_password: str, sponsor_code: str, username: str) -> None:
    """A member of the same office disables an officer: no office-key wrap, no sessions, no logins.

    Refused while some case would be left with nobody who can open it (access.py): the officer is
    the only active, non-recused officer who can open it, or holds the only wrap of a restricted
    case. The office key itself is not rotated: what the officer could read before, they may
    have kept (SECURITY.md).
    """
    sponsor = authenticate(ctx, sponsor_username, sponsor_password, sponsor_code, at_the_server=True)  # the CLI's
    with transaction(ctx.engine) as db:
        # The whole office is locked (access.lock_office): two heads disabling each other at once must
        # not leave it without one, nor a case without anyone who can open it.
        lock_office(db, sponsor.officer.office)
        members = db.exec(select(Officer).where(Officer.office == sponsor.officer.office)).all()
        officer = next((m for m in members if m.username == username), None)
        if officer is None or officer.id == sponsor.officer.id:
            raise Conflict("Only another member of the same office can disable an officer.")
        if officer.head and _heads(db, officer.office) == 1:
            raise Conflict("This is the office's only head: make another officer head first (`intake officer role`).")
        orphans = sorted(set(_only_holder_of(db, officer.id)) | set(only_openers(db, officer.id)))
        if orphans:
            raise Conflict(
                "Only this officer can open these cases, which would be left with nobody: first a head shares the "
                "restricted ones with another officer, a recusal on them is lifted, or another officer is enrolled: "
                + ", ".join(orphans)
            )
        officer.active, officer.office_key_wrap = False, None
        db.add(officer)
        # Their wraps of restricted cases go too; what they opened before, they may have kept (SECURITY.md).
        db.exec(delete(RestrictionWrap).where(col(RestrictionWrap.officer_id) == officer.id))
        db.exec(delete(NotificationAddress).where(col(NotificationAddress.officer_id) == officer.id))  # no more digests
        audit.record(ctx, db, "officer disabled", sponsor.officer.id, disabled=officer.id)
    sessions.end_all(ctx, officer.id)


def current(ctx: Context, token: str | None) -> OfficerSession:
    """The officer of a live session whose credential is still the officer's own.

    Ending the sessions when a password changes (`sessions.end_all`) is not enough: a login that
    raced the change can start its session after that. So every request also compares the
    credential the session was started with against the row (one primary-key read), and an
    officer disabled meanwhile is refused too.
    """
    with reading(ctx.engine) as db:
        payload = sessions.resume(ctx, token, SessionKind.OFFICER, db)
        if "officer_key" not in payload or "credential" not in payload:  # started by an earlier version
            raise AuthenticationFailed(sessions.NOT_LOGGED_IN)
        row = db.get(Officer, payload["officer_id"])
    if row is None or not row.active or not hmac.compare_digest(credential(row), payload["credential"]):
        raise AuthenticationFailed(sessions.NOT_LOGGED_IN)
    return OfficerSession(
        payload["officer_id"],
        payload["username"],
        Office(payload["office"]),
        bytes.fromhex(payload["office_key"]),
        bytes.fromhex(payload["officer_key"]),
    )


def log_out(ctx: Context, token: str | None) -> None:
    try:
        officer = current(ctx, token)
    except AuthenticationFailed:
        return
    sessions.end(ctx, token)
    with transaction(ctx.engine) as db:
        audit.record(ctx, db, "logout", officer.officer_id)
