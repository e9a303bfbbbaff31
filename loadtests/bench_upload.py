"""Upload benchmark: a large evidence file through a running server over loopback.

Run: make bench-upload   (or: .venv/bin/python loadtests/bench_upload.py [--mib 1024] [--roundtrip-mib 300])

Starts `intake serve` on a fresh demo instance (SQLite unless --database-url), streams a
multipart upload of --mib MiB through the JSON API without ever holding it in memory,
and prints upload MB/s and the server's resident memory: idle, peak (VmHWM) and the
growth between them. Then it files a --roundtrip-mib file, downloads it as the officer
and checks SHA-256 equality, printing download MB/s.
"""

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.server import init_demo, officer_login, serving

BOUNDARY = "benchboundary1f3e"
PIECE = 1024 * 1024


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found")


def server_pid(port: int) -> int:
    """The pid listening on `port` (the uvicorn process started by `intake serve`)."""
    inode_hex = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                inode_hex = fields[9]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode_hex}]":
                    return int(pid)
        except OSError:
            continue
    raise RuntimeError("server process not found")


def body(mib: int, digest) -> iter:
    report = json.dumps({"concerns": ["misconduct"], "description": "benchmark", "answers": {}})
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="clean_metadata"\r\n\r\noff\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="report"\r\n\r\n{report}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="evidence.bin"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    block = os.urandom(PIECE)
    for i in range(mib):
        piece = block[i % 251 :] + block[: i % 251]  # every MiB differs, none is regenerated
        digest.update(piece)
        yield piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(base: str, mib: int) -> tuple[dict, float, str]:
    digest = hashlib.sha256()
    start = time.perf_counter()
    response = httpx.post(
        base + "/api/v1/reports",
        content=body(mib, digest),
        timeout=600,
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}", "x-intake-client": "bench"},
    )
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return response.json(), elapsed, digest.hexdigest()


def download(base: str, officer: dict, case_id: str) -> tuple[float, str]:
    headers = officer_login(base, officer)
    (listed,) = httpx.get(f"{base}/api/v1/officer/cases/{case_id}", headers=headers).json()["files"]
    digest = hashlib.sha256()
    start = time.perf_counter()
    with httpx.stream(
        "GET", f"{base}/api/v1/officer/cases/{case_id}/files/{listed['id']}", headers=headers, timeout=600
    ) as response:
        response.raise_for_status()
        for piece in response.iter_bytes(PIECE):
            digest.update(piece)
    return time.perf_counter() - start, digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--roundtrip-mib", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    env = {
        "INTAKE_DATABASE_URL": args.database_url,
        "INTAKE_MAX_FILE_MIB": str(max(args.mib, args.roundtrip_mib) + 1),
        "INTAKE_MAX_REPORT_MIB": str(max(args.mib, args.roundtrip_mib) + 1),
    }
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        credentials = init_demo(Path(tmp) / "var", env, cheap=os.environ.get("BENCH_CHEAP") == "1")
        oig = next(o for o in credentials["officers"] if o["office"] == "OIG")
        with serving(Path(tmp) / "var", env) as base:
            pid = server_pid(int(base.rsplit(":", 1)[1]))
            upload(base, 1)  # warm up: imports, first Argon2, first blob
            idle = memory_kib(pid, "VmRSS")
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            _, elapsed, _ = upload(base, args.mib)
            peak = memory_kib(pid, "VmHWM")
            filed, _, sent_digest = upload(base, args.roundtrip_mib)
            down_elapsed, got_digest = download(base, oig, filed["cases"][0]["id"])
    mb = args.mib * PIECE / 1e6
    print(f"upload {args.mib} MiB over loopback: {elapsed:.1f} s, {mb / elapsed:.0f} MB/s")
    print(f"server RSS: idle {idle / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB, growth {(peak - idle) / 1024:.0f} MiB")
    print(
        f"round trip {args.roundtrip_mib} MiB: download {args.roundtrip_mib * PIECE / 1e6 / down_elapsed:.0f} MB/s, "
        f"SHA-256 {'equal' if sent_digest == got_digest else 'DIFFERENT'} ({got_digest[:16]}...)"
    )
    if sent_digest != got_digest:
        sys.exit(1)


if __name__ == "__main__":
    main()
