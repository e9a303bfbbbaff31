"""Reading a passphrase as a person types it back: any separator between the words, never a wrong word.

A reporter copies the passphrase from paper or a phone note, under stress: "drop-down.yo-yo, abacus"
and "DROP DOWN / yo yo / abacus" are the same three words. Reading forgives how the words are
separated; it never forgives a letter.
"""

import random

import pytest

from crypto import generate_passphrase, normalize_passphrase, read_passphrase
from crypto.passphrase import wordlist

HYPHENATED = ("drop-down", "felt-tip", "t-shirt", "yo-yo")
SEPARATORS = [" ", "  ", "-", " - ", ".", ", ", "\n", "\r\n", "\t", "_", "/", "·", "•", "\u2013", "\u2014", "\u00a0", ";", ":"]


def test_the_list_words_that_hold_a_hyphen_are_the_four_the_protocol_names():
    assert tuple(w for w in wordlist() if "-" in w) == HYPHENATED
    # No half of them is a word of its own: joining halves again never turns two real words into one.
    halves = {half for word in HYPHENATED for half in word.split("-")}
    assert halves & set(wordlist()) <= {"down", "shirt"}
    assert not {word.split("-")[0] for word in HYPHENATED} & set(wordlist())


def test_every_word_of_the_list_reads_as_itself():
    assert all(read_passphrase(word) == word for word in wordlist())


def test_a_generated_passphrase_reads_as_itself_so_no_case_room_changes_key():
    rng = random.Random(23)
    for _ in range(500):
        phrase = " ".join(rng.choice(wordlist()) for _ in range(8))
        assert read_passphrase(phrase) == phrase == normalize_passphrase(phrase)
    phrase = generate_passphrase()
    assert read_passphrase(phrase) == phrase


@pytest.mark.parametrize(
    "typed",
    [
        "drop-down-felt-tip-t-shirt-yo-yo-abacus",
        "drop down felt tip t shirt yo yo abacus",
        "Drop-Down.Felt-Tip.T-Shirt.Yo-Yo.Abacus",
        "DROP_DOWN  FELT_TIP\nT SHIRT, YO YO;abacus.",
        "  drop\u2013down \u00b7 felt\u2014tip \u2022 t-shirt / yo-yo / abacus  ",
        "ｄｒｏｐ－ｄｏｗｎ felt-tip t-shirt yo-yo abacus",
    ],
)
def test_any_separators_and_capitals_read_as_the_words(typed):
    assert read_passphrase(typed) == "drop-down felt-tip t-shirt yo-yo abacus"


def test_random_separators_and_capitals_read_as_the_passphrase():
    rng = random.Random(11)
    for _ in range(500):
        words = [rng.choice(wordlist()) for _ in range(8)]
        typed = rng.choice(["", " ", "\n"]) + "".join(
            (w.upper() if rng.random() < 0.3 else w.replace("-", rng.choice(SEPARATORS))) + rng.choice(SEPARATORS) for w in words
        )
        assert read_passphrase(typed) == " ".join(words), repr(typed)


def test_a_wrong_letter_a_missing_word_or_words_run_together_stay_wrong():
    rng = random.Random(5)
    for _ in range(300):
        words = [rng.choice(wordlist()) for _ in range(8)]
        right = " ".join(words)
        i = rng.randrange(8)
        wrong_letter = words.copy()
        j = rng.randrange(len(words[i]))
        if words[i][j] == "-":
            continue
        wrong_letter[i] = words[i][:j] + ("x" if words[i][j] != "x" else "y") + words[i][j + 1 :]
        run_together = [*words[:i], words[i] + words[i + 1], *words[i + 2 :]] if i < 7 else None
        for typed in filter(
            None, [" ".join(wrong_letter), " ".join(words[:i] + words[i + 1 :]), run_together and " ".join(run_together)]
        ):
            assert read_passphrase(typed) != right, typed
        assert read_passphrase(right.replace(" ", "")) != right  # no separator at all is not a passphrase
        assert read_passphrase(right + " 1") != right and read_passphrase(right + "1") != right


def test_letters_of_another_script_are_never_dropped():
    assert read_passphrase("abacus кошка abdomen") == "abacus кошка abdomen"
    assert read_passphrase("abacusé") == "abacusé"
