"""No reporter metadata anywhere: requests carrying distinctive X-Forwarded-For, User-Agent
and other address headers, at a distinctive moment, leave no trace in any log, database
row or file of the instance."""

import datetime as dt
import os
import secrets
import shutil
import subprocess
import time

import httpx
import pytest
from sqlalchemy.engine import make_url

from intake.blobs import FIXED_TIME

from .conftest import on_postgres
from .files import report_upload
from .server import init_demo, server_process

pytestmark = pytest.mark.server


def test_addresses_browsers_and_times_leave_no_trace(tmp_path):
    marker = secrets.token_hex(6)
    address = f"198.51.100.{int(marker[:2], 16) % 250 + 1}"
    agent = f"MarkerBrowser/{marker} (X11; Linux x86_64)"
    headers = {
        "User-Agent": agent,
        "X-Forwarded-For": address,
        "X-Real-IP": address,
        "Forwarded": f"for={address}",
        "Via": f"1.1 proxy-{marker}",
        "Referer": f"https://referrer-{marker}.example/",
        "Client-IP": address,
    }
    env = {"INTAKE_DATABASE_URL": os.environ.get("TEST_DATABASE_URL", "")}
    if on_postgres():
        from intake.store import make_engine

        from .schema import drop_schema

        engine = make_engine(env["INTAKE_DATABASE_URL"])
        drop_schema(engine)
        engine.dispose()
    init_demo(tmp_path / "var", env)
    moments = []
    with server_process(tmp_path / "var", env) as server:
        time.sleep(2.5)  # so the officers' audit entries written by `init` fall seconds before the requests
        with httpx.Client(base_url=server.base, headers=headers) as client:
            body, form = report_upload([("photo.bin", b"evidence")])
            moments.append(dt.datetime.now(dt.UTC))
            filed = client.post("/api/v1/reports", content=body, headers=form).json()
            moments.append(dt.datetime.now(dt.UTC))
            token = client.post("/api/v1/caseroom/session", json={"passphrase": filed["passphrase"]}).json()["token"]
            client.post(
                f"/api/v1/caseroom/cases/{filed['cases'][0]['id']}/messages",
                json={"body": "hello"},
                headers={"Authorization": f"Bearer {token}"},
            )
            client.post("/api/v1/caseroom/session", json={"passphrase": "wrong words entirely here"})
            client.get("/report")
            client.get("/no/such/page")
            moments.append(dt.datetime.now(dt.UTC))
        server.process.terminate()
        logs = server.process.communicate(timeout=10)[0] or ""
    # In the file system, a blob's times (and its directories') do not say when it arrived. (Read before
    # anything below reads the files, which moves their access times.)
    # Private to the service's user: no file or directory of the instance is readable by others.
    for path in [tmp_path / "var", *(tmp_path / "var").rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is open to others ({oct(path.stat().st_mode)})"
    blob_root = tmp_path / "var" / "blobs"
    paths = [blob_root, *blob_root.rglob("*")]
    assert any(p.is_file() for p in paths)
    for path in paths:
        # (Access times follow reads, this test's own listing included: deploy with noatime, SECURITY.md.)
        status = path.stat()
        assert status.st_mtime == FIXED_TIME, f"{path} keeps its own modification time"
        assert status.st_atime == FIXED_TIME or path.is_dir(), f"{path} keeps its own access time"

    traces = [agent, marker, address, address.replace(".", "-")]
    # A reporter's request at 08:31:17 must not be recorded to the second anywhere. (Officers' acts are,
    # in the audit log: `intake init` wrote some seconds earlier, so minutes alone would not tell.)
    traces += sorted({(m + dt.timedelta(seconds=d)).strftime("%H:%M:%S") for m in moments for d in (-1, 0, 1)})

    stored: list[tuple[str, bytes]] = [("server log", logs.encode())]
    stored += [
        (str(p), p.read_bytes()) for p in (tmp_path / "var").rglob("*") if p.is_file() and p.name != "demo-credentials.json"
    ]
    if on_postgres():
        url = make_url(env["INTAKE_DATABASE_URL"])
        dump = subprocess.run(
            [shutil.which("pg_dump") or "pg_dump", "-h", url.host, "-U", url.username or "postgres", url.database],
            check=True,
            capture_output=True,
        ).stdout
        stored.append(("pg_dump", dump))
    assert any(b"case_file" in data or b"CREATE TABLE" in data for _, data in stored)
    for where, data in stored:
        for trace in traces:
            assert trace.encode() not in data, f"{trace!r} found in {where}"
