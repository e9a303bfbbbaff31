"""A private Tor network on 127.0.0.1: three directory authorities (also relays), two relays, the
operator's onion services and a reporter's Tor client, each tor its own process with its own
directory under the run's temporary directory.

The authorities' keys are made by tor-gencert at each run; nothing here reaches the public network
(TestingTorNetwork, only loopback addresses, no exit).
"""

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from stem.control import Controller
from stem.descriptor.hidden_service import HiddenServiceDescriptorV3

from . import torrc
from .processes import Program, Programs, StepFailed, as_tor_user, free_port, give_to_tor_user, step, tor_binary

AUTHORITIES = 3
RELAYS = 2
KEYGEN_SECONDS = 60


@dataclass
class OnionService:
    name: str
    source: Path
    program: Program
    hostname_file: Path
    torrc: torrc.ServiceTorrc
    address: str = ""


@dataclass
class Network:
    nodes: list[Program]
    services: list[OnionService]
    client: Program
    socks_port: int
    control_port: int
    started_at: float

    def controller(self) -> Controller:
        control = Controller.from_port(address="127.0.0.1", port=self.control_port)
        control.authenticate()  # the cookie file named by PROTOCOLINFO, readable by us
        return control


def node_dirs(root: Path, nickname: str) -> tuple[Path, Path]:
    """(the node's own directory, holding its torrc; its data directory), both made here."""
    home = root / nickname
    data = home / "data"
    data.mkdir(parents=True, mode=0o700)
    return home, data


def authority_keys(data: Path, dir_port: int) -> subprocess.Popen:
    """tor-gencert makes the authority's identity and signing keys (an empty passphrase, on a pipe)."""
    keys = data / "keys"
    keys.mkdir(mode=0o700)
    return subprocess.Popen(
        ["tor-gencert", "--create-identity-key", "-m", "12", "-a", f"127.0.0.1:{dir_port}", "--passphrase-fd", "0"],
        cwd=keys,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def fingerprint(data: Path, or_port: int) -> str:
    """The relay identity fingerprint of the node's keys (made now if missing), as DirAuthority wants it."""
    subprocess.run(
        [
            tor_binary(),
            "--ignore-missing-torrc",
            "-f",
            "/dev/null",
            "--list-fingerprint",
            "--DataDirectory",
            str(data),
            "--ORPort",
            str(or_port),
            "--DirAuthority",
            "placeholder 127.0.0.1:1 ffffffffffffffffffffffffffffffffffffffff",
        ],
        capture_output=True,
        check=True,
        timeout=KEYGEN_SECONDS,
    )
    return (data / "fingerprint").read_text().split()[1]


def make_authorities(root: Path) -> list[tuple[torrc.Authority, Path, Path]]:
    """Three authorities' keys, made side by side (RSA key generation takes seconds each)."""
    made = []
    for n in range(AUTHORITIES):
        home, data = node_dirs(root, f"auth{n}")
        made.append((f"auth{n}", home, data, free_port(), free_port()))
    keygens = [authority_keys(data, dir_port) for _, _, data, _, dir_port in made]
    for keygen in keygens:
        output, _ = keygen.communicate(b"\n", timeout=KEYGEN_SECONDS)
        if keygen.returncode != 0:
            raise StepFailed("authority keys", f"tor-gencert failed: {output.decode(errors='replace')}")
    authorities = []
    for nickname, home, data, or_port, dir_port in made:
        certificate = (data / "keys" / "authority_certificate").read_text()
        v3ident = next(line.split()[1] for line in certificate.splitlines() if line.startswith("fingerprint "))
        authorities.append((torrc.Authority(nickname, or_port, dir_port, v3ident, fingerprint(data, or_port)), home, data))
    return authorities


def start_tor(programs: Programs, name: str, home: Path, text: str) -> Program:
    (home / "torrc").write_text(text)
    give_to_tor_user(home)
    return programs.start(name, [*as_tor_user(), tor_binary(), "-f", str(home / "torrc")], home / "tor.log")


def start(root: Path, programs: Programs, service_torrcs: dict[str, Path], app_port: int) -> Network:
    """Keys, torrcs and every tor started; returns at once (bootstrap is `wait_for_onions`)."""
    root.mkdir(mode=0o711)
    with step("authority keys (tor-gencert, tor --list-fingerprint)"):
        authorities = make_authorities(root)
    directory = [authority for authority, _, _ in authorities]
    started_at = time.monotonic()
    nodes = []
    for authority, home, data in authorities:
        text = torrc.relay(authority.nickname, data, directory, authority.or_port, authority.dir_port, authority=True)
        nodes.append(start_tor(programs, authority.nickname, home, text))
    for n in range(RELAYS):
        home, data = node_dirs(root, f"relay{n}")
        text = torrc.relay(f"relay{n}", data, directory, free_port(), free_port(), authority=False)
        nodes.append(start_tor(programs, f"relay{n}", home, text))
    services = []
    for n, (name, source) in enumerate(service_torrcs.items()):
        home, data = node_dirs(root, f"onion{n}")
        service_dir = data / "intake"
        with step(f"the onion service's torrc ({source})"):
            made = torrc.service(source.read_text(), f"onion{n}", data, service_dir, directory, app_port)
        program = start_tor(programs, f"onion service from {source.name}", home, made.text)
        services.append(OnionService(name, source, program, service_dir / "hostname", made))
    home, data = node_dirs(root, "client")
    socks_port, control_port = free_port(), free_port()
    client = start_tor(programs, "reporter's tor client", home, torrc.client("client", data, directory, socks_port, control_port))
    return Network(nodes, services, client, socks_port, control_port, started_at)


def read_addresses(network: Network, programs: Programs, timeout: float) -> None:
    """Each onion service writes its address (its hostname file) as soon as it has made its keys."""
    deadline = time.monotonic() + timeout
    for service in network.services:
        while not service.hostname_file.exists():
            programs.check_running("onion service start")
            if time.monotonic() > deadline:
                raise StepFailed(
                    "onion service start", f"no {service.hostname_file} after {timeout:.0f} s", [service.program.log]
                )
            time.sleep(0.2)
        service.address = service.hostname_file.read_text().strip()


def wait_for_bootstrap(network: Network, programs: Programs, controller: Controller, deadline: float) -> float:
    """Seconds from the first tor's start until the reporter's Tor has a consensus and circuits (100%)."""
    while True:
        phase = controller.get_info("status/bootstrap-phase")
        if "PROGRESS=100" in phase:
            return time.monotonic() - network.started_at
        programs.check_running("bootstrap")
        if time.monotonic() > deadline:
            logs = [network.client.log, *(node.log for node in network.nodes[:1])]
            raise StepFailed("bootstrap: the reporter's tor never reached 100%", f"last phase: {phase}", logs)
        time.sleep(0.5)


def fetch_descriptor(network: Network, programs: Programs, controller: Controller, service: OnionService, deadline: float) -> str:
    """The onion service's descriptor as the reporter's Tor fetched it from the HSDirs (raw text),
    asked again every two seconds until the service has published it."""
    key = service.address.removesuffix(".onion")
    while True:
        raw = controller.get_info(f"hs/client/desc/id/{key}", None)  # None: not in the client's cache yet
        if raw:
            return raw
        programs.check_running("descriptor")
        if time.monotonic() > deadline:
            raise StepFailed(
                f"descriptor of {service.address} ({service.source.name})",
                "the reporter's tor could not fetch it from the HSDirs",
                [service.program.log, network.client.log],
            )
        controller.msg(f"HSFETCH {key}")
        time.sleep(2)


def pow_params(raw: str, address: str) -> str:
    """The `pow-params` line of the descriptor's encrypted inner layer (the service's proof-of-work
    defence as clients see it), or '' when the service does not publish one."""
    inner = HiddenServiceDescriptorV3.from_str(raw).decrypt(address)
    for line in str(inner).splitlines():
        if line.startswith("pow-params "):
            return line
    return ""
