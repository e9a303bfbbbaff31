"""The key a report form's receipt is held under (crypto.held_receipt_key): from the form's token and an
instance secret, each needed; a held receipt opens with that pair alone."""

import pytest

from crypto import DecryptionError, held_receipt_key, new_key, open_sealed, seal
from crypto.kdf import subkey

TOKEN = "Zm9ybS10b2tlbi1vZi10d2VudHktZm91cg"


def test_the_key_needs_both_the_token_and_the_instance_secret():
    secret = new_key()
    key = held_receipt_key(TOKEN, secret)
    assert len(key) == 32 and key == held_receipt_key(TOKEN, secret)
    assert key != held_receipt_key(TOKEN + "x", secret)
    assert key != held_receipt_key(TOKEN, new_key())
    assert key != subkey(secret, b"intake-held")  # the token is in it, not only the label


def test_a_held_receipt_opens_with_its_own_token_only():
    secret = new_key()
    held = seal(held_receipt_key(TOKEN, secret), b'{"passphrase": "seven words"}', "held-receipt")
    assert open_sealed(held_receipt_key(TOKEN, secret), held, "held-receipt") == b'{"passphrase": "seven words"}'
    with pytest.raises(DecryptionError):
        open_sealed(held_receipt_key("another-form-token-0000", secret), held, "held-receipt")
    with pytest.raises(ValueError):
        held_receipt_key(TOKEN, b"short")
