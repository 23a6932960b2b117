"""SIP in SCTP DATA chunks (sipladder.net.sctp), packets crafted with scapy."""

from __future__ import annotations

import struct

from scapy.layers.sctp import SCTP, SCTPChunkData, SCTPChunkInit, SCTPChunkSACK
from transport_helpers import SDP, sip_request, sip_response

from sipladder.model import Diagnostic, Payload, Transport
from sipladder.net.sctp import SctpDecoder

MSG1 = sip_request("s1", 1, body=SDP)
MSG2 = sip_response("s1", 1, 100)


def data_chunk(payload: bytes, tsn: int, begin: bool = True, end: bool = True, sid: int = 0):
    return SCTPChunkData(
        tsn=tsn, stream_id=sid, beginning=int(begin), ending=int(end), data=payload
    )


def feed(packets: list[bytes]) -> tuple[list[Payload], list[Diagnostic]]:
    diags: list[Diagnostic] = []
    dec = SctpDecoder(diags.append)
    out: list[Payload] = []
    for n, pkt in enumerate(packets, 1):
        out += dec.feed("s.pcap", n, n, "192.0.2.1", "192.0.2.2", pkt)
    return out, diags


def test_one_message_per_data_chunk() -> None:
    pkt = bytes(SCTP(sport=5060, dport=5060) / data_chunk(MSG1, 1))
    out, diags = feed([pkt])
    assert [(p.data, p.transport, str(p.src), str(p.dst)) for p in out] == [
        (MSG1, Transport.SCTP, "192.0.2.1:5060", "192.0.2.2:5060")
    ]
    assert diags == []


def test_bundled_chunks_with_control_chunks_between() -> None:
    pkt = bytes(
        SCTP(sport=5060, dport=5060)
        / SCTPChunkSACK()
        / data_chunk(MSG1, 1)
        / data_chunk(MSG2, 2, sid=1)
    )
    out, _ = feed([pkt])
    assert [p.data for p in out] == [MSG1, MSG2]


def test_padding_of_odd_length_chunks() -> None:
    odd = MSG2 + b"x"  # not a multiple of 4: the chunk is padded
    assert len(odd) % 4
    pkt = bytes(SCTP(sport=1, dport=2) / data_chunk(odd, 1) / data_chunk(MSG1, 2))
    out, _ = feed([pkt])
    assert [p.data for p in out] == [odd, MSG1]


def test_fragmented_user_message_by_begin_and_end_flags() -> None:
    a, b, c = MSG1[:100], MSG1[100:250], MSG1[250:]
    p1 = bytes(SCTP(sport=1, dport=2) / data_chunk(a, 10, True, False))
    p2 = bytes(SCTP(sport=1, dport=2) / data_chunk(c, 12, False, True))  # out of order
    p3 = bytes(SCTP(sport=1, dport=2) / data_chunk(b, 11, False, False))
    out, _ = feed([p1, p2, p3])
    assert [(p.data, p.frame) for p in out] == [(MSG1, 3)]


def test_retransmitted_chunk_is_not_a_new_message() -> None:
    pkt = bytes(SCTP(sport=5060, dport=5060) / data_chunk(MSG1, 5))
    out, _ = feed([pkt, pkt])
    assert [p.data for p in out] == [MSG1]


def test_i_data_chunk() -> None:
    # RFC 8260 section 2.1: type 64, TSN, stream id, reserved, MID, PPID (or FSN).
    def idata(payload: bytes, tsn: int, mid: int, fsn_or_ppid: int, flags: int) -> bytes:
        body = struct.pack("!IHHII", tsn, 0, 0, mid, fsn_or_ppid) + payload
        chunk = struct.pack("!BBH", 64, flags, 4 + len(body)) + body
        return chunk + bytes(-len(chunk) % 4)

    header = bytes(SCTP(sport=1, dport=2))
    whole = header + idata(MSG2, 1, 0, 0, 0x03)
    frag = header + idata(MSG1[:80], 2, 1, 0, 0x02) + idata(MSG1[80:], 3, 1, 1, 0x01)
    out, _ = feed([whole, frag])
    assert [p.data for p in out] == [MSG2, MSG1]


def test_no_data_and_truncated_packets() -> None:
    init = bytes(SCTP(sport=1, dport=2) / SCTPChunkInit())
    out, diags = feed([init, b"\x00\x01"])
    assert out == []
    assert [d.code for d in diags] == ["sctp-truncated"]
