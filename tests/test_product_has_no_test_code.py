"""What only the tests use lives in tests/: the product installs no test dependency, exposes no
schema shortcut around the migrations and carries no test state on its Context."""

import ast
import tomllib
from pathlib import Path

import intake.store

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("crypto", "policies", "intake", "caseroom")


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_product_imports_neither_the_tests_nor_the_reference_argon2():
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            roots = imported_roots(path)
            assert "tests" not in roots, path
            assert "argon2" not in roots, path  # argon2-cffi is the tests' reference (tests/argon2_reference.py)


def test_argon2_cffi_is_a_test_dependency_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any(d.startswith("argon2-cffi") for d in project["dependencies"])
    assert any(d.startswith("argon2-cffi") for d in project["optional-dependencies"]["test"])


def test_a_database_is_made_only_by_the_migrations():
    assert not hasattr(intake.store, "create_schema")
    assert not hasattr(intake.store, "drop_schema")


def test_the_context_carries_no_test_state(ctx):
    assert "enrolments" not in " ".join(vars(ctx))
    source = (ROOT / "intake" / "service" / "context.py").read_text(encoding="utf-8")
    assert "test" not in source.lower()
