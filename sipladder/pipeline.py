"""Runs the stages in order: frames -> payloads -> SIP messages.

The one place that knows the order of the stages. Streams: nothing is kept but
the :class:`~sipladder.model.Message` records it yields. Problems are reported
through ``report`` and never stop the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sipladder.errors import SipParseError
from sipladder.model import Diagnostic, Frame, Message, Payload, Severity
from sipladder.net.decoder import PacketDecoder
from sipladder.sip.framing import split_datagram
from sipladder.sip.parser import looks_like_sip, parse_message

Report = Callable[[Diagnostic], None]


@dataclass
class Counters:
    """What the pipeline saw, for the summary: nothing is dropped without being counted."""

    frames: int = 0
    payloads: int = 0
    sip_messages: int = 0
    non_sip_payloads: int = 0
    unparsable: int = 0
    diagnostics: dict[str, int] = field(default_factory=dict)
    #: frames and packets passed over because nothing in them carries SIP (ARP, ICMP,
    #: unknown ethertypes, ...), by reason (the decoder's ``ignored``)
    ignored: dict[str, int] = field(default_factory=dict)
    #: connections whose content cannot be read (TLS without keys), "tls a -> b" each,
    #: in order of appearance (the TCP reassembler's list, see sipladder.net.tcp)
    unreadable: list[str] = field(default_factory=list)


def messages_from_payloads(
    payloads: Iterable[Payload], report: Report, counters: Counters, start_index: int = 0
) -> Iterator[Message]:
    index = start_index
    for payload in payloads:
        counters.payloads += 1
        if not looks_like_sip(payload.data):
            counters.non_sip_payloads += 1
            continue
        if payload.truncated:
            report(
                Diagnostic(
                    payload.file,
                    payload.frame,
                    "sip-truncated",
                    f"SIP message from {payload.src} lost its tail (cut by the snap length or"
                    " a size limit, or a fragment or segment is missing): read as far as it goes",
                    Severity.WARNING,
                )
            )
        for chunk in split_datagram(payload.data):
            try:
                sip = parse_message(chunk)
            except SipParseError as exc:
                counters.unparsable += 1
                report(
                    Diagnostic(
                        payload.file,
                        payload.frame,
                        "sip-unparsable",
                        f"SIP-looking payload from {payload.src} could not be parsed: {exc}",
                        Severity.WARNING,
                    )
                )
                continue
            counters.sip_messages += 1
            yield Message(
                index=index,
                file=payload.file,
                frame=payload.frame,
                ts_ns=payload.ts_ns,
                src=payload.src,
                dst=payload.dst,
                transport=payload.transport,
                sip=sip,
                truncated=payload.truncated,
            )
            index += 1


def messages_from_frames(
    frames: Iterable[Frame], report: Report, counters: Counters
) -> Iterator[Message]:
    """Decode every frame and parse every SIP message in it, in capture order."""
    decoder = PacketDecoder(report)
    decoder.ignored = counters.ignored  # shared: the counts are the summary's
    counters.unreadable = decoder.state.setdefault("unreadable", [])  # shared too

    def payloads() -> Iterator[Payload]:
        for frame in frames:
            counters.frames += 1
            if not frame.data:
                report(
                    Diagnostic(
                        frame.file,
                        frame.number,
                        "frame-empty",
                        f"empty frame (0 of {frame.orig_len} bytes captured); skipped",
                        Severity.WARNING,
                    )
                )
                continue
            yield from decoder.feed(frame)
        yield from decoder.finish()

    yield from messages_from_payloads(payloads(), report, counters)
