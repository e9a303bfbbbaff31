"""#24 item 11: what a request may make the server hold in memory before anything checks it.

All the text of a multipart body together (every field and part header) is bounded while it
streams, not only each field; a case-room message posted without a case-room session is
answered before a byte of its body is read."""

import json

import anyio
from starlette.testclient import TestClient

from intake.app import create_app
from intake.web.limits import DEFAULT_BODY_LIMIT as MAX_TEXT_BYTES  # the bound, as uploads.MAX_TEXT_BYTES

from ..files import in_own_loop, multipart, post_scope
from ..helpers import csrf, file_via_api, post_form
from .lasting import lasting

CJK = "報" * 50_000  # the longest account, in 3-byte characters: 150 KB, well inside the bound


def test_text_fields_together_over_the_bound_are_413_and_keep_nothing(client, ctx):
    """#24 item 11: 50 fields of 1 MiB each were all held before any check; now the whole text is
    bounded, each field still under its own limit."""
    report = json.dumps({"concerns": ["misconduct"], "description": "padded"})
    padding = {f"pad{n}": "x" * (MAX_TEXT_BYTES // 3) for n in range(4)}  # each far under MAX_FIELD_BYTES
    before = lasting(ctx)
    body, headers = multipart({"report": report, **padding}, [])
    response = client.post("/api/v1/reports", content=body, headers=headers)
    assert response.status_code == 413, response.text[:300]
    assert "all its fields together" in response.json()["error"]
    body, headers = multipart({"csrf": csrf(client), "concern": "misconduct", "description": "padded", **padding}, [])
    response = client.post("/report", content=body, headers=headers)
    assert response.status_code == 413
    assert "all its fields together" in response.text
    assert lasting(ctx) == before


def test_the_longest_accounts_still_fit(client, ctx):
    """#24 item 11, the other way: two accounts of the longest length, in CJK, sent with a file, are filed."""
    fields = {
        "csrf": csrf(client),
        "concern": "both",
        "retaliation.description": CJK,
        "misconduct.description": CJK,
        "q.region": "",
    }
    body, headers = multipart(fields, [("files.misconduct", "e.bin", b"evidence")])
    response = client.post("/report", content=body, headers=headers, follow_redirects=False)
    assert response.status_code == 303, response.text[-3000:]
    assert "all its fields together" not in response.text
    report = json.dumps({"concerns": ["misconduct"], "description": CJK})
    body, headers = multipart({"report": report}, [("e.bin", b"evidence")])
    assert client.post("/api/v1/reports", content=body, headers=headers).status_code == 201


async def _post_counting_reads(app, path: str, cookie: str, body: bytes, content_type: str, extra: tuple = ()) -> tuple[int, int]:
    """POST through the whole ASGI app; the answer's status and how many body pieces the app asked for."""
    pieces = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    asked, status = 0, 0

    async def receive():
        nonlocal asked
        asked += 1
        if asked <= len(pieces):
            return {"type": "http.request", "body": pieces[asked - 1], "more_body": asked < len(pieces)}
        await anyio.sleep(3600)  # a client that never finishes
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body) + 1).encode()),
        *([(b"cookie", cookie.encode())] if cookie else []),
        *extra,
    ]
    scope = post_scope(path, headers)
    with anyio.fail_after(30):
        await app(scope, receive, send)
    return status, asked


def test_a_case_room_message_without_a_session_reads_nothing(ctx):
    """#24 item 11: the case-room message route parsed every field of a stranger's post (to keep the
    words of a reporter whose session ended); without a case-room session it now reads none of it."""
    app = create_app(ctx)
    with TestClient(app, base_url="http://127.0.0.1") as browser:
        case_id = file_via_api(browser, ["misconduct"], "a case")["cases"][0]["id"]
        token = csrf(browser)  # a browser that has a session cookie, but no case room open in it
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    fields = {"csrf": token, **{f"f{n}": "x" * 60_000 for n in range(10)}}
    body, headers = multipart(fields, [])
    before = lasting(ctx)
    for who in (cookie, ""):
        path = f"/caseroom/cases/{case_id}/messages"
        status, asked = in_own_loop(_post_counting_reads, app, path, who, body, headers["content-type"])
        assert status == 401
        assert asked == 0, f"{asked} pieces of a stranger's body were read"
    assert lasting(ctx) == before


def test_a_reporter_whose_session_ended_keeps_their_words(client, ctx):
    """#24 item 11, the other way: a case room that closed (its token still in the cookie) still gets
    its message back in the box after the passphrase, as before."""
    filed = file_via_api(client, ["misconduct"], "a case")
    post_form(client, "/caseroom/login", {"passphrase": filed["passphrase"]})
    case_id = filed["cases"][0]["id"]
    with ctx.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM web_session")  # the session ended on the server
    response = post_form(client, f"/caseroom/cases/{case_id}/messages", {"body": "my words, kept"})
    assert response.status_code == 401
    assert "my words, kept" in response.text


def test_an_api_message_without_a_session_reads_nothing(ctx):
    """#24 item 11: the API's case-room message route checked the session first only for uploads; a JSON
    body was read whole (up to 1 MiB) for anyone. Now neither is read without a case-room session."""
    app = create_app(ctx)
    with TestClient(app, base_url="http://127.0.0.1") as api:
        case_id = file_via_api(api, ["misconduct"], "a case")["cases"][0]["id"]
    body = json.dumps({"body": "x" * 900_000}).encode()
    before = lasting(ctx)
    for bearer in ((), ((b"authorization", b"Bearer not-a-session"),)):
        path = f"/api/v1/caseroom/cases/{case_id}/messages"
        status, asked = in_own_loop(_post_counting_reads, app, path, "", body, "application/json", bearer)
        assert 400 <= status < 500
        assert asked == 0, f"{asked} pieces of a stranger's body were read"
    assert lasting(ctx) == before
