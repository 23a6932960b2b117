"""The Call-ID hint (sipladder.sip.skim): certain or None, and when certain, the parser's
Call-ID; and the part a Call-ID falls in is the same from bytes and from text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipladder.errors import SipParseError
from sipladder.sip.parser import parse_message
from sipladder.sip.skim import call_id_hint, shard_of, shard_of_bytes

DATA = Path(__file__).parent.parent / "data"
START = b"INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a.example;branch=z9hG4bK1\r\n"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (b"Call-ID: abc@host\r\n", b"abc@host"),
        (b"call-id :\tabc@host  \r\n", b"abc@host"),  # any case, whitespace around the colon
        (b"CALL-ID:abc\r\nInfo: x\r\n", b"abc"),  # another header starting with i
        (b"i: abc\r\n", b"abc"),  # the compact form (RFC 3261 7.3.3)
        (b"Call-ID: abc\r\ni: def\r\n", None),
        (b"Call-ID: a\r\ncall-id: b\r\n", None),  # twice
        (b"Call-ID: abc\r\n def\r\n", None),  # folded
        (b"Call-ID-Extra: abc\r\n", None),  # another header's name
        (b"Call-ID: \r\n", None),  # empty
        (b"Call-ID: a b\r\n", None),  # not one word
        (b"Call-ID: caf\xc3\xa9\r\n", None),  # not ASCII
        (b"From: <sip:a@a.example>\r\n", None),  # none at all
    ],
    ids=[
        "plain", "case-and-spaces", "info-header", "compact", "long-and-compact", "twice",
        "folded", "longer-name", "empty", "space-inside", "non-ascii", "missing",
    ],
)
def test_hint(headers: bytes, expected: bytes | None) -> None:
    message = START + headers + b"Content-Length: 0\r\n\r\n"
    assert call_id_hint(message) == expected
    if expected is not None:
        assert parse_message(message).call_id == expected.decode()


def test_body_is_not_searched() -> None:
    # a message/sipfrag body (RFC 3420) holds a Call-ID of its own
    message = START + b"Call-ID: outer\r\nContent-Length: 20\r\n\r\nCall-ID: inner\r\n\r\n"
    assert call_id_hint(message) == b"outer"
    headerless = START + b"Content-Length: 20\r\n\r\nCall-ID: inner\r\n\r\n"
    assert call_id_hint(headerless) is None


def test_no_end_of_headers() -> None:
    assert call_id_hint(START + b"Call-ID: abc\r\n") is None


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "rfc4475").glob("*.dat")))
def test_rfc4475_hint_is_none_or_the_parsers(name: str) -> None:
    data = (DATA / "rfc4475" / name).read_bytes()
    hint = call_id_hint(data)
    call_id = parse_message(data).call_id
    assert hint is None or hint.decode() == call_id


LINES = st.sampled_from(
    [
        b"Call-ID: a1@x\r\n", b"call-id:b2\r\n", b"CALL-ID :\tc3 \r\n", b"i: d4\r\n",
        b"Call-Id: e5\n", b"Call-ID: f 6\r\n", b" folded\r\n", b"\tmore\r\n",
        b"From: <sip:a@b>;tag=1\r\n", b"Info: x\r\n", b"Call-ID-X: g7\r\n", b"\r\n", b"\n",
        b"Content-Length: 0\r\n", b"Call-ID:\r\n", b"i:h8\n",
    ]
)  # fmt: skip


@given(st.lists(LINES, max_size=12).map(b"".join))
def test_generated_hint_is_none_or_the_parsers(headers: bytes) -> None:
    data = START + headers + b"\r\n"
    hint = call_id_hint(data)
    try:
        call_id = parse_message(data).call_id
    except SipParseError:
        return
    assert hint is None or hint.decode() == call_id


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1))
def test_shard_of_bytes_and_text_agree(call_id: str) -> None:
    for shards in (1, 2, 3, 8):
        part = shard_of(call_id, shards)
        assert 0 <= part < shards
        assert shard_of_bytes(call_id.encode(), shards) == part


def test_no_call_id_is_part_zero() -> None:
    assert shard_of(None, 4) == 0
