"""Reporter passphrases: the only way back into a case room.

Eight words drawn with `secrets` from the EFF long list less the words that could
distress someone who has just reported abuse (violence, death, crime and punishment,
deportation, surveillance, illness, insults, sex, fear: data/eff_large_wordlist.removed.txt,
832 of its 7,776 words) give 8 * log2(6,944) = 102.1 bits. A reporter types the passphrase
back under stress, often on a phone or from paper, so `read_passphrase` forgives how
the words are separated (hyphens, dots, commas, line breaks, several spaces) and
`normalize_passphrase` forgives case and width; neither forgives a wrong letter.
"""

import math
import secrets
import unicodedata
from functools import lru_cache
from importlib import resources

PASSPHRASE_WORDS = 8
MIN_ENTROPY_BITS = 90
MIN_WORDS = 6000


@lru_cache(maxsize=1)
def wordlist() -> tuple[str, ...]:
    """The words a passphrase is drawn from: the EFF long list (package data, CC BY 3.0 US, see
    data/*.LICENSE) less the removed words, in the EFF list's order."""
    data = resources.files(__package__).joinpath("data")
    eff = data.joinpath("eff_large_wordlist.txt").read_text("utf-8").split()
    removed = set(data.joinpath("eff_large_wordlist.removed.txt").read_text("utf-8").split())
    words = tuple(w for w in eff if w not in removed)
    if len(eff) != 7776 or len(set(eff)) != len(eff) or not removed <= set(eff) or len(words) < MIN_WORDS:
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


@lru_cache(maxsize=1)
def _hyphenated() -> frozenset[str]:
    return frozenset(w for w in wordlist() if "-" in w)


def _separator(ch: str) -> bool:
    """Anything that is not a letter, a combining mark or a digit separates words."""
    return unicodedata.category(ch)[0] not in "LMN"


def read_passphrase(typed: str) -> str:
    """The words a person typed, in order, separated by single spaces, however they separated them.

    A service reads what a reporter typed with this before deriving anything from it
    (PROTOCOL.md section 1 defines the passphrase from the words; this only finds them).
    Every character that is neither a letter, a mark nor a digit (a hyphen or dash, a dot, a
    comma, a slash, any white space) is a separator; letters are case folded and compatibility
    forms made plain (Unicode NFKC), as `normalize_passphrase` does. The four list words that
    hold a hyphen (drop-down, felt-tip, t-shirt, yo-yo) are joined again: unambiguous, since
    none of their first halves is a list word, so no two words of a passphrase are ever joined.
    A generated passphrase reads as itself, so no key changes; a wrong, missing or extra letter,
    or two words run together, stays wrong.
    """
    folded = unicodedata.normalize("NFKC", typed).casefold()
    pieces = "".join(" " if _separator(ch) else ch for ch in folded).split()
    words: list[str] = []
    for piece in pieces:
        if words and f"{words[-1]}-{piece}" in _hyphenated():
            words[-1] = f"{words[-1]}-{piece}"
        else:
            words.append(piece)
    return " ".join(words)
