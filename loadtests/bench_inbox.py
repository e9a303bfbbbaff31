"""Inbox benchmark: an office with 10,000 cases, the inbox page filtered, searched and paged.

Run: make bench-inbox   (or: .venv/bin/python loadtests/bench_inbox.py [--cases 10000] [--requests 40]
                          [--databases sqlite postgresql] [--postgres-database bench_inbox])

For each database, makes a fresh instance (cheap Argon2: this measures the inbox, not the
KDF), files the cases through the service as reporters would (a third acknowledged, a
seventh assigned, a tenth closed with a decision, one in twenty the misconduct part of a
report of both, whose retaliation part goes to ECO), then serves it with `intake serve`, logs
an OIG officer in through the login page, and times the HTML inbox (the page an officer
reads) and the JSON inbox for each filter, a search by case id, a deep page, and the choices
by state and concern (the database's conditions) and by region, concern and safety (which
decrypt every case the conditions leave: the answers are sealed). Prints p50 / p95 / max in
milliseconds per scenario; the target is p95 < 300 ms.
"""

import argparse
import dataclasses
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from intake.service import casework, officers, reporting
from intake.service.context import Context
from intake.settings import Settings
from intake.store import make_engine
from policies import validate_report
from tests.schema import drop_schema
from tests.server import init_demo, server_process, totp_now

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCENARIOS = [
    ("open (default)", "/officer"),
    ("overdue", "/officer?filter=overdue"),
    ("due soon", "/officer?filter=due_soon"),
    ("assigned to me", "/officer?filter=mine"),
    ("unassigned", "/officer?filter=unassigned"),
    ("closed", "/officer?filter=closed"),
    ("all, newest", "/officer?filter=all&sort=newest"),
    ("page 100", "/officer?filter=all&page=100"),
    ("search by id", "/officer?filter=all&q={case}"),
    ("API, overdue", "/api/v1/officer/cases?filter=overdue"),
    # The database's conditions: the handling's state, a part of a report of both.
    ("state", "/officer?state=acknowledged"),
    ("concern both", "/officer?concern=both"),
    # The sealed answers: every case the conditions leave is decrypted, then narrowed and paged.
    ("concern", "/officer?concern=misconduct"),
    ("region", "/officer?region=wca"),
    ("safety", "/officer?safety=urgent"),
    ("region, all", "/officer?filter=all&region=wca"),
    ("region, page 50", "/officer?filter=all&region=hq&page=50"),
    ("region + state", "/officer?region=hq&state=acknowledged"),
    ("API, region, all", "/api/v1/officer/cases?filter=all&region=wca"),
]


def fresh_postgres(name: str) -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    drop_schema(engine)
    engine.dispose()
    return url


def populate(data_dir: Path, url: str, cases: int, credentials: dict) -> str:
    """File the cases through the service; returns one case id to search for."""
    settings = dataclasses.replace(Settings.from_env(data_dir, url), submissions_per_hour=10 * cases)
    ctx = Context.from_settings(settings)
    oig_login = next(o for o in credentials["officers"] if o["office"] == "OIG")
    oig = officers.current(ctx, officers.log_in(ctx, oig_login["username"], oig_login["password"], totp_now(oig_login)))
    started, last = time.monotonic(), ""
    for n in range(cases):
        region = {"region": "wca" if n % 2 else "hq"}
        if n % 20 == 5:  # a report of both: its misconduct part to OIG, its retaliation part to ECO
            account = {"description": f"benchmark report {n}", "answers": region}
            danger = {**region, "safety_risk": "yes", "protection_by": "now"}
            parts = {"misconduct": account, "retaliation": {**account, "answers": danger}}
            report = validate_report(ctx.policy, ["both"], parts=parts)
        else:
            report = validate_report(ctx.policy, ["misconduct"], f"benchmark report {n}", region)
        last = next(c.id for c in reporting.file_report(ctx, report).cases if c.office == "OIG")
        if n % 3 == 0:
            casework.transition(ctx, oig, last, "acknowledged")
        if n % 7 == 0:
            casework.assign(ctx, oig, last, oig_login["username"])
        if n % 10 == 0:
            if n % 3:  # not acknowledged above
                casework.transition(ctx, oig, last, "acknowledged")
            casework.transition(ctx, oig, last, "intake_assessment")
            casework.transition(ctx, oig, last, "closed_at_intake", reason="benchmark", message="closed")
        if n and n % 1000 == 0:
            print(f"  {n} cases filed ({time.monotonic() - started:.0f} s)", flush=True)
    ctx.engine.dispose()
    return last


def log_in(client: httpx.Client, officer: dict) -> None:
    page = client.get("/officer/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    done = client.post(
        "/officer/login",
        data={
            "csrf": token,
            "username": officer["username"],
            "password": officer["password"],
            "code": totp_now(officer, steps_ahead=1),
        },
    )
    if done.status_code != 303:
        raise SystemExit(f"officer login failed: {done.status_code}")


def api_token(client: httpx.Client, officer: dict) -> str:
    """A Bearer token; no code is accepted twice, so wait for the authenticator's next one if need be."""
    for _ in range(30):
        answer = client.post(
            "/api/v1/officer/session",
            json={"username": officer["username"], "password": officer["password"], "totp": totp_now(officer, steps_ahead=1)},
        )
        if answer.status_code == 201:
            return str(answer.json()["token"])
        time.sleep(5)
    raise SystemExit("officer API login failed")


def measure(base: str, officer: dict, case_id: str, requests: int) -> list[tuple[str, float, float, float]]:
    rows = []
    with httpx.Client(base_url=base, timeout=60) as client:
        log_in(client, officer)
        api = api_token(client, officer)
        for name, path in SCENARIOS:
            path = path.format(case=case_id[-6:])
            headers = {"Authorization": f"Bearer {api}"} if path.startswith("/api/") else {}
            client.get(path, headers=headers).raise_for_status()  # warm
            times = []
            for _ in range(requests):
                start = time.perf_counter()
                client.get(path, headers=headers).raise_for_status()
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            rows.append((name, statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], times[-1]))
    return rows


def run(database: str, cases: int, requests: int, postgres_database: str) -> None:
    with tempfile.TemporaryDirectory(prefix="intake-inbox-") as tmp:
        data = Path(tmp) / "var"
        url = fresh_postgres(postgres_database) if database == "postgresql" else ""
        env = {"INTAKE_DATABASE_URL": url}
        os.environ["INTAKE_DATABASE_URL"] = url
        credentials = init_demo(data, env)
        print(f"{database}: filing {cases} cases through the service ...", flush=True)
        started = time.monotonic()
        case_id = populate(data, url or f"sqlite:///{data / 'intake.sqlite3'}", cases, credentials)
        if url:  # the statistics autovacuum would have gathered long before an office had 10,000 cases
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute("ANALYZE")
        print(f"{database}: {cases} cases in {time.monotonic() - started:.0f} s; serving and timing", flush=True)
        oig = next(o for o in credentials["officers"] if o["office"] == "OIG")
        with server_process(data, env) as server:
            rows = measure(server.base, oig, case_id, requests)
    print(f"\n{database}, {cases} cases in the office, {requests} requests a scenario (ms):")
    print(f"{'scenario':<20}{'p50':>8}{'p95':>8}{'max':>8}")
    for name, p50, p95, worst in rows:
        print(f"{name:<20}{p50:>8.0f}{p95:>8.0f}{worst:>8.0f}{'' if p95 < 300 else '   over 300 ms'}")
    print(f"worst p95: {max(r[2] for r in rows):.0f} ms (target < 300 ms)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--postgres-database", default="bench_inbox", help="made afresh (dropped first) on the local server")
    parser.add_argument("--scenarios", nargs="*", help="only these scenarios, by name")
    args = parser.parse_args()
    if args.scenarios:
        SCENARIOS[:] = [s for s in SCENARIOS if s[0] in args.scenarios]
    for database in args.databases:
        run(database, args.cases, args.requests, args.postgres_database)


if __name__ == "__main__":
    main()
