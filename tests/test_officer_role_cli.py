"""`intake officer role --role head`, run through the command's own entry point on the suite's
database: the new head receives the restricted cases the deciding head holds, except those it is
told to withhold (`--withhold`, repeatable), and the output says what was shared, withheld and not
held; `--dry-run` and a mistyped case id change nothing."""

import datetime as dt
import io
import os

import pyotp
import pytest
from sqlmodel import Session, select

from intake import cli
from intake.service import officers, reporting, restriction
from intake.service.context import Context
from intake.store import RestrictionWrap
from policies import validate_report

from .clock import Clock
from .conftest import PASSWORDS
from .enrolments import enrolments

SECOND = "eco member password two"


@pytest.fixture(autouse=True)
def clock(ctx, monkeypatch):
    """One clock for the test and the command's own context, moved by hand (no code is accepted twice)."""
    ctx.now = Clock(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    made = Context.from_settings.__func__
    contexts = []

    def with_the_clock(cls, settings):
        context = made(cls, settings)
        context.now = ctx.now
        contexts.append(context)
        return context

    monkeypatch.setattr(cli.Context, "from_settings", classmethod(with_the_clock))
    umask = os.umask(0o077)  # cli.main sets the service's own umask: the suite's is put back after
    os.umask(umask)
    yield ctx.now
    os.umask(umask)
    # The command runs in this process, which outlives it: its pooled connections are closed here,
    # not left to the garbage collector (a ResourceWarning on PostgreSQL, and warnings fail tests).
    for context in contexts:
        context.engine.dispose()


def totp_code(ctx, username: str) -> str:
    ctx.now.now += dt.timedelta(seconds=31)
    return pyotp.TOTP(enrolments(ctx)[username].totp_secret).at(ctx.now())


def officer_token(ctx, username: str) -> str:
    return officers.log_in(ctx, username, PASSWORDS[username], totp_code(ctx, username))


def restricted(ctx) -> str:
    report = validate_report(
        ctx.policy, ["retaliation"], "An ECO officer's husband ended my contract.", {"office_concerned": "someone"}
    )
    return reporting.file_report(ctx, report).cases[0].id


def role(ctx, monkeypatch, capsys, *extra: str) -> tuple[int, str, str]:
    """`intake officer role --by eco-1 --username eco-2 --role head ...`, the password and code on stdin."""
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORDS['eco-1']}\n{totp_code(ctx, 'eco-1')}\n"))
    argv = ["--data-dir", str(ctx.settings.data_dir), "--database-url", ctx.settings.database_url, "officer", "role"]
    argv += ["--by", "eco-1", "--username", "eco-2", "--role", "head", "--password-stdin", *extra]
    try:
        status = cli.main(argv)
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 1
    out = capsys.readouterr()
    return status, out.out, out.err


def wrapped_to(ctx, username: str) -> list[str]:
    with Session(ctx.engine) as db:
        officer = db.exec(select(officers.Officer).where(officers.Officer.username == username)).one()
        return sorted(db.exec(select(RestrictionWrap.case_id).where(RestrictionWrap.officer_id == officer.id)).all())


def test_the_command_shares_with_the_new_head_all_but_the_cases_it_is_told_to_withhold(ctx, monkeypatch, capsys):
    enrolments(ctx)["eco-2"] = officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"), "eco-2", SECOND)
    shared, about_them, also_about_them = restricted(ctx), restricted(ctx), restricted(ctx)

    status, out, err = role(ctx, monkeypatch, capsys, "--withhold", "ECO-00000000FF")
    assert status == 1 and "not changed" in err and "ECO-00000000FF" in err
    status, out, _ = role(ctx, monkeypatch, capsys, "--withhold", about_them, "--withhold", also_about_them, "--dry-run")
    assert status == 0 and "Dry run: nothing was changed" in out and shared in out
    assert wrapped_to(ctx, "eco-2") == []  # neither refusal nor rehearsal gave anything
    with Session(ctx.engine) as db:
        assert not db.exec(select(officers.Officer).where(officers.Officer.username == "eco-2")).one().head

    status, out, _ = role(ctx, monkeypatch, capsys, "--withhold", about_them, "--withhold", also_about_them)

    assert status == 0 and "eco-2 is now a head of the office." in out
    assert f"Restricted cases shared with them (the complainants are told in the case room) (1):\n    {shared}\n" in out
    withheld = "\n".join(f"    {case}" for case in sorted((about_them, also_about_them)))
    assert f"Withheld, as you said they are about them (audit-logged) (2):\n{withheld}\n" in out
    assert wrapped_to(ctx, "eco-2") == [shared]


def test_the_command_says_which_cases_the_deciding_head_cannot_give(ctx, monkeypatch, capsys):
    """A case the deciding head stepped away from is not theirs to give; the output names it."""
    from intake.service import recusal

    enrolments(ctx)["eco-2"] = officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"), "eco-2", SECOND)
    enrolments(ctx)["eco-3"] = officers.add_officer(
        ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"), "eco-3", "eco member password three"
    )
    head = officers.current(ctx, officer_token(ctx, "eco-1"))
    case_id = restricted(ctx)
    restriction.share(ctx, head, case_id, "eco-3")
    recusal.declare(ctx, head, case_id, "My neighbour.")
    status, out, _ = role(ctx, monkeypatch, capsys)
    assert status == 0 and "No restricted case is shared with them." in out
    assert f"you declared a conflict of interest on these; another holder must share them (1):\n    {case_id}" in out
    assert wrapped_to(ctx, "eco-2") == []


@pytest.mark.parametrize("args", [["--role", "member", "--withhold", "ECO-0000000001"]])
def test_withholding_is_for_naming_a_head(ctx, monkeypatch, capsys, args):
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORDS['eco-1']}\n{totp_code(ctx, 'eco-1')}\n"))
    argv = ["--data-dir", str(ctx.settings.data_dir), "--database-url", ctx.settings.database_url, "officer", "role"]
    with pytest.raises(SystemExit) as refused:
        cli.main([*argv, "--by", "eco-1", "--username", "eco-1", "--password-stdin", *args])
    assert refused.value.code == 1 and "withheld only from an officer being named head" in capsys.readouterr().err
