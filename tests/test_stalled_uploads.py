"""A client that stops sending mid-upload, against `intake serve` for real: the plaintext held
for cleaning and the partial blob are gone once the idle time passes, and what a killed process
left in memory is removed when the service starts."""

import os
import socket
import tempfile
import time
from pathlib import Path

import pytest

from intake.service import metadata

from .files import jpeg_with_gps
from .server import init_demo, server_process

pytestmark = pytest.mark.server

ENV = {"INTAKE_DATABASE_URL": "", "INTAKE_UPLOAD_IDLE_SECONDS": "2"}


@pytest.fixture
def memory():
    directory = metadata.memory_directory()
    if directory is None or metadata.mat2_path() is None:
        pytest.skip("mat2 or a memory filesystem is missing here")
    return directory


def rooms(memory: Path) -> set[Path]:
    return set(memory.glob(f"{metadata.ROOM_PREFIX}*"))


def test_a_stalled_upload_is_dropped_with_its_plaintext_and_partial_blob(tmp_path, memory):
    init_demo(tmp_path / "var", ENV)
    before = rooms(memory)
    with server_process(tmp_path / "var", ENV) as server:
        port = int(server.base.rsplit(":", 1)[1])
        image = jpeg_with_gps()
        boundary = "stallboundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="report"\r\n\r\n'
            '{"concerns": ["misconduct"], "description": "stalled"}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="photo.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode() + image[: len(image) // 2]
        with socket.create_connection(("127.0.0.1", port)) as connection:
            connection.sendall(
                (
                    "POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Intake-Client: tests\r\n"
                    f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(head) + 10_000}\r\n\r\n"
                ).encode()
                + head
            )
            time.sleep(1)
            held = rooms(memory) - before
            assert len(held) == 1  # half a photo, in memory, waiting for its end
            assert list((tmp_path / "var" / "blobs" / "partial").iterdir())
            connection.settimeout(15)
            answer = b""
            while piece := connection.recv(65536):  # the server closes after its answer
                answer += piece
        assert answer.startswith(b"HTTP/1.1 408")
        assert b"Nothing was kept" in answer
        assert not any(room.exists() for room in held)
        assert not list((tmp_path / "var" / "blobs" / "partial").iterdir())


def test_rooms_left_by_a_killed_process_are_swept_at_start_up(tmp_path, memory):
    init_demo(tmp_path / "var", ENV)
    left = Path(tempfile.mkdtemp(prefix=metadata.ROOM_PREFIX, dir=memory))
    (left / "evidence.jpg").write_bytes(b"plaintext a killed process left")
    old = time.time() - 3600
    os.utime(left / "evidence.jpg", (old, old))
    os.utime(left, (old, old))
    live = Path(tempfile.mkdtemp(prefix=metadata.ROOM_PREFIX, dir=memory))  # another process's upload, under way
    try:
        with server_process(tmp_path / "var", ENV):
            pass
        assert not left.exists() and live.exists()
    finally:
        for room in (left, live):
            if room.exists():
                for item in room.iterdir():
                    item.unlink()
                room.rmdir()
