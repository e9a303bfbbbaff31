"""What a leaver's database copy from before a rotation opens of what the office writes after it (#24 item 5).

SECURITY.md says it plainly ("Officers see their whole office; a leaver keeps what they copied"): the
office's own records written after the rotation (notes, reasons, determinations, memos) are sealed
under a fresh handling key and do not open; what is sealed under an existing case's key (messages both
ways, notices, files, measures) does, because the case key is wrapped to the reporter too and the
server cannot give the reporter a new one. These tests check exactly that."""

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
    unwrap_office_key,
)
from intake.service import casework, office_keys, officers, reporting
from intake.store import CaseKeyWrap, CaseRecord, Handling, Message, Officer, office_holder
from policies import validate_report

from ..conftest import PASSWORDS
from .test_casework import Clock

LEAVER_PASSWORD = "the leaver's password, kept"


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def eco_code(ctx) -> str:
    ctx.now.now += dt.timedelta(seconds=31)
    return pyotp.TOTP(ctx.test_enrolments["eco-1"].totp_secret).at(ctx.now())


def old_copy_keys(ctx, case_id: str) -> tuple[bytes, bytes]:
    """(case key, handling key) of the case, as a database copy taken now and the leaver's password give them."""
    with Session(ctx.engine) as db:
        leaver = db.exec(select(Officer).where(Officer.username == "eco-leaver")).one()
        wrap = db.get(CaseKeyWrap, (case_id, office_holder("ECO"))).wrap
        handling_wrap = db.get(Handling, (case_id, "ECO")).key_wrap
    password_key = derive_password_key(LEAVER_PASSWORD, leaver.password_salt, ctx.instance.argon2)
    private = unlock_officer_key(leaver.key_by_password, password_key, leaver.id, "password")
    office_key = unwrap_office_key(private, leaver.office_key_wrap, "ECO")
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
