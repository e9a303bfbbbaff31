"""Sending the same report or message again files nothing, and says so (issue 23, item 6).

The back button re-fetches a page sent with `Cache-Control: no-store`, so the form comes back
with a fresh one-time token; a browser that also restores what was typed would send the same
words again under a new token. Tokens alone cannot tell that from a new report, so:
the form asks the browser not to restore (autocomplete="off"), the form page says a report was
sent from this browser, and the server refuses a report identical to one this browser session
filed, or a message identical to the reporter's latest on the case, with nothing lost.
"""

import re

from sqlmodel import Session, func, select

from intake.store import Case, Message

from ..files import multipart
from ..helpers import caseroom_login, csrf, file_via_api, post_form
from .test_pages import passphrase_from

REPORT = {"concern": "misconduct", "description": "The fuel is sold at night.", "q.happened": "March"}
OTHER = {"concern": "misconduct", "description": "The warehouse keys are copied.", "q.happened": "April"}


def cases(ctx) -> int:
    with Session(ctx.engine) as db:
        return db.exec(select(func.count()).select_from(Case)).one()


def messages(ctx, case_id: str) -> int:
    with Session(ctx.engine) as db:
        return db.exec(select(func.count()).select_from(Message).where(Message.case_id == case_id)).one()


def sending_of(page: str) -> str:
    return re.search(r'name="sending" value="([^"]+)"', page).group(1)


def send(client, fields: dict, page: str | None = None, **kwargs):
    """Send the form as shown on `page` (or a freshly fetched one): its one-time token with the fields."""
    page = page or client.get(f"/report?concern={fields['concern']}").text
    return post_form(client, "/report", {**fields, "sending": sending_of(page)}, **kwargs)


def test_back_then_send_with_the_typed_words_restored_files_nothing_and_says_so(client, ctx):
    first = send(client, REPORT)
    assert first.status_code == 200 and len(passphrase_from(first.text).split()) == 8
    back = client.get("/report?concern=misconduct")  # the back button: the form again, with a fresh token
    assert "You have already sent a report from this browser" in back.text
    assert 'href="/caseroom/login"' in back.text  # the way to the answers

    again = send(client, REPORT, back.text)  # the browser restored the words; the token is new
    assert again.status_code == 409
    assert "This report was already received" in again.text and "no second passphrase" in again.text
    assert passphrase_from(again.text) == ""
    assert 'href="/report"' in again.text  # a plain way to write a new, separate report
    assert cases(ctx) == 1


def test_a_different_report_from_a_second_tab_of_the_same_browser_is_filed(client, ctx):
    tab_one, tab_two = (client.get("/report?concern=misconduct").text for _ in range(2))
    assert send(client, REPORT, tab_one).status_code == 200
    second = send(client, OTHER, tab_two)
    assert second.status_code == 200 and len(passphrase_from(second.text).split()) == 8
    assert cases(ctx) == 2
    # Back in either tab, then Send: both reports are known, neither is filed twice.
    assert send(client, REPORT).status_code == 409
    assert send(client, OTHER).status_code == 409
    assert cases(ctx) == 2


def test_the_same_words_from_another_browser_are_a_report_of_their_own(client, ctx):
    assert send(client, REPORT).status_code == 200
    client.cookies.clear()  # another browser (or this one after it was closed): it never sent this report
    assert send(client, REPORT).status_code == 200
    assert cases(ctx) == 2


def test_the_same_words_sent_again_with_files_are_filed(client, ctx):
    """A browser never restores a chosen file: a sending that carries files was put together again on purpose."""
    assert send(client, REPORT).status_code == 200
    page = client.get("/report?concern=misconduct").text
    body, headers = multipart({"csrf": csrf(client), "sending": sending_of(page), **REPORT}, [("ledger.bin", b"ledger")])
    again = client.post("/report", content=body, headers=headers)
    assert again.status_code == 200 and "/report/sent" in str(again.url)
    assert cases(ctx) == 2


def test_the_report_form_asks_the_browser_not_to_restore_what_was_typed(client):
    page = client.get("/report?concern=retaliation").text
    assert re.search(r'<form method="post" action="/report"[^>]* autocomplete="off"', page)


def room_with_a_message(client, body: str = "Three trucks a week."):
    filed = file_via_api(client, ["misconduct"], "The fuel is sold.")
    case_id = filed["cases"][0]["id"]
    room = post_form(client, "/caseroom/login", {"passphrase": filed["passphrase"]})
    sent = post_form(client, f"/caseroom/cases/{case_id}/messages", {"body": body, "sending": sending_of(room.text)})
    assert "Your message was sent." in sent.text
    return filed, case_id


def test_back_then_send_of_a_message_sends_nothing_and_keeps_the_words(client, ctx):
    _, case_id = room_with_a_message(client)
    back = client.get("/caseroom")  # the back button: the room again, with a fresh token
    again = post_form(
        client, f"/caseroom/cases/{case_id}/messages", {"body": "Three trucks a week.", "sending": sending_of(back.text)}
    )
    assert again.status_code == 409
    assert "You already sent this message" in again.text and "It was not sent again" in again.text
    assert re.search(rf'<textarea name="body" id="body-{case_id}"[^>]*>Three trucks a week.</textarea>', again.text)
    assert 'name="again" id="again-' in again.text
    assert messages(ctx, case_id) == 1

    # A reporter who does mean to say the same again ticks one box: nothing genuinely new is refused.
    meant = post_form(
        client,
        f"/caseroom/cases/{case_id}/messages",
        {"body": "Three trucks a week.", "again": "yes", "sending": sending_of(again.text)},
    )
    assert "Your message was sent." in meant.text
    assert messages(ctx, case_id) == 2


def test_a_new_message_or_the_same_words_with_a_file_are_sent(client, ctx):
    _, case_id = room_with_a_message(client)
    room = client.get("/caseroom").text
    new = post_form(
        client, f"/caseroom/cases/{case_id}/messages", {"body": "And a fourth on Sunday.", "sending": sending_of(room)}
    )
    assert "Your message was sent." in new.text
    # Only the reporter's latest message counts: repeating an older one is new again.
    room = client.get("/caseroom").text
    older = post_form(
        client, f"/caseroom/cases/{case_id}/messages", {"body": "Three trucks a week.", "sending": sending_of(room)}
    )
    assert "Your message was sent." in older.text
    room = client.get("/caseroom").text
    body, headers = multipart(
        {"csrf": csrf(client), "sending": sending_of(room), "body": "Three trucks a week."}, [("photo.bin", b"a photo")]
    )
    with_file = client.post(f"/caseroom/cases/{case_id}/messages", content=body, headers=headers)
    assert "Your message was sent." in with_file.text
    assert messages(ctx, case_id) == 4


def test_the_message_form_asks_the_browser_not_to_restore_what_was_typed(client):
    _, case_id = room_with_a_message(client)
    room = client.get("/caseroom").text
    assert (
        f'<form method="post" action="/caseroom/cases/{case_id}/messages" enctype="multipart/form-data" autocomplete="off">'
        in room
    )
    assert 'name="again"' not in room  # asked only of a repeat


def test_the_api_tells_a_repeat_by_its_idempotency_key_only(client, ctx):
    """An API client chooses its key and keeps it across retries: the same words under a new key are a new message
    (a reminder, say), as the OpenAPI document says."""
    filed, case_id = room_with_a_message(client)
    reporter = caseroom_login(client, filed["passphrase"])
    url = f"/api/v1/caseroom/cases/{case_id}/messages"
    once = {**reporter, "Idempotency-Key": "reminder-key-number-0001"}
    assert client.post(url, json={"body": "Three trucks a week."}, headers=once).status_code == 201
    assert client.post(url, json={"body": "Three trucks a week."}, headers=once).status_code == 409
    assert messages(ctx, case_id) == 2
    document = client.get("/api/v1/openapi.json").json()
    described = document["paths"]["/api/v1/caseroom/cases/{case_id}/messages"]["post"]["description"]
    assert "Idempotency-Key" in described and "same text" in described
