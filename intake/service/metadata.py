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
from functools import lru_cache
from pathlib import Path, PurePosixPath

MAT2_TIMEOUT_SECONDS = 120
MEMORY_FILESYSTEMS = {"tmpfs", "ramfs"}


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


class CleaningRoom:
    """A private memory-backed directory holding one plaintext file while mat2 cleans it."""

    def __init__(self, name: str) -> None:
        suffix = PurePosixPath(name).suffix.lower()
        if not re.fullmatch(r"\.[a-z0-9]{1,10}", suffix):
            suffix = ""
        self.directory = Path(tempfile.mkdtemp(prefix="intake-", dir=memory_directory()))
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
