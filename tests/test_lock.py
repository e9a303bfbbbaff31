"""The lock: every dependency pyproject.toml declares is pinned with hashes, and an install is the lock.

requirements/lock.py writes requirements/test.txt (runtime, build and test extras) and
requirements/runtime.txt (what the container installs) from pyproject.toml. These tests read both
files as pip would, and the slow one installs a fresh environment with the very commands `make`
runs, then compares what is installed with what is locked.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
TEST_LOCK = ROOT / "requirements" / "test.txt"
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"


def load_lock_module() -> ModuleType:
    """requirements/lock.py is a script, not a package: loaded by path, as `make` runs it."""
    spec = importlib.util.spec_from_file_location("requirements_lock", ROOT / "requirements" / "lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LOCK = load_lock_module()


def entries(lock: Path) -> list[tuple[Requirement, list[str]]]:
    """Each requirement of a lock file with its hashes, continuation lines joined as pip joins them."""
    text = re.sub(r"\\\n", " ", lock.read_text())
    found = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"{lock.name}: an option line pip would follow: {line}"
        spec, *options = line.split(" --hash=")
        found.append((Requirement(spec), [option.strip() for option in options]))
    return found


def pins(lock: Path) -> dict[str, list[tuple[str, Requirement]]]:
    """Package name -> its pinned versions, each with the line's markers (a universal lock may fork
    a package by Python version)."""
    result: dict[str, list[tuple[str, Requirement]]] = {}
    for requirement, _ in entries(lock):
        (specifier,) = requirement.specifier
        result.setdefault(canonicalize_name(requirement.name), []).append((specifier.version, requirement))
    return result


def declared(*groups: str) -> list[Requirement]:
    """pyproject.toml's requirements of the named groups (build, runtime, test)."""
    lists = LOCK.declared()
    return [Requirement(line) for group in groups for line in lists[group]]


@pytest.mark.parametrize("lock", [TEST_LOCK, RUNTIME_LOCK], ids=["test", "runtime"])
def test_every_locked_line_is_one_exact_version_with_hashes(lock):
    locked = entries(lock)
    assert locked, f"{lock.name} locks nothing"
    for requirement, hashes in locked:
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{requirement} is not pinned to one version"
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), f"{requirement.name} has no sha256 hash"
        assert requirement.url is None and not requirement.extras, f"{requirement} is not a plain pinned name"


@pytest.mark.parametrize(
    ("lock", "groups"), [(TEST_LOCK, ("build", "runtime", "test")), (RUNTIME_LOCK, ("build", "runtime"))], ids=["test", "runtime"]
)
def test_the_lock_covers_every_declared_dependency_at_a_version_it_allows(lock, groups):
    locked = pins(lock)
    here = default_environment()
    for requirement in declared(*groups):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is declared in pyproject.toml but not in {lock.name}"
        # The version this Python would install satisfies what pyproject.toml asks for.
        versions = [version for version, line in locked[name] if line.marker is None or line.marker.evaluate(here)]
        assert versions, f"{lock.name} has no {name} for this Python"
        assert all(requirement.specifier.contains(v, prereleases=True) for v in versions), (name, versions, requirement)
        for extra in requirement.extras:  # psycopg[binary] brings psycopg-binary: it must be locked too
            assert extra != "binary" or "psycopg-binary" in locked


def test_pytest_cov_and_httpx2_are_locked():
    """Coverage runs in `make test`; Starlette's TestClient is built on httpx2 (plain httpx there warns)."""
    locked = pins(TEST_LOCK)
    assert "pytest-cov" in locked and "httpx2" in locked


def test_the_container_gets_the_test_lock_s_versions():
    """One resolution: the runtime lock is cut from the test lock, so the image runs what the tests ran."""
    test, runtime = pins(TEST_LOCK), pins(RUNTIME_LOCK)
    for name, versions in runtime.items():
        assert name in test, f"{name} is in the runtime lock but not in the test lock"
        assert {v for v, _ in versions} <= {v for v, _ in test[name]}, name


def test_both_locks_were_written_from_what_pyproject_declares():
    assert LOCK.stale_locks() == [], "run `make lock`"
    assert LOCK.recorded_digest(TEST_LOCK) == LOCK.recorded_digest(RUNTIME_LOCK) == LOCK.inputs_digest()


def test_a_changed_dependency_makes_both_locks_stale_and_ci_fail(tmp_path):
    """The check .ci/run and `make check` run: a new or loosened dependency without `make lock` fails."""
    for change in (
        ('    "pyotp>=2.9",\n', '    "pyotp>=2.9",\n    "requests>=2",\n'),  # a new runtime dependency
        ('    "pytest>=8",\n', '    "pytest>=7",\n'),  # a loosened test dependency
        ('requires = ["setuptools>=70.1"]', 'requires = ["setuptools>=61"]'),  # another build backend
    ):
        source = (ROOT / "pyproject.toml").read_text()
        assert change[0] in source, change
        edited = tmp_path / "pyproject.toml"
        edited.write_text(source.replace(change[0], change[1], 1))
        assert LOCK.stale_locks(edited) == [RUNTIME_LOCK, TEST_LOCK], change

    # Settings that are not dependencies (here a ruff option) leave the lock valid.
    edited.write_text((ROOT / "pyproject.toml").read_text().replace("line-length = 130", "line-length = 120"))
    assert LOCK.stale_locks(edited) == []

    # A lock without its inputs line is stale too: hand-edited or written by another tool.
    bare = tmp_path / "test.txt"
    bare.write_text("\n".join(TEST_LOCK.read_text().splitlines()[1:]))
    assert LOCK.stale_locks(ROOT / "pyproject.toml", (bare,)) == [bare]


def test_the_check_is_the_script_ci_runs_and_it_exits_non_zero_when_stale(tmp_path):
    copy = tmp_path / "project"
    (copy / "requirements").mkdir(parents=True)
    for name in ("pyproject.toml", "requirements/lock.py", "requirements/test.txt", "requirements/runtime.txt"):
        shutil.copy2(ROOT / name, copy / name)
    script = [sys.executable, str(copy / "requirements" / "lock.py"), "check"]
    env = {"PATH": os.environ["PATH"]}
    assert subprocess.run(script, capture_output=True, env=env, timeout=30, check=False).returncode == 0
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('    "jinja2>=3.1",\n', ""))
    stale = subprocess.run(script, capture_output=True, text=True, env=env, timeout=30, check=False)
    assert stale.returncode == 1 and "make lock" in stale.stderr
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 requirements/lock.py check" in ci.split("make check")[0], ".ci/run checks the lock before anything else"


def make_install_recipe() -> list[str]:
    """The commands `make` runs to install the environment, as make itself prints them."""
    done = subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", ".venv/.installed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if line.strip()]


def test_make_installs_only_from_the_lock_with_hashes_and_the_project_without_dependencies():
    recipe = make_install_recipe()
    installs = [line for line in recipe if " pip install" in line]
    assert installs == [
        ".venv/bin/python -m pip install --quiet --require-hashes -r requirements/test.txt",
        ".venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .",
    ], recipe


def test_the_container_installs_the_runtime_lock_with_hashes_and_the_project_without_dependencies():
    dockerfile = (ROOT / "deploy" / "container" / "Dockerfile").read_text()
    pip_lines = [line.strip() for line in re.findall(r"pip install[^\n\\]*", dockerfile)]
    assert pip_lines == [
        "pip install --no-cache-dir --require-hashes -r /opt/intake/requirements/runtime.txt",
        "pip install --no-cache-dir --no-deps --no-build-isolation /opt/intake",
    ], pip_lines
    assert "COPY requirements/runtime.txt /opt/intake/requirements/runtime.txt" in dockerfile


def installed(python: Path) -> dict[str, str]:
    frozen = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return {canonicalize_name(line.split("==")[0]): line.split("==")[1] for line in frozen.splitlines() if "==" in line}


def locked_for_this_python(lock: Path) -> dict[str, str]:
    here = default_environment()
    return {
        name: version
        for name, versions in pins(lock).items()
        for version, line in versions
        if line.marker is None or line.marker.evaluate(here)
    }


@pytest.mark.slow
@pytest.mark.server
def test_a_fresh_environment_from_the_make_recipe_is_exactly_the_lock(tmp_path):
    """What `make test` installs, run as make prints it into an empty directory: the installed
    versions are the locked ones, nothing more, nothing less (pip itself aside)."""
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv", "var", "test-artifacts", "node_modules", ".git"))
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for line in make_install_recipe():
        subprocess.run(line, shell=True, cwd=project, env=env, check=True, timeout=900, capture_output=True)  # noqa: S602 - make's own recipe
    got = installed(project / ".venv" / "bin" / "python")
    got.pop("pip", None)
    assert got == locked_for_this_python(TEST_LOCK)
