"""Encapsulations: take the outer header off, say what is inside.

Each function takes the bytes after its outer header's own start and returns
``(ethertype, inner bytes)``, or None when the header is not one we can read. The
ethertype is the common language of the decoder's dispatch table:
:data:`ETH_IPV4`, :data:`ETH_IPV6`, or :data:`ETH_BRIDGED` for a whole Ethernet frame
(Transparent Ethernet Bridging, RFC 1701's 0x6558). The decoder hands the inner bytes
back to its own link or IP layer, so tunnels nest freely.

* IP-in-IP and IPv6-in-IPv4: IP protocols 4 and 41 (RFC 2003, RFC 4213):
  :data:`IP_PROTOCOLS`.
* GRE (RFC 2784, RFC 2890 keys and sequence numbers) and the enhanced GRE of PPTP
  (RFC 2637, version 1, carrying PPP), including ERSPAN types I, II and III.
* VXLAN (RFC 7348, and VXLAN-GPE) and GTP-U (3GPP TS 29.281) over UDP: :data:`UDP_PORTS`.
* MPLS label stacks (RFC 3032), PPP (RFC 1661) and PPPoE sessions (RFC 2516).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sipladder.model import Frame, Payload
    from sipladder.net.decoder import PacketDecoder

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_BRIDGED = 0x6558  #: a whole Ethernet frame follows
ETH_PPP = 0x880B
ETH_ERSPAN_2 = 0x88BE  #: ERSPAN type II (or type I without a sequence number)
ETH_ERSPAN_3 = 0x22EB
ETH_MPLS_UNICAST = 0x8847
ETH_MPLS_MULTICAST = 0x8848
ETH_PPPOE_SESSION = 0x8864

Inner = tuple[int, bytes]
Unwrap = Callable[[bytes], "Inner | None"]


def _by_version(data: bytes) -> Inner | None:
    """An IP packet whose version is read from its first nibble."""
    if not data:
        return None
    version = data[0] >> 4
    if version == 4:
        return ETH_IPV4, data
    if version == 6:
        return ETH_IPV6, data
    return None


# --------------------------------------------------------------------------- GRE


def gre(data: bytes) -> Inner | None:
    """GRE header (RFC 2784 section 2.1, RFC 2890 section 2, RFC 2637 section 4.1)."""
    if len(data) < 4:
        return None
    flags, version = data[0], data[1] & 0x07
    proto = int.from_bytes(data[2:4], "big")
    checksum, routing, key, seq = flags & 0x80, flags & 0x40, flags & 0x20, flags & 0x10
    pos = 4
    if version == 0:
        if checksum or routing:
            pos += 4  # checksum and reserved (offset, with routing: RFC 1701)
        if key:
            pos += 4
        if seq:
            pos += 4
        if routing:
            # RFC 1701 source route entries, ended by a NULL entry (family 0, length 0).
            while pos + 4 <= len(data):
                length = data[pos + 3]
                pos += 4 + length
                if length == 0:
                    break
    elif version == 1:
        # Enhanced GRE (PPTP): key (payload length, call id) always there; sequence
        # and acknowledgment numbers present by flag (the A flag is bit 0x80 of byte 1).
        pos += 4
        if seq:
            pos += 4
        if data[1] & 0x80:
            pos += 4
    else:
        return None
    inner = data[pos:]
    if proto == ETH_ERSPAN_2:
        # ERSPAN type II has an 8-byte header and the S flag; type I has neither.
        return (ETH_BRIDGED, inner[8:]) if seq else (ETH_BRIDGED, inner)
    if proto == ETH_ERSPAN_3:
        return erspan3(inner)
    if proto == ETH_PPP:
        return ppp(inner)
    if proto in (ETH_MPLS_UNICAST, ETH_MPLS_MULTICAST):
        return mpls(inner)
    return proto, inner


def erspan3(data: bytes) -> Inner | None:
    """ERSPAN type III: a 12-byte header, then an 8-byte platform subheader when the O
    flag (lowest bit of byte 11) is set; the frame type (FT) says Ethernet (0) or IP (2)."""
    if len(data) < 12:
        return None
    pos = 20 if data[11] & 0x01 else 12
    frame_type = (data[10] >> 2) & 0x1F
    if frame_type == 2:
        return _by_version(data[pos:])
    return ETH_BRIDGED, data[pos:]


# --------------------------------------------------------------------------- MPLS, PPP


def mpls(data: bytes) -> Inner | None:
    """An MPLS label stack (RFC 3032 section 2.1): 4-byte entries, the last with the S
    bit. What follows is not labelled: IPv4 or IPv6 by the first nibble, else an
    Ethernet pseudowire (RFC 4448), after its control word when it starts with 0."""
    pos = 0
    while pos + 4 <= len(data):
        bottom = data[pos + 2] & 0x01
        pos += 4
        if bottom:
            break
    else:
        return None
    rest = data[pos:]
    if not rest:
        return None
    nibble = rest[0] >> 4
    if nibble in (4, 6):
        return _by_version(rest)
    if nibble == 0:
        rest = rest[4:]  # pseudowire control word (RFC 4385)
    return ETH_BRIDGED, rest


# RFC 1661 section 2 / assigned PPP DLL protocol numbers.
_PPP_PROTOCOLS = {0x0021: ETH_IPV4, 0x0057: ETH_IPV6}


def ppp(data: bytes) -> Inner | None:
    """A PPP frame: address and control (FF 03) may be omitted (RFC 1662 section 3.2),
    and the protocol field compressed to one byte (RFC 1661 section 6.5)."""
    if data[:2] == b"\xff\x03":
        data = data[2:]
    if not data:
        return None
    if data[0] & 0x01:  # one-byte (compressed) protocol field: odd first byte
        proto, pos = data[0], 1
    else:
        if len(data) < 2:
            return None
        proto, pos = int.from_bytes(data[:2], "big"), 2
    ethertype = _PPP_PROTOCOLS.get(proto)
    return (ethertype, data[pos:]) if ethertype else None


def pppoe_session(data: bytes) -> Inner | None:
    """PPPoE session stage (RFC 2516 section 4): a 6-byte header, then PPP's protocol."""
    if len(data) < 8:
        return None
    length = int.from_bytes(data[4:6], "big")
    return ppp(data[6 : 6 + length])


# --------------------------------------------------------------------------- over UDP


def vxlan(data: bytes) -> Inner | None:
    """VXLAN (RFC 7348 section 5): 8-byte header with the I flag, then Ethernet.

    The other flag bits and the last byte are reserved and zero (the G bit 0x80 of
    VXLAN-GBP allowed): that keeps an ordinary datagram on the port from being taken
    for VXLAN ("INVITE" starts with a byte that has the I bit set)."""
    if len(data) < 8 + 14 or not data[0] & 0x08 or data[0] & 0x73 or data[7]:
        return None
    if data[0] & 0x04:
        # VXLAN-GPE (the P flag): byte 3 names what follows: 1 IPv4, 2 IPv6, 3 Ethernet.
        return {1: (ETH_IPV4, data[8:]), 2: (ETH_IPV6, data[8:]), 3: (ETH_BRIDGED, data[8:])}.get(
            data[3]
        )
    return ETH_BRIDGED, data[8:]


def gtp_u(data: bytes) -> Inner | None:
    """GTP-U version 1 G-PDU (3GPP TS 29.281 section 5): an 8-byte header, 4 more when
    any of E, S, PN is set, then extension headers (length in 4-byte units, the last
    byte naming the next type); the user's IP packet follows."""
    if len(data) < 8 or data[0] >> 5 != 1 or data[1] != 0xFF:
        return None
    pos = 8
    if data[0] & 0x07:
        if len(data) < 12:
            return None
        next_type = data[11]
        pos = 12
        while next_type:
            if pos >= len(data):
                return None
            length = data[pos] * 4
            if length == 0:
                return None
            next_type = data[pos + length - 1] if pos + length <= len(data) else 0
            pos += length
    return _by_version(data[pos:])


# --------------------------------------------------------------------------- tables

#: IP protocol number -> unwrap function (IP-in-IP, IPv6-in-IPv4, GRE).
IP_PROTOCOLS: dict[int, Unwrap] = {
    4: lambda data: (ETH_IPV4, data),
    41: lambda data: (ETH_IPV6, data),
    47: gre,
}

#: Ethertype -> unwrap function, for the link layer.
ETHERTYPES: dict[int, Unwrap] = {
    ETH_MPLS_UNICAST: mpls,
    ETH_MPLS_MULTICAST: mpls,
    ETH_PPPOE_SESSION: pppoe_session,
    ETH_PPP: ppp,
}

#: Well-known UDP destination ports of tunnels (VXLAN: IANA 4789 and Linux's old
#: default 8472; VXLAN-GPE: 4790; GTP-U: 2152). Each function checks its header
#: before accepting.
UDP_PORTS: dict[int, Unwrap] = {4789: vxlan, 4790: vxlan, 8472: vxlan, 2152: gtp_u}


# --------------------------------------------------------------------------- decoder

LINKTYPE_ETHERNET = 1


def _inner(d: PacketDecoder, frame: Frame, inner: Inner | None, what: str) -> bool:
    """Hand the inner packet back to the decoder's link or IP layer."""
    if inner is None:
        d.ignore(what)
        return False
    ethertype, data = inner
    if ethertype == ETH_BRIDGED:
        d.decode_link(frame, LINKTYPE_ETHERNET, memoryview(data))
    else:
        d.decode_ethertype(frame, ethertype, memoryview(data))
    return True


def install(d: PacketDecoder) -> None:
    """Register IP-in-IP, IPv6-in-IPv4, GRE, MPLS, VXLAN and GTP-U."""

    def ip_protocol(protocol: int, unwrap: Unwrap) -> None:
        what = f"IP protocol {protocol} not understood"

        def handler(
            d: PacketDecoder, frame: Frame, src: bytes, dst: bytes, view: memoryview
        ) -> None:
            _inner(d, frame, unwrap(bytes(view)), what)

        d.register_ip_protocol(protocol, handler)

    def ethertype(number: int, unwrap: Unwrap) -> None:
        what = f"ethertype {number:#06x} not understood"

        def handler(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
            _inner(d, frame, unwrap(bytes(view)), what)

        d.register_ethertype(number, handler)

    def udp_port(port: int, unwrap: Unwrap) -> None:
        def handler(d: PacketDecoder, frame: Frame, payload: Payload) -> bool:
            inner = unwrap(payload.data)
            if inner is None:
                return False  # not the tunnel after all: an ordinary datagram
            return _inner(d, frame, inner, "")

        d.register_udp_port(port, handler)

    for protocol, unwrap in IP_PROTOCOLS.items():
        ip_protocol(protocol, unwrap)
    for number in (ETH_MPLS_UNICAST, ETH_MPLS_MULTICAST):
        ethertype(number, mpls)
    for port, unwrap in UDP_PORTS.items():
        udp_port(port, unwrap)
