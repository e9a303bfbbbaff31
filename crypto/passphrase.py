"""Reporter passphrases: the only way back into a case room.

Seven words drawn with `secrets` from the EFF long list (7,776 words) give
7 * log2(7776) = 90.47 bits. A reporter types the passphrase back under stress, often
on a phone, so `normalize_passphrase` forgives case and spacing; it never forgives a
wrong word.
"""

import math
import secrets
import unicodedata
from functools import lru_cache
from importlib import resources

PASSPHRASE_WORDS = 7
MIN_ENTROPY_BITS = 90


@lru_cache(maxsize=1)
def wordlist() -> tuple[str, ...]:
    """The shipped word list (package data, CC BY 3.0 US, see data/*.LICENSE)."""
    text = resources.files(__package__).joinpath("data/eff_large_wordlist.txt").read_text("utf-8")
    words = tuple(text.split())
    if len(words) < 7776 or len(set(words)) != len(words):
        raise RuntimeError("the passphrase word list is damaged")
    return words


def passphrase_entropy_bits(words: int = PASSPHRASE_WORDS) -> float:
    """Entropy of a passphrase of `words` uniformly drawn words."""
    return words * math.log2(len(wordlist()))


def generate_passphrase(words: int = PASSPHRASE_WORDS) -> str:
    """A new passphrase: `words` words from the list, separated by single spaces."""
    if passphrase_entropy_bits(words) < MIN_ENTROPY_BITS:
        raise ValueError(f"{words} words give fewer than {MIN_ENTROPY_BITS} bits")
    choices = wordlist()
    return " ".join(secrets.choice(choices) for _ in range(words))


def normalize_passphrase(typed: str) -> str:
    """The canonical form that is fed to Argon2.

    Unicode NFKC (a phone keyboard may send full-width or composed forms), case folded,
    leading, trailing and repeated whitespace collapsed to single spaces.
    """
    return " ".join(unicodedata.normalize("NFKC", typed).casefold().split())
