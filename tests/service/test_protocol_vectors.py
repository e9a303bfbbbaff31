"""The service's own framing (sessions, stored digests, backups) against the vectors written
from PROTOCOL.md by tests/vectors/generate.py, which imports nothing of ours."""

import base64
import datetime as dt
import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlmodel import Session, select

from crypto import Argon2Params, derive_backup_key, open_sealed
from intake.service import backup, budgets, bundles, officers, sendings, sessions
from intake.service.errors import AuthenticationFailed
from intake.store import Officer, Sending, WebSession, transaction
from policies.vocabulary import SessionKind

from ..helpers import app_context, officer_token

VECTORS = Path(__file__).parents[1] / "vectors"


def load(name: str) -> dict:
    return json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", load("sessions")["vectors"], ids=lambda v: v["kind"])
def test_a_session_stored_as_the_protocol_says_is_resumed_by_its_token(ctx, vector):
    digest, payload = bytes.fromhex(vector["id_digest"]), bytes.fromhex(vector["sealed_payload"])
    assert sessions._digest(bytes.fromhex(vector["session_id"])) == digest
    assert (
        json.loads(open_sealed(bytes.fromhex(vector["session_key"]), payload, "session", vector["kind"], digest.hex()))
        == (vector["payload"])
    )
    later = ctx.now() + dt.timedelta(minutes=30)
    with transaction(ctx.engine) as db:
        db.add(WebSession(id_digest=digest, kind=vector["kind"], payload=payload, idle_until=later, expires_at=later))
    kind = SessionKind(vector["kind"])
    assert sessions.resume(ctx, vector["token"], kind) == vector["payload"]
    session_id, key = vector["token"].split(".")
    with pytest.raises(AuthenticationFailed):  # the other half of the token: nothing opens
        sessions.resume(ctx, f"{session_id}.{key[::-1]}", kind)


def test_an_officer_session_holds_what_the_protocol_and_its_vector_say(ctx):
    """#24 (page and code): sessions.json's officer payload lacked `officer_key` (and, since item 8, `credential`),
    which every officer session holds (section 10.3): the vector and the service now hold the same fields."""
    vector = next(v for v in load("sessions")["vectors"] if v["kind"] == "officer")
    payload = sessions.resume(ctx, officer_token(ctx, "eco-1"), SessionKind.OFFICER)
    fields = {"officer_id", "username", "office", "office_key", "officer_key", "credential"}
    assert set(payload) == set(vector["payload"]) == fields
    officer = officers.current(ctx, officer_token(ctx, "eco-1"))
    assert payload["officer_key"] == officer.officer_key.hex()
    with Session(ctx.engine) as db:
        assert payload["credential"] == officers.credential(db.get(Officer, officer.officer_id))


def test_tokens_the_service_makes_have_the_protocols_form(ctx):
    token = sessions.start(ctx, SessionKind.REPORTER, {"cases": {}, "identities": {}})
    session_id, key = token.split(".")
    assert (len(session_id), len(key)) == (22, 43) and "=" not in token


def test_stored_digests():
    data = load("digests")
    lookup_key = bytes.fromhex(data["lookup_key"])
    for vector in data["budget"]:
        window = dt.datetime.fromisoformat(vector["window"])
        assert budgets.row_key(lookup_key, vector["name"], window) == vector["key"]
    for vector in data["login"]:
        assert officers.login_key(lookup_key, vector["username"]) == vector["key"]
        assert officers.decoy_salt(lookup_key, vector["username"]).hex() == vector["decoy_salt"]
    for vector in data["sending"]:
        assert sendings._digest(vector["token"]).hex() == vector["digest"]


@pytest.mark.parametrize("vector", load("digests")["idempotency"], ids=lambda v: v["idempotency_key"][:8])
def test_an_api_idempotency_key_is_stored_as_the_protocol_says(client, vector):
    """#24 (page and code): an API Idempotency-Key is stored as BLAKE2b(utf8("api:" + key)); the page
    and digests.json said utf8(key). A report filed with the vector's key leaves the vector's digest."""
    headers = {"Idempotency-Key": vector["idempotency_key"]}
    report = {"concerns": ["misconduct"], "description": "Fuel is sold on the side.", "answers": {}}
    assert client.post("/api/v1/reports", json=report, headers=headers).status_code == 201
    with Session(app_context(client).engine) as db:
        stored = {row.digest.hex() for row in db.exec(select(Sending)).all()}
    assert vector["digest"] in stored
    assert sendings._digest(vector["token"]).hex() == vector["digest"]


def test_device_tokens_and_their_keys():
    """#24 item 10: an officer's device token and the row its failures count under, as section 9 says."""
    data = load("digests")
    lookup_key = bytes.fromhex(data["lookup_key"])
    for vector in data["device"]:
        nonce = bytes.fromhex(vector["nonce"])
        tag = officers.device_tag(lookup_key, vector["username"], nonce)
        b64 = [base64.urlsafe_b64encode(part).decode().rstrip("=") for part in (nonce, tag)]
        assert ".".join(b64) == vector["token"]
        assert officers.device_key(lookup_key, nonce) == vector["key"]


def test_backup_header_key_and_archive_member():
    data = load("backup")
    salt, params = bytes.fromhex(data["salt"]), data["params"]
    header = backup.MAGIC + backup.HEADER.pack(salt, params["time_cost"], params["memory_kib"], 1)
    assert header.hex() == data["header"]
    assert (
        derive_backup_key(data["passphrase"], salt, Argon2Params(params["time_cost"], params["memory_kib"])).hex() == data["key"]
    )
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
        backup.add_member(tar, "manifest.json", data["manifest"].encode())
    assert archive.getvalue().hex() == data["archive"]


def test_backup_rows():
    def decoded(value):
        if isinstance(value, dict) and "b64" in value:
            return base64.b64decode(value["b64"])
        if isinstance(value, dict) and value.get("type") == "date":
            return dt.date.fromisoformat(value["iso"])
        if isinstance(value, dict) and value.get("type") == "datetime":
            return dt.datetime.fromisoformat(value["iso"])
        return value

    for vector in load("backup")["jsonl"]:
        row = {k: decoded(v) for k, v in json.loads(vector["line"])["row"].items()}
        assert backup.jsonl_line(vector["table"], row).decode() == vector["line"]


def test_a_bundle_written_from_the_page_alone_opens_and_verifies(tmp_path):
    """Section 15: bundle.json's whole file, written by generate.py from the page with raw libsodium and
    tarfile, opens with the investigator's key and verifies against the instance key; the passphrase lock's
    header and key are the service's."""
    data = load("bundle")
    (tmp_path / "vector.bundle").write_bytes(bytes.fromhex(data["file"]))
    opened = bundles.open_bundle(
        tmp_path / "vector.bundle",
        secret_key=bytes.fromhex(data["investigator_private_key"]),
        verify_key=bytes.fromhex(data["verify_key"]),
        out=tmp_path / "out",
    )
    assert opened.bundle_id == data["bundle_id"] and opened.manifest["case"] == "OIG-1A2B3C4D5E"
    assert (tmp_path / "out" / "files" / "F-0A1B2C3D4E5F" / "ledger.pdf").read_bytes() == b"%PDF-1.7 a ledger"
    salt, params = bytes.fromhex(data["salt"]), data["params"]
    lock = bundles.PASSPHRASE_LOCK.pack(salt, params["time_cost"], params["memory_kib"], 1)
    header = bundles.MAGIC + bytes.fromhex(data["bundle_id"]) + bytes([bundles.BY_PASSPHRASE]) + lock
    assert header.hex() == data["passphrase_header"]
    key = derive_backup_key(data["passphrase"], salt, Argon2Params(params["time_cost"], params["memory_kib"]))
    assert key.hex() == data["passphrase_key"]
