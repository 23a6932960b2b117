"""Reading capture files: the only module that opens them.

pcap (microsecond and nanosecond resolution, either byte order), pcapng (several
interfaces, each with its own link type and ``if_tsresol``) and gzip-compressed
files of either, through scapy's raw readers (no per-packet dissection). Several
files are merged by timestamp; ``-`` reads standard input.

Yields :class:`~sipladder.model.Frame` records and reports problems to a
``report`` callback as :class:`~sipladder.model.Diagnostic` records; raises
:class:`~sipladder.errors.CaptureError` only for a file that cannot be read at all.

What we take from scapy and what we do ourselves
------------------------------------------------
scapy's :class:`~scapy.utils.RawPcapReader` and :class:`~scapy.utils.RawPcapNgReader`
parse the file header, the pcapng Section Header Block and block options. We
subclass them and replace the per-packet path, because the stock readers (scapy 2.6-2.8):

* end the iteration with the same ``EOFError`` for a clean end of file and for a
  file cut in the middle of a packet (only a log warning tells them apart), and
  yield a partly read last packet as if it were whole: we must report the cut;
* cut every packet to 65535 bytes (``MTU``) without a word;
* keep the interface list of a previous pcapng section when a new Section Header
  Block starts one (interface ids restart at 0 in each section, pcapng spec 4.1);
* ignore ``if_tsoffset`` (pcapng option 14, seconds added to every timestamp);
* silently skip packets of an unknown interface id, which would shift our frame
  numbers against Wireshark's;
* build a nine-field named tuple and parse options for every packet, which costs
  more than everything else the reader does.

``if_tsresol`` itself is read correctly by scapy (``10**n`` or ``2**n`` ticks per
second, per interface) and the per-interface link type too; we convert the ticks to
integer nanoseconds exactly (no float on the way).

Standard input is not seekable, so the gzip and magic sniffing is done here with
``peek`` rather than by scapy's ``open`` (which seeks back after reading the magic).
"""

from __future__ import annotations

import gzip
import heapq
import io
import logging
import struct
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from scapy.error import Scapy_Exception
from scapy.utils import RawPcapNgReader, RawPcapReader

from sipladder.errors import CaptureError
from sipladder.model import Diagnostic, Frame, Severity

Report = Callable[[Diagnostic], None]

#: Largest captured length we accept for one packet. Wireshark's limit for ordinary
#: link types (WTAP_MAX_PACKET_SIZE_STANDARD); a larger value means a corrupt record.
MAX_CAPLEN = 262144

_PCAP_MAGICS = {
    b"\xa1\xb2\xc3\xd4",  # big endian, microseconds
    b"\xd4\xc3\xb2\xa1",  # little endian, microseconds
    b"\xa1\xb2\x3c\x4d",  # big endian, nanoseconds
    b"\x4d\x3c\xb2\xa1",  # little endian, nanoseconds
}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"  # Section Header Block type
_GZIP_MAGIC = b"\x1f\x8b"

# Errors a (possibly gzip-compressed) stream can raise while reading: a cut gzip
# stream raises EOFError, a corrupt one zlib.error or gzip.BadGzipFile (an OSError).
_READ_ERRORS = (OSError, EOFError, zlib.error, OverflowError)


class _QuietScapy(logging.Filter):
    """While we call into scapy's header and option parsing, drop its log warnings:
    each problem they describe reaches the user as a Diagnostic or CaptureError
    instead (without this, a damaged capture also prints ``WARNING: PcapNg: ...``)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0

    def filter(self, record: logging.LogRecord) -> bool:
        return self.depth == 0

    def __enter__(self) -> None:
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1


_quiet_scapy = _QuietScapy()
logging.getLogger("scapy.runtime").addFilter(_quiet_scapy)


class _Truncated(Exception):
    """The file ends inside a record (raised by our readers, turned into a Diagnostic)."""

    def __init__(self, reason: str, code: str = "capture-truncated") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


# --------------------------------------------------------------------------- timestamps


def _ticks_to_ns(tsresol: int) -> Callable[[int], int]:
    """Exact conversion from ``tsresol`` ticks per second to nanoseconds."""
    if tsresol <= 10**9 and 10**9 % tsresol == 0:
        factor = 10**9 // tsresol  # 10**n with n <= 9: exact multiplication
        return lambda ticks: ticks * factor
    # 2**n ticks or finer than nanoseconds: scale, then floor (like Wireshark's
    # nstime arithmetic, which keeps whole nanoseconds).
    return lambda ticks: ticks * 10**9 // tsresol


# --------------------------------------------------------------------------- pcap


class _PcapReader(RawPcapReader):
    """scapy's pcap reader with an exact, truncation-aware per-packet path."""

    def records(self) -> Iterator[tuple[int, int, bytes, int]]:
        """``(linktype, ts_ns, data, orig_len)`` per packet; raises :class:`_Truncated`."""
        read = self.f.read
        unpack = struct.Struct(self.endian + "IIII").unpack
        # The header's link type field also carries FCS information in its top bits
        # (pcap spec, "LinkType and additional information"): the type is the low 16 bits.
        linktype = self.linktype & 0xFFFF
        scale = 1 if self.nano else 1000
        while True:
            hdr = read(16)
            if len(hdr) < 16:
                if hdr:
                    raise _Truncated(f"file ends inside a packet header ({len(hdr)} of 16 bytes)")
                return
            sec, frac, caplen, wirelen = unpack(hdr)
            if caplen > MAX_CAPLEN:
                raise _Truncated(
                    f"packet record claims {caplen} captured bytes (more than {MAX_CAPLEN}): "
                    "the file is corrupt from here on",
                    "capture-corrupt",
                )
            data = read(caplen)
            if len(data) < caplen:
                raise _Truncated(
                    f"file ends inside a packet ({len(data)} of {caplen} bytes present)"
                )
            yield linktype, sec * 1_000_000_000 + frac * scale, data, wirelen


# --------------------------------------------------------------------------- pcapng


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


class _Prepend:
    """A read-only stream that first returns some bytes already read, then the rest."""

    def __init__(self, head: bytes, inner: IO[bytes]) -> None:
        self.head = head
        self.inner = inner

    def read(self, n: int = -1) -> bytes:
        if not self.head:
            return self.inner.read(n)
        if n < 0:
            data, self.head = self.head + self.inner.read(), b""
            return data
        data, self.head = self.head[:n], self.head[n:]
        if len(data) < n:
            data += self.inner.read(n - len(data))
        return data


# --------------------------------------------------------------------------- opening


def _open(path: str) -> tuple[IO[bytes], _PcapReader | _PcapNgReader]:
    """Open one capture (file, gzip file or standard input) and read its header."""
    raw: IO[bytes]
    try:
        if path == "-":
            raw = sys.stdin.buffer
            if not isinstance(raw, io.BufferedReader):  # pragma: no cover - unusual stdin
                raw = io.BufferedReader(raw)  # type: ignore[arg-type,type-var]
        else:
            raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise CaptureError(path, "no such file") from None
    except IsADirectoryError:
        raise CaptureError(path, "is a directory, not a capture file") from None
    except OSError as exc:
        raise CaptureError(path, f"cannot open: {exc.strerror or exc}") from None
    stream: IO[bytes] = raw
    try:
        first = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
        if first == _GZIP_MAGIC:
            stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        magic = stream.read(4)
    except _READ_ERRORS as exc:
        _close(stream, raw, path)
        raise CaptureError(path, f"cannot read: {exc}") from None
    try:
        if not magic:
            raise CaptureError(path, "the file is empty")
        if len(magic) < 4:
            raise CaptureError(path, f"too short to be a capture ({len(magic)} bytes)")
        reader: _PcapReader | _PcapNgReader
        try:
            if magic in _PCAP_MAGICS:
                reader = _construct(_PcapReader, path, stream, magic)
            elif magic == _PCAPNG_MAGIC:
                reader = _construct(_PcapNgReader, path, stream, magic)
            else:
                raise CaptureError(
                    path, f"not a pcap or pcapng capture (unknown magic number {magic.hex()})"
                )
        except (Scapy_Exception, EOFError, struct.error) as exc:
            raise CaptureError(path, f"unreadable capture header: {exc}") from None
        except _READ_ERRORS as exc:
            raise CaptureError(path, f"cannot read: {exc}") from None
    except CaptureError:
        _close(stream, raw, path)
        raise
    return raw, reader


def _construct(cls: type, path: str, stream: IO[bytes], magic: bytes) -> Any:
    # scapy's metaclass __call__ insists on opening the file itself; build the
    # instance directly so that our already opened (maybe unseekable) stream is used.
    reader: Any = object.__new__(cls)
    with _quiet_scapy:
        reader.__init__(path, stream, magic)
    return reader


def _close(stream: Any, raw: IO[bytes], path: str) -> None:
    """Close a file we opened (never standard input itself)."""
    for s in (stream, raw):
        if path == "-" and s is raw:
            continue
        try:
            s.close()
        except _READ_ERRORS:  # pragma: no cover - closing a broken gzip stream
            pass


# --------------------------------------------------------------------------- frames


def _frames_of(
    path: str, raw: IO[bytes], reader: _PcapReader | _PcapNgReader, report: Report
) -> Iterator[Frame]:
    """The frames of one opened file, in file order."""
    number = 0
    last_ts = 0
    backwards = 0
    first_backwards = 0
    # pcap: the file header's snap length; a packet longer than it means the header lies
    snaplen = getattr(reader, "snaplen", 0) if isinstance(reader, _PcapReader) else 0
    over_snaplen = 0
    first_over = 0
    try:
        try:
            for record in reader.records():
                number += 1
                if isinstance(record, str):
                    report(
                        Diagnostic(
                            path, number, "bad-packet-block", f"skipped: {record}", Severity.ERROR
                        )
                    )
                    continue
                linktype, ts_ns, data, orig_len = record
                if ts_ns < last_ts:
                    backwards += 1
                    if not first_backwards:
                        first_backwards = number
                last_ts = ts_ns
                if 0 < snaplen < len(data):
                    over_snaplen += 1
                    if not first_over:
                        first_over = number
                yield Frame(path, number, ts_ns, linktype, data, orig_len)
        except _Truncated as exc:
            report(
                Diagnostic(
                    path,
                    number + 1,
                    exc.code,
                    exc.reason + "; the rest of the file is lost",
                    Severity.ERROR,
                )
            )
        except _READ_ERRORS as exc:
            report(
                Diagnostic(
                    path,
                    number + 1,
                    "capture-unreadable",
                    f"cannot read further ({exc}); the rest of the file is lost",
                    Severity.ERROR,
                )
            )
        if over_snaplen:
            report(
                Diagnostic(
                    path,
                    first_over,
                    "snaplen-exceeded",
                    f"{over_snaplen} packet(s) are longer than the file header's snap length"
                    f" {snaplen}, first at this frame: the header is wrong; packets read whole",
                    Severity.INFO,
                )
            )
        if backwards:
            report(
                Diagnostic(
                    path,
                    first_backwards,
                    "timestamps-backwards",
                    f"timestamps go backwards {backwards} time(s), first at this frame; "
                    "frames are kept in file order",
                    Severity.WARNING,
                )
            )
    finally:
        _close(reader.f, raw, path)


def read_frames(paths: Sequence[str], report: Report) -> Iterator[Frame]:
    """Every frame of every file, merged by timestamp (stable: file order breaks ties).

    Every file is opened (and its header read) before the first frame is returned,
    so a file that cannot be read at all raises :class:`CaptureError` at once.
    """
    opened: list[tuple[str, IO[bytes], _PcapReader | _PcapNgReader]] = []
    try:
        for path in paths:
            raw, reader = _open(path)
            opened.append((path, raw, reader))
    except CaptureError:
        for path, raw, reader in opened:
            _close(reader.f, raw, path)
        raise
    streams = [_frames_of(path, raw, reader, report) for path, raw, reader in opened]
    if len(streams) == 1:
        return streams[0]
    # heapq.merge keeps one frame per file in memory and, for equal keys, takes
    # the earlier file first.
    return heapq.merge(*streams, key=_by_time)


def _by_time(frame: Frame) -> int:
    return frame.ts_ns
