"""What the complainant is told (issue 23, item 11, the reporter's side): the passphrase page and the
case room promise what the policy's deadlines promise, for every kind of case, and an extended
deadline is said as it is."""

import datetime as dt
import re
from html import unescape

import pytest

from intake.service import casework, officers, reporting
from policies import validate_report

from ..helpers import officer_token, post_form
from .test_pages import passphrase_from

QUESTIONS = {
    "retaliation": {"q.protected_activity": "cooperated_audit_investigation", "q.safety_risk": "no"},
    "misconduct": {},
    "advice": {"q.advice_topic": "gifts"},
}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def sent_page(client, concern: str, **answers: str) -> str:
    fields = {"concern": concern, "description": "What I would like to tell the office.", **QUESTIONS.get(concern, {}), **answers}
    page = post_form(client, "/report", fields)
    assert page.status_code == 200 and "/report/sent" in str(page.url), page.text
    return page.text


def room_expectations(ctx, passphrase: str) -> list[tuple[str, str, str]]:
    """What the case room says comes next, from the service (HandlingView.expectations)."""
    rooms = reporting.case_room(ctx, reporting.open_case_room(ctx, passphrase))
    return [item for room in rooms for item in room.expectations()]


def promised(page: str) -> list[str]:
    """The items of every "What happens next" list on a page, as read."""
    blocks = re.findall(r'<ol class="expectations">(.*?)</ol>', page, re.S)
    return [text_of(item).strip() for block in blocks for item in re.findall(r"<li>(.*?)</li>", block, re.S)]


def as_read(ctx, expected: list[tuple[str, str, str]]) -> list[str]:
    return [f"{what} by {when} ({ctx.policy.offices[office].name})" for office, what, when in expected]


def test_an_advice_request_is_promised_a_first_answer_within_48_hours_not_an_acknowledgement(client, ctx):
    page = sent_page(client, "advice")
    read = text_of(page)
    assert "Your question was sent" in read
    assert "acknowledge your report within" not in read and "within 7 days" not in read
    first_answer = (ctx.today() + dt.timedelta(days=2)).isoformat()
    assert "normally within 48 hours" in read
    assert f"a first answer from the office by {first_answer} (Ethics and Conduct Office)" in promised(page)
    assert promised(page) == as_read(ctx, room_expectations(ctx, passphrase_from(page)))


def test_an_advice_request_is_promised_only_the_first_answer_its_lifecycle_keeps(client, ctx):
    page = sent_page(client, "advice")
    assert [item.split(" by ")[0] for item in promised(page)] == ["a first answer from the office"]


@pytest.mark.parametrize(
    ("concern", "offices"),
    [("retaliation", ["Ethics and Conduct Office"]), ("misconduct", ["Office of the Inspector General"])],
)
def test_a_report_is_promised_what_its_office_keeps_with_dates_as_the_room_says(client, ctx, concern, offices):
    page = sent_page(client, concern)
    items = promised(page)
    assert items == as_read(ctx, room_expectations(ctx, passphrase_from(page)))
    ack = (ctx.today() + dt.timedelta(days=ctx.policy.deadlines.acknowledgement_days)).isoformat()
    assert f"an acknowledgement of your report by {ack} ({offices[0]})" in items
    assessment = [i for i in items if "preliminary assessment" in i]
    assert bool(assessment) == (concern == "retaliation")  # only ECO assesses, within 30 calendar days
    assert "Your report was sent" in text_of(page)


def test_a_report_of_both_is_promised_each_offices_own(client, ctx):
    page = post_form(
        client,
        "/report",
        {
            "concern": "both",
            "retaliation.description": "My contract was not renewed.",
            "misconduct.description": "The fuel is sold.",
            "retaliation.q.protected_activity": "cooperated_audit_investigation",
        },
    ).text
    items = promised(page)
    assert items == as_read(ctx, room_expectations(ctx, passphrase_from(page)))
    assert any(i.endswith("(Ethics and Conduct Office)") for i in items)
    assert any(i.endswith("(Office of the Inspector General)") for i in items)


def test_a_restricted_report_and_a_report_about_a_head_say_who_can_read_them(client, ctx):
    someone = text_of(sent_page(client, "misconduct", **{"q.office_concerned": "someone"}))
    assert "only the head of the Office of the Inspector General" in someone
    head = sent_page(client, "retaliation", **{"q.office_concerned": "head"})
    read = text_of(head)
    assert "about the head of the Ethics and Conduct Office" in read
    assert "went to the head of the Office of the Inspector General" in read
    # The other office runs the procedure of the office it was meant for ([about_the_head.ECO]): the preliminary
    # assessment is promised, by the Office of the Inspector General.
    assert promised(head) == as_read(ctx, room_expectations(ctx, passphrase_from(head)))
    assessment = [i for i in promised(head) if "preliminary assessment" in i]
    assert len(assessment) == 1 and assessment[0].endswith("(Office of the Inspector General)")


def test_an_extended_assessment_is_said_with_its_date_not_the_usual_30_days(client, ctx):
    filed = reporting.file_report(ctx, validate_report(ctx.policy, ["retaliation"], "My post was abolished.", {}))
    case_id = filed.cases[0].id
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    for state in ("acknowledged", "preliminary_assessment"):
        casework.transition(ctx, eco, case_id, state)
    room = text_of(post_form(client, "/caseroom/login", {"passphrase": filed.passphrase}).text)
    due = ctx.today() + dt.timedelta(days=30)
    assert "up to 30 calendar days" in room and f"the result of the preliminary assessment by {due.isoformat()}" in room

    casework.extend(ctx, eco, case_id, "preliminary_assessment", 20, "The witness is on mission until May.")
    room = text_of(client.get("/caseroom").text)
    extended = (due + dt.timedelta(days=20)).isoformat()
    assert "normally takes no more than 30 calendar days" not in room
    assert f"the result of the preliminary assessment by {extended}" in room
    said = "extended its preliminary assessment by 20 days, as the rules allow in exceptional circumstances"
    assert f"{said}: it now expects to finish it by {extended}" in room
    assert "mission" not in room  # the office's reason stays in its records
