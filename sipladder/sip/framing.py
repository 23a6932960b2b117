"""Cutting SIP messages out of datagrams and streams by Content-Length (RFC 3261 section 18.3).

Datagrams: usually one message; several when a sender packed more; CRLF keep-alives
(RFC 5626 section 4.4.1: CRLF on datagrams, CRLFCRLF on streams) are dropped.
Streams: :class:`StreamFramer` buffers bytes, returns each message once it is complete
(header section plus Content-Length bytes of body), and resynchronises at the next
start line after garbage or a gap in the stream (lost segments).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sipladder.sip import grammar as g

# Content-Length = ( "Content-Length" / "l" ) HCOLON 1*DIGIT  (RFC 3261 section 20.14),
# found at the start of a header line, case-insensitively.
_CONTENT_LENGTH_B = re.compile(rb"\n[ \t]*(?:content-length|l)[ \t]*:[ \t]*([0-9]*)", re.I)

#: The largest header section a stream message may have before we give up on it
#: (a hostile stream must not grow the buffer without bound).
MAX_HEADER_BYTES = 256 * 1024
#: The longest start line we wait for.
MAX_LINE_BYTES = 16 * 1024
#: The largest body we wait for; a larger Content-Length is treated as garbage.
MAX_BODY_BYTES = 16 * 1024 * 1024


def _header_end(data: bytes, start: int) -> tuple[int, int] | None:
    """(end of header text, start of body) or None when the empty line is not there yet."""
    crlf = data.find(b"\n\r\n", start)
    lf = data.find(b"\n\n", start, crlf if crlf >= 0 else len(data))
    if lf >= 0:
        return lf, lf + 2
    if crlf >= 0:
        return crlf, crlf + 3
    return None


def _content_length(head: bytes) -> int | None:
    m = _CONTENT_LENGTH_B.search(head)
    if m is None or not m.group(1):
        return None
    digits = m.group(1)
    return int(digits) if len(digits) <= 12 else None


def split_datagram(data: bytes) -> list[bytes]:
    """The SIP messages in one datagram: usually one; CRLF keep-alives dropped; several
    when a sender packed more than one (each cut by its Content-Length).

    Bytes after the last message that do not start another message stay with that
    message (the parser reports them as a Content-Length mismatch).
    """
    # Fast path, nearly every datagram: one message, no keep-alive, and no second start
    # line after the header section (a start line holds "SIP/"; SDP bodies do not)
    if data[:1] not in (b"\r", b"\n"):
        head_end = data.find(b"\r\n\r\n")
        if head_end > 0 and (
            data.find(b"SIP", head_end) < 0  # (one scan of the body, usually enough)
            or (data.find(b"SIP/", head_end) < 0 and data.find(b"SIP2", head_end) < 0)
        ):
            return [data]
    messages: list[bytes] = []
    n = len(data)
    pos = 0
    while pos < n:
        while pos < n and data[pos] in (13, 10):  # keep-alives and stray line breaks
            pos += 1
        if pos >= n:
            break
        ends = _header_end(data, pos)
        if ends is None:
            messages.append(data[pos:] if pos else data)
            break
        head_end, body_start = ends
        length = _content_length(data[pos - 1 if pos else 0 : head_end])
        if length is None or body_start + length >= n:
            messages.append(data[pos:] if pos else data)
            break
        end = body_start + length
        rest = data[end:]
        stripped = rest.lstrip(b"\r\n")
        if stripped and (g.LOOKS_STATUS_B.match(stripped) or g.START_LINE_B.match(stripped)):
            messages.append(data[pos:end])
            pos = end
            continue
        # only keep-alives or garbage follow: the garbage stays with the message
        messages.append(data[pos:] if stripped else data[pos:end])
        break
    return messages


Skip = Callable[[int, str], None]


class StreamFramer:
    """Frames SIP messages out of one direction of a reliable byte stream (TCP, TLS).

    ``feed(data)`` returns the messages completed by ``data``. Garbage before a start
    line is skipped and reported through ``on_skip(count, reason)`` (and counted in
    :attr:`skipped`). ``gap()`` tells the framer that bytes were lost: the partial
    message is dropped and framing resumes at the next start line. ``flush()`` returns
    what is left at the end of the stream (a message cut short, for the parser to judge).
    """

    __slots__ = ("_buf", "_resync", "on_skip", "on_cut", "skipped", "gaps")

    def __init__(self, on_skip: Skip | None = None) -> None:
        self._buf = b""
        self._resync = False
        self.on_skip = on_skip
        #: called with the first MAX_HEADER_BYTES of a message whose header section is
        #: longer (so that what can be read is not lost); without it the message is skipped
        self.on_cut: Callable[[bytes], None] | None = None
        self.skipped = 0  #: bytes discarded as garbage or after gaps
        self.gaps = 0  #: how often :meth:`gap` was called

    def _skip(self, count: int, reason: str) -> None:
        if count <= 0:
            return
        self.skipped += count
        if self.on_skip is not None:
            self.on_skip(count, reason)

    def gap(self) -> None:
        """Bytes of the stream were lost: drop the partial message, resync at a start line."""
        self.gaps += 1
        self._skip(len(self._buf), "gap in the stream")
        self._buf = b""
        self._resync = True

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf + data if self._buf else bytes(data)
        out: list[bytes] = []
        while buf:
            # RFC 5626 4.4.1: CRLFCRLF pings (and their CRLF pongs) between messages
            if buf[0] in (13, 10):
                buf = buf.lstrip(b"\r\n")
                continue
            nl = buf.find(b"\n")
            if nl < 0:  # the start line is not complete yet
                if len(buf) > MAX_LINE_BYTES:
                    self._skip(len(buf), "garbage in the stream")
                    buf = b""
                    self._resync = True
                break
            if not self._at_start_line(buf, nl):
                # garbage, or the middle of a message after a gap: skip to the next start line
                m = g.START_LINE_B.search(buf, 1)
                reason = "gap in the stream" if self._resync else "garbage in the stream"
                if m is None:
                    last = buf.rfind(b"\n") + 1  # the tail may begin the next start line
                    self._skip(last, reason)
                    buf = buf[last:]
                    self._resync = True
                    break
                self._skip(m.start(), reason)
                buf = buf[m.start() :]
            self._resync = False
            ends = _header_end(buf, 0)
            if ends is None:
                if len(buf) > MAX_HEADER_BYTES:
                    if self.on_cut is not None:
                        self.on_cut(buf[:MAX_HEADER_BYTES])
                        self._skip(len(buf) - MAX_HEADER_BYTES, "header section too long")
                    else:
                        self._skip(len(buf), "header section too long")
                    buf = b""
                    self._resync = True
                break
            head_end, body_start = ends
            length = _content_length(buf[:head_end])
            if length is None:
                length = 0  # RFC 3261 18.3: on streams Content-Length is mandatory
            elif length > MAX_BODY_BYTES:
                self._skip(body_start, "Content-Length too large")
                buf = buf[body_start:]
                self._resync = True
                continue
            end = body_start + length
            if len(buf) < end:
                break
            out.append(buf[:end])
            buf = buf[end:]
        self._buf = buf
        return out

    def _at_start_line(self, buf: bytes, nl: int) -> bool:
        """Does ``buf`` begin with a start line? Strict after a gap, lenient otherwise
        (a message right after the previous one may have a sloppy start line)."""
        if g.START_LINE_B.match(buf):
            return True
        if self._resync:
            return False
        line = buf[: nl + 1]
        return bool(g.LOOKS_STATUS_B.match(line) or g.LOOKS_REQUEST_B.match(line))

    def flush(self) -> list[bytes]:
        """The incomplete message left at the end of the stream, if any."""
        buf, self._buf = self._buf, b""
        rest = buf.lstrip(b"\r\n")
        if not rest:
            return []
        nl = rest.find(b"\n")
        if nl < 0 or not self._at_start_line(rest, nl):
            self._skip(len(rest), "garbage at the end of the stream")
            return []
        return [rest]

    @property
    def pending(self) -> int:
        """Bytes buffered for a message not yet complete."""
        return len(self._buf)
