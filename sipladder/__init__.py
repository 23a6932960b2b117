"""sipladder: SIP ladder diagrams and timing tables from packet captures.

    >>> import sipladder
    >>> capture = sipladder.load("samples/ims-tom-jerry.pcapng")
    >>> capture.messages            # a pandas DataFrame
"""

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
