"""The words of a notification digest, in the officer's language: counts only, one subject.

Nothing here may depend on what a case holds: the subject is the same whatever happened (a
subject that differs by kind would tell a mail provider, or someone who glances at a screen,
that a report came in), and the body carries numbers, never a case id, an office's words or
a reporter's. A test renders every kind and compares.
"""

from policies.text import N_

from . import i18n
from .service.notifications import Counts

SUBJECT = N_("Case work: your digest")


def compose(language: str, counts: Counts) -> tuple[str, str]:
    """(subject, plain-text body) of one digest."""
    words = i18n.translations(language)
    n = counts
    lines = []
    # Each plural spelt out in an ngettext call of its own, so that `make messages` extracts both forms.
    if n.reports:
        lines.append(words.ngettext("%(num)d new report", "%(num)d new reports", n.reports) % {"num": n.reports})
    if n.messages:
        text = words.ngettext("%(num)d new message from a reporter", "%(num)d new messages from reporters", n.messages)
        lines.append(text % {"num": n.messages})
    if n.due_soon:
        text = words.ngettext(
            "%(num)d deadline due within %(days)d days", "%(num)d deadlines due within %(days)d days", n.due_soon
        )
        lines.append(text % {"num": n.due_soon, "days": n.due_soon_days})
    if n.overdue:
        lines.append(words.ngettext("%(num)d deadline overdue", "%(num)d deadlines overdue", n.overdue) % {"num": n.overdue})
    if n.reviews_due:
        text = words.ngettext(
            "%(num)d protective measure due for review", "%(num)d protective measures due for review", n.reviews_due
        )
        lines.append(text % {"num": n.reviews_due})
    opening = (
        i18n.gettext(language, N_("Nothing new since your last digest."))
        if counts.quiet()
        else i18n.gettext(language, N_("There is something for you to look at in the case work:"))
    )
    body = "\n".join(
        [
            opening,
            "",
            *(f"- {line}" for line in lines),
            *([""] if lines else []),
            i18n.gettext(language, N_("Log in to the case work to see it.")),
            "",
            i18n.gettext(
                language,
                N_(
                    "This digest names no case and says nothing of what a case holds, on purpose. "
                    "To stop it, remove your address on your account page in the case work."
                ),
            ),
        ]
    )
    return i18n.gettext(language, SUBJECT), body + "\n"
