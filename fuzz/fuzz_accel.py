"""Differential fuzzing (atheris/libFuzzer) of the compiled accelerator against the Python
code it stands in for (sipladder/accel.py): on any input, the decoder with and without it
delivers the same payloads, diagnostics and counts, ``looks_like_sip`` and
``call_id_hint`` give the same answers, and ``other_shard`` passes over only a frame the
Python stages would only count.

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

import sys

import atheris
import common

with atheris.instrument_imports():
    from sipladder import accel as accel_module
    from sipladder.model import Frame
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
