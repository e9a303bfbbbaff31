"""Officer accounts: two-factor on every login, no code twice, throttling per account,
password change, recovery, and disabling an officer."""

import datetime as dt
import threading

import pyotp
import pytest
from sqlmodel import Session, select

from intake.service import audit, casework, officers, reporting
from intake.service.errors import AuthenticationFailed, Conflict, TooManyAttempts
from intake.store import LoginAttempts, Officer, WebSession
from policies import validate_report

from ..clock import Clock
from ..conftest import PASSWORDS
from ..enrolments import enrolments


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 5, 4, 8, 0, 10, tzinfo=dt.UTC))
    return ctx.now


def row(ctx, username) -> Officer:
    with Session(ctx.engine) as db:
        return db.exec(select(Officer).where(Officer.username == username)).one()


def code_at(ctx, username, offset_steps=0):
    return pyotp.TOTP(enrolments(ctx)[username].totp_secret).at(ctx.now().timestamp() + 30 * offset_steps)


def test_the_password_is_checked_by_unlocking_the_key_alone_and_two_factor_is_required(ctx, clock):
    # No separate password hash: the key one Argon2id call derives must unlock the private key.
    assert {c.name for c in Officer.__table__.columns if "password" in c.name or "hash" in c.name} == {
        "password_salt",
        "key_by_password",
        "totp_by_password",
    }
    device = officers.device_token(ctx, "eco-1")  # the officer's own browser: its own, growing waits
    for code in ["", "000000", None, "12345678901", code_at(ctx, "eco-1", 5)]:
        with pytest.raises(AuthenticationFailed):
            officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code, device)
        clock.now += dt.timedelta(seconds=20)  # past the growing wait after each failure
    officers.current(ctx, officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1")))


def test_a_code_is_never_accepted_twice(ctx, clock):
    code = code_at(ctx, "eco-1")
    officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code)
    with pytest.raises(AuthenticationFailed):
        officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code)
    clock.now += dt.timedelta(seconds=30)
    with pytest.raises(AuthenticationFailed):  # the used code is still in the drift window, and still refused
        officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code)
    officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1"))
    # An older code, from before the last accepted one, is refused too.
    with pytest.raises(AuthenticationFailed):
        officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1", -1))


def test_failed_logins_slow_the_account_with_growing_delays(ctx, clock):
    device = officers.device_token(ctx, "oig-1")  # a browser oig-1 logged in from before
    for _ in range(2):  # two free failures, then each one locks the device for twice as long
        with pytest.raises(AuthenticationFailed):
            officers.log_in(ctx, "oig-1", "wrong password guess", code_at(ctx, "oig-1"), device)
    waits = []
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            officers.log_in(ctx, "oig-1", "wrong password guess", code_at(ctx, "oig-1"), device)
        with pytest.raises(TooManyAttempts) as locked:
            officers.log_in(ctx, "oig-1", PASSWORDS["oig-1"], code_at(ctx, "oig-1"), device)  # even the right password waits
        waits.append(locked.value.retry_after)
        clock.now += dt.timedelta(seconds=locked.value.retry_after)
    assert waits == [1, 2, 4, 8]
    # The other officer is not slowed: throttling is per account, never per address.
    officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1"))
    officers.log_in(ctx, "oig-1", PASSWORDS["oig-1"], code_at(ctx, "oig-1"), device)
    with Session(ctx.engine) as db:
        assert db.exec(select(LoginAttempts)).all() == []  # success forgets the failures


def test_wrong_codes_count_as_failures_too(ctx, clock):
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            officers.log_in(ctx, "oig-1", PASSWORDS["oig-1"], "999999")
    with pytest.raises(TooManyAttempts):
        officers.log_in(ctx, "oig-1", PASSWORDS["oig-1"], code_at(ctx, "oig-1"))


def test_password_change_re_encrypts_the_private_key(ctx, clock):
    filed = reporting.file_report(ctx, validate_report(ctx.policy, ["retaliation"], "still readable", {}))
    old = row(ctx, "eco-1")
    live = officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1"))
    clock.now += dt.timedelta(seconds=30)
    officers.change_password(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1"), "a completely new password")
    new = row(ctx, "eco-1")
    assert new.key_by_password != old.key_by_password and new.password_salt != old.password_salt
    assert new.key_by_recovery == old.key_by_recovery
    with pytest.raises(AuthenticationFailed):
        officers.current(ctx, live)  # other sessions ended
    clock.now += dt.timedelta(seconds=30)
    with pytest.raises(AuthenticationFailed):
        officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1"))
    clock.now += dt.timedelta(seconds=30)
    eco = officers.current(ctx, officers.log_in(ctx, "eco-1", "a completely new password", code_at(ctx, "eco-1")))
    assert casework.open_case(ctx, eco, filed.cases[0].id).description == "still readable"
    with pytest.raises(ValueError):
        officers.change_password(ctx, "eco-1", "a completely new password", code_at(ctx, "eco-1", 1), "short")


def test_the_recovery_key_restores_access_once(ctx, clock):
    recovery = enrolments(ctx)["oig-1"].recovery_key
    with pytest.raises(AuthenticationFailed):
        officers.recover(ctx, "oig-1", "AAAA-" + recovery[5:], code_at(ctx, "oig-1"), "a password after loss")
    new_recovery = officers.recover(
        ctx, "oig-1", recovery.lower().replace("-", " "), code_at(ctx, "oig-1"), "a password after loss"
    )
    assert new_recovery != recovery
    clock.now += dt.timedelta(seconds=30)
    officers.log_in(ctx, "oig-1", "a password after loss", code_at(ctx, "oig-1"))
    clock.now += dt.timedelta(seconds=30)
    with pytest.raises(AuthenticationFailed):  # the old recovery key is used up
        officers.recover(ctx, "oig-1", recovery, code_at(ctx, "oig-1"), "yet another password")
    clock.now += dt.timedelta(seconds=30)
    officers.recover(ctx, "oig-1", new_recovery, code_at(ctx, "oig-1"), "yet another password")
    assert [e["action"] for e in audit.entries(ctx.engine)].count("recovered with the recovery key") == 2


def test_disabling_an_officer_removes_their_wrap_and_sessions(ctx, clock):
    enrolment = officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1"), "eco-2", "second eco officer pw")
    secret = enrolment.totp_secret
    token = officers.log_in(ctx, "eco-2", "second eco officer pw", pyotp.TOTP(secret).at(ctx.now()))
    clock.now += dt.timedelta(seconds=30)
    with pytest.raises(Conflict):  # another office cannot
        officers.disable(ctx, "oig-1", PASSWORDS["oig-1"], code_at(ctx, "oig-1"), "eco-2")
    with pytest.raises(Conflict):  # nor oneself
        officers.disable(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1"), "eco-1")
    clock.now += dt.timedelta(seconds=30)
    officers.disable(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1"), "eco-2")
    disabled = row(ctx, "eco-2")
    assert not disabled.active and disabled.office_key_wrap is None
    with pytest.raises(AuthenticationFailed):
        officers.current(ctx, token)
    with pytest.raises(AuthenticationFailed):
        officers.log_in(ctx, "eco-2", "second eco officer pw", pyotp.TOTP(secret).at(ctx.now()))
    with Session(ctx.engine) as db:
        assert db.exec(select(WebSession).where(WebSession.subject == disabled.id)).all() == []


def test_an_unknown_username_is_throttled_exactly_like_a_known_one(ctx, clock):
    answers = {}
    for username in ("oig-1", "no-such-officer"):
        answers[username] = []
        for _ in range(5):
            try:
                officers.log_in(ctx, username, "wrong password guess", "123456")
            except AuthenticationFailed:
                answers[username].append(401)
            except TooManyAttempts as waiting:
                answers[username].append((429, waiting.retry_after))
    lock = officers.UNKNOWN_DEVICE_LOCK_SECONDS
    assert answers["oig-1"] == answers["no-such-officer"] == [401, 401, 401, (429, lock), (429, lock)]
    with Session(ctx.engine) as db:  # nothing typed is stored: the keys are keyed hashes
        keys = [r.key for r in db.exec(select(LoginAttempts)).all()]
    assert len(keys) == 2 and not any("oig" in k or "no-such" in k for k in keys)


def test_a_burst_of_concurrent_guesses_gets_no_more_evaluations_than_a_sequence(ctx, clock):
    """The review's attack: 16 guesses at once were all evaluated, because the lock was read before
    waiting for an Argon2 slot. The attempt is now counted inside the slot, before its evaluation."""
    from concurrent.futures import ThreadPoolExecutor

    from intake.service.context import Argon2Gate

    ctx.gate = Argon2Gate(concurrency=2, wait_seconds=30)

    def guess(n: int) -> str:
        try:
            officers.log_in(ctx, "oig-1", f"wrong password {n}", "123456")
        except AuthenticationFailed:
            return "evaluated"
        except TooManyAttempts:
            return "refused"
        return "logged in"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(guess, range(16)))
    assert outcomes.count("evaluated") == 3 and outcomes.count("refused") == 13  # as in a sequence: 401, 401, 401, 429


def test_one_argon2_call_whatever_is_wrong(ctx, clock, monkeypatch):
    from intake.service import officers as module

    calls = []
    real = module.derive_password_key
    monkeypatch.setattr(module, "derive_password_key", lambda *args: calls.append(1) or real(*args))
    cases = [
        ("oig-1", "wrong password guess", code_at(ctx, "oig-1")),  # the password
        ("oig-1", PASSWORDS["oig-1"], "000000"),  # the code
        ("nobody-here", "wrong password guess", "000000"),  # the username
    ]
    for username, password, code in cases:
        calls.clear()
        with pytest.raises(AuthenticationFailed):
            officers.log_in(ctx, username, password, code)
        assert len(calls) == 1, (username, password)
        clock.now += dt.timedelta(minutes=20)


class PausingClock(Clock):
    """The service's clock, which holds the thread named "login" at its `pause_at`-th reading of the
    time until the test lets it go: a real interleaving of two real threads, nothing replaced.

    A login reads the time once counting the attempt, once checking the code (after it read the
    officer's row and ran Argon2) and once starting its session."""

    def __init__(self, start: dt.datetime, pause_at: int) -> None:
        super().__init__(start)
        self.pause_at, self.calls = pause_at, 0
        self.barrier = threading.Barrier(2, timeout=60)

    def __call__(self) -> dt.datetime:
        if threading.current_thread().name == "login":
            self.calls += 1
            if self.calls == self.pause_at:
                self.barrier.wait()  # the login is here ...
                self.barrier.wait()  # ... and goes on once the change has committed
        return super().__call__()


@pytest.mark.parametrize("change", ["password", "recover"])
@pytest.mark.parametrize("pause_at", [2, 3], ids=["change-during-argon2", "change-before-session-starts"])
def test_a_login_racing_a_credential_change_keeps_no_session(ctx, change, pause_at):
    """#24 item 8: a login with the old password read the row before Argon2; a password change (or
    `recover`) that committed meanwhile ended the sessions that existed, not the one the login then
    started. However the race falls, no session started with the old credential works after it."""
    ctx.now = clock = PausingClock(dt.datetime(2026, 5, 4, 8, 0, 10, tzinfo=dt.UTC), pause_at)
    login_offset, change_offset = (0, -1) if pause_at == 2 else (-1, 0)  # each code newer than the last used
    outcome: dict[str, object] = {}
    login_code = code_at(ctx, "eco-1", login_offset)

    def log_in() -> None:
        try:
            outcome["token"] = officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], login_code)
        except AuthenticationFailed as refused:
            outcome["refused"] = refused

    login = threading.Thread(target=log_in, name="login")
    login.start()
    clock.barrier.wait()
    code = code_at(ctx, "eco-1", change_offset)
    if change == "password":
        officers.change_password(ctx, "eco-1", PASSWORDS["eco-1"], code, "a completely new password")
    else:
        officers.recover(ctx, "eco-1", enrolments(ctx)["eco-1"].recovery_key, code, "a completely new password")
    clock.barrier.wait()
    login.join(60)
    assert clock.calls >= pause_at and ("token" in outcome or "refused" in outcome)
    if "token" in outcome:
        with pytest.raises(AuthenticationFailed):
            officers.current(ctx, outcome["token"])
    clock.now += dt.timedelta(minutes=1)  # a login with the new password works
    officers.current(ctx, officers.log_in(ctx, "eco-1", "a completely new password", code_at(ctx, "eco-1")))


def test_a_session_of_a_disabled_officer_opens_nothing_even_if_it_started_after_the_disabling(ctx, clock):
    """#24 item 8: `current()` checks the officer row, not only that a session row exists."""
    officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1"), "eco-2", "second eco officer pw")
    clock.now += dt.timedelta(seconds=30)
    live = officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1"))
    with Session(ctx.engine) as db:
        officer = db.exec(select(Officer).where(Officer.username == "eco-1")).one()
        officer.active = False  # as `disable` leaves it, without its ending of sessions (which a race can outrun)
        db.add(officer)
        db.commit()
    with pytest.raises(AuthenticationFailed):
        officers.current(ctx, live)


def guess(ctx, username="oig-1", device=None) -> int:
    """One wrong guess at `username`: 401 if it was evaluated, 429 if refused."""
    try:
        officers.log_in(ctx, username, "wrong password guess", "123456", *([device] if device is not None else []))
    except AuthenticationFailed:
        return 401
    except TooManyAttempts:
        return 429
    raise AssertionError("a wrong guess logged in")


def test_someone_elses_guesses_never_lock_the_officer_out_of_their_own_device(ctx, clock):
    """#24 item 10: an unauthenticated client kept any officer locked out indefinitely (attempts during
    a lock counted nothing, the first after it doubled it). A device the officer logged in from has
    its own counter: with the password and a current code, they log in however long the guessing."""
    device = officers.device_token(ctx, "oig-1")
    answers = []
    for minute in range(120):  # two hours of guesses, several a minute, past every lock
        answers += [guess(ctx) for _ in range(5)]
        if minute % 30 == 29:
            clock.now += dt.timedelta(seconds=31)  # a fresh code
            officers.current(ctx, officers.log_in(ctx, "oig-1", PASSWORDS["oig-1"], code_at(ctx, "oig-1"), device))
        clock.now += dt.timedelta(seconds=30)
    assert answers.count(401) <= 3 + 120 // 15  # and the guesser got about one evaluation per lock


def test_guessing_from_unknown_devices_stays_bounded_and_the_lock_never_grows(ctx, clock):
    """#24 item 10: unknown devices share one counter per username, whose lock is fixed (never doubled);
    attempts refused during it still count, and the first failure after it locks again: about one
    evaluation per lock, however many requests."""
    answers = [guess(ctx) for _ in range(10)]
    assert answers == [401] * 3 + [429] * 7
    evaluated = 3
    waits = set()
    for _ in range(8 * 4):  # two hours, a guess every 15 seconds... in steps of a quarter of the lock
        clock.now += dt.timedelta(seconds=officers.UNKNOWN_DEVICE_LOCK_SECONDS // 4)
        try:
            officers.log_in(ctx, "oig-1", "wrong password guess", "123456")
        except AuthenticationFailed:
            evaluated += 1
        except TooManyAttempts as waiting:
            waits.add(waiting.retry_after)
    assert evaluated == 3 + 8  # one per lock
    assert max(waits) <= officers.UNKNOWN_DEVICE_LOCK_SECONDS  # never longer than the fixed lock
    with Session(ctx.engine) as db:
        (row,) = db.exec(select(LoginAttempts)).all()
    assert row.failures > evaluated  # the refused attempts were counted too


def test_a_device_token_counts_only_for_its_own_username(ctx, clock):
    """#24 item 10: another officer's device token, or a forged one, is an unknown device."""
    for device in (officers.device_token(ctx, "eco-1"), "AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA", "x" * 500, 7):
        for _ in range(3):
            guess(ctx, device=device)
        clock.now += dt.timedelta(seconds=1)
    assert guess(ctx) == 429  # all of them went to the shared counter


def test_the_command_line_is_never_locked_by_web_guesses(ctx, clock):
    """#24 item 10: `office rotate`, `disable` and the other commands answered 429 while someone guessed
    over the web: the colleagues who would remove an insider could not."""
    from intake.service import office_keys

    enrolment = officers.add_officer(ctx, "oig-1", PASSWORDS["oig-1"], code_at(ctx, "oig-1"), "oig-2", "second oig officer pw")
    clock.now += dt.timedelta(seconds=30)
    for username in ("oig-1", "oig-2"):  # the web is locked for both, and the clock stands still
        while guess(ctx, username) != 429:
            pass
    office_keys.rotate(ctx, "oig-1", PASSWORDS["oig-1"], code_at(ctx, "oig-1"))
    code = pyotp.TOTP(enrolment.totp_secret).at(ctx.now())
    officers.change_password(ctx, "oig-2", "second oig officer pw", code, "another oig-2 password")
    officers.disable(ctx, "oig-1", PASSWORDS["oig-1"], code_at(ctx, "oig-1", 1), "oig-2")
    assert guess(ctx) == 429  # and the web's lock is as it was
