"""Officer accounts: two-factor on every login, no code twice, throttling per account,
password change, recovery, and disabling an officer."""

import datetime as dt

import pyotp
import pytest
from sqlmodel import Session, select

from intake.service import audit, casework, officers, reporting
from intake.service.errors import AuthenticationFailed, Conflict, TooManyAttempts
from intake.store import LoginAttempts, Officer, WebSession
from policies import validate_report

from ..conftest import PASSWORDS
from .test_casework import Clock


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 5, 4, 8, 0, 10, tzinfo=dt.UTC))
    return ctx.now


def row(ctx, username) -> Officer:
    with Session(ctx.engine) as db:
        return db.exec(select(Officer).where(Officer.username == username)).one()


def code_at(ctx, username, offset_steps=0):
    return pyotp.TOTP(ctx.test_enrolments[username].totp_secret).at(ctx.now().timestamp() + 30 * offset_steps)


def test_the_password_is_checked_by_unlocking_the_key_alone_and_two_factor_is_required(ctx, clock):
    # No separate password hash: the key one Argon2id call derives must unlock the private key.
    assert {c.name for c in Officer.__table__.columns if "password" in c.name or "hash" in c.name} == {
        "password_salt",
        "key_by_password",
        "totp_by_password",
    }
    for code in ["", "000000", None, "12345678901", code_at(ctx, "eco-1", 5)]:
        with pytest.raises(AuthenticationFailed):
            officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code)
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
    for _ in range(2):  # two free failures, then each one locks the account for twice as long
        with pytest.raises(AuthenticationFailed):
            officers.log_in(ctx, "oig-1", "wrong password guess", code_at(ctx, "oig-1"))
    waits = []
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            officers.log_in(ctx, "oig-1", "wrong password guess", code_at(ctx, "oig-1"))
        with pytest.raises(TooManyAttempts) as locked:
            officers.log_in(ctx, "oig-1", PASSWORDS["oig-1"], code_at(ctx, "oig-1"))  # even the right password waits
        waits.append(locked.value.retry_after)
        clock.now += dt.timedelta(seconds=locked.value.retry_after)
    assert waits == [1, 2, 4, 8]
    # The other officer is not slowed: throttling is per account, never per address.
    officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], code_at(ctx, "eco-1"))
    officers.log_in(ctx, "oig-1", PASSWORDS["oig-1"], code_at(ctx, "oig-1"))
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
    recovery = ctx.test_enrolments["oig-1"].recovery_key
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
    assert answers["oig-1"] == answers["no-such-officer"] == [401, 401, 401, (429, 1), (429, 1)]
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
