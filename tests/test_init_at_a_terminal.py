"""`intake init` as a newcomer types it at a terminal (a real pseudo-terminal, so that getpass reads
from it): a wrong username or a short password is asked again, and the instance is made once every
answer is right."""

import contextlib
import os
import pty
import select
import signal
import sys
import time
from pathlib import Path


def test_a_wrong_answer_at_the_terminal_is_asked_again(tmp_path: Path):
    data = tmp_path / "var"
    argv = [sys.executable, "-m", "intake.cli", "--data-dir", str(data), "init"]
    argv += ["--argon2-time-cost", "1", "--argon2-memory-kib", "1024"]
    env = {**os.environ, "INTAKE_DATABASE_URL": f"sqlite:///{data / 'intake.sqlite3'}"}
    pid, terminal = pty.fork()
    if pid == 0:  # the child: intake init, on the pseudo-terminal
        os.execve(sys.executable, argv, env)  # noqa: S606 (our own interpreter, no shell wanted)
    shown, since = b"", 0

    def until(prompt: bytes, said: bytes = b"") -> None:
        """Read until `prompt` is the last thing shown, `said` having been shown since the last answer."""
        nonlocal shown, since
        deadline = time.monotonic() + 60
        while not (shown.endswith(prompt) and said in shown[since:]) and time.monotonic() < deadline:
            if select.select([terminal], [], [], 0.5)[0]:
                try:
                    shown += os.read(terminal, 4096)
                except OSError:  # the child has ended
                    break
        assert shown.endswith(prompt) and said in shown[since:], shown.decode(errors="replace")
        since = len(shown)

    try:
        # Each answer once its prompt is shown: getpass discards what was typed before it turned echo off.
        for said, prompt, answer in (
            (b"", b"first ECO officer: ", b"eco first"),
            (b"a username is 1-64 letters, digits, dots, dashes or underscores; try again", b"ECO officer: ", b"eco-first"),
            (b"", b"Password for eco-first (12 characters or more): ", b"short"),
            (b"an officer password has 12 to 1024 characters; try again", b"more): ", b"long-enough-password-1"),
            (b"", b"first OIG officer: ", b"eco-first"),
            (b"eco-first is the other office's first officer already; try again", b"OIG officer: ", b"oig-first"),
            (b"", b"Password for oig-first (12 characters or more): ", b"long-enough-password-2"),
        ):
            until(prompt, said)
            os.write(terminal, answer + b"\n")
        until(b"", b"OIG: officer oig-first enrolled.")
    finally:
        status = _ended(pid, terminal)
        os.close(terminal)
    assert status == 0, (status, shown.decode(errors="replace"))
    assert b"short" not in shown and b"long-enough-password" not in shown  # no password is echoed
    assert (data / "instance.json").exists()


def _ended(pid: int, terminal: int) -> int:
    """The child's exit code, once it has ended (what it still prints is read, so that it never waits to
    write); killed after 30 s (a failure above left it waiting for an answer)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if select.select([terminal], [], [], 0.1)[0]:
            with contextlib.suppress(OSError):
                os.read(terminal, 4096)
    os.kill(pid, signal.SIGKILL)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
