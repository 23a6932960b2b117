"""SDP bodies (RFC 4566): origin, session name, connection, media lines, rtpmap/fmtp and
direction, plus finding the SDP part of a multipart body (RFC 2046 section 5.1).

Lenient and total: a malformed line is skipped, never fatal. Nothing here raises.
"""

from __future__ import annotations

import re

from sipladder.model import SdpMedia, SdpSession

# RFC 4566 section 5: <type>=<value>, one per line; type is one lower-case letter.
# (a lazy pattern that also trims whitespace costs four times as much; values are
# stripped where it matters)
_LINE = re.compile(r"^([a-z])=([^\r\n]*)", re.M)

_DIRECTIONS = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})


class _Media:
    """An m= section while its attribute lines are being read."""

    __slots__ = (
        "media",
        "port",
        "protocol",
        "formats",
        "connection",
        "rtpmap",
        "fmtp",
        "direction",
    )

    def __init__(self, media: str, port: int, protocol: str, formats: tuple[str, ...]) -> None:
        self.media = media
        self.port = port
        self.protocol = protocol
        self.formats = formats
        self.connection: str | None = None
        self.rtpmap: list[tuple[str, str]] = []
        self.fmtp: list[tuple[str, str]] = []
        self.direction: str | None = None


def _address(value: str) -> str | None:
    # c=<nettype> <addrtype> <connection-address>; the address may carry /ttl/count
    parts = value.split()
    if len(parts) < 3:
        return None
    return parts[2].split("/", 1)[0]


def parse_sdp(body: bytes) -> SdpSession | None:
    """Parse an SDP body; None when it has no ``v=`` / ``o=`` / ``m=`` line at all."""
    text = body.decode("utf-8", "replace")
    origin: str | None = None
    session_name: str | None = None
    connection: str | None = None
    session_direction = "sendrecv"
    media: list[SdpMedia] = []
    # the media line being built: fields collected until the next m= line
    cur: _Media | None = None
    seen_sdp = False

    def finish() -> None:
        if cur is not None:
            media.append(
                SdpMedia(
                    cur.media,
                    cur.port,
                    cur.protocol,
                    cur.formats,
                    cur.connection,
                    tuple(cur.rtpmap),
                    tuple(cur.fmtp),
                    cur.direction or session_direction,
                )
            )

    for kind, value in _LINE.findall(text):
        if kind == "a":
            name, _, attr = value.partition(":")
            if name[-1:] == " ":
                name = name.rstrip()
            if name == "rtpmap" or name == "fmtp":
                if cur is not None:
                    pt, _, rest = attr.strip().partition(" ")
                    (cur.rtpmap if name == "rtpmap" else cur.fmtp).append((pt, rest.strip()))
            elif name.strip() in _DIRECTIONS:
                name = name.strip()
                if cur is None:
                    session_direction = name
                else:
                    cur.direction = name
        elif kind == "m":
            seen_sdp = True
            finish()
            parts = value.split()
            port = 0
            if len(parts) >= 2:
                digits = parts[1].split("/", 1)[0]
                port = int(digits) if digits.isdigit() and len(digits) <= 5 else 0
            cur = _Media(
                parts[0] if parts else "",
                port,
                parts[2] if len(parts) > 2 else "",
                tuple(parts[3:]),
            )
        elif kind == "c":
            if cur is None:
                connection = _address(value)
            else:
                cur.connection = _address(value)
        elif kind == "o":
            seen_sdp = True
            if cur is None:
                origin = value.strip()
        elif kind == "s":
            if cur is None:
                session_name = value.strip()
        elif kind == "v":
            seen_sdp = True
    finish()
    if not seen_sdp:
        return None
    return SdpSession(origin, session_name, connection, tuple(media), session_direction)


def multipart_parts(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart body (RFC 2046 section 5.1.1) into (headers, content) pairs.

    Header names in the returned dicts are lower-cased. Raises ValueError when the
    boundary does not occur.
    """
    delimiter = b"--" + boundary.encode("utf-8", "replace")
    chunks = body.split(delimiter)
    if len(chunks) < 2:
        raise ValueError(f"boundary {boundary!r} not found")
    parts: list[tuple[dict[str, str], bytes]] = []
    # chunks[0] is the preamble; a chunk starting with "--" is the close delimiter
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        # the CRLF after the delimiter line, and the CRLF before the next one, belong to
        # the delimiters (RFC 2046: the CRLF preceding the boundary is conceptually part of it)
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        elif chunk.startswith(b"\n"):
            chunk = chunk[1:]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        end = chunk.find(b"\r\n\r\n")
        skip = 4
        lf_end = chunk.find(b"\n\n")
        if end < 0 or (0 <= lf_end < end):
            end, skip = lf_end, 2
        if chunk.startswith(b"\r\n") or chunk.startswith(b"\n"):  # no part headers
            headers_text, content = "", chunk.lstrip(b"\r").lstrip(b"\n")
        elif end < 0:
            headers_text, content = chunk.decode("utf-8", "replace"), b""
        else:
            headers_text, content = chunk[:end].decode("utf-8", "replace"), chunk[end + skip :]
        headers: dict[str, str] = {}
        for line in headers_text.replace("\r\n", "\n").split("\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


def media_type(content_type: str | None) -> str:
    """``Application/SDP; charset=x`` -> ``application/sdp``."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def content_type_param(content_type: str, name: str) -> str | None:
    """A parameter of a Content-Type value, unquoted (``boundary``)."""
    for piece in content_type.split(";")[1:]:
        key, _, value = piece.partition("=")
        if key.strip().lower() == name:
            value = value.strip()
            if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
                value = value[1:-1]
            return value
    return None
