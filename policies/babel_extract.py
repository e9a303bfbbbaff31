"""Babel extraction of the policy's reader-facing texts (office names, labels, hints,
descriptions, examples, state texts), so the catalogs translate the organization's own
words too. Configured in babel.cfg as `[policies.babel_extract:extract: policies/policy.toml]`.
"""

import tomllib
from collections.abc import Iterator
from typing import BinaryIO

TRANSLATED_KEYS = {
    "name",
    "handles",
    "label",
    "hint",
    "description",
    "reporter",
    "examples",
    "short",
    "message",
    "staff_security",
    "ombudsperson",
    "title",
}


def _strings(node: object, key: str | None = None) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for name, value in node.items():
            # Every deadline's source is shown to officers beside it, so all of [deadlines.sources] is text.
            yield from _strings(value, "sources" if key == "sources" else name)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, key)
    elif isinstance(node, str) and (key in TRANSLATED_KEYS or key == "sources"):
        yield key, node


def extract(
    fileobj: BinaryIO, keywords: object, comment_tags: object, options: object
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Yield (line, function, message, comments) for each translatable string of policy.toml."""
    text = fileobj.read().decode("utf-8")
    lines = text.splitlines()
    for key, message in _strings(tomllib.loads(text)):
        start = message[:40]
        # TOML escapes quotes; a line number is needed (catalog tools sort by it), so 1 if not found.
        line = next((n for n, row in enumerate(lines, 1) if start in row or start.replace('"', '\\"') in row), 1)
        yield line, None, message, [f"policy.toml: {key}"]
