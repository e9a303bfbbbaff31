"""Loading and validating policy.toml into plain frozen dataclasses.

A policy file with an error stops start-up: `load_policy` raises PolicyError with a
message that names the file, the line and what is wrong, so whoever edits the file
can fix it. TOML syntax errors carry tomllib's own line; for rule errors the line is
found again in the text from the table and key that failed.
"""

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from .vocabulary import Concern, Office

CONCERN_IDS = tuple(Concern)
OFFICE_CODES = tuple(Office)
DEADLINE_KEYS = (
    "acknowledgement_days",
    "first_response_hours",
    "preliminary_assessment_days",
    "feedback_months",
    "due_soon_days",
    "abandon_after_days",
    "measure_review_days",
    "max_extension_days",
)
DEADLINE_NAMES = ("acknowledgement", "first_response", "preliminary_assessment", "feedback")
SOURCED = (*DEADLINE_NAMES, "measure_review")  # every deadline names where it comes from
Table = dict[str, Any]  # a TOML table as tomllib reads it
# What a closing message's template leaves for the officer to write, in double square brackets
# ("for these reasons: [[write the reasons here]]"); a message still holding one is not sent.
PLACEHOLDER = re.compile(r"\[\[[^\[\]]*\]\]")


class PolicyError(ValueError):
    """The policy file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class OfficeProfile:
    """What a reader is told about an office: its name and what it handles."""

    code: Office
    name: str
    handles: str


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    hint: str = ""
    kind: str = ""
    short: str = ""  # a few words for officers' lists and the annual report (the label is written for the reporter)


@dataclass(frozen=True)
class MisconductKind:
    id: str
    label: str
    description: str
    examples: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class State:
    id: str
    label: str
    reporter: str
    closed: bool = False
    via: str = ""
    after_warning: bool = False
    concludes_assessment: bool = False
    assesses: bool = False  # the preliminary assessment runs here: the prima facie determination is recorded here only
    acknowledges: bool = False
    by_reporter: bool = False
    requires_determination: str = ""  # "", "found" or "not_found"
    excludes_determination: str = ""  # "" or "found": not reached once prima facie evidence is found
    requires_consent: str = ""  # "" or "refused"
    message: str = ""  # the closing message's template, for states an officer closes with; [[...]]: the officer writes it

    @property
    def needs_decision(self) -> bool:
        """A move here ends the office's work: a reason and a message to the complainant, confirmed first."""
        return bool(self.message)


@dataclass(frozen=True)
class Lifecycle:
    """An office's case states, the moves between them, and what the office does besides.

    `deadlines` names the procedure's deadlines this office keeps; `refers_to` is the
    office a referral hands the case to (its key wrapped for that office), reached
    through the state marked `via = "referral"`; `referral_needs_consent` asks the
    complainant first (ECO Charter 4.8); `records_protection` lets the office record
    protective measures and onward referrals.
    """

    office: Office
    initial: str
    states: dict[str, State]
    transitions: dict[str, tuple[str, ...]]
    deadlines: tuple[str, ...] = ()
    refers_to: Office | None = None
    referral_needs_consent: bool = False
    records_protection: bool = False
    reopen_to: str = ""
    extendable: tuple[str, ...] = ()
    determines_prima_facie: bool = False

    def allowed(self, current: str) -> tuple[str, ...]:
        return self.transitions.get(current, ())

    def is_closed(self, state: str) -> bool:
        return self.states[state].closed

    @property
    def withdrawal_state(self) -> str | None:
        """The state the complainant's withdrawal moves the handling to."""
        return next((s.id for s in self.states.values() if s.by_reporter), None)

    @property
    def referral_states(self) -> tuple[str, ...]:
        """The states a referral moves the handling to (ECO: on prima facie evidence, or a misrouted
        report); empty if this office refers no cases."""
        return tuple(s.id for s in self.states.values() if s.via == "referral")

    @property
    def referral_state(self) -> str | None:
        """The office's main referral: the first of its referral states."""
        return next(iter(self.referral_states), None)

    def assesses_in(self, current: str) -> bool:
        """Whether the preliminary assessment runs in `current`: the only states where the determination is recorded."""
        return self.determines_prima_facie and self.states[current].assesses

    def may_refer_from(self, current: str, state: str | None = None) -> bool:
        """Whether a referral (to `state`, or to any referral state) is allowed from `current`."""
        wanted = (state,) if state else self.referral_states
        return any(s in self.referral_states and s in self.allowed(current) for s in wanted)


@dataclass(frozen=True)
class Deadlines:
    acknowledgement_days: int
    first_response_hours: int
    preliminary_assessment_days: int
    feedback_months: int
    due_soon_days: int
    abandon_after_days: int
    measure_review_days: int
    max_extension_days: int
    sources: dict[str, str]


QUESTION_TYPES = ("single", "multiple", "actions", "text", "identity")
CHOICE_LISTS = (
    "misconduct_kinds",
    "protected_activities",
    "adverse_actions",
    "regions",
    "safety_answers",
    "urgency",
    "identity_answers",
    "office_concerned_answers",
    "advice_topics",
)
# What the reporter says of the receiving office (a restricted case, or one about its head): fixed ids.
OFFICE_CONCERNED = ("no", "someone", "head")
# The kinds of case, each with its lifecycle: a report (complaint) follows its office's; a request for
# advice, [advice]'s; a report about the head of an office, received by the other office, the procedure
# it was meant for, run by the office that holds it ([about_the_head.<office whose head it is>]).
REPORT, ADVICE, ABOUT_HEAD = "report", "advice", "about_head"


@dataclass(frozen=True)
class Question:
    """One question of the report form, asked for the concerns in `concerns`."""

    id: str
    label: str
    type: str
    concerns: tuple[Concern, ...]
    choices: str = ""  # the choice list a single, multiple or actions question offers
    hint: str = ""
    max_length: int = 200


# What the rows of an annual-report table count complaints (or advice requests) by.
REPORT_ROWS = (
    "region",
    "workplace",  # headquarters, or field missions and regional offices
    "adverse_action",
    "outcome",
    "measure_recommended",
    "measure_implemented",
    "onward_referral",
    "advice_topic",
)


@dataclass(frozen=True)
class ReportTable:
    """One table of ECO's annual report: its rows, and how small a count it publishes."""

    id: str
    title: str
    rows: str  # one of REPORT_ROWS
    threshold: int  # counts from 1 to threshold - 1 are withheld from the publication draft; 1 publishes all
    source: str = ""


@dataclass(frozen=True)
class OutcomeGroup:
    """Closed states counted together in the report ("abandoned or withdrawn")."""

    id: str
    label: str
    states: tuple[str, ...]


@dataclass(frozen=True)
class Statistics:
    threshold: int  # the organization's default; a table may set its own
    headquarters: tuple[str, ...]  # the region ids that are headquarters in the "workplace" rows
    outcomes: tuple[OutcomeGroup, ...]
    tables: tuple[ReportTable, ...]


@dataclass(frozen=True)
class Organization:
    name: str
    quick_exit: str  # "Leave quickly" for a visitor on the clearnet address
    quick_exit_onion: str  # and for one on the onion service, who should not be sent off Tor


@dataclass(frozen=True)
class Policy:
    version: str
    organization: Organization
    contacts: dict[str, str]
    offices: dict[Office, OfficeProfile]
    concerns: tuple[Choice, ...]
    routing: dict[Concern, tuple[Office, ...]]
    misconduct_kinds: tuple[MisconductKind, ...]
    protected_activities: tuple[Choice, ...]
    adverse_actions: tuple[Choice, ...]
    regions: tuple[Choice, ...]
    safety_answers: tuple[Choice, ...]
    urgency: tuple[Choice, ...]
    identity_answers: tuple[Choice, ...]
    office_concerned_answers: tuple[Choice, ...]
    advice_topics: tuple[Choice, ...]
    questions: tuple[Question, ...]
    lifecycles: dict[Office, Lifecycle]
    advice: Lifecycle
    deadlines: Deadlines
    protective_measures: tuple[Choice, ...]
    onward_referrals: tuple[Choice, ...]
    retention_closed_case_days: int
    statistics: Statistics
    # [restricted_cases]: where a report about the head of an office goes (the other office).
    about_head: dict[Office, Office]
    # [about_the_head.<office>]: the lifecycle of a report about that office's head, by the office holding it.
    head_lifecycles: dict[Office, Lifecycle]

    @property
    def small_cell_threshold(self) -> int:
        return self.statistics.threshold

    def lifecycle(self, office: str, kind: str = REPORT) -> Lifecycle:
        """The lifecycle of an office's handling (its code as stored, or an Office) of a report, of an advice
        request, or of a report about the other office's head."""
        if kind == ADVICE:
            return self.advice
        if kind == ABOUT_HEAD:
            return self.head_lifecycles[Office(office)]
        return self.lifecycles[Office(office)]

    def questions_for(self, concern: Concern) -> tuple[Question, ...]:
        """The questions a report of this concern asks, in order."""
        return tuple(q for q in self.questions if concern in q.concerns)

    def ids(self, field_name: str) -> set[str]:
        return {item.id for item in self._items(field_name)}

    def short(self, field_name: str, item_id: str) -> str:
        """The short label officers' lists use, or the label where there is none."""
        for item in self._items(field_name):
            if item.id == item_id:
                return getattr(item, "short", "") or item.label
        return item_id

    def label(self, field_name: str, item_id: str) -> str:
        for item in self._items(field_name):
            if item.id == item_id:
                return item.label
        return item_id

    def choices_of(self, field_name: str) -> tuple[Choice | MisconductKind, ...]:
        return self._items(field_name)

    def _items(self, field_name: str) -> tuple[Choice | MisconductKind, ...]:
        items: tuple[Choice | MisconductKind, ...] = getattr(self, field_name)
        return items


class _Checker:
    """Validation helpers that turn a failed rule into a PolicyError naming its line."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def line(self, header: str, nth: int = 1, key: str | None = None) -> int | None:
        """The 1-based line of `key` in the nth section called `header` (or of the header)."""
        pattern = re.compile(r"^\s*" + re.escape(header) + r"\s*(#.*)?$")
        seen, start = 0, None
        for number, text in enumerate(self.lines, 1):
            if pattern.match(text):
                seen += 1
                if seen == nth:
                    start = number
                    break
        if start is None:
            return None
        if key is None:
            return start
        key_pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        for number in range(start + 1, len(self.lines) + 1):
            text = self.lines[number - 1]
            if re.match(r"^\s*\[", text):
                break
            if key_pattern.match(text):
                return number
        return start

    def fail(self, message: str, header: str, nth: int = 1, key: str | None = None) -> NoReturn:
        number = self.line(header, nth, key)
        where = f"{self.source}, line {number}" if number else self.source
        raise PolicyError(f"{where}: {header}{' ' + key if key else ''}: {message}")

    def text(self, table: Table, key: str, header: str, nth: int = 1, required: bool = True) -> str:
        value = table.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(f"`{key}` must be a non-empty string", header, nth, key if key in table else None)
        return value.strip()

    def address(self, table: Table, key: str, header: str, onion: bool) -> str:
        """A web address to send a visitor to: an onion service's (`onion`), or one off the onion."""
        value = self.text(table, key, header)
        url = urlsplit(value)
        host = url.hostname or ""
        if url.scheme not in ("http", "https") or not host or host.endswith(".onion") != onion:
            where = "an onion service's (a host ending in .onion)" if onion else "one off the onion (not .onion)"
            self.fail(f"must be a web address (http:// or https://), {where}", header, key=key)
        return value

    def integer(self, table: Table, key: str, header: str, minimum: int = 0) -> int:
        value = table.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.fail(f"`{key}` must be a whole number of at least {minimum}", header, key=key if key in table else None)
        return value

    def choices(self, data: Table, key: str, with_kind: bool = False, with_short: bool = False) -> tuple[Choice, ...]:
        """A choice list; `with_short`: each entry needs its `short`, the name a report prints for it."""
        header = f"[[{key}]]"
        items = data.get(key)
        if not isinstance(items, list) or not items:
            self.fail("at least one entry is required", header)
        seen: set[str] = set()
        out = []
        for n, item in enumerate(items, 1):
            choice = Choice(
                self.text(item, "id", header, n),
                self.text(item, "label", header, n),
                self.text(item, "hint", header, n, required=False),
                self.text(item, "kind", header, n, required=with_kind),
                self.text(item, "short", header, n, required=with_short),
            )
            if choice.id in seen:
                self.fail(f"duplicate id {choice.id!r}", header, n, "id")
            seen.add(choice.id)
            out.append(choice)
        return tuple(out)


def _lifecycle(check: _Checker, data: Table, code: Office, path: str | None = None) -> Lifecycle:
    """The lifecycle of [lifecycles.<code>], or of the table at `path` ("advice", "about_the_head.ECO"),
    kept by the office `code`."""
    path = path or f"lifecycles.{code}"
    header = f"[{path}]"
    table: Any = data
    for part in path.split("."):
        table = table.get(part) if isinstance(table, dict) else None
    if not isinstance(table, dict):
        check.fail("is missing", header)
    states: dict[str, State] = {}
    state_header = f"[[{path}.states]]"
    for n, item in enumerate(table.get("states") or [], 1):
        state = State(
            id=check.text(item, "id", state_header, n),
            label=check.text(item, "label", state_header, n),
            reporter=check.text(item, "reporter", state_header, n),
            closed=bool(item.get("closed", False)),
            via=check.text(item, "via", state_header, n, required=False),
            after_warning=bool(item.get("after_warning", False)),
            concludes_assessment=bool(item.get("concludes_assessment", False)),
            assesses=bool(item.get("assesses", False)),
            acknowledges=bool(item.get("acknowledges", False)),
            by_reporter=bool(item.get("by_reporter", False)),
            requires_determination=check.text(item, "requires_determination", state_header, n, required=False),
            excludes_determination=check.text(item, "excludes_determination", state_header, n, required=False),
            requires_consent=check.text(item, "requires_consent", state_header, n, required=False),
            message=check.text(item, "message", state_header, n, required=False),
        )
        if state.id in states:
            check.fail(f"duplicate state {state.id!r}", state_header, n, "id")
        if state.via not in ("", "referral"):
            check.fail('`via` can only be "referral"', state_header, n, "via")
        if state.requires_determination not in ("", "found", "not_found"):
            check.fail('`requires_determination` is "found" or "not_found"', state_header, n, "requires_determination")
        if state.excludes_determination not in ("", "found") or (state.excludes_determination and state.requires_determination):
            check.fail('`excludes_determination` can only be "found", on a state that requires none', state_header, n)
        if state.requires_consent not in ("", "refused"):
            check.fail('`requires_consent` can only be "refused"', state_header, n, "requires_consent")
        if state.by_reporter and not state.closed:
            check.fail("a state the complainant reaches by withdrawing is closed", state_header, n, "by_reporter")
        if state.closed and not (state.message or state.via or state.by_reporter):
            check.fail("a closed state an officer moves to needs the `message` the complainant is sent", state_header, n)
        if state.message and not state.closed:
            check.fail("only a closed state has a closing `message`", state_header, n, "message")
        if "[[" in PLACEHOLDER.sub("", state.message) or "]]" in PLACEHOLDER.sub("", state.message):
            check.fail("a part for the officer to write is one [[...]], without brackets inside", state_header, n, "message")
        states[state.id] = state
    if not states:
        check.fail("needs at least one state", state_header)
    initial = check.text(table, "initial", header)
    if initial not in states:
        check.fail(f"the initial state {initial!r} is not one of the states", header, key="initial")
    transitions: dict[str, tuple[str, ...]] = {}
    moves_header = f"[{path}.transitions]"
    for source, targets in (table.get("transitions") or {}).items():
        if source not in states:
            check.fail(f"{source!r} is not a state", moves_header, key=source)
        if not isinstance(targets, list) or not all(t in states for t in targets):
            check.fail(f"must list states of this lifecycle (known: {', '.join(states)})", moves_header, key=source)
        if states[source].closed:
            check.fail("a closed state cannot move on", moves_header, key=source)
        transitions[source] = tuple(targets)
    # Withdrawal reaches its state from any open one, outside the officers' transitions.
    reachable = {initial} | {s.id for s in states.values() if s.by_reporter}
    frontier = [initial]
    while frontier:
        for target in transitions.get(frontier.pop(), ()):
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    unreachable = [s for s in states if s not in reachable]
    if unreachable:
        check.fail(f"states that no transition reaches: {', '.join(unreachable)}", moves_header)
    deadlines = table.get("deadlines", [])
    if not isinstance(deadlines, list) or not set(deadlines) <= set(DEADLINE_NAMES) or len(set(deadlines)) != len(deadlines):
        check.fail(f"`deadlines` must list some of {', '.join(DEADLINE_NAMES)}, each once", header, key="deadlines")
    refers_to = table.get("refers_to")
    if refers_to is not None and (refers_to not in OFFICE_CODES or refers_to == code):
        check.fail("`refers_to` must name the other office", header, key="refers_to")
    determines = bool(table.get("determines_prima_facie", False))
    if not determines and any(s.requires_determination or s.excludes_determination for s in states.values()):
        check.fail("states that require a determination need `determines_prima_facie = true`", header)
    if determines != any(s.assesses and not s.closed for s in states.values()):
        check.fail("an office that `determines_prima_facie` names the open state(s) where it `assesses`, and only then", header)
    reopen_to = check.text(table, "reopen_to", header)
    if reopen_to not in states or states[reopen_to].closed:
        check.fail("`reopen_to` must name an open state of this lifecycle", header, key="reopen_to")
    extendable = table.get("extendable", [])
    if not isinstance(extendable, list) or not set(extendable) <= set(deadlines):
        check.fail("`extendable` must list some of the office's own `deadlines`", header, key="extendable")
    referral_states = [s.id for s in states.values() if s.via == "referral"]
    if (refers_to is None) != (not referral_states):
        check.fail(
            'an office that `refers_to` another needs a state with via = "referral", and only then',
            header,
            key="refers_to" if "refers_to" in table else None,
        )
    return Lifecycle(
        office=code,
        initial=initial,
        states=states,
        transitions=transitions,
        deadlines=tuple(deadlines),
        refers_to=Office(refers_to) if refers_to else None,
        referral_needs_consent=bool(table.get("referral_needs_consent", False)),
        records_protection=bool(table.get("records_protection", False)),
        reopen_to=reopen_to,
        extendable=tuple(extendable),
        determines_prima_facie=determines,
    )


def _questions(check: _Checker, data: Table) -> tuple[Question, ...]:
    header = "[[questions]]"
    out: list[Question] = []
    for n, item in enumerate(data.get("questions") or [], 1):
        kind = check.text(item, "type", header, n)
        if kind not in QUESTION_TYPES:
            check.fail(f"`type` must be one of {', '.join(QUESTION_TYPES)}", header, n, "type")
        concerns = item.get("for")
        if not isinstance(concerns, list) or not concerns or not set(concerns) <= set(CONCERN_IDS) - {Concern.BOTH}:
            check.fail("`for` must list concerns (a report of both asks the questions of each)", header, n, "for")
        choices = check.text(item, "choices", header, n, required=kind in ("single", "multiple", "actions"))
        if choices and choices not in CHOICE_LISTS:
            check.fail(f"`choices` must name one of {', '.join(CHOICE_LISTS)}", header, n, "choices")
        length = item.get("max_length", 200)
        if not isinstance(length, int) or length < 1:
            check.fail("`max_length` must be a whole number", header, n, "max_length")
        question = Question(
            check.text(item, "id", header, n),
            check.text(item, "label", header, n),
            kind,
            tuple(Concern(c) for c in concerns),
            choices,
            check.text(item, "hint", header, n, required=False),
            length,
        )
        if any(q.id == question.id for q in out):
            check.fail(f"duplicate id {question.id!r}", header, n, "id")
        out.append(question)
    if not out:
        check.fail("at least one question is required", header)
    return tuple(out)


def parse_policy(text: str, source: str = "policy.toml") -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{source} is not valid TOML: {error}") from None
    check = _Checker(text, source)
    version = check.text(data, "version", "version")
    offices = {}
    for code in OFFICE_CODES:
        table = data.get("offices", {}).get(code)
        if not isinstance(table, dict):
            check.fail("is missing", f"[offices.{code}]")
        offices[code] = OfficeProfile(
            code, check.text(table, "name", f"[offices.{code}]"), check.text(table, "handles", f"[offices.{code}]")
        )
    concerns = check.choices(data, "concerns")
    if tuple(c.id for c in concerns) != CONCERN_IDS:
        check.fail(f"the ids must be exactly {', '.join(CONCERN_IDS)}, in that order", "[[concerns]]")
    routing = {}
    for concern in CONCERN_IDS:
        targets = data.get("routing", {}).get(concern)
        if not isinstance(targets, list) or not targets or any(t not in offices for t in targets):
            check.fail(f"must list one or more of {', '.join(OFFICE_CODES)}", "[routing]", key=concern)
        routing[Concern(concern)] = tuple(Office(t) for t in targets)
    kinds = []
    for n, item in enumerate(data.get("misconduct_kinds") or [], 1):
        header = "[[misconduct_kinds]]"
        examples = item.get("examples", [])
        if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
            check.fail("`examples` must be a list of strings", header, n, "examples")
        kinds.append(
            MisconductKind(
                check.text(item, "id", header, n),
                check.text(item, "label", header, n),
                check.text(item, "description", header, n),
                tuple(e.strip() for e in examples),
                check.text(item, "source", header, n, required=False),
            )
        )
    if not kinds or len({k.id for k in kinds}) != len(kinds):
        check.fail("at least one entry, and ids must be unique", "[[misconduct_kinds]]")
    deadlines_table = data.get("deadlines")
    if not isinstance(deadlines_table, dict):
        check.fail("is missing", "[deadlines]")
    sources = deadlines_table.get("sources")
    if not isinstance(sources, dict):
        check.fail("is missing: each deadline names its source", "[deadlines.sources]")
    deadlines = Deadlines(
        **{
            key: check.integer(deadlines_table, key, "[deadlines]", minimum=1 if key != "due_soon_days" else 0)
            for key in DEADLINE_KEYS
        },
        sources={name: check.text(sources, name, "[deadlines.sources]") for name in SOURCED},
    )
    onward = check.choices(data, "onward_referrals", with_kind=True)
    for n, choice in enumerate(onward, 1):
        if choice.kind not in ("safety_risk", "welfare", "elsewhere"):
            check.fail("`kind` must be safety_risk, welfare or elsewhere", "[[onward_referrals]]", n, "kind")
    organization_table = data.get("organization") or {}
    contacts_table = data.get("contacts") or {}
    advice_office = check.text(data.get("advice") or {}, "office", "[advice]")
    if advice_office not in OFFICE_CODES:
        check.fail("`office` must name an office", "[advice]", key="office")
    return Policy(
        version=version,
        organization=Organization(
            check.text(organization_table, "name", "[organization]"),
            check.address(organization_table, "quick_exit", "[organization]", onion=False),
            check.address(organization_table, "quick_exit_onion", "[organization]", onion=True),
        ),
        contacts={key: check.text(contacts_table, key, "[contacts]") for key in ("staff_security", "ombudsperson")},
        offices=offices,
        concerns=concerns,
        routing=routing,
        misconduct_kinds=tuple(kinds),
        protected_activities=check.choices(data, "protected_activities"),
        # The annual report names each in the third person, never in the complainant's words.
        adverse_actions=check.choices(data, "adverse_actions", with_short=True),
        regions=check.choices(data, "regions"),
        safety_answers=check.choices(data, "safety_answers"),
        urgency=check.choices(data, "urgency"),
        identity_answers=check.choices(data, "identity_answers"),
        office_concerned_answers=_office_concerned(check, data),
        advice_topics=check.choices(data, "advice_topics"),
        questions=_questions(check, data),
        lifecycles={code: _lifecycle(check, data, code) for code in OFFICE_CODES},
        advice=_lifecycle(check, data, Office(advice_office), "advice"),
        head_lifecycles=_head_lifecycles(check, data),
        deadlines=deadlines,
        protective_measures=check.choices(data, "protective_measures"),
        onward_referrals=onward,
        retention_closed_case_days=check.integer(data.get("retention") or {}, "closed_case_days", "[retention]", minimum=1),
        statistics=_statistics(check, data),
        about_head=_about_head(check, data),
    )


def _office_concerned(check: "_Checker", data: Table) -> tuple[Choice, ...]:
    choices = check.choices(data, "office_concerned_answers")
    if tuple(c.id for c in choices) != OFFICE_CONCERNED:
        check.fail(f"the ids are {', '.join(OFFICE_CONCERNED)}, in that order", "[[office_concerned_answers]]")
    return choices


def _head_lifecycles(check: "_Checker", data: Table) -> dict[Office, Lifecycle]:
    """[about_the_head.<office>] for each office, by the office that holds such a report ([restricted_cases])."""
    out = {}
    for about, holder in _about_head(check, data).items():
        lifecycle = _lifecycle(check, data, holder, f"about_the_head.{about}")
        if lifecycle.refers_to is not None:
            check.fail("a report about an office's head is not referred on from here", f"[about_the_head.{about}]")
        out[holder] = lifecycle
    return out


def _about_head(check: "_Checker", data: Table) -> dict[Office, Office]:
    """[restricted_cases] about_head: each office's head is reported to the other office, never to their own."""
    table = (data.get("restricted_cases") or {}).get("about_head")
    if not isinstance(table, dict) or set(table) != set(OFFICE_CODES):
        check.fail("must name, for each office, where a report about its head goes", "[restricted_cases]", key="about_head")
    for code, to in table.items():
        if to not in OFFICE_CODES or to == code:
            check.fail("a report about an office's head goes to another office", "[restricted_cases]", key="about_head")
    return {Office(code): Office(to) for code, to in table.items()}


def _statistics(check: "_Checker", data: Table) -> Statistics:
    """[statistics]: the default threshold, which regions are headquarters, outcome groups and the tables."""
    table = data.get("statistics") or {}
    threshold = check.integer(table, "small_cell_threshold", "[statistics]", minimum=1)
    regions = {r["id"] for r in data.get("regions") or [] if isinstance(r, dict)}
    headquarters = table.get("headquarters", [])
    if not isinstance(headquarters, list) or not set(headquarters) <= regions:
        check.fail("`headquarters` must list region ids", "[statistics]", key="headquarters")
    eco = data.get("lifecycles", {}).get("ECO", {})
    closed = {s["id"] for s in eco.get("states", []) if isinstance(s, dict) and s.get("closed")}
    groups: list[OutcomeGroup] = []
    grouped: set[str] = set()
    for n, group in enumerate(table.get("outcomes") or [], 1):
        header = "[[statistics.outcomes]]"
        states = group.get("states") if isinstance(group, dict) else None
        if not isinstance(states, list) or not states or not set(states) <= closed or grouped & set(states):
            check.fail("`states` must list closed ECO states, each in one group only", header, n, "states")
        grouped |= set(states)
        groups.append(OutcomeGroup(check.text(group, "id", header, n), check.text(group, "label", header, n), tuple(states)))
    if closed - grouped:
        check.fail(f"every closed ECO state must be in an outcome group; missing {sorted(closed - grouped)}", "[statistics]")
    tables, ids = [], set()
    for n, item in enumerate(table.get("tables") or [], 1):
        header = "[[statistics.tables]]"
        if not isinstance(item, dict):
            check.fail("must be a table", header, n)
        table_id = check.text(item, "id", header, n)
        if table_id in ids:
            check.fail(f"`id` {table_id!r} is used twice", header, n, "id")
        ids.add(table_id)
        rows = check.text(item, "rows", header, n)
        if rows not in REPORT_ROWS:
            check.fail(f"`rows` must be one of {', '.join(REPORT_ROWS)}", header, n, "rows")
        own = item.get("threshold", threshold)
        if not isinstance(own, int) or isinstance(own, bool) or own < 1:
            check.fail("`threshold` must be a whole number of at least 1", header, n, "threshold")
        source = item.get("source", "")
        tables.append(
            ReportTable(table_id, check.text(item, "title", header, n), rows, own, source if isinstance(source, str) else "")
        )
    if not tables:
        check.fail("lists no tables: the annual report would be empty", "[statistics]")
    return Statistics(threshold, tuple(headquarters), tuple(groups), tuple(tables))


def shipped_policy_text() -> str:
    return resources.files(__package__).joinpath("policy.toml").read_text(encoding="utf-8")


@lru_cache(maxsize=4)
def load_policy(path: str | None = None) -> Policy:
    """The policy in `path` (an organization's own file), or the one shipped with the package."""
    if path:
        return parse_policy(Path(path).read_text(encoding="utf-8"), str(path))
    return parse_policy(shipped_policy_text())
