"""Build the bundled sample captures: ``python samples/make_samples.py`` (from the repo root).

Every capture here is *constructed*: each SIP message is written by hand below, each
proxy's Via/Route/Record-Route/Max-Forwards handling is done explicitly, and every
timestamp comes from a table of intended delays. Next to each capture a
``<name>.timings.json`` states what the timings must be by construction (computed here
from the delay tables, by explicit sums, and cross-checked against the simulated
send times before anything is written). Tests compare the captures and our pipeline's
results against those files, never against the pipeline itself.

Deterministic: fixed epoch, fixed seeds, fixed MAC addresses; re-running gives
byte-identical files.

Timing model: the capture point sees every datagram once, timestamped when it is sent.
A node's delay in the tables is the time from the datagram that reached it being sent
to the node sending its own datagram, so it includes the link to the node and the
node's processing (a single capture point cannot separate the two).

Packets are built with scapy (Ethernet / IPv4 or IPv6 / UDP) and written with scapy's
pcap and pcapng writers.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import PcapNgWriter, PcapWriter

HERE = Path(__file__).resolve().parent
# The seed article lives outside the repository; its six listings, extracted by
# ``--extract-listings ARTICLE`` (see seed_listings), are kept in samples/seed/ so that
# the samples can be rebuilt from a clone of the repository alone.
SEED_DIR = HERE / "seed"

CRLF = "\r\n"
MS = 1000  # the simulation clock counts integer microseconds


# --------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class Node:
    """One host of a sample: its SIP name (used in Via, Record-Route, Route) and address."""

    key: str
    host: str  # FQDN for proxies, the IP literal for user agents
    ip: str
    port: int
    mac: str
    record_route: bool = False

    @property
    def ip_literal(self) -> str:
        return f"[{self.ip}]" if ":" in self.ip else self.ip

    @property
    def sent_by(self) -> str:
        """Via sent-by (RFC 3261 section 18.2.1: the port may be left out when it is 5060)."""
        host = self.host if self.host != self.ip else self.ip_literal
        return host if self.port == 5060 else f"{host}:{self.port}"

    @property
    def uri(self) -> str:
        """Loose-routing URI of this node, for Record-Route and Route."""
        host = self.host if self.host != self.ip else self.ip_literal
        port = "" if self.port == 5060 else f":{self.port}"
        return f"<sip:{host}{port};lr>"

    def owns(self, route_value: str) -> bool:
        """Is this Route entry this node's own (to be removed, RFC 3261 section 16.4)?"""
        return (
            f"@{self.host};" in route_value
            or f":{self.host};" in route_value
            or (f"{self.ip_literal};" in route_value or f"{self.ip_literal}:" in route_value)
        )


# --------------------------------------------------------------------------- messages


@dataclass
class Msg:
    """A SIP message as a start line, an ordered header list and a body.

    Content-Length is computed when the message is serialised, so it is always right
    (except in the seed listings, which are sent as raw text).
    """

    start: str
    headers: list[tuple[str, str]]
    body: str = ""

    def copy(self) -> Msg:
        return Msg(self.start, list(self.headers), self.body)

    @property
    def is_request(self) -> bool:
        return not self.start.startswith("SIP/2.0 ")

    @property
    def method(self) -> str:
        if self.is_request:
            return self.start.split(" ", 1)[0]
        return self.get("CSeq").split()[1]

    @property
    def status(self) -> int | None:
        return None if self.is_request else int(self.start.split()[1])

    def get(self, name: str) -> str:
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        raise KeyError(name)

    def get_all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def set(self, name: str, value: str) -> None:
        for i, (n, _) in enumerate(self.headers):
            if n.lower() == name.lower():
                self.headers[i] = (n, value)
                return
        self.add(name, value)

    def remove_all(self, name: str) -> None:
        self.headers = [(n, v) for n, v in self.headers if n.lower() != name.lower()]

    def insert_first(self, name: str, value: str) -> None:
        """Put a header value on top of the others of its name (a new first line of it)."""
        for i, (n, _) in enumerate(self.headers):
            if n.lower() == name.lower():
                self.headers.insert(i, (name, value))
                return
        # none yet: Via goes first of all, other headers after Via / Max-Forwards / Route
        if name == "Via":
            self.headers.insert(0, (name, value))
            return
        after = [
            i
            for i, (n, _) in enumerate(self.headers)
            if n.lower() in ("via", "max-forwards", "route")
        ]
        if after:
            self.headers.insert(after[-1] + 1, (name, value))
        else:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        """Append before Content-Type / Content-Length, which stay last."""
        for i, (n, _) in enumerate(self.headers):
            if n.lower() in ("content-type", "content-length"):
                self.headers.insert(i, (name, value))
                return
        self.headers.append((name, value))

    def encode(self) -> bytes:
        body = self.body.encode()
        lines = [self.start]
        for n, v in self.headers:
            if n.lower() == "content-length":
                continue
            lines.append(f"{n}: {v}")
        lines.append(f"Content-Length: {len(body)}")
        return (CRLF.join(lines) + CRLF + CRLF).encode() + body


def sdp(lines: list[str]) -> str:
    return CRLF.join(lines) + CRLF


# --------------------------------------------------------------------------- simulation


@dataclass
class Event:
    t_us: int
    src: Node
    dst: Node
    data: bytes
    label: str
    seq: int


@dataclass
class Flow:
    """Collects datagrams with their send times; knows how proxies treat requests/responses."""

    seed: int
    epoch_us: int
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def token(self, n: int = 8) -> str:
        return "".join(self.rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(n))

    def branch(self) -> str:
        return "z9hG4bK" + self.token(10)

    def send(self, t_us: int, src: Node, dst: Node, msg: Msg | bytes, label: str = "") -> int:
        data = msg.encode() if isinstance(msg, Msg) else msg
        if not label and isinstance(msg, Msg):
            label = msg.start.split(" SIP/2.0")[0] if msg.is_request else msg.start[8:]
        self.events.append(Event(t_us, src, dst, data, label, len(self.events)))
        return t_us

    # ---- proxies (RFC 3261 section 16.6: copy, Request-URI, Max-Forwards, Record-Route,
    # ---- Route, Via; section 16.7: responses lose the top Via)

    def relay_request(
        self,
        t_us: int,
        path: list[Node],
        req: Msg,
        delays_us: dict[str, int],
        trying_us: dict[str, int] | None = None,
        branches: dict[str, str] | None = None,
        hook=None,
    ) -> list[tuple[int, Msg]]:
        """Send ``req`` from path[0] through the proxies path[1:-1] to path[-1].

        Each proxy removes its own Route entry, adds Record-Route when it record-routes
        and the request creates a dialog, pushes its Via with a new branch, decrements
        Max-Forwards, optionally runs ``hook(node, msg)`` (node-specific work such as a
        Request-URI rewrite), answers an INVITE with 100 Trying when ``trying_us`` has
        its delay, and forwards after ``delays_us[node.key]``.

        Returns the (send time, message) of each hop, hop 0 being the originator's.
        """
        branches = branches or {}
        hops = [(self.send(t_us, path[0], path[1], req), req)]
        dialog_creating = req.method == "INVITE" and ";tag=" not in req.get("To")
        for i in range(1, len(path) - 1):
            node, prev_t, prev = path[i], hops[-1][0], hops[-1][1]
            if trying_us and node.key in trying_us and req.method == "INVITE":
                self.send(
                    prev_t + trying_us[node.key], node, path[i - 1], response(prev, 100, "Trying")
                )
            fwd = prev.copy()
            routes = fwd.get_all("Route")
            fwd.remove_all("Route")
            if routes and node.owns(routes[0]):
                routes = routes[1:]
            if node.record_route and dialog_creating:
                fwd.insert_first("Record-Route", node.uri)
            fwd.insert_first(
                "Via",
                f"SIP/2.0/UDP {node.sent_by};branch={branches.get(node.key) or self.branch()}",
            )
            fwd.set("Max-Forwards", str(int(fwd.get("Max-Forwards")) - 1))
            if hook:
                routes = hook(node, fwd, routes)
            for r in routes:
                _insert_route(fwd, r)
            hops.append((self.send(prev_t + delays_us[node.key], node, path[i + 1], fwd), fwd))
        return hops

    def relay_response(
        self,
        t_us: int,
        path: list[Node],
        resp: Msg,
        delays_us: dict[str, int],
        request_hops: list[tuple[int, Msg]] | None = None,
        ack_us: int = 0,
    ) -> list[tuple[int, Msg]]:
        """Send ``resp`` from path[0] (the UAS) back through proxies to path[-1] (the UAC).

        Each proxy pops its Via (RFC 3261 section 16.7 step 9). For a non-2xx final
        response to INVITE, each node that receives it ACKs it on that hop (section
        17.1.1.3, the ACK is hop by hop) ``ack_us`` after receiving it, using the
        INVITE of that hop from ``request_hops`` (ordered UAC first).
        """
        hops = [(self.send(t_us, path[0], path[1], resp), resp)]
        status = resp.status or 0
        needs_ack = resp.method == "INVITE" and status >= 300
        n = len(path)
        for i in range(1, n):
            node, prev_t, prev = path[i], hops[-1][0], hops[-1][1]
            if needs_ack and request_hops is not None:
                invite = request_hops[n - 1 - i][1]
                self.send(prev_t + ack_us, node, path[i - 1], ack_for_non_2xx(invite, prev))
            if i == n - 1:
                break
            fwd = prev.copy()
            vias = fwd.get_all("Via")
            fwd.remove_all("Via")
            for v in reversed(vias[1:]):
                fwd.insert_first("Via", v)
            hops.append((self.send(prev_t + delays_us[node.key], node, path[i + 1], fwd), fwd))
        return hops


def _insert_route(msg: Msg, value: str) -> None:
    """Append a Route entry after the existing ones (Route order matters)."""
    last = -1
    for i, (n, _) in enumerate(msg.headers):
        if n.lower() == "route":
            last = i
    if last >= 0:
        msg.headers.insert(last + 1, ("Route", value))
        return
    # right after the Vias and Max-Forwards, where UAs put it
    for i, (n, _) in enumerate(msg.headers):
        if n.lower() == "max-forwards":
            msg.headers.insert(i + 1, ("Route", value))
            return
    msg.add("Route", value)


def response(
    req: Msg,
    code: int,
    reason: str,
    to_tag: str | None = None,
    extra: list[tuple[str, str]] | None = None,
    body: str = "",
    record_route: bool = False,
) -> Msg:
    """A response to ``req`` as received by its sender (RFC 3261 section 8.2.6.2):
    Vias, From, To (plus tag), Call-ID and CSeq copied; Record-Route copied for
    dialog-creating responses (section 12.1.1)."""
    headers: list[tuple[str, str]] = [("Via", v) for v in req.get_all("Via")]
    if record_route:
        headers += [("Record-Route", v) for v in req.get_all("Record-Route")]
    to = req.get("To")
    if to_tag and ";tag=" not in to:
        to = f"{to};tag={to_tag}"
    headers += [
        ("From", req.get("From")),
        ("To", to),
        ("Call-ID", req.get("Call-ID")),
        ("CSeq", req.get("CSeq")),
    ]
    headers += extra or []
    if body:
        headers.append(("Content-Type", "application/sdp"))
    headers.append(("Content-Length", "0"))
    return Msg(f"SIP/2.0 {code} {reason}", headers, body)


def ack_for_non_2xx(invite: Msg, resp: Msg) -> Msg:
    """RFC 3261 section 17.1.1.3: same Request-URI, Call-ID, From, CSeq number, top Via
    (same branch) and Route as the INVITE; To from the response."""
    ruri = invite.start.split()[1]
    headers = [("Via", invite.get_all("Via")[0]), ("Max-Forwards", "70")]
    headers += [("Route", r) for r in invite.get_all("Route")]
    headers += [
        ("From", invite.get("From")),
        ("To", resp.get("To")),
        ("Call-ID", invite.get("Call-ID")),
        ("CSeq", f"{invite.get('CSeq').split()[0]} ACK"),
        ("Content-Length", "0"),
    ]
    return Msg(f"ACK {ruri} SIP/2.0", headers)


# --------------------------------------------------------------------------- writing


def _packet(ev: Event) -> bytes:
    udp = UDP(sport=ev.src.port, dport=ev.dst.port) / Raw(ev.data)
    if ":" in ev.src.ip:
        ip = IPv6(src=ev.src.ip, dst=ev.dst.ip, hlim=64) / udp
    else:
        # fixed IP id per datagram: deterministic and plausible
        ip = (
            IP(src=ev.src.ip, dst=ev.dst.ip, ttl=64, id=(0x1000 + ev.seq) & 0xFFFF, flags="DF")
            / udp
        )
    return bytes(Ether(src=ev.src.mac, dst=ev.dst.mac) / ip)


def write_capture(flow: Flow, path: Path) -> list[Event]:
    """Write the flow's datagrams in time order; returns them in that order."""
    events = sorted(flow.events, key=lambda e: (e.t_us, e.seq))
    times = [e.t_us for e in events]
    assert len(set(times)) == len(times), f"{path.name}: two datagrams at the same instant"
    pkts = []
    for ev in events:
        p = Ether(_packet(ev))
        ts = flow.epoch_us + ev.t_us
        p.time = Decimal(ts) / Decimal(1_000_000)
        pkts.append(p)
    if path.suffix == ".pcapng":
        ng = PcapNgWriter(str(path))
        for p in pkts:
            ng.write(p)
        ng.close()
    else:
        w = PcapWriter(str(path), linktype=1, sync=True)
        for p in pkts:
            w.write(p)
        w.close()
    return events


def write_timings(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def t_of(events: list[Event], label: str, src: str, dst: str, nth: int = 0) -> int:
    """Send time of the nth datagram with this label from src to dst (self-check helper)."""
    found = [e.t_us for e in events if e.label == label and e.src.key == src and e.dst.key == dst]
    return found[nth]


def ms(us: int) -> float:
    return us / 1000


def mac(n: int) -> str:
    return f"02:00:5e:10:00:{n:02x}"


# --------------------------------------------------------------------------- the IMS story


# 2024-10-09 07:41:11 UTC, the article's date (15:41:11 in China).
IMS_EPOCH_US = 1728459671 * 1_000_000

TOM = Node("tom", "4444::2:3:4:5", "4444::2:3:4:5", 1537, mac(1))
PCSCF1 = Node("pcscf1", "pcscf1.tel.com", "5555::a:f:f:e", 5060, mac(2), record_route=True)
ICSCF1 = Node("icscf1", "icscf1.tel.com", "5555::b:0:0:1", 5060, mac(3))
SCSCF1 = Node("scscf1", "scscf1.tel.com", "5555::c:0:0:1", 5060, mac(4), record_route=True)
ICSCF2 = Node("icscf2", "icscf2.california.tel.com", "6666::b:0:0:1", 5060, mac(5))
SCSCF2 = Node(
    "scscf2", "scscf2.california.tel.com", "6666::c:0:0:1", 5060, mac(6), record_route=True
)
PCSCF2 = Node(
    "pcscf2", "pcscf2.california.tel.com", "6666::a:f:f:e", 5060, mac(7), record_route=True
)
# The article writes Jerry's address as "[4444:5:6:7:8]", which is not a valid IPv6
# address (five groups, no "::"); we read it as 4444::5:6:7:8.
JERRY = Node("jerry", "4444::5:6:7:8", "4444::5:6:7:8", 1078, mac(8))

IMS_HOSTS = [TOM, PCSCF1, ICSCF1, SCSCF1, ICSCF2, SCSCF2, PCSCF2, JERRY]

TOM_AOR = "sip:tom@telcomx.tel.com"
JERRY_AOR = "sip:jerry@california.tel.com"
SERVICE_ROUTE = "<sip:telcomx@scscf1.tel.com;lr>"
UA_TOM = "IMS-Client/2.1 (Tom)"
UA_JERRY = "IMS-Client/2.1 (Jerry)"

# ---- intended delays (microseconds); see the timing model in the module docstring

IMS_DELAYS = {
    # REGISTER path UE -> P-CSCF -> I-CSCF -> S-CSCF: each node's time to forward
    "register_forward_us": {"pcscf1": 4_200, "icscf1": 9_800},
    # S-CSCF: first REGISTER -> 401 (HSS authentication vectors, Cx MAR/MAA)
    "register_401_us": 11_300,
    # S-CSCF: second REGISTER -> 200 (Cx SAR/SAA)
    "register_200_us": 14_600,
    # relaying a REGISTER response back: I-CSCF, P-CSCF
    "register_response_us": {"icscf1": 900, "pcscf1": 1_100},
    # UE: 401 received -> second REGISTER sent (computes the AKA response)
    "ue_auth_us": 35_000,
    # pause between registration and the call
    "register_to_invite_us": 2_500_000,
    # INVITE path: each node's time to forward the INVITE (link + processing). The
    # I-CSCF of california.tel.com sits across the ocean and queries SLF/HSS.
    "invite_forward_us": {
        "pcscf1": 2_900,
        "scscf1": 7_800,
        "icscf2": 71_400,
        "scscf2": 6_300,
        "pcscf2": 3_700,
    },
    # each node's 100 Trying to the previous hop, after receiving the INVITE
    "trying_us": {
        "pcscf1": 400,
        "scscf1": 500,
        "icscf2": 62_300,
        "scscf2": 600,
        "pcscf2": 450,
        "jerry": 9_000,
    },
    # each proxy's time to relay a response (to INVITE, PRACK, ACK-less) towards the UAC
    "response_forward_us": {
        "pcscf2": 1_300,
        "scscf2": 1_600,
        "icscf2": 62_900,
        "scscf1": 1_500,
        "pcscf1": 1_200,
    },
    # in-dialog requests (PRACK, ACK, BYE) travel P1 - S1 - S2 - P2 (the Record-Route set)
    "indialog_forward_us": {"pcscf1": 1_800, "scscf1": 64_100, "scscf2": 2_100, "pcscf2": 1_700},
    "indialog_forward_reverse_us": {
        "pcscf2": 1_900,
        "scscf2": 63_800,
        "scscf1": 2_000,
        "pcscf1": 1_600,
    },
    "indialog_response_us": {"pcscf2": 1_100, "scscf2": 63_700, "scscf1": 1_300, "pcscf1": 1_000},
    "indialog_response_reverse_us": {
        "pcscf1": 1_200,
        "scscf1": 63_900,
        "scscf2": 1_400,
        "pcscf2": 1_100,
    },
    # Jerry's UE: INVITE received -> 183 with the SDP answer
    "jerry_183_us": 48_000,
    # Tom's UE: 183 received -> PRACK
    "tom_prack_us": 12_000,
    # Jerry's UE: PRACK received -> 200 (PRACK)
    "jerry_prack_200_us": 6_000,
    # Jerry's UE: 200 (PRACK) sent -> 180 Ringing
    "jerry_ringing_us": 310_000,
    # Jerry answers: 180 sent -> 200 (INVITE) sent
    "jerry_answer_us": 6_240_000,
    # Tom's UE: 200 (INVITE) received -> ACK
    "tom_ack_us": 1_500,
    # conversation: ACK received by Jerry -> Jerry's BYE
    "talk_us": 23_400_000,
    # Tom's UE: BYE received -> 200 (BYE)
    "tom_bye_200_us": 2_200,
}


def ims_sdp_offer() -> str:
    return sdp(
        [
            "v=0",
            "o=tom 2890844526 2890844526 IN IP6 4444::2:3:4:5",
            "s=-",
            "c=IN IP6 4444::2:3:4:5",
            "t=0 0",
            "m=audio 49170 RTP/AVP 97 98 0 8 101",
            "b=AS:41",
            "a=rtpmap:97 AMR-WB/16000",
            "a=fmtp:97 mode-change-capability=2;max-red=0",
            "a=rtpmap:98 AMR/8000",
            "a=fmtp:98 mode-change-capability=2;max-red=0",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:101 telephone-event/16000",
            "a=ptime:20",
            "a=sendrecv",
        ]
    )


def ims_sdp_answer(version: int) -> str:
    return sdp(
        [
            "v=0",
            f"o=jerry 3456789012 {3456789012 + version} IN IP6 4444::5:6:7:8",
            "s=-",
            "c=IN IP6 4444::5:6:7:8",
            "t=0 0",
            "m=audio 60002 RTP/AVP 97 98 101",
            "b=AS:41",
            "a=rtpmap:97 AMR-WB/16000",
            "a=fmtp:97 mode-change-capability=2;max-red=0",
            "a=rtpmap:98 AMR/8000",
            "a=fmtp:98 mode-change-capability=2;max-red=0",
            "a=rtpmap:101 telephone-event/16000",
            "a=ptime:20",
            "a=sendrecv",
        ]
    )


def ims_sdp_prack_offer() -> str:
    """Tom settles on one codec (the article: the PRACK carries the second offer)."""
    return sdp(
        [
            "v=0",
            "o=tom 2890844526 2890844527 IN IP6 4444::2:3:4:5",
            "s=-",
            "c=IN IP6 4444::2:3:4:5",
            "t=0 0",
            "m=audio 49170 RTP/AVP 97 101",
            "b=AS:41",
            "a=rtpmap:97 AMR-WB/16000",
            "a=fmtp:97 mode-change-capability=2;max-red=0",
            "a=rtpmap:101 telephone-event/16000",
            "a=ptime:20",
            "a=sendrecv",
        ]
    )


def ims_sdp_prack_answer() -> str:
    return sdp(
        [
            "v=0",
            "o=jerry 3456789012 3456789014 IN IP6 4444::5:6:7:8",
            "s=-",
            "c=IN IP6 4444::5:6:7:8",
            "t=0 0",
            "m=audio 60002 RTP/AVP 97 101",
            "b=AS:41",
            "a=rtpmap:97 AMR-WB/16000",
            "a=fmtp:97 mode-change-capability=2;max-red=0",
            "a=rtpmap:101 telephone-event/16000",
            "a=ptime:20",
            "a=sendrecv",
        ]
    )


def build_ims(out: Path) -> None:
    d = IMS_DELAYS
    flow = Flow(seed=3261, epoch_us=IMS_EPOCH_US)
    reg_path = [TOM, PCSCF1, ICSCF1, SCSCF1]

    def register_hook(node: Node, msg: Msg, routes: list[str]) -> list[str]:
        if node is PCSCF1:
            # RFC 3327: the P-CSCF adds itself to Path so the S-CSCF can reach the UE
            msg.insert_first("Path", "<sip:term@pcscf1.tel.com;lr>")
            msg.add("P-Visited-Network-ID", '"tel.com"')
            msg.add("P-Charging-Vector", f"icid-value={flow.token(16)}")
        return routes

    def register(call_id: str, cseq: int, tag: str, branch: str, nonce: str, resp: str) -> Msg:
        return Msg(
            "REGISTER sip:telcomx.tel.com SIP/2.0",
            [
                ("Via", f"SIP/2.0/UDP {TOM.sent_by};branch={branch}"),
                ("Max-Forwards", "70"),
                ("Route", f"<sip:{PCSCF1.ip_literal};lr>"),
                ("From", f"<{TOM_AOR}>;tag={tag}"),
                ("To", f"<{TOM_AOR}>"),
                ("Call-ID", call_id),
                ("CSeq", f"{cseq} REGISTER"),
                ("Contact", f"<sip:{TOM.ip_literal}:{TOM.port}>;expires=600000"),
                (
                    "Authorization",
                    f'Digest username="tom@telcomx.tel.com", realm="telcomx.tel.com", '
                    f'nonce="{nonce}", '
                    f'uri="sip:telcomx.tel.com", response="{resp}"'
                    + (", algorithm=AKAv1-MD5" if nonce else ""),
                ),
                ("Supported", "path"),
                ("User-Agent", UA_TOM),
                ("Expires", "600000"),
                ("Content-Length", "0"),
            ],
        )

    # --- registration, first attempt (article listing 1, made RFC 3261-correct)
    t0 = 0
    reg1 = register("apb304a94sslfeiasle93aj11", 25, "pohjaxx", "z9hG4bKxo93sle", "", "")
    hops = flow.relay_request(t0, reg_path, reg1, d["register_forward_us"])
    nonce = "A34Cm+FVa73YTUGpGMBIs34P"
    r401 = response(
        hops[-1][1],
        401,
        "Unauthorized",
        to_tag="a0ksn2p",
        extra=[
            (
                "WWW-Authenticate",
                f'Digest realm="telcomx.tel.com", nonce="{nonce}", algorithm=AKAv1-MD5, qop="auth"',
            ),
        ],
    )
    t = hops[-1][0] + d["register_401_us"]
    rhops = flow.relay_response(t, list(reversed(reg_path)), r401, d["register_response_us"])
    t401_at_ue = rhops[-1][0]

    # --- second REGISTER: new Call-ID, CSeq, branch and From tag (article listing 2)
    reg2 = register(
        "apb304a94sslfaser2le93aj22",
        47,
        "6e87wa9",
        "z9hG4bKu2x9s7",
        nonce,
        "6629fac4969a87854152369874c43fd1",
    )
    t = t401_at_ue + d["ue_auth_us"]
    hops2 = flow.relay_request(
        t,
        reg_path,
        reg2,
        d["register_forward_us"],
        branches={"pcscf1": "z9hG4bK2x7as2", "icscf1": "z9hG4bK21ksi9"},
    )
    r200 = response(
        hops2[-1][1],
        200,
        "OK",
        to_tag="kotimaex",
        extra=[
            ("Contact", f"<sip:{TOM.ip_literal}:{TOM.port}>;expires=600000"),
            ("Path", "<sip:term@pcscf1.tel.com;lr>"),
            ("Service-Route", SERVICE_ROUTE),
            ("P-Associated-URI", f"<{TOM_AOR}>"),
            ("Date", "Wed, 09 Oct 2024 07:41:11 GMT"),
        ],
    )
    t = hops2[-1][0] + d["register_200_us"]
    rhops2 = flow.relay_response(t, list(reversed(reg_path)), r200, d["register_response_us"])
    t_reg_done = rhops2[-1][0]

    # --- the call (article listing 4, made RFC 3261-correct)
    call_id = "apb03a0s09dkjdfoaidy49555"
    invite = Msg(
        f"INVITE {JERRY_AOR} SIP/2.0",
        [
            ("Via", f"SIP/2.0/UDP {TOM.sent_by};branch=z9hG4bK8ulse1"),
            ("Max-Forwards", "70"),
            ("Route", f"<sip:{PCSCF1.ip_literal};lr>"),
            ("Route", SERVICE_ROUTE),
            ("From", f"<{TOM_AOR}>;tag=6e87wa9"),
            ("To", f"<{JERRY_AOR}>"),
            ("Call-ID", call_id),
            ("CSeq", "1 INVITE"),
            ("Contact", f"<sip:{TOM.ip_literal}:{TOM.port}>"),
            ("Allow", "INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, OPTIONS"),
            ("Supported", "100rel"),
            ("User-Agent", UA_TOM),
            ("Content-Type", "application/sdp"),
            ("Content-Length", "0"),
        ],
        ims_sdp_offer(),
    )

    def invite_hook(node: Node, msg: Msg, routes: list[str]) -> list[str]:
        if node is ICSCF2:
            # the I-CSCF asks SLF/HSS for Jerry's S-CSCF and routes the request there
            return [SCSCF2.uri]
        if node is SCSCF2:
            # terminating S-CSCF: Request-URI becomes the registered contact, and the
            # request is routed along the Path learnt at Jerry's registration
            msg.start = f"INVITE sip:{JERRY.ip_literal}:{JERRY.port} SIP/2.0"
            return [PCSCF2.uri]
        return routes

    inv_path = [TOM, PCSCF1, SCSCF1, ICSCF2, SCSCF2, PCSCF2, JERRY]
    t_invite = t_reg_done + d["register_to_invite_us"]
    ihops = flow.relay_request(
        t_invite,
        inv_path,
        invite,
        d["invite_forward_us"],
        trying_us=d["trying_us"],
        branches={
            "pcscf1": "z9hG4bK412d2",
            "scscf1": "z9hG4bK64w32",
            "icscf2": "z9hG4bK24re3",
            "scscf2": "z9hG4bK12fd3",
        },
        hook=invite_hook,
    )
    invite_at_jerry = ihops[-1][1]
    t_invite_at_jerry = ihops[-1][0]
    flow.send(
        t_invite_at_jerry + d["trying_us"]["jerry"],
        JERRY,
        PCSCF2,
        response(invite_at_jerry, 100, "Trying"),
    )
    jerry_tag = "e42q14d"
    jerry_contact = f"<sip:{JERRY.ip_literal}:{JERRY.port}>"
    back = list(reversed(inv_path))

    r183 = response(
        invite_at_jerry,
        183,
        "Session Progress",
        to_tag=jerry_tag,
        record_route=True,
        extra=[
            ("Contact", jerry_contact),
            ("Require", "100rel"),
            ("RSeq", "1"),
            ("Allow", "INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, OPTIONS"),
            ("User-Agent", UA_JERRY),
        ],
        body=ims_sdp_answer(0),
    )
    h183 = flow.relay_response(
        t_invite_at_jerry + d["jerry_183_us"], back, r183, d["response_forward_us"]
    )
    t183_at_tom = h183[-1][0]

    # route set (RFC 3261 section 12.1.2): the UAC takes Record-Route reversed
    rr = r183.get_all("Record-Route")
    uac_routes = list(reversed(rr))
    uas_routes = list(rr)
    indialog_path = [TOM, PCSCF1, SCSCF1, SCSCF2, PCSCF2, JERRY]
    from_tom = f"<{TOM_AOR}>;tag=6e87wa9"
    to_jerry = f"<{JERRY_AOR}>;tag={jerry_tag}"

    def tom_request(method: str, cseq: int, extra: list[tuple[str, str]], body: str = "") -> Msg:
        hdrs = [
            ("Via", f"SIP/2.0/UDP {TOM.sent_by};branch={flow.branch()}"),
            ("Max-Forwards", "70"),
        ]
        hdrs += [("Route", r) for r in uac_routes]
        hdrs += [
            ("From", from_tom),
            ("To", to_jerry),
            ("Call-ID", call_id),
            ("CSeq", f"{cseq} {method}"),
        ]
        hdrs += extra
        if body:
            hdrs.append(("Content-Type", "application/sdp"))
        hdrs.append(("Content-Length", "0"))
        return Msg(f"{method} sip:{JERRY.ip_literal}:{JERRY.port} SIP/2.0", hdrs, body)

    prack = tom_request(
        "PRACK", 2, [("RAck", "1 1 INVITE"), ("User-Agent", UA_TOM)], ims_sdp_prack_offer()
    )
    ph = flow.relay_request(
        t183_at_tom + d["tom_prack_us"], indialog_path, prack, d["indialog_forward_us"]
    )
    p200 = response(
        ph[-1][1], 200, "OK", extra=[("User-Agent", UA_JERRY)], body=ims_sdp_prack_answer()
    )
    p200h = flow.relay_response(
        ph[-1][0] + d["jerry_prack_200_us"],
        list(reversed(indialog_path)),
        p200,
        d["indialog_response_us"],
    )
    t180 = p200h[0][0] + d["jerry_ringing_us"]
    r180 = response(
        invite_at_jerry,
        180,
        "Ringing",
        to_tag=jerry_tag,
        record_route=True,
        extra=[
            ("Contact", jerry_contact),
            ("User-Agent", UA_JERRY),
        ],
    )
    flow.relay_response(t180, back, r180, d["response_forward_us"])
    t200 = t180 + d["jerry_answer_us"]
    r200i = response(
        invite_at_jerry,
        200,
        "OK",
        to_tag=jerry_tag,
        record_route=True,
        extra=[
            ("Contact", jerry_contact),
            ("Allow", "INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, OPTIONS"),
            ("User-Agent", UA_JERRY),
        ],
    )
    h200 = flow.relay_response(t200, back, r200i, d["response_forward_us"])
    t200_at_tom = h200[-1][0]
    ack = tom_request("ACK", 1, [("User-Agent", UA_TOM)])
    ah = flow.relay_request(
        t200_at_tom + d["tom_ack_us"], indialog_path, ack, d["indialog_forward_us"]
    )
    t_ack_at_jerry = ah[-1][0]

    # --- release by Jerry (article listing 6, made RFC 3261-correct)
    bye = Msg(
        f"BYE sip:{TOM.ip_literal}:{TOM.port} SIP/2.0",
        [
            ("Via", f"SIP/2.0/UDP {JERRY.sent_by};branch={flow.branch()}"),
            ("Max-Forwards", "70"),
            *[("Route", r) for r in uas_routes],
            ("From", to_jerry),
            ("To", from_tom),
            ("Call-ID", call_id),
            ("CSeq", "15 BYE"),
            ("User-Agent", UA_JERRY),
            ("Content-Length", "0"),
        ],
    )
    bye_path = list(reversed(indialog_path))
    t_bye = t_ack_at_jerry + d["talk_us"]
    bh = flow.relay_request(t_bye, bye_path, bye, d["indialog_forward_reverse_us"])
    b200 = response(bh[-1][1], 200, "OK", extra=[("User-Agent", UA_TOM)])
    b200h = flow.relay_response(
        bh[-1][0] + d["tom_bye_200_us"], indialog_path, b200, d["indialog_response_reverse_us"]
    )
    t_bye_done = b200h[-1][0]

    events = write_capture(flow, out)

    # ---- expected values, by explicit sums of the delay table (not from the events)
    rf, r401d, rr_ = d["register_forward_us"], d["register_401_us"], d["register_response_us"]
    reg_leg = rf["pcscf1"] + rf["icscf1"]
    reg_back = rr_["icscf1"] + rr_["pcscf1"]
    reg_delay = (
        (reg_leg + r401d + reg_back) + d["ue_auth_us"] + (reg_leg + d["register_200_us"] + reg_back)
    )
    fwd, rsp = d["invite_forward_us"], d["response_forward_us"]
    inv_leg = sum(fwd.values())
    rsp_leg = sum(rsp.values())
    pdd = inv_leg + d["jerry_183_us"] + rsp_leg
    prack_rt = (
        sum(d["indialog_forward_us"].values())
        + d["jerry_prack_200_us"]
        + sum(d["indialog_response_us"].values())
    )
    answer = (
        inv_leg
        + d["jerry_183_us"]
        + rsp_leg
        + d["tom_prack_us"]
        + sum(d["indialog_forward_us"].values())
        + d["jerry_prack_200_us"]
        + d["jerry_ringing_us"]
        + d["jerry_answer_us"]
        + rsp_leg
    )
    release = (
        sum(d["indialog_forward_reverse_us"].values())
        + d["tom_bye_200_us"]
        + sum(d["indialog_response_reverse_us"].values())
    )
    duration = d["tom_ack_us"] + sum(d["indialog_forward_us"].values()) + d["talk_us"] + rsp_leg

    # ---- self-check: the simulated send times agree with the sums
    assert (
        t_of(events, "200 OK", "pcscf1", "tom", 0)
        - t_of(events, "REGISTER sip:telcomx.tel.com", "tom", "pcscf1", 0)
        == reg_delay
    )
    assert t183_at_tom - t_invite == pdd
    assert t200_at_tom - t_invite == answer
    assert t_bye_done - t_bye == release
    assert t_bye - t200 == duration
    assert (
        ph[-1][0] - ph[0][0] + d["jerry_prack_200_us"] + sum(d["indialog_response_us"].values())
        == prack_rt
    )

    hop_names = ["pcscf1", "scscf1", "icscf2", "scscf2", "pcscf2"]
    timings = {
        "capture": out.name,
        "model": "one capture point sees every datagram once, timestamped when sent; "
        "a node's delay "
        "is from the datagram reaching it being sent to its own datagram being sent",
        "epoch": IMS_EPOCH_US / 1_000_000,
        "hosts": {n.key: {"host": n.host, "ip": n.ip, "port": n.port} for n in IMS_HOSTS},
        "delays_us": d,
        "registration": {
            "aor": TOM_AOR,
            "call_ids": ["apb304a94sslfeiasle93aj11", "apb304a94sslfaser2le93aj22"],
            "challenged": True,
            "final_status": 200,
            "expires": 600000,
            "start": (IMS_EPOCH_US + t0) / 1_000_000,
            "delay_ms": ms(reg_delay),
            "definition": "first REGISTER sent by Tom's UE to the 200 OK arriving at Tom's UE "
            "(sent by the P-CSCF), across the 401 challenge",
        },
        "call": {
            "call_id": call_id,
            "caller": TOM_AOR,
            "callee": JERRY_AOR,
            "state": "completed",
            "final_status": 200,
            "start": (IMS_EPOCH_US + t_invite) / 1_000_000,
            "pdd_ms": ms(pdd),
            "answer_ms": ms(answer),
            "release_ms": ms(release),
            "duration_s": duration / 1_000_000,
            "prack_round_trip_ms": ms(prack_rt),
            "definitions": {
                "pdd_ms": "INVITE sent by Tom's UE -> 183 arriving at Tom's UE (sent by pcscf1)",
                "answer_ms": "INVITE sent by Tom's UE -> 200 (INVITE) arriving at Tom's UE",
                "release_ms": "BYE sent by Jerry's UE -> 200 (BYE) arriving at Jerry's UE "
                "(sent by pcscf2)",
                "duration_s": "200 (INVITE) first seen (sent by Jerry's UE) -> "
                "BYE first seen (sent by Jerry's UE)",
            },
            "invite_hops": [
                {"from": a.key, "to": b.key} for a, b in zip(inv_path, inv_path[1:], strict=False)
            ],
            "invite_added_delay_ms": {k: ms(fwd[k]) for k in hop_names},
            "response_added_delay_ms": {k: ms(rsp[k]) for k in reversed(hop_names)},
            "trying_after_invite_ms": {k: ms(v) for k, v in d["trying_us"].items()},
        },
        "counts": _counts(events),
    }
    timings["registration"]["anchors"] = {
        "delay_ms": [frame_of(events, t0), frame_of(events, t_reg_done)]
    }
    timings["call"]["anchors"] = {
        "pdd_ms": [frame_of(events, t_invite), frame_of(events, t183_at_tom)],
        "answer_ms": [frame_of(events, t_invite), frame_of(events, t200_at_tom)],
        "release_ms": [frame_of(events, t_bye), frame_of(events, t_bye_done)],
        "duration_s": [frame_of(events, t200), frame_of(events, t_bye)],
    }
    timings["registrations"] = [timings["registration"]]
    timings["calls"] = [timings["call"]]
    write_timings(out.with_name("ims-tom-jerry.timings.json"), timings)


def frame_of(events: list[Event], t_us: int) -> int:
    """1-based frame number of the datagram sent at t_us (send times are unique)."""
    (n,) = [i for i, e in enumerate(events, 1) if e.t_us == t_us]
    return n


def _counts(events: list[Event]) -> dict:
    """Datagram counts per request method and per response status/method (for tests)."""
    requests: dict[str, int] = {}
    responses: dict[str, int] = {}
    for e in events:
        text = e.data.decode("utf-8", "replace")
        first = text.split("\r\n", 1)[0]
        if first.startswith("SIP/2.0 "):
            cseq = next(x for x in text.split("\r\n") if x.lower().startswith("cseq:"))
            key = f"{first.split()[1]} {cseq.split()[-1]}"
            responses[key] = responses.get(key, 0) + 1
        else:
            m = first.split()[0]
            requests[m] = requests.get(m, 0) + 1
    return {
        "datagrams": len(events),
        "sip_messages": len(events),
        "requests": dict(sorted(requests.items())),
        "responses": dict(sorted(responses.items())),
        "hosts": len({e.src.ip for e in events} | {e.dst.ip for e in events}),
    }


# --------------------------------------------------------------------------- seed listings


def seed_listings(text: str) -> list[str]:
    """The article's six listings, as SIP text (CRLF line ends).

    What is changed, and why: the web page numbers each listing's lines in a column
    before it (dropped), separates every line with an empty line (dropped), indents
    the lines of listings 4 and 5 by one no-break space U+00A0 (dropped: it is page
    layout, and kept it would make every header a continuation of the start line),
    indents the folded Authorization lines of listings 1 and 2 with 13 no-break spaces
    (made spaces, so they stay header continuation lines), and writes the empty line
    before the body as "(必须的空行)" ("the mandatory empty line"; sent as that empty
    line). The SDP bodies of listings 4 and 5 are only placeholders ("(SDP 请求消息体)"),
    so those messages are sent without a body although they declare a Content-Length.
    Everything else is as printed: INIVTE, SIP2.0, Route-Route, CSeq: 2 183, missing
    spaces after colons, and the page's e-mail obfuscation "[email\u00a0protected]"
    (with its no-break space) in place of the addresses. The result is byte for byte
    tests/data/seed/listing*.sip, extracted independently by the sip module's tests.
    """
    # leading no-break spaces (U+00A0, HTML &nbsp;) are the page's indentation: spaces
    lines = [
        " " * (len(line) - len(line.lstrip("\u00a0"))) + line.lstrip("\u00a0")
        for line in text.splitlines()
    ]
    starts = [i for i, line in enumerate(lines) if line.startswith("清单")]
    assert len(starts) == 6, starts
    out = []
    for n, s in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        block = [line for line in lines[s + 1 : end]]
        # skip the line-number column: a run of digits-only lines and empty lines
        i = 0
        while i < len(block) and (block[i].strip() == "" or block[i].strip().isdigit()):
            i += 1
        msg_lines = []
        for line in block[i:]:
            if line.strip() == "":
                continue
            if not (
                line.startswith(("REGISTER", "SIP/", "INIVTE", "BYE", " ", "(")) or ":" in line
            ):
                break  # the article's prose after the listing
            if line.startswith("(SDP"):
                break
            if line.startswith("(必须的空行)"):
                msg_lines.append("")
                continue
            if n in (3, 4) and line.startswith(" ") and not line.startswith("  "):
                line = line[1:]
            msg_lines.append(line)
        if msg_lines[-1] != "":
            msg_lines.append("")
        out.append(CRLF.join(msg_lines) + CRLF)
    return out


SEED_EPOCH_US = IMS_EPOCH_US


def extract_listings(article: Path) -> None:
    """Write the article's listings to samples/seed/listing-N.sip (bytes as they are sent)."""
    SEED_DIR.mkdir(exist_ok=True)
    for n, listing in enumerate(seed_listings(article.read_text(encoding="utf-8")), 1):
        (SEED_DIR / f"listing-{n}.sip").write_bytes(listing.encode("utf-8"))


def build_seed(out: Path) -> None:
    listings = [(SEED_DIR / f"listing-{n}.sip").read_bytes().decode("utf-8") for n in range(1, 7)]
    flow = Flow(seed=6, epoch_us=SEED_EPOCH_US)
    # who sends each listing to whom, and when (microseconds after the epoch)
    plan = [
        (TOM, PCSCF1, 0),  # 1 REGISTER
        (TOM, PCSCF1, 84_600),  # 2 REGISTER with credentials (after the 401, not in the article)
        (PCSCF1, TOM, 125_300),  # 3 200 OK
        (TOM, PCSCF1, 2_625_300),  # 4 INIVTE
        (PCSCF1, TOM, 2_926_900),  # 5 183
        (JERRY, PCSCF2, 33_187_200),  # 6 BYE
    ]
    for listing, (src, dst, t) in zip(listings, plan, strict=True):
        flow.send(
            t,
            Node(src.key, src.host, src.ip, 5060, src.mac),
            Node(dst.key, dst.host, dst.ip, 5060, dst.mac),
            listing.encode("utf-8"),
            label=listing.split(CRLF, 1)[0],
        )
    write_capture(flow, out)


# --------------------------------------------------------------------------- other flows
#
# Small captures, one flow each, between a caller (alice), a record-routing stateful
# proxy and a callee (bob, and carol for forwarding). Each writes a timings JSON with,
# for every call and registration, the values of the README's timing definitions by
# construction and the frames ("anchors") each interval runs between.

FLOW_EPOCH_US = 1728543600 * 1_000_000  # 2024-10-10 07:00:00 UTC

ALICE = Node("alice", "192.0.2.10", "192.0.2.10", 5060, mac(0x21))
PROXY = Node("proxy", "proxy.example.com", "192.0.2.1", 5060, mac(0x22), record_route=True)
BOB = Node("bob", "198.51.100.20", "198.51.100.20", 5060, mac(0x23))
CAROL = Node("carol", "203.0.113.30", "203.0.113.30", 5060, mac(0x24))
REGISTRAR = Node("registrar", "registrar.example.com", "192.0.2.5", 5060, mac(0x25))
# IPv6 variants, for the session modification sample
ALICE6 = Node("alice", "2001:db8:10::a", "2001:db8:10::a", 5060, mac(0x31))
PROXY6 = Node("proxy", "proxy.example.com", "2001:db8:10::1", 5060, mac(0x32), record_route=True)
BOB6 = Node("bob", "2001:db8:20::b", "2001:db8:20::b", 5060, mac(0x33))

AOR = {
    "alice": "sip:alice@example.com",
    "bob": "sip:bob@example.com",
    "carol": "sip:carol@example.net",
}
ALLOW = "INVITE, ACK, CANCEL, BYE, UPDATE, OPTIONS, REFER, NOTIFY"

FLOW_DELAYS = {
    # proxy: INVITE received -> 100 Trying sent, and -> INVITE forwarded
    "proxy_trying_us": {"proxy": 300},
    "proxy_forward_us": {"proxy": 2_100},
    # proxy: response received -> relayed; in-dialog request received -> forwarded
    "proxy_response_us": {"proxy": 800},
    "proxy_indialog_us": {"proxy": 1_200},
    # a UA answering a CANCEL, sending its 487, or ACKing a final response
    "cancel_200_us": 600,
    "cancel_487_us": 900,
    "ack_us": 400,
    # callee: INVITE received -> 180 Ringing
    "ringing_us": 35_000,
    # UAS answering a re-INVITE, UPDATE or BYE
    "uas_answer_us": 4_000,
    # caller: 2xx received -> ACK
    "caller_ack_us": 1_100,
}


def _ua_request(
    flow: Flow,
    src: Node,
    method: str,
    ruri: str,
    from_: str,
    to: str,
    call_id: str,
    cseq: int,
    routes: list[str] = (),  # type: ignore[assignment]
    extra: list[tuple[str, str]] = (),  # type: ignore[assignment]
    body: str = "",
    branch: str | None = None,
) -> Msg:
    hdrs = [("Via", f"SIP/2.0/UDP {src.sent_by};branch={branch or flow.branch()}")]
    hdrs.append(("Max-Forwards", "70"))
    hdrs += [("Route", r) for r in routes]
    hdrs += [("From", from_), ("To", to), ("Call-ID", call_id), ("CSeq", f"{cseq} {method}")]
    hdrs += list(extra)
    if body:
        hdrs.append(("Content-Type", "application/sdp"))
    hdrs.append(("Content-Length", "0"))
    return Msg(f"{method} {ruri} SIP/2.0", hdrs, body)


def _sdp(
    user: str,
    node: Node,
    version: int,
    port: int,
    direction: str = "sendrecv",
    video: bool = False,
    codecs: tuple[int, ...] = (0, 8, 101),
) -> str:
    fam = "IP6" if ":" in node.ip else "IP4"
    names = {0: "PCMU/8000", 8: "PCMA/8000", 9: "G722/8000", 101: "telephone-event/8000"}
    lines = [
        "v=0",
        f"o={user} {20241010 + len(user)} {version} IN {fam} {node.ip}",
        "s=-",
        f"c=IN {fam} {node.ip}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(map(str, codecs))}",
    ]
    lines += [f"a=rtpmap:{c} {names[c]}" for c in codecs]
    if 101 in codecs:
        lines.append("a=fmtp:101 0-16")
    lines.append(f"a={direction}")
    if video:
        lines += [
            f"m=video {port + 2} RTP/AVP 96",
            "a=rtpmap:96 H264/90000",
            "a=fmtp:96 profile-level-id=42e01f",
            f"a={direction}",
        ]
    return sdp(lines)


@dataclass
class CallSetup:
    """What a basic call setup through the proxy leaves behind, for what follows."""

    call_id: str
    t_invite: int
    invite_hops: list[tuple[int, Msg]]
    t_first_prov_at_caller: int | None = None
    t_answer: int | None = None  # 2xx sent by the callee
    t_answer_at_caller: int | None = None
    t_ack_at_callee: int | None = None
    from_: str = ""
    to: str = ""  # with the callee's tag
    cseq: int = 1


def _setup(
    flow: Flow,
    t: int,
    path: list[Node],
    call_id: str,
    callee_key: str,
    answer_after_us: int | None,
    offer: str,
    answer_sdp: str,
) -> CallSetup:
    """INVITE through the proxy, 100 from the proxy, 180 from the callee, and (when
    ``answer_after_us`` is given) 200 after that long of ringing, then the ACK."""
    d = FLOW_DELAYS
    caller, proxy, callee = path
    from_ = f"<{AOR[caller.key]}>;tag={flow.token(8)}"
    to = f"<{AOR[callee_key]}>"
    inv = _ua_request(
        flow,
        caller,
        "INVITE",
        AOR[callee_key],
        from_,
        to,
        call_id,
        1,
        extra=[
            ("Contact", f"<sip:{caller.key}@{caller.ip_literal}>"),
            ("Allow", ALLOW),
            ("User-Agent", "softphone/5.2"),
        ],
        body=offer,
    )
    hops = flow.relay_request(t, path, inv, d["proxy_forward_us"], trying_us=d["proxy_trying_us"])
    at_callee = hops[-1][1]
    tag = flow.token(8)
    contact = [("Contact", f"<sip:{callee.key}@{callee.ip_literal}>")]
    r180 = response(at_callee, 180, "Ringing", to_tag=tag, record_route=True, extra=contact)
    h180 = flow.relay_response(
        hops[-1][0] + d["ringing_us"], list(reversed(path)), r180, d["proxy_response_us"]
    )
    setup = CallSetup(call_id, t, hops, h180[-1][0], from_=from_, to=f"{to};tag={tag}")
    if answer_after_us is None:
        return setup
    t200 = h180[0][0] + answer_after_us
    r200 = response(
        at_callee,
        200,
        "OK",
        to_tag=tag,
        record_route=True,
        extra=contact + [("Allow", ALLOW)],
        body=answer_sdp,
    )
    h200 = flow.relay_response(t200, list(reversed(path)), r200, d["proxy_response_us"])
    setup.t_answer, setup.t_answer_at_caller = t200, h200[-1][0]
    ack = _ua_request(
        flow,
        caller,
        "ACK",
        f"sip:{callee.key}@{callee.ip_literal}",
        from_,
        setup.to,
        call_id,
        1,
        routes=[proxy.uri],
    )
    ah = flow.relay_request(h200[-1][0] + d["caller_ack_us"], path, ack, d["proxy_indialog_us"])
    setup.t_ack_at_callee = ah[-1][0]
    return setup


def _indialog_transaction(
    flow: Flow,
    t: int,
    path: list[Node],
    setup: CallSetup,
    method: str,
    cseq: int,
    body: str = "",
    answer: str = "",
    reverse: bool = False,
) -> tuple[int, int, int]:
    """A request inside the dialog through the proxy (and its 2xx, and the ACK for a
    re-INVITE). ``reverse``: the callee sends it. Returns (request sent, final sent by
    the far end, final arriving back at the sender)."""
    d = FLOW_DELAYS
    caller, proxy, callee = path
    src, dst = (callee, caller) if reverse else (caller, callee)
    from_, to = (setup.to, setup.from_) if reverse else (setup.from_, setup.to)
    contact = (
        [("Contact", f"<sip:{src.key}@{src.ip_literal}>")] if method in ("INVITE", "UPDATE") else []
    )
    req = _ua_request(
        flow,
        src,
        method,
        f"sip:{dst.key}@{dst.ip_literal}",
        from_,
        to,
        setup.call_id,
        cseq,
        routes=[proxy.uri],
        extra=contact,
        body=body,
    )
    route = [src, proxy, dst]
    trying = d["proxy_trying_us"] if method == "INVITE" else None
    hops = flow.relay_request(t, route, req, d["proxy_indialog_us"], trying_us=trying)
    extra = (
        [("Contact", f"<sip:{dst.key}@{dst.ip_literal}>")] if method in ("INVITE", "UPDATE") else []
    )
    r200 = response(hops[-1][1], 200, "OK", extra=extra, body=answer)
    t_final = hops[-1][0] + d["uas_answer_us"]
    rh = flow.relay_response(t_final, list(reversed(route)), r200, d["proxy_response_us"])
    if method == "INVITE":
        ack = _ua_request(
            flow,
            src,
            "ACK",
            f"sip:{dst.key}@{dst.ip_literal}",
            from_,
            to,
            setup.call_id,
            cseq,
            routes=[proxy.uri],
        )
        flow.relay_request(rh[-1][0] + d["caller_ack_us"], route, ack, d["proxy_indialog_us"])
    return t, t_final, rh[-1][0]


def _timings_doc(
    name: str, flow: Flow, events: list[Event], hosts: list[Node], **kw: object
) -> dict:
    doc: dict = {
        "capture": name,
        "model": "one capture point sees every datagram once, timestamped when sent",
        "epoch": flow.epoch_us / 1_000_000,
        "hosts": {n.key: {"host": n.host, "ip": n.ip, "port": n.port} for n in hosts},
        "delays_us": FLOW_DELAYS,
    }
    doc.update(kw)
    doc["counts"] = _counts(events)
    return doc


def _call_doc(
    events: list[Event],
    flow: Flow,
    call_id: str,
    caller: str,
    callee: str,
    state: str,
    final_status: int,
    start_us: int,
    anchors: dict[str, tuple[int, int]],
    **extra: object,
) -> dict:
    """A call's expected values: every interval from its two anchor send times."""
    doc: dict = {
        "call_id": call_id,
        "caller": caller,
        "callee": callee,
        "state": state,
        "final_status": final_status,
        "start": (flow.epoch_us + start_us) / 1_000_000,
    }
    for key in ("pdd_ms", "answer_ms", "release_ms", "duration_s"):
        if key in anchors:
            a, b = anchors[key]
            doc[key] = (b - a) / 1_000_000 if key == "duration_s" else ms(b - a)
        else:
            doc[key] = None
    doc.update(extra)
    doc["anchors"] = {
        k: [frame_of(events, a), frame_of(events, b)] for k, (a, b) in anchors.items()
    }
    return doc


# ---- deregistration (REGISTER with Expires: 0, digest challenge, 200 without bindings)


def _digest(
    user: str, realm: str, password: str, method: str, uri: str, nonce: str, nc: str, cnonce: str
) -> str:
    """RFC 2617 digest with qop=auth (RFC 3261 section 22.4)."""
    import hashlib

    def h(x: str) -> str:
        return hashlib.md5(x.encode()).hexdigest()

    return h(f"{h(f'{user}:{realm}:{password}')}:{nonce}:{nc}:{cnonce}:auth:{h(f'{method}:{uri}')}")


DEREG_DELAYS = {"registrar_401_us": 2_400, "ua_auth_us": 4_200, "registrar_200_us": 3_100}


def build_deregistration(out: Path) -> None:
    flow = Flow(seed=1, epoch_us=FLOW_EPOCH_US)
    d = DEREG_DELAYS
    call_id = "8d1f3c2a7b@192.0.2.10"
    tag = flow.token(8)
    common = [
        ("Contact", "<sip:alice@192.0.2.10>"),
        ("Expires", "0"),
        ("User-Agent", "softphone/5.2"),
    ]
    reg1 = _ua_request(
        flow,
        ALICE,
        "REGISTER",
        "sip:example.com",
        f"<{AOR['alice']}>;tag={tag}",
        f"<{AOR['alice']}>",
        call_id,
        101,
        extra=common,
    )
    flow.send(0, ALICE, REGISTRAR, reg1)
    nonce = "5f2c1e9a0b7d4c3e8a6f"
    r401 = response(
        reg1,
        401,
        "Unauthorized",
        to_tag="r9x0k2",
        extra=[
            (
                "WWW-Authenticate",
                f'Digest realm="example.com", nonce="{nonce}", algorithm=MD5, qop="auth"',
            ),
        ],
    )
    t401 = flow.send(d["registrar_401_us"], REGISTRAR, ALICE, r401)
    resp = _digest(
        "alice",
        "example.com",
        "wonderland",
        "REGISTER",
        "sip:example.com",
        nonce,
        "00000001",
        "0a4f113b",
    )
    auth = (
        f'Digest username="alice", realm="example.com", nonce="{nonce}", uri="sip:example.com", '
        f'response="{resp}", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001'
    )
    reg2 = _ua_request(
        flow,
        ALICE,
        "REGISTER",
        "sip:example.com",
        f"<{AOR['alice']}>;tag={tag}",
        f"<{AOR['alice']}>",
        call_id,
        102,
        extra=common + [("Authorization", auth)],
    )
    t2 = flow.send(t401 + d["ua_auth_us"], ALICE, REGISTRAR, reg2)
    # RFC 3261 section 10.3 step 8: the 200 lists the remaining bindings - none
    r200 = response(
        reg2, 200, "OK", to_tag="r9x0k3", extra=[("Date", "Thu, 10 Oct 2024 07:00:00 GMT")]
    )
    t200 = flow.send(t2 + d["registrar_200_us"], REGISTRAR, ALICE, r200)
    events = write_capture(flow, out)
    delay = d["registrar_401_us"] + d["ua_auth_us"] + d["registrar_200_us"]
    assert t200 == delay
    reg = {
        "aor": AOR["alice"],
        "contact": "sip:alice@192.0.2.10",
        "call_ids": [call_id],
        "challenged": True,
        "final_status": 200,
        "expires": 0,
        "deregistration": True,
        "start": FLOW_EPOCH_US / 1_000_000,
        "delay_ms": ms(delay),
        "anchors": {"delay_ms": [frame_of(events, 0), frame_of(events, t200)]},
    }
    doc = _timings_doc(out.name, flow, events, [ALICE, REGISTRAR], registrations=[reg], calls=[])
    doc["delays_us"] = d
    write_timings(out.with_suffix(".timings.json"), doc)


# ---- busy (486 from the callee, ACKed hop by hop)


def build_busy(out: Path) -> None:
    flow = Flow(seed=2, epoch_us=FLOW_EPOCH_US + 3600_000_000)
    d = FLOW_DELAYS
    path = [ALICE, PROXY, BOB]
    call_id = "b7e2a91c40@192.0.2.10"
    from_ = f"<{AOR['alice']}>;tag={flow.token(8)}"
    inv = _ua_request(
        flow,
        ALICE,
        "INVITE",
        AOR["bob"],
        from_,
        f"<{AOR['bob']}>",
        call_id,
        1,
        extra=[("Contact", "<sip:alice@192.0.2.10>"), ("Allow", ALLOW)],
        body=_sdp("alice", ALICE, 1, 4000),
    )
    hops = flow.relay_request(0, path, inv, d["proxy_forward_us"], trying_us=d["proxy_trying_us"])
    busy_after = 12_000
    r486 = response(hops[-1][1], 486, "Busy Here", to_tag=flow.token(8))
    rh = flow.relay_response(
        hops[-1][0] + busy_after,
        [BOB, PROXY, ALICE],
        r486,
        d["proxy_response_us"],
        request_hops=hops,
        ack_us=d["ack_us"],
    )
    events = write_capture(flow, out)
    pdd = d["proxy_forward_us"]["proxy"] + busy_after + d["proxy_response_us"]["proxy"]
    assert rh[-1][0] == pdd
    call = _call_doc(
        events,
        flow,
        call_id,
        AOR["alice"],
        AOR["bob"],
        "rejected",
        486,
        0,
        {"pdd_ms": (0, rh[-1][0])},
    )
    write_timings(
        out.with_suffix(".timings.json"),
        _timings_doc(
            out.name,
            flow,
            events,
            path,
            calls=[call],
            registrations=[],
            flow_delays_us={"bob_486_us": busy_after},
        ),
    )


# ---- no answer: the caller gives up (CANCEL, 487)


def build_no_answer_cancel(out: Path) -> None:
    flow = Flow(seed=3, epoch_us=FLOW_EPOCH_US + 2 * 3600_000_000)
    d = FLOW_DELAYS
    path = [ALICE, PROXY, BOB]
    setup = _setup(
        flow, 0, path, "c4a1f0e2d9@192.0.2.10", "bob", None, _sdp("alice", ALICE, 1, 4000), ""
    )
    give_up = 21_500_000
    t_cancel = setup.t_first_prov_at_caller + give_up

    # RFC 3261 section 9.1: CANCEL has the INVITE's Request-URI, Call-ID, From, To,
    # CSeq number and top Via (same branch); hop by hop
    def cancel_for(invite: Msg) -> Msg:
        hdrs = [("Via", invite.get_all("Via")[0]), ("Max-Forwards", "70")]
        hdrs += [("Route", r) for r in invite.get_all("Route")]
        hdrs += [
            ("From", invite.get("From")),
            ("To", invite.get("To")),
            ("Call-ID", invite.get("Call-ID")),
            ("CSeq", f"{invite.get('CSeq').split()[0]} CANCEL"),
            ("Content-Length", "0"),
        ]
        return Msg(f"CANCEL {invite.start.split()[1]} SIP/2.0", hdrs)

    inv_a, inv_b = setup.invite_hops[0][1], setup.invite_hops[1][1]
    flow.send(t_cancel, ALICE, PROXY, cancel_for(inv_a))
    # RFC 3261 sections 8.2.6.2 and 9.2: the 200 to a CANCEL carries a To tag, the same
    # as the INVITE's responses (bob's, from his 180)
    bob_tag = setup.to.split("tag=")[1]
    flow.send(
        t_cancel + d["cancel_200_us"],
        PROXY,
        ALICE,
        response(cancel_for(inv_a), 200, "OK", to_tag=bob_tag),
    )
    t_cb = flow.send(t_cancel + d["proxy_forward_us"]["proxy"], PROXY, BOB, cancel_for(inv_b))
    flow.send(
        t_cb + d["cancel_200_us"],
        BOB,
        PROXY,
        response(cancel_for(inv_b), 200, "OK", to_tag=bob_tag),
    )
    r487 = response(inv_b, 487, "Request Terminated", to_tag=bob_tag)
    rh = flow.relay_response(
        t_cb + d["cancel_487_us"],
        [BOB, PROXY, ALICE],
        r487,
        d["proxy_response_us"],
        request_hops=setup.invite_hops,
        ack_us=d["ack_us"],
    )
    events = write_capture(flow, out)
    pdd = d["proxy_forward_us"]["proxy"] + d["ringing_us"] + d["proxy_response_us"]["proxy"]
    assert setup.t_first_prov_at_caller == pdd
    call = _call_doc(
        events,
        flow,
        setup.call_id,
        AOR["alice"],
        AOR["bob"],
        "cancelled",
        487,
        0,
        {"pdd_ms": (0, setup.t_first_prov_at_caller)},
        cancel_after_ringing_ms=ms(give_up),
        final_response_ms=ms(rh[-1][0]),
        final_response_anchors=[frame_of(events, 0), frame_of(events, rh[-1][0])],
    )
    write_timings(
        out.with_suffix(".timings.json"),
        _timings_doc(out.name, flow, events, path, calls=[call], registrations=[]),
    )


# ---- no answer: the proxy's timer fires (CANCEL towards bob, 480 to the caller)


def build_no_answer_480(out: Path) -> None:
    flow = Flow(seed=4, epoch_us=FLOW_EPOCH_US + 3 * 3600_000_000)
    d = FLOW_DELAYS
    path = [ALICE, PROXY, BOB]
    setup = _setup(
        flow, 0, path, "d0b3e8f1a2@192.0.2.10", "bob", None, _sdp("alice", ALICE, 1, 4000), ""
    )
    no_answer_timer = 30_000_000
    inv_b = setup.invite_hops[1][1]
    t_cb = setup.invite_hops[1][0] + no_answer_timer
    cancel = Msg(
        f"CANCEL {inv_b.start.split()[1]} SIP/2.0",
        [
            ("Via", inv_b.get_all("Via")[0]),
            ("Max-Forwards", "70"),
            ("From", inv_b.get("From")),
            ("To", inv_b.get("To")),
            ("Call-ID", inv_b.get("Call-ID")),
            ("CSeq", "1 CANCEL"),
            ("Reason", 'SIP;cause=480;text="No answer"'),
            ("Content-Length", "0"),
        ],
    )
    flow.send(t_cb, PROXY, BOB, cancel)
    bob_tag = setup.to.split("tag=")[1]
    flow.send(t_cb + d["cancel_200_us"], BOB, PROXY, response(cancel, 200, "OK", to_tag=bob_tag))
    r487 = response(inv_b, 487, "Request Terminated", to_tag=bob_tag)
    t487 = flow.send(t_cb + d["cancel_487_us"], BOB, PROXY, r487)
    flow.send(t487 + d["ack_us"], PROXY, BOB, ack_for_non_2xx(inv_b, r487))
    # the proxy's no-answer timer: it answers the caller itself, as a UAS would, with its
    # own To tag (many proxies are configured to send 480 rather than Timer C's 408)
    inv_a = setup.invite_hops[0][1]
    r480 = response(
        inv_a,
        480,
        "Temporarily Unavailable",
        to_tag=flow.token(8),
        extra=[("Reason", 'SIP;cause=480;text="No answer"')],
    )
    t480 = flow.send(t487 + d["proxy_response_us"]["proxy"], PROXY, ALICE, r480)
    flow.send(t480 + d["ack_us"], ALICE, PROXY, ack_for_non_2xx(inv_a, r480))
    events = write_capture(flow, out)
    call = _call_doc(
        events,
        flow,
        setup.call_id,
        AOR["alice"],
        AOR["bob"],
        "rejected",
        480,
        0,
        {"pdd_ms": (0, setup.t_first_prov_at_caller)},
        proxy_no_answer_timer_ms=ms(no_answer_timer),
        final_response_ms=ms(t480),
        final_response_anchors=[frame_of(events, 0), frame_of(events, t480)],
    )
    write_timings(
        out.with_suffix(".timings.json"),
        _timings_doc(out.name, flow, events, path, calls=[call], registrations=[]),
    )


# ---- forwarding on busy: bob redirects with 302, alice tries carol


def build_forward_302(out: Path) -> None:
    flow = Flow(seed=5, epoch_us=FLOW_EPOCH_US + 4 * 3600_000_000)
    d = FLOW_DELAYS
    path = [ALICE, PROXY, BOB]
    call_id = "f302a8c1e5@192.0.2.10"
    from_ = f"<{AOR['alice']}>;tag={flow.token(8)}"
    offer = _sdp("alice", ALICE, 1, 4000)
    inv = _ua_request(
        flow,
        ALICE,
        "INVITE",
        AOR["bob"],
        from_,
        f"<{AOR['bob']}>",
        call_id,
        1,
        extra=[("Contact", "<sip:alice@192.0.2.10>"), ("Allow", ALLOW)],
        body=offer,
    )
    hops = flow.relay_request(0, path, inv, d["proxy_forward_us"], trying_us=d["proxy_trying_us"])
    redirect_after = 9_000
    r302 = response(
        hops[-1][1],
        302,
        "Moved Temporarily",
        to_tag=flow.token(8),
        extra=[
            ("Contact", "<sip:carol@203.0.113.30>"),
            ("Diversion", "<sip:bob@example.com>;reason=user-busy;counter=1"),
        ],
    )
    rh = flow.relay_response(
        hops[-1][0] + redirect_after,
        [BOB, PROXY, ALICE],
        r302,
        d["proxy_response_us"],
        request_hops=hops,
        ack_us=d["ack_us"],
    )
    t302 = rh[-1][0]
    # RFC 3261 section 8.1.3.4: new request to the contact; same To, From and Call-ID
    # (recommended), CSeq incremented, new branch
    retry_after = 3_000
    path2 = [ALICE, PROXY, CAROL]
    inv2 = _ua_request(
        flow,
        ALICE,
        "INVITE",
        "sip:carol@203.0.113.30",
        from_,
        f"<{AOR['bob']}>",
        call_id,
        2,
        extra=[("Contact", "<sip:alice@192.0.2.10>"), ("Allow", ALLOW)],
        body=offer,
    )
    t_inv2 = t302 + retry_after
    h2 = flow.relay_request(
        t_inv2, path2, inv2, d["proxy_forward_us"], trying_us=d["proxy_trying_us"]
    )
    carol_tag = flow.token(8)
    contact = [("Contact", "<sip:carol@203.0.113.30>")]
    r180 = response(h2[-1][1], 180, "Ringing", to_tag=carol_tag, record_route=True, extra=contact)
    h180 = flow.relay_response(
        h2[-1][0] + d["ringing_us"], [CAROL, PROXY, ALICE], r180, d["proxy_response_us"]
    )
    ring = 4_800_000
    r200 = response(
        h2[-1][1],
        200,
        "OK",
        to_tag=carol_tag,
        record_route=True,
        extra=contact,
        body=_sdp("carol", CAROL, 1, 6000),
    )
    t200 = h180[0][0] + ring
    h200 = flow.relay_response(t200, [CAROL, PROXY, ALICE], r200, d["proxy_response_us"])
    to_carol = f"<{AOR['bob']}>;tag={carol_tag}"
    ack = _ua_request(
        flow,
        ALICE,
        "ACK",
        "sip:carol@203.0.113.30",
        from_,
        to_carol,
        call_id,
        2,
        routes=[PROXY.uri],
    )
    ah = flow.relay_request(h200[-1][0] + d["caller_ack_us"], path2, ack, d["proxy_indialog_us"])
    talk = 12_000_000
    setup = CallSetup(call_id, t_inv2, h2, from_=from_, to=to_carol)
    t_bye, t_bye_final, t_bye_done = _indialog_transaction(
        flow, ah[-1][0] + talk, path2, setup, "BYE", 3
    )
    events = write_capture(flow, out)
    call = _call_doc(
        events,
        flow,
        call_id,
        AOR["alice"],
        AOR["bob"],
        "redirected",
        302,
        0,
        {"pdd_ms": (0, t302)},
        redirected_to="sip:carol@203.0.113.30",
        note="the first final response to the initial INVITE is 302; the same Call-ID then "
        "carries a second INVITE (CSeq 2) to carol, answered 200 and released by alice; "
        "its own intervals are under 'redirected_invite'",
        redirected_invite={
            "cseq": 2,
            "pdd_ms": ms(h180[-1][0] - t_inv2),
            "answer_ms": ms(h200[-1][0] - t_inv2),
            "release_ms": ms(t_bye_done - t_bye),
            "duration_s": (t_bye - t200) / 1_000_000,
            "anchors": {
                "pdd_ms": [frame_of(events, t_inv2), frame_of(events, h180[-1][0])],
                "answer_ms": [frame_of(events, t_inv2), frame_of(events, h200[-1][0])],
                "release_ms": [frame_of(events, t_bye), frame_of(events, t_bye_done)],
                "duration_s": [frame_of(events, t200), frame_of(events, t_bye)],
            },
        },
    )
    write_timings(
        out.with_suffix(".timings.json"),
        _timings_doc(
            out.name, flow, events, [ALICE, PROXY, BOB, CAROL], calls=[call], registrations=[]
        ),
    )


# ---- forwarding on no answer: the proxy sends 181 and forwards to carol


def build_forward_181(out: Path) -> None:
    flow = Flow(seed=6, epoch_us=FLOW_EPOCH_US + 5 * 3600_000_000)
    d = FLOW_DELAYS
    path = [ALICE, PROXY, BOB]
    setup = _setup(
        flow, 0, path, "e181b2d7f3@192.0.2.10", "bob", None, _sdp("alice", ALICE, 1, 4000), ""
    )
    timer = 15_000_000
    inv_a, inv_b = setup.invite_hops[0][1], setup.invite_hops[1][1]
    t_fw = setup.invite_hops[1][0] + timer
    # the proxy cancels bob's branch ...
    cancel = Msg(
        f"CANCEL {inv_b.start.split()[1]} SIP/2.0",
        [
            ("Via", inv_b.get_all("Via")[0]),
            ("Max-Forwards", "70"),
            ("From", inv_b.get("From")),
            ("To", inv_b.get("To")),
            ("Call-ID", inv_b.get("Call-ID")),
            ("CSeq", "1 CANCEL"),
            ("Content-Length", "0"),
        ],
    )
    flow.send(t_fw, PROXY, BOB, cancel)
    bob_tag = setup.to.split("tag=")[1]
    flow.send(t_fw + d["cancel_200_us"], BOB, PROXY, response(cancel, 200, "OK", to_tag=bob_tag))
    r487 = response(inv_b, 487, "Request Terminated", to_tag=bob_tag)
    t487 = flow.send(t_fw + d["cancel_487_us"], BOB, PROXY, r487)
    flow.send(t487 + d["ack_us"], PROXY, BOB, ack_for_non_2xx(inv_b, r487))
    # ... tells alice (181, RFC 3261 section 21.1.3) ...
    proxy_tag = flow.token(8)
    r181 = response(
        inv_a,
        181,
        "Call Is Being Forwarded",
        to_tag=proxy_tag,
        extra=[("Diversion", "<sip:bob@example.com>;reason=no-answer;counter=1")],
    )
    t181 = flow.send(t_fw + 1_500, PROXY, ALICE, r181)
    # ... and forwards the INVITE to carol on a new branch (a new client transaction)
    inv_c = inv_a.copy()
    inv_c.start = "INVITE sip:carol@203.0.113.30 SIP/2.0"
    inv_c.remove_all("Via")
    inv_c.insert_first("Via", inv_a.get_all("Via")[0])
    inv_c.insert_first("Via", f"SIP/2.0/UDP {PROXY.sent_by};branch={flow.branch()}")
    inv_c.set("Max-Forwards", "69")
    inv_c.insert_first("Record-Route", PROXY.uri)
    inv_c.add("Diversion", "<sip:bob@example.com>;reason=no-answer;counter=1")
    t_inv_c = flow.send(t_fw + 2_300, PROXY, CAROL, inv_c)
    carol_tag = flow.token(8)
    contact = [("Contact", "<sip:carol@203.0.113.30>")]
    r180 = response(inv_c, 180, "Ringing", to_tag=carol_tag, record_route=True, extra=contact)
    h180 = flow.relay_response(
        t_inv_c + d["ringing_us"], [CAROL, PROXY, ALICE], r180, d["proxy_response_us"]
    )
    r200 = response(
        inv_c,
        200,
        "OK",
        to_tag=carol_tag,
        record_route=True,
        extra=contact,
        body=_sdp("carol", CAROL, 1, 6000),
    )
    t200 = h180[0][0] + 3_700_000
    h200 = flow.relay_response(t200, [CAROL, PROXY, ALICE], r200, d["proxy_response_us"])
    to_carol = f"<{AOR['bob']}>;tag={carol_tag}"
    ack = _ua_request(
        flow,
        ALICE,
        "ACK",
        "sip:carol@203.0.113.30",
        setup.from_,
        to_carol,
        setup.call_id,
        1,
        routes=[PROXY.uri],
    )
    path_c = [ALICE, PROXY, CAROL]
    ah = flow.relay_request(h200[-1][0] + d["caller_ack_us"], path_c, ack, d["proxy_indialog_us"])
    talk = 18_000_000
    setup_c = CallSetup(setup.call_id, 0, [], from_=setup.from_, to=to_carol)
    t_bye, _, t_bye_done = _indialog_transaction(flow, ah[-1][0] + talk, path_c, setup_c, "BYE", 2)
    events = write_capture(flow, out)
    call = _call_doc(
        events,
        flow,
        setup.call_id,
        AOR["alice"],
        AOR["bob"],
        "completed",
        200,
        0,
        {
            "pdd_ms": (0, setup.t_first_prov_at_caller),
            "answer_ms": (0, h200[-1][0]),
            "release_ms": (t_bye, t_bye_done),
            "duration_s": (t200, t_bye),
        },
        dialogs=3,
        note="three To tags on one INVITE: bob's (180, then 487), the proxy's (181) and carol's "
        "(180, 200); the call is answered by carol",
        forwarded_at_ms=ms(t181),
    )
    write_timings(
        out.with_suffix(".timings.json"),
        _timings_doc(
            out.name, flow, events, [ALICE, PROXY, BOB, CAROL], calls=[call], registrations=[]
        ),
    )


# ---- session modification: re-INVITE adding video, then UPDATE changing codec (IPv6)


def build_session_modification(out: Path) -> None:
    flow = Flow(seed=7, epoch_us=FLOW_EPOCH_US + 6 * 3600_000_000)
    path = [ALICE6, PROXY6, BOB6]
    setup = _setup(
        flow,
        0,
        path,
        "5e551070d1@2001:db8:10::a",
        "bob",
        2_600_000,
        _sdp("alice", ALICE6, 1, 4000),
        _sdp("bob", BOB6, 1, 5000, codecs=(0, 101)),
    )
    t = setup.t_ack_at_callee + 8_000_000
    t_re, _, t_re_done = _indialog_transaction(
        flow,
        t,
        path,
        setup,
        "INVITE",
        2,
        body=_sdp("alice", ALICE6, 2, 4000, video=True),
        answer=_sdp("bob", BOB6, 2, 5000, video=True, codecs=(0, 101)),
    )
    t_up, _, t_up_done = _indialog_transaction(
        flow,
        t_re_done + 6_000_000,
        path,
        setup,
        "UPDATE",
        1,
        reverse=True,
        body=_sdp("bob", BOB6, 3, 5000, video=True, codecs=(9, 101)),
        answer=_sdp("alice", ALICE6, 3, 4000, video=True, codecs=(9, 101)),
    )
    t_bye, _, t_bye_done = _indialog_transaction(flow, t_up_done + 9_000_000, path, setup, "BYE", 3)
    events = write_capture(flow, out)
    call = _call_doc(
        events,
        flow,
        setup.call_id,
        AOR["alice"],
        AOR["bob"],
        "completed",
        200,
        0,
        {
            "pdd_ms": (0, setup.t_first_prov_at_caller),
            "answer_ms": (0, setup.t_answer_at_caller),
            "release_ms": (t_bye, t_bye_done),
            "duration_s": (setup.t_answer, t_bye),
        },
        reinvite_ms=ms(t_re_done - t_re),
        update_ms=ms(t_up_done - t_up),
        reinvite_anchors=[frame_of(events, t_re), frame_of(events, t_re_done)],
        update_anchors=[frame_of(events, t_up), frame_of(events, t_up_done)],
    )
    write_timings(
        out.with_suffix(".timings.json"),
        _timings_doc(out.name, flow, events, path, calls=[call], registrations=[]),
    )


# ---- hold and resume: re-INVITE sendonly, then inactive, then sendrecv


def build_hold_resume(out: Path) -> None:
    flow = Flow(seed=8, epoch_us=FLOW_EPOCH_US + 7 * 3600_000_000)
    path = [ALICE, PROXY, BOB]
    setup = _setup(
        flow,
        0,
        path,
        "401d9e7c2b@192.0.2.10",
        "bob",
        3_100_000,
        _sdp("alice", ALICE, 1, 4000),
        _sdp("bob", BOB, 1, 5000),
    )
    t = setup.t_ack_at_callee + 14_000_000
    phases = []
    for n, (mine, theirs, pause) in enumerate(
        [
            ("sendonly", "recvonly", 25_000_000),
            ("inactive", "inactive", 10_000_000),
            ("sendrecv", "sendrecv", 30_000_000),
        ],
        start=2,
    ):
        t0, _, t1 = _indialog_transaction(
            flow,
            t,
            path,
            setup,
            "INVITE",
            n,
            body=_sdp("alice", ALICE, n, 4000, direction=mine),
            answer=_sdp("bob", BOB, n, 5000, direction=theirs),
        )
        phases.append(
            {
                "cseq": n,
                "offer": mine,
                "answer": theirs,
                "round_trip_ms": ms(t1 - t0),
                "anchors": [t0, t1],
            }
        )
        t = t1 + pause
    t_bye, _, t_bye_done = _indialog_transaction(flow, t, path, setup, "BYE", 5)
    events = write_capture(flow, out)
    for ph in phases:
        ph["anchors"] = [frame_of(events, ph["anchors"][0]), frame_of(events, ph["anchors"][1])]
    call = _call_doc(
        events,
        flow,
        setup.call_id,
        AOR["alice"],
        AOR["bob"],
        "completed",
        200,
        0,
        {
            "pdd_ms": (0, setup.t_first_prov_at_caller),
            "answer_ms": (0, setup.t_answer_at_caller),
            "release_ms": (t_bye, t_bye_done),
            "duration_s": (setup.t_answer, t_bye),
        },
        reinvites=phases,
    )
    write_timings(
        out.with_suffix(".timings.json"),
        _timings_doc(out.name, flow, events, path, calls=[call], registrations=[]),
    )


# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    """``make_samples.py [OUT_DIR]`` builds every sample (into samples/ by default);
    ``make_samples.py --extract-listings ARTICLE`` refreshes samples/seed/ from the article."""
    if len(argv) > 2 and argv[1] == "--extract-listings":
        extract_listings(Path(argv[2]))
        return 0
    out_dir = Path(argv[1]) if len(argv) > 1 else HERE
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, build in BUILDERS.items():
        build(out_dir / name)
        print(f"wrote {out_dir / name}")
    return 0


BUILDERS = {
    "ims-tom-jerry.pcapng": build_ims,
    "seed-listings.pcap": build_seed,
    "deregistration.pcap": build_deregistration,
    "busy.pcap": build_busy,
    "no-answer-cancel.pcap": build_no_answer_cancel,
    "no-answer-480.pcap": build_no_answer_480,
    "forward-302.pcap": build_forward_302,
    "forward-181.pcap": build_forward_181,
    "session-modification.pcap": build_session_modification,
    "hold-resume.pcap": build_hold_resume,
}


if __name__ == "__main__":
    sys.exit(main(sys.argv))
