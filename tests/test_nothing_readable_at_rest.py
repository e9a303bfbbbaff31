"""Promise 1: nothing readable at rest. File reports carrying unique markers, then read
every byte the instance stored (data directory with the SQLite database and its WAL,
and a pg_dump when the suite runs on PostgreSQL): no marker anywhere."""

import os
import secrets
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from .conftest import on_postgres
from .helpers import api_login, caseroom_login, file_via_api


def stored_bytes(ctx, tmp_path: Path) -> list[tuple[str, bytes]]:
    blobs = [(str(p), p.read_bytes()) for p in Path(ctx.settings.data_dir).rglob("*") if p.is_file()]
    blobs += [(str(p), p.read_bytes()) for p in tmp_path.glob("intake.sqlite3*")]
    if on_postgres():
        url = make_url(os.environ["TEST_DATABASE_URL"])
        dump = subprocess.run(
            [
                shutil.which("pg_dump") or "pg_dump",
                "-h",
                url.host or "127.0.0.1",
                "-p",
                str(url.port or 5432),
                "-U",
                url.username or "postgres",
                url.database,
            ],
            check=True,
            capture_output=True,
        ).stdout
        assert b"CREATE TABLE" in dump and b"case_file" in dump
        blobs.append(("pg_dump", dump))
    return blobs


def test_no_marker_in_any_stored_byte(client, ctx, tmp_path):
    markers = {
        name: f"MARK{name.upper()}{secrets.token_hex(8)}"
        for name in ["description", "happened", "reply", "answer", "both", "identity", "protection"]
    }
    filed = file_via_api(client, ["misconduct"], f"my account {markers['description']} ends", {"happened": markers["happened"]})
    response = client.post(
        "/api/v1/reports",
        json={
            "concerns": ["both"],
            "parts": {
                "retaliation": {
                    "description": markers["both"] * 50,
                    "answers": {"protection_wanted": markers["protection"], "identity": markers["identity"]},
                },
                "misconduct": {"description": markers["both"], "answers": {}},
            },
        },
    )
    assert response.status_code == 201, response.text
    both = response.json()
    case_id = filed["cases"][0]["id"]
    officer = api_login(client, "oig-1")
    client.get(f"/api/v1/officer/cases/{case_id}", headers=officer)
    client.post(f"/api/v1/officer/cases/{case_id}/messages", json={"body": markers["reply"]}, headers=officer)
    reporter = caseroom_login(client, filed["passphrase"])
    client.post(f"/api/v1/caseroom/cases/{case_id}/messages", json={"body": markers["answer"]}, headers=reporter)
    assert markers["reply"] in client.get("/api/v1/caseroom", headers=reporter).text

    stored = stored_bytes(ctx, tmp_path)
    assert any(len(data) > 0 for _, data in stored)
    for where, data in stored:
        for name, marker in markers.items():
            for encoding in ("utf-8", "utf-16-le"):
                assert marker.encode(encoding) not in data, f"{name} marker readable in {where}"
        for passphrase in (filed["passphrase"], both["passphrase"]):
            assert passphrase.encode() not in data, f"a passphrase is readable in {where}"
