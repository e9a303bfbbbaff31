"""A withdrawal racing a referral (#24 item 4): the handlings a reporter's act changes are locked, the case first,
so one of the two goes first and the other sees it whole."""

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import event
from sqlmodel import Session

from intake.service import casework, officers, referral, reporting
from intake.store import Handling
from policies import validate_report

from ..clock import Clock
from ..helpers import officer_token

WAIT = 3.0  # seconds the referral, paused inside its transaction, waits for the withdrawal to read the handlings


@pytest.fixture
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def statuses(ctx, case_id) -> dict[str, str]:
    with Session(ctx.engine) as db:
        return {
            office: db.get(Handling, (case_id, office)).status for office in ("ECO", "OIG") if db.get(Handling, (case_id, office))
        }


def race(ctx, referring: Callable[[], object], reporter_act: Callable[[], object]) -> list[Exception]:
    """Run `referring` until it is about to add OIG's handling; then `reporter_act`, which the referral lets
    read the case's handlings (or waits WAIT for it, if the reporter's act waits for the referral), then both finish."""
    paused, read, errors = threading.Event(), threading.Event(), []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        referring = threading.current_thread().name == "referring"
        if referring and statement.startswith("INSERT INTO case_handling") and not paused.is_set():
            paused.set()
            read.wait(WAIT)

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        if threading.current_thread().name == "reporter" and "FROM case_handling" in statement:
            read.set()

    def run(action: Callable[[], object], wait_first: bool) -> None:
        if wait_first:
            paused.wait(30)
        try:
            action()
        except Exception as error:  # reported to the test
            errors.append(error)

    event.listen(ctx.engine, "before_cursor_execute", before)
    event.listen(ctx.engine, "after_cursor_execute", after)
    try:
        threads = [
            threading.Thread(target=run, args=(referring, False), name="referring"),
            threading.Thread(target=run, args=(reporter_act, True), name="reporter"),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        event.remove(ctx.engine, "before_cursor_execute", before)
        event.remove(ctx.engine, "after_cursor_execute", after)
    assert paused.is_set()
    return errors


def eco_case(ctx) -> tuple[str, str]:
    filed = reporting.file_report(ctx, validate_report(ctx.policy, ["retaliation"], "procurement fraud, not retaliation", {}))
    return filed.passphrase, filed.cases[0].id


def test_a_withdrawal_racing_a_referral_closes_the_handling_the_referral_opened(ctx, clock):
    """#24 item 4: `withdraw` read the handlings unlocked: racing ECO's transfer to OIG it saw ECO's open
    handling only, closed it as withdrawn over `transferred_to_oig`, and left OIG's new handling open with
    the complaint in OIG's inbox. Now the withdrawal waits for the referral and withdraws what stands after
    it: ECO's handling stays transferred, OIG's is withdrawn."""
    passphrase, case_id = eco_case(ctx)
    token = reporting.open_case_room(ctx, passphrase)
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    errors = race(
        ctx,
        lambda: referral.refer(ctx, eco, case_id, "OIG", "not retaliation", "memo for OIG", "transferred_to_oig"),
        lambda: reporting.withdraw(ctx, token, case_id),
    )
    assert not errors, errors
    withdrawn = ctx.policy.lifecycle("OIG", "report").withdrawal_state
    assert statuses(ctx, case_id) == {"ECO": "transferred_to_oig", "OIG": withdrawn}
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    assert casework.open_case(ctx, oig, case_id).handling.closed


def test_a_message_racing_a_referral_is_unread_for_the_office_it_was_referred_to(ctx, clock):
    """#24 item 4 (`_arrived`): a message from the complainant counted as unread only for the handlings the
    unlocked read found; racing the referral it now waits for it, and counts for OIG's handling too."""
    passphrase, case_id = eco_case(ctx)
    token = reporting.open_case_room(ctx, passphrase)
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    errors = race(
        ctx,
        lambda: referral.refer(ctx, eco, case_id, "OIG", "not retaliation", "memo for OIG", "transferred_to_oig"),
        lambda: reporting.reporter_writes(ctx, token, case_id, "one more thing for whoever reads this"),
    )
    assert not errors, errors
    with Session(ctx.engine) as db:
        assert db.get(Handling, (case_id, "OIG")).activity == 2  # its first state, and the message
