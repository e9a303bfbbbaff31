"""#24 item 15: a declared conflict of interest is for the head of the declaring officer's office
(ECO Charter 4.6). The case's history keeps it from the office's other officers and, after a
referral, from the receiving office; the head still sees it."""

import datetime as dt

import pyotp
import pytest

from intake.service import casework, officers, recusal, reporting
from policies import validate_report

from ..casework_steps import paths_to, walk
from ..clock import Clock
from ..conftest import PASSWORDS
from ..enrolments import enrolments
from ..helpers import officer_token

CONFLICTS = {"conflict declared", "recusal lifted", "conflict upheld"}


@pytest.fixture(autouse=True)
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def member(ctx, username: str):
    """A member of ECO (eco-1 founded ECO and heads it)."""
    ctx.now.now += dt.timedelta(seconds=31)
    head_code = pyotp.TOTP(enrolments(ctx)["eco-1"].totp_secret).at(ctx.now())
    enrolment = officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], head_code, username, f"{username} password words")
    ctx.now.now += dt.timedelta(seconds=31)
    code = pyotp.TOTP(enrolment.totp_secret).at(ctx.now())
    return officers.current(ctx, officers.log_in(ctx, username, f"{username} password words", code))


def seen(ctx, who, case_id) -> set[str]:
    """The conflict entries of the case's history, and the conflict records among its office records, as `who` sees them."""
    detail = casework.open_case(ctx, who, case_id)
    records = {str(r.kind) for r in detail.records} & {"conflict_declaration", "conflict_decision", "director_general_decision"}
    return {h.action for h in detail.history} & CONFLICTS | records


def test_only_the_head_reads_a_conflict_of_interest_in_the_case_history(ctx):
    """#24 item 15: on main every officer who could open the case read "eco-2: conflict declared"."""
    head = officers.current(ctx, officer_token(ctx, "eco-1"))
    declaring, colleague = member(ctx, "eco-2"), member(ctx, "eco-3")
    report = validate_report(ctx.policy, ["retaliation"], "My manager ended my contract after I reported.", {})
    case_id = reporting.file_report(ctx, report).cases[0].id
    recusal.declare(ctx, declaring, case_id, "The respondent is my brother-in-law.")
    assert seen(ctx, head, case_id) == {"conflict declared", "conflict_declaration"}
    assert seen(ctx, colleague, case_id) == set()
    recusal.decide(ctx, head, case_id, "eco-2", "upheld", "Too close to the respondent.")
    assert seen(ctx, head, case_id) == {"conflict declared", "conflict upheld", "conflict_declaration", "conflict_decision"}
    assert seen(ctx, colleague, case_id) == set()
    walk(ctx, head, case_id, paths_to(ctx.policy.lifecycles["ECO"], "referred_to_oig"))
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))  # OIG's head: not the head of eco-2's office
    actions = [h.action for h in casework.open_case(ctx, oig, case_id).history]
    assert "referred" in actions and not set(actions) & CONFLICTS
