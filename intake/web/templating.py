"""Rendering pages: one Jinja2 environment per language, autoescaping always on.

Officers read text written by strangers; escaping is not optional anywhere, so the
environments are built here with `autoescape=True` rather than by file extension. Each
language has its own environment with its catalog installed, so rendering in one
language never races with another (the environments are shared between threads).
"""

from functools import lru_cache
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .. import i18n
from ..service.casework import system_message
from . import csrf

SESSION_KEY = "lang"


@lru_cache(maxsize=len(i18n.LANGUAGES))
def environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader("intake", "templates"), jinja2.PackageLoader("caseroom", "templates")]),
        autoescape=True,
        extensions=["jinja2.ext.do", "jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)
    return env


def language(request: Request) -> str:
    """The reader's language: a `?lang=` link they followed, then their earlier choice,
    then what their browser asks for. A choice is kept in the session cookie, so it
    follows a reporter from the form into the case room."""
    chosen = i18n.valid(request.query_params.get("lang"))
    if chosen:
        request.session[SESSION_KEY] = chosen
        return chosen
    return i18n.valid(request.session.get(SESSION_KEY)) or i18n.negotiate(request.headers.get("accept-language"))


def _globals(lang: str) -> dict[str, Any]:
    return {"lang": lang, "rtl": lang in i18n.RIGHT_TO_LEFT, "languages": i18n.LANGUAGES}


def render(request: Request, template: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """An HTML page rendered from `template` with `context`, in the reader's language."""
    ctx = request.app.state.ctx
    lang = language(request)
    limits = {"files": ctx.settings.max_files_per_message, "file_mib": ctx.settings.max_file_bytes // 2**20,
              "total_mib": ctx.settings.max_report_bytes // 2**20}
    page = environment(lang).get_template(template).render(request=request, policy=ctx.policy, limits=limits,
                                                           csrf_token=csrf.token(request), **_globals(lang), **context)
    return HTMLResponse(page, status_code=status_code, headers={"Content-Language": lang, **(headers or {})})


def render_document(template: str, lang: str = i18n.DEFAULT, **context: Any) -> str:
    """A standalone HTML document (the annual report), escaped like every page."""
    return environment(lang).get_template(template).render(**_globals(lang), **context)


def system_messages(request: Request, messages) -> dict[str, str]:
    """Message id -> the service's own messages (consent request, referral notice...) in the
    reader's language. What people wrote is never looked up in a catalog."""
    ctx, lang = request.app.state.ctx, language(request)
    found = {}
    for message in messages:
        text = system_message(ctx, message)
        if text is not None:
            found[message.id] = i18n.gettext(lang, text)
    return found
