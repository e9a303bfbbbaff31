"""The policy's reader-facing words reach the translation catalogs, each with the line it is on,
and its ids and settings do not (a translated id would break routing and the stored answers).

Called in-process here; tests/test_i18n.py runs the same extractor through pybabel."""

import io

from policies.babel_extract import extract
from policies.model import shipped_policy_text

SHIPPED = shipped_policy_text()


def extracted(text: str) -> list[tuple[int, str | None, str, list[str]]]:
    return list(extract(io.BytesIO(text.encode("utf-8")), keywords=None, comment_tags=None, options={}))


def test_labels_hints_messages_and_every_deadline_source_are_extracted_on_their_line():
    messages = extracted(SHIPPED)
    lines = SHIPPED.splitlines()
    by_text = {message: (line, comments) for line, _, message, comments in messages}
    assert by_text["Harassment, bullying or abuse at work"][1] == ["policy.toml: label"]
    for line, _, message, _ in messages:
        assert message[:40] in lines[line - 1] or message[:40].replace('"', '\\"') in lines[line - 1], (line, message)
    sources = [m for _, _, m, comments in messages if comments == ["policy.toml: sources"]]
    assert any(s.startswith("Directive (EU) 2019/1937") for s in sources)


def test_ids_and_settings_are_not_extracted():
    messages = {message for _, _, message, _ in extracted(SHIPPED)}
    assert "harassment" not in messages  # a misconduct kind's id
    assert "received" not in messages  # a state's id
    assert "referral" not in messages  # a state's `via`
    assert "ECO" not in messages  # an office code


def test_a_string_found_on_no_line_is_put_on_line_one():
    """Catalog tools sort by line; a string TOML spells differently from the file (an escape) still gets one."""
    text = 'version = "1"\n[offices.ECO]\nname = "Ethics \\u0026 Conduct"\n'
    assert extracted(text) == [(1, None, "Ethics & Conduct", ["policy.toml: name"])]
