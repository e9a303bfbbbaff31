"""#24 item 14: identity consent names the office that will read it. The form's question names ECO; a
complaint about ECO's head goes to OIG, which may read who the complainant is only once they agree in
the case room, where OIG is named. The passphrase page says so, and OIG cannot read it before."""

import pytest

from intake.service import casework, officers, reporting
from intake.service.errors import Conflict, NotFound

from ..helpers import officer_token
from .test_pages import passphrase_from
from .test_reporter_promises import sent_page, text_of

CONSENTING = {"q.office_concerned": "head", "q.identity_consent": "yes", "q.identity": "Amina, room 4411"}


def test_consent_given_to_eco_on_the_form_is_not_taken_for_oig_and_the_page_says_so(client, ctx):
    """#24 item 14: on main the page said nothing of it: the complainant believed the office reading it was ECO."""
    page = sent_page(client, "retaliation", **CONSENTING)
    read = text_of(page)
    assert "You agreed that the Ethics and Conduct Office may know who you are, not the Office of the Inspector General" in read
    assert "only if you agree in your case room" in read
    token = reporting.open_case_room(ctx, passphrase_from(page))
    (room,) = reporting.case_room(ctx, token)
    assert room.office == "OIG" and room.identity.left and not room.identity.shared
    oig = officers.current(ctx, officer_token(ctx, "oig-1"))
    with pytest.raises(Conflict):
        casework.read_identity(ctx, oig, room.id)
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    with pytest.raises(NotFound):  # ECO, whose head it is about, holds no handling of it at all
        casework.read_identity(ctx, eco, room.id)
    assert reporting.share_identity(ctx, token, room.id, True)  # the room names OIG
    assert casework.read_identity(ctx, oig, room.id) == "Amina, room 4411"


def test_consent_to_the_office_that_receives_the_complaint_is_not_questioned(client, ctx):
    """#24 item 14: the ordinary complaint, with ECO named and ECO receiving it, says nothing more."""
    page = sent_page(client, "retaliation", **{"q.identity_consent": "yes", "q.identity": "Amina, room 4411"})
    assert "You agreed that" not in text_of(page)
