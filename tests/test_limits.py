"""Bounded resources on adversarial captures, end to end (README, section "Limits"):
fragments that never complete, more TCP streams than are tracked, a 10 MB SIP header,
and many distinct Call-IDs. Each limit, when hit, is reported as a diagnostic with file
and frame, and memory (measured with tracemalloc) stays within the documented bounds.
Captures are written here with struct: scapy would take longer than the test."""

from __future__ import annotations

import struct
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipladder.capture import Capture
from sipladder.correlate import correlate
from sipladder.model import Endpoint, Message, Transport
from sipladder.net import fragments, tcp
from sipladder.sip import parser
from sipladder.sip.anomalies import closest, edit_distance
from sipladder.sip.framing import MAX_HEADER_BYTES
from sipladder.sip.headers import KNOWN_HEADERS
from sipladder.sip.parser import KNOWN_METHODS, parse_message

A, B = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
MB = 1024 * 1024


def ipv4(proto: int, payload: bytes, ident: int = 0, frag: int = 0) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, A, B
    )
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + header + payload


def udp(data: bytes) -> bytes:
    return struct.pack("!HHHH", 5060, 5060, 8 + len(data), 0) + data


def tcp_segment(sport: int, seq: int, data: bytes) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, 5060, seq, 0, 5 << 4, 0x18, 65535, 0, 0) + data


def write_pcap(path: Path, frames: list[bytes]) -> str:
    with path.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, data in enumerate(frames):
            sec, usec = divmod(i, 1000)
            f.write(struct.pack("<IIII", 1_700_000_000 + sec, usec * 1000, len(data), len(data)))
            f.write(data)
    return str(path)


def load_measured(path: str) -> tuple[Capture, int]:
    """The capture and the peak of memory allocated while reading it, in bytes."""
    tracemalloc.start()
    try:
        capture = Capture(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return capture, peak


def codes(capture: Capture) -> Counter[str]:
    return Counter(d.code for d in capture.diagnostics)


def test_fragments_that_never_complete(tmp_path: Path) -> None:
    # first fragments only (more-fragments flag set, offset 0), each a new datagram id
    n = fragments.MAX_PENDING + 500
    piece = udp(b"INVITE sip:b@x SIP/2.0\r\nX: " + b"a" * 1400)[:1400]
    frames = [ipv4(17, piece, ident=i, frag=0x2000) for i in range(n)]
    capture, peak = load_measured(write_pcap(tmp_path / "frags.pcap", frames))
    found = codes(capture)
    # the oldest are evicted once MAX_PENDING wait, each eviction reported with its frame;
    # the rest are reported incomplete at the end of the capture
    assert found["fragments-evicted"] == n - fragments.MAX_PENDING
    assert found["fragments-incomplete"] == fragments.MAX_PENDING
    assert len(capture) == 0
    # held: at most MAX_PENDING datagrams of 1,380 bytes (1.4 MB), plus bookkeeping
    assert peak < 8 * MB, peak


def test_more_tcp_streams_than_tracked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the real limit is 8192 streams; a lower one keeps the test fast, the code is the same
    monkeypatch.setattr(tcp, "MAX_STREAMS", 300)
    start = b"INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"  # never ends
    frames = [ipv4(6, tcp_segment(1024 + i, 1, start)) for i in range(1200)]
    capture, peak = load_measured(write_pcap(tmp_path / "streams.pcap", frames))
    found = codes(capture)
    assert found["tcp-too-many-streams"] == 1  # reported once, when first hit
    first = next(d for d in capture.diagnostics if d.code == "tcp-too-many-streams")
    assert first.frame == 301 and "300" in first.message
    # the streams still tracked at the end give their incomplete message, cut
    assert len(capture) == 300 and all(m.truncated for m in capture.records)
    assert capture.summary()["diagnostics"]["tcp-too-many-streams"] == 1
    assert peak < 16 * MB, peak


def test_ten_megabyte_sip_header_over_tcp(tmp_path: Path) -> None:
    big = b"INVITE sip:b@x SIP/2.0\r\nX: " + b"a" * (10 * MB) + b"\r\n\r\n"
    frames = [ipv4(6, tcp_segment(4000, 1 + off, big[off : off + 1460]))
              for off in range(0, len(big), 1460)]  # fmt: skip
    after = b"OPTIONS sip:b@x SIP/2.0\r\nContent-Length: 0\r\n\r\n"
    frames.append(ipv4(6, tcp_segment(4000, 1 + len(big), after)))
    capture, peak = load_measured(write_pcap(tmp_path / "big.pcap", frames))
    # the head of the message is read, cut at the limit; the next message is not lost
    assert [(m.sip.method, len(m.sip.raw), m.truncated) for m in capture.records] == [
        ("INVITE", MAX_HEADER_BYTES, True), ("OPTIONS", len(after), False)
    ]  # fmt: skip
    limit = [d for d in capture.diagnostics if d.code == "sip-too-long"]
    assert len(limit) == 1 and f"{MAX_HEADER_BYTES:,}" in limit[0].message
    assert limit[0].frame == capture.records[0].frame
    # never the whole message in memory: a few times the limit
    assert peak < 10 * MB, peak


def test_ten_megabyte_header_line_parses_in_linear_memory() -> None:
    # what the parser itself does with one 10 MB header line (the pipeline never hands it
    # more than tcp.MAX_MESSAGE, but the Python API may)
    big = b"INVITE sip:b@x SIP/2.0\r\nX: " + b"a" * (10 * MB) + b"\r\n\r\n"
    tracemalloc.start()
    try:
        message = parse_message(big)
        assert message.header("X") is not None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * len(big), peak


def test_many_distinct_call_ids_keep_parser_caches_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the real bound is 8192 entries per cache; a lower one keeps the test fast
    monkeypatch.setattr(parser, "_CACHE_LIMIT", 500)
    n = 3000
    names = 1500  # distinct unknown header names
    messages = []
    src, dst = Endpoint("10.0.0.1", 5060), Endpoint("10.0.0.2", 5060)
    for i in range(n):
        raw = (
            f"OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK{i}\r\n"
            f"From: <sip:a{i}@x>;tag={i}\r\nTo: <sip:b{i}@x>\r\nCall-ID: call-{i}\r\n"
            f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nX-Unknown-{i % names}: 1\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        messages.append(
            Message(i, "t.pcap", i + 1, i, src, dst, Transport.UDP, parse_message(raw))
        )
    # every distinct Via, From, To and header name was seen: the memo caches stay bounded
    assert len(parser._VIA_CACHE) <= parser._CACHE_LIMIT
    assert len(parser._ADDR_CACHE) <= parser._CACHE_LIMIT
    assert len(parser._NAME_CHECK_CACHE) <= parser._CACHE_LIMIT
    # correlation keeps per-message state only (one transaction and one call per Call-ID):
    # linear, a documented bound per message
    tracemalloc.start()
    try:
        result = correlate(messages)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(result.transactions) == n
    assert peak / n < 4096, peak / n


# --------------------------------------------------------------------------- typo suggestions


def _closest_by_brute_force(word: str, candidates: tuple[str, ...]) -> str | None:
    """The definition: the first candidate at the smallest distance within the allowance."""
    upper = word.upper()
    allowed = 1 if len(word) <= 4 else 2
    best, best_distance = None, allowed + 1
    for cand in candidates:
        d = edit_distance(upper, cand.upper(), allowed + 1)
        if d < best_distance:
            best, best_distance = cand, d
    return best


@settings(max_examples=200, deadline=None)
@given(
    base=st.sampled_from(KNOWN_HEADERS + KNOWN_METHODS),
    edits=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 40), st.sampled_from("aeX-z")), max_size=3
    ),
)
def test_indexed_suggestion_equals_brute_force(
    base: str, edits: list[tuple[int, int, str]]
) -> None:
    word = list(base)
    for op, at, ch in edits:
        i = min(at, len(word))
        if op == 0:
            word.insert(i, ch)
        elif op == 1 and i < len(word):
            del word[i]
        elif op == 2 and i < len(word):
            word[i] = ch
        elif op == 3 and i + 1 < len(word):
            word[i], word[i + 1] = word[i + 1], word[i]
    text = "".join(word)
    for candidates in (KNOWN_HEADERS, KNOWN_METHODS):
        assert closest(text, candidates) == _closest_by_brute_force(text, candidates)


def test_many_distinct_unknown_header_names_stay_cheap() -> None:
    # every distinct unknown name gets a "did you mean" check: it must not cost
    # milliseconds each (it did: a full edit distance against every known header)
    # CPU time of this process, not wall time: other processes on a shared machine
    # must not make it fail (the slow version took about 3 ms a name: 9 s here)
    start = time.process_time()
    for i in range(3000):
        closest(f"X-Vendor-Extension-{i}", KNOWN_HEADERS)
    assert time.process_time() - start < 3.0
