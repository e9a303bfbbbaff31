"""Attachments: libsodium secretstream (XChaCha20-Poly1305) over fixed-size frames.

An upload arrives in pieces of whatever size the network delivers. `StreamSealer`
re-cuts them into frames of FRAME_DATA bytes, each a secretstream message, so memory
holds at most one frame whatever the file size, and every ciphertext chunk has the
same length. A frame's plaintext is a 4-byte big-endian count of the data bytes in it,
the data, then zeros up to the frame size. After the data come padding frames (count 0)
so the number of frames is rounded up by the Padmé rule, and last an empty frame with
TAG_FINAL. The reader checks that final tag: a stream cut anywhere, or with a frame
dropped or moved, fails with StreamError.

Blob layout: version (1 byte) || secretstream header (24) || N * (FRAME + 17) bytes.
"""

import struct
from collections.abc import Iterable, Iterator

import nacl.exceptions
from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_ABYTES,
    crypto_secretstream_xchacha20poly1305_HEADERBYTES,
    crypto_secretstream_xchacha20poly1305_init_pull,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_pull,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
    crypto_secretstream_xchacha20poly1305_TAG_FINAL,
    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
)

from .errors import FormatError, StreamError

STREAM_V1 = 0x01
FRAME_DATA = 64 * 1024
COUNT_BYTES = 4
FRAME = COUNT_BYTES + FRAME_DATA
CHUNK = FRAME + crypto_secretstream_xchacha20poly1305_ABYTES
HEADER = 1 + crypto_secretstream_xchacha20poly1305_HEADERBYTES
_TAG_MESSAGE = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = crypto_secretstream_xchacha20poly1305_TAG_FINAL
_EMPTY_FRAME = bytes(FRAME)


def padme(n: int) -> int:
    """Padmé (Nikitin et al., PURBs, 2019): round n up, leaking O(log log n) bits.

    Overhead is at most about 12%, far less than power-of-two buckets on large files.
    """
    if n < 2:
        return n
    exponent = n.bit_length() - 1
    low_bits = exponent - exponent.bit_length()
    mask = (1 << low_bits) - 1
    return (n + mask) & ~mask


def frame_count(plaintext_size: int) -> int:
    """Frames a file of this size is stored in: data, padding and the final frame."""
    data_frames = -(-plaintext_size // FRAME_DATA)
    return padme(data_frames + 1)


def stored_size(plaintext_size: int) -> int:
    """Bytes of the stored blob for a file of `plaintext_size` bytes."""
    return HEADER + frame_count(plaintext_size) * CHUNK


class StreamSealer:
    """Incremental encryption: `header`, then `update(piece)` as pieces arrive, then the chunks of `finish()`."""

    def __init__(self, file_key: bytes) -> None:
        self._state = crypto_secretstream_xchacha20poly1305_state()
        self.header = bytes([STREAM_V1]) + crypto_secretstream_xchacha20poly1305_init_push(self._state, file_key)
        self._pending = bytearray()
        self._frames = 0
        self._finished = False
        self.plaintext_size = 0

    def update(self, piece: bytes) -> bytes:
        """Encrypt every full frame now available; the rest waits for more data."""
        if self._finished:
            raise ValueError("the stream is already finished")
        self.plaintext_size += len(piece)
        out = []
        if not self._pending and len(piece) >= FRAME_DATA:
            view = memoryview(piece)
            whole = len(piece) - len(piece) % FRAME_DATA
            for start in range(0, whole, FRAME_DATA):
                out.append(self._push(view[start : start + FRAME_DATA]))
            self._pending += view[whole:]
        else:
            self._pending += piece
            while len(self._pending) >= FRAME_DATA:
                out.append(self._push(memoryview(self._pending)[:FRAME_DATA]))
                del self._pending[:FRAME_DATA]
        return b"".join(out)

    def finish(self) -> Iterator[bytes]:
        """The last data frame, the padding frames and the final frame, one chunk at a time.

        Padding can be many frames (up to about 12% of the file), so it is yielded, never
        gathered in memory.
        """
        if self._finished:
            raise ValueError("the stream is already finished")
        self._finished = True
        if self._pending:
            yield self._push(bytes(self._pending))
            self._pending = bytearray()
        for _ in range(padme(self._frames + 1) - self._frames - 1):
            yield self._push(b"")
        yield self._push(b"", _TAG_FINAL)

    def _push(self, data: bytes | memoryview, tag: int = _TAG_MESSAGE) -> bytes:
        if len(data) == FRAME_DATA:
            frame = struct.pack(">I", FRAME_DATA) + data
        elif data:
            frame = struct.pack(">I", len(data)) + data + bytes(FRAME_DATA - len(data))
        else:
            frame = _EMPTY_FRAME
        self._frames += 1
        return crypto_secretstream_xchacha20poly1305_push(self._state, frame, None, tag)


class StreamOpener:
    """Incremental decryption: `feed(ciphertext)` yields plaintext, `finish()` checks the end."""

    def __init__(self, file_key: bytes) -> None:
        self._key = file_key
        self._state: crypto_secretstream_xchacha20poly1305_state | None = None
        self._pending = bytearray()
        self._data_ended = False
        self._final_seen = False

    def feed(self, piece: bytes) -> bytes:
        """Plaintext of every complete chunk received so far."""
        self._pending += piece
        if self._state is None:
            if len(self._pending) < HEADER:
                return b""
            self._start(bytes(self._pending[:HEADER]))
            del self._pending[:HEADER]
        out = []
        view = memoryview(self._pending)
        whole = len(view) - len(view) % CHUNK
        for start in range(0, whole, CHUNK):
            out.append(self._pull(bytes(view[start : start + CHUNK])))
        view.release()
        del self._pending[:whole]
        return b"".join(out)

    def finish(self) -> None:
        """Raise StreamError unless the stream ended exactly at its final tag."""
        if self._state is None:
            raise StreamError("the stream is shorter than its header")
        if not self._final_seen:
            raise StreamError("the stream is truncated: no final tag")
        if self._pending:
            raise StreamError("bytes after the final tag")

    def _start(self, header: bytes) -> None:
        if header[0] != STREAM_V1:
            raise FormatError("unknown format version of a stream")
        self._state = crypto_secretstream_xchacha20poly1305_state()
        try:
            crypto_secretstream_xchacha20poly1305_init_pull(self._state, header[1:], self._key)
        except (nacl.exceptions.CryptoError, ValueError, TypeError):
            raise StreamError("cannot start the stream with this key") from None

    def _pull(self, chunk: bytes) -> bytes:
        if self._final_seen:
            raise StreamError("bytes after the final tag")
        if self._state is None:
            raise StreamError("a chunk before the stream header")
        try:
            frame, tag = crypto_secretstream_xchacha20poly1305_pull(self._state, chunk, None)
        except nacl.exceptions.CryptoError:
            raise StreamError("a chunk failed authentication: wrong key, tampered, dropped or reordered") from None
        count = struct.unpack(">I", frame[:COUNT_BYTES])[0]
        if count > FRAME_DATA or (self._data_ended and count):
            raise StreamError("malformed frame")
        if count < FRAME_DATA:
            self._data_ended = True
        if tag == _TAG_FINAL:
            self._final_seen = True
        elif tag != _TAG_MESSAGE:
            raise StreamError("unexpected secretstream tag")
        if count == FRAME_DATA:
            return frame[COUNT_BYTES:]
        return frame[COUNT_BYTES : COUNT_BYTES + count]


def encrypt_stream(file_key: bytes, pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Ciphertext of the concatenated `pieces`, header first, as an iterator."""
    sealer = StreamSealer(file_key)
    yield sealer.header
    for piece in pieces:
        out = sealer.update(piece)
        if out:
            yield out
    yield from sealer.finish()


def decrypt_stream(file_key: bytes, pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Plaintext of a stored stream. Raises StreamError, at the latest at the end, if anything is wrong."""
    opener = StreamOpener(file_key)
    for piece in pieces:
        out = opener.feed(piece)
        if out:
            yield out
    opener.finish()
