"""The crypto package against the known-answer vectors written from PROTOCOL.md."""

import json
from pathlib import Path

import pytest

from crypto import (
    Argon2Params,
    AuditLink,
    CryptoError,
    checkpoint_is_valid,
    decrypt_stream,
    derive_password_key,
    derive_reporter_secrets,
    head_is_valid,
    lookup_digest,
    manifest_is_valid,
    normalize_passphrase,
    open_sealed,
    sign_checkpoint,
    sign_head,
    sign_manifest,
    unwrap_bundle_key,
    unwrap_handling_key,
    unwrap_record_key,
    unwrap_restriction_key,
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
    assert {p.stem for p in VECTORS.glob("*.json")} == {
        "passphrase",
        "kdf",
        "records",
        "wrapping",
        "stream",
        "audit",
        "sessions",
        "digests",
        "backup",
        "bundle",
    }
    protocol = (Path(__file__).parents[2] / "crypto" / "PROTOCOL.md").read_text(encoding="utf-8")
    for path in VECTORS.glob("*.json"):
        assert f"| {path.name} |" in protocol, f"PROTOCOL.md does not list {path.name}"


@pytest.mark.parametrize("vector", load("passphrase")["vectors"])
def test_passphrase_normalisation(vector):
    assert normalize_passphrase(vector["input"]) == vector["normalized"]


PASSPHRASE = load("passphrase")
WHITESPACE = [chr(int(cp[2:], 16)) for cp in PASSPHRASE["whitespace"]]
LETTERS = {chr(int(cp[2:], 16)): text for cp, text in PASSPHRASE["letters"].items()}


def by_the_tables(typed: str) -> str | None:
    """PROTOCOL.md section 1's normalisation, from the tables alone; None if a code point is in neither."""
    if any(ch not in LETTERS and ch not in WHITESPACE for ch in typed):
        return None
    mapped = "".join(" " if ch in WHITESPACE else LETTERS[ch] for ch in typed)
    return " ".join(piece for piece in mapped.split(" ") if piece)


def test_the_tables_cover_ascii_and_map_into_the_wordlist_alphabet():
    assert {LETTERS[ch] for ch in "abcdefghijklmnopqrstuvwxyz-"} == set("abcdefghijklmnopqrstuvwxyz-")
    assert all(LETTERS[ch.upper()] == ch for ch in "abcdefghijklmnopqrstuvwxyz")
    assert all(set(text) <= set("abcdefghijklmnopqrstuvwxyz-") for text in LETTERS.values())
    assert len(WHITESPACE) == 29 and " " in WHITESPACE and "\u3000" in WHITESPACE


@pytest.mark.parametrize("ch", sorted(LETTERS) + WHITESPACE, ids=lambda ch: f"U+{ord(ch):04X}")
def test_each_code_point_of_the_tables_normalises_as_the_table_says(ch):
    assert normalize_passphrase(f"ab{ch}cd") == by_the_tables(f"ab{ch}cd")


def test_the_tables_and_the_normalisation_agree_on_random_input():
    import random

    rng = random.Random(20261202)
    alphabet = sorted(LETTERS) + WHITESPACE * 20
    for _ in range(3000):
        typed = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        assert normalize_passphrase(typed) == by_the_tables(typed), repr(typed)


def test_a_code_point_in_neither_table_never_normalises_into_the_alphabet():
    import random

    rng = random.Random(7)
    for _ in range(3000):
        ch = chr(rng.choice([rng.randrange(0x80, 0x3000), rng.randrange(0x3000, 0x30000)]))
        if ch in LETTERS or ch in WHITESPACE or 0xD800 <= ord(ch) <= 0xDFFF:
            continue
        assert not set(normalize_passphrase(f"ab{ch}cd")) <= set("abcdefghijklmnopqrstuvwxyz- "), f"U+{ord(ch):04X}"


@pytest.mark.parametrize("vector", load("kdf")["reporter"])
def test_reporter_derivation(vector):
    secrets = derive_reporter_secrets(
        vector["passphrase"], bytes.fromhex(vector["instance_salt"]), Argon2Params(**vector["params"])
    )
    assert secrets.lookup.hex() == vector["lookup"]
    assert secrets.private_key.hex() == vector["reporter_private_key"]
    assert secrets.public_key.hex() == vector["reporter_public_key"]
    assert lookup_digest(secrets.lookup, bytes.fromhex(vector["lookup_key"])).hex() == vector["lookup_digest"]


@pytest.mark.parametrize("vector", load("kdf")["reporter"])
def test_the_kdf_vectors_passphrases_are_ones_the_service_could_give(vector):
    """#24 (page and code): kdf.json's passphrases had 7 words; section 1 gives every reporter 8
    words of the list, and a vector of a passphrase no one is ever given fixes nothing."""
    from crypto.passphrase import PASSPHRASE_WORDS, wordlist

    words = vector["passphrase"].split(" ")
    assert len(words) == PASSPHRASE_WORDS == 8
    assert set(words) <= set(wordlist())


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
    cp, verify_key = data["checkpoint"], bytes.fromhex(data["verify_key"])
    signature = sign_checkpoint(bytes.fromhex(data["signing_seed"]), cp["sequence"], bytes.fromhex(cp["digest"]))
    assert signature.hex() == cp["signature"]
    assert checkpoint_is_valid(verify_key, cp["sequence"], bytes.fromhex(cp["digest"]), signature)
    last, head = verify_chain(links, verify_key, {cp["sequence"]: signature})
    assert (last, head.hex()) == (3, cp["digest"])


def test_audit_bodies_are_the_services_canonical_json():
    from intake.service.audit import CHECKPOINT_EVERY, canonical_body

    data = load("audit")
    assert data["checkpoint_every"] == CHECKPOINT_EVERY
    for entry in data["entries"]:
        assert canonical_body({"seq": entry["sequence"], **entry["fields"]}).hex() == entry["body"]


def test_the_empty_chains_head_signature():
    data = load("audit")
    head = data["empty_head"]
    signature = sign_head(bytes.fromhex(data["signing_seed"]), 0, bytes(32))
    assert signature.hex() == head["signature"]
    assert bytes.fromhex(head["message"]).startswith(b"intake-audit-head-v1")


def test_the_head_is_signed_under_its_own_label_and_a_checkpoint_is_never_a_head():
    """#24 item 6: the head and a checkpoint at the same (sequence, digest) sign different messages,
    so neither signature verifies as the other."""
    data = load("audit")
    seed, verify_key = bytes.fromhex(data["signing_seed"]), bytes.fromhex(data["verify_key"])
    head, cp = data["head"], data["checkpoint"]
    assert (head["sequence"], head["digest"]) == (cp["sequence"], cp["digest"])
    sequence, digest = head["sequence"], bytes.fromhex(head["digest"])
    assert sign_head(seed, sequence, digest).hex() == head["signature"]
    assert bytes.fromhex(head["message"]) == b"intake-audit-head-v1" + sequence.to_bytes(8, "big") + digest
    assert head_is_valid(verify_key, sequence, digest, bytes.fromhex(head["signature"]))
    assert not head_is_valid(verify_key, sequence, digest, bytes.fromhex(cp["signature"]))
    assert not checkpoint_is_valid(verify_key, sequence, digest, bytes.fromhex(head["signature"]))


def test_the_restriction_vector_opens_with_the_named_function_and_only_in_its_context():
    (vector,) = [v for v in load("wrapping")["vectors"] if v["context"][0] == "restriction-key"]
    _, case_id, office = vector["context"]
    private, blob = bytes.fromhex(vector["recipient_private_key"]), bytes.fromhex(vector["blob"])
    assert unwrap_restriction_key(private, blob, case_id, office).hex() == vector["secret"]
    with pytest.raises(CryptoError):
        unwrap_restriction_key(private, blob, case_id, "OIG")
    with pytest.raises(CryptoError):  # not a handling key of the same case and office either
        unwrap_handling_key(private, blob, case_id, office)


def test_the_record_key_vector_opens_with_the_named_function_and_only_for_its_record():
    (vector,) = [v for v in load("wrapping")["vectors"] if v["context"][0] == "record-key"]
    _, case_id, office, record_id = vector["context"]
    private, blob = bytes.fromhex(vector["recipient_private_key"]), bytes.fromhex(vector["blob"])
    assert unwrap_record_key(private, blob, case_id, office, record_id).hex() == vector["secret"]
    with pytest.raises(CryptoError):  # bound to its record
        unwrap_record_key(private, blob, case_id, office, "N-FFFFFFFFFF")


def test_a_bundles_manifest_signature_and_key_wrap():
    """Section 15: the instance's signature of a manifest under its own label, and the stream key sealed to
    an investigator, bound to the bundle's id."""
    data = load("bundle")
    manifest, verify_key = data["manifest"].encode("utf-8"), bytes.fromhex(data["verify_key"])
    assert sign_manifest(bytes.fromhex(data["signing_seed"]), manifest).hex() == data["signature"]
    assert manifest_is_valid(verify_key, manifest, bytes.fromhex(data["signature"]))
    assert not manifest_is_valid(verify_key, manifest + b" ", bytes.fromhex(data["signature"]))
    header = bytes.fromhex(data["key_header"])
    wrap = header[len(header) - 113 :]
    private = bytes.fromhex(data["investigator_private_key"])
    assert unwrap_bundle_key(private, wrap, data["bundle_id"]).hex() == data["stream_key"]
    with pytest.raises(CryptoError):
        unwrap_bundle_key(private, wrap, "0" * 32)  # the wrap of another bundle's key
    # A manifest's signature is never an audit checkpoint's or head's, whatever it signs.
    assert not checkpoint_is_valid(verify_key, 0, bytes(32), bytes.fromhex(data["signature"]))
