"""Real third-party captures (tests/data, see SOURCES.md): the UDP datagrams we decode are
the ones tshark decodes, frame by frame (the frame that completes each datagram)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sipladder.model import Diagnostic, Payload
from sipladder.net.decoder import PacketDecoder
from sipladder.readers import read_frames

DATA = Path(__file__).parent.parent / "data"

CAPTURES = [
    "sngrep/ipv6frag.pcap",  # Linux SLL, IPv6 fragments
    "zeek/sip-long-request-response-paths.pcap",  # raw IPv4, ~9 KB datagrams
    "nDPI/sip_hello.pcapng",  # pcapng
    "heplify/ipip0.pcap",  # raw IP
    "PcapPlusPlus/sip_reqs.pcap",  # Ethernet, PPPoE
    "suricata-verify/sip-body-frames__public-cloudshark-sip-s0.pcap",  # Ethernet
]


def decode_file(path: Path) -> tuple[list[Payload], list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    decoder = PacketDecoder(diagnostics.append)
    payloads: list[Payload] = []
    for frame in read_frames([str(path)], diagnostics.append):
        payloads.extend(decoder.feed(frame))
    payloads.extend(decoder.finish())
    return payloads, diagnostics


def tshark_udp(path: Path, display_filter: str) -> list[tuple[int, int, int, int]]:
    """(frame, source port, destination port, UDP payload length) of each UDP datagram
    tshark decodes (not ICMP quotes of one), after IP reassembly."""
    out = subprocess.run(
        [
            "tshark",
            "-r",
            str(path),
            "-Y",
            f"({display_filter}) && !icmp && !icmpv6",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "udp.srcport",
            "-e",
            "udp.dstport",
            "-e",
            "udp.length",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = []
    for line in out.splitlines():
        frame, sport, dport, length = line.split("\t")
        rows.append((int(frame), int(sport), int(dport), int(length) - 8))
    return rows


@pytest.mark.parametrize("name", CAPTURES)
def test_udp_datagrams_match_tshark(name: str) -> None:
    path = DATA / name
    payloads, diagnostics = decode_file(path)
    assert diagnostics == []
    ours = [(p.frame, p.src.port, p.dst.port, len(p.data)) for p in payloads]
    assert ours == tshark_udp(path, "udp")
    assert not any(p.truncated for p in payloads)


def test_ipv6_fragmented_sip_through_the_proxy() -> None:
    """The sngrep capture: the fragmented INVITE is reassembled, every datagram to or
    from the proxy (port 5062) is found (tshark computes the expected list)."""
    path = DATA / "sngrep/ipv6frag.pcap"
    payloads, _ = decode_file(path)
    ours = [(p.frame, len(p.data)) for p in payloads if 5062 in (p.src.port, p.dst.port)]
    expected = [(frame, length) for frame, _, _, length in tshark_udp(path, "udp.port == 5062")]
    assert ours == expected and len(expected) > 10
    invite = [p for p in payloads if p.data.startswith(b"INVITE")]
    assert invite and all(len(p.data) > 1500 for p in invite)  # larger than one fragment
