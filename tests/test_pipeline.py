"""The pipeline's stages in order (sipladder.pipeline): a worker's share of a capture.

A worker (``Shard``) reads every frame but parses only its part's SIP messages; the
frames it passes over it only counts. For a plain pcap file the compiled reader passes
them over itself (readers.PcapFrames.passing_over), for other files the pipeline does it
frame by frame (accel.other_shard). Either way the worker's messages, counters, message
positions and diagnostics (with the counts at the moment each was reported, which is how
streaming._work places them) must be those of a worker that passes nothing over.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from sipladder import accel as accel_module
from sipladder import pipeline, readers
from sipladder.model import Diagnostic, Frame, Message
from sipladder.net.decoder import PacketDecoder
from sipladder.pipeline import Counters, Shard, messages_from_frames, tracked_messages
from sipladder.progress import Progress
from sipladder.readers import read_frames
from sipladder.sip.framing import split_datagram
from sipladder.sip.parser import python_looks_like_sip
from sipladder.sip.skim import python_call_id_hint, shard_of_bytes
from tests.captures import CAPTURES, ROOT

PURE = os.environ.get("SIPLADDER_PURE", "") not in ("", "0")
pytestmark = pytest.mark.skipif(PURE, reason="SIPLADDER_PURE=1: nothing is passed over")

SHARDS = [(0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
SHARD_IDS = [f"{n}-of-{c}" for n, c in SHARDS]

# how a worker is run: "reader" (the compiled reader passes over), "per-frame" (the
# pipeline tests each frame: the frames reach it through a plain generator), "none"
# (nothing passed over: the reference)
MODES = ("reader", "per-frame", "none")

Outcome = tuple[list[Message], Counters, list[tuple[int, int, Diagnostic]], list[int], int]


def run(
    path: str,
    number: int,
    count: int,
    mode: str,
    block: int | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """A worker's messages, counters, diagnostics (each with the frame and payload counts
    when it came), unparsable positions, and how many frames the reader passed over."""
    with pytest.MonkeyPatch.context() as patch:
        if block is not None:
            patch.setattr(readers, "_BLOCK", block)
        if mode == "none":
            patch.setattr(pipeline, "accel", None)
        counters = Counters()
        events: list[tuple[int, int, Diagnostic]] = []

        def report(diagnostic: Diagnostic) -> None:
            events.append((counters.frames, counters.payloads, diagnostic))

        # as streaming._work: the reader's problems are worker 0's to report
        stream = read_frames([path], report if number == 0 else pipeline._ignore)
        frames: object = stream
        if mode == "per-frame":
            frames = (frame for frame in stream)
        shard = Shard(number, count)
        if progress is None:
            messages = list(messages_from_frames(frames, report, counters, shard))  # type: ignore[arg-type]
        else:
            messages = list(tracked_messages(frames, report, counters, progress, shard))  # type: ignore[arg-type]
        passed = stream.passed if isinstance(stream, readers.PcapFrames) else 0
        if mode != "reader":
            assert passed == 0
        return messages, counters, events, shard.unparsable, passed


def same(a: Outcome, b: Outcome) -> None:
    assert a[0] == b[0]  # the messages, with their indices (positions)
    assert a[1] == b[1]  # every counter
    assert a[2] == b[2]  # the diagnostics, each at the same place in the stream
    assert a[3] == b[3]


# --------------------------------------------------------------------------- real captures


@pytest.mark.parametrize("path", [c for c in CAPTURES if c.endswith((".pcap", ".cap"))])
def test_every_capture_by_every_worker(path: str) -> None:
    full = str(ROOT / path)
    for number, count in SHARDS:
        expected = run(full, number, count, "none")
        by_reader = run(full, number, count, "reader")
        same(by_reader, expected)
        same(run(full, number, count, "per-frame"), expected)


def test_the_reader_passes_over_frames_of_the_real_captures() -> None:
    """(The coverage of the test above: it compares something.)"""
    passed = sum(
        run(str(ROOT / path), 0, 2, "reader")[4]
        for path in CAPTURES
        if path.endswith((".pcap", ".cap"))
    )
    assert passed > 100


# --------------------------------------------------------------------------- generated


def sip(call_id: bytes | None, body: bytes = b"", method: bytes = b"INVITE") -> bytes:
    head = [
        method + b" sip:bob@example.org SIP/2.0",
        b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-" + (call_id or b"none"),
        b"From: <sip:alice@example.org>;tag=1",
        b"To: <sip:bob@example.org>",
    ]
    if call_id is not None:
        head.append(b"Call-ID: " + call_id)
    head += [b"CSeq: 1 " + method, b"Content-Length: %d" % len(body)]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def udp_frame(payload: bytes, sport: int = 5060, dport: int = 5060, extra: int = 0) -> bytes:
    """Ethernet, IPv4, UDP; ``extra``: the UDP length claims that many bytes more."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload) + extra, 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, b"\n\0\0\1", b"\n\0\0\2"
    )
    return b"\2" * 6 + b"\4" * 6 + b"\x08\x00" + ip + udp


def call_ids() -> Iterator[bytes]:
    n = 0
    while True:
        yield b"call-%d@example.org" % n
        n += 1


def generated_frames() -> list[tuple[int, bytes]]:
    """(time in microseconds, frame): plain SIP frames of every part, among them every
    frame a worker must not pass over, timestamps that go back and frames longer than the
    snap length (300) among the ones passed over."""
    ids = call_ids()
    t = 1_700_000_000_000_000
    out: list[tuple[int, bytes]] = []

    def add(frame: bytes, step: int = 1000) -> None:
        nonlocal t
        t += step
        out.append((t, frame))

    for _ in range(6):
        add(udp_frame(sip(next(ids))))
    add(udp_frame(sip(next(ids), b"v=0\r\n" * 80)))  # over the snap length
    add(udp_frame(sip(next(ids))), -5000)  # back
    add(udp_frame(sip(next(ids))), -5000)  # back again
    add(b"")  # empty: reported by the pipeline (worker 0)
    add(udp_frame(b"hello, not SIP"))
    add(udp_frame(sip(next(ids)), dport=4789))  # a registered port (VXLAN): decoded
    add(udp_frame(sip(next(ids)), sport=9060))  # (HEP)
    # SIP-looking (method "HEP3") and HEP's magic: on a HEP port, the HEP handler takes it
    add(udp_frame(sip(next(ids), method=b"HEP3"), dport=9060))
    add(udp_frame(sip(next(ids), method=b"HEP3"), sport=9061))
    add(udp_frame(sip(next(ids), method=b"HEP3")))  # elsewhere an ordinary datagram
    add(udp_frame(sip(next(ids)), extra=5))  # cut short: decoded, reported
    add(udp_frame(sip(None)))  # no Call-ID: parsed by every worker
    add(udp_frame(sip(next(ids)) + sip(next(ids))))  # two messages in a datagram
    add(udp_frame(b"\r\n\r\n" + sip(next(ids))))  # a keep-alive first
    add(udp_frame(b"\r\n" + sip(next(ids))))  # (split_datagram's slow path drops it)
    add(udp_frame(b"\n" + sip(next(ids))))
    add(udp_frame(b"INVITE sip:x SIP/2.0\r\nCall-ID: " + next(ids) + b"\r\nCSeq: x\r\n\r\n"))
    # SIP-looking, with a Call-ID hint, unparsable: its owner reports it (one for each
    # worker of 2 and of 3)
    for part, count in SHARDS:
        call_id = next(ids)
        while shard_of_bytes(call_id, count) != part:
            call_id = next(ids)
        add(udp_frame(b"INVITE  SIP/2.0\r\nCall-ID: " + call_id + b"\r\n\r\n"))
    for _ in range(8):
        add(udp_frame(sip(next(ids), b"v=0\r\n" * 60)))
        add(udp_frame(sip(next(ids))), -1)
    return out


def pcap_file(endian: str, nano: bool, ending: bytes) -> bytes:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 300, 1)]
    for us, frame in generated_frames():
        sec, frac = divmod(us, 1_000_000)
        out.append(
            struct.pack(endian + "IIII", sec, frac * 1000 if nano else frac, len(frame), len(frame))
        )
        out.append(frame)
    return b"".join(out) + ending


def ending(name: str, endian: str) -> bytes:
    frame = udp_frame(sip(b"call-0@example.org"))  # of the same part as the first frame
    head = struct.pack(endian + "IIII", 1_700_000_001, 0, len(frame), len(frame))
    return {
        "clean": b"",
        "in-a-header": head[:9],
        "in-data": head + frame[:-3],
        "corrupt": struct.pack(endian + "IIII", 1_700_000_001, 0, 1 << 20, 60) + frame,
    }[name]


def test_the_generated_frames_reach_every_part() -> None:
    """(The coverage of the test below: frames of both parts and each odd one.)"""
    parts = {shard_of_bytes(b"call-%d@example.org" % n, 2) for n in range(len(generated_frames()))}
    assert parts == {0, 1}


@pytest.mark.parametrize("end", ["clean", "in-a-header", "in-data", "corrupt"])
@pytest.mark.parametrize("endian", ["<", ">"], ids=["little-endian", "big-endian"])
@pytest.mark.parametrize("nano", [False, True], ids=["microseconds", "nanoseconds"])
def test_generated_capture_by_every_worker(
    tmp_path: Path, end: str, endian: str, nano: bool
) -> None:
    path = tmp_path / "gen.pcap"
    path.write_bytes(pcap_file(endian, nano, ending(end, endian)))
    for number, count in SHARDS:
        expected = run(str(path), number, count, "none")
        codes = [event[2].code for event in expected[2]]
        assert "sip-unparsable" in codes  # (each worker owns one)
        if number == 0:
            for code in ("frame-empty", "timestamps-backwards", "snaplen-exceeded"):
                assert code in codes
            assert ("capture-truncated" in codes) == end.startswith("in-")
            assert ("capture-corrupt" in codes) == (end == "corrupt")
        same(run(str(path), number, count, "per-frame"), expected)
        for block in (None, 1, 15, 16, 17, 100, 333, 1000):
            by_reader = run(str(path), number, count, "reader", block)
            same(by_reader, expected)
            assert by_reader[4] > 0  # (frames were passed over)


def test_progress_counts_the_frames_passed_over(tmp_path: Path) -> None:
    """The progress line of worker 0 counts every frame and its bytes, passed over or not."""
    path = tmp_path / "gen.pcap"
    path.write_bytes(pcap_file("<", False, b""))
    counts = []
    for mode in ("reader", "none"):
        progress = Progress(stream=io.StringIO(), enabled=True, total_bytes=path.stat().st_size)
        outcome = run(str(path), 0, 2, mode, progress=progress)
        counts.append((progress.frames, progress.bytes))
        if mode == "reader":
            assert outcome[4] > 0
    frames = generated_frames()
    assert counts[0] == counts[1] == (len(frames), sum(len(f) + 16 for _, f in frames))


# --------------------------------------------------------------------------- the reader's sorting


def python_part(frame: Frame, udp_ports: frozenset[int]) -> int | None:
    """The part named by the Call-ID hint of a frame that is one plain UDP datagram (not
    cut short, on no registered port) holding one SIP message as split_datagram's fast
    path finds it; None for any other frame. "Plain": what the decoder's compiled path
    decodes (tests/test_accel.py: as the Python decoder does), no tunnel, no IPv6
    extension header; the rest by the Python functions."""
    assert accel_module.accel is not None
    found = accel_module.accel.udp_payload(frame.linktype, frame.data)
    if found is None:
        return None
    _src, _dst, sport, dport, data, truncated = found
    if truncated or sport in udp_ports or dport in udp_ports:
        return None
    if not python_looks_like_sip(data) or data[:1] in (b"\r", b"\n"):
        return None
    head_end = data.find(b"\r\n\r\n")
    if head_end <= 0 or (
        data.find(b"SIP", head_end) >= 0
        and (data.find(b"SIP/", head_end) >= 0 or data.find(b"SIP2", head_end) >= 0)
    ):
        return None  # (not by the fast path)
    assert split_datagram(data) == [data]
    hint = python_call_id_hint(data)
    return None if hint is None else shard_of_bytes(hint, 2)


def assert_sorted_right(path: str, number: int) -> int:
    """passing_over(2, number) gives each frame as the Python stages say: passed over
    (counted) when of the other part, (frame,) when of this part, else the frame."""
    ports = frozenset(PacketDecoder(lambda d: None).udp_ports)
    every = list(read_frames([path], lambda d: None))
    stream = read_frames([path], lambda d: None)
    assert isinstance(stream, readers.PcapFrames)
    want: list[object] = []
    for frame in every:
        part = python_part(frame, ports) if frame.data else None
        if part is None or part == number:
            want.append(frame if part is None else (frame,))
        elif want and want[-1].__class__ is tuple and len(want[-1]) == 2:  # type: ignore[arg-type]
            count, size = want[-1]  # type: ignore[misc]
            want[-1] = (count + 1, size + len(frame.data) + 16)
        else:
            want.append((1, len(frame.data) + 16))
    got = list(stream.passing_over(2, number, ports))
    assert got == want
    return sum(1 for item in got if item.__class__ is tuple and len(item) == 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("number", [0, 1])
def test_the_reader_sorts_frames_as_the_python_stages_do(tmp_path: Path, number: int) -> None:
    own = 0
    for endian in ("<", ">"):
        path = tmp_path / f"gen{endian}.pcap"
        path.write_bytes(pcap_file(endian, False, b""))
        own += assert_sorted_right(str(path), number)
    for capture in CAPTURES:
        full = str(ROOT / capture)
        if isinstance(read_frames([full], lambda d: None), readers.PcapFrames):
            own += assert_sorted_right(full, number)
    assert own > 100  # (the worker's own plain datagrams are found)
