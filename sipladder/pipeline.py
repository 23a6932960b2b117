"""Runs the stages in order: frames -> payloads -> SIP messages.

The one place that knows the order of the stages. Streams: nothing is kept but
the :class:`~sipladder.model.Message` records it yields. Problems are reported
through ``report`` and never stop the run.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sipladder.accel import accel
from sipladder.errors import SipParseError
from sipladder.model import Diagnostic, Frame, Message, Payload, Severity, fast_constructor
from sipladder.net.decoder import PacketDecoder
from sipladder.progress import Progress
from sipladder.readers import Own, Passed, PcapFrames
from sipladder.sip.framing import split_datagram
from sipladder.sip.parser import looks_like_sip, parse_message
from sipladder.sip.skim import call_id_hint, shard_of_bytes

Report = Callable[[Diagnostic], None]
# what a reader gives: frames, and for a worker reading a plain pcap file, counts of frames
# passed over and the worker's own plain SIP datagrams (readers.PcapFrames.passing_over)
_Read = Frame | Passed | Own
# a Message per SIP message: built positionally, 7x cheaper than Message(...)
_new_message = fast_constructor(Message)

#: In a shard's payload stream, in place of a payload: a datagram holding one SIP message
#: of another part, passed over undecoded (see messages_from_frames). A run of such
#: datagrams the reader passed over is one :data:`~sipladder.readers.Passed` tuple
#: ``(frames, bytes)``; this is the tuple for one.
_ANOTHER_PART: Passed = (1, 0)


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Run a bulk stage (reading, correlating) with the cyclic garbage collector paused.

    The stages build millions of records that live until the end and form no reference
    cycles; CPython's collector nevertheless walks all of them again and again as they
    accumulate (each full collection is proportional to everything alive), which cost
    10 % of the CPU on 24,000 messages and more on larger captures. Reference counting
    still frees everything as usual; the collector's previous state is restored after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class Shard:
    """Worker ``number`` of ``count``: the SIP messages whose Call-ID falls in its part.

    Set on :func:`messages_from_payloads`, it skips (before parsing) the messages whose
    :func:`~sipladder.sip.skim.call_id_hint` names another part; messages without a
    certain hint are parsed by every worker, and the caller keeps them only if their
    parsed Call-ID is its own (:func:`~sipladder.sip.skim.shard_of`). Message indices
    are then positions among all SIP-looking messages of the capture (the same in every
    worker), not among the parsed ones. Per-payload problems are reported by worker 0
    only, unparsable messages by the worker that owns them (worker 0 when unknown).
    """

    number: int
    count: int
    #: positions of the messages this worker could not parse (those it reported)
    unparsable: list[int] = field(default_factory=list, compare=False)


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
    payloads: Iterable[Payload | Passed | tuple[Payload]],
    report: Report,
    counters: Counters,
    start_index: int = 0,
    shard: Shard | None = None,
) -> Iterator[Message]:
    index = start_index
    position = -1  # among every SIP-looking message, parsed or not (for shards)
    lead = shard is None or shard.number == 0
    payload: Payload
    for item in payloads:
        own = False
        if item.__class__ is tuple:
            if len(item) == 2:  # passed over: what the loop below would do with it
                passed: int = item[0]  # type: ignore[assignment]
                counters.payloads += passed
                position += passed
                continue
            # (payload,): one SIP message of this shard, as the loop below would find it
            payload = item[0]  # type: ignore[assignment]
            counters.payloads += 1
            own = True
            chunks: list[bytes] | tuple[bytes] = (payload.data,)
        else:
            payload = item  # type: ignore[assignment]
            counters.payloads += 1
            if not looks_like_sip(payload.data):
                counters.non_sip_payloads += 1
                continue
            if payload.truncated and lead:
                report(
                    Diagnostic(
                        payload.file,
                        payload.frame,
                        "sip-truncated",
                        f"SIP message from {payload.src} lost its tail (cut by the snap length"
                        " or a size limit, or a fragment or segment is missing): read as far as"
                        " it goes",
                        Severity.WARNING,
                    )
                )
            chunks = split_datagram(payload.data)
        for chunk in chunks:
            owner: int | None = None
            if shard is not None:
                position += 1
                index = position
                if own:
                    owner = shard.number
                else:
                    hint = call_id_hint(chunk)
                    if hint is not None:
                        owner = shard_of_bytes(hint, shard.count)
                        if owner != shard.number:
                            continue
            try:
                sip = parse_message(chunk)
            except SipParseError as exc:
                if shard is not None:
                    if owner is None and not lead:
                        continue
                    shard.unparsable.append(position)
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
            yield _new_message(  # Message(...), every field in order
                index,
                payload.file,
                payload.frame,
                payload.ts_ns,
                payload.src,
                payload.dst,
                payload.transport,
                sip,
                payload.truncated,
            )
            index += 1


def messages_from_frames(
    frames: Iterable[Frame],
    report: Report,
    counters: Counters,
    shard: Shard | None = None,
    track: Callable[[Iterable[_Read]], Iterable[_Read]] | None = None,
) -> Iterator[Message]:
    """Decode every frame and parse every SIP message in it (of ``shard``), in capture
    order. Frame-level problems are reported by worker 0 of a shard only. ``track``, if
    given, wraps the frames as they are read (the progress line)."""
    frame_report = report if shard is None or shard.number == 0 else _ignore
    decoder = PacketDecoder(frame_report)
    decoder.ignored = counters.ignored  # shared: the counts are the summary's
    counters.unreadable = decoder.state.setdefault("unreadable", [])  # shared too

    # A worker reads every frame but parses only its part's messages. The compiled
    # accelerator recognises, without decoding it, a frame that is a plain UDP datagram
    # holding one SIP message whose Call-ID hint names another part: all the stages
    # below would do with it is count it (one payload, one position), so it is passed
    # over (half the frames with two workers). A plain pcap file's compiled reader
    # passes over such frames itself (no Frame made, nothing done per frame in Python)
    # and gives their count in their place; other files' frames are tested here.
    other_part = None if shard is None or accel is None else accel.other_shard
    parts, part = (1, 0) if shard is None else (shard.count, shard.number)
    udp_ports = decoder.udp_ports
    stream: Iterable[_Read] = frames
    if (
        other_part is not None
        and isinstance(frames, PcapFrames)
        and decoder.compiled_udp(frames.linktype)
    ):
        # (the decoder's UDP ports are all registered when it is made)
        stream = frames.passing_over(parts, part, tuple(udp_ports))
        other_part = None
    if track is not None:
        stream = track(stream)

    def payloads() -> Iterator[Payload | Passed | tuple[Payload]]:
        frame: Frame
        for item in stream:
            if item.__class__ is tuple:
                if len(item) == 2:  # frames the reader passed over
                    passed: int = item[0]  # type: ignore[assignment]
                    counters.frames += passed
                    yield item  # type: ignore[misc]
                    continue
                # (frame,): a plain UDP datagram of one SIP message of this shard: the
                # decoder's compiled path makes it one payload, given on as (payload,)
                frame = item[0]  # type: ignore[assignment]
                counters.frames += 1
                found = decoder.feed(frame)
                if len(found) == 1:
                    yield (found[0],)
                else:  # (never: the same tests made the reader say so)
                    yield from found
                continue
            frame = item  # type: ignore[assignment]
            counters.frames += 1
            if not frame.data:
                frame_report(
                    Diagnostic(
                        frame.file,
                        frame.number,
                        "frame-empty",
                        f"empty frame (0 of {frame.orig_len} bytes captured); skipped",
                        Severity.WARNING,
                    )
                )
                continue
            if other_part is not None and decoder.compiled_udp(frame.linktype):
                ports = other_part(frame.linktype, frame.data, parts, part)
                if ports is not None and (
                    not udp_ports or (ports[0] not in udp_ports and ports[1] not in udp_ports)
                ):
                    yield _ANOTHER_PART
                    continue
            yield from decoder.feed(frame)
        yield from decoder.finish()

    yield from messages_from_payloads(payloads(), report, counters, shard=shard)


def _ignore(diagnostic: Diagnostic) -> None:
    """Another worker reports these."""


def tracked_messages(
    frames: Iterable[Frame],
    report: Report,
    counters: Counters,
    progress: Progress | None,
    shard: Shard | None = None,
) -> Iterator[Message]:
    """:func:`messages_from_frames`, drawing ``progress`` (when enabled) as it goes:
    packets as they are read, and SIP messages and calls (Call-IDs with an INVITE) so
    far, except for a ``shard`` (a worker's counts are those of its part: not shown)."""
    if progress is None or not progress.enabled:
        yield from messages_from_frames(frames, report, counters, shard)
        return
    invites: set[str | None] = set()
    if shard is None:
        progress.messages = lambda: counters.sip_messages
        progress.calls = invites.__len__

    def track(stream: Iterable[_Read]) -> Iterable[_Read]:
        return progress.track(stream, _frame_bytes, _frame_count)

    for message in messages_from_frames(frames, report, counters, shard, track):
        if message.sip.method == "INVITE":
            invites.add(message.sip.call_id)
        yield message
    progress.close()


def _frame_bytes(item: _Read) -> int:
    """A frame's bytes for the progress line (with its record header), or those of the
    frames the reader passed over."""
    if item.__class__ is tuple:
        if len(item) == 2:
            return item[1]  # type: ignore[return-value]
        item = item[0]  # type: ignore[assignment]
    return len(item.data) + 16  # type: ignore[union-attr]


def _frame_count(item: _Read) -> int:
    return item[0] if item.__class__ is tuple and len(item) == 2 else 1  # type: ignore[arg-type,return-value]
