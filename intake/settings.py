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
from dataclasses import dataclass, field
from pathlib import Path
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

    @classmethod
    def from_env(cls, data_dir: str | os.PathLike | None = None, database_url: str | None = None) -> "Settings":
        directory = Path(data_dir or os.environ.get("INTAKE_DATA_DIR") or "var").resolve()
        url = database_url or os.environ.get("INTAKE_DATABASE_URL") or f"sqlite:///{directory / 'intake.sqlite3'}"
        env = os.environ
        return cls(
            data_dir=directory,
            database_url=url,
            # The addresses first: a placeholder left in a deploy file is the likeliest mistake, and is named.
            onion_address=onion_address(env.get("INTAKE_ONION_ADDRESS")),
            public_address=public_address(env.get("INTAKE_PUBLIC_ADDRESS")),
            argon2_concurrency=int(env.get("INTAKE_ARGON2_CONCURRENCY") or os.cpu_count() or 1),
            argon2_wait_seconds=float(env.get("INTAKE_ARGON2_WAIT_SECONDS") or 10.0),
            secure_cookies=env.get("INTAKE_SECURE_COOKIES", "").lower() in {"1", "true", "yes"},
            max_file_bytes=int(env.get("INTAKE_MAX_FILE_MIB") or 500) * MiB,
            max_report_bytes=int(env.get("INTAKE_MAX_REPORT_MIB") or 2048) * MiB,
            max_files_per_message=int(env.get("INTAKE_MAX_FILES_PER_MESSAGE") or 20),
            max_clean_bytes=int(env.get("INTAKE_MAX_CLEAN_MIB") or 256) * MiB,
            policy_file=env.get("INTAKE_POLICY_FILE") or None,
            reporter_idle_minutes=int(env.get("INTAKE_REPORTER_IDLE_MINUTES") or 120),
            upload_idle_seconds=float(env.get("INTAKE_UPLOAD_IDLE_SECONDS") or 60),
            cleaning_rooms=int(env.get("INTAKE_CLEANING_ROOMS") or 4),
            storage_quota_bytes=int(env.get("INTAKE_STORAGE_QUOTA_GIB") or 200) * 2**30,
            min_free_bytes=int(env.get("INTAKE_MIN_FREE_GIB") or 2) * 2**30,
            officer_idle_minutes=int(env.get("INTAKE_OFFICER_IDLE_MINUTES") or 30),
            submissions_per_hour=int(env.get("INTAKE_SUBMISSIONS_PER_HOUR") or 1000),
            messages_per_case_per_day=int(env.get("INTAKE_MESSAGES_PER_CASE_PER_DAY") or 100),
            openings_per_case_room_per_hour=int(env.get("INTAKE_OPENINGS_PER_CASE_ROOM_PER_HOUR") or 30),
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
