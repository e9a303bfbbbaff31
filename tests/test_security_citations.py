"""SECURITY.md and README.md name code: files, functions, tables and columns, tests, commands and
settings. A reader follows those names to check a promise, so each must exist (#24, "The page and
the code disagree": SECURITY.md cited `read_small_form ... max_files=0`, `officers._case_key`,
`reporting.add_message`, and README's command table lacked `intake office rotate`)."""

import argparse
import importlib
import inspect
import re
from pathlib import Path

import pytest
from sqlmodel import SQLModel

import intake.store  # noqa: F401  (the tables)
from intake import cli

ROOT = Path(__file__).parents[1]
SECURITY = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
TOP_DIRS = ("intake", "crypto", "policies", "caseroom", "tests", "deploy", "security", "loadtests")
# Where a module named by its last part (`officers.authenticate`) may live.
PACKAGES = ("intake.service", "intake", "intake.web", "intake.api", "policies", "caseroom", "crypto")
# The shipped code and configuration (not the tests, which name what they look for).
SOURCES = [
    p
    for d in ("intake", "crypto", "policies", "caseroom", "deploy")
    for p in (ROOT / d).rglob("*")
    if p.suffix in {".py", ".toml", ".html", ".conf"}
]
SOURCE_TEXT = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in SOURCES)
TEST_TEXT = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py") if p.name != Path(__file__).name)
TABLES = {table.name: {c.name for c in table.columns} for table in SQLModel.metadata.sorted_tables}

IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"


def cited(text: str) -> list[str]:
    """Every distinct text in backticks, in order."""
    return list(dict.fromkeys(re.findall(r"`([^`\n]+)`", text)))


def module_named(dotted: str):
    """The module a path like intake/web/forms.py or a name like `officers` stands for, or None."""
    if dotted.endswith(".py"):
        return importlib.import_module(dotted[:-3].replace("/", "."))
    for package in PACKAGES:
        name = dotted if package == dotted else f"{package}.{dotted}"
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            continue
    return None


def resolves(module, attribute_path: str) -> bool:
    """The name is defined where it is cited: a function or class a plain module only imports is
    cited at the wrong place (`reporting.add_message` is casefiles.py's); a package may re-export."""
    target = module
    for part in attribute_path.split("."):
        if not hasattr(target, part):
            return False
        target = getattr(target, part)
    if hasattr(module, "__path__") or not (inspect.isfunction(target) or inspect.isclass(target)):
        return True
    first = getattr(module, attribute_path.split(".")[0])
    return getattr(first, "__module__", module.__name__) == module.__name__


def command_exists(words: list[str]) -> str | None:
    """Why `intake <words>` is not a command of intake/cli.py's parser, or None if it is."""
    current = cli.parser()
    trail = ["intake"]
    for word in words:
        if word.startswith("-"):
            option = word.split("=")[0]
            if option not in current._option_string_actions:
                return f"`{' '.join(trail)}` has no option {option}"
            continue
        subparsers = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if subparsers:
            if word not in subparsers[0].choices:
                return f"`{' '.join(trail)}` has no command {word!r}"
            current = subparsers[0].choices[word]
            trail.append(word)
    if any(isinstance(a, argparse._SubParsersAction) for a in current._actions):
        return f"`{' '.join(trail)}` is not a whole command"
    return None


def problem(token: str) -> str | None:
    """What is wrong with one cited name, or None where it exists (or is not a name of code)."""
    token = token.strip()
    if m := re.fullmatch(r"((?:{})/[\w./-]+\.py)::(test_\w+)".format("|".join(TOP_DIRS)), token):
        path, test = m.groups()
        if not (ROOT / path).is_file():
            return f"no file {path}"
        return None if re.search(rf"^\s*(async )?def {test}\b", (ROOT / path).read_text(), re.M) else f"no {test} in {path}"
    if m := re.fullmatch(r"((?:{})/[\w./-]+\.py):({}(?:\.{})*)".format("|".join(TOP_DIRS), IDENTIFIER, IDENTIFIER), token):
        path, name = m.groups()
        if not (ROOT / path).is_file():
            return f"no file {path}"
        return None if resolves(module_named(path), name) else f"{path} defines no {name}"
    if m := re.fullmatch(rf"(intake(?:\.\w+)*):({IDENTIFIER})", token):
        module, name = m.groups()
        return None if resolves(importlib.import_module(module), name) else f"{module} defines no {name}"
    if re.fullmatch(r"(?:{})/[\w./-]*".format("|".join(TOP_DIRS)), token):
        return None if (ROOT / token).exists() else f"no file or folder {token}"
    if token.startswith("intake ") and re.fullmatch(r"intake [a-z -]+(?: [A-Z-]+| \S+)*", token):
        words = [w for w in token.split()[1:] if not re.fullmatch(r"[A-Z][A-Z0-9:_-]*|\S*[|\[\].]\S*", w)]
        return command_exists(words)
    if re.fullmatch(r"[\w-]+\.py", token):  # a file named without its folder
        return None if any(p.name == token for p in SOURCES) else f"no file {token}"
    if m := re.fullmatch(rf"({IDENTIFIER})\.({IDENTIFIER}(?:\.{IDENTIFIER})*)", token):
        head, rest = m.groups()
        if head in TABLES:
            return None if rest in TABLES[head] else f"table {head} has no column {rest}"
        module = module_named(head)
        if module is not None and module.__name__.split(".")[0] in {"intake", "crypto", "policies", "caseroom"}:
            return None if resolves(module, rest) else f"{module.__name__} defines no {rest}"
        return None
    if re.fullmatch(r"test_\w+", token):
        found = any(re.search(rf"^\s*(async )?def {token}\b", p.read_text(), re.M) for p in (ROOT / "tests").rglob("test_*.py"))
        return None if found else f"no test named {token}"
    if re.fullmatch(r"[A-Z][a-z]+(?:[A-Z0-9][a-z0-9]*)+", token):  # a class: FileSink, Argon2Gate
        return None if re.search(rf"^\s*class {token}\b", SOURCE_TEXT, re.M) else f"no class {token}"
    if m := re.fullmatch(r"(INTAKE_[A-Z0-9_]+)(=.*)?", token):  # a setting (or a test suite's, in tests/)
        return None if m.group(1) in SOURCE_TEXT + TEST_TEXT else f"no setting {m.group(1)}"
    if m := re.fullmatch(r"([a-z_]+)=(\w+)", token):  # a keyword argument, pragma or form field the code uses
        name, value = m.groups()
        said = token in SOURCE_TEXT.replace(" = ", "=") or (f'"{name}"' in SOURCE_TEXT and f'"{value}"' in SOURCE_TEXT)
        return None if said else f"the code nowhere says {token}"
    return None


def test_every_name_security_md_cites_exists():
    """#24 (page and code): SECURITY.md cited `officers._case_key`, `reporting.add_message` and
    `max_files=0`, which the code does not have."""
    problems = [f"`{token}`: {why}" for token in cited(SECURITY) if (why := problem(token))]
    assert not problems, "SECURITY.md cites what is not there:\n" + "\n".join(problems)


def test_every_name_readme_cites_exists():
    problems = [f"`{token}`: {why}" for token in cited(README) if (why := problem(token))]
    assert not problems, "README.md cites what is not there:\n" + "\n".join(problems)


def commands_of(parser: argparse.ArgumentParser, trail: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        return [trail]
    return [c for name, sub in subparsers[0].choices.items() for c in commands_of(sub, (*trail, name))]


def test_readmes_command_table_lists_every_command():
    """#24 (page and code): README's command table lacked `intake office rotate`."""
    table = README[README.index("| command | what it does |") :].split("\n\n")[0]
    first_cells = [row.split(" | ")[0] for row in table.splitlines()[2:]]
    listed = " ".join(first_cells)
    missing = []
    for command in commands_of(cli.parser()):
        *group, name = command
        if not re.search(r"`intake {}\b[^`]*\b{}\b".format(" ".join(group), name), listed) and not re.search(
            r"`intake {}\b".format(" ".join(command)), listed
        ):
            missing.append(" ".join(command))
    assert not missing, f"README's command table does not list: {missing}"


@pytest.mark.parametrize(
    "token",
    [
        "officers._case_key",
        "reporting.add_message",
        "intake/web/forms.py:no_such_function",
        "max_files=0",
        "intake office turn",
        "intake officer add --no-such-option",
        "case_file.no_such_column",
        "tests/test_cli.py::test_no_such_test",
        "test_no_such_test_anywhere",
        "NoSuchClass",
        "INTAKE_NO_SUCH_SETTING",
        "tests/no_such_file.py",
    ],
)
def test_the_check_catches_a_name_that_is_not_there(token):
    """The check itself can fail: each of these is reported."""
    assert problem(token) is not None
