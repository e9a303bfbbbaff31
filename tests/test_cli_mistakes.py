"""A person's mistakes at the command line end in one clear line and a non-zero status, never a
traceback: wrong paths, missing files, a bad database URL or one that cannot be reached, a wrong
passphrase, a mistyped setting. And a restore onto a new machine makes its data directory.

Run in-process (`intake.cli.main`): an exception that escaped would fail the test, as it would
have printed a traceback."""

import gc
import io
import os
import sys

import pytest

from intake import cli
from intake.service import backup

from .conftest import CHEAP_ARGON2

PASSPHRASE = "a backup passphrase of some length"


def run(argv: list[str], capsys, monkeypatch, stdin: str = "", env: dict | None = None) -> tuple[int, str]:
    """The exit status and what the command printed to stderr, as a shell would see them."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    try:
        code = cli.main(argv)
    except SystemExit as leaving:  # the interpreter prints a string status on stderr, and exits 1
        code, message = leaving.code, ""
        if isinstance(code, str):
            code, message = 1, leaving.code
        err = capsys.readouterr().err + message
        return int(code or 0), err
    finally:
        for name in env or {}:
            monkeypatch.delenv(name)
        gc.collect()  # a command leaves its engine to the process's exit: collected here, not in a later test
    return code, capsys.readouterr().err


@pytest.fixture
def archive(ctx, tmp_path):
    """A real backup of the test instance (cheap Argon2), the schema stamped as `intake init` leaves it."""
    from .schema import stamp_head

    stamp_head(ctx.engine)
    path = tmp_path / "instance.bak"
    backup.write_backup(ctx, path, PASSPHRASE, CHEAP_ARGON2)
    return path


# A command's database connections close when its process exits; run in-process, they are collected.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_every_mistake_is_one_line_and_a_failure_status(ctx, archive, tmp_path, capsys, monkeypatch):
    here = ["--data-dir", str(ctx.settings.data_dir), "--database-url", ctx.settings.database_url]
    fresh = tmp_path / "new-machine" / "intake"
    elsewhere = ["--data-dir", str(fresh), "--database-url", f"sqlite:///{fresh / 'intake.sqlite3'}"]
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("x")
    not_backup = tmp_path / "notes.txt"
    not_backup.write_text("not a backup at all, just words")
    (tmp_path / "taken.bak").write_text("x")
    empty_db = ["--data-dir", str(ctx.settings.data_dir), "--database-url", f"sqlite:///{tmp_path / 'empty.sqlite3'}"]
    bare_db = ["--data-dir", str(ctx.settings.data_dir), "--database-url", f"sqlite:///{tmp_path / 'bare.sqlite3'}"]
    add = [*here, "officer", "add", "--sponsor", "eco-1", "--username", "x", "--password-stdin"]
    mistakes = [
        (["--data-dir", str(tmp_path / "nowhere"), "audit", "verify"], {}, "", "no instance in"),
        ([*elsewhere, "restore", "--in", str(tmp_path / "missing.bak"), "--passphrase-stdin"], {}, PASSPHRASE, "no backup file"),
        ([*elsewhere, "restore", "--in", str(not_backup), "--passphrase-stdin"], {}, PASSPHRASE, "not an intake backup"),
        ([*elsewhere, "restore", "--in", str(archive), "--passphrase-stdin"], {}, "the wrong passphrase!!", "wrong passphrase"),
        ([*here, "backup", "--out", str(tmp_path / "new.bak"), "--passphrase-stdin"], {}, "too short\n", "at least 16"),
        (["--database-url", "nonsense", "migrate"], {}, "", "database URL is not one this can use"),
        (["--database-url", "mysql://root@localhost/x", "migrate"], {}, "", "database URL is not one this can use"),
        (["--database-url", "postgresql://nobody@127.0.0.1:1/none", "migrate"], {}, "", "the database cannot be used"),
        ([*here, "backup", "--out", str(tmp_path / "no" / "such" / "dir.bak"), "--passphrase-stdin"], {}, PASSPHRASE, "No such"),
        ([*here, "backup", "--out", str(tmp_path / "taken.bak"), "--passphrase-stdin"], {}, PASSPHRASE, "exists"),
        ([*here, "audit", "verify"], {"INTAKE_BLOBS": "disk"}, "", "INTAKE_BLOBS is 'disk'"),
        ([*here, "audit", "verify"], {"INTAKE_MAX_FILE_MIB": "lots"}, "", "INTAKE_MAX_FILE_MIB is 'lots'"),
        (["--data-dir", str(not_a_dir), "init", "--demo"], {}, "", "File exists"),
        (add, {}, "wrong\n000000\nnew password of twelve\n", "not added"),
        ([*here, "officer", "password", "--username", "eco-1", "--password-stdin"], {}, "", "expected a line on standard input"),
        ([*empty_db, "serve"], {}, "", "revision None"),
        ([*bare_db, "audit", "verify"], {}, "", "the database cannot be used"),
        ([*elsewhere, "blobs", "move", "--to", "database"], {}, "", "needs PostgreSQL"),
        ([*elsewhere, "serve"], {"INTAKE_BLOBS": "database"}, "", "INTAKE_BLOBS=database needs PostgreSQL"),
        ([*here, "node", "join", "--instance-file", str(tmp_path / "none.json")], {}, "", "not joined"),
    ]
    for argv, env, stdin, expected in mistakes:
        code, err = run(argv, capsys, monkeypatch, stdin, env)
        shown = f"{' '.join(argv)}: status {code}, said {err!r}"
        assert code != 0, shown
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, shown
        assert expected in err, shown
    assert not (fresh / "instance.json").exists()  # nothing restored from any of those


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_restore_onto_a_new_machine_makes_the_data_directory(ctx, archive, tmp_path, capsys, monkeypatch):
    fresh = tmp_path / "new-machine" / "var" / "intake"
    argv = ["--data-dir", str(fresh), "--database-url", f"sqlite:///{fresh / 'intake.sqlite3'}", "restore"]
    code, err = run([*argv, "--in", str(archive), "--passphrase-stdin"], capsys, monkeypatch, PASSPHRASE + "\n")
    assert code == 0, err
    assert oct(fresh.stat().st_mode & 0o777) == "0o700"
    assert oct((fresh / "instance.json").stat().st_mode & 0o777) == "0o600"
    assert (fresh / "instance.json").read_bytes() == ctx.settings.instance_path.read_bytes()
    assert not (fresh / "restore-staging").exists()
    code, err = run(["--data-dir", str(fresh), "audit", "verify"], capsys, monkeypatch)
    assert code == 0, err
    assert os.listdir(fresh)


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_mistake_at_init_makes_nothing_and_the_next_init_goes_through(tmp_path, capsys, monkeypatch):
    """A newcomer's short password ended `intake init` in a traceback after instance.json and the tables were
    made, and every `intake init` after it said "already holds an instance; nothing done". Now every answer is
    checked before anything is made; a database that already holds an instance is refused before a key is."""
    data = tmp_path / "var"
    cheap = ["--argon2-time-cost", "1", "--argon2-memory-kib", "1024"]
    init = [
        "--data-dir",
        str(data),
        "--database-url",
        f"sqlite:///{tmp_path / 'intake.sqlite3'}",
        "init",
        *cheap,
        "--password-stdin",
    ]
    good = "eco-first\nlong-enough-password-1\noig-first\nlong-enough-password-2\n"
    for stdin, expected in (
        ("eco-first\nshort\n", "an officer password has 12 to 1024 characters; nothing was made"),
        ("eco first\n", "a username is 1-64 letters"),
        ("eco-first\nlong-enough-password-1\neco-first\n", "eco-first is the other office's first officer already"),
        ("eco-first\nlong-enough-password-1\n", "standard input ended before every answer was given"),
    ):
        code, err = run(init, capsys, monkeypatch, stdin)
        last = err.strip().splitlines()[-1]
        assert code == 1 and "Traceback" not in err and expected in last, (stdin, code, err)
        assert not (data / "instance.json").exists(), stdin
    code, err = run(init, capsys, monkeypatch, good)
    assert code == 0, err
    assert (data / "instance.json").exists()

    other = tmp_path / "other-machine"
    again = ["--data-dir", str(other), "--database-url", f"sqlite:///{tmp_path / 'intake.sqlite3'}", "init", *cheap]
    code, err = run([*again, "--password-stdin"], capsys, monkeypatch, good)
    assert code == 1 and "already holds an instance's tables; nothing was made" in err, err
    assert not (other / "instance.json").exists()  # no second set of keys beside a database that has its own
