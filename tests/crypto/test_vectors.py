"""The crypto package against the known-answer vectors written from PROTOCOL.md."""

import json
from pathlib import Path

import pytest

from crypto import (
    Argon2Params,
    AuditLink,
    checkpoint_is_valid,
    decrypt_stream,
    derive_password_key,
    derive_reporter_secrets,
    lookup_digest,
    normalize_passphrase,
    open_sealed,
    sign_checkpoint,
    verify_chain,
)
from crypto.audit import chain_digest
from crypto.records import associated_data
from crypto.stream import frame_count
from crypto.wrapping import context_digest, unwrap_key

VECTORS = Path(__file__).parent.parent / "vectors"


def load(name: str) -> dict:
    return json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))


def test_every_construction_has_a_vector_file():
    assert {p.stem for p in VECTORS.glob("*.json")} == {"passphrase", "kdf", "records", "wrapping", "stream", "audit"}


@pytest.mark.parametrize("vector", load("passphrase")["vectors"])
def test_passphrase_normalisation(vector):
    assert normalize_passphrase(vector["input"]) == vector["normalized"]


@pytest.mark.parametrize("vector", load("kdf")["reporter"])
def test_reporter_derivation(vector):
    secrets = derive_reporter_secrets(
        vector["passphrase"], bytes.fromhex(vector["instance_salt"]), Argon2Params(**vector["params"])
    )
    assert secrets.lookup.hex() == vector["lookup"]
    assert secrets.private_key.hex() == vector["reporter_private_key"]
    assert secrets.public_key.hex() == vector["reporter_public_key"]
    assert lookup_digest(secrets.lookup, bytes.fromhex(vector["lookup_key"])).hex() == vector["lookup_digest"]


@pytest.mark.parametrize("vector", load("kdf")["password"])
def test_password_key(vector):
    key = derive_password_key(vector["password"], bytes.fromhex(vector["salt"]), Argon2Params(**vector["params"]))
    assert key.hex() == vector["key"]


@pytest.mark.parametrize("vector", load("records")["vectors"])
def test_records_open(vector):
    context = tuple(vector["context"])
    assert associated_data(1, context).hex() == vector["associated_data"]
    plaintext = open_sealed(bytes.fromhex(vector["key"]), bytes.fromhex(vector["blob"]), *context)
    assert plaintext.hex() == vector["plaintext"]


@pytest.mark.parametrize("vector", load("wrapping")["vectors"])
def test_wraps_open(vector):
    context = tuple(vector["context"])
    assert context_digest(*context).hex() == vector["context_digest"]
    secret = unwrap_key(bytes.fromhex(vector["recipient_private_key"]), bytes.fromhex(vector["blob"]), *context)
    assert secret.hex() == vector["secret"]


@pytest.mark.parametrize("vector", load("stream")["vectors"])
def test_streams_open(vector):
    blob = bytes.fromhex(vector["blob"])
    plaintext = bytes.fromhex(vector["plaintext"])
    assert frame_count(len(plaintext)) == vector["frames"]
    assert b"".join(decrypt_stream(bytes.fromhex(vector["key"]), [blob])) == plaintext


def test_audit_chain_and_checkpoint():
    data = load("audit")
    links = []
    for entry in data["entries"]:
        digest = chain_digest(bytes.fromhex(entry["previous"]), bytes.fromhex(entry["body"]))
        assert digest.hex() == entry["digest"]
        links.append(AuditLink(entry["sequence"], bytes.fromhex(entry["body"]), digest))
    cp = data["checkpoint"]
    signature = sign_checkpoint(bytes.fromhex(cp["signing_seed"]), cp["sequence"], bytes.fromhex(cp["digest"]))
    assert signature.hex() == cp["signature"]
    assert checkpoint_is_valid(bytes.fromhex(cp["verify_key"]), cp["sequence"], bytes.fromhex(cp["digest"]), signature)
    last, head = verify_chain(links, bytes.fromhex(cp["verify_key"]), {cp["sequence"]: signature})
    assert (last, head.hex()) == (3, cp["digest"])
