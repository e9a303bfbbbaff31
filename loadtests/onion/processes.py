"""Every program the check starts, each stopped by its own pid however the check ends.

A failed step raises `StepFailed`, which names the step and the log to read; `main` prints the
log's last lines. Programs run in their own session, so a Ctrl-C reaches only the check, which then
stops them itself, one pid at a time.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

TOR_USER = "debian-tor"
STOP_SECONDS = 10


class StepFailed(Exception):
    def __init__(self, step: str, reason: str, logs: list[Path] | None = None):
        super().__init__(f"{step}: {reason}")
        self.step, self.reason, self.logs = step, reason, logs or []


@contextmanager
def step(name: str, *logs: Path):
    """Any error inside becomes a StepFailed naming this step and these logs."""
    try:
        yield
    except StepFailed:
        raise
    except Exception as error:  # a Ctrl-C (KeyboardInterrupt) passes through untouched
        raise StepFailed(name, f"{type(error).__name__}: {error}", list(logs)) from error


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(cannot read {path}: {error})"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tor_binary() -> str:
    found = shutil.which("tor") or ("/usr/sbin/tor" if Path("/usr/sbin/tor").exists() else None)
    if found is None:
        raise StepFailed("tools", "tor is not installed (apt-get install tor)")
    return found


def as_tor_user() -> list[str]:
    """Tor refuses nothing as root, but a relay should not run as root: when we are root, each tor
    runs as Debian's tor user (setpriv execs, so the pid we hold is tor's own)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid", TOR_USER, "--regid", TOR_USER, "--init-groups"]


def give_to_tor_user(path: Path) -> None:
    """The node's directory, owned by the user its tor runs as, private to it (tor insists on 0700)."""
    if os.geteuid() == 0:
        user = pwd.getpwnam(TOR_USER)
        for each in [path, *path.rglob("*")]:
            os.chown(each, user.pw_uid, user.pw_gid)
    path.chmod(0o700)


@dataclass
class Program:
    name: str
    process: subprocess.Popen
    log: Path
    lasting: bool  # a server that must run until the end (not a command that finishes)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Programs:
    """The programs started so far; `stop_all` stops each by its pid, the last started first."""

    started: list[Program] = field(default_factory=list)

    def start(self, name: str, command: list[str], log: Path, env: dict | None = None, lasting: bool = True) -> Program:
        handle = log.open("ab")
        try:
            process = subprocess.Popen(
                command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
            )
        finally:
            handle.close()
        program = Program(name, process, log, lasting)
        self.started.append(program)
        return program

    def stop_all(self) -> list[str]:
        """SIGTERM to each pid, SIGKILL to one still there after STOP_SECONDS; returns what had to be killed."""
        killed = []
        for program in reversed(self.started):
            if program.alive():
                program.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for program in reversed(self.started):
            try:
                program.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                program.process.kill()
                program.process.wait(timeout=STOP_SECONDS)
                killed.append(program.name)
        return killed

    def check_running(self, step_name: str) -> None:
        """A server that exited early fails the step, naming its log."""
        for program in self.started:
            if program.lasting and not program.alive():
                raise StepFailed(step_name, f"{program.name} exited with status {program.process.returncode}", [program.log])
