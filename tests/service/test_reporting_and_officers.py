"""The service layer end to end on a real database: filing, case rooms, officers, need to know."""

import datetime as dt

import pytest
from sqlmodel import Session, select

from crypto import (
    CryptoError,
    derive_password_key,
    generate_passphrase,
    open_record,
    unlock_officer_key,
    unwrap_case_key,
    unwrap_office_key,
)
from intake.service import audit, casework, inbox, officers, reporting
from intake.service.errors import AuthenticationFailed, Conflict, NotFound
from intake.store import Case, CaseKeyWrap, Message, Officer, WebSession
from policies import InvalidReport, validate_report

from ..conftest import PASSWORDS
from ..helpers import officer_token, totp_code


def file(ctx, concerns, text="what happened"):
    return reporting.file_report(ctx, validate_report(ctx.policy, concerns, text, {}))


def test_retaliation_goes_to_eco_and_the_reporter_reads_the_reply(ctx):
    filed = file(ctx, ["retaliation"], "My supervisor cancelled my contract after I spoke to OIG.")
    assert [c.office for c in filed.cases] == ["ECO"]
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    assert [row.id for row in inbox.inbox(ctx, eco).rows] == [filed.cases[0].id]
    detail = casework.open_case(ctx, eco, filed.cases[0].id)
    assert detail.description == "My supervisor cancelled my contract after I spoke to OIG."
    casework.reply(ctx, eco, detail.id, "Thank you. Are you safe at work?")

    token = reporting.open_case_room(ctx, filed.passphrase)
    (case,) = reporting.case_room(ctx, token)
    assert [(m.author, m.body) for m in case.messages] == [("officer", "Thank you. Are you safe at work?")]
    reporting.reporter_writes(ctx, token, case.id, "Yes, for now.")
    assert [m.body for m in casework.open_case(ctx, eco, case.id).messages] == [
        "Thank you. Are you safe at work?",
        "Yes, for now.",
    ]


def test_both_makes_two_linked_cases_each_with_only_its_part(ctx):
    report = validate_report(
        ctx.policy,
        ["both"],
        parts={
            "retaliation": {
                "description": "RETALIATION-MARKER: my contract ended",
                "answers": {"protected_activity": "reported_misconduct"},
            },
            "misconduct": {
                "description": "MISCONDUCT-MARKER: fuel is sold",
                "answers": {"misconduct_kinds": ["fraud_corruption"]},
            },
        },
    )
    filed = reporting.file_report(ctx, report)
    assert [c.office for c in filed.cases] == ["ECO", "OIG"]
    rooms = reporting.case_room(ctx, reporting.open_case_room(ctx, filed.passphrase))
    assert sorted(c.office for c in rooms) == ["ECO", "OIG"]
    with Session(ctx.engine) as db:
        cases = db.exec(select(Case)).all()
    assert len({c.report_id for c in cases}) == 1
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    eco_case, oig_case = (c.id for c in filed.cases)
    eco_view, oig_view = casework.open_case(ctx, eco, eco_case), casework.open_case(ctx, oig, oig_case)
    assert "RETALIATION-MARKER" in eco_view.description and "MISCONDUCT-MARKER" not in repr(eco_view)
    assert "MISCONDUCT-MARKER" in oig_view.description and "RETALIATION-MARKER" not in repr(oig_view)
    assert eco_view.answers["concerns"] == ["retaliation"] and oig_view.answers["concerns"] == ["misconduct"]
    # Each sees that the other case exists, and where it stands; never what it holds.
    assert [(c.id, c.office, c.status) for c in eco_view.linked] == [(oig_case, "OIG", "received")]
    assert [(c.id, c.office) for c in oig_view.linked] == [(eco_case, "ECO")]


def test_passphrase_typed_differently_still_opens(ctx):
    filed = file(ctx, ["misconduct"])
    typed = "  " + filed.passphrase.upper().replace(" ", "   ") + " "
    assert reporting.case_room(ctx, reporting.open_case_room(ctx, typed))[0].id == filed.cases[0].id


def test_wrong_passphrase_gets_the_same_answer_as_one_that_never_existed(ctx):
    filed = file(ctx, ["misconduct"])
    words = filed.passphrase.split()
    words[-1] = "zoom" if words[-1] != "zoom" else "abacus"
    answers = []
    for attempt in (" ".join(words), generate_passphrase(), "", "x" * 10_000):
        with pytest.raises(AuthenticationFailed) as failed:
            reporting.open_case_room(ctx, attempt)
        answers.append(str(failed.value))
    assert len(set(answers)) == 1


def test_reporter_a_cannot_reach_reporter_b(ctx):
    a, b = file(ctx, ["misconduct"], "A's report"), file(ctx, ["misconduct"], "B's report")
    token_a = reporting.open_case_room(ctx, a.passphrase)
    assert [c.id for c in reporting.case_room(ctx, token_a)] == [a.cases[0].id]
    with pytest.raises(NotFound):
        reporting.reporter_writes(ctx, token_a, b.cases[0].id, "injected")
    with Session(ctx.engine) as db:
        assert db.exec(select(Message).where(Message.case_id == b.cases[0].id)).all() == []


def test_eco_officer_cannot_open_an_oig_case_even_with_the_database(ctx):
    filed = file(ctx, ["misconduct"], "OIG-only allegation")
    case_id = filed.cases[0].id
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    assert inbox.inbox(ctx, eco).rows == ()
    with pytest.raises(NotFound):
        casework.open_case(ctx, eco, case_id)
    with pytest.raises(NotFound):
        casework.reply(ctx, eco, case_id, "hello")

    # Given the whole database and their own password, the ECO officer holds no key for it.
    with Session(ctx.engine) as db:
        me = db.exec(select(Officer).where(Officer.username == "eco-1")).one()
        wraps = db.exec(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case_id)).all()
        case = db.get(Case, case_id)
    private = unlock_officer_key(
        me.key_by_password, derive_password_key(PASSWORDS["eco-1"], me.password_salt, ctx.instance.argon2), me.id, "password"
    )
    eco_office_key = unwrap_office_key(private, me.office_key_wrap, "ECO")
    assert wraps
    for wrap in wraps:
        for key in (private, eco_office_key):
            with pytest.raises(CryptoError):
                unwrap_case_key(key, wrap.wrap, case_id)
    with pytest.raises(CryptoError):
        open_record(eco_office_key, case.report, case_id, "report", case_id)


def test_officer_login_failures_look_alike(ctx):
    messages = set()
    for username, password in [("eco-1", "wrong password here"), ("nobody", "whatever password"), ("eco-1", ""), (None, None)]:
        with pytest.raises(AuthenticationFailed) as failed:
            officers.log_in(ctx, username, password, "123456")
        messages.add(str(failed.value))
    assert len(messages) == 1


def test_acknowledge_once(ctx):
    filed = file(ctx, ["retaliation"])
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    casework.transition(ctx, eco, filed.cases[0].id, "acknowledged")
    assert reporting.case_room(ctx, reporting.open_case_room(ctx, filed.passphrase))[0].status == "acknowledged"
    with pytest.raises(Conflict):
        casework.transition(ctx, eco, filed.cases[0].id, "acknowledged")


def test_news_from_the_reporter_makes_a_case_unread_again(ctx):
    first, second = file(ctx, ["misconduct"]), file(ctx, ["misconduct"])
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    casework.open_case(ctx, oig, second.cases[0].id)
    assert {r.id: r.unread for r in inbox.inbox(ctx, oig).rows} == {first.cases[0].id: True, second.cases[0].id: False}
    casework.open_case(ctx, oig, first.cases[0].id)
    reporting.reporter_writes(ctx, reporting.open_case_room(ctx, second.passphrase), second.cases[0].id, "news")
    assert {r.id: r.unread for r in inbox.inbox(ctx, oig).rows} == {first.cases[0].id: False, second.cases[0].id: True}


def test_empty_or_oversized_messages_are_refused_and_nothing_is_stored(ctx):
    filed = file(ctx, ["misconduct"])
    token = reporting.open_case_room(ctx, filed.passphrase)
    for body in ["", "   ", "x" * 20_001, None, ["list"], "bell \x07"]:
        with pytest.raises(InvalidReport):
            reporting.reporter_writes(ctx, token, filed.cases[0].id, body)
    with Session(ctx.engine) as db:
        assert db.exec(select(Message)).all() == []


def test_sessions_end_and_expire(ctx):
    filed = file(ctx, ["misconduct"])
    token = reporting.open_case_room(ctx, filed.passphrase)
    reporting.leave_case_room(ctx, token)
    with pytest.raises(AuthenticationFailed):
        reporting.case_room(ctx, token)

    token = reporting.open_case_room(ctx, filed.passphrase)
    real_now = ctx.now
    # A reporter's session lives two hours without use (long enough to write over Tor); then it ends.
    ctx.now = lambda: real_now() + dt.timedelta(minutes=ctx.settings.officer_idle_minutes + 11)
    reporting.case_room(ctx, token)
    ctx.now = lambda: real_now() + dt.timedelta(minutes=ctx.settings.reporter_idle_minutes + 11 + 40)
    with pytest.raises(AuthenticationFailed):
        reporting.case_room(ctx, token)
    ctx.now = real_now
    officer = officer_token(ctx, "eco-1")
    ctx.now = lambda: real_now() + dt.timedelta(minutes=ctx.settings.officer_idle_minutes + 11)
    with pytest.raises(AuthenticationFailed):  # an officer's ends after half an hour
        officers.current(ctx, officer)
    ctx.now = real_now


def test_a_session_token_cannot_be_forged_or_swapped(ctx):
    filed = file(ctx, ["misconduct"])
    token = reporting.open_case_room(ctx, filed.passphrase)
    session_id, key = token.split(".")
    for forged in [f"{session_id}.{'A' * len(key)}", "garbage", "", None, f"{session_id}", "a.b.c"]:
        with pytest.raises(AuthenticationFailed):
            reporting.case_room(ctx, forged)
    # A reporter token is not an officer token.
    with pytest.raises(AuthenticationFailed):
        officers.current(ctx, token)
    with Session(ctx.engine) as db:
        assert len(db.exec(select(WebSession)).all()) == 1


def test_officer_actions_are_audited_without_reporter_data(ctx):
    filed = file(ctx, ["retaliation"], "unique-report-text-7731")
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    casework.open_case(ctx, eco, filed.cases[0].id)
    casework.reply(ctx, eco, filed.cases[0].id, "unique-reply-text-4410")
    casework.transition(ctx, eco, filed.cases[0].id, "acknowledged")
    actions = [(e["action"], e["case"]) for e in audit.entries(ctx.engine) if e["officer"] == eco.officer_id]
    assert actions == [
        ("office founded", None),
        ("login", None),
        ("case opened", filed.cases[0].id),
        ("reply", filed.cases[0].id),
        ("status changed", filed.cases[0].id),
    ]
    dump = repr(audit.entries(ctx.engine))
    assert "unique-report-text-7731" not in dump and "unique-reply-text-4410" not in dump
    assert audit.verify(ctx.engine, ctx.instance)[0] == len(audit.entries(ctx.engine))


def test_key_ceremony_adds_an_officer_who_can_read_the_office_cases(ctx):
    filed = file(ctx, ["retaliation"], "for the new officer")
    enrolment = officers.add_officer(
        ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"), "eco-2", "a brand new long password"
    )
    assert len(enrolment.recovery_key.replace("-", "")) == 52
    eco2 = officers.current(
        ctx, officers.log_in(ctx, "eco-2", "a brand new long password", totp_code(ctx, "eco-2", enrolment.totp_secret))
    )
    assert casework.open_case(ctx, eco2, filed.cases[0].id).description == "for the new officer"
    with pytest.raises(AuthenticationFailed):
        officers.add_officer(ctx, "eco-1", "not the password", totp_code(ctx, "eco-1"), "eco-3", "another long password")
    with pytest.raises(ValueError):
        officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"), "eco-2", "a brand new long password")
    with pytest.raises(ValueError):
        officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"), "eco-4", "short")


def test_expired_session_rows_are_removed_and_times_are_coarse(ctx):
    import datetime as dt

    filed = file(ctx, ["misconduct"])
    reporting.open_case_room(ctx, filed.passphrase)
    with Session(ctx.engine) as db:
        (row,) = db.exec(select(WebSession)).all()
    assert row.idle_until.minute % 10 == 0 and row.idle_until.second == 0 and row.idle_until.microsecond == 0
    real_now = ctx.now
    ctx.now = lambda: real_now() + dt.timedelta(minutes=ctx.settings.reporter_idle_minutes + 11)
    reporting.open_case_room(ctx, filed.passphrase)
    ctx.now = real_now
    with Session(ctx.engine) as db:
        assert len(db.exec(select(WebSession)).all()) == 1


def test_a_session_in_use_stays_alive_past_its_first_idle_limit_and_an_ended_one_is_deleted(ctx):
    """Resuming reads the session and writes only when its idle limit moves: the move must be kept."""
    filed = file(ctx, ["misconduct"])
    token = reporting.open_case_room(ctx, filed.passphrase)
    real_now, idle = ctx.now, ctx.settings.reporter_idle_minutes
    ctx.now = lambda: real_now() + dt.timedelta(minutes=idle - 20)
    reporting.case_room(ctx, token)
    ctx.now = lambda: real_now() + dt.timedelta(minutes=idle + 60)  # past the first limit, not the moved one
    assert reporting.case_room(ctx, token)
    ctx.now = lambda: real_now() + dt.timedelta(minutes=3 * idle)
    with pytest.raises(AuthenticationFailed):
        reporting.case_room(ctx, token)
    ctx.now = real_now
    with Session(ctx.engine) as db:
        assert db.exec(select(WebSession)).all() == []


def test_an_officer_session_in_use_stays_alive_past_its_first_idle_limit(ctx):
    """The same for an officer's session, resumed on its own (no caller's database session): the move is kept."""
    token = officer_token(ctx, "oig-1")
    real_now, idle = ctx.now, ctx.settings.officer_idle_minutes
    ctx.now = lambda: real_now() + dt.timedelta(minutes=idle - 5)
    officers.current(ctx, token)
    ctx.now = lambda: real_now() + dt.timedelta(minutes=idle + 15)  # past the first limit (at most idle + 10), not the moved one
    assert officers.current(ctx, token).username == "oig-1"
    ctx.now = lambda: real_now() + dt.timedelta(minutes=3 * idle)
    with pytest.raises(AuthenticationFailed):
        officers.current(ctx, token)
    ctx.now = real_now
