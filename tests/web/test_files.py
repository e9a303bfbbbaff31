"""Evidence files through the real app: round trips, need to know, limits, broken uploads."""

import asyncio
import dataclasses
import json
import os
import secrets
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from crypto import StreamError
from crypto.stream import FRAME_DATA
from intake.app import create_app
from intake.service import metadata

from ..files import (
    docx_author,
    docx_with_author,
    in_own_loop,
    jpeg_metadata,
    jpeg_with_gps,
    multipart,
    post_scope,
    report_upload,
    sha256,
    snapshot,
)
from ..helpers import api_login, caseroom_login, csrf

SIZES = [0, 1, FRAME_DATA, FRAME_DATA + 1, 3 * FRAME_DATA + 17]


def file_report(client, files, **kwargs) -> dict:
    body, headers = report_upload(files, **kwargs)
    response = client.post("/api/v1/reports", content=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def officer_case(client, headers, case_id) -> dict:
    response = client.get(f"/api/v1/officer/cases/{case_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("size", SIZES)
def test_officer_download_equals_the_upload(client, size):
    data = os.urandom(size)
    filed = file_report(client, [(f"evidence-{size}.bin", data)])
    case_id = filed["cases"][0]["id"]
    oig = api_login(client, "oig-1")
    (listed,) = officer_case(client, oig, case_id)["files"]
    assert (listed["name"], listed["size"]) == (f"evidence-{size}.bin", size)
    download = client.get(f"/api/v1/officer/cases/{case_id}/files/{listed['id']}", headers=oig)
    assert download.status_code == 200
    assert sha256(download.content) == sha256(data)
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    reporter = caseroom_login(client, filed["passphrase"])
    (room,) = client.get("/api/v1/caseroom", headers=reporter).json()["cases"]
    assert [f["id"] for f in room["files"]] == [listed["id"]]
    assert client.get(f"/api/v1/caseroom/cases/{case_id}/files/{listed['id']}", headers=reporter).content == data


def test_files_on_messages_both_ways(client):
    filed = file_report(client, [])
    case_id = filed["cases"][0]["id"]
    reporter, oig = caseroom_login(client, filed["passphrase"]), api_login(client, "oig-1")
    body, headers = multipart({"message": '{"body": "one more photo"}'}, [("photo.bin", b"\x89PNG not really")])
    assert (
        client.post(f"/api/v1/caseroom/cases/{case_id}/messages", content=body, headers={**headers, **reporter}).status_code
        == 201
    )
    body, headers = multipart({"body": "please sign and return"}, [("form.bin", b"FORM-CONTENT")])
    assert client.post(f"/api/v1/officer/cases/{case_id}/messages", content=body, headers={**headers, **oig}).status_code == 201

    messages = client.get("/api/v1/caseroom", headers=reporter).json()["cases"][0]["messages"]
    assert [(m["author"], [f["name"] for f in m["files"]]) for m in messages] == [
        ("reporter", ["photo.bin"]),
        ("officer", ["form.bin"]),
    ]
    form_id = messages[1]["files"][0]["id"]
    assert client.get(f"/api/v1/caseroom/cases/{case_id}/files/{form_id}", headers=reporter).content == b"FORM-CONTENT"
    photo_id = officer_case(client, oig, case_id)["messages"][0]["files"][0]["id"]
    assert client.get(f"/api/v1/officer/cases/{case_id}/files/{photo_id}", headers=oig).content == b"\x89PNG not really"


def test_a_report_of_both_gives_each_office_only_the_files_sent_with_its_account(client, ctx):
    parts = {"retaliation": {"description": "my post was abolished"}, "misconduct": {"description": "fuel is sold"}}
    report = json.dumps({"concerns": ["both"], "parts": parts})
    before = snapshot(ctx)
    body, headers = multipart({"report": report}, [("unsaid.bin", b"which office?")])
    refused = client.post("/api/v1/reports", content=body, headers=headers)
    assert refused.status_code == 422 and "files" in refused.json()["fields"]
    assert snapshot(ctx) == before
    body, headers = multipart(
        {"report": report},
        [("files.retaliation", "letter.bin", b"the termination letter"), ("files.misconduct", "fuel.bin", b"fuel invoices")],
    )
    response = client.post("/api/v1/reports", content=body, headers=headers)
    assert response.status_code == 201, response.text
    filed = response.json()
    by_office = {c["office"]: c["id"] for c in filed["cases"]}
    for username, office, content in (("eco-1", "ECO", b"the termination letter"), ("oig-1", "OIG", b"fuel invoices")):
        headers = api_login(client, username)
        (listed,) = officer_case(client, headers, by_office[office])["files"]
        assert client.get(f"/api/v1/officer/cases/{by_office[office]}/files/{listed['id']}", headers=headers).content == content

    other = file_report(client, [("oig-only.bin", b"not for ECO")])
    oig, eco = api_login(client, "oig-1"), api_login(client, "eco-1")
    case_id = other["cases"][0]["id"]
    file_id = officer_case(client, oig, case_id)["files"][0]["id"]
    assert client.get(f"/api/v1/officer/cases/{case_id}/files/{file_id}", headers=eco).status_code == 404
    # Another case's file id through a case the officer may open is not found either.
    eco_case = by_office["ECO"]
    assert client.get(f"/api/v1/officer/cases/{eco_case}/files/{file_id}", headers=eco).status_code == 404
    stranger = caseroom_login(client, filed["passphrase"])
    assert client.get(f"/api/v1/caseroom/cases/{case_id}/files/{file_id}", headers=stranger).status_code == 404


@pytest.fixture
def limited(ctx):
    ctx.settings = dataclasses.replace(ctx.settings, max_file_bytes=100_000, max_report_bytes=250_000, max_files_per_message=3)
    with TestClient(create_app(ctx), base_url="http://127.0.0.1") as client:
        yield client


@pytest.mark.parametrize(
    "files, why",
    [
        ([("big.bin", b"x" * 100_001)], "each file"),
        ([("a.bin", b"x" * 90_000), ("b.bin", b"x" * 90_000), ("c.bin", b"x" * 90_000)], "together"),
        ([(f"f{i}.bin", b"x") for i in range(4)], "Too many files"),
    ],
)
def test_over_a_limit_is_413_and_nothing_is_kept(limited, ctx, files, why):
    before = snapshot(ctx)
    body, headers = report_upload(files)
    response = limited.post("/api/v1/reports", content=body, headers=headers)
    assert response.status_code == 413 and why in response.json()["error"]
    assert snapshot(ctx) == before


def test_over_a_limit_on_the_html_form_tells_the_reporter(limited, ctx):
    before = snapshot(ctx)
    body, headers = multipart(
        {"csrf": csrf(limited), "concern": "misconduct", "description": "x", "clean_metadata": "off"},
        [("big.bin", b"x" * 100_001)],
    )
    response = limited.post("/report", content=body, headers=headers)
    assert response.status_code == 413 and "each file can be at most" in response.text
    assert snapshot(ctx) == before


@pytest.mark.parametrize(
    "mangle",
    [
        lambda body: body[: len(body) // 2],  # cut off mid-file: no closing boundary
        lambda body: body.replace(b"--testboundary7d1a--", b""),  # no final boundary
        lambda body: b"this is not multipart at all" * 100,
        lambda body: body.replace(b'name="files"', b'name="other"'),
        lambda body: body.replace(b"Content-Disposition: form-data; ", b"", 1),
    ],
)
def test_malformed_or_truncated_multipart_is_400_and_nothing_is_kept(client, ctx, mangle):
    before = snapshot(ctx)
    body, headers = report_upload([("evidence.bin", os.urandom(3 * FRAME_DATA))])
    response = client.post("/api/v1/reports", content=mangle(body), headers=headers)
    assert response.status_code == 400, response.text
    assert snapshot(ctx) == before


def test_invalid_report_with_files_keeps_nothing(client, ctx):
    before = snapshot(ctx)
    body, headers = multipart({"report": '{"concerns": ["bribery"], "description": "x"}'}, [("e.bin", b"data")])
    assert client.post("/api/v1/reports", content=body, headers=headers).status_code == 422
    body, headers = multipart({"csrf": csrf(client), "concern": "misconduct", "description": " "}, [("e.bin", b"data")])
    page = client.post("/report", content=body, headers=headers)
    assert page.status_code == 400 and "Please choose them again" in page.text
    assert snapshot(ctx) == before


def test_a_client_that_disconnects_mid_upload_leaves_nothing(ctx):
    app = create_app(ctx)
    body, headers = report_upload([("evidence.bin", os.urandom(5 * FRAME_DATA))])
    pieces = [body[i : i + 50_000] for i in range(0, len(body) // 2, 50_000)]
    before = snapshot(ctx)
    sent = []

    async def receive():
        if pieces:
            return {"type": "http.request", "body": pieces.pop(0), "more_body": True}
        await asyncio.sleep(0)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = post_scope("/api/v1/reports", [(k.encode(), v.encode()) for k, v in headers.items()])
    in_own_loop(app, scope, receive, send)
    assert snapshot(ctx) == before
    assert not any(m.get("status") == 201 for m in sent)


def test_download_of_a_tampered_blob_fails_rather_than_returning_garbage(client, ctx):
    filed = file_report(client, [("e.bin", os.urandom(2 * FRAME_DATA))])
    case_id = filed["cases"][0]["id"]
    oig = api_login(client, "oig-1")
    file_id = officer_case(client, oig, case_id)["files"][0]["id"]
    (blob,) = [p for p in Path(ctx.blobs.root).rglob("*") if p.is_file()]
    data = bytearray(blob.read_bytes())
    data[100] ^= 1
    blob.write_bytes(bytes(data))
    # The server aborts the stream (here the in-process client re-raises what aborted it).
    with pytest.raises(StreamError):
        client.get(f"/api/v1/officer/cases/{case_id}/files/{file_id}", headers=oig)


def test_no_file_marker_anywhere_at_rest(client, ctx, tmp_path):
    marker = f"FILEMARK{secrets.token_hex(8)}".encode()
    file_report(client, [("notes.txt", marker * 1000), ("raw.bin", marker * 3000), (marker.decode() + ".bin", b"x")], clean="on")
    places = [Path(ctx.settings.data_dir), tmp_path, Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")]
    # os.walk, not rglob: other programs (a browser's profile, a build) delete folders of /tmp while it is
    # walked, and os.walk passes over a folder that is gone where rglob raises.
    walked = (Path(root) / name for place in places for root, dirs, files in os.walk(place) for name in dirs + files)
    for path in walked:
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_size < 512 * 1024 * 1024:
                assert marker not in path.read_bytes(), f"file content readable in {path}"
        except (PermissionError, FileNotFoundError, OSError):
            continue
        assert marker.decode() not in path.name


needs_mat2 = pytest.mark.skipif(
    not metadata.mat2_path() and os.environ.get("INTAKE_REQUIRE_MAT2") != "1",
    reason="mat2 is not installed (apt-get install mat2)",
)


@needs_mat2
@pytest.mark.parametrize("clean", ["on", "off"])
def test_metadata_removal_of_jpeg_gps_and_docx_author(client, clean):
    assert shutil.which("mat2"), "mat2 is required here"
    jpeg, docx = jpeg_with_gps(), docx_with_author("Jane Whistle")
    assert jpeg_metadata(jpeg)["gps"] and docx_author(docx) == "Jane Whistle"
    filed = file_report(client, [("photo.jpg", jpeg), ("minutes.docx", docx)], clean=clean)
    expected = True if clean == "on" else None
    assert [f["metadata_removed"] for f in filed["files"]] == [expected, expected]
    case_id, oig = filed["cases"][0]["id"], api_login(client, "oig-1")
    listed = {f["name"]: f for f in officer_case(client, oig, case_id)["files"]}
    assert {f["metadata_removed"] for f in listed.values()} == {expected}
    photo = client.get(f"/api/v1/officer/cases/{case_id}/files/{listed['photo.jpg']['id']}", headers=oig).content
    minutes = client.get(f"/api/v1/officer/cases/{case_id}/files/{listed['minutes.docx']['id']}", headers=oig).content
    if clean == "on":
        assert jpeg_metadata(photo) == {"make": None, "gps": {}}
        assert docx_author(minutes) in (None, "")
    else:
        assert photo == jpeg and minutes == docx


@needs_mat2
def test_files_mat2_cannot_clean_are_reported(client):
    filed = file_report(client, [("archive.xyz", b"unknown format"), ("broken.jpg", b"not a jpeg at all")], clean="on")
    assert [f["metadata_removed"] for f in filed["files"]] == [False, False]


def test_cheap_refusals_come_before_a_byte_is_stored(limited, ctx):
    """A bad CSRF token, answers that need another look, a spent budget and a stranger's case
    are refused from the text fields: a file over the size limit behind them is never encrypted,
    so the answer is the refusal itself, not 413 from the encryption that would have started."""
    before = snapshot(ctx)
    big = [("big.bin", b"x" * 100_001)]
    body, headers = multipart({"csrf": "forged", "concern": "misconduct", "description": "x"}, big)
    assert limited.post("/report", content=body, headers={**headers, "sec-fetch-site": "cross-site"}).status_code == 403
    lost_cookie = limited.post("/report", content=body, headers=headers)  # same site: the reporter's own form, session gone
    assert lost_cookie.status_code == 400 and "nothing was sent" in lost_cookie.text
    body, headers = multipart({"csrf": csrf(limited), "concern": "misconduct", "description": ""}, big)
    page = limited.post("/report", content=body, headers=headers)
    assert page.status_code == 400 and "Please choose them again" in page.text
    body, headers = report_upload(big, concerns=["bribery"])
    assert limited.post("/api/v1/reports", content=body, headers=headers).status_code == 422
    ctx.settings = dataclasses.replace(ctx.settings, submissions_per_hour=0)
    body, headers = report_upload(big)
    busy = limited.post("/api/v1/reports", content=body, headers=headers)
    assert busy.status_code == 503 and busy.headers["retry-after"]
    assert snapshot(ctx) == before


def test_the_json_part_must_come_before_the_files(client, ctx):
    before = snapshot(ctx)
    report = '{"concerns": ["misconduct"], "description": "x"}'
    body = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="e.bin"\r\n\r\ndata\r\n'
        b'--b\r\nContent-Disposition: form-data; name="report"\r\n\r\n' + report.encode() + b"\r\n--b--\r\n"
    )
    headers = {"content-type": "multipart/form-data; boundary=b", "x-intake-client": "tests"}
    response = client.post("/api/v1/reports", content=body, headers=headers)
    assert response.status_code == 400 and "before the files" in response.json()["error"]
    assert snapshot(ctx) == before


def test_the_service_call_that_receives_files_owns_them(ctx):
    """Handed to a service call, pending files are attached, or their blobs removed on any failure."""
    from intake.service import casework, officers, reporting
    from intake.service.attachments import FileSink, UploadBudget
    from intake.service.errors import AuthenticationFailed, Busy, NotFound
    from policies import InvalidReport, validate_report

    from ..helpers import officer_token

    def pending(n: int = 2):
        files = []
        for i in range(n):
            sink = FileSink(ctx, f"f{i}.bin", "application/octet-stream", False, UploadBudget.for_request(ctx))
            sink.write(os.urandom(1000))
            files.append(sink.finish())
        return files

    before = snapshot(ctx)
    report = validate_report(ctx.policy, ["misconduct"], "x", {})
    spent = dataclasses.replace(ctx.settings, submissions_per_hour=0)
    settings, ctx.settings = ctx.settings, spent
    with pytest.raises(Busy):
        reporting.file_report(ctx, report, pending())
    ctx.settings = settings
    assert snapshot(ctx) == before
    filed = reporting.file_report(ctx, report, [])
    with pytest.raises(AuthenticationFailed):
        reporting.reporter_writes(ctx, "not-a-session", filed.cases[0].id, "hello", pending())
    token = reporting.open_case_room(ctx, filed.passphrase)
    with pytest.raises(NotFound):
        reporting.reporter_writes(ctx, token, "OIG-0000000000", "hello", pending())
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    with pytest.raises(NotFound):  # ECO cannot write on an OIG case
        casework.reply(ctx, eco, filed.cases[0].id, "hello", pending())
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    with pytest.raises(InvalidReport):
        casework.reply(ctx, oig, filed.cases[0].id, "x" * 20_001, pending())
    after_refusals = snapshot(ctx)
    assert after_refusals["blobs"] == before["blobs"]
    casework.reply(ctx, oig, filed.cases[0].id, "two files", pending())
    assert len(snapshot(ctx)["blobs"]) == len(before["blobs"]) + 2


def test_no_free_cleaning_room_is_503_and_nothing_is_kept(client, ctx):
    from intake.service import metadata

    if not metadata.can_clean("photo.jpg"):
        pytest.skip("mat2 or a memory filesystem is missing here")
    ctx.cleaning = metadata.CleaningRooms(1)
    held = ctx.cleaning.open("other.jpg")  # another upload is being cleaned
    try:
        before = snapshot(ctx)
        body, headers = report_upload([("photo.jpg", jpeg_with_gps())])
        refused = client.post("/api/v1/reports", content=body, headers=headers)
        assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0
        assert "being cleaned" in refused.json()["error"]
        assert snapshot(ctx) == before
    finally:
        held.remove()
    body, headers = report_upload([("photo.jpg", jpeg_with_gps())])
    assert client.post("/api/v1/reports", content=body, headers=headers).status_code == 201  # the room is free again


def test_the_storage_quota_refuses_files_with_507_and_keeps_nothing(client, ctx):
    body, headers = report_upload([("first.bin", os.urandom(50_000))])
    assert client.post("/api/v1/reports", content=body, headers=headers).status_code == 201
    ctx.settings = dataclasses.replace(ctx.settings, storage_quota_bytes=120_000)
    before = snapshot(ctx)
    body, headers = report_upload([("second.bin", os.urandom(80_000))])
    full = client.post("/api/v1/reports", content=body, headers=headers)
    assert full.status_code == 507 and "without files" in full.json()["error"]
    assert snapshot(ctx) == before
    words_only = client.post("/api/v1/reports", json={"concerns": ["misconduct"], "description": "no files this time"})
    assert words_only.status_code == 201
    ctx.settings = dataclasses.replace(ctx.settings, storage_quota_bytes=2**40, min_free_bytes=2**60)  # the disk's reserve
    body, headers = report_upload([("third.bin", b"x")])
    assert client.post("/api/v1/reports", content=body, headers=headers).status_code == 507
