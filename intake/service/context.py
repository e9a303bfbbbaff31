"""What every service call needs: the database, the instance secrets, the policy, a clock,
and the gate that bounds Argon2."""

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.engine import Engine

from policies import Policy, load_policy

from ..blobs import Blobs, BlobStore
from ..database_blobs import DatabaseBlobStore
from ..settings import Instance, Settings
from ..store import make_engine
from .errors import Busy
from .metadata import CleaningRooms

T = TypeVar("T")


class Argon2Gate:
    """At most `concurrency` Argon2 calls at once in this process.

    Each call takes 64 MiB or more; unbounded, a flood of logins would exhaust memory.
    A caller waits up to `wait_seconds` for a slot, then gets Busy (HTTP 503) instead.
    """

    def __init__(self, concurrency: int, wait_seconds: float) -> None:
        self.concurrency = concurrency
        self.wait_seconds = wait_seconds
        self._slots = threading.BoundedSemaphore(concurrency)

    def run(self, fn: Callable[..., T], *args) -> T:
        with self.slot():
            return fn(*args)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for a block that does one Argon2 call and decides on its outcome
        (a login counts its attempt inside, so waiting callers cannot all be evaluated)."""
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise Busy(retry_after=max(1, round(self.wait_seconds)))
        try:
            yield
        finally:
            self._slots.release()


def open_blobs(settings: Settings, engine: Engine) -> Blobs:
    """The blob store INTAKE_BLOBS names: the data directory's (the default), or the database's."""
    if settings.blobs == "database":
        return DatabaseBlobStore(engine, settings.blob_connections)
    return BlobStore(settings.blob_dir)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Context:
    settings: Settings
    instance: Instance
    engine: Engine
    policy: Policy
    gate: Argon2Gate
    blobs: Blobs
    cleaning: CleaningRooms
    now: Callable[[], dt.datetime] = field(default=utc_now)
    # When this process last deleted expired sessions (sessions.start does it at most once a minute).
    sessions_purged_at: dt.datetime | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "Context":
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            instance=settings.load_instance(),
            engine=engine,
            policy=load_policy(settings.policy_file),
            gate=Argon2Gate(settings.argon2_concurrency, settings.argon2_wait_seconds),
            blobs=open_blobs(settings, engine),
            cleaning=CleaningRooms(settings.cleaning_rooms),
        )

    def today(self) -> dt.date:
        return self.now().date()
