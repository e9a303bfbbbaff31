"""The key hierarchy of the intake service, as pure functions (see PROTOCOL.md).

This package imports nothing else of the project's and does no I/O: every key,
nonce and ciphertext goes in and comes out as bytes. Anything that fails to open
raises a `CryptoError`; nothing here ever returns unauthenticated plaintext.
"""

from .audit import (
    GENESIS,
    AuditLink,
    chain_digest,
    checkpoint_is_valid,
    generate_signing_key,
    sign_checkpoint,
    verify_chain,
)
from .errors import AuditChainError, CryptoError, DecryptionError, FormatError, StreamError
from .kdf import (
    PRODUCTION_ARGON2,
    Argon2Params,
    ReporterSecrets,
    derive_backup_key,
    derive_password_key,
    derive_reporter_secrets,
    lookup_digest,
)
from .passphrase import generate_passphrase, normalize_passphrase, passphrase_entropy_bits
from .records import new_key, open_record, open_sealed, seal, seal_record
from .stream import StreamOpener, StreamSealer, decrypt_stream, encrypt_stream, stored_size
from .wrapping import (
    Keypair,
    generate_keypair,
    generate_recovery_key,
    lock_officer_key,
    parse_recovery_key,
    public_key_of,
    unlock_officer_key,
    unwrap_case_key,
    unwrap_handling_key,
    unwrap_identity_key,
    unwrap_office_key,
    wrap_case_key,
    wrap_handling_key,
    wrap_identity_key,
    wrap_office_key,
)

__all__ = [
    "GENESIS",
    "PRODUCTION_ARGON2",
    "Argon2Params",
    "AuditChainError",
    "AuditLink",
    "CryptoError",
    "DecryptionError",
    "FormatError",
    "Keypair",
    "ReporterSecrets",
    "StreamError",
    "StreamOpener",
    "StreamSealer",
    "chain_digest",
    "checkpoint_is_valid",
    "decrypt_stream",
    "derive_backup_key",
    "derive_password_key",
    "derive_reporter_secrets",
    "encrypt_stream",
    "generate_keypair",
    "generate_passphrase",
    "generate_recovery_key",
    "generate_signing_key",
    "lock_officer_key",
    "lookup_digest",
    "new_key",
    "normalize_passphrase",
    "open_record",
    "open_sealed",
    "parse_recovery_key",
    "passphrase_entropy_bits",
    "public_key_of",
    "seal",
    "seal_record",
    "sign_checkpoint",
    "stored_size",
    "unlock_officer_key",
    "unwrap_case_key",
    "unwrap_handling_key",
    "unwrap_identity_key",
    "unwrap_office_key",
    "verify_chain",
    "wrap_case_key",
    "wrap_handling_key",
    "wrap_identity_key",
    "wrap_office_key",
]
