"""Hypothesis strategies the tests share: a report's answers as a reporter may leave them."""

from hypothesis import strategies as st

TEXT = st.sampled_from(["", "  ", "in May", "my manager", '<script>alert(1)</script>", "\u202eevil\u202c'])


@st.composite
def answers_for(draw, policy, concern: str) -> dict:
    """Each question of the concern left out, blank or answered; an action ticked with or without when and who."""
    answers: dict = {}
    for question in policy.questions_for(concern):
        if not draw(st.sampled_from([True, True, False])):
            continue
        ids = sorted(policy.ids(question.choices)) if question.choices else []
        if question.type == "single":
            answers[question.id] = draw(st.sampled_from(ids))
        elif question.type == "multiple":
            answers[question.id] = draw(st.lists(st.sampled_from(ids), unique=True, max_size=3))
        elif question.type == "actions":
            ticked = draw(st.lists(st.sampled_from(ids), unique=True, max_size=4))
            answers[question.id] = ticked
            answers[f"{question.id}_details"] = {
                a: {"when": draw(TEXT), "who": draw(TEXT)} for a in ticked if draw(st.sampled_from([True, False, False]))
            }
        else:
            answers[question.id] = draw(TEXT)
    return answers
