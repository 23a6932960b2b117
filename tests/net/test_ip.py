"""IPv4 options and lengths, IPv6 extension headers, AH, and malformed IP headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from scapy.layers.inet import IP, UDP, IPOption_NOP, IPOption_RR
from scapy.layers.inet6 import (
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    RouterAlert,
)
from scapy.layers.ipsec import AH
from scapy.layers.l2 import Ether

Decode = Callable[..., Any]
MAC = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}
DATA = b"REGISTER sip:example.com SIP/2.0\r\n\r\n"
UDP_SIP = UDP(sport=5060, dport=5060) / DATA


def eth(packet: Any) -> bytes:
    return bytes(Ether(**MAC) / packet)


@pytest.mark.parametrize(
    "options",
    [
        [IPOption_RR(routers=["192.0.2.9", "192.0.2.10"])],
        [IPOption_NOP()] * 4,
        [IPOption_RR(routers=["1.2.3.4"] * 9)],
    ],
    ids=["record-route", "nops", "maximum-ihl"],
)
def test_ipv4_options_are_skipped(decode: Decode, options: list[Any]) -> None:
    packet = IP(src="192.0.2.1", dst="192.0.2.2", options=options) / UDP_SIP
    assert bytes(packet)[0] & 0x0F > 5
    result = decode([(1, eth(packet))])
    assert [p.data for p in result.payloads] == [DATA] and result.diagnostics == []


EXTENSIONS = {
    "hop-by-hop": IPv6ExtHdrHopByHop(options=[RouterAlert()]),
    "routing": IPv6ExtHdrRouting(addresses=["2001:db8::9"]),
    "destination-options": IPv6ExtHdrDestOpt(),
    "authentication": AH(nh=17, payloadlen=4, spi=1, seq=1, icv=b"\0" * 12),
    "all-in-order": IPv6ExtHdrHopByHop()
    / IPv6ExtHdrDestOpt()
    / IPv6ExtHdrRouting(addresses=["::9"])
    / AH(nh=60, payloadlen=4, spi=1, icv=b"\0" * 12)
    / IPv6ExtHdrDestOpt(),
}


@pytest.mark.parametrize("chain", list(EXTENSIONS.values()), ids=list(EXTENSIONS))
def test_ipv6_extension_headers_are_walked(decode: Decode, chain: Any) -> None:
    packet = IPv6(src="2001:db8::1", dst="2001:db8::2") / chain / UDP_SIP
    result = decode([(1, eth(packet))])
    assert result.diagnostics == []
    [payload] = result.payloads
    assert payload.data == DATA and str(payload.src) == "[2001:db8::1]:5060"


def test_ipv4_authentication_header(decode: Decode) -> None:
    packet = (
        IP(src="192.0.2.1", dst="192.0.2.2")
        / AH(nh=17, payloadlen=4, spi=7, icv=b"\0" * 12)
        / UDP_SIP
    )
    assert [p.data for p in decode([(1, eth(packet))]).payloads] == [DATA]


def test_esp_and_no_next_header_are_passed_over(decode: Decode) -> None:
    esp = IP(src="192.0.2.1", dst="192.0.2.2", proto=50) / (b"\0" * 40)
    nothing = IPv6(nh=59) / b""
    result = decode([(1, eth(esp)), (1, eth(nothing))])
    assert result.payloads == [] and result.diagnostics == []
    assert result.decoder.ignored == {"IP protocol 50": 1, "IP protocol 59": 1}


def test_ipv4_total_length_zero_from_segmentation_offload(decode: Decode) -> None:
    raw = bytearray(eth(IP(src="192.0.2.1", dst="192.0.2.2") / UDP_SIP))
    raw[16:18] = b"\0\0"  # total length 0, as captured before TSO/GSO filled it in
    assert [p.data for p in decode([(1, bytes(raw))]).payloads] == [DATA]


@pytest.mark.parametrize("version", [4, 6], ids=["ipv4", "ipv6"])
def test_snap_length_cut_marks_payload_truncated(decode: Decode, version: int) -> None:
    ip = IP(src="192.0.2.1", dst="192.0.2.2") if version == 4 else IPv6(src="::1", dst="::2")
    whole = eth(ip / UDP(sport=5060, dport=5060) / (b"SIP/2.0 200 OK\r\n" + b"x" * 500))
    [payload] = decode([(1, whole[:200], len(whole))]).payloads
    assert payload.truncated and payload.data == whole[14 + (20 if version == 4 else 40) + 8 : 200]


def test_frame_cut_inside_headers_is_reported_as_cut(decode: Decode) -> None:
    whole = eth(IPv6(src="::1", dst="::2") / UDP_SIP)
    result = decode([(1, whole[:30], len(whole))])
    assert result.codes == ["frame-cut"] and result.payloads == []


MALFORMED = {
    "ipv4-ihl-below-5": (lambda b: b[:14] + bytes([0x44]) + b[15:], "less than 20"),
    "ipv4-total-below-ihl": (lambda b: b[:16] + b"\x00\x0a" + b[18:], "total length 10"),
    "ipv4-wrong-version": (lambda b: b[:14] + bytes([0x65]) + b[15:], "version 6"),
    "ipv4-options-past-end": (lambda b: b[:14] + bytes([0x4F]) + b[15:40], "options run past"),
    "udp-length-below-8": (lambda b: b[:38] + b"\x00\x05" + b[40:], "UDP length 5"),
    "udp-header-cut": (lambda b: b[:16] + b"\x00\x1a" + b[18:40], "UDP header shorter"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_headers_are_reported_and_skipped(decode: Decode, name: str) -> None:
    damage, words = MALFORMED[name]
    good = eth(IP(src="192.0.2.1", dst="192.0.2.2") / UDP_SIP)
    result = decode([(1, damage(good)), (1, good)])
    assert result.codes == ["malformed-packet"], result.diagnostics
    assert result.diagnostics[0].frame == 1 and words in result.diagnostics[0].message
    assert [p.frame for p in result.payloads] == [2]  # the next frame is still decoded


def test_ipv6_extension_loop_guard(decode: Decode) -> None:
    chain = IPv6ExtHdrDestOpt()
    for _ in range(20):
        chain = chain / IPv6ExtHdrDestOpt()
    result = decode([(1, eth(IPv6() / chain / UDP_SIP))])
    assert (
        result.codes == ["malformed-packet"]
        and "extension headers" in result.diagnostics[0].message
    )
