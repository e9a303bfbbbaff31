"""A PostgreSQL cluster of our own, in a temporary directory, on a free loopback port: one a test
can stop, kill and start again without touching the machine's server (which others use).

Made with the server's own tools (initdb, pg_ctl, pg_basebackup from PG_BIN), run as the
`postgres` user when we are root (PostgreSQL refuses to run as root). Trust authentication on
loopback only; nothing listens elsewhere. Used by tests/test_database_outage.py and by the
failover check (loadtests/failover.py), which also makes streaming standbys of it.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psutil
import psycopg

from .server import free_port

PG_BIN = Path(os.environ.get("INTAKE_PG_BIN", "/usr/lib/postgresql/15/bin"))
# Enough for a test and a failover run on a small machine; fsync stays on (the failover check
# counts on what was acknowledged being on disk).
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "60",
    "shared_buffers": "32MB",
    "wal_level": "replica",
    "max_wal_senders": "4",
    "wal_keep_size": "64MB",
    "hot_standby": "on",
    "logging_collector": "off",
}


def available() -> bool:
    return (PG_BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser") is not None)


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120, **kwargs)


def workspace(prefix: str = "intake-pg-") -> Path:
    """A directory the postgres user may write in (pytest's tmp_path is root's own, 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


class Cluster:
    """One PostgreSQL server: its data directory and port. `start`, `stop`, `kill` (as a crash)."""

    def __init__(self, root: Path, name: str, port: int | None = None) -> None:
        self.root = root
        self.data = root / name
        self.port = port or free_port()

    def init(self, settings: dict[str, str] | None = None) -> "Cluster":
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "-N"])
        self._configure({**SETTINGS, **(settings or {})})
        return self

    def standby_of(self, primary: "Cluster") -> "Cluster":
        """A streaming standby copied from `primary` (pg_basebackup -R writes its primary_conninfo)."""
        source = ["-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"]
        _as_postgres([str(PG_BIN / "pg_basebackup"), *source, "-D", str(self.data), "-R", "-X", "stream", "-c", "fast"])
        return self

    def _configure(self, settings: dict[str, str]) -> None:
        lines = [f"{key} = '{value}'" for key, value in settings.items()]
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n" + "\n".join(lines) + "\n")

    def start(self) -> "Cluster":
        options = f"-p {self.port} -c unix_socket_directories={self.root}"
        log = str(self.root / f"{self.data.name}.log")
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start"])
        return self

    def stop(self, mode: str = "fast") -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def kill(self) -> None:
        """SIGKILL to the postmaster and every process of the cluster at once: a machine gone, not a shutdown."""
        postmaster = psutil.Process(int((self.data / "postmaster.pid").read_text().split()[0]))
        every = [postmaster, *postmaster.children()]
        for process in every:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        psutil.wait_procs(every, timeout=10)

    def promote(self) -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "promote"])

    def running(self) -> bool:
        ready = subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"], check=False)
        return ready.returncode == 0

    def execute(self, sql: str, database: str = "postgres") -> list[tuple]:
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname={database}", autocommit=True) as db:
            cursor = db.execute(sql)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.data, ignore_errors=True)
