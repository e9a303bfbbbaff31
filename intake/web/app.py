"""The Starlette application: routes, middleware and error handling, assembled once."""

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from caseroom import officer_web, reporter_web

from ..service.context import Context
from . import api, reporter
from .errors import HANDLERS
from .headers import SecurityHeadersMiddleware
from .limits import BodyLimitMiddleware

STATIC = Path(__file__).resolve().parent.parent / "static"


def routes() -> list:
    return [
        Route("/", reporter.home, methods=["GET"]),
        Route("/report", reporter.report_form, methods=["GET"]),
        Route("/report", reporter.submit_report, methods=["POST"]),
        Route("/caseroom/login", reporter_web.login_page, methods=["GET"]),
        Route("/caseroom/login", reporter_web.login, methods=["POST"]),
        Route("/caseroom", reporter_web.case_room, methods=["GET"]),
        Route("/caseroom/cases/{case_id}/messages", reporter_web.write, methods=["POST"]),
        Route("/caseroom/cases/{case_id}/files/{file_id}", reporter_web.download_file, methods=["GET"]),
        Route("/caseroom/cases/{case_id}/consent", reporter_web.consent, methods=["POST"]),
        Route("/caseroom/logout", reporter_web.logout, methods=["POST"]),
        Route("/officer/login", officer_web.login_page, methods=["GET"]),
        Route("/officer/login", officer_web.login, methods=["POST"]),
        Route("/officer", officer_web.inbox, methods=["GET"]),
        Route("/officer/cases/{case_id}", officer_web.case, methods=["GET"]),
        Route("/officer/cases/{case_id}/messages", officer_web.reply, methods=["POST"]),
        Route("/officer/cases/{case_id}/transitions", officer_web.transition, methods=["POST"]),
        Route("/officer/cases/{case_id}/consent-request", officer_web.request_consent, methods=["POST"]),
        Route("/officer/cases/{case_id}/referral", officer_web.refer, methods=["POST"]),
        Route("/officer/cases/{case_id}/actions", officer_web.record_action, methods=["POST"]),
        Route("/officer/cases/{case_id}/abandonment-warning", officer_web.warn, methods=["POST"]),
        Route("/officer/cases/{case_id}/files/{file_id}", officer_web.download_file, methods=["GET"]),
        Route("/officer/logout", officer_web.logout, methods=["POST"]),
        Mount("/api/v1", routes=api.routes),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]


def create_app(ctx: Context) -> SecurityHeadersMiddleware:
    """The app for one instance. `ctx` carries the database, secrets, policy and clock.

    The security headers wrap the whole Starlette app, outside its error middleware,
    so even a 500 page carries them.
    """
    secure = ctx.settings.secure_cookies
    app = Starlette(
        routes=routes(),
        middleware=[
            # Room for a whole report's files plus the multipart framing and text fields.
            Middleware(BodyLimitMiddleware, upload_limit=ctx.settings.max_report_bytes + 2 * 1024 * 1024),
            Middleware(
                SessionMiddleware,
                secret_key=ctx.instance.cookie_secret,
                # __Host- binds the cookie to this exact origin; browsers accept it only when Secure.
                session_cookie="__Host-intake" if secure else "intake",
                max_age=None,
                same_site="strict",
                https_only=secure,
            ),
        ],
        exception_handlers=HANDLERS,
    )
    app.state.ctx = ctx
    return SecurityHeadersMiddleware(app)
