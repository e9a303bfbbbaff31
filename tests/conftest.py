"""Shared fixtures: a real instance on SQLite (default) or PostgreSQL (TEST_DATABASE_URL).

Nothing of ours is mocked: the instance is made the way `intake init` makes it, with
Argon2 cheapened through configuration (the production default is tested separately).
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from crypto import Argon2Params
from intake.app import create_app
from intake.service import officers
from intake.service.context import Context
from intake.settings import Instance, Settings
from intake.store import make_engine

from .enrolments import enrolments
from .schema import create_schema, drop_schema

CHEAP_ARGON2 = Argon2Params(time_cost=1, memory_kib=1024)
PASSWORDS = {"eco-1": "eco officer password one", "oig-1": "oig officer password one"}


def database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'intake.sqlite3'}"


def on_postgres() -> bool:
    return bool(os.environ.get("TEST_DATABASE_URL"))


def make_instance(data_dir: Path, url: str, argon2: Argon2Params = CHEAP_ARGON2, blobs: str | None = None) -> Context:
    """A fresh instance: secrets, empty schema, ECO and OIG with one officer each."""
    # TEST_BLOBS=database runs a test with the database blob store (PostgreSQL only).
    blobs = blobs or os.environ.get("TEST_BLOBS") or "filesystem"
    settings = Settings(data_dir=data_dir, database_url=url, argon2_concurrency=2, argon2_wait_seconds=5, blobs=blobs)
    settings.write_instance(Instance.create(argon2))
    engine = make_engine(url)
    drop_schema(engine)
    create_schema(engine)
    engine.dispose()
    ctx = Context.from_settings(settings)
    for office, username in (("ECO", "eco-1"), ("OIG", "oig-1")):
        enrolments(ctx)[username] = officers.found_office(ctx, office, username, PASSWORDS[username])
    return ctx


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    context = make_instance(tmp_path / "data", database_url(tmp_path))
    yield context
    context.engine.dispose()


@pytest.fixture
def client(ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(ctx), base_url="http://127.0.0.1") as test_client:
        yield test_client
