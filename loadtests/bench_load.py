"""Load benchmark: the server under locust, against the Argon2 bound, on PostgreSQL and SQLite.

Run: make bench-load   (or: .venv/bin/python loadtests/bench_load.py [--seconds 30] [--users 8]
                          [--databases postgresql sqlite])

For each database, starts `intake serve` on a fresh demo instance (PostgreSQL: a database of its own)
(production Argon2 parameters), measures Argon2 at those parameters in this same run (alone,
and on every core at once: the bound), then runs locust headless in three phases: reporters filing, reporters
coming back with their passphrases, and a mix with officers triaging. Prints, per phase,
submissions/s, case-room logins/s, p50/p95 latency, errors, the server's peak RSS, and the
Argon2 bound with the ratio achieved / bound, and where the machine's CPU went.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from crypto import derive_reporter_secrets, generate_passphrase
from intake.settings import Settings
from intake.store import make_engine
from loadtests.bench_upload import memory_kib
from tests.schema import drop_schema
from tests.server import init_demo, officer_login, server_process

HERE = Path(__file__).resolve().parent
ARGON2_REQUESTS = ("file report", "file report with file", "case room login")  # one Argon2 call each
# A load test is a flood by design: lift the abuse budgets it would otherwise run into.
LOAD_TEST_BUDGETS = {
    "INTAKE_SUBMISSIONS_PER_HOUR": "10000000",
    "INTAKE_MESSAGES_PER_CASE_PER_DAY": "10000000",
    "INTAKE_OPENINGS_PER_CASE_ROOM_PER_HOUR": "10000000",
}


def fresh_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    drop_schema(engine)
    engine.dispose()
    return url


def argon2_alone(data_dir: Path, calls: int = 16) -> float:
    """Seconds per Argon2 call, one at a time (median)."""
    instance = Settings(data_dir=data_dir, database_url="sqlite://").load_instance()
    phrase, times = generate_passphrase(), []
    for _ in range(calls):
        start = time.perf_counter()
        derive_reporter_secrets(phrase, instance.instance_salt, instance.argon2)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def argon2_bound(data_dir: Path, cores: int, calls: int = 16) -> float:
    """Argon2 calls per second with every core deriving at once, with nothing else running.

    This is the real bound: Argon2 is memory-hard, so calls on both cores share the memory
    bus and each runs slower than alone: cores / (seconds alone) is a ceiling that Argon2
    itself, with no server around it, does not reach.
    """
    instance = Settings(data_dir=data_dir, database_url="sqlite://").load_instance()
    phrase = generate_passphrase()

    def derive(_: int) -> None:
        derive_reporter_secrets(phrase, instance.instance_salt, instance.argon2)

    with ThreadPoolExecutor(cores) as pool:
        list(pool.map(derive, range(cores)))
        start = time.perf_counter()
        list(pool.map(derive, range(calls * cores)))
        return calls * cores / (time.perf_counter() - start)


def peak_rss_mib(pids: list[int]) -> float:
    return sum(memory_kib(pid, "VmHWM") for pid in pids) / 1024


def server_pids(parent: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True, check=False).stdout.split()
    return [parent, *map(int, children)]


def process_cpu_seconds(processes) -> float:
    """CPU seconds (user and system) used so far by these processes; one that has ended counts nothing."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


def postgres_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres", "postmaster")]


def cpu_seconds(pids: list[int]) -> dict[str, float]:
    """CPU seconds used so far: by the server's processes, by PostgreSQL's, by the whole machine, idle."""
    machine = psutil.cpu_times()
    return {
        "server": process_cpu_seconds(psutil.Process(pid) for pid in pids),
        "postgres": process_cpu_seconds(postgres_processes()),
        "busy": sum(machine) - machine.idle - getattr(machine, "iowait", 0.0),
        "idle": machine.idle + getattr(machine, "iowait", 0.0),
    }


def where_it_goes(before: dict, after: dict, argon2_calls: float, per_call: float) -> str:
    """Where the machine's CPU went in a phase, as shares of all of it."""
    spent = {k: after[k] - before[k] for k in before}
    whole = spent["busy"] + spent["idle"]
    argon2 = min(argon2_calls * per_call, spent["server"])
    parts = {
        "Argon2": argon2,
        "server, other": spent["server"] - argon2,
        "PostgreSQL": spent["postgres"],
        "load generator and the rest": max(0.0, spent["busy"] - spent["server"] - spent["postgres"]),
        "idle": spent["idle"],
    }
    return "    CPU: " + ", ".join(f"{name} {100 * value / whole:.0f}%" for name, value in parts.items())


def locust(base: str, users: int, seconds: int, classes: list[str], env: dict, prefix: Path) -> dict:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(HERE / "locustfile.py"),
            "--headless",
            "--only-summary",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--host",
            base,
            "--csv",
            str(prefix),
            "--exit-code-on-error",
            "0",
            *classes,
        ],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    rows = {}
    with open(f"{prefix}_stats.csv", newline="") as stats:
        for row in csv.DictReader(stats):
            rows[row["Name"]] = row
    return rows


def summarize(phase: str, rows: dict, seconds: int, bound: float, rss: float) -> list[str]:
    def count(*names):
        return sum(int(rows[n]["Request Count"]) for n in names if n in rows)

    submissions = count("file report", "file report with file") / seconds
    logins = count("case room login") / seconds
    total = rows["Aggregated"]
    errors = int(total["Failure Count"])
    argon2_rate = submissions + logins
    return [
        f"{phase:<12}{submissions:>10.1f}{logins:>10.1f}{float(total['50%']):>9.0f}{float(total['95%']):>9.0f}{errors:>8}"
        f"{rss:>10.0f}{bound:>9.1f}{argon2_rate / bound:>8.2f}"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--argon2-concurrency",
        type=int,
        default=os.cpu_count() or 1,
        help="Argon2 calls at once in the server (default, as the server's: one per core; more only thrash the memory bus)",
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--databases", nargs="+", default=["postgresql", "sqlite"], choices=["postgresql", "sqlite"])
    args = parser.parse_args()
    for database in args.databases:
        run(args, database)


def run(args: argparse.Namespace, database: str) -> None:
    cores = os.cpu_count() or 1
    url = fresh_database(args.admin_url, "intake_bench") if database == "postgresql" else ""
    env = {
        "INTAKE_DATABASE_URL": url,
        "INTAKE_ARGON2_WAIT_SECONDS": "30",
        **LOAD_TEST_BUDGETS,
        "INTAKE_ARGON2_CONCURRENCY": str(args.argon2_concurrency),
    }
    lines = [
        f"{'phase':<12}{'submit/s':>10}{'login/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}"
        f"{'peak MiB':>10}{'bound/s':>9}{'ratio':>8}"
    ]
    with tempfile.TemporaryDirectory(prefix="intake-load-") as tmp:
        tmp = Path(tmp)
        credentials = {o["office"]: o for o in init_demo(tmp / "var", env, cheap=False)["officers"]}
        alone = argon2_alone(tmp / "var")
        recorded = tmp / "passphrases.txt"
        with server_process(tmp / "var", env, workers=args.workers) as server:
            pids = server_pids(server.process.pid)
            phases = [
                ("submissions", ["SubmittingReporter"], {"LOCUST_RECORD": str(recorded)}),
                ("logins", ["ReturningReporter"], {"LOCUST_PASSPHRASES": str(recorded)}),
                (
                    "mixed",
                    ["SubmittingReporter", "ReturningReporter", "TriagingOfficer"],
                    {
                        "LOCUST_PASSPHRASES": str(recorded),
                        "LOCUST_OFFICER_TOKEN": officer_login(server.base, credentials["OIG"])["Authorization"].split()[1],
                    },
                ),
            ]
            # This machine's speed drifts (a shared host: one call alone took 0.08 s in one run and
            # 0.11 s in the next): the bound is measured right before and right after each phase,
            # with the server idle, and each phase's ratio is taken against the mean of the two.
            bounds = [argon2_bound(tmp / "var", cores)]
            measured = []
            for name, classes, phase_env in phases:
                before = cpu_seconds(pids)
                rows = locust(server.base, args.users, args.seconds, classes, phase_env, tmp / name)
                after = cpu_seconds(pids)
                bounds.append(argon2_bound(tmp / "var", cores))
                measured.append((name, rows, after, before, peak_rss_mib(pids), (bounds[-2] + bounds[-1]) / 2))
    for name, rows, after, before, rss, bound in measured:
        lines += summarize(name, rows, args.seconds, bound, rss)
        calls = sum(int(rows[n]["Request Count"]) for n in ARGON2_REQUESTS if n in rows)
        lines.append(where_it_goes(before, after, calls, cores / bound))
    print(f"\n{database}: Argon2id at the instance parameters: {alone:.3f} s a call alone", end=" ")
    print(f"(cores / that = {cores / alone:.1f} calls/s); on {cores} cores at once, around the phases:", end=" ")
    print(", ".join(f"{b:.1f}" for b in bounds), "calls/s")
    print("\n".join(lines))
    print("ratio = (submissions + case-room logins) per second / bound; peak = VmHWM of the server processes")


if __name__ == "__main__":
    main()
