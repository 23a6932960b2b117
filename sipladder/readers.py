"""Reading capture files: the only module that opens them.

pcap (microsecond and nanosecond resolution, either byte order), pcapng (several
interfaces, each with its own link type and ``if_tsresol``) and gzip-compressed
files of either: pcapng through scapy's raw reader (no per-packet dissection, in
:mod:`sipladder.readers_pcapng`), classic pcap with :mod:`struct` here. Several
files are merged by timestamp; ``-`` reads standard input.

Yields :class:`~sipladder.model.Frame` records and reports problems to a
``report`` callback as :class:`~sipladder.model.Diagnostic` records; raises
:class:`~sipladder.errors.CaptureError` only for a file that cannot be read at all.

What we take from scapy and what we do ourselves
------------------------------------------------
scapy's :class:`~scapy.utils.RawPcapNgReader` parses the pcapng Section Header Block,
Interface Description Blocks and block options. Classic pcap is a 24-byte header and
16-byte record headers, read here with :mod:`struct`: importing scapy takes about half
a second and 35 MB (its data tables), more than reading a 24,000-message capture,
so scapy is imported only when a pcapng file is opened. For pcapng we subclass the
reader and replace the per-packet path, because the stock readers (scapy 2.6-2.8):

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

Where the compiled accelerator is in use (:mod:`sipladder.accel`), a plain classic pcap
file (not compressed, not standard input) is read in blocks and its records walked in C
(:class:`PcapFrames`): the same frames and diagnostics, a fraction of the time; a
worker's reader there passes over the frames of another worker's share itself.

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
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

from sipladder.accel import accel
from sipladder.errors import CaptureError
from sipladder.model import Diagnostic, Frame, Severity, fast_constructor

# one Frame per packet: positional, every field (several times cheaper than Frame(...))
_new_frame = fast_constructor(Frame)

if TYPE_CHECKING:
    from sipladder.readers_pcapng import _PcapNgReader

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


class _HeaderError(Exception):
    """A capture file header that cannot be read."""


class _PcapReader:
    """Classic pcap (libpcap file format): the 24-byte file header, then records.

    Read with :mod:`struct` here rather than by scapy's RawPcapReader: the format is
    four fields, and importing scapy costs more time and memory (its data tables)
    than reading a whole small capture. scapy is imported only for pcapng.
    """

    def __init__(self, filename: str, fdesc: IO[bytes], magic: bytes) -> None:
        self.filename = filename
        self.f = fdesc
        # a1b2c3d4: microseconds, a1b23c4d: nanoseconds; written in the writer's byte order
        self.endian = ">" if magic[:1] == b"\xa1" else "<"
        self.nano = magic in (b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1")
        hdr = fdesc.read(20)
        if len(hdr) < 20:
            raise _HeaderError("Invalid pcap file (too short)")
        _vmaj, _vmin, _tz, _sig, snaplen, linktype = struct.unpack(self.endian + "HHIIII", hdr)
        self.linktype = linktype
        self.snaplen = snaplen

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
                    raise _cut_header(len(hdr))
                return
            sec, frac, caplen, wirelen = unpack(hdr)
            if caplen > MAX_CAPLEN:
                raise _corrupt(caplen)
            data = read(caplen)
            if len(data) < caplen:
                raise _cut_data(len(data), caplen)
            yield linktype, sec * 1_000_000_000 + frac * scale, data, wirelen


def _cut_header(present: int) -> _Truncated:
    return _Truncated(f"file ends inside a packet header ({present} of 16 bytes)")


def _cut_data(present: int, caplen: int) -> _Truncated:
    return _Truncated(f"file ends inside a packet ({present} of {caplen} bytes present)")


def _corrupt(caplen: int) -> _Truncated:
    return _Truncated(
        f"packet record claims {caplen} captured bytes (more than {MAX_CAPLEN}): "
        "the file is corrupt from here on",
        "capture-corrupt",
    )


#: Bytes read at a time by :class:`PcapFrames` (a record cut by a block's end, or longer
#: than a block, is carried over until it is whole). A few blocks' worth of frames are
#: in memory at once: small enough for a small peak (tests/test_readers.py), large
#: enough that the Python work per block is nothing beside the C work.
_BLOCK = 1 << 18

#: In the frames of :meth:`PcapFrames.passing_over`, in place of frames: how many frames
#: in a row the reader passed over, and their bytes (captured lengths plus 16 each).
Passed = tuple[int, int]

#: In the frames of :meth:`PcapFrames.passing_over`: a frame that is a plain UDP
#: datagram holding one SIP message (as split_datagram's fast path finds it) whose Call-ID
#: hint names the worker's own part.
Own = tuple[Frame]

# the slots of the compiled walk's state (csrc/_sipladder_accel.c, pcap_walk)
_NUMBER, _BACKWARDS, _FIRST_BACKWARDS, _OVER, _FIRST_OVER, _PASSED = 0, 2, 3, 4, 5, 6


class PcapFrames:
    """The frames of one plain (uncompressed) classic pcap file, read by the compiled
    accelerator: what :func:`_frames_of` yields for it, with the same diagnostics.

    The file is read in blocks of :data:`_BLOCK` bytes; ``accel.pcap_walk`` walks the
    records that lie whole in a block (a record cut by the block's end is carried over
    to the next) and does :func:`_frames_of`'s bookkeeping (frame numbers, timestamps
    going back, packets over the snap length, a corrupt record length) in C, in a small
    state array. Iterated, it yields :class:`~sipladder.model.Frame` records;
    :meth:`passing_over` instead yields a worker's frames only (see there).
    """

    def __init__(self, path: str, raw: IO[bytes], reader: _PcapReader, report: Report) -> None:
        self.path = path
        self._raw = raw
        self._reader = reader
        self._report = report
        #: the link type of every frame (pcap: one per file, the header's low 16 bits)
        self.linktype = reader.linktype & 0xFFFF
        self._frames: Iterator[Any] | None = None
        # the compiled walk's running state (see _NUMBER...)
        self._state = array("q", bytes(8 * 7))

    def __iter__(self) -> Iterator[Frame]:
        if self._frames is None:
            self._frames = self._walk(None)
        return self._frames

    def __next__(self) -> Frame:
        return next(iter(self))

    @property
    def passed(self) -> int:
        """How many frames :meth:`passing_over` has passed over so far."""
        return self._state[_PASSED]

    def passing_over(
        self, count: int, number: int, udp_ports: Iterable[int]
    ) -> Iterator[Frame | Passed | Own]:
        """The frames, except those that :func:`sipladder.pipeline.messages_from_frames`
        would pass over for worker ``number`` of ``count`` (a frame of a link type the
        accelerator decodes, that ``accel.other_shard`` finds, neither of whose ports is
        in ``udp_ports``): a run of those in a row is one :data:`Passed` count instead,
        before the next frame. A frame that passes the same tests but whose message is
        of the part ``number`` comes as :data:`Own`. Only before the frames are read;
        the caller must check that the decoder passes over frames of :attr:`linktype`
        at all."""
        if self._frames is not None:
            raise RuntimeError("the frames are being read already")
        bitmap = bytearray(8192)
        for port in udp_ports:
            if 0 <= port <= 0xFFFF:
                bitmap[port >> 3] |= 1 << (port & 7)
        frames = self._frames = self._walk((count, number, bytes(bitmap)))
        return frames

    def _walk(self, shard: tuple[int, int, bytes] | None) -> Iterator[Any]:
        path, raw, reader, report = self.path, self._raw, self._reader, self._report
        assert accel is not None
        walk = accel.pcap_walk
        state = self._state
        flags = (reader.endian == ">") | (reader.nano << 1)
        snaplen, linktype = reader.snaplen, self.linktype
        read = reader.f.read
        rest = b""
        try:
            try:
                while True:
                    block = read(_BLOCK)
                    data = rest + block if rest else block
                    items, used, corrupt = walk(
                        data, state, flags, snaplen, linktype, path, _new_frame, shard
                    )
                    yield from items
                    if corrupt >= 0:
                        raise _corrupt(corrupt)
                    rest = data[used:]
                    if not block:  # the end of the file
                        if len(rest) >= 16:
                            caplen = struct.unpack(reader.endian + "I", rest[8:12])[0]
                            raise _cut_data(len(rest) - 16, caplen)
                        if rest:
                            raise _cut_header(len(rest))
                        break
            except (_Truncated, *_READ_ERRORS) as exc:
                _report_lost(path, state[_NUMBER], exc, report)
            _report_bookkeeping(
                path,
                report,
                snaplen,
                state[_OVER],
                state[_FIRST_OVER],
                state[_BACKWARDS],
                state[_FIRST_BACKWARDS],
            )
        finally:
            _close(reader.f, raw, path)


# --------------------------------------------------------------------------- pcapng


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
                from sipladder.readers_pcapng import _PcapNgReader  # imports scapy

                reader = _construct(_PcapNgReader, path, stream, magic)
            else:
                raise CaptureError(
                    path, f"not a pcap or pcapng capture (unknown magic number {magic.hex()})"
                )
        except _header_errors() as exc:
            raise CaptureError(path, f"unreadable capture header: {exc}") from None
        except _READ_ERRORS as exc:
            raise CaptureError(path, f"cannot read: {exc}") from None
    except CaptureError:
        _close(stream, raw, path)
        raise
    return raw, reader


def _header_errors() -> tuple[type[BaseException], ...]:
    """What reading a file header can raise: ours, and scapy's if scapy was imported
    (for pcapng). Evaluated only when an exception is being matched."""
    error = sys.modules.get("scapy.error")
    scapy: tuple[type[BaseException], ...] = (error.Scapy_Exception,) if error else ()
    return (_HeaderError, EOFError, struct.error, *scapy)


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
                yield _new_frame(path, number, ts_ns, linktype, data, orig_len)
        except (_Truncated, *_READ_ERRORS) as exc:
            _report_lost(path, number, exc, report)
        _report_bookkeeping(
            path, report, snaplen, over_snaplen, first_over, backwards, first_backwards
        )
    finally:
        _close(reader.f, raw, path)


def _report_lost(path: str, number: int, exc: BaseException, report: Report) -> None:
    """The file cannot be read past frame ``number``: why, at the frame after it."""
    if isinstance(exc, _Truncated):
        code, reason = exc.code, exc.reason + "; the rest of the file is lost"
    else:
        code, reason = (
            "capture-unreadable",
            f"cannot read further ({exc}); the rest of the file is lost",
        )
    report(Diagnostic(path, number + 1, code, reason, Severity.ERROR))


def _report_bookkeeping(
    path: str,
    report: Report,
    snaplen: int,
    over_snaplen: int,
    first_over: int,
    backwards: int,
    first_backwards: int,
) -> None:
    """What the reader noticed over the whole file: packets longer than the header's
    snap length, timestamps going back."""
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
    streams = [_frames(path, raw, reader, report) for path, raw, reader in opened]
    if len(streams) == 1:
        return streams[0]
    # heapq.merge keeps one frame per file in memory and, for equal keys, takes
    # the earlier file first.
    return heapq.merge(*streams, key=_by_time)


def _frames(
    path: str, raw: IO[bytes], reader: _PcapReader | _PcapNgReader, report: Report
) -> Iterator[Frame]:
    """The frames of one opened file: a plain classic pcap file (neither compressed nor
    standard input) read by the compiled accelerator when there is one."""
    if accel is not None and isinstance(reader, _PcapReader) and reader.f is raw and path != "-":
        return PcapFrames(path, raw, reader, report)
    return _frames_of(path, raw, reader, report)


def _by_time(frame: Frame) -> int:
    return frame.ts_ns
