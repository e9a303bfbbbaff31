"""The session cookie at login: a new session, so nothing planted before login survives
(no fixation), except the reader's choice of language."""

from starlette.requests import Request

from .templating import SESSION_KEY as LANGUAGE


def restart(request: Request) -> None:
    lang = request.session.get(LANGUAGE)
    request.session.clear()
    if lang:
        request.session[LANGUAGE] = lang
