"""Small things a complainant reads or types (issue 23, polish): the identity question says "optional"
once, a passphrase typed with hyphens or other separators opens the room, and the consent request says
that OIG would not receive who they are."""

import re
from html import unescape

import pytest

from intake import i18n
from intake.service import casework, notices, referral, reporting
from intake.service.errors import Conflict

from ..casework_steps import officer, walk
from ..helpers import caseroom_login, file_via_api, post_form


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.parametrize("lang", i18n.CODES)
def test_the_identity_question_says_optional_once_in_every_language(client, lang):
    page = client.get(f"/report?concern=retaliation&lang={lang}").text
    label = re.search(r'<label for="q-identity">(.*?)</label>', page, re.S).group(1)
    optional = i18n.gettext(lang, "(optional)")
    assert text_of(label).count(optional) == 1, text_of(label)
    assert text_of(label).strip() == f"{i18n.gettext(lang, 'Who you are')} {optional}"


def hyphenated(passphrase: str) -> str:
    return "-".join(passphrase.split()).upper()


@pytest.mark.parametrize(
    "typed",
    [
        hyphenated,
        lambda p: ",  ".join(p.split()) + ".",
        lambda p: "\n".join(p.split()),
        lambda p: " . ".join(w.capitalize() for w in p.split()),
    ],
    ids=["hyphens", "commas", "lines", "dots"],
)
def test_a_passphrase_typed_with_other_separators_opens_the_room(client, typed):
    filed = file_via_api(client, ["misconduct"], "The fuel is sold.")
    room = post_form(client, "/caseroom/login", {"passphrase": typed(filed["passphrase"])})
    assert room.status_code == 200 and "Your case room" in room.text
    assert caseroom_login(client, typed(filed["passphrase"]))  # the API reads it alike


def test_separators_never_make_a_wrong_passphrase_right(client):
    filed = file_via_api(client, ["misconduct"], "The fuel is sold.")
    words = filed["passphrase"].split()
    for wrong in ("".join(words), "-".join(words[:-1]), "-".join(words[1:] + words[:1]), "-".join(words) + "-1"):
        refused = post_form(client, "/caseroom/login", {"passphrase": wrong})
        assert refused.status_code == 401
        assert client.post("/api/v1/caseroom/session", json={"passphrase": wrong}).status_code == 401


def test_the_login_page_says_separators_do_not_matter(client):
    assert "hyphens" in client.get("/caseroom/login").text


def test_the_consent_request_says_oig_would_not_receive_who_they_are(client, ctx):
    filed = file_via_api(
        client, ["retaliation"], "My post was abolished.", {"identity": "Amal Haddad", "identity_consent": "yes"}
    )
    case_id = filed["cases"][0]["id"]
    eco = officer(ctx, "eco-1")
    walk(ctx, eco, case_id, ["acknowledged", "preliminary_assessment"])
    referral.request_consent(ctx, eco, case_id)

    notice = str(notices.decode(notices.encode(notices.Notice.CONSENT_REQUEST)))
    assert "would not receive who you are" in notice
    room = text_of(post_form(client, "/caseroom/login", {"passphrase": filed["passphrase"]}).text)
    assert "would not receive who you are" in room  # the notice among the messages
    assert "OIG would not receive who you are" in room  # and the consent form itself
    assert room.count("unless you wrote it") >= 2  # what they wrote in the complaint or a message is shared

    # As the texts say: once referred, OIG holds the case key, not the identity's.
    reporting.answer_consent(ctx, reporting.open_case_room(ctx, filed["passphrase"]), case_id, True)
    casework.determine(ctx, eco, case_id, True, "Initial evidence of retaliation.")
    referral.refer(ctx, eco, case_id, memo="For investigation.")
    assert casework.open_case(ctx, officer(ctx, "oig-1"), case_id).description == "My post was abolished."
    with pytest.raises(Conflict):
        casework.read_identity(ctx, officer(ctx, "oig-1"), case_id)
    assert casework.read_identity(ctx, eco, case_id) == "Amal Haddad"
