"""IPv4 (RFC 791) and IPv6 (RFC 8200) headers, IPv6 extension headers and AH.

Each handler finds the upper-layer protocol and payload and hands them to the
decoder's IP protocol table; fragments go to :mod:`sipladder.net.fragments` first.
Header checksums are not verified: captures taken on the sending host carry
whatever checksum offloading left there.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from sipladder.errors import DecodeError
from sipladder.model import Frame

if TYPE_CHECKING:
    from sipladder.net.decoder import PacketDecoder
    from sipladder.net.fragments import Reassembler

# version/IHL, (TOS), total length, identification, flags+fragment offset, (TTL),
# protocol, (checksum), source, destination
_IPV4 = struct.Struct("!BxHHHxB2x4s4s")
# version/class/flow, payload length, next header, hop limit, source, destination
_IPV6 = struct.Struct("!IHBx16s16s")
_IPV6_FRAGMENT = struct.Struct("!BxHI")  # next header, (reserved), offset+M flag, identification

IPPROTO_HOPOPTS = 0
IPPROTO_UDP = 17
IPPROTO_ROUTING = 43
IPPROTO_FRAGMENT = 44
IPPROTO_ESP = 50
IPPROTO_AH = 51
IPPROTO_NONE = 59
IPPROTO_DSTOPTS = 60

#: Extension headers in the RFC 8200 section 4 format (next header, length in
#: 8-byte units not counting the first 8): hop-by-hop, routing, destination
#: options, and the later Mobility (135), HIP (139) and Shim6 (140) headers that
#: RFC 7045 says follow the same format.
_GENERIC_EXTENSIONS = frozenset((IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS, 135, 139, 140))

_EXTENSIONS = _GENERIC_EXTENSIONS | {IPPROTO_FRAGMENT, IPPROTO_AH}

#: Loop guard for corrupt packets: no real packet chains more extension headers.
MAX_EXTENSION_HEADERS = 16


def _reassembler(d: PacketDecoder) -> Reassembler:
    reassembler: Reassembler = d.state["fragments"]
    return reassembler


def ipv4(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    """RFC 791 section 3.1. Options (IHL > 5) are skipped; the total length trims
    Ethernet padding, and a total length beyond the captured bytes means the
    snap length cut the packet (the transport layer marks its payload truncated)."""
    if len(view) < 20:
        raise DecodeError("IPv4 header shorter than 20 bytes", 0)
    vihl, total, ident, frag, proto, src, dst = _IPV4.unpack_from(view)
    if vihl >> 4 != 4:
        raise DecodeError(f"IPv4 packet with version {vihl >> 4}", 0)
    ihl = (vihl & 0x0F) * 4
    if ihl < 20:
        raise DecodeError(f"IPv4 header length {ihl} is less than 20", 0)
    if total == 0:
        # Captured before TCP/UDP segmentation offload filled it in: trust the capture.
        total = len(view)
    elif total < ihl:
        raise DecodeError(f"IPv4 total length {total} is less than its header length {ihl}", 2)
    end = total if total <= len(view) else len(view)
    if ihl > end:
        raise DecodeError("IPv4 options run past the captured bytes", 20)
    if frag & 0x3FFF:  # MF flag or a fragment offset: RFC 791 fragmentation
        data = _reassembler(d).add(
            frame,
            (4, src, dst, ident, proto),
            (frag & 0x1FFF) * 8,
            bool(frag & 0x2000),
            view[ihl:end],
            total - ihl,
            proto,
        )
        if data is not None:
            d.decode_ip_payload(frame, proto, src, dst, memoryview(data[0]))
        return
    handler = d.ip_protocols.get(proto)
    if handler is None:
        d.ignore(f"IP protocol {proto}")
    else:
        handler(d, frame, src, dst, view[ihl:end])


def ipv6(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    """RFC 8200 section 3, then the extension header chain (section 4)."""
    if len(view) < 40:
        raise DecodeError("IPv6 header shorter than 40 bytes", 0)
    vtf, plen, nh, src, dst = _IPV6.unpack_from(view)
    if vtf >> 28 != 6:
        raise DecodeError(f"IPv6 packet with version {vtf >> 28}", 0)
    if plen == 0:
        # A jumbogram (RFC 2675) or a packet captured before segmentation offload.
        end = len(view)
    else:
        end = 40 + plen if 40 + plen <= len(view) else len(view)
    if nh in _EXTENSIONS:
        extensions(d, frame, src, dst, nh, view, 40, end, 40 + plen if plen else end)
        return
    handler = d.ip_protocols.get(nh)
    if handler is None:
        d.ignore(f"IP protocol {nh}")
    else:
        handler(d, frame, src, dst, view[40:end])


def extensions(
    d: PacketDecoder,
    frame: Frame,
    src: bytes,
    dst: bytes,
    nh: int,
    view: memoryview,
    offset: int,
    end: int,
    claimed_end: int,
) -> None:
    """Walk IPv6 extension headers from ``offset`` and dispatch the upper layer.

    Also used after reassembly: the fragmentable part may start with more
    extension headers (destination options, routing) before the transport header.
    """
    count = 0
    while True:
        if nh in _GENERIC_EXTENSIONS:
            if offset + 2 > end:
                raise DecodeError("IPv6 extension header runs past the captured bytes", offset)
            next_nh = view[offset]
            offset += (view[offset + 1] + 1) * 8
            nh = next_nh
        elif nh == IPPROTO_AH:
            # RFC 4302 section 2.2: length in 4-byte units minus 2 (unlike the others).
            if offset + 2 > end:
                raise DecodeError("authentication header runs past the captured bytes", offset)
            next_nh = view[offset]
            offset += (view[offset + 1] + 2) * 4
            nh = next_nh
        elif nh == IPPROTO_FRAGMENT:
            if offset + 8 > end:
                raise DecodeError("IPv6 fragment header runs past the captured bytes", offset)
            next_nh, offlg, ident = _IPV6_FRAGMENT.unpack_from(view, offset)
            offset += 8
            frag_offset = offlg & 0xFFF8
            more = bool(offlg & 1)
            if frag_offset or more:
                data = _reassembler(d).add(
                    frame,
                    (6, src, dst, ident, -1),
                    frag_offset,
                    more,
                    view[offset:end],
                    claimed_end - offset,
                    next_nh,
                )
                if data is not None:
                    whole, first_nh = data
                    extensions(
                        d, frame, src, dst, first_nh, memoryview(whole), 0, len(whole), len(whole)
                    )
                return
            nh = next_nh  # an atomic fragment (RFC 6946): the packet is whole
        else:
            break
        count += 1
        if count > MAX_EXTENSION_HEADERS:
            raise DecodeError(f"more than {MAX_EXTENSION_HEADERS} IPv6 extension headers", offset)
    if offset > end:
        raise DecodeError("IPv6 extension headers run past the captured bytes", offset)
    d.decode_ip_payload(frame, nh, src, dst, view[offset:end])


def authentication_header(
    d: PacketDecoder, frame: Frame, src: bytes, dst: bytes, view: memoryview
) -> None:
    """RFC 4302 section 2: AH only authenticates, so the payload after it is readable.
    Its length counts 4-byte units minus 2 (unlike the other IPv6 extension headers)."""
    if len(view) < 8:
        raise DecodeError("authentication header shorter than 8 bytes", 0)
    length = (view[1] + 2) * 4
    if length > len(view):
        raise DecodeError("authentication header runs past the captured bytes", 0)
    d.decode_ip_payload(frame, view[0], src, dst, view[length:])


def install(d: PacketDecoder) -> None:
    d.register_ethertype(0x0800, ipv4)
    d.register_ethertype(0x86DD, ipv6)
    d.register_ip_protocol(IPPROTO_AH, authentication_header)
