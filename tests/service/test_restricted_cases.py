"""Restricted cases (#17): a report about someone in the receiving office opens only for the
office's head(s), by key, not by rule: another officer of the office holding a copy of the
database and their own password has no key that opens it, until a head shares it with them
(one more wrap, audit-logged, the complainant told). A report about the head goes to the
other office, restricted to its heads."""

import datetime as dt

import pyotp
import pytest
from sqlmodel import Session, select

from crypto import (
    CryptoError,
    derive_password_key,
    open_record,
    unlock_officer_key,
    unwrap_case_key,
    unwrap_handling_key,
    unwrap_identity_key,
    unwrap_office_key,
    unwrap_restriction_key,
)
from intake.service import audit, casework, inbox, office_keys, officers, recusal, reporting, restriction, statistics
from intake.service.errors import Conflict, NotFound
from intake.store import Case, CaseKeyWrap, Handling, Identity, Officer, RestrictionWrap, office_holder
from policies import validate_report

from ..clock import Clock
from ..conftest import PASSWORDS
from ..enrolments import enrolments
from ..files import multipart, snapshot
from ..helpers import api_login, app_context, caseroom_login, html_login, post_form, while_case_is_held

MEMBER_PASSWORD = "eco member password two"
THIRD_PASSWORD = "eco member password three"
ABOUT_A_COLLEAGUE = "An ECO officer's husband runs my unit and ended my contract after I spoke to OIG."


@pytest.fixture(autouse=True)
def clock(ctx):
    ctx.now = Clock(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    return ctx.now


def code(ctx, username: str) -> str:
    """The next code of an officer's authenticator (no code is accepted twice)."""
    ctx.now.now += dt.timedelta(seconds=31)
    return pyotp.TOTP(enrolments(ctx)[username].totp_secret).at(ctx.now())


def add(ctx, username: str, password: str):
    """A member of ECO, added by its head; returns their session."""
    enrolments(ctx)[username] = officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), username, password)
    return officers.current(ctx, officers.log_in(ctx, username, password, code(ctx, username)))


def session(ctx, username: str):
    password = PASSWORDS.get(username) or {"eco-2": MEMBER_PASSWORD, "eco-3": THIRD_PASSWORD}[username]
    return officers.current(ctx, officers.log_in(ctx, username, password, code(ctx, username)))


def file(ctx, concerned: str = "someone", identity: str = "", concern: str = "retaliation"):
    answers = {"office_concerned": concerned}
    if identity:
        answers |= {"identity": identity, "identity_consent": "yes"}
    return reporting.file_report(ctx, validate_report(ctx.policy, [concern], ABOUT_A_COLLEAGUE, answers))


def what_a_member_can_compute(ctx, username: str, password: str) -> tuple[bytes, bytes]:
    """With a copy of the database and their own password: their private key and the office key."""
    with Session(ctx.engine) as db:
        row = db.exec(select(Officer).where(Officer.username == username)).one()
    private = unlock_officer_key(
        row.key_by_password, derive_password_key(password, row.password_salt, ctx.instance.argon2), row.id, "password"
    )
    return private, unwrap_office_key(private, row.office_key_wrap, row.office)


def opens_with(private_keys: tuple[bytes, ...], case_id: str) -> list[str]:
    """Everything of the case a holder of these keys opens, trying every wrap of every kind in the database."""
    opened = []
    with Session(ctx_engine[0]) as db:
        wraps = db.exec(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case_id)).all()
        handlings = db.exec(select(Handling).where(Handling.case_id == case_id)).all()
        restriction_wraps = db.exec(select(RestrictionWrap).where(RestrictionWrap.case_id == case_id)).all()
        identity = db.get(Identity, case_id)
    for key in private_keys:
        for wrap in wraps:
            try:
                unwrap_case_key(key, wrap.wrap, case_id)
                opened.append(f"case key ({wrap.holder})")
            except CryptoError:
                pass
        for handling in handlings:
            try:
                unwrap_handling_key(key, handling.key_wrap or b"", case_id, handling.office)
                opened.append("handling key")
            except CryptoError:
                pass
        for wrap in restriction_wraps:
            try:
                unwrap_restriction_key(key, wrap.wrap, case_id, wrap.office)
                opened.append("restriction key")
            except CryptoError:
                pass
        if identity is not None and identity.office_wrap:
            try:
                unwrap_identity_key(key, identity.office_wrap, case_id)
                opened.append("identity")
            except CryptoError:
                pass
    return opened


ctx_engine: list = []


@pytest.fixture(autouse=True)
def engine_for_opens_with(ctx):
    ctx_engine[:] = [ctx.engine]


def test_only_the_head_opens_a_restricted_case_even_a_member_with_the_database_and_their_password(ctx):
    member = add(ctx, "eco-2", MEMBER_PASSWORD)
    head = session(ctx, "eco-1")
    filed = file(ctx, identity="Amal, ext. 4411")
    case_id = filed.cases[0].id
    ordinary = file(ctx, concerned="no").cases[0].id
    # The head sees it, marked, and reads all of it; notes they write are sealed for the case's own key.
    assert {(r.id, r.restricted) for r in inbox.inbox(ctx, head, "all").rows} == {(case_id, True), (ordinary, False)}
    detail = casework.open_case(ctx, head, case_id)
    assert detail.description == ABOUT_A_COLLEAGUE and detail.answers["office_concerned"] == "someone"
    assert [(h.username, h.head, h.shared_by) for h in detail.holders] == [("eco-1", True, None)]
    assert detail.shareable == ("eco-2",)
    casework.add_note(ctx, head, case_id, "Spoke to the Director General's office.")
    assert casework.read_identity(ctx, head, case_id) == "Amal, ext. 4411"
    # The member: no inbox row, no page, no reply, no note, and not assignable to them.
    assert [r.id for r in inbox.inbox(ctx, member, "all").rows] == [ordinary]
    for step in (
        lambda: casework.open_case(ctx, member, case_id),
        lambda: casework.reply(ctx, member, case_id, "Hello"),
        lambda: casework.add_note(ctx, member, case_id, "a note"),
        lambda: casework.read_identity(ctx, member, case_id),
    ):
        with pytest.raises(NotFound):
            step()
    with pytest.raises(Conflict):
        casework.assign(ctx, head, case_id, "eco-2")
    # By key: the member's private key and the office key open nothing of it; the head's do.
    member_keys = what_a_member_can_compute(ctx, "eco-2", MEMBER_PASSWORD)
    assert opens_with(member_keys, case_id) == []
    assert "case key (office:ECO)" in opens_with(member_keys, ordinary)
    head_keys = what_a_member_can_compute(ctx, "eco-1", PASSWORDS["eco-1"])
    assert opens_with(head_keys, case_id) == ["restriction key"]
    # The complainant still reads and writes in their room as for any case.
    room = caseroom_token(ctx, filed.passphrase)
    assert [(c.id, c.restricted) for c in reporting.case_room(ctx, room)] == [(case_id, True)]


def caseroom_token(ctx, passphrase: str) -> str:
    return reporting.open_case_room(ctx, passphrase)


def test_after_the_head_shares_it_that_officer_opens_it_and_no_one_else(ctx):
    member, third = add(ctx, "eco-2", MEMBER_PASSWORD), add(ctx, "eco-3", THIRD_PASSWORD)
    head = session(ctx, "eco-1")
    filed = file(ctx, identity="Amal, ext. 4411")
    case_id = filed.cases[0].id
    casework.add_note(ctx, head, case_id, "before sharing")
    with pytest.raises(Conflict):  # a member cannot share, not even with themselves
        restriction.share(ctx, member, case_id, "eco-2")
    with pytest.raises(Conflict):  # an officer of the other office
        restriction.share(ctx, head, case_id, "oig-1")
    with pytest.raises(Conflict):  # nobody by that name
        restriction.share(ctx, head, case_id, "nobody")
    restriction.share(ctx, head, case_id, "eco-2")
    with pytest.raises(Conflict):  # once is enough
        restriction.share(ctx, head, case_id, "eco-2")
    detail = casework.open_case(ctx, member, case_id)
    assert [r.text for r in detail.records] == ["before sharing"]
    assert casework.read_identity(ctx, member, case_id) == "Amal, ext. 4411"
    assert [r.id for r in inbox.inbox(ctx, member, "all").rows] == [case_id]
    assert [(h.username, h.shared_by) for h in detail.holders] == [("eco-1", None), ("eco-2", "eco-1")]
    casework.assign(ctx, head, case_id, "eco-2")
    # With the database and their password, the member now opens it; the third officer still nothing.
    assert "restriction key" in opens_with(what_a_member_can_compute(ctx, "eco-2", MEMBER_PASSWORD), case_id)
    assert opens_with(what_a_member_can_compute(ctx, "eco-3", THIRD_PASSWORD), case_id) == []
    with pytest.raises(NotFound):
        casework.open_case(ctx, third, case_id)
    # The complainant is told; the audit chain has the sharing, by whom and with whom.
    room = reporting.case_room(ctx, caseroom_token(ctx, filed.passphrase))[0]
    assert any(m.author == "service" and "one more of its officers" in str(m.body) for m in room.messages)
    shared = [e for e in audit.entries(ctx.engine) if e["action"] == "restricted case shared"]
    assert [(e["case"], e["officer"], e["shared_with"]) for e in shared] == [(case_id, head.officer_id, member.officer_id)]
    audit.verify(ctx.engine, ctx.instance)  # raises if the chain was cut or rewritten


def test_a_recused_officer_cannot_be_given_a_restricted_case_and_an_ordinary_case_is_not_shared(ctx):
    member = add(ctx, "eco-2", MEMBER_PASSWORD)
    head = session(ctx, "eco-1")
    case_id = file(ctx).cases[0].id
    restriction.share(ctx, head, case_id, "eco-2")
    recusal.declare(ctx, member, case_id, "I know the respondent.")
    ordinary = file(ctx, concerned="no").cases[0].id
    with pytest.raises(Conflict):
        restriction.share(ctx, head, ordinary, "eco-2")
    add(ctx, "eco-3", THIRD_PASSWORD)
    restriction.share(ctx, head, case_id, "eco-3")
    with pytest.raises(NotFound):  # recused: the wrap does not bring the case back
        casework.open_case(ctx, member, case_id)


def test_a_report_about_the_head_goes_to_the_other_office_restricted_to_its_heads(ctx):
    filed = file(ctx, concerned="head")
    (case,) = filed.cases
    assert case.office == "OIG" and case.id.startswith("OIG-")
    eco, oig = session(ctx, "eco-1"), session(ctx, "oig-1")
    assert inbox.inbox(ctx, eco, "all").rows == ()
    with pytest.raises(NotFound):
        casework.open_case(ctx, eco, case.id)
    detail = casework.open_case(ctx, oig, case.id)
    assert detail.restricted and detail.answers["about_head_of"] == "ECO" and detail.answers["concerns"] == ["retaliation"]
    with Session(ctx.engine) as db:
        assert db.get(Case, case.id).office == "OIG"
        assert db.exec(select(RestrictionWrap.office).where(RestrictionWrap.case_id == case.id)).all() == ["OIG"]
    # A misconduct report about OIG's head goes to ECO's head.
    (other,) = file(ctx, concerned="head", concern="misconduct").cases
    assert other.office == "ECO"
    assert casework.open_case(ctx, eco, other.id).answers["about_head_of"] == "OIG"


def test_rotating_the_office_key_leaves_restricted_cases_to_their_holders(ctx):
    head = session(ctx, "eco-1")
    case_id = file(ctx, identity="Amal").cases[0].id
    casework.add_note(ctx, head, case_id, "note")
    ordinary = file(ctx, concerned="no").cases[0].id
    done = office_keys.rotate(ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"))
    assert (done.cases, done.identities) == (1, 0)
    head = session(ctx, "eco-1")
    assert casework.open_case(ctx, head, case_id).records[0].text == "note"
    assert casework.read_identity(ctx, head, case_id) == "Amal"
    assert casework.open_case(ctx, head, ordinary).id == ordinary


def test_the_last_head_cannot_be_disabled_and_a_disabled_holder_loses_the_wrap(ctx):
    add(ctx, "eco-2", MEMBER_PASSWORD)
    head = session(ctx, "eco-1")
    case_id = file(ctx).cases[0].id
    with pytest.raises(Conflict):
        officers.disable(ctx, "eco-2", MEMBER_PASSWORD, code(ctx, "eco-2"), "eco-1")
    restriction.share(ctx, head, case_id, "eco-2")
    officers.disable(ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), "eco-2")
    with Session(ctx.engine) as db:
        holders = db.exec(select(Officer.username).join(RestrictionWrap, RestrictionWrap.officer_id == Officer.id)).all()
    assert holders == ["eco-1"]


def test_the_annual_figures_count_a_restricted_case_the_officer_cannot_open(ctx):
    member = add(ctx, "eco-2", MEMBER_PASSWORD)
    file(ctx, concerned="someone")
    file(ctx, concerned="no")
    internal, _ = statistics.eco_annual_report(ctx, member, 2026)
    assert next(f.value for f in internal.summary if f.key == "received") == "2"
    regions = next(t for t in internal.tables if t.spec.rows == "region")
    assert {r.key: r.count for r in regions.rows if r.count} == {"restricted": 1, "not_given": 1}
    head_view, _ = statistics.eco_annual_report(ctx, session(ctx, "eco-1"), 2026)
    regions = next(t for t in head_view.tables if t.spec.rows == "region")
    assert {r.key: r.count for r in regions.rows if r.count} == {"not_given": 2}


def test_the_api_files_a_restricted_report_and_a_head_shares_it(client):
    ctx = app_context(client)
    enrolments(ctx)["eco-2"] = officers.add_officer(
        ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), "eco-2", MEMBER_PASSWORD
    )
    PASSWORDS["eco-2"] = MEMBER_PASSWORD
    try:
        body = {"concerns": ["retaliation"], "description": ABOUT_A_COLLEAGUE, "restricted": True}
        assert client.post("/api/v1/reports", json={**body, "restricted": "yes"}).status_code == 422
        filed = client.post("/api/v1/reports", json=body)
        assert filed.status_code == 201, filed.text
        case_id = filed.json()["cases"][0]["id"]
        head, member = api_login(client, "eco-1"), api_login(client, "eco-2")
        assert client.get(f"/api/v1/officer/cases/{case_id}", headers=member).status_code == 404
        # Nor can the member write to it, with or without a file: refused before the file is stored.
        before, reply = snapshot(ctx), f"/api/v1/officer/cases/{case_id}/messages"
        assert client.post(reply, json={"body": "Not mine to answer."}, headers=member).status_code == 404
        body, form = multipart({"body": "A form for a case not shared."}, [("form.bin", b"FORM-CONTENT")])
        assert client.post(reply, content=body, headers={**form, **member}).status_code == 404
        assert snapshot(ctx) == before
        assert client.get(f"/api/v1/officer/cases/{case_id}", headers=head).json()["answers"]["office_concerned"] == "someone"
        share = f"/api/v1/officer/cases/{case_id}/share"
        assert client.post(share, json={"username": "eco-2"}, headers=member).status_code == 409
        assert client.post(share, json={"username": {}}, headers=head).json()["fields"] == {"username": "must be text"}
        assert client.post(share, json={"username": "eco-2"}, headers=head).json() == {"shared": True}
        assert client.get(f"/api/v1/officer/cases/{case_id}", headers=member).status_code == 200
        assert client.post(reply, json={"body": "Shared with me now."}, headers=member).status_code == 201
        room = caseroom_login(client, filed.json()["passphrase"])
        assert client.get("/api/v1/caseroom", headers=room).json()["cases"][0]["restricted"] is True
    finally:
        PASSWORDS.pop("eco-2", None)


def test_the_restricted_case_keys_never_open_with_the_office_key_alone(ctx):
    """The stored wraps as a reader of PROTOCOL.md finds them: the office wrap of a restricted case is
    sealed to the handling's restricted_key, and each restriction wrap to one officer."""
    head = session(ctx, "eco-1")
    case_id = file(ctx).cases[0].id
    with Session(ctx.engine) as db:
        handling = db.get(Handling, (case_id, "ECO"))
        wrap = db.get(CaseKeyWrap, (case_id, office_holder("ECO")))
        (given,) = db.exec(select(RestrictionWrap).where(RestrictionWrap.case_id == case_id)).all()
        answers = db.get(Case, case_id).answers
    assert handling.restricted_key is not None and given.officer_id == head.officer_id and given.shared_by is None
    with pytest.raises(CryptoError):
        unwrap_case_key(head.office_key, wrap.wrap, case_id)
    restricted_private = unwrap_restriction_key(head.officer_key, given.wrap, case_id, "ECO")
    with pytest.raises(CryptoError):  # bound to its case and office
        unwrap_restriction_key(head.officer_key, given.wrap, case_id, "OIG")
    case_key = unwrap_case_key(restricted_private, wrap.wrap, case_id)
    assert b"office_concerned" in open_record(case_key, answers, case_id, "answers", case_id)


def test_the_case_page_shares_only_after_the_tick_and_a_hostile_username_changes_nothing(client):
    ctx = app_context(client)
    enrolments(ctx)["eco-2"] = officers.add_officer(
        ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), "eco-2", MEMBER_PASSWORD
    )
    filed = client.post("/api/v1/reports", json={"concerns": ["retaliation"], "description": "x", "restricted": True})
    case_id = filed.json()["cases"][0]["id"]
    html_login(client, "eco-1")
    page = client.get(f"/officer/cases/{case_id}")
    assert page.status_code == 200 and 'action="/officer/cases/' + case_id + '/share"' in page.text
    share = f"/officer/cases/{case_id}/share"
    assert post_form(client, share, {"username": "eco-2"}).status_code == 409  # no tick: nothing happens
    hostile = post_form(client, share, {"username": "<script>alert(1)</script>", "confirm": "yes"})
    assert hostile.status_code == 409 and "<script>alert(1)" not in hostile.text
    with Session(ctx.engine) as db:
        assert len(db.exec(select(RestrictionWrap).where(RestrictionWrap.case_id == case_id)).all()) == 1
    done = post_form(client, share, {"username": "eco-2", "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("notice=shared")
    assert "The officer can now open the case." in client.get(done.headers["location"]).text


def oig_member(ctx):
    """oig-2, a member of OIG (oig-1 founded and heads it)."""
    enrolments(ctx)["oig-2"] = officers.add_officer(
        ctx, "oig-1", PASSWORDS["oig-1"], code(ctx, "oig-1"), "oig-2", MEMBER_PASSWORD
    )
    return officers.current(ctx, officers.log_in(ctx, "oig-2", MEMBER_PASSWORD, code(ctx, "oig-2")))


def test_a_restricted_case_stays_restricted_when_transferred_and_never_goes_to_the_head_it_is_about(ctx):
    from intake.service import referral

    member = oig_member(ctx)
    eco_head, oig_head = session(ctx, "eco-1"), session(ctx, "oig-1")
    # About someone in ECO, but not retaliation: ECO passes it to OIG, where only OIG's heads hold it.
    case_id = file(ctx).cases[0].id
    referral.refer(ctx, eco_head, case_id, "OIG", "It is fraud, not retaliation.", "Procurement fraud.", "transferred_to_oig")
    with pytest.raises(NotFound):
        casework.open_case(ctx, member, case_id)
    assert opens_with(what_a_member_can_compute(ctx, "oig-2", MEMBER_PASSWORD), case_id) == []
    assert casework.open_case(ctx, oig_head, case_id).restricted
    # About ECO's head, so filed with OIG: OIG cannot pass it to ECO, whose head it is about.
    (about_head,) = file(ctx, concerned="head").cases
    with pytest.raises(Conflict, match="about the head of that office"):
        referral.refer(ctx, oig_head, about_head.id, "ECO", None, "Retaliation: ECO's?")
    assert casework.open_case(ctx, oig_head, about_head.id).handling.status == "received"


def test_a_memo_sealed_for_a_returned_case_survives_the_office_key_rotation(ctx):
    from intake.service import referral

    eco_head, oig_head = session(ctx, "eco-1"), session(ctx, "oig-1")
    case_id = file(ctx, concerned="no").cases[0].id
    referral.refer(ctx, eco_head, case_id, "OIG", "Fraud, not retaliation.", "For OIG.", "transferred_to_oig")
    referral.refer(ctx, oig_head, case_id, "ECO", None, "Back to ECO: retaliation after all.")
    office_keys.rotate(ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"))
    records = casework.open_case(ctx, session(ctx, "eco-1"), case_id).records
    assert "Back to ECO: retaliation after all." in [r.text for r in records]


def test_no_restricted_case_is_left_without_a_holder_and_serve_wants_a_head(ctx):
    add(ctx, "eco-2", MEMBER_PASSWORD)
    case_id = file(ctx).cases[0].id
    # Withheld from the new head (a case about them), so eco-1 alone holds it: disabling them would lose it.
    officers.set_role(ctx, "eco-1", PASSWORDS["eco-1"], code(ctx, "eco-1"), "eco-2", True, (case_id,))
    with pytest.raises(Conflict, match=case_id):
        officers.disable(ctx, "eco-2", MEMBER_PASSWORD, code(ctx, "eco-2"), "eco-1")
    restriction.share(ctx, session(ctx, "eco-1"), case_id, "eco-2")
    officers.disable(ctx, "eco-2", MEMBER_PASSWORD, code(ctx, "eco-2"), "eco-1")
    assert officers.offices_without_head(ctx.engine) == []
    with Session(ctx.engine) as db:
        for row in db.exec(select(Officer).where(Officer.office == "OIG")).all():
            row.head = False
            db.add(row)
        db.commit()
    assert officers.offices_without_head(ctx.engine) == ["OIG"]


def test_a_member_does_not_learn_of_a_restricted_sibling_case(ctx):
    member = add(ctx, "eco-2", MEMBER_PASSWORD)
    head = session(ctx, "eco-1")
    parts = {
        "retaliation": {"description": "I lost my post after reporting.", "answers": {"office_concerned": "no"}},
        "misconduct": {"description": "OIG's head takes bribes.", "answers": {"office_concerned": "head"}},
    }
    filed = reporting.file_report(ctx, validate_report(ctx.policy, ["both"], parts=parts))
    (plain,) = [c.id for c in filed.cases if not casework.open_case(ctx, head, c.id).restricted]
    (hidden,) = [c.id for c in filed.cases if c.id != plain]
    assert [c.id for c in casework.open_case(ctx, member, plain).linked] == []
    assert [c.id for c in casework.open_case(ctx, head, plain).linked] == [hidden]


def test_the_case_page_offers_no_transfer_to_the_office_whose_head_the_report_is_about(client):
    answers = {"office_concerned": "head"}
    filed = client.post("/api/v1/reports", json={"concerns": ["retaliation"], "description": "x", "answers": answers})
    case_id = filed.json()["cases"][0]["id"]
    html_login(client, "oig-1")
    page = client.get(f"/officer/cases/{case_id}")
    assert page.status_code == 200
    assert f'action="/officer/cases/{case_id}/referral"' not in page.text  # its lifecycle ([about_the_head.ECO]) has none
    assert "This report is about the head of ECO" in page.text


def test_a_member_probing_a_restricted_case_is_refused_at_once_while_the_head_works_on_it(ctx):
    """A restricted case not wrapped to the member gives them no row, so nothing is locked for them:
    their probe does not wait on the head's transaction, which would tell them the case exists."""
    if ctx.engine.dialect.name == "sqlite":
        pytest.skip("SQLite takes one lock for the whole database: every writer waits there, whatever the case")
    member = add(ctx, "eco-2", MEMBER_PASSWORD)
    head = session(ctx, "eco-1")
    case_id = file(ctx).cases[0].id

    def probe() -> None:
        with pytest.raises(NotFound):
            casework.reply(ctx, member, case_id, "Is there such a case?")

    while_held, _ = while_case_is_held(ctx, head, case_id, probe, 5)
    assert while_held  # refused while the head's transaction still holds the case
