"""Marking a message for translation where it is written, not where it is shown.

`N_("...")` returns its argument unchanged; `make messages` finds it, and the web layer
translates the message into the reader's language when it shows it.
"""


def N_(message: str) -> str:  # noqa: N802 (the name gettext tools look for)
    return message
