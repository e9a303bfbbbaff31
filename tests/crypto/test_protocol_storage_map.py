"""PROTOCOL.md's storage map against the schema: a column that holds key material or ciphertext
cannot be added without the page naming it, and the page names no column that is gone."""

import re
from pathlib import Path

from sqlalchemy import LargeBinary
from sqlmodel import SQLModel

import intake.store  # noqa: F401  (the tables)

PROTOCOL = (Path(__file__).parents[2] / "crypto" / "PROTOCOL.md").read_text(encoding="utf-8")
STORAGE_MAP = PROTOCOL[PROTOCOL.index("### 11.3 Tables") : PROTOCOL.index("### 11.4 Ids")]
# Text columns that hold a derived value (a keyed digest), which the type alone does not show.
DERIVED_TEXT = {"budget.key", "login_attempts.key"}


def schema_columns() -> dict[str, object]:
    return {f"{table.name}.{column.name}": column for table in SQLModel.metadata.sorted_tables for column in table.columns}


def named_in_the_map() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", STORAGE_MAP, flags=re.MULTILINE))


def test_every_binary_column_and_every_derived_value_is_named():
    columns = schema_columns()
    binary = {name for name, column in columns.items() if isinstance(column.type, LargeBinary)}
    assert binary, "the schema has binary columns: this test must see them"
    missing = sorted((binary | DERIVED_TEXT) - named_in_the_map())
    assert not missing, f"PROTOCOL.md section 11.3 does not name {missing}"


def test_the_map_names_only_columns_that_exist():
    stale = sorted(named_in_the_map() - set(schema_columns()))
    assert not stale, f"PROTOCOL.md section 11.3 names columns the schema does not have: {stale}"


def test_a_new_binary_column_would_be_caught():
    """The check itself can fail: a column the page does not name is reported."""
    from sqlalchemy import Column, MetaData, Table

    extra = Table("case_file_extra", MetaData(), Column("secret", LargeBinary))
    names = {f"{extra.name}.{c.name}" for c in extra.columns if isinstance(c.type, LargeBinary)}
    assert names - named_in_the_map() == {"case_file_extra.secret"}


CLEAR_COLUMNS = PROTOCOL[PROTOCOL.index("### 11.5 Clear columns") : PROTOCOL.index("## 12. Record kinds")]


def named_as_clear() -> set[str]:
    """`table`: `column`, ... rows of section 11.5."""
    named = set()
    for table, cells in re.findall(r"^\| `([a-z_]+)` \| (.*) \|$", CLEAR_COLUMNS, flags=re.MULTILINE):
        named |= {f"{table}.{column}" for column in re.findall(r"`([a-z_]+)`", cells)}
    return named


def test_every_column_of_the_schema_is_in_the_storage_map():
    """#24 (page and code): `attachment.stored_size` and several clear columns were in no table of
    PROTOCOL.md; a stranger could not tell whether they held anything of a case."""
    missing = sorted(set(schema_columns()) - named_in_the_map() - named_as_clear())
    assert not missing, f"PROTOCOL.md sections 11.3 and 11.5 do not name {missing}"
    stale = sorted(named_as_clear() - set(schema_columns()))
    assert not stale, f"PROTOCOL.md section 11.5 names columns the schema does not have: {stale}"
