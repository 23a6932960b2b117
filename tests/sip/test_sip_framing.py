"""Tests for sipladder.sip.framing: datagrams with several messages, stream framing fed
whole, byte by byte and with trailing data, keep-alives, garbage and gaps."""

from __future__ import annotations

import pytest

from sipladder.sip.framing import StreamFramer, split_datagram
from sipladder.sip.parser import parse_message

BODY = (
    b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
    b"c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
)

INVITE = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1\r\n"
    b"To: <sip:bob@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\n"
    b"Call-ID: 1@x\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: %d\r\n\r\n" % len(BODY)
) + BODY
TRYING = (
    b"SIP/2.0 100 Trying\r\n"
    b"Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1\r\n"
    b"To: <sip:bob@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\n"
    b"Call-ID: 1@x\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n"
)
ACK = INVITE.replace(b"INVITE sip", b"ACK sip").replace(b"1 INVITE", b"1 ACK")


def test_datagram_single_message() -> None:
    assert split_datagram(INVITE) == [INVITE]


def test_datagram_keepalive_only() -> None:
    assert split_datagram(b"\r\n") == []
    assert split_datagram(b"\r\n\r\n") == []


def test_datagram_several_messages_and_keepalives() -> None:
    data = b"\r\n" + INVITE + TRYING + b"\r\n\r\n" + ACK
    assert split_datagram(data) == [INVITE, TRYING, ACK]


def test_datagram_trailing_garbage_stays_with_message() -> None:
    parts = split_datagram(TRYING + b"garbage")
    assert parts == [TRYING + b"garbage"]


def test_datagram_trailing_crlf_not_part_of_the_message() -> None:
    (chunk,) = split_datagram(TRYING + b"\r\n")
    msg = parse_message(chunk)
    assert msg.raw == TRYING
    assert msg.anomalies == ()


def test_datagram_fast_path_keeps_sdp_body_whole() -> None:
    assert split_datagram(INVITE) == [INVITE]
    assert split_datagram(INVITE + b"\r\n" + TRYING) == [INVITE, TRYING]


def test_datagram_without_content_length_keeps_rest() -> None:
    msg = TRYING.replace(b"l: 0\r\n", b"") + b"body"
    assert split_datagram(msg) == [msg]


STREAM = INVITE + b"\r\n\r\n" + TRYING + ACK


def feed_all(framer: StreamFramer, chunks: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(framer.feed(chunk))
    return out


@pytest.mark.parametrize(
    "split",
    [
        lambda data: [data],
        lambda data: [data[i : i + 1] for i in range(len(data))],
        lambda data: [data[i : i + 7] for i in range(0, len(data), 7)],
    ],
    ids=["whole", "byte-by-byte", "chunks-of-7"],
)
def test_stream_framing(split) -> None:  # type: ignore[no-untyped-def]
    framer = StreamFramer()
    assert feed_all(framer, split(STREAM)) == [INVITE, TRYING, ACK]
    assert framer.skipped == 0
    assert framer.pending == 0


def test_stream_trailing_partial_message_waits_and_flushes() -> None:
    framer = StreamFramer()
    out = framer.feed(INVITE + TRYING[:30])
    assert out == [INVITE]
    assert framer.pending == 30
    assert framer.feed(TRYING[30:]) == [TRYING]
    framer.feed(ACK[:-5])
    assert framer.flush() == [ACK[:-5]]


def test_stream_body_waits_for_content_length() -> None:
    framer = StreamFramer()
    assert framer.feed(INVITE[:-1]) == []
    assert framer.feed(INVITE[-1:]) == [INVITE]


def test_stream_garbage_before_message_is_skipped_and_reported() -> None:
    seen: list[tuple[int, str]] = []
    framer = StreamFramer(on_skip=lambda count, reason: seen.append((count, reason)))
    garbage = b"\x16\x03\x01 some binary\r\nnoise\r\n"
    assert framer.feed(garbage + TRYING) == [TRYING]
    assert framer.skipped == len(garbage)
    assert seen == [(len(garbage), "garbage in the stream")]


def test_stream_gap_resyncs_at_next_start_line() -> None:
    framer = StreamFramer()
    assert framer.feed(INVITE[:100]) == []
    framer.gap()
    # the rest of the INVITE arrives after the lost bytes: the framer must not take it
    # for a message, and must find the 100 Trying after it
    out = framer.feed(INVITE[150:] + TRYING)
    assert out == [TRYING]
    assert framer.gaps == 1
    assert framer.skipped == 100 + len(INVITE) - 150


def test_stream_gap_byte_by_byte() -> None:
    framer = StreamFramer()
    framer.feed(INVITE[:100])
    framer.gap()
    data = INVITE[150:] + TRYING + ACK
    assert feed_all(framer, [data[i : i + 1] for i in range(len(data))]) == [TRYING, ACK]


def test_stream_missing_content_length_means_empty_body() -> None:
    msg = TRYING.replace(b"l: 0\r\n", b"")
    framer = StreamFramer()
    assert framer.feed(msg + ACK) == [msg, ACK]
