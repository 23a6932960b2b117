"""Cutting SIP messages out of datagrams and streams by Content-Length (RFC 3261 section 18.3)."""

from __future__ import annotations


def split_datagram(data: bytes) -> list[bytes]:
    """The SIP messages in one datagram: usually one; CRLF keep-alives dropped; several
    when a sender packed more than one (each cut by its Content-Length)."""
    raise NotImplementedError
