"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright, JavaScript disabled.

Skipped where Chromium is not installed, unless INTAKE_REQUIRE_BROWSER=1 (as in CI),
where its absence fails the run instead.
"""

import os
from pathlib import Path

import pytest

from ..conftest import on_postgres
from ..server import init_demo, serving
from . import CHROMIUM, CHROMIUM_ARGS

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("INTAKE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def instance(tmp_path):
    """A demo instance served by `intake serve`: (base URL, demo credentials)."""
    env = {}
    if on_postgres():
        from intake.store import make_engine

        from ..schema import drop_schema

        engine = make_engine(os.environ["TEST_DATABASE_URL"])
        drop_schema(engine)
        engine.dispose()
        env["INTAKE_DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    else:
        env["INTAKE_DATABASE_URL"] = ""
    credentials = init_demo(tmp_path / "var", env)
    with serving(tmp_path / "var", env) as base:
        yield base, credentials


@pytest.fixture
def shots(request):
    """save(page, name): a full-page screenshot under test-artifacts/browser/<test>/."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
