"""A real SMTP server in the test process (aiosmtpd), with a test CA made by openssl.

The server speaks STARTTLS (or implicit TLS) with a certificate for `localhost` signed by a CA
made for the test run; the client trusts that CA through `MailSettings.ca_file`, so certificate
and host-name checks stay on, as in production. Authentication is required after TLS.
"""

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from intake.settings import MailSettings

USER, PASSWORD = "intake-notify", "mail server password"
SENDER = "case-work@intake.example.org"


@dataclass(frozen=True)
class TestCA:
    ca: Path
    cert: Path
    key: Path


def make_ca(directory: Path, name: str = "localhost") -> TestCA:
    """A CA and a server certificate for `name`, with the extensions strict verification asks for."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: the test CA cannot be made")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subprocess.run(
        ["openssl", "req", "-x509", *curve, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=intake test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["openssl", "req", *curve, "-keyout", key, "-out", csr, "-subj", f"/CN={name}"], check=True, capture_output=True
    )
    extensions = directory / "server.ext"
    extensions.write_text(
        f"subjectAltName=DNS:{name}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    subprocess.run(
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "2", "-extfile", extensions],
        check=True, capture_output=True,
    )  # fmt: skip
    return TestCA(ca, cert, key)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What the server accepted, and what it refuses."""

    mails: list[EmailMessage] = field(default_factory=list)
    refuse_recipients: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd's hook names
        if address in self.refuse_recipients:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@contextmanager
def mail_server(test_ca: TestCA, inbox: Inbox, implicit_tls: bool = False, port: int | None = None) -> Iterator[int]:
    """Serve on 127.0.0.1 until the block ends; yields the port."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(test_ca.cert, test_ca.key)
    port = port or free_port()
    controller = _controller(inbox, context, port, implicit_tls)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _controller(inbox: Inbox, context: ssl.SSLContext, port: int, implicit_tls: bool) -> Controller:
    tls = {"ssl_context": context} if implicit_tls else {"tls_context": context, "require_starttls": True}
    return Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        server_hostname="localhost",
        authenticator=_authenticate,
        # aiosmtpd counts only STARTTLS as TLS for AUTH (and warns of AUTH required without it): with implicit
        # TLS it offers AUTH, which the client uses, without requiring it.
        auth_required=not implicit_tls,
        auth_require_tls=not implicit_tls,
        **tls,
    )


def mail_settings(test_ca: TestCA | None, server_port: int, **changes) -> MailSettings:
    """Settings for the test server: STARTTLS, the test CA trusted, authenticated."""
    base = {
        "host": "localhost",
        "port": server_port,
        "security": "starttls",
        "user": USER,
        "password": PASSWORD,
        "sender": SENDER,
        "ca_file": str(test_ca.ca) if test_ca else None,
        "timeout_seconds": 5.0,
        "interval_minutes": 60,
        "max_delay_minutes": 10,
    }
    return MailSettings(**{**base, **changes})
