"""Sealed case export (issue 27): `intake export`, the export page, and `intake bundle verify/open`,
run for real (the app over its HTTP stack, the CLI's own commands, real crypto and store).

A bundle that opens gives back every marker and every file byte for byte; a flipped byte, a removed,
added or changed item, a replaced signature or a wrong passphrase fails with a message that says
which; an officer who cannot open the case exports nothing and nothing is logged as exported."""

import io
import json
import os
import re
import sys
import tarfile
from pathlib import Path

import pytest
from nacl.signing import SigningKey
from sqlmodel import Session, select

from crypto import derive_backup_key, sign_manifest
from intake import cli
from intake.service import bundles, export, officers
from intake.service.errors import NotFound
from intake.service.streams import DecryptingReader, EncryptingWriter
from intake.store import AuditEntry

from .conftest import CHEAP_ARGON2, PASSWORDS
from .files import report_upload, sha256
from .helpers import api_login, html_login, officer_token, post_form, totp_code

PASSPHRASE = "a long export passphrase, told apart"
EVIDENCE = os.urandom(150_000) + "MARKER-FILE ﷽".encode()
NAME = "ledger (copy) ﷽.pdf"


@pytest.fixture
def case_id(client, ctx):
    """An OIG case with a file, a reporter's account, an officer's reply with a file and a note."""
    body, headers = report_upload([(NAME, EVIDENCE)], description="MARKER-REPORT: invoices were inflated")
    filed = client.post("/api/v1/reports", content=body, headers=headers)
    assert filed.status_code == 201, filed.text
    case = filed.json()["cases"][0]["id"]
    officer = api_login(client, "oig-1")
    replied = client.post(f"/api/v1/officer/cases/{case}/messages", json={"body": "MARKER-REPLY"}, headers=officer)
    assert replied.status_code in (200, 201), replied.text
    noted = client.post(f"/api/v1/officer/cases/{case}/notes", json={"note": "MARKER-NOTE"}, headers=officer)
    assert noted.status_code in (200, 201), noted.text
    return case


def exports(ctx) -> list[dict]:
    with Session(ctx.engine) as db:
        return [json.loads(e.body) for e in db.exec(select(AuditEntry)) if json.loads(e.body)["action"] == "case exported"]


def oig(ctx):
    return officers.current(ctx, officer_token(ctx, "oig-1"))


def write_bundle(ctx, case_id: str, path: Path, lock_for=None) -> export.Exported:
    bundle_id = bundles.new_bundle_id()
    lock = lock_for(bundle_id) if lock_for else bundles.passphrase_lock(PASSPHRASE, argon2=CHEAP_ARGON2)
    with open(path, "xb") as target:
        return export.export_case(ctx, oig(ctx), case_id, lock, bundle_id, target)


def test_a_bundle_opens_into_the_case_with_every_marker_and_file_byte_for_byte(ctx, case_id, tmp_path):
    done = write_bundle(ctx, case_id, tmp_path / "case.bundle")
    raw = (tmp_path / "case.bundle").read_bytes()
    assert raw.startswith(b"INTAKE-BUNDLE\x01") and b"MARKER" not in raw and case_id.encode() not in raw
    assert done.sha256 == bundles.sha256_of(tmp_path / "case.bundle") and done.size == len(raw)

    opened = bundles.open_bundle(
        tmp_path / "case.bundle", passphrase=PASSPHRASE, verify_key=ctx.instance.audit_verify_key, out=tmp_path / "out"
    )
    assert opened.manifest["case"] == case_id and opened.manifest["exported_by"] == "oig-1"
    summary = json.loads((tmp_path / "out" / "case.json").read_text(encoding="utf-8"))
    assert summary["report"] == "MARKER-REPORT: invoices were inflated"
    assert [r["text"] for r in summary["records"]] == ["MARKER-NOTE"]
    assert summary["handling"]["office"] == "OIG" and summary["handling"]["deadlines"]
    messages = json.loads((tmp_path / "out" / "messages.json").read_text(encoding="utf-8"))
    assert [m["body"] for m in messages] == ["MARKER-REPLY"]
    history = json.loads((tmp_path / "out" / "history.json").read_text(encoding="utf-8"))
    assert [h["action"] for h in history] == ["reply", "note added"]
    (file,) = summary["files"]
    assert file["name"] == NAME and file["item"].startswith(f"files/{file['id']}/ledger__copy")
    assert sha256((tmp_path / "out" / file["item"]).read_bytes()) == sha256(EVIDENCE)
    assert {i["name"] for i in opened.items} == {"case.json", "messages.json", "history.json", file["item"]}
    assert json.loads((tmp_path / "out" / "manifest.json").read_bytes()) == opened.manifest
    assert len((tmp_path / "out" / "manifest.sig").read_bytes()) == 64

    (logged,) = exports(ctx)
    assert logged["case"] == case_id and logged["sha256"] == done.sha256 and logged["bundle"] == done.bundle_id
    assert logged["sealed"] == "passphrase" and logged["recipient"] is None


def test_a_bundle_sealed_to_an_investigator_key_opens_with_that_key_only(ctx, case_id, tmp_path):
    secret, public = bundles.new_investigator_key()
    write_bundle(ctx, case_id, tmp_path / "case.bundle", lambda bundle_id: bundles.key_lock(public, bundle_id))
    opened = bundles.open_bundle(tmp_path / "case.bundle", secret_key=secret, verify_key=ctx.instance.audit_verify_key)
    assert opened.sealed == "key" and opened.manifest["case"] == case_id
    other, _ = bundles.new_investigator_key()
    with pytest.raises(bundles.BundleError, match="sealed to another investigator key"):
        bundles.open_bundle(tmp_path / "case.bundle", secret_key=other)
    with pytest.raises(bundles.BundleError, match="sealed to the investigator key"):
        bundles.open_bundle(tmp_path / "case.bundle", passphrase=PASSPHRASE)
    assert exports(ctx)[0]["recipient"] == public.hex()


def test_a_wrong_passphrase_opens_nothing_and_leaves_no_folder(ctx, case_id, tmp_path):
    write_bundle(ctx, case_id, tmp_path / "case.bundle")
    with pytest.raises(bundles.BundleError, match="wrong passphrase or key"):
        bundles.open_bundle(tmp_path / "case.bundle", passphrase=PASSPHRASE + "!", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_flipped_byte_fails_verification_and_opening_keeps_nothing(ctx, case_id, tmp_path):
    write_bundle(ctx, case_id, tmp_path / "case.bundle")
    raw = bytearray((tmp_path / "case.bundle").read_bytes())
    for at in (len(raw) // 2, len(raw) - 5):  # inside a file's frames; inside the final chunk
        damaged = bytearray(raw)
        damaged[at] ^= 0x01
        (tmp_path / "damaged.bundle").write_bytes(damaged)
        with pytest.raises(bundles.BundleError, match="damaged or cut"):
            bundles.open_bundle(tmp_path / "damaged.bundle", passphrase=PASSPHRASE, out=tmp_path / "out")
        assert not (tmp_path / "out").exists()
    (tmp_path / "cut.bundle").write_bytes(raw[:-1000])
    with pytest.raises(bundles.BundleError, match="damaged or cut"):
        bundles.open_bundle(tmp_path / "cut.bundle", passphrase=PASSPHRASE)


def rewrite(path: Path, change) -> None:
    """Decrypt a bundle, let `change` edit its members [(name, bytes)], and encrypt it again under the
    same header and key: what someone holding the passphrase could do, short of the signing key."""
    raw = path.read_bytes()
    header_size = len(bundles.MAGIC) + bundles.BUNDLE_ID_BYTES + 1 + bundles.PASSPHRASE_LOCK.size
    salt, t, m, p = bundles.PASSPHRASE_LOCK.unpack(raw[header_size - bundles.PASSPHRASE_LOCK.size : header_size])
    key = derive_backup_key(PASSPHRASE, salt, CHEAP_ARGON2.__class__(t, m, p))
    reader = DecryptingReader(io.BytesIO(raw[header_size:]), key)
    with tarfile.open(fileobj=io.BufferedReader(reader), mode="r|") as archive:
        members = [(member.name, archive.extractfile(member).read()) for member in archive]
    out = io.BytesIO()
    out.write(raw[:header_size])
    writer = EncryptingWriter(out, key)
    with tarfile.open(fileobj=writer, mode="w|", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in change(members):
            archive.addfile(bundles._member(name, len(data)), io.BytesIO(data))
    writer.finish()
    path.write_bytes(out.getvalue())


def resign(members, seed: bytes, signer: bytes | None = None):
    """The members with the manifest signed again by `seed` (naming `signer` as its key)."""
    manifest = json.loads(dict(members)["manifest.json"])
    manifest["items"] = [item for item in manifest["items"] if item["name"] in dict(members)]  # a consistent forgery
    if signer is not None:
        manifest["signer"] = signer.hex()
    data = json.dumps(manifest).encode()
    return [(n, d) for n, d in members if n not in ("manifest.json", "manifest.sig")] + [
        ("manifest.json", data),
        ("manifest.sig", sign_manifest(seed, data)),
    ]


def file_item(members) -> str:
    return next(name for name, _ in members if name.startswith("files/"))


TAMPERING = {
    "removed": (lambda ms: [(n, d) for n, d in ms if not n.startswith("files/")], "missing from the bundle: removed"),
    "added": (lambda ms: [("files/F-0123456789AB/extra.txt", b"planted"), *ms], "not in the manifest: added"),
    "changed": (
        lambda ms: [(n, d[:-1] + bytes([d[-1] ^ 1]) if n.startswith("files/") else d) for n, d in ms],
        "does not match its SHA-256 in the manifest: changed",
    ),
    "after the manifest": (lambda ms: [*ms, ("files/F-0123456789AB/late.txt", b"{}")], "comes after the manifest"),
    "escaping the folder": (lambda ms: [("../outside.txt", b"x"), *ms], "not a name an export gives"),
    "no signature": (lambda ms: [(n, d) for n, d in ms if n != "manifest.sig"], "no signed manifest"),
    "signature of another manifest": (
        lambda ms: [(n, d + b" " if n == "manifest.json" else d) for n, d in ms],
        "signature does not verify",
    ),
}


@pytest.mark.parametrize("tampering", TAMPERING, ids=list(TAMPERING))
def test_a_tampered_bundle_fails_verification_naming_what_is_wrong(ctx, case_id, tmp_path, tampering):
    change, message = TAMPERING[tampering]
    write_bundle(ctx, case_id, tmp_path / "case.bundle")
    rewrite(tmp_path / "case.bundle", change)
    with pytest.raises(bundles.BundleError, match=message):
        bundles.open_bundle(tmp_path / "case.bundle", passphrase=PASSPHRASE, out=tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "outside.txt").exists()


def test_a_bundle_signed_by_another_key_fails_against_the_instance_key(ctx, case_id, tmp_path):
    write_bundle(ctx, case_id, tmp_path / "case.bundle")
    forger = SigningKey.generate()
    # The manifest changed (a file removed) and signed again by a key that is not the instance's.
    rewrite(
        tmp_path / "case.bundle",
        lambda ms: resign([(n, d) for n, d in ms if not n.startswith("files/")], bytes(forger), bytes(forger.verify_key)),
    )
    with pytest.raises(bundles.BundleError, match="not by the instance key you gave"):
        bundles.open_bundle(tmp_path / "case.bundle", passphrase=PASSPHRASE, verify_key=ctx.instance.audit_verify_key)
    # Without the instance key it verifies, and says by whom: the CLI prints it as NOT CHECKED.
    assert bundles.open_bundle(tmp_path / "case.bundle", passphrase=PASSPHRASE).signer == bytes(forger.verify_key).hex()
    # Signed by the forger while still naming the instance key: the signature does not verify.
    rewrite(tmp_path / "case.bundle", lambda ms: resign(ms, bytes(forger), ctx.instance.audit_verify_key))
    with pytest.raises(bundles.BundleError, match="signature does not verify"):
        bundles.open_bundle(tmp_path / "case.bundle", passphrase=PASSPHRASE)


def test_an_officer_of_the_other_office_exports_nothing_and_nothing_is_logged(ctx, case_id, tmp_path):
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    lock = bundles.passphrase_lock(PASSPHRASE, argon2=CHEAP_ARGON2)
    with open(tmp_path / "b", "wb") as target, pytest.raises(NotFound):
        export.export_case(ctx, eco, case_id, lock, bundles.new_bundle_id(), target)
    assert exports(ctx) == []


def run_cli(ctx, monkeypatch, capsys, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """One `intake` command, in this process, against the test instance."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    args = cli.parser().parse_args(argv)
    try:
        status = args.run(ctx.settings, args)
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


def test_the_cli_exports_and_an_investigator_opens_with_the_verify_key(ctx, case_id, tmp_path, monkeypatch, capsys):
    status, out, err = run_cli(ctx, monkeypatch, capsys, ["bundle", "keygen", "--out", str(tmp_path / "investigator.key")])
    assert status == 0 and (tmp_path / "investigator.key").stat().st_mode & 0o077 == 0
    public = re.search(r"public key .*: ([0-9a-f]{64})", out).group(1)
    login = f"{PASSWORDS['oig-1']}\n{totp_code(ctx, 'oig-1')}\n"
    argv = ["export", "--case", case_id, "--username", "oig-1", "--out", str(tmp_path / "case.bundle"), "--password-stdin"]
    status, out, err = run_cli(ctx, monkeypatch, capsys, [*argv, "--to-key", public], login)
    assert status == 0, err
    digest = re.search(r"SHA-256 ([0-9a-f]{64})", out).group(1)
    assert exports(ctx)[0]["sha256"] == digest == bundles.sha256_of(tmp_path / "case.bundle")

    opening = ["--secret-key", str(tmp_path / "investigator.key"), "--verify-key", ctx.instance.audit_verify_key.hex()]
    status, out, err = run_cli(ctx, monkeypatch, capsys, ["bundle", "verify", str(tmp_path / "case.bundle"), *opening])
    assert status == 0 and digest in out and "signed by the instance key you gave" in out
    status, out, err = run_cli(
        ctx, monkeypatch, capsys, ["bundle", "open", str(tmp_path / "case.bundle"), "--out", str(tmp_path / "out"), *opening]
    )
    assert status == 0, err
    assert "MARKER-REPORT" in (tmp_path / "out" / "case.json").read_text(encoding="utf-8")
    status, out, err = run_cli(
        ctx, monkeypatch, capsys, ["bundle", "verify", str(tmp_path / "case.bundle"), opening[0], opening[1]]
    )
    assert status == 0 and "NOT CHECKED" in out

    damaged = bytearray((tmp_path / "case.bundle").read_bytes())
    damaged[len(damaged) // 2] ^= 0x80
    (tmp_path / "damaged.bundle").write_bytes(damaged)
    status, out, err = run_cli(ctx, monkeypatch, capsys, ["bundle", "verify", str(tmp_path / "damaged.bundle"), *opening])
    assert status == 1 and "bundle NOT verified: the bundle is damaged or cut" in err


def test_the_cli_refuses_a_case_of_another_office_and_leaves_no_file(ctx, case_id, tmp_path, monkeypatch, capsys):
    stdin = f"{PASSWORDS['eco-1']}\n{totp_code(ctx, 'eco-1')}\n{PASSPHRASE}\n"
    argv = ["export", "--case", case_id, "--username", "eco-1", "--out", str(tmp_path / "case.bundle"), "--password-stdin"]
    status, _out, err = run_cli(ctx, monkeypatch, capsys, argv, stdin)
    assert status == 1 and "not exported: There is no such case in your office." in err
    assert not (tmp_path / "case.bundle").exists() and exports(ctx) == []
    status, _out, err = run_cli(ctx, monkeypatch, capsys, argv, f"{PASSWORDS['eco-1']}\n{totp_code(ctx, 'eco-1')}\nshort\n")
    assert status == 1 and "16 to 1024 characters" in err and not (tmp_path / "case.bundle").exists()


def test_the_export_page_downloads_a_bundle_that_opens_and_is_in_the_history(client, ctx, case_id, tmp_path):
    html_login(client, "oig-1")
    page = client.get(f"/officer/cases/{case_id}")
    assert f'href="/officer/cases/{case_id}/export"' in page.text
    form = client.get(f"/officer/cases/{case_id}/export")
    assert form.status_code == 200 and ctx.instance.audit_verify_key.hex() in form.text
    url = f"/officer/cases/{case_id}/export"
    sent = {"sealed": "passphrase", "passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE, "confirm": "yes"}
    for refused, why in [
        ({**sent, "confirm": ""}, "Tick the box"),
        ({**sent, "passphrase": "short", "passphrase_again": "short"}, "16 characters or more"),
        ({**sent, "passphrase_again": PASSPHRASE + "x"}, "passphrases differ"),
        ({**sent, "sealed": "key", "public_key": "not a key"}, "64 hexadecimal digits"),
    ]:
        answer = post_form(client, url, refused)
        assert answer.status_code == 400 and why in answer.text and PASSPHRASE not in answer.text
    assert exports(ctx) == []

    download = post_form(client, url, sent)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == f'attachment; filename="{case_id}.intake-bundle"'
    (tmp_path / "case.bundle").write_bytes(download.content)
    at = len(bundles.MAGIC) + bundles.BUNDLE_ID_BYTES + 1
    _, t, m, _ = bundles.PASSPHRASE_LOCK.unpack(download.content[at : at + bundles.PASSPHRASE_LOCK.size])
    assert (t, m) == (
        ctx.instance.argon2.time_cost,
        ctx.instance.argon2.memory_kib,
    )  # the instance's cost (production by default)
    opened = bundles.open_bundle(tmp_path / "case.bundle", passphrase=PASSPHRASE, verify_key=ctx.instance.audit_verify_key)
    assert opened.manifest["case"] == case_id
    (logged,) = exports(ctx)
    assert logged["sha256"] == sha256(download.content)
    assert "exported the case as a sealed bundle" in client.get(f"/officer/cases/{case_id}").text
    assert not [p for p in Path(ctx.settings.data_dir).iterdir() if p.name.startswith("tmp")]  # the spool is gone


def test_the_export_page_of_a_case_of_another_office_is_not_found(client, ctx, case_id):
    html_login(client, "eco-1")
    assert client.get(f"/officer/cases/{case_id}/export").status_code == 404
    sent = {"sealed": "passphrase", "passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE, "confirm": "yes"}
    answer = post_form(client, f"/officer/cases/{case_id}/export", sent)
    assert answer.status_code == 404 and exports(ctx) == []


def damage_the_stored_file(ctx) -> None:
    (blob,) = [p for p in Path(ctx.blobs.root).rglob("*") if p.is_file() and p.parent.name != "partial"]
    stored = bytearray(blob.read_bytes())
    stored[len(stored) // 2] ^= 0x01
    blob.write_bytes(stored)


def test_a_damaged_stored_file_is_not_exported_from_the_page(client, ctx, case_id):
    damage_the_stored_file(ctx)
    html_login(client, "oig-1")
    sent = {"sealed": "passphrase", "passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE, "confirm": "yes"}
    answer = post_form(client, f"/officer/cases/{case_id}/export", sent)
    assert answer.status_code == 409 and "nothing was exported" in answer.text
    assert exports(ctx) == []


def test_a_damaged_stored_file_is_not_exported_by_the_cli(ctx, case_id, tmp_path, monkeypatch, capsys):
    damage_the_stored_file(ctx)
    login = f"{PASSWORDS['oig-1']}\n{totp_code(ctx, 'oig-1')}\n"
    argv = ["export", "--case", case_id, "--username", "oig-1", "--out", str(tmp_path / "case.bundle"), "--password-stdin"]
    status, _out, err = run_cli(ctx, monkeypatch, capsys, [*argv, "--to-key", "ab" * 32], login)
    assert status == 1 and "damaged" in err and not (tmp_path / "case.bundle").exists()
    assert exports(ctx) == []


VECTOR = json.loads((Path(__file__).parent / "vectors" / "bundle.json").read_text(encoding="utf-8"))
VECTOR_FILE = bytes.fromhex(VECTOR["file"])
AT_LOCK = len(bundles.MAGIC) + bundles.BUNDLE_ID_BYTES  # the lock's mode byte
PASSPHRASE_HEAD = bytes.fromhex(VECTOR["passphrase_header"])
HEADERS = {
    "not a bundle": (b"PK\x03\x04" + VECTOR_FILE[4:], "not an intake case bundle"),
    "cut in the header": (VECTOR_FILE[: AT_LOCK + 20], "cut short inside its header"),
    "unknown lock": (VECTOR_FILE[:AT_LOCK] + b"\x09" + VECTOR_FILE[AT_LOCK + 1 :], "unknown way of sealing"),
    "another bundle's id": (VECTOR_FILE[:20] + b"\x00" + VECTOR_FILE[21:], "the header was changed"),
    "passphrase, none given": (PASSPHRASE_HEAD, "sealed to a passphrase"),
    "Argon2 p=2": (PASSPHRASE_HEAD[:-1] + b"\x02", "does not allow"),
    "Argon2 t=1000": (PASSPHRASE_HEAD[:-12] + (1000).to_bytes(4, "big") + PASSPHRASE_HEAD[-8:], "more Argon2 work"),
}


@pytest.mark.parametrize("case", HEADERS, ids=list(HEADERS))
def test_a_bundle_header_that_is_wrong_is_refused_before_any_work(case, tmp_path):
    data, message = HEADERS[case]
    (tmp_path / "b").write_bytes(data)
    key = bytes.fromhex(VECTOR["investigator_private_key"])
    with pytest.raises(bundles.BundleError, match=message):
        bundles.open_bundle(tmp_path / "b", secret_key=key, passphrase=None if "passphrase" in case else "x" * 16)


def test_a_bundle_whose_header_names_another_id_fails_its_manifest(ctx, case_id, tmp_path):
    """Sealed to a passphrase the id does not enter the key: the signed manifest's `bundle` catches it."""
    write_bundle(ctx, case_id, tmp_path / "case.bundle")
    raw = bytearray((tmp_path / "case.bundle").read_bytes())
    raw[len(bundles.MAGIC)] ^= 0x01
    (tmp_path / "case.bundle").write_bytes(raw)
    with pytest.raises(bundles.BundleError, match="belongs to another bundle"):
        bundles.open_bundle(tmp_path / "case.bundle", passphrase=PASSPHRASE)
    rewrite(tmp_path / "case.bundle", lambda ms: [*ms[:1], *ms])  # and an item twice
    with pytest.raises(bundles.BundleError, match="twice"):
        bundles.open_bundle(tmp_path / "case.bundle", passphrase=PASSPHRASE)
