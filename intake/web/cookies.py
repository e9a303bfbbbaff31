"""What the signed session cookie carries, by name, and starting it afresh at login.

The cookie holds only opaque tokens (the keys themselves live server-side, sealed under
a key the token carries: service/sessions.py), the CSRF token, and the reader's language.
A login starts a new cookie, so nothing planted before it survives (no fixation), except
the language.
"""

from starlette.requests import Request

LANGUAGE = "lang"
REPORTER = "caseroom"  # the reporter's case-room session token
OFFICER = "officer"  # the officer's session token
RECEIPT = "receipt"  # a new passphrase's receipt, from the report's POST to the one page that shows it


def restart(request: Request) -> None:
    lang = request.session.get(LANGUAGE)
    request.session.clear()
    if lang:
        request.session[LANGUAGE] = lang
