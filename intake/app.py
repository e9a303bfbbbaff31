"""The Starlette application, composed in this one place: every page package, the API,
the middleware and the error pages. Nothing imports this module; `intake serve` names
`intake.app:make_app` to uvicorn, and tests call `create_app`.
"""

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from caseroom import reporter as caseroom
from caseroom.officer import case, conflicts, inbox, login

from . import api, i18n, pages
from .api.cross_site import CrossSiteGuard
from .service import retention
from .service.context import Context
from .settings import Settings
from .web.cookies import CrossSiteVisits
from .web.errors import HANDLERS
from .web.headers import SecurityHeadersMiddleware
from .web.limits import BodyLimitMiddleware
from .web.onion import OnionLocation, Sessions

STATIC = Path(__file__).resolve().parent / "static"


def routes() -> list[BaseRoute]:
    return [
        # The JSON API (intake/api/), first: the router tries routes in order, and the API's clients
        # send the most requests (its paths share no prefix with the pages').
        Mount("/api/v1", routes=api.routes, middleware=[Middleware(CrossSiteGuard)]),
        # The reporter's intake (intake/pages.py)
        Route("/", pages.home, methods=["GET"]),
        Route("/report", pages.report_form, methods=["GET"]),
        Route("/report", pages.submit_report, methods=["POST"]),
        Route("/report/sent", pages.report_sent, methods=["GET"]),
        # The reporter's case room (caseroom/reporter.py)
        Route("/caseroom/login", caseroom.login_page, methods=["GET"]),
        Route("/caseroom/login", caseroom.login, methods=["POST"]),
        Route("/caseroom", caseroom.case_room, methods=["GET"]),
        Route("/caseroom/cases/{case_id}/messages", caseroom.write, methods=["POST"]),
        Route("/caseroom/cases/{case_id}/files/{file_id}", caseroom.download_file, methods=["GET"]),
        Route("/caseroom/cases/{case_id}/consent", caseroom.consent, methods=["POST"]),
        Route("/caseroom/cases/{case_id}/identity", caseroom.identity, methods=["POST"]),
        Route("/caseroom/cases/{case_id}/withdraw", caseroom.withdraw_page, methods=["GET"]),
        Route("/caseroom/cases/{case_id}/withdrawal", caseroom.withdraw, methods=["POST"]),
        Route("/caseroom/logout", caseroom.logout, methods=["POST"]),
        # The officers' workspace (caseroom/officer/)
        Route("/officer/login", login.login_page, methods=["GET"]),
        Route("/officer/login", login.login, methods=["POST"]),
        Route("/officer/logout", login.logout, methods=["POST"]),
        Route("/officer", inbox.inbox, methods=["GET"]),
        Route("/officer/cases/{case_id}", case.case, methods=["GET"]),
        Route("/officer/cases/{case_id}/messages", case.reply, methods=["POST"]),
        Route("/officer/cases/{case_id}/transitions", case.transition, methods=["POST"]),
        Route("/officer/cases/{case_id}/decide", case.decide, methods=["GET"]),
        Route("/officer/cases/{case_id}/reopening", case.reopen, methods=["POST"]),
        Route("/officer/cases/{case_id}/determination", case.determine, methods=["POST"]),
        Route("/officer/cases/{case_id}/extension", case.extend, methods=["POST"]),
        Route("/officer/cases/{case_id}/assignment", case.assign, methods=["POST"]),
        Route("/officer/cases/{case_id}/notes", case.add_note, methods=["POST"]),
        Route("/officer/cases/{case_id}/consent-request", case.request_consent, methods=["POST"]),
        Route("/officer/cases/{case_id}/referral", case.refer, methods=["POST"]),
        Route("/officer/cases/{case_id}/measures", case.recommend_measure, methods=["POST"]),
        Route("/officer/cases/{case_id}/measures/{measure_id}", case.update_measure, methods=["POST"]),
        Route("/officer/cases/{case_id}/abandonment-warning", case.warn, methods=["POST"]),
        Route("/officer/cases/{case_id}/identity", case.read_identity, methods=["POST"]),
        Route("/officer/cases/{case_id}/files/{file_id}", case.download_file, methods=["GET"]),
        Route("/officer/cases/{case_id}/recusal", case.declare_conflict, methods=["POST"]),
        Route("/officer/cases/{case_id}/share", case.share, methods=["POST"]),
        Route("/officer/conflicts", conflicts.conflicts, methods=["GET"]),
        Route("/officer/conflicts/decision", conflicts.decide, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]


def create_app(ctx: Context) -> SecurityHeadersMiddleware:
    """The app for one instance. `ctx` carries the database, secrets, policy and clock.

    The security headers wrap the whole Starlette app, outside its error middleware,
    so even a 500 page carries them.
    """
    for lang in i18n.CODES:  # a catalog missing from an install stops start-up, not a reporter's page
        i18n.translations(lang)
    app = Starlette(
        routes=routes(),
        middleware=[
            # Offers the onion to clearnet visitors (web/onion.py).
            Middleware(OnionLocation, settings=ctx.settings),
            # Room for a whole report's files plus the multipart framing and text fields.
            Middleware(
                BodyLimitMiddleware,
                upload_limit=ctx.settings.max_report_bytes + 2 * 1024 * 1024,
                idle_seconds=ctx.settings.upload_idle_seconds,
            ),
            # Outside the session: a response to another site's request never sets the cookie (web/cookies.py).
            Middleware(CrossSiteVisits),
            # The session cookie: `__Host-intake; Secure` on the clearnet, `intake` on the onion (web/onion.py).
            Middleware(Sessions, secret_key=ctx.instance.cookie_secret, settings=ctx.settings),
        ],
        exception_handlers=HANDLERS,
    )
    app.state.ctx = ctx
    return SecurityHeadersMiddleware(app)


def make_app() -> SecurityHeadersMiddleware:
    """The app for the instance named by INTAKE_DATA_DIR / INTAKE_DATABASE_URL (uvicorn's factory)."""
    ctx = Context.from_settings(Settings.from_env())
    retention.sweep_leftovers(ctx)  # a process killed mid-upload may have left plaintext in memory
    return create_app(ctx)
