"""The audit chain: tamper evidence for every officer action.

Each entry's digest is BLAKE2b-256 over the previous entry's digest and the entry's
canonical bytes, so editing, inserting or deleting an entry changes every digest
after it. Deleting entries from the end leaves a shorter but consistent chain; the
signed checkpoints catch that: every so often the head digest and its sequence
number are signed with the instance's Ed25519 key, and a verifier checks that the
chain still reaches every checkpoint with the digest that was signed. The head (the last
entry) is signed under a label of its own: a checkpoint's signature is never a valid head,
so cutting the entries after a checkpoint and copying it into the head row is caught.
"""

import hmac
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import nacl.exceptions
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.signing import SigningKey, VerifyKey

from .errors import AuditChainError

GENESIS = bytes(32)
CHECKPOINT_LABEL = b"intake-audit-checkpoint-v1"
HEAD_LABEL = b"intake-audit-head-v1"


@dataclass(frozen=True)
class AuditLink:
    """One stored entry as the verifier sees it."""

    sequence: int
    body: bytes
    digest: bytes


def chain_digest(previous: bytes, body: bytes) -> bytes:
    """The digest of an entry whose predecessor's digest is `previous` (32 bytes)."""
    if len(previous) != 32:
        raise ValueError("a chain digest is 32 bytes")
    return blake2b(previous + body, digest_size=32, person=b"intake-audit-v1", encoder=RawEncoder)


def generate_signing_key() -> tuple[bytes, bytes]:
    """A new Ed25519 instance key: (32-byte seed to keep secret, 32-byte verify key)."""
    key = SigningKey.generate()
    return bytes(key), bytes(key.verify_key)


def checkpoint_message(sequence: int, digest: bytes) -> bytes:
    """What a checkpoint signs: a label, the sequence number (8 bytes BE), the digest."""
    return CHECKPOINT_LABEL + struct.pack(">Q", sequence) + digest


def head_message(sequence: int, digest: bytes) -> bytes:
    """What the head signs: the same fields as a checkpoint under the head's own label.

    The two labels differ in length, so the two messages do too and no message is both: a
    checkpoint's signature copied into the head row does not verify there.
    """
    return HEAD_LABEL + struct.pack(">Q", sequence) + digest


def sign_checkpoint(signing_seed: bytes, sequence: int, digest: bytes) -> bytes:
    """A 64-byte Ed25519 signature over the chain at the checkpoint `sequence`."""
    return SigningKey(signing_seed).sign(checkpoint_message(sequence, digest)).signature


def checkpoint_is_valid(verify_key: bytes, sequence: int, digest: bytes, signature: bytes) -> bool:
    """Whether `signature` is the instance key's signature of this checkpoint."""
    return _signed(verify_key, checkpoint_message(sequence, digest), signature)


def sign_head(signing_seed: bytes, sequence: int, digest: bytes) -> bytes:
    """A 64-byte Ed25519 signature over the chain's head (its last entry) at `sequence`."""
    return SigningKey(signing_seed).sign(head_message(sequence, digest)).signature


def head_is_valid(verify_key: bytes, sequence: int, digest: bytes, signature: bytes) -> bool:
    """Whether `signature` is the instance key's signature of this head (never a checkpoint's)."""
    return _signed(verify_key, head_message(sequence, digest), signature)


def _signed(verify_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        VerifyKey(verify_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        return False
    return True


def verify_chain(
    links: Iterable[AuditLink],
    verify_key: bytes | None = None,
    checkpoints: Mapping[int, bytes] | None = None,
    first_sequence: int = 1,
    checkpoint_every: int | None = None,
) -> tuple[int, bytes]:
    """Check the chain and its checkpoints; return (last sequence, head digest).

    Raises AuditChainError naming the sequence number of the first bad entry:
    an edited entry, a missing one (a gap in the numbers), or, for entries cut from
    the end, the first sequence a signed checkpoint says should be there. With
    `checkpoint_every`, every multiple of it must carry a valid checkpoint: deleting
    checkpoints, then rebuilding the unkeyed chain, is caught at the first of them.
    """
    checkpoints = dict(checkpoints or {})
    if (checkpoints or checkpoint_every) and verify_key is None:
        raise ValueError("checkpoints need the verify key")
    previous, expected = GENESIS, first_sequence
    for link in links:
        if link.sequence != expected:
            raise AuditChainError(expected, f"missing (the next stored entry is {link.sequence})")
        if not hmac.compare_digest(chain_digest(previous, link.body), link.digest):
            raise AuditChainError(link.sequence, "does not match its digest: edited, or the chain was rebuilt")
        if checkpoint_every and link.sequence % checkpoint_every == 0 and link.sequence not in checkpoints:
            raise AuditChainError(link.sequence, "its signed checkpoint is missing")
        signature = checkpoints.pop(link.sequence, None)
        if signature is not None and not (verify_key and checkpoint_is_valid(verify_key, link.sequence, link.digest, signature)):
            raise AuditChainError(link.sequence, "the signed checkpoint does not match this entry")
        previous, expected = link.digest, expected + 1
    if checkpoints:
        raise AuditChainError(expected, f"missing: a signed checkpoint covers entries up to {max(checkpoints)}")
    return expected - 1, previous
