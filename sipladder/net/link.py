"""Link layers: from a captured frame to the network-layer packet it carries.

Ethernet (with 802.1Q tags and stacked QinQ), PPPoE sessions, Linux cooked
captures (SLL, SLL2), raw IP, BSD null/loopback and PPP. Link types are the
``LINKTYPE_*`` values of https://www.tcpdump.org/linktypes.html.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from sipladder.errors import DecodeError
from sipladder.model import Frame

if TYPE_CHECKING:
    from sipladder.net.decoder import PacketDecoder

_u16 = struct.Struct("!H").unpack_from
_u32le = struct.Struct("<I").unpack_from

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_VLAN = 0x8100  # IEEE 802.1Q customer tag
ETH_QINQ = 0x88A8  # IEEE 802.1ad service tag
ETH_QINQ_OLD = (0x9100, 0x9200, 0x9300)  # pre-standard QinQ tags some switches still send
ETH_PPPOE_SESSION = 0x8864

_SNAP_RFC1042 = b"\xaa\xaa\x03\x00\x00\x00"  # LLC DSAP, SSAP, control; SNAP OUI 00-00-00

#: Tags that are followed by a 2-byte TCI and another ethertype.
VLAN_TAGS = frozenset((ETH_VLAN, ETH_QINQ, *ETH_QINQ_OLD))

#: Most VLAN tags we unwrap before giving up (a loop guard for corrupt frames).
MAX_VLAN_TAGS = 8

# Link types (tcpdump.org/linktypes.html)
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_PPP = 9
LINKTYPE_RAW_ALT12 = 12  # DLT_RAW on most BSDs, written by some old captures
LINKTYPE_RAW_ALT14 = 14  # DLT_RAW on OpenBSD
LINKTYPE_PPP_HDLC = 50
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

# Address family values a null/loopback header may carry for IPv6: BSDs never
# agreed on AF_INET6 (and the capturing host's value is written).
AF_INET = 2
AF_INET6_VALUES = frozenset((10, 24, 28, 30))  # Linux, Net/Open/BSD-OS, FreeBSD, Darwin

_LINKTYPE_NAMES = {
    0: "NULL",
    1: "ETHERNET",
    6: "IEEE802_5",
    8: "SLIP",
    9: "PPP",
    10: "FDDI",
    12: "RAW (DLT 12)",
    14: "RAW (DLT 14)",
    50: "PPP_HDLC",
    51: "PPP_ETHER",
    101: "RAW",
    104: "C_HDLC",
    105: "IEEE802_11",
    107: "FRELAY",
    108: "LOOP",
    113: "LINUX_SLL",
    119: "IEEE802_11_PRISM",
    127: "IEEE802_11_RADIOTAP",
    139: "MTP2_WITH_PHDR",
    140: "MTP2",
    141: "MTP3",
    142: "SCCP",
    143: "DOCSIS",
    147: "USER0",
    187: "BLUETOOTH_HCI_H4",
    189: "USB_LINUX",
    192: "PPI",
    195: "IEEE802_15_4_WITHFCS",
    201: "BLUETOOTH_HCI_H4_WITH_PHDR",
    220: "USB_LINUX_MMAPPED",
    228: "IPV4",
    229: "IPV6",
    239: "NFLOG",
    249: "USBPCAP",
    252: "WIRESHARK_UPPER_PDU",
    253: "NETLINK",
    276: "LINUX_SLL2",
}


def linktype_name(linktype: int) -> str:
    """``LINKTYPE_ETHERNET``-style name of a link type, or ``LINKTYPE_<n>`` if unknown."""
    name = _LINKTYPE_NAMES.get(linktype)
    if name is None:
        # scapy knows a few hundred more (as DLT_* constants); only asked for rare ones.
        import scapy.data

        for key, value in vars(scapy.data).items():
            if key.startswith("DLT_") and value == linktype:
                name = key[4:]
                break
        else:
            return f"LINKTYPE_{linktype}"
    return f"LINKTYPE_{name}"


# --------------------------------------------------------------------------- handlers


def ethernet(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    """IEEE 802.3 / Ethernet II, then any number of VLAN tags (802.1Q, 802.1ad QinQ)."""
    if len(view) < 14:
        raise DecodeError("Ethernet header shorter than 14 bytes", 0)
    (ethertype,) = _u16(view, 12)
    offset = 14
    tags = 0
    while ethertype in VLAN_TAGS:
        tags += 1
        if tags > MAX_VLAN_TAGS:
            raise DecodeError(f"more than {MAX_VLAN_TAGS} stacked VLAN tags", offset)
        (ethertype,) = _u16(view, offset + 2)  # skip the 2-byte TCI (PCP, DEI, VLAN id)
        offset += 4
    handler = d.ethertypes.get(ethertype)  # the hot path: no extra call through the decoder
    if handler is not None:
        handler(d, frame, view[offset:])
    elif ethertype < 0x0600:
        # An 802.3 length field, then 802.2 LLC. With a SNAP header (AA AA 03) and
        # OUI 00-00-00 (RFC 1042), an ethertype follows; anything else (STP, CDP, ...)
        # carries no IP for us.
        if view[offset : offset + 6] == _SNAP_RFC1042:
            (ethertype,) = _u16(view, offset + 6)
            d.decode_ethertype(frame, ethertype, view[offset + 8 :])
        else:
            d.ignore("802.3 LLC frame")
    else:
        d.ignore(f"ethertype {ethertype:#06x}")


def pppoe_session(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    """RFC 2516 PPPoE session stage: 6-byte header, then a PPP protocol field."""
    (length,) = _u16(view, 4)
    _ppp(d, frame, view[6 : 6 + length], 0)


_PPP_PROTOCOLS = {0x0021: ETH_IPV4, 0x0057: ETH_IPV6}


def _ppp(d: PacketDecoder, frame: Frame, view: memoryview, offset: int) -> None:
    # RFC 1661 section 2: the protocol field is 2 bytes, or 1 when compressed (odd value).
    if view[offset] & 1:
        protocol = view[offset]
        offset += 1
    else:
        (protocol,) = _u16(view, offset)
        offset += 2
    ethertype = _PPP_PROTOCOLS.get(protocol)
    if ethertype is None:
        d.ignore(f"PPP protocol {protocol:#06x}")
        return
    d.decode_ethertype(frame, ethertype, view[offset:])


def ppp(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    """LINKTYPE_PPP / PPP_HDLC: optional ``ff 03`` address and control, then the protocol."""
    offset = 2 if view[0] == 0xFF and view[1] == 0x03 else 0
    _ppp(d, frame, view, offset)


def linux_sll(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    """Linux cooked capture v1: packet type, ARPHRD, address length, 8 address bytes, protocol."""
    if len(view) < 16:
        raise DecodeError("Linux SLL header shorter than 16 bytes", 0)
    (protocol,) = _u16(view, 14)
    _sll_payload(d, frame, protocol, view[16:])


def linux_sll2(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    """Linux cooked capture v2: protocol first, then interface index, ARPHRD, type, address."""
    if len(view) < 20:
        raise DecodeError("Linux SLL2 header shorter than 20 bytes", 0)
    (protocol,) = _u16(view, 0)
    _sll_payload(d, frame, protocol, view[20:])


def _sll_payload(d: PacketDecoder, frame: Frame, protocol: int, view: memoryview) -> None:
    if protocol < 0x0600:
        # Values below 1536 are not ethertypes here (1: 802.3 frames, 4: 802.2 LLC,
        # 0x0c: CAN, ...): nothing that carries IP without an Ethernet header.
        d.ignore(f"Linux SLL protocol {protocol:#06x}")
        return
    d.decode_ethertype(frame, protocol, view)


def raw_ip(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    """Raw IP (101, and 12/14 as written by some BSD captures): the version nibble decides."""
    d.decode_ip(frame, view)


def raw_ipv4(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    d.decode_ethertype(frame, ETH_IPV4, view)


def raw_ipv6(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    d.decode_ethertype(frame, ETH_IPV6, view)


def null(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    """BSD loopback: a 4-byte address family in the *capturing host's* byte order."""
    if len(view) < 4:
        raise DecodeError("loopback header shorter than 4 bytes", 0)
    (family,) = _u32le(view, 0)
    if family > 0xFFFF:  # written big-endian: the value sits in the high bytes
        family = int.from_bytes(view[:4], "big")
    _family(d, frame, family, view[4:])


def loop(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
    """OpenBSD loopback: like NULL, but the family is always in network byte order."""
    if len(view) < 4:
        raise DecodeError("loopback header shorter than 4 bytes", 0)
    _family(d, frame, int.from_bytes(view[:4], "big"), view[4:])


def _family(d: PacketDecoder, frame: Frame, family: int, view: memoryview) -> None:
    if family == AF_INET:
        d.decode_ethertype(frame, ETH_IPV4, view)
    elif family in AF_INET6_VALUES:
        d.decode_ethertype(frame, ETH_IPV6, view)
    else:
        d.ignore(f"loopback address family {family}")


def install(d: PacketDecoder) -> None:
    d.register_linktype(LINKTYPE_ETHERNET, ethernet)
    d.register_linktype(LINKTYPE_NULL, null)
    d.register_linktype(LINKTYPE_LOOP, loop)
    d.register_linktype(LINKTYPE_PPP, ppp)
    d.register_linktype(LINKTYPE_PPP_HDLC, ppp)
    d.register_linktype(LINKTYPE_RAW, raw_ip)
    d.register_linktype(LINKTYPE_RAW_ALT12, raw_ip)
    d.register_linktype(LINKTYPE_RAW_ALT14, raw_ip)
    d.register_linktype(LINKTYPE_IPV4, raw_ipv4)
    d.register_linktype(LINKTYPE_IPV6, raw_ipv6)
    d.register_linktype(LINKTYPE_LINUX_SLL, linux_sll)
    d.register_linktype(LINKTYPE_LINUX_SLL2, linux_sll2)
    d.register_ethertype(ETH_PPPOE_SESSION, pppoe_session)
