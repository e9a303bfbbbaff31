"""File objects over an encrypted stream (crypto.stream): one that encrypts what is written into
it, one that reads the plaintext of a stream. Backups and case bundles are tar archives passed
through these, so that neither is ever written in the clear."""

import io

from crypto import StreamOpener, StreamSealer
from crypto.stream import CHUNK

READ_BLOCK = 1024 * 1024


class EncryptingWriter(io.RawIOBase):
    """A write-only file object that encrypts everything written into `target`."""

    def __init__(self, target, key: bytes) -> None:
        self.target = target
        self.sealer = StreamSealer(key)
        target.write(self.sealer.header)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.target.write(self.sealer.update(bytes(data)))
        return len(data)

    def finish(self) -> None:
        for chunk in self.sealer.finish():
            self.target.write(chunk)


class DecryptingReader(io.RawIOBase):
    """A read-only file object of the plaintext of an encrypted stream in `source`.

    `opened` says whether any chunk has opened yet: a failure before the first one is a wrong key
    (or a damaged start), one after it is damage or a cut."""

    def __init__(self, source, key: bytes) -> None:
        self.source = source
        self.opener = StreamOpener(key)
        self.buffer = bytearray()
        self.ended = False
        self.opened = False

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self.buffer and not self.ended:
            block = self.source.read(READ_BLOCK)
            if not block:
                self.opener.finish()
                self.ended = True
            else:
                for start in range(0, len(block), CHUNK):  # chunk by chunk, so `opened` is exact
                    plaintext = self.opener.feed(block[start : start + CHUNK])
                    self.opened = self.opened or bool(plaintext)
                    self.buffer += plaintext
        n = min(len(target), len(self.buffer))
        target[:n] = self.buffer[:n]
        del self.buffer[:n]
        return n

    def drain(self) -> None:
        """Read to the end, so the final tag is checked."""
        while self.read(READ_BLOCK):
            pass
