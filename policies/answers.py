"""A report's answers as an officer reads them, question by question.

The answers come out of a sealed record written under whatever policy was current when the
report arrived, by a form whose every question but the account may be left blank, or by an
API client: any answer may be missing, an adverse action may be ticked with neither when nor
who, and a choice the policy has since dropped shows as its id. The officer's page prints what
`read_answers` gives it and decides nothing itself, so no combination of answers can stop an
office from opening its case.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from .model import Policy, Question
from .vocabulary import Concern

DANGER = ("yes", "not_sure")  # "Are you, or is anyone close to you, in danger now?"
PROTECTION_NOW = "now"  # "How soon do you need it?": at once


@dataclass(frozen=True)
class Chosen:
    """One choice ticked, in the policy's words; an adverse action with when and who (either may be blank)."""

    label: str
    when: str = ""
    who: str = ""


@dataclass(frozen=True)
class Answer:
    """A question answered: its choices, or its text."""

    question: Question
    chosen: tuple[Chosen, ...] = ()
    text: str = ""


@dataclass(frozen=True)
class ReadAnswers:
    concerns: tuple[str, ...]  # as the reporter chose them (ids)
    answered: tuple[Answer, ...]
    unanswered: tuple[Question, ...]


def concern_of(answers: Mapping[str, object]) -> Concern:
    """The concern whose questions a part answered (the first of its `concerns`; misconduct if none is readable)."""
    concerns = answers.get("concerns")
    first = concerns[0] if isinstance(concerns, list) and concerns else None
    return Concern(first) if first in tuple(Concern) else Concern.MISCONDUCT


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _ids(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []


def _details(value: object) -> dict[str, dict[str, str]]:
    """An actions question's details, {action: {"when", "who"}}, whatever shape they were stored in."""
    if not isinstance(value, dict):
        return {}
    return {
        action: {"when": _text(given.get("when")), "who": _text(given.get("who"))}
        for action, given in value.items()
        if isinstance(action, str) and isinstance(given, dict)
    }


def read_answers(policy: Policy, answers: Mapping[str, object]) -> ReadAnswers:
    """Each question of the part's concern (the identity apart: it is sealed on its own), answered or not."""
    answered, unanswered = [], []
    for question in policy.questions_for(concern_of(answers)):
        if question.type == "identity":
            continue
        value = answers.get(question.id)
        if question.type == "text":
            text = _text(value)
            answer = Answer(question, text=text) if text else None
        else:
            details = _details(answers.get(f"{question.id}_details")) if question.type == "actions" else {}
            chosen = tuple(
                Chosen(policy.label(question.choices, item), **details.get(item, {})) for item in dict.fromkeys(_ids(value))
            )
            answer = Answer(question, chosen) if chosen else None
        if answer is None:
            unanswered.append(question)
        else:
            answered.append(answer)
    return ReadAnswers(tuple(_ids(answers.get("concerns"))), tuple(answered), tuple(unanswered))


def in_danger(answers: Mapping[str, object]) -> bool:
    """The reporter said they, or someone close to them, may be in danger now (ECO Annual Report 2022 s.2:
    an immediate risk to their safety goes to the Office of Staff Security at once)."""
    return answers.get("safety_risk") in DANGER


def protection_now(answers: Mapping[str, object]) -> bool:
    """The complainant asked for protection at once."""
    return answers.get("protection_by") == PROTECTION_NOW
