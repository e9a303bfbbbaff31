"""The dependency lock: written from pyproject.toml by `make lock`, checked against it by CI.

Two files, one resolution:
  requirements/test.txt     what `make run` and `make test` install: runtime, build and test extras;
  requirements/runtime.txt  what the container installs: runtime and build only, at the test lock's versions.
Every line is pinned (`==`) with the hashes of every file PyPI serves for that version, so
`pip install --require-hashes` gets byte-for-byte what was locked, or stops.

Each file starts with `# inputs: sha256:...`, a digest of the declarations it was written from.
`check` recomputes that digest from pyproject.toml alone (standard library, no network, a few
milliseconds), so CI fails the moment someone edits a dependency without running `make lock`.

Usage: python3 requirements/lock.py check | write [--upgrade]
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"
TEST_LOCK = ROOT / "requirements" / "test.txt"
LOCKS = (RUNTIME_LOCK, TEST_LOCK)
MARK = "# inputs: sha256:"
# The oldest Python the project supports: the resolution is universal (markers for other
# platforms and newer Pythons), but its versions must install on this one.
PYTHON_VERSION = "3.11"


def declared(pyproject: Path = PYPROJECT) -> dict[str, list[str]]:
    """What the lock is written from: build requirements, runtime dependencies and the test extra."""
    project = tomllib.loads(pyproject.read_text())
    return {
        "requires-python": [project["project"].get("requires-python", "")],
        "build": sorted(project["build-system"]["requires"]),
        "runtime": sorted(project["project"]["dependencies"]),
        "test": sorted(project["project"]["optional-dependencies"]["test"]),
    }


def inputs_digest(pyproject: Path = PYPROJECT) -> str:
    """A digest of the declarations only, so reformatting or tool settings in pyproject.toml
    do not make the lock stale; any change to what is required does."""
    canonical = json.dumps(declared(pyproject), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def recorded_digest(lock: Path) -> str | None:
    """The digest a lock file says it was written from, or None when it says none."""
    if not lock.is_file():
        return None
    for line in lock.read_text().splitlines()[:5]:
        if line.startswith(MARK):
            return line.removeprefix(MARK).strip()
    return None


def stale_locks(pyproject: Path = PYPROJECT, locks: tuple[Path, ...] = LOCKS) -> list[Path]:
    """The lock files that were not written from what pyproject.toml declares now."""
    wanted = inputs_digest(pyproject)
    return [lock for lock in locks if recorded_digest(lock) != wanted]


def check() -> int:
    stale = stale_locks()
    for lock in stale:
        sys.stderr.write(f"{lock.relative_to(ROOT)} does not match pyproject.toml's dependencies: run `make lock`\n")
    return 1 if stale else 0


def uv() -> str:
    """uv from the project's environment (it is in the test extra), else from PATH."""
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if not found:
        raise SystemExit("uv is not installed: run `make lock` (it installs the test extra first)")
    return found


def compile_lock(output: Path, extra_args: list[str], build: list[str], upgrade: bool) -> None:
    """One `uv pip compile`, then the inputs digest as the file's first line."""
    # The build backend is locked too: the project itself is installed with --no-build-isolation.
    # A fixed name (not a temporary one) keeps the lock's "via" notes the same from run to run.
    build_in = ROOT / "requirements" / "build-system.in"
    build_in.write_text("\n".join(build) + "\n")
    command = [
        uv(),
        "pip",
        "compile",
        "--quiet",
        "--universal",
        "--python-version",
        PYTHON_VERSION,
        "--generate-hashes",
        "--no-header",
        "--output-file",
        str(output.relative_to(ROOT)),
        *(["--upgrade"] if upgrade else []),
        *extra_args,
        "pyproject.toml",
        str(build_in.relative_to(ROOT)),
    ]
    try:
        subprocess.run(command, cwd=ROOT, check=True, env={**os.environ, "UV_NO_CONFIG": "1"})
    finally:
        build_in.unlink()
    body = output.read_text()
    header = (
        f"{MARK}{inputs_digest()}\n"
        "# Written by `make lock` (requirements/lock.py) from pyproject.toml; do not edit by hand.\n"
        "# Install with: pip install --require-hashes -r " + str(output.relative_to(ROOT)) + "\n"
    )
    output.write_text(header + body)


def write(upgrade: bool) -> None:
    build = declared()["build"]
    # The test lock is the one resolution; the runtime lock is cut from it, so both agree on versions.
    compile_lock(TEST_LOCK, ["--extra", "test"], build, upgrade)
    compile_lock(RUNTIME_LOCK, ["--constraint", str(TEST_LOCK.relative_to(ROOT))], build, upgrade=False)


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        return check()
    if argv[:1] == ["write"]:
        write(upgrade="--upgrade" in argv[1:])
        return check()
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
