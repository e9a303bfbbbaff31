"""Request body limits, enforced while the body arrives, before anything is parsed: a size
per route, and an idle time, so a client that stops sending mid-upload cannot hold a file's
plaintext (in a cleaning room) or a partial blob open for as long as it keeps the connection."""

import re

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policies.text import N_, Text

# A 50,000-character account in CJK, percent-encoded, is about 450 KB; leave room.
DEFAULT_BODY_LIMIT = 1024 * 1024


class BodyTooLarge(Exception):
    """The request body is over the limit of its route."""

    def __init__(self, limit: int) -> None:
        super().__init__(Text(N_("The request is too large (the limit is {size} KiB)."), size=f"{limit // 1024:,}"))
        self.limit = limit


DEFAULT_IDLE_SECONDS = 60.0


class BodyStalled(Exception):
    """Nothing of the request body arrived for the idle time."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            Text(
                N_("The upload stalled: nothing arrived for {seconds} seconds. Nothing was kept; please send it again."),
                seconds=f"{seconds:.0f}",
            )
        )


# The routes that take evidence files; their bodies may be as large as a whole report.
UPLOAD_ROUTES = re.compile(r"^(/report|/api/v1/reports|(/api/v1)?/(caseroom|officer)/cases/[^/]+/messages)$")


class BodyLimitMiddleware:
    """Refuse bodies over their route's limit (by Content-Length up front, or by counting), and
    bodies that stall for `idle_seconds` between two pieces."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int = DEFAULT_BODY_LIMIT,
        upload_limit: int = DEFAULT_BODY_LIMIT,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.idle_seconds = idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["method"] == "POST" and UPLOAD_ROUTES.match(scope["path"]) else self.limit
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_large = int(value) > limit
                except ValueError:
                    too_large = True
                if too_large:
                    scope.setdefault("state", {})["body_too_large"] = limit
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            if scope.get("state", {}).get("body_too_large"):
                raise BodyTooLarge(limit)
            try:
                with anyio.fail_after(self.idle_seconds):
                    message = await receive()
            except TimeoutError:
                raise BodyStalled(self.idle_seconds) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)
