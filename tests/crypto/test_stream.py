"""Attachment streams: round trips at every size that matters, and every way to break one."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CryptoError,
    FormatError,
    StreamError,
    StreamOpener,
    StreamSealer,
    decrypt_stream,
    encrypt_stream,
    new_key,
    stored_size,
)
from crypto.stream import CHUNK, FRAME_DATA, HEADER, padme

MiB = 1024 * 1024
SIZES = [0, 1, FRAME_DATA - 1, FRAME_DATA, FRAME_DATA + 1, 2 * FRAME_DATA, 5 * MiB + 3]


def pieces(data: bytes, sizes: list[int]):
    """Cut `data` into pieces of the given sizes, cycling, as a network would deliver it."""
    start, i = 0, 0
    while start < len(data):
        step = max(1, sizes[i % len(sizes)])
        yield data[start : start + step]
        start, i = start + step, i + 1


def seal_bytes(key: bytes, data: bytes, split: list[int] | None = None) -> bytes:
    return b"".join(encrypt_stream(key, pieces(data, split or [len(data) or 1])))


def chunks_of(blob: bytes) -> tuple[bytes, list[bytes]]:
    body = blob[HEADER:]
    return blob[:HEADER], [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_at_chunk_boundaries(size):
    key, data = new_key(), bytes((i * 7) % 251 for i in range(size)) if size < MiB else b"\xa5" * size
    blob = seal_bytes(key, data, [1000, 70000, 1])
    assert len(blob) == stored_size(size)
    out = b"".join(decrypt_stream(key, pieces(blob, [333, 65557, 100000])))
    assert hashlib.sha256(out).digest() == hashlib.sha256(data).digest()


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=3 * FRAME_DATA), split=st.lists(st.integers(1, 150000), min_size=1, max_size=5))
def test_round_trip_any_size_any_split(data, split):
    key = new_key()
    blob = seal_bytes(key, data, split)
    assert b"".join(decrypt_stream(key, pieces(blob, split))) == data


def test_sizes_are_padded_to_buckets():
    # Files of different sizes in one bucket store identically sized blobs.
    assert stored_size(1) == stored_size(FRAME_DATA) == HEADER + 2 * CHUNK
    assert stored_size(41 * FRAME_DATA + 1) == stored_size(43 * FRAME_DATA)
    for n in range(1, 5000):
        assert n <= padme(n) <= n * 1.12 + 1


def test_incremental_api_matches():
    key, data = new_key(), bytes(200_000)
    sealer = StreamSealer(key)
    blob = sealer.header + sealer.update(data[:5]) + sealer.update(data[5:]) + b"".join(sealer.finish())
    assert sealer.plaintext_size == len(data)
    opener = StreamOpener(key)
    out = opener.feed(blob[:10]) + opener.feed(blob[10:])
    opener.finish()
    assert out == data


def read_all(key: bytes, blob: bytes) -> bytes:
    return b"".join(decrypt_stream(key, [blob]))


@pytest.fixture
def sealed():
    key = new_key()
    return key, seal_bytes(key, bytes(range(256)) * 1024)  # 4 data frames + padding + final


def test_wrong_key_fails(sealed):
    _, blob = sealed
    with pytest.raises(StreamError):
        read_all(new_key(), blob)


@pytest.mark.parametrize("offset", [0, 1, HEADER - 1, HEADER, HEADER + 100, HEADER + CHUNK - 1, -1])
def test_flipped_bit_fails(sealed, offset):
    key, blob = sealed
    broken = bytearray(blob)
    broken[offset] ^= 0x10
    with pytest.raises(CryptoError):
        read_all(key, bytes(broken))


def test_unknown_version_fails(sealed):
    key, blob = sealed
    with pytest.raises(FormatError):
        read_all(key, b"\x02" + blob[1:])


@pytest.mark.parametrize("cut", [0, 1, HEADER, HEADER + 1, HEADER + CHUNK, HEADER + CHUNK + 5])
def test_truncated_stream_fails(sealed, cut):
    key, blob = sealed
    with pytest.raises(StreamError):
        read_all(key, blob[:cut])


def test_stream_missing_its_final_tag_fails(sealed):
    key, blob = sealed
    header, chunks = chunks_of(blob)
    with pytest.raises(StreamError, match="final"):
        read_all(key, header + b"".join(chunks[:-1]))


def test_dropped_chunk_fails(sealed):
    key, blob = sealed
    header, chunks = chunks_of(blob)
    with pytest.raises(StreamError):
        read_all(key, header + b"".join(chunks[:1] + chunks[2:]))


def test_swapped_chunks_fail(sealed):
    key, blob = sealed
    header, chunks = chunks_of(blob)
    chunks[1], chunks[2] = chunks[2], chunks[1]
    with pytest.raises(StreamError):
        read_all(key, header + b"".join(chunks))


def test_bytes_after_final_fail(sealed):
    key, blob = sealed
    with pytest.raises(StreamError):
        read_all(key, blob + b"x")
    _header, chunks = chunks_of(blob)
    with pytest.raises(StreamError):
        read_all(key, blob + chunks[-1])


def test_header_from_another_stream_fails(sealed):
    key, blob = sealed
    other = seal_bytes(key, bytes(range(256)) * 1024)
    with pytest.raises(StreamError):
        read_all(key, other[:HEADER] + blob[HEADER:])


def test_sealer_cannot_be_used_after_finish():
    sealer = StreamSealer(new_key())
    list(sealer.finish())
    with pytest.raises(ValueError):
        sealer.update(b"more")
