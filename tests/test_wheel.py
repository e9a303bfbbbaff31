"""The wheel ships everything a server needs: templates, static files, catalogs, migrations.

Built from the files git tracks (a clean checkout), installed into a fresh environment
with no access to the checkout, initialised and served: pages come out in French and in
Arabic, right to left. The fresh environment borrows the dependencies already installed
for the tests (through a .pth line) but not our own code, which must come from the wheel.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import httpx
import pytest

from .server import CHEAP, free_port

pytestmark = [pytest.mark.server, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]


def clean_checkout(target: Path) -> Path:
    """A copy of exactly the files git tracks: no compiled catalogs, no build leftovers."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, tracked):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())
    return target


def test_a_wheel_from_a_clean_checkout_serves_french_and_arabic(tmp_path):
    checkout = clean_checkout(tmp_path / "checkout")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "dist"),
            str(checkout),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("intake-*.whl")

    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=False)
    python = fresh / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # The dependencies, not our code: the test environment's site-packages, after the wheel's.
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(outside), "INTAKE_DATABASE_URL": ""}
    where = subprocess.run(
        [str(python), "-c", "import intake, caseroom; print(intake.__file__, caseroom.__file__)"],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in where and str(site) in where, where

    intake = [str(fresh / "bin" / "intake"), "--data-dir", str(outside / "var")]
    subprocess.run([*intake, "init", "--demo", *CHEAP], cwd=outside, env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen(
        [*intake, "serve", "--port", str(port)], cwd=outside, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                subprocess.run(["sleep", "0.2"], check=True)
        french = httpx.get(base + "/?lang=fr")
        arabic = httpx.get(base + "/?lang=ar")
        report_form = httpx.get(base + "/report?concern=misconduct&lang=fr")
        officer = httpx.get(base + "/officer/login?lang=ar")
        css = httpx.get(base + "/static/style.css")
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout:  # left open, its pipe is a ResourceWarning, and warnings fail tests
            server.stdout.close()
    assert french.status_code == 200 and 'lang="fr"' in french.text and "Faire un signalement" in french.text
    assert arabic.status_code == 200 and 'dir="rtl"' in arabic.text and "تقديم بلاغ" in arabic.text
    assert report_form.status_code == 200 and "Envoyer le signalement" in report_form.text
    assert officer.status_code == 200 and 'dir="rtl"' in officer.text
    assert css.status_code == 200 and "--accent" in css.text
