"""Blob store benchmark: the directory store against the database store, on one PostgreSQL.

Run: make bench-blobs   (or: .venv/bin/python loadtests/bench_blobs.py --database-url URL [--gib 1] [--file-mib 256])

For each store (INTAKE_BLOBS=filesystem, then database) it empties the database, makes a demo
instance, starts `intake serve`, uploads --gib GiB of evidence as --file-mib MiB files through
the JSON API over loopback, then downloads one file as the officer. It prints upload and download
MB/s, the server's peak memory growth, and what the files took: the blob directory's size, or
the growth of the blob_chunk table (pg_total_relation_size) and the WAL written meanwhile (what a
streaming standby receives too). The database given is emptied: never point it at real data.

Measured (2 shared cores, PostgreSQL 15 on the same machine, 4 files of 256 MiB):
  filesystem: upload 74 MB/s, download 77-109 MB/s; blob directory +1,088 MiB
  database:   upload 50 MB/s, download 75 MB/s; blob_chunk +1,131 MiB, WAL 1,165 MiB; RSS +4 MiB
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from intake.store import make_engine
from loadtests.bench_upload import PIECE, download, memory_kib, server_pid, upload
from tests.schema import drop_schema
from tests.server import init_demo, serving


def database_bytes(url: str) -> tuple[int, int]:
    """(the blob_chunk table's size with its TOAST and index, the WAL position) in bytes."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            exists = connection.exec_driver_sql("SELECT to_regclass('blob_chunk')").scalar()
            size = connection.exec_driver_sql("SELECT pg_total_relation_size('blob_chunk')").scalar() if exists else 0
            wal = connection.exec_driver_sql("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").scalar()
        return int(size or 0), int(wal)
    finally:
        engine.dispose()


def directory_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def run(store: str, url: str, gib: int, file_mib: int) -> dict:
    engine = make_engine(url)
    drop_schema(engine)
    engine.dispose()
    files = max(1, gib * 1024 // file_mib)
    env = {
        "INTAKE_DATABASE_URL": url,
        "INTAKE_BLOBS": store,
        "INTAKE_MAX_FILE_MIB": str(file_mib + 1),
        "INTAKE_MAX_REPORT_MIB": str(file_mib + 1),
    }
    with tempfile.TemporaryDirectory(prefix="intake-bench-blobs-") as tmp:
        data_dir = Path(tmp) / "var"
        credentials = init_demo(data_dir, env)
        oig = next(o for o in credentials["officers"] if o["office"] == "OIG")
        with serving(data_dir, env) as base:
            pid = server_pid(int(base.rsplit(":", 1)[1]))
            upload(base, 1)  # warm up: imports, first Argon2, first blob
            idle = memory_kib(pid, "VmRSS")
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            table_before, wal_before = database_bytes(url)
            disk_before = directory_bytes(data_dir / "blobs")
            elapsed, last = 0.0, None
            for _ in range(files):
                last, seconds, sent = upload(base, file_mib)
                elapsed += seconds
            peak = memory_kib(pid, "VmHWM")
            table_after, wal_after = database_bytes(url)
            disk_after = directory_bytes(data_dir / "blobs")
            down, got = download(base, oig, last["cases"][0]["id"])
    mib = files * file_mib
    return {
        "store": store,
        "uploaded_mib": mib,
        "upload_mb_s": mib * PIECE / 1e6 / elapsed,
        "download_mb_s": file_mib * PIECE / 1e6 / down,
        "same": got == sent,
        "rss_growth_mib": (peak - idle) / 1024,
        "table_growth_mib": (table_after - table_before) / 2**20,
        "wal_mib": (wal_after - wal_before) / 2**20,
        "directory_growth_mib": (disk_after - disk_before) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--gib", type=int, default=1)
    parser.add_argument("--file-mib", type=int, default=256)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        sys.exit("give --database-url postgresql://... (or BENCH_DATABASE_URL): a database this may empty")
    for store in ("filesystem", "database"):
        r = run(store, args.database_url, args.gib, args.file_mib)
        print(
            f"{r['store']:>10}: upload {r['uploaded_mib']} MiB at {r['upload_mb_s']:.0f} MB/s, "
            f"download {args.file_mib} MiB at {r['download_mb_s']:.0f} MB/s "
            f"(SHA-256 {'equal' if r['same'] else 'DIFFERENT'}); server RSS growth {r['rss_growth_mib']:.0f} MiB; "
            f"blob directory +{r['directory_growth_mib']:.0f} MiB, blob_chunk +{r['table_growth_mib']:.0f} MiB, "
            f"WAL {r['wal_mib']:.0f} MiB",
            flush=True,
        )
        if not r["same"]:
            sys.exit(1)


if __name__ == "__main__":
    main()
