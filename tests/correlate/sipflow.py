"""A small builder of SIP message flows for correlation tests, without bytes or parser.

Messages are :class:`~sipladder.model.Message` records made directly, so the
correlator is tested on its own. Times are given in milliseconds from an epoch
origin; responses copy the Via stack, Call-ID, CSeq, From and To of the request
on the same hop, as RFC 3261 section 8.2.6.2 says a UAS does.
"""

from __future__ import annotations

from dataclasses import replace

from sipladder.correlate import Correlation, correlate
from sipladder.model import (
    CSeq,
    Endpoint,
    Message,
    MessageKind,
    NameAddr,
    SipMessage,
    Transport,
    Via,
)

T0 = 1_700_000_000_000_000_000  #: the origin of every flow, ns since the epoch
MS = 1_000_000

REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 183: "Session Progress",
    200: "OK", 202: "Accepted", 302: "Moved Temporarily", 401: "Unauthorized",
    407: "Proxy Authentication Required", 408: "Request Timeout", 481: "Call Does Not Exist",
    486: "Busy Here", 487: "Request Terminated", 503: "Service Unavailable", 603: "Decline",
}


def ep(name: str) -> Endpoint:
    """``"10.0.0.1"`` or ``"10.0.0.1:5070"`` to an Endpoint (port 5060 by default)."""
    host, _, port = name.partition(":")
    return Endpoint.of(host, int(port or 5060))


def via(sent_by: str, branch: str | None) -> Via:
    host, _, port = sent_by.partition(":")
    params: tuple[tuple[str, str | None], ...] = (("branch", branch),) if branch else ()
    return Via("SIP/2.0", "UDP", host, int(port) if port else None, params)


def name_addr(uri: str, tag: str | None = None, **params: str) -> NameAddr:
    items: list[tuple[str, str | None]] = [(k, v) for k, v in params.items()]
    if tag is not None:
        items.append(("tag", tag))
    return NameAddr(None, uri, tuple(items))


class Flow:
    """Collects messages in order; ``flow.correlation`` runs the correlator over them."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def _add(self, at_ms: float, src: str, dst: str, sip: SipMessage) -> Message:
        message = Message(
            index=len(self.messages),
            file="test.pcap",
            frame=len(self.messages) + 1,
            ts_ns=T0 + round(at_ms * MS),
            src=ep(src),
            dst=ep(dst),
            transport=Transport.UDP,
            sip=sip,
        )
        self.messages.append(message)
        return message

    def request(
        self,
        method: str,
        at_ms: float,
        src: str,
        dst: str,
        *,
        branch: str | None,
        call_id: str = "call-1",
        cseq: int = 1,
        cseq_method: str | None = None,
        from_tag: str | None = "ftag",
        to_tag: str | None = None,
        uri: str = "sip:bob@b.example",
        from_uri: str = "sip:alice@a.example",
        to_uri: str = "sip:bob@b.example",
        sent_by: str | None = None,
        vias: tuple[Via, ...] = (),
        contacts: tuple[NameAddr, ...] = (),
        expires: int | None = None,
        authorization: str | None = None,
    ) -> Message:
        """A request sent by ``src``; its top Via is ``sent_by`` (default: ``src``) and
        ``branch``, above ``vias`` (the Vias of earlier hops)."""
        top = via(sent_by or src, branch)
        sip = SipMessage(
            kind=MessageKind.REQUEST,
            method=method,
            request_uri=uri,
            status=None,
            reason=None,
            version="SIP/2.0",
            headers=(("Authorization", authorization),) if authorization else (),
            body=b"",
            raw=f"{method} {uri} SIP/2.0\r\n\r\n".encode(),
            call_id=call_id,
            cseq=CSeq(cseq, cseq_method or method),
            from_=name_addr(from_uri, from_tag),
            to=name_addr(to_uri, to_tag),
            vias=(top, *vias),
            contacts=contacts,
            expires=expires,
        )
        return self._add(at_ms, src, dst, sip)

    def forward(self, request: Message, at_ms: float, src: str, dst: str, *, branch: str,
                uri: str | None = None) -> Message:
        """What a proxy at ``src`` sends on: the same request with its own Via on top."""
        old = request.sip
        sip = replace(
            old,
            vias=(via(src, branch), *old.vias),
            request_uri=uri or old.request_uri,
            raw=f"{old.method} {uri or old.request_uri} SIP/2.0\r\n\r\n".encode(),
        )
        return self._add(at_ms, src, dst, sip)

    def response(
        self,
        status: int,
        at_ms: float,
        request: Message,
        *,
        to_tag: str | None = None,
        src: str | None = None,
        dst: str | None = None,
        contacts: tuple[NameAddr, ...] = (),
        expires: int | None = None,
    ) -> Message:
        """The response to ``request`` on its hop, sent back from its receiver to its sender."""
        old = request.sip
        assert old.to is not None and old.cseq is not None
        reason = REASONS.get(status, "Whatever")
        tag = to_tag if to_tag is not None else old.to_tag
        sip = SipMessage(
            kind=MessageKind.RESPONSE,
            method=None,
            request_uri=None,
            status=status,
            reason=reason,
            version="SIP/2.0",
            headers=(),
            body=b"",
            raw=f"SIP/2.0 {status} {reason}\r\n\r\n".encode(),
            call_id=old.call_id,
            cseq=old.cseq,
            from_=old.from_,
            to=name_addr(old.to.uri, tag),
            vias=old.vias,
            contacts=contacts,
            expires=expires,
        )
        return self._add(
            at_ms, src or str(request.dst), dst or str(request.src), sip
        )

    def again(self, message: Message, at_ms: float) -> Message:
        """The same message sent again (a retransmission)."""
        return self._add(at_ms, str(message.src), str(message.dst), message.sip)

    @property
    def correlation(self) -> Correlation:
        return correlate(self.messages)


def ms(ns: int | None) -> float | None:
    """Nanoseconds to milliseconds for assertions (None stays None)."""
    return None if ns is None else ns / MS
