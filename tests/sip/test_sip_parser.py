"""Tests for sipladder.sip.parser: ordinary messages, leniency, eager fields."""

from __future__ import annotations

import pytest

from sipladder.errors import SipParseError
from sipladder.model import MessageKind
from sipladder.sip.parser import looks_like_sip, parse_message

SDP = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.101\r\n"
    b"t=0 0\r\n"
    b"m=audio 49172 RTP/AVP 0 8 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-16\r\n"
    b"a=sendonly\r\n"
)

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b'From: "Alice A." <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com>;expires=3600\r\n"
    b"Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: %d\r\n"
    b"\r\n" % len(SDP)
) + SDP

OK = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/UDP"
    b" pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;received=192.0.2.101\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def test_invite_fields() -> None:
    msg = parse_message(INVITE)
    assert msg.kind is MessageKind.REQUEST
    assert msg.method == "INVITE"
    assert msg.request_uri == "sip:bob@biloxi.example.com"
    assert msg.version == "SIP/2.0"
    assert msg.status is None and msg.reason is None
    assert msg.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert msg.cseq is not None and (msg.cseq.number, msg.cseq.method) == (314159, "INVITE")
    assert msg.from_ is not None
    assert msg.from_.display_name == "Alice A."
    assert msg.from_.uri == "sip:alice@atlanta.example.com"
    assert msg.from_tag == "1928301774"
    assert msg.to is not None and msg.to.display_name == "Bob" and msg.to_tag is None
    (via,) = msg.vias
    assert (via.protocol, via.transport, via.host, via.port) == (
        "SIP/2.0",
        "UDP",
        "pc33.atlanta.example.com",
        5060,
    )
    assert via.branch == "z9hG4bK776asdhds"
    assert via.params == (("branch", "z9hG4bK776asdhds"), ("rport", None))
    assert msg.contacts[0].param("expires") == "3600"
    assert [r.uri for r in msg.record_routes] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert msg.max_forwards == 70
    assert msg.content_type == "application/sdp"
    assert msg.content_length == len(SDP)
    assert msg.body == SDP
    assert msg.raw == INVITE
    assert msg.anomalies == ()
    assert msg.sdp is not None and msg.sdp.media[0].port == 49172


def test_response_fields() -> None:
    msg = parse_message(OK)
    assert msg.kind is MessageKind.RESPONSE
    assert (msg.status, msg.reason, msg.method, msg.request_uri) == (200, "OK", None, None)
    assert msg.cseq_method == "INVITE"
    assert msg.to_tag == "a6c85cf"
    assert msg.vias[0].received == "192.0.2.101"
    assert msg.body == b""
    assert msg.anomalies == ()


def test_headers_in_order_with_lists_split() -> None:
    msg = parse_message(INVITE)
    names = [name for name, _ in msg.headers]
    assert names == [
        "Via", "Max-Forwards", "To", "From", "Call-ID", "CSeq", "Contact",
        "Record-Route", "Record-Route", "Content-Type", "Content-Length",
    ]  # fmt: skip
    assert msg.header_values("record-route") == [
        "<sip:p1.example.com;lr>",
        "<sip:p2.example.com;lr>",
    ]
    assert msg.header("i") == "a84b4c76e66710@pc33.atlanta.example.com"


COMPACT = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    b"v: SIP/2.0/TCP client.example.com:5060;branch=z9hG4bK74bf9\r\n"
    b"f: <sip:alice@example.com>;tag=9fxced76sl\r\n"
    b"t: <sip:bob@example.com>\r\n"
    b"i: 3848276298220188511@example.com\r\n"
    b"m: <sip:alice@client.example.com;transport=tcp>\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Max-Forwards: 70\r\n"
    b"k: 100rel\r\n"
    b"s: lunch\r\n"
    b"e: gzip\r\n"
    b"o: presence\r\n"
    b"u: dialog\r\n"
    b"r: <sip:carol@example.com>\r\n"
    b"b: <sip:alice@example.com>\r\n"
    b"x: 1800;refresher=uac\r\n"
    b"y: abc\r\n"
    b"a: *;audio\r\n"
    b"j: *;video\r\n"
    b"d: proxy\r\n"
    b"n: <https://example.com/cert>;alg=rsa-sha1\r\n"
    b"c: application/sdp\r\n"
    b"l: 0\r\n"
    b"\r\n"
)


def test_all_compact_forms() -> None:
    msg = parse_message(COMPACT)
    names = [name for name, _ in msg.headers]
    assert names == [
        "Via", "From", "To", "Call-ID", "Contact", "CSeq", "Max-Forwards", "Supported",
        "Subject", "Content-Encoding", "Event", "Allow-Events", "Refer-To", "Referred-By",
        "Session-Expires", "Identity", "Accept-Contact", "Reject-Contact",
        "Request-Disposition", "Identity-Info", "Content-Type", "Content-Length",
    ]  # fmt: skip
    assert msg.call_id == "3848276298220188511@example.com"
    assert msg.vias[0].transport == "TCP"
    assert msg.from_tag == "9fxced76sl"
    assert msg.content_type == "application/sdp" and msg.content_length == 0
    assert msg.anomalies == ()


def test_case_insensitive_names_folding_and_lf_only() -> None:
    data = (
        b"OPTIONS sip:carol@chicago.example.com SIP/2.0\n"
        b"VIA: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877\n"
        b"max-forwards: 70\n"
        b"TO: <sip:carol@chicago.example.com>\n"
        b"from: Alice\n"
        b"  <sip:alice@atlanta.example.com>;tag=1928301774\n"
        b"CALL-ID: a84b4c76e66710\n"
        b"cseq: 63104\n\t OPTIONS\n"
        b"Subject: folded\n   over\n\tthree lines\n"
        b"\n"
    )
    msg = parse_message(data)
    assert msg.from_ is not None and msg.from_.display_name == "Alice"
    assert msg.from_tag == "1928301774"
    assert msg.cseq is not None and msg.cseq.method == "OPTIONS"
    assert msg.header("Subject") == "folded over three lines"
    assert msg.max_forwards == 70
    assert [a.code for a in msg.anomalies] == ["line-ending-lf"]


def test_multi_value_headers_respect_quotes_and_brackets() -> None:
    data = (
        b"SIP/2.0 180 Ringing\r\n"
        b"Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,"
        b" SIP/2.0/TCP [2001:db8::9]:5070;branch=z9hG4bK2\r\n"
        b"Via: SIP/2.0/UDP c.example.com;branch=z9hG4bK3\r\n"
        b'Contact: "Doe, John"'
        b" <sip:john@a.example.com;x=a,b>;q=0.5, <sip:j@b.example.com>;expires=60\r\n"
        b"To: <sip:x@example.com>;tag=1\r\n"
        b"From: <sip:y@example.com>;tag=2\r\n"
        b"Call-ID: c1\r\n"
        b"CSeq: 1 INVITE\r\n"
        b'WWW-Authenticate: Digest realm="atlanta.example.com",'
        b' nonce="ea9c8e88df84f1cec4341ae6cbe5a359", qop="auth"\r\n'
        b"Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    msg = parse_message(data)
    assert [(v.transport, v.host, v.port, v.branch) for v in msg.vias] == [
        ("UDP", "a.example.com", None, "z9hG4bK1"),
        ("TCP", "2001:db8::9", 5070, "z9hG4bK2"),
        ("UDP", "c.example.com", None, "z9hG4bK3"),
    ]
    assert msg.vias[1].sent_by == "[2001:db8::9]:5070"
    assert [(c.display_name, c.uri, c.params) for c in msg.contacts] == [
        ("Doe, John", "sip:john@a.example.com;x=a,b", (("q", "0.5"),)),
        (None, "sip:j@b.example.com", (("expires", "60"),)),
    ]
    assert len(msg.header_values("WWW-Authenticate")) == 1
    assert msg.header("Date") == "Sat, 13 Nov 2010 23:29:00 GMT"
    assert msg.anomalies == ()


def test_addr_spec_params_belong_to_header() -> None:
    data = OK.replace(
        b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf",
        b"To: sip:bob@biloxi.example.com;tag=a6c85cf",
    )
    msg = parse_message(data)
    assert msg.to is not None
    assert (msg.to.display_name, msg.to.uri, msg.to.tag) == (
        None,
        "sip:bob@biloxi.example.com",
        "a6c85cf",
    )


def test_contact_star_and_expires() -> None:
    data = (
        b"REGISTER sip:registrar.example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds7\r\n"
        b"Max-Forwards: 70\r\n"
        b"To: <sip:bob@example.com>\r\nFrom: <sip:bob@example.com>;tag=456248\r\n"
        b"Call-ID: 843817637684230@998sdasdh09\r\nCSeq: 1826 REGISTER\r\n"
        b"Contact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n"
    )
    msg = parse_message(data)
    assert [c.uri for c in msg.contacts] == ["*"]
    assert msg.expires == 0
    assert msg.anomalies == ()


def test_keepalives_before_message_and_missing_content_length() -> None:
    data = b"\r\n\r\n" + OK.replace(b"Content-Length: 0\r\n", b"") + b"hello"
    msg = parse_message(data)
    assert msg.status == 200
    assert msg.raw.startswith(b"SIP/2.0 200 OK")
    assert msg.body == b"hello"
    assert msg.content_length is None
    assert [a.code for a in msg.anomalies] == ["content-length-missing"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\n",
        b"\r\n",
        b"hello world",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x00\x01\x02",
    ],
    ids=["empty", "crlfcrlf", "crlf", "text", "http", "binary"],
)
def test_not_sip_raises_sip_parse_error(data: bytes) -> None:
    with pytest.raises(SipParseError):
        parse_message(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (INVITE, True),
        (OK, True),
        (b"\r\n\r\n" + OK, True),
        (b"INIVTE sip:jerry@example.com SIP/2.0\r\n", True),
        (b"REGISTER sip: telcomx.tel.com SIP2.0\r\n", True),
        (b"INIVTE sip:jerry@example.com\r\n", True),
        (b"SIP/2.0 183 Session in Progress\r\n", True),
        (b"GET / HTTP/1.1\r\n", False),
        (b"HTTP/1.1 200 OK\r\n", False),
        (b"\r\n\r\n", False),
        (b"", False),
        (b"\x80\x00\x12\x34binary RTP", False),
        (b"hello", False),
    ],
    ids=[
        "invite", "200", "keepalive-then-200", "inivte", "sip2.0", "no-version", "183",
        "http-request", "http-response", "keepalive", "empty", "rtp", "hello",
    ],
)  # fmt: skip
def test_looks_like_sip(data: bytes, expected: bool) -> None:
    assert looks_like_sip(data) is expected


def test_repeated_single_header_found_among_split_lists() -> None:
    data = OK.replace(
        b"Content-Length: 0\r\n",
        b"Record-Route: <sip:a>, <sip:b>\r\nAllow: INVITE, BYE\r\nCall-ID: other\r\n"
        b"Content-Length: 0\r\n",
    )
    msg = parse_message(data)
    assert [a.code for a in msg.anomalies] == ["header-repeated"]
    assert "Call-ID appears 2 times" in msg.anomalies[0].message
    assert msg.call_id == "a84b4c76e66710@pc33.atlanta.example.com"


def test_records_equal_their_dataclass_construction() -> None:
    # the parser builds Via, NameAddr, CSeq and SipMessage through their slot descriptors
    from sipladder.model import CSeq, NameAddr, Via

    msg = parse_message(INVITE)
    assert msg.from_ == NameAddr(
        "Alice A.", "sip:alice@atlanta.example.com", (("tag", "1928301774"),)
    )
    assert hash(msg.from_) == hash(
        NameAddr("Alice A.", "sip:alice@atlanta.example.com", (("tag", "1928301774"),))
    )
    assert msg.vias[0] == Via(
        "SIP/2.0",
        "UDP",
        "pc33.atlanta.example.com",
        5060,
        (("branch", "z9hG4bK776asdhds"), ("rport", None)),
    )
    assert msg.cseq == CSeq(314159, "INVITE")
    assert type(msg.cseq) is CSeq and type(msg.vias[0]) is Via


def test_memo_tables_keep_no_long_texts() -> None:
    from sipladder.sip import parser

    long_via = "SIP/2.0/UDP " + "h" * 5000 + ";branch=z9hG4bK1"
    old_via = OK.split(b"\r\n")[1]
    data = OK.replace(old_via, b"Via: " + long_via.encode())
    msg = parse_message(data)
    assert msg.vias[0].host == "h" * 5000
    assert long_via not in parser._VIA_CACHE
    assert not any(len(line) > 1024 for line in parser._LINE_CACHE)
    assert not any(len(line) > 1024 for line in parser._LINE_B_CACHE)
