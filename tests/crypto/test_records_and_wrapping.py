"""Records, wraps and officer key locks: round trips, and every way they must refuse."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CryptoError,
    DecryptionError,
    FormatError,
    generate_keypair,
    generate_recovery_key,
    lock_officer_key,
    new_key,
    open_record,
    open_sealed,
    parse_recovery_key,
    seal,
    seal_record,
    unlock_officer_key,
    unwrap_case_key,
    unwrap_office_key,
    wrap_case_key,
    wrap_office_key,
)
from crypto.records import PAD_BLOCK


@given(
    plaintext=st.binary(max_size=4096), case_id=st.text(max_size=40), kind=st.text(max_size=20), record_id=st.text(max_size=40)
)
def test_record_round_trip(plaintext, case_id, kind, record_id):
    key = new_key()
    blob = seal_record(key, plaintext, case_id, kind, record_id)
    assert open_record(key, blob, case_id, kind, record_id) == plaintext


@pytest.mark.parametrize("size", [0, 1, PAD_BLOCK - 1, PAD_BLOCK, PAD_BLOCK + 1, 3 * 1024 * 1024])
def test_record_sizes_and_padding(size):
    key = new_key()
    plaintext = bytes(size)
    blob = seal_record(key, plaintext, "c", "report", "r")
    assert (len(blob) - 1 - 24 - 16) % PAD_BLOCK == 0
    assert open_record(key, blob, "c", "report", "r") == plaintext


def test_padding_hides_exact_length():
    key = new_key()
    assert len(seal_record(key, b"yes", "c", "m", "1")) == len(seal_record(key, b"no, never", "c", "m", "1"))


def test_record_refuses_wrong_key():
    blob = seal_record(new_key(), b"secret", "c1", "report", "r1")
    with pytest.raises(DecryptionError):
        open_record(new_key(), blob, "c1", "report", "r1")


@pytest.mark.parametrize(
    "moved", [("c2", "report", "r1"), ("c1", "message", "r1"), ("c1", "report", "r2"), ("c1r", "eport", "r1")]
)
def test_record_moved_to_another_case_kind_or_id_fails(moved):
    key = new_key()
    blob = seal_record(key, b"secret", "c1", "report", "r1")
    with pytest.raises(DecryptionError):
        open_record(key, blob, *moved)


@settings(max_examples=60)
@given(data=st.data())
def test_record_any_flipped_bit_fails(data):
    key = new_key()
    blob = bytearray(seal_record(key, b"the account in my own words", "c", "report", "r"))
    position = data.draw(st.integers(0, len(blob) * 8 - 1))
    blob[position // 8] ^= 1 << (position % 8)
    with pytest.raises(CryptoError):
        open_record(key, bytes(blob), "c", "report", "r")


@pytest.mark.parametrize("blob", [b"", b"\x02" + bytes(60), b"\x00" + bytes(60), b"\x01" + bytes(10)])
def test_record_unknown_version_or_short_blob_fails(blob):
    with pytest.raises(FormatError):
        open_sealed(new_key(), blob, "x")


def test_truncated_record_fails():
    key = new_key()
    blob = seal(key, b"hello", "x")
    with pytest.raises(CryptoError):
        open_sealed(key, blob[:-1], "x")


def test_case_key_wrap_for_office_and_reporter():
    case_key = new_key()
    office, reporter, stranger = generate_keypair(), generate_keypair(), generate_keypair()
    for recipient in (office, reporter):
        wrap = wrap_case_key(case_key, recipient.public, "case-9")
        assert unwrap_case_key(recipient.private, wrap, "case-9") == case_key
        with pytest.raises(DecryptionError):
            unwrap_case_key(stranger.private, wrap, "case-9")
        with pytest.raises(DecryptionError):
            unwrap_case_key(recipient.private, wrap, "case-10")


def test_a_wrap_opens_with_the_recipients_public_key_given_and_not_with_another():
    """The inbox passes the office's public key once for a page of wraps: only the right one opens them."""
    case_key = new_key()
    office, stranger = generate_keypair(), generate_keypair()
    wrap = wrap_case_key(case_key, office.public, "case-9")
    assert unwrap_case_key(office.private, wrap, "case-9", recipient_public=office.public) == case_key
    with pytest.raises(DecryptionError):
        unwrap_case_key(office.private, wrap, "case-9", recipient_public=stranger.public)
    with pytest.raises(DecryptionError):
        unwrap_case_key(stranger.private, wrap, "case-9", recipient_public=office.public)


def test_wrap_tampering_and_version():
    office = generate_keypair()
    wrap = bytearray(wrap_case_key(new_key(), office.public, "c"))
    wrap[40] ^= 0x01
    with pytest.raises(DecryptionError):
        unwrap_case_key(office.private, bytes(wrap), "c")
    wrap = bytearray(wrap_case_key(new_key(), office.public, "c"))
    wrap[0] = 0x09
    with pytest.raises(FormatError):
        unwrap_case_key(office.private, bytes(wrap), "c")
    with pytest.raises(DecryptionError):
        unwrap_case_key(office.private, bytes(wrap_case_key(new_key(), office.public, "c"))[:-3], "c")


def test_an_eco_wrap_cannot_be_used_as_an_oig_membership():
    office, officer = generate_keypair(), generate_keypair()
    wrap = wrap_office_key(office.private, officer.public, "ECO")
    assert unwrap_office_key(officer.private, wrap, "ECO") == office.private
    with pytest.raises(DecryptionError):
        unwrap_office_key(officer.private, wrap, "OIG")
    with pytest.raises(DecryptionError):
        unwrap_case_key(officer.private, wrap, "ECO")


def test_officer_key_locks():
    officer = generate_keypair()
    password_key, (recovery_text, recovery_key) = new_key(), generate_recovery_key()
    by_password = lock_officer_key(officer.private, password_key, "officer-1", "password")
    by_recovery = lock_officer_key(officer.private, recovery_key, "officer-1", "recovery")
    assert unlock_officer_key(by_password, password_key, "officer-1", "password") == officer.private
    assert unlock_officer_key(by_recovery, parse_recovery_key(recovery_text), "officer-1", "recovery") == officer.private
    with pytest.raises(DecryptionError):
        unlock_officer_key(by_password, new_key(), "officer-1", "password")
    with pytest.raises(DecryptionError):
        unlock_officer_key(by_password, password_key, "officer-2", "password")
    with pytest.raises(DecryptionError):
        unlock_officer_key(by_recovery, recovery_key, "officer-1", "password")


def test_recovery_key_typing_is_forgiven_and_garbage_refused():
    text, key = generate_recovery_key()
    assert parse_recovery_key(" " + text.lower().replace("-", " ") + " ") == key
    for bad in ["", "not a key", text[:-4], text + "AAAA", "1111-" + text[5:]]:
        with pytest.raises(FormatError):
            parse_recovery_key(bad)
