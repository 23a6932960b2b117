"""Hand-built messages and correlation results for the ladder tests.

A call through one proxy, written out by hand so the expected ladder can be checked
by reading (no parser or correlator involved):

    idx  ms     hop        message
     0      0   A -> P     INVITE (SDP)           branch a1
     1     10   P -> A     100 Trying
     2     12   P -> B     INVITE (SDP)           branch p1, Record-Route proxy.example.com
     3     30   B -> P     180 Ringing
     4     33   P -> A     180 Ringing
     5    530   B -> P     180 Ringing            retransmission of 3
     6   2000   B -> P     200 OK (SDP)
     7   2004   P -> A     200 OK (SDP)
     8   2010   A -> P     ACK
     9   2013   P -> B     ACK
    10   5000   A -> P     BYE
    11   5003   P -> B     BYE
    12   5020   B -> P     200 OK (BYE)
    13   5022   P -> A     200 OK (BYE)

PDD 33 ms (0 -> 4), answer 2004 ms (0 -> 7), release 22 ms (10 -> 13); the proxy
adds 12 ms to the INVITE (0 -> 2) and 3 ms to the BYE (10 -> 11).
"""

from __future__ import annotations

from sipladder.correlate import Correlation, MessageLinks
from sipladder.model import (
    Anomaly,
    Call,
    CallState,
    CSeq,
    Dialog,
    DialogState,
    Endpoint,
    Message,
    MessageKind,
    NameAddr,
    SdpMedia,
    SdpSession,
    SipMessage,
    Transaction,
    TransactionState,
    Transport,
    Via,
)

T0 = 1_700_000_000_000_000_000  # 2023-11-14 22:13:20 UTC
MS = 1_000_000
A = Endpoint("2001:db8::a", 5060)
P = Endpoint("192.0.2.10", 5060)
B = Endpoint("192.0.2.20", 5062)
CALL_ID = "call-1@example.com"

SDP_A = SdpSession(
    origin="alice 1 1 IN IP6 2001:db8::a",
    session_name="-",
    connection="2001:db8::a",
    media=(
        SdpMedia(
            "audio",
            49170,
            "RTP/AVP",
            ("0", "8", "101"),
            rtpmap=(("0", "PCMU/8000"), ("8", "PCMA/8000"), ("101", "telephone-event/8000")),
        ),
    ),
)
SDP_B = SdpSession(
    origin="bob 2 2 IN IP4 192.0.2.20",
    session_name="-",
    connection="192.0.2.20",
    media=(SdpMedia("audio", 3456, "RTP/AVP", ("0",), rtpmap=(("0", "PCMU/8000"),)),),
)


def sip(
    start: str,
    *,
    cseq: tuple[int, str],
    vias: tuple[Via, ...],
    to_tag: str | None = None,
    record_routes: tuple[str, ...] = (),
    sdp: SdpSession | None = None,
    extra: tuple[tuple[str, str], ...] = (),
    call_id: str = CALL_ID,
    anomalies: tuple[Anomaly, ...] = (),
) -> SipMessage:
    """A SipMessage with its raw text written from the same fields."""
    first = start.split(" ", 2)
    is_request = not start.startswith("SIP/")
    from_ = NameAddr("Alice", "sip:alice@example.com", (("tag", "fa1"),))
    to = NameAddr(None, "sip:bob@example.com", (("tag", to_tag),) if to_tag else ())
    headers: list[tuple[str, str]] = []
    for via in vias:
        params = "".join(f";{k}={v}" for k, v in via.params)
        headers.append(("Via", f"SIP/2.0/UDP {via.sent_by}{params}"))
    headers += [("Record-Route", f"<{uri}>") for uri in record_routes]
    headers += [
        ("From", "Alice <sip:alice@example.com>;tag=fa1"),
        ("To", "<sip:bob@example.com>" + (f";tag={to_tag}" if to_tag else "")),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq[0]} {cseq[1]}"),
    ]
    headers += list(extra)
    body = b""
    if sdp is not None:
        body = b"v=0\r\no=" + (sdp.origin or "").encode() + b"\r\ns=-\r\nm=audio\r\n"
        headers.append(("Content-Type", "application/sdp"))
    headers.append(("Content-Length", str(len(body))))
    raw = (start + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode() + body
    return SipMessage(
        kind=MessageKind.REQUEST if is_request else MessageKind.RESPONSE,
        method=first[0] if is_request else None,
        request_uri=first[1] if is_request else None,
        status=None if is_request else int(first[1]),
        reason=None if is_request else first[2],
        version="SIP/2.0",
        headers=tuple(headers),
        body=body,
        raw=raw,
        call_id=call_id,
        cseq=CSeq(*cseq),
        from_=from_,
        to=to,
        vias=vias,
        record_routes=tuple(NameAddr(None, uri) for uri in record_routes),
        content_type="application/sdp" if sdp else None,
        content_length=len(body),
        sdp=sdp,
        anomalies=anomalies,
    )


def message(index: int, ms: float, src: Endpoint, dst: Endpoint, body: SipMessage) -> Message:
    return Message(index, "test.pcap", index + 1, T0 + int(ms * MS), src, dst, Transport.UDP, body)


VIA_A = Via("SIP/2.0", "UDP", "2001:db8::a", 5060, (("branch", "z9hG4bKa1"),))
VIA_P = Via("SIP/2.0", "UDP", "proxy.example.com", 5060, (("branch", "z9hG4bKp1"),))
VIA_A_ACK = Via("SIP/2.0", "UDP", "2001:db8::a", 5060, (("branch", "z9hG4bKa2"),))
VIA_P_ACK = Via("SIP/2.0", "UDP", "proxy.example.com", 5060, (("branch", "z9hG4bKp2"),))
VIA_A_BYE = Via("SIP/2.0", "UDP", "2001:db8::a", 5060, (("branch", "z9hG4bKa3"),))
VIA_P_BYE = Via("SIP/2.0", "UDP", "proxy.example.com", 5060, (("branch", "z9hG4bKp3"),))
RR = ("sip:proxy.example.com;lr",)


def call_messages(extra: tuple[tuple[str, str], ...] = ()) -> list[Message]:
    """The 14 messages of the table above; ``extra`` headers go into the first INVITE."""
    inv, bye = (1, "INVITE"), (2, "BYE")
    uri = "INVITE sip:bob@example.com SIP/2.0"
    two = (VIA_P, VIA_A)
    return [
        message(0, 0, A, P, sip(uri, cseq=inv, vias=(VIA_A,), sdp=SDP_A, extra=extra)),
        message(1, 10, P, A, sip("SIP/2.0 100 Trying", cseq=inv, vias=(VIA_A,))),
        message(2, 12, P, B, sip(uri, cseq=inv, vias=two, record_routes=RR, sdp=SDP_A)),
        message(
            3,
            30,
            B,
            P,
            sip("SIP/2.0 180 Ringing", cseq=inv, vias=two, to_tag="tb", record_routes=RR),
        ),
        message(
            4,
            33,
            P,
            A,
            sip("SIP/2.0 180 Ringing", cseq=inv, vias=(VIA_A,), to_tag="tb", record_routes=RR),
        ),
        message(
            5,
            530,
            B,
            P,
            sip("SIP/2.0 180 Ringing", cseq=inv, vias=two, to_tag="tb", record_routes=RR),
        ),
        message(
            6,
            2000,
            B,
            P,
            sip("SIP/2.0 200 OK", cseq=inv, vias=two, to_tag="tb", record_routes=RR, sdp=SDP_B),
        ),
        message(
            7,
            2004,
            P,
            A,
            sip(
                "SIP/2.0 200 OK", cseq=inv, vias=(VIA_A,), to_tag="tb", record_routes=RR, sdp=SDP_B
            ),
        ),
        message(
            8,
            2010,
            A,
            P,
            sip(
                "ACK sip:bob@192.0.2.20:5062 SIP/2.0",
                cseq=(1, "ACK"),
                vias=(VIA_A_ACK,),
                to_tag="tb",
            ),
        ),
        message(
            9,
            2013,
            P,
            B,
            sip(
                "ACK sip:bob@192.0.2.20:5062 SIP/2.0",
                cseq=(1, "ACK"),
                vias=(VIA_P_ACK, VIA_A_ACK),
                to_tag="tb",
            ),
        ),
        message(
            10,
            5000,
            A,
            P,
            sip("BYE sip:bob@192.0.2.20:5062 SIP/2.0", cseq=bye, vias=(VIA_A_BYE,), to_tag="tb"),
        ),
        message(
            11,
            5003,
            P,
            B,
            sip(
                "BYE sip:bob@192.0.2.20:5062 SIP/2.0",
                cseq=bye,
                vias=(VIA_P_BYE, VIA_A_BYE),
                to_tag="tb",
            ),
        ),
        message(
            12,
            5020,
            B,
            P,
            sip("SIP/2.0 200 OK", cseq=bye, vias=(VIA_P_BYE, VIA_A_BYE), to_tag="tb"),
        ),
        message(13, 5022, P, A, sip("SIP/2.0 200 OK", cseq=bye, vias=(VIA_A_BYE,), to_tag="tb")),
    ]


def _tx(
    id: int,
    method: str,
    hop: int,
    group: int,
    client: Endpoint,
    server: Endpoint,
    messages: tuple[int, ...],
    start_ms: float,
    final_ms: float | None,
    status: int | None,
) -> Transaction:
    return Transaction(
        id=id,
        key=f"k{id}",
        method=method,
        call_id=CALL_ID,
        cseq=1 if method != "BYE" else 2,
        branch=None,
        client=client,
        server=server,
        messages=messages,
        request=messages[0],
        start_ns=T0 + int(start_ms * MS),
        first_provisional_ns=None,
        final_ns=None if final_ms is None else T0 + int(final_ms * MS),
        final_status=status,
        state=TransactionState.COMPLETED,
        retransmissions=0,
        hop=hop,
        request_group=group,
        dialog=0,
    )


def call_correlation() -> Correlation:
    """What a correct correlator says about :func:`call_messages` (worked out by hand)."""
    transactions = (
        _tx(0, "INVITE", 0, 0, A, P, (0, 1, 4, 7), 0, 2004, 200),
        _tx(1, "INVITE", 1, 0, P, B, (2, 3, 5, 6), 12, 2000, 200),
        _tx(2, "ACK", 0, 1, A, P, (8,), 2010, None, None),
        _tx(3, "ACK", 1, 1, P, B, (9,), 2013, None, None),
        _tx(4, "BYE", 0, 2, A, P, (10, 13), 5000, 5022, 200),
        _tx(5, "BYE", 1, 2, P, B, (11, 12), 5003, 5020, 200),
    )
    tx_of = {i: t.id for t in transactions for i in t.messages}
    links = tuple(MessageLinks(tx_of[i], 0, i == 5) for i in range(14))
    dialog = Dialog(
        id=0,
        call_id=CALL_ID,
        from_tag="fa1",
        to_tag="tb",
        state=DialogState.TERMINATED,
        history=(),
        transactions=tuple(range(6)),
        messages=tuple(range(14)),
        start_ns=T0 + 30 * MS,
        end_ns=T0 + 5022 * MS,
    )
    call = Call(
        call_id=CALL_ID,
        caller="sip:alice@example.com",
        callee="sip:bob@example.com",
        state=CallState.COMPLETED,
        final_status=200,
        start_ns=T0,
        end_ns=T0 + 5022 * MS,
        messages=tuple(range(14)),
        retransmissions=1,
        pdd_ns=33 * MS,
        answer_ns=2004 * MS,
        release_ns=22 * MS,
        duration_ns=(5000 - 2004) * MS,
        dialogs=(0,),
        transactions=tuple(range(6)),
    )
    return Correlation(transactions, (dialog,), (call,), (), links)
