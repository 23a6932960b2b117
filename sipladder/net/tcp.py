"""TCP stream reassembly: segments in, one :class:`~sipladder.model.Payload` per SIP message out.

Each direction of a connection is its own byte stream (RFC 9293 section 3.4: sequence
numbers count bytes, modulo 2**32). Segments are put in order whatever order the
capture shows them in; a byte seen twice (retransmission, overlap) is used once, the
first copy wins, as in Wireshark. The ordered bytes go to a per-direction consumer
chosen by the first bytes of the stream:

* SIP (the usual case): messages are cut by Content-Length (RFC 3261 section 18.3),
  several per segment or one across many; CRLF keep-alives (RFC 5626 section 3.5.1)
  are dropped.
* WebSocket (RFC 7118): an HTTP upgrade, then frames; see :mod:`sipladder.net.websocket`.
* TLS: cannot be read without keys; reported once per connection with its endpoints
  (those on port 443, most likely HTTPS, together in one line) and listed in
  :attr:`TcpReassembler.unreadable` for the summary. ``--engine tshark --tls-keylog``
  decrypts SIP over TLS.
* HEP3 (a capture agent's stream to its collector): packets by their length; see
  :mod:`sipladder.net.hep`.

Bytes the capture never saw (a *gap*) are reported as a ``tcp-gap`` diagnostic and the
SIP consumer resynchronises at the next SIP start line. A hole is declared lost when the
other side acknowledges past it (so the receiver had the bytes: the capture missed
them), when too much data waits behind it, or at the end of the capture. A connection
whose start is not in the capture is read from its first SIP start line.

Documented limits (bounded memory whatever the capture):

* :data:`MAX_STREAMS` directions are tracked at once; the least recently used is
  dropped past that (reported once, counted).
* :data:`MAX_BUFFERED` bytes are held in all streams together (waiting behind holes
  or in messages not complete yet); past that, the least recently used streams are
  dropped until a quarter of it is free (reported once, counted).
* :data:`MAX_OUT_OF_ORDER` bytes may wait behind a hole in one direction.
* :data:`MAX_MESSAGE` bytes for one SIP message (headers and body); a longer one is
  delivered cut, marked truncated.
* :data:`MAX_UNSYNCED` bytes are searched for a SIP start line in a stream that does not
  start with one; past that, the direction is taken as not SIP and ignored.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from struct import Struct
from typing import TYPE_CHECKING, Any

from sipladder.model import Diagnostic, Endpoint, Payload, Severity, Transport
from sipladder.net import hep
from sipladder.net.websocket import WebSocketFramer, looks_like_sip_frame, looks_like_upgrade
from sipladder.sip.framing import MAX_HEADER_BYTES, StreamFramer

if TYPE_CHECKING:
    from sipladder.model import Frame
    from sipladder.net.decoder import PacketDecoder

Report = Callable[[Diagnostic], None]
StreamKey = tuple[Any, int, Any, int]  #: source address, port, destination address, port
Buffer = bytes | memoryview

MAX_STREAMS = 8192
MAX_BUFFERED = 64 * 1024 * 1024
MAX_OUT_OF_ORDER = 512 * 1024
MAX_MESSAGE = 1024 * 1024
MAX_UNSYNCED = 64 * 1024
#: TLS connections reported one by one; past this they are only counted. Those on
#: the HTTPS port are counted and reported together at the end.
MAX_TLS_REPORTS = 20
HTTPS_PORT = 443
#: TLS connections listed by endpoints for the summary; past this only counted.
MAX_UNREADABLE_LISTED = 1000

_TCP = Struct("!HHIIBB")  # ports, seq, ack, data offset, flags (RFC 9293 section 3.1)
_FIN, _SYN, _RST, _ACK = 0x01, 0x02, 0x04, 0x10
_SEQ_MOD = 1 << 32

# A TLS record header (RFC 8446 section 5.1): handshake(22) or application data(23),
# legacy version 3.x.
_TLS_RECORD = re.compile(rb"[\x14-\x17]\x03[\x00-\x04]")


def _seq_diff(a: int, b: int) -> int:
    """``a - b`` in sequence space (RFC 9293 section 3.4), as a signed 32-bit number."""
    d = (a - b) % _SEQ_MOD
    return d - _SEQ_MOD if d >= 1 << 31 else d


# --------------------------------------------------------------------------- SIP framing


class SipStreamFramer:
    """One direction's SIP messages, cut by :class:`~sipladder.sip.framing.StreamFramer`
    (Content-Length framing, keep-alives, resynchronisation at a start line), with this
    module's bounds on top: a message longer than :data:`MAX_MESSAGE` is delivered cut,
    and a stream that yields no SIP in :data:`MAX_UNSYNCED` bytes is given up.

    ``feed`` and ``close`` return ``(message, truncated)`` pairs.
    """

    __slots__ = ("framer", "dead", "found", "skipped", "_cut", "oversized")

    def __init__(self) -> None:
        self.framer = StreamFramer()
        self.dead = False  #: gave up: not SIP
        self.found = False  #: at least one message came out
        self.skipped = 0  #: bytes passed over while not SIP
        # heads of messages whose header section is longer than the framer holds
        self._cut: list[bytes] = []
        self.framer.on_cut = self._cut.append
        self.oversized = 0  #: messages delivered cut because they exceed a size limit

    def feed(self, data: bytes) -> list[tuple[bytes, bool]]:
        if self.dead:
            return []
        framer = self.framer
        out = [(m, False) for m in framer.feed(data)]
        if self._cut:  # a header section too long: its head, cut (it ends the feed)
            self.found = True
            self.oversized += len(self._cut)
            out += [(m, True) for m in self._cut]
            self._cut.clear()
        if out:
            self.found = True
        elif not self.found and framer.skipped > MAX_UNSYNCED:
            self.dead = True  # nothing that looks like SIP in a long stretch: not SIP
            framer.gap()
        if framer.pending > MAX_MESSAGE:
            # A header section or body longer than we hold: deliver its head, cut.
            head = framer.flush()
            self.oversized += len(head)
            out += [(m[:MAX_MESSAGE], True) for m in head]
            framer.gap()
        return out

    def gap(self) -> list[tuple[bytes, bool]]:
        """Bytes were lost: the message in progress is lost with them; the next start
        line starts the next message."""
        self.framer.gap()
        self.dead = False
        return []

    def close(self) -> list[tuple[bytes, bool]]:
        return [(m, True) for m in self.framer.flush()]

    @property
    def pending(self) -> int:
        return self.framer.pending


# --------------------------------------------------------------------------- one direction


class _Direction:
    """The state of one direction of one connection."""

    __slots__ = (
        "src",
        "dst",
        "next_seq",
        "pending",
        "pending_bytes",
        "fin_seq",
        "kind",
        "framer",
        "ws",
        "syn_seen",
        "head",
        "last",
        "buffered",
        "key",
    )

    def __init__(self, key: StreamKey, src: Endpoint, dst: Endpoint) -> None:
        self.key = key
        self.src = src
        self.dst = dst
        self.next_seq: int | None = None
        # seq -> (bytes, file, frame, ts_ns) waiting behind a hole
        self.pending: dict[int, tuple[bytes, str, int, int]] = {}
        self.pending_bytes = 0
        self.fin_seq: int | None = None
        self.kind: str | None = None  # None (undecided), "sip", "ws", "tls", "other"
        self.framer: SipStreamFramer | None = None
        self.ws: WebSocketFramer | None = None
        self.syn_seen = False
        self.head = b""  # first bytes, while the kind is undecided
        self.last: tuple[str, int, int] = ("", 0, 0)  # file, frame, ts of the last data
        self.buffered = 0  # bytes held for this direction, as last measured


class TcpReassembler:
    """Reassembles every TCP connection of a capture, one segment at a time.

    ``feed`` takes one segment (the TCP header and its payload, as carried in IP) and
    returns the SIP payloads it completes; ``finish`` flushes what is left at the end.
    """

    def __init__(
        self, report: Report, endpoint: Callable[[Any, int], Endpoint] = Endpoint.of
    ) -> None:
        self.report = report
        #: builds an :class:`Endpoint` from an address (text or packed) and a port
        self.endpoint = endpoint
        self.streams: OrderedDict[StreamKey, _Direction] = OrderedDict()
        self._holes: set[StreamKey] = set()
        #: "tls a -> b" for every TLS connection seen, in order (for the summary)
        self.unreadable: list[str] = []
        self.tls_connections = 0  #: TLS connections seen
        self.tls_reported = 0  #: of them, not on the HTTPS port
        self.https_connections = 0  #: of them, on the HTTPS port
        self.evicted = 0
        self.buffered = 0  #: bytes held in all streams
        self.shed = False  #: the memory budget was exceeded at least once
        self.gaps = 0
        self.retransmitted_bytes = 0
        self._file = ""
        self._frame = 0
        self._ts = 0

    # ----------------------------------------------------------------------- input

    def feed(
        self, file: str, frame: int, ts_ns: int, src_ip: Any, dst_ip: Any, segment: Buffer
    ) -> list[Payload]:
        """One segment from ``src_ip`` to ``dst_ip`` (text or packed addresses, used as
        given in the stream keys)."""
        if len(segment) < 20:
            self.report(
                Diagnostic(file, frame, "tcp-truncated", "TCP header cut short", Severity.WARNING)
            )
            return []
        sport, dport, seq, ack, offset, flags = _TCP.unpack_from(segment)
        data = bytes(segment[(offset >> 4) * 4 :])
        self._file, self._frame, self._ts = file, frame, ts_ns
        key = (src_ip, sport, dst_ip, dport)
        streams = self.streams
        d = streams.get(key)
        if d is None:
            if not data and not flags & (_SYN | _FIN):
                return self._check_ack(key, flags, ack)
            d = self._new(key)
        else:
            streams.move_to_end(key)
        out: list[Payload] = []
        if flags & _SYN:
            if d.syn_seen and d.next_seq is not None and _seq_diff(seq + 1, d.next_seq) != 0:
                # Same four-tuple, new initial sequence number: a new connection.
                out += self._close(d)
                self.buffered -= d.buffered
                d = self._new(key)
            if not d.syn_seen:
                d.syn_seen = True
                d.next_seq = (seq + 1) % _SEQ_MOD
            seq = (seq + 1) % _SEQ_MOD
        if flags & _FIN:
            d.fin_seq = (seq + len(data)) % _SEQ_MOD
        if data:
            out += self._segment(key, d, seq, data)
            size = d.pending_bytes + len(d.head)
            if d.framer is not None:
                size += d.framer.pending
            elif d.ws is not None:
                size += len(d.ws.buf) + d.ws.size
            self.buffered += size - d.buffered
            d.buffered = size
            if self.buffered > MAX_BUFFERED:
                self._shed()
        elif d.fin_seq is not None and d.next_seq is not None and d.fin_seq == d.next_seq:
            out += self._close(d)
        if flags & _RST:
            out += self._flush(key, d)
        if self._holes and flags & _ACK:
            out += self._check_ack(key, flags, ack)
        return out

    def finish(self) -> list[Payload]:
        """End of capture: skip the holes that were never filled and flush every stream."""
        out: list[Payload] = []
        for key, d in list(self.streams.items()):
            if d.last[1]:
                self._file, self._frame, self._ts = d.last
            out += self._flush(key, d)
        if self.tls_reported > MAX_TLS_REPORTS:
            more = self.tls_reported - MAX_TLS_REPORTS
            self._tls_note(f"{more} more TLS connections could not be read (no keys)")
        if self.https_connections:
            self._tls_note(
                f"{self.https_connections} TLS connection(s) on port {HTTPS_PORT} could not be "
                "read (HTTPS, or SIP over secure WebSocket; --engine tshark --tls-keylog "
                "FILE decrypts them)"
            )
        if self.tls_connections > len(self.unreadable):
            self.unreadable.append(
                f"tls: {self.tls_connections - len(self.unreadable)} more connections"
            )
        return out

    def _tls_note(self, message: str) -> None:
        self.report(Diagnostic(self._file, None, "tls-unreadable", message, Severity.INFO))

    # ----------------------------------------------------------------------- streams

    def _new(self, key: StreamKey) -> _Direction:
        d = _Direction(key, self.endpoint(key[0], key[1]), self.endpoint(key[2], key[3]))
        self.streams[key] = d
        if len(self.streams) > MAX_STREAMS:
            old_key, old = self.streams.popitem(last=False)
            self._holes.discard(old_key)
            self.buffered -= old.buffered
            self.evicted += 1
            if self.evicted == 1:
                self.report(
                    Diagnostic(
                        self._file,
                        self._frame,
                        "tcp-too-many-streams",
                        f"more than {MAX_STREAMS} TCP streams at once: the least recently "
                        "used are dropped (a message in progress on them is lost)",
                        Severity.WARNING,
                    )
                )
        return d

    def _shed(self) -> None:
        """Over the memory budget: drop the least recently used streams."""
        while self.buffered > MAX_BUFFERED * 3 // 4 and len(self.streams) > 1:
            key, d = self.streams.popitem(last=False)
            self._holes.discard(key)
            self.buffered -= d.buffered
            self.evicted += 1
            if not self.shed:
                self.shed = True
                self.report(
                    Diagnostic(
                        self._file,
                        self._frame,
                        "tcp-memory-limit",
                        f"TCP streams hold more than {MAX_BUFFERED} bytes together: the least "
                        f"recently used are dropped, {d.src} -> {d.dst} first",
                        Severity.WARNING,
                    )
                )

    def _segment(
        self, key: StreamKey, d: _Direction, seq: int, data: bytes
    ) -> list[Payload]:
        d.last = (self._file, self._frame, self._ts)
        if d.next_seq is None:
            # The connection started before the capture: read from here, and let the
            # SIP framer find the first start line.
            d.next_seq = seq
        diff = _seq_diff(seq, d.next_seq)
        if diff <= 0:
            if -diff >= len(data):
                self.retransmitted_bytes += len(data)
                return []
            if diff:
                self.retransmitted_bytes += -diff
                data = data[-diff:]
            d.next_seq = (d.next_seq + len(data)) % _SEQ_MOD
            out = self._deliver(d, data)
            if d.pending:
                out += self._drain(key, d)
            elif d.fin_seq is not None and d.fin_seq == d.next_seq:
                out += self._close(d)
            return out
        # Out of order: wait behind the hole. The first copy of a byte wins, so a later
        # segment at the same position is kept only if it is longer.
        old = d.pending.get(seq)
        if old is None or len(old[0]) < len(data):
            d.pending[seq] = (data, self._file, self._frame, self._ts)
            d.pending_bytes += len(data) - (len(old[0]) if old else 0)
        self._holes.add(key)
        if d.pending_bytes > MAX_OUT_OF_ORDER:
            return self._skip_hole(key, d, "too much data waiting behind it")
        return []

    def _drain(
        self, key: StreamKey, d: _Direction, own_frames: bool = False
    ) -> list[Payload]:
        """Deliver the waiting segments that the hole-filling segment made contiguous.

        A message is normally completed by the frame that filled the hole (as Wireshark
        counts); when a hole is given up (``own_frames``), each waiting segment
        completes its messages at its own frame and time.
        """
        out: list[Payload] = []
        here = (self._file, self._frame, self._ts)
        pending = d.pending
        while pending:
            next_seq = d.next_seq
            assert next_seq is not None
            seq = next_seq
            item = pending.pop(seq, None)  # the usual case: the segment right after
            if item is None:
                # A segment that starts before next_seq and may reach past it (overlap).
                before = next((s for s in pending if _seq_diff(s, next_seq) < 0), None)
                if before is None:
                    break
                seq = before
                item = pending.pop(seq)
            data, file, frame, ts = item
            d.pending_bytes -= len(data)
            diff = _seq_diff(seq, next_seq)
            if -diff >= len(data):
                self.retransmitted_bytes += len(data)
                continue
            if diff:
                data = data[-diff:]
            if own_frames:
                self._file, self._frame, self._ts = file, frame, ts
            d.next_seq = (next_seq + len(data)) % _SEQ_MOD
            out += self._deliver(d, data)
        self._file, self._frame, self._ts = here
        if not d.pending:
            self._holes.discard(key)
            if d.fin_seq is not None and d.fin_seq == d.next_seq:
                out += self._close(d)
        return out

    def _skip_hole(self, key: StreamKey, d: _Direction, why: str) -> list[Payload]:
        """Declare the bytes before the first waiting segment lost and go on from there."""
        assert d.next_seq is not None and d.pending
        first = min(d.pending, key=lambda s: _seq_diff(s, d.next_seq or 0))
        return self._gap(key, d, first, why) + self._drain(key, d, own_frames=True)

    def _gap(
        self, key: StreamKey, d: _Direction, to_seq: int, why: str
    ) -> list[Payload]:
        assert d.next_seq is not None
        missing = _seq_diff(to_seq, d.next_seq)
        self.gaps += 1
        out: list[Payload] = []
        if d.kind in (None, "sip", "ws"):
            self.report(
                Diagnostic(
                    self._file,
                    self._frame,
                    "tcp-gap",
                    f"TCP {d.src} -> {d.dst}: {missing} bytes missing from the capture "
                    f"({why}); reading resumes at the next SIP start line",
                    Severity.WARNING,
                )
            )
        if d.framer is not None:
            out += self._payloads(d, d.framer.gap(), Transport.TCP)
        elif d.ws is not None:
            d.ws.gap()
        elif d.kind is None:
            # Undecided stream: what we hold so far goes to a resynchronising SIP framer.
            d.kind = "sip"
            d.framer = SipStreamFramer()
            head, d.head = d.head, b""
            if head:
                out += self._payloads(d, d.framer.feed(head), Transport.TCP)
            d.framer.gap()
        d.next_seq = to_seq
        return out

    def _check_ack(self, key: StreamKey, flags: int, ack: int) -> list[Payload]:
        """The peer acknowledged bytes of the reverse direction that are stuck behind a
        hole: the receiver had them, so the capture lost them (RFC 9293 section 3.4)."""
        if not flags & _ACK or not self._holes:
            return []
        rkey = (key[2], key[3], key[0], key[1])
        if rkey not in self._holes:
            return []
        r = self.streams.get(rkey)
        if r is None or r.next_seq is None or not r.pending:
            self._holes.discard(rkey)
            return []
        if _seq_diff(ack, r.next_seq) <= 0:
            return []
        first = min(r.pending, key=lambda s: _seq_diff(s, r.next_seq or 0))
        to = first if _seq_diff(ack, first) >= 0 else ack
        out = self._gap(rkey, r, to, "acknowledged by the receiver")
        return out + self._drain(rkey, r, own_frames=True)

    def _flush(self, key: StreamKey, d: _Direction) -> list[Payload]:
        out: list[Payload] = []
        while d.pending:
            out += self._skip_hole(key, d, "never retransmitted")
        self._holes.discard(key)
        return out + self._close(d)

    def _close(self, d: _Direction) -> list[Payload]:
        if d.framer is not None:
            left = d.framer.close()
            if left:
                self.report(
                    Diagnostic(
                        self._file,
                        self._frame,
                        "tcp-incomplete-message",
                        f"TCP {d.src} -> {d.dst}: the stream ended inside a SIP message "
                        f"({len(left[0][0])} bytes of it delivered, marked truncated)",
                        Severity.WARNING,
                    )
                )
            return self._payloads(d, left, Transport.TCP)
        if d.kind is None and d.head:
            d.kind = "sip"
            d.framer = SipStreamFramer()
            head, d.head = d.head, b""
            out = self._payloads(d, d.framer.feed(head), Transport.TCP)
            return out + self._close(d)
        return []

    # ----------------------------------------------------------------------- consumers

    def _deliver(self, d: _Direction, data: bytes) -> list[Payload]:
        kind = d.kind
        if kind == "sip":
            assert d.framer is not None
            if d.framer.dead:
                return []
            oversized = d.framer.oversized
            messages = d.framer.feed(data)
            if d.framer.oversized != oversized:
                self.report(
                    Diagnostic(
                        self._file,
                        self._frame,
                        "sip-too-long",
                        f"TCP {d.src} -> {d.dst}: a SIP message exceeds the size limit (header"
                        f" section {MAX_HEADER_BYTES:,} bytes, message {MAX_MESSAGE:,}): its"
                        " first bytes are read, the rest is skipped",
                        Severity.WARNING,
                    )
                )
            return self._payloads(d, messages, Transport.TCP)
        if kind == "ws":
            assert d.ws is not None
            return self._payloads(d, [(m, t) for m, t in d.ws.feed(data)], Transport.WS)
        if kind == "hep":
            packets, rest = hep.split_stream(d.head + data)
            d.head = rest if len(rest) <= MAX_MESSAGE else b""
            found = (hep.payload(self._file, self._frame, self._ts, p) for p in packets)
            return [p for p in found if p is not None]
        if kind is not None:
            return []
        # Undecided: look at the first bytes of the stream.
        head = d.head + data
        probe = head.lstrip(b"\r\n")
        if len(probe) < 4:
            d.head = probe  # keep-alive CRLFs before anything else are dropped
            return []
        d.head = b""
        if probe.startswith(hep.HEP3_MAGIC):
            d.kind = "hep"
            return self._deliver(d, probe)
        if _TLS_RECORD.match(probe):
            d.kind = "tls"
            self._report_tls(d)
            return []
        if looks_like_sip_frame(probe):
            # WebSocket already upgraded before the capture began.
            d.kind = "ws"
            d.ws = WebSocketFramer(expect_handshake=False)
            return self._deliver(d, probe)
        upgrade = looks_like_upgrade(probe)
        if upgrade is None:
            d.head = probe  # an HTTP header block cut short: wait for the rest
            return []
        if upgrade:
            d.kind = "ws"
            d.ws = WebSocketFramer(expect_handshake=True)
            return self._deliver(d, probe)
        if probe.startswith((b"GET ", b"HTTP/")):
            d.kind = "other"  # plain HTTP: not ours
            return []
        d.kind = "sip"
        # A stream seen from its SYN starts with a message; otherwise find the first one.
        d.framer = SipStreamFramer()
        return self._deliver(d, probe)

    def _payloads(
        self, d: _Direction, messages: list[tuple[bytes, bool]], transport: Transport
    ) -> list[Payload]:
        return [
            Payload(self._file, self._frame, self._ts, d.src, d.dst, transport, m, t)
            for m, t in messages
        ]

    def _report_tls(self, d: _Direction) -> None:
        key = d.key
        reverse = self.streams.get((key[2], key[3], key[0], key[1]))
        if reverse is not None and reverse.kind == "tls":
            return  # the other direction already told about this connection
        self.tls_connections += 1
        if len(self.unreadable) < MAX_UNREADABLE_LISTED:
            self.unreadable.append(f"tls {d.src} -> {d.dst}")
        if HTTPS_PORT in (d.src.port, d.dst.port):
            # Most likely HTTPS (or SIP over secure WebSocket): told once, at the end.
            self.https_connections += 1
            return
        self.tls_reported += 1
        if self.tls_reported <= MAX_TLS_REPORTS:
            self.report(
                Diagnostic(
                    self._file,
                    self._frame,
                    "tls-unreadable",
                    f"TLS connection {d.src} -> {d.dst} could not be read: encrypted "
                    "(use --engine tshark --tls-keylog FILE to decrypt SIP over TLS)",
                    Severity.INFO,
                )
            )


# --------------------------------------------------------------------------- decoder


IPPROTO_TCP = 6


def install(d: PacketDecoder) -> None:
    """Register TCP (IP protocol 6) with one reassembler per decoder, flushed at finish."""
    reassembler = TcpReassembler(d.report, d.endpoint)
    feed = reassembler.feed
    emit = d.emit

    def tcp(d: PacketDecoder, frame: Frame, src: bytes, dst: bytes, view: memoryview) -> None:
        for payload in feed(frame.file, frame.number, frame.ts_ns, src, dst, view):
            emit(payload)

    def finish() -> None:
        for payload in reassembler.finish():
            d.emit(payload)

    d.state["tcp"] = reassembler
    # The summary lists the TLS connections (the pipeline shares this list).
    reassembler.unreadable = d.state.setdefault("unreadable", [])
    d.register_ip_protocol(IPPROTO_TCP, tcp)
    d.on_finish(finish)
