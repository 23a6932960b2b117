"""pcapng reading for :mod:`sipladder.readers`, through scapy's RawPcapNgReader.

Split out of ``readers.py`` only so that scapy (about half a second and 35 MB to
import) is loaded when a pcapng file is actually read; classic pcap is read with
:mod:`struct` in ``readers.py``. Opens nothing itself: it reads the stream
``readers._open`` hands it. See ``readers.py`` for why scapy's reader is subclassed.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import Any

from scapy.error import Scapy_Exception
from scapy.utils import RawPcapNgReader

from sipladder.readers import (
    _PCAPNG_MAGIC,
    MAX_CAPLEN,
    _Prepend,
    _quiet_scapy,
    _ticks_to_ns,
    _Truncated,
)


class _PcapNgReader(RawPcapNgReader):
    """scapy's pcapng reader with per-section interfaces, ``if_tsoffset`` and a lean
    Enhanced Packet Block path."""

    def __init__(self, filename: str, fdesc: Any, magic: bytes) -> None:
        # (linktype, snaplen, ticks->ns conversion, offset in ns) per interface of the
        # current section
        self._ifaces: list[tuple[int, int, Callable[[int], int], int]] = []
        super().__init__(filename, fdesc, magic)

    def _read_block_shb(self) -> None:
        # A new section starts a new interface list (pcapng section 4.1).
        super()._read_block_shb()
        self.interfaces = []
        self._ifaces = []

    def _read_block_idb(self, block: bytes, _: int) -> None:
        super()._read_block_idb(block, _)
        linktype, snaplen, options = self.interfaces[-1]
        offset_s = 0
        raw = self._read_options(block[8:]).get(14)  # if_tsoffset: int64 seconds
        if isinstance(raw, bytes) and len(raw) == 8:
            offset_s = struct.unpack(self.endian + "q", raw)[0]
        self._ifaces.append(
            (linktype, snaplen, _ticks_to_ns(int(options["tsresol"])), offset_s * 10**9)
        )

    def records(self) -> Iterator[tuple[int, int, bytes, int] | str]:
        """``(linktype, ts_ns, data, orig_len)`` per packet block, or a string saying why a
        packet block cannot be used (it still counts as a frame); raises :class:`_Truncated`."""
        read = self.f.read
        while True:
            head = read(8)
            if len(head) < 8:
                if head:
                    raise _Truncated(f"file ends inside a block header ({len(head)} of 8 bytes)")
                return
            if head[:4] == _PCAPNG_MAGIC:
                # A new section: its byte order may differ, so let scapy read it
                # (it reads the length and byte-order magic itself).
                inner: Any = self.f
                self.f = _Prepend(head[4:], inner)  # type: ignore[assignment]
                try:
                    with _quiet_scapy:
                        self._read_block_shb()
                except (EOFError, Scapy_Exception, struct.error) as exc:
                    raise _Truncated(f"bad Section Header Block ({exc})") from None
                finally:
                    self.f = inner
                continue
            blocktype, blocklen = struct.unpack(self.endian + "II", head)
            if blocklen < 12 or blocklen % 4 or blocklen - 8 > MAX_CAPLEN + 64 * 1024:
                raise _Truncated(
                    f"block of type {blocktype:#x} has an impossible length {blocklen}",
                    "capture-corrupt",
                )
            body = read(blocklen - 8)
            if len(body) < blocklen - 8:
                raise _Truncated(
                    f"file ends inside a block ({len(body) + 8} of {blocklen} bytes present)"
                )
            if body[-4:] != head[4:]:
                raise _Truncated(
                    f"block of type {blocktype:#x}: trailing length does not match",
                    "capture-corrupt",
                )
            if blocktype == 6:  # Enhanced Packet Block
                if len(body) < 24:
                    yield "enhanced packet block too short"
                    continue
                intid, tshigh, tslow, caplen, wirelen = struct.unpack_from(self.endian + "5I", body)
                if intid >= len(self._ifaces):
                    yield f"packet names interface {intid}; only {len(self._ifaces)} are described"
                    continue
                linktype, _snap, to_ns, offset = self._ifaces[intid]
                if 20 + caplen > len(body) - 4:
                    yield f"captured length {caplen} exceeds its block"
                    continue
                yield (
                    linktype,
                    to_ns((tshigh << 32) | tslow) + offset,
                    body[20 : 20 + caplen],
                    wirelen,
                )
            elif blocktype == 3:  # Simple Packet Block: interface 0, no timestamp
                if not self._ifaces:
                    yield "simple packet block before any interface description"
                    continue
                linktype, snaplen, _to_ns, _off = self._ifaces[0]
                (wirelen,) = struct.unpack_from(self.endian + "I", body)
                caplen = min(wirelen, snaplen or wirelen, len(body) - 8)
                yield linktype, 0, body[4 : 4 + caplen], wirelen
            elif blocktype == 2:  # obsolete Packet Block
                if len(body) < 24:
                    yield "packet block too short"
                    continue
                intid, _drops, tshigh, tslow, caplen, wirelen = struct.unpack_from(
                    self.endian + "HH4I", body
                )
                if intid >= len(self._ifaces):
                    yield f"packet names interface {intid}; only {len(self._ifaces)} are described"
                    continue
                linktype, _snap, to_ns, offset = self._ifaces[intid]
                yield (
                    linktype,
                    to_ns((tshigh << 32) | tslow) + offset,
                    body[20 : 20 + caplen],
                    wirelen,
                )
            elif blocktype == 1:  # Interface Description Block
                try:
                    with _quiet_scapy:
                        self._read_block_idb(body[:-4], 0)
                except (EOFError, struct.error) as exc:
                    raise _Truncated(
                        f"bad Interface Description Block ({exc})", "capture-corrupt"
                    ) from None
            # every other block (statistics, name resolution, secrets, custom) is skipped
