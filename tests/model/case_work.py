"""Case work as reporters and officers do it, in random order: a model-based test (issue 23).

Hypothesis drives one real instance (the store, the crypto, the HTTP app: nothing mocked)
through random sequences of what people can do: reports of every concern with each optional
answer blank or filled (restricted, about a head, both, advice), the reporter's messages,
consent, identity and withdrawal, and the officers' work through the case page exactly as
it is offered to them (every form a page shows, filled as a browser lets it be filled), plus
steps the page does not offer, sent anyway; head changes, disabling and enrolling, key
rotation, the same form or message sent again, and the clock moving on.

The model keeps its own account of what happened, day by day, and after every step checks:
- no open handling is orphaned: an active officer of its office can open it;
- every case page and inbox renders for its office, in English and Arabic;
- every step a page offers is accepted, and a step it does not offer is refused with the
  store left exactly as it was;
- each handling runs its own lifecycle's deadlines, due and met on the days the model
  computes from what happened (policy.toml [deadlines]), not on the service's word;
- the annual figures (ECO's report, as of today) equal a recount from the model;
- the same report or message sent again files nothing.

`make test` runs a bounded number of examples (tests/test_case_work_model.py); `make explore`
runs it long (loadtests/explore.py) and prints the shortest sequence that breaks a rule.
"""

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import itertools
import random
import re
import shutil
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import text
from sqlmodel import Session, select
from starlette.testclient import TestClient

from intake.app import create_app
from intake.service import audit, office_keys, officers, reporting, sendings, sessions, statistics
from intake.service.casefiles import open_for_office, view_handling
from intake.service.errors import Conflict, NotFound
from intake.store import (
    Attachment,
    Case,
    CaseKeyWrap,
    CaseRecord,
    Handling,
    Identity,
    Message,
    Officer,
    ProtectiveMeasure,
    Recusal,
    RestrictionWrap,
    reading,
)
from policies import SessionKind, validate_report
from policies.model import ABOUT_HEAD, ADVICE, PLACEHOLDER, REPORT, Lifecycle

from ..conftest import PASSWORDS, database_url, make_instance
from ..enrolments import enrolments
from ..helpers import csrf, totp_code
from ..strategies import answers_for

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
MEMBER_PASSWORD = "a member's password, long enough"
LANGS = ("en", "ar")
# What an officer types: plain words, the other script, hostile markup, a bidi override.
WORDS = ("Seen; we will call you.", "تمت المراجعة", "<script>alert(1)</script>", "\u202eevil\u202c", "x" * 300)
# The tables a refused step must leave exactly as they were (readings, sessions and the audit log of
# the page shown again with the refusal are not the case's state).
STATE_TABLES = tuple(
    model.__table__.name  # type: ignore[attr-defined]
    for model in (
        Case,
        Handling,
        CaseKeyWrap,
        CaseRecord,
        Message,
        ProtectiveMeasure,
        Recusal,
        RestrictionWrap,
        Identity,
        Attachment,
    )
)


# A reply may be empty only when it carries files (the model attaches none), so it is written.
TEXT_NEEDED = {"body"}


def counted(step):
    """Count each step taken (`--hypothesis-show-statistics` shows how often each ran)."""

    @functools.wraps(step)
    def run(*args, **kwargs):
        event(f"step: {step.__name__}")
        return step(*args, **kwargs)

    return run


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


# --- Reading a page's forms as a browser would fill them -----------------------------------


@dataclasses.dataclass
class Field:
    tag: str
    type: str
    name: str
    value: str = ""
    required: bool = False
    checked: bool = False
    options: list[str] = dataclasses.field(default_factory=list)
    attrs: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Form:
    action: str
    id: str
    fields: list[Field] = dataclasses.field(default_factory=list)

    def value(self, name: str) -> str:
        """The value of a field the form carries as it is (a hidden field)."""
        return next((f.value for f in self.fields if f.name == name), "")

    @property
    def name(self) -> str:
        """What the form does: the last part of its action (transitions, determination, referral...)."""
        return self.action.rsplit("/", 1)[-1] if "/measures/" not in self.action else "measure-update"


class PageForms(HTMLParser):
    """The POST forms of a page and the links to decisions' confirmation steps."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.decisions: list[str] = []
        self._form: Form | None = None
        self._field: Field | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method") == "post":
            self._form = Form(a.get("action", ""), a.get("id", ""))
        elif tag == "a" and "/decide?to=" in a.get("href", ""):
            self.decisions.append(a["href"])
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            self._form.fields.append(
                Field("input", a.get("type", "text"), a["name"], a.get("value", ""), "required" in a, "checked" in a, attrs=a)
            )
        elif tag in ("textarea", "select") and a.get("name"):
            self._field = Field(tag, tag, a["name"], "", "required" in a, attrs=a)
            self._form.fields.append(self._field)
        elif tag == "option" and self._field is not None and self._field.tag == "select":
            self._field.options.append(a.get("value", ""))

    def handle_data(self, data):
        if self._field is not None and self._field.tag == "textarea":
            self._field.value += data

    def handle_endtag(self, tag):
        if tag in ("textarea", "select"):
            self._field = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def fill(form: Form, rnd: random.Random, today: dt.date) -> dict[str, str]:
    """The form filled as an officer can in a browser: every required field, within its limits."""
    data: dict[str, str] = {}
    radios: dict[str, list[Field]] = {}
    for f in form.fields:
        if f.type == "radio":
            radios.setdefault(f.name, []).append(f)
        elif f.type == "hidden":
            data[f.name] = f.value
        elif f.type == "checkbox":
            data[f.name] = f.value or "on"
        elif f.type == "file":
            continue
        elif f.tag == "select":
            choices = [o for o in f.options if o or not f.required]
            if choices:
                data[f.name] = rnd.choice(choices)
        elif f.type == "number":
            low, high = int(f.attrs.get("min", "1")), int(f.attrs.get("max", "30"))
            data[f.name] = str(rnd.randint(low, high))
        elif f.type == "date":
            if f.required or rnd.random() < 0.5:
                earliest = dt.date.fromisoformat(f.attrs["min"]) if f.attrs.get("min") else today
                data[f.name] = (max(earliest, today) + dt.timedelta(days=rnd.randint(0, 60))).isoformat()
        elif f.required or f.name in TEXT_NEEDED or rnd.random() < 0.5:
            limit = int(f.attrs.get("maxlength", "2000"))
            data[f.name] = rnd.choice(WORDS)[:limit]
    for name, group in radios.items():
        data[name] = rnd.choice(group).value
    return data


# --- The model's account of each handling --------------------------------------------------


@dataclasses.dataclass
class Facts:
    """What happened to one office's handling, by day, as the model saw it happen."""

    office: str
    kind: str
    opened_on: dt.date
    acknowledged_on: dt.date | None = None
    first_response_on: dt.date | None = None
    started_on: dt.date | None = None  # a reopened assessment
    concluded_on: dt.date | None = None
    closed_on: dt.date | None = None
    extensions: dict[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Filed:
    passphrase: str
    cases: list[tuple[str, str]]  # (case id, office it was filed with)
    sending: str
    identity: bool
    room: str = ""  # the reporter's case-room session, kept as their browser keeps it
    room_opened: dt.datetime | None = None

    def __repr__(self) -> str:  # what a failing sequence prints: the cases, not the passphrase and tokens
        return f"Filed({self.cases})"


class CaseWork(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Ids are random (secrets.token_hex), and pages order cases and measures that tie on them: a sequence
        # Hypothesis replays to shrink a failure must see the same pages, so ids come from a counter here.
        counter = itertools.count(1)
        self.ids = mock.patch("secrets.token_hex", lambda n=32: f"{next(counter):0{2 * n}x}")
        self.ids.start()
        self.dir = Path(tempfile.mkdtemp(prefix="case-work-model-"))
        self.ctx = make_instance(self.dir / "data", database_url(self.dir))
        self.clock = Clock(START)
        self.ctx.now = self.clock
        self.passwords = dict(PASSWORDS)
        for sponsor, username in (("eco-1", "eco-2"), ("oig-1", "oig-2")):
            self._enrol(sponsor, username)
        self.app = create_app(self.ctx)
        self.browsers: dict[str, TestClient] = {}
        self.sessions: dict[str, str] = {}
        self.facts: dict[tuple[str, str], Facts] = {}
        self.filed: list[Filed] = []
        self.rnd = random.Random(0)
        self.touched: set[str] = set()
        self.said = 0
        self.trace: list[tuple] = []  # the officers' steps taken, for a failure's message
        self.declared = 0  # conflicts declared: the conflicts page has something to decide
        self.audit_head: str | None = None  # the audit log's head after the last step, as `intake audit verify` prints it

    def teardown(self) -> None:
        for browser in self.browsers.values():
            browser.close()
        self.ctx.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.ids.stop()

    # --- people ---

    def code(self, username: str) -> str:
        """A fresh authentication code: the clock moves on a step first, since a code is good once."""
        self.clock.now += dt.timedelta(seconds=31)
        return totp_code(self.ctx, username)

    def _enrol(self, sponsor: str, username: str) -> None:
        enrolments(self.ctx)[username] = officers.add_officer(
            self.ctx, sponsor, self.passwords[sponsor], self.code(sponsor), username, MEMBER_PASSWORD
        )
        self.passwords[username] = MEMBER_PASSWORD

    def today(self) -> dt.date:
        return self.ctx.today()

    def active(self, office: str | None = None) -> list[Officer]:
        with Session(self.ctx.engine) as db:
            rows = db.exec(select(Officer).where(Officer.active)).all()
        return sorted((o for o in rows if office in (None, o.office)), key=lambda o: o.username)

    def session(self, username: str) -> officers.OfficerSession:
        token = self.sessions.get(username)
        try:
            return officers.current(self.ctx, token)
        except Exception:
            token = officers.log_in(self.ctx, username, self.passwords[username], self.code(username))
            self.sessions[username] = token
            return officers.current(self.ctx, token)

    def browser(self, username: str) -> TestClient:
        client = self.browsers.get(username)
        if client is None:
            client = self.browsers[username] = TestClient(self.app, base_url="http://127.0.0.1")
        if client.get("/officer", follow_redirects=False).status_code != 200:
            fields = {"username": username, "password": self.passwords[username], "code": self.code(username)}
            response = client.post("/officer/login", data={**fields, "csrf": csrf(client)}, follow_redirects=False)
            assert response.status_code == 303, response.text[:300]
        return client

    def reporter(self, filed: Filed) -> str:
        """The reporter's case-room session: opened again only once it has lapsed, as a browser keeps it
        (each opening spends the passphrase's budget of openings, which guards against guessing)."""
        idle = dt.timedelta(minutes=sessions.idle_minutes(self.ctx, SessionKind.REPORTER) - 1)
        if filed.room_opened is None or self.clock.now - filed.room_opened > idle:
            filed.room, filed.room_opened = reporting.open_case_room(self.ctx, filed.passphrase), self.clock.now
        return filed.room

    # --- the store, for "nothing changed" ---

    def snapshot(self) -> str:
        digest = hashlib.sha256()
        with self.ctx.engine.connect() as connection:
            for table in STATE_TABLES:
                for row in sorted(repr(tuple(r)) for r in connection.execute(text(f"SELECT * FROM {table}"))):  # noqa: S608
                    digest.update(row.encode())
        return digest.hexdigest()

    def handlings(self) -> list[Handling]:
        with Session(self.ctx.engine) as db:
            return list(db.exec(select(Handling)).all())

    def lifecycle(self, handling: Handling | Facts, office: str | None = None) -> Lifecycle:
        return self.ctx.policy.lifecycle(office or handling.office, handling.kind)

    # --- reporters ---

    @initialize(concern=st.sampled_from(["retaliation", "misconduct", "both", "not_sure", "advice"]), data=st.data())
    @counted
    def a_first_report(self, concern, data):
        """Every run starts with a report, so the officers' steps have a case to work on."""
        self.file_a_report(concern, data)

    @rule(
        concern=st.sampled_from(["retaliation", "misconduct", "both", "not_sure", "advice"]),
        data=st.data(),
    )
    @counted
    def file_a_report(self, concern, data):
        policy = self.ctx.policy
        identity = False
        if concern == "both":
            parts = {
                c: {"description": f"{c} account", "answers": data.draw(answers_for(policy, c))}
                for c in ("retaliation", "misconduct")
            }
            report = validate_report(policy, ["both"], parts=parts)
        else:
            answers = data.draw(answers_for(policy, concern))
            if concern == "retaliation" and data.draw(st.booleans()):
                answers["identity"] = "Name, and how to reach me safely."
                identity = True
            report = validate_report(policy, [concern], "What happened, in my words.", answers)
        sending = sendings.new_token()
        result = reporting.file_report(self.ctx, report, language=data.draw(st.sampled_from(["en", "ar"])), sending=sending)
        filed = Filed(result.passphrase, [(c.id, c.office) for c in result.cases], sending, identity)
        self.filed.append(filed)
        with Session(self.ctx.engine) as db:
            for case_id, office in filed.cases:
                handling = db.get(Handling, (case_id, office))
                self.facts[(case_id, office)] = Facts(office, handling.kind, self.today())
                self.touched.add(case_id)
        # The same sending again (a reload, a double click): nothing more is filed.
        before = self.snapshot()
        try:
            reporting.file_report(self.ctx, report, sending=sending)
            raise AssertionError("the same report was filed twice")
        except sendings.AlreadyReceived:
            pass
        assert self.snapshot() == before

    @precondition(lambda self: self.filed)
    @rule(data=st.data())
    @counted
    def reporter_writes(self, data):
        filed = data.draw(st.sampled_from(self.filed))
        case_id, _ = data.draw(st.sampled_from(filed.cases))
        token, sending = self.reporter(filed), sendings.new_token()
        self.said += 1
        words = f"More of what happened ({self.said})."
        reporting.reporter_writes(self.ctx, token, case_id, words, sending=sending)
        before = self.snapshot()
        try:  # the same sending again: a reload, a double click
            reporting.reporter_writes(self.ctx, token, case_id, words, sending=sending)
            raise AssertionError("the same message was sent twice")
        except sendings.AlreadyReceived:
            pass
        try:  # the same words from a fresh form: Back, then Send
            reporting.reporter_writes(self.ctx, token, case_id, words, sending=sendings.new_token())
            raise AssertionError("the same message was sent again from the page Back brought back")
        except Conflict:
            pass
        assert self.snapshot() == before
        self.touched.add(case_id)

    @precondition(lambda self: self.filed)
    @rule(data=st.data(), agree=st.booleans())
    @counted
    def reporter_answers_consent(self, data, agree):
        filed = data.draw(st.sampled_from(self.filed))
        case_id, _ = data.draw(st.sampled_from(filed.cases))
        try:
            reporting.answer_consent(self.ctx, self.reporter(filed), case_id, agree)
        except Conflict:
            return  # nobody asked: refused, and the room offers no answer then
        self.touched.add(case_id)

    @precondition(lambda self: self.filed)
    @rule(data=st.data())
    @counted
    def reporter_withdraws(self, data):
        filed = data.draw(st.sampled_from(self.filed))
        case_id, _ = data.draw(st.sampled_from(filed.cases))
        try:
            offices = reporting.withdraw(self.ctx, self.reporter(filed), case_id, "I withdraw.")
        except Conflict:
            return
        for office in offices:
            self.facts[(case_id, office)].closed_on = self.today()
        self.touched.add(case_id)

    @precondition(lambda self: any(f.identity for f in self.filed))
    @rule(data=st.data())
    @counted
    def reporter_shares_identity(self, data):
        filed = data.draw(st.sampled_from([f for f in self.filed if f.identity]))
        case_id, _ = filed.cases[0]
        reporting.share_identity(self.ctx, self.reporter(filed), case_id, True)
        self.touched.add(case_id)

    # --- the clock ---

    @rule(days=st.sampled_from([1, 2, 3, 8, 29, 31, 40]))
    @counted
    def time_passes(self, days):
        self.clock.now += dt.timedelta(days=days)

    # --- officers, through the pages ---

    def filed_order(self, case_id: str) -> int:
        """Where a case stands in the order it was filed: case ids are random, and a sequence Hypothesis
        replays must choose the same case again (the inbox's order ties on them)."""
        return next(n for n, (known, _) in enumerate(self.facts) if known == case_id)

    def visible(self, username: str) -> list[str]:
        """The cases an officer's inbox lists (every filter, every page), in the order they were filed."""
        client = self.browser(username)
        found, page = [], 1
        while True:
            html = client.get(f"/officer?filter=all&page={page}").text
            found += re.findall(r'href="/officer/cases/([A-Z]{3}-[0-9A-F]{10})"', html)
            if f"page={page + 1}" not in html:
                return sorted(dict.fromkeys(found), key=self.filed_order)
            page += 1

    def a_case_page(self, data):
        """An active officer, a case their inbox lists, and its page as their browser shows it; None if they have none."""
        username = data.draw(st.sampled_from([o.username for o in self.active()]))
        cases = self.visible(username)
        if not cases:
            return None
        case_id = data.draw(st.sampled_from(cases))
        client = self.browser(username)
        page = client.get(f"/officer/cases/{case_id}")
        assert page.status_code == 200, (username, case_id, page.status_code, self.rows_of(case_id), self.trace[-6:])
        return username, case_id, client, page

    def rows_of(self, case_id: str) -> dict[str, list]:
        """What the store says of who can open a case: for a failure's message. The officers are read first: a
        second session inside the first would wait on SQLite's lock that the first holds (its transactions are
        IMMEDIATE), and the message would be "database is locked" instead of the failure."""
        officers_now = [(o.username, o.id, o.office, o.head) for o in self.active()]
        with Session(self.ctx.engine) as db:
            return {
                "handlings": [
                    (h.office, h.kind, h.status, h.restricted_key is not None)
                    for h in db.exec(select(Handling).where(Handling.case_id == case_id))
                ],
                "recusals": [(r.officer_id, r.lifted_on) for r in db.exec(select(Recusal).where(Recusal.case_id == case_id))],
                "wraps": [(w.holder,) for w in db.exec(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case_id))],
                "restriction_wraps": [
                    (w.office, w.officer_id) for w in db.exec(select(RestrictionWrap).where(RestrictionWrap.case_id == case_id))
                ],
                "officers": officers_now,
            }

    @precondition(lambda self: self.filed)
    @rule(data=st.data())
    @counted
    def officer_takes_an_offered_step(self, data):
        opened = self.a_case_page(data)
        if opened is None:
            return
        username, case_id, client, page = opened
        forms = PageForms(page.text)
        offered = [f for f in forms.forms if "/officer/cases/" in f.action and f.name not in ("identity",)]
        choice = data.draw(st.integers(0, len(offered) + len(forms.decisions) - 1)) if offered or forms.decisions else None
        if choice is None:
            return
        self.rnd.seed(data.draw(st.integers(0, 2**16)))
        office = self.active_office(username)
        if choice >= len(offered):
            self.decide(client, office, case_id, forms.decisions[choice - len(offered)], data.draw(st.booleans()))
        else:
            form = offered[choice]
            fields = fill(form, self.rnd, self.today())
            response = client.post(form.action, data=fields, follow_redirects=False)
            if form.name == "recusal" and response.status_code == 200:
                # The last officer who can open a restricted case hands it on, in a second step the page asks for.
                (step,) = [f for f in PageForms(response.text).forms if f.name == "recusal"]
                fields = fill(step, self.rnd, self.today())
                response = client.post(step.action, data=fields, follow_redirects=False)
            assert response.status_code == 303, (form.name, fields, self.refusal_of(response))
            self.interpret(office, case_id, form.name, fields)
            self.declared += form.name == "recusal"
        self.touched.add(case_id)

    def active_office(self, username: str) -> str:
        return next(o.office for o in self.active() if o.username == username)

    @staticmethod
    def refusal_of(response) -> str:
        found = re.search(r'<div class="error-summary".*?</div>|<p class="error[^"]*"[^>]*>.*?</p>', response.text, re.S)
        return f"{response.status_code}: {found.group(0) if found else response.text[:300]}"

    def decide(self, client: TestClient, office: str, case_id: str, href: str, as_prefilled: bool) -> None:
        """A decision through its confirmation step: the reason, and the prefilled message with the
        office's own words in place of [[...]], or, to check the guard, sent as it stands."""
        step = client.get(href)
        assert step.status_code == 200, self.refusal_of(step)
        (form,) = [f for f in PageForms(step.text).forms if f.name == "transitions"]
        fields = fill(form, self.rnd, self.today())
        message = next(f.value for f in form.fields if f.name == "message")
        if as_prefilled and PLACEHOLDER.search(message):
            before = self.snapshot()
            refused = client.post(form.action, data={**fields, "message": message}, follow_redirects=False)
            assert refused.status_code == 400 and self.snapshot() == before, self.refusal_of(refused)
            return
        fields["message"] = PLACEHOLDER.sub("the office's own words", message)
        response = client.post(form.action, data=fields, follow_redirects=False)
        assert response.status_code == 303, (href, self.refusal_of(response))
        self.interpret(office, case_id, "transitions", fields)

    def interpret(self, office: str, case_id: str, action: str, fields: dict[str, str]) -> None:
        """What the step did, in the model's terms: the dates the procedure counts."""
        self.trace.append((office, case_id, action, {k: v for k, v in fields.items() if k != "csrf"}))
        facts = self.facts[(case_id, office)]
        lifecycle = self.lifecycle(facts)
        today = self.today()
        if action == "messages":
            facts.first_response_on = facts.first_response_on or today
        elif action == "transitions":
            self.moved(facts, lifecycle.states[fields["to"]])
            if fields.get("message"):
                facts.first_response_on = facts.first_response_on or today
        elif action == "determination":
            facts.concluded_on = facts.concluded_on or today
        elif action == "referral":
            state = lifecycle.states[fields["state"]]
            self.moved(facts, state)
            target = lifecycle.refers_to
            theirs = self.facts.get((case_id, target))
            if theirs is None or theirs.closed_on is not None:
                self.facts[(case_id, target)] = Facts(target, REPORT, today)
        elif action == "reopening":
            facts.closed_on = None
            if lifecycle.assesses_in(lifecycle.reopen_to):
                facts.started_on, facts.concluded_on = today, None
                facts.extensions.pop("preliminary_assessment", None)
        elif action == "extension":
            facts.extensions[fields["deadline"]] = facts.extensions.get(fields["deadline"], 0) + int(fields["days"])

    def moved(self, facts: Facts, state) -> None:
        today = self.today()
        if state.acknowledges:
            facts.acknowledged_on = facts.acknowledged_on or today
        if state.concludes_assessment:
            facts.concluded_on = facts.concluded_on or today
        facts.closed_on = today if state.closed else None

    @precondition(lambda self: self.filed)
    @rule(data=st.data())
    @counted
    def officer_tries_a_step_not_offered(self, data):
        """A step the page does not offer, sent anyway (a stale page, a forged form): refused, nothing changed."""
        opened = self.a_case_page(data)
        if opened is None:
            return
        username, case_id, client, shown = opened
        page = shown.text
        forms = PageForms(page)
        office = self.active_office(username)
        with reading(self.ctx.engine) as db:
            handling = db.get(Handling, (case_id, office))
        lifecycle = self.lifecycle(handling)
        offered_moves = {f.value for form in forms.forms if form.name == "transitions" for f in form.fields if f.name == "to"}
        offered_moves |= {href.rsplit("=", 1)[1] for href in forms.decisions}
        offered_referrals = {f.value for form in forms.forms if form.name == "referral" for f in form.fields if f.name == "state"}
        names = {form.name for form in forms.forms}
        attempts = [
            ("transitions", {"to": s, "reason": "r", "message": "m", "note": "n"})
            for s in lifecycle.states
            if s not in offered_moves and not lifecycle.states[s].via and not lifecycle.states[s].by_reporter
        ]
        attempts += [
            ("referral", {"state": s, "memo": "m", "reason": "r"})
            for s in lifecycle.referral_states
            if s not in offered_referrals
        ]
        for name, fields in (
            ("determination", {"prima_facie": "found", "reasons": "r"}),
            ("consent-request", {}),
            ("abandonment-warning", {}),
            ("reopening", {"reason": "r"}),
            ("extension", {"deadline": "preliminary_assessment", "days": "5", "reason": "r"}),
            ("measures", {"kind": "flexible_working", "recommended_to": "someone", "review_on": ""}),
        ):
            if name not in names:
                attempts.append((name, fields))
        if not attempts:
            return
        name, fields = data.draw(st.sampled_from(attempts))
        fields = {**fields, "csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1)}
        before = self.snapshot()
        response = client.post(f"/officer/cases/{case_id}/{name}", data=fields, follow_redirects=False)
        assert response.status_code in (400, 404, 409), (name, fields, response.status_code, handling.status)
        assert self.snapshot() == before, (name, fields, "changed the store while refusing")

    @precondition(lambda self: self.declared)
    @rule(data=st.data())
    @counted
    def a_conflict_is_decided(self, data):
        """Whoever the conflicts page lets decide (a head, or an officer recording the Director General's
        decision) decides a declaration, as the page offers it."""
        username = data.draw(st.sampled_from([o.username for o in self.active()]))
        client = self.browser(username)
        page = client.get("/officer/conflicts")
        assert page.status_code == 200, page.text[:300]
        forms = sorted(
            (f for f in PageForms(page.text).forms if f.name == "decision"),
            key=lambda f: (self.filed_order(f.value("case_id")), f.value("username")),
        )
        if not forms:
            return
        form = data.draw(st.sampled_from(forms))
        self.rnd.seed(data.draw(st.integers(0, 2**16)))
        fields = fill(form, self.rnd, self.today())
        response = client.post(form.action, data=fields, follow_redirects=False)
        assert response.status_code == 303, (fields, self.refusal_of(response))
        self.touched.add(fields["case_id"])

    # --- the offices ---

    @rule(office=st.sampled_from(["ECO", "OIG"]), data=st.data())
    @counted
    def head_changes(self, office, data):
        people = {o.username: o for o in self.active(office)}
        heads = [name for name, o in people.items() if o.head]
        target = people[data.draw(st.sampled_from(sorted(people)))]
        by = data.draw(st.sampled_from(heads)) if heads else target.username
        with contextlib.suppress(Conflict):  # the office's last head, say: refused with a reason
            officers.set_role(self.ctx, by, self.passwords[by], self.code(by), target.username, not target.head)

    @rule(office=st.sampled_from(["ECO", "OIG"]), data=st.data())
    @counted
    def an_officer_leaves_and_another_joins(self, office, data):
        people = self.active(office)
        if len(people) < 2:
            return
        leaving = people[data.draw(st.integers(0, len(people) - 1))]
        sponsor = next(o for o in people if o.username != leaving.username)
        try:
            officers.disable(
                self.ctx, sponsor.username, self.passwords[sponsor.username], self.code(sponsor.username), leaving.username
            )
        except Conflict:
            return  # the only head, or the only one who can open a case: refused
        self.browsers.pop(leaving.username, None)
        self._enrol(sponsor.username, f"{office.lower()}-{len(self.passwords) + 1}")

    @rule(office=st.sampled_from(["ECO", "OIG"]))
    @counted
    def the_office_key_is_rotated(self, office):
        by = self.active(office)[0]
        office_keys.rotate(self.ctx, by.username, self.passwords[by.username], self.code(by.username))

    # --- what must hold after every step ---

    @invariant()
    def no_open_case_is_orphaned(self):
        for handling in self.handlings():
            if self.lifecycle(handling).is_closed(handling.status) and not handling.open_measures:
                continue
            openers = []
            for officer in self.active(handling.office):
                with reading(self.ctx.engine) as db:
                    try:
                        open_for_office(db, self.session(officer.username), handling.case_id)
                        openers.append(officer.username)
                    except NotFound:
                        pass
            assert openers, f"{handling.case_id} at {handling.office} ({handling.status}): no active officer can open it"

    @invariant()
    def each_handling_keeps_its_own_deadlines(self):
        today = self.today()
        d = self.ctx.policy.deadlines
        for handling in self.handlings():
            facts = self.facts[(handling.case_id, handling.office)]
            lifecycle = self.lifecycle(handling)
            view = view_handling(self.ctx, handling)
            shown = {x.name: x for x in view.deadlines if x.name != "measure_review"}
            expected = set(lifecycle.deadlines) - ({"feedback"} if view.closed else set())
            assert set(shown) == expected, (handling.case_id, handling.kind, sorted(shown), sorted(expected))
            due = {
                "acknowledgement": (facts.opened_on + dt.timedelta(days=d.acknowledgement_days), facts.acknowledged_on),
                "first_response": (
                    facts.opened_on + dt.timedelta(days=-(-d.first_response_hours // 24)),
                    facts.first_response_on,
                ),
                "preliminary_assessment": (
                    (facts.started_on or facts.opened_on) + dt.timedelta(days=d.preliminary_assessment_days),
                    facts.concluded_on,
                ),
            }
            for name, (due_on, met_on) in due.items():
                if name in shown:
                    extended = due_on + dt.timedelta(days=facts.extensions.get(name, 0))
                    assert (shown[name].due_on, shown[name].met_on) == (extended, met_on), (handling.case_id, name, today)

    @invariant()
    def the_audit_log_verifies_and_still_holds_every_head_it_had(self):
        """Whatever the officers did (rotations, recusals, referrals, refusals), the chain verifies and only grows:
        the head recorded after the last step is still in it, as one kept off the server would be."""
        last, digest = audit.verify(self.ctx.engine, self.ctx.instance, self.audit_head)
        assert self.audit_head is None or last >= int(self.audit_head.split(":")[0]), (self.audit_head, last)
        self.audit_head = f"{last}:{digest.hex()}"

    @invariant()
    def the_annual_figures_equal_a_recount(self):
        eco = self.session(self.active("ECO")[0].username)
        today, year = self.today(), self.today().year
        internal, _ = statistics.eco_annual_report(self.ctx, eco, year)
        counts = internal.counts[0]
        statuses = {(h.case_id, h.office): h.status for h in self.handlings()}
        not_retaliation = statistics.not_retaliation_states(self.ctx.policy)
        received = nr = advice = 0
        answered, assessed = statistics.Tally(), statistics.Tally()
        for (case_id, office), facts in self.facts.items():
            if office != "ECO" or facts.opened_on.year != year or facts.kind == ABOUT_HEAD:
                continue
            if facts.kind == ADVICE:
                advice += 1
                continue
            received += statuses[(case_id, office)] not in not_retaliation
            nr += statuses[(case_id, office)] in not_retaliation
            closed = facts.closed_on
            answered.add(statistics.kept_in_time(facts.opened_on + dt.timedelta(days=2), facts.first_response_on, closed, today))
            start = facts.started_on or facts.opened_on
            assessed.add(statistics.kept_in_time(start + dt.timedelta(days=30), facts.concluded_on, closed, today))
        assert (counts.received, counts.not_retaliation, counts.advice_received) == (received, nr, advice)
        assert (counts.answered, counts.assessed) == (answered, assessed)

    @invariant()
    def every_page_of_what_changed_renders_in_english_and_arabic(self):
        touched, self.touched = self.touched, set()
        for case_id in sorted(touched):
            for handling in (h for h in self.handlings() if h.case_id == case_id):
                for officer in self.active(handling.office):
                    client = self.browser(officer.username)
                    first = client.get(f"/officer/cases/{case_id}?lang=en")
                    if first.status_code == 404:
                        continue  # not theirs (a restricted case, a recusal): another officer of the office reads it
                    assert first.status_code == 200, first.text[:300]
                    assert client.get(f"/officer/cases/{case_id}?lang=ar").status_code == 200
                    for lang in LANGS:
                        for view in ("filter=all", "filter=unassigned&safety=urgent", "filter=open&concern=both&sort=oldest"):
                            assert client.get(f"/officer?{view}&lang={lang}").status_code == 200
                    break


def iter_rules() -> Iterator[str]:
    return (r.function.__name__ for r in CaseWork.rules())
