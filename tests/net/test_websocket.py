"""SIP over WebSocket (RFC 7118), alone and through TCP reassembly."""

from __future__ import annotations

import struct
import zlib

import pytest
from transport_helpers import CLIENT, SDP, SERVER, segment, sip_request, sip_response

from sipladder.model import Diagnostic, Payload, Transport
from sipladder.net.tcp import TcpReassembler
from sipladder.net.websocket import (
    WebSocketFramer,
    looks_like_sip_frame,
    looks_like_upgrade,
    unmask,
)

UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 10.0.0.2\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
SWITCHING = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
)
KEY = b"\x37\xfa\x21\x3d"


def frame(
    payload: bytes, opcode: int = 1, fin: bool = True, mask: bytes | None = None, rsv1: bool = False
) -> bytes:
    """One frame laid out as RFC 6455 section 5.2 draws it."""
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n < 65536:
        head = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


MSG = sip_request("ws1", 1, body=SDP)
MEDIUM = sip_request("ws2", 2, method="MESSAGE", body=b"m" * 1000)  # 16-bit length
LARGE = sip_request("ws3", 3, method="MESSAGE", body=b"L" * 70_000)  # 64-bit length


@pytest.mark.parametrize("mask", [None, KEY], ids=["unmasked", "masked"])
@pytest.mark.parametrize("msg", [MSG, MEDIUM, LARGE], ids=["len7+", "len16", "len64"])
def test_length_forms(mask: bytes | None, msg: bytes) -> None:
    data = UPGRADE + frame(msg, mask=mask)
    framer = WebSocketFramer()
    assert framer.feed(data) == [(msg, False)]


def test_seven_bit_length() -> None:
    small = b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n"
    assert len(small) < 126
    assert WebSocketFramer(expect_handshake=False).feed(frame(small)) == [(small, False)]


def test_fragmented_message_with_a_ping_between_fragments() -> None:
    parts = [MSG[:50], MSG[50:200], MSG[200:]]
    data = (
        frame(parts[0], opcode=1, fin=False, mask=KEY)
        + frame(b"ping", opcode=9, mask=KEY)
        + frame(parts[1], opcode=0, fin=False, mask=KEY)
        + frame(parts[2], opcode=0, fin=True, mask=KEY)
    )
    framer = WebSocketFramer(expect_handshake=False)
    assert framer.feed(data) == [(MSG, False)]


@pytest.mark.parametrize("step", [1, 7, 1000], ids=["byte-by-byte", "7-bytes", "whole"])
def test_fed_in_pieces_with_trailing_data(step: int) -> None:
    data = SWITCHING + frame(MSG) + frame(MEDIUM, opcode=2) + frame(b"SIP/2.0 1")[:5]
    framer = WebSocketFramer()
    out = []
    for i in range(0, len(data), step):
        out += framer.feed(data[i : i + step])
    assert out == [(MSG, False), (MEDIUM, False)]


def test_close_frame_ends_the_stream() -> None:
    framer = WebSocketFramer(expect_handshake=False)
    assert framer.feed(frame(MSG) + frame(b"\x03\xe8", opcode=8) + frame(MEDIUM)) == [(MSG, False)]


def test_permessage_deflate() -> None:
    # RFC 7692 section 7.2.1: deflate, strip the trailing 00 00 ff ff; context carries over.
    comp = zlib.compressobj(wbits=-15)
    frames = b""
    for msg in (MSG, MEDIUM):
        data = comp.compress(msg) + comp.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(b"\x00\x00\xff\xff")
        frames += frame(data[:-4], rsv1=True, mask=KEY)
    out = WebSocketFramer(expect_handshake=False).feed(frames)
    assert out == [(MSG, False), (MEDIUM, False)]


def test_unmask_matches_rfc6455_example() -> None:
    # RFC 6455 section 5.7: a masked "Hello".
    masked = bytes.fromhex("7f9f4d5158")
    assert unmask(masked, bytes.fromhex("37fa213d")) == b"Hello"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(UPGRADE, True, id="upgrade-request"),
        pytest.param(SWITCHING, True, id="101-response"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", False, id="plain-http"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n", None, id="incomplete"),
        pytest.param(b"GE", None, id="too-short"),
        pytest.param(b"INVITE sip:x SIP/2.0\r\n", False, id="sip"),
    ],
)
def test_looks_like_upgrade(data: bytes, expected: bool | None) -> None:
    assert looks_like_upgrade(data) is expected


def test_sip_over_websocket_through_tcp() -> None:
    diags: list[Diagnostic] = []
    r = TcpReassembler(diags.append)
    c, s = CLIENT[0], SERVER[0]
    resp = sip_response("ws1", 1, body=SDP)
    out: list[Payload] = []
    client = UPGRADE + frame(MSG[:100], fin=False, mask=KEY) + frame(MSG[100:], 0, mask=KEY)
    server = SWITCHING + frame(resp)
    out += r.feed("w", 1, 1, c, s, segment(100, flags="S", ack=0, sport=50000, dport=8080))
    out += r.feed("w", 2, 2, s, c, segment(900, flags="SA", ack=101, sport=8080, dport=50000))
    out += r.feed("w", 3, 3, c, s, segment(101, client[:70], sport=50000, dport=8080))
    out += r.feed("w", 4, 4, s, c, segment(901, server, sport=8080, dport=50000))
    out += r.feed("w", 5, 5, c, s, segment(171, client[70:], sport=50000, dport=8080))
    out += r.finish()
    assert [(p.data, p.transport, p.frame, str(p.src)) for p in out] == [
        (resp, Transport.WS, 4, "10.0.0.2:8080"),
        (MSG, Transport.WS, 5, "10.0.0.1:50000"),
    ]
    assert diags == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(frame(MSG, mask=KEY), True, id="masked-request"),
        pytest.param(frame(MEDIUM), True, id="unmasked-16-bit"),
        pytest.param(frame(LARGE, mask=KEY), True, id="masked-64-bit"),
        pytest.param(frame(MSG[:60], fin=False), True, id="first-fragment"),
        pytest.param(frame(b"ping", opcode=9), False, id="ping"),
        pytest.param(frame(b"\x00\x01binary stuff here"), False, id="not-sip"),
        pytest.param(MSG, False, id="plain-sip"),
    ],
)
def test_looks_like_sip_frame(data: bytes, expected: bool) -> None:
    assert looks_like_sip_frame(data) is expected


def test_websocket_upgraded_before_the_capture() -> None:
    """No SYN and no upgrade in the capture: the first frame tells."""
    diags: list[Diagnostic] = []
    r = TcpReassembler(diags.append)
    data = frame(MSG, mask=KEY) + frame(MEDIUM, mask=KEY)
    out = r.feed("w", 1, 1, CLIENT[0], SERVER[0], segment(5000, data[:90], sport=50000, dport=80))
    out += r.feed("w", 2, 2, CLIENT[0], SERVER[0], segment(5090, data[90:], sport=50000, dport=80))
    assert [(p.data, p.transport) for p in out] == [(MSG, Transport.WS), (MEDIUM, Transport.WS)]
    assert diags == []
