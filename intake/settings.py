"""Where an instance lives and what it is configured with.

Two sources, on purpose kept apart:
- `instance.json` in the data directory: the instance's own secrets and the Argon2
  parameters, made once by `intake init`. Changing the Argon2 parameters after reports
  exist would lock every reporter out, so they live with the salt, not in the environment.
- the environment (INTAKE_*): how this process runs (database URL, Argon2 concurrency,
  cookie security, its addresses), which may differ between machines running one instance.
"""

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crypto import PRODUCTION_ARGON2, Argon2Params, generate_signing_key

INSTANCE_FILE = "instance.json"
MiB = 1024 * 1024
GiB = 1024 * MiB
INSTANCE_FORMAT = 1


@dataclass(frozen=True)
class Instance:
    """The secrets of one installation. Kept in the data directory, never in the database."""

    instance_salt: bytes
    lookup_key: bytes
    audit_signing_seed: bytes
    audit_verify_key: bytes
    cookie_secret: str
    argon2: Argon2Params

    @classmethod
    def create(cls, argon2: Argon2Params = PRODUCTION_ARGON2) -> "Instance":
        seed, verify_key = generate_signing_key()
        return cls(
            instance_salt=secrets.token_bytes(16),
            lookup_key=secrets.token_bytes(32),
            audit_signing_seed=seed,
            audit_verify_key=verify_key,
            cookie_secret=secrets.token_urlsafe(32),
            argon2=argon2,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": INSTANCE_FORMAT,
                "instance_salt": self.instance_salt.hex(),
                "lookup_key": self.lookup_key.hex(),
                "audit_signing_seed": self.audit_signing_seed.hex(),
                "audit_verify_key": self.audit_verify_key.hex(),
                "cookie_secret": self.cookie_secret,
                "argon2": {
                    "time_cost": self.argon2.time_cost,
                    "memory_kib": self.argon2.memory_kib,
                    "parallelism": self.argon2.parallelism,
                },
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> "Instance":
        data = json.loads(text)
        if data.get("format") != INSTANCE_FORMAT:
            raise ValueError(f"{INSTANCE_FILE}: unknown format {data.get('format')!r}")
        return cls(
            instance_salt=bytes.fromhex(data["instance_salt"]),
            lookup_key=bytes.fromhex(data["lookup_key"]),
            audit_signing_seed=bytes.fromhex(data["audit_signing_seed"]),
            audit_verify_key=bytes.fromhex(data["audit_verify_key"]),
            cookie_secret=data["cookie_secret"],
            argon2=Argon2Params(**data["argon2"]),
        )


MAIL_SECURITY = ("starttls", "tls")  # never plain: an officer's address and the mail go over TLS or not at all


@dataclass(frozen=True)
class MailSettings:
    """How notification digests are sent (INTAKE_SMTP_*, INTAKE_NOTIFY_*). No host: notifications are off.

    Certificates are always checked: `ca_file` replaces the system's trusted authorities with
    the ones in that file (a private mail server's CA, or the tests' own), it never turns the check off.
    """

    host: str | None = None
    port: int = 587
    security: str = "starttls"  # starttls (submission, port 587) or tls (implicit TLS, port 465)
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str | None = None
    ca_file: str | None = None
    timeout_seconds: float = 30.0
    # The digest's period, and the most a digest waits past the start of its period (a random delay,
    # new for each digest): the mail's time then says nothing of when anything arrived.
    interval_minutes: int = 24 * 60
    max_delay_minutes: int = 120
    # Also send a digest that has nothing to say: a mail every period then tells no one whether anything came in.
    send_when_quiet: bool = False

    @classmethod
    def from_env(cls, env: "os._Environ[str] | dict[str, str]") -> "MailSettings":
        security = (env.get("INTAKE_SMTP_SECURITY") or "starttls").lower()
        password = env.get("INTAKE_SMTP_PASSWORD") or None
        password_file = env.get("INTAKE_SMTP_PASSWORD_FILE")
        if password_file:  # systemd credentials or a container secret: the password stays out of the environment
            password = Path(password_file).read_text(encoding="utf-8").rstrip("\n")
        return cls(
            host=env.get("INTAKE_SMTP_HOST") or None,
            port=int(env.get("INTAKE_SMTP_PORT") or (465 if security == "tls" else 587)),
            security=security,
            user=env.get("INTAKE_SMTP_USER") or None,
            password=password,
            sender=env.get("INTAKE_SMTP_FROM") or None,
            ca_file=env.get("INTAKE_SMTP_CA_FILE") or None,
            timeout_seconds=float(env.get("INTAKE_SMTP_TIMEOUT_SECONDS") or 30),
            interval_minutes=int(env.get("INTAKE_NOTIFY_INTERVAL_MINUTES") or 24 * 60),
            max_delay_minutes=int(env.get("INTAKE_NOTIFY_MAX_DELAY_MINUTES") or 120),
            send_when_quiet=(env.get("INTAKE_NOTIFY_WHEN_QUIET") or "").lower() in {"1", "true", "yes"},
        )

    def problems(self) -> list[str]:
        """What keeps this configuration from sending, in the operator's words (empty: it can try)."""
        found = []
        if not self.host:
            found.append("INTAKE_SMTP_HOST is not set: notifications are off")
        if not self.sender:
            found.append("INTAKE_SMTP_FROM (the sender's address) is not set")
        if self.security not in MAIL_SECURITY:
            found.append(f"INTAKE_SMTP_SECURITY must be one of {', '.join(MAIL_SECURITY)}, not {self.security!r}")
        if bool(self.user) != bool(self.password):
            found.append("INTAKE_SMTP_USER and INTAKE_SMTP_PASSWORD (or _FILE) go together")
        if self.interval_minutes < 1 or self.max_delay_minutes < 0 or self.max_delay_minutes >= self.interval_minutes:
            found.append("INTAKE_NOTIFY_MAX_DELAY_MINUTES must be at least 0 and less than INTAKE_NOTIFY_INTERVAL_MINUTES")
        return found


def _number(env: Mapping[str, str], name: str, default: float, kind: type = int) -> Any:
    """An INTAKE_* number, or ValueError naming the variable (not Python's "invalid literal for int()")."""
    value = env.get(name)
    if not value:
        return kind(default)
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"{name} is {value!r}: it must be a {'whole ' if kind is int else ''}number") from None


def check_database_url(url: str) -> str:
    """A URL of a database this runs on (PostgreSQL or SQLite), or ValueError saying what one looks like."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme.split("+", 1)[0] not in {"postgresql", "sqlite"}:
        raise ValueError(
            "the database URL is not one this can use: give postgresql://USER@HOST/DATABASE, "
            "or sqlite:///PATH (the default, in the data directory)"
        )
    return url


BLOB_STORES = ("filesystem", "database")


def blob_store_kind(value: str, database_url: str) -> str:
    if value not in BLOB_STORES:
        raise ValueError(f"INTAKE_BLOBS is {value!r}: it is one of {', '.join(BLOB_STORES)}")
    if value == "database" and not database_url.startswith("postgresql"):
        raise ValueError("INTAKE_BLOBS=database needs PostgreSQL (INTAKE_DATABASE_URL); on SQLite keep the filesystem store")
    return value


@dataclass(frozen=True)
class Settings:
    """How this process runs one instance."""

    data_dir: Path
    database_url: str
    argon2_concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)
    argon2_wait_seconds: float = 10.0
    secure_cookies: bool = False
    officer_idle_minutes: int = 30
    # Long enough to write a message over Tor after reading a reply; a lost cookie loses no words anyway.
    reporter_idle_minutes: int = 120
    upload_idle_seconds: float = 60.0  # a request body that sends nothing for this long is dropped
    cleaning_rooms: int = 4  # files held in memory (tmpfs) for metadata removal at once, per process
    storage_quota_bytes: int = 200 * 2**30  # all stored files together
    min_free_bytes: int = 2 * 2**30  # free space the blob store's disk always keeps
    session_absolute_minutes: int = 12 * 60
    max_file_bytes: int = 500 * MiB
    max_report_bytes: int = 2 * GiB
    max_files_per_message: int = 20
    max_clean_bytes: int = 256 * MiB
    policy_file: str | None = None
    # Where reporters come back (an onion address, say), printed with the passphrase; else the address they used.
    public_address: str | None = None
    # This instance's onion service, as Tor wrote it in the service's `hostname` file: requests to it are
    # "on the onion" (intake/web/onion.py), the only thing that decides their cookies, quick exit and headers.
    onion_address: str | None = None
    submissions_per_hour: int = 1000
    messages_per_case_per_day: int = 100
    openings_per_case_room_per_hour: int = 30
    mail: MailSettings = field(default_factory=MailSettings)
    # Where encrypted files are kept: "filesystem" (the data directory's blobs/, this machine only) or
    # "database" (PostgreSQL: what several machines serving one instance need; database_blobs.py).
    blobs: str = "filesystem"
    blob_connections: int = 8  # database blob store: uploads streaming at once, per process

    @classmethod
    def from_env(cls, data_dir: str | os.PathLike | None = None, database_url: str | None = None) -> "Settings":
        directory = Path(data_dir or os.environ.get("INTAKE_DATA_DIR") or "var").resolve()
        url = check_database_url(
            database_url or os.environ.get("INTAKE_DATABASE_URL") or f"sqlite:///{directory / 'intake.sqlite3'}"
        )
        env = os.environ
        return cls(
            data_dir=directory,
            database_url=url,
            # The addresses first: a placeholder left in a deploy file is the likeliest mistake, and is named.
            onion_address=onion_address(env.get("INTAKE_ONION_ADDRESS")),
            public_address=public_address(env.get("INTAKE_PUBLIC_ADDRESS")),
            argon2_concurrency=_number(env, "INTAKE_ARGON2_CONCURRENCY", os.cpu_count() or 1),
            argon2_wait_seconds=_number(env, "INTAKE_ARGON2_WAIT_SECONDS", 10.0, float),
            secure_cookies=env.get("INTAKE_SECURE_COOKIES", "").lower() in {"1", "true", "yes"},
            max_file_bytes=_number(env, "INTAKE_MAX_FILE_MIB", 500) * MiB,
            max_report_bytes=_number(env, "INTAKE_MAX_REPORT_MIB", 2048) * MiB,
            max_files_per_message=_number(env, "INTAKE_MAX_FILES_PER_MESSAGE", 20),
            max_clean_bytes=_number(env, "INTAKE_MAX_CLEAN_MIB", 256) * MiB,
            policy_file=env.get("INTAKE_POLICY_FILE") or None,
            reporter_idle_minutes=_number(env, "INTAKE_REPORTER_IDLE_MINUTES", 120),
            upload_idle_seconds=_number(env, "INTAKE_UPLOAD_IDLE_SECONDS", 60, float),
            cleaning_rooms=_number(env, "INTAKE_CLEANING_ROOMS", 4),
            storage_quota_bytes=_number(env, "INTAKE_STORAGE_QUOTA_GIB", 200) * 2**30,
            min_free_bytes=_number(env, "INTAKE_MIN_FREE_GIB", 2) * 2**30,
            officer_idle_minutes=_number(env, "INTAKE_OFFICER_IDLE_MINUTES", 30),
            submissions_per_hour=_number(env, "INTAKE_SUBMISSIONS_PER_HOUR", 1000),
            messages_per_case_per_day=_number(env, "INTAKE_MESSAGES_PER_CASE_PER_DAY", 100),
            openings_per_case_room_per_hour=_number(env, "INTAKE_OPENINGS_PER_CASE_ROOM_PER_HOUR", 30),
            blobs=blob_store_kind(env.get("INTAKE_BLOBS") or "filesystem", url),
            blob_connections=_number(env, "INTAKE_BLOB_CONNECTIONS", 8),
            mail=MailSettings.from_env(env),
        )

    @property
    def onion_url(self) -> str | None:
        """The onion service's root, as a reporter types it into Tor Browser."""
        return f"http://{self.onion_address}/" if self.onion_address else None

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def instance_path(self) -> Path:
        return self.data_dir / INSTANCE_FILE

    def load_instance(self) -> Instance:
        try:
            return Instance.from_json(self.instance_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SystemExit(f"no instance in {self.data_dir}: run `intake init` first") from None

    def write_instance(self, instance: Instance) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.instance_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(instance.to_json())


# A v3 onion address: 32 bytes of key, 2 of checksum and the version (3) in base32, so 56 characters
# ending in "d" (Tor's rend-spec-v3, "Encoding onion addresses"). Tor checks the checksum; a shape
# check is enough to refuse a placeholder or a v2 address before a reporter is ever shown one.
ONION_V3 = re.compile(r"[a-z2-7]{55}d\.onion")


def onion_address(value: str | None) -> str | None:
    """INTAKE_ONION_ADDRESS, checked: a deployment that names its onion wrongly would serve its onion
    visitors cookies their browsers never send back, so it does not start."""
    if not value:
        return None
    host = value.strip().lower()
    if not ONION_V3.fullmatch(host):
        raise SystemExit(
            f"INTAKE_ONION_ADDRESS must be the onion service's address as Tor wrote it in the service's "
            f"hostname file (56 letters and digits, then .onion), not {value!r}"
        )
    return host


def public_address(value: str | None) -> str | None:
    """INTAKE_PUBLIC_ADDRESS, checked and ending in "/" (the passphrase page adds the case room's path).
    It is printed for reporters to come back to, so a placeholder or a malformed onion stops start-up."""
    if not value:
        return None
    url = urlsplit(value.strip())
    host = url.hostname or ""
    if url.scheme not in ("http", "https") or not host or (host.endswith(".onion") and not ONION_V3.fullmatch(host)):
        raise SystemExit(
            f"INTAKE_PUBLIC_ADDRESS must be the address reporters come back to (http://... or https://...), not {value!r}"
        )
    return value.strip().rstrip("/") + "/"
