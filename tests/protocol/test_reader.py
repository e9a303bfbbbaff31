"""A second implementation, written from crypto/PROTOCOL.md and tests/vectors alone
(tests/protocol/reader.py, which imports nothing of ours), opens a real instance: every case,
message, file, office record, identity and the audit chain, as an officer, as a reporter and
from a backup. If the page stops describing what the service stores, this fails."""

import ast
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from intake.service import backup, casework, officers
from intake.store import Message

from ..clock import Clock
from ..conftest import PASSWORDS, database_url
from ..files import multipart
from ..helpers import api_login, app_context, caseroom_login, officer_token, totp_code

READER = Path(__file__).parent / "reader.py"
EVIDENCE = "عقد العمل.pdf".encode().decode()  # a non-ASCII name, as reporters' files often have
CONTENT = b"%PDF-1.4 not really a pdf, so mat2 keeps it as it is\n" + os.urandom(70_000)  # two frames
BACKUP_PASSPHRASE = "a backup passphrase long enough"


def reader_url(tmp_path: Path) -> str:
    url = database_url(tmp_path)
    return url.replace("postgresql+psycopg://", "postgresql://")


def run_reader(*args: str, secret: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(READER), *args], input=secret + "\n", capture_output=True, text=True, timeout=120, check=False
    )


def test_the_reader_imports_nothing_of_ours():
    tree = ast.parse(READER.read_text(encoding="utf-8"))
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
        if not (isinstance(node, ast.ImportFrom) and node.level)
    }
    assert not imported & {"intake", "crypto", "caseroom", "policies", "tests"}
    assert imported <= set(sys.stdlib_module_names) | {"nacl", "psycopg"}


@pytest.fixture
def filed(client, tmp_path):
    """A retaliation report with an identity and a file, a reporter message with a file, an
    officer reply, a note and a determination; a misconduct report at OIG."""
    answers = {"identity": "Amal Haddad, ext. 4411 \u202eevil", "identity_consent": "yes"}
    report = {"concerns": ["retaliation"], "description": "My post was abolished after I testified.", "answers": answers}
    body, headers = multipart({"report": json.dumps(report)}, [(EVIDENCE, CONTENT)])
    response = client.post("/api/v1/reports", content=body, headers=headers)
    assert response.status_code == 201, response.text
    eco_report = response.json()
    case_id = eco_report["cases"][0]["id"]
    reporter = caseroom_login(client, eco_report["passphrase"])
    body, headers = multipart({"message": json.dumps({"body": "Here is the letter. <script>x</script>"})}, [("letter.txt", b"L")])
    assert (
        client.post(f"/api/v1/caseroom/cases/{case_id}/messages", content=body, headers={**headers, **reporter}).status_code
        == 201
    )
    eco = api_login(client, "eco-1")
    reply = client.post(f"/api/v1/officer/cases/{case_id}/messages", json={"body": "Received, thank you."}, headers=eco)
    assert reply.status_code == 201, reply.text
    ctx = app_context(client)
    officer = officers.current(ctx, officer_token(ctx, "eco-1"))
    casework.add_note(ctx, officer, case_id, "Spoke to HR; ask for the restructuring memo.")
    oig_report = client.post(
        "/api/v1/reports", json={"concerns": ["misconduct"], "description": "Fuel is sold on the side.", "answers": {}}
    )
    assert oig_report.status_code == 201
    return {"ctx": ctx, "eco": eco_report, "oig": oig_report.json(), "case_id": case_id, "url": reader_url(tmp_path)}


def open_as_officer(ctx, username: str, url: str) -> subprocess.CompletedProcess:
    return run_reader(
        "--data-dir", str(ctx.settings.data_dir), "--database", url, "officer", "--username", username, secret=PASSWORDS[username]
    )


def test_an_officer_opens_every_case_of_the_office_from_the_page_alone(filed):
    ctx, case_id = filed["ctx"], filed["case_id"]
    done = open_as_officer(ctx, "eco-1", filed["url"])
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    (case,) = out["cases"]  # ECO holds one case; OIG's is not among them
    assert case["id"] == case_id and case["report"] == "My post was abolished after I testified."
    assert case["answers"]["concerns"] == ["retaliation"]
    assert [m["body"] for m in case["messages"] if m["author"] != "service"] == [
        "Here is the letter. <script>x</script>",
        "Received, thank you.",
    ]
    files = {f["name"]: f for f in case["files"]}
    assert files[EVIDENCE]["sha256"] == hashlib.sha256(CONTENT).hexdigest() and files[EVIDENCE]["size"] == len(CONTENT)
    assert files["letter.txt"]["sha256"] == hashlib.sha256(b"L").hexdigest()
    assert [r["text"] for r in case["office_records"]] == ["Spoke to HR; ask for the restructuring memo."]
    assert case["identity"] == "Amal Haddad, ext. 4411 \u202eevil"
    with Session(ctx.engine) as db:
        assert len(db.exec(select(Message).where(Message.case_id == case_id)).all()) == len(case["messages"])
    audit = out["audit"]
    assert audit["verified"] is True and audit["entries"] >= 4

    oig = json.loads(open_as_officer(ctx, "oig-1", filed["url"]).stdout)
    assert [c["id"] for c in oig["cases"]] == [filed["oig"]["cases"][0]["id"]]
    assert oig["cases"][0]["office_records"] == [] and oig["cases"][0]["identity"] is None


def test_a_restricted_case_opens_for_its_holders_only_from_the_page_alone(filed, client):
    """Section 13 step 3: the head opens a restricted case through their restriction wrap, with its
    identity and the office's records; a member of the same office, from the same page and their
    own password, does not find it at all."""
    ctx = filed["ctx"]
    answers = {"identity": "Samir, ext. 5120", "identity_consent": "yes"}
    report = {"concerns": ["retaliation"], "description": "An ECO officer's spouse runs my unit.", "answers": answers}
    response = client.post("/api/v1/reports", json={**report, "restricted": True})
    assert response.status_code == 201, response.text
    restricted_id = response.json()["cases"][0]["id"]
    head = officers.current(ctx, officer_token(ctx, "eco-1"))
    casework.add_note(ctx, head, restricted_id, "Keep this from the team.")
    ctx.now = Clock(ctx.now() + dt.timedelta(minutes=2))  # the sponsor's next authenticator code
    officers.add_officer(ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"), "eco-2", "eco member password two")
    done = open_as_officer(ctx, "eco-1", filed["url"])
    assert done.returncode == 0, done.stderr
    cases = {c["id"]: c for c in json.loads(done.stdout)["cases"]}
    assert set(cases) == {filed["case_id"], restricted_id}
    assert cases[restricted_id]["report"] == "An ECO officer's spouse runs my unit."
    assert cases[restricted_id]["identity"] == "Samir, ext. 5120"
    assert [r["text"] for r in cases[restricted_id]["office_records"]] == ["Keep this from the team."]
    member = run_reader(
        "--data-dir",
        str(ctx.settings.data_dir),
        "--database",
        filed["url"],
        "officer",
        "--username",
        "eco-2",
        secret="eco member password two",
    )
    assert member.returncode == 0, member.stderr
    assert [c["id"] for c in json.loads(member.stdout)["cases"]] == [filed["case_id"]]


def test_a_memo_sealed_for_an_office_with_a_key_of_its_own_opens_from_the_page_alone(filed):
    """Section 13 step 5: OIG transfers its case to ECO, ECO sends it back; OIG's reader finds ECO's
    memo among OIG's records through the record key, beside OIG's own."""
    from intake.service import referral

    ctx, case_id = filed["ctx"], filed["oig"]["cases"][0]["id"]
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    referral.refer(ctx, oig, case_id, "ECO", None, "Looks like retaliation: yours?")
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    referral.refer(ctx, eco, case_id, "OIG", "Plain fraud, no retaliation.", "Fuel theft: yours.", "transferred_to_oig")
    done = open_as_officer(ctx, "oig-1", filed["url"])
    assert done.returncode == 0, done.stderr
    (case,) = json.loads(done.stdout)["cases"]
    assert [r["text"] for r in case["office_records"]] == ["Looks like retaliation: yours?", "Fuel theft: yours."]


def test_a_reporter_opens_their_own_cases_only(filed):
    ctx = filed["ctx"]
    done = run_reader(
        "--data-dir",
        str(ctx.settings.data_dir),
        "--database",
        filed["url"],
        "reporter",
        secret=filed["eco"]["passphrase"].upper(),
    )
    assert done.returncode == 0, done.stderr
    (case,) = json.loads(done.stdout)["cases"]
    assert case["id"] == filed["case_id"] and case["identity"] == "Amal Haddad, ext. 4411 \u202eevil"
    assert "office_records" not in case  # the office's own records are under a key the reporter never holds


def test_wrong_secrets_and_tampering_are_refused(filed):
    ctx, url = filed["ctx"], filed["url"]
    wrong = run_reader(
        "--data-dir", str(ctx.settings.data_dir), "--database", url, "officer", "--username", "eco-1", secret="not it"
    )
    assert wrong.returncode == 1 and wrong.stdout == ""
    phrase = filed["eco"]["passphrase"].split()
    other = " ".join(phrase[1:] + phrase[:1])
    nothing = run_reader("--data-dir", str(ctx.settings.data_dir), "--database", url, "reporter", secret=other)
    assert nothing.returncode == 1 or json.loads(nothing.stdout)["cases"] == []
    with Session(ctx.engine) as db, db.begin():
        message = db.exec(select(Message).where(Message.case_id == filed["case_id"])).first()
        message.body = message.body[:-1] + bytes([message.body[-1] ^ 1])
        db.add(message)
    tampered = open_as_officer(ctx, "eco-1", url)
    assert tampered.returncode != 0 and tampered.stdout == ""


def test_a_backup_opens_from_the_page_alone(filed, tmp_path):
    ctx = filed["ctx"]
    out = tmp_path / "instance.backup"
    backup.write_backup(ctx, out, BACKUP_PASSPHRASE)
    done = run_reader(
        "backup", "--file", str(out), "--open-as-officer", "eco-1", secret=f"{BACKUP_PASSPHRASE}\n{PASSWORDS['eco-1']}"
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    text = json.dumps(result)
    assert filed["case_id"] in text and hashlib.sha256(CONTENT).hexdigest() in text
    wrong = run_reader("backup", "--file", str(out), secret=f"not the passphrase at all\n{PASSWORDS['eco-1']}")
    assert wrong.returncode == 1


def test_the_reader_reproduces_every_vector():
    done = subprocess.run([sys.executable, str(READER), "selftest"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all vector files pass" in done.stdout + done.stderr


def load_reader():
    """reader.py as a module, for its functions (it still imports nothing of ours)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("protocol_reader", READER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reader_finds_an_api_idempotency_key_where_section_9_says(client):
    """#24 (page and code), section 9: an API Idempotency-Key is stored as the digest of "api:" + key;
    a reader following the page's former `utf8(token)` found no row."""
    from intake.store import Sending

    reader = load_reader()
    key = "a client's key for this one report"
    report = {"concerns": ["misconduct"], "description": "Fuel is sold on the side.", "answers": {}}
    assert client.post("/api/v1/reports", json=report, headers={"Idempotency-Key": key}).status_code == 201
    with Session(app_context(client).engine) as db:
        stored = {bytes(row.digest) for row in db.exec(select(Sending)).all()}
    assert reader.api_sending_digest(key) in stored
    assert reader.sending_digest(key) not in stored


def test_the_reader_holds_a_backup_to_the_pages_bytes(filed, tmp_path):
    """#24 (page and code), section 8: the ustar header fields (device numbers all NUL) and the json()
    of manifest.json and database.jsonl (", " and ": ", ASCII escapes, one column order per table)
    were learnable only from backup.json; the reader now checks every member of a real backup
    against the page, and refuses what the page's former "compact" rule would have written."""
    reader = load_reader()
    out = tmp_path / "instance.backup"
    backup.write_backup(filed["ctx"], out, BACKUP_PASSPHRASE)
    data = out.read_bytes()
    archive = reader.decrypt_backup(data, BACKUP_PASSPHRASE)
    opened = reader.read_backup_archive(archive)
    assert opened["tables"]["case_file"] and opened["members"][:3] == ["manifest.json", "instance.json", "database.jsonl"]
    line = json.dumps({"table": "sending", "row": {"seen_on": None}}, separators=(",", ":")).encode()
    with pytest.raises(reader.FormatError):
        reader.check_byte_exact(line, "a compact line")
    header = bytearray(archive[:512])
    header[329:337] = b"0000000\0"
    with pytest.raises(reader.FormatError):
        reader.check_ustar_header(bytes(header), "manifest.json")


def test_a_report_of_both_opens_from_the_page_with_each_file_in_its_own_case_only(client, tmp_path):
    """#24 (page and code), section 6: the page said the two cases of a report of both share a blob
    and its file key; each part has its own files. The reader (which now refuses a blob named by two
    attachment rows, and a stored_size that is not the blob's) finds each file in its part's case."""
    parts = {"retaliation": {"description": "my post was abolished"}, "misconduct": {"description": "fuel is sold"}}
    body, headers = multipart(
        {"report": json.dumps({"concerns": ["both"], "parts": parts})},
        [("files.retaliation", "letter.bin", b"the termination letter"), ("files.misconduct", "fuel.bin", b"fuel invoices")],
    )
    response = client.post("/api/v1/reports", content=body, headers=headers)
    assert response.status_code == 201, response.text
    ctx = app_context(client)
    for username, name, content in (("eco-1", "letter.bin", b"the termination letter"), ("oig-1", "fuel.bin", b"fuel invoices")):
        done = open_as_officer(ctx, username, reader_url(tmp_path))
        assert done.returncode == 0, done.stderr
        (case,) = json.loads(done.stdout)["cases"]
        assert [(f["name"], f["sha256"]) for f in case["files"]] == [(name, hashlib.sha256(content).hexdigest())]


def test_unanswered_questions_read_as_section_12_says(client, tmp_path):
    """#24 (page and code), section 12: an unanswered text question is "" (the page said null), a
    single choice null, a multiple choice or action list []; every question the concern asks is there."""
    from policies.vocabulary import Concern

    report = {"concerns": ["retaliation"], "description": "My post was abolished.", "answers": {}}
    assert client.post("/api/v1/reports", json=report).status_code == 201
    ctx = app_context(client)
    done = open_as_officer(ctx, "eco-1", reader_url(tmp_path))
    assert done.returncode == 0, done.stderr
    (case,) = json.loads(done.stdout)["cases"]
    answers = case["answers"]
    questions = [q for q in ctx.policy.questions_for(Concern.RETALIATION) if q.type != "identity"]
    assert questions
    unanswered = {"single": None, "multiple": [], "actions": []}
    for question in questions:
        assert answers[question.id] == unanswered.get(question.type, ""), question.id


def test_the_pages_ustar_table_is_what_the_reader_checks():
    """#24 (page and code), section 8: the header's field widths and NUL fields are on the page, and
    they are the ones the reader holds every backup to (on main the page had no such table)."""
    import re

    page = (Path(__file__).parents[2] / "crypto" / "PROTOCOL.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| (\d+) \| [a-z ()]+ \| (.+) \|$", page, flags=re.MULTILINE)
    table = {int(offset): (int(width), value) for offset, width, value in rows}
    assert sum(width for width, _ in table.values()) == 512 and sorted(table) == sorted(
        {0, 124, 148} | {offset for offset, _, _ in load_reader().USTAR_FIXED}
    )
    for offset, width, expected in load_reader().USTAR_FIXED:
        assert table[offset][0] == width
        said = table[offset][1]
        if expected == bytes(width):
            assert said.startswith("all NUL"), (offset, said)
        else:
            assert said.replace("`", "").replace(" NUL", "\0").replace(" ", "").encode() == expected, (offset, said)


def test_after_a_key_rotation_everything_opens_from_the_page_alone(filed):
    """Section 14: after `intake office rotate`, the officers' new wraps of the new office key open
    every case, file, office record and identity of the office, read from the page alone."""
    from intake.service import office_keys

    ctx = filed["ctx"]
    before = json.loads(open_as_officer(ctx, "eco-1", filed["url"]).stdout)
    ctx.now = Clock(ctx.now() + dt.timedelta(minutes=2))  # the officer's next authenticator code
    office_keys.rotate(ctx, "eco-1", PASSWORDS["eco-1"], totp_code(ctx, "eco-1"))
    done = open_as_officer(ctx, "eco-1", filed["url"])
    assert done.returncode == 0, done.stderr
    after = json.loads(done.stdout)
    assert [{k: c[k] for k in ("id", "report", "files", "office_records", "identity")} for c in after["cases"]] == [
        {k: c[k] for k in ("id", "report", "files", "office_records", "identity")} for c in before["cases"]
    ]
    assert after["audit"]["verified"] is True


def test_a_case_bundle_opens_from_the_page_alone(filed):
    """Section 15: a bundle the service exports opens and verifies in the reader, with every file as sent
    and the reporter's words; the reader also refuses it with a wrong passphrase."""
    from intake.service import bundles, export

    from ..conftest import CHEAP_ARGON2

    ctx, case_id = filed["ctx"], filed["case_id"]
    officer = officers.current(ctx, officer_token(ctx, "eco-1"))
    bundle_id = bundles.new_bundle_id()
    lock = bundles.passphrase_lock("an export passphrase, told apart", argon2=CHEAP_ARGON2)
    out = io.BytesIO()
    export.export_case(ctx, officer, case_id, lock, bundle_id, out)
    reader = load_reader()
    opened = reader.open_bundle_file(out.getvalue(), passphrase="an export passphrase, told apart")
    assert opened["signer"] == ctx.instance.audit_verify_key.hex() and opened["manifest"]["case"] == case_id
    files = {name: data for name, data in opened["items"].items() if name.startswith("files/")}
    assert sorted(files.values()) == sorted([CONTENT, b"L"])
    assert "My post was abolished" in json.loads(opened["items"]["case.json"])["report"]
    with pytest.raises(reader.WrongSecret):
        reader.open_bundle_file(out.getvalue(), passphrase="not the export passphrase")
