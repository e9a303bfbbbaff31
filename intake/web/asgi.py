"""The ASGI entry point for uvicorn (`intake serve`), configured from the environment."""

from starlette.applications import Starlette

from ..service.context import Context
from ..settings import Settings
from .app import create_app


def make_app() -> Starlette:
    """Build the app for the instance named by INTAKE_DATA_DIR / INTAKE_DATABASE_URL."""
    return create_app(Context.from_settings(Settings.from_env()))
