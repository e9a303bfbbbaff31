"""A policy file an administrator got wrong stops the service at start with the table, the key and
the line, instead of running with a lifecycle that strands cases or a form that asks nonsense.

Each case below changes the shipped policy.toml in one place and checks the refusal names what is
wrong; the shipped file itself loads (tests/policies/test_policy.py)."""

import re

import pytest

from policies import PolicyError
from policies.model import parse_policy, shipped_policy_text

SHIPPED = shipped_policy_text()

ECO_ABANDONED_MESSAGE = (
    'message = "We have closed your complaint because we have not heard from you since our warning. '
    'If you write here, we can reopen it."\n'
)

# (what the administrator wrote instead of the shipped text, what the refusal says)
LIFECYCLE_MISTAKES = {
    "two states with one id": (
        ('id = "acknowledged"\nlabel = "Acknowledged"', 'id = "received"\nlabel = "Acknowledged"'),
        "duplicate state 'received'",
    ),
    "a via other than referral": (('\nvia = "referral"', '\nvia = "post"'), '`via` can only be "referral"'),
    "an unknown determination": (
        ('requires_determination = "found"', 'requires_determination = "maybe"'),
        '`requires_determination` is "found" or "not_found"',
    ),
    "excluding the wrong determination": (
        ('excludes_determination = "found"', 'excludes_determination = "not_found"'),
        '`excludes_determination` can only be "found"',
    ),
    "an unknown consent": (
        ('requires_consent = "refused"', 'requires_consent = "given"'),
        '`requires_consent` can only be "refused"',
    ),
    "an open withdrawal": (("closed = true\nby_reporter = true", "by_reporter = true"), "reaches by withdrawing is closed"),
    "a closure with no message": (
        ("after_warning = true\n" + ECO_ABANDONED_MESSAGE, "after_warning = true\n"),
        "needs the `message`",
    ),
    "a message on an open state": (
        ("acknowledges = true\n", 'acknowledges = true\nmessage = "Closed."\n'),
        "only a closed state",
    ),
    "a part to write left open": (
        ("reasons: [[write the reasons here]]", "reasons: [[write the reasons here"),
        "one [[...]], without brackets",
    ),
    "an initial state that is none": (
        ('[lifecycles.ECO]\ninitial = "received"', '[lifecycles.ECO]\ninitial = "nowhere"'),
        "initial state 'nowhere'",
    ),
    "a move from no state": (
        ("[lifecycles.ECO.transitions]\n", '[lifecycles.ECO.transitions]\nnowhere = ["acknowledged"]\n'),
        "'nowhere' is not a state",
    ),
    "a move to no state": (
        ('received = ["acknowledged", "transferred_to_oig"]', 'received = ["acknowledged", "nowhere"]'),
        "must list states of this lifecycle",
    ),
    "a move out of a closed state": (
        ("[lifecycles.ECO.transitions]\n", '[lifecycles.ECO.transitions]\nwithdrawn = ["received"]\n'),
        "a closed state cannot move on",
    ),
    "a state nothing reaches": (
        ('"kept_without_referral", "closed_no_prima_facie"', '"closed_no_prima_facie"'),
        "states that no transition reaches: kept_without_referral",
    ),
    "an unknown deadline": (
        (
            'deadlines = ["acknowledgement", "first_response", "preliminary_assessment", "feedback"]',
            'deadlines = ["acknowledgement", "first_response", "preliminary_assessment", "feedback", "someday"]',
        ),
        "`deadlines` must list some of",
    ),
    "a deadline twice": (
        (
            'deadlines = ["acknowledgement", "first_response", "preliminary_assessment", "feedback"]',
            'deadlines = ["acknowledgement", "acknowledgement", "preliminary_assessment"]',
        ),
        "each once",
    ),
    "referring to itself": (('refers_to = "OIG"', 'refers_to = "ECO"'), "`refers_to` must name the other office"),
    "determinations without determining": (
        ("determines_prima_facie = true        # ECO Annual Report 2022 s.2\n\n[[lifecycles.ECO", "\n[[lifecycles.ECO"),
        "need `determines_prima_facie = true`",
    ),
    "determining without an assessing state": (
        ('label = "Preliminary assessment"\nassesses = true\n', 'label = "Preliminary assessment"\n'),
        "where it `assesses`",
    ),
    "reopening to a closed state": (
        (
            '[lifecycles.ECO]\ninitial = "received"\nreopen_to = "preliminary_assessment"',
            '[lifecycles.ECO]\ninitial = "received"\nreopen_to = "withdrawn"',
        ),
        "`reopen_to` must name an open state",
    ),
    "extending a deadline the office does not have": (
        ('extendable = ["preliminary_assessment"]', 'extendable = ["investigation"]'),
        "`extendable` must list some of the office's own `deadlines`",
    ),
    "referral states without refers_to": (('refers_to = "OIG"\n', ""), 'needs a state with via = "referral"'),
}


# Mistakes elsewhere in the file: (old, new, how many of `old` to change: -1 for every one), refusal.
OTHER_MISTAKES = {
    "an office missing": (("[offices.OIG]", "[offices.IOG]", 1), "[offices.OIG]: is missing"),
    "the concerns renamed": (
        ('[[concerns]]\nid = "retaliation"', '[[concerns]]\nid = "grievance"', 1),
        "the ids must be exactly",
    ),
    "an empty example": (
        ('examples = [\n  "A staff', 'examples = [\n  " ",\n  "A staff', 1),
        "`examples` must be a list of strings",
    ),
    "two kinds of misconduct with one id": (('id = "sexual_harassment"', 'id = "harassment"', 1), "ids must be unique"),
    "an unknown question type": (
        ('type = "single"\nchoices = "advice_topics"', 'type = "essay"\nchoices = "advice_topics"', 1),
        "`type` must be one of",
    ),
    "a question for both at once": (('for = ["advice"]', 'for = ["both"]', 1), "`for` must list concerns"),
    "a question's unknown choices": (('choices = "advice_topics"', 'choices = "horoscopes"', 1), "`choices` must name one of"),
    "a question of no length": (("max_length = 200", "max_length = 0", 1), "`max_length` must be a whole number"),
    "two questions with one id": (('id = "misconduct_kinds"\nfor', 'id = "advice_topic"\nfor', 1), "duplicate id 'advice_topic'"),
    "no questions": (("[[questions]]", "[[unasked]]", -1), "at least one question is required"),
    "a deadline of zero days": (
        ("acknowledgement_days = 7", "acknowledgement_days = 0", 1),
        "`acknowledgement_days` must be a whole number of at least 1",
    ),
    "deadlines without their sources": (("[deadlines.sources]", "[deadline_sources]", 1), "each deadline names its source"),
    "an onward referral of an unknown kind": (
        ('kind = "safety_risk"', 'kind = "gossip"', 1),
        "`kind` must be safety_risk, welfare or elsewhere",
    ),
    "two protective measures with one id": (
        ('id = "alternative_duties"', 'id = "physical_separation"', 1),
        "duplicate id 'physical_separation'",
    ),
    "no protective measures": (
        ("[[protective_measures]]", "[[unprotected]]", -1),
        "[[protective_measures]]: at least one entry is required",
    ),
    "advice with an unknown office": (('[advice]\noffice = "ECO"', '[advice]\noffice = "HR"', 1), "`office` must name an office"),
    "the office-concerned answers renamed": (('id = "someone"', 'id = "colleague"', 1), "the ids are no, someone, head"),
    "a head reported nowhere": (
        ('about_head = { ECO = "OIG", OIG = "ECO" }', 'about_head = { ECO = "OIG" }', 1),
        "for each office",
    ),
    "a head reported to their own office": (
        ('about_head = { ECO = "OIG", OIG = "ECO" }', 'about_head = { ECO = "ECO", OIG = "ECO" }', 1),
        "goes to another office",
    ),
    "an office's lifecycle missing": (("lifecycles.OIG", "lifecycles.IOG", -1), "[lifecycles.OIG]: is missing"),
    "a small-cell threshold of zero": (
        ("small_cell_threshold = 5", "small_cell_threshold = 0", 1),
        "`small_cell_threshold` must be a whole number of at least 1",
    ),
    "an annual report of no tables": (("[[statistics.tables]]", "[[statistics.drafts]]", -1), "the annual report would be empty"),
}


def broken(old: str, new: str, count: int = 1) -> str:
    assert old in SHIPPED, old  # the shipped file changed: the case must follow it
    return SHIPPED.replace(old, new, count)


def refusal(text: str) -> str:
    with pytest.raises(PolicyError) as refused:
        parse_policy(text)
    return str(refused.value)


@pytest.mark.parametrize("mistake", LIFECYCLE_MISTAKES, ids=str)
def test_a_broken_lifecycle_is_refused_naming_what_is_wrong(mistake):
    (old, new), says = LIFECYCLE_MISTAKES[mistake]
    message = refusal(broken(old, new))
    assert says in message, message
    assert "lifecycles.ECO" in message  # the ECO lifecycle, the first changed: not another table


def test_the_refusal_points_at_the_line_to_fix():
    text = broken('\nvia = "referral"', '\nvia = "post"')
    line = int(re.search(r"line (\d+)", refusal(text)).group(1))
    assert text.splitlines()[line - 1] == 'via = "post"'


@pytest.mark.parametrize("mistake", OTHER_MISTAKES, ids=str)
def test_a_broken_policy_file_is_refused_naming_what_is_wrong(mistake):
    (old, new, count), says = OTHER_MISTAKES[mistake]
    message = refusal(broken(old, new, count))
    assert says in message, message
