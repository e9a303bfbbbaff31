"""Passphrases and Argon2id: strength, normalisation, and the production default."""

import math
import os
from pathlib import Path

import pytest

from crypto import (
    PRODUCTION_ARGON2,
    Argon2Params,
    DecryptionError,
    derive_reporter_secrets,
    generate_passphrase,
    new_key,
    passphrase_entropy_bits,
    unwrap_case_key,
    wrap_case_key,
)
from crypto.passphrase import wordlist

CHEAP = Argon2Params(time_cost=1, memory_kib=1024)
SALT = bytes(range(16))


def test_production_argon2_default_is_strong():
    # DESIGN.md: no weaker than t=3, m=64 MiB. Lowering the default must fail here.
    assert PRODUCTION_ARGON2.time_cost >= 3
    assert PRODUCTION_ARGON2.memory_kib >= 64 * 1024


def test_wordlist_is_the_eff_list_less_the_distressing_words():
    words = wordlist()
    assert len(words) >= 6000
    assert len(set(words)) == len(words)
    assert all(w == w.strip().lower() and " " not in w for w in words)
    for removed in ("defame", "outcast", "manhunt", "eliminate", "slit", "deport"):
        assert removed not in words


def test_no_passphrase_word_is_in_a_blocklist_of_distressing_words():
    """A blocklist written apart from the removal list (violence, death, crime, punishment,
    deportation, surveillance, illness, insults, sex, fear): none of it may be handed to a reporter."""
    blocklist = set((Path(__file__).parent / "distressing_words.txt").read_text().split())
    assert len(blocklist) >= 200
    assert not blocklist & set(wordlist())


def test_passphrase_has_at_least_90_bits():
    assert passphrase_entropy_bits() >= 90
    phrase = generate_passphrase()
    words = phrase.split(" ")
    assert len(words) * math.log2(len(wordlist())) >= 90
    assert set(words) <= set(wordlist())


def test_passphrases_differ():
    assert len({generate_passphrase() for _ in range(200)}) == 200


def test_too_short_passphrase_is_refused():
    with pytest.raises(ValueError):
        generate_passphrase(words=6)


def test_two_typings_open_the_same_case_and_one_word_off_does_not():
    phrase = generate_passphrase()
    case_key = new_key()
    reporter = derive_reporter_secrets(phrase, SALT, CHEAP)
    wrap = wrap_case_key(case_key, reporter.public_key, "case-1")

    typed = "  " + "   ".join(w.upper() if i % 2 else w.capitalize() for i, w in enumerate(phrase.split())) + "\t\n"
    again = derive_reporter_secrets(typed, SALT, CHEAP)
    assert again.lookup == reporter.lookup
    assert unwrap_case_key(again.private_key, wrap, "case-1") == case_key

    words = phrase.split()
    words[3] = next(w for w in wordlist() if w != words[3])
    wrong = derive_reporter_secrets(" ".join(words), SALT, CHEAP)
    assert wrong.lookup != reporter.lookup
    with pytest.raises(DecryptionError):
        unwrap_case_key(wrong.private_key, wrap, "case-1")


def test_instance_salt_separates_instances():
    phrase = generate_passphrase()
    other_salt = bytes(16)
    assert derive_reporter_secrets(phrase, SALT, CHEAP).lookup != derive_reporter_secrets(phrase, other_salt, CHEAP).lookup


def test_lookup_and_key_are_independent():
    secrets = derive_reporter_secrets(generate_passphrase(), SALT, CHEAP)
    assert secrets.lookup != secrets.private_key


@pytest.mark.parametrize("params", [(0, 1024, 1), (1, 4, 1), (1, 1024, 0), (1, 1024, 2)])
def test_invalid_argon2_parameters_are_refused(params):
    with pytest.raises(ValueError):
        Argon2Params(*params)


@pytest.mark.parametrize(
    "params", [Argon2Params(1, 8), Argon2Params(1, 1024), Argon2Params(2, 4096), Argon2Params(3, 64 * 1024)], ids=str
)
def test_libsodium_argon2id_is_byte_for_byte_the_reference(params):
    """Keys are derived by libsodium's crypto_pwhash; every stored key was derived the same way by
    argon2-cffi (the reference implementation) and must still be: same output, any input."""
    from crypto.kdf import argon2id

    from ..argon2_reference import argon2id_reference

    for secret, salt in [(b"", bytes(16)), ("pässphrase ✓".encode(), bytes(range(16))), (os.urandom(300), os.urandom(16))]:
        assert argon2id(secret, salt, params) == argon2id_reference(secret, salt, params)
