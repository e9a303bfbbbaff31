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

    def plural(singular: str, plural: str, num: int, **more: int) -> str:
        return words.ngettext(singular, plural, num) % {"num": num, **more}

    lines = []
    if counts.reports:
        lines.append(plural("%(num)d new report", "%(num)d new reports", counts.reports))
    if counts.messages:
        lines.append(plural("%(num)d new message from a reporter", "%(num)d new messages from reporters", counts.messages))
    if counts.due_soon:
        lines.append(
            plural(
                "%(num)d deadline due within %(days)d days",
                "%(num)d deadlines due within %(days)d days",
                counts.due_soon,
                days=counts.due_soon_days,
            )
        )
    if counts.overdue:
        lines.append(plural("%(num)d deadline overdue", "%(num)d deadlines overdue", counts.overdue))
    if counts.reviews_due:
        lines.append(
            plural("%(num)d protective measure due for review", "%(num)d protective measures due for review", counts.reviews_due)
        )
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
