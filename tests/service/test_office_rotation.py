"""`intake office rotate`: after an officer leaves, what they kept (their password and a copy of
the database from before) opens no key the database now holds and no case filed after; the officers who stay open all.

What such a copy still opens of what the office writes later on an existing case (#24 item 5), as
SECURITY.md says it plainly ("a leaver keeps what they copied"): the office's own records written after
the rotation are sealed under a fresh handling key and do not open; what is sealed under an existing
case's key (messages both ways, notices, files, measures) does, because the case key is wrapped to the
reporter too and the server cannot give the reporter a new one."""

import datetime as dt

import pyotp
import pytest
from sqlmodel import Session, col, select

from crypto import (
    CryptoError,
    derive_password_key,
    open_record,
    unlock_officer_key,
    unwrap_case_key,
    unwrap_handling_key,
    unwrap_identity_key,
    unwrap_office_key,
)
from intake.service import casework, office_keys, officers, reporting
from intake.service.errors import AuthenticationFailed
from intake.store import CaseKeyWrap, CaseRecord, Handling, Identity, Message, Officer, office_holder
from policies import validate_report

from ..clock import Clock
from ..conftest import PASSWORDS
from ..enrolments import enrolments

LEAVER_PASSWORD = "the leaver's password, kept"


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def code(ctx, secret: str) -> str:
    ctx.now.now += dt.timedelta(seconds=31)  # no code is accepted twice: each login takes the next step
    return pyotp.TOTP(secret).at(ctx.now())


def eco_code(ctx) -> str:
    return code(ctx, enrolments(ctx)["eco-1"].totp_secret)


def file(ctx, text: str) -> str:
    answers = {"identity": f"{text}: Amal, ext. 4411", "identity_consent": "yes"}
    return reporting.file_report(ctx, validate_report(ctx.policy, ["retaliation"], text, answers)).cases[0].id


def the_leavers_old_office_key(ctx, row: Officer) -> bytes:
    """What someone holding the leaver's password and a database copy from before can compute."""
    password_key = derive_password_key(LEAVER_PASSWORD, row.password_salt, ctx.instance.argon2)
    private = unlock_officer_key(row.key_by_password, password_key, row.id, "password")
    return unwrap_office_key(private, row.office_key_wrap, row.office)


def test_after_rotation_a_leavers_copy_opens_nothing_and_the_others_open_everything(ctx, clock):
    officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx), "eco-leaver", LEAVER_PASSWORD)
    before = file(ctx, "filed before")
    token = officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx))
    eco = officers.current(ctx, token)
    casework.add_note(ctx, eco, before, "a note under the handling key")
    with Session(ctx.engine) as db:
        copy = db.exec(select(Officer).where(Officer.username == "eco-leaver")).one()  # the database copy
    old_office_key = the_leavers_old_office_key(ctx, copy)

    officers.disable(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx), "eco-leaver")
    done = office_keys.rotate(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx))
    assert (done.office, done.cases, done.handlings, done.identities, done.officers) == ("ECO", 1, 1, 1, 1)
    with pytest.raises(AuthenticationFailed):
        officers.current(ctx, token)  # the office's sessions held the old key: they ended
    after = file(ctx, "filed after")

    with Session(ctx.engine) as db:
        for case_id in (before, after):
            wrap = db.get(CaseKeyWrap, (case_id, office_holder("ECO")))
            with pytest.raises(CryptoError):
                unwrap_case_key(old_office_key, wrap.wrap, case_id)
            identity = db.get(Identity, case_id)
            with pytest.raises(CryptoError):
                unwrap_identity_key(old_office_key, identity.office_wrap, case_id)
        handling = db.get(Handling, (before, "ECO"))
        with pytest.raises(CryptoError):
            unwrap_handling_key(old_office_key, handling.key_wrap, before, "ECO")

    eco = officers.current(ctx, officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx)))
    for case_id, text in ((before, "filed before"), (after, "filed after")):
        detail = casework.open_case(ctx, eco, case_id)
        assert detail.description == text
        assert casework.read_identity(ctx, eco, case_id) == f"{text}: Amal, ext. 4411"
    assert [r.text for r in casework.open_case(ctx, eco, before).records] == ["a note under the handling key"]
    # The office goes on: a new officer added after the rotation reads the old cases too.
    enrolment = officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx), "eco-new", "a new officer's password")
    newcomer = officers.current(
        ctx, officers.log_in(ctx, "eco-new", "a new officer's password", code(ctx, enrolment.totp_secret))
    )
    assert casework.open_case(ctx, newcomer, before).description == "filed before"


def old_copy_keys(ctx, case_id: str) -> tuple[bytes, bytes]:
    """(case key, handling key) of the case, as a database copy taken now and the leaver's password give them."""
    with Session(ctx.engine) as db:
        leaver = db.exec(select(Officer).where(Officer.username == "eco-leaver")).one()
        wrap = db.get(CaseKeyWrap, (case_id, office_holder("ECO"))).wrap
        handling_wrap = db.get(Handling, (case_id, "ECO")).key_wrap
    office_key = the_leavers_old_office_key(ctx, leaver)
    return unwrap_case_key(office_key, wrap, case_id), unwrap_handling_key(office_key, handling_wrap, case_id, "ECO")


def record_bodies(ctx, case_id: str) -> dict[str, bytes]:
    with Session(ctx.engine) as db:
        rows = db.exec(select(CaseRecord).where(CaseRecord.case_id == case_id).order_by(col(CaseRecord.number))).all()
        return {row.id: row.body for row in rows}


def test_after_rotation_the_office_writes_its_records_under_a_key_an_old_copy_does_not_hold(ctx, clock):
    """#24 item 5: rotation re-wrapped the same handling key, so a leaver's copy from before read every note
    the office wrote on an existing case afterwards. Now each handling gets a fresh key: a note written
    after the rotation does not open with the old copy's handling key, and the office reads old and new."""
    officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx), "eco-leaver", LEAVER_PASSWORD)
    filed = reporting.file_report(ctx, validate_report(ctx.policy, ["retaliation"], "demoted after I testified", {}))
    case_id = filed.cases[0].id
    eco = officers.current(ctx, officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx)))
    casework.add_note(ctx, eco, case_id, "written before the rotation")
    old_case_key, old_handling_key = old_copy_keys(ctx, case_id)

    officers.disable(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx), "eco-leaver")
    office_keys.rotate(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx))
    eco = officers.current(ctx, officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"], eco_code(ctx)))
    after = casework.add_note(ctx, eco, case_id, "written after the rotation")

    for record_id, body in record_bodies(ctx, case_id).items():
        with pytest.raises(CryptoError):  # the note written after, and the one before (sealed again)
            open_record(old_handling_key, body, case_id, "office-record", record_id)
    assert after in record_bodies(ctx, case_id)
    texts = [r.text for r in casework.open_case(ctx, eco, case_id).records]
    assert texts == ["written before the rotation", "written after the rotation"]
    # The limit SECURITY.md states: the case key stays (it is the reporter's too), so a message written
    # after the rotation opens with the old copy's case key.
    casework.reply(ctx, eco, case_id, "a reply written after the rotation")
    with Session(ctx.engine) as db:
        reply = db.exec(select(Message).where(Message.case_id == case_id).order_by(col(Message.number).desc())).first()
    assert open_record(old_case_key, reply.body, case_id, "message", reply.id) == b"a reply written after the rotation"
    token = reporting.open_case_room(ctx, filed.passphrase)  # the reporter's passphrase still opens the case
    assert reporting.case_room(ctx, token)[0].messages[-1].body == "a reply written after the rotation"
