"""A file sent for an account the report does not give is refused, never dropped (#24 item 3)."""

import json

from ..files import multipart, snapshot
from ..helpers import api_login


def test_a_file_sent_for_an_account_the_report_does_not_give_is_refused_and_nothing_is_stored(client, ctx):
    """#24 item 3: a one-concern report (retaliation) whose file came as `files.misconduct` answered 201,
    listed the file and attached it to no case. It is refused (422 naming `files`), and the store, blobs
    included, is as before."""
    report = json.dumps({"concerns": ["retaliation"], "description": "my post was abolished", "answers": {}})
    before = snapshot(ctx)
    body, headers = multipart({"report": report}, [("files.misconduct", "letter.bin", b"the termination letter")])
    refused = client.post("/api/v1/reports", content=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert "files" in refused.json()["fields"]
    assert snapshot(ctx) == before


def test_a_file_sent_for_the_one_account_the_report_gives_is_attached(client):
    """#24 item 3, the other side: a one-concern report's file named for that concern reaches its case."""
    report = json.dumps({"concerns": ["misconduct"], "description": "fuel is sold", "answers": {}})
    body, headers = multipart({"report": report}, [("files.misconduct", "fuel.bin", b"fuel invoices")])
    filed = client.post("/api/v1/reports", content=body, headers=headers)
    assert filed.status_code == 201, filed.text
    (case,) = filed.json()["cases"]
    oig = api_login(client, "oig-1")
    listed = client.get(f"/api/v1/officer/cases/{case['id']}", headers=oig).json()["files"]
    assert [f["name"] for f in listed] == ["fuel.bin"]
