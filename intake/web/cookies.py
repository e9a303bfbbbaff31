"""What the signed session cookie carries, by name, and starting it afresh at login.

The cookie is signed, not encrypted: whoever holds the browser can read it, so it holds
as little as it can. Opaque tokens (the keys themselves live server-side, sealed under a
key the token carries: service/sessions.py), the CSRF token, the reader's language, and,
once this browser has filed a report, a keyed digest of each report it filed
(service/sendings.py): it says that a report was sent, which the browser's own history
says too, and nothing of what it said. The cookie has no expiry: it ends with the browser.
A login starts a new cookie, so nothing planted before it survives (no fixation), except
the language and those digests, which the server itself wrote.
"""

from starlette.requests import Request

LANGUAGE = "lang"
REPORTER = "caseroom"  # the reporter's case-room session token
OFFICER = "officer"  # the officer's session token
RECEIPT = "receipt"  # a new passphrase's receipt, from the report's POST to the one page that shows it
SENT = "sent"  # digests of the reports this browser filed: the back button then Send files nothing twice
KEPT = (LANGUAGE, SENT)


def restart(request: Request) -> None:
    kept = {name: request.session[name] for name in KEPT if request.session.get(name)}
    request.session.clear()
    request.session.update(kept)
