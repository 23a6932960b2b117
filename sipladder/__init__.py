"""sipladder: SIP ladder diagrams and timing tables from packet captures.

    >>> import sipladder
    >>> capture = sipladder.load("samples/ims-tom-jerry.pcapng")
    >>> capture.messages            # a pandas DataFrame
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sipladder.capture import Capture, load
    from sipladder.errors import CaptureError, DecodeError, SipLadderError, SipParseError
    from sipladder.ladder import Ladder
    from sipladder.model import (
        Anomaly,
        Call,
        CallState,
        CSeq,
        Diagnostic,
        Dialog,
        DialogState,
        Endpoint,
        Frame,
        Message,
        MessageKind,
        NameAddr,
        Payload,
        Registration,
        SdpMedia,
        SdpSession,
        Severity,
        SipMessage,
        Transaction,
        TransactionState,
        Transport,
        Via,
    )
    from sipladder.sip.parser import parse_message

__version__ = "0.1.0"

__all__ = [
    "Anomaly",
    "CSeq",
    "Call",
    "CallState",
    "Capture",
    "CaptureError",
    "DecodeError",
    "Diagnostic",
    "Dialog",
    "DialogState",
    "Endpoint",
    "Frame",
    "Ladder",
    "Message",
    "MessageKind",
    "NameAddr",
    "Payload",
    "Registration",
    "SdpMedia",
    "SdpSession",
    "Severity",
    "SipLadderError",
    "SipMessage",
    "SipParseError",
    "Transaction",
    "TransactionState",
    "Transport",
    "Via",
    "load",
    "parse_message",
]

# Where each public name lives: imported on first use (PEP 562), so that a command that
# needs a few modules (``sipladder calls`` streams without Capture, ladders, tables or
# pandas) does not pay for importing them all at start, a tenth of a second and more.
_HOMES = {
    "Capture": "sipladder.capture",
    "load": "sipladder.capture",
    "CaptureError": "sipladder.errors",
    "DecodeError": "sipladder.errors",
    "SipLadderError": "sipladder.errors",
    "SipParseError": "sipladder.errors",
    "Ladder": "sipladder.ladder",
    "parse_message": "sipladder.sip.parser",
}


def __getattr__(name: str) -> Any:
    if name in __all__:
        import importlib

        value = getattr(importlib.import_module(_HOMES.get(name, "sipladder.model")), name)
        globals()[name] = value  # (found directly from now on)
        return value
    raise AttributeError(f"module 'sipladder' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
