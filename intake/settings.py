"""Where an instance lives and what it is configured with.

Two sources, on purpose kept apart:
- `instance.json` in the data directory: the instance's own secrets and the Argon2
  parameters, made once by `intake init`. Changing the Argon2 parameters after reports
  exist would lock every reporter out, so they live with the salt, not in the environment.
- the environment (INTAKE_*): how this process runs (database URL, Argon2 concurrency,
  cookie security), which may differ between machines running one instance.
"""

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    submissions_per_hour: int = 1000
    messages_per_case_per_day: int = 100
    openings_per_case_room_per_hour: int = 30
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
            argon2_concurrency=_number(env, "INTAKE_ARGON2_CONCURRENCY", os.cpu_count() or 1),
            argon2_wait_seconds=_number(env, "INTAKE_ARGON2_WAIT_SECONDS", 10.0, float),
            secure_cookies=env.get("INTAKE_SECURE_COOKIES", "").lower() in {"1", "true", "yes"},
            max_file_bytes=_number(env, "INTAKE_MAX_FILE_MIB", 500) * MiB,
            max_report_bytes=_number(env, "INTAKE_MAX_REPORT_MIB", 2048) * MiB,
            max_files_per_message=_number(env, "INTAKE_MAX_FILES_PER_MESSAGE", 20),
            max_clean_bytes=_number(env, "INTAKE_MAX_CLEAN_MIB", 256) * MiB,
            policy_file=env.get("INTAKE_POLICY_FILE") or None,
            public_address=env.get("INTAKE_PUBLIC_ADDRESS") or None,
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
        )

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
