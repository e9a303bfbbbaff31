"""Failover check: the database's primary dies under load, the standby takes over, nothing acknowledged is lost.

Two PostgreSQL clusters on loopback in temporary directories (tests/pgcluster.py): a primary and a
streaming standby made with pg_basebackup -R, in synchronous replication (synchronous_standby_names
'*', synchronous_commit on), so a commit is acknowledged only once the standby has it. `intake serve`
with two workers reaches them through one libpq multi-host URL with target_session_attrs=read-write:
whichever answers as the primary is used, and nothing in the service is told of the change.

Client threads file reports (some with a file; each under its own Idempotency-Key, sent again after a
503 until answered), write case room messages and read and answer as an officer. Then, FAILOVERS
times in a row: SIGKILL to every process of the primary (a machine lost,
not a shutdown), `pg_ctl promote` of the standby, and a new standby made from the new primary with
pg_basebackup in the dead one's place. Afterwards every acknowledged report opens with its passphrase
and holds its files (same SHA-256), every acknowledged message and reply is there, and the audit log
verifies, still holding the head read before the first failover.

Prints: requests, acknowledged items, 503s, 500s, reports acknowledged on a retry, lost, outage seconds
per failover. Exits 1 on any 500, any answer other than the expected ones or 503 (a 409 to a retried
report would be a report filed whose passphrase its reporter never got), any dropped connection, or
anything lost.

Run: make failover-check   (or: .venv/bin/python loadtests/failover.py [--failovers 3] [--clients 4])
"""

import argparse
import hashlib
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from loadtests.bench_load import LOAD_TEST_BUDGETS
from tests import pgcluster
from tests.server import INTAKE, init_demo, officer_login, server_process

SYNCHRONOUS = {"synchronous_standby_names": "*", "synchronous_commit": "on"}
REPORT = {"concerns": ["misconduct"], "answers": {}}
BOUNDARY = "failoverboundary7f3a"


@dataclass
class Ledger:
    """What the service acknowledged (2xx), and how every request was answered; shared by the threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    reports: list[dict] = field(default_factory=list)  # passphrase, case ids, files {name: sha256}
    messages: list[tuple[str, str]] = field(default_factory=list)  # (case id, body) by the reporter
    replies: list[tuple[str, str]] = field(default_factory=list)  # (case id, body) by the officer
    answers: Counter = field(default_factory=Counter)  # status code (or "dropped") -> count
    writes: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of acknowledged writes
    unexpected: list[str] = field(default_factory=list)
    filed_on_retry: int = 0  # reports acknowledged on a retry under the same key, after a 503

    def answered(self, status: int | str, started: float | None = None, what: str = "") -> None:
        with self.lock:
            self.answers[status] += 1
            if started is not None and isinstance(status, int) and 200 <= status < 300:
                self.writes.append((started, time.monotonic()))
            if status not in (200, 201, 503) and len(self.unexpected) < 20:
                self.unexpected.append(f"{what}: {status}")


def request(ledger: Ledger, client: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response | None:
    """One request, counted; None when the connection was dropped (counted as such, never retried)."""
    started = time.monotonic()
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TransportError as error:
        ledger.answered("dropped", what=f"{method} {url} {type(error).__name__}")
        return None
    ledger.answered(response.status_code, started if method != "GET" else None, f"{method} {url.split('/')[3]}")
    if response.status_code == 503:
        time.sleep(0.25)  # a client that waits a moment, though less than Retry-After: the outage is measured finer
    return response


def reporter(base: str, ledger: Ledger, stop: threading.Event, number: int) -> None:
    """Files reports (every other one with a file) and writes to the cases it filed."""
    mine: list[dict] = []
    tokens: dict[str, str] = {}
    count = 0
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop.is_set():
            count += 1
            tag = f"t{number}-{count}"
            if mine and random.random() < 0.35:
                filed = random.choice(mine)
                token = tokens.get(filed["passphrase"])
                if token is None:
                    opened = request(ledger, client, "POST", "/api/v1/caseroom/session", json={"passphrase": filed["passphrase"]})
                    if opened is None or opened.status_code != 201:
                        continue
                    token = tokens[filed["passphrase"]] = opened.json()["token"]
                body = f"Message {tag}: he came back on Monday."
                case_id = filed["cases"][0]
                sent = request(
                    ledger,
                    client,
                    "POST",
                    f"/api/v1/caseroom/cases/{case_id}/messages",
                    json={"body": body},
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"failover-{tag}-{secrets.token_hex(8)}"},
                )
                if sent is not None and sent.status_code == 201:
                    with ledger.lock:
                        ledger.messages.append((case_id, body))
                continue
            report = {**REPORT, "description": f"Report {tag}: the fuel is sold at night."}
            files: dict[str, str] = {}
            if count % 2:
                content = os.urandom(random.randint(1, 96) * 1024)
                name = f"evidence-{tag}.bin"
                files[name] = hashlib.sha256(content).hexdigest()
                body_bytes = (
                    (
                        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="clean_metadata"\r\n\r\noff\r\n'
                        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="report"\r\n\r\n{json.dumps(report)}\r\n'
                        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                        "Content-Type: application/octet-stream\r\n\r\n"
                    ).encode()
                    + content
                    + f"\r\n--{BOUNDARY}--\r\n".encode()
                )
                kind = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "X-Intake-Client": "failover"}
                sending: dict = {"content": body_bytes, "headers": kind}
            else:
                sending = {"json": report, "headers": {}}
            # A client as PROTOCOL.md asks: one Idempotency-Key per report, kept across retries after a 503. A
            # retry of a filing that had committed gets its passphrase (the held receipt), never a 409.
            sending["headers"]["Idempotency-Key"] = f"failover-{tag}-{secrets.token_hex(8)}"
            answer = request(ledger, client, "POST", "/api/v1/reports", **sending)
            retried = False
            while answer is not None and answer.status_code == 503 and not stop.is_set():
                answer, retried = request(ledger, client, "POST", "/api/v1/reports", **sending), True
            if answer is not None and answer.status_code == 201:
                if retried:
                    with ledger.lock:
                        ledger.filed_on_retry += 1
                filed = {"passphrase": answer.json()["passphrase"], "cases": [c["id"] for c in answer.json()["cases"]]}
                filed["files"] = files
                mine.append(filed)
                with ledger.lock:
                    ledger.reports.append(filed)


def officer(base: str, ledger: Ledger, stop: threading.Event, credentials: dict) -> None:
    """Reads the inbox, opens cases (each opening is audit-logged: a write too) and answers some."""
    headers = officer_login(base, credentials)
    count = 0
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        while not stop.is_set():
            count += 1
            inbox = request(ledger, client, "GET", "/api/v1/officer/cases")
            if inbox is None or inbox.status_code != 200 or not inbox.json()["cases"]:
                time.sleep(0.2)
                continue
            case_id = random.choice(inbox.json()["cases"][:20])["id"]
            request(ledger, client, "GET", f"/api/v1/officer/cases/{case_id}")
            if random.random() < 0.3:
                body = f"Reply o-{count}: we are looking into it."
                sent = request(ledger, client, "POST", f"/api/v1/officer/cases/{case_id}/messages", json={"body": body})
                if sent is not None and sent.status_code == 201:
                    with ledger.lock:
                        ledger.replies.append((case_id, body))
            time.sleep(0.05)


def synchronous(primary: pgcluster.Cluster) -> None:
    for name, value in SYNCHRONOUS.items():
        primary.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    primary.execute("SELECT pg_reload_conf()")


def wait_synchronous(primary: pgcluster.Cluster, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if primary.execute("SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync' AND state = 'streaming'"):
            return
        time.sleep(0.1)
    raise RuntimeError("the standby did not become synchronous")


def fail_over(primary: pgcluster.Cluster, standby: pgcluster.Cluster) -> tuple[pgcluster.Cluster, pgcluster.Cluster, float]:
    """Kill the primary, promote the standby, make a new standby where the primary was.
    Returns (new primary, new standby, the monotonic time of the kill)."""
    killed_at = time.monotonic()
    primary.kill()
    standby.promote()
    # Synchronous at once: a commit acknowledged from now on waits for the new standby to hold it too.
    synchronous(standby)
    shutil.rmtree(primary.data)
    replacement = pgcluster.Cluster(primary.root, primary.data.name, port=primary.port).standby_of(standby)
    replacement.start()
    wait_synchronous(standby)
    return standby, replacement, killed_at


def verify(base: str, ledger: Ledger, credentials: dict) -> list[str]:
    """Every acknowledged item, read back through the API: what is missing."""
    lost: list[str] = []
    room_texts: dict[str, set[str]] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for filed in ledger.reports:
            opened = client.post("/api/v1/caseroom/session", json={"passphrase": filed["passphrase"]})
            if opened.status_code != 201:
                lost.append(f"report {filed['cases']}: the passphrase opens nothing ({opened.status_code})")
                continue
            headers = {"Authorization": f"Bearer {opened.json()['token']}"}
            room = client.get("/api/v1/caseroom", headers=headers).json()
            cases = {case["id"]: case for case in room["cases"]}
            for case_id in filed["cases"]:
                if case_id not in cases:
                    lost.append(f"case {case_id}")
                    continue
                room_texts[case_id] = {message["body"] for message in cases[case_id]["messages"]}
                stored = {f["name"]: f["id"] for f in cases[case_id]["files"]}
                for name, digest in filed["files"].items():
                    if name not in stored:
                        lost.append(f"file {name} of {case_id}")
                        continue
                    content = client.get(f"/api/v1/caseroom/cases/{case_id}/files/{stored[name]}", headers=headers)
                    if content.status_code != 200 or hashlib.sha256(content.content).hexdigest() != digest:
                        lost.append(f"file {name} of {case_id}: not the bytes sent ({content.status_code})")
            client.delete("/api/v1/caseroom/session", headers=headers)
        for case_id, body in ledger.messages:
            if body not in room_texts.get(case_id, set()):
                lost.append(f"message {body!r} in {case_id}")
        # The officer's replies, read as the officer (a reply may go to a case whose filing was never
        # acknowledged: its commit was in doubt when the primary died, and it was kept).
        officer_headers = officer_login(base, credentials, steps_ahead=1)
        for case_id in sorted({case_id for case_id, _ in ledger.replies}):
            case = client.get(f"/api/v1/officer/cases/{case_id}", headers=officer_headers)
            texts = {message["body"] for message in case.json()["messages"]} if case.status_code == 200 else set()
            lost += [f"reply {body!r} in {case_id}" for c, body in ledger.replies if c == case_id and body not in texts]
    return lost


def audit_head(data_dir: Path, env: dict, expect: str | None = None) -> tuple[int, str]:
    args = ["--data-dir", str(data_dir), "audit", "verify", *(["--expect", expect] if expect else [])]
    run = subprocess.run([*INTAKE, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False)
    head = next((line.split("head ")[1] for line in run.stdout.splitlines() if "head " in line), "")
    return run.returncode, head or run.stderr.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failovers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=3, help="reporter threads (an officer thread runs beside them)")
    parser.add_argument("--seconds", type=float, default=12, help="load before each failover, and after the last")
    args = parser.parse_args()
    if not pgcluster.available():
        print(f"failover check: PostgreSQL's server binaries are not in {pgcluster.PG_BIN} (INTAKE_PG_BIN)", file=sys.stderr)
        return 1
    root = pgcluster.workspace("intake-failover-")
    primary = pgcluster.Cluster(root, "a").init()
    standby = pgcluster.Cluster(root, "b")
    try:
        primary.start()
        primary.execute("CREATE DATABASE intake")
        standby.standby_of(primary).start()
        synchronous(primary)  # only now: before a standby existed, every commit would have waited for one
        wait_synchronous(primary)
        hosts = "&".join(f"host=127.0.0.1:{c.port}" for c in (primary, standby))
        url = f"postgresql+psycopg://postgres@/intake?{hosts}&target_session_attrs=read-write"
        env = {"INTAKE_DATABASE_URL": url, "INTAKE_ARGON2_WAIT_SECONDS": "30", **LOAD_TEST_BUDGETS}
        data_dir = root / "var"
        credentials = {o["office"]: o for o in init_demo(data_dir, env)["officers"]}
        ledger, stop = Ledger(), threading.Event()
        outages: list[float] = []
        with server_process(data_dir, env, workers=2) as server:
            threads = [
                threading.Thread(target=reporter, args=(server.base, ledger, stop, n), daemon=True) for n in range(args.clients)
            ]
            threads.append(threading.Thread(target=officer, args=(server.base, ledger, stop, credentials["OIG"]), daemon=True))
            for thread in threads:
                thread.start()
            time.sleep(args.seconds / 2)
            status, expect = audit_head(data_dir, env)
            if status != 0:
                raise RuntimeError(f"the audit log did not verify before the first failover: {expect}")
            time.sleep(args.seconds / 2)
            kills = []
            for number in range(args.failovers):
                primary, standby, killed_at = fail_over(primary, standby)
                kills.append(killed_at)
                print(f"failover {number + 1}: primary now on port {primary.port}, new standby on {standby.port}", flush=True)
                time.sleep(args.seconds)
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
            for killed_at in kills:
                after = [end for start, end in ledger.writes if start >= killed_at]
                outages.append(min(after) - killed_at if after else float("inf"))
            lost = verify(server.base, ledger, credentials["OIG"])
        status, head = audit_head(data_dir, env, expect)
    finally:
        for cluster in (primary, standby):
            cluster.remove()
        shutil.rmtree(root, ignore_errors=True)
    requests = sum(ledger.answers.values())
    acknowledged = len(ledger.reports) + len(ledger.messages) + len(ledger.replies)
    files = sum(len(r["files"]) for r in ledger.reports)
    print(f"requests: {requests}  answers: {dict(sorted(ledger.answers.items(), key=str))}")
    print(
        f"acknowledged: {acknowledged} ({len(ledger.reports)} reports with {files} files, "
        f"{len(ledger.messages)} messages, {len(ledger.replies)} officer replies)"
    )
    print(f"503s: {ledger.answers[503]}  500s: {ledger.answers[500]}  dropped connections: {ledger.answers['dropped']}")
    print(f"reports acknowledged on a retry under their Idempotency-Key after a 503: {ledger.filed_on_retry}")
    print(f"lost: {len(lost)}")
    for item in lost[:20]:
        print(f"  lost {item}")
    print("outage seconds (kill to the first acknowledged write begun after it): " + ", ".join(f"{s:.1f}" for s in outages))
    print(f"audit log: {'intact, and still holds the head read before the first failover' if status == 0 else 'BROKEN'} ({head})")
    for line in ledger.unexpected:
        print(f"  unexpected answer: {line}")
    failed = ledger.answers[500] or ledger.answers["dropped"] or ledger.unexpected or lost or status != 0
    failed = failed or len(outages) < args.failovers or not all(s < 60 for s in outages) or not ledger.reports
    print("failover check: " + ("FAILED" if failed else f"passed, {args.failovers} failovers, nothing acknowledged lost"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
