"""Text that reads otherwise than it is: bidi overrides in what reporters write, and file names
padded to hide their real extension, shown to officers for what they are."""

import re

from ..files import report_upload
from ..helpers import api_login, caseroom_login, html_login

RLO = "\u202e"


def test_bidi_controls_are_shown_not_obeyed_and_padded_file_names_are_closed_up(client):
    body, headers = report_upload(
        [("report.pdf" + " " * 100 + ".exe", b"MZ"), (f"invoice_{RLO}fdp.exe", b"MZ")],
        description=f"pay the invoice_{RLO}fdp.exe now",
    )
    filed = client.post("/api/v1/reports", content=body, headers=headers).json()
    case_id = filed["cases"][0]["id"]
    reporter = caseroom_login(client, filed["passphrase"])
    client.post(f"/api/v1/caseroom/cases/{case_id}/messages", json={"body": f"see {RLO}txt.exe"}, headers=reporter)

    html_login(client, "oig-1")
    page = client.get(f"/officer/cases/{case_id}").text
    assert RLO not in page
    assert page.count('<span class="control" title="U+202E">[U+202E]</span>') == 2  # the account and the message
    detail = client.get(f"/api/v1/officer/cases/{case_id}", headers=api_login(client, "oig-1")).json()
    names = {f["name"] for f in detail["files"]}
    assert names == {"report.pdf .exe", "invoice_fdp.exe"}  # one space; the override is gone
    first = re.search(rf'href="(/officer/cases/{case_id}/files/[^"]+)"', page).group(1)
    disposition = client.get(first).headers["content-disposition"]
    assert "  " not in disposition and RLO not in disposition
