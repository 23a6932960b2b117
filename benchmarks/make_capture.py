#!/usr/bin/env python3
"""Build large, realistic SIP captures for the benchmarks, reproducibly.

Two engines:

``synth`` (the default, and the one the digest check uses)
    Pure Python, no third-party packages: builds SIPp-like IPv6/UDP traffic (Ethernet
    framing as tcpdump records it on Linux loopback) with a fixed seed and writes the pcap
    bytes directly with :mod:`struct` (crafting each packet with scapy would take minutes
    for a million messages). The same ``--seed`` and ``--messages`` always give a
    byte-identical file. The traffic is a mix of

    * complete calls: INVITE (SDP), 100, 180, 200 (SDP), ACK, BYE, 200;
    * busy calls: INVITE, 100, 486, ACK;
    * cancelled calls: INVITE, 100, 180, CANCEL, 200 (CANCEL), 487, ACK;
    * unanswered calls: INVITE, 100, 180, 480, ACK;
    * registrations with a digest challenge: REGISTER, 401, REGISTER (Authorization), 200;
    * retransmissions: a few INVITEs, BYEs and 200s are sent twice (RFC 3261 timer A/G);

    from several user agents towards one server, calls overlapping as on a busy
    link (new calls start at ``--rate`` per second and last a few seconds).

``sipp``
    Real SIPp (Debian ``sip-tester``) user agents on the IPv6 loopback ``[::1]``,
    recorded by tcpdump: the default ``uac``/``uas`` scenario (INVITE, 180, 200, ACK,
    BYE, 200: six messages a call, like the capture issue 6 was measured on) plus busy,
    cancelled and challenged-registration scenarios written to a temporary directory.
    Needs ``sipp`` and ``tcpdump`` (and the right to capture on ``lo``); not
    byte-reproducible (timing and SIPp's own randomness), so the digest check uses
    ``synth``.

Example::

    python benchmarks/make_capture.py -n 240000 -o benchmarks/out/synth-240k.pcap
    python benchmarks/make_capture.py --engine sipp -n 240000 -o benchmarks/out/sipp-240k.pcap
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

# --------------------------------------------------------------------------- pcap writing

PCAP_MAGIC_US = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
ETHERTYPE_IPV6 = 0x86DD
IPPROTO_UDP = 17

_ETH_HEADER = bytes(12) + struct.pack("!H", ETHERTYPE_IPV6)  # loopback: zero MAC addresses


def _checksum(data: bytes) -> int:
    """Internet checksum (RFC 1071) of ``data``: summed as 16-bit words with array for speed."""
    if len(data) % 2:
        data += b"\0"
    words = array("H", data)
    if sys.byteorder == "little":
        words.byteswap()
    total = sum(words)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp6_frame(src: bytes, sport: int, dst: bytes, dport: int, payload: bytes) -> bytes:
    """An Ethernet + IPv6 + UDP frame with a correct UDP checksum (mandatory over IPv6)."""
    length = 8 + len(payload)
    pseudo = src + dst + struct.pack("!IxxxB", length, IPPROTO_UDP)
    udp = struct.pack("!HHHH", sport, dport, length, 0)
    csum = _checksum(pseudo + udp + payload) or 0xFFFF
    udp = struct.pack("!HHHH", sport, dport, length, csum)
    # IPv6: version 6, no traffic class or flow label, next header UDP, hop limit 64.
    ip6 = struct.pack("!IHBB", 6 << 28, length, IPPROTO_UDP, 64) + src + dst
    return _ETH_HEADER + ip6 + udp + payload


class PcapWriter:
    """Classic pcap, microsecond timestamps, Ethernet link type (as tcpdump -i lo writes)."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._file.write(
            struct.pack("<IHHiIII", PCAP_MAGIC_US, 2, 4, 0, 0, 262144, LINKTYPE_ETHERNET)
        )
        self._chunks: list[bytes] = []
        self._size = 0

    def write(self, ts_us: int, frame: bytes) -> None:
        sec, usec = divmod(ts_us, 1_000_000)
        self._chunks.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
        self._chunks.append(frame)
        self._size += len(frame)
        if self._size > 1 << 22:
            self.flush()

    def flush(self) -> None:
        self._file.write(b"".join(self._chunks))
        self._chunks.clear()
        self._size = 0

    def close(self) -> None:
        self.flush()
        self._file.close()


# --------------------------------------------------------------------------- synth engine

SERVER = ("2001:db8::5060", 5060)
SERVER_IP = bytes.fromhex("20010db8000000000000000000005060")

SDP_OFFER = (
    "v=0\r\n"
    "o=user1 53655765 2353687637 IN IP6 {ip}\r\n"
    "s=-\r\n"
    "c=IN IP6 {ip}\r\n"
    "t=0 0\r\n"
    "m=audio {port} RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
)


class Client:
    """One user agent host talking to the server."""

    def __init__(self, number: int) -> None:
        self.ip = f"2001:db8:1::{number:x}"
        self.packed = ipaddress.IPv6Address(self.ip).packed
        self.port = 5061 + number % 3
        self.user = f"user{number}"
        self.host = f"[{self.ip}]:{self.port}"


class Dialogue:
    """Builds the messages of one call or registration, SIPp style."""

    def __init__(self, rng: random.Random, n: int, client: Client) -> None:
        self.rng = rng
        self.n = n
        self.client = client
        self.call_id = f"{n}-{1000 + n % 8999}@{client.ip}"
        self.from_tag = f"{n}SIPpTag00{rng.randrange(1, 99)}"
        self.to_tag = f"{rng.getrandbits(40):x}"
        self.server_uri = f"sip:service@[{SERVER[0]}]:{SERVER[1]}"

    def _via(self, branch_no: int) -> str:
        return f"Via: SIP/2.0/UDP {self.client.host};branch=z9hG4bK-{self.n}-{branch_no}-0\r\n"

    def request(
        self,
        method: str,
        cseq: int,
        branch_no: int,
        *,
        to_tag: bool,
        body: str = "",
        extra: str = "",
        uri: str | None = None,
    ) -> bytes:
        c = self.client
        to = f"To: service <{self.server_uri}>" + (f";tag={self.to_tag}" if to_tag else "")
        text = (
            f"{method} {uri or self.server_uri} SIP/2.0\r\n"
            + self._via(branch_no)
            + f"From: sipp <sip:{c.user}@{c.host}>;tag={self.from_tag}\r\n"
            + to
            + "\r\n"
            + f"Call-ID: {self.call_id}\r\n"
            + f"CSeq: {cseq} {method}\r\n"
            + f"Contact: <sip:{c.user}@{c.host}>\r\n"
            + "Max-Forwards: 70\r\n"
            + "User-Agent: sipladder-bench\r\n"
            + extra
            + ("Content-Type: application/sdp\r\n" if body else "")
            + f"Content-Length: {len(body)}\r\n\r\n"
            + body
        )
        return text.encode()

    def response(
        self,
        status: int,
        reason: str,
        method: str,
        cseq: int,
        branch_no: int,
        *,
        to_tag: bool,
        body: str = "",
        extra: str = "",
    ) -> bytes:
        c = self.client
        to = f"To: service <{self.server_uri}>" + (f";tag={self.to_tag}" if to_tag else "")
        text = (
            f"SIP/2.0 {status} {reason}\r\n"
            + self._via(branch_no)
            + f"From: sipp <sip:{c.user}@{c.host}>;tag={self.from_tag}\r\n"
            + to
            + "\r\n"
            + f"Call-ID: {self.call_id}\r\n"
            + f"CSeq: {cseq} {method}\r\n"
            + (
                f"Contact: <sip:service@[{SERVER[0]}]:{SERVER[1]}>\r\n"
                if to_tag and status < 300 and method != "REGISTER"
                else ""
            )
            + "Server: sipladder-bench-uas\r\n"
            + extra
            + ("Content-Type: application/sdp\r\n" if body else "")
            + f"Content-Length: {len(body)}\r\n\r\n"
            + body
        )
        return text.encode()


def _scenario(
    rng: random.Random, n: int, client: Client, start_us: int
) -> list[tuple[int, int, bytes]]:
    """The (ts_us, direction, payload) list of one dialogue starting at ``start_us``."""
    d = Dialogue(rng, n, client)
    out: list[tuple[int, int, bytes]] = []
    t = start_us
    rtt = rng.randrange(200, 3000)  # one-way-ish network + processing delay, microseconds

    def send(direction: int, payload: bytes, delay: int) -> None:
        nonlocal t
        t += delay
        out.append((t, direction, payload))

    kind = rng.random()
    retransmit = rng.random() < 0.03  # about 3% of dialogues see one retransmission
    if kind < 0.20:
        # Registration with digest challenge (RFC 3261 section 22.2; new CSeq, same Call-ID).
        reg_uri = f"sip:[{SERVER[0]}]:{SERVER[1]}"
        exp = "Expires: 3600\r\n"
        send(0, d.request("REGISTER", 1, 1, to_tag=False, extra=exp, uri=reg_uri), 0)
        if retransmit:
            send(0, d.request("REGISTER", 1, 1, to_tag=False, extra=exp, uri=reg_uri), 500_000)
        nonce = f"{rng.getrandbits(64):016x}"
        send(
            1,
            d.response(
                401,
                "Unauthorized",
                "REGISTER",
                1,
                1,
                to_tag=True,
                extra=f'WWW-Authenticate: Digest realm="bench",nonce="{nonce}",algorithm=MD5\r\n',
            ),
            rtt,
        )
        auth = (
            f'Authorization: Digest username="{client.user}",realm="bench",nonce="{nonce}",'
            f'uri="{reg_uri}",response="{rng.getrandbits(128):032x}",algorithm=MD5\r\n'
        )
        send(0, d.request("REGISTER", 2, 2, to_tag=False, extra=exp + auth, uri=reg_uri), rtt)
        send(
            1,
            d.response(
                200,
                "OK",
                "REGISTER",
                2,
                2,
                to_tag=True,
                extra=f"Contact: <sip:{client.user}@{client.host}>;expires=3600\r\n" + exp,
            ),
            rtt * 2,
        )
        return out
    offer = SDP_OFFER.format(ip=client.ip, port=6000 + 2 * (n % 1000))
    answer = SDP_OFFER.format(ip=SERVER[0], port=20000 + 2 * (n % 5000))
    send(0, d.request("INVITE", 1, 1, to_tag=False, body=offer), 0)
    if retransmit:
        send(0, d.request("INVITE", 1, 1, to_tag=False, body=offer), 500_000)  # timer A
    send(1, d.response(100, "Trying", "INVITE", 1, 1, to_tag=False), rtt)
    if kind < 0.30:  # busy
        send(1, d.response(486, "Busy Here", "INVITE", 1, 1, to_tag=True), rtt * 3)
        send(0, d.request("ACK", 1, 1, to_tag=True), rtt)
        return out
    send(1, d.response(180, "Ringing", "INVITE", 1, 1, to_tag=True), rtt * 2)
    if kind < 0.40:  # cancelled after ringing
        send(0, d.request("CANCEL", 1, 1, to_tag=False), rng.randrange(1_000_000, 4_000_000))
        send(1, d.response(200, "OK", "CANCEL", 1, 1, to_tag=True), rtt)
        send(1, d.response(487, "Request Terminated", "INVITE", 1, 1, to_tag=True), 100)
        send(0, d.request("ACK", 1, 1, to_tag=True), rtt)
        return out
    if kind < 0.45:  # no answer
        send(
            1,
            d.response(480, "Temporarily Unavailable", "INVITE", 1, 1, to_tag=True),
            rng.randrange(2_000_000, 5_000_000),
        )
        send(0, d.request("ACK", 1, 1, to_tag=True), rtt)
        return out
    # Complete call.
    send(
        1,
        d.response(200, "OK", "INVITE", 1, 1, to_tag=True, body=answer),
        rng.randrange(200_000, 3_000_000),
    )
    if retransmit and rng.random() < 0.5:
        send(1, d.response(200, "OK", "INVITE", 1, 1, to_tag=True, body=answer), 500_000)  # timer G
    send(0, d.request("ACK", 1, 2, to_tag=True), rtt)
    send(0, d.request("BYE", 2, 3, to_tag=True), rng.randrange(1_000_000, 8_000_000))
    if retransmit and rng.random() < 0.5:
        send(0, d.request("BYE", 2, 3, to_tag=True), 500_000)  # timer E
    send(1, d.response(200, "OK", "BYE", 2, 3, to_tag=True), rtt)
    return out


def synth_messages(
    seed: int, messages: int, rate: float, clients: int
) -> Iterator[tuple[int, Client, int, bytes]]:
    """(ts_us, client, direction, payload) in time order, exactly ``messages`` of them."""
    rng = random.Random(seed)
    hosts = [Client(i + 1) for i in range(clients)]
    start = 1_700_000_000_000_000  # 2023-11-14, microseconds
    interval = 1_000_000 / rate
    pending: list[tuple[int, int, int, int, bytes]] = []  # (ts, seq, client index, dir, payload)
    seq = 0
    emitted = 0
    n = 0
    clock = float(start)
    while emitted < messages:
        # Start the next dialogue, then emit every message due before it.
        n += 1
        clock += rng.expovariate(1.0) * interval
        t0 = int(clock)
        ci = rng.randrange(clients)
        for ts, direction, payload in _scenario(rng, n, hosts[ci], t0):
            seq += 1
            heapq.heappush(pending, (ts, seq, ci, direction, payload))
        while pending and pending[0][0] <= t0 and emitted < messages:
            ts, _, c, direction, payload = heapq.heappop(pending)
            emitted += 1
            yield ts, hosts[c], direction, payload
    # Unreachable leftovers are dropped: the capture simply ends mid-traffic, as real ones do.


def make_synth(path: str, seed: int, messages: int, rate: float, clients: int) -> int:
    writer = PcapWriter(path)
    count = 0
    for ts, client, direction, payload in synth_messages(seed, messages, rate, clients):
        if direction == 0:
            frame = udp6_frame(client.packed, client.port, SERVER_IP, SERVER[1], payload)
        else:
            frame = udp6_frame(SERVER_IP, SERVER[1], client.packed, client.port, payload)
        writer.write(ts, frame)
        count += 1
    writer.close()
    return count


# --------------------------------------------------------------------------- sipp engine

UAS_BUSY = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas busy">
  <recv request="INVITE" />
  <send><![CDATA[
SIP/2.0 486 Busy Here
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <recv request="ACK" />
</scenario>
"""

UAC_BUSY = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac busy">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="486" />
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>
"""

UAS_CANCEL = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas cancel">
  <recv request="INVITE" />
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <recv request="CANCEL" />
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: 1 INVITE
Content-Length: 0

]]></send>
  <recv request="ACK" />
</scenario>
"""

UAC_CANCEL = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac cancel">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="180" />
  <send><![CDATA[
CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" />
  <recv response="487" />
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>
"""

UAS_REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="registrar with challenge">
  <recv request="REGISTER" />
  <send><![CDATA[
SIP/2.0 401 Unauthorized
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
WWW-Authenticate: Digest realm="bench", nonce="[call_number]abcdef", algorithm=MD5
Content-Length: 0

]]></send>
  <recv request="REGISTER" />
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Contact:];expires=3600
Content-Length: 0

]]></send>
</scenario>
"""

UAC_REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register with challenge">
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:user[call_number]@bench>;tag=[pid]SIPpTag00[call_number]
To: <sip:user[call_number]@bench>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:user[call_number]@[local_ip]:[local_port]>
Expires: 3600
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="401" auth="true" />
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:user[call_number]@bench>;tag=[pid]SIPpTag00[call_number]
To: <sip:user[call_number]@bench>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:user[call_number]@[local_ip]:[local_port]>
[authentication username=user password=secret]
Expires: 3600
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" />
</scenario>
"""

# (name, uac scenario or None for built-in uac, uas scenario or None for built-in uas,
#  messages per dialogue, share of the dialogues)
SIPP_MIX = [
    ("call", None, None, 6, 0.70),
    ("busy", UAC_BUSY, UAS_BUSY, 3, 0.10),
    ("cancel", UAC_CANCEL, UAS_CANCEL, 6, 0.10),
    ("register", UAC_REGISTER, UAS_REGISTER, 4, 0.10),
]


def make_sipp(path: str, messages: int, rate: int, loss: float) -> None:
    """Run SIPp pairs on [::1] under tcpdump until about ``messages`` SIP messages were sent."""
    for tool in ("sipp", "tcpdump"):
        if shutil.which(tool) is None:
            raise SystemExit(f"make_capture: {tool} is not installed (use --engine synth)")
    per_dialogue = sum(m * share for _, _, _, m, share in SIPP_MIX)
    dialogues = int(messages / per_dialogue) + 1
    work = Path(tempfile.mkdtemp(prefix="sipladder-sipp-"))
    base = 15060
    ports = [(base + 2 * i, base + 2 * i + 1) for i in range(len(SIPP_MIX))]
    flt = " or ".join(f"udp port {uas}" for uas, _ in ports)
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-s", "0", "-B", "65536", "-U", "-w", path, flt],
        stderr=subprocess.PIPE,
    )
    time.sleep(1.5)  # tcpdump needs a moment before it captures
    servers: list[subprocess.Popen[bytes]] = []
    clients: list[subprocess.Popen[bytes]] = []
    try:
        for (name, uac, uas, _, _share), (uas_port, _) in zip(SIPP_MIX, ports, strict=True):
            cmd = ["sipp", "-nostdin", "-i", "::1", "-p", str(uas_port)]
            if uas is None:
                cmd += ["-sn", "uas"]
            else:
                (work / f"uas-{name}.xml").write_text(uas)
                (work / f"uac-{name}.xml").write_text(uac or "")
                cmd += ["-sf", str(work / f"uas-{name}.xml")]
            servers.append(
                subprocess.Popen(
                    cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        time.sleep(0.5)
        for (name, _uac, uas, _, share), (uas_port, uac_port) in zip(SIPP_MIX, ports, strict=True):
            count = max(1, int(dialogues * share))
            cmd = [
                "sipp",
                "-nostdin",
                "[::1]:" + str(uas_port),
                "-i",
                "::1",
                "-p",
                str(uac_port),
                "-m",
                str(count),
                "-r",
                str(max(1, int(rate * share))),
                "-l",
                "20000",
                "-timeout",
                "600s",
                "-trace_err",
            ]
            if uas is None:
                cmd += ["-sn", "uac", "-d", "1000"]
            else:
                cmd += ["-sf", str(work / f"uac-{name}.xml")]
            if loss:
                cmd += ["-lost", str(loss)]
            clients.append(
                subprocess.Popen(
                    cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        for c in clients:
            c.wait()
        time.sleep(1.0)
    finally:
        for c in clients:
            if c.poll() is None:
                c.terminate()
        for s in servers:
            if s.poll() is None:
                s.terminate()
        dump.send_signal(signal.SIGINT)
        _, err = dump.communicate(timeout=30)
        sys.stderr.write(err.decode(errors="replace"))
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-o", "--output", required=True, help="pcap file to write")
    parser.add_argument(
        "-n",
        "--messages",
        type=int,
        default=240_000,
        help="number of SIP messages (synth: exactly; sipp: about)",
    )
    parser.add_argument("--engine", choices=["synth", "sipp"], default="synth")
    parser.add_argument("--seed", type=int, default=6, help="synth: random seed")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="new dialogues per second (synth default 400, sipp default 1000)",
    )
    parser.add_argument("--clients", type=int, default=50, help="synth: user agent hosts")
    parser.add_argument(
        "--loss",
        type=float,
        default=0.0,
        help="sipp: percentage of messages the UAC drops (makes retransmissions)",
    )
    args = parser.parse_args(argv)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.engine == "synth":
        count = make_synth(args.output, args.seed, args.messages, args.rate or 400.0, args.clients)
        note = f"{count} SIP messages"
    else:
        make_sipp(args.output, args.messages, int(args.rate or 1000), args.loss)
        note = "SIPp traffic"
    size = os.path.getsize(args.output)
    print(
        f"{args.output}: {note}, {size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
