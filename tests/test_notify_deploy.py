"""The notification timer's systemd units: verified by systemd-analyze, hardened like the service, no password in them."""

import shutil
import subprocess

from .test_deploy import DEPLOY, tool


def test_notify_units_verify_and_hold_no_password(tmp_path):
    service = (DEPLOY / "systemd" / "intake-notify.service").read_text()
    timer = (DEPLOY / "systemd" / "intake-notify.timer").read_text()
    for option in ["NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=", "User=intake", "Type=oneshot"]:
        assert option in service
    assert "intake notify run" in service and "INTAKE_SMTP_PASSWORD=" not in service
    assert "OnUnitActiveSec=" in timer
    analyze = tool("systemd-analyze")
    (tmp_path / "intake-notify.service").write_text(service.replace("/opt/intake/.venv/bin/intake", shutil.which("true")))
    (tmp_path / "intake-notify.timer").write_text(timer)
    done = subprocess.run(
        [analyze, "verify", str(tmp_path / "intake-notify.service"), str(tmp_path / "intake-notify.timer")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and (done.stdout + done.stderr).strip() == "", done.stdout + done.stderr
