"""The report form: which answers are acceptable, checked against the policy.

Used by the HTML form and the JSON API alike, so both refuse the same things with the
same messages. Every message is written for the reporter, naming the question.
"""

import re
from dataclasses import dataclass

from .model import Policy
from .text import N_, Text
from .vocabulary import Concern

MAX_DESCRIPTION_CHARS = 50_000
MAX_SHORT_TEXT_CHARS = 200
MAX_MESSAGE_CHARS = 20_000
# Tab, newline and carriage return are text; every other control character is not.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


ANSWER_KEYS = ("misconduct_kinds", "protected_activity", "adverse_actions", "happened", "region")


class InvalidReport(ValueError):
    """The answers cannot be accepted. `errors` maps each question to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ReportInput:
    """A validated report, ready to be sealed."""

    concerns: frozenset[Concern]
    description: str
    misconduct_kinds: tuple[str, ...] = ()
    protected_activity: str | None = None
    adverse_actions: tuple[str, ...] = ()
    happened: str = ""
    region: str | None = None

    def answers(self) -> dict[str, object]:
        """The answers as they are sealed and shown to the officer."""
        return {
            "concerns": sorted(self.concerns),
            "misconduct_kinds": list(self.misconduct_kinds),
            "protected_activity": self.protected_activity,
            "adverse_actions": list(self.adverse_actions),
            "happened": self.happened,
            "region": self.region,
        }


def clean_text(value: object, limit: int, name: str, errors: dict[str, str], required: bool = False) -> str:
    """Text as the reporter meant it, or an entry in `errors`."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = N_("must be text")
        return ""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text):
        errors[name] = N_("contains characters that are not text")
    elif len(text) > limit:
        errors[name] = Text(
            N_("is too long: at most {limit} characters, this has {length}"), limit=f"{limit:,}", length=f"{len(text):,}"
        )
    elif required and not text.strip():
        errors[name] = N_("cannot be empty")
    return text.strip() if not errors.get(name) else ""


def _one_of(value: object, allowed: set[str], name: str, errors: dict[str, str]) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value not in allowed:
        errors[name] = N_("is not one of the choices offered")
        return None
    return value


def _some_of(value: object, allowed: set[str], name: str, errors: dict[str, str]) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if not isinstance(value, list) or len(value) > len(allowed) or not all(isinstance(v, str) for v in value):
        errors[name] = N_("must be a list of the choices offered")
        return ()
    if not set(value) <= allowed:
        errors[name] = N_("is not one of the choices offered")
        return ()
    return tuple(dict.fromkeys(value))


def validate_report(policy: Policy, concerns: object, description: object, answers: object) -> ReportInput:
    """A ReportInput, or InvalidReport naming every question that needs another look."""
    errors: dict[str, str] = {}
    chosen: frozenset[Concern] = frozenset()
    if not isinstance(concerns, list) or not concerns or not all(isinstance(c, str) for c in concerns):
        errors["concerns"] = N_("choose what your concern is about")
    elif not set(concerns) <= policy.ids("concerns"):
        errors["concerns"] = N_("is not one of the choices offered")
    else:
        chosen = frozenset(Concern(c) for c in concerns)
        if Concern.BOTH in chosen:
            chosen = (chosen - {Concern.BOTH}) | {Concern.RETALIATION, Concern.MISCONDUCT}
    text = clean_text(description, MAX_DESCRIPTION_CHARS, "description", errors, required=True)
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        errors["answers"] = N_("must be an object of answers")
        answers = {}
    unknown = sorted(set(answers) - set(ANSWER_KEYS))
    if unknown:
        errors["answers"] = f"unknown question: {', '.join(k[:40] for k in unknown[:5])}"
    report = ReportInput(
        concerns=chosen,
        description=text,
        misconduct_kinds=_some_of(answers.get("misconduct_kinds"), policy.ids("misconduct_kinds"), "misconduct_kinds", errors),
        protected_activity=_one_of(
            answers.get("protected_activity"), policy.ids("protected_activities"), "protected_activity", errors
        ),
        adverse_actions=_some_of(answers.get("adverse_actions"), policy.ids("adverse_actions"), "adverse_actions", errors),
        happened=clean_text(answers.get("happened"), MAX_SHORT_TEXT_CHARS, "happened", errors),
        region=_one_of(answers.get("region"), policy.ids("regions"), "region", errors),
    )
    if errors:
        raise InvalidReport(errors)
    return report
