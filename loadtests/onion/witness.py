"""What the app behind the onion learned of the reporter, seen from outside the app.

Nothing is put in the path (no proxy, no wrapper): the app runs as shipped, and two observers
watch it from beside it.

- `Sockets` samples the TCP connections to the app's port (/proc/net/tcp) and names the process
  that holds the other end of each. Over the onion that must be the onion service's tor, on 127.0.0.1:
  the browser never reaches the app itself, so the app cannot learn its address.
- `Wire` reads the loopback interface (a raw packet socket, root only), puts each connection's bytes
  to the app back in order and parses the HTTP requests in them with h11, as the app would receive
  them. A request that came over the onion must carry only what a browser sends by itself: no
  header that names a client (X-Forwarded-For, Forwarded, X-Real-IP, Via and the like) and none
  outside the browser's own set, whatever Tor or anything else on the way might have added.
"""

import ctypes
import os
import socket
import struct
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import h11

# Headers by which a proxy tells the server about the client; none may reach the app.
CLIENT_HEADERS = {
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-real-ip",
    "x-client-ip",
    "x-originating-ip",
    "x-remote-addr",
    "x-remote-ip",
    "client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "x-cluster-client-ip",
    "via",
}
# What Chromium sends by itself on a page load or form post (the Client Hints it adds unasked are
# sec-ch-ua*). Anything else arriving over the onion was added on the way.
BROWSER_HEADERS = {
    "host",
    "connection",
    "content-length",
    "content-type",
    "cache-control",
    "pragma",
    "origin",
    "referer",
    "cookie",
    "user-agent",
    "accept",
    "accept-encoding",
    "accept-language",
    "upgrade-insecure-requests",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "sec-fetch-site",
    "sec-fetch-mode",
    "sec-fetch-user",
    "sec-fetch-dest",
    "sec-purpose",
    "purpose",
    "priority",
}


def tcp_table() -> list[tuple[tuple[str, int], tuple[str, int], str, int, int]]:
    """The IPv4 TCP sockets of this network namespace in one read of /proc/net/tcp, both ends of a
    loopback connection in the same snapshot: (local, remote, state, uid, inode) each."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        rows.append((address(fields[1]), address(fields[2]), fields[3], int(fields[7]), int(fields[9])))
    return rows


def address(hex_pair: str) -> tuple[str, int]:
    """'0100007F:1F90' (the kernel's little-endian IPv4 and hex port) -> ('127.0.0.1', 8080)."""
    ip, port = hex_pair.split(":")
    return socket.inet_ntoa(struct.pack("<I", int(ip, 16))), int(port, 16)


def socket_inodes(pid: int) -> set[int]:
    found = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                found.add(int(target[8:-1]))
    except OSError:
        pass
    return found


ESTABLISHED = "01"


@dataclass
class Sockets:
    """Samples the connections to the app's port every `every` seconds in a thread of its own and
    names the process at the other end: by the socket's inode among the processes we know (the
    onion services' tors, this check), else by any process holding it, else by the socket's owner
    uid, read in the same snapshot as the connection itself (a tor runs as its own user)."""

    app_port: int
    names: dict[int, str]  # pid -> what it is
    tor_uid: int | None = None
    every: float = 0.05
    peers: dict[tuple[str, int], str] = field(default_factory=dict)  # peer (address, port) -> owner

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._owner_of: dict[int, str] = {}  # inode -> owner, kept across samples
        self._thread = threading.Thread(target=self._run, name="sockets", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def sample(self) -> None:
        rows = tcp_table()
        # The other end of a connection is the socket with the same two addresses swapped (a local
        # port alone is not enough: one port may serve connections to several destinations).
        ends = {(local, remote): (uid, inode) for local, remote, _, uid, inode in rows}
        new = [
            (remote, ends[(remote, local)])
            for local, remote, state, _, _ in rows
            if local[1] == self.app_port and state == ESTABLISHED and remote not in self.peers and (remote, local) in ends
        ]
        if not new:
            return
        for pid, name in self.names.items():
            for inode in socket_inodes(pid):
                self._owner_of[inode] = name
        for peer, (uid, inode) in new:
            self.peers[peer] = self._owner_of.get(inode) or self._anyone(inode) or self._by_uid(uid, peer, inode)

    @staticmethod
    def _anyone(inode: int) -> str:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            if inode in socket_inodes(int(pid)):
                try:
                    command = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    command = "?"
                return f"pid {pid} ({command})"
        return ""

    def _by_uid(self, uid: int, peer: tuple[str, int], inode: int) -> str:
        if self.tor_uid is not None and uid == self.tor_uid:
            return "a tor of this network (its user), closed before its pid was read"
        when = time.strftime("%H:%M:%S")
        return f"a process of uid {uid}, closed before its pid was read (port {peer[1]}, inode {inode}, at {when})"

    def owners(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for owner in self.peers.values():
            counts[owner] += 1
        return dict(counts)


ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33


def only_to(port: int) -> list[tuple[int, int, int, int]]:
    """The kernel's packet filter (classic BPF, as `tcpdump -dd 'ip and tcp dst port N'` prints it
    for an Ethernet-framed interface such as lo): only TCP segments to `port` reach us. Without it
    every cell the relays pass each other on loopback would be copied here too, and the Python that
    skips them slowed the very upload being measured (about threefold, measured)."""
    return [
        (0x28, 0, 0, 12),  # ldh [12]: the EtherType
        (0x15, 0, 8, 0x0800),  # not IPv4: drop
        (0x30, 0, 0, 23),  # ldb [23]: the IP protocol
        (0x15, 0, 6, 6),  # not TCP: drop
        (0x28, 0, 0, 20),  # ldh [20]: flags and fragment offset
        (0x45, 4, 0, 0x1FFF),  # a later fragment (no TCP header): drop
        (0xB1, 0, 0, 14),  # ldxb 4*([14]&0xf): the IP header's length
        (0x48, 0, 0, 16),  # ldh [x+16]: the TCP destination port
        (0x15, 0, 1, port),  # not our port: drop
        (0x06, 0, 0, 0x40000),  # keep the whole packet
        (0x06, 0, 0, 0),  # drop
    ]


def attach(sock: socket.socket, program: list[tuple[int, int, int, int]]) -> None:
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *instruction) for instruction in program))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(program), ctypes.addressof(code)))


@dataclass
class Seen:
    """One request as it reached the app."""

    flow: int  # the client's port
    method: str
    target: str
    headers: list[tuple[str, str]]


@dataclass
class Flow:
    isn: int | None = None
    pieces: dict[int, bytes] = field(default_factory=dict)


class Wire:
    """Every TCP segment to the app's port on the loopback interface, kept per connection."""

    def __init__(self, app_port: int):
        self.app_port = app_port
        self.flows: dict[int, Flow] = defaultdict(Flow)
        self.packets = 0
        self._stop = threading.Event()
        self.others = 0  # packets to other ports that reached Python all the same (before the filter)
        # Made with protocol 0, which receives nothing (packet(7)), and given ETH_P_ALL only at bind, once the
        # filter is on: made with it, the socket queued whatever crossed loopback before the filter was attached
        # (found when another run's traffic was on loopback: a packet to another port counted in `others`).
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        attach(self._sock, only_to(app_port))
        self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 * 1024 * 1024)  # a burst waits, not dropped
        self._sock.bind(("lo", ETH_P_ALL))  # CPython puts the protocol in network order itself
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, name="wire", daemon=True)

    @staticmethod
    def available() -> str:
        """'' when the wire can be read here, else why not."""
        if not hasattr(socket, "AF_PACKET"):
            return "no packet sockets on this system"
        if os.geteuid() != 0:
            return "reading the loopback interface needs root (CAP_NET_RAW)"
        return ""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame, address = self._sock.recvfrom(262144)
            except TimeoutError:
                continue
            except OSError:
                return
            if address[2] == PACKET_OUTGOING:
                continue  # loopback shows each packet twice: as sent, and as received
            self._take(frame)

    def _take(self, frame: bytes) -> None:
        # Ethernet (14 bytes on lo), IPv4, TCP; the app listens on 127.0.0.1 only.
        if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            return
        ip = frame[14:]
        ip_header = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        tcp = ip[ip_header:total]
        source_port, destination_port, seq = struct.unpack("!HHI", tcp[:8])
        if destination_port != self.app_port:
            self.others += 1
            return
        self.packets += 1
        flags = tcp[13]
        flow = self.flows[source_port]
        if flags & 0x02:  # SYN: the connection starts; its data starts at the next sequence number
            self.flows[source_port] = Flow(isn=(seq + 1) & 0xFFFFFFFF)
            return
        payload = tcp[(tcp[12] >> 4) * 4 :]
        if payload and flow.isn is not None:
            flow.pieces.setdefault((seq - flow.isn) & 0xFFFFFFFF, payload)

    def requests(self) -> tuple[list[Seen], int]:
        """The requests in every connection seen from its start, and how many connections had a gap
        (a dropped packet) before their end; requests after a gap are not read."""
        seen, gaps = [], 0
        for port, flow in self.flows.items():
            data, offset = bytearray(), 0
            for start in sorted(flow.pieces):
                piece = flow.pieces[start]
                if start > offset:
                    gaps += 1
                    break
                data += piece[offset - start :]
                offset = max(offset, start + len(piece))
            seen += parse(port, bytes(data))
        return seen, gaps


def parse(flow: int, data: bytes) -> list[Seen]:
    """The requests one after another in a connection's bytes, read by h11 as a server reads them."""
    found = []
    while data:
        reader = h11.Connection(h11.SERVER)
        reader.receive_data(data)
        request, ended = None, False
        try:
            while True:
                event = reader.next_event()
                if isinstance(event, h11.Request):
                    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers]
                    request = Seen(flow, event.method.decode(), event.target.decode("latin-1"), headers)
                elif isinstance(event, h11.EndOfMessage):
                    ended = True
                    break
                elif event is h11.NEED_DATA:
                    break
        except h11.RemoteProtocolError:
            break
        if request:
            found.append(request)
        if not ended:
            break  # the rest of the connection was not captured (or never sent)
        data, _closed = reader.trailing_data
    return found


def judge(requests: list[Seen], onion_hosts: set[str]) -> tuple[list[Seen], list[str]]:
    """The requests that came to an onion address, and what is wrong with them."""
    over_onion = [r for r in requests if dict(r.headers).get("host", "").split(":")[0] in onion_hosts]
    wrong = []
    for request in over_onion:
        names = {name.lower() for name, _ in request.headers}
        if names & CLIENT_HEADERS:
            wrong.append(f"{request.method} {request.target}: names the client: {sorted(names & CLIENT_HEADERS)}")
        if names - BROWSER_HEADERS - CLIENT_HEADERS:
            wrong.append(f"{request.method} {request.target}: headers no browser sent: {sorted(names - BROWSER_HEADERS)}")
    return over_onion, wrong
