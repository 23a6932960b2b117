"""Tests for sipladder.sip.sdp: SDP fields, directions at both levels, multipart bodies."""

from __future__ import annotations

import pytest

from sipladder.sip.parser import parse_message
from sipladder.sip.sdp import content_type_param, media_type, multipart_parts, parse_sdp

OFFER = (
    b"v=0\r\n"
    b"o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
    b"s=SDP Seminar\r\n"
    b"c=IN IP4 224.2.17.12/127\r\n"
    b"t=2873397496 2873404696\r\n"
    b"a=recvonly\r\n"
    b"m=audio 49170 RTP/AVP 0 97\r\n"
    b"a=rtpmap:97 iLBC/8000\r\n"
    b"a=fmtp:97 mode=30\r\n"
    b"m=video 51372/2 RTP/AVP 99\r\n"
    b"c=IN IP6 2001:db8::2\r\n"
    b"a=rtpmap:99 h263-1998/90000\r\n"
    b"a=sendonly\r\n"
    b"m=image 0 udptl t38\r\n"
)


def test_session_fields() -> None:
    sdp = parse_sdp(OFFER)
    assert sdp is not None
    assert sdp.origin == "jdoe 2890844526 2890842807 IN IP4 10.47.16.5"
    assert sdp.session_name == "SDP Seminar"
    assert sdp.connection == "224.2.17.12"  # the /ttl is not part of the address
    assert sdp.direction == "recvonly"


def test_media_lines() -> None:
    sdp = parse_sdp(OFFER)
    assert sdp is not None
    audio, video, image = sdp.media
    assert (audio.media, audio.port, audio.protocol, audio.formats) == (
        "audio",
        49170,
        "RTP/AVP",
        ("0", "97"),
    )
    assert audio.rtpmap == (("97", "iLBC/8000"),) and audio.fmtp == (("97", "mode=30"),)
    assert audio.codecs == ("0", "iLBC/8000")
    assert audio.connection is None
    assert audio.direction == "recvonly"  # inherited from the session level
    assert (video.port, video.connection, video.direction) == (51372, "2001:db8::2", "sendonly")
    assert (image.media, image.port, image.protocol, image.formats) == (
        "image",
        0,
        "udptl",
        ("t38",),
    )


@pytest.mark.parametrize("direction", ["sendrecv", "sendonly", "recvonly", "inactive"])
def test_media_direction(direction: str) -> None:
    body = b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\na=%s\r\n" % direction.encode()
    sdp = parse_sdp(body)
    assert sdp is not None
    assert sdp.direction == "sendrecv" and sdp.media[0].direction == direction


def test_lf_only_and_garbage_lines() -> None:
    sdp = parse_sdp(b"v=0\no=- 1 1 IN IP4 h\nnonsense\nm=audio notaport RTP/AVP\n")
    assert sdp is not None
    assert sdp.media[0].port == 0 and sdp.media[0].formats == ()


def test_not_sdp() -> None:
    assert parse_sdp(b"hello world") is None
    assert parse_sdp(b"") is None


def test_content_type_helpers() -> None:
    assert media_type("Application/SDP ; charset=utf-8") == "application/sdp"
    assert media_type(None) == ""
    assert content_type_param('multipart/mixed; boundary="a b"', "boundary") == "a b"
    assert content_type_param("multipart/mixed", "boundary") is None


MULTIPART = (
    b"--boundary1\r\n"
    b"Content-Type: application/sdp\r\n"
    b"\r\n" + OFFER + b"\r\n"
    b"--boundary1\r\n"
    b"Content-Type: application/isup;version=itu-t92+\r\n"
    b"Content-Disposition: signal;handling=optional\r\n"
    b"\r\n"
    b"\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03\x06\r\n"
    b"--boundary1--\r\n"
)


def test_multipart_parts() -> None:
    parts = multipart_parts(MULTIPART, "boundary1")
    assert [h["content-type"] for h, _ in parts] == [
        "application/sdp",
        "application/isup;version=itu-t92+",
    ]
    assert parts[0][1] == OFFER
    assert parts[1][1].startswith(b"\x01\x00\x49") and parts[1][1].endswith(b"\x03\x06")


def test_multipart_without_boundary_raises_value_error() -> None:
    with pytest.raises(ValueError):
        multipart_parts(b"no delimiters here", "xyz")


def _invite(content_type: bytes, body: bytes) -> bytes:
    return (
        b"INVITE sip:b@example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n"
        b"To: <sip:b@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\n"
        b"Call-ID: c\r\nCSeq: 1 INVITE\r\n"
        b"Content-Type: " + content_type + b"\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body


def test_sdp_of_a_message() -> None:
    msg = parse_message(_invite(b"application/sdp", OFFER))
    assert msg.sdp is not None and msg.sdp.media[0].port == 49170


def test_sdp_inside_multipart_mixed() -> None:
    msg = parse_message(_invite(b"multipart/mixed;boundary=boundary1", MULTIPART))
    assert msg.sdp is not None
    assert [m.media for m in msg.sdp.media] == ["audio", "video", "image"]
    assert msg.anomalies == ()


def test_multipart_with_bad_boundary_is_an_anomaly() -> None:
    msg = parse_message(_invite(b"multipart/mixed;boundary=nope", MULTIPART))
    assert msg.sdp is None
    assert [a.code for a in msg.anomalies] == ["multipart-invalid"]


def test_non_sdp_body_has_no_sdp() -> None:
    msg = parse_message(_invite(b"application/pidf+xml", b"<presence/>"))
    assert msg.sdp is None and msg.body == b"<presence/>"
