"""The torrc of every node of the private network, as text (no I/O, no processes: tested alone).

The onion service's torrc is the operator's own (the shipped `deploy/tor/torrc` by default) with
only what ties it to the public network or to the machine's paths replaced: where it keeps its
data, which address the service forwards to, where it logs, which authorities it trusts. Every
other line, the proof-of-work and DoS defences first, is kept as written, so the check runs the
configuration an operator deploys and not a copy of it.
"""

from dataclasses import dataclass
from pathlib import Path

# Options that tie a torrc to the machine or to the public Tor network: the harness sets its own.
# (Tor option names are case-insensitive.)
MACHINE_OPTIONS = {
    "datadirectory",
    "log",
    "user",
    "runasdaemon",
    "pidfile",
    "controlport",
    "controlsocket",
    "cookieauthentication",
    "cookieauthfile",
    "hashedcontrolpassword",
}
NETWORK_OPTIONS = {
    "dirauthority",
    "alternatedirauthority",
    "alternatebridgeauthority",
    "fallbackdir",
    "usebridges",
    "bridge",
    "clienttransportplugin",
    "servertransportplugin",
    "orport",
    "dirport",
    "entrynodes",
    "exitnodes",
    "middlenodes",
    "hsproxy",
    "socks5proxy",
    "httpsproxy",
    "reachableaddresses",
    "clientuseipv6",
    "clientpreferipv6orport",
}
# What the operator's torrc must carry for the check to mean anything: the defences it is run for.
REQUIRED_SERVICE_OPTIONS = ("HiddenServiceDir", "HiddenServicePort", "HiddenServicePoWDefensesEnabled")


@dataclass(frozen=True)
class Authority:
    """One directory authority as every node's `DirAuthority` line names it."""

    nickname: str
    or_port: int
    dir_port: int
    v3ident: str
    fingerprint: str

    def line(self) -> str:
        return (
            f"DirAuthority {self.nickname} orport={self.or_port} no-v2 v3ident={self.v3ident} "
            f"127.0.0.1:{self.dir_port} {self.fingerprint}"
        )


# A test network's clock: a vote every 10 s (the interval must divide a day; vote and distribution
# delays together under half of it), so the first consensus comes within seconds of the start.
VOTING = """\
TestingV3AuthInitialVotingInterval 10
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval 10
V3AuthVoteDelay 2
V3AuthDistDelay 2
"""


def common(nickname: str, data_dir: Path, authorities: list[Authority]) -> str:
    """What every node of the private network shares: the testing switches and the three authorities."""
    return "\n".join(
        [
            "## private test network on 127.0.0.1 (make onion-check)",
            "TestingTorNetwork 1",
            f"Nickname {nickname}",
            f"DataDirectory {data_dir}",
            "Log notice stderr",
            "Address 127.0.0.1",
            "AssumeReachable 1",
            "PathsNeededToBuildCircuits 0.25",
            "TestingDirAuthVoteExit *",
            "TestingDirAuthVoteHSDir *",
            "TestingDirAuthVoteGuard *",
            "TestingMinExitFlagThreshold 0",
            "ShutdownWaitLength 0",
            # A first circuit that stalls is given up after 10 s, not tor's learned-timeout start of
            # 60 s: on a busy machine that minute was most of the bootstrap.
            "LearnCircuitBuildTimeout 0",
            "CircuitBuildTimeout 10",
            "ContactInfo onion-check@localhost",
            *(a.line() for a in authorities),
            "",
        ]
    )


def relay(nickname: str, data_dir: Path, authorities: list[Authority], or_port: int, dir_port: int, authority: bool) -> str:
    """A relay on loopback that carries no exit traffic (onion services need none); an authority
    also votes."""
    lines = [
        common(nickname, data_dir, authorities),
        "SocksPort 0",
        f"ORPort 127.0.0.1:{or_port}",
        f"DirPort 127.0.0.1:{dir_port}",
        "ExitPolicy reject *:*",
    ]
    if authority:
        lines += ["AuthoritativeDirectory 1", "V3AuthoritativeDirectory 1", VOTING]
    return "\n".join(lines) + "\n"


def client(nickname: str, data_dir: Path, authorities: list[Authority], socks_port: int, control_port: int) -> str:
    """The reporter's Tor: a SOCKS port for the browser, a control port (cookie auth) for stem."""
    return "\n".join(
        [
            common(nickname, data_dir, authorities),
            f"SocksPort 127.0.0.1:{socks_port}",
            f"ControlPort 127.0.0.1:{control_port}",
            "CookieAuthentication 1",
            "",
        ]
    )


def options(text: str) -> list[tuple[str, str]]:
    """(option, value) per configuration line, comments and blank lines left out."""
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            option, _, value = line.partition(" ")
            found.append((option, value.strip()))
    return found


class TorrcRefused(ValueError):
    """The operator's torrc cannot be checked as given (what is missing is in the message)."""


@dataclass(frozen=True)
class ServiceTorrc:
    text: str
    kept: list[str]
    replaced: list[str]


def service(
    shipped: str, nickname: str, data_dir: Path, service_dir: Path, authorities: list[Authority], app_port: int
) -> ServiceTorrc:
    """The operator's onion-service torrc joined to the private network: its one onion service kept
    line by line, the service's directory and the address it forwards to moved to this run's, and
    every machine or public-network option replaced by the test network's. Refuses a torrc without an
    onion service or without proof-of-work defences, and one with several services (which one the
    app is behind would be a guess)."""
    parsed = options(shipped)
    names = [option.lower() for option, _ in parsed]
    for needed in REQUIRED_SERVICE_OPTIONS:
        if needed.lower() not in names:
            raise TorrcRefused(f"the torrc has no {needed} line")
    if names.count("hiddenservicedir") > 1:
        raise TorrcRefused("the torrc has several HiddenServiceDir lines: give one onion service's torrc")
    kept, replaced = [], []
    for option, value in parsed:
        key = option.lower()
        if key == "hiddenservicedir":
            kept.append(f"HiddenServiceDir {service_dir}")
            replaced.append(f"{option} {value}")
        elif key == "hiddenserviceport":
            virtual_port, _, _target = value.partition(" ")
            kept.append(f"HiddenServicePort {virtual_port} 127.0.0.1:{app_port}")
            replaced.append(f"{option} {value}")
        elif key in MACHINE_OPTIONS or key in NETWORK_OPTIONS:
            replaced.append(f"{option} {value}")
        else:
            kept.append(f"{option} {value}")
    text = common(nickname, data_dir, authorities) + "## the operator's torrc, as given but for the lines above\n"
    return ServiceTorrc(text + "\n".join(kept) + "\n", kept, replaced)
