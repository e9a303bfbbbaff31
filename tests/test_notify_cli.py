"""`intake notify test --to ADDRESS` says exactly which step failed (dns, connect, tls, auth, refused), and
`intake notify run` sends what is due; both against a real SMTP server in the test process."""

import datetime as dt
import os

import pytest
from sqlmodel import Session

from intake import cli
from intake.digest_mail import SUBJECT
from intake.service import notifications, officers, reporting
from intake.store import NotificationAddress
from policies import validate_report

from .conftest import PASSWORDS
from .helpers import totp_code
from .mail_server import PASSWORD, SENDER, USER, Inbox, free_port, mail_server, make_ca


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(autouse=True)
def umask():
    kept = os.umask(0o077)  # cli.main sets the service's own umask: the suite's is put back after
    os.umask(kept)
    yield
    os.umask(kept)


def environment(monkeypatch, test_ca, port: int, **changes: str | None) -> None:
    values = {
        "INTAKE_SMTP_HOST": "localhost",
        "INTAKE_SMTP_PORT": str(port),
        "INTAKE_SMTP_SECURITY": "starttls",
        "INTAKE_SMTP_USER": USER,
        "INTAKE_SMTP_PASSWORD": PASSWORD,
        "INTAKE_SMTP_FROM": SENDER,
        "INTAKE_SMTP_CA_FILE": str(test_ca.ca),
        "INTAKE_SMTP_TIMEOUT_SECONDS": "5",
        **changes,
    }
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def notify(capsys, tmp_path, *argv: str) -> tuple[int, str, str]:
    status = cli.main(["--data-dir", str(tmp_path / "var"), "notify", *argv])
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.mark.parametrize(
    ("changes", "stage"),
    [
        ({"INTAKE_SMTP_HOST": "mail.intake-test.invalid"}, "dns failed"),
        ({"INTAKE_SMTP_PORT": "closed"}, "connect failed"),
        ({"INTAKE_SMTP_CA_FILE": None}, "tls failed"),  # the system's authorities do not know the test CA
        ({"INTAKE_SMTP_SECURITY": "tls"}, "tls failed"),  # implicit TLS to a STARTTLS port
        ({"INTAKE_SMTP_PASSWORD": "not the password"}, "auth failed"),
        ({"INTAKE_SMTP_USER": None, "INTAKE_SMTP_PASSWORD": None}, "refused failed"),  # the server wants AUTH
        ({"INTAKE_SMTP_HOST": None}, "config failed"),
    ],
)
def test_notify_test_names_the_step_that_failed(monkeypatch, capsys, tmp_path, test_ca, changes, stage):
    inbox = Inbox()
    with mail_server(test_ca, inbox) as port:
        if changes.get("INTAKE_SMTP_PORT") == "closed":
            changes = {"INTAKE_SMTP_PORT": str(free_port())}
        environment(monkeypatch, test_ca, port, **changes)
        status, out, err = notify(capsys, tmp_path, "test", "--to", "officer@example.org")
    assert status == 1 and not out
    assert err.startswith(f"not sent: {stage}"), err
    assert inbox.mails == []


def test_notify_test_sends_and_says_how(monkeypatch, capsys, tmp_path, test_ca):
    inbox = Inbox()
    with mail_server(test_ca, inbox) as port:
        environment(monkeypatch, test_ca, port)
        status, out, _ = notify(capsys, tmp_path, "test", "--to", "officer@example.org")
        refused_inbox = Inbox(refuse_recipients={"nobody@example.org"})
        with mail_server(test_ca, refused_inbox) as other:
            environment(monkeypatch, test_ca, other)
            refused = notify(capsys, tmp_path, "test", "--to", "nobody@example.org")
    assert status == 0 and "accepted a test digest for officer@example.org (STARTTLS, authenticated as" in out
    assert [m["Subject"] for m in inbox.mails] == [SUBJECT]
    assert refused[0] == 1 and refused[2].startswith("not sent: refused failed: the server refused the recipient (550)")
    assert notify(capsys, tmp_path, "test", "--to", "not an address")[0] == 2


def test_notify_test_over_implicit_tls(monkeypatch, capsys, tmp_path, test_ca):
    inbox = Inbox()
    with mail_server(test_ca, inbox, implicit_tls=True) as port:
        environment(monkeypatch, test_ca, port, INTAKE_SMTP_SECURITY="tls")
        status, out, err = notify(capsys, tmp_path, "test", "--to", "officer@example.org")
    assert status == 0, err
    assert "(implicit TLS, authenticated as" in out and len(inbox.mails) == 1


def test_notify_run_sends_what_is_due(ctx, monkeypatch, capsys, test_ca):
    oig = officers.current(ctx, officers.log_in(ctx, "oig-1", PASSWORDS["oig-1"], totp_code(ctx, "oig-1")))
    notifications.set_address(ctx, oig, "oig-one@example.org", "es")
    reporting.file_report(ctx, validate_report(ctx.policy, ["misconduct"], "Inflated invoices.", {}))
    with Session(ctx.engine) as db, db.begin():
        row = db.get(NotificationAddress, oig.officer_id)
        row.next_digest_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        db.add(row)
    argv = ["--data-dir", str(ctx.settings.data_dir), "--database-url", ctx.settings.database_url, "notify", "run"]
    inbox = Inbox()
    with mail_server(test_ca, inbox) as port:
        environment(monkeypatch, test_ca, port, INTAKE_NOTIFY_INTERVAL_MINUTES="60", INTAKE_NOTIFY_MAX_DELAY_MINUTES="5")
        assert cli.main(argv) == 0
        assert cli.main(argv) == 0  # the next one is a period away
    out = capsys.readouterr().out
    assert "digests sent: 1," in out and "digests sent: 0," in out
    assert len(inbox.mails) == 1 and inbox.mails[0]["To"] == "oig-one@example.org"
    assert "1 denuncia nueva" in inbox.mails[0].get_content()  # in the officer's language
    monkeypatch.delenv("INTAKE_SMTP_HOST")
    assert cli.main(argv) == 2
    assert "INTAKE_SMTP_HOST is not set" in capsys.readouterr().err
