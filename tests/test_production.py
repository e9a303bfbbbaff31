"""Production behaviour with real server processes: any process serves any request, Argon2
floods get 503 with Retry-After, and SIGKILL mid-submission loses no acknowledged report."""

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from intake.store import Case, CaseKeyWrap, Handling, make_engine

from .conftest import on_postgres
from .schema import drop_schema
from .server import init_demo, intake, officer_login, server_process

pytestmark = pytest.mark.server

REPORT = {"concerns": ["misconduct"], "description": "production test", "answers": {}}


@pytest.fixture
def instance(tmp_path):
    """A demo instance on the suite's database: (data dir, env, credentials by office)."""
    env = {"INTAKE_DATABASE_URL": os.environ.get("TEST_DATABASE_URL", "")}
    if on_postgres():
        engine = make_engine(os.environ["TEST_DATABASE_URL"])
        drop_schema(engine)
        engine.dispose()
    credentials = init_demo(tmp_path / "var", env)
    yield tmp_path / "var", env, {o["office"]: o for o in credentials["officers"]}


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def test_two_processes_serve_one_instance_alternately(instance):
    data, env, officers = instance
    with server_process(data, env) as a, server_process(data, env) as b:
        filed = httpx.post(a.base + "/api/v1/reports", json=REPORT).json()
        case_id = filed["cases"][0]["id"]
        reporter = {
            "Authorization": "Bearer "
            + httpx.post(b.base + "/api/v1/caseroom/session", json={"passphrase": filed["passphrase"]}).json()["token"]
        }
        officer = officer_login(a.base, officers["OIG"])
        assert httpx.get(f"{b.base}/api/v1/officer/cases/{case_id}", headers=officer).json()["description"] == "production test"
        assert (
            httpx.post(f"{a.base}/api/v1/officer/cases/{case_id}/messages", json={"body": "from A"}, headers=officer).status_code
            == 201
        )
        assert (
            httpx.post(
                f"{b.base}/api/v1/caseroom/cases/{case_id}/messages", json={"body": "from B"}, headers=reporter
            ).status_code
            == 201
        )
        room = httpx.get(a.base + "/api/v1/caseroom", headers=reporter).json()
        assert [m["body"] for m in room["cases"][0]["messages"]] == ["from A", "from B"]
        assert httpx.delete(b.base + "/api/v1/caseroom/session", headers=reporter).status_code == 204
        assert httpx.get(a.base + "/api/v1/caseroom", headers=reporter).status_code == 401


def test_an_argon2_flood_gets_503_with_retry_after_and_memory_stays_bounded(tmp_path):
    data = tmp_path / "var"
    env = {"INTAKE_DATABASE_URL": "", "INTAKE_ARGON2_CONCURRENCY": "1", "INTAKE_ARGON2_WAIT_SECONDS": "0.3"}
    intake("--data-dir", str(data), "init", "--demo", env=env)  # production Argon2: 64 MiB a call
    with server_process(data, env) as server:
        httpx.post(server.base + "/api/v1/caseroom/session", json={"passphrase": "warm up"})
        idle = rss_kib(server.process.pid)
        Path(f"/proc/{server.process.pid}/clear_refs").write_text("5")
        with ThreadPoolExecutor(20) as pool:
            responses = list(
                pool.map(
                    lambda _: httpx.post(
                        server.base + "/api/v1/caseroom/session", json={"passphrase": "no such words here at all"}, timeout=30
                    ),
                    range(20),
                )
            )
        peak = rss_kib(server.process.pid, "VmHWM")
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {401, 503}, statuses
    assert 503 in statuses and 401 in statuses
    for response in responses:
        if response.status_code == 503:
            assert int(response.headers["retry-after"]) >= 1 and "busy" in response.json()["error"].lower()
    # One Argon2 call at a time: growth stays near one 64 MiB call, not twenty.
    assert (peak - idle) / 1024 < 64 + 64, (idle, peak)


def test_sigkill_mid_submissions_loses_no_acknowledged_report(instance):
    data, env, _ = instance
    acknowledged: list[dict] = []
    with server_process(data, env) as server:
        stop = threading.Event()

        def submit(_):
            while not stop.is_set():
                try:
                    response = httpx.post(server.base + "/api/v1/reports", json=REPORT, timeout=10)
                except httpx.TransportError:
                    return
                if response.status_code == 201:
                    acknowledged.append(response.json())

        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(submit, n) for n in range(6)]
            while len(acknowledged) < 15:
                threading.Event().wait(0.05)
            os.kill(server.process.pid, signal.SIGKILL)
            stop.set()
            for future in futures:
                future.result()
    assert len(acknowledged) >= 15
    with server_process(data, env) as server:
        for filed in acknowledged:
            token = httpx.post(server.base + "/api/v1/caseroom/session", json={"passphrase": filed["passphrase"]})
            assert token.status_code == 201, filed["cases"]
    engine = make_engine(env["INTAKE_DATABASE_URL"] or f"sqlite:///{data / 'intake.sqlite3'}")
    with Session(engine) as db:
        for case in db.exec(select(Case)).all():
            holders = {w.holder for w in db.exec(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case.id)).all()}
            assert holders == {"office:OIG", "reporter"}, case.id
            assert db.get(Handling, (case.id, "OIG")) is not None
    engine.dispose()
