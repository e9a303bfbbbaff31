"""The organization's languages: English, French, Spanish and Arabic (right to left).

Catalogs are gettext .po files under intake/locale/<lang>/LC_MESSAGES/messages.po,
compiled to .mo by `make catalogs` (part of `make run` and `make test`). The English
text is the message id, so a missing catalog falls back to English, never to blanks.
"""

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"
LANGUAGES = (("en", "English"), ("fr", "Français"), ("es", "Español"), ("ar", "العربية"))
CODES = tuple(code for code, _ in LANGUAGES)
RIGHT_TO_LEFT = frozenset({"ar"})


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of `lang` (English: none needed)."""
    if lang == DEFAULT or lang not in CODES:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [lang], DOMAIN)


def gettext(lang: str, message: str) -> str:
    """`message` in `lang`; a Text is translated as its template, then filled in."""
    template = getattr(message, "template", None)
    if template is not None:
        return translations(lang).gettext(template).format(**message.params)
    return translations(lang).gettext(message)


def message_of(error: Exception) -> str:
    """The message an exception was raised with (a Text keeps its template)."""
    return error.args[0] if error.args and isinstance(error.args[0], str) else str(error)


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for a browser's Accept-Language header."""
    if not accept_language:
        return DEFAULT
    accepted = parse_accept_header(accept_language, LanguageAccept)
    return accepted.best_match(CODES, default=DEFAULT)


def valid(lang: object) -> str | None:
    return lang if isinstance(lang, str) and lang in CODES else None
