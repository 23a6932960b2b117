"""Shared builders for the transport tests: SIP messages and TCP segments made with scapy."""

from __future__ import annotations

from scapy.layers.inet import TCP
from scapy.packet import Raw

CLIENT = ("10.0.0.1", 5060)
SERVER = ("10.0.0.2", 5060)


def sip_request(call_id: str, cseq: int = 1, method: str = "INVITE", body: bytes = b"") -> bytes:
    head = (
        f"{method} sip:bob@example.com SIP/2.0\r\n"
        f"Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK{call_id}{cseq}\r\n"
        f"From: <sip:alice@example.com>;tag=a{cseq}\r\n"
        f"To: <sip:bob@example.com>\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"Max-Forwards: 70\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def sip_response(call_id: str, cseq: int = 1, status: int = 200, body: bytes = b"") -> bytes:
    head = (
        f"SIP/2.0 {status} OK\r\n"
        f"Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK{call_id}{cseq}\r\n"
        f"From: <sip:alice@example.com>;tag=a{cseq}\r\n"
        f"To: <sip:bob@example.com>;tag=b\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} INVITE\r\n"
        f"l: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


SDP = (
    b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    b"m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


def segment(
    seq: int,
    payload: bytes = b"",
    flags: str = "PA",
    ack: int = 1,
    sport: int = CLIENT[1],
    dport: int = SERVER[1],
) -> bytes:
    """One TCP segment (header and payload) as it sits inside IP, built by scapy."""
    pkt = TCP(sport=sport, dport=dport, seq=seq % 2**32, ack=ack % 2**32, flags=flags)
    if payload:
        pkt = pkt / Raw(payload)
    return bytes(pkt)


def split(data: bytes, sizes: list[int]) -> list[tuple[int, bytes]]:
    """Cut ``data`` into pieces of the given sizes (the last takes the rest): (offset, bytes)."""
    out = []
    pos = 0
    for size in sizes:
        out.append((pos, data[pos : pos + size]))
        pos += size
    if pos < len(data):
        out.append((pos, data[pos:]))
    return out
