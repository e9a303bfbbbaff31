"""`intake backup` and `intake restore`, run for real: a restored instance opens its cases
with their passphrases, and a wrong passphrase or a damaged archive restores nothing."""

import io
import os
import tarfile

import httpx
import pytest

from crypto import Argon2Params, derive_backup_key
from intake.blobs import FIXED_TIME
from intake.service import backup
from intake.store import make_engine, schema_revision

from .conftest import on_postgres
from .files import report_upload, sha256
from .schema import drop_schema
from .server import init_demo, intake, officer_login, serving

pytestmark = pytest.mark.server

BACKUP_PASSPHRASE = "correct horse battery staple for backups"


def members_of(archive) -> list[tarfile.TarInfo]:
    """The tar headers inside an encrypted backup, read as `intake restore` reads them."""
    with open(archive, "rb") as stream:
        head = stream.read(len(backup.MAGIC) + backup.HEADER.size)
        salt, t, m, p = backup.HEADER.unpack(head[len(backup.MAGIC) :])
        reader = backup._DecryptingReader(stream, derive_backup_key(BACKUP_PASSPHRASE, salt, Argon2Params(t, m, p)))
        with tarfile.open(fileobj=io.BufferedReader(reader, backup.READ_BLOCK), mode="r|") as tar:
            return list(tar)


def empty_database(env: dict) -> None:
    if on_postgres():
        engine = make_engine(env["INTAKE_DATABASE_URL"])
        drop_schema(engine)
        engine.dispose()


@pytest.fixture
def env():
    environment = {"INTAKE_DATABASE_URL": os.environ.get("TEST_DATABASE_URL", "")}
    empty_database(environment)
    yield environment
    empty_database(environment)


def test_backup_then_restore_into_an_empty_instance(tmp_path, env):
    credentials = {o["office"]: o for o in init_demo(tmp_path / "old", env)["officers"]}
    evidence = os.urandom(200_000)
    with serving(tmp_path / "old", env) as base:
        body, headers = report_upload([("evidence.bin", evidence)])
        filed = httpx.post(base + "/api/v1/reports", content=body, headers=headers).json()
        oig = credentials["OIG"]
        officer = officer_login(base, oig)
        case_id = filed["cases"][0]["id"]
        httpx.post(f"{base}/api/v1/officer/cases/{case_id}/messages", json={"body": "before the backup"}, headers=officer)

    archive = tmp_path / "instance.backup"
    done = intake(
        "--data-dir",
        str(tmp_path / "old"),
        "backup",
        "--out",
        str(archive),
        "--passphrase-stdin",
        env=env,
        stdin=BACKUP_PASSPHRASE + "\n",
    )
    assert "encrypted backup written" in done.stdout
    raw = archive.read_bytes()
    assert raw.startswith(b"INTAKE-BACKUP\x01")
    assert b"instance_salt" not in raw and b"sqlite" not in raw.lower()[:4096]
    assert {member.mtime for member in members_of(archive)} == {FIXED_TIME}  # no member says when it came

    empty_database(env)
    new = tmp_path / "new"
    if not on_postgres():
        env = {**env, "INTAKE_DATABASE_URL": f"sqlite:///{new / 'intake.sqlite3'}"}
        new.mkdir()

    wrong = intake(
        "--data-dir",
        str(new),
        "restore",
        "--in",
        str(archive),
        "--passphrase-stdin",
        env=env,
        stdin="not the passphrase at all\n",
        check=False,
    )
    assert wrong.returncode == 1 and "cannot be opened" in wrong.stderr
    assert not (new / "instance.json").exists()
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(raw[: len(raw) // 2] + bytes([raw[len(raw) // 2] ^ 1]) + raw[len(raw) // 2 + 1 :])
    broken = intake(
        "--data-dir",
        str(new),
        "restore",
        "--in",
        str(damaged),
        "--passphrase-stdin",
        env=env,
        stdin=BACKUP_PASSPHRASE + "\n",
        check=False,
    )
    assert broken.returncode == 1 and not (new / "instance.json").exists()
    engine = make_engine(env["INTAKE_DATABASE_URL"])
    assert schema_revision(engine)[0] is None
    engine.dispose()
    cut = tmp_path / "cut.backup"
    cut.write_bytes(raw[:-100])
    assert (
        intake(
            "--data-dir",
            str(new),
            "restore",
            "--in",
            str(cut),
            "--passphrase-stdin",
            env=env,
            stdin=BACKUP_PASSPHRASE + "\n",
            check=False,
        ).returncode
        == 1
    )

    restored = intake(
        "--data-dir", str(new), "restore", "--in", str(archive), "--passphrase-stdin", env=env, stdin=BACKUP_PASSPHRASE + "\n"
    )
    assert "restored" in restored.stdout
    assert all(p.stat().st_mtime == FIXED_TIME for p in (new / "blobs").rglob("*") if p.is_file())
    with serving(new, env) as base:
        reporter = {
            "Authorization": "Bearer "
            + httpx.post(base + "/api/v1/caseroom/session", json={"passphrase": filed["passphrase"]}).json()["token"]
        }
        (room,) = httpx.get(base + "/api/v1/caseroom", headers=reporter).json()["cases"]
        assert [m["body"] for m in room["messages"]] == ["before the backup"]
        (listed,) = room["files"]
        assert sha256(
            httpx.get(f"{base}/api/v1/caseroom/cases/{case_id}/files/{listed['id']}", headers=reporter).content
        ) == sha256(evidence)
        # New rows after the restore get fresh numbers (PostgreSQL sequences moved past the restored rows).
        officer = officer_login(base, oig, steps_ahead=1)
        assert (
            httpx.post(f"{base}/api/v1/officer/cases/{case_id}/messages", json={"body": "after"}, headers=officer).status_code
            == 201
        )
    assert intake("--data-dir", str(new), "audit", "verify", env=env).returncode == 0
    again = intake(
        "--data-dir",
        str(new),
        "restore",
        "--in",
        str(archive),
        "--passphrase-stdin",
        env=env,
        stdin=BACKUP_PASSPHRASE + "\n",
        check=False,
    )
    assert again.returncode == 1 and "already holds an instance" in again.stderr
