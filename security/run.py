"""Outside security tools against a real running instance: schemathesis, sqlmap and wapiti.

    python security/run.py [--only TOOL] [--out DIR] [budget options]   (see --help)

Starts `intake serve` on a fresh demo instance (SQLite, or PostgreSQL when TEST_DATABASE_URL
is set), files one report, logs in as the OIG demo officer and as the reporter, then runs:

1. schemathesis against /api/v1/openapi.json (checks: no 5xx, responses match the schema);
2. sqlmap against the three JSON POSTs that take untrusted text before anyone logs in;
3. wapiti against the reporter pages and the officer login page.

Each tool is bounded in time. One summary line per tool is printed, plus one for the
server's own log (an unhandled exception there is a finding even if no tool noticed it).
Exit status 1 if anything was found or a tool did not run to its end, else 0.
security/README.md says what counts as a finding and why.
"""

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intake.store import make_engine  # noqa: E402
from tests.schema import drop_schema  # noqa: E402
from tests.server import init_demo, officer_login, server_process  # noqa: E402

SCHEMATHESIS_REQUIREMENT = "schemathesis>=4.32.5,<5"
SLACK_SECONDS = 30  # on top of a tool's own time budget, before it is stopped from outside

# The abuse budgets answer 503 Busy, by design, once spent; the tools would spend them in a
# minute and then test only that answer. The instance under scan has them out of reach (the
# suite tests the budgets themselves).
UNLIMITED_BUDGETS = {
    "INTAKE_SUBMISSIONS_PER_HOUR": "1000000",
    "INTAKE_MESSAGES_PER_CASE_PER_DAY": "1000000",
    "INTAKE_OPENINGS_PER_CASE_ROOM_PER_HOUR": "1000000",
}
APT_TOOLS = {"sqlmap": "sqlmap", "wapiti": "wapiti"}  # command -> Debian package
TOOLS = ("schemathesis", "sqlmap", "wapiti")

# The wapiti modules we run. Left out: ssrf and xxe (they need wapiti's public endpoint on
# the internet), wapp and nikto (they download databases), and the brute-forcing ones
# (backup, buster, brute_login_form, htaccess, shellshock): slow, and not about this code.
WAPITI_MODULES = (
    "blindsql",
    "cookieflags",
    "crlf",
    "csp",
    "csrf",
    "exec",
    "file",
    "http_headers",
    "methods",
    "permanentxss",
    "redirect",
    "sql",
    "xss",
)
WAPITI_LEVELS = {0: "info", 1: "low", 2: "medium", 3: "high", 4: "critical"}
MEDIUM = 2
# Findings of wapiti 3.0.4 that are wrong about this service, as (category, method, path, info),
# each with the reason (README.md has the whole story). They are shown, and not counted.
WAPITI_FALSE_POSITIVES = {
    (
        "Cross Site Request Forgery",
        "POST",
        "/report",
        "CSRF token 'csrf' is not properly checked in backend",
    ): "wapiti sends every field of a multipart form as a file, so the service refuses both its requests"
    " with the same 400 before it reads the token",
}

# Which operations of the API get which Bearer token (schemathesis reads ${NAME} from the
# environment), and the real case id in half of the case_id values, the other half generated.
# The logouts (DELETE .../session) get no token on purpose: with a real one they would end the
# session the other operations use.
SCHEMATHESIS_OPERATIONS = """\
[[operations]]
include-path-regex = "^/api/v1/caseroom(/cases/|$)"
headers = { Authorization = "${ST_REPORTER_AUTH}" }
parameters = { case_id = { dictionary = "cases", probability = 0.5 } }

[[operations]]
include-path-regex = "^/api/v1/officer/cases"
headers = { Authorization = "${ST_OFFICER_AUTH}" }
parameters = { case_id = { dictionary = "cases", probability = 0.5 } }
"""


@dataclass
class Target:
    """The running instance and what the tools need to get past its logins."""

    base: str  # http://127.0.0.1:PORT
    officer_auth: str  # "Bearer ..." of the OIG demo officer
    reporter_auth: str  # "Bearer ..." of the reporter of `case_id`
    case_id: str  # a case both of them may open
    dbms: str  # "SQLite" or "PostgreSQL", for sqlmap's payloads


@dataclass
class Result:
    """One summary line; `ok` is False on a finding and when the tool did not finish."""

    tool: str
    ok: bool
    summary: str  # the first line is the summary; any further lines are details
    seconds: float = 0.0

    def headline(self) -> str:
        timing = f"  [{self.seconds:.0f} s]" if self.seconds else ""
        return f"{self.tool}: {self.summary.splitlines()[0]}{timing}"

    def show(self) -> None:
        print("\n".join([self.headline(), *self.summary.splitlines()[1:]]), flush=True)


class ToolMissing(Exception):
    """A tool is not installed and cannot be installed from here."""


# --- setting up ---------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=TOOLS, help="run only this tool (repeatable)")
    parser.add_argument(
        "--out",
        type=Path,
        help="keep the logs and reports in a new folder in this one (default: a temporary folder, removed when all is clean)",
    )
    parser.add_argument("--schemathesis-seconds", type=int, default=120, help="schemathesis --max-time (default 120)")
    parser.add_argument("--max-examples", type=int, default=25, help="schemathesis examples per operation and phase (default 25)")
    parser.add_argument("--sqlmap-seconds", type=int, default=60, help="wall-clock limit for each sqlmap target (default 60)")
    parser.add_argument("--sqlmap-level", type=int, default=2, choices=(1, 2, 3), help="sqlmap --level (default 2)")
    parser.add_argument("--wapiti-crawl-seconds", type=int, default=30, help="wapiti --max-scan-time, the crawl (default 30)")
    parser.add_argument("--wapiti-module-seconds", type=int, default=12, help="wapiti --max-attack-time, per module (default 12)")
    return parser.parse_args()


def ensure_apt_tool(command: str) -> str:
    """The path of `command`; installs its Debian package first when missing and we are root."""
    path = shutil.which(command)
    if path:
        return path
    package = APT_TOOLS[command]
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ToolMissing(f"{command} is not installed: apt-get install {package}")
    print(f"installing {package} with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, timeout=300)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], env=env, check=True, timeout=600, stdout=subprocess.DEVNULL)
    path = shutil.which(command)
    if not path:
        raise ToolMissing(f"apt-get install {package} did not give a `{command}` command")
    return path


def schemathesis_command() -> str:
    """The schemathesis beside this Python (the project's virtualenv), or on PATH."""
    beside = Path(sys.executable).with_name("schemathesis")
    path = str(beside) if beside.exists() else shutil.which("schemathesis")
    if not path:
        raise ToolMissing(
            f"schemathesis is not installed: {sys.executable} -m pip install '{SCHEMATHESIS_REQUIREMENT}'"
            " (it is in the project's test extras: pip install -e '.[test]')"
        )
    return path


def instance_env() -> dict[str, str]:
    """The instance's environment: the budgets lifted, and INTAKE_DATABASE_URL from
    TEST_DATABASE_URL (its tables dropped first), else empty for SQLite in the data folder."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url:
        engine = make_engine(url)
        drop_schema(engine)
        engine.dispose()
    return {"INTAKE_DATABASE_URL": url, **UNLIMITED_BUDGETS}


def prepare(base: str, officer: dict) -> Target:
    """File one report, open its case room and log the officer in: the tools' credentials."""
    filed = httpx.post(base + "/api/v1/reports", json={"concerns": ["misconduct"], "description": "x", "answers": {}}, timeout=30)
    filed.raise_for_status()
    reply = filed.json()
    room = httpx.post(base + "/api/v1/caseroom/session", json={"passphrase": reply["passphrase"]}, timeout=30)
    room.raise_for_status()
    return Target(
        base=base,
        officer_auth=officer_login(base, officer)["Authorization"],
        reporter_auth=f"Bearer {room.json()['token']}",
        case_id=reply["cases"][0]["id"],
        dbms="PostgreSQL" if os.environ.get("TEST_DATABASE_URL") else "SQLite",
    )


def keep_server_log(process: subprocess.Popen, log_path: Path) -> threading.Thread:
    """Copy the server's output to a file as it comes (an unread pipe would fill and stall it)."""

    def copy() -> None:
        with log_path.open("w") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread


def run_tool(command: list[str], log_path: Path, timeout: float, cwd: Path, env: dict | None = None) -> int | None:
    """Run a tool with its output in `log_path`; its exit code, or None if it ran out of time."""
    with log_path.open("w") as log:
        try:
            return subprocess.run(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                check=False,
                env={**os.environ, **(env or {})},
                timeout=timeout,
            ).returncode
        except subprocess.TimeoutExpired:
            return None


def tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log, indented, to show under a failed summary line."""
    text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else ["(no log)"]
    return "\n".join("    " + line for line in text)


# --- schemathesis ---------------------------------------------------------------------------


def run_schemathesis(target: Target, args: argparse.Namespace, work: Path) -> Result:
    """Property-based tests of the whole API: no 5xx, and every response as the schema says."""
    config, report, log = work / "schemathesis.toml", work / "schemathesis.json", work / "schemathesis.log"
    config.write_text(f"[dictionaries.cases]\nvalues = [{json.dumps(target.case_id)}]\n\n{SCHEMATHESIS_OPERATIONS}")
    command = [
        schemathesis_command(),
        "--config-file",
        str(config),
        "run",
        target.base + "/api/v1/openapi.json",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(args.schemathesis_seconds),
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    env = {"ST_OFFICER_AUTH": target.officer_auth, "ST_REPORTER_AUTH": target.reporter_auth}
    limit = args.schemathesis_seconds + SLACK_SECONDS
    code = run_tool(command, log, timeout=limit, cwd=work, env=env)
    if code is None:
        return Result("schemathesis", False, f"did not finish within {limit} s\n{tail(log)}")
    if not report.exists():
        return Result("schemathesis", False, f"exited {code} without a report\n{tail(log)}")
    data = json.loads(report.read_text())
    cases, failures, errors = data["test_cases"]["generated"], data["failures"], data["errors"]
    summary = f"{data['test_cases']['unique_failures']} failures in {cases} API calls ({data['operations']['tested']} operations)"
    details = [f"    {f['title']} ({f['count']}x): {', '.join(f['operations'])}" for f in failures]
    details += [f"    error: {e['title']} ({e['count']}x)" for e in errors]
    if code != 0 or failures or errors:
        return Result(
            "schemathesis", False, "\n".join([f"{summary}, {len(errors)} errors, exit {code}", *details, failures_section(log)])
        )
    return Result("schemathesis", True, summary)


def failures_section(log: Path, max_lines: int = 80) -> str:
    """The FAILURES part of schemathesis's output (each failure with a curl line to replay it)."""
    lines = log.read_text(errors="replace").splitlines()
    start = next((i for i, line in enumerate(lines) if " FAILURES " in line), None)
    if start is None:
        return tail(log)
    end = next((i for i, line in enumerate(lines) if i > start and (" WARNINGS " in line or " SUMMARY " in line)), len(lines))
    return "\n".join("    " + line for line in lines[start : min(end, start + max_lines)])


# --- sqlmap ---------------------------------------------------------------------------------


def sqlmap_targets(target: Target) -> list[tuple[str, str, dict]]:
    """(name, URL, JSON body) of each endpoint sqlmap attacks; every JSON value is a parameter.

    The officer login uses a username that does not exist, so the demo account is not locked
    by the failed attempts (a lockout's 429 midway would also confuse sqlmap's comparisons).
    """
    api = target.base + "/api/v1"
    return [
        ("report", api + "/reports", {"concerns": ["misconduct"], "description": "x", "answers": {"happened": "last week"}}),
        ("caseroom login", api + "/caseroom/session", {"passphrase": "correct horse battery staple"}),
        (
            "officer login",
            api + "/officer/session",
            {"username": "sqlmap-probe", "password": "not the password", "totp": "123456"},
        ),
    ]


def sqlmap_one(sqlmap: str, url: str, body: dict, target: Target, args: argparse.Namespace, out: Path) -> str | None:
    """Attack one endpoint; None if sqlmap found nothing, else what it said (finding or trouble)."""
    out.mkdir(parents=True, exist_ok=True)
    log = out / "sqlmap.log"
    command = [
        sqlmap,
        "-u",
        url,
        "--data",
        json.dumps(body),
        "--batch",
        "--flush-session",
        "--disable-coloring",
        "--dbms",
        target.dbms,
        "--level",
        str(args.sqlmap_level),
        "--risk",
        "1",
        "--time-sec",
        "2",
        "--timeout",
        "10",
        "--retries",
        "1",
        "--threads",
        "2",
        "--ignore-code",
        "401,422",  # wrong passphrase / login, and rejected answers, are normal replies here
        "--output-dir",
        str(out),
    ]
    code = run_tool(command, log, timeout=args.sqlmap_seconds, cwd=out)
    text = log.read_text(errors="replace")
    rows = [row for path in out.glob("results-*.csv") for row in list(csv.reader(path.open()))[1:] if row]
    # sqlmap lists a parameter it then rejected itself as "false positive or unexploitable" (its own
    # check failed to exploit it): an officer login's replies flip between 401 and the lockout's 429
    # as attempts accumulate, which its boolean test can take for a signal. Those are not findings.
    injectable = [row for row in rows if "false positive" not in ",".join(row[4:])]
    if injectable or "identified the following injection point" in text:
        return "INJECTABLE: " + "; ".join(", ".join(row) for row in injectable) + f"\n{tail(log)}"
    if code is None:
        return f"did not finish within {args.sqlmap_seconds} s\n{tail(log)}"
    if "all tested parameters do not appear to be injectable" not in text:
        return f"ended (exit {code}) without testing every parameter\n{tail(log)}"
    return None


def run_sqlmap(target: Target, args: argparse.Namespace, work: Path) -> Result:
    """SQL injection tests of the JSON bodies of the report and the two logins."""
    sqlmap = ensure_apt_tool("sqlmap")
    targets = sqlmap_targets(target)
    problems = []
    for name, url, body in targets:
        problem = sqlmap_one(sqlmap, url, body, target, args, work / "sqlmap" / name.replace(" ", "-"))
        if problem:
            problems.append(f"  {name} ({url}): {problem}")
    if problems:
        return Result("sqlmap", False, f"{len(problems)} of {len(targets)} targets not clean\n" + "\n".join(problems))
    return Result(
        "sqlmap", True, f"no injection found on {len(targets)} targets (level {args.sqlmap_level}, risk 1, {target.dbms})"
    )


# --- wapiti ---------------------------------------------------------------------------------


def wapiti_entries(report: dict) -> list[dict]:
    """Every vulnerability, anomaly and additional of a wapiti JSON report, with its kind and category."""
    entries = []
    for kind in ("vulnerabilities", "anomalies", "additionals"):
        for category, items in (report.get(kind) or {}).items():
            entries += [dict(item, kind=kind, category=category) for item in items]
    return entries


def run_wapiti(target: Target, args: argparse.Namespace, work: Path) -> Result:
    """A crawl of the reporter pages and the officer login, then wapiti's attack modules on them."""
    wapiti = ensure_apt_tool("wapiti")
    folder = work / "wapiti"
    config = folder / "config"
    config.mkdir(parents=True, exist_ok=True)
    # wapiti 3.0.4 builds every module, and the `wapp` one downloads its database unless it
    # finds one: an empty one keeps every request on this machine.
    (config / "apps.json").write_text("{}")
    report, log = folder / "report.json", folder / "wapiti.log"
    base = target.base
    command = [
        wapiti,
        "-u",
        base + "/",
        "--scope",
        "folder",
        "-s",
        base + "/report",
        "-s",
        base + "/caseroom/login",
        "-s",
        base + "/officer/login",
        "-m",
        ",".join(WAPITI_MODULES),
        "--max-scan-time",
        str(args.wapiti_crawl_seconds),
        "--max-attack-time",
        str(args.wapiti_module_seconds),
        "-t",
        "10",
        "--flush-session",
        "--store-session",
        str(folder / "session"),
        "--store-config",
        str(config),
        "--endpoint",
        base + "/",  # payloads that name an outside server name this one instead
        "--no-bugreport",
        "-f",
        "json",
        "-o",
        str(report),
        "-v",
        "1",
    ]
    limit = args.wapiti_crawl_seconds + args.wapiti_module_seconds * len(WAPITI_MODULES) + SLACK_SECONDS
    code = run_tool(command, log, timeout=limit, cwd=folder)
    if code is None:
        return Result("wapiti", False, f"did not finish within {limit} s\n{tail(log)}")
    if code != 0 or not report.exists():
        return Result("wapiti", False, f"exited {code}{'' if report.exists() else ' without a report'}\n{tail(log)}")
    entries = wapiti_entries(json.loads(report.read_text()))
    serious = [e for e in entries if int(e.get("level", 0)) >= MEDIUM]
    known = [e for e in serious if wapiti_key(e) in WAPITI_FALSE_POSITIVES]
    findings = [e for e in serious if e not in known]
    summary = f"{len(findings)} findings of medium or higher ({len(entries) - len(serious)} low/info"
    summary += f", {len(known)} known false positive)" if known else ")"
    details = [f"    {describe(e)}" for e in findings]
    details += [f"    known false positive: {describe(e)}: {WAPITI_FALSE_POSITIVES[wapiti_key(e)]}" for e in known]
    if findings:
        details.append(f"    report: {report}")
    return Result("wapiti", not findings, "\n".join([summary, *details]))


def wapiti_key(entry: dict) -> tuple:
    """What WAPITI_FALSE_POSITIVES matches an entry on."""
    return entry["category"], entry.get("method"), entry.get("path"), entry.get("info")


def describe(entry: dict) -> str:
    """One line for a wapiti entry: level, category, request, parameter and wapiti's words."""
    level = WAPITI_LEVELS.get(int(entry["level"]), entry["level"])
    parameter = f" [{entry['parameter']}]" if entry.get("parameter") else ""
    return f"[{level}] {entry['category']}: {entry.get('method')} {entry.get('path')}{parameter} - {entry.get('info')}"


# --- the server's own log -------------------------------------------------------------------


def check_server(process: subprocess.Popen, log_path: Path) -> Result:
    """The instance must still be running and must not have logged an unhandled exception."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    tracebacks = text.count("Traceback (most recent call last)")
    if process.poll() is not None:
        return Result("server", False, f"stopped during the scans (exit {process.returncode})\n{tail(log_path)}")
    if tracebacks:
        return Result("server", False, f"{tracebacks} unhandled exceptions in its log\n{tail(log_path, 40)}")
    return Result("server", True, "still running, no unhandled exception in its log")


# --- main -----------------------------------------------------------------------------------


def run_all(args: argparse.Namespace, work: Path) -> list[Result]:
    """Start the instance, run the chosen tools against it, check its log; one Result each."""
    tools = args.only or list(TOOLS)
    runners = {"schemathesis": run_schemathesis, "sqlmap": run_sqlmap, "wapiti": run_wapiti}
    env = instance_env()
    creds = init_demo(work / "var", env)
    results = []
    with server_process(work / "var", env) as server:
        server_log = work / "server.log"
        keep_server_log(server.process, server_log)
        oig_officer = next(officer for officer in creds["officers"] if officer["office"] == "OIG")  # the report's office
        target = prepare(server.base, oig_officer)
        for tool in tools:
            started = time.monotonic()
            try:
                result = runners[tool](target, args, work)
            except ToolMissing as missing:
                result = Result(tool, False, f"not run: {missing}")
            except Exception as error:  # noqa: BLE001 (a crash of the tool or of our handling of it: a failure too)
                result = Result(tool, False, f"crashed: {error!r}")
            result.seconds = time.monotonic() - started
            result.show()
            results.append(result)
        time.sleep(0.5)  # let the log copier catch up
        results.append(check_server(server.process, server_log))
        results[-1].show()
    return results


def main() -> int:
    args = parse_args()
    # A CI time-out sends SIGTERM: leave through the context managers, which stop the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="intake-security-", dir=args.out))
    try:
        results = run_all(args, work)
    except BaseException:
        print(f"stopped; logs so far in {work}", file=sys.stderr)
        raise
    failed = [result.tool for result in results if not result.ok]
    print()
    print("summary:")
    for result in results:
        print(result.headline())
    if failed or args.out:
        print(
            f"{'FAILED: ' + ', '.join(failed) if failed else 'all clean'} in {time.monotonic() - started:.0f} s;"
            f" logs and reports in {work}"
        )
    else:
        shutil.rmtree(work, ignore_errors=True)
        print(f"all clean in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
