"""SIP over WebSocket (RFC 7118): the HTTP upgrade, then WebSocket frames (RFC 6455).

Fed one direction of a TCP connection in order (by :mod:`sipladder.net.tcp`), the
framer skips the HTTP upgrade request or its ``101`` response, then reads frames:
masked (client to server) and unmasked, with 7-, 16- and 64-bit payload lengths
(RFC 6455 section 5.2), fragmented messages (section 5.4) with control frames between
the fragments, and per-message deflate (RFC 7692) when the first frame has RSV1 set.
RFC 7118 section 5 puts each SIP message in exactly one WebSocket message, text or
binary, so every complete data message is one SIP message. A connection whose
upgrade is not in the capture is recognised by a first frame that carries the start
of a SIP message.
"""

from __future__ import annotations

import re
import zlib

#: Largest WebSocket message kept (the same bound as for a SIP message on TCP).
MAX_MESSAGE = 1024 * 1024
#: Largest HTTP upgrade header block.
MAX_HANDSHAKE = 16 * 1024

_CONTINUATION, _TEXT, _BINARY = 0x0, 0x1, 0x2
_UPGRADE = re.compile(rb"^upgrade[ \t]*:[ \t]*websocket", re.I | re.M)
_HEAD_END = re.compile(rb"\r?\n\r?\n")
# The first bytes of a SIP message: "SIP/2.0 " or a method token and a space.
_SIP_START = re.compile(rb"SIP/2\.0 [1-6]|[A-Z]{3,10} [a-zA-Z]+:")


def looks_like_upgrade(data: bytes) -> bool | None:
    """Is this the start of an HTTP WebSocket upgrade (RFC 6455 section 4)?

    True for an upgrade request (``GET`` with ``Upgrade: websocket``) or a
    ``101 Switching Protocols`` response; False for anything else, including plain
    HTTP; None when the HTTP header block is not complete yet.
    """
    if data.startswith((b"HTTP/1.1 101", b"HTTP/1.0 101")):
        return True
    if len(data) < 5 and (b"GET ".startswith(data[:4]) or b"HTTP/".startswith(data)):
        return None
    if not data.startswith((b"GET ", b"HTTP/")):
        return False
    end = _HEAD_END.search(data)
    if end is None:
        return None if len(data) < MAX_HANDSHAKE else False
    return _UPGRADE.search(data, 0, end.start() + 1) is not None


def looks_like_sip_frame(data: bytes) -> bool:
    """Does ``data`` start with a WebSocket data frame whose payload starts a SIP
    message? For a connection whose upgrade is not in the capture."""
    if len(data) < 2 or data[0] & 0x70 or data[0] & 0x0F not in (_TEXT, _BINARY):
        return False
    length, head = data[1] & 0x7F, 2
    if length == 126:
        head = 4
    elif length == 127:
        head = 10
    masked = data[1] & 0x80
    start = head + (4 if masked else 0)
    payload = data[start : start + 16]
    if len(payload) < 8:
        return False
    if masked:
        payload = unmask(payload, data[head:start])
    return bool(_SIP_START.match(payload))


def unmask(payload: bytes, key: bytes) -> bytes:
    """RFC 6455 section 5.3: XOR with the 4-byte key repeated (done as one big integer)."""
    n = len(payload)
    if not n:
        return payload
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


class WebSocketFramer:
    """WebSocket messages out of one direction's ordered bytes.

    ``feed`` returns complete data messages as ``(bytes, truncated)``.
    """

    __slots__ = ("buf", "handshake", "parts", "size", "compressed", "inflater", "lost", "closed")

    def __init__(self, expect_handshake: bool = True) -> None:
        self.buf = b""
        self.handshake = expect_handshake
        self.parts: list[bytes] = []
        self.size = 0
        self.compressed = False
        self.inflater: zlib._Decompress | None = None
        self.lost = False  #: frame sync lost (bytes missing): nothing more is read
        self.closed = False  #: a Close frame was seen

    def feed(self, data: bytes) -> list[tuple[bytes, bool]]:
        if self.lost or self.closed:
            return []
        buf = self.buf + data if self.buf else data
        out: list[tuple[bytes, bool]] = []
        pos = 0
        if self.handshake:
            end = _HEAD_END.search(buf)
            if end is None:
                self.buf = buf if len(buf) < MAX_HANDSHAKE else b""
                self.lost = len(buf) >= MAX_HANDSHAKE
                return out
            pos = end.end()
            self.handshake = False
        n = len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            # RFC 6455 section 5.2: 126 means a 16-bit length follows, 127 a 64-bit one.
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            masked = b1 & 0x80
            if masked:
                head += 4
            if length > MAX_MESSAGE:
                # Not something we can hold, and most likely not a SIP message: give up.
                self.lost = True
                break
            if n - pos < head + length:
                break
            payload = buf[pos + head : pos + head + length]
            if masked:
                payload = unmask(payload, buf[pos + head - 4 : pos + head])
            pos += head + length
            opcode = b0 & 0x0F
            if opcode >= 0x8:
                # Control frames (close, ping, pong) may come between fragments (5.5).
                if opcode == 0x8:
                    self.closed = True
                    break
                continue
            if opcode in (_TEXT, _BINARY):
                self.parts = []
                self.size = 0
                self.compressed = bool(b0 & 0x40)  # RSV1: permessage-deflate (RFC 7692)
            elif opcode != _CONTINUATION:
                continue
            self.parts.append(payload)
            self.size += len(payload)
            if self.size > MAX_MESSAGE:
                out.append((b"".join(self.parts)[:MAX_MESSAGE], True))
                self.parts, self.size = [], 0
                continue
            if b0 & 0x80:  # FIN: the last fragment
                message = b"".join(self.parts)
                self.parts, self.size = [], 0
                if self.compressed:
                    message, ok = self._inflate(message)
                    out.append((message, not ok))
                else:
                    out.append((message, False))
        self.buf = buf[pos:] if not (self.lost or self.closed) else b""
        return out

    def _inflate(self, message: bytes) -> tuple[bytes, bool]:
        # RFC 7692 section 7.2.2: append 00 00 ff ff and inflate (raw deflate); the
        # window carries over between messages unless "no_context_takeover" was agreed.
        if self.inflater is None:
            self.inflater = zlib.decompressobj(-15)
        try:
            return self.inflater.decompress(message + b"\x00\x00\xff\xff", MAX_MESSAGE), True
        except zlib.error:
            self.inflater = None
            return message, False

    def gap(self) -> None:
        """Bytes were lost: frame boundaries are unknown from here on."""
        self.lost = True
        self.buf = b""
        self.parts = []
