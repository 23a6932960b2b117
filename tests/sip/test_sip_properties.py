"""Property tests (hypothesis) for the SIP parser and framing: arbitrary bytes never raise
anything but SipParseError, and generated valid messages round-trip their fields."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sipladder.errors import SipParseError
from sipladder.sip.framing import StreamFramer, split_datagram
from sipladder.sip.parser import looks_like_sip, parse_message

SIPISH = st.sampled_from(
    [
        b"INVITE sip:a@b SIP/2.0\r\n", b"SIP/2.0 200 OK\r\n", b"Via: SIP/2.0/UDP h;branch=x\r\n",
        b"Via: SIP/2.0/UDP [::1]:5060\r\n", b"From:"
        b" \"a\\\"b\" <sip:x>;tag=1\r\n", b"To: <sip:y\r\n",
        b"CSeq: 1 INVITE\r\n", b"CSeq: 99999999999999999999999 X\r\n", b"l: 12\r\n", b"l: -1\r\n",
        b"Content-Type: multipart/mixed;boundary=zz\r\n", b"c: application/sdp\r\n", b"--zz\r\n",
        b"m: *\r\n", b"\r\n", b"\n", b" folded\r\n", b":\r\n", b"v=0\r\nm=audio x\r\n",
        b"Content-Length: 5\r\n\r\n", b"\x00", b"\xff\xfe", b",", b";", b"<", b">", b'"',
    ]
)  # fmt: skip
PIECES = st.lists(st.one_of(SIPISH, st.binary(max_size=20)), max_size=25).map(b"".join)


def _check(data: bytes) -> None:
    looks_like_sip(data)
    try:
        msg = parse_message(data)
    except SipParseError as exc:
        assert not exc.reason.startswith("internal error"), exc.reason
        return
    assert msg.raw and msg.raw in data


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_sip_parse_error(data: bytes) -> None:
    _check(data)


@settings(max_examples=500, deadline=None)
@given(PIECES)
def test_sip_like_bytes_only_sip_parse_error(data: bytes) -> None:
    _check(data)
    for chunk in split_datagram(data):
        _check(chunk)


@settings(max_examples=200, deadline=None)
@given(PIECES, st.integers(min_value=1, max_value=50))
def test_stream_framer_never_crashes_and_loses_nothing_silently(data: bytes, step: int) -> None:
    framer = StreamFramer()
    out: list[bytes] = []
    for i in range(0, len(data), step):
        out.extend(framer.feed(data[i : i + step]))
    out.extend(framer.flush())
    # every byte is either in a message, skipped (and counted), or a keep-alive line break
    assert sum(map(len, out)) + framer.skipped <= len(data)


TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=12).filter(
    lambda s: s[0].isalnum()
)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["INVITE", "REGISTER", "BYE", "OPTIONS", "MESSAGE", "PRACK"]),
    user=TOKEN,
    host=TOKEN,
    port=st.integers(min_value=1, max_value=65535),
    branch=TOKEN,
    tag=TOKEN,
    call_id=TOKEN,
    cseq=st.integers(min_value=0, max_value=2**31 - 1),
    display=st.one_of(st.none(), st.text(alphabet="abc XYZ,;:", min_size=1, max_size=10)),
    body=st.binary(max_size=40),
    compact=st.booleans(),
)
def test_generated_messages_round_trip(  # type: ignore[no-untyped-def]
    method, user, host, port, branch, tag, call_id, cseq, display, body, compact
) -> None:
    def name(full: str, short: str) -> str:
        return short if compact else full

    dn = "" if display is None else '"' + display + '" '
    text = (
        f"{method} sip:{user}@{host} SIP/2.0\r\n"
        f"{name('Via', 'v')}: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{branch}\r\n"
        f"{name('From', 'f')}: {dn}<sip:{user}@{host}>;tag={tag}\r\n"
        f"{name('To', 't')}: <sip:{user}@{host}>\r\n"
        f"{name('Call-ID', 'i')}: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"Max-Forwards: 70\r\n"
        f"{name('Content-Length', 'l')}: {len(body)}\r\n\r\n"
    ).encode()
    msg = parse_message(text + body)
    assert msg.method == method
    assert msg.request_uri == f"sip:{user}@{host}"
    assert msg.vias[0].host == host and msg.vias[0].port == port
    assert msg.branch == f"z9hG4bK{branch}"
    assert msg.from_ is not None and msg.from_.display_name == display
    assert msg.from_tag == tag and msg.to_tag is None
    assert msg.call_id == call_id
    assert msg.cseq is not None and (msg.cseq.number, msg.cseq.method) == (cseq, method)
    assert msg.body == body
    assert msg.anomalies == ()
