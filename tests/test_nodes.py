"""Two nodes of one instance: two data directories, one PostgreSQL database, files in it.

The second node is made as an operator would, with `intake node join` and a copy of the first
node's instance.json; then a report with files filed on one node is read, files included, on
the other, by its officer and by its reporter, and a reply with a file goes the other way.
"""

import os
import shutil

import pytest
from starlette.testclient import TestClient

from intake import cli
from intake.app import create_app
from intake.service.context import Context
from intake.settings import Settings

from .conftest import database_url, make_instance, on_postgres
from .enrolments import enrolments
from .files import multipart, report_upload
from .schema import stamp_head

pytestmark = pytest.mark.skipif(not on_postgres(), reason="nodes share one PostgreSQL database (TEST_DATABASE_URL)")


def join(tmp_path, node: str, instance_file, monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setenv("INTAKE_BLOBS", "database")
    node_dir, url = str(tmp_path / node), database_url(tmp_path)
    code = cli.main(["--data-dir", node_dir, "--database-url", url, "node", "join", "--instance-file", str(instance_file)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_files_filed_on_one_node_are_read_on_the_other(tmp_path, monkeypatch, capsys):
    first = make_instance(tmp_path / "node-a", database_url(tmp_path), blobs="database")
    stamp_head(first.engine)
    carried = tmp_path / "carried-instance.json"  # what the operator copies over (scp -p)
    shutil.copy(first.settings.instance_path, carried)

    code, said = join(tmp_path, "node-b", carried, monkeypatch, capsys)
    assert code == 0, said
    second_dir = tmp_path / "node-b"
    assert oct(second_dir.stat().st_mode & 0o777) == "0o700"
    assert oct((second_dir / "instance.json").stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in second_dir.iterdir()) == ["instance.json"]  # nothing else on the node's disk

    second = Context.from_settings(Settings(data_dir=second_dir, database_url=database_url(tmp_path), blobs="database"))
    enrolments(second).update(enrolments(first))  # the officers' authenticators, which they carry
    evidence = os.urandom(3 * 1024 * 1024 + 5)
    with (
        TestClient(create_app(first), base_url="http://127.0.0.1") as a,
        TestClient(create_app(second), base_url="http://127.0.0.1") as b,
    ):
        body, headers = report_upload([("evidence.bin", evidence)])
        filed = a.post("/api/v1/reports", content=body, headers=headers).json()
        case_id = filed["cases"][0]["id"]

        from .helpers import api_login, caseroom_login

        officer = api_login(b, "oig-1")
        (listed,) = b.get(f"/api/v1/officer/cases/{case_id}", headers=officer).json()["files"]
        assert b.get(f"/api/v1/officer/cases/{case_id}/files/{listed['id']}", headers=officer).content == evidence
        # The officer's session, opened on node B, holds on node A too: sessions are in the database.
        assert a.get(f"/api/v1/officer/cases/{case_id}", headers=officer).status_code == 200

        reply, reply_headers = multipart({"message": '{"body": "please fill this in"}'}, [("form.bin", b"a form")])
        sent = b.post(f"/api/v1/officer/cases/{case_id}/messages", content=reply, headers={**reply_headers, **officer})
        assert sent.status_code == 201, sent.text
        reporter = caseroom_login(a, filed["passphrase"])  # the passphrase opens on node A ...
        (case,) = a.get("/api/v1/caseroom", headers=reporter).json()["cases"]
        (form,) = [f for m in case["messages"] for f in m["files"]]
        assert a.get(f"/api/v1/caseroom/cases/{case_id}/files/{form['id']}", headers=reporter).content == b"a form"
        (own,) = case["files"]  # ... and the reporter's own file on node B
        assert b.get(f"/api/v1/caseroom/cases/{case_id}/files/{own['id']}", headers=reporter).content == evidence
    assert not (first.settings.data_dir / "blobs").exists() and not (second_dir / "blobs").exists()
    second.engine.dispose()
    first.engine.dispose()


def test_a_node_joins_only_with_this_databases_instance_file(tmp_path, monkeypatch, capsys):
    first = make_instance(tmp_path / "node-a", database_url(tmp_path), blobs="database")
    stamp_head(first.engine)
    stranger = make_instance(tmp_path / "elsewhere", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    cases = [
        (tmp_path / "missing.json", "cannot read the instance file"),
        (tmp_path / "node-a" / "intake-not-json", "cannot read"),
        (stranger.settings.instance_path, "is not this database's instance file"),
    ]
    for path, why in cases:
        code, said = join(tmp_path, "node-b", path, monkeypatch, capsys)
        assert code == 1 and why in said and "Traceback" not in said, said
        assert not (tmp_path / "node-b" / "instance.json").exists()
    monkeypatch.setenv("INTAKE_BLOBS", "filesystem")
    node_b, url, carried = str(tmp_path / "node-b"), database_url(tmp_path), str(first.settings.instance_path)
    code = cli.main(["--data-dir", node_b, "--database-url", url, "node", "join", "--instance-file", carried])
    assert code == 1 and "INTAKE_BLOBS=database" in capsys.readouterr().err
    code, said = join(tmp_path, "node-a", first.settings.instance_path, monkeypatch, capsys)
    assert code == 1 and "already holds an instance" in said
    stranger.engine.dispose()
    first.engine.dispose()


def test_two_serve_processes_are_one_instance(tmp_path):
    """As two machines run it: `intake init` on the first node, `intake node join` on the second, each its
    own `intake serve` process with its own data directory; one PostgreSQL database holds everything.
    A report with a file filed on one is read by the officer on the other; the reporter's session and the
    officer's session, each opened on one node, hold on the other; a reply written on one is read on the other."""
    import httpx

    from intake.store import make_engine

    from .schema import drop_schema
    from .server import init_demo, intake, officer_login, server_process

    url = os.environ["TEST_DATABASE_URL"]
    engine = make_engine(url)
    drop_schema(engine)
    engine.dispose()
    env = {"INTAKE_DATABASE_URL": url, "INTAKE_BLOBS": "database"}
    first, second = tmp_path / "node-a", tmp_path / "node-b"
    credentials = {o["office"]: o for o in init_demo(first, env)["officers"]}
    carried = tmp_path / "carried-instance.json"
    shutil.copy(first / "instance.json", carried)
    intake("--data-dir", str(second), "node", "join", "--instance-file", str(carried), env=env)
    evidence = os.urandom(2 * 1024 * 1024 + 3)
    with server_process(first, env) as a, server_process(second, env) as b:
        body, headers = report_upload([("evidence.bin", evidence)])
        filed = httpx.post(a.base + "/api/v1/reports", content=body, headers=headers, timeout=60)
        assert filed.status_code == 201, filed.text
        case_id = filed.json()["cases"][0]["id"]
        officer = officer_login(b.base, credentials["OIG"])
        case = httpx.get(f"{b.base}/api/v1/officer/cases/{case_id}", headers=officer).json()
        (listed,) = case["files"]
        assert httpx.get(f"{b.base}/api/v1/officer/cases/{case_id}/files/{listed['id']}", headers=officer).content == evidence
        reply = httpx.post(f"{a.base}/api/v1/officer/cases/{case_id}/messages", json={"body": "Seen on A."}, headers=officer)
        assert reply.status_code == 201, reply.text
        opened = httpx.post(b.base + "/api/v1/caseroom/session", json={"passphrase": filed.json()["passphrase"]})
        reporter = {"Authorization": f"Bearer {opened.json()['token']}"}
        (room,) = httpx.get(a.base + "/api/v1/caseroom", headers=reporter).json()["cases"]
        assert "Seen on A." in [m["body"] for m in room["messages"]]
        assert httpx.delete(a.base + "/api/v1/caseroom/session", headers=reporter).status_code == 204
        assert httpx.get(b.base + "/api/v1/caseroom", headers=reporter).status_code == 401  # ended on A: ended on B
    assert sorted(p.name for p in second.iterdir()) == ["instance.json"]  # nothing of a case on the second's disk
    assert not (first / "blobs").exists() or not any((first / "blobs").iterdir())
    assert intake("--data-dir", str(second), "audit", "verify", env=env, check=False).returncode == 0  # one chain, both nodes'
