"""Sending one mail over SMTP with TLS, and saying exactly which step failed.

The standard library's smtplib and ssl do the protocol and the TLS; this module only orders
the steps and names the one that failed (GlobaLeaks' most common support requests are broken
SMTP set-ups that say nothing more than "could not send"):

  dns       the server's name does not resolve
  connect   nothing answers at that address and port (refused, unreachable, timed out)
  tls       the TLS handshake failed (a certificate not trusted or not for this name, no STARTTLS offered)
  auth      the server refused the user and password, or offers no authentication
  refused   the server refused the sender, the recipient or the message
  protocol  the server broke off or answered what SMTP does not allow

Mail never goes in the clear: STARTTLS is required when offered as the security, and a server
that does not offer it is a `tls` failure. Certificates are always verified (`ssl.create_default_context`),
against the system's authorities or `MailSettings.ca_file`.
"""

import smtplib
import socket
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from .settings import MailSettings

STAGES = ("config", "dns", "connect", "tls", "auth", "refused", "protocol")


class MailFailure(Exception):
    """A mail not sent: `stage` is one of STAGES; `detail` is for the operator's terminal only
    (a server's reply may quote the recipient's address: never log it or keep it)."""

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage = stage
        self.detail = detail


def parse_address(text: str) -> str:
    """One plain address (`local@domain`), as the standard library's parser reads it; ValueError otherwise.

    A line break or a display name is refused: the address goes into a header, and only ever one."""
    if not isinstance(text, str) or any(c in text for c in "\r\n\t\0") or len(text) > 254:
        raise ValueError("not an address")
    try:
        address = Address(addr_spec=text.strip())
    except (ValueError, IndexError, TypeError):
        raise ValueError("not an address") from None
    if not address.username or "." not in address.domain or address.addr_spec != text.strip():
        raise ValueError("not an address")
    return address.addr_spec


def _context(settings: MailSettings) -> ssl.SSLContext:
    # Verification and host-name checks stay on: `cafile` chooses whom to trust, never whether to check.
    return ssl.create_default_context(cafile=settings.ca_file) if settings.ca_file else ssl.create_default_context()


class _Client(smtplib.SMTP):
    """smtplib's client, with the connection made here so that DNS, TCP and (implicit) TLS fail apart."""

    def __init__(self, settings: MailSettings, tls: ssl.SSLContext) -> None:
        self._settings, self._tls = settings, tls
        # The greeting names the sender's domain, not this machine: the server's own host name (an onion
        # service's machine, say) is nothing the mail provider needs to learn.
        helo = (settings.sender or "localhost").rpartition("@")[2] or "localhost"
        super().__init__(local_hostname=helo, timeout=settings.timeout_seconds)
        self._host = settings.host or ""  # the name STARTTLS checks the certificate against (smtplib sets it only in __init__)

    def _get_socket(self, host, port, timeout):  # smtplib's own signature
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as unknown:
            raise MailFailure("dns", f"{host} does not resolve ({unknown})") from None
        try:
            sock = socket.create_connection((host, port), timeout)  # tries each address the name has
        except OSError as failed:
            raise MailFailure("connect", f"cannot connect to {host} port {port} ({failed})") from None
        if self._settings.security != "tls":
            return sock
        try:
            return self._tls.wrap_socket(sock, server_hostname=host)
        except (ssl.SSLError, OSError) as failed:
            sock.close()
            raise MailFailure("tls", f"TLS with {host} failed ({failed})") from None


def message(settings: MailSettings, to: str, subject: str, body: str) -> EmailMessage:
    """The mail as sent: plain text, the sender's domain in its Message-ID (not this machine's name)."""
    mail = EmailMessage()
    mail["From"] = settings.sender or ""
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain=(settings.sender or "").rpartition("@")[2] or None)
    mail.set_content(body)
    return mail


def send(settings: MailSettings, to: str, subject: str, body: str) -> None:
    """Send one plain-text mail; MailFailure names the step that failed."""
    problems = settings.problems()
    if problems:
        raise MailFailure("config", "; ".join(problems))
    assert settings.host is not None  # problems() says so
    tls = _context(settings)
    client = _Client(settings, tls)
    try:
        _session(client, settings, tls, message(settings, to, subject, body))
    except MailFailure:
        raise
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as broken:
        raise MailFailure("protocol", f"the server broke off or answered out of turn ({broken})") from None
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _session(client: _Client, settings: MailSettings, tls: ssl.SSLContext, mail: EmailMessage) -> None:
    assert settings.host is not None
    code, greeting = client.connect(settings.host, settings.port)
    if code != 220:
        raise MailFailure("connect", f"the server did not greet ({code} {greeting.decode(errors='replace')})")
    client.ehlo()
    if settings.security == "starttls":
        if not client.has_extn("starttls"):
            raise MailFailure("tls", "the server does not offer STARTTLS; nothing is sent in the clear")
        try:
            client.starttls(context=tls)
        except (ssl.SSLError, OSError, ValueError, smtplib.SMTPException) as failed:
            raise MailFailure("tls", f"STARTTLS with {settings.host} failed ({failed})") from None
        client.ehlo()
    if settings.user:
        try:
            client.login(settings.user, settings.password or "")
        except smtplib.SMTPAuthenticationError as refused:
            raise MailFailure("auth", f"the server refused the user and password ({refused.smtp_code})") from None
        except smtplib.SMTPNotSupportedError:
            raise MailFailure("auth", "the server offers no authentication (AUTH) after TLS") from None
        except smtplib.SMTPException as refused:
            raise MailFailure("auth", f"authentication failed ({refused})") from None
    try:
        client.send_message(mail)
    except smtplib.SMTPRecipientsRefused as refused:
        codes = ", ".join(str(code) for code, _ in refused.recipients.values())
        raise MailFailure("refused", f"the server refused the recipient ({codes})") from None
    except smtplib.SMTPSenderRefused as refused:
        raise MailFailure("refused", f"the server refused the sender ({refused.smtp_code})") from None
    except smtplib.SMTPDataError as refused:
        raise MailFailure("refused", f"the server refused the message ({refused.smtp_code})") from None
