"""Conflicts of interest, issue 23 (items 2 and 13): no case is ever left with nobody who can open
it; a head's own conflict goes to another head or, where there is none, to the Director General
(ECO Charter 4.7), whose decision an officer who can open the case records as theirs; decisions
both ways (upheld or lifted), each with a reason sealed with the office's records; a head named
later receives the restricted cases the deciding head holds, except those withheld or declared.

Invariant checked after the steps (the lead's model-based test checks it after every step of
random sequences): every handling can be opened by an active officer of its office."""

import datetime as dt
import re

import pytest
from sqlmodel import Session, SQLModel, select

from intake.service import audit, casework, officers, recusal, reporting, restriction
from intake.service.errors import AuthenticationFailed, Conflict, NotFound
from intake.store import Handling, Officer, Recusal, RestrictionWrap
from policies import validate_report

from ..clock import Clock
from ..conftest import PASSWORDS
from ..enrolments import enrolments
from ..helpers import api_login, app_context, html_login, post_form
from .test_restricted_cases import clock, code  # noqa: F401 (clock: an autouse fixture, shared)

SECOND, THIRD = "eco member password two", "eco member password three"
OFFICER_PASSWORDS = {**PASSWORDS, "eco-2": SECOND, "eco-3": THIRD}
# What changes with every login or request and says nothing of who can open a case.
VOLATILE = {"web_session", "login_attempts", "budget", "sending"}
# What showing a case page records (its opening, in the audit chain; the reading): a refused form shows
# the case page again, with what was typed.
VIEWED = frozenset({"case_reading", "audit_entry", "audit_head", "audit_checkpoint"})


def later(ctx) -> None:
    """On to the next authenticator step, so that the next login has a code of its own."""
    ctx.now.now += dt.timedelta(seconds=31)


def session(ctx, username: str):
    return officers.current(ctx, officers.log_in(ctx, username, OFFICER_PASSWORDS[username], code(ctx, username)))


def add(ctx, *usernames: str) -> None:
    """Members of ECO, enrolled by its founding head eco-1."""
    for username in usernames:
        enrolments(ctx)[username] = officers.add_officer(
            ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), username, OFFICER_PASSWORDS[username]
        )


def name_head(ctx, by: str, username: str, withhold: tuple[str, ...] = (), head: bool = True):
    return officers.set_role(ctx, by, OFFICER_PASSWORDS[by], code(ctx, by), username, head, withhold)


def restricted(ctx) -> reporting.FiledReport:
    """A retaliation report about someone in ECO: restricted to ECO's heads."""
    report = validate_report(
        ctx.policy, ["retaliation"], "An ECO officer's husband ended my contract.", {"office_concerned": "someone"}
    )
    return reporting.file_report(ctx, report)


def ordinary(ctx, concern: str = "retaliation") -> str:
    report = validate_report(ctx.policy, [concern], "My manager ended my contract after I reported fraud.", {})
    return reporting.file_report(ctx, report).cases[0].id


def store(ctx, ignore: frozenset[str] = frozenset()) -> dict[str, list[tuple]]:
    """Every row of every table that says who can open what (all but the volatile ones, and `ignore`), to compare whole."""
    with Session(ctx.engine) as db:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in db.connection().execute(table.select()).all())
            for table in SQLModel.metadata.sorted_tables
            if table.name not in VOLATILE | ignore
        }


def assert_no_case_orphaned(ctx) -> None:
    """Every handling, open or closed, can be opened by an active officer of its office who has no standing
    recusal on the case and, for a restricted case, holds a wrap of its key (worked out here from the rows,
    not with the service's own query)."""
    with Session(ctx.engine) as db:
        handlings = db.exec(select(Handling)).all()
        active = db.exec(select(Officer).where(Officer.active)).all()
        standing = {(r.case_id, r.officer_id) for r in db.exec(select(Recusal)).all() if r.lifted_on is None}
        wraps = {(w.case_id, w.office, w.officer_id) for w in db.exec(select(RestrictionWrap)).all()}

    def opens(officer: Officer, handling: Handling) -> bool:
        return (
            officer.office == handling.office
            and (handling.case_id, officer.id) not in standing
            and (handling.restricted_key is None or (handling.case_id, handling.office, officer.id) in wraps)
        )

    orphans = [(h.case_id, h.office) for h in handlings if not any(opens(o, h) for o in active)]
    assert orphans == []


def room_notices(ctx, passphrase: str) -> list[str]:
    (room,) = reporting.case_room(ctx, reporting.open_case_room(ctx, passphrase))
    return [str(m.body) for m in room.messages if m.author == "service"]


# 1. No case is ever left with nobody who can open it.


def test_the_only_head_hands_a_restricted_case_on_before_stepping_away(ctx):
    add(ctx, "eco-2")
    head, member = session(ctx, "eco-1"), session(ctx, "eco-2")
    restriction.share(ctx, head, restricted(ctx).cases[0].id, "eco-2")  # another case eco-2 holds: not this one
    filed = restricted(ctx)
    case_id = filed.cases[0].id
    before = store(ctx)
    with pytest.raises(recusal.HandOnNeeded) as needed:  # alone, eco-1 would leave the case with nobody
        recusal.declare(ctx, head, case_id, "The respondent is my husband.")
    assert needed.value.allowed == ("eco-2",)
    for refused in ("eco-9", "oig-1", "eco-1", {"x": 1}):  # nobody, the other office, themselves, hostile JSON
        with pytest.raises(Conflict):
            recusal.declare(ctx, head, case_id, "The respondent is my husband.", refused)
    assert store(ctx) == before  # each refusal left the store exactly as it was
    with pytest.raises(NotFound):
        casework.open_case(ctx, member, case_id)

    recusal.declare(ctx, head, case_id, "The respondent is my husband.", "eco-2")

    assert casework.open_case(ctx, member, case_id).id == case_id  # one more wrap: the member holds the key now
    with pytest.raises(NotFound):
        casework.open_case(ctx, head, case_id)
    assert any("given one more of its officers access" in n for n in room_notices(ctx, filed.passphrase))
    entries = [e for e in audit.entries(ctx.engine) if e.get("case") == case_id]
    shared = next(e for e in entries if e["action"] == "restricted case shared")
    assert (shared["officer"], shared["shared_with"], shared["handed_on"]) == (head.officer_id, member.officer_id, "yes")
    assert "conflict declared" in [e["action"] for e in entries]
    assert_no_case_orphaned(ctx)


def test_the_last_officer_who_can_open_an_ordinary_case_cannot_step_away(ctx):
    add(ctx, "eco-2")
    head, member = session(ctx, "eco-1"), session(ctx, "eco-2")
    case_id = ordinary(ctx)
    recusal.declare(ctx, member, case_id, "I know the respondent.")
    before = store(ctx)
    with pytest.raises(Conflict, match="last officer of your office"):
        recusal.declare(ctx, head, case_id, "I know the respondent too.")
    with pytest.raises(Conflict):  # an ordinary case cannot be handed on: every officer holds its key already
        recusal.declare(ctx, head, case_id, "I know the respondent too.", "eco-2")
    assert store(ctx) == before
    # OIG has one officer: they can never leave one of its cases with nobody.
    oig_case = ordinary(ctx, "misconduct")
    with pytest.raises(Conflict, match="last officer of your office"):
        recusal.declare(ctx, session(ctx, "oig-1"), oig_case, "The respondent is my cousin.")
    assert_no_case_orphaned(ctx)


def test_no_hand_on_while_another_officer_can_open_the_case(ctx):
    add(ctx, "eco-2", "eco-3")
    head = session(ctx, "eco-1")
    case_id = restricted(ctx).cases[0].id
    restriction.share(ctx, head, case_id, "eco-2")
    before = store(ctx)
    with pytest.raises(Conflict, match="Another officer of your office can still open"):
        recusal.declare(ctx, head, case_id, "My husband.", "eco-3")
    assert store(ctx) == before
    recusal.declare(ctx, head, case_id, "My husband.")
    with pytest.raises(NotFound):  # eco-3 was given nothing
        casework.open_case(ctx, session(ctx, "eco-3"), case_id)
    assert_no_case_orphaned(ctx)


def test_a_member_last_to_open_a_restricted_case_hands_it_on_too(ctx):
    """The head stepped away after sharing; the member who holds it is now the last: they may hand it
    on as well (no head who can open it could), and the complainant is told in neutral words."""
    add(ctx, "eco-2", "eco-3")
    head, member = session(ctx, "eco-1"), session(ctx, "eco-2")
    filed = restricted(ctx)
    case_id = filed.cases[0].id
    restriction.share(ctx, head, case_id, "eco-2")
    recusal.declare(ctx, head, case_id, "My husband.")
    with pytest.raises(recusal.HandOnNeeded) as needed:
        recusal.declare(ctx, member, case_id, "He is my friend.")
    assert needed.value.allowed == ("eco-3",)  # not eco-1: they stepped away from it
    recusal.declare(ctx, member, case_id, "He is my friend.", "eco-3")
    assert casework.open_case(ctx, session(ctx, "eco-3"), case_id).id == case_id
    assert any(n.startswith("One more officer of the office can now read") for n in room_notices(ctx, filed.passphrase))
    assert_no_case_orphaned(ctx)


def test_an_officer_who_alone_can_open_a_case_cannot_be_disabled(ctx):
    add(ctx, "eco-2", "eco-3")
    head = session(ctx, "eco-1")
    plain, held = ordinary(ctx), restricted(ctx).cases[0].id
    restriction.share(ctx, head, held, "eco-2")
    recusal.declare(ctx, head, plain, "A relative.")
    recusal.declare(ctx, head, held, "A relative.")
    recusal.declare(ctx, session(ctx, "eco-3"), plain, "A friend.")
    before = store(ctx)
    # eco-2 alone can open both: the head is recused from them, and so is eco-3 from the ordinary one.
    with pytest.raises(Conflict) as refused:
        officers.disable(ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), "eco-2")
    assert plain in str(refused.value) and held in str(refused.value)
    after = store(ctx)
    assert {k: v for k, v in after.items() if k not in ("officer", "audit_entry", "audit_head")} == {
        k: v for k, v in before.items() if k not in ("officer", "audit_entry", "audit_head")
    }
    assert officers.current(ctx, officers.log_in(ctx, "eco-2", SECOND, code(ctx, "eco-2"))).username == "eco-2"
    assert_no_case_orphaned(ctx)


def test_a_head_made_member_again_still_opens_the_restricted_cases_wrapped_to_them(ctx):
    add(ctx, "eco-2")
    name_head(ctx, "eco-1", "eco-2")
    case_id = restricted(ctx).cases[0].id  # filed to both heads
    change = name_head(ctx, "eco-2", "eco-1", head=False)
    assert (change.head, change.shared) == (False, ())
    assert casework.open_case(ctx, session(ctx, "eco-1"), case_id).id == case_id
    assert_no_case_orphaned(ctx)


# 2 and 3. Who decides, and decisions both ways with a reason.


def test_the_head_upholds_a_declaration_with_a_reason_and_lifts_it_later(ctx):
    add(ctx, "eco-2", "eco-3")
    head, member, third = session(ctx, "eco-1"), session(ctx, "eco-2"), session(ctx, "eco-3")
    case_id = ordinary(ctx)
    recusal.declare(ctx, member, case_id, "The respondent is my brother-in-law.")
    (own,) = recusal.declarations(ctx, member)  # the declarer sees it pending, without the note
    assert (own.decision, own.own, own.can_decide, own.note, own.decider) == (None, True, False, None, "head")
    assert recusal.declarations(ctx, third) == ()  # another member sees nothing of it
    other_office = session(ctx, "oig-1")
    before = store(ctx)
    for who, refusal in (
        (third, Conflict),  # a member does not decide while a head can
        (member, Conflict),  # nor on their own conflict
        (other_office, NotFound),  # nor does the other office's head
    ):
        with pytest.raises(refusal):
            recusal.decide(ctx, who, case_id, "eco-2", "upheld", "No.")
    for decision, reason, dg in (("upheld", "  ", False), ("maybe", "Why not.", False), ({}, "x", False), ("upheld", "x", True)):
        with pytest.raises(Conflict):  # no reason, no such decision, hostile JSON, or not the Director General's to make
            recusal.decide(ctx, head, case_id, "eco-2", decision, reason, dg)
    assert store(ctx) == before

    recusal.decide(ctx, head, case_id, "eco-2", "upheld", "Family tie to the respondent: stays away.")

    with pytest.raises(NotFound):
        casework.open_case(ctx, member, case_id)
    with pytest.raises(Conflict):
        casework.assign(ctx, head, case_id, "eco-2")
    with pytest.raises(Conflict):  # upheld already
        recusal.decide(ctx, head, case_id, "eco-2", "upheld", "Again.")
    (seen,) = recusal.declarations(ctx, head)
    assert (seen.decision, seen.decided_by, seen.director_general, seen.reason, seen.can_decide) == (
        "upheld",
        "eco-1",
        False,
        "Family tie to the respondent: stays away.",
        True,  # it can still be lifted
    )
    assert recusal.declarations(ctx, member)[0].decision == "upheld"

    recusal.decide(ctx, head, case_id, "eco-2", "lifted", "The respondent left the organization.")

    assert casework.open_case(ctx, member, case_id).id == case_id
    with pytest.raises(Conflict):
        recusal.decide(ctx, head, case_id, "eco-2", "lifted", "Again.")
    records = [(r.kind, r.about, r.text) for r in casework.open_case(ctx, head, case_id).records]
    assert records == [
        ("conflict_declaration", None, "The respondent is my brother-in-law."),
        ("conflict_decision", "upheld", "Family tie to the respondent: stays away."),
        ("conflict_decision", "lifted", "The respondent left the organization."),
    ]
    decided = [e for e in audit.entries(ctx.engine) if e["action"] in ("conflict upheld", "recusal lifted")]
    assert [(e["action"], e["of"], e["decided_by"]) for e in decided] == [
        ("conflict upheld", member.officer_id, "head"),
        ("recusal lifted", member.officer_id, "head"),
    ]
    assert "stays away" not in str(decided)  # the audit names the sealed record, never its words
    assert_no_case_orphaned(ctx)


def test_the_only_heads_own_conflict_is_for_the_director_general_recorded_by_an_officer(ctx):
    add(ctx, "eco-2", "eco-3")
    head, member = session(ctx, "eco-1"), session(ctx, "eco-2")
    case_id = ordinary(ctx)
    recusal.declare(ctx, head, case_id, "The respondent is my brother.")
    (own,) = recusal.declarations(ctx, head)
    assert (own.own, own.decider, own.can_decide) == (True, "director_general", False)
    (theirs,) = recusal.declarations(ctx, member)  # a member who can open the case records the decision
    assert (theirs.decider, theirs.can_decide, theirs.note) == ("director_general", True, "The respondent is my brother.")
    before = store(ctx)
    with pytest.raises(Conflict, match="your own conflict"):  # a recused head does not decide their own conflict
        recusal.decide(ctx, head, case_id, "eco-1", "lifted", "I see no conflict.", True)
    with pytest.raises(Conflict, match="Director General"):  # the member must say it is the Director General's
        recusal.decide(ctx, member, case_id, "eco-1", "upheld", "The DG decided so.")
    assert store(ctx) == before

    recusal.decide(ctx, member, case_id, "eco-1", "upheld", "The Director General wrote on 1 June: the head stays away.", True)

    (seen,) = recusal.declarations(ctx, session(ctx, "eco-3"))  # who can open the case may record a lifting later
    assert (seen.decision, seen.director_general, seen.decided_by, seen.can_decide) == ("upheld", True, "eco-2", True)
    (record,) = [r for r in casework.open_case(ctx, member, case_id).records if r.kind != "conflict_declaration"]
    assert (record.kind, record.about, record.officer) == ("director_general_decision", "upheld", "eco-2")
    entry = next(e for e in audit.entries(ctx.engine) if e["action"] == "conflict upheld")
    assert (entry["officer"], entry["of"], entry["decided_by"]) == (member.officer_id, head.officer_id, "director_general")
    with pytest.raises(NotFound):
        casework.open_case(ctx, head, case_id)

    # Once the office has another head who can open the case, a head's own conflict is theirs to decide.
    name_head(ctx, "eco-1", "eco-3")
    other = ordinary(ctx)
    recusal.declare(ctx, head, other, "My brother again.")
    assert recusal.declarations(ctx, head)[0].decider == "head"
    with pytest.raises(Conflict):  # a member no longer records it
        recusal.decide(ctx, member, other, "eco-1", "lifted", "The DG said so.", True)
    with pytest.raises(Conflict):  # and a head does not pass their decision off as the Director General's
        recusal.decide(ctx, session(ctx, "eco-3"), other, "eco-1", "lifted", "Fine.", True)
    recusal.decide(ctx, session(ctx, "eco-3"), other, "eco-1", "lifted", "Not the same brother.")
    assert casework.open_case(ctx, session(ctx, "eco-1"), other).id == other
    assert_no_case_orphaned(ctx)


def test_a_head_who_cannot_open_the_case_does_not_decide_on_it(ctx):
    """A restricted case withheld from a new head (it is about them): the conflicts on it are not theirs to decide."""
    add(ctx, "eco-2", "eco-3")
    head = session(ctx, "eco-1")
    case_id = restricted(ctx).cases[0].id
    restriction.share(ctx, head, case_id, "eco-3")
    name_head(ctx, "eco-1", "eco-2", withhold=(case_id,))
    recusal.declare(ctx, session(ctx, "eco-3"), case_id, "A neighbour.")
    new_head = session(ctx, "eco-2")
    seen = recusal.declarations(ctx, new_head)
    assert [(d.case_id, d.note, d.can_decide) for d in seen] == [(case_id, None, False)]
    with pytest.raises(NotFound):
        recusal.decide(ctx, new_head, case_id, "eco-3", "lifted", "I decide.")
    recusal.decide(ctx, head, case_id, "eco-3", "lifted", "Not the same neighbour.")
    assert_no_case_orphaned(ctx)


# 4. A head named later.


def test_a_head_named_later_receives_the_restricted_cases_but_those_withheld_declared_or_not_held(ctx):
    add(ctx, "eco-2", "eco-3")
    head = session(ctx, "eco-1")
    shared, withheld, declared, stepped = (restricted(ctx) for _ in range(4))
    restriction.share(ctx, head, declared.cases[0].id, "eco-2")
    recusal.declare(ctx, session(ctx, "eco-2"), declared.cases[0].id, "My cousin.")
    restriction.share(ctx, head, stepped.cases[0].id, "eco-3")
    recusal.declare(ctx, head, stepped.cases[0].id, "My neighbour.")
    before = store(ctx)
    with pytest.raises(Conflict, match="ECO-00000000FF"):  # a mistyped id refuses everything: nothing is shared
        name_head(ctx, "eco-1", "eco-2", withhold=(withheld.cases[0].id, "ECO-00000000FF"))
    with pytest.raises(Conflict):  # withholding is for naming a head
        name_head(ctx, "eco-1", "eco-3", withhold=(withheld.cases[0].id,), head=False)
    with pytest.raises(Conflict):  # a member does not name heads
        name_head(ctx, "eco-3", "eco-2")
    with pytest.raises(AuthenticationFailed):
        officers.set_role(ctx, "eco-1", "not the password", code(ctx, "eco-1"), "eco-2", True)
    rehearsal = officers.set_role(
        ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), "eco-2", True, (withheld.cases[0].id,), True
    )
    assert rehearsal.shared == (shared.cases[0].id,)
    after = store(ctx)
    assert {k: v for k, v in after.items() if k != "officer"} == {k: v for k, v in before.items() if k != "officer"}

    change = name_head(ctx, "eco-1", "eco-2", withhold=(withheld.cases[0].id,))

    assert change.shared == (shared.cases[0].id,)
    assert change.withheld == (withheld.cases[0].id,)
    assert change.declared == (declared.cases[0].id,)
    assert change.stepped_away == (stepped.cases[0].id,)
    new_head = session(ctx, "eco-2")
    assert casework.open_case(ctx, new_head, shared.cases[0].id).restricted
    for case in (withheld, declared, stepped):
        with pytest.raises(NotFound):
            casework.open_case(ctx, new_head, case.cases[0].id)
    assert any("given one more of its officers access" in n for n in room_notices(ctx, shared.passphrase))
    assert not any("access" in n for n in room_notices(ctx, withheld.passphrase))
    entries = audit.entries(ctx.engine)
    assert [(e["case"], e["of"]) for e in entries if e["action"] == "restricted case withheld"] == [
        (withheld.cases[0].id, new_head.officer_id)
    ]
    given = [e for e in entries if e["action"] == "restricted case shared" and e.get("new_head") == "yes"]
    assert [(e["case"], e["shared_with"]) for e in given] == [(shared.cases[0].id, new_head.officer_id)]
    # The new head names a third: what eco-2 does not hold, eco-2 cannot give, and says so.
    third = name_head(ctx, "eco-2", "eco-3")
    assert third.not_held == (withheld.cases[0].id,)
    assert third.stepped_away == (declared.cases[0].id,)  # eco-2 holds it, but stepped away from it
    assert third.already == (stepped.cases[0].id,)
    with Session(ctx.engine) as db:
        holders = db.exec(select(RestrictionWrap.officer_id).where(RestrictionWrap.case_id == withheld.cases[0].id)).all()
    assert holders == [head.officer_id]
    assert_no_case_orphaned(ctx)


def test_an_office_without_a_head_names_its_first_from_a_member(ctx):
    """Possible after migration 0008 on an office of several officers: any member names the first head,
    and gives them what they hold."""
    add(ctx, "eco-2")
    with Session(ctx.engine) as db:
        for row in db.exec(select(Officer).where(Officer.office == "ECO")).all():
            row.head = False
            db.add(row)
        db.commit()
    change = name_head(ctx, "eco-2", "eco-1")
    assert (change.first_head, change.shared) == (True, ())
    assert officers.offices_without_head(ctx.engine) == []


def test_the_decision_rows_say_who_and_when(ctx):
    add(ctx, "eco-2")
    case_id = ordinary(ctx)
    recusal.declare(ctx, session(ctx, "eco-2"), case_id, "A friend.")
    recusal.decide(ctx, session(ctx, "eco-1"), case_id, "eco-2", "lifted", "Not close enough.")
    with Session(ctx.engine) as db:
        (row,) = db.exec(select(Recusal)).all()
    assert (row.decision, row.decided_on, row.lifted_on, row.director_general) == ("lifted", ctx.today(), ctx.today(), False)
    assert row.decided_by == row.lifted_by and row.decision_record_id


# The pages and the API.


def test_the_pages_decide_both_ways_and_never_say_another_head_decides_where_there_is_none(client):
    ctx = app_context(client)
    ctx.now = Clock(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    add(ctx, "eco-2")
    PASSWORDS["eco-2"] = SECOND
    try:
        case_id, mine = ordinary(ctx), ordinary(ctx)
        later(ctx)
        member = api_login(client, "eco-2")
        declared = client.post(f"/api/v1/officer/cases/{case_id}/recusal", json={"note": "<b>My brother</b>"}, headers=member)
        assert declared.status_code == 201
        listed = client.get("/api/v1/officer/conflicts", headers=member)
        assert listed.status_code == 200
        assert [(d["case"], d["decision"], d["note"], d["decider"]) for d in listed.json()["declarations"]] == [
            (case_id, None, None, "head")
        ]
        later(ctx)
        html_login(client, "eco-1")
        page = client.get("/officer/conflicts").text
        assert "Pending: a head of the office who can open the case decides." in page
        assert 'action="/officer/conflicts/decision"' in page and "checked" not in page
        assert "&lt;b&gt;My brother&lt;/b&gt;" in page and "<b>My brother" not in page
        decision = {"case_id": case_id, "username": "eco-2", "decision": "upheld", "reason": "<i>Close family</i>"}
        before = store(ctx)
        refused = post_form(client, "/officer/conflicts/decision", decision)  # no tick
        assert refused.status_code == 409 and "Tick the box to confirm the decision." in refused.text
        kept = re.search(r'<form method="post" action="/officer/conflicts/decision">.*?</form>', refused.text, re.S).group(0)
        assert "&lt;i&gt;Close family&lt;/i&gt;</textarea>" in kept and 'value="upheld" id="uphold-1" required checked' in kept
        assert post_form(client, "/officer/conflicts/decision", {**decision, "confirm": "director_general"}).status_code == 409
        assert post_form(client, "/officer/conflicts/decision", {**decision, "reason": "", "confirm": "yes"}).status_code == 409
        assert store(ctx) == before
        done = post_form(client, "/officer/conflicts/decision", {**decision, "confirm": "yes"}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].endswith("notice=upheld")
        page = client.get(done.headers["location"]).text
        assert "The declaration is upheld" in page and "Upheld on" in page and "&lt;i&gt;Close family" in page
        assert client.get(f"/api/v1/officer/cases/{case_id}", headers=member).status_code == 404
        later(ctx)
        head = api_login(client, "eco-1")
        lift = f"/api/v1/officer/cases/{case_id}/recusal/decision"
        no_reason = client.post(lift, json={"username": "eco-2", "decision": "lifted"}, headers=head)
        assert no_reason.status_code == 422 and no_reason.json()["fields"] == {"reason": "is required"}
        lifted = client.post(lift, json={"username": "eco-2", "decision": "lifted", "reason": "Moved on."}, headers=head)
        assert lifted.json() == {"decision": "lifted"}
        assert client.get(f"/api/v1/officer/cases/{case_id}", headers=member).status_code == 200
        (seen,) = client.get("/api/v1/officer/conflicts", headers=head).json()["declarations"]
        assert (seen["decision"], seen["reason"], seen["decided_by"], seen["lifted_on"]) == (
            "lifted",
            "Moved on.",
            "eco-1",
            "2026-06-01",
        )
        # The only head's own conflict: the page says the Director General decides, never another head.
        form = post_form(
            client, f"/officer/cases/{mine}/recusal", {"note": "My cousin.", "confirm": "yes"}, follow_redirects=False
        )
        assert form.status_code == 303
        page = client.get("/officer/conflicts").text
        assert "Director General" in page and "another head" not in page.lower()
        later(ctx)
        html_login(client, "eco-2")
        page = client.get("/officer/conflicts").text
        assert 'value="director_general"' in page and "My cousin." in page
        recorded = post_form(
            client,
            "/officer/conflicts/decision",
            {
                "case_id": mine,
                "username": "eco-1",
                "decision": "lifted",
                "reason": "DG: no conflict.",
                "confirm": "director_general",
            },
        )
        assert recorded.status_code == 200 and "the Director General's decision, recorded by" in recorded.text
    finally:
        PASSWORDS.pop("eco-2", None)


def test_the_case_page_asks_the_only_head_to_hand_a_restricted_case_on(client):
    ctx = app_context(client)
    ctx.now = Clock(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    add(ctx, "eco-2")
    filed = restricted(ctx)
    case_id = filed.cases[0].id
    later(ctx)
    html_login(client, "eco-1")
    assert client.get(f"/officer/cases/{case_id}").status_code == 200  # where the head declares it from
    declare = f"/officer/cases/{case_id}/recusal"
    before = store(ctx)
    step = post_form(client, declare, {"note": "My husband <script>", "confirm": "yes"})
    assert step.status_code == 200 and "Hand the case on before you step away" in step.text
    assert '<option value="eco-2">' in step.text and "My husband &lt;script&gt;" in step.text
    assert store(ctx) == before  # nothing changed: the first step only asks
    before = store(ctx, VIEWED)
    assert post_form(client, declare, {"note": "My husband", "hand_to": "eco-2"}).status_code == 409  # no tick
    assert store(ctx, VIEWED) == before
    done = post_form(client, declare, {"note": "My husband", "hand_to": "eco-2", "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("notice=handed_on")
    assert client.get(f"/officer/cases/{case_id}").status_code == 404
    # The API: the 409 lists whom it may be handed to.
    other = restricted(ctx).cases[0].id
    later(ctx)
    head = api_login(client, "eco-1")
    refused = client.post(f"/api/v1/officer/cases/{other}/recusal", json={"note": "Again."}, headers=head)
    assert refused.status_code == 409 and refused.json()["allowed"] == ["eco-2"]
    assert_no_case_orphaned(ctx)


def test_two_officers_stepping_away_at_once_do_not_leave_the_case_with_nobody(ctx):
    """While another declaration on the case is in flight (it holds the office's officers and has written
    its recusal, not yet committed), a second declaration waits for it, then sees it, and is refused:
    without the lock each would count the other as still able to open the case, and both would step away."""
    import threading

    from intake.service.access import lock_office
    from intake.store import transaction

    if ctx.engine.dialect.name == "sqlite":
        pytest.skip("SQLite takes one lock for the whole database: every writer waits there, whatever the case")
    add(ctx, "eco-2")
    head, member = session(ctx, "eco-1"), session(ctx, "eco-2")
    case_id = ordinary(ctx)
    outcome: list[object] = []

    def second() -> None:
        try:
            recusal.declare(ctx, member, case_id, "I know the respondent too.")
            outcome.append("declared")
        except Conflict as refused:
            outcome.append(refused)

    with transaction(ctx.engine) as db:  # the first declaration, by the head, half-way through
        lock_office(db, "ECO")
        db.add(Recusal(case_id=case_id, officer_id=head.officer_id, office="ECO", declared_on=ctx.today(), record_id="N-1"))
        db.flush()
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(2)
        assert thread.is_alive()  # waiting for the first to finish
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict) and "last officer" in str(outcome[0])
    assert_no_case_orphaned(ctx)


def test_a_case_an_earlier_version_left_with_nobody_gets_someone_back_through_a_new_head(ctx):
    """Before this fix the only head could step away from a restricted case and leave it with nobody
    (issue 23). Naming a head gives them such a case even though the deciding head stepped away from
    it (unless withheld); the new head can then open it and decide on the old declaration."""
    add(ctx, "eco-2")
    head = session(ctx, "eco-1")
    case_id = restricted(ctx).cases[0].id
    with Session(ctx.engine) as db:  # as the code before this fix allowed: the sole holder recused
        db.add(Recusal(case_id=case_id, officer_id=head.officer_id, office="ECO", declared_on=ctx.today(), record_id="N-0"))
        db.commit()
    with pytest.raises(AssertionError):
        assert_no_case_orphaned(ctx)
    change = name_head(ctx, "eco-1", "eco-2")
    assert (change.rescued, change.stepped_away) == ((case_id,), ())
    new_head = session(ctx, "eco-2")
    assert casework.open_case(ctx, new_head, case_id).restricted
    (pending,) = recusal.declarations(ctx, new_head)
    assert (pending.decider, pending.can_decide) == ("head", True)
    entry = next(e for e in audit.entries(ctx.engine) if e["action"] == "restricted case shared")
    assert (entry["new_head"], entry["orphaned"]) == ("yes", "yes")
    assert_no_case_orphaned(ctx)


def test_a_case_is_not_offered_for_assignment_to_an_officer_who_stepped_away_from_it(ctx):
    add(ctx, "eco-2")
    case_id = reporting.file_report(ctx, validate_report(ctx.policy, ["retaliation"], "x", {})).cases[0].id
    head, member = session(ctx, "eco-1"), session(ctx, "eco-2")
    assert "eco-2" in casework.open_case(ctx, head, case_id).colleagues
    recusal.declare(ctx, member, case_id, "My sister is the manager.")
    offered = casework.open_case(ctx, head, case_id).colleagues
    assert "eco-2" not in offered and "eco-1" in offered
    with pytest.raises(Conflict):
        casework.assign(ctx, head, case_id, "eco-2")
