"""The records that flow through the pipeline: frozen, slotted dataclasses and ``str`` enums.

Every stage hands the next one these types and nothing else. Enumerations are
``str`` enums with readable values so that DataFrame cells read naturally.
Time is integer nanoseconds since the Unix epoch (``ts_ns``) everywhere inside;
conversion to datetimes happens only in :mod:`sipladder.tables`.

Layout of the file, in pipeline order:

* capture level: :class:`Frame`, :class:`Diagnostic`
* transport level: :class:`Endpoint`, :class:`Transport`, :class:`Payload`
* SIP level: :class:`Anomaly`, :class:`NameAddr`, :class:`Via`, :class:`CSeq`,
  :class:`SdpMedia`, :class:`SdpSession`, :class:`SipMessage`, :class:`Message`
* correlation level: :class:`Transaction`, :class:`Dialog`, :class:`Call`,
  :class:`Registration` and their state enums.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# --------------------------------------------------------------------------- capture level


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured packet as the reader found it, before any decoding."""

    file: str  #: the path as the user gave it ("-" for standard input)
    number: int  #: 1-based frame number within its file (as Wireshark counts)
    ts_ns: int  #: capture timestamp, integer nanoseconds since the epoch
    linktype: int  #: pcap LINKTYPE_* value of the interface the frame came from
    data: bytes  #: the captured bytes (possibly cut by the snap length)
    orig_len: int  #: the length on the wire; larger than ``len(data)`` when cut


class Severity(StrEnum):
    ERROR = "error"  #: something is broken: data was lost or cannot be trusted
    WARNING = "warning"  #: a protocol violation that was read past
    INFO = "info"  #: worth knowing, not wrong


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem with the capture itself (not with one SIP message): reported, then skipped."""

    file: str
    frame: int | None  #: 1-based frame number, or None for file-level problems
    code: str  #: stable kebab-case code, for example ``unknown-linktype``
    message: str  #: one human sentence
    severity: Severity = Severity.WARNING

    def __str__(self) -> str:
        where = f"{self.file}: frame {self.frame}" if self.frame is not None else self.file
        return f"{where}: {self.message}"


# --------------------------------------------------------------------------- transport level


class Transport(StrEnum):
    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"
    WS = "ws"
    WSS = "wss"
    SCTP = "sctp"


@dataclass(frozen=True, slots=True, order=True)
class Endpoint:
    """An IP address and port. ``ip`` is the compressed normal form of :mod:`ipaddress`."""

    ip: str
    port: int

    @classmethod
    def of(cls, ip: str | bytes, port: int) -> Endpoint:
        """Build from text or packed (4 or 16 byte) address, normalising it once."""
        return cls(str(ipaddress.ip_address(ip)), port)

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.ip

    def __str__(self) -> str:
        # RFC 3986 section 3.2.2: an IPv6 literal is written in brackets before a port.
        return f"[{self.ip}]:{self.port}" if self.is_ipv6 else f"{self.ip}:{self.port}"


@dataclass(frozen=True, slots=True)
class Payload:
    """Bytes carried by a transport between two endpoints: one UDP datagram, one SCTP
    DATA chunk, or one message framed out of a reassembled TCP/WebSocket stream.

    ``frame`` is the frame that completed the payload (the last fragment or segment).
    """

    file: str
    frame: int
    ts_ns: int
    src: Endpoint
    dst: Endpoint
    transport: Transport
    data: bytes
    truncated: bool = False  #: part of the payload was cut by the snap length or lost


# --------------------------------------------------------------------------- SIP level


def _param(params: tuple[tuple[str, str | None], ...], name: str) -> str | None:
    """The value of a header parameter (names are stored lower-cased; RFC 3261 section
    7.3.1: parameter names are case-insensitive); None when absent or valueless."""
    name = name.lower()
    for key, value in params:
        if key == name:
            return value
    return None


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Something wrong with one SIP message. Data, not an exception."""

    code: str  #: stable kebab-case code, for example ``method-misspelled``
    message: str  #: one human sentence saying what is wrong and what was expected
    severity: Severity = Severity.WARNING
    offset: int | None = None  #: byte offset within the message, where known


class MessageKind(StrEnum):
    REQUEST = "request"
    RESPONSE = "response"


@dataclass(frozen=True, slots=True)
class NameAddr:
    """A From, To, Contact, Route or Record-Route value (RFC 3261 section 20.10 ``name-addr``)."""

    display_name: str | None
    uri: str
    params: tuple[tuple[str, str | None], ...] = ()  #: header parameters, names lower-cased

    def param(self, name: str) -> str | None:
        return _param(self.params, name)

    @property
    def tag(self) -> str | None:
        return self.param("tag")


@dataclass(frozen=True, slots=True)
class Via:
    """One Via value (RFC 3261 section 20.42)."""

    protocol: str  #: ``SIP/2.0`` normally
    transport: str  #: upper-case as written: ``UDP``, ``TCP``, ``TLS``, ``WS``, ``SCTP``
    host: str  #: sent-by host (IPv6 without brackets)
    port: int | None  #: sent-by port, None when absent
    params: tuple[tuple[str, str | None], ...] = ()

    def param(self, name: str) -> str | None:
        return _param(self.params, name)

    @property
    def branch(self) -> str | None:
        return self.param("branch")

    @property
    def sent_by(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def received(self) -> str | None:
        return self.param("received")

    @property
    def rport(self) -> str | None:
        return self.param("rport")


@dataclass(frozen=True, slots=True)
class CSeq:
    number: int
    method: str


@dataclass(frozen=True, slots=True)
class SdpMedia:
    """One ``m=`` line with the attributes that follow it (RFC 4566 section 5.14)."""

    media: str  #: audio, video, image, application, ...
    port: int
    protocol: str  #: RTP/AVP, RTP/SAVP, udptl, ...
    formats: tuple[str, ...]
    connection: str | None = None  #: media-level c= address, else None
    rtpmap: tuple[tuple[str, str], ...] = ()  #: (payload type, encoding) pairs
    fmtp: tuple[tuple[str, str], ...] = ()  #: (payload type, parameters) pairs
    direction: str = "sendrecv"  #: sendrecv, sendonly, recvonly or inactive

    @property
    def codecs(self) -> tuple[str, ...]:
        """Encoding names (``PCMU/8000``) in format order, falling back to the payload type."""
        names = dict(self.rtpmap)
        return tuple(names.get(fmt, fmt) for fmt in self.formats)


@dataclass(frozen=True, slots=True)
class SdpSession:
    """The parts of an SDP body (RFC 4566) that call analysis and ladders show."""

    origin: str | None  #: the whole o= value
    session_name: str | None
    connection: str | None  #: session-level c= address
    media: tuple[SdpMedia, ...]
    direction: str = "sendrecv"  #: session-level direction attribute


@dataclass(frozen=True, slots=True)
class SipMessage:
    """One SIP message parsed from bytes: no capture context (that is :class:`Message`).

    The fields correlation needs are parsed eagerly; every other header is available,
    in order and with its original spelling, through :attr:`headers`.
    """

    kind: MessageKind
    #: request method as written (``INIVTE`` stays ``INIVTE``); None for responses
    method: str | None
    request_uri: str | None
    status: int | None
    reason: str | None
    version: str  #: as written, ``SIP/2.0`` normally
    #: (canonical name, value) pairs; repeated and comma-split values kept in order
    headers: tuple[tuple[str, str], ...]
    body: bytes
    raw: bytes  #: the whole message exactly as read (start line to end of body)
    call_id: str | None = None
    cseq: CSeq | None = None
    from_: NameAddr | None = None
    to: NameAddr | None = None
    vias: tuple[Via, ...] = ()
    contacts: tuple[NameAddr, ...] = ()
    routes: tuple[NameAddr, ...] = ()
    record_routes: tuple[NameAddr, ...] = ()
    max_forwards: int | None = None
    expires: int | None = None
    content_type: str | None = None
    content_length: int | None = None
    sdp: SdpSession | None = None
    anomalies: tuple[Anomaly, ...] = ()

    @property
    def is_request(self) -> bool:
        return self.kind is MessageKind.REQUEST

    @property
    def cseq_method(self) -> str | None:
        return self.cseq.method if self.cseq else None

    @property
    def top_via(self) -> Via | None:
        return self.vias[0] if self.vias else None

    @property
    def branch(self) -> str | None:
        return self.vias[0].branch if self.vias else None

    @property
    def from_tag(self) -> str | None:
        return self.from_.tag if self.from_ else None

    @property
    def to_tag(self) -> str | None:
        return self.to.tag if self.to else None

    def header(self, name: str) -> str | None:
        """The first value of a header, by canonical name or any spelling/compact form."""
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        """Every value of a header, in order (comma-separated values split where the RFC allows)."""
        from sipladder.sip.headers import canonical_name

        wanted = canonical_name(name)
        return [value for key, value in self.headers if key == wanted]

    @property
    def start_line(self) -> str:
        end = self.raw.find(b"\n")
        line = self.raw if end < 0 else self.raw[:end]
        return line.rstrip(b"\r").decode("utf-8", "replace")

    @property
    def label(self) -> str:
        """Short text for a ladder arrow: ``INVITE`` or ``180 Ringing``."""
        if self.kind is MessageKind.REQUEST:
            return self.method or "?"
        return f"{self.status} {self.reason or ''}".rstrip()


@dataclass(frozen=True, slots=True)
class Message:
    """A SIP message seen in a capture: the parsed message plus where and when it was seen."""

    index: int  #: 0-based position in the time-ordered message stream of the capture
    file: str
    frame: int
    ts_ns: int
    src: Endpoint
    dst: Endpoint
    transport: Transport
    sip: SipMessage
    truncated: bool = False


# --------------------------------------------------------------------------- correlation level


class TransactionState(StrEnum):
    """Where a transaction ended up in the capture, as an observer on the wire sees it.

    The names are those of RFC 3261 section 17: ``calling`` (INVITE) and ``trying``
    (non-INVITE) before any response, ``proceeding`` after a provisional,
    ``completed`` after a final (for an INVITE: a 3xx-6xx), ``confirmed`` when the
    ACK for that non-2xx final was seen (section 17.2.1), ``terminated`` for an
    INVITE answered by a 2xx (section 17.1.1.2: the transaction ends at once) and for
    a 2xx ACK, which has no transaction of its own in the RFC (section 17.1.1.3).
    """

    CALLING = "calling"  #: INVITE sent, no response seen
    TRYING = "trying"  #: non-INVITE request sent, no response seen
    PROCEEDING = "proceeding"  #: provisional response seen, no final
    COMPLETED = "completed"  #: final response seen (for an INVITE: 3xx-6xx, ACK not seen)
    CONFIRMED = "confirmed"  #: INVITE with non-2xx final, and its ACK seen
    TERMINATED = "terminated"  #: INVITE with 2xx final (the transaction ends at once); 2xx ACK


class DialogState(StrEnum):
    """RFC 3261 section 12: early (1xx with To tag), confirmed (2xx), terminated."""

    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


class CallState(StrEnum):
    COMPLETED = "completed"  #: answered, then BYE
    ANSWERED = "answered"  #: answered, no BYE in the capture
    CANCELLED = "cancelled"  #: CANCEL and no 2xx
    REDIRECTED = "redirected"  #: 3xx final response
    REJECTED = "rejected"  #: other 4xx-6xx final response
    INCOMPLETE = "incomplete"  #: no final response in the capture


class RegistrationKind(StrEnum):
    INITIAL = "initial"  #: first binding of this AOR and contact in the capture
    REFRESH = "refresh"  #: the same AOR and contact was registered earlier in the capture
    DEREGISTRATION = "deregistration"  #: expires 0 (Contact parameter or Expires header)
    QUERY = "query"  #: no Contact: asks for the current bindings (RFC 3261 section 10.2.3)


class RegistrationState(StrEnum):
    REGISTERED = "registered"  #: final 2xx, expires > 0 (or not stated)
    DEREGISTERED = "deregistered"  #: final 2xx to a deregistration
    FAILED = "failed"  #: final 3xx-6xx that is not a challenge answered by a new REGISTER
    INCOMPLETE = "incomplete"  #: no final response in the capture


@dataclass(frozen=True, slots=True)
class ResponseSeen:
    """The first copy of one response of a transaction (retransmissions left out)."""

    status: int
    ts_ns: int
    message: int  #: :attr:`Message.index`
    to_tag: str | None


@dataclass(frozen=True, slots=True)
class Transaction:
    """One SIP transaction on one hop (RFC 3261 section 17): a request and its responses."""

    id: int  #: 0-based, in order of first request seen
    key: str  #: the matching key (branch + sent-by + method, or the RFC 2543 fallback key)
    method: str
    call_id: str | None
    cseq: int | None
    branch: str | None
    client: Endpoint  #: where the request came from (on this hop)
    server: Endpoint  #: where the request went (on this hop)
    messages: tuple[int, ...]  #: :attr:`Message.index` values, in order
    request: int  #: index of the first copy of the request
    start_ns: int  #: time of the first copy of the request
    first_provisional_ns: int | None
    final_ns: int | None
    final_status: int | None
    state: TransactionState
    retransmissions: int
    hop: int  #: 0 for the first hop of a request in the capture, 1 for the next proxy leg, ...
    request_group: int  #: transactions of the same request travelling hop by hop share this
    dialog: int | None = None
    cancels: int | None = None  #: for CANCEL: the id of the INVITE transaction it cancels
    rfc2543: bool = False  #: matched by the RFC 2543 fallback rules (no magic cookie)
    parent: int | None = None  #: the transaction of the previous hop of the same request
    responses: tuple[ResponseSeen, ...] = ()  #: first copy of each distinct response, in order
    request_uri: str | None = None
    from_uri: str | None = None
    to_uri: str | None = None
    from_tag: str | None = None
    to_tag: str | None = None  #: the request's To tag (None for a dialog-creating request)


@dataclass(frozen=True, slots=True)
class DialogStateChange:
    ts_ns: int
    state: DialogState
    message: int  #: index of the message that caused it


@dataclass(frozen=True, slots=True)
class Dialog:
    """RFC 3261 section 12: identified by Call-ID, local (From) tag and remote (To) tag.

    ``from_tag`` is the tag of the side that sent the dialog-creating request (the
    caller), ``to_tag`` the tag the other side put in its response; requests sent the
    other way round carry them swapped and still belong here.
    """

    id: int
    call_id: str
    from_tag: str | None
    to_tag: str | None
    state: DialogState  #: the last state seen
    history: tuple[DialogStateChange, ...]
    transactions: tuple[int, ...]
    messages: tuple[int, ...]
    start_ns: int
    end_ns: int | None  #: when it was terminated, None when not in the capture
    method: str | None = None  #: the method of the request that created it (INVITE, SUBSCRIBE, ...)
    creating_transaction: int | None = None  #: None when it began before the capture


@dataclass(frozen=True, slots=True)
class Call:
    """Everything of one Call-ID that began with an INVITE."""

    call_id: str
    caller: str | None  #: From URI of the initial INVITE
    callee: str | None  #: To URI of the initial INVITE
    state: CallState
    final_status: int | None
    start_ns: int
    end_ns: int
    messages: tuple[int, ...]
    retransmissions: int
    pdd_ns: int | None  #: INVITE to first non-100 response (RFC 6076 session request delay)
    answer_ns: int | None  #: INVITE to first 2xx
    release_ns: int | None  #: BYE to its final response
    duration_ns: int | None  #: first 2xx to BYE
    dialogs: tuple[int, ...]
    transactions: tuple[int, ...]
    challenged: bool = False  #: the first INVITE got a 401/407 and was sent again with credentials
    invite: int | None = None  #: transaction id of the first INVITE as it left the caller
    bye: int | None = None  #: transaction id of the BYE (its first hop) that ended the call


@dataclass(frozen=True, slots=True)
class Registration:
    """One registration attempt: the REGISTERs (across challenges) of one AOR and contact."""

    id: int
    aor: str
    contact: str | None
    call_ids: tuple[str, ...]
    kind: RegistrationKind
    final_status: int | None
    challenged: bool
    delay_ns: int | None  #: first REGISTER to final 2xx, across 401/407 (RFC 6076 RRD)
    expires: int | None
    start_ns: int
    messages: tuple[int, ...]
    transactions: tuple[int, ...] = field(default=())
    state: RegistrationState = RegistrationState.INCOMPLETE
    end_ns: int | None = None  #: time of the final response, None when not in the capture


# --------------------------------------------------------------------------- fast construction


def fast_constructor(cls: type[Any], base: type[Any] | None = None) -> Callable[..., Any]:
    """A positional constructor for the frozen slotted record ``cls``: every field, in
    field order (defaults are not applied). For records built once per message or more.

    The dataclass ``__init__`` of a frozen class calls ``object.__setattr__`` once per
    field, slowly (2.8 us for a :class:`Message`). This one creates an instance of a
    mutable twin of ``base`` (default ``cls``): a subclass without slots of its own
    whose ``__setattr__`` and ``__delattr__`` are ``object``'s again, so the interpreter
    stores into the slots as into any slotted class; it fills it with plain attribute
    stores and then makes it a ``cls`` by assigning ``__class__`` (allowed: the layouts
    are identical; ``base`` is for a subclass of ``base`` that adds no slots, like the
    parser's lazy SipMessage). The record returned is an ordinary frozen ``cls``, equal
    to the dataclass constructor's (tests/test_model.py), 0.4 us for a Message. The
    function is generated, as :mod:`dataclasses` generates ``__init__``.
    """
    base = base or cls
    names = list(base.__dataclass_fields__)
    twin = type(
        f"_Building{cls.__name__}",
        (base,),
        {"__slots__": (), "__setattr__": object.__setattr__, "__delattr__": object.__delattr__},
    )
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_twin": twin}
    args = ", ".join(f"a{i}" for i in range(len(names)))
    lines = "".join(f"    o.{name} = a{i}\n" for i, name in enumerate(names))
    source = f"def build({args}):\n    o = _new(_twin)\n{lines}    o.__class__ = _cls\n"
    source += "    return o\n"
    exec(source, namespace)  # noqa: S102
    return namespace["build"]  # type: ignore[no-any-return]
