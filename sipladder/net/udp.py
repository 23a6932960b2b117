"""UDP (RFC 768): one datagram becomes one :class:`~sipladder.model.Payload`.

Ports registered with :meth:`~sipladder.net.decoder.PacketDecoder.register_udp_port`
(VXLAN, HEP) get the datagram first and may consume it. Checksums are not
verified (offloading leaves them wrong on the sending host).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from sipladder.errors import DecodeError
from sipladder.model import Frame, Payload, Transport, fast_constructor

if TYPE_CHECKING:
    from sipladder.net.decoder import PacketDecoder

IPPROTO_UDP = 17
_UDP = struct.Struct("!HHH")  # source port, destination port, length (checksum unread)
_UDP_TRANSPORT = Transport.UDP
# one Payload per datagram: positional, every field (5x cheaper than Payload(...))
_new_payload = fast_constructor(Payload)


def udp(d: PacketDecoder, frame: Frame, src: bytes, dst: bytes, view: memoryview) -> None:
    available = len(view)
    if available < 8:
        raise DecodeError("UDP header shorter than 8 bytes", 0)
    sport, dport, length = _UDP.unpack_from(view)
    if length == 0:
        # RFC 2675 jumbogram, or captured before segmentation offload: use what is there.
        length = available
    elif length < 8:
        raise DecodeError(f"UDP length {length} is less than its 8-byte header", 4)
    if length > available:
        # The snap length (or a lost fragment) cut the datagram: deliver what there is.
        payload = datagram(d, frame, src, dst, sport, dport, bytes(view[8:]), True)
    else:
        payload = datagram(d, frame, src, dst, sport, dport, bytes(view[8:length]), False)
    ports = d.udp_ports
    if ports:
        handler = ports.get(dport) or ports.get(sport)
        if handler is not None and handler(d, frame, payload):
            return
    d.out.append(payload)


def datagram(
    d: PacketDecoder,
    frame: Frame,
    src: bytes,
    dst: bytes,
    sport: int,
    dport: int,
    data: bytes,
    truncated: bool,
) -> Payload:
    """The Payload of one UDP datagram (also built by the decoder's compiled fast path)."""
    # The endpoint cache, looked up here directly: this is the per-datagram hot path.
    endpoints = d.endpoints
    return _new_payload(
        frame.file,
        frame.number,
        frame.ts_ns,
        endpoints.get((src, sport)) or d.endpoint(src, sport),
        endpoints.get((dst, dport)) or d.endpoint(dst, dport),
        _UDP_TRANSPORT,
        data,
        truncated,
    )


def install(d: PacketDecoder) -> None:
    d.register_ip_protocol(IPPROTO_UDP, udp)
