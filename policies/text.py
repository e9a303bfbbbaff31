"""Messages written in English where they arise, translated where they are shown.

`N_("...")` marks a constant message for extraction (`make messages`). `Text(template,
**params)` is a message with values in it: it reads as the filled-in English, and keeps
its template and values so the web layer can fill in the translated template instead.
"""


def N_(message: str) -> str:
    return message


class Text(str):
    """The English message, carrying `template` and `params` for translation."""

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, **params: object) -> "Text":
        text = super().__new__(cls, template.format(**params) if params else template)
        text.template, text.params = template, params
        return text
