"""IP fragment reassembly (IPv4: RFC 791 section 3.2; IPv6: RFC 8200 section 4.5).

Fragments are collected per datagram, in any arrival order, and the datagram is
delivered by the frame that completes it. Memory is bounded, and every
datagram that is given up is reported:

* at most :data:`MAX_PENDING` datagrams wait at once; one more evicts the oldest
  (``fragments-evicted``);
* at most :data:`MAX_PENDING_BYTES` fragment bytes are held in all; more evicts
  the oldest datagrams;
* a datagram waits at most :data:`MAX_AGE_NS` of capture time after its first
  fragment (``fragments-expired``), RFC 8200's 60 seconds;
* a datagram may not exceed :data:`MAX_DATAGRAM` bytes nor :data:`MAX_FRAGMENTS`
  pieces (``fragments-too-large``);
* what is still waiting at the end of the capture is reported once per
  datagram (``fragments-incomplete``).

Overlaps: a fragment that repeats bytes already held (a duplicate, or the same
datagram seen on two interfaces) is dropped quietly. Overlapping fragments with
*different* bytes are an attack or a bug; RFC 5722 tells an IPv6 host to drop
such a datagram, but an analysis tool should show what it can, so the bytes that
arrived first are kept and the conflict is reported (``fragments-overlap``).

A fragment cut by the snap length still counts for completeness (by the length
its header claims); the datagram is then delivered up to the first missing byte,
and the transport layer sees it is shorter than its length field says.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from sipladder.model import Diagnostic, Frame, Severity

if TYPE_CHECKING:
    from sipladder.net.decoder import PacketDecoder

MAX_PENDING = 1024  #: datagrams waiting for fragments at once
MAX_PENDING_BYTES = 32 * 1024 * 1024  #: fragment bytes held in all
MAX_AGE_NS = 60 * 1_000_000_000  #: RFC 8200 section 4.5: give up 60 s after the first fragment
MAX_DATAGRAM = 65535  #: largest reassembled payload (no jumbograms)
MAX_FRAGMENTS = 1024  #: most pieces one datagram may have
RECENT = 256  #: completed datagrams remembered to recognise late duplicates


class _Pending:
    __slots__ = (
        "file",
        "first_frame",
        "first_ts",
        "pieces",
        "total",
        "protocol",
        "size",
        "conflict",
    )

    def __init__(self, frame: Frame) -> None:
        self.file = frame.file
        self.first_frame = frame.number
        self.first_ts = frame.ts_ns
        self.pieces: list[
            tuple[int, bytes, int]
        ] = []  # (offset, data, claimed length), arrival order
        self.total: int | None = None  # payload length, known once the last fragment arrived
        self.protocol: int | None = None  # upper protocol, from the fragment at offset 0
        self.size = 0
        self.conflict = False


Key = tuple[Any, ...]


class Reassembler:
    """Pending datagrams of one capture, keyed by (file, version, src, dst, id, protocol)."""

    def __init__(
        self,
        decoder: PacketDecoder,
        max_pending: int = MAX_PENDING,
        max_age_ns: int = MAX_AGE_NS,
        max_bytes: int = MAX_PENDING_BYTES,
    ) -> None:
        self.decoder = decoder
        self.max_pending = max_pending
        self.max_age_ns = max_age_ns
        self.max_bytes = max_bytes
        self.pending: OrderedDict[Key, _Pending] = OrderedDict()
        self.bytes = 0
        # recently completed datagrams: key -> set of (offset, data) pieces
        self.recent: OrderedDict[Key, set[tuple[int, bytes]]] = OrderedDict()
        self.completed = 0

    def add(
        self,
        frame: Frame,
        key: Key,
        offset: int,
        more: bool,
        data: memoryview,
        claimed: int,
        protocol: int,
    ) -> tuple[bytes, int] | None:
        """Add one fragment; return ``(payload, protocol)`` when it completes its datagram."""
        key = (frame.file, *key)
        piece = bytes(data)
        self._expire(frame.ts_ns)
        done = self.recent.get(key)
        if done is not None and (offset, piece) in done:
            self.decoder.ignore("duplicate fragment")
            return None
        entry = self.pending.get(key)
        if entry is None:
            entry = self.pending[key] = _Pending(frame)
        end = offset + claimed
        if end > MAX_DATAGRAM or len(entry.pieces) >= MAX_FRAGMENTS:
            self._drop(
                key,
                "fragments-too-large",
                f"more than {MAX_DATAGRAM} bytes or {MAX_FRAGMENTS} fragments",
                frame,
            )
            return None
        # Compare with what overlaps: duplicates go, conflicts are reported once.
        for p_off, p_data, _ in entry.pieces:
            lo = max(offset, p_off)
            hi = min(offset + len(piece), p_off + len(p_data))
            if lo < hi:
                if piece[lo - offset : hi - offset] != p_data[lo - p_off : hi - p_off]:
                    if not entry.conflict:
                        entry.conflict = True
                        self._report(
                            frame,
                            "fragments-overlap",
                            (
                                f"fragments of {_describe(key)} overlap with different bytes; "
                                "the bytes that arrived first are kept"
                            ),
                        )
                elif (
                    lo == offset
                    and hi == offset + len(piece)
                    and offset + claimed <= p_off + len(p_data)
                ):
                    self.decoder.ignore("duplicate fragment")
                    return None
        if not more:
            if entry.total is not None and entry.total != end:
                if not entry.conflict:
                    entry.conflict = True
                    self._report(
                        frame,
                        "fragments-overlap",
                        f"{_describe(key)} has two last fragments with different ends",
                    )
            else:
                entry.total = end
        if offset == 0:
            entry.protocol = protocol
        entry.pieces.append((offset, piece, claimed))
        entry.size += len(piece)
        self.bytes += len(piece)
        while len(self.pending) > self.max_pending or self.bytes > self.max_bytes:
            old_key, old = next(iter(self.pending.items()))
            if old is entry and len(self.pending) == 1:
                break
            self._drop(
                old_key,
                "fragments-evicted",
                f"more than {self.max_pending} datagrams or {self.max_bytes} bytes were waiting",
                frame,
            )
        if entry.total is None or entry.protocol is None or key not in self.pending:
            return None
        return self._complete(key, entry)

    def _complete(self, key: Key, entry: _Pending) -> tuple[bytes, int] | None:
        total = entry.total
        assert total is not None and entry.protocol is not None
        covered = 0
        for off, _, claimed in sorted(entry.pieces, key=_offset):
            if off > covered:
                return None  # a hole: wait for more
            covered = max(covered, off + claimed)
        if covered < total:
            return None
        buf = bytearray(total)
        # Write the latest arrival first so that the first arrival's bytes win.
        for off, piece, _ in reversed(entry.pieces):
            buf[off : off + len(piece)] = piece[: max(0, total - off)]
        # Deliver up to the first byte no fragment actually carried (snap-length cuts).
        real = 0
        for off, piece, _ in sorted(entry.pieces, key=_offset):
            if off > real:
                break
            real = max(real, off + len(piece))
        del self.pending[key]
        self.bytes -= entry.size
        self.completed += 1
        self.recent[key] = {(off, piece) for off, piece, _ in entry.pieces}
        if len(self.recent) > RECENT:
            self.recent.popitem(last=False)
        return bytes(buf[: min(real, total)]), entry.protocol

    def _expire(self, now: int) -> None:
        while self.pending:
            key, entry = next(iter(self.pending.items()))
            if now - entry.first_ts <= self.max_age_ns:
                return
            self._drop(
                key,
                "fragments-expired",
                f"no complete set within {self.max_age_ns / 1e9:g} s",
                None,
            )

    def _drop(self, key: Key, code: str, why: str, frame: Frame | None) -> None:
        entry = self.pending.pop(key)
        self.bytes -= entry.size
        self.decoder.report(
            Diagnostic(
                entry.file,
                entry.first_frame,
                code,
                f"{_describe(key)}: {len(entry.pieces)} fragment(s) given up ({why})",
                Severity.WARNING,
            )
        )

    def _report(self, frame: Frame, code: str, message: str) -> None:
        self.decoder.report(Diagnostic(frame.file, frame.number, code, message, Severity.WARNING))

    def finish(self) -> None:
        """End of capture: every datagram still waiting is reported, then forgotten."""
        for key in list(self.pending):
            self._drop(
                key,
                "fragments-incomplete",
                "the capture ended before the datagram was complete",
                None,
            )


def _offset(piece: tuple[int, bytes, int]) -> int:
    return piece[0]


def _describe(key: Key) -> str:
    import ipaddress

    _file, version, src, dst, ident, _proto = key
    return (
        f"IPv{version} datagram {ipaddress.ip_address(src)} -> {ipaddress.ip_address(dst)} "
        f"id {ident:#x}"
    )


def install(d: PacketDecoder) -> None:
    reassembler = Reassembler(d)
    d.state["fragments"] = reassembler
    d.on_finish(reassembler.finish)
