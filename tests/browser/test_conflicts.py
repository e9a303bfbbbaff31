"""A conflict of interest in Chromium with JavaScript off: the officer steps away from a case only
after writing a note and ticking what it means; the case leaves their inbox and its page is gone;
the head's list. Screenshots at 1280 and 320 px, in English and Arabic."""

import os
import re

import pytest

from ..conftest import on_postgres
from ..server import intake, totp_now
from .journeys import SEND, choose_concern, file_report, log_in, new_page, open_case_room, passphrase_on

pytestmark = pytest.mark.browser


def test_an_officer_steps_away_from_a_case_and_it_is_gone_for_them(browser, instance, shots, tmp_path):
    """The only head of ECO steps away from a case: it is gone for them, the page says the Director
    General decides (ECO Charter 4.7), and a member who can open the case records that decision,
    marked as the Director General's, with a reason, after a tick."""
    base, credentials = instance
    eco_login = next(o for o in credentials["officers"] if o["office"] == "ECO")
    _, (case_id,) = file_report(browser, base, "My contract was not renewed after I testified.", concern="retaliation")
    context, eco = log_in(browser, base, eco_login)
    member = add_member(tmp_path, eco_login, "eco-member")  # the head's next code: this one was just used
    eco.goto(f"/officer/cases/{case_id}")
    eco.get_by_text("I have a personal stake in this case: step away from it").click()
    eco.set_viewport_size({"width": 1280, "height": 900})
    eco.locator("#conflict-title").scroll_into_view_if_needed()
    shots(eco, "01-case-conflict-1280-en")
    eco.set_viewport_size({"width": 320, "height": 800})
    shots(eco, "02-case-conflict-320-en")
    eco.get_by_label("What the conflict is, for whoever decides on it (required; encrypted)").fill(
        "The respondent is my former manager."
    )
    # Without the tick the browser does not send the form: nothing changes on one click.
    eco.get_by_role("button", name="Declare the conflict").click()
    assert eco.url.endswith(case_id)
    eco.get_by_label("I step away from this case").check()
    eco.get_by_role("button", name="Declare the conflict").click()
    eco.wait_for_url(re.compile(r".*/officer/conflicts\?notice=declared$"))
    assert "You stepped away from the case" in eco.locator("p.notice").inner_text()
    # The only head's own conflict: for the Director General, never "another head".
    listed = eco.locator("ul.records").inner_text()
    assert case_id in listed and "Director General" in listed and "another head" not in listed.lower()
    assert eco.locator("form[action='/officer/conflicts/decision']").count() == 0
    shots(eco, "03-conflicts-320-en")
    eco.set_viewport_size({"width": 1280, "height": 900})
    shots(eco, "04-conflicts-1280-en")
    assert eco.goto(f"/officer/cases/{case_id}").status == 404
    eco.goto("/officer?filter=all")
    assert case_id not in eco.content()
    eco.goto("/officer/conflicts?lang=ar")
    assert eco.locator("html").get_attribute("dir") == "rtl"
    shots(eco, "05-conflicts-1280-ar")
    eco.set_viewport_size({"width": 320, "height": 800})
    shots(eco, "06-conflicts-320-ar")
    context.close()

    context, page = log_in(browser, base, member)
    page.goto("/officer/conflicts")
    assert "The respondent is my former manager." in page.content()
    page.set_viewport_size({"width": 1280, "height": 900})
    shots(page, "07-member-records-1280-en")
    page.get_by_label("Uphold: the officer stays away from the case, and it cannot be assigned to them").check()
    page.get_by_label("Reason for the decision (required; kept with the office's own records)").fill(
        "The Director General wrote on 2 June: the head stays away from this case."
    )
    page.get_by_role("button", name="Record the decision").click()
    assert "/officer/conflicts/decision" not in page.url  # not without the tick
    page.get_by_label(
        "This is the Director General's decision, which they communicated to the office; I record it as theirs (ECO Charter 4.7)"
    ).check()
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_url(re.compile(r".*/officer/conflicts\?notice=upheld$"))
    assert "the Director General's decision, recorded by eco-member" in page.locator("ul.records").inner_text()
    shots(page, "08-recorded-1280-en")
    page.goto("/officer/conflicts?lang=ar")
    page.set_viewport_size({"width": 320, "height": 800})
    shots(page, "09-recorded-320-ar")
    page.goto(f"/officer/cases/{case_id}?lang=en")
    assert "The Director General's decision on a declared conflict of interest, recorded" in page.content()
    context.close()


def test_the_only_head_hands_a_restricted_case_on_before_stepping_away(browser, instance, shots, tmp_path):
    """A report about someone in ECO opens for its only head; stepping away, the head is asked, in a
    second step, to name who takes it (a select with no default, and a tick); that officer then opens it."""
    base, credentials = instance
    head_login = next(o for o in credentials["officers"] if o["office"] == "ECO")
    context, page = new_page(browser, base)
    choose_concern(page, "retaliation")
    page.locator("#description-text").fill("An ECO officer's husband ended my contract after I spoke to OIG.")
    page.locator('input[name="q.office_concerned"][value="someone"]').check()
    page.locator(SEND).click()
    passphrase = passphrase_on(page)
    (case_id,) = [c.strip() for c in page.locator("ul.filed strong").all_inner_texts()]
    context.close()
    context, head = log_in(browser, base, head_login)
    member = add_member(tmp_path, head_login, "eco-member")
    head.goto(f"/officer/cases/{case_id}")
    head.get_by_text("I have a personal stake in this case: step away from it").click()
    head.get_by_label("What the conflict is, for whoever decides on it (required; encrypted)").fill(
        "The respondent is my husband."
    )
    head.get_by_label("I step away from this case").check()
    head.get_by_role("button", name="Declare the conflict").click()
    assert head.get_by_role("heading", name="Hand the case on before you step away").is_visible()
    head.set_viewport_size({"width": 1280, "height": 900})
    shots(head, "01-hand-on-1280-en")
    head.set_viewport_size({"width": 320, "height": 800})
    shots(head, "02-hand-on-320-en")
    head.get_by_role("button", name="Hand it on and step away").click()  # no officer chosen, no tick: not sent
    assert head.get_by_role("heading", name="Hand the case on before you step away").is_visible()
    # The same two steps in Arabic (by the fields' ids), then the officer chosen and the tick.
    head.goto(f"/officer/cases/{case_id}?lang=ar")
    assert head.locator("html").get_attribute("dir") == "rtl"
    head.locator("#conflict-title").scroll_into_view_if_needed()
    head.locator("#conflict-title ~ details summary").click()
    shots(head, "03-case-conflict-320-ar")
    head.locator("#conflict-note").fill("The respondent is my husband.")
    head.locator("#conflict-confirm").check()
    head.locator("form[action$='/recusal'] button[type=submit]").click()
    head.locator("#hand-to").wait_for()
    shots(head, "04-hand-on-320-ar")
    head.set_viewport_size({"width": 1280, "height": 900})
    shots(head, "05-hand-on-1280-ar")
    head.locator("#hand-to").select_option("eco-member")
    head.locator("#hand-on-confirm").check()
    head.locator("form[action$='/recusal'] button[type=submit]").click()
    head.wait_for_url(re.compile(r".*/officer/conflicts\?notice=handed_on$"))
    shots(head, "06-handed-on-1280-ar")
    assert head.goto(f"/officer/cases/{case_id}").status == 404
    context.close()
    context, page = log_in(browser, base, member)
    page.goto(f"/officer/cases/{case_id}")
    assert "An ECO officer's husband" in page.content()
    context.close()
    context, room = open_case_room(browser, base, passphrase)
    assert room.get_by_text("has given one more of its officers access to your report").first.is_visible()
    context.close()


def test_oig_transfers_a_retaliation_report_to_eco_and_the_reporter_is_told(browser, instance, shots):
    base, credentials = instance
    oig_login = next(o for o in credentials["officers"] if o["office"] == "OIG")
    eco_login = next(o for o in credentials["officers"] if o["office"] == "ECO")
    passphrase, (case_id,) = file_report(browser, base, "After I reported the fraud my post was abolished.")
    context, oig = log_in(browser, base, oig_login)
    oig.goto(f"/officer/cases/{case_id}")
    oig.locator("#transfer-title").scroll_into_view_if_needed()
    oig.set_viewport_size({"width": 1280, "height": 900})
    shots(oig, "01-transfer-1280-en")
    oig.get_by_label("Memo for ECO (required)").fill("Retaliation for reporting fraud: ECO's mandate (IN/282).")
    oig.get_by_role("button", name="Transfer to ECO").click()
    assert oig.url.endswith(case_id)  # not without the tick
    oig.get_by_label("I have checked the memo: transfer the case to ECO now. This cannot be undone.").check()
    oig.get_by_role("button", name="Transfer to ECO").click()
    assert oig.get_by_text("The case was transferred to ECO.").is_visible()
    context.close()
    context, eco = log_in(browser, base, eco_login)
    eco.goto("/officer?filter=referred_in")
    assert case_id in eco.content()
    eco.goto(f"/officer/cases/{case_id}?lang=ar")
    assert "ECO's mandate (IN/282)" in eco.content()
    eco.set_viewport_size({"width": 320, "height": 800})
    shots(eco, "02-eco-receives-320-ar")
    context.close()
    context, room = open_case_room(browser, base, passphrase)
    assert room.get_by_text("has passed your report to the Ethics and Conduct Office").first.is_visible()
    assert room.get_by_text("Write to the Ethics and Conduct Office").is_visible()  # the office that now handles it
    shots(room, "03-reporter-told-1280-en")
    context.close()


def test_a_restricted_report_opens_for_the_head_who_shares_it_and_the_reporter_is_told(browser, instance, shots, tmp_path):
    """The reporter says the report is about someone in ECO; the head sees it marked, with who holds
    a key; a member of ECO does not see it until the head, after a tick, shares it."""
    base, credentials = instance
    head_login = next(o for o in credentials["officers"] if o["office"] == "ECO")
    context, page = new_page(browser, base)
    choose_concern(page, "retaliation")
    page.locator("#description-text").fill("An ECO officer's husband ended my contract after I spoke to OIG.")
    page.locator('input[name="q.office_concerned"][value="someone"]').check()
    page.set_viewport_size({"width": 320, "height": 800})
    page.locator('input[name="q.office_concerned"][value="someone"]').scroll_into_view_if_needed()
    shots(page, "01-form-question-320-en")
    page.locator(SEND).click()
    passphrase = passphrase_on(page)
    (case_id,) = [c.strip() for c in page.locator("ul.filed strong").all_inner_texts()]
    context.close()

    head_context, head = log_in(browser, base, head_login)
    member = add_member(tmp_path, head_login, "eco-member")
    member_context, member_page = log_in(browser, base, member)
    member_page.goto("/officer?filter=all")
    assert case_id not in member_page.content()
    assert member_page.goto(f"/officer/cases/{case_id}").status == 404

    head.goto("/officer?filter=all")
    assert head.locator("tr", has_text=case_id).get_by_text("restricted").is_visible()
    head.goto(f"/officer/cases/{case_id}")
    head.get_by_text("Share it with another officer of the office").click()
    head.set_viewport_size({"width": 1280, "height": 900})
    head.locator("#restricted-title").scroll_into_view_if_needed()
    shots(head, "02-case-restricted-1280-en")
    head.get_by_label("Officer", exact=True).select_option("eco-member")
    head.get_by_role("button", name="Share the case").click()
    assert head.url.endswith(case_id)  # not without the tick
    head.get_by_label("I have checked that this officer has no part in what the report is about").check()
    head.get_by_role("button", name="Share the case").click()
    assert head.get_by_text("The officer can now open the case.").is_visible()
    assert "shared by" in head.locator("section.restricted").inner_text()
    head.goto(f"/officer/cases/{case_id}?lang=ar")
    assert head.locator("html").get_attribute("dir") == "rtl"
    head.set_viewport_size({"width": 320, "height": 800})
    head.locator("#restricted-title").scroll_into_view_if_needed()
    shots(head, "03-case-restricted-320-ar")
    head_context.close()

    member_page.goto(f"/officer/cases/{case_id}")
    assert "An ECO officer's husband" in member_page.content()
    member_context.close()
    context, room = open_case_room(browser, base, passphrase)
    assert room.get_by_text("has given one more of its officers access to your report").first.is_visible()
    assert room.get_by_text(
        "Only the head of each office that holds it, and the officers the head chooses, can read it"
    ).is_visible()
    shots(room, "04-reporter-told-1280-en")
    room.goto("/caseroom?lang=ar")
    room.set_viewport_size({"width": 320, "height": 800})
    assert room.locator("html").get_attribute("dir") == "rtl"
    shots(room, "05-reporter-told-320-ar")
    context.close()


def add_member(tmp_path, sponsor: dict, username: str) -> dict:
    """`intake officer add`, as the operator runs it, sponsored by the head (their next code)."""
    env = {"INTAKE_DATABASE_URL": os.environ["TEST_DATABASE_URL"] if on_postgres() else ""}
    password = "a member's long password"
    done = intake(
        "--data-dir",
        str(tmp_path / "var"),
        "officer",
        "add",
        "--sponsor",
        sponsor["username"],
        "--username",
        username,
        "--password-stdin",
        env=env,
        stdin=f"{sponsor['password']}\n{totp_now(sponsor, 1)}\n{password}\n",
    )
    secret = re.search(r"secret=([A-Z2-7]+)", done.stdout).group(1)
    return {"username": username, "password": password, "totp_secret": secret, "office": "ECO"}


def test_eco_transfers_a_report_that_is_not_about_retaliation_to_oig(browser, instance, shots):
    """A misrouted retaliation report: ECO passes it to OIG with a memo and a written reason (no consent
    asked), only after a tick; OIG receives it, and the reporter is told."""
    base, credentials = instance
    eco_login = next(o for o in credentials["officers"] if o["office"] == "ECO")
    oig_login = next(o for o in credentials["officers"] if o["office"] == "OIG")
    passphrase, (case_id,) = file_report(browser, base, "My manager sells fuel on the side.", concern="retaliation")
    context, eco = log_in(browser, base, eco_login)
    eco.goto(f"/officer/cases/{case_id}")
    eco.set_viewport_size({"width": 1280, "height": 900})
    eco.locator("#misrouted-title").scroll_into_view_if_needed()
    shots(eco, "01-misrouted-1280-en")
    eco.get_by_label("Memo for OIG (required)").fill("Fuel theft: misconduct for OIG, no retaliation described.")
    eco.get_by_label("Reason to transfer without consent (required without consent)").fill("No case room visit in weeks.")
    eco.get_by_role("button", name="Transfer to OIG").click()
    assert eco.url.endswith(case_id)  # not without the tick
    eco.get_by_label("I have checked the memo: transfer the case to OIG now. This cannot be undone.").check()
    eco.get_by_role("button", name="Transfer to OIG").click()
    assert eco.get_by_text("The case was transferred to OIG.").is_visible()
    assert "Not retaliation: transferred to OIG" in eco.locator("h1").inner_text()
    eco.goto(f"/officer/cases/{case_id}?lang=ar")
    eco.set_viewport_size({"width": 320, "height": 800})
    shots(eco, "02-eco-after-320-ar")
    context.close()
    context, oig = log_in(browser, base, oig_login)
    oig.goto("/officer?filter=referred_in")
    assert case_id in oig.content()
    oig.goto(f"/officer/cases/{case_id}")
    assert "Fuel theft: misconduct for OIG" in oig.content()
    context.close()
    context, room = open_case_room(browser, base, passphrase)
    assert room.get_by_text("has passed it to the Office of the Inspector General, which deals with such reports").is_visible()
    assert room.get_by_text("Write to the Office of the Inspector General").is_visible()
    room.set_viewport_size({"width": 320, "height": 800})
    shots(room, "03-reporter-told-320-en")
    context.close()


def test_a_report_about_ecos_head_reaches_oigs_head_only(browser, instance, shots):
    """The reporter says the retaliation is by the head of ECO: OIG's head receives it, is told why,
    and is offered no transfer to ECO; ECO never sees it."""
    base, credentials = instance
    oig_login = next(o for o in credentials["officers"] if o["office"] == "OIG")
    eco_login = next(o for o in credentials["officers"] if o["office"] == "ECO")
    context, page = new_page(browser, base)
    choose_concern(page, "retaliation", "ar")
    page.locator("#description-text").fill("رئيس مكتب الأخلاقيات أنهى عقدي بعد أن أبلغت.")
    page.locator('input[name="q.office_concerned"][value="head"]').check()
    page.locator(SEND).click()
    passphrase_on(page)
    (case_id,) = [c.strip() for c in page.locator("ul.filed strong").all_inner_texts()]
    context.close()
    assert case_id.startswith("OIG-")
    context, oig = log_in(browser, base, oig_login)
    oig.goto(f"/officer/cases/{case_id}")
    assert oig.get_by_text("This report is about the head of ECO").is_visible()
    assert oig.locator(f"form[action='/officer/cases/{case_id}/referral']").count() == 0
    oig.set_viewport_size({"width": 1280, "height": 900})
    shots(oig, "01-oig-head-1280-en")
    oig.goto(f"/officer/cases/{case_id}?lang=ar")
    oig.set_viewport_size({"width": 320, "height": 800})
    shots(oig, "02-oig-head-320-ar")
    context.close()
    context, eco = log_in(browser, base, eco_login)
    eco.goto("/officer?filter=all")
    assert case_id not in eco.content()
    context.close()
