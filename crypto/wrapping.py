"""Public-key wrapping: who may open which key.

A case key is sealed (libsodium sealed box: ephemeral X25519 + XSalsa20-Poly1305) to
the office that handles the case and to the reporter, so anyone can add a reply for
the reporter while the reporter is away, without holding any private key. An office's
private key is sealed the same way to each member officer. An officer's own private
key is locked (records.seal) under a password-derived key and under a recovery key.

A sealed box has no associated data, so the plaintext carries a 32-byte digest of
the wrap's context ("case-key", case id) in front of the secret; unwrapping checks
it, so a wrap copied onto another case or role fails instead of yielding a key.

Blob layout: version (1 byte) || crypto_box_seal(context digest (32) || secret).
"""

import base64
import binascii
import hmac
from dataclasses import dataclass

import nacl.exceptions
from nacl.bindings import crypto_box_seal, crypto_box_seal_open
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey
from nacl.utils import random

from .errors import DecryptionError, FormatError
from .records import encode_context, open_sealed, seal

WRAP_V1 = 0x01
DIGEST_BYTES = 32
RECOVERY_KEY_BYTES = 32


@dataclass(frozen=True)
class Keypair:
    """An X25519 keypair, raw 32-byte keys."""

    private: bytes
    public: bytes


def generate_keypair() -> Keypair:
    """A new random X25519 keypair (an office, an officer)."""
    key = PrivateKey.generate()
    return Keypair(private=bytes(key), public=bytes(key.public_key))


def public_key_of(private: bytes) -> bytes:
    """The X25519 public key that belongs to `private`."""
    return bytes(PrivateKey(private).public_key)


def context_digest(*context: str) -> bytes:
    """BLAKE2b-256 of the encoded context, personalised for wraps."""
    return blake2b(encode_context(*context), digest_size=DIGEST_BYTES, person=b"intake-wrap-v1", encoder=RawEncoder)


def wrap_key(recipient_public: bytes, secret: bytes, *context: str) -> bytes:
    """Seal `secret` so only the holder of the private key of `recipient_public` opens it."""
    return bytes([WRAP_V1]) + crypto_box_seal(context_digest(*context) + secret, recipient_public)


def unwrap_key(recipient_private: bytes, blob: bytes, *context: str, recipient_public: bytes | None = None) -> bytes:
    """Open a wrap made by `wrap_key` for this recipient and exactly this context.

    `recipient_public`, from a caller opening many wraps with one key (a page of the inbox),
    spares deriving it for each (a scalar multiplication, a third of the call); a wrong one
    opens nothing.
    """
    if not blob or blob[0] != WRAP_V1:
        raise FormatError("unknown format version of a wrapped key")
    try:
        public = recipient_public if recipient_public is not None else public_key_of(recipient_private)
        inner = crypto_box_seal_open(blob[1:], public, recipient_private)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise DecryptionError("cannot unwrap: not for this key, or tampered") from None
    if len(inner) < DIGEST_BYTES or not hmac.compare_digest(inner[:DIGEST_BYTES], context_digest(*context)):
        raise DecryptionError("cannot unwrap: the wrap belongs to another context")
    return inner[DIGEST_BYTES:]


def wrap_case_key(case_key: bytes, recipient_public: bytes, case_id: str) -> bytes:
    """The case key sealed to an office or a reporter."""
    return wrap_key(recipient_public, case_key, "case-key", case_id)


def unwrap_case_key(recipient_private: bytes, blob: bytes, case_id: str, recipient_public: bytes | None = None) -> bytes:
    """The case key of `case_id`, if this private key is one it was wrapped for."""
    return unwrap_key(recipient_private, blob, "case-key", case_id, recipient_public=recipient_public)


def wrap_handling_key(handling_key: bytes, office_public: bytes, case_id: str, office: str) -> bytes:
    """An office's handling key of one case (its own records of the case) sealed to the office."""
    return wrap_key(office_public, handling_key, "handling-key", case_id, office)


def unwrap_handling_key(office_private: bytes, blob: bytes, case_id: str, office: str) -> bytes:
    """The handling key of `office` for `case_id`, for a holder of that office's private key."""
    return unwrap_key(office_private, blob, "handling-key", case_id, office)


def wrap_record_key(record_key: bytes, holder_public: bytes, case_id: str, office: str, record_id: str) -> bytes:
    """The key of one office record written for an office whose handling key the writer cannot
    open (a memo with a case returned to an office that handled it before), sealed to that office."""
    return wrap_key(holder_public, record_key, "record-key", case_id, office, record_id)


def unwrap_record_key(holder_private: bytes, blob: bytes, case_id: str, office: str, record_id: str) -> bytes:
    return unwrap_key(holder_private, blob, "record-key", case_id, office, record_id)


def wrap_identity_key(identity_key: bytes, recipient_public: bytes, case_id: str) -> bytes:
    """The key a complainant's identity is sealed under, sealed to the reporter (or, with their consent, the office)."""
    return wrap_key(recipient_public, identity_key, "identity-key", case_id)


def unwrap_identity_key(recipient_private: bytes, blob: bytes, case_id: str) -> bytes:
    return unwrap_key(recipient_private, blob, "identity-key", case_id)


def wrap_restriction_key(restriction_private: bytes, officer_public: bytes, case_id: str, office: str) -> bytes:
    """A restricted case's own private key sealed to one officer (a head, or one a head shared it with).

    A restricted case is held by a keypair of its own instead of the office's: whatever the
    office key would open on that case (its case-key wrap, handling key, shared identity)
    is sealed to this keypair's public key, and its private key only to named officers.
    """
    return wrap_key(officer_public, restriction_private, "restriction-key", case_id, office)


def unwrap_restriction_key(officer_private: bytes, blob: bytes, case_id: str, office: str) -> bytes:
    """The private key of `office`'s restricted holding of `case_id`, for an officer it was wrapped for."""
    return unwrap_key(officer_private, blob, "restriction-key", case_id, office)


def wrap_bundle_key(bundle_key: bytes, recipient_public: bytes, bundle_id: str) -> bytes:
    """The stream key of an exported case bundle sealed to an investigator's public key (section 15)."""
    return wrap_key(recipient_public, bundle_key, "bundle-key", bundle_id)


def unwrap_bundle_key(recipient_private: bytes, blob: bytes, bundle_id: str) -> bytes:
    """The stream key of bundle `bundle_id`, for the investigator it was sealed to."""
    return unwrap_key(recipient_private, blob, "bundle-key", bundle_id)


def wrap_office_key(office_private: bytes, officer_public: bytes, office: str) -> bytes:
    """An office's private key sealed to one member officer (the membership wrap)."""
    return wrap_key(officer_public, office_private, "office-key", office)


def unwrap_office_key(officer_private: bytes, blob: bytes, office: str) -> bytes:
    """The office's private key, for a member officer."""
    return unwrap_key(officer_private, blob, "office-key", office)


def lock_officer_key(officer_private: bytes, lock_key: bytes, officer_id: str, method: str) -> bytes:
    """An officer's private key encrypted under a password-derived or recovery key.

    `method` is "password" or "recovery": each lock opens only with its own kind of key.
    """
    return seal(lock_key, officer_private, "officer-key", officer_id, method)


def unlock_officer_key(blob: bytes, lock_key: bytes, officer_id: str, method: str) -> bytes:
    """The officer's private key, or DecryptionError for a wrong password or recovery key."""
    return open_sealed(lock_key, blob, "officer-key", officer_id, method)


def generate_recovery_key() -> tuple[str, bytes]:
    """A one-time recovery key: (text to show the officer once, the key bytes)."""
    key = random(RECOVERY_KEY_BYTES)
    return format_recovery_key(key), key


def format_recovery_key(key: bytes) -> str:
    """Base32 in groups of four, easy to copy onto paper."""
    text = base64.b32encode(key).decode("ascii").rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_recovery_key(text: str) -> bytes:
    """The key bytes of a recovery key as typed: case, spaces and dashes do not matter."""
    compact = "".join(ch for ch in text if ch.isascii() and ch.isalnum()).upper()
    try:
        key = base64.b32decode(compact + "=" * (-len(compact) % 8))
    except (binascii.Error, ValueError):
        raise FormatError("this is not a recovery key") from None
    if len(key) != RECOVERY_KEY_BYTES:
        raise FormatError("this is not a recovery key")
    return key
