"""HEP, the Homer Encapsulation Protocol, versions 2 and 3: the SIP message a capture
agent saw, with the original addresses, ports and time it carries.

A HEP packet sent to a collector says who really sent the SIP message to whom and
when; those are what a ladder must show, not the agent's own addresses. So a HEP
packet becomes a :class:`~sipladder.model.Payload` with the carried endpoints,
transport and timestamp (the capture frame still says where it was found).

* HEP3 (the "HEP3" magic): a total length, then chunks of vendor id, type id and
  length (the 6-byte chunk header included). Vendor 0 types: 1 IP family, 2 IP
  protocol, 3/4 IPv4 source/destination, 5/6 IPv6 source/destination, 7/8 ports,
  9/10 seconds and microseconds, 11 payload type (1 = SIP), 15 payload,
  16 compressed payload (zlib or gzip).
* HEP2: version 2, header length, family, protocol, ports (network order), the two
  addresses, then a time header of seconds, microseconds and capture id in the
  agent's byte order (little-endian in practice), padded to 12 bytes; then the payload.
"""

from __future__ import annotations

import socket
import zlib
from dataclasses import dataclass
from struct import Struct
from typing import TYPE_CHECKING

from sipladder.model import Endpoint, Payload, Transport

if TYPE_CHECKING:
    from sipladder.model import Frame
    from sipladder.net.decoder import PacketDecoder

HEP3_MAGIC = b"HEP3"
#: Usual collector ports (Homer: 9060; heplify-server also 9063 for TLS-less TCP).
HEP_PORTS = frozenset({9060, 9061, 9063, 9064})
#: Largest decompressed payload.
MAX_PAYLOAD = 1024 * 1024

_CHUNK = Struct("!HHH")
_V2_HEAD = Struct("!BBBBHH")
_V2_TIME = Struct("<IIH")
_PROTOCOLS = {6: Transport.TCP, 17: Transport.UDP, 132: Transport.SCTP}
_AF_INET6 = {10, 28, 30, socket.AF_INET6}  # Linux, BSD and macOS numbering


@dataclass(frozen=True, slots=True)
class HepPacket:
    src: Endpoint
    dst: Endpoint
    transport: Transport
    ts_ns: int | None  #: the time the agent captured the message, when carried
    payload_type: int | None  #: HEP3 chunk 11: 1 is SIP
    payload: bytes


def looks_like_hep(data: bytes, port: int | None = None) -> bool:
    """HEP3 by its magic on any port; HEP2 only on a HEP port (its header is short and
    has no magic, so it is checked field by field)."""
    if data[:4] == HEP3_MAGIC:
        return True
    if port not in HEP_PORTS or len(data) < 28 or data[0] != 2:
        return False
    return (data[1], data[2]) in ((16, socket.AF_INET), (40, 10), (40, socket.AF_INET6))


def decode(data: bytes) -> HepPacket | None:
    """One HEP packet, version 3 or 2; None when it is not one or lacks addresses."""
    if data[:4] == HEP3_MAGIC:
        return _decode_v3(data)
    if data[:1] == b"\x02":
        return _decode_v2(data)
    return None


def _decode_v3(data: bytes) -> HepPacket | None:
    if len(data) < 6:
        return None
    total = min(int.from_bytes(data[4:6], "big"), len(data))
    pos = 6
    proto = sport = dport = sec = usec = ptype = None
    src = dst = None
    payload = b""
    while pos + 6 <= total:
        vendor, ctype, length = _CHUNK.unpack_from(data, pos)
        if length < 6:
            return None
        value = data[pos + 6 : pos + length]
        pos += length
        if vendor != 0:
            continue
        # Chunk 1 (IP family) is implied by the address chunks' length.
        if ctype == 2 and value:
            proto = value[0]
        elif ctype in (3, 4) and len(value) == 4 or ctype in (5, 6) and len(value) == 16:
            af = socket.AF_INET if len(value) == 4 else socket.AF_INET6
            address = socket.inet_ntop(af, value)
            if ctype in (3, 5):
                src = address
            else:
                dst = address
        elif ctype == 7 and len(value) == 2:
            sport = int.from_bytes(value, "big")
        elif ctype == 8 and len(value) == 2:
            dport = int.from_bytes(value, "big")
        elif ctype == 9 and len(value) == 4:
            sec = int.from_bytes(value, "big")
        elif ctype == 10 and len(value) == 4:
            usec = int.from_bytes(value, "big")
        elif ctype == 11 and value:
            ptype = value[0]
        elif ctype == 15:
            payload = value
        elif ctype == 16:
            payload = _inflate(value)
    if src is None or dst is None or sport is None or dport is None:
        return None
    ts = sec * 1_000_000_000 + (usec or 0) * 1000 if sec is not None else None
    transport = _PROTOCOLS.get(proto or 17, Transport.UDP)
    return HepPacket(
        Endpoint.of(src, sport), Endpoint.of(dst, dport), transport, ts, ptype, payload
    )


def _decode_v2(data: bytes) -> HepPacket | None:
    if len(data) < 8:
        return None
    _version, head_len, family, proto, sport, dport = _V2_HEAD.unpack_from(data)
    size = 4 if family == socket.AF_INET else 16 if family in _AF_INET6 else 0
    if not size or head_len != 8 + 2 * size or len(data) < head_len + 12:
        return None
    af = socket.AF_INET if size == 4 else socket.AF_INET6
    src = socket.inet_ntop(af, data[8 : 8 + size])
    dst = socket.inet_ntop(af, data[8 + size : 8 + 2 * size])
    sec, usec, _capture_id = _V2_TIME.unpack_from(data, head_len)
    transport = _PROTOCOLS.get(proto, Transport.UDP)
    return HepPacket(
        Endpoint.of(src, sport),
        Endpoint.of(dst, dport),
        transport,
        sec * 1_000_000_000 + usec * 1000,
        None,
        data[head_len + 12 :],
    )


def _inflate(value: bytes) -> bytes:
    try:
        # wbits 47: zlib or gzip header, detected automatically.
        return zlib.decompressobj(47).decompress(value, MAX_PAYLOAD)
    except zlib.error:
        return b""


def split_stream(buf: bytes) -> tuple[list[bytes], bytes]:
    """HEP3 over TCP: whole packets by their length field, and the rest to keep."""
    out: list[bytes] = []
    pos = 0
    while len(buf) - pos >= 6 and buf[pos : pos + 4] == HEP3_MAGIC:
        total = int.from_bytes(buf[pos + 4 : pos + 6], "big")
        if total < 6 or len(buf) - pos < total:
            break
        out.append(buf[pos : pos + total])
        pos += total
    return out, buf[pos:]


def payload(file: str, frame: int, ts_ns: int, data: bytes) -> Payload | None:
    """The SIP payload a HEP packet carries, with its original endpoints and time (the
    capture's own time when the packet carries none); None when it is not HEP."""
    packet = decode(data)
    if packet is None or not packet.payload:
        return None
    ts = packet.ts_ns if packet.ts_ns is not None else ts_ns
    return Payload(file, frame, ts, packet.src, packet.dst, packet.transport, packet.payload)


def install(d: PacketDecoder) -> None:
    """Register the HEP collector ports: a HEP packet there becomes the payload it
    carries (a datagram that is not HEP goes on as an ordinary one)."""

    def handler(d: PacketDecoder, frame: Frame, udp: Payload) -> bool:
        port = udp.dst.port if udp.dst.port in HEP_PORTS else udp.src.port
        if not looks_like_hep(udp.data, port):
            return False
        carried = payload(frame.file, frame.number, frame.ts_ns, udp.data)
        if carried is None:
            d.ignore("HEP packet without addresses or payload")
        else:
            d.emit(carried)
        return True

    for port in sorted(HEP_PORTS):
        d.register_udp_port(port, handler)
