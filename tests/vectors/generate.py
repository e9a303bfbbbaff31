"""Writes the known-answer vectors in this folder from crypto/PROTOCOL.md alone.

Run: python tests/vectors/generate.py

This script deliberately does not import the project's crypto package: it builds
every blob with raw libsodium (PyNaCl bindings) and argon2-cffi, following the
protocol document, so the tests that check the package against these files are a
check of the package against the document. Inputs are fixed, so every file but
stream.json comes out byte-identical on every run; secretstream draws its header
inside libsodium, so stream.json holds fresh (but equally valid) blobs each time.
"""

import json
import struct
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
    return {"construction": "passphrase normalisation", "vectors": [{"input": i, "normalized": o} for i, o in cases]}


def kdf_vectors() -> dict:
    params = {"time_cost": 2, "memory_kib": 1024, "parallelism": 1}
    salt = b("instance-salt", 16)
    reporter = []
    for phrase in ["abacus zoom t-shirt yo-yo felt-tip drop-down able", "grandly dried apple animation smasher dash closable"]:
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


def audit_vectors() -> dict:
    previous = bytes(32)
    entries = []
    for i, body in enumerate(
        [b'{"action":"login","officer":"eco-1"}', b'{"action":"open","case":"c-0001","officer":"eco-1"}', b""]
    ):
        digest = blake2b(previous + body, digest_size=32, person=b"intake-audit-v1", encoder=RawEncoder)
        entries.append({"sequence": i + 1, "previous": previous.hex(), "body": body.hex(), "digest": digest.hex()})
        previous = digest
    verify_key, secret = crypto_sign_seed_keypair(b("instance-signing", 32))
    message = b"intake-audit-checkpoint-v1" + struct.pack(">Q", 3) + previous
    signature = crypto_sign(message, secret)[:64]
    return {
        "construction": "BLAKE2b-256 hash chain and Ed25519 checkpoints",
        "entries": entries,
        "checkpoint": {
            "signing_seed": b("instance-signing", 32).hex(),
            "verify_key": verify_key.hex(),
            "sequence": 3,
            "digest": previous.hex(),
            "message": message.hex(),
            "signature": signature.hex(),
        },
    }


def main() -> None:
    for name, make in [
        ("passphrase", passphrase_vectors),
        ("kdf", kdf_vectors),
        ("records", records_vectors),
        ("wrapping", wrapping_vectors),
        ("stream", stream_vectors),
        ("audit", audit_vectors),
    ]:
        (HERE / f"{name}.json").write_text(json.dumps(make(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
