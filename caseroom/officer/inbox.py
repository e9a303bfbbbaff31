"""The office's inbox: its cases, the most urgent first."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from intake.service import casework
from intake.web.templating import context_of, render

from .login import officer_of, to_login


async def inbox(request: Request) -> Response:
    officer = await officer_of(request)
    if officer is None:
        return to_login()
    cases = await run_in_threadpool(casework.inbox, context_of(request), officer)
    return render(request, "caseroom/officer/inbox.html", officer=officer, cases=cases)
