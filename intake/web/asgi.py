"""The ASGI entry point for uvicorn (`intake serve`), configured from the environment."""

from ..service.context import Context
from ..settings import Settings
from .app import create_app
from .headers import SecurityHeadersMiddleware


def make_app() -> SecurityHeadersMiddleware:
    """Build the app for the instance named by INTAKE_DATA_DIR / INTAKE_DATABASE_URL."""
    return create_app(Context.from_settings(Settings.from_env()))
