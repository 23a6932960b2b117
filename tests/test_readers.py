"""Capture file reading: pcap flavours, pcapng interfaces, gzip, stdin, merging, damage."""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import PcapNgWriter, PcapWriter

from sipladder import readers
from sipladder.errors import CaptureError
from sipladder.model import Diagnostic, Frame
from sipladder.readers import MAX_CAPLEN, read_frames
from tests.captures import CAPTURES, ROOT

# --------------------------------------------------------------------------- writers
# Written by hand (not by the code under test) so that byte order, nanosecond
# magic, several pcapng interfaces, if_tsresol and if_tsoffset can all be chosen.

# Explicit addresses: without them scapy looks up routes and ARP (seconds per packet).
MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
T0 = 1_700_000_000_123_456_789  # a timestamp in ns with every digit significant


def pcap_bytes(
    records: list[tuple[int, bytes, int | None]],
    linktype: int = 1,
    endian: str = "<",
    nano: bool = False,
    snaplen: int = 65535,
) -> bytes:
    """A classic pcap file; ``records`` are (ts_ns, data, orig_len or None)."""
    out = [
        struct.pack(
            endian + "IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype
        )
    ]
    for ts_ns, data, orig_len in records:
        sec, frac = divmod(ts_ns, 10**9)
        if not nano:
            frac //= 1000
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), orig_len or len(data)))
        out.append(data)
    return b"".join(out)


def _block(endian: str, btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack(endian + "II", btype, length) + body + struct.pack(endian + "I", length)


def _option(endian: str, code: int, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def shb(endian: str = "<") -> bytes:
    return _block(endian, 0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(
    endian: str, linktype: int, tsresol: int | None = None, tsoffset: int | None = None
) -> bytes:
    opts = b""
    if tsresol is not None:
        opts += _option(endian, 9, bytes([tsresol]))
    if tsoffset is not None:
        opts += _option(endian, 14, struct.pack(endian + "q", tsoffset))
    if opts:
        opts += _option(endian, 0, b"")
    return _block(endian, 1, struct.pack(endian + "HHI", linktype, 0, 262144) + opts)


def epb(endian: str, ifid: int, ticks: int, data: bytes, orig_len: int | None = None) -> bytes:
    head = struct.pack(
        endian + "IIIII", ifid, ticks >> 32, ticks & 0xFFFFFFFF, len(data), orig_len or len(data)
    )
    return _block(endian, 6, head + data)


def udp_frame(payload: bytes = b"hello", sport: int = 5060) -> bytes:
    return bytes(
        Ether(src=MAC1, dst=MAC2)
        / IP(src="10.0.0.1", dst="10.0.0.2")
        / UDP(sport=sport, dport=5060)
        / payload
    )


def read_all(paths: list[str]) -> tuple[list[Frame], list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    frames = list(read_frames(paths, diagnostics.append))
    return frames, diagnostics


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# --------------------------------------------------------------------------- pcap


@pytest.mark.parametrize("endian", ["<", ">"], ids=["little-endian", "big-endian"])
@pytest.mark.parametrize("nano", [False, True], ids=["microseconds", "nanoseconds"])
def test_pcap_flavours(tmp_path: Path, endian: str, nano: bool) -> None:
    data = [udp_frame(b"one"), udp_frame(b"two"), bytes(range(7))]
    times = [T0, T0 + 1_500, T0 + 2_000_000_001]
    path = write(
        tmp_path,
        "f.pcap",
        pcap_bytes(list(zip(times, data, [None] * 3, strict=True)), 113, endian, nano),
    )
    frames, diagnostics = read_all([path])
    assert diagnostics == []
    expected_ts = times if nano else [t // 1000 * 1000 for t in times]
    assert [f.ts_ns for f in frames] == expected_ts
    assert [f.data for f in frames] == data
    assert [f.number for f in frames] == [1, 2, 3]
    assert {f.linktype for f in frames} == {113}
    assert all(f.file == path and f.orig_len == len(f.data) for f in frames)


def test_pcap_written_by_scapy(tmp_path: Path) -> None:
    path = str(tmp_path / "scapy.pcap")
    with PcapWriter(path, nano=True) as writer:
        packet = Ether(udp_frame(b"x"))
        packet.time = Decimal("1700000000.987654321")
        writer.write(packet)
    frames, _ = read_all([path])
    assert [(f.ts_ns, f.linktype) for f in frames] == [(1_700_000_000_987_654_321, 1)]


def test_fcs_bits_of_the_linktype_field_are_ignored(tmp_path: Path) -> None:
    # The top bits of the header's link type field say whether frames carry an FCS.
    path = write(
        tmp_path, "fcs.pcap", pcap_bytes([(T0, udp_frame() + b"\0" * 4, None)], 0x14000001)
    )
    frames, _ = read_all([path])
    assert [f.linktype for f in frames] == [1]


def test_stdin_through_the_command_line(tmp_path: Path) -> None:
    capture = Path(__file__).parent / "data" / "sngrep" / "ipv6frag.pcap"

    def messages(args: list[str], stdin: bytes | None = None) -> list[dict[str, object]]:
        out = subprocess.run(
            [sys.executable, "-m", "sipladder", "messages", "-q", "--format", "json", *args],
            input=stdin,
            capture_output=True,
            check=True,
            cwd=Path(__file__).parent.parent,
        ).stdout
        return json.loads(out)  # type: ignore[no-any-return]

    from_file = messages([str(capture)])
    from_pipe = messages(["-"], gzip.compress(capture.read_bytes()))
    assert len(from_file) == 32  # tshark -r ipv6frag.pcap -Y sip: 32 frames
    assert [(r["frame"], r["ts"], r["call_id"]) for r in from_pipe] == [
        (r["frame"], r["ts"], r["call_id"]) for r in from_file
    ]
    assert {r["file"] for r in from_pipe} == {"-"}


def test_snap_length_cut_is_still_yielded(tmp_path: Path) -> None:
    frame = udp_frame(b"x" * 400)
    path = write(tmp_path, "snap.pcap", pcap_bytes([(T0, frame[:96], len(frame))], snaplen=96))
    frames, diagnostics = read_all([path])
    assert diagnostics == []
    assert frames[0].data == frame[:96] and frames[0].orig_len == len(frame)


def test_large_packet_is_not_cut_at_65535(tmp_path: Path) -> None:
    big = b"\0" * 70_000
    frames, _ = read_all([write(tmp_path, "big.pcap", pcap_bytes([(T0, big, None)]))])
    assert len(frames[0].data) == 70_000


# --------------------------------------------------------------------------- pcapng


def two_interface_pcapng(endian: str = "<") -> bytes:
    eth = udp_frame(b"eth")
    raw = bytes(IP(src="10.0.0.3", dst="10.0.0.4") / UDP() / b"raw")
    return b"".join(
        [
            shb(endian),
            idb(endian, 1),  # Ethernet, default microseconds
            idb(endian, 101, tsresol=9),  # raw IP, nanoseconds
            idb(endian, 113, tsresol=0x80 | 20, tsoffset=-100),  # SLL, 2**-20 s, 100 s earlier
            epb(endian, 0, 1_700_000_000_123_456, eth),
            epb(endian, 1, 1_700_000_000_123_456_789, raw),
            epb(endian, 2, 1_700_000_100 * 2**20 + 2**19, eth),  # .5 s after 1_700_000_000
        ]
    )


@pytest.mark.parametrize("endian", ["<", ">"], ids=["little-endian", "big-endian"])
def test_pcapng_interfaces_with_own_linktype_and_resolution(tmp_path: Path, endian: str) -> None:
    path = write(tmp_path, "two.pcapng", two_interface_pcapng(endian))
    frames, diagnostics = read_all([path])
    assert diagnostics == []
    assert [(f.number, f.linktype, f.ts_ns) for f in frames] == [
        (1, 1, 1_700_000_000_123_456_000),
        (2, 101, 1_700_000_000_123_456_789),
        (3, 113, 1_700_000_000_500_000_000),
    ]


def test_pcapng_timestamps_agree_with_tshark(tmp_path: Path) -> None:
    path = write(tmp_path, "two.pcapng", two_interface_pcapng())
    frames, _ = read_all([path])
    out = subprocess.run(
        [
            "tshark",
            "-r",
            path,
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.interface_id",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    tshark = [line.split("\t") for line in out if line]
    assert [int(Decimal(ts) * 10**9) for ts, _ in tshark] == [f.ts_ns for f in frames]


def test_pcapng_written_by_scapy(tmp_path: Path) -> None:
    path = str(tmp_path / "scapy.pcapng")
    with PcapNgWriter(path) as writer:
        packet = Ether(udp_frame(b"y"))
        packet.time = Decimal("1700000000.25")
        writer.write(packet)
    frames, _ = read_all([path])
    assert [(f.ts_ns, f.linktype, f.data) for f in frames] == [
        (1_700_000_000_250_000_000, 1, udp_frame(b"y"))
    ]


def test_pcapng_second_section_restarts_interfaces(tmp_path: Path) -> None:
    # Interface ids restart at 0 in each section (which may change byte order too).
    data = (
        shb("<")
        + idb("<", 1)
        + epb("<", 0, 1_000_000, b"a" * 20)
        + shb(">")
        + idb(">", 101, tsresol=9)
        + epb(">", 0, 2_000_000_000, b"b" * 20)
    )
    frames, diagnostics = read_all([write(tmp_path, "sections.pcapng", data)])
    assert diagnostics == []
    assert [(f.number, f.linktype, f.ts_ns) for f in frames] == [
        (1, 1, 1_000_000_000),
        (2, 101, 2_000_000_000),
    ]


def test_pcapng_unknown_interface_is_reported_and_counted(tmp_path: Path) -> None:
    data = shb() + idb("<", 1) + epb("<", 5, 0, b"x" * 20) + epb("<", 0, 0, b"y" * 20)
    frames, diagnostics = read_all([write(tmp_path, "badif.pcapng", data)])
    assert [(f.number, f.data[:1]) for f in frames] == [(2, b"y")]
    assert [(d.frame, d.code) for d in diagnostics] == [(1, "bad-packet-block")]


# --------------------------------------------------------------------------- gzip, stdin


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_gzip_compressed(tmp_path: Path, kind: str) -> None:
    plain = pcap_bytes([(T0, udp_frame(), None)]) if kind == "pcap" else two_interface_pcapng()
    frames, diagnostics = read_all([write(tmp_path, f"f.{kind}.gz", gzip.compress(plain))])
    expected, _ = read_all([write(tmp_path, f"f.{kind}", plain)])
    assert diagnostics == []
    assert [(f.ts_ns, f.data, f.linktype) for f in frames] == [
        (f.ts_ns, f.data, f.linktype) for f in expected
    ]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_stdin(monkeypatch: pytest.MonkeyPatch, compress: bool) -> None:
    data = pcap_bytes([(T0, udp_frame(), None), (T0 + 1, udp_frame(b"2"), None)])
    if compress:
        data = gzip.compress(data)

    class Stdin:  # a pipe: binary, not seekable
        buffer = io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]

    monkeypatch.setattr(sys, "stdin", Stdin)
    frames, diagnostics = read_all(["-"])
    assert diagnostics == [] and [f.file for f in frames] == ["-", "-"]
    assert [f.number for f in frames] == [1, 2]


# --------------------------------------------------------------------------- merging


def test_several_files_are_merged_by_time_stably(tmp_path: Path) -> None:
    a = write(
        tmp_path,
        "a.pcap",
        pcap_bytes([(10_000, b"a1", None), (30_000, b"a2", None), (50_000, b"a3", None)]),
    )
    b = write(
        tmp_path, "b.pcap", pcap_bytes([(20_000, b"b1", None), (30_000, b"b2", None)], nano=True)
    )
    frames, _ = read_all([a, b])
    assert [(f.data, f.number) for f in frames] == [
        (b"a1", 1),
        (b"b1", 1),
        (b"a2", 2),
        (b"b2", 2),
        (b"a3", 3),
    ]


# --------------------------------------------------------------------------- damage


def test_missing_file(tmp_path: Path) -> None:
    good = write(tmp_path, "good.pcap", pcap_bytes([(T0, b"x", None)]))
    with pytest.raises(CaptureError) as info:
        read_frames([good, str(tmp_path / "nope.pcap")], lambda d: None)  # raised at once
    assert info.value.file.endswith("nope.pcap") and "no such file" in str(info.value)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"GET / HTTP/1.1\r\n\r\n", "not a pcap or pcapng capture"),
        (pcap_bytes([])[:10], "unreadable capture header"),
        (shb()[:14], "unreadable capture header"),
        (b"\x1f\x8b\x08\x00garbage", "cannot read"),
    ],
    ids=["empty", "bad-magic", "truncated-pcap-header", "truncated-pcapng-header", "broken-gzip"],
)
def test_unreadable_file(tmp_path: Path, content: bytes, reason: str) -> None:
    path = write(tmp_path, "bad.pcap", content)
    with pytest.raises(CaptureError, match=reason) as info:
        read_all([path])
    assert info.value.file == path


def test_directory_is_not_a_capture(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="directory"):
        read_all([str(tmp_path)])


@pytest.mark.parametrize("cut", [5, 16 + 3], ids=["inside-record-header", "inside-packet-data"])
def test_pcap_truncated_mid_packet(tmp_path: Path, cut: int) -> None:
    whole = pcap_bytes(
        [(T0, b"a" * 50, None), (T0 + 1, b"b" * 50, None), (T0 + 2, b"c" * 50, None)]
    )
    damaged = write(tmp_path, "cut.pcap", whole[: 24 + 2 * 66 + cut])
    other = write(tmp_path, "other.pcap", pcap_bytes([(T0 + 5, b"z", None)]))
    frames, diagnostics = read_all([damaged, other])
    assert [(Path(f.file).name, f.number) for f in frames] == [
        ("cut.pcap", 1),
        ("cut.pcap", 2),
        ("other.pcap", 1),
    ]
    assert [(d.file, d.frame, d.code) for d in diagnostics] == [(damaged, 3, "capture-truncated")]


def test_pcapng_truncated_mid_block(tmp_path: Path) -> None:
    whole = two_interface_pcapng()
    frames, diagnostics = read_all([write(tmp_path, "cut.pcapng", whole[:-10])])
    assert [f.number for f in frames] == [1, 2]
    assert [(d.frame, d.code) for d in diagnostics] == [(3, "capture-truncated")]


def test_gzip_truncated(tmp_path: Path) -> None:
    data = pcap_bytes([(T0 + i, bytes([i]) * 200, None) for i in range(50)])
    packed = gzip.compress(data)
    frames, diagnostics = read_all([write(tmp_path, "cut.pcap.gz", packed[: len(packed) // 2])])
    assert 0 < len(frames) < 50
    assert [d.code for d in diagnostics] in (["capture-truncated"], ["capture-unreadable"])
    assert diagnostics[0].frame == len(frames) + 1


def test_corrupt_record_length_stops_the_file(tmp_path: Path) -> None:
    data = pcap_bytes([(T0, b"a" * 10, None)]) + struct.pack("<IIII", 1, 2, 0x7FFFFFFF, 10)
    frames, diagnostics = read_all([write(tmp_path, "corrupt.pcap", data)])
    assert len(frames) == 1 and [(d.frame, d.code) for d in diagnostics] == [(2, "capture-corrupt")]


def test_backward_timestamps_reported_once_with_count(tmp_path: Path) -> None:
    times = [5_000, 4_000, 6_000, 3_000, 7_000]
    frames, diagnostics = read_all(
        [write(tmp_path, "back.pcap", pcap_bytes([(t, b"x", None) for t in times], nano=True))]
    )
    assert [f.ts_ns for f in frames] == times  # file order kept
    assert [(d.frame, d.code) for d in diagnostics] == [(2, "timestamps-backwards")]
    assert "2 time(s)" in diagnostics[0].message


def test_reading_streams(tmp_path: Path) -> None:
    """Memory does not grow with the file: 20 MB of packets read with a small peak."""
    record = struct.pack("<IIII", 1, 0, 1000, 1000) + b"\xab" * 1000
    path = tmp_path / "big.pcap"
    with open(path, "wb") as f:
        f.write(pcap_bytes([]))
        for _ in range(20):
            f.write(record * 1000)
    tracemalloc.start()
    count = sum(1 for _ in read_frames([str(path)], lambda d: None))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 20_000
    assert peak < 2_000_000, peak


# --------------------------------------------------------------------------- arbitrary damage

GOOD_FILES = {
    "pcap": pcap_bytes([(T0 + i, udp_frame(bytes([i]) * 30), None) for i in range(4)]),
    "pcapng": two_interface_pcapng(),
}


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(sorted(GOOD_FILES)),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 10_000),
    compress=st.booleans(),
)
def test_damaged_files_raise_only_capture_error(
    tmp_path_factory: pytest.TempPathFactory,
    kind: str,
    flips: list[tuple[int, int]],
    cut: int,
    compress: bool,
) -> None:
    data = bytearray(GOOD_FILES[kind])
    for position, value in flips:
        data[position % len(data)] = value
    damaged = bytes(data[: max(cut, 1)])
    if compress:
        damaged = gzip.compress(damaged)
    path = tmp_path_factory.mktemp("fuzz") / "damaged"
    path.write_bytes(damaged)
    diagnostics: list[Diagnostic] = []
    try:
        frames = list(read_frames([str(path)], diagnostics.append))
    except CaptureError as exc:
        assert exc.file == str(path)
        return
    assert [f.number for f in frames] == sorted({f.number for f in frames})
    assert all(d.file == str(path) for d in diagnostics)


def test_pcapng_simple_and_obsolete_packet_blocks(tmp_path: Path) -> None:
    # Simple Packet Block (type 3): interface 0, no timestamp, cut to the snap length;
    # obsolete Packet Block (type 2): interface id, drops count, timestamp.
    frame = udp_frame(b"simple")
    spb = _block("<", 3, struct.pack("<I", len(frame)) + frame)
    pb_head = struct.pack("<HHIIII", 1, 0, 0, 1_700_000_000, len(frame), len(frame))
    pb = _block("<", 2, pb_head + frame)
    data = shb() + idb("<", 1) + idb("<", 101, tsresol=0) + spb + pb
    frames, diagnostics = read_all([write(tmp_path, "blocks.pcapng", data)])
    assert diagnostics == []
    assert [(f.number, f.linktype, f.ts_ns, f.data) for f in frames] == [
        (1, 1, 0, frame),
        (2, 101, 1_700_000_000 * 10**9, frame),  # tsresol 10**0: whole seconds
    ]


def test_pcapng_other_blocks_are_skipped_without_counting(tmp_path: Path) -> None:
    stats = _block("<", 5, struct.pack("<III", 0, 0, 0))  # Interface Statistics Block
    custom = _block("<", 0x00000BAD, struct.pack("<I", 32473) + b"custom")
    data = (
        shb() + idb("<", 1) + stats + epb("<", 0, 1, b"a" * 20) + custom + epb("<", 0, 2, b"b" * 20)
    )
    frames, diagnostics = read_all([write(tmp_path, "other.pcapng", data)])
    assert [(f.number, f.data[:1]) for f in frames] == [(1, b"a"), (2, b"b")] and diagnostics == []


# --------------------------------------------------------------------------- compiled reader
# A plain classic pcap file is read in blocks by the compiled accelerator (readers.PcapFrames,
# accel.pcap_walk). It must give what the Python reader (_PcapReader and _frames_of)
# gives: the same frames, numbers, diagnostics, wherever the blocks split the records.

PURE = os.environ.get("SIPLADDER_PURE", "") not in ("", "0")
needs_accel = pytest.mark.skipif(PURE, reason="SIPLADDER_PURE=1: the accelerator is off")


def read_python(path: str) -> tuple[list[Frame], list[Diagnostic]]:
    """The Python reader's frames and diagnostics (the reference)."""
    raw, reader = readers._open(path)
    diagnostics: list[Diagnostic] = []
    frames = list(readers._frames_of(path, raw, reader, diagnostics.append))
    return frames, diagnostics


def read_compiled(
    path: str, monkeypatch: pytest.MonkeyPatch, block: int | None = None
) -> tuple[list[Frame], list[Diagnostic]]:
    """The compiled reader's, with blocks of ``block`` bytes."""
    with monkeypatch.context() as patch:
        if block is not None:
            patch.setattr(readers, "_BLOCK", block)
        diagnostics: list[Diagnostic] = []
        stream = read_frames([path], diagnostics.append)
        assert isinstance(stream, readers.PcapFrames)  # (not the Python reader again)
        frames = list(stream)
    return frames, diagnostics


@needs_accel
def test_the_compiled_reader_reads_plain_pcap_files_only(tmp_path: Path) -> None:
    """gzip, pcapng and standard input keep the Python readers."""
    pcap = pcap_bytes([(T0, udp_frame(), None)])
    plain = write(tmp_path, "a.pcap", pcap)
    assert isinstance(read_frames([plain], lambda d: None), readers.PcapFrames)
    packed = write(tmp_path, "a.pcap.gz", gzip.compress(pcap))
    ng = write(tmp_path, "a.pcapng", shb() + idb("<", 1) + epb("<", 0, 1, udp_frame()))
    for other in (packed, ng):
        stream = read_frames([other], lambda d: None)
        assert not isinstance(stream, readers.PcapFrames)
        assert [f.data for f in stream] == [udp_frame()]


@needs_accel
@pytest.mark.parametrize("path", [c for c in CAPTURES if c.endswith((".pcap", ".cap"))])
def test_the_compiled_reader_on_every_capture(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    full = str(ROOT / path)
    if not isinstance(read_frames([full], lambda d: None), readers.PcapFrames):
        pytest.skip("not a classic pcap file (the Python reader reads it)")  # (one pcapng)
    expected = read_python(full)
    assert read_compiled(full, monkeypatch) == expected
    assert read_compiled(full, monkeypatch, block=1000) == expected


def _records(endian: str, records: list[tuple[int, int, bytes, int]]) -> bytes:
    """Record headers written field by field: (sec, frac, data, orig_len)."""
    return b"".join(
        struct.pack(endian + "IIII", sec, frac, len(data), orig_len) + data
        for sec, frac, data, orig_len in records
    )


def _header(endian: str, nano: bool, snaplen: int, linktype: int = 1) -> bytes:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    return struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


# Frames with everything the bookkeeping looks at: an empty one, timestamps going back
# (twice), frames longer than the snap length (20), the largest field values.
_AWKWARD = [
    (1_700_000_000, 5, b"A" * 30, 30),
    (1_700_000_000, 4, b"", 60),  # back; empty
    (1_700_000_001, 999_999, b"B" * 19, 1500),
    (1_699_999_999, 0, b"C" * 21, 21),  # back again; over the snap length
    (0xFFFFFFFF, 0xFFFFFFFF, b"D" * 20, 0xFFFFFFFF),
    (7, 1, b"E" * 40, 40),  # back; over
]


def _ending(name: str, endian: str) -> bytes:
    """How the file ends after the records above."""
    head = struct.Struct(endian + "IIII").pack
    return {
        "clean": b"",
        "in-a-header-1": b"\x01",
        "in-a-header-15": b"\x01" * 15,
        "in-data": head(1, 2, 10, 10) + b"xyz",
        "header-only": head(1, 2, 3, 3),
        "corrupt-length": head(1, 2, MAX_CAPLEN + 1, 1) + b"\x00" * 40,
        "corrupt-length-cut": head(1, 2, 0xFFFFFFFF, 0),  # (the length is what counts)
    }[name]


_ENDINGS = ["clean", "in-a-header-1", "in-a-header-15", "in-data", "header-only"]
_ENDINGS += ["corrupt-length", "corrupt-length-cut"]


@needs_accel
@pytest.mark.parametrize("ending", _ENDINGS)
@pytest.mark.parametrize("endian", ["<", ">"], ids=["little-endian", "big-endian"])
@pytest.mark.parametrize("nano", [False, True], ids=["microseconds", "nanoseconds"])
def test_the_compiled_reader_with_blocks_split_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str, endian: str, nano: bool
) -> None:
    """Every block size from 1 byte to the whole file: each record header and each
    packet split at every place, and the end met in a header, in data, in a bad record."""
    content = _header(endian, nano, 20) + _records(endian, _AWKWARD) + _ending(ending, endian)
    path = write(tmp_path, "f.pcap", content)
    expected = read_python(path)
    frames, diagnostics = expected
    assert len(frames) == len(_AWKWARD)  # (the reference read what it should)
    codes = {d.code for d in diagnostics}
    assert {"timestamps-backwards", "snaplen-exceeded"} <= codes
    assert ("capture-truncated" in codes) == (ending.startswith(("in-", "header")))
    assert ("capture-corrupt" in codes) == ending.startswith("corrupt")
    for block in range(1, len(content) - 24 + 2):
        assert read_compiled(path, monkeypatch, block) == expected, block


@needs_accel
@pytest.mark.parametrize("caplen", [MAX_CAPLEN, MAX_CAPLEN + 1])
def test_the_compiled_reader_at_the_largest_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplen: int
) -> None:
    """A record of MAX_CAPLEN bytes is read (longer than a block), one byte more is corrupt."""
    records = [(1, 0, b"a" * 10, 10), (2, 0, b"b" * caplen, caplen), (3, 0, b"c", 1)]
    path = write(tmp_path, "big.pcap", _header("<", False, 0) + _records("<", records))
    expected = read_python(path)
    assert len(expected[0]) == (3 if caplen == MAX_CAPLEN else 1)
    for block in (None, 16, 1000, 100_000, MAX_CAPLEN + 15, MAX_CAPLEN + 16, MAX_CAPLEN + 50):
        assert read_compiled(path, monkeypatch, block) == expected, block


@needs_accel
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 0xFFFFFFFF),
            st.integers(0, 0xFFFFFFFF),
            st.binary(max_size=40),
            st.integers(0, 0xFFFFFFFF),
        ),
        max_size=8,
    ),
    st.binary(max_size=40),
    st.sampled_from(["<", ">"]),
    st.booleans(),
    st.integers(0, 50),
    st.integers(1, 300),
)
def test_the_compiled_reader_on_generated_files(
    records: list[tuple[int, int, bytes, int]],
    tail: bytes,
    endian: str,
    nano: bool,
    snaplen: int,
    block: int,
) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        content = _header(endian, nano, snaplen) + _records(endian, records) + tail
        path = write(Path(folder), "g.pcap", content)
        assert read_compiled(path, patch, block) == read_python(path)


class _FailingAfter:
    """A file that raises OSError for any read past its first ``limit`` bytes."""

    def __init__(self, inner: io.BufferedReader, limit: int) -> None:
        self.inner = inner
        self.limit = limit

    def read(self, n: int = -1) -> bytes:
        if n != 0 and self.inner.tell() + max(n, 1) > self.limit:
            raise OSError(5, "Input/output error")
        return self.inner.read(n)

    def close(self) -> None:
        self.inner.close()


@needs_accel
def test_the_compiled_reader_on_a_read_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that fails (a disk error) ends the file with capture-unreadable after the
    frames read before it, as the Python reader does when the error falls between the
    same records (the compiled reader reads a block at once: a failing block loses the
    records in it that the Python reader, reading record by record, would have read)."""
    path = write(tmp_path, "f.pcap", _header("<", False, 20) + _records("<", _AWKWARD))
    limit = 24 + 2 * 16 + 30  # the file header and the first two records (30 + 0 bytes)
    results = []
    for fast in (True, False):
        with monkeypatch.context() as patch:
            patch.setattr(readers, "_BLOCK", 2 * 16 + 30)
            if not fast:
                patch.setattr(readers, "accel", None)
            diagnostics: list[Diagnostic] = []
            stream = read_frames([path], diagnostics.append)
            assert isinstance(stream, readers.PcapFrames) == fast
            reader = stream._reader if fast else stream.gi_frame.f_locals["reader"]  # type: ignore[attr-defined]
            reader.f = _FailingAfter(reader.f, limit)
            results.append((list(stream), diagnostics))
    assert results[0] == results[1]
    frames, diagnostics = results[0]
    assert [f.number for f in frames] == [1, 2]
    assert [(d.frame, d.code) for d in diagnostics] == [
        (3, "capture-unreadable"),
        (1, "snaplen-exceeded"),
        (2, "timestamps-backwards"),
    ]
