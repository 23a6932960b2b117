"""Differential fuzzing (atheris/libFuzzer) of the compiled accelerator against the Python
code it stands in for (sipladder/accel.py): on any input, the decoder with and without it
delivers the same payloads, diagnostics and counts, ``looks_like_sip`` and
``call_id_hint`` give the same answers, and ``other_shard`` passes over only a frame the
Python stages would only count. The input is also written as a classic pcap file (the
frame as one record, then the rest of the input as raw records: whatever their headers
say) and read by the compiled reader (``pcap_walk``, in blocks of a size the input
picks) and by the Python reader: the same frames and diagnostics; and a worker of each
of two parts whose reader passes frames over gives the messages, counters and
diagnostics of one that passes nothing over.

    pip install atheris
    python fuzz/fuzz_accel.py -max_total_time=600 [CORPUS_DIR...]

The first byte of an input picks the frame's link type, the rest is the frame. Seeds are
the frames of the repository's captures. For memory errors in the C code, build the
module with AddressSanitizer and preload its runtime, for example::

    gcc -O1 -g -fsanitize=address,undefined -shared -fPIC $(python3-config --includes) \\
        csrc/_sipladder_accel.c -o _sipladder_accel$(python3-config --extension-suffix)
    LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \\
        python fuzz/fuzz_accel.py -max_total_time=600
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile

import atheris
import common

with atheris.instrument_imports():
    from sipladder import accel as accel_module
    from sipladder import pipeline, readers
    from sipladder.model import Diagnostic, Frame
    from sipladder.net import decoder as decoder_module
    from sipladder.net.decoder import PacketDecoder
    from sipladder.sip.framing import split_datagram
    from sipladder.sip.parser import python_looks_like_sip
    from sipladder.sip.skim import python_call_id_hint, shard_of_bytes

LINKTYPES = (1, 113, 276, 101, 12, 14, 228, 229, 0, 108)


def _decode(frame: Frame, fast: bool) -> tuple[object, ...]:
    saved = decoder_module.accel
    if not fast:
        decoder_module.accel = None
    try:
        reports: list[object] = []
        decoder = PacketDecoder(reports.append)
        payloads = decoder.feed(frame)
        return payloads, reports, decoder.ignored
    finally:
        decoder_module.accel = saved


def test_one_input(data: bytes) -> None:
    compiled = accel_module.accel
    assert compiled is not None, "the accelerator is not built: nothing to compare"
    if not data:
        return
    frame = Frame("fuzz.pcap", 1, 0, LINKTYPES[data[0] % len(LINKTYPES)], data[1:], len(data) - 1)
    assert _decode(frame, True) == _decode(frame, False), data.hex()
    payload = data[1:]
    assert compiled.looks_like_sip(payload) is python_looks_like_sip(payload), data.hex()
    assert compiled.call_id_hint(payload) == python_call_id_hint(payload), data.hex()
    for number in (0, 1):
        found = compiled.other_shard(frame.linktype, frame.data, 2, number)
        if found is not None:
            assert found == _python_other_shard(frame, number), data.hex()
    _check_reader(data)


_PATH = os.path.join(tempfile.mkdtemp(prefix="fuzz-accel-"), "f.pcap")


def _check_reader(data: bytes) -> None:
    """The input as a pcap file, read both ways (see the module's docstring)."""
    endian = ">" if data[0] & 0x80 else "<"
    nano = bool(data[0] & 0x40)
    linktype = LINKTYPES[data[0] % len(LINKTYPES)]
    snaplen = 0 if data[0] & 0x20 else 200
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    header = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    record = struct.pack(endian + "IIII", 1_700_000_000, 5, len(data) - 1, len(data) - 1)
    content = header + record + data[1:] + record + data[1:] + data[1:]
    with open(_PATH, "wb") as f:
        f.write(content)
    block = 1 + (data[-1] * 7) % 300
    assert _read(block, True) == _read(block, False), data.hex()
    for number in (0, 1):
        assert _worker(number, block, True) == _worker(number, block, False), data.hex()


def _read(block: int, fast: bool) -> tuple[list[Frame], list[Diagnostic]]:
    saved = readers._BLOCK, readers.accel
    readers._BLOCK = block
    if not fast:
        readers.accel = None
    try:
        diagnostics: list[Diagnostic] = []
        stream = readers.read_frames([_PATH], diagnostics.append)
        assert isinstance(stream, readers.PcapFrames) == fast
        return list(stream), diagnostics
    finally:
        readers._BLOCK, readers.accel = saved


def _worker(number: int, block: int, fast: bool) -> tuple[object, ...]:
    """A worker's messages, counters and diagnostics (each with the counts when it
    came); ``fast``: its reader passes frames over, otherwise nothing is passed over."""
    saved = readers._BLOCK, pipeline.accel
    readers._BLOCK = block
    if not fast:
        pipeline.accel = None
    try:
        counters = pipeline.Counters()
        events: list[object] = []

        def report(diagnostic: Diagnostic) -> None:
            events.append((counters.frames, counters.payloads, diagnostic))

        shard = pipeline.Shard(number, 2)
        frames = readers.read_frames([_PATH], report if number == 0 else pipeline._ignore)
        messages = list(pipeline.messages_from_frames(frames, report, counters, shard))
        return messages, counters, events, shard.unparsable
    finally:
        readers._BLOCK, pipeline.accel = saved


def _python_other_shard(frame: Frame, number: int) -> tuple[int, int] | None:
    """other_shard's answer by the Python stages: one plain payload, not cut short, that
    looks like SIP and is one message whose Call-ID hint names the other of two parts."""
    reports: list[object] = []
    saved = decoder_module.accel
    decoder_module.accel = None
    try:
        decoder = PacketDecoder(reports.append)
        decoder.udp_ports.clear()
        payloads = decoder.feed(frame)
    finally:
        decoder_module.accel = saved
    if reports or len(payloads) != 1 or payloads[0].truncated:
        return None
    chunks = split_datagram(payloads[0].data)
    if not python_looks_like_sip(payloads[0].data) or len(chunks) != 1:
        return None
    hint = python_call_id_hint(chunks[0])
    if hint is None or shard_of_bytes(hint, 2) == number:
        return None
    return payloads[0].src.port, payloads[0].dst.port


def seeds() -> list[bytes]:
    from sipladder.readers import read_frames

    out: list[bytes] = []
    for folder in ("samples", "tests/data"):
        for path in sorted((common.ROOT / folder).rglob("*.pcap*")):
            try:
                for n, frame in enumerate(read_frames([str(path)], lambda d: None)):
                    if n >= 20:
                        break
                    if frame.linktype in LINKTYPES:
                        out.append(bytes([LINKTYPES.index(frame.linktype)]) + frame.data)
            except Exception:  # noqa: BLE001 - a capture that cannot be read seeds nothing
                continue
    return out


def main() -> None:
    argv = common.with_default_corpus(sys.argv, "accel", seeds())
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
