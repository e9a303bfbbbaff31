"""One shape for the API's handlers: parse the body into its model, call the service, answer with JSON.

Most of the API is that and nothing else; writing it once keeps the order the same everywhere:
who is asking (an officer's session first, so a stranger learns nothing from a body's errors),
then the body (read with the size limit and the NUL/surrogate check before its model sees it),
then the service, off the event loop because it reads the database and does Argon2 work.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..service import officers
from ..service.context import Context
from ..web.templating import context_of
from .models import Body
from .requests import bearer, parse, read_json

B = TypeVar("B", bound=Body | None)
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Call(Generic[B]):
    """What a service call gets from the request: the context, the path, the caller, the body."""

    ctx: Context
    path: Mapping[str, str]
    token: str | None
    officer: officers.OfficerSession | None
    body: B

    @property
    def case_id(self) -> str:
        return self.path["case_id"]

    @property
    def by(self) -> officers.OfficerSession:
        """The officer making the call (an endpoint with officer=True has one, or answered 401)."""
        if self.officer is None:
            raise TypeError("an officer's call made without officer=True")
        return self.officer


def answer(result: object, status: int = 200) -> Response:
    """A model as the JSON response; None answers 204 with no body."""
    if isinstance(result, Response):  # a download
        return result
    if result is None:
        return Response(status_code=204)
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    return JSONResponse(result, status_code=status)


def endpoint(
    call: Callable[[Call[Any]], object], body: type[Body] | None = None, *, officer: bool = False, status: int = 200
) -> Handler:
    """A handler that parses `body`, runs `call` off the event loop, and answers what it returns."""

    async def handle(request: Request) -> Response:
        ctx, token = context_of(request), bearer(request)
        session = await run_in_threadpool(officers.current, ctx, token) if officer else None
        data = parse(body, await read_json(request)) if body is not None else None
        result = await run_in_threadpool(call, Call(ctx, request.path_params, token, session, data))
        return answer(result, status)

    handle.__doc__ = call.__doc__
    return handle
