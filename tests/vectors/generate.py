"""Writes the known-answer vectors in this folder from crypto/PROTOCOL.md alone.

Run: python tests/vectors/generate.py

This script deliberately imports nothing of the project: it builds every blob with raw
libsodium (PyNaCl bindings), argon2-cffi (the reference Argon2, where the service uses
libsodium's) and the standard library (tarfile, unicodedata), following the protocol
document, so the tests that check the service against these files are a check of the
service against the document. Inputs are fixed, so every file but
stream.json comes out byte-identical on every run; secretstream draws its header
inside libsodium, so stream.json holds fresh (but equally valid) blobs each time.
"""

import base64
import hashlib
import io
import json
import re
import struct
import tarfile
import unicodedata
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_box,
    crypto_box_seed_keypair,
    crypto_scalarmult_base,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
    crypto_secretstream_xchacha20poly1305_TAG_FINAL,
    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
    crypto_sign,
    crypto_sign_seed_keypair,
    sodium_pad,
)
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

HERE = Path(__file__).parent


def b(seed: str, n: int) -> bytes:
    """n deterministic bytes named by `seed` (BLAKE2b in counter mode), for fixed inputs."""
    out = b""
    counter = 0
    while len(out) < n:
        out += blake2b(f"{seed}/{counter}".encode(), digest_size=64, encoder=RawEncoder)
        counter += 1
    return out[:n]


def context(*parts: str) -> bytes:
    return b"".join(struct.pack(">I", len(p.encode())) + p.encode() for p in parts)


def kdf_subkey(master: bytes, label: bytes) -> bytes:
    return blake2b(b"", digest_size=32, key=master, person=label, encoder=RawEncoder)


def argon2id(secret: bytes, salt: bytes, t: int, m: int, p: int) -> bytes:
    return hash_secret_raw(secret, salt, t, m, p, 32, Type.ID)


def passphrase_vectors() -> dict:
    cases = [
        ("correct horse battery staple", "correct horse battery staple"),
        ("  Correct   HORSE\tbattery\nStaple  ", "correct horse battery staple"),
        ("ＡＢＡＣＵＳ zoom", "abacus zoom"),
        ("T-Shirt  yo-yo", "t-shirt yo-yo"),
    ]
    return {
        "construction": "passphrase normalisation",
        "unicode": unicodedata.unidata_version,
        "whitespace": [f"U+{cp:04X}" for cp, text in passphrase_tables() if text == " "],
        "letters": {f"U+{cp:04X}": text for cp, text in passphrase_tables() if text != " "},
        "vectors": [{"input": i, "normalized": o} for i, o in cases],
    }


def passphrase_tables() -> list[tuple[int, str]]:
    """Per code point, what NFKC then full case folding makes of it, where that is all [a-z-] or all
    white space (" " stands for a separator): PROTOCOL.md section 1's tables."""
    out = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        text = unicodedata.normalize("NFKC", chr(cp)).casefold()
        if text and text.isspace():
            out.append((cp, " "))
        elif text and re.fullmatch(r"[a-z-]+", text):
            out.append((cp, text))
    return out


def kdf_vectors() -> dict:
    params = {"time_cost": 2, "memory_kib": 1024, "parallelism": 1}
    salt = b("instance-salt", 16)
    reporter = []
    # Eight words of the list, as every generated passphrase has (section 1).
    for phrase in [
        "abacus zoom t-shirt yo-yo felt-tip drop-down able unclog",
        "grandly dried apple animation smasher dash closable pastel",
    ]:
        master = argon2id(phrase.encode(), salt, params["time_cost"], params["memory_kib"], 1)
        public, private = crypto_box_seed_keypair(kdf_subkey(master, b"intake-reporter"))
        lookup = kdf_subkey(master, b"intake-lookup")
        lookup_key = b("lookup-key", 32)
        reporter.append(
            {
                "passphrase": phrase,
                "instance_salt": salt.hex(),
                "params": params,
                "argon2id_master": master.hex(),
                "lookup": lookup.hex(),
                "reporter_private_key": private.hex(),
                "reporter_public_key": public.hex(),
                "lookup_key": lookup_key.hex(),
                "lookup_digest": blake2b(
                    lookup, digest_size=32, key=lookup_key, person=b"intake-lookupdig", encoder=RawEncoder
                ).hex(),
            }
        )
    password_salt = b("password-salt", 16)
    password = "correct horse officer password"
    return {
        "construction": "Argon2id (v0x13, 32-byte output) and BLAKE2b subkeys",
        "reporter": reporter,
        "password": [
            {
                "password": password,
                "salt": password_salt.hex(),
                "params": params,
                "key": argon2id(password.encode(), password_salt, params["time_cost"], params["memory_kib"], 1).hex(),
            }
        ],
    }


def seal_blob(key: bytes, nonce: bytes, plaintext: bytes, parts: tuple[str, ...]) -> tuple[bytes, bytes]:
    ad = bytes([1]) + context(*parts)
    return ad, bytes([1]) + nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(sodium_pad(plaintext, 256), ad, nonce, key)


def records_vectors() -> dict:
    vectors = []
    for i, (plaintext, parts) in enumerate(
        [
            (b"", ("record", "c-0001", "report", "r-1")),
            (b"The director told me my contract would not be renewed.", ("record", "c-0001", "report", "r-1")),
            (bytes(range(256)) * 3, ("record", "c-\u00e9\u4e2d", "message", "m-42")),
            (b("officer-private", 32), ("officer-key", "officer-7", "password")),
            (b"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", ("officer-totp", "officer-7", "recovery")),
            (
                json.dumps({"name": "minutes.pdf", "type": "application/pdf", "size": 48213, "cleaned": True}).encode(),
                ("record", "ECO-1A2B3C4D5E", "file-meta", "F-0123456789AB"),
            ),
            (b("file-key", 32), ("record", "ECO-1A2B3C4D5E", "file-key", "F-0123456789AB")),
            (
                json.dumps({"kind": "note", "text": "Called the complainant's manager.", "about": None}).encode(),
                ("record", "ECO-1A2B3C4D5E", "office-record", "N-00FF00FF00"),
            ),
            (
                json.dumps({"kind": "consent_request", "params": {}}, sort_keys=True).encode(),
                ("record", "ECO-1A2B3C4D5E", "message", "M-ABCDEF0123"),
            ),
        ]
    ):
        key, nonce = b(f"record-key-{i}", 32), b(f"record-nonce-{i}", 24)
        ad, blob = seal_blob(key, nonce, plaintext, parts)
        vectors.append(
            {
                "key": key.hex(),
                "nonce": nonce.hex(),
                "context": list(parts),
                "associated_data": ad.hex(),
                "plaintext": plaintext.hex(),
                "blob": blob.hex(),
            }
        )
    return {"construction": "XChaCha20-Poly1305-IETF with context-bound associated data", "vectors": vectors}


def wrapping_vectors() -> dict:
    vectors = []
    for i, (secret, parts) in enumerate(
        [
            (b("case-key", 32), ("case-key", "c-0001")),
            (b("office-private", 32), ("office-key", "ECO")),
            (b("handling-key", 32), ("handling-key", "ECO-1A2B3C4D5E", "ECO")),
            (b("identity-key", 32), ("identity-key", "ECO-1A2B3C4D5E")),
            (b("restriction-private", 32), ("restriction-key", "ECO-1A2B3C4D5E", "ECO")),
            (b("record-key", 32), ("record-key", "OIG-1A2B3C4D5E", "OIG", "N-0A1B2C3D4E")),
        ]
    ):
        recipient_public, recipient_private = crypto_box_seed_keypair(b(f"recipient-{i}", 32))
        ephemeral_private = b(f"ephemeral-{i}", 32)
        ephemeral_public = crypto_scalarmult_base(ephemeral_private)
        nonce = blake2b(ephemeral_public + recipient_public, digest_size=24, encoder=RawEncoder)
        digest = blake2b(context(*parts), digest_size=32, person=b"intake-wrap-v1", encoder=RawEncoder)
        sealed = ephemeral_public + crypto_box(digest + secret, nonce, recipient_public, ephemeral_private)
        vectors.append(
            {
                "recipient_private_key": recipient_private.hex(),
                "recipient_public_key": recipient_public.hex(),
                "ephemeral_private_key": ephemeral_private.hex(),
                "context": list(parts),
                "context_digest": digest.hex(),
                "secret": secret.hex(),
                "blob": (bytes([1]) + sealed).hex(),
            }
        )
    return {"construction": "crypto_box_seal of context digest || secret", "vectors": vectors}


def stream_vectors() -> dict:
    frame_data = 64 * 1024
    vectors = []
    for i, size in enumerate([0, 1, frame_data + 1]):
        key, plaintext = b(f"file-key-{i}", 32), b(f"file-{i}", size)
        state = crypto_secretstream_xchacha20poly1305_state()
        out = bytes([1]) + crypto_secretstream_xchacha20poly1305_init_push(state, key)
        frames = [plaintext[j : j + frame_data] for j in range(0, size, frame_data)]
        total = padme(len(frames) + 1)
        frames += [b""] * (total - len(frames) - 1)
        for data in frames:
            frame = struct.pack(">I", len(data)) + data + bytes(frame_data - len(data))
            out += crypto_secretstream_xchacha20poly1305_push(
                state, frame, None, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
            )
        out += crypto_secretstream_xchacha20poly1305_push(
            state, bytes(4 + frame_data), None, crypto_secretstream_xchacha20poly1305_TAG_FINAL
        )
        vectors.append({"key": key.hex(), "plaintext": plaintext.hex(), "frames": total, "blob": out.hex()})
    return {"construction": "secretstream XChaCha20-Poly1305 over 65,540-byte frames, Padmé-padded", "vectors": vectors}


def padme(n: int) -> int:
    if n < 2:
        return n
    e = n.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (n + mask) & ~mask


def canonical(entry: dict) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def audit_vectors() -> dict:
    previous = bytes(32)
    entries = []
    for i, fields in enumerate(
        [
            {"action": "login", "at": "2026-05-01T09:00:00Z", "case": None, "officer": "officer-0a1b2c3d4e5f"},
            {"action": "case opened", "at": "2026-05-01T09:01:07Z", "case": "ECO-1A2B3C4D5E", "officer": "officer-0a1b2c3d4e5f"},
            {
                "action": "status changed",
                "at": "2026-05-02T10:00:00Z",
                "case": "ECO-1A2B3C4D5E",
                "officer": "officer-0a1b2c3d4e5f",
                "from": "received",
                "to": "acknowledged",
                "reason": None,
                "détail": "é",
            },
        ]
    ):
        body = canonical({"seq": i + 1, **fields})
        digest = blake2b(previous + body, digest_size=32, person=b"intake-audit-v1", encoder=RawEncoder)
        entries.append(
            {"sequence": i + 1, "fields": fields, "previous": previous.hex(), "body": body.hex(), "digest": digest.hex()}
        )
        previous = digest
    verify_key, secret = crypto_sign_seed_keypair(b("instance-signing", 32))

    def signed(sequence: int, digest: bytes, label: bytes = b"intake-audit-checkpoint-v1") -> dict:
        message = label + struct.pack(">Q", sequence) + digest
        return {
            "sequence": sequence,
            "digest": digest.hex(),
            "message": message.hex(),
            "signature": crypto_sign(message, secret)[:64].hex(),
        }

    return {
        "construction": "BLAKE2b-256 hash chain over canonical JSON bodies; Ed25519 checkpoints and head",
        "checkpoint_every": 50,
        "signing_seed": b("instance-signing", 32).hex(),
        "verify_key": verify_key.hex(),
        "entries": entries,
        "checkpoint": signed(3, previous),
        # The head is signed under its own label (#24 item 6): never a checkpoint's signature.
        "head": signed(3, previous, b"intake-audit-head-v1"),
        "empty_head": signed(0, bytes(32), b"intake-audit-head-v1"),
    }


def session_vectors() -> dict:
    vectors = []
    payloads = {
        "reporter": {"cases": {"ECO-1A2B3C4D5E": b("case-key", 32).hex()}, "identities": {}},
        "officer": {
            "officer_id": "officer-0a1b2c3d4e5f",
            "username": "eco-1",
            "office": "ECO",
            "office_key": b("office-private", 32).hex(),
            "officer_key": b("officer-private", 32).hex(),
            # section 10.3: the digest of the officer's locks the session was started with (#24 item 8)
            "credential": hashlib.blake2b(b("officer-locks", 96), digest_size=16, person=b"intake-locks").hexdigest(),
        },
        "receipt": {
            "passphrase": "abacus zoom t-shirt yo-yo felt-tip drop-down able apple",
            "cases": [{"id": "OIG-00AA11BB22", "office": "OIG"}],
            "files": [{"name": "a.pdf", "cleaned": True}],
            "danger": False,
        },
    }
    for i, (kind, payload) in enumerate(payloads.items()):
        session_id, key, nonce = b(f"session-id-{i}", 16), b(f"session-key-{i}", 32), b(f"session-nonce-{i}", 24)
        digest = hashlib.blake2b(session_id, digest_size=32, person=b"intake-session").digest()
        plaintext = json.dumps(payload).encode("utf-8")
        _, blob = seal_blob(key, nonce, plaintext, ("session", kind, digest.hex()))
        token = (
            base64.urlsafe_b64encode(session_id).decode().rstrip("=") + "." + base64.urlsafe_b64encode(key).decode().rstrip("=")
        )
        vectors.append(
            {
                "kind": kind,
                "session_id": session_id.hex(),
                "session_key": key.hex(),
                "token": token,
                "id_digest": digest.hex(),
                "nonce": nonce.hex(),
                "payload": payload,
                "plaintext": plaintext.hex(),
                "sealed_payload": blob.hex(),
            }
        )
    return {"construction": "session token, digest and sealed payload", "vectors": vectors}


def digest_vectors() -> dict:
    lookup_key = b("lookup-key", 32)
    lookup = b("a-lookup-value", 32)

    def keyed(data: str, size: int, person: bytes) -> bytes:
        return hashlib.blake2b(data.encode("utf-8"), key=lookup_key, digest_size=size, person=person).digest()

    def device(name: str, nonce: bytes) -> dict:
        message = bytes([len(nonce)]) + nonce + name.encode("utf-8")
        tag = hashlib.blake2b(message, key=lookup_key, digest_size=16, person=b"intake-device").digest()
        return {
            "username": name,
            "nonce": nonce.hex(),
            "token": ".".join(base64.urlsafe_b64encode(part).decode().rstrip("=") for part in (nonce, tag)),
            "key": hashlib.blake2b(nonce, key=lookup_key, digest_size=24, person=b"intake-device-n").hexdigest(),
        }

    budgets = [
        ("submissions", "2026-05-01T13:00:00+00:00"),
        ("messages:ECO-1A2B3C4D5E", "2026-05-01T00:00:00+00:00"),
        ("opening:" + lookup.hex(), "2026-05-01T13:00:00+00:00"),
    ]
    return {
        "construction": "keyed and unkeyed BLAKE2b digests stored in the database",
        "lookup_key": lookup_key.hex(),
        "budget": [
            {"name": name, "window": window, "key": keyed(f"{name}|{window}", 24, b"intake-budget").hex()}
            for name, window in budgets
        ],
        "login": [
            {
                "username": name,
                "key": keyed(name, 24, b"intake-login").hex(),
                "decoy_salt": keyed(name, 16, b"intake-decoy").hex(),
            }
            for name in ["eco-1", "nobody-here", "Ünïcode"]
        ],
        # An officer's device token and the key its failures count under (#24 item 10).
        "device": [device("eco-1", b("device-nonce", 16)), device("Ünïcode", b("another-device", 16))],
        "sending": [
            {
                "token": token,
                "digest": hashlib.blake2b(token.encode("utf-8"), digest_size=32, person=b"intake-sending").hexdigest(),
            }
            for token in ["kLwq3vJt1g0a9nZxY2u5Rm7cB4dE6fH8", "api:an idempotency key of a client 1"]
        ],
        # An API client's Idempotency-Key is stored as the token "api:" + key (section 9), so that it
        # never meets a form's token.
        "idempotency": [
            {
                "idempotency_key": key,
                "token": "api:" + key,
                "digest": hashlib.blake2b(f"api:{key}".encode(), digest_size=32, person=b"intake-sending").hexdigest(),
            }
            for key in ["an idempotency key of a client 1", "0f6c4d2e-3b1a-4c5d-9e8f-7a6b5c4d3e2f"]
        ],
    }


def backup_vectors() -> dict:
    salt, params = b("backup-salt", 16), {"time_cost": 2, "memory_kib": 1024}
    passphrase = "a long backup passphrase, typed"
    header = b"INTAKE-BACKUP" + bytes([1]) + salt + struct.pack(">III", params["time_cost"], params["memory_kib"], 1)
    manifest = json.dumps({"format": 1, "revision": "0007", "tables": ["sending", "login_attempts"]}).encode()
    info = tarfile.TarInfo("manifest.json")
    info.size, info.mode, info.mtime = len(manifest), 0o600, 0
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(manifest))
    digest = hashlib.blake2b(b"a sending token", digest_size=32, person=b"intake-sending").digest()
    rows = [
        ("sending", {"digest": digest, "seen_on": {"iso": "2026-05-01", "type": "date"}}),
        (
            "login_attempts",
            {
                "key": "0" * 48,
                "failures": 2,
                "locked_until": None,
                "forget_after": {"iso": "2026-05-01T13:07:03.123456+00:00", "type": "datetime"},
            },
        ),
    ]
    lines = []
    for table, row in rows:
        encoded = {k: {"b64": base64.b64encode(v).decode("ascii")} if isinstance(v, bytes) else v for k, v in row.items()}
        lines.append({"table": table, "line": json.dumps({"table": table, "row": encoded}) + "\n"})
    return {
        "construction": "backup header, key, first ustar member and database.jsonl lines",
        "passphrase": passphrase,
        "salt": salt.hex(),
        "params": params,
        "header": header.hex(),
        "key": argon2id(passphrase.encode("utf-8"), salt, params["time_cost"], params["memory_kib"], 1).hex(),
        "manifest": manifest.decode(),
        "archive": archive.getvalue().hex(),
        "jsonl": lines,
    }


def bundle_vectors() -> dict:
    """Section 15: both locks, the manifest's signature, and one whole bundle sealed to a key (its stream
    header is drawn by libsodium, so `file` is new on every run, as stream.json's blobs are)."""
    bundle_id = b("bundle-id", 16)
    salt, params = b("bundle-salt", 16), {"time_cost": 2, "memory_kib": 1024}
    passphrase = "an export passphrase, told apart"
    magic = b"INTAKE-BUNDLE" + bytes([1]) + bundle_id
    passphrase_header = magic + bytes([1]) + salt + struct.pack(">III", params["time_cost"], params["memory_kib"], 1)
    recipient_public, recipient_private = crypto_box_seed_keypair(b("investigator", 32))
    stream_key = b("bundle-stream-key", 32)
    ephemeral_private = b("bundle-ephemeral", 32)
    ephemeral_public = crypto_scalarmult_base(ephemeral_private)
    nonce = blake2b(ephemeral_public + recipient_public, digest_size=24, encoder=RawEncoder)
    digest = blake2b(context("bundle-key", bundle_id.hex()), digest_size=32, person=b"intake-wrap-v1", encoder=RawEncoder)
    wrap = bytes([1]) + ephemeral_public + crypto_box(digest + stream_key, nonce, recipient_public, ephemeral_private)
    key_header = magic + bytes([2]) + recipient_public + wrap

    items = [
        ("case.json", json.dumps({"case": "OIG-1A2B3C4D5E", "report": "Invoices were inflated."}, indent=1).encode()),
        ("messages.json", b"[]"),
        ("history.json", b"[]"),
        ("files/F-0A1B2C3D4E5F/ledger.pdf", b"%PDF-1.7 a ledger"),
    ]
    verify_key, signing_secret = crypto_sign_seed_keypair(b("instance-signing", 32))
    manifest = {
        "format": 1,
        "bundle": bundle_id.hex(),
        "case": "OIG-1A2B3C4D5E",
        "office": "OIG",
        "exported_at": "2026-05-01T13:07:03Z",
        "exported_by": "oig-1",
        "sealed": "key",
        "signer": verify_key.hex(),
        "items": [{"name": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in items],
    }
    manifest_bytes = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
    signature = crypto_sign(b"intake-bundle-manifest-v1" + manifest_bytes, signing_secret)[:64]
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in [*items, ("manifest.json", manifest_bytes), ("manifest.sig", signature)]:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o600, 0
            tar.addfile(info, io.BytesIO(data))
    return {
        "construction": "case bundle: header and locks, manifest signature, one whole bundle sealed to a key",
        "bundle_id": bundle_id.hex(),
        "passphrase": passphrase,
        "salt": salt.hex(),
        "params": params,
        "passphrase_header": passphrase_header.hex(),
        "passphrase_key": argon2id(passphrase.encode("utf-8"), salt, params["time_cost"], params["memory_kib"], 1).hex(),
        "investigator_private_key": recipient_private.hex(),
        "investigator_public_key": recipient_public.hex(),
        "ephemeral_private_key": ephemeral_private.hex(),
        "stream_key": stream_key.hex(),
        "key_header": key_header.hex(),
        "signing_seed": b("instance-signing", 32).hex(),
        "verify_key": verify_key.hex(),
        "manifest": manifest_bytes.decode("utf-8"),
        "signature": signature.hex(),
        "file": (key_header + secretstream(stream_key, archive.getvalue())).hex(),
    }


def secretstream(key: bytes, plaintext: bytes) -> bytes:
    """Section 6's stream of `plaintext` under `key` (as stream_vectors builds each blob)."""
    frame_data = 64 * 1024
    state = crypto_secretstream_xchacha20poly1305_state()
    out = bytes([1]) + crypto_secretstream_xchacha20poly1305_init_push(state, key)
    frames = [plaintext[j : j + frame_data] for j in range(0, len(plaintext), frame_data)]
    frames += [b""] * (padme(len(frames) + 1) - len(frames) - 1)
    for data in frames:
        frame = struct.pack(">I", len(data)) + data + bytes(frame_data - len(data))
        out += crypto_secretstream_xchacha20poly1305_push(state, frame, None, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
    return out + crypto_secretstream_xchacha20poly1305_push(
        state, bytes(4 + frame_data), None, crypto_secretstream_xchacha20poly1305_TAG_FINAL
    )


def main() -> None:
    for name, make in [
        ("passphrase", passphrase_vectors),
        ("kdf", kdf_vectors),
        ("records", records_vectors),
        ("wrapping", wrapping_vectors),
        ("stream", stream_vectors),
        ("audit", audit_vectors),
        ("sessions", session_vectors),
        ("digests", digest_vectors),
        ("backup", backup_vectors),
        ("bundle", bundle_vectors),
    ]:
        (HERE / f"{name}.json").write_text(json.dumps(make(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
