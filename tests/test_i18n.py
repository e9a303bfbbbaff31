"""The organization's languages: every string of the templates, the code and the policy is
in every catalog, translated; pages follow the reader's choice; Arabic reads right to left."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from intake import i18n

from .helpers import post_form

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
TRANSLATED = [code for code in i18n.CODES if code != i18n.DEFAULT]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    """Every message id in the source, extracted afresh (so a string added without a translation fails here)."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True
    )
    with open(pot, "rb") as source:
        catalog = read_po(source)
    return {message.id if isinstance(message.id, str) else message.id[0] for message in catalog if message.id}


def test_extraction_finds_templates_code_and_policy(extracted):
    assert len(extracted) > 300
    assert "Make a report" in extracted  # a template
    assert "No case room opens with this passphrase. Check each word and try again." in extracted  # the code
    assert "Temporary change of reporting lines" in extracted  # the policy


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_is_translated_in_every_catalog(extracted, lang):
    with open(ROOT / "intake" / "locale" / lang / "LC_MESSAGES" / "messages.po", "rb") as source:
        catalog = read_po(source)
    missing, untranslated, fuzzy = [], [], []
    for msgid in sorted(extracted):
        message = catalog.get(msgid) or next((m for m in catalog if isinstance(m.id, tuple) and m.id[0] == msgid), None)
        if message is None:
            missing.append(msgid)
        elif not all(message.string) if isinstance(message.string, tuple) else not message.string:
            untranslated.append(msgid)
        elif message.fuzzy:
            fuzzy.append(msgid)
    assert (missing, untranslated, fuzzy) == ([], [], []), (
        f"{lang}: {len(missing)} missing, {len(untranslated)} untranslated, {len(fuzzy)} fuzzy"
    )


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogs_load_and_keep_placeholders(lang):
    translations = i18n.translations(lang)
    assert translations.gettext("Make a report") != "Make a report", "the catalog did not load"
    with open(ROOT / "intake" / "locale" / lang / "LC_MESSAGES" / "messages.po", "rb") as source:
        for message in read_po(source):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = {p for text in ids for p in PLACEHOLDER.findall(text)}
            for text in strings:
                assert set(PLACEHOLDER.findall(text)) <= wanted, (lang, message.id)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_pages_follow_the_chosen_language(client, lang):
    page = client.get(f"/report?lang={lang}")
    assert page.headers["content-language"] == lang
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in page.text
    assert i18n.gettext(lang, "Make a report") in page.text
    assert client.get("/").headers["content-language"] == lang  # the choice is remembered


def test_first_visit_follows_accept_language(client):
    page = client.get("/", headers={"Accept-Language": "es-MX, es;q=0.9, en;q=0.5"})
    assert page.headers["content-language"] == "es"
    assert client.get("/", headers={"Accept-Language": "de, ja"}).headers["content-language"] == "en"


def test_the_choice_survives_into_the_case_room(client):
    from .helpers import file_via_api

    filed = file_via_api(client, ["misconduct"], "x")
    client.get("/caseroom/login?lang=ar")
    room = post_form(client, "/caseroom/login", {"passphrase": filed["passphrase"]}, follow_redirects=True)
    assert room.headers["content-language"] == "ar" and 'dir="rtl"' in room.text


def test_the_api_form_speaks_the_asked_language(client):
    english = client.get("/api/v1/form").json()
    french = client.get("/api/v1/form?lang=fr").json()
    assert french["lang"] == "fr"
    assert french["concerns"][0]["label"] != english["concerns"][0]["label"]
    assert french["concerns"][0]["label"] == i18n.gettext("fr", english["concerns"][0]["label"])


def test_the_service_own_messages_are_shown_in_the_reader_language(client):
    from markupsafe import escape

    from intake.service.notices import TEMPLATES, Notice

    from .helpers import api_login

    consent_request = TEMPLATES[Notice.CONSENT_REQUEST]
    filed = client.post("/api/v1/reports", json={"concerns": ["retaliation"], "description": "x", "answers": {}}).json()
    case_id = filed["cases"][0]["id"]
    eco = api_login(client, "eco-1")
    for state in ("acknowledged", "preliminary_assessment"):
        client.post(f"/api/v1/officer/cases/{case_id}/transitions", json={"to": state}, headers=eco)
    client.post(f"/api/v1/officer/cases/{case_id}/consent-request", headers=eco)
    reporter = {
        "Authorization": "Bearer "
        + client.post("/api/v1/caseroom/session", json={"passphrase": filed["passphrase"]}).json()["token"]
    }
    client.post(f"/api/v1/caseroom/cases/{case_id}/messages", json={"body": consent_request}, headers=reporter)
    # A reporter typing a notice's sealed form does not make a notice either.
    client.post(
        f"/api/v1/caseroom/cases/{case_id}/messages", json={"body": '{"kind": "referral", "params": {}}'}, headers=reporter
    )
    client.get("/caseroom/login?lang=fr")
    room = post_form(client, "/caseroom/login", {"passphrase": filed["passphrase"]}, follow_redirects=True).text
    assert str(escape(i18n.gettext("fr", consent_request))) in room
    # The same words written by the reporter stay as they wrote them: people's text never goes through a catalog.
    assert str(escape(consent_request)) in room
    assert i18n.gettext("fr", TEMPLATES[Notice.REFERRAL]) not in room
    assert str(escape('{"kind": "referral", "params": {}}')) in room


def test_a_notice_is_sealed_as_kind_and_values_and_follows_the_template(ctx):
    """Sealed as {kind, params}: a changed template or policy number changes how old notices read,
    and an English notice sealed by an earlier version still shows as it was written."""
    from sqlmodel import Session, select

    from crypto import open_record, seal_record, unwrap_case_key
    from intake.service import casework, officers, reporting
    from intake.service.notices import TEMPLATES, Notice
    from intake.store import CaseKeyWrap, Message, office_holder
    from policies import validate_report

    from .clock import Clock
    from .helpers import officer_token

    ctx.now = Clock(ctx.now())
    filed = reporting.file_report(ctx, validate_report(ctx.policy, ["retaliation"], "x", {}))
    case_id = filed.cases[0].id
    eco = officers.current(ctx, officer_token(ctx, "eco-1"))
    casework.transition(ctx, eco, case_id, "acknowledged")
    casework.reply(ctx, eco, case_id, "Please tell us more.")
    casework.warn_of_abandonment(ctx, eco, case_id)
    with Session(ctx.engine) as db:
        row = db.exec(select(Message).where(Message.case_id == case_id, Message.author == "service")).one()
        key = unwrap_case_key(eco.office_key, db.get(CaseKeyWrap, (case_id, office_holder("ECO"))).wrap, case_id)
        assert row.author == "service"
        assert json.loads(open_record(key, row.body, case_id, "message", row.id)) == {
            "kind": "abandonment_warning",
            "params": {"days": ctx.policy.deadlines.abandon_after_days},
        }
    message = casework.open_case(ctx, eco, case_id).messages[-1]
    assert message.body == TEMPLATES[Notice.ABANDONMENT_WARNING].format(days=ctx.policy.deadlines.abandon_after_days)
    assert i18n.gettext("fr", message.body) == i18n.gettext("fr", TEMPLATES[Notice.ABANDONMENT_WARNING]).format(
        days=ctx.policy.deadlines.abandon_after_days
    )
    # An earlier version sealed the English text under the officer's name: it still shows, as written.
    with Session(ctx.engine) as db, db.begin():
        row = db.exec(select(Message).where(Message.case_id == case_id, Message.author == "service")).one()
        row.author = "officer"
        row.body = seal_record(key, b"We have not heard from you for some time.", case_id, "message", row.id)
        db.add(row)
    message = casework.open_case(ctx, eco, case_id).messages[-1]
    assert message.body == "We have not heard from you for some time."
