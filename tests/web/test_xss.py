"""Reporter-written text is hostile: a corpus of XSS payloads in the account, the answers,
messages and file names, shown in every officer view, is always escaped.

A page showing a payload must have exactly the elements and attributes of the same page
showing plain words: nothing the reporter wrote became markup.
"""

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from intake.app import create_app

from ..conftest import database_url, make_instance
from ..files import multipart
from ..helpers import caseroom_login, html_login
from ..schema import drop_schema

PAYLOADS = [line for line in (Path(__file__).parent / "xss_payloads.txt").read_text(encoding="utf-8").splitlines() if line]


class Inventory(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.text = Counter(), [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "span" and ("class", "control") in attrs:
            return  # our own marker of a bidi control (rendering.revealed), not the payload's
        self.tags[tag] += 1
        self.attributes.extend(name for name, _ in attrs)

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xss")
    ctx = make_instance(tmp / "data", database_url(tmp))
    app = create_app(ctx)
    officer, api = TestClient(app, base_url="http://127.0.0.1"), TestClient(app, base_url="http://127.0.0.1")
    html_login(officer, "oig-1")
    yield officer, api
    drop_schema(ctx.engine)
    ctx.engine.dispose()


def file_name(text: str) -> str:
    """As a browser puts a file name in a multipart header: no quotes or line breaks raw."""
    return text.replace('"', "%22").replace("\r", " ").replace("\n", " ")


def officer_views(world, text: str) -> tuple[Inventory, Inventory]:
    officer, api = world
    report = json.dumps({"concerns": ["misconduct"], "description": f"before {text} after", "answers": {"happened": text[:200]}})
    body, headers = multipart({"report": report, "clean_metadata": "off"}, [(file_name(text)[:200] + ".bin", b"evidence")])
    filed = api.post("/api/v1/reports", content=body, headers=headers).json()
    case_id = filed["cases"][0]["id"]
    reporter = caseroom_login(api, filed["passphrase"])
    assert (
        api.post(f"/api/v1/caseroom/cases/{case_id}/messages", json={"body": f"message {text}"}, headers=reporter).status_code
        == 201
    )
    inbox = Inventory(officer.get("/officer").text)
    page = officer.get(f"/officer/cases/{case_id}")
    assert page.status_code == 200
    return inbox, Inventory(page.text)


@pytest.fixture(scope="module")
def benign(world):
    return officer_views(world, "plain words only")


def test_the_corpus_is_large_enough():
    assert len(PAYLOADS) >= 50


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_escaped_in_every_officer_view(world, benign, payload):
    benign_inbox, benign_case = benign
    inbox, case = officer_views(world, payload)
    assert case.tags == benign_case.tags, "the payload created elements"
    assert Counter(case.attributes) == Counter(benign_case.attributes), "the payload created attributes"
    assert not {"script", "iframe", "object", "embed", "svg", "style", "base", "math", "template"} & set(case.tags)
    assert not [a for a in case.attributes if a.startswith("on")]
    # Inbox rows differ only by number: each row has the same shape.
    assert set(inbox.tags) == set(benign_inbox.tags)
    # A bidi control is shown as "[U+202E]": read it back as the character the reporter typed.
    shown = re.sub(r"\[U\+([0-9A-F]{4})\]", lambda m: chr(int(m.group(1), 16)), "".join(case.text))
    assert f"before {payload} after" in shown and f"message {payload}" in shown
