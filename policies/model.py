"""Loading and validating policy.toml into plain frozen dataclasses.

A policy file with an error stops start-up: `load_policy` raises PolicyError with a
message that names what is wrong, so an editor of the file can fix it.
"""

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

CONCERN_IDS = ("retaliation", "misconduct", "both", "not_sure")
OFFICE_CODES = ("ECO", "OIG")


class PolicyError(ValueError):
    """The policy file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Office:
    code: str
    name: str
    handles: str


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    hint: str = ""


@dataclass(frozen=True)
class MisconductKind:
    id: str
    label: str
    description: str
    examples: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Policy:
    version: str
    offices: dict[str, Office]
    concerns: tuple[Choice, ...]
    routing: dict[str, tuple[str, ...]]
    misconduct_kinds: tuple[MisconductKind, ...]
    protected_activities: tuple[Choice, ...]
    adverse_actions: tuple[Choice, ...]
    regions: tuple[Choice, ...]

    def ids(self, field: str) -> set[str]:
        return {item.id for item in getattr(self, field)}

    def label(self, field: str, item_id: str) -> str:
        for item in getattr(self, field):
            if item.id == item_id:
                return item.label
        return item_id


def _text(table: dict, key: str, where: str, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise PolicyError(f"{where}: `{key}` must be a non-empty string")
    return value.strip()


def _choices(data: dict, key: str) -> tuple[Choice, ...]:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise PolicyError(f"[[{key}]]: at least one entry is required")
    seen: set[str] = set()
    out = []
    for n, item in enumerate(items, 1):
        where = f"[[{key}]] entry {n}"
        choice = Choice(_text(item, "id", where), _text(item, "label", where), _text(item, "hint", where, required=False))
        if choice.id in seen:
            raise PolicyError(f"{where}: duplicate id {choice.id!r}")
        seen.add(choice.id)
        out.append(choice)
    return tuple(out)


def parse_policy(text: str) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"policy file is not valid TOML: {error}") from None
    version = _text(data, "version", "top level")
    offices = {}
    for code in OFFICE_CODES:
        table = data.get("offices", {}).get(code)
        if not isinstance(table, dict):
            raise PolicyError(f"[offices.{code}] is missing")
        offices[code] = Office(code, _text(table, "name", f"[offices.{code}]"), _text(table, "handles", f"[offices.{code}]"))
    concerns = _choices(data, "concerns")
    if tuple(c.id for c in concerns) != CONCERN_IDS:
        raise PolicyError(f"[[concerns]]: the ids must be exactly {', '.join(CONCERN_IDS)}, in that order")
    routing = {}
    for concern in CONCERN_IDS:
        targets = data.get("routing", {}).get(concern)
        if not isinstance(targets, list) or not targets or any(t not in offices for t in targets):
            raise PolicyError(f"[routing] {concern}: must list one or more of {', '.join(OFFICE_CODES)}")
        routing[concern] = tuple(targets)
    kinds = []
    for n, item in enumerate(data.get("misconduct_kinds") or [], 1):
        where = f"[[misconduct_kinds]] entry {n}"
        examples = item.get("examples", [])
        if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
            raise PolicyError(f"{where}: `examples` must be a list of strings")
        kinds.append(MisconductKind(_text(item, "id", where), _text(item, "label", where),
                                    _text(item, "description", where), tuple(e.strip() for e in examples),
                                    _text(item, "source", where, required=False)))
    if not kinds or len({k.id for k in kinds}) != len(kinds):
        raise PolicyError("[[misconduct_kinds]]: at least one entry, and ids must be unique")
    return Policy(
        version=version,
        offices=offices,
        concerns=concerns,
        routing=routing,
        misconduct_kinds=tuple(kinds),
        protected_activities=_choices(data, "protected_activities"),
        adverse_actions=_choices(data, "adverse_actions"),
        regions=_choices(data, "regions"),
    )


@lru_cache(maxsize=4)
def load_policy(path: str | None = None) -> Policy:
    """The policy in `path`, or the one shipped with the package."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files(__package__).joinpath("policy.toml").read_text(encoding="utf-8")
    return parse_policy(text)
