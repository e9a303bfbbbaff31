"""Rendering HTML: one Jinja2 environment per language, autoescaping always on.

Officers read text written by strangers; escaping is not optional anywhere, so the
environments are built here with `autoescape=True` rather than by file extension. Each
language has its own environment with its catalog installed, so rendering in one
language never races with another (the environments are shared between threads).

Templates live beside the pages that use them and are named with their package:
"intake/..." (the reporter's intake pages, the shared layout, the annual report) and
"caseroom/..." (the case rooms: the reporter's and the officers'). Nothing here knows
about requests: the web layer adds what a page needs (web/templating.py), and the
annual report renders its document with no request at all.
"""

import re
from functools import lru_cache
from typing import Any

import jinja2

from policies.text import Text

from . import i18n

# A string name, not an import: the page packages sit above this module.
TEMPLATE_PACKAGES = ("intake", "caseroom")

# Embeddings, overrides and isolates: invisible, and able to make text read otherwise than it is
# ("invoice_\u202efdp.exe" shows as "invoice_exe.pdf"). The marks (LRM, RLM, ALM) stay: Arabic
# and Hebrew text uses them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


@lru_cache(maxsize=len(i18n.LANGUAGES))
def environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PrefixLoader({name: jinja2.PackageLoader(name, "templates") for name in TEMPLATE_PACKAGES}),
        autoescape=True,
        extensions=["jinja2.ext.do", "jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["translated"] = lambda value: translated(lang, value)
    env.filters["bidi_parts"] = bidi_parts
    env.globals.update(lang=lang, rtl=lang in i18n.RIGHT_TO_LEFT, languages=i18n.LANGUAGES)
    return env


def translated(lang: str, value: object) -> object:
    """A Text (a service notice, a refusal) in `lang`; anything a person wrote, untouched.

    What people wrote never goes through a catalog, so a reporter cannot make an officer
    read a translation of their choosing.
    """
    return i18n.gettext(lang, value) if isinstance(value, Text) else value


def bidi_parts(value: object) -> list[tuple[str, str | None]]:
    """Someone's text cut at each bidi control: (text before, "U+202E" or None).

    The macro `revealed` (intake/text.html) shows each control as what it is ([U+202E])
    instead of letting it reorder what an officer reads; the text stays autoescaped.
    """
    text, start = str(value), 0
    parts: list[tuple[str, str | None]] = []
    for control in BIDI_CONTROLS.finditer(text):
        parts.append((text[start : control.start()], f"U+{ord(control.group()):04X}"))
        start = control.end()
    parts.append((text[start:], None))
    return parts


def render_document(template: str, lang: str = i18n.DEFAULT, **context: Any) -> str:
    """An HTML document rendered from `template` in `lang`, escaped like every page."""
    return environment(lang).get_template(template).render(**context)
