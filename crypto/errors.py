"""The one exception family the crypto package raises.

Callers catch `CryptoError` and answer "cannot open"; they never see a half-decrypted
value. The subclasses exist so tests and logs can tell *why* without the message
carrying any key or plaintext.
"""


class CryptoError(Exception):
    """Something could not be opened, verified or parsed. Never returns garbage."""


class DecryptionError(CryptoError):
    """Authentication failed: wrong key, wrong passphrase, wrong binding, or tampering."""


class FormatError(CryptoError):
    """The stored bytes are not in a format this code knows (unknown version, bad length)."""


class StreamError(DecryptionError):
    """An attachment stream is truncated, reordered, missing its final tag, or malformed."""


class AuditChainError(CryptoError):
    """The audit chain is broken. `index` is the position of the first bad entry."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"audit entry {index}: {reason}")
        self.index = index
        self.reason = reason
