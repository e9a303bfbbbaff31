"""make onion-check's own parts that need no Tor network (loadtests/onion): the torrcs it writes from
the operator's, and the two witnesses of what reached the app, each shown able to fail."""

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from loadtests.onion import torrc, witness

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SHIPPED = [DEPLOY / "tor" / "torrc", DEPLOY / "container" / "torrc-compose"]
AUTHORITIES = [
    torrc.Authority(f"auth{n}", 5000 + n, 6000 + n, f"{n}" * 40, f"{n + 1}" * 40)  # shapes only
    for n in range(3)
]
ONION = "a" * 55 + "d.onion"


def service_torrc(text: str, tmp_path: Path) -> torrc.ServiceTorrc:
    return torrc.service(text, "onion0", tmp_path / "data", tmp_path / "data" / "intake", AUTHORITIES, 43210)


@pytest.mark.parametrize("shipped", SHIPPED, ids=lambda p: p.name)
def test_the_shipped_torrc_keeps_every_defence_and_loses_only_its_paths_and_target(shipped, tmp_path):
    made = service_torrc(shipped.read_text(), tmp_path)
    lines = made.text.splitlines()
    for defence in [
        "HiddenServicePoWDefensesEnabled 1",
        "HiddenServicePoWQueueRate 250",
        "HiddenServicePoWQueueBurst 2500",
        "HiddenServiceEnableIntroDoSDefense 1",
        "HiddenServiceMaxStreams 100",
        "HiddenServiceMaxStreamsCloseCircuit 1",
        "HiddenServiceVersion 3",
        "SafeLogging 1",
        "SocksPort 0",
    ]:
        assert defence in lines
    assert f"HiddenServiceDir {tmp_path / 'data' / 'intake'}" in lines
    assert "HiddenServicePort 80 127.0.0.1:43210" in lines
    assert [line for line in lines if line.startswith("DataDirectory")] == [f"DataDirectory {tmp_path / 'data'}"]
    assert "/var/lib/tor" not in made.text and "172.30.0.10" not in made.text
    assert sum(line.startswith("DirAuthority ") for line in lines) == 3
    assert "TestingTorNetwork 1" in lines
    assert {r.split()[0] for r in made.replaced} == {"Log", "DataDirectory", "HiddenServiceDir", "HiddenServicePort"}


def test_an_operators_machine_and_network_lines_are_replaced_whatever_their_case(tmp_path):
    text = """
    # an operator's torrc
    User debian-tor
    RunAsDaemon 1
    log notice file /var/log/tor/notices.log
    ControlPort 9051
    UseBridges 1
    Bridge obfs4 192.0.2.1:443 0000000000000000000000000000000000000000
    hiddenservicedir /srv/tor/intake   # where the keys are
    HiddenServicePort 80 10.0.0.5:8000
    HiddenServicePort 443
    HiddenServicePoWDefensesEnabled 1
    """
    made = service_torrc(text, tmp_path)
    for gone in ["User", "RunAsDaemon", "notices.log", "9051", "UseBridges", "Bridge ", "/srv/tor", "10.0.0.5"]:
        assert gone not in made.text
    assert "HiddenServicePort 80 127.0.0.1:43210" in made.text
    assert "HiddenServicePort 443 127.0.0.1:43210" in made.text
    assert "HiddenServicePoWDefensesEnabled 1" in made.text
    assert len(made.replaced) == 9


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda t: t.replace("HiddenServicePoWDefensesEnabled 1", ""), "HiddenServicePoWDefensesEnabled"),
        (lambda t: t.replace("HiddenServiceDir /var/lib/tor/intake", ""), "HiddenServiceDir"),
        (
            lambda t: t.replace("HiddenServicePort 80 127.0.0.1:8000", "# HiddenServicePort 80 127.0.0.1:8000"),
            "HiddenServicePort",
        ),
        (lambda t: t + "HiddenServiceDir /var/lib/tor/other\nHiddenServicePort 80 127.0.0.1:9000\n", "several"),
    ],
    ids=["no proof of work", "no service", "its port commented out", "two services"],
)
def test_a_torrc_the_check_would_not_mean_anything_for_is_refused(change, named, tmp_path):
    with pytest.raises(torrc.TorrcRefused, match=named):
        service_torrc(change(SHIPPED[0].read_text()), tmp_path)


@pytest.mark.server
def test_every_torrc_the_check_writes_is_valid_for_tor(tmp_path):
    tor = shutil.which("tor") or ("/usr/sbin/tor" if Path("/usr/sbin/tor").exists() else None)
    if tor is None:
        if os.environ.get("INTAKE_REQUIRE_DEPLOY_TOOLS") == "1":
            pytest.fail("tor is required here (apt-get install tor)")
        pytest.skip("tor is not installed")
    made = {
        "authority": torrc.relay("auth0", tmp_path / "auth0", AUTHORITIES, 5000, 6000, authority=True),
        "relay": torrc.relay("relay0", tmp_path / "relay0", AUTHORITIES, 5100, 6100, authority=False),
        "client": torrc.client("client", tmp_path / "client", AUTHORITIES, 9050, 9051),
        "service": service_torrc(SHIPPED[0].read_text(), tmp_path).text,
    }
    for name, text in made.items():
        (tmp_path / name).mkdir(mode=0o700, exist_ok=True)
        (tmp_path / "data").mkdir(mode=0o700, exist_ok=True)
        (tmp_path / f"{name}.torrc").write_text(text)
        done = subprocess.run(
            [tor, "--verify-config", "-f", str(tmp_path / f"{name}.torrc")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, (name, done.stdout[-2000:])


def request(host: str, *extra: str, body: bytes = b"") -> bytes:
    head = ["POST /report HTTP/1.1", f"Host: {host}", "User-Agent: Chromium", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_requests_over_the_onion_that_name_their_client_or_carry_a_strange_header_are_caught():
    stream = (
        request(ONION, body=b"a" * 3000)
        + request(ONION, "X-Forwarded-For: 192.0.2.7", body=b"b")
        + request(ONION, "X-Tor-Circuit: 12")
        + request("127.0.0.1:8000", "X-Forwarded-For: 192.0.2.7")  # not over the onion: not judged here
    )
    seen = witness.parse(4242, stream)
    assert [r.method for r in seen] == ["POST"] * 4
    over_onion, wrong = witness.judge(seen, {ONION})
    assert len(over_onion) == 3
    assert len(wrong) == 2
    assert "x-forwarded-for" in wrong[0] and "names the client" in wrong[0]
    assert "x-tor-circuit" in wrong[1] and "no browser sent" in wrong[1]
    assert witness.judge(witness.parse(1, request(ONION, "Cookie: s=1", "Origin: http://" + ONION)), {ONION})[1] == []


def test_a_connection_cut_inside_a_body_yields_the_requests_before_it_only():
    stream = request(ONION, body=b"x" * 10) + request(ONION, "Forwarded: for=192.0.2.7", body=b"y" * 100)[:-50]
    assert len(witness.parse(1, stream)) == 2  # the second request's head arrived whole: it is judged
    assert len(witness.parse(1, stream[:20])) == 0


def test_proc_net_addresses_are_read_as_the_kernel_writes_them():
    assert witness.address("0100007F:1F90") == ("127.0.0.1", 8080)


@pytest.fixture
def listener():
    """A TCP server on loopback that reads what it is sent until the client closes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve():
        conn, _ = server.accept()
        with conn:
            while conn.recv(65536):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()
    thread.join(timeout=5)


def connect_and_send(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(data)
        time.sleep(0.5)  # open long enough for several samples


def test_the_socket_sampler_names_the_process_at_the_other_end(listener):
    known = witness.Sockets(listener, {os.getpid(): "this test"})
    known.start()
    connect_and_send(listener, b"hello")
    known.stop()
    assert set(known.owners()) == {"this test"}
    assert {address for address, _ in known.peers} == {"127.0.0.1"}


def test_the_socket_sampler_names_a_process_it_was_not_told_about(listener):
    strangers = witness.Sockets(listener, {})
    strangers.start()
    connect_and_send(listener, b"hello")
    strangers.stop()
    (owner,) = strangers.owners()
    assert owner.startswith(f"pid {os.getpid()} ")


@pytest.mark.skipif(bool(witness.Wire.available()), reason=witness.Wire.available() or "")
def test_the_wire_reads_what_reached_a_port_on_loopback_and_catches_a_forwarding_header(listener):
    wire = witness.Wire(listener)
    wire.start()
    with socket.socket() as elsewhere:  # traffic to another port: the kernel's filter keeps it from us
        elsewhere.bind(("127.0.0.1", 0))
        elsewhere.listen()
        with socket.create_connection(elsewhere.getsockname()) as client:
            client.sendall(request(ONION, "X-Real-IP: 192.0.2.1") * 50)
    big = b"z" * 300_000  # several segments, put back in order
    connect_and_send(listener, request(ONION, body=big) + request(ONION, "X-Real-IP: 192.0.2.9"))
    wire.stop()
    assert wire.others == 0
    seen, gaps = wire.requests()
    assert gaps == 0
    over_onion, wrong = witness.judge(seen, {ONION})
    assert len(over_onion) == 2
    assert wrong == ["POST /report: names the client: ['x-real-ip']"]
