"""No request content in any log line or traceback: errors are forced with marker text in the
request, and everything the server writes is read."""

import logging
import secrets
import sqlite3
import sys

import httpx
import pytest

from intake.logs import NoContentFormatter

from .server import init_demo, server_process


def test_a_traceback_keeps_types_and_frames_but_no_message():
    marker = f"MARKER{secrets.token_hex(6)}"
    formatter = NoContentFormatter("%(levelname)s %(name)s: %(message)s")

    def parse(text: str) -> None:
        try:
            int(text)
        except ValueError as error:
            raise RuntimeError(f"could not read {text!r}") from error

    try:
        parse(marker)
    except RuntimeError:
        record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", None, None)
        record.exc_info = sys.exc_info()
        written = formatter.format(record)
    assert marker not in written
    assert "builtins.RuntimeError (message withheld)" in written and "builtins.ValueError" in written
    assert "in parse" in written


@pytest.mark.server
def test_a_server_error_writes_nothing_the_reporter_sent(tmp_path):
    marker = f"MARKER{secrets.token_hex(6)}"
    env = {"INTAKE_DATABASE_URL": ""}
    init_demo(tmp_path / "var", env)
    with server_process(tmp_path / "var", env) as server:
        with sqlite3.connect(tmp_path / "var" / "intake.sqlite3") as db:
            db.execute("DROP TABLE sending")  # every report now fails half-way, in the database
        report = {"concerns": ["misconduct"], "description": f"the fuel {marker}", "answers": {"happened": marker}}
        failed = httpx.post(server.base + "/api/v1/reports", json=report, headers={"Idempotency-Key": f"{marker}-key"})
        assert failed.status_code == 500 and marker not in failed.text
        server.process.terminate()
        written = server.process.communicate(timeout=10)[0] or ""
    assert "Exception in ASGI application" in written and "(message withheld)" in written
    assert marker not in written
