"""The report form: which answers are acceptable, checked against the policy's questions.

Used by the HTML form and the JSON API alike, so both refuse the same things with the
same messages. Every message is written for the reporter, naming the question; none
repeats what the reporter sent.

A report is one *part* per concern: a report of both retaliation and misconduct is two
parts, each with its own account and its own questions, and each office receives only its
part (DESIGN: "each office its part"). The identity a complainant may leave is not an
answer: it is sealed apart, and opened to the office only with their consent.
"""

import re
from dataclasses import dataclass, field

from .model import Policy, Question
from .text import N_, Text
from .vocabulary import Concern

MAX_DESCRIPTION_CHARS = 50_000
MAX_SHORT_TEXT_CHARS = 200
MAX_MESSAGE_CHARS = 20_000
MAX_ACTION_TEXT_CHARS = 200
# Tab, newline and carriage return are text; every other control character is not.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The concerns a part can be (a report of "both" is a retaliation part and a misconduct part).
PART_CONCERNS = (Concern.RETALIATION, Concern.MISCONDUCT, Concern.NOT_SURE, Concern.ADVICE)


class InvalidReport(ValueError):
    """The answers cannot be accepted. `errors` maps each question to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Part:
    """One office's part of a report: its account, its answers, and (retaliation) a sealed identity."""

    concern: Concern
    description: str
    answers: dict[str, object] = field(default_factory=dict)
    identity: str = ""

    @property
    def identity_shared(self) -> bool:
        """The complainant agreed, on the form, that the office may know who they are."""
        return bool(self.identity) and self.answers.get("identity_consent") == "yes"


@dataclass(frozen=True)
class ReportInput:
    """A validated report, ready to be sealed: the concerns as chosen, and a part for each."""

    concerns: frozenset[Concern]
    parts: tuple[Part, ...]

    @property
    def description(self) -> str:
        return self.parts[0].description

    def answers_of(self, part: Part) -> dict[str, object]:
        """A part's answers as they are sealed and shown to the officer."""
        return {"concerns": [part.concern], **part.answers}


def clean_text(value: object, limit: int, name: str, errors: dict[str, str], required: bool = False) -> str:
    """Text as the reporter meant it, or an entry in `errors`."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = N_("must be text")
        return ""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if CONTROL.search(text):
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


def _some_of(value: object, allowed: set[str], name: str, errors: dict[str, str]) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > len(allowed) or not all(isinstance(v, str) for v in value):
        errors[name] = N_("must be a list of the choices offered")
        return []
    if not set(value) <= allowed:
        errors[name] = N_("is not one of the choices offered")
        return []
    return list(dict.fromkeys(value))


def _actions(
    value: object, details: object, allowed: set[str], name: str, errors: dict[str, str]
) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Adverse actions, and for each one chosen when it happened and who took it (a role is enough)."""
    chosen = _some_of(value, allowed, name, errors)
    if details in (None, ""):
        details = {}
    if not isinstance(details, dict) or not set(details) <= set(chosen):
        errors[name] = N_("there are details of an action that is not ticked: tick it, or clear its details")
        return chosen, {}
    out: dict[str, dict[str, str]] = {}
    for action in chosen:
        given = details.get(action) or {}
        if not isinstance(given, dict) or not set(given) <= {"when", "who"}:
            errors[name] = N_("each action's details are when it happened and who did it")
            return chosen, {}
        when = clean_text(given.get("when"), MAX_ACTION_TEXT_CHARS, name, errors)
        who = clean_text(given.get("who"), MAX_ACTION_TEXT_CHARS, name, errors)
        if when or who:
            out[action] = {"when": when, "who": who}
    return chosen, out


def _answer(policy: Policy, question: Question, answers: dict[str, object], errors: dict[str, str]) -> dict[str, object]:
    """The question's answer(s), keyed as they are sealed (an actions question also gives its details)."""
    value = answers.get(question.id)
    if question.type == "single":
        return {question.id: _one_of(value, policy.ids(question.choices), question.id, errors)}
    if question.type == "multiple":
        return {question.id: _some_of(value, policy.ids(question.choices), question.id, errors)}
    if question.type == "actions":
        details = answers.get(f"{question.id}_details")
        chosen, given = _actions(value, details, policy.ids(question.choices), question.id, errors)
        return {question.id: chosen, f"{question.id}_details": given}
    return {question.id: clean_text(value, question.max_length, question.id, errors)}


def validate_part(
    policy: Policy, concern: Concern, description: object, answers: object, errors: dict[str, str], prefix: str = ""
) -> Part:
    """One part: its account (required) and the answers to its concern's questions, nothing else."""
    text = clean_text(description, MAX_DESCRIPTION_CHARS, f"{prefix}description", errors, required=True)
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        errors[f"{prefix}answers"] = N_("must be an object of answers")
        answers = {}
    questions = policy.questions_for(concern)
    known = {q.id for q in questions} | {f"{q.id}_details" for q in questions if q.type == "actions"}
    if set(answers) - known:
        errors[f"{prefix}answers"] = N_("holds an answer to a question that is not asked here")
    out: dict[str, object] = {}
    identity = ""
    local: dict[str, str] = {}
    for question in questions:
        given = _answer(policy, question, answers, local)
        if question.type == "identity":
            identity = str(given[question.id])
        else:
            out.update(given)
    errors.update({f"{prefix}{k}": v for k, v in local.items()})
    return Part(concern, text, out, identity)


def validate_report(
    policy: Policy,
    concerns: object,
    description: object = None,
    answers: object = None,
    parts: object = None,
    restricted: object = None,
) -> ReportInput:
    """A ReportInput, or InvalidReport naming every question that needs another look.

    One concern: `description` and `answers`. Retaliation and misconduct together (or "both"):
    `parts`, {"retaliation": {"description", "answers"}, "misconduct": {...}}, each office its own.
    `restricted` (the API's shorthand): the report concerns someone in the receiving office,
    as if each part that asks it had answered "someone" to `office_concerned`.
    """
    if restricted not in (None, True, False):
        raise InvalidReport({"restricted": N_("must be true or false")})
    report = _validate_report(policy, concerns, description, answers, parts)
    if restricted:
        report = ReportInput(report.concerns, tuple(_restricted(policy, part) for part in report.parts))
    return report


def _restricted(policy: Policy, part: Part) -> Part:
    asked = any(q.id == "office_concerned" for q in policy.questions_for(part.concern))
    if not asked or part.answers.get("office_concerned") == "head":
        return part
    return Part(part.concern, part.description, {**part.answers, "office_concerned": "someone"}, part.identity)


def _validate_report(policy: Policy, concerns: object, description: object, answers: object, parts: object) -> ReportInput:
    errors: dict[str, str] = {}
    if not isinstance(concerns, list) or not concerns or not all(isinstance(c, str) for c in concerns):
        raise InvalidReport({"concerns": N_("choose what your concern is about")})
    if not set(concerns) <= {c.id for c in policy.concerns}:
        raise InvalidReport({"concerns": N_("is not one of the choices offered")})
    chosen = frozenset(Concern(c) for c in concerns)
    if Concern.BOTH in chosen:
        chosen = (chosen - {Concern.BOTH}) | {Concern.RETALIATION, Concern.MISCONDUCT}
    if len(chosen) == 1:
        (concern,) = chosen
        if parts is not None:
            raise InvalidReport({"parts": N_("a report of one concern has one account: send description and answers")})
        report = ReportInput(chosen, (validate_part(policy, concern, description, answers, errors),))
    elif chosen == {Concern.RETALIATION, Concern.MISCONDUCT}:
        if (
            not isinstance(parts, dict)
            or set(parts) != {"retaliation", "misconduct"}
            or not all(isinstance(p, dict) and set(p) <= {"description", "answers"} for p in parts.values())
        ):
            raise InvalidReport({"parts": N_("a report of both needs the two accounts apart, one for each office")})
        report = ReportInput(
            chosen,
            tuple(
                validate_part(
                    policy,
                    concern,
                    parts[concern].get("description"),
                    parts[concern].get("answers"),
                    errors,
                    f"{concern}.",
                )
                for concern in (Concern.RETALIATION, Concern.MISCONDUCT)
            ),
        )
    else:
        raise InvalidReport({"concerns": N_("choose one concern, or both retaliation and misconduct")})
    if errors:
        raise InvalidReport(errors)
    return report
