"""One Jinja2 environment for every page, with autoescaping always on.

Officers read text written by strangers; escaping is not optional anywhere, so the
environment is built here with `autoescape=True` rather than by file extension.
"""

from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from . import csrf

_env = jinja2.Environment(
    loader=jinja2.ChoiceLoader([jinja2.PackageLoader("intake", "templates"), jinja2.PackageLoader("caseroom", "templates")]),
    autoescape=True,
    extensions=["jinja2.ext.do"],
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(request: Request, template: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """An HTML page rendered from `template` with `context`."""
    ctx = request.app.state.ctx
    limits = {"files": ctx.settings.max_files_per_message, "file_mib": ctx.settings.max_file_bytes // 2**20,
              "total_mib": ctx.settings.max_report_bytes // 2**20}
    page = _env.get_template(template).render(request=request, policy=ctx.policy, limits=limits, csrf_token=csrf.token(request), **context)
    return HTMLResponse(page, status_code=status_code, headers=headers)


def render_document(template: str, **context: Any) -> str:
    """A standalone HTML document (the annual report), escaped like every page."""
    return _env.get_template(template).render(**context)
