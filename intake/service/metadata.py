"""Removing hidden information (author, device, GPS location) from evidence files with mat2.

mat2 works on files, so the plaintext has to exist as a file for a moment. It only ever
exists in a private directory on a memory-backed filesystem (tmpfs), which is removed
as soon as mat2 is done; if no such filesystem is available, files are not cleaned and
the reporter is told, rather than plaintext touching a disk.
"""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path, PurePosixPath

from policies.text import N_

from .errors import Busy

MAT2_TIMEOUT_SECONDS = 120
MEMORY_FILESYSTEMS = {"tmpfs", "ramfs"}
ROOM_PREFIX = "intake-"
# A room untouched this long belongs to no live upload (uploads stall out after a minute, mat2
# after two): one left by a killed process, its plaintext to be removed.
ABANDONED_AFTER_SECONDS = 15 * 60


@lru_cache(maxsize=1)
def mat2_path() -> str | None:
    return shutil.which("mat2")


@lru_cache(maxsize=1)
def supported_extensions() -> frozenset[str]:
    """The file extensions mat2 says it can clean (from `mat2 --list`)."""
    mat2 = mat2_path()
    if not mat2:
        return frozenset()
    listing = subprocess.run([mat2, "--list"], capture_output=True, text=True, timeout=60, check=False).stdout
    return frozenset(ext.lower() for ext in re.findall(r"\.([A-Za-z0-9]+)", listing))


@lru_cache(maxsize=1)
def memory_directory() -> Path | None:
    """A directory on a memory-backed filesystem, or None if the machine has none."""
    candidates = [os.environ.get("INTAKE_MEMORY_TMP"), "/dev/shm", f"/run/user/{os.getuid()}"]  # noqa: S108 (checked: tmpfs, private dirs)
    mounts = {}
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            mounts[fields[1]] = fields[2]
    except OSError:
        return None
    for candidate in filter(None, candidates):
        path = Path(candidate).resolve()
        if path.is_dir() and os.access(path, os.W_OK) and mounts.get(str(path)) in MEMORY_FILESYSTEMS:
            return path
    return None


def can_clean(name: str) -> bool:
    """Whether a file of this name is one mat2 cleans, and there is somewhere safe to do it."""
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    return bool(suffix) and suffix in supported_extensions() and memory_directory() is not None


class CleaningRooms:
    """At most `count` cleaning rooms open at once in this process: each holds up to
    max_clean_bytes of plaintext in memory and may run a mat2, so together they are bounded.
    A file that finds none free is refused (503 with Retry-After), not stored uncleaned."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._slots = threading.BoundedSemaphore(count) if count > 0 else None

    def open(self, name: str) -> "CleaningRoom":
        if self._slots is None or not self._slots.acquire(blocking=False):
            raise Busy(
                30,
                N_(
                    "Many files are being cleaned of hidden information right now, so this upload was not kept. "
                    "Please send it again in a minute."
                ),
            )
        try:
            return CleaningRoom(name, self._slots.release)
        except BaseException:
            self._slots.release()
            raise


class CleaningRoom:
    """A private memory-backed directory holding one plaintext file while mat2 cleans it."""

    def __init__(self, name: str, on_remove=lambda: None) -> None:
        suffix = PurePosixPath(name).suffix.lower()
        if not re.fullmatch(r"\.[a-z0-9]{1,10}", suffix):
            suffix = ""
        self._on_remove = on_remove
        self.directory = Path(tempfile.mkdtemp(prefix=ROOM_PREFIX, dir=memory_directory()))
        self.path = self.directory / f"evidence{suffix}"
        self.file = open(self.path, "xb")  # noqa: SIM115 (held open while the upload streams in)

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def clean(self) -> bool:
        """Run mat2 in place; True if it succeeded."""
        self.file.close()
        mat2 = mat2_path()
        if mat2 is None:
            return False
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": str(self.directory), "HOME": str(self.directory)}
        try:
            done = subprocess.run(
                [mat2, "--inplace", str(self.path)],
                env=env,
                capture_output=True,
                timeout=MAT2_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0

    def read(self, block: int = 1024 * 1024):
        if not self.file.closed:
            self.file.close()
        with open(self.path, "rb") as cleaned:
            while data := cleaned.read(block):
                yield data

    def remove(self) -> None:
        if not self.file.closed:
            self.file.close()
        shutil.rmtree(self.directory, ignore_errors=True)
        self._on_remove, release = (lambda: None), self._on_remove
        release()


def sweep_rooms(older_than: float = ABANDONED_AFTER_SECONDS) -> int:
    """Remove cleaning rooms a killed process left behind, with the plaintext in them (at start-up
    and by `intake purge`). Rooms of live uploads are written to, or closed, well within the age."""
    directory = memory_directory()
    if directory is None:
        return 0
    cutoff, removed = time.time() - older_than, 0
    for room in directory.glob(f"{ROOM_PREFIX}*"):
        try:
            if not room.is_dir() or room.stat().st_uid != os.getuid():
                continue
            newest = max([room.stat().st_mtime, *(p.stat().st_mtime for p in room.iterdir())])
        except OSError:
            continue
        if newest < cutoff:
            shutil.rmtree(room, ignore_errors=True)
            removed += 1
    return removed
