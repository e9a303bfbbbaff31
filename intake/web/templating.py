"""Pages for a request: the reader's language, and what every page needs (policy, limits, CSRF token)."""

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .. import i18n
from ..rendering import environment
from ..service.context import Context
from . import cookies, csrf, onion


def context_of(request: Request) -> Context:
    """The service context the app was made with (intake/app.py)."""
    ctx: Context = request.app.state.ctx
    return ctx


def language(request: Request) -> str:
    """The reader's language: a `?lang=` link they followed, then their earlier choice,
    then what their browser asks for. A choice is kept in the session cookie, so it
    follows a reporter from the form into the case room."""
    chosen = i18n.valid(request.query_params.get("lang"))
    if chosen:
        request.session[cookies.LANGUAGE] = chosen
        return chosen
    return i18n.valid(request.session.get(cookies.LANGUAGE)) or i18n.negotiate(request.headers.get("accept-language"))


def language_links(request: Request) -> dict[str, str]:
    """Where each language link goes: this page in that language, or, from a page that answered a
    form (a POST), the start page of its side, since the form cannot be sent again by a link."""
    if request.method in ("GET", "HEAD"):
        return {code: _relative(request.url.include_query_params(lang=code)) for code in i18n.CODES}
    home = "/officer" if request.url.path.startswith("/officer") else "/"
    return {code: f"{home}?lang={code}" for code in i18n.CODES}


def _relative(url: URL) -> str:
    return f"{url.path}?{url.query}" if url.query else url.path


def translate(request: Request, message: str) -> str:
    """A message of ours (a constant or a Text) in the reader's language."""
    return i18n.gettext(language(request), message)


def notice_of(request: Request, notices: Mapping[str, str]) -> str | None:
    """The page's `?notice=` (what an action that redirected here did), in the reader's language; unknown ones are none."""
    notice = notices.get(request.query_params.get("notice", ""))
    return translate(request, notice) if notice else None


def quick_exit(request: Request, ctx: Context) -> str:
    """Where "Leave quickly" goes: an onion site for a visitor on the onion, who should stay on Tor."""
    organization = ctx.policy.organization
    return organization.quick_exit_onion if onion.on_onion(request.scope, ctx.settings) else organization.quick_exit


def render(
    request: Request, template: str, status_code: int = 200, headers: Mapping[str, str] | None = None, **context: Any
) -> HTMLResponse:
    """An HTML page rendered from `template` with `context`, in the reader's language."""
    ctx = context_of(request)
    lang = language(request)
    limits = {
        "files": ctx.settings.max_files_per_message,
        "file_mib": ctx.settings.max_file_bytes // 2**20,
        "total_mib": ctx.settings.max_report_bytes // 2**20,
    }
    page = (
        environment(lang)
        .get_template(template)
        .render(
            request=request,
            policy=ctx.policy,
            quick_exit=quick_exit(request, ctx),
            limits=limits,
            csrf_token=csrf.token(request),
            language_links=language_links(request),
            **context,
        )
    )
    return HTMLResponse(page, status_code=status_code, headers={"Content-Language": lang, **(headers or {})})
