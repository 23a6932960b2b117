"""The dispatch tables: handlers plug in, tunnels re-enter IP and link decoding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from sipladder.model import Endpoint, Frame, Payload, Transport
from sipladder.net.decoder import PacketDecoder

Decode = Callable[..., Any]
MAC = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}
SIP = b"BYE sip:a@b SIP/2.0\r\n\r\n"
INNER = IPv6(src="2001:db8::a", dst="2001:db8::b") / UDP(sport=5060, dport=5080) / SIP


def ip_in_ip(d: PacketDecoder, frame: Frame, src: bytes, dst: bytes, view: memoryview) -> None:
    d.decode_ip(frame, view)  # a tunnel: decode the inner packet with the outer frame


def test_ip_protocol_handler_can_reenter_ip_decoding(decode: Decode) -> None:
    outer = Ether(**MAC) / IP(src="198.51.100.1", dst="198.51.100.2", proto=41) / INNER
    result = decode([(1, bytes(outer))], setup=lambda d: d.register_ip_protocol(41, ip_in_ip))
    [payload] = result.payloads
    assert (payload.src, payload.dst) == (
        Endpoint("2001:db8::a", 5060),
        Endpoint("2001:db8::b", 5080),
    )
    assert (payload.frame, payload.data) == (1, SIP)


def test_without_the_handler_the_protocol_is_counted(decode: Decode) -> None:
    # 99: "any private encryption scheme", which nothing here decodes (41, IPv6 in IPv4,
    # is handled since the transports installer).
    outer = Ether(**MAC) / IP(proto=99) / INNER
    result = decode([(1, bytes(outer))])
    assert result.payloads == [] and result.decoder.ignored == {"IP protocol 99": 1}


def test_udp_port_handler_can_consume_and_reenter_link_decoding(decode: Decode) -> None:
    def vxlan(d: PacketDecoder, frame: Frame, payload: Payload) -> bool:
        d.decode_link(frame, 1, memoryview(payload.data)[8:])  # VXLAN header, then Ethernet
        return True

    inner = Ether(**MAC) / INNER
    outer = Ether(**MAC) / IP() / UDP(sport=40000, dport=4789) / (b"\x08" + b"\0" * 7) / inner
    plain = Ether(**MAC) / IP(src="192.0.2.7") / UDP(sport=5060, dport=5060) / SIP
    result = decode(
        [(1, bytes(outer)), (1, bytes(plain))], setup=lambda d: d.register_udp_port(4789, vxlan)
    )
    assert [(p.frame, str(p.src), p.data) for p in result.payloads] == [
        (1, "[2001:db8::a]:5060", SIP),
        (2, "192.0.2.7:5060", SIP),
    ]


def test_udp_port_handler_may_decline(decode: Decode) -> None:
    seen: list[int] = []

    def peek(d: PacketDecoder, frame: Frame, payload: Payload) -> bool:
        seen.append(payload.src.port)
        return False

    packet = Ether(**MAC) / IP() / UDP(sport=9060, dport=5060) / SIP
    result = decode([(1, bytes(packet))], setup=lambda d: d.register_udp_port(9060, peek))
    assert seen == [9060] and [p.data for p in result.payloads] == [SIP]


def test_ethertype_handler_registration(decode: Decode) -> None:
    def mpls(d: PacketDecoder, frame: Frame, view: memoryview) -> None:
        d.decode_ip(frame, view[4:])  # one label, bottom of stack

    packet = Ether(**MAC, type=0x8847) / (b"\x00\x01\x01\x40") / IP() / UDP(dport=5060) / SIP
    result = decode([(1, bytes(packet))], setup=lambda d: d.register_ethertype(0x8847, mpls))
    assert [p.data for p in result.payloads] == [SIP]


def test_finish_hooks_run_and_may_emit() -> None:
    def install(d: PacketDecoder) -> None:
        def finish() -> None:
            d.emit(
                Payload("f", 9, 0, Endpoint("::1", 1), Endpoint("::1", 2), Transport.TCP, b"late")
            )

        d.on_finish(finish)

    decoder = PacketDecoder(lambda diag: None, installers=[install])
    assert decoder.linktypes == {}  # only the given installers ran
    assert [p.data for p in decoder.finish()] == [b"late"]


def test_endpoints_are_shared_between_payloads(decode: Decode) -> None:
    packet = bytes(
        Ether(**MAC) / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=5060, dport=5060) / SIP
    )
    first, second = decode([(1, packet), (1, packet)]).payloads
    assert first.src is second.src and first.src == Endpoint.of("192.0.2.1", 5060)


def test_udp_length_zero_means_use_what_is_there(decode: Decode) -> None:
    raw = bytearray(bytes(Ether(**MAC) / IP() / UDP(sport=5060, dport=5060) / SIP))
    raw[38:40] = b"\0\0"  # UDP length 0: jumbogram or captured before offload
    [payload] = decode([(1, bytes(raw))]).payloads
    assert payload.data == SIP and not payload.truncated


def test_udp_length_longer_than_ip_payload_is_truncated(decode: Decode) -> None:
    raw = bytearray(bytes(Ether(**MAC) / IP() / UDP(sport=5060, dport=5060) / SIP))
    raw[38:40] = (8 + len(SIP) + 100).to_bytes(2, "big")
    [payload] = decode([(1, bytes(raw))]).payloads
    assert payload.data == SIP and payload.truncated


# --------------------------------------------------------------------------- arbitrary bytes

LINKTYPES = [0, 1, 9, 12, 14, 50, 101, 108, 113, 228, 229, 276]
KNOWN_CODES = {"malformed-packet", "frame-cut", "fragments-overlap", "fragments-too-large"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    linktype=st.sampled_from(LINKTYPES),
    head=st.sampled_from(
        [
            b"",
            bytes(Ether(**MAC) / IP()),
            bytes(Ether(**MAC) / IPv6()),
            bytes(IP(flags="MF")),
            bytes(IPv6(nh=44)),
        ]
    ),
    tail=st.binary(max_size=120),
    cut=st.integers(0, 40),
)
def test_arbitrary_bytes_never_raise(linktype: int, head: bytes, tail: bytes, cut: int) -> None:
    """Whatever the bytes, the decoder returns payloads or reports; it never raises."""
    diagnostics: list[Any] = []
    decoder = PacketDecoder(diagnostics.append)
    data = head + tail
    for number in (1, 2):  # twice: fragments meet their duplicates
        payloads = decoder.feed(Frame("f", number, number, linktype, data, len(data) + cut))
        assert all(isinstance(p, Payload) for p in payloads)
    decoder.finish()
    assert {d.code for d in diagnostics} <= KNOWN_CODES | {"fragments-incomplete"}
