"""The inbox's triage signals (issue 23, item 9): the danger a reporter is in and the protection they
need now on each row, filters by concern, region, state and safety that combine with the others, the
two parts of a report of both named on their rows (never a restricted part to who may not know of
it), a transferred case read as what it is for the office that received it, and a protection file
that always has an owner."""

import datetime as dt

import pytest
from sqlalchemy import event

from intake.service import casework, inbox, officers, protection, recusal, reporting
from intake.service.inbox import PAGE_SIZE
from policies import validate_report

from ..casework_steps import walk
from ..clock import Clock
from ..conftest import PASSWORDS
from ..enrolments import enrolments
from ..helpers import officer_token, totp_code

MEMBER_PASSWORD = "eco member password two"


@pytest.fixture(autouse=True)
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def officer(ctx, username):
    return officers.current(ctx, officer_token(ctx, username))


def member(ctx):
    """eco-2, a member of ECO added by its head (eco-1): a restricted ECO case is not wrapped to them."""
    enrolments(ctx)["eco-2"] = officers.add_officer(
        ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"), "eco-2", MEMBER_PASSWORD
    )
    return officers.current(ctx, officers.log_in(ctx, "eco-2", MEMBER_PASSWORD, totp_code(ctx, "eco-2")))


def report(ctx, concern, **answers):
    """A report of one concern; its case id."""
    return reporting.file_report(ctx, validate_report(ctx.policy, [concern], f"a {concern} report", answers)).cases[0].id


def both(ctx, retaliation=None, misconduct=None):
    """A report of both: {office: case id}."""
    parts = {
        "retaliation": {"description": "what was done to me", "answers": retaliation or {}},
        "misconduct": {"description": "what I saw", "answers": misconduct or {}},
    }
    filed = reporting.file_report(ctx, validate_report(ctx.policy, ["both"], parts=parts))
    return {c.office: c.id for c in filed.cases}


def ids(ctx, who, filter="open", **choices):
    return [r.id for r in inbox.inbox(ctx, who, filter, **choices).rows]


def row(ctx, who, case_id, **choices):
    (found,) = [r for r in inbox.inbox(ctx, who, "all", **choices).rows if r.id == case_id]
    return found


def test_each_row_says_when_the_reporter_may_be_in_danger_or_needs_protection_now(ctx):
    in_danger = report(ctx, "retaliation", safety_risk="yes")
    not_sure = report(ctx, "retaliation", safety_risk="not_sure", protection_by="week")
    needs_it_now = report(ctx, "retaliation", safety_risk="no", protection_by="now")
    calm = report(ctx, "retaliation", safety_risk="no", protection_by="none")
    silent = report(ctx, "retaliation")
    eco = officer(ctx, "eco-1")
    rows = {r.id: (r.danger, r.protection_now) for r in inbox.inbox(ctx, eco).rows}
    assert rows == {
        in_danger: (True, False),
        not_sure: (True, False),
        needs_it_now: (False, True),
        calm: (False, False),
        silent: (False, False),
    }
    assert set(ids(ctx, eco, safety="urgent")) == {in_danger, not_sure, needs_it_now}
    assert set(ids(ctx, eco, safety="danger")) == {in_danger, not_sure}
    assert ids(ctx, eco, safety="protection_now") == [needs_it_now]
    page = inbox.inbox(ctx, eco, safety="urgent")
    assert (page.total, page.pages, page.safety) == (3, 1, "urgent")
    # It combines with the other filters: assigned to me, a state, a case id.
    casework.assign(ctx, eco, in_danger, "eco-1")
    walk(ctx, eco, not_sure, ["acknowledged"])
    assert ids(ctx, eco, "mine", safety="urgent") == [in_danger]
    assert set(ids(ctx, eco, "unassigned", safety="urgent")) == {not_sure, needs_it_now}
    assert ids(ctx, eco, safety="urgent", state="acknowledged") == [not_sure]
    assert ids(ctx, eco, "all", query=needs_it_now[-6:], safety="danger") == []
    assert ids(ctx, eco, "all", query=needs_it_now[-6:], safety="urgent") == [needs_it_now]


def test_urgent_cases_come_first_among_those_due_the_same_day(ctx, clock):
    """ECO Annual Report 2022 s.2: an immediate risk to safety goes to the Office of Staff Security at once.
    Only among equals: an overdue deadline still comes before it."""
    overdue = report(ctx, "retaliation")
    clock.advance(5)
    calm = [report(ctx, "retaliation", safety_risk="no") for _ in range(5)]
    urgent = report(ctx, "retaliation", protection_by="now")
    eco = officer(ctx, "eco-1")
    assert ids(ctx, eco) == [overdue, urgent, *sorted(calm)]
    # Narrowed by the answers, every page is sorted so, not only the one shown.
    assert ids(ctx, eco, concern="retaliation") == [overdue, urgent, *sorted(calm)]
    assert ids(ctx, eco, sort="case") == sorted([overdue, urgent, *calm])  # another order is left alone


def test_filters_by_concern_region_and_state_combine_with_the_others(ctx, clock):
    west = report(ctx, "misconduct", region="wca")
    head_office = report(ctx, "misconduct", region="hq")
    unsure = report(ctx, "not_sure", region="wca")
    parts = both(ctx, misconduct={"region": "wca"})
    oig = officer(ctx, "oig-1")
    assert set(ids(ctx, oig, concern="misconduct")) == {west, head_office}
    assert ids(ctx, oig, concern="not_sure") == [unsure]
    assert ids(ctx, oig, concern="both") == [parts["OIG"]]
    assert ids(ctx, oig, concern="retaliation") == []
    assert set(ids(ctx, oig, region="wca")) == {west, unsure, parts["OIG"]}
    assert ids(ctx, oig, concern="misconduct", region="wca") == [west]
    assert ids(ctx, oig, concern="both", region="hq") == []
    walk(ctx, oig, west, ["acknowledged"])
    walk(ctx, oig, head_office, ["acknowledged", "intake_assessment", "closed_at_intake"])
    assert ids(ctx, oig, state="acknowledged") == [west]
    assert ids(ctx, oig, state="acknowledged", region="hq") == []
    assert ids(ctx, oig, state="closed_at_intake") == []  # the open filter leaves it out...
    assert ids(ctx, oig, "closed", state="closed_at_intake", region="hq") == [head_office]  # ...the closed one not
    clock.advance(10)
    casework.reply(ctx, oig, west, "We are looking into it.")  # its first response given: nothing due
    assert set(ids(ctx, oig, "overdue", region="wca")) == {unsure, parts["OIG"]}
    assert ids(ctx, oig, "all", query=unsure[-6:], region="wca") == [unsure]
    page = inbox.inbox(ctx, oig, "all", concern="misconduct", region="hq", state="closed_at_intake")
    assert (page.concern, page.region, page.state, page.total) == ("misconduct", "hq", "closed_at_intake", 1)


def test_eco_filters_advice_requests_apart_by_their_own_states(ctx):
    advice = report(ctx, "advice")
    complaint = report(ctx, "retaliation")
    eco = officer(ctx, "eco-1")
    assert ids(ctx, eco, concern="advice") == [advice]
    assert ids(ctx, eco, state="advice:received") == [advice]
    assert ids(ctx, eco, state="received") == [complaint]  # the complaints' "received", not the advice's
    assert ids(ctx, eco, concern="retaliation") == [complaint]
    assert "advice:received" in inbox.allowed(ctx.policy, eco.office)["state"]
    oig = officer(ctx, "oig-1")
    assert "advice" not in inbox.allowed(ctx.policy, oig.office)["concern"]  # advice goes to ECO only


def test_unknown_values_fall_back_on_the_page_and_are_named_for_the_api(ctx):
    case_id = report(ctx, "misconduct", region="wca")
    oig = officer(ctx, "oig-1")
    page = inbox.inbox(ctx, oig, concern="bribery", region="atlantis", state="preliminary_assessment", safety="<b>")
    assert [r.id for r in page.rows] == [case_id]
    assert (page.concern, page.region, page.state, page.safety) == ("", "", "", "")
    refused = inbox.unknown(
        ctx.policy, oig.office, filter="open", concern="bribery", region="wca", state="preliminary_assessment", safety=""
    )
    assert set(refused) == {"concern", "state"}  # an ECO state is not one of OIG's
    assert "misconduct" in refused["concern"] and "intake_assessment" in refused["state"]


def test_the_parts_of_a_report_of_both_name_each_other_in_one_statement(ctx):
    parts = both(ctx)
    alone = report(ctx, "misconduct")
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    at_oig = row(ctx, oig, parts["OIG"])
    assert at_oig.concerns == ("both",) and at_oig.reported_concerns == ("misconduct",)
    assert (at_oig.other_part.id, at_oig.other_part.office, at_oig.other_part.status) == (parts["ECO"], "ECO", "received")
    assert row(ctx, eco, parts["ECO"]).other_part.id == parts["OIG"]
    assert row(ctx, oig, alone).other_part is None and row(ctx, oig, alone).concerns == ("misconduct",)
    walk(ctx, eco, parts["ECO"], ["acknowledged", "preliminary_assessment"])
    assert row(ctx, oig, parts["OIG"]).other_part.label == "Preliminary assessment"  # where it stands
    # One statement for the page, however many parts of reports of both it shows.
    for _ in range(4):
        both(ctx)
    statements = []

    def count(connection, cursor, statement, *_):
        statements.append(statement)

    event.listen(ctx.engine, "before_cursor_execute", count)
    try:
        page = inbox.inbox(ctx, oig)
        narrowed = inbox.inbox(ctx, oig, region="wca")
    finally:
        event.remove(ctx.engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(page.rows) == 6 and sum(r.other_part is not None for r in page.rows) == 5
    assert narrowed.rows == ()
    assert len(selects) == 3  # the count and the page; narrowed: every candidate at once


def test_a_restricted_other_part_is_named_only_to_an_officer_who_holds_it(ctx):
    # The retaliation part is about someone in ECO: restricted to ECO's head, eco-1.
    parts = both(ctx, retaliation={"office_concerned": "someone"})
    eco_member = member(ctx)
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    at_oig = row(ctx, oig, parts["OIG"])
    # OIG may not learn that ECO holds a part about someone in ECO: the row is a plain misconduct report.
    assert at_oig.other_part is None and at_oig.concerns == ("misconduct",) == at_oig.reported_concerns
    assert ids(ctx, oig, concern="both") == [] and ids(ctx, oig, concern="misconduct") == [parts["OIG"]]
    # ECO's head holds the restricted part, and sees its other part; the member sees neither.
    assert row(ctx, eco, parts["ECO"]).other_part.id == parts["OIG"]
    assert ids(ctx, eco_member, "all") == [] and ids(ctx, eco_member, "all", concern="both") == []
    assert ids(ctx, eco_member, "all", safety="urgent") == [] and ids(ctx, eco_member, "all", region="wca") == []


def test_an_officer_of_the_other_office_sees_nothing_of_a_case_it_does_not_hold(ctx):
    in_danger = report(ctx, "retaliation", safety_risk="yes", region="mena")
    oig = officer(ctx, "oig-1")
    for choices in ({}, {"safety": "urgent"}, {"region": "mena"}, {"concern": "retaliation"}, {"query": in_danger}):
        assert ids(ctx, oig, "all", **choices) == []


def test_a_case_eco_transferred_as_not_retaliation_reads_as_misconduct_at_oig(ctx):
    transferred = report(ctx, "retaliation", region="hq")
    found = report(ctx, "retaliation", region="hq")
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    walk(ctx, eco, transferred, ["acknowledged", "transferred_to_oig"])
    walk(ctx, eco, found, ["acknowledged", "preliminary_assessment", "referred_to_oig"])
    at_oig = row(ctx, oig, transferred)
    assert at_oig.concerns == ("misconduct",) and at_oig.reported_concerns == ("retaliation",)
    assert (at_oig.transferred_by, at_oig.transfer_label) == ("ECO", "Not retaliation: transferred to OIG")
    # A referral on prima facie evidence is retaliation, for OIG to investigate.
    referred = row(ctx, oig, found)
    assert referred.concerns == ("retaliation",) and referred.transferred_by is None and referred.referred_in
    assert ids(ctx, oig, concern="misconduct") == [transferred]
    assert ids(ctx, oig, concern="retaliation") == [found]
    # At ECO the case stays what the complainant reported, and what ECO decided.
    assert row(ctx, eco, transferred).concerns == ("retaliation",) and row(ctx, eco, transferred).transferred_by is None


def test_a_report_oig_transferred_to_eco_reads_as_retaliation_there(ctx):
    case_id = report(ctx, "misconduct")
    eco, oig = officer(ctx, "eco-1"), officer(ctx, "oig-1")
    walk(ctx, oig, case_id, ["transferred_to_eco"])
    at_eco = row(ctx, eco, case_id)
    assert at_eco.concerns == ("retaliation",) and at_eco.reported_concerns == ("misconduct",)
    assert at_eco.transferred_by == "OIG" and "ECO's mandate" in at_eco.transfer_label
    assert ids(ctx, eco, concern="retaliation") == [case_id] and ids(ctx, eco, concern="misconduct") == []


def test_a_case_referred_with_open_measures_keeps_the_referring_officer_as_its_owner(ctx):
    protected = report(ctx, "retaliation")
    unprotected = report(ctx, "retaliation")
    eco = officer(ctx, "eco-1")
    protection.recommend(ctx, eco, protected, "flexible_working", "Head of Office")
    for case_id in (protected, unprotected):
        walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment", "referred_to_oig"])
    kept = row(ctx, eco, protected)
    assert (kept.closed, kept.open_measures, kept.assignee, kept.needs_officer) == (True, 1, "eco-1", False)
    history = casework.open_case(ctx, eco, protected).history
    assert ("eco-1", "assigned") in [(h.officer, h.action) for h in history]
    assert row(ctx, eco, unprotected).assignee is None  # nothing left to keep: nobody is made to own it
    assert ids(ctx, eco, "mine") == [protected]


def test_a_referral_leaves_an_assigned_protection_file_with_its_officer(ctx):
    case_id = report(ctx, "retaliation")
    eco, eco_member = officer(ctx, "eco-1"), member(ctx)
    casework.assign(ctx, eco, case_id, "eco-2")
    protection.recommend(ctx, eco, case_id, "flexible_working", "Head of Office")
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment", "referred_to_oig"])
    assert row(ctx, eco_member, case_id).assignee == "eco-2"


def test_unassigned_lists_a_closed_protection_file_nobody_keeps(ctx):
    protected = report(ctx, "retaliation")
    closed = report(ctx, "retaliation")
    waiting = report(ctx, "retaliation")
    eco = officer(ctx, "eco-1")
    protection.recommend(ctx, eco, protected, "flexible_working", "Head of Office")
    for case_id in (protected, closed):
        walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment", "closed_no_prima_facie"])
    assert set(ids(ctx, eco, "unassigned")) == {protected, waiting}
    assert row(ctx, eco, protected).needs_officer and not row(ctx, eco, waiting).needs_officer
    assert not row(ctx, eco, closed).needs_officer
    casework.assign(ctx, eco, protected, "eco-1")
    assert ids(ctx, eco, "unassigned") == [waiting]


def test_narrowed_by_the_answers_the_inbox_counts_and_pages_the_matches(ctx):
    west = {report(ctx, "misconduct", region="wca") for _ in range(PAGE_SIZE + 3)}
    for _ in range(4):
        report(ctx, "misconduct", region="hq")
    oig = officer(ctx, "oig-1")
    first, second = (inbox.inbox(ctx, oig, region="wca", page=n) for n in (1, 2))
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (PAGE_SIZE + 3, 2, PAGE_SIZE, 3)
    assert {r.id for r in first.rows + second.rows} == west
    assert inbox.inbox(ctx, oig, region="wca", page=9).page == 2


def test_a_search_finds_a_case_by_a_piece_of_its_id_and_never_takes_like_wildcards(ctx):
    """The case-id box: a piece of an id in any letter case finds the case; "%", "_" or anything a case id
    does not hold finds nothing (they would be LIKE's wildcards: "%" alone matched every case)."""
    eco = officer(ctx, "eco-1")
    first, second = report(ctx, "retaliation"), report(ctx, "retaliation")
    assert ids(ctx, eco, "all", query=first[-5:].lower()) == [first]
    assert ids(ctx, eco, "all", query=f" {second} ") == [second]
    assert set(ids(ctx, eco, "all", query="ECO-")) == {first, second}
    for wildcard in ("%", "_", "ECO%", first[:4] + "_", "ECO-%25", "é", first + "'"):
        page = inbox.inbox(ctx, eco, "all", query=wildcard)
        assert page.rows == () and page.total == 0, wildcard
        assert page.query == wildcard.strip()


def test_the_other_part_an_officer_stepped_away_from_is_named_but_not_theirs_to_open(ctx):
    """Both parts at ECO (OIG transferred its part there); ECO's first head steps away from one, handing it to
    the second head. The other part's row still names it (they declared the conflict, they know of it) but says
    it is not theirs to open, so the inbox never links to a page that answers "not found" (the model-based test
    found that link)."""
    parts = both(ctx)
    walk(ctx, officer(ctx, "oig-1"), parts["OIG"], ["transferred_to_eco"])
    second = member(ctx)
    officers.set_role(ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"), "eco-2", True, ())
    ctx.now.now += dt.timedelta(seconds=31)  # the next authenticator code: the one set_role took is spent
    stepping_away = officer(ctx, "eco-1")
    recusal.declare(ctx, stepping_away, parts["ECO"], "I know the respondent.")
    at_eco = row(ctx, stepping_away, parts["OIG"])
    assert at_eco.other_part.id == parts["ECO"] and at_eco.other_part.stepped_away
    assert parts["ECO"] not in ids(ctx, stepping_away, "all")
    assert not row(ctx, second, parts["OIG"]).other_part.stepped_away
