"""make onion-check: the reporter's whole journey over a real onion service, on one machine.

Run: make onion-check   (or: .venv/bin/python -m loadtests.onion [--torrc FILE] [--compose-torrc FILE] [--out DIR])

In a temporary directory: a private Tor network on 127.0.0.1 (three authorities with keys made by
tor-gencert, two relays, no exit), the operator's onion services made from the shipped torrcs
(deploy/tor/torrc and deploy/container/torrc-compose, only network and directory settings
replaced, the proof-of-work defences as written), a reporter's Tor client, and the app as
`intake serve` on loopback with the shipped settings (Secure cookies, the onion address and the
public address from the environment, as deploy/systemd sets them). Then, in Chromium with
JavaScript off through the client's SOCKS port, as Tor Browser and as a stock browser: home, form,
a report with a 5 MiB file, the passphrase page, an officer's reply, the case room reopened. The
same journey straight on loopback gives the ratios printed at the end.

Checks besides the journey: each descriptor publishes `pow-params` (read with stem), the app's
peer is always the onion service's tor on 127.0.0.1, and no request that reached the app names its
client (witness.py). Each tor runs as debian-tor when we are root; every program is stopped by its
own pid at the end, also on failure and on Ctrl-C. A failure names its step and prints the tail of
the log to read; the logs and screenshots stay in --out.
"""

import argparse
import json
import os
import pwd
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from . import journey, network, witness
from .processes import TOR_USER, Programs, StepFailed, free_port, step, tail

ROOT = Path(__file__).resolve().parents[2]
VENV_INTAKE = Path(sys.executable).parent / "intake"
START_SECONDS = 60


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtests.onion", description=__doc__.split("\n\n")[0])
    parser.add_argument("--torrc", type=Path, default=ROOT / "deploy" / "tor" / "torrc", help="the onion service's torrc")
    parser.add_argument(
        "--compose-torrc",
        default=str(ROOT / "deploy" / "container" / "torrc-compose"),
        help="a second onion service's torrc, one page fetched over it ('' to skip)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "onion", help="screenshots, logs, numbers.json")
    parser.add_argument("--timeout", type=float, default=150, help="seconds for the network to serve the onion")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (tor data, the instance)")
    return parser.parse_args(argv)


def intake_command() -> list[str]:
    return [str(VENV_INTAKE)] if VENV_INTAKE.exists() else [sys.executable, "-m", "intake.cli"]


def app_environment(data_dir: Path, onion: str) -> dict[str, str]:
    """The settings deploy/systemd ships (Secure cookies, one Argon2 at a time, the onion address
    and the address reporters come back to), on a demo instance with SQLite in the temp dir."""
    return {
        **os.environ,
        "INTAKE_DATA_DIR": str(data_dir),
        "INTAKE_DATABASE_URL": "",
        "INTAKE_SECURE_COOKIES": "1",
        "INTAKE_ARGON2_CONCURRENCY": "1",
        "INTAKE_ONION_ADDRESS": onion,
        "INTAKE_PUBLIC_ADDRESS": f"http://{onion}/",
    }


def wait_for_app(base: str, programs: Programs, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        programs.check_running("intake serve")
        if time.monotonic() > deadline:
            raise StepFailed("intake serve", f"no answer on {base} after {START_SECONDS} s", [log])
        time.sleep(0.3)


def officer_headers(api: str, credentials: Path) -> dict[str, str]:
    """A session of the OIG officer (misconduct goes to OIG), opened once over the API on loopback."""
    from tests.server import officer_login  # the tests' own login helper: password, then a TOTP code

    officers = json.loads(credentials.read_text())["officers"]
    return officer_login(api, next(o for o in officers if o["office"] == "OIG"))


def tor_uid() -> int | None:
    """The user our tors run as when we are root (setpriv), by which a socket is known as a tor's."""
    return pwd.getpwnam(TOR_USER).pw_uid if os.geteuid() == 0 else None


def say(text: str) -> None:
    print(text, flush=True)


@dataclass
class Stage:
    """What is running once the network and the app are started, for the steps after."""

    net: network.Network
    onion: str  # the address of the onion service made from --torrc
    app_port: int
    api: str  # the app on loopback
    app_log: Path
    office: httpx.Client  # an OIG officer's API session on loopback
    began: float

    def seconds(self) -> str:
        return f"{time.monotonic() - self.began:.0f} s"


def set_up(args: argparse.Namespace, root: Path, programs: Programs, numbers: dict) -> Stage:
    """Every tor started, the app's instance made and `intake serve` answering on loopback, with
    the onion's address in its settings (the onion service makes its address at once)."""
    began = time.monotonic()
    app_port = free_port()
    data_dir = root / "app"
    torrcs = {"torrc": args.torrc}
    if args.compose_torrc:
        torrcs["compose"] = Path(args.compose_torrc)
    # The instance (Argon2 at production cost) is made while the authorities' keys are.
    init = programs.start(
        "intake init",
        [*intake_command(), "--data-dir", str(data_dir), "init", "--demo"],
        root / "intake-init.log",
        env={**os.environ, "INTAKE_DATABASE_URL": ""},
        lasting=False,
    )
    with step("the Tor network: keys, torrcs, every tor started"):
        net = network.start(root / "tor", programs, torrcs, app_port)
    numbers["keys_seconds"] = round(net.started_at - began, 1)
    say(f"[onion-check] {len(net.nodes)} relays (3 authorities), {len(net.services)} onion services, a client: started")
    with step("intake init --demo", init.log):
        if init.process.wait(timeout=START_SECONDS) != 0:
            raise RuntimeError(f"exit status {init.process.returncode}")
    network.read_addresses(net, programs, timeout=30)
    for service in net.services:
        say(f"[onion-check] {service.source}: {service.address} (replaced: {'; '.join(service.torrc.replaced)})")
    onion = net.services[0].address

    app_log = root / "intake-serve.log"
    serve = ["serve", "--host", "127.0.0.1", "--port", str(app_port), "--workers", "2"]  # as deploy/systemd runs it
    command = [*intake_command(), "--data-dir", str(data_dir), *serve]
    programs.start("intake serve", command, app_log, env=app_environment(data_dir, onion))
    api = f"http://127.0.0.1:{app_port}"
    wait_for_app(api, programs, app_log)
    with step("officer login over the API", app_log):
        office = httpx.Client(base_url=api, headers=officer_headers(api, data_dir / "demo-credentials.json"), timeout=60)
    return Stage(net, onion, app_port, api, app_log, office, began)


def on_loopback(stage: Stage, playwright, out: Path) -> journey.Timings:
    """The journey straight to the app, the measure the onion's numbers are compared with."""
    loopback = journey.Client("loopback", "loopback")
    with step("the journey on loopback", stage.app_log):
        browser = loopback.launch(playwright)
        timings, _ = journey.walk(browser, stage.api, loopback, stage.office, out)
        browser.close()
    say(f"[onion-check] loopback journey done at {stage.seconds()}")
    return timings


def wait_for_onions(stage: Stage, programs: Programs, deadline: float, numbers: dict) -> None:
    """The reporter's tor bootstrapped, and each onion's descriptor fetched with its PoW parameters."""
    net = stage.net
    with step("control port of the reporter's tor", net.client.log):
        controller = net.controller()
    try:
        numbers["bootstrap_seconds"] = round(network.wait_for_bootstrap(net, programs, controller, deadline), 1)
        say(f"[onion-check] the reporter's tor bootstrapped {numbers['bootstrap_seconds']} s after the first tor started")
        for service in net.services:
            raw = network.fetch_descriptor(net, programs, controller, service, deadline)
            with step(f"pow-params in the descriptor of {service.address}", service.program.log):
                line = network.pow_params(raw, service.address)
            if not line.startswith("pow-params v1 "):
                raise StepFailed(
                    f"pow-params in the descriptor of {service.address} ({service.source})",
                    "the descriptor publishes no proof-of-work parameters (HiddenServicePoWDefensesEnabled 1?)",
                    [service.program.log],
                )
            say(f"[onion-check] {service.source.name}: descriptor fetched; {line}")
        numbers["descriptors_seconds"] = round(time.monotonic() - net.started_at, 1)
    finally:
        controller.close()


def over_the_onion(stage: Stage, playwright, out: Path, deadline: float, numbers: dict) -> dict[str, journey.Timings]:
    """The journey as Tor Browser and as a stock browser, a phone's home page, a page over the
    second onion, all watched by the two witnesses; then what they saw is judged."""
    net, onion, service = stage.net, stage.onion, stage.net.services[0]
    names = {s.program.pid: f"the onion service's tor ({s.source.name})" for s in net.services}
    names[os.getpid()] = "this check (the officer, over loopback)"
    sockets = witness.Sockets(stage.app_port, names, tor_uid())
    why_not = witness.Wire.available()
    with step("reading the loopback interface"):
        wire = None if why_not else witness.Wire(stage.app_port)
    tor_browser = journey.Client("onion-torbrowser", "the onion as Tor Browser", net.socks_port, secure_onion=onion)
    stock = journey.Client("onion-stock", "the onion as a stock browser", net.socks_port)
    results: dict[str, journey.Timings] = {}
    shown: dict[str, journey.Journey] = {}
    logs = (stage.app_log, service.program.log)
    sockets.start()
    if wire:
        wire.start()
    try:
        browser = tor_browser.launch(playwright)
        with step(f"first page over the onion {onion}", service.program.log, net.client.log):
            reached = journey.first_load(browser, f"http://{onion}/", deadline)
        numbers["first_onion_page_seconds"] = round(reached - net.started_at, 1)
        say(f"[onion-check] first page over the onion {numbers['first_onion_page_seconds']} s after the first tor started")
        with step(f"the journey over the onion as Tor Browser ({onion})", *logs):
            walked = journey.walk(browser, f"http://{onion}", tor_browser, stage.office, out)
            results[tor_browser.name], shown[tor_browser.name] = walked
        browser.close()
        say(f"[onion-check] the journey as Tor Browser done at {stage.seconds()}")
        browser = stock.launch(playwright)
        with step("the journey over the onion as a stock browser (no .onion rule)", *logs):
            walked = journey.walk(browser, f"http://{onion}", stock, stage.office, out)
            results[stock.name], shown[stock.name] = walked
        with step("the home page over the onion in Arabic at 320 px (a phone, a stock browser)", *logs):
            journey.home_page(browser, f"http://{onion}", out, "onion-stock-05-home-320-ar", width=320, lang="ar")
        say(f"[onion-check] the journey as a stock browser done at {stage.seconds()}")
        for other in net.services[1:]:
            with step(f"a page over the second onion, from {other.source}", other.program.log, net.client.log):
                journey.first_load(browser, f"http://{other.address}/", time.monotonic() + 90)
                journey.home_page(browser, f"http://{other.address}", out, f"onion-{other.name}-01-home")
            say(f"[onion-check] {other.source.name}: home page served over {other.address}")
        browser.close()
    finally:
        sockets.stop()
        if wire:
            wire.stop()
    with step("what reached the app"):
        judge_witnesses(sockets, wire, why_not, {s.address for s in net.services}, stage.app_log, numbers)
    with step("what the onion pages pointed to"):
        for name, seen in shown.items():
            if not seen.where.startswith(f"http://{onion}/"):
                raise RuntimeError(f"{name}: the passphrase page says to come back at {seen.where!r}, not the onion")
            if not seen.quick_exit.split("/")[2].endswith(".onion"):
                raise RuntimeError(f"{name}: 'Leave quickly' leaves the onion for {seen.quick_exit!r}")
    return results


def run(args: argparse.Namespace, root: Path, programs: Programs, out: Path, numbers: dict) -> None:
    stage = set_up(args, root, programs, numbers)
    with sync_playwright() as playwright:
        # Straight on loopback first, while the network votes its first consensus.
        results = {"loopback": on_loopback(stage, playwright, out)}
        wait_for_onions(stage, programs, stage.net.started_at + args.timeout, numbers)
        results |= over_the_onion(stage, playwright, out, stage.net.started_at + args.timeout + 60, numbers)
    stage.office.close()
    numbers["journeys"] = {name: timing_numbers(t) for name, t in results.items()}
    numbers["total_seconds"] = round(time.monotonic() - stage.began, 1)


def judge_witnesses(sockets, wire, why_not: str, onion_hosts: set[str], app_log: Path, numbers: dict) -> None:
    """The app's peers were the onion services' tors (and this check's officer), all on 127.0.0.1;
    the requests over the onion named no client; the app's log holds no peer's address."""
    owners = sockets.owners()
    say(f"[onion-check] the app's peers while over the onion: {owners}")
    if not any(owner.startswith("the onion service's tor") for owner in owners):
        raise RuntimeError("no connection from an onion service's tor to the app was seen: the sampler proves nothing")
    strangers = {o for o in owners if not o.startswith(("the onion service's tor", "a tor of this network", "this check"))}
    if strangers:
        raise RuntimeError(f"the app was reached by something else than the onion service's tor: {strangers}")
    not_loopback = {address for address, _ in sockets.peers if address != "127.0.0.1"}
    if not_loopback:
        raise RuntimeError(f"the app saw peers that are not 127.0.0.1: {not_loopback}")
    logged = app_log.read_text(errors="replace")
    leaked = [f"{address}:{port}" for address, port in sockets.peers if f"{address}:{port}" in logged]
    if leaked:
        raise RuntimeError(f"the app's log names peers: {leaked}")
    numbers["peers_seen"] = owners
    if wire is None:
        say(f"[onion-check] headers: not checked ({why_not})")
        return
    requests, gaps = wire.requests()
    over_onion, wrong = witness.judge(requests, onion_hosts)
    names = sorted({name.lower() for request in over_onion for name, _ in request.headers})
    say(
        f"[onion-check] {len(over_onion)} requests over the onion read on the wire ({wire.packets} packets, "
        f"{gaps} connections with a dropped packet); their headers: {', '.join(names)}"
    )
    if not over_onion:
        raise RuntimeError("no request over the onion was read on the loopback interface: the header check proves nothing")
    if wrong:
        raise RuntimeError("requests over the onion told the app about their client:\n  " + "\n  ".join(wrong))
    numbers["onion_requests_read"] = len(over_onion)
    numbers["onion_request_headers"] = names


def timing_numbers(t: journey.Timings) -> dict:
    return {
        "form_ttfb_s": round(t.form_ttfb, 3),
        "file_report_s": round(t.file_seconds, 2),
        "post_s": round(t.post_seconds, 2),
        "upload_mb_per_s": round(t.upload_mb_per_s, 1),
        "reopen_s": round(t.reopen_seconds, 2),
        "screenshots": t.screenshots,
    }


def print_numbers(numbers: dict) -> None:
    if not numbers:
        return
    say("")
    say("onion-check: numbers of this run")
    for key, label in (
        ("keys_seconds", "authority keys made (tor-gencert)"),
        ("bootstrap_seconds", "reporter's tor bootstrapped (after the first tor started)"),
        ("descriptors_seconds", "every onion descriptor fetched, pow-params read"),
        ("first_onion_page_seconds", "first page served over the onion"),
        ("total_seconds", "the whole check"),
    ):
        if key in numbers:
            say(f"  {label:58} {numbers[key]:>7} s")
    journeys = numbers.get("journeys", {})
    base = journeys.get("loopback")
    if not base:
        return
    say(f"  {'':28}" + "".join(f"{name:>22}" for name in journeys))
    for key, label in (
        ("form_ttfb_s", "form: time to first byte (s)"),
        ("file_report_s", "report + 5 MiB filed (s)"),
        ("post_s", "its POST alone (s)"),
        ("upload_mb_per_s", "upload rate (MB/s)"),
        ("reopen_s", "case room reopened (s)"),
    ):
        cells = []
        for name, values in journeys.items():
            value = values[key]
            ratio = "" if name == "loopback" or not base[key] else f" ({value / base[key]:.1f}x)"
            cells.append(f"{value}{ratio}")
        say(f"  {label:28}" + "".join(f"{cell:>22}" for cell in cells))


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()  # a screenshot left from an earlier run would pass for this one's
    root = Path(tempfile.mkdtemp(prefix="onion-check-"))
    root.chmod(0o711)  # the tors run as debian-tor and must reach their own directories below
    programs = Programs()
    numbers: dict = {}

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even when started with it ignored
    status = 1
    try:
        run(args, root, programs, out, numbers)
        status = 0
    except StepFailed as failed:
        say(f"\nonion-check FAILED at step: {failed.step}\n  {failed.reason}")
        for log in failed.logs:
            say(f"\n  last lines of {log} (kept in {out / 'logs'}):\n{tail(log)}")
    except KeyboardInterrupt:
        say("\nonion-check interrupted")
        status = 130
    finally:
        killed = programs.stop_all()
        if killed:
            say(f"[onion-check] had to kill (SIGKILL) after {10} s: {', '.join(killed)}")
        logs = out / "logs"
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir()
        for log in root.rglob("*.log"):
            shutil.copy(log, logs / f"{log.parent.name}-{log.name}" if log.parent != root else logs / log.name)
        if args.keep:
            say(f"[onion-check] kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print_numbers(numbers)
    (out / "numbers.json").write_text(json.dumps(numbers, indent=2) + "\n")
    verdict = {0: "passed", 130: "interrupted"}.get(status, "FAILED")
    say(f"\nonion-check {verdict}; screenshots, logs and numbers.json in {out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
