"""The organization's languages: English, French, Spanish and Arabic (right to left).

Catalogs are gettext .po files under intake/locale/<lang>/LC_MESSAGES/messages.po,
read as they are when a language is first used: there is no compile step to forget,
so a wheel, a container and a checkout all speak every language. The English text is
the message id, so a message missing from a catalog shows in English, never as a blank.
"""

import io
from functools import lru_cache
from pathlib import Path

from babel import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from python_multipart.multipart import parse_options_header

from policies.text import Text

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"
LANGUAGES = (("en", "English"), ("fr", "Français"), ("es", "Español"), ("ar", "العربية"))
CODES = tuple(code for code, _ in LANGUAGES)
RIGHT_TO_LEFT = frozenset({"ar"})


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> NullTranslations:
    """The catalog of `lang` (English: none needed), read from its .po file; fuzzy entries left out."""
    if lang == DEFAULT or lang not in CODES:
        return NullTranslations()
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(lang: str, message: str) -> str:
    """`message` in `lang`; a Text is translated as its template, then filled in."""
    if isinstance(message, Text):
        # A value that is itself one of our messages (a refusal's "problem") is translated too;
        # anything else (a number, a name) is put in as it is.
        params = {k: gettext(lang, v) if isinstance(v, Text) else v for k, v in message.params.items()}
        return translations(lang).gettext(message.template).format(**params)
    return translations(lang).gettext(message)


def message_of(error: Exception) -> str:
    """The message an exception was raised with (a Text keeps its template)."""
    return error.args[0] if error.args and isinstance(error.args[0], str) else str(error)


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for a browser's Accept-Language header, by Babel's negotiation.

    Each item of the header ("fr-CH;q=0.9") is read with python-multipart's parameter
    parser; the languages, in the order of their weights, go to `babel.negotiate_locale`,
    which also matches a regional tag ("fr-CH") to its language ("fr").
    """
    preferred = []
    for position, item in enumerate((accept_language or "")[:1000].split(",")):
        tag, params = parse_options_header(item)
        try:
            weight = float(params.get(b"q", b"1"))
        except ValueError:
            continue
        language = tag.decode("latin-1").strip()
        if language and language != "*" and weight > 0:
            preferred.append((-weight, position, language))
    found = negotiate_locale([language for *_, language in sorted(preferred)], CODES, sep="-")
    return found or DEFAULT


def valid(lang: object) -> str | None:
    return lang if isinstance(lang, str) and lang in CODES else None
