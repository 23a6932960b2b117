"""The parser's byte fast path and its text path read every message the same way.

parse_message splits the header section of a CRLF message in bytes and looks each line
up in a memo keyed by its bytes; a line with a bare LF, a fold, a NUL byte or bytes that
are not UTF-8 sends the message down the text path (decode, unfold, split), which is the
only path for such messages. These tests parse each input twice, once as usual and once
with the fast path switched off, and compare the whole messages (anomalies included).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipladder.errors import SipParseError
from sipladder.sip import parser
from sipladder.sip.parser import parse_message

ROOT = Path(__file__).resolve().parents[2]
TORTURE = sorted((ROOT / "tests" / "data" / "rfc4475").glob("*.dat"))
SEEDS = sorted((ROOT / "samples" / "seed").glob("*.sip"))


@pytest.fixture(autouse=True, scope="module")
def python_parser_only() -> Iterator[None]:
    """These tests compare the Python parser's two paths: its compiled fast path stays
    out of the way (tests/sip/test_sip_compiled.py compares that one with them)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parser, "_parse_fast", None)
        yield


@contextlib.contextmanager
def text_path_only() -> Iterator[None]:
    """Every line refused by the fast path (and its memo tables empty)."""
    saved = parser._header_line_b, parser._start_line_b
    parser._LINE_B_CACHE.clear()
    parser._START_B_CACHE.clear()
    parser._header_line_b = lambda line: None  # type: ignore[assignment]
    parser._start_line_b = lambda line: None  # type: ignore[assignment]
    try:
        yield
    finally:
        parser._header_line_b, parser._start_line_b = saved
        parser._LINE_B_CACHE.clear()
        parser._START_B_CACHE.clear()


def outcome(data: bytes) -> str:
    try:
        msg = parse_message(data)
    except SipParseError as exc:
        return f"SipParseError({exc})"
    return repr(msg)  # every field, the lazy ones included


def assert_same_both_ways(data: bytes) -> None:
    fast_cold = outcome(data)
    fast_warm = outcome(data)  # now from the memo tables
    with text_path_only():
        text = outcome(data)
    assert fast_cold == text
    assert fast_warm == text


CRLF_MESSAGE = (
    b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
    b"To: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
    b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)
CASES = {
    "plain": CRLF_MESSAGE,
    "lf-only": CRLF_MESSAGE.replace(b"\r\n", b"\n"),
    "one-lf-line": CRLF_MESSAGE.replace(b"1 INVITE\r\n", b"1 INVITE\n"),
    "lf-start-line": CRLF_MESSAGE.replace(b"SIP/2.0\r\n", b"SIP/2.0\n", 1),
    "lf-empty-line-first": CRLF_MESSAGE.replace(b"tag=1\r\n", b"tag=1\n\nx\r\n\r\n"),
    "lf-before-crlf-empty-line": CRLF_MESSAGE.replace(b"0\r\n\r\n", b"0\n\r\n"),
    "folded": CRLF_MESSAGE.replace(b"Call-ID: c\r\n", b"Call-ID:\r\n c\r\n"),
    "folded-tab": CRLF_MESSAGE.replace(b"Call-ID: c\r\n", b"Call-ID: c\r\n\tc\r\n"),
    "nul": CRLF_MESSAGE.replace(b"Call-ID: c", b"Call-ID: c\x00"),
    "not-utf8": CRLF_MESSAGE.replace(b"Call-ID: c", b"Call-ID: c\xff"),
    "utf8": CRLF_MESSAGE.replace(b"To: <", "To: Zoë <".encode()),
    "not-utf8-start-line": CRLF_MESSAGE.replace(b"sip:b@h", b"sip:b\xff@h", 1),
    "lone-cr": CRLF_MESSAGE.replace(b"Call-ID: c", b"Call-ID: c\rd"),
    "cr-cr-lf": CRLF_MESSAGE.replace(b"Call-ID: c\r\n", b"Call-ID: c\r\r\n"),
    "start-line-leading-space": b" " + CRLF_MESSAGE,
    "unterminated": CRLF_MESSAGE[:-2],
    "start-line-only": b"OPTIONS sip:b@h SIP/2.0\r\n\r\n",
    "not-sip": b"HELLO\r\nVia: x\r\n\r\n",
}


@pytest.mark.parametrize("data", list(CASES.values()), ids=list(CASES))
def test_fast_and_text_path_agree(data: bytes) -> None:
    assert_same_both_ways(data)


def test_cases_do_take_the_text_path() -> None:
    """(So that the test above compares two different paths.)"""
    taken = []
    real = parser._scan

    def spy(lines, get_line, miss, anomalies):  # type: ignore[no-untyped-def]
        taken.append(miss is parser._header_line)
        return real(lines, get_line, miss, anomalies)

    parser._scan = spy  # type: ignore[assignment]
    try:
        parse_message(CASES["plain"])
        parse_message(CASES["folded"])
    finally:
        parser._scan = real
    assert taken == [False, False, True]  # plain: fast; folded: fast, then text


@pytest.mark.parametrize("path", TORTURE + SEEDS, ids=lambda p: p.name)
def test_torture_and_seed_messages_agree(path: Path) -> None:
    assert_same_both_ways(path.read_bytes())


PIECES = st.lists(
    st.sampled_from(
        [
            b"INVITE sip:a@b SIP/2.0", b"SIP/2.0 200 OK", b"Via: SIP/2.0/UDP h;branch=z9hG4bK1",
            b"To: <sip:b@h>", b"From: x <sip:a@h>;tag=1", b"Call-ID: c", b"CSeq: 1 INVITE",
            b"l: 3", b"Route-Route: <sip:x>", b"v: SIP/2.0/UDP [::1]:5060", b"\r\n", b"\n",
            b"\r", b" ", b"\t", b"\x00", b"\xc3\xa9", b"\xff", b":", b",", b"", b"abc",
        ]
    ),
    max_size=30,
).map(b"".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(PIECES)
def test_generated_inputs_agree(data: bytes) -> None:
    assert_same_both_ways(data)


def test_top_branch_is_the_first_readable_via() -> None:
    """An unreadable first Via: the branch check applies to the next Via that can be read
    (a mutated real message showed a shortcut for the usual single Via getting this wrong)."""
    data = CRLF_MESSAGE.replace(
        b"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n",
        b"Via: 192.0.2.1:5060\r\nVia: SIP/2.0/UDP g;branch=abc\r\n",
    )
    codes = [a.code for a in parse_message(data).anomalies]
    assert codes == ["via-invalid", "via-branch-no-cookie"]
    assert_same_both_ways(data)


# ---- the memoised heads of Via and name-addr values read them as the grammar does

VIA_TEXT = st.lists(
    st.sampled_from(
        ["SIP", "/", "2.0", "UDP", " ", "\t", "h", "[", "]", "::1", ":", "5060", ";",
         "branch=z9hG4bK1", "=", "x", '"', "\r", "sip;", "/;"]
    ),
    max_size=14,
).map("".join)  # fmt: skip


VIA_PARTS = st.tuples(
    st.sampled_from(["SIP", "SIP;x", " SIP", "S;"]),
    st.sampled_from(["/", " / ", "/;"]),
    st.sampled_from(["2.0", "2;0"]),
    st.sampled_from(["/", "/ "]),
    st.sampled_from(["UDP", "tcp", "UDP;"]),
    st.sampled_from([" ", "", "\t"]),
    st.sampled_from(["h", "[::1]", "[::1;x]", "[::1", "h;x", "h x"]),
    st.sampled_from(["", ":5060", " : 5060", ":", ":;"]),
    st.sampled_from(["", " ", " x", " x y", "\r"]),
    st.sampled_from(["", ";branch=z9hG4bK1", ";;", ";rport", "; Branch = z9hG4bKa ;x", ";"]),
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(VIA_PARTS, VIA_TEXT))
def test_via_head_memo_reads_like_the_whole_value(value: str) -> None:
    parser._VIA_CACHE.clear()
    parser._VIA_HEAD_CACHE.clear()
    with_head = parser._via(value)
    saved = parser._via_head
    parser._via_head = lambda prefix: ()  # type: ignore[assignment] # always VIA_PARM on all
    try:
        parser._VIA_CACHE.clear()
        parser._VIA_HEAD_CACHE.clear()
        whole = parser._via(value)
    finally:
        parser._via_head = saved
        parser._VIA_CACHE.clear()
    assert with_head == whole


ADDR_TEXT = st.lists(
    st.sampled_from(
        ["a", "b c", " ", "\t", "<", ">", "sip:x@h", ";", "tag=1", "=", ";;", "é", "@",
         "\r", "x y", ",", "?"]
    ),
    max_size=12,
).map("".join)  # fmt: skip


def name_addr_by_the_grammar(value: str) -> tuple[object, ...] | None:
    """NAME_ADDR applied to the whole value, as RFC 3261 20.10 reads it (no quotes)."""
    m = parser.g.NAME_ADDR.match(value)
    if m is None:
        return None
    display = m["plain"].strip() or None
    raw_uri, params = m["uri"], m["params"]
    uri = raw_uri.strip()
    code = None
    if display is not None and not parser.g.DISPLAY_TOKENS.match(display):
        code = "display-name-invalid"
    elif uri != raw_uri or not parser.g.URI.match(uri):
        code = "uri-invalid"
    elif ";;" in params or params.rstrip().endswith(";"):
        code = "param-empty"
    return (display, uri, parser.split_params(params), code)


@settings(max_examples=400, deadline=None)
@given(ADDR_TEXT)
def test_name_addr_head_memo_reads_like_the_grammar(value: str) -> None:
    parser._ADDR_CACHE.clear()
    parser._ADDR_HEAD_CACHE.clear()
    addr, code, _, _ = parser._name_addr(value)
    expected = name_addr_by_the_grammar(value) if "<" in value else None
    if expected is None:
        assert "<" not in value or addr is None
    else:
        assert addr is not None
        assert (addr.display_name, addr.uri, addr.params, code) == expected


# ---- looks_like_sip: the same answers as the plain reading of its rule

LAZY_REQUEST = re.compile(
    rb"[-.!%*_+`'~0-9A-Za-z]{2,64}[ \t]+[^\r\n]*?[ \t][Ss][Ii][Pp]/?[0-9]"
    rb"|[A-Za-z]{2,64}[ \t]+(?:[Ss][Ii][Pp][Ss]?|[Tt][Ee][Ll]):"
)


def looks_like_sip_reference(data: bytes) -> bool:
    data = data.lstrip(b"\r\n") if data[:1] in (b"\r", b"\n") else data
    head = data[:512]
    if head[:3].upper() == b"SIP":
        return parser.g.LOOKS_STATUS_B.match(head) is not None
    return bool(head) and LAZY_REQUEST.match(head) is not None


START = st.lists(
    st.sampled_from(
        [b"INVITE", b"SIP", b"sIp", b"/2.0", b"2.0", b" ", b"\t", b"sip:a@b", b"tel:1",
         b"\r\n", b"\n", b"\r", b"200", b"OK", b"x", b"\x80", b"SIP/2.0"]
    ),
    max_size=12,
).map(b"".join)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.one_of(START, st.binary(max_size=40)))
def test_looks_like_sip_reads_as_its_rule(data: bytes) -> None:
    if len(data.lstrip(b"\r\n")) == len(data) or len(data) < 600:
        assert parser.looks_like_sip(data) == looks_like_sip_reference(data)


def test_looks_like_sip_reads_only_the_first_512_bytes() -> None:
    line = b"INVITE urn:" + b"a" * 600 + b" SIP/2.0\r\n"
    assert not parser.looks_like_sip(line)
    assert parser.looks_like_sip(b"INVITE urn:" + b"a" * 400 + b" SIP/2.0\r\n")
