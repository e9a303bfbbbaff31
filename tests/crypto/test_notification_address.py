"""The notification key and a sealed address, checked against PROTOCOL.md through the outside reader's own
primitives (tests/protocol/reader.py: hashlib's BLAKE2b, section 3's seal), not through crypto/."""

import pytest

from crypto import DecryptionError, notification_key, open_address, seal_address

from ..protocol import reader

LOOKUP_KEY = bytes(range(32))


def test_the_notification_key_is_the_documented_subkey_of_the_lookup_key():
    assert notification_key(LOOKUP_KEY) == reader.subkey(LOOKUP_KEY, "intake-notify")
    assert notification_key(LOOKUP_KEY) != notification_key(bytes(32))


def test_a_sealed_address_opens_as_section_3_says_and_only_for_its_officer():
    key = notification_key(LOOKUP_KEY)
    sealed = seal_address(key, "officer@example.org", "officer-0123456789ab")
    assert reader.open_sealed(key, sealed, "notify-address", "officer-0123456789ab") == b"officer@example.org"
    assert len(sealed) == 1 + 24 + 256 + 16  # padded: the length says nothing finer than 256 bytes
    theirs = reader.seal(key, b"other@example.org", "notify-address", "officer-ba9876543210")
    assert open_address(key, theirs, "officer-ba9876543210") == "other@example.org"
    with pytest.raises(DecryptionError):
        open_address(key, sealed, "officer-ba9876543210")
    with pytest.raises(DecryptionError):
        open_address(notification_key(bytes(32)), sealed, "officer-0123456789ab")
