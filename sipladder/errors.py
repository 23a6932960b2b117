"""The project's exceptions: one base class, and one subclass per stage that can fail.

Strict inside, lenient at the edge: the SIP parser raises :class:`SipParseError`
with the offset where it gave up; the pipeline turns it into an anomaly and goes
on. :class:`CaptureError` names the file (and frame) of a capture that cannot be
read, so the CLI can print a one-line error instead of a traceback.
"""

from __future__ import annotations


class SipLadderError(Exception):
    """Base class of every error this package raises on purpose."""


class CaptureError(SipLadderError):
    """A capture file (or one frame of it) cannot be read."""

    def __init__(self, file: str, reason: str, frame: int | None = None) -> None:
        self.file = file
        self.reason = reason
        self.frame = frame
        where = f"{file}: frame {frame}" if frame is not None else file
        super().__init__(f"{where}: {reason}")


class DecodeError(SipLadderError):
    """A link, IP or transport header cannot be decoded (raised by ``sipladder.net``)."""

    def __init__(self, reason: str, offset: int = 0) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(f"{reason} (at byte {offset})")


class SipParseError(SipLadderError):
    """Bytes that cannot be read as a SIP message at all."""

    def __init__(self, reason: str, offset: int = 0) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(f"{reason} (at byte {offset})")


class MissingExtraError(SipLadderError):
    """An optional dependency is not installed; the message says which extra to install."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the '{package}' package: pip install 'sipladder[{extra}]'"
        )
