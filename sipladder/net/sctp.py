"""SIP over SCTP (RFC 4168): user messages out of DATA and I-DATA chunks.

An SCTP packet (RFC 9260 section 3) is a 12-byte common header and a run of chunks,
each padded to 4 bytes; several DATA chunks may be bundled in one packet. Each DATA
chunk carries one user message, or a fragment of one: the B (begin) and E (end) flags
(section 3.3.1) mark the first and last fragment, and fragments follow each other by
TSN within a stream. I-DATA chunks (RFC 8260) number fragments by FSN within a MID.
A chunk seen again with a TSN already delivered is an SCTP retransmission, not a new
SIP message, and is dropped.

Limits: :data:`MAX_MESSAGE` bytes per reassembled message, :data:`MAX_PARTIAL` messages
being reassembled at once, :data:`TSN_MEMORY` recent TSNs remembered per direction.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from struct import Struct
from typing import TYPE_CHECKING, Any

from sipladder.model import Diagnostic, Endpoint, Payload, Severity, Transport

if TYPE_CHECKING:
    from sipladder.model import Frame
    from sipladder.net.decoder import PacketDecoder

Report = Callable[[Diagnostic], None]

MAX_MESSAGE = 1024 * 1024
MAX_PARTIAL = 1024
TSN_MEMORY = 4096

_COMMON = Struct("!HHII")  # source port, destination port, verification tag, checksum
_CHUNK = Struct("!BBH")  # type, flags, length (RFC 9260 section 3.2)
_DATA = Struct("!IHHI")  # TSN, stream id, stream sequence number, PPID (section 3.3.1)
_IDATA = Struct("!IHHII")  # TSN, stream id, reserved, MID, PPID or FSN (RFC 8260 2.1)
_TYPE_DATA, _TYPE_IDATA = 0, 64
_FLAG_E, _FLAG_B, _FLAG_U = 0x01, 0x02, 0x04


class SctpDecoder:
    """Feeds SCTP packets (common header and chunks, as carried in IP); returns payloads."""

    def __init__(
        self, report: Report, endpoint: Callable[[Any, int], Endpoint] = Endpoint.of
    ) -> None:
        self.report = report
        self.endpoint = endpoint
        # (src, sport, dst, dport) -> recent TSNs, to drop retransmitted chunks
        self._seen: dict[tuple[Any, int, Any, int], OrderedDict[int, None]] = {}
        # (direction, stream, key) -> {TSN or FSN: (flags, data)}
        self._partial: OrderedDict[tuple[object, ...], dict[int, tuple[int, bytes]]] = (
            OrderedDict()
        )
        self.retransmitted = 0

    def feed(
        self, file: str, frame: int, ts_ns: int, src_ip: Any, dst_ip: Any, packet: bytes
    ) -> list[Payload]:
        if len(packet) < 12:
            self.report(
                Diagnostic(file, frame, "sctp-truncated", "SCTP header cut short", Severity.WARNING)
            )
            return []
        sport, dport, _vtag, _crc = _COMMON.unpack_from(packet)
        direction = (src_ip, sport, dst_ip, dport)
        src = dst = None
        out: list[Payload] = []
        pos, n = 12, len(packet)
        while n - pos >= 4:
            ctype, flags, length = _CHUNK.unpack_from(packet, pos)
            if length < 4:
                break
            end = pos + length
            truncated = end > n
            if truncated and ctype in (_TYPE_DATA, _TYPE_IDATA) and n - pos < 20:
                break  # cut before the chunk's own header ends: nothing to read in it
            if ctype == _TYPE_DATA and length >= 16:
                tsn, sid, _ssn, _ppid = _DATA.unpack_from(packet, pos + 4)
                data, index = packet[pos + 16 : end], tsn
                fragment_key: tuple[object, ...] = (direction, sid, flags & _FLAG_U)
            elif ctype == _TYPE_IDATA and length >= 20:
                tsn, sid, _res, mid, ppid_fsn = _IDATA.unpack_from(packet, pos + 4)
                data = packet[pos + 20 : end]
                index = 0 if flags & _FLAG_B else ppid_fsn
                fragment_key = (direction, sid, flags & _FLAG_U, mid)
            else:
                pos += (length + 3) & ~3
                continue
            pos += (length + 3) & ~3
            if self._already_seen(direction, tsn):
                continue
            message: bytes | None
            if flags & _FLAG_B and flags & _FLAG_E:
                message = data  # unfragmented: the usual case for SIP
            else:
                message = self._fragment(fragment_key, index, flags, data, file, frame)
            if message is None:
                continue
            if src is None:
                src, dst = self.endpoint(src_ip, sport), self.endpoint(dst_ip, dport)
            assert dst is not None
            out.append(
                Payload(file, frame, ts_ns, src, dst, Transport.SCTP, message, truncated)
            )
        return out

    def _already_seen(self, direction: tuple[Any, int, Any, int], tsn: int) -> bool:
        seen = self._seen.get(direction)
        if seen is None:
            seen = self._seen[direction] = OrderedDict()
        if tsn in seen:
            self.retransmitted += 1
            return True
        seen[tsn] = None
        if len(seen) > TSN_MEMORY:
            seen.popitem(last=False)
        return False

    def _fragment(
        self,
        fragment_key: tuple[object, ...],
        index: int,
        flags: int,
        data: bytes,
        file: str,
        frame: int,
    ) -> bytes | None:
        """Keep a fragment; return the whole message once B..E are all there."""
        parts = self._partial.get(fragment_key)
        if parts is None:
            parts = self._partial[fragment_key] = {}
            if len(self._partial) > MAX_PARTIAL:
                self._partial.popitem(last=False)
                self.report(
                    Diagnostic(
                        file,
                        frame,
                        "sctp-incomplete-message",
                        "too many fragmented SCTP messages at once: the oldest is dropped",
                    )
                )
        parts[index] = (flags, data)
        # DATA fragments are consecutive TSNs (RFC 9260 section 6.9); I-DATA ones
        # consecutive FSNs from 0. Look for a B..E run.
        begin = next((i for i, (f, _) in parts.items() if f & _FLAG_B), None)
        if begin is None:
            return None
        chunks: list[bytes] = []
        i = begin
        size = 0
        while i in parts:
            f, d = parts[i]
            chunks.append(d)
            size += len(d)
            if f & _FLAG_E:
                del self._partial[fragment_key]
                return b"".join(chunks)[:MAX_MESSAGE]
            i = (i + 1) % (1 << 32)
        if size > MAX_MESSAGE:
            del self._partial[fragment_key]
        return None


IPPROTO_SCTP = 132


def install(d: PacketDecoder) -> None:
    """Register SCTP (IP protocol 132)."""
    decoder = SctpDecoder(d.report, d.endpoint)

    def sctp(d: PacketDecoder, frame: Frame, src: bytes, dst: bytes, view: memoryview) -> None:
        for payload in decoder.feed(frame.file, frame.number, frame.ts_ns, src, dst, bytes(view)):
            d.emit(payload)

    d.state["sctp"] = decoder
    d.register_ip_protocol(IPPROTO_SCTP, sctp)
