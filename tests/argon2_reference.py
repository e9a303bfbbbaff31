"""Argon2id by the reference implementation (argon2-cffi, which wraps libargon2).

The service derives every key with libsodium's crypto_pwhash (crypto/kdf.py); argon2-cffi is here
only as the independent implementation the tests (and the crypto benchmark) check it against, so it
is a test dependency, not one the product installs."""

from argon2.low_level import Type, hash_secret_raw

from crypto import Argon2Params
from crypto.kdf import KEY_BYTES


def argon2id_reference(secret: bytes, salt: bytes, params: Argon2Params) -> bytes:
    """The same 32 bytes `crypto.kdf.argon2id` gives, computed by libargon2 instead of libsodium."""
    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )
