"""IPv4 and IPv6 fragment reassembly: any order, overlaps, duplicates, bounded buffers."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, fragment6
from scapy.layers.l2 import Ether

from sipladder.model import Frame
from sipladder.net import fragments as fragments_module
from sipladder.net.decoder import PacketDecoder
from sipladder.net.fragments import Reassembler

Decode = Callable[..., Any]
MAC = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}

BODY = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    + b"".join(b"X-Filler-%04d: %s\r\n" % (i, b"abcdefghij" * 5) for i in range(60))
    + b"\r\n"
)


def v4_fragments(ident: int = 0x1234, size: int = 480, body: bytes = BODY) -> list[bytes]:
    packet = IP(src="192.0.2.1", dst="192.0.2.2", id=ident) / UDP(sport=5060, dport=5060) / body
    return [bytes(Ether(**MAC) / f) for f in fragment(packet, fragsize=size)]


def v6_fragments(ident: int = 0xABCDEF, size: int = 600, extra: Any = None) -> list[bytes]:
    inner = UDP(sport=5060, dport=5060) / BODY
    if extra is not None:
        inner = extra / inner
    packet = IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(id=ident) / inner
    return [bytes(Ether(**MAC) / f) for f in fragment6(packet, size)]


ORDERS: dict[str, Callable[[list[bytes]], list[bytes]]] = {
    "in-order": lambda fs: fs,
    "reversed": lambda fs: fs[::-1],
    "shuffled": lambda fs: random.Random(7).sample(fs, len(fs)),
    "last-first": lambda fs: fs[-1:] + fs[:-1],
}


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("make", [v4_fragments, v6_fragments], ids=["ipv4", "ipv6"])
def test_reassembly_in_any_order(
    decode: Decode, make: Callable[[], list[bytes]], order: str
) -> None:
    pieces = make()
    assert len(pieces) >= 4
    result = decode([(1, p) for p in ORDERS[order](pieces)])
    assert result.diagnostics == []
    [payload] = result.payloads
    assert payload.data == BODY and not payload.truncated
    assert payload.frame == len(pieces)  # delivered by the frame that completed it
    assert payload.dst.port == 5060


def test_ipv6_extension_header_after_the_fragment_header(decode: Decode) -> None:
    # Destination options in the fragmentable part are walked after reassembly.
    result = decode([(1, p) for p in v6_fragments(extra=IPv6ExtHdrDestOpt())])
    assert [p.data for p in result.payloads] == [BODY]


@pytest.mark.parametrize("make", [v4_fragments, v6_fragments], ids=["ipv4", "ipv6"])
def test_missing_piece_is_reported_at_finish(
    decode: Decode, make: Callable[[], list[bytes]]
) -> None:
    pieces = make()
    result = decode([(1, p) for i, p in enumerate(pieces) if i != 1])
    assert result.payloads == []
    assert result.codes == ["fragments-incomplete"]
    assert result.diagnostics[0].frame == 1  # named by its first fragment


def test_two_interleaved_datagrams(decode: Decode) -> None:
    a, b = v4_fragments(1), v4_fragments(2, body=BODY.replace(b"bob", b"eve"))
    mixed = [x for pair in zip(a, b, strict=True) for x in pair]
    result = decode([(1, p) for p in mixed])
    assert sorted(p.data for p in result.payloads) == sorted([BODY, BODY.replace(b"bob", b"eve")])


def test_duplicate_fragments_are_dropped_quietly(decode: Decode) -> None:
    pieces = v4_fragments()
    sequence = pieces[:2] + pieces[1:2] + pieces[2:] + pieces[:1]  # one repeat before, one after
    result = decode([(1, p) for p in sequence])
    assert result.diagnostics == []
    assert [p.data for p in result.payloads] == [BODY]


def test_conflicting_overlap_keeps_first_bytes_and_reports(decode: Decode) -> None:
    pieces = v4_fragments()
    forged = bytearray(pieces[1])
    forged[-5:] = b"EVIL!"
    result = decode([(1, p) for p in [pieces[0], pieces[1], bytes(forged), *pieces[2:]]])
    assert result.codes == ["fragments-overlap"]
    assert [p.data for p in result.payloads] == [BODY]


def test_fragment_cut_by_snap_length_gives_truncated_payload(decode: Decode) -> None:
    pieces = v4_fragments()
    cut = pieces[-2][:100]
    frames = [(1, p) for p in pieces[:-2]] + [(1, cut, len(pieces[-2])), (1, pieces[-1])]
    result = decode(frames)
    [payload] = result.payloads
    assert payload.truncated and BODY.startswith(payload.data) and len(payload.data) < len(BODY)


def frame(number: int, data: bytes, ts_ns: int) -> Frame:
    return Frame("t.pcap", number, ts_ns, 1, data, len(data))


def test_oldest_datagram_evicted_when_too_many_wait() -> None:
    diagnostics: list[Any] = []

    def small(d: PacketDecoder) -> None:
        reassembler = Reassembler(d, max_pending=3)
        d.state["fragments"] = reassembler
        d.on_finish(reassembler.finish)

    decoder = PacketDecoder(diagnostics.append)
    small(decoder)
    firsts = [v4_fragments(ident)[0] for ident in range(1, 6)]
    for number, data in enumerate(firsts, 1):
        decoder.feed(frame(number, data, number))
    assert [(d.code, d.frame) for d in diagnostics] == [
        ("fragments-evicted", 1),
        ("fragments-evicted", 2),
    ]
    decoder.finish()
    assert [d.code for d in diagnostics[2:]] == ["fragments-incomplete"] * 3


def test_datagram_expires_after_max_age() -> None:
    diagnostics: list[Any] = []
    decoder = PacketDecoder(diagnostics.append)
    pieces = v4_fragments()
    decoder.feed(frame(1, pieces[0], 0))
    late = fragments_module.MAX_AGE_NS + 1
    assert [p for i, p in enumerate(pieces[1:], 2) for p in decoder.feed(frame(i, p, late))] == []
    assert [d.code for d in diagnostics] == ["fragments-expired"]
    decoder.finish()
    assert [d.code for d in diagnostics] == ["fragments-expired", "fragments-incomplete"]


def test_oversized_datagram_is_refused(decode: Decode) -> None:
    packet = IP(src="192.0.2.1", dst="192.0.2.2", id=9, flags="MF", frag=8180) / (b"x" * 200)
    result = decode([(1, bytes(Ether(**MAC) / packet))])
    assert result.codes == ["fragments-too-large"]


def test_atomic_ipv6_fragment_is_a_whole_packet(decode: Decode) -> None:
    # RFC 6946: offset 0 and M=0 means the packet was never split.
    packet = (
        IPv6(src="::1", dst="::2")
        / IPv6ExtHdrFragment(id=5, m=0, offset=0)
        / UDP(dport=5060)
        / b"hi"
    )
    result = decode([(1, bytes(Ether(**MAC) / packet))])
    assert [p.data for p in result.payloads] == [b"hi"] and result.diagnostics == []


def test_same_datagram_in_two_files_is_reassembled_twice() -> None:
    diagnostics: list[Any] = []
    decoder = PacketDecoder(diagnostics.append)
    payloads = []
    for number, data in enumerate(v4_fragments(), 1):
        for name in ("a.pcap", "b.pcap"):
            payloads += decoder.feed(Frame(name, number, number, 1, data, len(data)))
    assert [p.file for p in payloads] == ["a.pcap", "b.pcap"] and diagnostics == []
