"""Encapsulations (sipladder.net.tunnels): headers built with scapy, inner bytes checked."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from scapy.contrib.erspan import ERSPAN_I, ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
from scapy.contrib.mpls import MPLS
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import GRE, Ether
from scapy.layers.ppp import HDLC, PPP, PPPoE
from scapy.layers.vxlan import VXLAN
from scapy.packet import Packet, Raw
from transport_helpers import sip_request

from sipladder.net import tunnels as t

SIP = sip_request("tun", 1)
INNER4 = bytes(IP(src="10.1.1.1", dst="10.1.1.2") / UDP(sport=5060, dport=5060) / Raw(SIP))
INNER6 = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5060, dport=5060) / Raw(SIP))
ETHER = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(INNER4))


def after(header: Packet, inner: bytes) -> bytes:
    """The bytes of ``header`` with ``inner`` as its payload."""
    return bytes(header / Raw(inner))


CASES: list[tuple[str, Callable[[bytes], t.Inner | None], bytes, t.Inner]] = [
    ("gre-ipv4", t.gre, after(GRE(proto=0x0800), INNER4), (t.ETH_IPV4, INNER4)),
    ("gre-ipv6", t.gre, after(GRE(proto=0x86DD), INNER6), (t.ETH_IPV6, INNER6)),
    (
        "gre-key-seq-checksum",
        t.gre,
        after(GRE(proto=0x0800, key_present=1, key=7, seqnum_present=1, sequence_number=9,
                  chksum_present=1), INNER4),
        (t.ETH_IPV4, INNER4),
    ),
    ("gre-bridged", t.gre, after(GRE(proto=0x6558), ETHER), (t.ETH_BRIDGED, ETHER)),
    (
        "gre-erspan-1",
        t.gre,
        after(GRE(proto=0x88BE) / ERSPAN_I(), ETHER),
        (t.ETH_BRIDGED, ETHER),
    ),
    (
        "gre-erspan-2",
        t.gre,
        after(GRE(proto=0x88BE, seqnum_present=1) / ERSPAN_II(session_id=5), ETHER),
        (t.ETH_BRIDGED, ETHER),
    ),
    (
        "gre-erspan-3",
        t.gre,
        after(GRE(proto=0x22EB, seqnum_present=1) / ERSPAN_III(session_id=5, o=0), ETHER),
        (t.ETH_BRIDGED, ETHER),
    ),
    (
        "gre-erspan-3-platform",
        t.gre,
        after(
            GRE(proto=0x22EB, seqnum_present=1) / ERSPAN_III(o=1) / ERSPAN_PlatformSpecific(),
            ETHER,
        ),
        (t.ETH_BRIDGED, ETHER),
    ),
    (
        "gre-pptp-ppp",
        t.gre,
        # RFC 2637 enhanced GRE: version 1, key present (length + call id), sequence.
        bytes.fromhex("3001880b") + len(INNER4 + b"xx").to_bytes(2, "big") + b"\x00\x07"
        + b"\x00\x00\x00\x01" + bytes(HDLC() / PPP(proto=0x0021)) + INNER4,
        (t.ETH_IPV4, INNER4),
    ),
    ("vxlan", t.vxlan, bytes.fromhex("0800000000002a00") + ETHER, (t.ETH_BRIDGED, ETHER)),
    # scapy writes VXLAN-GPE (P flag, next protocol 3 = Ethernet) when Ether follows.
    ("vxlan-gpe", t.vxlan, after(VXLAN(vni=42) / Ether(ETHER), b""), (t.ETH_BRIDGED, ETHER)),
    ("mpls-one-label", t.mpls, after(MPLS(label=16, s=1), INNER4), (t.ETH_IPV4, INNER4)),
    (
        "mpls-stack-ipv6",
        t.mpls,
        after(MPLS(label=16, s=0) / MPLS(label=17, s=1), INNER6),
        (t.ETH_IPV6, INNER6),
    ),
    (
        "mpls-pseudowire",
        t.mpls,
        after(MPLS(label=16, s=1), b"\x00\x00\x00\x00" + ETHER),
        (t.ETH_BRIDGED, ETHER),
    ),
    ("ppp", t.ppp, after(PPP(proto=0x0057), INNER6), (t.ETH_IPV6, INNER6)),
    ("ppp-hdlc", t.ppp, after(HDLC() / PPP(proto=0x0021), INNER4), (t.ETH_IPV4, INNER4)),
    ("ppp-compressed-protocol", t.ppp, b"\x21" + INNER4, (t.ETH_IPV4, INNER4)),
    (
        "pppoe",
        t.pppoe_session,
        bytes(PPPoE(sessionid=3) / PPP(proto=0x0021) / IP(INNER4)),
        (t.ETH_IPV4, INNER4),
    ),
    ("gtp-u", t.gtp_u, after(GTP_U_Header(teid=1, gtp_type=255), INNER4), (t.ETH_IPV4, INNER4)),
    (
        "gtp-u-extension",
        t.gtp_u,
        after(
            GTP_U_Header(teid=1, gtp_type=255, E=1, next_ex=0x85)
            / GTPPDUSessionContainer(QFI=5, NextExtHdr=0),
            INNER6,
        ),
        (t.ETH_IPV6, INNER6),
    ),
]


@pytest.mark.parametrize(("unwrap", "data", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_unwrap(unwrap: Callable[[bytes], t.Inner | None], data: bytes, expected: t.Inner) -> None:
    assert unwrap(data) == expected


@pytest.mark.parametrize(
    ("unwrap", "data"),
    [
        pytest.param(t.gre, b"\x00", id="gre-short"),
        pytest.param(t.gre, b"\x00\x05\x08\x00", id="gre-version-5"),
        pytest.param(t.vxlan, bytes(30), id="vxlan-no-I-flag"),
        pytest.param(t.gtp_u, bytes(20), id="gtp-not-gpdu"),
        pytest.param(t.ppp, b"\x00\x99" + INNER4, id="ppp-other-protocol"),
        pytest.param(t.mpls, b"\x00\x01\x00\x40", id="mpls-nothing-after"),
    ],
)
def test_not_ours(unwrap: Callable[[bytes], t.Inner | None], data: bytes) -> None:
    assert unwrap(data) is None


def test_tables() -> None:
    assert t.IP_PROTOCOLS[4](INNER4) == (t.ETH_IPV4, INNER4)
    assert t.IP_PROTOCOLS[41](INNER6) == (t.ETH_IPV6, INNER6)
    assert t.IP_PROTOCOLS[47] is t.gre
    assert t.UDP_PORTS[4789] is t.vxlan and t.UDP_PORTS[2152] is t.gtp_u
    assert t.ETHERTYPES[0x8847] is t.mpls and t.ETHERTYPES[0x8864] is t.pppoe_session
