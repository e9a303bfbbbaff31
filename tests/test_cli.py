"""The `intake` command, run for real: init, serve, officer add, audit verify."""

import sqlite3

import httpx
import pyotp
import pytest

from .server import init_demo, intake, officer_login, serving, totp_now

pytestmark = pytest.mark.server

SQLITE_ONLY = {"INTAKE_DATABASE_URL": ""}


def test_demo_instance_serves_the_form_and_the_demo_credentials_work(tmp_path):
    credentials = init_demo(tmp_path / "var", SQLITE_ONLY)
    assert "DEMO ONLY" in credentials["WARNING"]
    assert {o["office"] for o in credentials["officers"]} == {"ECO", "OIG"}
    assert (tmp_path / "var" / "instance.json").stat().st_mode & 0o077 == 0
    with serving(tmp_path / "var", SQLITE_ONLY) as base:
        form = httpx.get(base + "/report")
        assert form.status_code == 200 and "Make a report" in form.text
        assert "server" not in form.headers
        for officer in credentials["officers"]:
            assert officer_login(base, officer)
            assert officer["totp_uri"].startswith("otpauth://totp/")


def test_init_refuses_to_overwrite_an_instance(tmp_path):
    init_demo(tmp_path / "var", SQLITE_ONLY)
    again = intake("--data-dir", str(tmp_path / "var"), "init", "--demo", env=SQLITE_ONLY, check=False)
    assert again.returncode == 1 and "already holds an instance" in again.stderr


def test_audit_verify_passes_then_names_the_edited_entry(tmp_path):
    data = tmp_path / "var"
    credentials = init_demo(data, SQLITE_ONLY)
    eco = next(o for o in credentials["officers"] if o["office"] == "ECO")
    with serving(data, SQLITE_ONLY) as base:
        headers = officer_login(base, eco)
        assert httpx.delete(base + "/api/v1/officer/session", headers=headers).status_code == 204
        officer_login(base, eco, steps_ahead=1)  # the code of the first login is never accepted again
    ok = intake("--data-dir", str(data), "audit", "verify", env=SQLITE_ONLY)
    assert "intact: 5 entries" in ok.stdout
    head = ok.stdout.split("head ", 1)[1].split()[0]

    with sqlite3.connect(data / "intake.sqlite3") as db:
        body = db.execute("SELECT body FROM audit_entry WHERE sequence = 4").fetchone()[0]
        db.execute("UPDATE audit_entry SET body = ? WHERE sequence = 4", (body.replace(b'"action":"', b'"action":"no '),))
    broken = intake("--data-dir", str(data), "audit", "verify", env=SQLITE_ONLY, check=False)
    assert broken.returncode == 1 and "entry 4" in broken.stderr

    with sqlite3.connect(data / "intake.sqlite3") as db:
        db.execute("UPDATE audit_entry SET body = ? WHERE sequence = 4", (body,))
        db.execute("DELETE FROM audit_entry WHERE sequence = 5")
    truncated = intake("--data-dir", str(data), "audit", "verify", env=SQLITE_ONLY, check=False)
    assert truncated.returncode == 1 and "entry 5" in truncated.stderr

    # Cut the tail *and* reset the head row: the head's signature no longer matches.
    with sqlite3.connect(data / "intake.sqlite3") as db:
        digest4 = db.execute("SELECT digest FROM audit_entry WHERE sequence = 4").fetchone()[0]
        db.execute("UPDATE audit_head SET sequence = 4, digest = ?", (digest4,))
    reset = intake("--data-dir", str(data), "audit", "verify", env=SQLITE_ONLY, check=False)
    assert reset.returncode == 1 and "signature does not match" in reset.stderr
    expected = intake("--data-dir", str(data), "audit", "verify", "--expect", head, env=SQLITE_ONLY, check=False)
    assert expected.returncode == 1 and "entry 5" in expected.stderr
    for malformed in ("5", "five:abc", "5:" + "zz" * 32, "5:abc"):
        refused = intake("--data-dir", str(data), "audit", "verify", "--expect", malformed, env=SQLITE_ONLY, check=False)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr and "SEQ:64 hex digits" in refused.stderr


def test_officer_add_key_ceremony(tmp_path):
    data = tmp_path / "var"
    credentials = init_demo(data, SQLITE_ONLY)
    oig = next(o for o in credentials["officers"] if o["office"] == "OIG")
    added = intake(
        "--data-dir",
        str(data),
        "officer",
        "add",
        "--sponsor",
        oig["username"],
        "--username",
        "oig-2",
        "--password-stdin",
        env=SQLITE_ONLY,
        stdin=f"{oig['password']}\n{totp_now(oig)}\na new long officer password\n",
    )
    assert "oig-2 is now a member of OIG" in added.stdout and "recovery key" in added.stdout
    oig2 = {
        "username": "oig-2",
        "password": "a new long officer password",
        "totp_secret": pyotp.parse_uri(added.stdout.split("URI: ")[1].split()[0]).secret,
    }
    refused = intake(
        "--data-dir",
        str(data),
        "officer",
        "add",
        "--sponsor",
        oig["username"],
        "--username",
        "oig-3",
        "--password-stdin",
        env=SQLITE_ONLY,
        stdin=f"wrong password\n{totp_now(oig, 1)}\nanother long password\n",
        check=False,
    )
    assert refused.returncode == 1 and "not added" in refused.stderr
    with serving(data, SQLITE_ONLY) as base:
        assert officer_login(base, oig2)
        assert (
            httpx.post(
                base + "/api/v1/officer/session",
                json={"username": "oig-3", "password": "another long password", "totp": "123456"},
            ).status_code
            == 401
        )


def test_a_broken_policy_file_stops_start_up_naming_the_line(tmp_path):
    from policies.model import shipped_policy_text

    init_demo(tmp_path / "var", SQLITE_ONLY)
    broken = tmp_path / "policy.toml"
    text = shipped_policy_text().replace("acknowledgement_days = 7", "acknowledgement_days = -7")
    broken.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("acknowledgement_days"))
    refused = intake(
        "--data-dir", str(tmp_path / "var"), "serve", env={**SQLITE_ONLY, "INTAKE_POLICY_FILE": str(broken)}, check=False
    )
    assert refused.returncode == 2
    assert f"line {line}" in refused.stderr and "acknowledgement_days" in refused.stderr
    broken.write_text(shipped_policy_text().replace("[deadlines]", "[deadlines"))
    refused = intake(
        "--data-dir",
        str(tmp_path / "var"),
        "audit",
        "verify",
        env={**SQLITE_ONLY, "INTAKE_POLICY_FILE": str(broken)},
        check=False,
    )
    assert refused.returncode == 2 and "line" in refused.stderr


def test_report_and_purge_commands(tmp_path):
    credentials = init_demo(tmp_path / "var", SQLITE_ONLY)
    eco = next(o for o in credentials["officers"] if o["office"] == "ECO")
    out = tmp_path / "annual"
    done = intake(
        "--data-dir",
        str(tmp_path / "var"),
        "report",
        "--year",
        "2026",
        "--username",
        eco["username"],
        "--password-stdin",
        "--out",
        str(out),
        env=SQLITE_ONLY,
        stdin=f"{eco['password']}\n{totp_now(eco)}\n",
    )
    for part in ("internal", "publication"):
        assert (out / part / "report.html").exists() and (out / part / "regions.csv").exists()
    assert "publication draft:" in done.stdout and "INTERNAL" in (out / "internal" / "report.html").read_text()
    wrong = intake(
        "--data-dir",
        str(tmp_path / "var"),
        "report",
        "--year",
        "2026",
        "--username",
        eco["username"],
        "--password-stdin",
        "--out",
        str(out),
        env=SQLITE_ONLY,
        stdin=f"not the password\n{totp_now(eco, 1)}\n",
        check=False,
    )
    assert wrong.returncode == 1
    purge = intake("--data-dir", str(tmp_path / "var"), "purge", "--dry-run", env=SQLITE_ONLY)
    assert "0 case(s) would purge" in purge.stdout


def test_office_rotate_re_wraps_the_office_and_the_service_still_opens_its_cases(tmp_path):
    data = tmp_path / "var"
    credentials = init_demo(data, SQLITE_ONLY)
    oig = next(o for o in credentials["officers"] if o["office"] == "OIG")
    with serving(data, SQLITE_ONLY) as base:
        filed = httpx.post(base + "/api/v1/reports", json={"concerns": ["misconduct"], "description": "before rotation"}).json()
    wrong = intake(
        "--data-dir", str(data), "office", "rotate", "--username", oig["username"], "--password-stdin",
        env=SQLITE_ONLY, stdin=f"not the password\n{totp_now(oig)}\n", check=False,
    )  # fmt: skip
    assert wrong.returncode == 1 and "not rotated" in wrong.stderr
    done = intake(
        "--data-dir", str(data), "office", "rotate", "--username", oig["username"], "--password-stdin",
        env=SQLITE_ONLY, stdin=f"{oig['password']}\n{totp_now(oig)}\n",
    )  # fmt: skip
    assert "The OIG office key is new: 1 case keys" in done.stdout
    with serving(data, SQLITE_ONLY) as base:
        headers = officer_login(base, oig, steps_ahead=1)
        case = httpx.get(f"{base}/api/v1/officer/cases/{filed['cases'][0]['id']}", headers=headers).json()
    assert case["description"] == "before rotation"
    assert intake("--data-dir", str(data), "audit", "verify", env=SQLITE_ONLY).returncode == 0
