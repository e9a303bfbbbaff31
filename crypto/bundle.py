"""Case bundles: the instance's signature over a bundle's manifest (PROTOCOL.md section 15).

An exported case carries a manifest of the SHA-256 digests of everything in it, signed
with the instance's Ed25519 key, the same key that signs the audit chain. The message is
a label of its own followed by the manifest's bytes: a manifest signature is never a
valid audit checkpoint or head (those are a label, 8 bytes and a digest, under labels
that differ from this one from their seventh byte), nor the reverse.
"""

import nacl.exceptions
from nacl.signing import SigningKey, VerifyKey

MANIFEST_LABEL = b"intake-bundle-manifest-v1"


def manifest_message(manifest: bytes) -> bytes:
    """What the instance signs: the label, then the manifest's bytes as stored in the bundle."""
    return MANIFEST_LABEL + manifest


def sign_manifest(signing_seed: bytes, manifest: bytes) -> bytes:
    """A 64-byte Ed25519 signature of a bundle's manifest by the instance key."""
    return SigningKey(signing_seed).sign(manifest_message(manifest)).signature


def manifest_is_valid(verify_key: bytes, manifest: bytes, signature: bytes) -> bool:
    """Whether `signature` is the signature of `manifest` by the holder of `verify_key`."""
    try:
        VerifyKey(verify_key).verify(manifest_message(manifest), signature)
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        return False
    return True
