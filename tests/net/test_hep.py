"""HEP v2 and v3 (sipladder.net.hep): packets laid out as the HEP specifications draw them."""

from __future__ import annotations

import socket
import struct
import zlib

import pytest
from transport_helpers import segment, sip_request

from sipladder.model import Diagnostic, Transport
from sipladder.net import hep
from sipladder.net.tcp import TcpReassembler

SIP = sip_request("hep", 1)
SEC, USEC = 1_700_000_000, 123_456


def chunk(ctype: int, value: bytes, vendor: int = 0) -> bytes:
    return struct.pack("!HHH", vendor, ctype, 6 + len(value)) + value


def hep3(
    src: str = "10.0.0.1",
    dst: str = "10.0.0.2",
    proto: int = 17,
    payload: bytes = SIP,
    compressed: bool = False,
    with_time: bool = True,
) -> bytes:
    v6 = ":" in src
    af = socket.AF_INET6 if v6 else socket.AF_INET
    chunks = [
        chunk(1, bytes([10 if v6 else 2])),
        chunk(2, bytes([proto])),
        chunk(5 if v6 else 3, socket.inet_pton(af, src)),
        chunk(6 if v6 else 4, socket.inet_pton(af, dst)),
        chunk(7, struct.pack("!H", 5060)),
        chunk(8, struct.pack("!H", 5080)),
        chunk(0x0001, b"vendor-specific", vendor=0x0022),  # ignored: not vendor 0
        chunk(11, b"\x01"),
        chunk(12, struct.pack("!I", 2001)),
    ]
    if with_time:
        chunks += [chunk(9, struct.pack("!I", SEC)), chunk(10, struct.pack("!I", USEC))]
    chunks.append(chunk(16, zlib.compress(payload)) if compressed else chunk(15, payload))
    body = b"".join(chunks)
    return b"HEP3" + struct.pack("!H", 6 + len(body)) + body


def hep2(src: str = "10.0.0.1", dst: str = "10.0.0.2", proto: int = 17) -> bytes:
    v6 = ":" in src
    af = socket.AF_INET6 if v6 else socket.AF_INET
    size = 16 if v6 else 4
    head = struct.pack("!BBBBHH", 2, 8 + 2 * size, 10 if v6 else 2, proto, 5060, 5080)
    addresses = socket.inet_pton(af, src) + socket.inet_pton(af, dst)
    # struct hep_timehdr { u32 tv_sec; u32 tv_usec; u16 captid; } in host (x86) order,
    # padded by the compiler to 12 bytes.
    time = struct.pack("<IIH", SEC, USEC, 7) + b"\x00\x00"
    return head + addresses + time + SIP


@pytest.mark.parametrize(
    ("data", "src", "dst", "transport"),
    [
        pytest.param(hep3(), "10.0.0.1:5060", "10.0.0.2:5080", Transport.UDP, id="v3-ipv4-udp"),
        pytest.param(hep3("2001:db8::1", "2001:db8::2", 6), "[2001:db8::1]:5060",
                     "[2001:db8::2]:5080", Transport.TCP, id="v3-ipv6-tcp"),
        pytest.param(hep3(compressed=True), "10.0.0.1:5060", "10.0.0.2:5080", Transport.UDP,
                     id="v3-compressed"),
        pytest.param(hep2(), "10.0.0.1:5060", "10.0.0.2:5080", Transport.UDP, id="v2-ipv4"),
        pytest.param(hep2("2001:db8::1", "2001:db8::2", 132), "[2001:db8::1]:5060",
                     "[2001:db8::2]:5080", Transport.SCTP, id="v2-ipv6-sctp"),
    ],
)
def test_decode_uses_the_carried_addresses_and_time(
    data: bytes, src: str, dst: str, transport: Transport
) -> None:
    p = hep.payload("h.pcap", 3, 999, data)
    assert p is not None
    assert (str(p.src), str(p.dst), p.transport, p.data) == (src, dst, transport, SIP)
    assert p.ts_ns == SEC * 10**9 + USEC * 1000
    assert p.frame == 3 and p.file == "h.pcap"


def test_capture_time_when_none_is_carried() -> None:
    p = hep.payload("h", 1, 42, hep3(with_time=False))
    assert p is not None and p.ts_ns == 42


@pytest.mark.parametrize(
    ("data", "port", "expected"),
    [
        pytest.param(hep3(), None, True, id="v3-any-port"),
        pytest.param(hep2(), 9060, True, id="v2-hep-port"),
        pytest.param(hep2(), 5060, False, id="v2-other-port"),
        pytest.param(SIP, 9060, False, id="sip"),
    ],
)
def test_looks_like_hep(data: bytes, port: int | None, expected: bool) -> None:
    assert hep.looks_like_hep(data, port) is expected


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"HEP3\x00\x06", id="v3-no-chunks"),
        pytest.param(b"HEP3\x00\x20" + bytes(26), id="v3-zero-length-chunk"),
        pytest.param(hep2()[:20], id="v2-short"),
        pytest.param(b"\x02\x10\x63" + bytes(40), id="v2-bad-family"),
    ],
)
def test_not_decodable(data: bytes) -> None:
    assert hep.decode(data) is None


def test_hep3_over_tcp_split_and_coalesced() -> None:
    stream = hep3() + hep3("10.0.0.9", "10.0.0.8")
    diags: list[Diagnostic] = []
    r = TcpReassembler(diags.append)
    out = r.feed("h", 1, 1, "192.0.2.1", "192.0.2.9", segment(1, flags="S", ack=0, dport=9060))
    out += r.feed("h", 2, 2, "192.0.2.1", "192.0.2.9", segment(2, stream[:50], dport=9060))
    out += r.feed("h", 3, 3, "192.0.2.1", "192.0.2.9", segment(52, stream[50:], dport=9060))
    assert [(str(p.src), p.data) for p in out] == [("10.0.0.1:5060", SIP), ("10.0.0.9:5060", SIP)]
    assert diags == []
