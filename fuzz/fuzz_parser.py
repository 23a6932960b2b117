"""Coverage-guided fuzzing (atheris/libFuzzer) of the SIP parser and framing.

The contract under test: on any bytes, :func:`~sipladder.sip.parser.parse_message`
returns a message or raises :class:`~sipladder.errors.SipParseError` (and never its
"internal error" form, which wraps a bug); every lazily built field of the message can
be read; datagram splitting and stream framing never raise and lose nothing silently.

    pip install atheris
    python fuzz/fuzz_parser.py -max_total_time=600 [-jobs=1] [CORPUS_DIR...]

Without a corpus folder, ``fuzz/corpus/parser`` is created from the repository's SIP
texts. A crash is written by libFuzzer as ``crash-<sha1>`` in the current folder;
replay it with ``python fuzz/fuzz_parser.py crash-<sha1>``.
"""

from __future__ import annotations

import sys

import atheris
import common

with atheris.instrument_imports():
    from sipladder.errors import SipParseError
    from sipladder.sip.framing import StreamFramer, split_datagram
    from sipladder.sip.parser import looks_like_sip, parse_message


def _exercise(data: bytes) -> None:
    try:
        message = parse_message(data)
    except SipParseError as exc:
        if exc.reason.startswith("internal error"):
            raise AssertionError(exc.reason) from exc
        return
    # the lazily parsed parts, and everything a renderer or lint reads
    _ = (message.headers, message.body, message.sdp, message.anomalies, message.label)
    _ = (message.start_line, message.branch, message.from_tag, message.to_tag)
    for anomaly in message.anomalies:
        assert anomaly.code and anomaly.message
    assert message.raw and message.raw in data


def test_one_input(data: bytes) -> None:
    looks_like_sip(data)
    _exercise(data)
    chunks = split_datagram(data)
    assert sum(map(len, chunks)) <= len(data)
    for chunk in chunks:
        _exercise(chunk)
    framer = StreamFramer()
    out: list[bytes] = []
    step = 1 + (data[0] % 37 if data else 0)
    for i in range(0, len(data), step):
        out.extend(framer.feed(data[i : i + step]))
    out.extend(framer.flush())
    assert sum(map(len, out)) + framer.skipped <= len(data)


def seeds() -> list[bytes]:
    texts = [p.read_bytes() for p in sorted((common.ROOT / "samples" / "seed").glob("*.sip"))]
    torture = common.ROOT / "tests" / "data" / "rfc4475"
    texts += [p.read_bytes() for p in sorted(torture.glob("*.dat"))]
    texts += [
        b"INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nl: 5\r\n"
        b"c: multipart/mixed;boundary=zz\r\n\r\n--zz\r\nContent-Type: application/sdp\r\n\r\n"
        b"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n--zz--\r\n",
    ]
    return texts


def main() -> None:
    argv = common.with_default_corpus(sys.argv, "parser", seeds())
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
