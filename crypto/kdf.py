"""Argon2id: the slow step between something a person remembers and a key.

Two secrets pass through here: a reporter's passphrase (with the instance-wide salt,
because the server must find the case from the passphrase alone) and an officer's
password (with a per-officer salt). Argon2 is deliberately slow and memory-hungry;
these functions are synchronous and the caller runs them in a bounded worker pool,
never on the event loop.
"""

from dataclasses import dataclass

from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey
from nacl.pwhash.argon2id import kdf as argon2id_kdf

from .passphrase import normalize_passphrase

INSTANCE_SALT_BYTES = 16
KEY_BYTES = 32


@dataclass(frozen=True)
class Argon2Params:
    """Argon2id cost parameters. `memory_kib` is in KiB, as libargon2 takes it.

    Parallelism is fixed at 1 by the protocol (PROTOCOL.md section 2): libsodium computes
    only one lane, and any other value would make a second implementation guess.
    """

    time_cost: int
    memory_kib: int
    parallelism: int = 1

    def __post_init__(self) -> None:
        if self.time_cost < 1 or self.parallelism != 1 or self.memory_kib < 8:
            raise ValueError(f"invalid Argon2 parameters (t >= 1, m >= 8 KiB, p = 1): {self}")


# RFC 9106's second recommended option (t=3, 64 MiB). Parallelism 1: the server runs
# one Argon2 call per core at a time, so threads inside a call would only contend.
PRODUCTION_ARGON2 = Argon2Params(time_cost=3, memory_kib=64 * 1024, parallelism=1)


@dataclass(frozen=True)
class ReporterSecrets:
    """What a passphrase unlocks. Nothing here is stored; `lookup` is stored only keyed."""

    lookup: bytes
    private_key: bytes
    public_key: bytes


def argon2id(secret: bytes, salt: bytes, params: Argon2Params) -> bytes:
    """32 bytes of Argon2id (version 0x13) output.

    Computed by libsodium's crypto_pwhash (about a third faster here than the reference
    implementation argon2-cffi wraps, byte for byte the same output: tests/argon2_reference.py
    computes it, tests/crypto compares).
    """
    return argon2id_kdf(KEY_BYTES, secret, salt, opslimit=params.time_cost, memlimit=params.memory_kib * 1024)


def subkey(master: bytes, label: bytes) -> bytes:
    """A 32-byte subkey: keyed BLAKE2b of the empty string, personalised with `label`.

    This is how libsodium's crypto_kdf derives subkeys; `label` keeps one use of a
    master key from ever producing another use's key.
    """
    if len(label) > 16:
        raise ValueError("BLAKE2b personalisation is at most 16 bytes")
    return blake2b(b"", digest_size=KEY_BYTES, key=master, person=label, encoder=RawEncoder)


def derive_reporter_secrets(passphrase: str, instance_salt: bytes, params: Argon2Params) -> ReporterSecrets:
    """Passphrase -> (lookup value, reporter X25519 keypair). Same input, same output."""
    if len(instance_salt) != INSTANCE_SALT_BYTES:
        raise ValueError("the instance salt is 16 bytes")
    master = argon2id(normalize_passphrase(passphrase).encode("utf-8"), instance_salt, params)
    key = PrivateKey.from_seed(subkey(master, b"intake-reporter"))
    return ReporterSecrets(
        lookup=subkey(master, b"intake-lookup"),
        private_key=bytes(key),
        public_key=bytes(key.public_key),
    )


def lookup_digest(lookup: bytes, lookup_key: bytes) -> bytes:
    """The value the database stores to find a passphrase's cases.

    Keyed with an instance secret that lives outside the database, so a copy of the
    database alone cannot even be used to test passphrase guesses.
    """
    if len(lookup_key) != KEY_BYTES:
        raise ValueError("the lookup key is 32 bytes")
    return blake2b(lookup, digest_size=KEY_BYTES, key=lookup_key, person=b"intake-lookupdig", encoder=RawEncoder)


def derive_password_key(password: str, salt: bytes, params: Argon2Params) -> bytes:
    """An officer's password -> the 32-byte key that locks their private key."""
    if len(salt) != INSTANCE_SALT_BYTES:
        raise ValueError("a password salt is 16 bytes")
    return argon2id(password.encode("utf-8"), salt, params)


def derive_backup_key(passphrase: str, salt: bytes, params: Argon2Params) -> bytes:
    """An operator's backup passphrase -> the key of an encrypted backup archive."""
    if len(salt) != INSTANCE_SALT_BYTES:
        raise ValueError("a backup salt is 16 bytes")
    return argon2id(passphrase.encode("utf-8"), salt, params)
