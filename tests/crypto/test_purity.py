"""crypto/ imports nothing of ours and no I/O layer: checked from the source itself."""

import ast
import sys
from pathlib import Path

CRYPTO = Path(__file__).resolve().parents[2] / "crypto"
ALLOWED_THIRD_PARTY = {"nacl"}  # argon2-cffi is the tests' reference only (tests/argon2_reference.py)
FORBIDDEN_STDLIB = {"os", "io", "socket", "subprocess", "shutil", "tempfile", "pathlib", "logging", "random"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_crypto_imports_only_stdlib_and_libsodium():
    sources = list(CRYPTO.glob("*.py"))
    assert sources
    for path in sources:
        for root in imported_roots(path):
            assert root in ALLOWED_THIRD_PARTY or root in sys.stdlib_module_names, f"{path.name} imports {root}"
            assert root not in FORBIDDEN_STDLIB, f"{path.name} imports {root}, an I/O module"
