"""The database goes away under the service: 503 with Retry-After, never 500; what was typed comes
back on the page; nothing is half-written; the pool reconnects by itself when the database is back.

A real PostgreSQL of the test's own (tests/pgcluster.py), stopped and started under the app, so the
errors are the driver's own (connection refused, server closed the connection), not made up.
"""

import dataclasses
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, func, select
from starlette.testclient import TestClient

from intake.app import create_app
from intake.service.context import Context
from intake.store import OUTAGES, Attachment, Case, CaseRecord, Message

from . import pgcluster
from .conftest import make_instance
from .helpers import api_login, csrf, file_via_api, html_login, post_form

pytestmark = pytest.mark.server

UNAVAILABLE = "cannot reach its database just now"


@pytest.fixture(scope="module")
def cluster() -> Iterator[pgcluster.Cluster]:
    if not pgcluster.available():
        if os.environ.get("INTAKE_REQUIRE_DEPLOY_TOOLS") == "1":  # CI (.ci/run): a skip would prove nothing
            pytest.fail(f"PostgreSQL's server tools are required here, in {pgcluster.PG_BIN} (apt-get install postgresql)")
        pytest.skip(f"PostgreSQL's server tools are not in {pgcluster.PG_BIN} (INTAKE_PG_BIN)")
    root = pgcluster.workspace()
    server = pgcluster.Cluster(root, "data").init()
    server.start()
    yield server
    server.remove()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def outage_ctx(tmp_path: Path, cluster: pgcluster.Cluster) -> Iterator[Context]:
    if not cluster.running():
        cluster.start()
    context = make_instance(tmp_path / "data", cluster.url())
    yield context
    context.engine.dispose()


@pytest.fixture
def browser(outage_ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(outage_ctx), base_url="http://127.0.0.1") as test_client:
        yield test_client


def count(ctx: Context, table) -> int:
    with Session(ctx.engine) as db:
        return db.exec(select(func.count()).select_from(table)).one()


def unavailable(response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0


def test_the_report_form_during_an_outage_comes_back_as_typed_and_is_sent_after(browser, outage_ctx, cluster):
    form = browser.get("/report?concern=misconduct").text
    sending = re.search(r'name="sending" value="([^"]+)"', form).group(1)
    fields = {"concern": "misconduct", "description": "The fuel <is> sold at night.", "sending": sending, "csrf": csrf(browser)}
    evidence = {"files": ("ledger.bin", b"\x00ledger" * 1000, "application/octet-stream")}
    cluster.stop()
    refused = browser.post("/report", data=fields, files=evidence, follow_redirects=False)
    unavailable(refused)
    assert UNAVAILABLE in refused.text
    assert "The fuel &lt;is&gt; sold at night." in refused.text  # back in its box, escaped
    assert f'value="{sending}"' in refused.text  # the same sending: sent again, it files once
    cluster.start()
    assert count(outage_ctx, Case) == 0
    sent = browser.post("/report", data=fields, files=evidence, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/report/sent"  # the pool reconnected by itself
    assert count(outage_ctx, Case) == 1 and count(outage_ctx, Attachment) == 1


def test_the_api_answers_503_with_its_error_model(browser, outage_ctx, cluster):
    filed = file_via_api(browser, ["misconduct"], "Invoices inflated.")
    officer = api_login(browser, "oig-1")
    cluster.stop()
    for response in (
        browser.post("/api/v1/reports", json={"concerns": ["misconduct"], "description": "Again.", "answers": {}}),
        browser.post("/api/v1/caseroom/session", json={"passphrase": filed["passphrase"]}),
        browser.get("/api/v1/officer/cases", headers=officer),
    ):
        unavailable(response)
        assert response.json() == {"error": response.json()["error"]} and UNAVAILABLE in response.json()["error"]
    cluster.start()
    assert browser.post("/api/v1/caseroom/session", json={"passphrase": filed["passphrase"]}).status_code == 201
    assert count(outage_ctx, Case) == 1


def _resend_fields(html: str) -> dict[str, str]:
    """The fields of the outage page's form, as the browser would send them."""
    form = re.search(r'<form method="post" action="([^"]+)".*?</form>', html, re.S)
    assert form is not None, html
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0)))
    fields.update(re.findall(r'<textarea name="([^"]+)"[^>]*>([^<]*)</textarea>', form.group(0)))
    return {"action": form.group(1), **fields}


def test_a_case_room_message_during_an_outage_is_kept_on_the_page_and_sent_once_after(browser, outage_ctx, cluster):
    filed = file_via_api(browser, ["misconduct"], "Invoices inflated.")
    assert post_form(browser, "/caseroom/login", {"passphrase": filed["passphrase"]}).status_code == 200
    room = browser.get("/caseroom").text
    case_id = filed["cases"][0]["id"]
    sending = re.search(r'name="sending" value="([^"]+)"', room).group(1)
    token = csrf(browser)
    cluster.stop()
    refused = browser.post(
        f"/caseroom/cases/{case_id}/messages",
        data={"body": "He came back on Monday.", "sending": sending, "csrf": token},
        files={"files": ("note.txt", b"a note", "text/plain")},
    )
    unavailable(refused)
    kept = _resend_fields(refused.text)
    assert kept["body"] == "He came back on Monday." and kept["sending"] == sending
    assert kept["action"] == f"/caseroom/cases/{case_id}/messages" and 'enctype="multipart/form-data"' in refused.text
    assert "choose them again" in refused.text
    cluster.start()
    messages = count(outage_ctx, Message)
    action = kept.pop("action")
    for _ in range(2):  # sent again, and once more (a double click): one message
        again = browser.post(action, data=kept, files={"files": ("note.txt", b"a note", "text/plain")}, follow_redirects=False)
        assert again.status_code == 303, again.text
    assert count(outage_ctx, Message) == messages + 1


def test_an_officer_form_during_an_outage_keeps_the_note_but_never_a_password(browser, outage_ctx, cluster):
    filed = file_via_api(browser, ["misconduct"], "Invoices inflated.")
    case_id = filed["cases"][0]["id"]
    assert html_login(browser, "oig-1").status_code == 200
    token = csrf(browser)
    cluster.stop()
    # The officer's session is checked in the database before the form is read: the page reads it then.
    refused = browser.post(f"/officer/cases/{case_id}/notes", data={"note": "Called the supplier.", "csrf": token})
    unavailable(refused)
    assert _resend_fields(refused.text)["note"] == "Called the supplier."
    memo = {"memo": "For ECO: retaliation.", "state": "transferred_to_eco", "confirm": "yes", "csrf": token}
    transfer = browser.post(f"/officer/cases/{case_id}/referral", data=memo)
    unavailable(transfer)
    kept = _resend_fields(transfer.text)
    assert kept["memo"] == "For ECO: retaliation." and kept["state"] == "transferred_to_eco"
    assert "confirm" not in kept  # an act that cannot be undone is confirmed again on its own page
    secrets = {"username": "oig-1", "password": "secret words", "code": "123456", "csrf": token}
    login = browser.post("/officer/login", data=secrets)
    unavailable(login)
    assert "secret words" not in login.text and "123456" not in login.text
    forged = browser.post(f"/officer/cases/{case_id}/notes", data={"note": "Forged words.", "csrf": "another site's"})
    unavailable(forged)
    assert "Forged words." not in forged.text  # another site's post is not shown what it sent
    cluster.start()
    assert count(outage_ctx, CaseRecord) == 0


def test_a_database_lost_in_the_middle_of_an_upload_leaves_no_case(browser, outage_ctx, cluster):
    """The database goes while the evidence is still arriving (the check of the text fields passed):
    503, the form as typed, and no case or attachment row afterwards."""
    form = browser.get("/report?concern=misconduct").text
    sending = re.search(r'name="sending" value="([^"]+)"', form).group(1)
    token = csrf(browser)
    boundary = "outageboundary"

    def body() -> Iterator[bytes]:
        for name, value in (("csrf", token), ("sending", sending), ("concern", "misconduct"), ("description", "Half way.")):
            yield f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.bin"\r\n\r\n'.encode()
        yield b"x" * 65536
        cluster.stop("immediate")  # the file has begun: the store was asked how much room is left
        yield b"y" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    refused = browser.post(
        "/report", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}, follow_redirects=False
    )
    unavailable(refused)
    assert ">Half way.</textarea>" in refused.text and 'action="/report"' in refused.text  # the report form itself
    assert "were not kept" in refused.text  # the file must be chosen again
    cluster.start()
    assert count(outage_ctx, Case) == 0 and count(outage_ctx, Attachment) == 0


def test_no_free_connection_in_the_pool_is_a_503_too(tmp_path, outage_ctx):
    """A pool with every connection taken (SQLAlchemy's TimeoutError), on whichever database: 503, not 500."""
    outage_ctx.engine.dispose()
    outage_ctx.engine = create_engine(outage_ctx.engine.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    with TestClient(create_app(outage_ctx), base_url="http://127.0.0.1") as busy, outage_ctx.engine.connect():
        unavailable(busy.post("/api/v1/reports", json={"concerns": ["misconduct"], "description": "Busy.", "answers": {}}))


def test_on_sqlite_a_database_that_cannot_be_opened_is_a_503(tmp_path, outage_ctx):
    outage_ctx.engine.dispose()
    outage_ctx.engine = create_engine(f"sqlite:///{tmp_path / 'no such directory' / 'intake.sqlite3'}")
    with TestClient(create_app(outage_ctx), base_url="http://127.0.0.1") as broken:
        unavailable(broken.post("/api/v1/caseroom/session", json={"passphrase": "a b c d e f g h"}))


def test_files_whose_filing_met_an_outage_are_kept_for_the_sweep_and_other_failures_remove_them(outage_ctx, cluster):
    """attachments.held: a commit whose fate is unknown must not leave a case pointing at deleted files,
    so an outage keeps the blobs (unsettled: the orphan sweep takes them if nothing refers to them);
    a refusal still removes them at once. The database store (TEST_BLOBS=database) keeps a file's chunks
    in its case's own transaction: they share its fate, so nothing of them is left."""
    from intake.service import reporting
    from intake.service.attachments import FileSink, UploadBudget
    from intake.service.errors import Busy
    from policies import validate_report

    def pending():
        sink = FileSink(outage_ctx, "ledger.bin", "application/octet-stream", False, UploadBudget.for_request(outage_ctx))
        sink.write(b"ledger" * 1000)
        return [sink.finish()]

    report = validate_report(outage_ctx.policy, ["misconduct"], "Invoices inflated.", {})
    files = pending()
    cluster.stop("immediate")
    with pytest.raises(OUTAGES):
        reporting.file_report(outage_ctx, report, files)
    in_directory = hasattr(outage_ctx.blobs, "is_settled")
    if in_directory:
        blob_id = files[0].blob_id
        assert outage_ctx.blobs.exists(blob_id) and not outage_ctx.blobs.is_settled(outage_ctx.blobs.path(blob_id))
    cluster.start()
    assert count(outage_ctx, Case) == 0
    if not in_directory:
        assert not outage_ctx.blobs.exists(files[0].blob_id)
    refused = pending()
    outage_ctx.settings = dataclasses.replace(outage_ctx.settings, submissions_per_hour=0)
    with pytest.raises(Busy):
        reporting.file_report(outage_ctx, report, refused)
    assert not outage_ctx.blobs.exists(refused[0].blob_id)


def test_a_report_filed_just_before_the_database_went_shows_its_passphrase_at_once(browser, outage_ctx, cluster, monkeypatch):
    """The report committed, then the database went before the passphrase's one-time copy for the next page
    was kept (a failover in between): the passphrase is shown in the POST's own answer, and it opens the
    case room once the database is back. Without this the reporter saw a 503, and sending again was refused
    as already received: a report filed with no way back into it."""
    from intake.service import reporting

    from .web.test_pages import passphrase_from

    keep_receipt = reporting.keep_receipt

    def the_database_goes_first(*args, **kwargs):
        cluster.stop("immediate")
        return keep_receipt(*args, **kwargs)

    monkeypatch.setattr(reporting, "keep_receipt", the_database_goes_first)
    form = browser.get("/report?concern=misconduct").text
    sending = re.search(r'name="sending" value="([^"]+)"', form).group(1)
    fields = {"concern": "misconduct", "description": "The fuel is sold at night.", "sending": sending, "csrf": csrf(browser)}
    shown = browser.post("/report", data=fields, follow_redirects=False)
    assert shown.status_code == 200, shown.text
    passphrase = passphrase_from(shown.text)
    assert len(passphrase.split()) >= 6
    cluster.start()
    case_id = re.findall(r"OIG-[0-9A-F]{10}", shown.text)[0]
    assert count(outage_ctx, Case) == 1
    assert post_form(browser, "/caseroom/login", {"passphrase": passphrase}).status_code == 200
    assert case_id in browser.get("/caseroom").text


def test_a_report_whose_answer_the_outage_hid_shows_its_passphrase_once_sent_again(browser, outage_ctx, cluster, monkeypatch):
    """The filing committed and the connection died before its answer (as when COMMIT is acknowledged by a
    standby that a failover promotes, but not to us): the reporter gets the form back with a 503 and the same
    sending token. Sent again, it shows the passphrase of the report that was filed, once; a third time it is
    "already received". Without the held receipt this reporter had a report and no way back into it."""
    from intake.service import reporting
    from intake.store import Sending

    from .web.test_pages import passphrase_from

    file_report = reporting.file_report

    def filed_then_the_database_went(ctx, *args, **kwargs):
        filed = file_report(ctx, *args, **kwargs)  # committed
        cluster.stop("immediate")
        reporting.keep_receipt(ctx, filed)  # the driver's own error, as the page's next step meets it
        raise AssertionError("the database was stopped")

    form = browser.get("/report?concern=misconduct").text
    sending = re.search(r'name="sending" value="([^"]+)"', form).group(1)
    fields = {"concern": "misconduct", "description": "The fuel is sold at night.", "sending": sending, "csrf": csrf(browser)}
    monkeypatch.setattr(reporting, "file_report", filed_then_the_database_went)
    evidence = {"files": ("ledger.bin", b"\x00ledger" * 1000, "application/octet-stream")}
    hidden = browser.post("/report", data=fields, files=evidence, follow_redirects=False)
    unavailable(hidden)
    assert f'value="{sending}"' in hidden.text  # the form as typed, with the same sending
    monkeypatch.setattr(reporting, "file_report", file_report)
    cluster.start()
    assert count(outage_ctx, Case) == 1
    with Session(outage_ctx.engine) as db:
        (held,) = db.exec(select(Sending.held)).all()
    assert held is not None and b"OIG-" not in held and b"ledger" not in held  # sealed: no case id, file name or passphrase

    shown = browser.post("/report", data=fields, files=evidence, follow_redirects=True)
    assert shown.status_code == 200 and "/report/sent" in str(shown.url)
    assert "ledger.bin" in shown.text  # the file filed with it, named on the passphrase page as it would have been
    passphrase = passphrase_from(shown.text)
    assert len(passphrase.split()) >= 6
    again = browser.post("/report", data=fields, follow_redirects=False)
    assert again.status_code == 409  # shown once: the held receipt is gone
    with Session(outage_ctx.engine) as db:
        assert db.exec(select(Sending.held)).all() == [None]
    assert count(outage_ctx, Case) == 1 and count(outage_ctx, Attachment) == 1
    assert post_form(browser, "/caseroom/login", {"passphrase": passphrase}).status_code == 200


def test_a_report_filed_as_usual_holds_nothing_once_its_passphrase_page_is_ready(browser, outage_ctx):
    """The held receipt lives only between the filing and its passphrase page: a resend of a form whose
    answer arrived is "already received", and the database keeps nothing sealed for it."""
    from intake.store import Sending

    form = browser.get("/report?concern=misconduct").text
    sending = re.search(r'name="sending" value="([^"]+)"', form).group(1)
    fields = {"concern": "misconduct", "description": "The fuel is sold at night.", "sending": sending, "csrf": csrf(browser)}
    assert browser.post("/report", data=fields, follow_redirects=False).status_code == 303
    with Session(outage_ctx.engine) as db:
        assert db.exec(select(Sending.held)).all() == [None]
    assert browser.post("/report", data=fields, follow_redirects=False).status_code == 409


def test_an_api_report_whose_answer_the_outage_hid_gives_its_passphrase_once_under_the_same_key(
    browser, outage_ctx, cluster, monkeypatch
):
    """The API's retry after a 503 (an Idempotency-Key kept across retries, as PROTOCOL.md asks): the filing had
    committed, so the key is taken; without the held receipt the client got 409 and the reporter a report with
    no way back into it. The same report under the same key gets the passphrase, the cases and the files once;
    then 409. Another report under that key (a guess of a client's key) gets 409 and leaves it held."""
    from intake.service import reporting
    from intake.store import Sending

    file_report = reporting.file_report

    def filed_then_the_database_went(ctx, *args, **kwargs):
        filed = file_report(ctx, *args, **kwargs)  # committed
        cluster.stop("immediate")
        reporting.keep_receipt(ctx, filed)  # the driver's own error, as the next step meets it
        raise AssertionError("the database was stopped")

    key = {"Idempotency-Key": "3c9e1f7a-retry-after-an-outage", "X-Intake-Client": "tests"}
    report = {"concerns": ["misconduct"], "description": "The fuel is sold at night.", "answers": {}}
    evidence = {"files": ("ledger.bin", b"\x00ledger" * 1000, "application/octet-stream")}
    body = {"report": json.dumps(report)}
    monkeypatch.setattr(reporting, "file_report", filed_then_the_database_went)
    unavailable(browser.post("/api/v1/reports", data=body, files=evidence, headers=key))
    monkeypatch.setattr(reporting, "file_report", file_report)
    cluster.start()
    assert count(outage_ctx, Case) == 1 and count(outage_ctx, Attachment) == 1

    # Whoever guesses a client's key does not get the passphrase: the held receipt opens only for the same
    # report, and stays for its sender.
    guessed = browser.post("/api/v1/reports", json={**report, "description": "Anything at all."}, headers=key)
    assert guessed.status_code == 409 and "passphrase" not in guessed.json()
    with Session(outage_ctx.engine) as db:
        assert db.exec(select(Sending.held)).one() is not None

    retried = browser.post("/api/v1/reports", data=body, files=evidence, headers=key)
    assert retried.status_code == 201, retried.text
    filed = retried.json()
    assert len(filed["passphrase"].split()) >= 6 and filed["cases"][0]["office"] == "OIG"
    assert [f["name"] for f in filed["files"]] == ["ledger.bin"] and filed["files"][0]["size"] == 7000
    again = browser.post("/api/v1/reports", json=report, headers=key)
    assert again.status_code == 409 and "passphrase" not in again.json()
    assert count(outage_ctx, Case) == 1 and count(outage_ctx, Attachment) == 1  # the retries stored nothing
    room = browser.post("/api/v1/caseroom/session", json={"passphrase": filed["passphrase"]})
    assert room.status_code == 201
    cases = browser.get("/api/v1/caseroom", headers={"Authorization": f"Bearer {room.json()['token']}"}).json()["cases"]
    assert [c["id"] for c in cases] == [filed["cases"][0]["id"]]
    with Session(outage_ctx.engine) as db:
        assert db.exec(select(Sending.held)).all() == [None]


def test_an_api_report_answered_as_usual_holds_nothing_and_its_key_is_refused_after(browser, outage_ctx):
    from intake.store import Sending

    key = {"Idempotency-Key": "5d0b8e21-answered-as-usual"}
    report = {"concerns": ["misconduct"], "description": "The fuel is sold at night.", "answers": {}}
    assert browser.post("/api/v1/reports", json=report, headers=key).status_code == 201
    with Session(outage_ctx.engine) as db:
        assert db.exec(select(Sending.held)).all() == [None]
    again = browser.post("/api/v1/reports", json=report, headers=key)
    assert again.status_code == 409 and "passphrase" not in again.json()
