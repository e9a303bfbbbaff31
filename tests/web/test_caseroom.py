"""The reporter's case room in HTML: nothing typed is lost when the room closes, nothing is sent twice,
who they are is theirs to share, and "Leave quickly" ends the session."""

import datetime as dt
import re

from sqlmodel import Session, func, select

from intake.store import Identity, Message

from ..clock import Clock
from ..files import multipart, snapshot
from ..helpers import csrf, file_via_api, html_login, post_form


def messages(ctx) -> int:
    with Session(ctx.engine) as db:
        return db.exec(select(func.count()).select_from(Message)).one()


def open_room(client, passphrase: str):
    room = post_form(client, "/caseroom/login", {"passphrase": passphrase})
    assert room.status_code == 200 and "Your case room" in room.text
    return room


def test_a_message_written_after_the_room_closed_is_kept_then_sent_once(client, ctx):
    filed = file_via_api(client, ["misconduct"], "The fuel is sold.")
    case_id = filed["cases"][0]["id"]
    ctx.now = Clock(dt.datetime.now(dt.UTC))
    room = open_room(client, filed["passphrase"]).text
    sending = re.search(r'name="sending" value="([^"]+)"', room).group(1)
    ctx.now.now += dt.timedelta(minutes=ctx.settings.reporter_idle_minutes + 11)  # idle deadlines are coarse (10 min)

    before = snapshot(ctx)
    body, headers = multipart(
        {"csrf": csrf(client), "sending": sending, "body": "Three trucks <b>each</b> week."}, [("invoice.bin", b"an invoice")]
    )
    closed = client.post(f"/caseroom/cases/{case_id}/messages", content=body, headers=headers)
    assert closed.status_code == 401 and "your message was not sent" in closed.text
    assert ">Three trucks &lt;b&gt;each&lt;/b&gt; week.</textarea>" in closed.text
    assert snapshot(ctx) == before  # neither the message nor the file was kept

    pending = re.search(r'name="pending_case" value="([^"]+)"', closed.text).group(1)
    fields = {"passphrase": filed["passphrase"], "pending_case": pending, "pending_body": "Three trucks <b>each</b> week."}
    back = post_form(client, "/caseroom/login", fields)
    assert back.status_code == 200 and "It is not sent yet" in back.text
    assert f'id="body-{case_id}" rows="5" maxlength="20000">Three trucks &lt;b&gt;each&lt;/b&gt; week.</textarea>' in back.text
    assert messages(ctx) == 0

    sending = re.search(r'name="sending" value="([^"]+)"', back.text).group(1)
    fields = {"body": "Three trucks each week.", "sending": sending}
    sent = post_form(client, f"/caseroom/cases/{case_id}/messages", fields)
    assert sent.status_code == 200 and "Your message was sent." in sent.text
    again = post_form(client, f"/caseroom/cases/{case_id}/messages", fields)  # a reload or a double click
    assert "already sent" in again.text
    assert messages(ctx) == 1


def test_a_wrong_passphrase_keeps_the_message_too(client, ctx):
    fields = {"passphrase": "not the right words", "pending_case": "OIG-X", "pending_body": "kept <i>words</i>"}
    page = post_form(client, "/caseroom/login", fields)
    assert page.status_code == 401 and ">kept &lt;i&gt;words&lt;/i&gt;</textarea>" in page.text


def test_another_sites_forged_post_is_refused_without_echo(client, ctx):
    filed = file_via_api(client, ["misconduct"], "The fuel is sold.")
    case_id = filed["cases"][0]["id"]
    forged = client.post(
        f"/caseroom/cases/{case_id}/messages",
        data={"csrf": "forged", "body": "CALL +1 555 0100 NOW"},
        headers={"sec-fetch-site": "cross-site"},
    )
    assert forged.status_code == 403 and "CALL +1 555" not in forged.text


def test_identity_consent_in_the_case_room_and_the_officer_reading_it(client, ctx):
    filed = file_via_api(
        client,
        ["retaliation"],
        "My post was abolished.",
        {"identity": "Amal <b>Haddad</b>, ext. 4411", "identity_consent": "later"},
    )
    case_id = filed["cases"][0]["id"]
    room = open_room(client, filed["passphrase"]).text
    assert "Amal &lt;b&gt;Haddad&lt;/b&gt;, ext. 4411" in room  # theirs to read back
    assert "Let the office know who I am" in room
    shared = post_form(client, f"/caseroom/cases/{case_id}/identity", {"answer": "yes"})
    assert "The office may now know who you are." in shared.text and "Take my consent back" in shared.text
    kept = post_form(client, f"/caseroom/cases/{case_id}/identity", {"answer": "no"})
    assert "stays sealed" in kept.text and "Let the office know who I am" in kept.text
    post_form(client, f"/caseroom/cases/{case_id}/identity", {"answer": "yes"})

    from starlette.testclient import TestClient

    from intake.app import create_app

    with TestClient(create_app(ctx), base_url="http://127.0.0.1") as officer:
        html_login(officer, "eco-1")
        case = officer.get(f"/officer/cases/{case_id}").text
        assert "Amal" not in case and "Read who the complainant is" in case
        identity = post_form(officer, f"/officer/cases/{case_id}/identity")
        assert identity.status_code == 200 and "Amal &lt;b&gt;Haddad&lt;/b&gt;, ext. 4411" in identity.text
        assert "read who the complainant is" in officer.get(f"/officer/cases/{case_id}").text  # in the history
    too_late = post_form(client, f"/caseroom/cases/{case_id}/identity", {"answer": "no"})
    assert "can no longer be taken back" in too_late.text
    with Session(ctx.engine) as db:
        assert db.get(Identity, case_id).office_wrap is not None


def test_leave_quickly_ends_the_session_and_goes_to_an_ordinary_site(client, ctx):
    filed = file_via_api(client, ["misconduct"], "The fuel is sold.")
    room = open_room(client, filed["passphrase"]).text
    assert 'name="quick" value="1"' in room
    left = post_form(client, "/caseroom/logout", {"quick": "1"})
    assert left.status_code == 200 and left.headers["clear-site-data"]
    assert f'http-equiv="refresh" content="0; url={ctx.policy.organization.quick_exit}"' in left.text
    assert "Open your case room" in client.get("/caseroom").text  # the back button finds the login page
