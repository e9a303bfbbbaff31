"""#24 item 12 and the Deliver point: every route and every field it reads, sent a Unicode digit
(category Nd), a NUL, a lone surrogate or an over-long value, answers below 500, and a refused
request leaves the store exactly as it was. On SQLite, and on PostgreSQL with TEST_DATABASE_URL.

The fields are not listed by hand: each HTML form is read off the pages that show it (as a browser
would), each API body and query off the OpenAPI document, and the query parameters the pages read
off the source (`query_params.get("...")`). Only the forms a page shows in another state of the case
than the fixture's come from a table (test_hostile_input's, and NOT_SHOWN_NOW below).
`test_every_route_has_its_fields` fails if a route of the app has none of these, so a new route or
form is fuzzed without anyone remembering to.
"""

import json
import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_from_bytes, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from intake.app import create_app, routes

from ..conftest import database_url, make_instance
from ..helpers import api_login, caseroom_login, csrf, file_via_api, html_login, post_form
from ..schema import drop_schema
from .lasting import lasting
from .test_hostile_input import API_ROUTES, HTML_ROUTES

ROOT = Path(__file__).resolve().parents[2]
# A refused officer login still counts the attempt against the username: that is what it is for.
COUNTED_BY_REFUSALS = {"/officer/login": {"login_attempts"}, "/api/v1/officer/session": {"login_attempts"}}
# Routes that read no field of the request (a Bearer token or the cookie only): nothing to send them.
NO_FIELDS = {("DELETE", "/api/v1/caseroom/session"), ("DELETE", "/api/v1/officer/session"), ("GET", "/api/v1/openapi.json")}
# The forms a page shows only in another state of the case (a restricted case, a declared conflict),
# with the fields their handlers read (caseroom/officer/case.py, conflicts.py).
NOT_SHOWN_NOW = {
    ("POST", "/officer/cases/{case_id}/recusal"): {"note": "n", "hand_to": "", "confirm": "yes"},
    ("POST", "/officer/cases/{case_id}/share"): {"username": "oig-1", "confirm": "yes"},
    ("POST", "/officer/conflicts/decision"): {
        "case_id": "{case_id}",
        "username": "eco-1",
        "decision": "upheld",
        "reason": "r",
        "confirm": "yes",
    },
}
# What would end the fixture's sessions or cases if it succeeded: sent last.
LAST = ("logout", "withdraw", "referral", "recusal", "share", "session")


def app_routes() -> list[tuple[str, str]]:
    """(method, path template) of every route of the app, the API's under its mount."""
    found = []
    for route in routes():
        if isinstance(route, Mount) and route.path == "/api/v1":
            found += [(m, "/api/v1" + r.path) for r in route.routes if isinstance(r, Route) for m in r.methods or ()]
        elif isinstance(route, Route):
            found += [(m, route.path) for m in route.methods or ()]
    found = sorted({(m, p) for m, p in found if m != "HEAD"} - NO_FIELDS)
    return sorted(found, key=lambda r: (any(word in r[1] for word in LAST), r[1], r[0]))


def query_names_in_source() -> set[str]:
    """Every query parameter a page or the API reads by name."""
    names: set[str] = set()
    for source in [*ROOT.joinpath("intake").rglob("*.py"), *ROOT.joinpath("caseroom").rglob("*.py")]:
        names |= set(re.findall(r'params\.get\("([a-z_]+)"', source.read_text()))
    return names


class _Forms(HTMLParser):
    """The forms of a page: action, method, and each field's name with a value a browser would send."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[tuple[str, str, dict[str, str]]] = []
        self.links: list[str] = []
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action") or self.page, (a.get("method") or "get").upper(), {}))
        elif tag == "a" and "?" in a.get("href", ""):
            self.links.append(a["href"])
        elif self.forms and tag in ("input", "textarea", "select") and a.get("name"):
            fields = self.forms[-1][2]
            if a.get("type") in ("checkbox", "radio") and a["name"] in fields:
                return
            fields[a["name"]] = a.get("value") or ("words" if tag == "textarea" else "")
            self.select = a["name"] if tag == "select" else None
        elif tag == "option" and self.select and self.forms:
            fields = self.forms[-1][2]
            if not fields.get(self.select):
                fields[self.select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None


@dataclass
class Target:
    """One route: who sends to it, how, and the fields it reads with a valid value each."""

    method: str
    template: str
    kind: str  # "form", "query" or "json"
    fields: dict[str, object] = field(default_factory=dict)


class World:
    """One instance, a case with a measure, a reporter and an officer logged in, every route's fields."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        app = create_app(ctx)
        self.anonymous, self.reporter, self.officer, self.api = (TestClient(app, base_url="http://127.0.0.1") for _ in range(4))
        filed = file_via_api(self.api, ["retaliation"], "the case under test")
        self.passphrase, self.case_id = filed["passphrase"], filed["cases"][0]["id"]
        post_form(self.reporter, "/caseroom/login", {"passphrase": self.passphrase})
        html_login(self.officer, "eco-1")
        self.bearers = {"reporter": caseroom_login(self.api, self.passphrase), "officer": api_login(self.api, "eco-1")}
        measure = self.api.post(
            f"/api/v1/officer/cases/{self.case_id}/measures",
            json={"kind": "suspension", "recommended_to": "DHR"},
            headers=self.bearers["officer"],
        )
        self.path_values = {
            "case_id": self.case_id,
            "file_id": "F-000000000000",
            "measure_id": measure.json().get("id", "P-0000000000"),
        }
        self.targets: dict[tuple[str, str], Target] = {}
        self._read_pages()
        self._read_openapi()
        self._query_names()

    def client(self, template: str) -> TestClient:
        if template.startswith("/api/"):
            return self.api
        if template.startswith("/caseroom") and template != "/caseroom/login":
            return self.reporter
        if template.startswith("/officer") and template != "/officer/login":
            return self.officer
        return self.anonymous

    def headers(self, template: str) -> dict[str, str]:
        for who in ("caseroom", "officer"):
            if template.startswith(f"/api/v1/{who}/") and not template.endswith("/session"):
                return self.bearers["reporter" if who == "caseroom" else "officer"]
        return {}

    def route_of(self, method: str, path: str) -> tuple[str, str] | None:
        for m, template in app_routes():
            pattern = re.sub(r"\{[a-z_]+\}", "[^/]+", template)
            if m == method and re.fullmatch(pattern, path):
                return (m, template)
        return None

    def _add(self, method: str, path: str, kind: str, fields: dict[str, object]) -> None:
        route = self.route_of(method, path)
        if route is not None:
            target = self.targets.setdefault(route, Target(method, route[1], kind))
            target.fields.update({k: v for k, v in fields.items() if k not in target.fields})

    def _read_pages(self) -> None:
        case = self.case_id
        pages = ["/", "/report", "/caseroom/login", "/officer/login", "/caseroom", f"/caseroom/cases/{case}/withdraw"]
        pages += [f"/report?concern={c.id}" for c in self.ctx.policy.concerns]
        pages += ["/officer", f"/officer/cases/{case}", f"/officer/cases/{case}/export", "/officer/conflicts", "/officer/account"]
        decide = []
        for page in pages:
            answer = self.client(urlsplit(page).path).get(page)
            parser = _Forms(urlsplit(page).path)
            parser.feed(answer.text)
            for action, method, fields in parser.forms:
                self._add(method, urlsplit(action).path, "form" if method == "POST" else "query", fields)
            decide += [link for link in parser.links if "/decide?" in link]
            self._add("GET", urlsplit(page).path, "query", dict(parse_qsl(urlsplit(page).query)))
        for link in decide[:3]:
            self._add("GET", urlsplit(link).path, "query", dict(parse_qsl(urlsplit(link).query)))
            parser = _Forms(urlsplit(link).path)
            parser.feed(self.officer.get(link).text)
            for action, method, fields in parser.forms:
                self._add(method, urlsplit(action).path, "form", fields)
        shown_later = {("POST", path.replace("{case}", "{case_id}")): fields for _, path, fields in HTML_ROUTES}
        for (method, template), fields in {**shown_later, **NOT_SHOWN_NOW}.items():
            template = template.replace("P-0000000000", "{measure_id}")
            if (method, template) not in self.targets:
                fields = {k: v.replace("{case_id}", case) for k, v in fields.items()}
                self._add(method, self.fill(template), "form", {**fields, "csrf": csrf(self.client(template))})

    def _query_names(self) -> None:
        """Every GET route may be sent any query parameter the code reads by name."""
        names = query_names_in_source()
        for method, template in app_routes():
            if method == "GET":
                target = self.targets.setdefault((method, template), Target(method, template, "query"))
                target.fields.update({name: "" for name in names if name not in target.fields})

    def _read_openapi(self) -> None:
        document = self.api.get("/api/v1/openapi.json").json()
        schemas = document.get("components", {}).get("schemas", {})
        valid = {path.replace("{case}", "{case_id}"): body for _, path, body in API_ROUTES}
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                if not isinstance(operation, dict) or method == "parameters":
                    continue
                template = path if path.startswith("/api/v1/") else "/api/v1" + path
                params = [*operations.get("parameters", []), *operation.get("parameters", [])]
                fields: dict[str, object] = {p["name"]: "" for p in params if p.get("in") == "query"}
                kind = "query"
                body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
                if body is not None:
                    kind = "json"
                    if "$ref" in body:
                        body = schemas[body["$ref"].rsplit("/", 1)[1]]
                    fields = {
                        **dict.fromkeys(body.get("properties", {}), None),
                        **valid.get(template.replace("P-0000000000", "{measure_id}"), {}),
                    }
                route = self.route_of(method.upper(), self.fill(template))
                if route is not None and route not in self.targets:
                    self.targets[route] = Target(method.upper(), route[1], kind, fields)

    def fill(self, template: str, hostile: tuple[str, str] | None = None) -> str:
        """The path with valid ids, or one of them hostile (percent-encoded)."""

        def value(match: re.Match) -> str:
            name = match.group(1)
            if hostile and hostile[0] == f"path:{name}":
                return hostile[1]
            return self.path_values[name]

        return re.sub(r"\{([a-z_]+)\}", value, template)

    def reporter_back(self) -> None:
        """Log the reporter in again, if a logout or a withdrawal that succeeded ended their session."""
        if self.reporter.get("/caseroom", follow_redirects=False).status_code != 200:
            post_form(self.reporter, "/caseroom/login", {"passphrase": self.passphrase})
        if self.api.get("/api/v1/caseroom", headers=self.bearers["reporter"]).status_code != 200:
            self.bearers["reporter"] = caseroom_login(self.api, self.passphrase)


def fuzzed(target: Target) -> list[str]:
    """The fields of a route, and its path's ids (as "path:case_id")."""
    return sorted(target.fields) + [f"path:{p}" for p in re.findall(r"\{([a-z_]+)\}", target.template)]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("every-field")
    ctx = make_instance(tmp / "data", database_url(tmp))
    made = World(ctx)
    made.officer.get(f"/officer/cases/{made.case_id}")  # the handling key is made at the first opening
    yield made
    drop_schema(ctx.engine)
    ctx.engine.dispose()


def test_every_route_has_its_fields(world):
    """Each route of the app was found with the fields it reads (a form on a page, the OpenAPI document)."""
    missing = [route for route in app_routes() if route not in world.targets or not fuzzed(world.targets[route])]
    assert missing == []


# The hostile values: (the text, as JSON carries it; the bytes a form or a query carries, percent-encoded).
PLAIN = st.characters(exclude_categories=["Cs"])
DIGITS = st.text(st.characters(categories=["Nd"]), min_size=1, max_size=6)
NUL = st.tuples(st.text(PLAIN, max_size=4), st.text(PLAIN, max_size=4)).map(lambda t: t[0] + "\x00" + t[1])
LONG = st.tuples(st.sampled_from(["9", "x", "²", "報", " "]), st.sampled_from([65, 1_025, 50_001, 200_000])).map(
    lambda t: t[0] * t[1]
)


@st.composite
def hostile(draw, kind: str) -> tuple[str, str]:
    """A value of one kind: the text as JSON carries it, and the bytes a form or a query carries (percent-encoded)."""
    if kind == "surrogate":
        text = draw(st.text(PLAIN, max_size=3)) + draw(st.characters(categories=["Cs"]))
        return text, quote_from_bytes(text.encode("utf-8", "surrogatepass"))
    text = draw({"digits": DIGITS, "nul": NUL, "long": LONG}[kind])
    return text, quote(text)


KINDS = ("digits", "nul", "surrogate", "long")


def multipart_bytes(texts: dict[str, str], name: str, raw: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body: the valid text fields, then `name` holding `raw`."""
    boundary = "everyfield5e1f"
    parts = [(k, v.encode()) for k, v in texts.items()] + [(name, raw)]
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v + b"\r\n" for k, v in parts
    )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def send(world: World, target: Target, name: str, value: tuple[str, str]):
    """The request with `name` hostile and every other field valid."""
    client, headers = world.client(target.template), world.headers(target.template)
    if (target.kind == "query" or name.startswith("path:")) and len(value[1]) > 12_000:
        value = (value[0][:1_500], quote(value[0][:1_500]))  # a URL's limit is the client's and the server's
    path = world.fill(target.template, (name, value[1]) if name.startswith("path:") else None)
    others = {k: v for k, v in target.fields.items() if k != name}
    encoded_value = "" if name.startswith("path:") else f"{quote(name)}={value[1]}"
    if target.kind == "json":
        body = others if name.startswith("path:") else {**others, name: value[0]}
        return client.request(
            target.method,
            path,
            content=json.dumps(body).encode(),  # ensure_ascii: a lone surrogate goes as \ud800
            headers={**headers, "content-type": "application/json"},
        )
    if target.kind == "form" and "files" in target.fields and len(name) % 2 and not name.startswith("path:"):
        # An upload form takes multipart too, parsed apart (web/uploads.py): there the value goes as raw bytes,
        # a lone surrogate as the invalid UTF-8 a careless client would send. (Half its fields, by name.)
        texts = {k: v for k, v in others.items() if isinstance(v, str)}
        body, content_type = multipart_bytes(texts, name, value[0].encode("utf-8", "surrogatepass"))
        return client.request(
            target.method,
            path,
            content=body,
            headers={**headers, "content-type": content_type},
            follow_redirects=False,
        )
    plain = urlencode({k: v for k, v in others.items() if isinstance(v, str)})
    encoded = "&".join(part for part in (plain, encoded_value) if part)
    if target.kind == "form":
        return client.request(
            target.method,
            path,
            content=encoded.encode(),
            headers={**headers, "content-type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
    return client.request(target.method, f"{path}?{encoded}", headers=headers, follow_redirects=False)


@pytest.mark.parametrize("route", app_routes(), ids=[f"{m} {p}" for m, p in app_routes()])
@settings(
    max_examples=int(os.environ.get("INTAKE_FUZZ_EXAMPLES", "1")),
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure names the route, field and value already
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_field_answers_4xx_never_500(world, route, data):
    """#24 item 12: a Unicode digit, a NUL, a lone surrogate and an over-long value, each in every field
    and path id of the route in turn: never a 500; a refusal keeps nothing. (INTAKE_FUZZ_EXAMPLES=20 for a
    longer hunt; each example draws new values of every kind.)"""
    target = world.targets[route]
    values = [data.draw(hostile(kind), label=kind) for kind in KINDS]
    before = lasting(world.ctx)
    for name in fuzzed(target):
        for value in values:
            response = send(world, target, name, value)
            assert response.status_code < 500, (route, name, value[0][:40], response.text[:300])
            after = lasting(world.ctx)
            if response.status_code >= 400:
                for table in COUNTED_BY_REFUSALS.get(target.template, ()):
                    before["rows"].pop(table, None)
                    after["rows"].pop(table, None)
                assert after == before, (route, name, value[0][:40], response.status_code)
            before = after
            if any(word in target.template for word in ("logout", "withdraw", "session")):
                world.reporter_back()
                before = lasting(world.ctx)
