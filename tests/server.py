"""Starting the real `intake` command in a subprocess, as an operator would."""

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

INTAKE = [sys.executable, "-m", "intake.cli"]
CHEAP = ["--argon2-time-cost", "1", "--argon2-memory-kib", "1024"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def intake(*args: str, env: dict | None = None, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*INTAKE, *args], env={**os.environ, **(env or {})}, input=stdin, capture_output=True, text=True, check=check, timeout=120
    )


def totp_now(officer: dict, steps_ahead: int = 0) -> str:
    """The officer's authenticator code now (or `steps_ahead` 30-second steps on: a second
    login within one step needs the next code, since no code is accepted twice)."""
    import pyotp

    return pyotp.TOTP(officer["totp_secret"]).at(time.time() + 30 * steps_ahead)


def officer_login(base: str, officer: dict, steps_ahead: int = 0) -> dict[str, str]:
    """Bearer headers of a new officer session over the API."""
    response = httpx.post(
        base + "/api/v1/officer/session",
        json={"username": officer["username"], "password": officer["password"], "totp": totp_now(officer, steps_ahead)},
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def init_demo(data_dir: Path, env: dict | None = None, cheap: bool = True) -> dict:
    intake("--data-dir", str(data_dir), "init", "--demo", *(CHEAP if cheap else []), env=env)
    return json.loads((data_dir / "demo-credentials.json").read_text())


@dataclass
class Server:
    base: str
    process: subprocess.Popen


@contextmanager
def server_process(
    data_dir: Path, env: dict | None = None, workers: int = 1, wrapper: tuple[str, ...] = (), start_seconds: int = 30
):
    """`intake serve` on a free port (run by `wrapper`, such as valgrind, if given); yields a Server;
    stops (or reaps) the process after."""
    port = free_port()
    process = subprocess.Popen(
        [*wrapper, *INTAKE, "--data-dir", str(data_dir), "serve", "--port", str(port), "--workers", str(workers)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"intake serve did not start: {process.stdout.read() if process.stdout else ''}") from None
                time.sleep(0.2)
        yield Server(base, process)
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout:  # its pipe too: left open it is a ResourceWarning, and warnings fail tests
            process.stdout.close()


@contextmanager
def serving(data_dir: Path, env: dict | None = None):
    """`intake serve` on a free port; yields the base URL."""
    with server_process(data_dir, env) as server:
        yield server.base
