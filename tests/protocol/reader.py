"""An independent reader of an intake instance, written from crypto/PROTOCOL.md alone.

It imports nothing of the project (only the standard library, PyNaCl's low-level bindings and,
for PostgreSQL, psycopg). Every place where the specification left something open is marked
with a comment starting "GUESS:" and the section it concerns.

Usage (secrets on stdin, one per line, the trailing newline removed):

    reader.py --data-dir DIR [--database URL] officer --username U      (stdin: password)
    reader.py --data-dir DIR [--database URL] reporter                  (stdin: passphrase)
    reader.py backup --file F [--open-as-officer U]                     (stdin: backup passphrase
                                                                         [, officer password])
    reader.py selftest

Exit codes: 0 success, 1 wrong password / passphrase / unknown user, 2 malformed or
undecryptable data, 3 audit chain verification failure (the message names the sequence).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import json
import os
import random
import sqlite3
import struct
import sys
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterable

from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_box,
    crypto_box_seal,
    crypto_box_seal_open,
    crypto_box_seed_keypair,
    crypto_pwhash_alg,
    crypto_pwhash_ALG_ARGON2ID13,
    crypto_scalarmult_base,
    crypto_secretstream_xchacha20poly1305_init_pull,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_pull,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
    crypto_secretstream_xchacha20poly1305_TAG_FINAL,
    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
    crypto_sign,
    crypto_sign_open,
    crypto_sign_seed_keypair,
    sodium_pad,
    sodium_unpad,
)

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parent / "vectors"

VERSION = 0x01
FRAME_DATA = 65536
FRAME = FRAME_DATA + 4  # 65,540
CHUNK = FRAME + 17  # 65,557
STREAM_HEADER = 1 + 24
CHECKPOINT_EVERY = 50
BACKUP_MAGIC = b"INTAKE-BACKUP"
BACKUP_HEADER = len(BACKUP_MAGIC) + 1 + 16 + 12  # 42
OFFICES = ("ECO", "OIG")


# ---------------------------------------------------------------------------------------------
# Errors


class ReaderError(Exception):
    exit_code = 2


class WrongSecret(ReaderError):
    """Wrong password / passphrase, unknown username: exit 1."""

    exit_code = 1


class FormatError(ReaderError):
    pass


class DecryptionError(ReaderError):
    pass


class StreamError(ReaderError):
    pass


class AuditChainError(ReaderError):
    exit_code = 3

    def __init__(self, index: int, why: str):
        super().__init__(f"audit chain broken at sequence {index}: {why}")
        self.index = index


# ---------------------------------------------------------------------------------------------
# Notation and primitives (PROTOCOL.md "Notation", sections 2, 3, 4, 5, 6)


def enc(*parts: str) -> bytes:
    out = b""
    for p in parts:
        raw = p.encode("utf-8")
        out += struct.pack(">I", len(raw)) + raw
    return out


def blake2b(data: bytes, size: int, key: bytes = b"", person: bytes = b"") -> bytes:
    # hashlib zero-pads the personalisation to 16 bytes and uses an all-zero salt, as
    # crypto_generichash_blake2b_salt_personal does.
    return hashlib.blake2b(data, digest_size=size, key=key, person=person).digest()


def subkey(master: bytes, label: str) -> bytes:
    return blake2b(b"", 32, key=master, person=label.encode("ascii"))


def argon2id(secret: bytes, salt: bytes, t: int, m_kib: int, p: int = 1) -> bytes:
    if p != 1:
        raise FormatError(f"Argon2id parallelism {p} refused: protocol version 1 fixes p = 1")
    if len(salt) != 16:
        raise FormatError("Argon2id salt must be 16 bytes")
    return crypto_pwhash_alg(32, secret, salt, int(t), int(m_kib) * 1024, crypto_pwhash_ALG_ARGON2ID13)


def argon2_params(instance: dict) -> tuple[int, int]:
    a = instance.get("argon2") or {}
    if a.get("parallelism", 1) != 1:
        raise FormatError("instance.json argon2.parallelism is not 1")
    return int(a["time_cost"]), int(a["memory_kib"])


def seal(key: bytes, plaintext: bytes, *context: str, nonce: bytes | None = None) -> bytes:
    """Section 3 (used by the self-test only)."""
    nonce = os.urandom(24) if nonce is None else nonce
    ad = bytes([VERSION]) + enc(*context)
    return bytes([VERSION]) + nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(sodium_pad(plaintext, 256), ad, nonce, key)


def open_sealed(key: bytes, blob: bytes, *context: str) -> bytes:
    """Section 3: 0x01 || nonce(24) || AEAD(key, nonce, 0x01 || enc(context), sodium_pad(pt, 256))."""
    blob = as_bytes(blob)
    if len(key) != 32:
        raise FormatError("sealed value key must be 32 bytes")
    if not blob or blob[0] != VERSION:
        raise FormatError(f"sealed value: unknown version byte {blob[:1].hex() or 'none'}")
    body = len(blob) - 1 - 24 - 16
    if body < 256 or body % 256:
        raise FormatError(f"sealed value of impossible length {len(blob)}")
    nonce, ct = blob[1:25], blob[25:]
    ad = bytes([VERSION]) + enc(*context)
    try:
        padded = crypto_aead_xchacha20poly1305_ietf_decrypt(ct, ad, nonce, key)
    except Exception:
        raise DecryptionError(f"cannot open sealed value {context!r}") from None
    try:
        return sodium_unpad(padded, 256)
    except Exception:
        raise FormatError(f"bad padding in sealed value {context!r}") from None


def sending_digest(token: str) -> bytes:
    """Section 9: a form's `sending` token as sent."""
    return blake2b(token.encode("utf-8"), 32, person=b"intake-sending")


def api_sending_digest(idempotency_key: str) -> bytes:
    """Section 9: an API Idempotency-Key is stored as the token "api:" + key."""
    return sending_digest("api:" + idempotency_key)


def wrap_digest(*context: str) -> bytes:
    return blake2b(enc(*context), 32, person=b"intake-wrap-v1")


def wrap(public_key: bytes, secret: bytes, *context: str) -> bytes:
    """Section 4 (used by the self-test only)."""
    return bytes([VERSION]) + crypto_box_seal(wrap_digest(*context) + secret, public_key)


def _unseal_box(private_key: bytes, blob: bytes) -> bytes:
    blob = as_bytes(blob)
    if not blob or blob[0] != VERSION:
        raise FormatError(f"wrap: unknown version byte {blob[:1].hex() or 'none'}")
    if len(blob) != 113:
        # "a wrap of a 32-byte secret is 113 bytes", and every v1 wrap holds 32 bytes
        raise FormatError(f"wrap of length {len(blob)}, not 113")
    public_key = crypto_scalarmult_base(private_key)
    try:
        inner = crypto_box_seal_open(blob[1:], public_key, private_key)
    except Exception:
        raise DecryptionError("cannot open wrap (not for this key)") from None
    return inner


def open_wrap(private_key: bytes, blob: bytes, *context: str) -> bytes:
    inner = _unseal_box(private_key, blob)
    if not hmac.compare_digest(inner[:32], wrap_digest(*context)):
        raise DecryptionError(f"wrap context mismatch, expected {context!r}")
    return inner[32:]


def open_wrap_any(private_key: bytes, blob: bytes, contexts: Iterable[tuple[str, ...]]) -> tuple[tuple[str, ...], bytes]:
    """Opens a wrap whose context is one of several candidates (see officer's office below)."""
    inner = _unseal_box(private_key, blob)
    for ctx in contexts:
        if hmac.compare_digest(inner[:32], wrap_digest(*ctx)):
            return ctx, inner[32:]
    raise DecryptionError("wrap context matches none of the expected contexts")


def recovery_key_from_text(text: str) -> bytes:
    """Section 5: upper-case, keep letters and digits, base32-decode 52 characters."""
    kept = "".join(c for c in text.upper() if c.isascii() and c.isalnum())
    if len(kept) != 52:
        raise WrongSecret("not a recovery key")
    try:
        key = base64.b32decode(kept + "====")  # 52 chars -> pad to 56
    except Exception:
        raise WrongSecret("not a recovery key") from None
    if len(key) != 32:
        raise WrongSecret("not a recovery key")
    return key


def recovery_key_to_text(key: bytes) -> str:
    raw = base64.b32encode(key).decode().rstrip("=")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def padme(n: int) -> int:
    """Section 6: for N >= 2, E = floor(log2 N), S = floor(log2 E) + 1, round up to 2^(E-S)."""
    if n < 2:
        return n
    e = n.bit_length() - 1
    s = e.bit_length()  # floor(log2 E) + 1 for E >= 1
    mask = (1 << (e - s)) - 1 if e >= s else 0
    return (n + mask) & ~mask


def push_stream(key: bytes, plaintext: bytes, version_byte: bool = True) -> bytes:
    """Section 6 writer (self-test only)."""
    state = crypto_secretstream_xchacha20poly1305_state()
    out = (bytes([VERSION]) if version_byte else b"") + crypto_secretstream_xchacha20poly1305_init_push(state, key)
    frames = [plaintext[i : i + FRAME_DATA] for i in range(0, len(plaintext), FRAME_DATA)]
    frames += [b""] * (padme(len(frames) + 1) - len(frames) - 1)
    for data in frames:
        frame = struct.pack(">I", len(data)) + data + bytes(FRAME_DATA - len(data))
        out += crypto_secretstream_xchacha20poly1305_push(state, frame, None, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
    out += crypto_secretstream_xchacha20poly1305_push(state, bytes(FRAME), None, crypto_secretstream_xchacha20poly1305_TAG_FINAL)
    return out


def open_stream(key: bytes, blob: bytes, version_byte: bool = True) -> bytes:
    """Section 6: decrypt a whole stream; errors on any tampering, truncation or trailing bytes."""
    blob = as_bytes(blob)
    if version_byte:
        if not blob or blob[0] != VERSION:
            raise FormatError(f"stream: unknown version byte {blob[:1].hex() or 'none'}")
        blob = blob[1:]
    if len(blob) < 24:
        raise StreamError("stream shorter than its header")
    header, rest = blob[:24], blob[24:]
    state = crypto_secretstream_xchacha20poly1305_state()
    try:
        crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
    except Exception:
        raise StreamError("bad stream header") from None
    out: list[bytes] = []
    partial_seen = False
    pos = 0
    index = 0
    while True:
        if pos >= len(rest):
            raise StreamError("stream ends without its final tag")
        chunk = rest[pos : pos + CHUNK]
        if len(chunk) != CHUNK:
            raise StreamError("truncated stream chunk")
        pos += CHUNK
        try:
            frame, tag = crypto_secretstream_xchacha20poly1305_pull(state, chunk, None)
        except Exception:
            raise StreamError(f"stream chunk {index} fails authentication") from None
        index += 1
        if len(frame) != FRAME:
            raise StreamError("stream frame of wrong size")
        count = struct.unpack(">I", frame[:4])[0]
        if count > FRAME_DATA:
            raise StreamError("stream frame count exceeds 65,536")
        if count and partial_seen:
            raise StreamError("non-zero frame count after a partial frame")
        if tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL:
            # GUESS (section 6): the final frame is "one empty frame (count 0)"; we refuse a final
            # frame that carries data, since a writer never produces one.
            if count:
                raise StreamError("final frame carries data")
            if pos != len(rest):
                raise StreamError("bytes after the final tag")
            break
        if tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE:
            raise StreamError(f"unexpected stream tag {tag}")
        if count < FRAME_DATA:
            partial_seen = True
        out.append(frame[4 : 4 + count])
    return b"".join(out)


def sign_message(sequence: int, digest: bytes) -> bytes:
    return b"intake-audit-checkpoint-v1" + struct.pack(">Q", sequence) + digest


def head_message(sequence: int, digest: bytes) -> bytes:
    # Section 7: the head is signed under its own label, never a checkpoint's.
    return b"intake-audit-head-v1" + struct.pack(">Q", sequence) + digest


def verify_signature(verify_key: bytes, message: bytes, signature: bytes) -> bool:
    signature = as_bytes(signature)
    if len(signature) != 64:
        return False
    try:
        return crypto_sign_open(signature + message, verify_key) == message
    except Exception:
        return False


# ---------------------------------------------------------------------------------------------
# Section 1: passphrase normalisation


_TABLES: tuple[frozenset[str], dict[str, str]] | None = None


def passphrase_tables() -> tuple[frozenset[str], dict[str, str]]:
    """The `whitespace` and `letters` tables. Section 1 makes the tables of
    tests/vectors/passphrase.json normative; we read them there.
    GUESS (section 1): where that file is missing we fall back to the Python definition the
    section gives (NFKC then casefold, per code point, Unicode 14.0 = Python 3.11's database)."""
    global _TABLES
    if _TABLES is None:
        path = VECTORS / "passphrase.json"
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            ws = frozenset(chr(int(u[2:], 16)) for u in data["whitespace"])
            letters = {chr(int(u[2:], 16)): t for u, t in data["letters"].items()}
        else:
            ws_set, letters = set(), {}
            for cp in range(0x110000):
                if 0xD800 <= cp <= 0xDFFF:
                    continue
                text = unicodedata.normalize("NFKC", chr(cp)).casefold()
                if text and text.isspace():
                    ws_set.add(chr(cp))
                elif text and all(c in "abcdefghijklmnopqrstuvwxyz-" for c in text):
                    letters[chr(cp)] = text
            ws = frozenset(ws_set)
        _TABLES = (ws, letters)
    return _TABLES


def normalise_passphrase(typed: str) -> str | None:
    """Returns the canonical passphrase, or None if the input holds a code point in neither table."""
    ws, letters = passphrase_tables()
    mapped = []
    for ch in typed:
        if ch in ws:
            mapped.append(" ")
        elif ch in letters:
            mapped.append(letters[ch])
        else:
            return None
    return " ".join(p for p in "".join(mapped).split(" ") if p)


# ---------------------------------------------------------------------------------------------
# Section 7: the audit chain


def audit_body_bytes(value: Any) -> bytes:
    # GUESS (sections 7, 11.3): audit_entry.body may be a TEXT or a BLOB column; the spec only says
    # it is "the entry's canonical JSON" (UTF-8). We accept both.
    if isinstance(value, str):
        return value.encode("utf-8")
    return as_bytes(value)


def digest_value(value: Any) -> bytes:
    # GUESS (11.3): audit digests and signatures are raw bytes; accept hex text too.
    if isinstance(value, str):
        return bytes.fromhex(value)
    return as_bytes(value)


def verify_audit(entries: list[dict], checkpoints: list[dict], heads: list[dict], verify_key: bytes) -> dict:
    verify_key = digest_value(verify_key)
    entries = sorted(entries, key=lambda r: int(col(r, "sequence", "seq")))
    by_checkpoint: dict[int, bytes] = {}
    for c in checkpoints:
        # GUESS (7, 11.3): the checkpoint's sequence column is named `sequence` like audit_entry's.
        by_checkpoint.setdefault(int(col(c, "sequence", "seq", "n")), digest_value(col(c, "signature")))
    previous = bytes(32)
    expected = 1
    digests: dict[int, bytes] = {0: bytes(32)}
    for row in entries:
        seq = int(col(row, "sequence", "seq"))
        if seq != expected:
            raise AuditChainError(min(seq, expected), "gap or duplicate in the sequence numbers")
        body = audit_body_bytes(col(row, "body"))
        digest = blake2b(previous + body, 32, person=b"intake-audit-v1")
        if not hmac.compare_digest(digest, digest_value(col(row, "digest"))):
            raise AuditChainError(seq, "entry digest does not match its body")
        try:
            parsed = json.loads(body)
        except ValueError:
            raise AuditChainError(seq, "entry body is not JSON") from None
        # Section 7: the body carries "seq": n; we require it to agree with the row.
        if not isinstance(parsed, dict) or parsed.get("seq") != seq:
            raise AuditChainError(seq, "body's seq differs from the row's sequence")
        if seq % CHECKPOINT_EVERY == 0:
            sig = by_checkpoint.get(seq)
            if sig is None or not verify_signature(verify_key, sign_message(seq, digest), sig):
                raise AuditChainError(seq, "missing or invalid checkpoint")
        digests[seq] = digest
        previous = digest
        expected += 1
    count = expected - 1
    if not heads:
        # GUESS (7): no audit_head row at all is treated as a reset head, named as sequence 0.
        raise AuditChainError(0, "no signed head (audit_head row missing)")
    head = heads[0]
    if len(heads) > 1:
        head = next((h for h in heads if h.get("id") == 1), heads[0])
    head_seq = int(col(head, "sequence", "seq"))
    head_digest = digest_value(col(head, "digest"))
    if not verify_signature(verify_key, head_message(head_seq, head_digest), col(head, "signature")):
        raise AuditChainError(head_seq, "head signature does not verify")
    if head_seq > count:
        raise AuditChainError(count + 1, "chain shorter than its signed head")
    if head_seq < count:
        # GUESS (7): the spec names only "a chain shorter than its signed head"; entries after the
        # signed head are unsigned (the head is renewed on every append), so we refuse them too.
        raise AuditChainError(head_seq + 1, "entries after the signed head")
    if not hmac.compare_digest(head_digest, digests[head_seq]):
        raise AuditChainError(head_seq, "head digest differs from the chain")
    return {"entries": count, "head": f"{head_seq}:{head_digest.hex()}", "verified": True}


# ---------------------------------------------------------------------------------------------
# Section 8: backups and the ustar archive


def parse_backup_header(data: bytes) -> tuple[bytes, int, int, int]:
    if len(data) < BACKUP_HEADER or data[: len(BACKUP_MAGIC)] != BACKUP_MAGIC:
        raise FormatError("not an intake backup (magic)")
    if data[len(BACKUP_MAGIC)] != VERSION:
        raise FormatError(f"backup format version {data[len(BACKUP_MAGIC)]} refused")
    salt = data[14:30]
    t, m, p = struct.unpack(">III", data[30:42])
    if p != 1:
        raise FormatError(f"backup parallelism {p} refused")
    return salt, t, m, p


def decrypt_backup(data: bytes, passphrase: str) -> bytes:
    salt, t, m, p = parse_backup_header(data)
    key = argon2id(passphrase.encode("utf-8"), salt, t, m, p)
    rest = data[BACKUP_HEADER:]
    # GUESS (section 8): "stream = an attachment stream (section 6)"; section 6's blob begins
    # with its own 0x01 version byte, so we expect header(42) || 0x01 || secretstream header ||
    # chunks. The two readings differ in length by one byte modulo 65,557, so we pick by length
    # and accept the other (no version byte) too.
    with_version = len(rest) >= STREAM_HEADER and (len(rest) - STREAM_HEADER) % CHUNK == 0
    without_version = len(rest) >= 24 and (len(rest) - 24) % CHUNK == 0
    if not with_version and not without_version:
        raise StreamError("backup stream has an impossible length (truncated?)")
    state_version = with_version
    try:
        return open_stream(key, rest, version_byte=state_version)
    except StreamError as e:
        if "chunk 0 " in str(e):
            raise WrongSecret("wrong backup passphrase (or damaged backup)") from None
        raise


def _octal(field: bytes) -> int:
    text = field.rstrip(b"\0 ").lstrip(b" ")
    if not text:
        return 0
    if any(c not in b"01234567" for c in text):
        raise FormatError(f"ustar: non-octal field {field!r}")
    return int(text, 8)


# Section 8's table of a member's header: (offset, width, what the bytes are).
USTAR_FIXED = [
    (100, 8, b"0000600\0"),
    (108, 8, b"0000000\0"),
    (116, 8, b"0000000\0"),
    (136, 12, b"00000000000\0"),
    (156, 1, b"0"),
    (157, 100, bytes(100)),
    (257, 6, b"ustar\0"),
    (263, 2, b"00"),
    (265, 32, bytes(32)),
    (297, 32, bytes(32)),
    (329, 8, bytes(8)),
    (337, 8, bytes(8)),
    (345, 155, bytes(155)),
    (500, 12, bytes(12)),
]


def check_ustar_header(block: bytes, name: str) -> None:
    """Section 8's header table, byte for byte: the fixed fields, the name NUL-padded, the size as
    11 octal digits and a NUL."""
    for offset, width, expected in USTAR_FIXED:
        if block[offset : offset + width] != expected:
            raise FormatError(f"ustar: bytes {offset}..{offset + width} of {name!r} are not {expected!r}")
    raw_name = block[0:100]
    if raw_name != raw_name.rstrip(b"\0") + bytes(100 - len(raw_name.rstrip(b"\0"))) or not raw_name[0]:
        raise FormatError(f"ustar: name field of {name!r} is not a name padded with NUL")
    size = block[124:136]
    if not (all(c in b"01234567" for c in size[:11]) and size[11:] == b"\0"):
        raise FormatError(f"ustar: size field of {name!r} is not 11 octal digits and a NUL")


def read_ustar(archive: bytes) -> list[tuple[str, bytes]]:
    """Section 8: parses and checks a POSIX.1-1988 ustar archive as intake writes it."""
    if len(archive) % 10240:
        raise FormatError("ustar: archive not padded to a multiple of 10,240 bytes")
    members = []
    pos = 0
    while True:
        if pos + 512 > len(archive):
            raise FormatError("ustar: archive ends without two zero blocks")
        block = archive[pos : pos + 512]
        if block == bytes(512):
            if archive[pos : pos + 1024] != bytes(1024):
                raise FormatError("ustar: a lone zero block")
            if any(archive[pos:]):
                raise FormatError("ustar: non-zero bytes after the end of the archive")
            break
        name_of = block[0:100].rstrip(b"\0").decode("utf-8")
        if block[257:263] != b"ustar\0" or block[263:265] != b"00":
            raise FormatError(f"ustar: bad magic/version in {name_of!r}")
        chk = block[148:156]
        if not (len(chk) == 8 and all(c in b"01234567" for c in chk[:6]) and chk[6:8] == b"\0 "):
            raise FormatError(f"ustar: checksum field not six octal digits, NUL, space in {name_of!r}")
        computed = sum(block[:148]) + 8 * 32 + sum(block[156:])
        if int(chk[:6], 8) != computed:
            raise FormatError(f"ustar: bad checksum in {name_of!r}")
        if _octal(block[100:108]) != 0o600:
            raise FormatError(f"ustar: mode is not 0600 in {name_of!r}")
        if _octal(block[108:116]) or _octal(block[116:124]) or _octal(block[136:148]):
            raise FormatError(f"ustar: uid, gid or mtime not 0 in {name_of!r}")
        if block[156:157] != b"0":
            raise FormatError(f"ustar: type is not '0' in {name_of!r}")
        if any(block[265:297]) or any(block[297:329]):
            raise FormatError(f"ustar: user or group name not empty in {name_of!r}")
        check_ustar_header(block, name_of)
        prefix = block[345:500].rstrip(b"\0").decode("utf-8")
        name = f"{prefix}/{name_of}" if prefix else name_of
        size = _octal(block[124:136])
        pos += 512
        padded = (size + 511) // 512 * 512
        if pos + padded > len(archive):
            raise FormatError(f"ustar: member {name!r} truncated")
        data = archive[pos : pos + size]
        if any(archive[pos + size : pos + padded]):
            raise FormatError(f"ustar: member {name!r} not padded with zeros")
        pos += padded
        members.append((name, data))
    return members


def page_json(obj: Any) -> bytes:
    """The notation's `json(obj)`: `", "` and `": "`, keys in the writer's order, ASCII escapes."""
    return json.dumps(obj, separators=(", ", ": "), ensure_ascii=True).encode("ascii")


def check_byte_exact(raw: bytes, what: str) -> Any:
    """Parse a member the page fixes byte for byte and check it is the page's serialisation."""
    obj = json.loads(raw)
    if page_json(obj) != raw:
        raise FormatError(f"{what} is not the json() of the notation, byte for byte")
    return obj


def decode_jsonl_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"b64"}:
            return base64.b64decode(value["b64"], validate=True)
        if set(value) == {"iso", "type"} and value["type"] in ("date", "datetime"):
            return value["iso"]
    return value


def read_backup_archive(archive: bytes) -> dict:
    members = read_ustar(archive)
    names = [n for n, _ in members]
    if names[:3] != ["manifest.json", "instance.json", "database.jsonl"]:
        raise FormatError(f"backup members out of order: {names[:3]}")
    blob_names = names[3:]
    if any(not n.startswith("blobs/") for n in blob_names):
        raise FormatError("backup holds a member that is neither a blob nor one of the three files")
    if blob_names != sorted(blob_names) or len(set(blob_names)) != len(blob_names):
        raise FormatError("backup blobs are not sorted by id")
    data = dict(members)
    manifest = check_byte_exact(data["manifest.json"], "manifest.json")
    if manifest.get("format") != 1:
        raise FormatError("backup manifest format is not 1")
    instance = json.loads(data["instance.json"])
    tables: dict[str, list[dict]] = {}
    order: list[str] = []
    column_order: dict[str, list[str]] = {}
    manifest_tables = list(manifest.get("tables", []))
    raw = data["database.jsonl"]
    if raw and not raw.endswith(b"\n"):
        raise FormatError("database.jsonl does not end with a newline")
    for number, line in enumerate(raw.split(b"\n")[:-1] if raw else [], 1):
        obj = check_byte_exact(line, f"database.jsonl line {number}")
        if list(obj) != ["table", "row"]:
            raise FormatError(f"database.jsonl line {number}: keys are not table, row")
        table = obj["table"]
        if table not in manifest_tables:
            raise FormatError(f"database.jsonl line {number}: table {table!r} not in the manifest")
        if not order or order[-1] != table:
            if table in order or (order and manifest_tables.index(table) < manifest_tables.index(order[-1])):
                raise FormatError(f"database.jsonl line {number}: table {table!r} out of the manifest's order")
            order.append(table)
        columns = column_order.setdefault(table, list(obj["row"]))
        if list(obj["row"]) != columns:
            raise FormatError(f"database.jsonl line {number}: columns of {table!r} not in the table's one order")
        tables.setdefault(table, []).append({k: decode_jsonl_value(v) for k, v in obj["row"].items()})
    blobs = {n[len("blobs/") :]: data[n] for n in blob_names}
    return {"manifest": manifest, "members": names, "instance": instance, "tables": tables, "blobs": blobs}


# ---------------------------------------------------------------------------------------------
# Data sources: a live instance (SQLite or PostgreSQL + data directory) or a backup in memory


def as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, str):
        # GUESS (11.3): binary columns are raw bytes; on SQLite a value could come back as text
        # only if written as such. Accept hex text as a last resort.
        return bytes.fromhex(value)
    return value


def col(row: dict, *names: str, default: Any = KeyError) -> Any:
    for n in names:
        if n in row:
            return row[n]
    if default is KeyError:
        raise FormatError(f"row lacks column {names[0]!r} (has {sorted(row)})")
    return default


class Source:
    instance: dict

    def rows(self, table: str) -> list[dict]:
        raise NotImplementedError

    def blob(self, blob_id: str) -> bytes | None:
        raise NotImplementedError


class MemorySource(Source):
    def __init__(self, instance: dict, tables: dict[str, list[dict]], blobs: dict[str, bytes]):
        self.instance, self.tables, self.blobs = instance, tables, blobs

    def rows(self, table: str) -> list[dict]:
        return list(self.tables.get(table, []))

    def blob(self, blob_id: str) -> bytes | None:
        return self.blobs.get(blob_id)


class LiveSource(Source):
    def __init__(self, data_dir: Path, url: str | None):
        self.data_dir = data_dir
        self.instance = json.loads((data_dir / "instance.json").read_text(encoding="utf-8"))
        self._cache: dict[str, list[dict]] = {}
        url = url or f"sqlite:///{data_dir / 'intake.sqlite3'}"
        if url.startswith("sqlite:"):
            self.kind = "sqlite"
            path = sqlite_path(url)
            try:
                self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                self.conn.execute("select 1 from sqlite_master limit 1").fetchall()
            except sqlite3.Error:
                raise ReaderError(f"cannot open SQLite database {path}") from None
            self.conn.row_factory = sqlite3.Row
        elif url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            import psycopg  # only when needed
            from psycopg.rows import dict_row

            self.kind = "postgresql"
            self.conn = psycopg.connect(
                url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True, row_factory=dict_row
            )
        else:
            raise ReaderError(f"unsupported database URL {url!r}")

    def rows(self, table: str) -> list[dict]:
        if table in self._cache:
            return self._cache[table]
        out: list[dict] = []
        if self.kind == "sqlite":
            try:
                cur = self.conn.execute(f'SELECT * FROM "{table}"')
                out = [dict(r) for r in cur.fetchall()]
            except sqlite3.OperationalError as e:
                if "no such table" not in str(e):
                    raise
        else:
            import psycopg

            try:
                with self.conn.cursor() as cur:
                    cur.execute(f'SELECT * FROM "{table}"')
                    out = [dict(r) for r in cur.fetchall()]
            except psycopg.errors.UndefinedTable:
                out = []
        out = [{k: (v.tobytes() if isinstance(v, memoryview) else v) for k, v in r.items()} for r in out]
        self._cache[table] = out
        return out

    def blob(self, blob_id: str) -> bytes | None:
        path = self.data_dir / "blobs" / blob_id[:2] / blob_id
        return path.read_bytes() if path.exists() else None


def sqlite_path(url: str) -> str:
    # GUESS (brief/11.2): SQLAlchemy writes an absolute path as sqlite:////abs/path; the brief writes
    # sqlite:///absolute/path. We accept both: after "sqlite:///", a leading "/" means absolute; else
    # a relative path that exists is used, and otherwise the path is taken as absolute.
    rest = url.split("?", 1)[0]
    for prefix in ("sqlite+pysqlite:///", "sqlite:///"):
        if rest.startswith(prefix):
            rest = rest[len(prefix) :]
            break
    else:
        raise ReaderError(f"bad SQLite URL {url!r}")
    if rest.startswith("/"):
        return rest
    return rest if os.path.exists(rest) else "/" + rest


# ---------------------------------------------------------------------------------------------
# Section 12/13: opening cases


def record(key: bytes, blob: Any, case_id: str, kind: str, record_id: str) -> bytes:
    return open_sealed(key, as_bytes(blob), "record", case_id, kind, record_id)


def index_by_case(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        cid = col(r, "case_id", default=None)
        if cid is not None:
            out.setdefault(cid, []).append(r)
    return out


class Opener:
    def __init__(self, source: Source):
        self.src = source
        self.cases = {col(r, "id"): r for r in source.rows("case_file")}
        self.messages = index_by_case(source.rows("message"))
        self.measures = index_by_case(source.rows("protective_measure"))
        self.actions = index_by_case(source.rows("case_action"))
        self.records = index_by_case(source.rows("case_record"))
        # GUESS (11.3/12): attachment rows carry `case_id`; if they only name a message
        # (`message_id`), we find the case through the message.
        msg_case = {col(m, "id"): col(m, "case_id") for m in source.rows("message")}
        self.attachments: dict[str, list[dict]] = {}
        for a in source.rows("attachment"):
            cid = col(a, "case_id", default=None) or msg_case.get(col(a, "message_id", default=None))
            if cid is None:
                raise FormatError(f"attachment {col(a, 'id')} names no case")
            self.attachments.setdefault(cid, []).append(a)
        # Section 6: a blob belongs to exactly one attachment row; no blob or file key is shared.
        blob_ids = [col(a, "blob_id") for a in source.rows("attachment")]
        if len(set(blob_ids)) != len(blob_ids):
            raise FormatError("a blob is named by two attachment rows (section 6 says never)")
        # GUESS (11.3): the identity table's case column is `case_id` (or its id is the case id).
        self.identities = {col(r, "case_id", "id"): r for r in source.rows("identity")}
        self.handling = {(col(r, "case_id"), col(r, "office", "office_code")): r for r in source.rows("case_handling")}

    def open_case(
        self,
        case_id: str,
        case_key: bytes,
        *,
        office: str | None = None,
        office_sk: bytes | None = None,
        reporter_sk: bytes | None = None,
    ) -> dict:
        row = self.cases[case_id]
        report = record(case_key, col(row, "report"), case_id, "report", case_id).decode("utf-8")
        answers = json.loads(record(case_key, col(row, "answers"), case_id, "answers", case_id))
        messages = []
        for m in sorted(self.messages.get(case_id, []), key=lambda r: int(col(r, "number"))):  # section 11.3: `number` order
            mid, author = col(m, "id"), col(m, "author")
            plain = record(case_key, col(m, "body"), case_id, "message", mid)
            body: Any = json.loads(plain) if author == "service" else plain.decode("utf-8")
            messages.append({"id": mid, "author": author, "body": body})
        files = []
        for a in sorted(self.attachments.get(case_id, []), key=lambda r: int(col(r, "number"))):  # section 11.3: `number` order
            aid = col(a, "id")
            file_key = record(case_key, col(a, "key"), case_id, "file-key", aid)
            if len(file_key) != 32:
                raise FormatError(f"file key of {aid} is not 32 bytes")
            meta = json.loads(record(case_key, col(a, "meta"), case_id, "file-meta", aid))
            blob_id = col(a, "blob_id")
            stored = self.src.blob(blob_id)
            sha = None
            if stored is None:
                print(f"warning: blob {blob_id} of {aid} is missing", file=sys.stderr)
            else:
                # Section 11.5: `attachment.stored_size` is the blob file's size.
                if col(a, "stored_size", default=None) not in (None, len(stored)):
                    raise FormatError(f"{aid}: stored_size {col(a, 'stored_size')} is not the blob's {len(stored)} bytes")
                content = open_stream(file_key, stored)
                sha = hashlib.sha256(content).hexdigest()
                if meta.get("size") is not None and meta["size"] != len(content):
                    print(f"warning: {aid} meta size {meta['size']} != content {len(content)}", file=sys.stderr)
            files.append(
                {
                    "id": aid,
                    "name": meta.get("name"),
                    "type": meta.get("type"),
                    "size": meta.get("size"),
                    "cleaned": meta.get("cleaned"),
                    "sha256": sha,
                }
            )
        measures = []
        for p in sorted(self.measures.get(case_id, []), key=lambda r: int(col(r, "number"))):  # section 11.3: `number` order
            pid = col(p, "id")
            measures.append({"id": pid, **json.loads(record(case_key, col(p, "body"), case_id, "measure", pid))})
        actions = []
        for p in sorted(self.actions.get(case_id, []), key=lambda r: int(col(r, "number"))):  # section 11.3: `number` order
            pid = col(p, "id")
            actions.append({"id": pid, **json.loads(record(case_key, col(p, "body"), case_id, "action", pid))})
        out: dict[str, Any] = {
            "id": case_id,
            "office": col(row, "office"),
            "report": report,
            "answers": answers,
            "messages": messages,
            "files": files,
            "measures": measures,
        }
        if actions:
            # GUESS (11.3/12): old `action` records (pre-0005) are not in the requested output; we add
            # them under "actions" only when a case still has some.
            out["actions"] = actions
        if office is not None:
            records = []
            h = self.handling.get((case_id, office))
            if h is not None and col(h, "key_wrap", default=None) is not None:
                handling_key = open_wrap(office_sk, col(h, "key_wrap"), "handling-key", case_id, office)
                for r in sorted(self.records.get(case_id, []), key=lambda r: int(col(r, "number"))):  # section 11.3: `number` order
                    if col(r, "office", "office_code") != office:
                        continue
                    rid = col(r, "id")
                    # Section 13 step 5: a record with its own key_wrap opens with the record key.
                    own = col(r, "key_wrap", default=None)
                    key = handling_key if own is None else open_wrap(office_sk, own, "record-key", case_id, office, rid)
                    body = json.loads(record(key, col(r, "body"), case_id, "office-record", rid))
                    # Section 12: a referral memo, either copy, is about the other office.
                    if body.get("kind") == "referral_memo" and body.get("about") not in set(OFFICES) - {office}:
                        raise FormatError(f"referral memo {rid} of {office} is not about the other office")
                    records.append({"id": rid, **body})
            out["office_records"] = records
        identity = None
        ident = self.identities.get(case_id)
        if ident is not None:
            identity_key = None
            if reporter_sk is not None and col(ident, "reporter_wrap", default=None) is not None:
                identity_key = open_wrap(reporter_sk, col(ident, "reporter_wrap"), "identity-key", case_id)
            elif office_sk is not None and office == col(row, "office") and col(ident, "office_wrap", default=None) is not None:
                # The office wrap is only ever to the routed office (section 11.3); a referred-to
                # office cannot open it, so we only try when we are the routed office.
                identity_key = open_wrap(office_sk, col(ident, "office_wrap"), "identity-key", case_id)
            if identity_key is not None:
                identity = record(identity_key, col(ident, "sealed"), case_id, "identity", case_id).decode("utf-8")
        out["identity"] = identity
        return out

    def case_wraps(self, holder: str) -> list[tuple[str, bytes]]:
        return [(col(r, "case_id"), col(r, "wrap")) for r in self.src.rows("casekeywrap") if col(r, "holder") == holder]


def audit_of(source: Source) -> dict:
    return verify_audit(
        source.rows("audit_entry"),
        source.rows("audit_checkpoint"),
        source.rows("audit_head"),
        source.instance["audit_verify_key"],
    )


def check_instance(instance: dict) -> None:
    if instance.get("format") != 1:
        raise FormatError("instance.json format is not 1")
    argon2_params(instance)


def open_as_officer(source: Source, username: str, password: str) -> dict:
    check_instance(source.instance)
    t, m = argon2_params(source.instance)
    officers = [r for r in source.rows("officer") if col(r, "username") == username]
    if not officers:
        raise WrongSecret("unknown username or wrong password")
    officer = officers[0]
    officer_id = col(officer, "id")
    password_key = argon2id(password.encode("utf-8"), as_bytes(col(officer, "password_salt")), t, m)
    try:
        officer_sk = open_sealed(password_key, col(officer, "key_by_password"), "officer-key", officer_id, "password")
    except DecryptionError:
        raise WrongSecret("unknown username or wrong password") from None
    if len(officer_sk) != 32:
        raise FormatError("officer private key is not 32 bytes")
    if col(officer, "public_key", default=None) is not None and as_bytes(officer["public_key"]) != crypto_scalarmult_base(
        officer_sk
    ):
        raise FormatError("officer public key does not match the private key")
    office_wrap = col(officer, "office_key_wrap", default=None)
    if office_wrap is None:
        raise WrongSecret("officer is disabled (no office key wrap)")
    # GUESS (11.3/13 step 2): the officer's office column is not named in section 11.3 (we try
    # `office`, `office_code`); if absent we find the office as the one whose context digest the
    # wrap holds (ECO or OIG).
    office_codes = [col(r, "code") for r in source.rows("office")] or list(OFFICES)
    known = col(officer, "office", "office_code", default=None)
    candidates = [("office-key", known)] if known else [("office-key", c) for c in office_codes]
    (_, office), office_sk = open_wrap_any(officer_sk, office_wrap, candidates)
    office_pk = crypto_scalarmult_base(office_sk)
    for r in source.rows("office"):
        if col(r, "code") == office and as_bytes(col(r, "public_key")) != office_pk:
            raise FormatError(f"office {office} public key does not match its private key")
    opener = Opener(source)
    cases = []
    restriction_wraps = {
        (col(r, "case_id"), col(r, "office")): col(r, "wrap")
        for r in source.rows("restriction_wrap")
        if col(r, "officer_id") == officer_id
    }
    for case_id, w in opener.case_wraps(f"office:{office}"):
        # Section 13 step 3: a restricted handling (restricted_key set) opens only through this
        # officer's restriction wrap; its private key stands in for the office's for that case.
        h = opener.handling.get((case_id, office))
        holder_sk = office_sk
        if h is not None and col(h, "restricted_key", default=None) is not None:
            if (case_id, office) not in restriction_wraps:
                continue
            holder_sk = open_wrap(officer_sk, restriction_wraps[(case_id, office)], "restriction-key", case_id, office)
        case_key = open_wrap(holder_sk, w, "case-key", case_id)
        cases.append(opener.open_case(case_id, case_key, office=office, office_sk=holder_sk))
    cases.sort(key=lambda c: c["id"])
    return {"cases": cases, "audit": audit_of(source)}


def open_as_reporter(source: Source, typed: str) -> dict:
    check_instance(source.instance)
    t, m = argon2_params(source.instance)
    canonical = normalise_passphrase(typed)
    if not canonical:
        raise WrongSecret("wrong passphrase")
    salt = bytes.fromhex(source.instance["instance_salt"])
    lookup_key = bytes.fromhex(source.instance["lookup_key"])
    master = argon2id(canonical.encode("utf-8"), salt, t, m)
    lookup = subkey(master, "intake-lookup")
    public, private = crypto_box_seed_keypair(subkey(master, "intake-reporter"))
    digest = blake2b(lookup, 32, key=lookup_key, person=b"intake-lookupdig")
    opener = Opener(source)
    found = sorted(cid for cid, r in opener.cases.items() if hmac.compare_digest(as_bytes(col(r, "lookup")), digest))
    if not found:
        raise WrongSecret("wrong passphrase")
    wraps = {cid: w for cid, w in opener.case_wraps("reporter")}
    cases = []
    for cid in found:
        if cid not in wraps:
            raise FormatError(f"case {cid} matches the passphrase but has no reporter wrap")
        case_key = open_wrap(private, wraps[cid], "case-key", cid)
        cases.append(opener.open_case(cid, case_key, reporter_sk=private))
    return {"cases": cases}


# ---------------------------------------------------------------------------------------------
# CLI


def stdin_lines(n: int) -> list[str]:
    raw = sys.stdin.buffer.read()
    parts = raw.split(b"\n")
    # GUESS (brief): "first line, without the trailing newline": we remove the "\n" only, not "\r".
    lines = [p.decode("utf-8") for p in parts[:n]]
    if len(lines) < n:
        raise WrongSecret("missing secret on stdin")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--database")
    sub = parser.add_subparsers(dest="command", required=True)
    o = sub.add_parser("officer")
    o.add_argument("--username", required=True)
    sub.add_parser("reporter")
    b = sub.add_parser("backup")
    b.add_argument("--file", required=True, type=Path)
    b.add_argument("--open-as-officer", metavar="USERNAME")
    sub.add_parser("selftest")
    args = parser.parse_args(argv)
    try:
        if args.command == "selftest":
            self_test()
            print("selftest: all vector files pass")
            return 0
        if args.command == "backup":
            secrets = stdin_lines(2 if args.open_as_officer else 1)
            archive = decrypt_backup(args.file.read_bytes(), secrets[0])
            content = read_backup_archive(archive)
            source = MemorySource(content["instance"], content["tables"], content["blobs"])
            if args.open_as_officer:
                result = open_as_officer(source, args.open_as_officer, secrets[1])
            else:
                check_instance(content["instance"])
                result = {
                    "manifest": content["manifest"],
                    "members": content["members"],
                    "rows": {t: len(content["tables"].get(t, [])) for t in content["manifest"].get("tables", [])},
                    "audit": audit_of(source),
                }
        else:
            if args.data_dir is None:
                parser.error("--data-dir is required")
            secret = stdin_lines(1)[0]
            source = LiveSource(args.data_dir, args.database)
            if args.command == "officer":
                result = open_as_officer(source, args.username, secret)
            else:
                result = open_as_reporter(source, secret)
    except ReaderError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False, sort_keys=False)
    sys.stdout.write("\n")
    return 0


# ---------------------------------------------------------------------------------------------
# Self-test against every file of tests/vectors


def _load(name: str) -> dict:
    return json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))


def _raises(exc: type[BaseException], fn: Callable[[], Any]) -> bool:
    try:
        fn()
    except exc:
        return True
    return False


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


def _test_passphrase() -> None:
    data = _load("passphrase")
    ws, letters = passphrase_tables()
    _check(len(ws) == 29 and len(data["whitespace"]) == 29, "29 whitespace code points")
    _check(len(letters) == 1091, f"1091 letters, got {len(letters)}")
    _check(all(set(t) <= set("abcdefghijklmnopqrstuvwxyz-") and t for t in letters.values()), "letters map to [a-z-]+")
    for v in data["vectors"]:
        _check(normalise_passphrase(v["input"]) == v["normalized"], f"normalise {v['input']!r}")
    _check(normalise_passphrase("ß ẞ ﬁ \ufe63\uff0d") == "ss ss fi --", "section 1 examples")
    _check(normalise_passphrase("caf\u00e9") is None, "a code point in neither table is refused")
    # The tables agree with the Python definition of section 1 (Unicode 14.0 = this Python's).
    _check(data["unicode"] == unicodedata.unidata_version, "Unicode version of the tables")
    for ch in list(ws) + list(letters):
        t = unicodedata.normalize("NFKC", ch).casefold()
        _check((t.isspace() and ch in ws) or letters.get(ch) == t, f"table entry U+{ord(ch):04X}")
    rng = random.Random(7)
    pool = sorted(ws) + sorted(letters)
    for _ in range(300):
        s = "".join(rng.choice(pool) for _ in range(rng.randint(0, 30)))
        _check(normalise_passphrase(s) == " ".join(unicodedata.normalize("NFKC", s).casefold().split()), f"random {s!r}")


def _test_kdf() -> None:
    data = _load("kdf")
    for v in data["reporter"]:
        p = v["params"]
        _check(normalise_passphrase(v["passphrase"]) == v["passphrase"], "kdf passphrases are canonical")
        _check(len(v["passphrase"].split(" ")) == 8, "kdf passphrases have eight words (section 1)")
        master = argon2id(
            v["passphrase"].encode(), bytes.fromhex(v["instance_salt"]), p["time_cost"], p["memory_kib"], p["parallelism"]
        )
        _check(master.hex() == v["argon2id_master"], "reporter master")
        lookup = subkey(master, "intake-lookup")
        _check(lookup.hex() == v["lookup"], "lookup")
        pk, sk = crypto_box_seed_keypair(subkey(master, "intake-reporter"))
        _check(pk.hex() == v["reporter_public_key"] and sk.hex() == v["reporter_private_key"], "reporter keypair")
        dig = blake2b(lookup, 32, key=bytes.fromhex(v["lookup_key"]), person=b"intake-lookupdig")
        _check(dig.hex() == v["lookup_digest"], "lookup digest")
    for v in data["password"]:
        p = v["params"]
        key = argon2id(v["password"].encode(), bytes.fromhex(v["salt"]), p["time_cost"], p["memory_kib"], p["parallelism"])
        _check(key.hex() == v["key"], "officer password key")
    _check(_raises(FormatError, lambda: argon2id(b"x", bytes(16), 2, 1024, 2)), "p != 1 refused")


def _test_records() -> None:
    data = _load("records")
    for v in data["vectors"]:
        key, nonce, blob = bytes.fromhex(v["key"]), bytes.fromhex(v["nonce"]), bytes.fromhex(v["blob"])
        ctx, pt = v["context"], bytes.fromhex(v["plaintext"])
        _check((bytes([1]) + enc(*ctx)).hex() == v["associated_data"], f"associated data {ctx}")
        _check(open_sealed(key, blob, *ctx) == pt, f"open {ctx}")
        _check(seal(key, pt, *ctx, nonce=nonce) == blob, f"re-seal {ctx}")
        _check(len(blob) == 1 + 24 + 256 * ((len(pt) + 1 + 255) // 256) + 16, "sealed length formula")
        _check(_raises(DecryptionError, lambda: open_sealed(key, blob, *ctx[:-1], ctx[-1] + "x")), "wrong context refused")
        _check(_raises(FormatError, lambda: open_sealed(key, b"\x02" + blob[1:], *ctx)), "version byte refused")
        flipped = bytearray(blob)
        flipped[-1] ^= 1
        _check(_raises(DecryptionError, lambda: open_sealed(key, bytes(flipped), *ctx)), "tampering refused")
        kind = ctx[2] if ctx[0] == "record" else ctx[0]
        if kind in ("file-meta", "office-record") or (kind == "message" and ctx[3].startswith("M-")):
            _check(isinstance(json.loads(pt), dict), f"{kind} plaintext is JSON")
        if kind in ("officer-totp",):
            _check(len(base64.b32decode(pt)) == 20 and len(pt) == 32, "TOTP secret is 32 base32 characters")


def _test_wrapping() -> None:
    data = _load("wrapping")
    for v in data["vectors"]:
        sk, pk = bytes.fromhex(v["recipient_private_key"]), bytes.fromhex(v["recipient_public_key"])
        ctx, secret, blob = v["context"], bytes.fromhex(v["secret"]), bytes.fromhex(v["blob"])
        _check(crypto_scalarmult_base(sk) == pk, "recipient keypair")
        _check(wrap_digest(*ctx).hex() == v["context_digest"], f"context digest {ctx}")
        _check(len(blob) == 113, "wrap length 113")
        _check(open_wrap(sk, blob, *ctx) == secret, f"open wrap {ctx}")
        # Rebuild byte for byte from the ephemeral key (crypto_box_seal's construction).
        esk = bytes.fromhex(v["ephemeral_private_key"])
        epk = crypto_scalarmult_base(esk)
        nonce = blake2b(epk + pk, 24)
        _check(bytes([1]) + epk + crypto_box(wrap_digest(*ctx) + secret, nonce, pk, esk) == blob, f"rebuild wrap {ctx}")
        other = ("case-key", "c-0002") if ctx[0] != "case-key" or ctx[1] != "c-0002" else ("case-key", "x")
        _check(_raises(DecryptionError, lambda: open_wrap(sk, blob, *other)), "wrong context refused")
        _check(_raises(DecryptionError, lambda: open_wrap(bytes(31) + b"\x01", blob, *ctx)), "wrong key refused")
        _check(_raises(FormatError, lambda: open_wrap(sk, b"\x02" + blob[1:], *ctx)), "wrap version refused")
        fresh = wrap(pk, secret, *ctx)
        _check(open_wrap(sk, fresh, *ctx) == secret, "fresh wrap round trip")
    # open_wrap_any picks the office by context digest
    pk, sk = crypto_box_seed_keypair(bytes(32))
    w = wrap(pk, bytes(range(32)), "office-key", "OIG")
    _check(
        open_wrap_any(sk, w, [("office-key", "ECO"), ("office-key", "OIG")]) == (("office-key", "OIG"), bytes(range(32))),
        "office by digest",
    )


def _test_stream() -> None:
    data = _load("stream")
    _check([padme(n) for n in range(1, 10)] == [1, 2, 3, 4, 5, 6, 7, 8, 10], "padme small values")
    _check(padme(17) == 18 and padme(100) == 104 and padme(1000) == 1024, "padme larger values")
    for v in data["vectors"]:
        key, pt, blob = bytes.fromhex(v["key"]), bytes.fromhex(v["plaintext"]), bytes.fromhex(v["blob"])
        data_frames = (len(pt) + FRAME_DATA - 1) // FRAME_DATA
        _check(v["frames"] == padme(data_frames + 1), "frame count follows Padmé")
        _check(len(blob) == 25 + v["frames"] * CHUNK, "stored size 25 + N x 65,557")
        _check(open_stream(key, blob) == pt, f"open stream of {len(pt)} bytes")
        _check(_raises(StreamError, lambda: open_stream(key, blob[:-1])), "truncated byte refused")
        _check(_raises(StreamError, lambda: open_stream(key, blob[:-CHUNK])), "missing final chunk refused")
        _check(_raises(StreamError, lambda: open_stream(key, blob + bytes(CHUNK))), "bytes after the final tag refused")
        _check(_raises(StreamError, lambda: open_stream(bytes(32), blob)), "wrong key refused")
        _check(_raises(FormatError, lambda: open_stream(key, b"\x02" + blob[1:])), "stream version refused")
        flipped = bytearray(blob)
        flipped[30] ^= 1
        _check(_raises(StreamError, lambda: open_stream(key, bytes(flipped))), "flipped bit refused")
        if v["frames"] >= 2:
            swapped = blob[:25] + blob[25 + CHUNK : 25 + 2 * CHUNK] + blob[25 : 25 + CHUNK] + blob[25 + 2 * CHUNK :]
            _check(_raises(StreamError, lambda: open_stream(key, swapped)), "reordered chunks refused")
        _check(open_stream(key, push_stream(key, pt)) == pt, "own writer round trip")
    big = os.urandom(3 * FRAME_DATA + 5)
    k = os.urandom(32)
    _check(open_stream(k, push_stream(k, big)) == big, "multi-frame round trip")
    _check(open_stream(k, push_stream(k, b"\0" * FRAME_DATA)) == b"\0" * FRAME_DATA, "exactly one frame")


def _test_audit() -> None:
    data = _load("audit")
    _check(data["checkpoint_every"] == CHECKPOINT_EVERY, "checkpoint interval 50")
    vk, sk = crypto_sign_seed_keypair(bytes.fromhex(data["signing_seed"]))
    _check(vk.hex() == data["verify_key"], "verify key from the signing seed")
    previous = bytes(32)
    rows = []
    for e in data["entries"]:
        body = json.dumps(
            {"seq": e["sequence"], **e["fields"]}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        _check(body.hex() == e["body"], f"canonical body {e['sequence']}")
        _check(e["previous"] == previous.hex(), "previous digest")
        digest = blake2b(previous + body, 32, person=b"intake-audit-v1")
        _check(digest.hex() == e["digest"], f"chain digest {e['sequence']}")
        rows.append({"sequence": e["sequence"], "body": body.decode(), "digest": digest, "case_id": e["fields"]["case"]})
        previous = digest
    for name, message in (("checkpoint", sign_message), ("head", head_message), ("empty_head", head_message)):
        c = data[name]
        msg = message(c["sequence"], bytes.fromhex(c["digest"]))
        _check(msg.hex() == c["message"], f"{name} message")
        _check(verify_signature(vk, msg, bytes.fromhex(c["signature"])), f"{name} signature verifies")
        _check(crypto_sign(msg, sk)[:64].hex() == c["signature"], f"{name} signature is deterministic Ed25519")
    c = data["head"]
    head = [{"id": 1, "sequence": 3, "digest": bytes.fromhex(c["digest"]), "signature": bytes.fromhex(c["signature"])}]
    res = verify_audit(rows, [], head, vk)
    _check(res == {"entries": 3, "head": f"3:{c['digest']}", "verified": True}, "verify the vector chain")
    eh = data["empty_head"]
    empty = [{"id": 1, "sequence": 0, "digest": bytes(32), "signature": bytes.fromhex(eh["signature"])}]
    _check(verify_audit([], [], empty, vk)["head"] == "0:" + "00" * 32, "empty chain")

    def bad(entries, heads, cps=()) -> int | None:
        try:
            verify_audit(entries, list(cps), heads, vk)
        except AuditChainError as e:
            return e.index
        return None

    edited = [dict(r) for r in rows]
    edited[1]["body"] = edited[1]["body"].replace("case opened", "case closed")
    _check(bad(edited, head) == 2, "edited entry named")
    _check(bad([rows[0], rows[2]], head) == 2, "gap named")
    _check(bad(rows[:2], head) == 3, "chain shorter than head")
    _check(bad(rows, [dict(head[0], signature=bytes(64))]) == 3, "bad head signature")
    checkpoint_as_head = bytes.fromhex(data["checkpoint"]["signature"])
    _check(bad(rows, [dict(head[0], signature=checkpoint_as_head)]) == 3, "a checkpoint's signature is no head")

    # a longer chain with checkpoints at 50 and 100
    def build(n: int):
        prev, out, cps = bytes(32), [], []
        for i in range(1, n + 1):
            body = json.dumps(
                {"action": "x", "at": "2026-05-01T00:00:00Z", "case": None, "officer": None, "seq": i},
                sort_keys=True,
                separators=(",", ":"),
            ).encode()
            prev = blake2b(prev + body, 32, person=b"intake-audit-v1")
            out.append({"sequence": i, "body": body, "digest": prev})
            if i % 50 == 0:
                cps.append({"sequence": i, "signature": crypto_sign(sign_message(i, prev), sk)[:64]})
        hd = [{"id": 1, "sequence": n, "digest": prev, "signature": crypto_sign(head_message(n, prev), sk)[:64]}]
        return out, cps, hd

    ents, cps, hd = build(120)
    _check(bad(ents, hd, cps) is None, "120 entries verify")
    _check(bad(ents, hd, cps[1:]) == 50, "missing checkpoint 50 named")
    _check(bad(ents, hd, [cps[0], dict(cps[1], signature=bytes(64))]) == 100, "bad checkpoint 100 named")


# Section 10.3's table.
SESSION_PAYLOAD_KEYS = {
    "reporter": ["cases", "identities"],
    "officer": ["officer_id", "username", "office", "office_key", "officer_key", "credential"],
    "receipt": ["passphrase", "cases", "files", "danger"],
}


def _test_sessions() -> None:
    data = _load("sessions")
    for v in data["vectors"]:
        sid, key = bytes.fromhex(v["session_id"]), bytes.fromhex(v["session_key"])
        b64 = lambda x: base64.urlsafe_b64encode(x).decode().rstrip("=")
        _check(v["token"] == b64(sid) + "." + b64(key) and len(v["token"]) == 22 + 1 + 43, "token")
        a, b = v["token"].split(".")
        _check(base64.urlsafe_b64decode(a + "==") == sid and base64.urlsafe_b64decode(b + "=") == key, "token parses")
        digest = blake2b(sid, 32, person=b"intake-session")
        _check(digest.hex() == v["id_digest"], "session digest")
        pt = open_sealed(key, bytes.fromhex(v["sealed_payload"]), "session", v["kind"], digest.hex())
        _check(pt.hex() == v["plaintext"] and json.loads(pt) == v["payload"], f"{v['kind']} payload")
        _check(pt == page_json(v["payload"]), f"{v['kind']} payload is utf8(json(payload)) of the notation")
        _check(list(v["payload"]) == SESSION_PAYLOAD_KEYS[v["kind"]], f"{v['kind']} payload has section 10.3's fields")
        _check(
            seal(key, pt, "session", v["kind"], digest.hex(), nonce=bytes.fromhex(v["nonce"])).hex() == v["sealed_payload"],
            "re-seal",
        )
        _check(
            _raises(
                DecryptionError,
                lambda: open_sealed(
                    key,
                    bytes.fromhex(v["sealed_payload"]),
                    "session",
                    "officer" if v["kind"] != "officer" else "reporter",
                    digest.hex(),
                ),
            ),
            "session kind bound",
        )


def _test_digests() -> None:
    data = _load("digests")
    lk = bytes.fromhex(data["lookup_key"])
    for v in data["budget"]:
        _check(
            blake2b(f"{v['name']}|{v['window']}".encode(), 24, key=lk, person=b"intake-budget").hex() == v["key"],
            f"budget {v['name']}",
        )
        _check(len(v["key"]) == 48, "budget key is 48 hex characters")
    for v in data["login"]:
        _check(blake2b(v["username"].encode(), 24, key=lk, person=b"intake-login").hex() == v["key"], f"login {v['username']}")
        _check(
            blake2b(v["username"].encode(), 16, key=lk, person=b"intake-decoy").hex() == v["decoy_salt"], f"decoy {v['username']}"
        )
    for v in data["sending"]:
        _check(sending_digest(v["token"]).hex() == v["digest"], "sending digest")
    for v in data["idempotency"]:
        _check(api_sending_digest(v["idempotency_key"]).hex() == v["digest"], "an API Idempotency-Key's digest")
    for v in data.get("device", []):  # section 9: an officer's device token and its key
        nonce = bytes.fromhex(v["nonce"])
        tag = blake2b(bytes([len(nonce)]) + nonce + v["username"].encode(), 16, key=lk, person=b"intake-device")
        token = ".".join(base64.urlsafe_b64encode(part).decode().rstrip("=") for part in (nonce, tag))
        _check(token == v["token"], f"device token {v['username']}")
        _check(blake2b(nonce, 24, key=lk, person=b"intake-device-n").hex() == v["key"], f"device key {v['username']}")


def _test_backup() -> None:
    data = _load("backup")
    header = bytes.fromhex(data["header"])
    _check(len(header) == BACKUP_HEADER == 42, "header is 42 bytes")
    salt, t, m, p = parse_backup_header(header)
    _check(
        salt.hex() == data["salt"] and (t, m, p) == (data["params"]["time_cost"], data["params"]["memory_kib"], 1),
        "header fields",
    )
    _check(argon2id(data["passphrase"].encode(), salt, t, m, p).hex() == data["key"], "backup key")
    _check(_raises(FormatError, lambda: parse_backup_header(header[:-1] + b"\x02")), "backup p != 1 refused")
    members = read_ustar(bytes.fromhex(data["archive"]))
    _check(members == [("manifest.json", data["manifest"].encode())], "first ustar member")
    _check(json.loads(data["manifest"])["format"] == 1, "manifest format")
    _check(json.dumps(json.loads(data["manifest"])) == data["manifest"], "manifest uses Python's default separators")
    check_byte_exact(data["manifest"].encode(), "the vector's manifest")
    for v in data["jsonl"]:
        _check(v["line"].endswith("\n"), "jsonl line ends with a newline")
        check_byte_exact(v["line"][:-1].encode(), "the vector's jsonl line")
        obj = json.loads(v["line"])
        _check(obj["table"] == v["table"], "jsonl table")
        row = {k: decode_jsonl_value(x) for k, x in obj["row"].items()}
        if v["table"] == "sending":
            _check(row["digest"] == blake2b(b"a sending token", 32, person=b"intake-sending"), "sending digest in jsonl")
            _check(row["seen_on"] == "2026-05-01", "date value")
        else:
            _check(row["forget_after"] == "2026-05-01T13:07:03.123456+00:00" and row["locked_until"] is None, "datetime value")
    # A whole backup through our own writer: header, key, stream (with its version byte), archive.
    _check(_raises(FormatError, lambda: read_ustar(bytes.fromhex(data["archive"])[:-512])), "unpadded archive refused")


def _synthetic_instance(tmp: Path) -> dict:
    """Writes a tiny instance the way the specification describes, with cheap Argon2 parameters, to
    exercise the officer, reporter and backup code paths end to end. (Table and column names not
    fixed by the spec are our guesses; see the comments marked GUESS.)"""
    import tarfile

    t, m = 1, 64
    sign_pk, sign_sk = crypto_sign_seed_keypair(b"s" * 32)
    instance = {
        "format": 1,
        "instance_salt": ("11" * 16),
        "lookup_key": ("22" * 32),
        "audit_signing_seed": (b"s" * 32).hex(),
        "audit_verify_key": sign_pk.hex(),
        "cookie_secret": "x",
        "argon2": {"time_cost": t, "memory_kib": m, "parallelism": 1},
    }
    (tmp / "blobs").mkdir()
    (tmp / "instance.json").write_text(json.dumps(instance))
    db = sqlite3.connect(tmp / "intake.sqlite3")
    schema = {
        "office": "code TEXT, public_key BLOB",
        "officer": "id TEXT, username TEXT, public_key BLOB, password_salt BLOB, key_by_password BLOB, office_key_wrap BLOB",
        "case_file": "id TEXT, office TEXT, lookup BLOB, report BLOB, answers BLOB, report_id TEXT",
        "casekeywrap": "case_id TEXT, holder TEXT, wrap BLOB",
        "case_handling": "case_id TEXT, office TEXT, key_wrap BLOB",
        "case_record": "number INTEGER, id TEXT, case_id TEXT, office TEXT, body BLOB",
        "protective_measure": "number INTEGER, id TEXT, case_id TEXT, body BLOB",
        "message": "number INTEGER, id TEXT, case_id TEXT, author TEXT, body BLOB",
        "attachment": "number INTEGER, id TEXT, case_id TEXT, message_id TEXT, key BLOB, meta BLOB, blob_id TEXT",
        "identity": "case_id TEXT, sealed BLOB, reporter_wrap BLOB, office_wrap BLOB",
        "audit_entry": "sequence INTEGER, body TEXT, digest BLOB, case_id TEXT",
        "audit_checkpoint": "sequence INTEGER, signature BLOB",
        "audit_head": "id INTEGER, sequence INTEGER, digest BLOB, signature BLOB",
    }
    for table, cols in schema.items():
        db.execute(f"CREATE TABLE {table} ({cols})")
    ins = lambda table, row: db.execute(
        f"INSERT INTO {table} ({','.join(row)}) VALUES ({','.join('?' * len(row))})", list(row.values())
    )
    offices = {c: crypto_box_seed_keypair(c.encode() * 8 + b"x" * (32 - len(c) * 8)) for c in OFFICES}
    for c, (pk, _) in offices.items():
        ins("office", {"code": c, "public_key": pk})
    opk, osk = crypto_box_seed_keypair(b"o" * 32)
    salt = b"p" * 16
    ins(
        "officer",
        {
            "id": "officer-0123456789ab",
            "username": "eco-1",
            "public_key": opk,
            "password_salt": salt,
            "key_by_password": seal(argon2id(b"pw", salt, t, m), osk, "officer-key", "officer-0123456789ab", "password"),
            "office_key_wrap": wrap(opk, offices["ECO"][1], "office-key", "ECO"),
        },
    )
    phrase = "abacus zoom t-shirt yo-yo felt-tip drop-down able apple"
    master = argon2id(phrase.encode(), bytes.fromhex(instance["instance_salt"]), t, m)
    rpk, rsk = crypto_box_seed_keypair(subkey(master, "intake-reporter"))
    lookup_digest = blake2b(
        subkey(master, "intake-lookup"), 32, key=bytes.fromhex(instance["lookup_key"]), person=b"intake-lookupdig"
    )
    content = os.urandom(70000)
    blob_ids = []
    for cid, office in (("ECO-00000000AA", "ECO"), ("OIG-00000000BB", "OIG")):
        ck = os.urandom(32)
        # Section 6: each case's file has its own blob and file key.
        fkey = os.urandom(32)
        blob_id = os.urandom(16).hex()
        blob_ids.append(blob_id)
        (tmp / "blobs" / blob_id[:2]).mkdir(exist_ok=True)
        (tmp / "blobs" / blob_id[:2] / blob_id).write_bytes(push_stream(fkey, content))
        ins(
            "case_file",
            {
                "id": cid,
                "office": office,
                "lookup": lookup_digest,
                "report": seal(ck, "Report é".encode(), "record", cid, "report", cid),
                "answers": seal(ck, b'{"concerns": ["advice"], "language": "en"}', "record", cid, "answers", cid),
                "report_id": "R-0000000001",
            },
        )
        ins("casekeywrap", {"case_id": cid, "holder": f"office:{office}", "wrap": wrap(offices[office][0], ck, "case-key", cid)})
        ins("casekeywrap", {"case_id": cid, "holder": "reporter", "wrap": wrap(rpk, ck, "case-key", cid)})
        ins(
            "message",
            {
                "number": 1,
                "id": "M-0000000001",
                "case_id": cid,
                "author": "reporter",
                "body": seal(ck, b"hello", "record", cid, "message", "M-0000000001"),
            },
        )
        ins(
            "message",
            {
                "number": 2,
                "id": "M-0000000002",
                "case_id": cid,
                "author": "service",
                "body": seal(ck, b'{"kind": "consent_request", "params": {}}', "record", cid, "message", "M-0000000002"),
            },
        )
        ins(
            "attachment",
            {
                "number": 1,
                "id": "F-000000000001",
                "case_id": cid,
                "key": seal(ck, fkey, "record", cid, "file-key", "F-000000000001"),
                "meta": seal(
                    ck,
                    json.dumps(
                        {"name": "a.bin", "type": "application/octet-stream", "size": len(content), "cleaned": None}
                    ).encode(),
                    "record",
                    cid,
                    "file-meta",
                    "F-000000000001",
                ),
                "blob_id": blob_id,
            },
        )
        ins(
            "protective_measure",
            {
                "number": 1,
                "id": "P-0000000001",
                "case_id": cid,
                "body": seal(
                    ck,
                    b'{"kind": "protective_measure", "item": "x", "recommended_to": "y"}',
                    "record",
                    cid,
                    "measure",
                    "P-0000000001",
                ),
            },
        )
        hk = os.urandom(32)
        ins(
            "case_handling",
            {"case_id": cid, "office": office, "key_wrap": wrap(offices[office][0], hk, "handling-key", cid, office)},
        )
        ins(
            "case_record",
            {
                "number": 1,
                "id": "N-0000000001",
                "case_id": cid,
                "office": office,
                "body": seal(hk, b'{"kind": "note", "text": "t", "about": null}', "record", cid, "office-record", "N-0000000001"),
            },
        )
        ik = os.urandom(32)
        ins(
            "identity",
            {
                "case_id": cid,
                "sealed": seal(ik, b"Jane", "record", cid, "identity", cid),
                "reporter_wrap": wrap(rpk, ik, "identity-key", cid),
                "office_wrap": wrap(offices[office][0], ik, "identity-key", cid),
            },
        )
    prev = bytes(32)
    for i in range(1, 51):
        body = json.dumps(
            {"action": "login", "at": "2026-05-01T09:00:00Z", "case": None, "officer": None, "seq": i, "détail": "é"},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        prev = blake2b(prev + body.encode(), 32, person=b"intake-audit-v1")
        ins("audit_entry", {"sequence": i, "body": body, "digest": prev, "case_id": None})
    ins("audit_checkpoint", {"sequence": 50, "signature": crypto_sign(sign_message(50, prev), sign_sk)[:64]})
    ins("audit_head", {"id": 1, "sequence": 50, "digest": prev, "signature": crypto_sign(head_message(50, prev), sign_sk)[:64]})
    db.commit()
    # The backup of this instance (section 8), with cheap parameters.
    tables = list(schema)
    lines = []
    for table in tables:
        cur = db.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cur.description]
        for r in cur.fetchall():
            row = {n: ({"b64": base64.b64encode(v).decode()} if isinstance(v, bytes) else v) for n, v in zip(names, r)}
            lines.append(json.dumps({"table": table, "row": row}) + "\n")
    db.close()
    members = [
        ("manifest.json", json.dumps({"format": 1, "revision": "0007", "tables": tables}).encode()),
        ("instance.json", (tmp / "instance.json").read_bytes()),
        ("database.jsonl", "".join(lines).encode()),
        *[(f"blobs/{b}", (tmp / "blobs" / b[:2] / b).read_bytes()) for b in sorted(blob_ids)],
    ]
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
        for name, payload in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(payload), 0o600, 0
            tar.addfile(info, io.BytesIO(payload))
    bsalt = b"b" * 16
    backup = (
        BACKUP_MAGIC
        + b"\x01"
        + bsalt
        + struct.pack(">III", t, m, 1)
        + push_stream(argon2id(b"backup pw", bsalt, t, m), archive.getvalue())
    )
    (tmp / "backup.bin").write_bytes(backup)
    return {"phrase": phrase, "sha": hashlib.sha256(content).hexdigest(), "size": len(content)}


def _test_end_to_end() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        facts = _synthetic_instance(tmp)
        src = LiveSource(tmp, f"sqlite:///{tmp / 'intake.sqlite3'}")
        off = open_as_officer(src, "eco-1", "pw")
        _check([c["id"] for c in off["cases"]] == ["ECO-00000000AA"], "officer sees the ECO case only")
        c = off["cases"][0]
        _check(
            c["report"] == "Report é" and c["identity"] == "Jane" and c["files"][0]["sha256"] == facts["sha"],
            "officer case contents",
        )
        _check(
            c["messages"][1]["body"] == {"kind": "consent_request", "params": {}}
            and c["office_records"][0]["id"] == "N-0000000001",
            "officer records",
        )
        _check(off["audit"]["entries"] == 50 and off["audit"]["verified"], "audit verifies")
        _check(_raises(WrongSecret, lambda: open_as_officer(src, "eco-1", "wrong")), "wrong password")
        _check(_raises(WrongSecret, lambda: open_as_officer(src, "nobody", "pw")), "unknown user")
        rep = open_as_reporter(src, "  ABACUS zoom T-Shirt yo-yo felt-tip drop-down able ＡＰＰＬＥ ")
        _check([c["id"] for c in rep["cases"]] == ["ECO-00000000AA", "OIG-00000000BB"], "reporter sees both cases")
        _check(all("office_records" not in c and c["identity"] == "Jane" for c in rep["cases"]), "reporter view")
        _check(_raises(WrongSecret, lambda: open_as_reporter(src, facts["phrase"] + " x")), "wrong passphrase")
        content = read_backup_archive(decrypt_backup((tmp / "backup.bin").read_bytes(), "backup pw"))
        _check(_raises(WrongSecret, lambda: decrypt_backup((tmp / "backup.bin").read_bytes(), "nope")), "wrong backup passphrase")
        mem = MemorySource(content["instance"], content["tables"], content["blobs"])
        _check(open_as_officer(mem, "eco-1", "pw") == off, "backup opens as the live instance does")


# ---------------------------------------------------------------------------
# Section 15: case bundles

BUNDLE_MAGIC = b"INTAKE-BUNDLE"
BUNDLE_ITEM = r"(case|messages|history)\.json|files/F-[0-9A-F]{12}/[A-Za-z0-9_-][A-Za-z0-9._-]{0,59}"


def open_bundle_file(data: bytes, passphrase: str | None = None, private_key: bytes | None = None) -> dict:
    """Section 15: decrypt and verify a case bundle; returns {"manifest": ..., "signer": hex, "items": {name: bytes}}.
    The caller compares "signer" with the instance verify key it trusts."""
    import re

    if not data.startswith(BUNDLE_MAGIC + bytes([VERSION])) or len(data) < 31:
        raise FormatError("bundle: not a bundle of version 1")
    bundle_id, mode, rest = data[14:30], data[30], data[31:]
    if mode == 0x01:
        salt, (t, m, p) = rest[:16], struct.unpack(">III", rest[16:28])
        if p != 1 or t > 16 or m > 1024 * 1024:
            raise FormatError("bundle: Argon2 parameters refused")
        if passphrase is None:
            raise WrongSecret("bundle: sealed to a passphrase")
        key, stream = argon2id(passphrase.encode("utf-8"), salt, t, m, p), rest[28:]
    elif mode == 0x02:
        recipient, wrap, stream = rest[:32], rest[32:145], rest[145:]
        if private_key is None or crypto_scalarmult_base(private_key) != recipient:
            raise WrongSecret("bundle: sealed to another key")
        key = open_wrap(private_key, wrap, "bundle-key", bundle_id.hex())
    else:
        raise FormatError(f"bundle: unknown lock {mode}")
    try:
        members = read_ustar(open_stream(key, stream))
    except StreamError:
        raise WrongSecret("bundle: the stream does not open (wrong passphrase, or damaged)") from None
    names = [n for n, _ in members]
    if names[-2:] != ["manifest.json", "manifest.sig"] or len(set(names)) != len(names):
        raise FormatError("bundle: the manifest and its signature must end the archive, each once")
    items = dict(members[:-2])
    if not all(re.fullmatch(BUNDLE_ITEM, n) for n in items):
        raise FormatError("bundle: an item name the page does not allow")
    manifest_bytes, signature = members[-2][1], members[-1][1]
    manifest = json.loads(manifest_bytes)
    signer = bytes.fromhex(manifest["signer"])
    try:
        crypto_sign_open(signature + b"intake-bundle-manifest-v1" + manifest_bytes, signer)
    except Exception:
        raise FormatError("bundle: the manifest's signature does not verify") from None
    if manifest["format"] != 1 or manifest["bundle"] != bundle_id.hex():
        raise FormatError("bundle: the manifest is another bundle's")
    listed = {i["name"]: (i["size"], i["sha256"]) for i in manifest["items"]}
    if listed != {n: (len(d), hashlib.sha256(d).hexdigest()) for n, d in items.items()}:
        raise FormatError("bundle: the items are not those the manifest lists")
    return {"manifest": manifest, "signer": signer.hex(), "items": items}


def _test_bundle() -> None:
    data = _load("bundle")
    opened = open_bundle_file(bytes.fromhex(data["file"]), private_key=bytes.fromhex(data["investigator_private_key"]))
    _check(opened["signer"] == data["verify_key"] and opened["manifest"]["bundle"] == data["bundle_id"], "bundle signer and id")
    _check(opened["items"]["files/F-0A1B2C3D4E5F/ledger.pdf"] == b"%PDF-1.7 a ledger", "bundle file item")
    header = bytes.fromhex(data["passphrase_header"])
    salt, (t, m, p) = header[31:47], struct.unpack(">III", header[47:59])
    _check(argon2id(data["passphrase"].encode(), salt, t, m, p).hex() == data["passphrase_key"], "bundle passphrase key")
    key_header = bytes.fromhex(data["key_header"])
    key = open_wrap(bytes.fromhex(data["investigator_private_key"]), key_header[63:], "bundle-key", data["bundle_id"])
    _check(key.hex() == data["stream_key"], "bundle stream key")
    _, signing_secret = crypto_sign_seed_keypair(bytes.fromhex(data["signing_seed"]))
    signed = crypto_sign(b"intake-bundle-manifest-v1" + data["manifest"].encode(), signing_secret)[:64]
    _check(signed.hex() == data["signature"], "bundle manifest signature")


def self_test() -> None:
    tests = [
        ("passphrase", _test_passphrase),
        ("kdf", _test_kdf),
        ("records", _test_records),
        ("wrapping", _test_wrapping),
        ("stream", _test_stream),
        ("audit", _test_audit),
        ("sessions", _test_sessions),
        ("digests", _test_digests),
        ("backup", _test_backup),
        ("bundle", _test_bundle),
    ]
    files = sorted(p.stem for p in VECTORS.glob("*.json"))
    missing = sorted(set(files) - {n for n, _ in tests})
    if missing:
        raise AssertionError(f"vector files without a check: {missing}")
    for name, fn in tests:
        fn()
        print(f"selftest: {name}.json ok", file=sys.stderr)
    _test_end_to_end()
    print("selftest: end-to-end synthetic instance ok", file=sys.stderr)
    # Recovery key text round trip (section 5 has no vector).
    k = os.urandom(32)
    text = recovery_key_to_text(k)
    _check(len(text.replace("-", "")) == 52 and recovery_key_from_text(text.lower().replace("-", " ")) == k, "recovery key text")


if __name__ == "__main__":
    sys.exit(main())
