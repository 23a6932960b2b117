"""Differential fuzzing (atheris/libFuzzer) of the parser's compiled fast path against the
Python parser (tests/sip/test_sip_compiled.py holds the same contract on fixed inputs).

On any bytes, ``parse_fast`` (csrc/_sipladder_accel.c) answers None or the very record
the Python parser builds: equal in every field, the lazy ones and the anomalies
included, and with the same ``repr``. The memo tables they share are emptied for each
input: the Python parser's result is computed first, then the compiled path's twice
(its misses, then its hits on the entries it stored).

    pip install atheris
    python fuzz/fuzz_parse_fast.py -dict=fuzz/sip.dict -max_total_time=600 [CORPUS_DIR...]

Seeds are the SIP messages of the repository's captures, the article's listings and the
RFC 4475 torture messages. For memory errors in the C code, build the module with
AddressSanitizer as fuzz/fuzz_accel.py describes.
"""

from __future__ import annotations

import sys

import atheris
import common

with atheris.instrument_imports():
    from sipladder import accel as accel_module
    from sipladder.errors import SipParseError
    from sipladder.sip import headers, parser

TABLES = (
    parser._LINE_B_CACHE, parser._START_B_CACHE, parser._CSEQ_CACHE, parser._ADDR_CACHE,
    parser._VIA_CACHE, parser._VIA_HEAD_CACHE, parser._ADDR_HEAD_CACHE, headers._PARAM_NAMES,
)  # fmt: skip


def _python(data: bytes) -> str:
    try:
        return repr(parser._parse(data))
    except SipParseError as exc:
        return f"SipParseError({exc})"


def _cold() -> None:
    for table in TABLES:
        table.clear()


def test_one_input(data: bytes) -> None:
    compiled = accel_module.accel
    assert compiled is not None, "the accelerator is not built: nothing to compare"
    # the reference from tables only the Python parser filled (a wrong entry stored by
    # the compiled path would otherwise be read by both), then the compiled path cold
    # and warm (reading the entries it stored)
    _cold()
    want = _python(data)
    _cold()
    for _ in range(2):
        fast = compiled.parse_fast(data)
        if fast is not None:
            assert repr(fast) == want, data


def seeds() -> list[bytes]:
    from sipladder.net.decoder import PacketDecoder
    from sipladder.readers import read_frames
    from sipladder.sip.framing import split_datagram

    out = [p.read_bytes() for p in sorted((common.ROOT / "samples" / "seed").glob("*.sip"))]
    out += [p.read_bytes() for p in sorted((common.ROOT / "tests/data/rfc4475").glob("*.dat"))]
    for path in common.capture_files():
        decoder = PacketDecoder(lambda diagnostic: None)
        try:
            for n, frame in enumerate(read_frames([str(path)], lambda diagnostic: None)):
                if n >= 40:
                    break
                for payload in decoder.feed(frame):
                    out.extend(split_datagram(payload.data))
        except Exception:  # noqa: BLE001 - a capture that cannot be read seeds nothing
            continue
    return out


def main() -> None:
    argv = common.with_default_corpus(sys.argv, "parse_fast", seeds())
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
