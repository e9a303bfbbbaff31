"""Every wrap to an office key is made under the lock `intake office rotate` takes (#24 item 2).

A filing (or a consent to share an identity) that read the office's public key while a rotation ran
wrapped to the old key, which the rotation never saw: the case showed in the inbox, answered 404 to
the office, and opened with the old key. Here the race is made certain: the wrapping transaction,
having read the office key, waits until the rotation has committed (or, with the lock, until it is
clear the rotation waits for it), and only then writes its wrap.
"""

import datetime as dt
import threading
from collections.abc import Callable

import pyotp
import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from crypto import CryptoError, derive_password_key, unlock_officer_key, unwrap_case_key, unwrap_identity_key, unwrap_office_key
from intake.service import casework, office_keys, officers, reporting
from intake.store import CaseKeyWrap, Identity, Officer, office_holder
from policies import validate_report

from ..clock import Clock
from ..conftest import PASSWORDS
from ..enrolments import enrolments

WAIT_FOR_ROTATION = 3.0  # seconds the wrapping transaction gives the rotation to commit before it goes on


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def eco_code(ctx) -> str:
    ctx.now.now += dt.timedelta(seconds=31)
    return pyotp.TOTP(enrolments(ctx)["eco-1"].totp_secret).at(ctx.now())


def eco_office_key(ctx) -> bytes:
    """The ECO key as eco-1's row holds it now (a database copy taken at this moment, and the password)."""
    with Session(ctx.engine) as db:
        row = db.exec(select(Officer).where(Officer.username == "eco-1")).one()
    password_key = derive_password_key(PASSWORDS["eco-1"], row.password_salt, ctx.instance.argon2)
    private = unlock_officer_key(row.key_by_password, password_key, row.id, "password")
    return unwrap_office_key(private, row.office_key_wrap, "ECO")


def racing_rotation(ctx, action: Callable[[], object], pause_before: str) -> object:
    """Run `action` in a thread; when it is about to run SQL starting with `pause_before` (its office key
    read, its wrap not yet written), rotate ECO's key in another thread and let `action` go on once
    the rotation committed, or after WAIT_FOR_ROTATION if the rotation waits for `action`'s lock."""
    code = eco_code(ctx)
    paused, rotated, results, errors = threading.Event(), threading.Event(), [], []

    def hook(conn, cursor, statement, parameters, context, executemany) -> None:
        if threading.current_thread().name == "acting" and statement.startswith(pause_before) and not paused.is_set():
            paused.set()
            rotated.wait(WAIT_FOR_ROTATION)

    def act() -> None:
        try:
            results.append(action())
        except Exception as error:  # reported below
            errors.append(error)

    def rotate() -> None:
        paused.wait(30)
        try:
            office_keys.rotate(ctx, "eco-1", PASSWORDS["eco-1"], code)
        except Exception as error:  # reported below
            errors.append(error)
        rotated.set()

    event.listen(ctx.engine, "before_cursor_execute", hook)
    try:
        threads = [threading.Thread(target=act, name="acting"), threading.Thread(target=rotate, name="rotating")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        event.remove(ctx.engine, "before_cursor_execute", hook)
    assert paused.is_set() and rotated.is_set() and not errors, errors
    return results[0]


def test_a_report_filed_while_the_office_key_rotates_opens_for_the_office(ctx, clock):
    """#24 item 2: a report filed while `intake office rotate` ran was wrapped to the old office key."""
    old_key = eco_office_key(ctx)
    report = validate_report(ctx.policy, ["retaliation"], "my contract was not renewed after I spoke up", {})
    filed = racing_rotation(ctx, lambda: reporting.file_report(ctx, report), "INSERT INTO case_file")
    case_id = filed.cases[0].id
    new_key = eco_office_key(ctx)
    assert new_key != old_key
    with Session(ctx.engine) as db:
        wrap = db.get(CaseKeyWrap, (case_id, office_holder("ECO"))).wrap
    unwrap_case_key(new_key, wrap, case_id)  # the office, with its key as it is now, opens the case
    with pytest.raises(CryptoError):
        unwrap_case_key(old_key, wrap, case_id)  # the key the rotation replaced does not
    eco = officers.current(ctx, officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx)))
    assert casework.open_case(ctx, eco, case_id).description == "my contract was not renewed after I spoke up"


def test_an_identity_shared_while_the_office_key_rotates_opens_for_the_office(ctx, clock):
    """#24 item 2: the complainant's consent to share their identity read the office key unlocked too."""
    answers = {"identity": "Amal, ext. 4411", "identity_consent": "no"}
    report = validate_report(ctx.policy, ["retaliation"], "my post was abolished", answers)
    filed = reporting.file_report(ctx, report)
    case_id = filed.cases[0].id
    token = reporting.open_case_room(ctx, filed.passphrase)
    old_key = eco_office_key(ctx)
    racing_rotation(ctx, lambda: reporting.share_identity(ctx, token, case_id, True), "UPDATE identity")
    with Session(ctx.engine) as db:
        wrap = db.get(Identity, case_id).office_wrap
    unwrap_identity_key(eco_office_key(ctx), wrap, case_id)
    with pytest.raises(CryptoError):
        unwrap_identity_key(old_key, wrap, case_id)
    eco = officers.current(ctx, officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx)))
    assert casework.read_identity(ctx, eco, case_id) == "Amal, ext. 4411"
