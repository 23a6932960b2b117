"""Link layers: every supported link type delivers the UDP payload; the rest is reported."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, LLC, SNAP, CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Dot3, Ether
from scapy.layers.ppp import PPP, PPPoE

from sipladder.model import Endpoint, Frame, Transport
from sipladder.net.link import linktype_name

Decode = Callable[..., Any]


# Explicit addresses: without them scapy looks up routes and ARP (seconds per packet).
MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
SIP = b"OPTIONS sip:a@b SIP/2.0\r\n\r\n"
V4 = IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=5062, dport=5060) / SIP
V6 = IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5062, dport=5060) / SIP


def null_header(family: int, order: str) -> bytes:
    return struct.pack(order + "I", family)


CASES = {
    "ethernet-ipv4": (1, Ether(src=MAC1, dst=MAC2) / V4),
    "ethernet-ipv6": (1, Ether(src=MAC1, dst=MAC2) / V6),
    "802.1q": (1, Ether(src=MAC1, dst=MAC2) / Dot1Q(vlan=10) / V4),
    "qinq-88a8-8100": (1, Ether(src=MAC1, dst=MAC2) / Dot1AD(vlan=100) / Dot1Q(vlan=10) / V4),
    "qinq-9100-8100": (
        1,
        Ether(src=MAC1, dst=MAC2, type=0x9100) / Dot1Q(vlan=100) / Dot1Q(vlan=10) / V6,
    ),
    "triple-tag": (
        1,
        Ether(src=MAC1, dst=MAC2) / Dot1AD(vlan=1) / Dot1AD(vlan=2) / Dot1Q(vlan=3) / V4,
    ),
    "802.3-llc-snap": (
        1,
        Dot3(src=MAC1, dst=MAC2) / LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(code=0x0800) / V4,
    ),
    "pppoe-ipv4": (1, Ether(src=MAC1, dst=MAC2) / PPPoE(sessionid=7) / PPP(proto=0x0021) / V4),
    "pppoe-ipv6": (1, Ether(src=MAC1, dst=MAC2) / PPPoE(sessionid=7) / PPP(proto=0x0057) / V6),
    "linux-sll-ipv4": (113, CookedLinux(proto=0x0800) / V4),
    "linux-sll-ipv6": (113, CookedLinux(proto=0x86DD) / V6),
    "linux-sll2-ipv4": (276, CookedLinuxV2(proto=0x0800) / V4),
    "linux-sll2-ipv6": (276, CookedLinuxV2(proto=0x86DD) / V6),
    "raw-101-ipv4": (101, V4),
    "raw-101-ipv6": (101, V6),
    "raw-12": (12, V4),
    "raw-14": (14, V6),
    "ipv4-228": (228, V4),
    "ipv6-229": (229, V6),
    "null-le-inet": (0, null_header(2, "<") + bytes(V4)),
    "null-be-inet": (0, null_header(2, ">") + bytes(V4)),
    "null-le-inet6-netbsd-24": (0, null_header(24, "<") + bytes(V6)),
    "null-le-inet6-freebsd-28": (0, null_header(28, "<") + bytes(V6)),
    "null-be-inet6-darwin-30": (0, null_header(30, ">") + bytes(V6)),
    "null-le-inet6-linux-10": (0, null_header(10, "<") + bytes(V6)),
    "loop-108": (108, null_header(24, ">") + bytes(V6)),
    "ppp-9": (9, b"\xff\x03" + bytes(PPP(proto=0x0021) / V4)),
    "ppp-hdlc-50": (50, b"\xff\x03\x00\x57" + bytes(V6)),
}


@pytest.mark.parametrize("linktype,packet", list(CASES.values()), ids=list(CASES))
def test_every_link_type_delivers_the_payload(
    decode: Decode, linktype: int, packet: object
) -> None:
    result = decode([(linktype, bytes(packet))])  # type: ignore[call-overload]
    assert result.diagnostics == []
    [payload] = result.payloads
    v6 = b"\x86\xdd" in bytes(packet)[:40] or linktype in (14, 229) or payload.src.is_ipv6  # type: ignore[call-overload]
    src, dst = ("2001:db8::1", "2001:db8::2") if v6 else ("192.0.2.1", "192.0.2.2")
    assert payload.src == Endpoint(src, 5062) and payload.dst == Endpoint(dst, 5060)
    assert payload.transport is Transport.UDP
    assert payload.data == SIP and not payload.truncated
    assert (payload.file, payload.frame, payload.ts_ns) == ("t.pcap", 1, 1_000_000)


def test_ipv6_endpoint_is_compressed_and_bracketed(decode: Decode) -> None:
    packet = (
        Ether(src=MAC1, dst=MAC2)
        / IPv6(src="2001:0db8:0000:0000:0000:0000:0000:0001", dst="::1")
        / UDP(sport=5060, dport=5060)
        / SIP
    )
    [payload] = decode([(1, bytes(packet))]).payloads
    assert str(payload.src) == "[2001:db8::1]:5060" and str(payload.dst) == "[::1]:5060"


def test_ethernet_padding_is_trimmed(decode: Decode) -> None:
    packet = (
        bytes(Ether(src=MAC1, dst=MAC2) / IP() / UDP() / b"hi") + b"\0" * 18
    )  # padded to the 60-byte minimum
    [payload] = decode([(1, packet)]).payloads
    assert payload.data == b"hi"


def test_non_ip_frames_are_counted_not_reported(decode: Decode) -> None:
    result = decode(
        [
            (1, bytes(Ether(src=MAC1, dst=MAC2) / ARP())),
            (1, bytes(Ether(src=MAC1, dst=MAC2, type=0x88CC) / (b"lldp" * 10))),
        ]
    )
    assert result.payloads == [] and result.diagnostics == []
    assert result.decoder is not None
    assert result.decoder.ignored == {"ethertype 0x0806": 1, "ethertype 0x88cc": 1}


def test_unknown_linktype_reported_once_per_file_by_name_and_number(decode: Decode) -> None:
    frames = [
        Frame("a.pcap", 1, 0, 105, b"\0" * 30, 30),
        Frame("a.pcap", 2, 0, 105, b"\0" * 30, 30),
        Frame("a.pcap", 3, 0, 1, bytes(Ether(src=MAC1, dst=MAC2) / V4), 0),
        Frame("b.pcap", 1, 0, 105, b"\0" * 30, 30),
        Frame("b.pcap", 2, 0, 4242, b"\0" * 30, 30),
    ]
    result = decode(frames)
    assert [(d.file, d.frame, d.code) for d in result.diagnostics] == [
        ("a.pcap", 1, "unknown-linktype"),
        ("b.pcap", 1, "unknown-linktype"),
        ("b.pcap", 2, "unknown-linktype"),
    ]
    assert "LINKTYPE_IEEE802_11 (105)" in result.diagnostics[0].message
    assert "LINKTYPE_4242 (4242)" in result.diagnostics[2].message
    assert len(result.payloads) == 1  # the frames around are still decoded


@pytest.mark.parametrize(
    "linktype,name",
    [
        (1, "LINKTYPE_ETHERNET"),
        (113, "LINKTYPE_LINUX_SLL"),
        (127, "LINKTYPE_IEEE802_11_RADIOTAP"),
        (999_999, "LINKTYPE_999999"),
    ],
)
def test_linktype_names(linktype: int, name: str) -> None:
    assert linktype_name(linktype) == name


@pytest.mark.parametrize(
    "linktype,data",
    [(1, b"\0" * 10), (113, b"\0" * 12), (276, b"\0" * 15), (0, b"\2\0")],
    ids=["ethernet", "sll", "sll2", "null"],
)
def test_short_link_headers_are_malformed(decode: Decode, linktype: int, data: bytes) -> None:
    result = decode([(linktype, data), (1, bytes(Ether(src=MAC1, dst=MAC2) / V4))])
    assert result.codes == ["malformed-packet"] and result.diagnostics[0].frame == 1
    assert len(result.payloads) == 1
