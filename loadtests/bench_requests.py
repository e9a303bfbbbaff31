"""Request-cost benchmark: CPU per request, in the server and in PostgreSQL, outside Argon2.

Run: make bench-requests   (or: .venv/bin/python loadtests/bench_requests.py [--requests 300]
                             [--databases postgresql sqlite] [--instructions])

bench_load's ratio tells how close the server comes to the Argon2 bound, but this host's speed
drifts by more than a change of a few percent makes, so it cannot show one. This counts what
such a change moves: for each request a reporter's visit and an officer's triage make, the CPU
seconds the server's processes and PostgreSQL's processes used (read from the kernel), divided by
the number of requests, one request at a time against `intake serve` with Argon2 cheapened
(time cost 1, 1 MiB: the login row still holds that much of it). Repeatable to about 5% on a
quiet host.

With --instructions (make bench-instructions), the server runs under valgrind's callgrind and each
row is the instructions the server's process executed per request, counted only while that kind of
request runs: the same from one run to the next within about 2%, however busy the host (a CPU
second is not: on a shared host it stretches with what the neighbours do). 30 requests are enough.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from loadtests.bench_load import LOAD_TEST_BUDGETS, fresh_database, postgres_processes, process_cpu_seconds, server_pids
from tests.server import init_demo, officer_login, server_process

REPORT = {"concerns": ["misconduct"], "description": "Load test report: the supplier invoices were inflated.", "answers": {}}


class Callgrind:
    """The server under valgrind's callgrind, instrumented only while a kind of request runs."""

    def __init__(self, out_dir: Path) -> None:
        self.out = out_dir / "callgrind.out"
        self.wrapper = ("valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={self.out}.%p")

    def count(self, pid: int, requests: Callable[[], None]) -> int:
        """Instructions the process executed while `requests` ran."""
        subprocess.run(["callgrind_control", "--instr=on", str(pid)], check=True, capture_output=True)
        requests()
        subprocess.run(["callgrind_control", "--instr=off", str(pid)], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "--dump", str(pid)], check=True, capture_output=True)
        for _ in range(100):  # the server's process writes the dump a moment after the command returns
            dumps = sorted(self.out.parent.glob(f"{self.out.name}.{pid}.*"), key=lambda p: int(p.suffix[1:]))
            totals = [line for line in dumps[-1].read_text().splitlines() if line.startswith("totals:")] if dumps else []
            if totals:
                dumps[-1].unlink()  # so that the next count reads its own
                return int(totals[0].split()[1])
            time.sleep(0.1)
        raise RuntimeError("callgrind wrote no dump")


def run(database: str, requests: int, admin_url: str, instructions: bool = False) -> None:
    url = fresh_database(admin_url, "intake_bench") if database == "postgresql" else ""
    env = {"INTAKE_DATABASE_URL": url, **LOAD_TEST_BUDGETS}
    print(f"\n{database}: {requests} requests of each kind, one at a time")
    print(f"{'request':<16}{'M instructions':>15}" if instructions else f"{'request':<16}{'server ms':>11}{'database ms':>13}")
    with tempfile.TemporaryDirectory(prefix="intake-requests-") as tmp:
        data_dir = Path(tmp) / "var"
        credentials = {o["office"]: o for o in init_demo(data_dir, env, cheap=True)["officers"]}
        callgrind = Callgrind(Path(tmp)) if instructions else None
        # Python's own allocator hides its memory from valgrind: the system's is used under it.
        serve_env = {**env, "PYTHONMALLOC": "malloc"} if callgrind else env
        # Under valgrind a request runs some 50 times slower, more on a busy host.
        wrapper, start_seconds = (callgrind.wrapper, 300) if callgrind else ((), 30)
        with (
            server_process(data_dir, serve_env, wrapper=wrapper, start_seconds=start_seconds) as server,
            httpx.Client(base_url=server.base, timeout=600 if callgrind else 120) as client,
        ):
            server_side = [psutil.Process(pid) for pid in server_pids(server.process.pid)]

            def measure(name: str, request: Callable[[int], httpx.Response]) -> None:
                request(requests).raise_for_status()  # warm (an index the loop does not use): statements prepared

                def every_one() -> None:
                    for i in range(requests):
                        request(i).raise_for_status()

                if callgrind:
                    print(f"{name:<16}{callgrind.count(server.process.pid, every_one) / requests / 1e6:>15.2f}", flush=True)
                    return
                # PostgreSQL's processes now: the backends of the server's pooled connections are among them.
                database_side = postgres_processes() if database == "postgresql" else []
                server_before, database_before = process_cpu_seconds(server_side), process_cpu_seconds(database_side)
                every_one()
                server_ms = 1000 * (process_cpu_seconds(server_side) - server_before) / requests
                database_ms = 1000 * (process_cpu_seconds(database_side) - database_before) / requests
                print(f"{name:<16}{server_ms:>11.2f}{database_ms:>13.2f}")

            passphrases = [client.post("/api/v1/reports", json=REPORT).json()["passphrase"] for _ in range(50)]
            measure("file report", lambda i: client.post("/api/v1/reports", json=REPORT))
            tokens: list[str] = []

            def log_in(i: int) -> httpx.Response:
                response = client.post("/api/v1/caseroom/session", json={"passphrase": passphrases[i % 50]})
                tokens.append(response.json()["token"])
                return response

            measure("case-room login", log_in)
            rooms = [{"Authorization": f"Bearer {token}"} for token in tokens]
            case_ids = [client.get("/api/v1/caseroom", headers=h).json()["cases"][0]["id"] for h in rooms]
            measure("case room", lambda i: client.get("/api/v1/caseroom", headers=rooms[i]))
            message, room_of = {"body": "Any news?"}, "/api/v1/caseroom/cases/{}/messages"
            measure("message", lambda i: client.post(room_of.format(case_ids[i]), json=message, headers=rooms[i]))
            measure("logout", lambda i: client.delete("/api/v1/caseroom/session", headers=rooms[i]))
            officer = officer_login(server.base, credentials["OIG"])
            measure("inbox", lambda i: client.get("/api/v1/officer/cases", headers=officer))
            cases = [c["id"] for c in client.get("/api/v1/officer/cases", headers=officer).json()["cases"]]
            measure("open case", lambda i: client.get(f"/api/v1/officer/cases/{cases[i % len(cases)]}", headers=officer))
            reply = {"body": "We are looking into it."}
            measure(
                "officer reply",
                lambda i: client.post(f"/api/v1/officer/cases/{cases[i % len(cases)]}/messages", json=reply, headers=officer),
            )
            measure("home page", lambda i: client.get("/"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--databases", nargs="+", default=["postgresql", "sqlite"], choices=["postgresql", "sqlite"])
    parser.add_argument("--instructions", action="store_true", help="count the server's instructions under callgrind")
    args = parser.parse_args()
    for database in args.databases:
        run(database, args.requests, args.admin_url, args.instructions)
    if args.instructions:
        print("\nM instructions = millions of instructions the server's process executed per request (callgrind)")
    else:
        print("\nserver = CPU of the intake serve processes; database = CPU of PostgreSQL's (SQLite runs inside the server)")


if __name__ == "__main__":
    main()
