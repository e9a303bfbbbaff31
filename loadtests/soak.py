"""Soak run: mixed load for a while, then every passphrase the service handed out must
still open its case room. Zero lost, or it exits 1.

Run: make soak   (or: .venv/bin/python loadtests/soak.py [--minutes 10] [--users 8])
"""

import argparse
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from loadtests.bench_load import LOAD_TEST_BUDGETS, fresh_database, locust, peak_rss_mib, server_pids
from tests.server import init_demo, officer_login, server_process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    url = fresh_database(args.admin_url, "intake_soak")
    env = {
        "INTAKE_DATABASE_URL": url,
        "INTAKE_ARGON2_WAIT_SECONDS": "30",
        **LOAD_TEST_BUDGETS,
        "INTAKE_ARGON2_CONCURRENCY": str((os.cpu_count() or 1) + 1),
    }
    with tempfile.TemporaryDirectory(prefix="intake-soak-") as tmp:
        tmp = Path(tmp)
        credentials = {o["office"]: o for o in init_demo(tmp / "var", env, cheap=False)["officers"]}
        recorded = tmp / "passphrases.txt"
        recorded.touch()
        with server_process(tmp / "var", env) as server:
            pids = server_pids(server.process.pid)
            # Seed some passphrases so returning reporters have somewhere to go from the start.
            locust(server.base, 2, 10, ["SubmittingReporter"], {"LOCUST_RECORD": str(recorded)}, tmp / "seed")
            rows = locust(
                server.base,
                args.users,
                int(args.minutes * 60),
                ["SubmittingReporter", "ReturningReporter", "TriagingOfficer"],
                {
                    "LOCUST_RECORD": str(recorded),
                    "LOCUST_PASSPHRASES": str(recorded),
                    "LOCUST_OFFICER_TOKEN": officer_login(server.base, credentials["OIG"])["Authorization"].split()[1],
                },
                tmp / "soak",
            )
            given = [line.strip() for line in recorded.read_text().splitlines() if line.strip()]

            def opens(passphrase: str) -> bool:
                response = httpx.post(server.base + "/api/v1/caseroom/session", json={"passphrase": passphrase}, timeout=60)
                return response.status_code == 201

            with ThreadPoolExecutor(3) as pool:
                results = list(pool.map(opens, given))
            rss = peak_rss_mib(pids)
    total = rows["Aggregated"]
    lost = results.count(False)
    print(
        f"soak {args.minutes:g} min, {args.users} users: {total['Request Count']} requests, {total['Failure Count']} failures, "
        f"p50 {float(total['50%']):.0f} ms, p95 {float(total['95%']):.0f} ms, server peak {rss:.0f} MiB"
    )
    print(f"passphrases given: {len(given)}; still open their case room: {results.count(True)}; lost: {lost}")
    sys.exit(1 if lost or int(total["Failure Count"]) else 0)


if __name__ == "__main__":
    main()
