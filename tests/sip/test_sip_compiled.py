"""The parser's compiled fast path (``parse_fast`` in csrc/_sipladder_accel.c) gives the
Python parser's result, or gives up.

``parse_message`` first asks the compiled fast path, which reads a message that breaks no
rule with the parser's own memo tables and functions and builds the same record; for
anything else it answers None and the Python parser runs. These tests hold it to that:
wherever it answers, the record equals the Python parser's in every field (the lazy ones,
the anomalies and the ``repr`` included), on every message of every test capture, on the
RFC 4475 torture messages and on generated messages built to break one rule at a time;
and its twins of the memo functions (a header line, a Via, a name-addr, the parameters)
store the entries the Python functions store. A test also shows that the usual message
does take the compiled path, so that the comparisons compare two different things.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sipladder import accel as accel_module
from sipladder.errors import SipParseError
from sipladder.net.decoder import PacketDecoder
from sipladder.readers import read_frames
from sipladder.sip import headers, parser
from sipladder.sip.framing import split_datagram
from tests.captures import CAPTURES, ROOT

TORTURE = sorted((ROOT / "tests" / "data" / "rfc4475").glob("*.dat"))
SEEDS = sorted((ROOT / "samples" / "seed").glob("*.sip"))

#: every memo table the parser and the compiled path share
TABLES = (
    parser._LINE_B_CACHE, parser._START_B_CACHE, parser._CSEQ_CACHE, parser._ADDR_CACHE,
    parser._VIA_CACHE, parser._VIA_HEAD_CACHE, parser._ADDR_HEAD_CACHE, headers._PARAM_NAMES,
)  # fmt: skip


def _compiled() -> ModuleType:
    if accel_module.accel is None:
        pytest.skip("SIPLADDER_PURE=1 was set: the accelerator is switched off on purpose")
    assert parser._parse_fast is accel_module.accel.parse_fast
    return accel_module.accel


def _cold() -> None:
    for table in TABLES:
        table.clear()


def python_outcome(data: bytes) -> tuple[str, Any]:
    """The Python parser's result, as text (every field: repr reads the lazy ones too),
    and the message, from memo tables it fills itself: the tables as they were (with
    what the compiled path stored in them) are put back after. Otherwise a wrong entry
    stored by the compiled path would be read by both, and they would agree."""
    saved = [dict(table) for table in TABLES]
    _cold()
    try:
        message = parser._parse(data)
        return repr(message), message
    except SipParseError as exc:
        return f"SipParseError({exc})", None
    finally:
        for table, entries in zip(TABLES, saved, strict=True):
            table.clear()
            table.update(entries)


def assert_same(data: bytes) -> bool:
    """parse_fast(data) is None or the Python parser's message; True when it answered."""
    fast = _compiled().parse_fast(data)
    want, message = python_outcome(data)
    if fast is None:
        return False
    assert type(fast) is type(message)
    assert repr(fast) == want
    assert fast == message
    assert fast.headers == message.headers
    return True


def _chunks(path: str) -> Iterator[bytes]:
    decoder = PacketDecoder(lambda diagnostic: None)
    for frame in read_frames([str(ROOT / path)], lambda diagnostic: None):
        for payload in decoder.feed(frame):
            if parser.looks_like_sip(payload.data):
                yield from split_datagram(payload.data)


@pytest.mark.parametrize("path", CAPTURES)
def test_every_message_of_every_capture_parses_the_same(path: str) -> None:
    _compiled()
    chunks = list(_chunks(path))
    for warm in (False, True):  # memo tables empty, then full of this capture's values
        if not warm:
            _cold()
        for chunk in chunks:
            assert_same(chunk)


@pytest.mark.parametrize("path", TORTURE + SEEDS, ids=lambda p: p.name)
def test_torture_and_seed_messages_parse_the_same(path: Path) -> None:
    _cold()
    assert_same(path.read_bytes())
    assert_same(path.read_bytes())


CLEAN = (
    b"INVITE sip:b@[2001:db8::1]:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP [2001:db8::2]:5061;branch=z9hG4bK-1;rport\r\n"
    b"Via: SIP/2.0/UDP p.example.com;branch=z9hG4bK-0\r\n"
    b"From: Alice <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
    b"Call-ID: c1@h\r\nCSeq: 1 INVITE\r\nContact: <sip:a@[2001:db8::2]:5061>;expires=60\r\n"
    b"Record-Route: <sip:p.example.com;lr>\r\nRoute: <sip:q.example.com;lr>\r\n"
    b"Max-Forwards: 70\r\nExpires: 120\r\nUser-Agent: x\r\n"
    b"Date: Sat, 13 Nov 2010 23:29:00 GMT\r\nContent-Type: application/sdp\r\n"
    b"Content-Length: 8\r\n\r\nv=0\r\ns=-\r\n"
)


def test_the_usual_message_takes_the_compiled_path() -> None:
    """Warm or cold, a message that breaks no rule is answered by the compiled path, and
    so are most messages of the bundled samples (the comparisons above compare two
    different paths)."""
    compiled = _compiled()
    for warm in (False, True):
        if not warm:
            _cold()
        assert assert_same(CLEAN)
        assert compiled.parse_fast(CLEAN) is not None
    chunks = [c for path in CAPTURES if path.startswith("samples/") for c in _chunks(path)]
    answered = sum(compiled.parse_fast(chunk) is not None for chunk in chunks)
    assert answered > 0.8 * len(chunks)


def test_parse_message_uses_the_compiled_path(monkeypatch: pytest.MonkeyPatch) -> None:
    _compiled()
    monkeypatch.setattr(parser, "_parse", lambda data: pytest.fail("the Python parser ran"))
    assert parser.parse_message(CLEAN).call_id == "c1@h"


# One rule broken at a time (or none): each replaces a line of CLEAN, or adds one.
VARIANTS: dict[str, tuple[bytes, bytes]] = {
    "none": (b"", b""),
    "keep-alive-first": (b"INVITE sip:", b"\r\nINVITE sip:"),
    "lf-only-line": (b"CSeq: 1 INVITE\r\n", b"CSeq: 1 INVITE\n"),
    "folded": (b"Call-ID: c1@h\r\n", b"Call-ID:\r\n c1@h\r\n"),
    "method-typo": (b"INVITE sip:b", b"INIVTE sip:b"),
    "no-version": (b" SIP/2.0\r\nVia: SIP/2.0/UDP [", b"\r\nVia: SIP/2.0/UDP ["),
    "via-no-cookie": (b"branch=z9hG4bK-1", b"branch=abc"),
    "via-bare-cookie": (b"branch=z9hG4bK-1", b"branch=z9hG4bK"),
    "via-no-branch": (b";branch=z9hG4bK-1;rport", b";rport"),
    "via-empty-param": (b";rport\r\n", b";rport;\r\n"),
    "via-double-semicolon": (b"-1;rport", b"-1;;rport"),
    "via-second-bad": (b"Via: SIP/2.0/UDP p.example.com", b"Via: nonsense"),
    "via-second-no-cookie": (b"branch=z9hG4bK-0", b"branch=old"),
    "via-list": (b"\r\nVia: SIP/2.0/UDP p.example.com", b", SIP/2.0/UDP p.example.com"),
    "via-quoted": (b";rport\r\n", b';x="a;b"\r\n'),
    "from-quoted": (b"From: Alice <", b'From: "Alice A." <'),
    "from-bad-display": (b"From: Alice <", b"From: Al@ce <"),
    "from-no-brackets": (b"From: Alice <sip:a@example.com>", b"From: sip:a@example.com"),
    "from-non-ascii": (b"From: Alice <", "From: Zoë <".encode()),
    "from-empty-param": (b";tag=1\r\n", b";tag=1;\r\n"),
    "to-bad-uri": (b"To: <sip:b@example.com>", b"To: <sip b>"),
    "call-id-space": (b"Call-ID: c1@h", b"Call-ID: c1 @h"),
    "call-id-empty": (b"Call-ID: c1@h", b"Call-ID:"),
    "call-id-missing": (b"Call-ID: c1@h\r\n", b""),
    "call-id-twice": (b"Call-ID: c1@h\r\n", b"Call-ID: c1@h\r\ni: c2@h\r\n"),
    "cseq-mismatch": (b"CSeq: 1 INVITE", b"CSeq: 1 BYE"),
    "cseq-status": (b"CSeq: 1 INVITE", b"CSeq: 1 183"),
    "cseq-huge": (b"CSeq: 1 INVITE", b"CSeq: 4294967296 INVITE"),
    "max-forwards-missing": (b"Max-Forwards: 70\r\n", b""),
    "max-forwards-256": (b"Max-Forwards: 70", b"Max-Forwards: 256"),
    "max-forwards-255": (b"Max-Forwards: 70", b"Max-Forwards: 255"),
    "max-forwards-word": (b"Max-Forwards: 70", b"Max-Forwards: many"),
    "expires-large": (b"Expires: 120", b"Expires: 4294967296"),
    "expires-big-ok": (b"Expires: 120", b"Expires: 86400"),
    "contact-star": (b"Contact: <sip:a@[2001:db8::2]:5061>;expires=60", b"Contact: *"),
    "contact-two": (b";expires=60\r\n", b";expires=60, <sip:x@h>;expires=x\r\n"),
    "contact-expires-word": (b";expires=60", b";expires=soon"),
    "contact-expires-bare": (b";expires=60", b";expires"),
    "contact-expires-twice": (b";expires=60", b";expires=60;expires=x"),
    "route-bad": (b"Route: <sip:q.example.com;lr>", b"Route: <sip q>"),
    "record-route-list": (b"<sip:p.example.com;lr>", b"<sip:p.example.com;lr>, <sip:r;lr>"),
    "date-not-gmt": (b"23:29:00 GMT", b"23:29:00 UTC"),
    "content-type-multipart": (b"application/sdp", b"multipart/mixed;boundary=x"),
    "content-type-case": (b"application/sdp", b"Application/SDP ; charset=x"),
    "content-length-short": (b"Content-Length: 8", b"Content-Length: 4"),
    "content-length-long": (b"Content-Length: 8", b"Content-Length: 80"),
    "content-length-missing": (b"Content-Length: 8\r\n", b""),
    "content-length-twice": (b"Content-Length: 8\r\n", b"Content-Length: 8\r\nl: 9\r\n"),
    "content-length-word": (b"Content-Length: 8", b"Content-Length: x"),
    "content-length-large": (b"Content-Length: 8", b"Content-Length: 5000"),
    "trailing-blank": (b"s=-\r\n", b"s=-\r\n\r\n \t"),
    "trailing-data": (b"s=-\r\n", b"s=-\r\nxyz"),
    "unknown-header": (b"User-Agent: x", b"X-Custom: y"),
    "misspelled-header": (b"User-Agent: x", b"Usr-Agent: x"),
    "doubled-name": (b"Route: <sip:q", b"Route-Route: <sip:q"),
    "compact-names": (b"Call-ID: c1@h\r\nCSeq", b"i: c1@h\r\nCSeq"),
    "lower-case-name": (b"Call-ID: c1@h", b"call-id: c1@h"),
    "space-before-colon": (b"Call-ID: c1@h", b"Call-ID : c1@h"),
    "no-colon": (b"User-Agent: x", b"User-Agent x"),
    "nul": (b"User-Agent: x", b"User-Agent: x\x00"),
    "not-utf8": (b"User-Agent: x", b"User-Agent: \xff"),
    "utf8": (b"User-Agent: x", "User-Agent: é".encode()),
    "vertical-tab": (b"User-Agent: x", b"User-Agent: x\x0b"),
    "allow-list": (b"User-Agent: x", b"Allow: INVITE, ,ACK"),
    "supported-list": (b"User-Agent: x", b"Supported: 100rel, timer"),
    "response": (b"INVITE sip:b@[2001:db8::1]:5060 SIP/2.0", b"SIP/2.0 200 OK"),
    "response-no-reason": (b"INVITE sip:b@[2001:db8::1]:5060 SIP/2.0", b"SIP/2.0 200"),
    "no-headers-end": (b"\r\n\r\nv=0", b"\r\nv=0"),
}


@pytest.mark.parametrize("cold", [True, False], ids=["cold", "warm"])
@pytest.mark.parametrize("variant", list(VARIANTS), ids=list(VARIANTS))
def test_one_broken_rule_at_a_time(variant: str, cold: bool) -> None:
    old, new = VARIANTS[variant]
    data = CLEAN.replace(old, new, 1) if old else CLEAN
    assert old in CLEAN and (not old or data != CLEAN)
    if cold:
        _cold()
    assert_same(data)
    answered = assert_same(data)  # (now warm in any case)
    clean = variant in ("none", "content-type-case", "expires-big-ok", "max-forwards-255",
                        "compact-names", "lower-case-name", "supported-list", "response",
                        "record-route-list", "contact-expires-bare", "trailing-blank",
                        "unknown-header", "utf8", "vertical-tab")  # fmt: skip
    if clean and variant not in ("expires-big-ok", "utf8"):
        assert answered, "a message that breaks no rule was left to the Python parser"


LINES = st.sampled_from(
    [line for line in CLEAN.split(b"\r\n")[1:] if line]
    + [new for _, new in VARIANTS.values() if new and b"\r\n" not in new.strip(b"\r\n")]
    + [b"v: SIP/2.0/TCP h:5;branch=z9hG4bKx", b"f: <sip:a@h>;tag=2", b"t: b <sip:b@h>",
       b"m: <sip:a@h>", b"l: 0", b"c: application/sdp", b"Via: SIP/2.0/UDP h;branch=z9hG4bKy",
       b"Via:", b"To:", b"From: <>", b"CSeq:", b"Route: <sip:a>;;", b"Contact: <sip:a@h>,",
       b"X: \t", b"Expires: 0", b"Content-Length: 0", b"Content-Length:  3 "]
)  # fmt: skip
START = st.sampled_from(
    [b"INVITE sip:b@h SIP/2.0", b"SIP/2.0 180 Ringing", b"BYE sip:x SIP/2.0",
     b"ACK sip:b@h SIP/2.0", b"REGISTER sip:h SIP/2.0", b"SIP/2.0 200 OK",
     b"INIVTE sip:b@h SIP2.0", b"HELLO", b""]
)  # fmt: skip
BODY = st.sampled_from([b"", b"v=0\r\n", b"abc", b"\r\n", b"v=0\r\n\r\n  "])


@settings(max_examples=1500, deadline=None)
@given(START, st.lists(LINES, max_size=14), BODY, st.booleans())
@example(b"INVITE sip:b@h SIP/2.0", [], b"", True)
def test_generated_messages_parse_the_same(
    start: bytes, lines: list[bytes], body: bytes, cold: bool
) -> None:
    _compiled()
    if cold:
        _cold()
    data = b"\r\n".join([start, *lines]) + b"\r\n\r\n" + body
    assert_same(data)
    assert_same(data)


@contextmanager
def _saved_tables() -> Iterator[None]:
    _cold()
    try:
        yield
    finally:
        _cold()


def _entries(make: Any, key: Any) -> tuple[Any, ...]:
    """What ``make(key)`` returns and leaves in the memo tables, from empty tables."""
    with _saved_tables():
        result = make(key)
        return result, [dict(table) for table in TABLES]


VALUES = st.lists(
    st.sampled_from(
        ["SIP/2.0/UDP h", "SIP/2.0/TCP [2001:db8::1]:5060", " ", "\t", ";", "branch=",
         "z9hG4bK", "x", "=", ";;", "<", ">", "sip:a@h", "Bob ", '"', "é", ",", "rport",
         "tag=1", "\x0b", "\x1c", "expires=5", "Branch"]
    ),
    max_size=12,
).map("".join)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(VALUES)
@example("SIP/2.0/UDP h;branch=z9hG4bK1;;")
@example("SIP/2.0/UDP h;branch=x")
@example("SIP/2.0/UDP h;branch=z9hG4bK")
@example("SIP/2.0/UDP h;Branch=z9hG4bK1;branch=x")
@example("SIP/2.0/UDP h;rport")
@example("SIP/2.0/UDP h")
@example("Al@ce <sip:a@h>;tag=1")
@example("<sip:a b>;tag=1")
@example("Bob <sip:a@h>")
@example("Bob <sip:a@h>;tag=1 ;")
@example(" ;\x1cTag = 1\x1c ;x")
def test_memo_functions_are_the_same(value: str) -> None:
    """The compiled twins of _via, _name_addr and split_params: the same result, the same
    entries in the same tables."""
    compiled = _compiled()
    assert _entries(compiled.via, value) == _entries(parser._via, value)
    assert _entries(compiled.name_addr, value) == _entries(parser._name_addr, value)
    assert _entries(compiled.split_params, value) == _entries(headers.split_params, value)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(LINES, st.tuples(LINES, LINES).map(b"".join), VALUES.map(str.encode)))
@example(b"Call-ID: x\n")
@example(b" Call-ID: x")
@example(b"Allow: a,,b")
def test_header_lines_are_the_same(line: bytes) -> None:
    compiled = _compiled()
    assert _entries(compiled.header_line, line) == _entries(parser._header_line_b, line)


def test_memo_bounds_are_read_at_each_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled stores empty a full table as _remember does, with the limits the
    parser's module holds at the time (tests lower them)."""
    compiled = _compiled()
    monkeypatch.setattr(parser, "_CACHE_LIMIT", 3)
    _cold()
    for n in range(10):
        compiled.via(f"SIP/2.0/UDP h;branch=z9hG4bK{n}")
        assert len(parser._VIA_CACHE) <= 3
    monkeypatch.setattr(parser, "_MEMO_MAX_KEY", 10)
    compiled.via("SIP/2.0/UDP h;branch=z9hG4bKlong")
    assert "SIP/2.0/UDP h;branch=z9hG4bKlong" not in parser._VIA_CACHE


@pytest.mark.parametrize(
    ("table", "key"),
    [
        (parser._LINE_B_CACHE, b"Max-Forwards: 70"),
        (parser._START_B_CACHE, CLEAN.split(b"\r\n")[0]),
        (parser._VIA_CACHE, "SIP/2.0/UDP p.example.com;branch=z9hG4bK-0"),
        (parser._ADDR_CACHE, "<sip:b@example.com>"),
        (parser._CSEQ_CACHE, "1 INVITE"),
    ],
    ids=["line", "start-line", "via", "name-addr", "cseq"],
)
def test_a_memo_entry_of_another_shape_is_an_error_not_a_crash(table: Any, key: Any) -> None:
    """Should the parser's entries change shape without csrc/ following, the compiled
    path raises (parse_message then reports an internal error) rather than read memory
    it does not own."""
    compiled = _compiled()
    _cold()
    try:
        table[key] = ("not", "the", "shape")
        with pytest.raises(SystemError, match="unexpected shape"):
            compiled.parse_fast(CLEAN)
        with pytest.raises(SipParseError, match="internal error"):
            parser.parse_message(CLEAN)
    finally:
        _cold()
