"""The parser's lazy ``headers``, ``body`` and ``sdp`` equal eager parsing, everywhere.

parse_message returns a SipMessage subclass that builds those three fields from ``raw``
on first access (to save memory and time on big captures); these tests compare it,
field by field, with the eager parse of the same bytes (``_parse(data, lazy=False)``),
on hand-made edge cases and on every SIP message of the bundled samples and test captures.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest

from sipladder.capture import load
from sipladder.model import SipMessage
from sipladder.sip.parser import _parse, parse_message

ROOT = Path(__file__).resolve().parents[2]

SDP = (
    b"v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    b"m=audio 4000 RTP/AVP 0\r\n"
)
HEAD = (
    b"Via: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP g;branch=z9hG4bK2\r\n"
    b"To: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
    b"Max-Forwards: 70\r\n"
)
MULTIPART = (
    b"--xx\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    b"--xx\r\nContent-Type: application/sdp\r\n\r\n" + SDP + b"\r\n--xx--\r\n"
)

CASES = {
    "sdp": b"INVITE sip:b@h SIP/2.0\r\n"
    + HEAD
    + b"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n" % len(SDP)
    + SDP,
    "multipart-sdp": b"INVITE sip:b@h SIP/2.0\r\n"
    + HEAD
    + b"Content-Type: multipart/mixed;boundary=xx\r\nContent-Length: %d\r\n\r\n" % len(MULTIPART)
    + MULTIPART,
    "keepalive-before": b"\r\n\r\nSIP/2.0 200 OK\r\n" + HEAD + b"Content-Length: 0\r\n\r\n",
    "trailing-data": b"SIP/2.0 180 Ringing\r\n" + HEAD + b"Content-Length: 2\r\n\r\nabcdef",
    "body-shorter-than-declared": b"MESSAGE sip:b@h SIP/2.0\r\n"
    + HEAD
    + b"Content-Length: 50\r\n\r\nhello",
    "no-content-length": b"MESSAGE sip:b@h SIP/2.0\r\n" + HEAD + b"\r\nhello",
    "lf-only": (b"OPTIONS sip:b@h SIP/2.0\r\n" + HEAD + b"\r\n").replace(b"\r\n", b"\n"),
    "folded": b"OPTIONS sip:b@h SIP/2.0\r\n" + HEAD + b"Subject: a\r\n  b\r\n\r\n",
    "unterminated": b"OPTIONS sip:b@h SIP/2.0\r\n" + HEAD,
    "compact-and-odd-names": b"OPTIONS sip:b@h SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
    b"t: <sip:b@h>\r\nf: <sip:a@h>;tag=1\r\ni: c\r\nCSeq: 1 OPTIONS\r\nRoute-Route: <sip:x>\r\n"
    b"l: 0\r\n\r\n",
    "sdp-without-lines": b"INVITE sip:b@h SIP/2.0\r\n"
    + HEAD
    + b"Content-Type: application/sdp\r\nContent-Length: 3\r\n\r\nxyz",
}


def assert_same(data: bytes) -> None:
    lazy = parse_message(data)
    eager = _parse(data, lazy=False)
    assert type(eager) is SipMessage and isinstance(lazy, SipMessage)
    for f in dataclasses.fields(SipMessage):
        assert getattr(lazy, f.name) == getattr(eager, f.name), f.name
    assert repr(lazy) == repr(eager)
    # a second access returns the same (kept) values
    assert lazy.headers is lazy.headers and lazy.sdp is lazy.sdp
    copy = dataclasses.replace(lazy, call_id="other")
    assert (copy.headers, copy.body, copy.sdp) == (eager.headers, eager.body, eager.sdp)
    again = pickle.loads(pickle.dumps(parse_message(data)))
    assert (again.headers, again.body, again.sdp) == (eager.headers, eager.body, eager.sdp)


@pytest.mark.parametrize("data", list(CASES.values()), ids=list(CASES))
def test_lazy_fields_equal_eager_parse(data: bytes) -> None:
    assert_same(data)


def test_sdp_is_parsed_only_on_access() -> None:
    msg = parse_message(CASES["sdp"])
    assert msg.sdp is not None and msg.sdp.media[0].port == 4000
    assert msg.body == SDP


CAPTURES = sorted(
    str(p.relative_to(ROOT))
    for pattern in ("samples/*.pcap*", "tests/data/**/*.pcap*")
    for p in ROOT.glob(pattern)
    if not p.name.endswith(".json")
)


@pytest.mark.parametrize("path", CAPTURES)
def test_every_bundled_message_parses_the_same_lazily(path: str) -> None:
    capture = load(str(ROOT / path))
    for message in capture.records:
        assert_same(message.sip.raw)
