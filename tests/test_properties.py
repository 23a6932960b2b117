"""Property tests (hypothesis) that fill the gaps left by tests/sip/test_sip_properties.py
(parser on arbitrary bytes) and tests/net/test_decoder.py (decoder on arbitrary link
bytes):

* every layer handler reached through a real header (UDP to a tunnel or HEP port, IP
  protocols TCP, SCTP, GRE, IP-in-IP) on arbitrary payload bytes: payloads or
  diagnostics, never an exception; and the whole pipeline on such frames;
* round trip: the text the project shows for a message (the ladder's message panel and
  tooltip, :func:`sipladder.layout.message_text`) parses back to the same message.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from sipladder.layout import message_text
from sipladder.model import Endpoint, Frame, Message, Payload, Transport
from sipladder.net.decoder import PacketDecoder
from sipladder.pipeline import Counters, messages_from_frames
from sipladder.sip.parser import parse_message

MAC = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}

#: UDP ports with a handler of their own (HEP, VXLAN, VXLAN-GPE, GTP-U) and SIP's.
UDP_PORTS = [5060, 9060, 9061, 9063, 9064, 4789, 8472, 4790, 2152]
#: IP protocols with a handler (IP-in-IP, TCP, UDP, IPv6-in-IPv4, GRE, SCTP) and one without.
IP_PROTOCOLS = [4, 6, 17, 41, 47, 132, 99]


def _heads() -> list[bytes]:
    v4 = {"src": "10.0.0.1", "dst": "10.0.0.2"}
    heads = [bytes(Ether(**MAC) / IP(**v4, proto=p)) for p in IP_PROTOCOLS]
    heads += [
        bytes(Ether(**MAC) / IPv6(src="::1", dst="::2", nh=p)) for p in (6, 17, 47, 132)
    ]
    for port in UDP_PORTS:
        heads.append(bytes(Ether(**MAC) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(dport=port)))
    return heads


HEADS = _heads()


def _fix_lengths(head: bytes, tail: bytes) -> bytes:
    """Make the IPv4/IPv6/UDP length fields cover the tail, so it reaches the handler."""
    data = bytearray(head + tail)
    if data[12:14] == b"\x08\x00":
        total = len(data) - 14
        data[16:18] = total.to_bytes(2, "big")
        ihl = (data[14] & 0x0F) * 4
        if data[23] == 17 and len(head) >= 14 + ihl + 8:
            data[14 + ihl + 4 : 14 + ihl + 6] = (total - ihl).to_bytes(2, "big")
    elif data[12:14] == b"\x86\xdd":
        data[18:20] = (len(data) - 54).to_bytes(2, "big")
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    head=st.sampled_from(HEADS),
    tail=st.binary(max_size=200),
    repeat=st.integers(1, 3),
    cut=st.integers(0, 20),
)
def test_every_handler_on_arbitrary_payloads(
    head: bytes, tail: bytes, repeat: int, cut: int
) -> None:
    data = _fix_lengths(head, tail)
    data = data[: len(data) - cut] if cut < len(data) - len(head) else data
    reports: list[Any] = []
    decoder = PacketDecoder(reports.append)
    for number in range(1, repeat + 1):  # again: TCP and SCTP state, fragments, HEP streams
        out = decoder.feed(Frame("f", number, number * 1000, 1, data, len(data) + cut))
        assert all(isinstance(p, Payload) for p in out)
    assert all(isinstance(p, Payload) for p in decoder.finish())
    for report in reports:
        assert report.code and report.message and report.frame is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frames=st.lists(
        st.tuples(st.sampled_from(HEADS), st.binary(max_size=120)), min_size=1, max_size=6
    )
)
def test_whole_pipeline_on_arbitrary_payloads(frames: list[tuple[bytes, bytes]]) -> None:
    counters = Counters()
    reports: list[Any] = []
    records = [
        Frame("f", n, n, 1, _fix_lengths(head, tail), len(head) + len(tail))
        for n, (head, tail) in enumerate(frames, 1)
    ]
    messages = list(messages_from_frames(records, reports.append, counters))
    assert counters.frames == len(frames)
    assert counters.sip_messages == len(messages)


# --------------------------------------------------------------------------- round trip

TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`'~", min_size=1,
                max_size=10)  # fmt: skip
VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF, blacklist_characters=","),
    min_size=1, max_size=30,
).map(str.strip).filter(bool)  # fmt: skip
HEADER_NAMES = st.sampled_from(
    ["Subject", "User-Agent", "X-Custom", "Allow", "Supported", "P-Asserted-Identity", "s", "k"]
)


@st.composite
def sip_texts(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        method = draw(st.sampled_from(["INVITE", "OPTIONS", "REGISTER", "MESSAGE", "FOO"]))
        start = f"{method} sip:{draw(TOKEN)}@{draw(TOKEN)} SIP/2.0"
    else:
        method = draw(st.sampled_from(["INVITE", "BYE"]))
        start = f"SIP/2.0 {draw(st.integers(100, 699))} {draw(VALUE)}"
    lines = [
        start,
        f"Via: SIP/2.0/UDP {draw(TOKEN)}:5060;branch=z9hG4bK{draw(TOKEN)}",
        f"From: \"{draw(VALUE).replace(chr(34), '')}\" <sip:{draw(TOKEN)}@x>;tag={draw(TOKEN)}",
        f"To: <sip:{draw(TOKEN)}@x>",
        f"Call-ID: {draw(TOKEN)}@{draw(TOKEN)}",
        f"CSeq: {draw(st.integers(0, 2**31 - 1))} {method}",
        "Max-Forwards: 70",
    ]
    for name in draw(st.lists(HEADER_NAMES, max_size=4)):
        lines.append(f"{name}: {draw(VALUE)}")
    body = draw(
        st.sampled_from(["", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n"
                         "t=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000", "hello"])
    )  # fmt: skip
    if body.startswith("v="):
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def _as_message(raw: bytes) -> Message:
    ep = Endpoint("10.0.0.1", 5060)
    return Message(0, "f", 1, 0, ep, ep, Transport.UDP, parse_message(raw))


@settings(max_examples=150, deadline=None)
@given(raw=sip_texts())
def test_shown_text_parses_back_to_the_same_message(raw: bytes) -> None:
    first = _as_message(raw)
    shown = message_text(first)
    # the shown text has LF line ends and no trailing empty line: put the wire form back
    again = shown.replace("\n", "\r\n").encode()
    if not first.sip.body:
        again += b"\r\n\r\n"
    second = parse_message(again)
    one = first.sip
    assert second.start_line == one.start_line
    assert (second.method, second.request_uri, second.status, second.reason) == (
        one.method, one.request_uri, one.status, one.reason
    )  # fmt: skip
    assert second.headers == one.headers
    assert (second.call_id, second.cseq, second.vias, second.from_, second.to) == (
        one.call_id, one.cseq, one.vias, one.from_, one.to
    )  # fmt: skip
    assert second.body == one.body and second.sdp == one.sdp
    assert second.anomalies == one.anomalies
