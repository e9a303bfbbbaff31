"""Requests over the onion service, and what differs for them: decided here, in one place.

A request is "on the onion" when its Host is the onion address the deployment configured
(INTAKE_ONION_ADDRESS), nothing else. Then:
- its cookies are not `Secure` and not `__Host-`: the connection is end-to-end encrypted and
  authenticated by Tor, but only Tor Browser treats http://...onion as a secure origin; a stock
  browser behind Orbot, Onion Browser and curl never send a Secure cookie back over http, so a
  reporter there could never file the form (SecureDrop leaves its onion cookies without Secure
  for this reason; Mastodon and Rails treat .onion hosts as secure for cookies). Clearnet requests
  keep `__Host-...; Secure`. SameSite=Strict and HttpOnly stay on both.
- "Leave quickly" goes to an onion site, so leaving does not take the reporter off Tor;
- the passphrase page tells them to come back at the onion address;
- no Onion-Location header, which every other response carries when an onion is configured.

The Host header is the client's own, so a clearnet client can claim the onion's: it then gets,
for itself alone, a cookie named `intake` without Secure, which the clearnet side never reads
(it reads only `__Host-intake`), on a response nobody caches (Cache-Control: no-store). It cannot
change what anybody else's browser is sent or sends (SECURITY.md, "Cookies over the onion").
"""

from starlette.datastructures import Headers
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import Settings
from .cookies import re_entry_target, session_cookie


def host_of(scope: Scope) -> str:
    """The host the client asked for, without its port, lower case; "" when it named none."""
    host = Headers(scope=scope).get("host", "") if scope["type"] in ("http", "websocket") else ""
    name, _, port = host.rpartition(":")
    if name and port.isdigit():
        host = name
    return host.strip().rstrip(".").lower()


def on_onion(scope: Scope, settings: Settings) -> bool:
    """Whether the request came to the configured onion address (or a name under it, which Tor
    sends to the same service)."""
    onion = settings.onion_address
    if not onion:
        return False
    host = host_of(scope)
    return host == onion or host.endswith("." + onion)


def secure_cookies(scope: Scope, settings: Settings) -> bool:
    """Whether this request's cookies are `Secure` and `__Host-`: as configured, except on the onion."""
    return settings.secure_cookies and not on_onion(scope, settings)


def come_back_at(scope: Scope, settings: Settings) -> str | None:
    """Where the passphrase page sends a reporter back: the onion to one who came over it; else the
    configured public address; None when neither is known (a development server: the address used)."""
    if on_onion(scope, settings):
        return settings.onion_url
    return settings.public_address


class Sessions:
    """Starlette's session middleware, with the cookie's name and Secure flag chosen per request
    (secure_cookies). Two instances, one per kind of cookie, over the same app and secret."""

    def __init__(self, app: ASGIApp, secret_key: str, settings: Settings) -> None:
        self.settings = settings
        self.secure, self.plain = (
            SessionMiddleware(
                app,
                secret_key=secret_key,
                # __Host- binds the cookie to this exact origin; browsers accept it only when Secure.
                session_cookie=session_cookie(secure),
                max_age=None,
                same_site="strict",
                https_only=secure,
            )
            for secure in (True, False)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.secure if secure_cookies(scope, self.settings) else self.plain
        await chosen(scope, receive, send)


class OnionLocation:
    """`Onion-Location: http://<onion><path>` on every response off the onion: Tor Browser offers the
    onion to a visitor of the clearnet address (it reads the header over HTTPS only), as SecureDrop's
    and GlobaLeaks' sites do. The path is re-encoded as the re-entry page does (one leading slash,
    every other character percent-encoded), so nothing the client sent can break the header."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.settings.onion_address or on_onion(scope, self.settings):
            await self.app(scope, receive, send)
            return
        location = f"http://{self.settings.onion_address}{re_entry_target(scope)}".encode("latin-1")

        async def with_location(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"onion-location", location)]}
            await send(message)

        await self.app(scope, receive, with_location)
