"""Ladder geometry: which columns, in which order, one row per message, labels, colours
and timing brackets. Pure: records in, a :class:`Layout` out; no drawing.

Every renderer (:mod:`sipladder.render`) draws the same :class:`Layout`: the SVG,
HTML and matplotlib backends use the pixel geometry computed here, the text,
Mermaid and PlantUML backends use the logical parts (column and row indices,
labels, brackets). So a ladder says the same thing in every format.

Decisions made here, once:

* **Column order** follows the request path: the caller first, then each hop in
  the order the first INVITE (else the first REGISTER, else the first request)
  crossed them; the endpoints of later requests are inserted right after the node
  that sent them there, and anything left over goes to the right in order of
  first appearance.
* **Column names**: explicit aliases (``ip:port`` beats ``ip``), then names learned
  from the capture: a top Via sent-by host name, or a top Record-Route host name
  on a request that a proxy forwarded, that belongs to exactly one address and is
  the only such name of that address.
* **Colours** per dialog (or registration attempt, transaction, Call-ID when that
  is all we know), from the Okabe-Ito palette (readable with every common colour
  vision deficiency), assigned in order of first appearance.
* **Brackets** come from the correlation results: PDD, answer and release of each
  call, the delay of each registration attempt, and the delay each hop added to
  the requests those intervals start with.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sipladder.model import Endpoint, Message, SdpSession

if TYPE_CHECKING:
    from sipladder.correlate import Correlation, MessageLinks

#: Okabe & Ito (2008), "Color Universal Design": distinguishable with deuteranopia,
#: protanopia and tritanopia. Yellow (#F0E442) is left out: unreadable on white.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)
ANOMALY_COLOUR = "#B00020"
BRACKET_COLOUR = "#333333"
MUTED_COLOUR = "#666666"

GROUPS = ("endpoint", "host")
COLOUR_BY = ("dialog", "transaction")
#: At most this many side-bracket lanes; more overlapping intervals are left out (noted).
MAX_LANES = 6


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True, slots=True)
class Geometry:
    """Pixel sizes used by the drawing backends (one CSS pixel = one unit)."""

    font: float = 12.0  #: arrow labels, column names
    small: float = 10.5  #: addresses, SDP lines, times, bracket labels
    char: float = 0.62  #: monospace advance width, in ems (DejaVu Sans Mono is 0.602)
    margin: float = 12.0
    time_width: float = 118.0  #: left strip with absolute time and delta
    title_height: float = 22.0  #: title line (each note adds ``note_line``)
    note_line: float = 14.0
    box_height: float = 34.0  #: column name boxes
    row: float = 30.0  #: height of a row without an SDP line
    extra_line: float = 13.0  #: added for an SDP line below the arrow
    min_gap: float = 130.0
    max_gap: float = 220.0
    lane_gap: float = 14.0  #: between the last column and the first bracket lane

    def text_width(self, text: str, size: float | None = None) -> float:
        return len(text) * (size or self.font) * self.char


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    key: str  #: ``ip:port`` (``[v6]:port``), or the bare ``ip`` when grouping by host
    address: str  #: what is shown under the name
    name: str | None  #: alias or learned name; None when unknown
    x: float
    box_width: float

    @property
    def title(self) -> str:
        return self.name or self.address


@dataclass(frozen=True, slots=True)
class Row:
    """One message: an arrow from column ``src`` to column ``dst``."""

    index: int  #: 0-based row number
    message: int  #: :attr:`Message.index`
    frame: int
    file: str
    ts_ns: int
    delta_ns: int | None  #: since the previous row; None on the first row
    src: int
    dst: int
    label: str  #: ``INVITE`` or ``180 Ringing``
    cseq: str  #: ``CSeq 1`` for requests, ``CSeq 1 INVITE`` for responses; "" if none
    sdp: str | None  #: compact SDP summary
    retransmission: bool
    colour: str
    colour_key: str  #: what the colour stands for: ``dialog 0``, ``Call-ID abc``
    anomalies: tuple[str, ...]  #: anomaly codes (and ``truncated``)
    detail: str  #: the whole message as text, for hover and click panels
    heading: str  #: one line: frame, time, transport, source and destination
    is_request: bool
    transaction: int | None
    dialog: int | None
    y: float  #: arrow line
    top: float
    height: float

    @property
    def text(self) -> str:
        """Label and CSeq on one line (what the text backends print on the arrow)."""
        return f"{self.label} {self.cseq}".rstrip()

    @property
    def anomaly_summary(self) -> str:
        """``request-uri-invalid +4``: the first code and how many more (the whole list
        is in :attr:`detail` panels and tooltips; a long list would hide the arrow)."""
        if not self.anomalies:
            return ""
        more = len(self.anomalies) - 1
        return self.anomalies[0] + (f" +{more}" if more else "")


def label_width(row: Row, g: Geometry) -> float:
    """Width of an arrow's label line as the drawing backends write it: label, CSeq,
    retransmission mark, anomaly summary."""
    width = g.text_width(row.label, g.font)
    if row.cseq:
        width += g.text_width(" " + row.cseq, g.small)
    if row.retransmission:
        width += g.text_width(" ↻ retr.", g.small)
    if row.anomalies:
        width += g.text_width(" ⚠ " + row.anomaly_summary, g.small)
    return width


@dataclass(frozen=True, slots=True)
class Bracket:
    """A timing interval drawn beside the ladder (side brackets) or on a proxy's lifeline (hops)."""

    kind: str  #: ``pdd``, ``answer``, ``release``, ``registration`` or ``hop``
    label: str  #: ``PDD 1.234 s``
    start_row: int
    end_row: int
    duration_ns: int
    lane: int  #: side brackets: 0 nearest the ladder; hop brackets: 0
    column: int | None  #: hop brackets: the column of the node that added the delay
    side: str  #: hop brackets: ``left`` or ``right`` of the lifeline; else ``right``
    x: float
    y0: float
    y1: float


@dataclass(frozen=True, slots=True)
class Layout:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    brackets: tuple[Bracket, ...]
    notes: tuple[str, ...]  #: scope and cut notes, shown under the title
    legend: tuple[tuple[str, str], ...]  #: (colour, meaning), in order of first use
    width: float
    height: float
    box_top: float  #: top of the column name boxes
    lifeline_end: float  #: where the lifelines stop
    geometry: Geometry

    @property
    def side_brackets(self) -> tuple[Bracket, ...]:
        return tuple(b for b in self.brackets if b.kind != "hop")

    @property
    def hop_brackets(self) -> tuple[Bracket, ...]:
        return tuple(b for b in self.brackets if b.kind == "hop")


# --------------------------------------------------------------------------- formatting helpers


def duration_text(ns: int) -> str:
    """``850 µs``, ``12.3 ms``, ``1.234 s``, ``2.5 h``, ``2293.6 d``: three significant
    figures or so, short enough for the delta column whatever the gap (a capture that
    was merged or edited can jump years: "+198166587.013 s" broke the text ladder)."""
    if ns < 1_000_000:
        return f"{ns / 1000:.0f} µs"
    if ns < 1_000_000_000:
        ms = ns / 1_000_000
        return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"
    seconds = ns / 1_000_000_000
    if seconds < 100:
        return f"{seconds:.3f} s"
    if seconds < 6000:
        return f"{seconds:.0f} s"
    if seconds < 100 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def delta_text(ns: int | None) -> str:
    return "" if ns is None else "+" + duration_text(ns)


def clock_text(ns: int) -> str:
    """UTC time of day with milliseconds: ``10:15:04.123``."""
    seconds, rest = divmod(ns, 1_000_000_000)
    minutes, second = divmod(seconds % 86_400, 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}:{second:02d}.{rest // 1_000_000:03d}"


def date_text(ns: int) -> str:
    return datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC).strftime("%Y-%m-%d")


def _host_port(host: str | None, port: int) -> str:
    if host is None:
        return f"*:{port}"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def sdp_summary(sdp: SdpSession, max_codecs: int = 3) -> str:
    """``audio PCMU,PCMA,+1 sendrecv [5555::5]:3456``; several media joined by `` | ``."""
    parts = []
    for media in sdp.media:
        names = [codec.split("/")[0] for codec in media.codecs]
        codecs = ",".join(names[:max_codecs]) + (
            f",+{len(names) - max_codecs}" if len(names) > max_codecs else ""
        )
        direction = media.direction if media.direction != "sendrecv" else sdp.direction
        where = (
            "rejected"
            if media.port == 0
            else _host_port(media.connection or sdp.connection, media.port)
        )
        parts.append(f"{media.media} {codecs} {direction} {where}".replace("  ", " "))
    return "SDP " + (" | ".join(parts) if parts else "(no media)")


def message_text(message: Message) -> str:
    """The whole message as text: decoded as UTF-8 (bad bytes replaced), line ends unified."""
    text = message.sip.raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n")


# --------------------------------------------------------------------------- names


def normalise_address(text: str) -> str:
    """``5555::A:F:F:E`` -> ``5555::a:f:f:e``; ``[::1]:5060`` and ``1.2.3.4:5060`` -> the
    :class:`Endpoint` form; anything else (a host name) is lower-cased."""
    text = text.strip()
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        pass
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d+)|([0-9.]+):(\d+)", text)
    if match:
        ip = match.group(1) or match.group(3)
        port = int(match.group(2) or match.group(4))
        try:
            return str(Endpoint.of(ip, port))
        except ValueError:
            pass
    return text.lower()


def parse_alias(text: str) -> tuple[str, str]:
    """``ADDR=NAME`` (ADDR an ip, ``ip:port``, ``[v6]:port`` or a learned host name)."""
    address, sep, name = text.partition("=")
    if not sep or not address.strip() or not name.strip():
        raise ValueError(f"alias {text!r} is not ADDR=NAME")
    return normalise_address(address), name.strip()


def parse_hosts(text: str) -> dict[str, str]:
    """Hosts-file text (``ADDRESS NAME [MORE NAMES]``, ``#`` comments): address -> first name."""
    aliases: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            aliases.setdefault(normalise_address(fields[0]), fields[1])
    return aliases


@functools.lru_cache(maxsize=4096)
def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _uri_host(uri: str) -> str | None:
    """Host part of a SIP URI: ``sip:pcscf.tel.com;lr`` -> ``pcscf.tel.com``."""
    match = re.match(r"(?i)\s*<?sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>?]+)", uri)
    return match.group(1).strip("[]").lower() if match else None


def learned_names(messages: Iterable[Message]) -> dict[str, str]:
    """Host names that the capture itself ties to one address (ip -> name).

    A request's top Via carries its sender's sent-by (RFC 3261 section 18.1.1): that
    is the evidence we trust. A forwarded request's top Record-Route is the URI of the
    last proxy that record-routed (section 16.6 step 4), which need not be the sender,
    so it only names an address that has no Via name, and only with a name no Via
    gave to another address. A name is kept only when the address has that one name
    and the name that one address: NAT, shared names or load balancers make the rest
    ambiguous."""
    via_names: dict[str, set[str]] = {}
    rr_names: dict[str, set[str]] = {}
    for message in messages:
        sip = message.sip
        if not sip.is_request:
            continue
        if sip.vias and not _is_ip(sip.vias[0].host):
            via_names.setdefault(message.src.ip, set()).add(sip.vias[0].host.lower())
        if len(sip.vias) > 1 and sip.record_routes:
            host = _uri_host(sip.record_routes[0].uri)
            if host and not _is_ip(host):
                rr_names.setdefault(message.src.ip, set()).add(host)
    taken = {name for names in via_names.values() for name in names}
    candidates = dict(via_names)
    for ip, names in rr_names.items():
        if ip not in candidates:
            candidates[ip] = names - taken
    addresses_of: dict[str, set[str]] = {}
    for ip, names in candidates.items():
        for name in names:
            addresses_of.setdefault(name, set()).add(ip)
    return {
        ip: next(iter(names))
        for ip, names in sorted(candidates.items())
        if len(names) == 1 and len(addresses_of[next(iter(names))]) == 1
    }


# --------------------------------------------------------------------------- scope


def select_messages(
    messages: Sequence[Message],
    correlation: Correlation | None = None,
    *,
    call_id: str | None = None,
    aor: str | None = None,
    since_ns: int | None = None,
    until_ns: int | None = None,
    max_messages: int | None = None,
) -> tuple[list[Message], list[str]]:
    """The messages a ladder shows, and notes saying what was chosen and what was cut."""
    notes: list[str] = []
    chosen: Iterable[Message] = messages
    if call_id is not None:
        chosen = [m for m in chosen if m.sip.call_id == call_id]
        notes.append(f"Call-ID {call_id}")
    if aor is not None:
        wanted = _aor_key(aor)
        indices: set[int] = set()
        if correlation is not None:
            for registration in correlation.registrations:
                if _aor_key(registration.aor) == wanted:
                    indices.update(registration.messages)
        if not indices:
            # Without correlation (or nothing matched): every REGISTER transaction to this AOR.
            call_ids = {
                m.sip.call_id
                for m in messages
                if m.sip.is_request
                and m.sip.method == "REGISTER"
                and m.sip.to
                and _aor_key(m.sip.to.uri) == wanted
            }
            indices = {
                m.index
                for m in messages
                if m.sip.call_id in call_ids and m.sip.cseq_method == "REGISTER"
            }
        chosen = [m for m in chosen if m.index in indices]
        notes.append(f"registration of {aor}")
    if since_ns is not None or until_ns is not None:
        chosen = [
            m
            for m in chosen
            if (since_ns is None or m.ts_ns >= since_ns)
            and (until_ns is None or m.ts_ns <= until_ns)
        ]
        window = " to ".join(
            f"{date_text(t)} {clock_text(t)}" if t is not None else "end"
            for t in (since_ns, until_ns)
        )
        notes.append(
            f"time window {window if since_ns is not None else 'start' + window[3:]} UTC"
        )
    selected = list(chosen)
    if max_messages is not None and len(selected) > max_messages:
        notes.append(
            f"cut: first {max_messages} of {len(selected)} messages shown "
            f"({len(selected) - max_messages} more not drawn; raise --max-messages)"
        )
        selected = selected[:max_messages]
    return selected, notes


def parse_time(value: str | int | float | datetime, first_ns: int | None = None) -> int:
    """A time-window bound as integer ns since the epoch. Accepts ``int`` ns, ``float``
    epoch seconds, an aware or naive (taken as UTC) ``datetime``, or text: ISO 8601
    (``2026-11-24T10:15:04.5``), epoch seconds (``1700000000.25``), ``+SECONDS`` after
    the first message (``+2.5``), or a time of day ``HH:MM:SS[.fff]`` on the day of the
    first message (UTC)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value * 1_000_000_000)
    text = value.strip()
    if re.fullmatch(r"\+\d+(\.\d+)?", text):
        if first_ns is None:
            raise ValueError(f"{text!r} is relative to the first message, and there is none")
        return first_ns + _seconds_ns(text[1:])
    if re.fullmatch(r"\d{9,}(\.\d+)?", text):
        return _seconds_ns(text)
    if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?", text):
        if first_ns is None:
            raise ValueError(f"{text!r} is a time of day: the capture gives no day")
        hours, minutes, *rest = text.split(":")
        day_start = first_ns - first_ns % 86_400_000_000_000
        seconds = _seconds_ns(rest[0]) if rest else 0
        return day_start + (int(hours) * 3600 + int(minutes) * 60) * 1_000_000_000 + seconds
    try:
        return parse_time(datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use ISO 8601, HH:MM:SS, epoch seconds or +SECONDS)"
        ) from None


def _seconds_ns(text: str) -> int:
    """Exact decimal seconds to ns (no float rounding): ``1.5`` -> 1_500_000_000."""
    whole, _, frac = text.partition(".")
    return int(whole) * 1_000_000_000 + int((frac + "000000000")[:9])


def _aor_key(uri: str) -> str:
    """Compare AORs without display names, brackets, parameters or case of the scheme/host."""
    uri = uri.strip()
    if "<" in uri:
        uri = uri[uri.index("<") + 1 :].split(">", 1)[0]
    return uri.split(";", 1)[0].replace(" ", "").lower()


# --------------------------------------------------------------------------- columns


def _column_key(endpoint: Endpoint, group: str) -> str:
    return endpoint.ip if group == "host" else str(endpoint)


def _request_paths(
    messages: Sequence[Message], retrans: Sequence[bool], group: str
) -> list[list[str]]:
    """Path of each request (Call-ID, CSeq, method) hop by hop, most telling first:
    INVITEs, then REGISTERs, then the others, each group in order of first appearance."""
    paths: dict[tuple[str | None, int | None, str | None], list[str]] = {}
    for message, again in zip(messages, retrans, strict=True):
        sip = message.sip
        if not sip.is_request or again or sip.method in ("ACK", "CANCEL"):
            continue
        key = (sip.call_id, sip.cseq.number if sip.cseq else None, sip.method)
        path = paths.setdefault(key, [])
        for endpoint in (message.src, message.dst):
            column = _column_key(endpoint, group)
            if column not in path:
                path.append(column)
    rank = {"INVITE": 0, "REGISTER": 1}
    ordered = sorted(
        enumerate(paths.items()), key=lambda item: (rank.get(item[1][0][2] or "", 2), item[0])
    )
    return [path for _, (_, path) in ordered]


def order_columns(messages: Sequence[Message], retrans: Sequence[bool], group: str) -> list[str]:
    order: list[str] = []
    for path in _request_paths(messages, retrans, group):
        previous: str | None = None
        for column in path:
            if column not in order:
                at = order.index(previous) + 1 if previous is not None else len(order)
                order.insert(at, column)
            previous = column
    for message in messages:  # responses or ACKs to endpoints no request reached
        for endpoint in (message.src, message.dst):
            column = _column_key(endpoint, group)
            if column not in order:
                order.append(column)
    return order


# ------------------------------------------------------------------ retransmissions, colours


def _fallback_retransmissions(messages: Sequence[Message]) -> list[bool]:
    """Without correlation: the same start line, transaction and hop seen before."""
    seen: set[tuple[object, ...]] = set()
    flags = []
    for message in messages:
        sip = message.sip
        key = (
            message.src,
            message.dst,
            sip.start_line,
            sip.call_id,
            sip.cseq,
            sip.branch,
            sip.to_tag,
        )
        flags.append(key in seen)
        seen.add(key)
    return flags


def _colour_keys(
    messages: Sequence[Message], correlation: Correlation | None, colour_by: str
) -> list[str]:
    """What each arrow's colour stands for. ``dialog``: its dialog, else its registration
    attempt, else its Call-ID. ``transaction``: its request as it travels hop by hop
    (all hops' transactions of one request share a colour), else its CSeq and Call-ID."""
    keys = []
    if colour_by == "transaction":
        for message in messages:
            link = _link(correlation, message.index)
            sip = message.sip
            if correlation is not None and link is not None and link.transaction is not None:
                tx = correlation.transactions[link.transaction]
                keys.append(f"{tx.method} CSeq {tx.cseq} (request {tx.request_group})")
            else:
                cseq = f"{sip.cseq.method} CSeq {sip.cseq.number}" if sip.cseq else "no CSeq"
                keys.append(f"{cseq} (Call-ID {sip.call_id})")
        return keys
    registration_of: dict[int, int] = {}
    if correlation is not None:
        for registration in correlation.registrations:
            for index in registration.messages:
                registration_of.setdefault(index, registration.id)
    for message in messages:
        link = _link(correlation, message.index)
        if link is not None and link.dialog is not None:
            keys.append(f"dialog {link.dialog} (Call-ID {message.sip.call_id})")
        elif message.index in registration_of:
            keys.append(f"registration {registration_of[message.index]}")
        else:
            keys.append(f"Call-ID {message.sip.call_id}")
    return keys


def _link(correlation: Correlation | None, index: int) -> MessageLinks | None:
    if correlation is None or not 0 <= index < len(correlation.links):
        return None
    return correlation.links[index]


# --------------------------------------------------------------------------- brackets


@dataclass(frozen=True, slots=True)
class _Interval:
    kind: str
    label: str
    start: int  #: message index
    end: int  #: message index
    duration_ns: int
    column: int | None = None
    side: str = "right"


def _find(ns: int, candidates: Iterable[Message], prefer_response: bool) -> Message | None:
    """The message of an interval end: the one with that timestamp (responses preferred
    for ends, requests for starts)."""
    best: Message | None = None
    for message in candidates:
        if message.ts_ns == ns:
            if message.sip.is_request != prefer_response:
                return message
            best = best or message
    return best


def _intervals(
    by_index: Mapping[int, Message], correlation: Correlation, row_of: Mapping[int, int]
) -> list[_Interval]:
    intervals: list[_Interval] = []
    transactions = correlation.transactions

    def add(kind: str, name: str, start_ns: int, duration: int | None, pool: Iterable[int]) -> None:
        if duration is None:
            return
        members = [by_index[i] for i in pool if i in by_index]
        start = _find(start_ns, members, prefer_response=False)
        end = _find(start_ns + duration, members, prefer_response=True)
        if start is not None and end is not None:
            intervals.append(
                _Interval(
                    kind, f"{name} {duration_text(duration)}", start.index, end.index, duration
                )
            )

    starters: list[int] = []  # transactions whose hop delays are drawn
    for call in correlation.calls:
        add("pdd", "PDD", call.start_ns, call.pdd_ns, call.messages)
        add("answer", "answer", call.start_ns, call.answer_ns, call.messages)
        if call.release_ns is not None:
            byes = [
                t
                for t in (transactions[i] for i in call.transactions if 0 <= i < len(transactions))
                if t.method == "BYE" and t.hop == 0
            ]
            for bye in byes[:1]:
                add("release", "release", bye.start_ns, call.release_ns, call.messages)
                starters.append(bye.id)
        starters.extend(
            t
            for t in call.transactions
            if 0 <= t < len(transactions)
            and transactions[t].method == "INVITE"
            and transactions[t].hop == 0
        )
    for registration in correlation.registrations:
        add(
            "registration",
            "registration",
            registration.start_ns,
            registration.delay_ns,
            registration.messages,
        )
        starters.extend(
            t
            for t in registration.transactions
            if 0 <= t < len(transactions) and transactions[t].hop == 0
        )

    # Per-hop added delay: a request's copy on hop k left node N at start_ns(k); it
    # arrived at N on hop k-1 at start_ns(k-1). The difference is N's processing time.
    groups: dict[int, list[int]] = {}
    for transaction in transactions:
        groups.setdefault(transaction.request_group, []).append(transaction.id)
    wanted = {transactions[t].request_group for t in starters}
    for group_id in sorted(wanted):
        hops = sorted(
            (transactions[t] for t in groups[group_id]), key=lambda t: (t.hop, t.start_ns)
        )
        for before, after in zip(hops, hops[1:], strict=False):
            if after.hop != before.hop + 1:
                continue
            if before.request not in row_of or after.request not in row_of:
                continue
            delay = after.start_ns - before.start_ns
            intervals.append(
                _Interval(
                    "hop", f"+{duration_text(max(delay, 0))}", before.request, after.request, delay
                )
            )
    return intervals


# --------------------------------------------------------------------------- the layout


def build_layout(
    messages: Sequence[Message],
    correlation: Correlation | None = None,
    *,
    aliases: Mapping[str, str] | None = None,
    group: str = "endpoint",
    learn_names: bool = True,
    notes: Sequence[str] = (),
    title: str | None = None,
    geometry: Geometry | None = None,
    colour_by: str = "dialog",
) -> Layout:
    """Compute the ladder of ``messages`` (already selected, in capture order).

    ``correlation`` is the result for the whole capture (its indices are
    :attr:`Message.index` values); without it, retransmissions are found by a simple
    rule, colours follow the Call-ID and no timing brackets are drawn."""
    if group not in GROUPS:
        raise ValueError(f"group must be one of {', '.join(GROUPS)}, not {group!r}")
    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour_by must be one of {', '.join(COLOUR_BY)}, not {colour_by!r}")
    g = geometry or Geometry()
    aliases = {normalise_address(k): v for k, v in (aliases or {}).items()}
    messages = list(messages)

    if correlation is not None:
        retrans = []
        for message in messages:
            link = _link(correlation, message.index)
            retrans.append(link.retransmission if link is not None else False)
    else:
        retrans = _fallback_retransmissions(messages)

    # Columns, named.
    keys = order_columns(messages, retrans, group)
    learned = learned_names(messages) if learn_names else {}
    endpoints_of: dict[str, Endpoint] = {}
    for message in messages:
        for endpoint in (message.src, message.dst):
            endpoints_of.setdefault(_column_key(endpoint, group), endpoint)

    def name_of(key: str) -> str | None:
        ip = endpoints_of[key].ip
        if key in aliases:
            return aliases[key]
        if ip in aliases:
            return aliases[ip]
        learnt = learned.get(ip)
        if learnt is not None:
            return aliases.get(learnt, learnt)
        return None

    def address_of(key: str) -> str:
        return f"[{key}]" if group == "host" and ":" in key else key

    named = [(key, name_of(key), address_of(key)) for key in keys]
    boxes = [
        max(g.text_width(name or "", g.font), g.text_width(address, g.small)) + 16
        for key, name, address in named
    ]

    # Rows: text first (column gaps depend on label widths), geometry after.
    column_of = {key: i for i, key in enumerate(keys)}
    colour_keys = _colour_keys(messages, correlation, colour_by)
    palette_of: dict[str, str] = {}
    legend: list[tuple[str, str]] = []
    for key in colour_keys:
        if key not in palette_of:
            palette_of[key] = PALETTE[len(palette_of) % len(PALETTE)]
            legend.append((palette_of[key], key))

    # Timing intervals before any geometry: whether they all fit decides a note.
    row_of = {m.index: i for i, m in enumerate(messages)}
    intervals: list[_Interval] = []
    placed: list[tuple[_Interval, int]] = []
    lane_widths: list[float] = []
    if correlation is not None and messages:
        intervals = _intervals({m.index: m for m in messages}, correlation, row_of)
        side = [iv for iv in intervals if iv.kind != "hop"]
        side.sort(key=lambda iv: (row_of[iv.start], -row_of[iv.end]))
        lane_ends: list[int] = []
        dropped = 0
        for iv in side:
            r0, r1 = row_of[iv.start], row_of[iv.end]
            lane = next((k for k, end in enumerate(lane_ends) if end < r0), len(lane_ends))
            if lane == MAX_LANES:
                dropped += 1  # beyond this, brackets are a wall, not a help
                continue
            if lane == len(lane_ends):
                lane_ends.append(r1)
                lane_widths.append(0.0)
            lane_ends[lane] = r1
            lane_widths[lane] = max(lane_widths[lane], g.text_width(iv.label, g.small) + 22)
            placed.append((iv, lane))
        if dropped:
            notes = [
                *notes,
                f"{dropped} of {len(side)} timing brackets not drawn (more than {MAX_LANES} "
                "overlap; narrow the ladder with --call-id, --aor or a time window)",
            ]

    drafts: list[Row] = []
    previous_ns: int | None = None
    box_top = g.margin + g.title_height + g.note_line * len(notes)
    top = box_top + g.box_height + 8
    key_of: dict[Endpoint, int] = {}

    def column_index(endpoint: Endpoint) -> int:
        index = key_of.get(endpoint)
        if index is None:
            index = key_of[endpoint] = column_of[_column_key(endpoint, group)]
        return index

    for row, (message, again, colour_key) in enumerate(
        zip(messages, retrans, colour_keys, strict=True)
    ):
        sip = message.sip
        if sip.cseq is None:
            cseq = ""
        elif sip.is_request and sip.cseq.method == sip.method:
            cseq = f"CSeq {sip.cseq.number}"
        else:
            cseq = f"CSeq {sip.cseq.number} {sip.cseq.method}"
        anomalies = tuple(a.code for a in sip.anomalies) + (
            ("truncated",) if message.truncated else ()
        )
        link = _link(correlation, message.index)
        sdp = sdp_summary(sip.sdp) if sip.sdp is not None else None
        height = g.row + (g.extra_line if sdp else 0)
        drafts.append(
            Row(
                index=row,
                message=message.index,
                frame=message.frame,
                file=message.file,
                ts_ns=message.ts_ns,
                delta_ns=None if previous_ns is None else message.ts_ns - previous_ns,
                src=column_index(message.src),
                dst=column_index(message.dst),
                label=sip.label,
                cseq=cseq,
                sdp=sdp,
                retransmission=again,
                colour=palette_of[colour_key],
                colour_key=colour_key,
                anomalies=anomalies,
                detail=message_text(message),
                heading=(
                    f"frame {message.frame} · {date_text(message.ts_ns)} "
                    f"{clock_text(message.ts_ns)} UTC · "
                    f"{message.transport.value.upper()} {message.src} → {message.dst}"
                ),
                is_request=sip.is_request,
                transaction=link.transaction if link is not None else None,
                dialog=link.dialog if link is not None else None,
                y=round(top + 20, 1),
                top=round(top, 1),
                height=height,
            )
        )
        top += height
        previous_ns = message.ts_ns

    # Column gaps: wide enough for the boxes and for the labels of one-gap arrows.
    n = len(keys)
    gaps = [g.min_gap] * max(n - 1, 0)
    for i in range(n - 1):
        gaps[i] = max(gaps[i], (boxes[i] + boxes[i + 1]) / 2 + 10)
    for d in drafts:
        lo, hi = sorted((d.src, d.dst))
        if hi - lo == 1:
            # The SDP line may run past the lifelines (it is drawn with a white halo):
            # counting it would make every ladder with SDP twice as wide.
            need = label_width(d, g) + 24
            gaps[lo] = max(gaps[lo], min(need, g.max_gap))
    x0 = g.margin + g.time_width + max(boxes[0] / 2 if boxes else 0, 40)
    xs = [x0] if keys else []
    for gap in gaps:
        xs.append(xs[-1] + gap)
    # A label wider than its arrow must not run into the time strip: shift right.
    left = min(
        (
            (xs[d.src] + xs[d.dst]) / 2
            - max(label_width(d, g), g.text_width(d.sdp or "", g.small)) / 2
            for d in drafts
            if d.src != d.dst
        ),
        default=x0,
    )
    if left < g.margin + g.time_width:
        shift = g.margin + g.time_width - left
        xs = [x + shift for x in xs]
        x0 += shift
    columns = tuple(
        Column(i, key, address, name, round(xs[i], 1), round(boxes[i], 1))
        for i, (key, name, address) in enumerate(named)
    )

    rows = drafts
    lifeline_end = top + 6
    bottom = lifeline_end + g.margin

    # Brackets.
    brackets: list[Bracket] = []
    if correlation is not None and rows:
        right = (xs[-1] + boxes[-1] / 2 if xs else x0) + g.lane_gap
        lane_x = [right]
        for w in lane_widths:
            lane_x.append(lane_x[-1] + w)
        for iv, lane in placed:
            r0, r1 = row_of[iv.start], row_of[iv.end]
            brackets.append(
                Bracket(
                    iv.kind,
                    iv.label,
                    r0,
                    r1,
                    iv.duration_ns,
                    lane,
                    None,
                    "right",
                    round(lane_x[lane] + 6, 1),
                    rows[r0].y,
                    rows[r1].y,
                )
            )
        for iv in intervals:
            if iv.kind != "hop":
                continue
            r0, r1 = row_of[iv.start], row_of[iv.end]
            node = rows[r1].src  # the node that forwarded the request
            if rows[r0].dst != node:
                continue  # not a hop-by-hop continuation in this column order
            came_from_left = rows[r0].src < node
            offset = -5 if came_from_left else 5
            brackets.append(
                Bracket(
                    "hop",
                    iv.label,
                    r0,
                    r1,
                    iv.duration_ns,
                    0,
                    node,
                    "left" if came_from_left else "right",
                    round(xs[node] + offset, 1),
                    rows[r0].y,
                    rows[r1].y,
                )
            )
        width_right = lane_x[-1] + g.margin
    else:
        width_right = (xs[-1] + boxes[-1] / 2 if xs else x0) + g.margin
    # Long labels of multi-gap arrows never stick out beyond the drawing.
    for r in rows:
        centre = (xs[r.src] + xs[r.dst]) / 2
        half = max(label_width(r, g), g.text_width(r.sdp or "", g.small)) / 2
        width_right = max(width_right, centre + half + g.margin)

    legend_height = (g.extra_line + 4) if legend else 0
    if title is None:
        title = "SIP ladder"
        if messages:
            files = sorted({m.file.replace("\\", "/").rsplit("/", 1)[-1] for m in messages})
            shown = ", ".join(files[:3]) + (f" +{len(files) - 3} files" if len(files) > 3 else "")
            title += f" · {shown} · {date_text(messages[0].ts_ns)} · {len(messages)} messages"
    brackets.sort(key=lambda b: (b.kind == "hop", b.start_row, b.lane, b.end_row, b.x))
    return Layout(
        title=title,
        columns=columns,
        rows=tuple(rows),
        brackets=tuple(brackets),
        notes=tuple(notes),
        legend=tuple(legend),
        width=round(max(width_right, 480.0), 1),
        height=round(bottom + legend_height + g.margin, 1),
        box_top=round(box_top, 1),
        lifeline_end=round(lifeline_end, 1),
        geometry=g,
    )
