"""deploy/: the configurations checked by the real tools where Debian has them (tor, nginx,
systemd-analyze), and the promises in them that a tool cannot see checked by reading."""

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from intake.settings import Settings
from intake.web.limits import DEFAULT_BODY_LIMIT

from .server import free_port, init_demo, serving

pytestmark = pytest.mark.server

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
REQUIRED = os.environ.get("INTAKE_REQUIRE_DEPLOY_TOOLS") == "1"


def tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if path is None:
        if REQUIRED:
            pytest.fail(f"{name} is required here (apt-get install {name})")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.mark.parametrize("torrc", ["tor/torrc", "container/torrc-compose"])
def test_torrc_verifies_with_tor(tmp_path, torrc):
    text = (DEPLOY / torrc).read_text()
    for needed in ["HiddenServicePoWDefensesEnabled 1", "SafeLogging 1", "HiddenServiceVersion 3", "SocksPort 0"]:
        assert needed in text
    data, service = tmp_path / "tor", tmp_path / "tor" / "intake"
    service.mkdir(parents=True, mode=0o700)
    data.chmod(0o700)
    local = text.replace("DataDirectory /var/lib/tor", f"DataDirectory {data}").replace(
        "HiddenServiceDir /var/lib/tor/intake", f"HiddenServiceDir {service}"
    )
    (tmp_path / "torrc").write_text(local)
    done = subprocess.run(
        [tool("tor"), "--verify-config", "-f", str(tmp_path / "torrc")], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Configuration was valid" in done.stdout


def nginx_config(tmp_path: Path, site: str) -> Path:
    """The site as nginx would run it here: a throwaway certificate, paths under tmp_path."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=report.example.org",
            "-keyout",
            str(tmp_path / "privkey.pem"),
            "-out",
            str(tmp_path / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )
    site = site.replace("/etc/ssl/intake/", f"{tmp_path}/").replace(
        "/var/log/nginx/intake-error.log", str(tmp_path / "error.log")
    )
    (tmp_path / "intake.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy; fastcgi_temp_path {tmp_path}/fcgi;
    uwsgi_temp_path {tmp_path}/uwsgi; scgi_temp_path {tmp_path}/scgi;
    access_log off;
    include {tmp_path}/intake.conf;
}}
""")
    return tmp_path / "nginx.conf"


def test_nginx_config_passes_nginx_t(tmp_path):
    nginx = tool("nginx")
    site = (DEPLOY / "nginx" / "intake.conf").read_text()
    assert "access_log off;" in site and "proxy_request_buffering off;" in site and "proxy_buffering off;" in site
    assert 'X-Forwarded-For ""' in site
    # The app sends Onion-Location from INTAKE_ONION_ADDRESS (a second one here would be a stale copy), and
    # is passed the clearnet name, never the client's Host, so nobody reaches it as an onion visitor by nginx.
    assert "add_header Onion-Location" not in site and "proxy_set_header Host $server_name;" in site
    # Filing is limited per address in nginx (the app never sees one), on both ways to file.
    assert re.search(r"POST\s+\$binary_remote_addr;\s+default \"\";", site)
    for location in ("= /report", "= /api/v1/reports"):
        block = site.split(f"location {location} {{", 1)[1].split("}", 1)[0]
        assert "limit_req zone=intake_filing" in block
    # #24 item 11: every other posting route is limited per address too, and so are requests in flight.
    for block in re.findall(r"location ([^{]+)\{([^}]*)\}", site):
        assert "limit_req zone=intake_" in block[1], f"location {block[0]} posts without limit_req"
    assert re.search(r"limit_req_zone \$intake_filing_client zone=intake_posting:\S+ rate=\d+r/m;", site)
    assert re.search(r"limit_conn_zone \$binary_remote_addr zone=intake_conn:\S+;", site)
    server = site.split("listen 443", 1)[1]
    assert re.search(r"\n    limit_conn intake_conn \d+;", server) and "limit_conn_status 429;" in server
    limits = [int(m) for m in re.findall(r"client_max_body_size (\d+)m;", site)]
    settings = Settings(data_dir=tmp_path, database_url="sqlite://")
    assert min(limits) * 2**20 >= DEFAULT_BODY_LIMIT
    assert max(limits) * 2**20 >= settings.max_report_bytes + 2 * 2**20
    conf = nginx_config(tmp_path, site)
    done = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    unit = (DEPLOY / "systemd" / "intake.service").read_text()
    for option in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "User=intake",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
    ]:
        assert option in unit
    assert "--access-log" not in unit
    analyze = tool("systemd-analyze")
    local = unit.replace("/opt/intake/.venv/bin/intake", shutil.which("true"))
    (tmp_path / "intake.service").write_text(local)
    done = subprocess.run(
        [analyze, "verify", str(tmp_path / "intake.service")], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and (done.stdout + done.stderr).strip() == "", done.stdout + done.stderr
    # The same check notices a misspelt option, so silence above means something.
    (tmp_path / "broken.service").write_text(local.replace("ProtectSystem=strict", "ProtectSystem=sideways"))
    broken = subprocess.run(
        [analyze, "verify", str(tmp_path / "broken.service")], capture_output=True, text=True, timeout=60, check=False
    )
    assert "sideways" in broken.stdout + broken.stderr


def environment_of_unit(unit: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in re.findall(r"^Environment=(\S+)$", unit, re.MULTILINE))


def from_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    """The settings `intake serve` would run with, under exactly `env`."""
    for name in [name for name in os.environ if name.startswith("INTAKE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env(data_dir="/var/lib/intake")


def test_every_shipped_deployment_knows_its_onion_and_its_public_address(monkeypatch):
    """Issue 26: the systemd unit and the compose file configure the onion address (cookies every onion
    client sends back, quick exit, Onion-Location) and the address reporters are told to come back to,
    so neither follows the Host header. Shipped as placeholders the app refuses, so a deployment that
    was never told its address does not start; filled in, they are accepted."""
    onion = "intakeonionservicex2345abcdefghijklmnopqrstuvwxyz234567d.onion"
    unit = environment_of_unit((DEPLOY / "systemd" / "intake.service").read_text())
    compose = yaml.safe_load((DEPLOY / "container" / "compose.yaml").read_text())["services"]["app"]["environment"]
    for env, placeholder in [
        (unit, unit["INTAKE_ONION_ADDRESS"]),
        (compose, "set-INTAKE_ONION_ADDRESS-in-deploy-container-.env"),
    ]:
        assert env["INTAKE_SECURE_COOKIES"] == "1"
        shipped = {name: value.replace(f"${{INTAKE_ONION_ADDRESS:-{placeholder}}}", placeholder) for name, value in env.items()}
        with pytest.raises(SystemExit, match="INTAKE_ONION_ADDRESS must be"):
            from_environment(monkeypatch, shipped)
        filled_in = {
            name: value.replace(f"${{INTAKE_ONION_ADDRESS:-{placeholder}}}", onion).replace(placeholder, onion)
            for name, value in env.items()
        }
        settings = from_environment(monkeypatch, filled_in)
        assert settings.onion_address == onion and settings.public_address == f"http://{onion}/" and settings.secure_cookies
    # The onion service points where the app listens (for compose: test_container_runs_as_non_root...).
    serve = re.search(r"serve --host (\S+) --port (\d+)", (DEPLOY / "systemd" / "intake.service").read_text())
    assert f"HiddenServicePort 80 {serve[1]}:{serve[2]}" in (DEPLOY / "tor" / "torrc").read_text()


def test_container_runs_as_non_root_on_a_read_only_root():
    dockerfile = (DEPLOY / "container" / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert not re.search(r"^ADD\s+https?://", dockerfile, re.MULTILINE)
    assert "--access-log" not in dockerfile
    compose = yaml.safe_load((DEPLOY / "container" / "compose.yaml").read_text())
    app = compose["services"]["app"]
    assert app["read_only"] is True and app["user"] == "intake" and app["cap_drop"] == ["ALL"]
    assert any(mount.startswith("/dev/shm") for mount in app["tmpfs"])
    assert "ports" not in app, "the app must be reachable only through the onion service"
    assert compose["networks"]["internal"]["internal"] is True
    assert set(compose["services"]) == {"app", "db", "tor"}
    address = app["networks"]["internal"]["ipv4_address"]
    assert f"HiddenServicePort 80 {address}:8000" in (DEPLOY / "container" / "torrc-compose").read_text()


def test_nginx_limits_filing_per_address_and_never_reading(tmp_path):
    """The bound on one client spending everyone's budget, measured through nginx for real:
    11 reports (a burst of 10, then one a minute), then 429; reading the form is never limited. The
    other posting routes share a zone of their own (#24 item 11): a burst of 60, then 429."""
    data = tmp_path / "var"
    init_demo(data, {"INTAKE_DATABASE_URL": ""})
    with serving(data, {"INTAKE_DATABASE_URL": ""}) as base, behind_nginx(tmp_path, base) as client:
        report = {"concerns": ["misconduct"], "description": "through nginx"}
        codes = [client.post("/api/v1/reports", json=report).status_code for _ in range(14)]
        assert codes == [201] * 11 + [429] * 3, codes
        assert client.post("/report", data={"concern": "misconduct"}).status_code == 429  # the same zone
        assert all(client.get("/report?concern=misconduct").status_code == 200 for _ in range(20))
        # #24 item 11: the other posting routes, in their own zone: a burst of 60, then 429.
        login = {"passphrase": "not a passphrase"}
        codes = [client.post("/api/v1/caseroom/session", json=login).status_code for _ in range(64)]
        assert 429 not in codes[:60] and codes[-1] == 429, codes
        assert client.post("/caseroom/cases/ECO-0000000000/messages", data={"body": "x"}).status_code == 429
        assert client.get("/caseroom/login").status_code == 200
    assert not (tmp_path / "error.log").exists() or "127.0.0.1" not in (tmp_path / "error.log").read_text()


def test_through_nginx_the_clearnet_offers_the_onion_and_a_forged_host_gets_clearnet_cookies(tmp_path):
    """Issue 26, the shipped nginx in front of the app as the systemd unit configures it: one
    Onion-Location (the app's), and a client that claims the onion's name through the clearnet
    address still gets the clearnet's `__Host-intake; Secure` (nginx passes its own name on)."""
    onion = "intakeonionservicex2345abcdefghijklmnopqrstuvwxyz234567d.onion"
    env = {"INTAKE_DATABASE_URL": "", "INTAKE_SECURE_COOKIES": "1", "INTAKE_ONION_ADDRESS": onion}
    data = tmp_path / "var"
    init_demo(data, env)
    with serving(data, env) as base, behind_nginx(tmp_path, base) as client:
        client.cookies.clear()  # each request below as a first visit, so each sets the session cookie
        page = client.get("/report?concern=misconduct")
        assert page.headers.get_list("onion-location") == [f"http://{onion}/report?concern=misconduct"]
        assert "__Host-intake=" in page.headers["set-cookie"] and "; secure" in page.headers["set-cookie"].lower()
        client.cookies.clear()
        forged = client.get("/report", headers={"host": onion})
        assert forged.headers.get_list("onion-location") == [f"http://{onion}/report"]
        assert "__Host-intake=" in forged.headers["set-cookie"] and "; secure" in forged.headers["set-cookie"].lower()
        # Straight to the app, as Tor brings it an onion visitor: the onion's cookie, and no header.
        direct = httpx.get(base + "/report", headers={"host": onion})
        assert direct.headers["set-cookie"].startswith("intake=") and "secure" not in direct.headers["set-cookie"].lower()
        assert "onion-location" not in direct.headers


@contextmanager
def behind_nginx(tmp_path: Path, base: str) -> Iterator[httpx.Client]:
    """The shipped nginx site on loopback ports, in front of the app at `base`; a client of its https side."""
    nginx = tool("nginx")
    https, http = free_port(), free_port()
    site = (DEPLOY / "nginx" / "intake.conf").read_text()
    site = site.replace("server 127.0.0.1:8000;", f"server {base.removeprefix('http://')};")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl;").replace("listen [::]:443 ssl http2;", "")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http};").replace("listen [::]:80;", "")
    conf = nginx_config(tmp_path, site)
    proxy = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        # A throwaway self-signed certificate, made just above.
        with httpx.Client(base_url=f"https://127.0.0.1:{https}", verify=False, timeout=30) as client:  # noqa: S501
            for _ in range(50):
                try:
                    client.get("/")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield client
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        if proxy.stderr:  # left open, its pipe is a ResourceWarning, and warnings fail tests
            proxy.stderr.close()
