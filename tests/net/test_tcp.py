"""TCP stream reassembly (sipladder.net.tcp), segments crafted with scapy."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transport_helpers import CLIENT, SDP, SERVER, segment, sip_request, sip_response, split

from sipladder.model import Diagnostic, Payload, Transport
from sipladder.net import tcp
from sipladder.net.tcp import SipStreamFramer, TcpReassembler

ISN = 1000  # client's initial sequence number
SERVER_ISN = 5000


def run(
    segments: list[tuple[str, bytes]], finish: bool = True
) -> tuple[list[Payload], list[Diagnostic]]:
    """Feed (direction, segment) pairs, direction "c" (client to server) or "s"."""
    diags: list[Diagnostic] = []
    r = TcpReassembler(diags.append)
    out: list[Payload] = []
    for number, (direction, seg) in enumerate(segments, 1):
        src, dst = (CLIENT[0], SERVER[0]) if direction == "c" else (SERVER[0], CLIENT[0])
        out += r.feed("t.pcap", number, number * 1000, src, dst, seg)
    if finish:
        out += r.finish()
    return out, diags


def client_stream(pieces: list[tuple[int, bytes]], isn: int = ISN) -> list[tuple[str, bytes]]:
    """SYN, then the pieces (offset into the stream, bytes) in the order given."""
    segs = [("c", segment(isn, flags="S", ack=0))]
    for offset, data in pieces:
        segs.append(("c", segment(isn + 1 + offset, data)))
    return segs


def bodies(payloads: list[Payload]) -> list[bytes]:
    return [p.data for p in payloads]


MSG1 = sip_request("one", 1, body=SDP)
MSG2 = sip_request("two", 2, method="BYE")
MSG3 = sip_request("three", 3, method="OPTIONS", body=b"x" * 300)
STREAM = MSG1 + MSG2 + MSG3


def test_two_messages_in_one_segment() -> None:
    out, diags = run(client_stream([(0, MSG1 + MSG2)]))
    assert bodies(out) == [MSG1, MSG2]
    assert all(p.transport is Transport.TCP and not p.truncated for p in out)
    assert str(out[0].src) == "10.0.0.1:5060" and str(out[0].dst) == "10.0.0.2:5060"
    assert out[0].frame == 2
    assert diags == []


def test_one_message_in_ten_segments_completes_at_the_last() -> None:
    size = len(MSG1) // 10 + 1
    pieces = split(MSG1, [size] * 10)
    assert len(pieces) == 10
    out, _ = run(client_stream(pieces))
    assert bodies(out) == [MSG1]
    assert out[0].frame == 11  # SYN is frame 1, the tenth piece frame 11
    assert out[0].ts_ns == 11_000


def test_byte_by_byte() -> None:
    pieces = [(i, STREAM[i : i + 1]) for i in range(len(STREAM))]
    out, diags = run(client_stream(pieces))
    assert bodies(out) == [MSG1, MSG2, MSG3]
    assert diags == []


def test_trailing_partial_message_is_delivered_truncated_and_reported() -> None:
    out, diags = run(client_stream([(0, MSG1 + MSG2[:40])]))
    assert bodies(out) == [MSG1, MSG2[:40]]
    assert [p.truncated for p in out] == [False, True]
    assert [d.code for d in diags] == ["tcp-incomplete-message"]


def test_out_of_order() -> None:
    pieces = split(STREAM, [100, 200, 50, 400, 300, 123])
    rng = random.Random(7)
    shuffled = pieces[:]
    while shuffled == pieces:
        rng.shuffle(shuffled)
    out, diags = run(client_stream(shuffled), finish=False)
    assert bodies(out) == [MSG1, MSG2, MSG3]
    assert diags == []


def test_message_completed_by_the_late_segment_carries_its_frame() -> None:
    a, b = MSG1[:100], MSG1[100:]
    out, _ = run(client_stream([(100, b), (0, a)]))
    assert bodies(out) == [MSG1]
    assert out[0].frame == 3


def test_retransmissions_are_used_once() -> None:
    pieces = split(STREAM, [300, 300, 300])
    segs = client_stream(pieces + pieces[1:3] + [pieces[0]])
    out, diags = run(segs)
    assert bodies(out) == [MSG1, MSG2, MSG3]
    assert diags == []


def test_overlapping_segments_first_copy_wins() -> None:
    # Each segment repeats the last 37 bytes of the previous one, and a later
    # retransmission covers two segments at once.
    starts = [max(0, i - 37) for i in range(0, len(STREAM), 250)]
    pieces = [(a, STREAM[a : a + 287]) for a in starts]
    pieces.insert(3, (200, STREAM[200:900]))
    out, diags = run(client_stream(pieces))
    assert bodies(out) == [MSG1, MSG2, MSG3]
    assert diags == []


def test_overlapping_segments_out_of_order() -> None:
    pieces = [(i, STREAM[i : i + 333]) for i in range(0, len(STREAM), 111)]
    rng = random.Random(3)
    rng.shuffle(pieces)
    out, _ = run(client_stream(pieces))
    assert bodies(out) == [MSG1, MSG2, MSG3]


def test_gap_acknowledged_by_the_receiver_is_reported_and_resynchronised() -> None:
    # MSG2 is lost from the capture (but the server got it: it acknowledges it).
    start2 = len(MSG1)
    start3 = start2 + len(MSG2)
    segs = client_stream([(0, MSG1), (start3, MSG3)])
    segs.append(("s", segment(SERVER_ISN, flags="A", ack=ISN + 1 + len(STREAM),
                              sport=SERVER[1], dport=CLIENT[1])))
    out, diags = run(segs, finish=False)
    assert bodies(out) == [MSG1, MSG3]
    assert [d.code for d in diags] == ["tcp-gap"]
    assert f"{len(MSG2)} bytes missing" in diags[0].message
    assert "10.0.0.1:5060 -> 10.0.0.2:5060" in diags[0].message
    assert out[1].frame == 3  # completed by its own segment, not by the ACK


def test_gap_inside_a_message_resyncs_at_the_next_start_line() -> None:
    # The middle of MSG1 is missing; MSG1's tail and MSG2 arrive; the hole never fills.
    pieces = [(0, STREAM[:50]), (120, STREAM[120:])]
    out, diags = run(client_stream(pieces))
    # The message the hole cut is lost (as in Wireshark); the next ones are whole.
    assert bodies(out) == [MSG2, MSG3]
    assert not any(p.truncated for p in out)
    assert "tcp-gap" in [d.code for d in diags]


def test_too_much_waiting_behind_a_hole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tcp, "MAX_OUT_OF_ORDER", 500)
    pieces = [(0, MSG1)] + [
        (len(MSG1) + 10 + i, STREAM[len(MSG1) + 10 + i : len(MSG1) + 110 + i])
        for i in range(0, len(STREAM), 100)
    ]
    out, diags = run(client_stream(pieces), finish=False)
    assert bodies(out)[0] == MSG1
    assert MSG3 in bodies(out)  # delivered without waiting for the end of the capture
    assert "too much data" in diags[0].message


def test_crlf_keepalives_are_dropped() -> None:
    # RFC 5626 section 3.5.1: "\r\n\r\n" ping, "\r\n" pong, between and before messages.
    data = b"\r\n\r\n" + MSG1 + b"\r\n\r\n" + b"\r\n" + MSG2
    out, diags = run(client_stream([(0, b"\r\n\r\n"), (4, data[4:])]))
    assert bodies(out) == [MSG1, MSG2]
    assert diags == []


def test_keepalive_only_connection_yields_nothing() -> None:
    out, diags = run(client_stream([(0, b"\r\n\r\n"), (4, b"\r\n\r\n"), (8, b"\r\n")]))
    assert out == [] and diags == []


def test_connection_starting_mid_stream() -> None:
    # No SYN: the first segment begins inside MSG1's body.
    cut = len(MSG1) - 30
    segs = [("c", segment(ISN + cut, STREAM[cut:]))]
    out, diags = run(segs)
    assert bodies(out) == [MSG2, MSG3]
    assert diags == []


def test_mid_stream_start_on_a_message_boundary() -> None:
    segs = [("c", segment(77_000, MSG2 + MSG3))]
    out, _ = run(segs)
    assert bodies(out) == [MSG2, MSG3]


def test_body_that_looks_like_a_message_is_not_split() -> None:
    inner = sip_request("inner", 9)  # a message/sipfrag-like body
    msg = sip_request("outer", 1, body=inner + b"\r\n\r\n")
    out, _ = run(client_stream(split(msg, [60, 60])))
    assert bodies(out) == [msg]


def test_both_directions_and_sequence_wraparound() -> None:
    isn = 2**32 - 100  # sequence numbers wrap inside the first message
    req, resp = MSG1, sip_response("one", 1, body=SDP)
    segs = client_stream(split(req, [60, 60, 60]), isn=isn)
    segs.append(("s", segment(SERVER_ISN, flags="SA", ack=isn + 1, sport=5060, dport=5060)))
    segs.append(("s", segment(SERVER_ISN + 1, resp, sport=5060, dport=5060)))
    out, diags = run(segs)
    assert bodies(out) == [req, resp]
    assert str(out[1].src) == "10.0.0.2:5060"
    assert diags == []


def test_new_connection_on_the_same_ports_after_fin() -> None:
    segs = client_stream([(0, MSG1)])
    segs.append(("c", segment(ISN + 1 + len(MSG1), flags="FA")))
    segs += client_stream([(0, MSG2)], isn=900_000)
    out, _ = run(segs)
    assert bodies(out) == [MSG1, MSG2]


def test_fin_before_the_missing_data() -> None:
    a, b = split(MSG1, [200])
    segs = client_stream([b])
    segs.append(("c", segment(ISN + 1 + len(MSG1), flags="FA")))
    segs.append(("c", segment(ISN + 1, a[1])))
    out, diags = run(segs, finish=False)
    assert bodies(out) == [MSG1]
    assert diags == []


def test_tls_connection_is_reported_with_its_endpoints() -> None:
    hello = bytes.fromhex("160301002e010000") + bytes(42)
    out, diags = run(client_stream([(0, hello)]))
    assert out == []
    assert [d.code for d in diags] == ["tls-unreadable"]
    assert "10.0.0.1:5060 -> 10.0.0.2:5060" in diags[0].message
    assert "--tls-keylog" in diags[0].message


def test_plain_http_and_binary_streams_are_ignored() -> None:
    http = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    out, diags = run(client_stream([(0, http)]))
    assert out == [] and diags == []
    junk = bytes(range(256)) * 400  # not SIP: given up after MAX_UNSYNCED bytes
    out, diags = run(client_stream([(0, junk), (len(junk), MSG1)]))
    assert out == [] and diags == []


def test_stream_limit_drops_the_least_recently_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tcp, "MAX_STREAMS", 3)
    diags: list[Diagnostic] = []
    r = TcpReassembler(diags.append)
    for port in range(6000, 6010):
        r.feed("t", 1, 0, "10.0.0.1", "10.0.0.2", segment(1, MSG1[:20], sport=port))
    assert len(r.streams) == 3
    assert r.evicted == 7
    assert [d.code for d in diags] == ["tcp-too-many-streams"]


def test_memory_budget_drops_the_least_recently_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tcp, "MAX_BUFFERED", 1000)
    diags: list[Diagnostic] = []
    r = TcpReassembler(diags.append)
    for port in range(6000, 6010):  # ten streams, each holding 300 bytes of a message
        r.feed("t", 1, 0, "10.0.0.1", "10.0.0.2", segment(1, MSG3[:300], sport=port))
    assert r.buffered <= 1000
    assert 2 <= len(r.streams) <= 3 and ("10.0.0.1", 6009, "10.0.0.2", 5060) in r.streams
    assert [d.code for d in diags] == ["tcp-memory-limit"]


def test_oversized_content_length_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tcp, "MAX_MESSAGE", 2000)
    big = sip_request("big", 1, body=b"y" * 4998 + b"\r\n")
    out, _ = run(client_stream(split(big + MSG2, [500] * 20)))
    assert out[0].truncated and out[0].data == big[:2000]
    assert bodies(out)[1:] == [MSG2]  # found again at its start line


@pytest.mark.parametrize(
    "feed",
    [
        pytest.param(lambda s: [s], id="whole"),
        pytest.param(lambda s: [s[i : i + 1] for i in range(len(s))], id="byte-by-byte"),
        pytest.param(lambda s: [s, b"INVITE sip:x SIP/2.0\r\nCall"], id="trailing-data"),
    ],
)
def test_framer_alone(feed: object) -> None:
    framer = SipStreamFramer()
    out: list[bytes] = []
    for piece in feed(STREAM):  # type: ignore[operator]
        out += [m for m, _ in framer.feed(piece)]
    assert out == [MSG1, MSG2, MSG3]


@settings(max_examples=60, deadline=None)
@given(
    cuts=st.lists(st.integers(1, len(STREAM) - 1), max_size=12, unique=True),
    seed=st.integers(0, 2**16),
    dups=st.integers(0, 4),
)
def test_any_segmentation_order_and_duplication(cuts: list[int], seed: int, dups: int) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    pieces = [(a, STREAM[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    rng = random.Random(seed)
    pieces += [rng.choice(pieces) for _ in range(dups)]
    rng.shuffle(pieces)
    out, diags = run(client_stream(pieces))
    assert bodies(out) == [MSG1, MSG2, MSG3]
    assert diags == []
