"""Alembic migrations on the suite's database (SQLite, or PostgreSQL with TEST_DATABASE_URL):
from empty to head they make exactly the models' schema, and a database made by the
previous revision, with data in it, still decrypts after the upgrade."""

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, insert
from sqlmodel import SQLModel

from crypto import derive_reporter_secrets, generate_passphrase, lookup_digest, new_key, seal_record, wrap_case_key
from intake.service import casework, officers, reporting
from intake.service.context import Context
from intake.settings import Instance, Settings
from intake.store import drop_schema, make_engine, migrate, schema_revision

from .conftest import CHEAP_ARGON2, PASSWORDS, database_url


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(database_url(tmp_path))
    drop_schema(engine)
    yield engine
    drop_schema(engine)
    engine.dispose()


def test_migrations_make_exactly_the_models_schema(engine):
    migrate(engine)
    assert schema_revision(engine)[0] == schema_revision(engine)[1]
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_a_database_of_the_previous_revision_with_data_still_decrypts_after_upgrade(engine, tmp_path):
    migrate(engine, "0001")
    settings = Settings(data_dir=tmp_path / "data", database_url=str(engine.url.render_as_string(hide_password=False)))
    settings.write_instance(Instance.create(CHEAP_ARGON2))
    ctx = Context.from_settings(settings)
    officers.found_office(ctx, "ECO", "eco-1", PASSWORDS["eco-1"])
    officers.found_office(ctx, "OIG", "oig-1", PASSWORDS["oig-1"])

    # A case exactly as revision 0001's code stored it: status, acknowledgement and unread on case_file.
    passphrase, case_id, key = generate_passphrase(), "ECO-0000000001", new_key()
    reporter = derive_reporter_secrets(passphrase, ctx.instance.instance_salt, ctx.instance.argon2)
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as db:
        eco_public = db.execute(tables.tables["office"].select().where(tables.tables["office"].c.code == "ECO")).one().public_key
        officer_id = db.execute(tables.tables["officer"].select().where(tables.tables["officer"].c.username == "eco-1")).one().id
        db.execute(insert(tables.tables["case_file"]).values(
            id=case_id, office="ECO", report_id="R-1", lookup=lookup_digest(reporter.lookup, ctx.instance.lookup_key),
            status="acknowledged", policy_version="2026.1", received_on=dt.date(2026, 1, 5), acknowledged_on=dt.date(2026, 1, 7),
            unread=True, report=seal_record(key, b"made by revision 0001", case_id, "report", case_id),
            answers=seal_record(key, json.dumps({"concerns": ["retaliation"], "misconduct_kinds": [], "protected_activity": None,
                                                 "adverse_actions": [], "happened": "", "region": None}).encode(), case_id, "answers", case_id)))
        db.execute(insert(tables.tables["casekeywrap"]), [
            {"case_id": case_id, "holder": "office:ECO", "wrap": wrap_case_key(key, eco_public, case_id)},
            {"case_id": case_id, "holder": "reporter", "wrap": wrap_case_key(key, reporter.public_key, case_id)}])
        db.execute(insert(tables.tables["message"]).values(
            id="M-1", case_id=case_id, author="officer", officer_id=officer_id, sent_on=dt.date(2026, 1, 6),
            body=seal_record(key, b"a reply from 0001", case_id, "message", "M-1")))

    migrate(engine)
    assert schema_revision(engine)[0] == "0002"
    (room,) = reporting.case_room(ctx, reporting.open_case_room(ctx, passphrase))
    assert room.status == "acknowledged" and [m.body for m in room.messages] == ["a reply from 0001"]
    eco = officers.current(ctx, officers.log_in(ctx, "eco-1", PASSWORDS["eco-1"]))
    detail = casework.open_case(ctx, eco, case_id)
    assert detail.description == "made by revision 0001"
    assert detail.messages[0].office == "ECO"
    assert detail.handling.acknowledged_on == "2026-01-07"
    assert {d.name: d.met_on for d in detail.handling.deadlines}["first_response"] == dt.date(2026, 1, 6)
    ctx.engine.dispose()
