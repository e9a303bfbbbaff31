"""Secret-key sealing of small values: case records, locked keys, session keys.

Every sealed value is XChaCha20-Poly1305 (IETF AEAD) with a random 24-byte nonce and
associated data built from a *context*: a tuple of strings that says what the value
is and where it belongs. Opening with any other context fails, so a record cannot be
moved to another case, kind or id, and a locked key cannot be used as something else.

Blob layout: version (1 byte) || nonce (24) || ciphertext-with-tag.
The plaintext is padded (ISO/IEC 7816-4, libsodium's sodium_pad) to a multiple of
PAD_BLOCK bytes so stored lengths reveal little about what a reporter wrote.
"""

import struct

import nacl.exceptions
import nacl.utils
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
    sodium_pad,
    sodium_unpad,
)
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from .errors import DecryptionError, FormatError

FORMAT_V1 = 0x01
KEY_BYTES = 32
NONCE_BYTES = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
PAD_BLOCK = 256


def new_key() -> bytes:
    """A fresh random 32-byte symmetric key (a case key, a file key, a session key)."""
    return nacl.utils.random(KEY_BYTES)


def encode_context(*parts: str) -> bytes:
    """Unambiguous bytes for a context: each part as a 4-byte big-endian length + UTF-8."""
    out = bytearray()
    for part in parts:
        raw = part.encode("utf-8")
        out += struct.pack(">I", len(raw)) + raw
    return bytes(out)


def associated_data(version: int, context: tuple[str, ...]) -> bytes:
    """The AEAD associated data: the version byte followed by the encoded context."""
    return bytes([version]) + encode_context(*context)


def seal(key: bytes, plaintext: bytes, *context: str) -> bytes:
    """Encrypt and bind `plaintext` to `context` under `key`."""
    _check_key(key)
    nonce = nacl.utils.random(NONCE_BYTES)
    ciphertext = crypto_aead_xchacha20poly1305_ietf_encrypt(
        sodium_pad(plaintext, PAD_BLOCK), associated_data(FORMAT_V1, context), nonce, key
    )
    return bytes([FORMAT_V1]) + nonce + ciphertext


def open_sealed(key: bytes, blob: bytes, *context: str) -> bytes:
    """The plaintext of `seal(key, plaintext, *context)`, or DecryptionError/FormatError."""
    _check_key(key)
    if not blob or blob[0] != FORMAT_V1:
        raise FormatError("unknown format version of a sealed value")
    if len(blob) < 1 + NONCE_BYTES + 16:
        raise FormatError("a sealed value is too short")
    nonce, ciphertext = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        padded = crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, associated_data(FORMAT_V1, context), nonce, key)
    except nacl.exceptions.CryptoError:
        raise DecryptionError("cannot open: wrong key, wrong context, or tampered") from None
    try:
        return sodium_unpad(padded, PAD_BLOCK)
    except (nacl.exceptions.CryptoError, ValueError):
        raise FormatError("bad padding inside an authenticated value") from None


def seal_record(case_key: bytes, plaintext: bytes, case_id: str, kind: str, record_id: str) -> bytes:
    """Seal one record of a case (report body, answers, message, file name, file key...)."""
    return seal(case_key, plaintext, "record", case_id, kind, record_id)


def open_record(case_key: bytes, blob: bytes, case_id: str, kind: str, record_id: str) -> bytes:
    """Open a record sealed by `seal_record` with exactly the same case, kind and id."""
    return open_sealed(case_key, blob, "record", case_id, kind, record_id)


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError("a symmetric key is 32 bytes")


NOTIFY_PERSON = b"intake-notify"


def notification_key(instance_secret: bytes) -> bytes:
    """The instance's key for officers' notification addresses, derived from one of its secrets (the lookup key).

    A copy of the database alone then holds no address; the service, which must read an address to
    send mail to it, derives the key from instance.json whenever it needs it, so no new secret has to
    be kept or backed up. libsodium's crypto_kdf construction: keyed BLAKE2b, the purpose as personalisation.
    """
    return blake2b(b"", digest_size=KEY_BYTES, key=instance_secret, person=NOTIFY_PERSON, encoder=RawEncoder)


HELD_PERSON = b"intake-held"


def held_receipt_key(token: str, instance_secret: bytes) -> bytes:
    """The key a report's receipt is held under for a resend of its own form: keyed BLAKE2b of the form's one-time
    token (which the database keeps only as an unkeyed digest), keyed with an instance secret (the lookup key), so
    neither a copy of the database nor a token alone opens it."""
    _check_key(instance_secret)
    return blake2b(token.encode("utf-8"), digest_size=KEY_BYTES, key=instance_secret, person=HELD_PERSON, encoder=RawEncoder)


def seal_address(key: bytes, address: str, officer_id: str) -> bytes:
    """An officer's notification address sealed under the notification key, bound to the officer (padded
    like every sealed value, so its length shows only to 256 bytes)."""
    return seal(key, address.encode("utf-8"), "notify-address", officer_id)


def open_address(key: bytes, blob: bytes, officer_id: str) -> str:
    """The address `seal_address` sealed for this officer; DecryptionError for another officer's row."""
    return open_sealed(key, blob, "notify-address", officer_id).decode("utf-8")
