"""Bytes to :class:`~sipladder.model.SipMessage`: a lenient parser that records anomalies."""

from __future__ import annotations

from sipladder.model import SipMessage


def looks_like_sip(data: bytes) -> bool:
    """True when the payload starts with a SIP request line or ``SIP/2.0`` status line
    (after any CRLF keep-alives). Cheap: called on every payload of the capture."""
    raise NotImplementedError


def parse_message(data: bytes) -> SipMessage:
    """Parse one message; raise :class:`~sipladder.errors.SipParseError` if it is not SIP at all."""
    raise NotImplementedError
