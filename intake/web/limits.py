"""Request body limits, enforced while the body arrives, before anything is parsed."""

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policies.text import N_, Text

# A 50,000-character account in CJK, percent-encoded, is about 450 KB; leave room.
DEFAULT_BODY_LIMIT = 1024 * 1024


class BodyTooLarge(Exception):
    """The request body is over the limit of its route."""

    def __init__(self, limit: int) -> None:
        super().__init__(Text(N_("The request is too large (the limit is {size} KiB)."), size=f"{limit // 1024:,}"))
        self.limit = limit


# The routes that take evidence files; their bodies may be as large as a whole report.
UPLOAD_ROUTES = re.compile(r"^(/report|/api/v1/reports|(/api/v1)?/(caseroom|officer)/cases/[^/]+/messages)$")


class BodyLimitMiddleware:
    """Refuse bodies over their route's limit: by Content-Length up front, or by counting."""

    def __init__(self, app: ASGIApp, limit: int = DEFAULT_BODY_LIMIT, upload_limit: int = DEFAULT_BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

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
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)
