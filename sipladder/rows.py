"""Records to plain rows, with every table's columns declared once.

A :class:`Column` says what a value is (a time, a duration, a count, ...), so each
edge converts it its own way: JSON writes epoch seconds and milliseconds,
pandas gets datetimes and timedeltas (:mod:`sipladder.tables`), the terminal
table a readable clock time. Inside a row, times and durations stay integer
nanoseconds; ``None`` means "did not happen in the capture", never zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sipladder.analysis.metrics import BY_NAME as METRIC_DEFINITIONS
from sipladder.analysis.metrics import MetricKind, MetricValue
from sipladder.model import Call, Dialog, Message, Registration, Transaction

if TYPE_CHECKING:
    from sipladder.correlate import MessageLinks

Row = dict[str, Any]


class ColumnKind(StrEnum):
    INT = "int"
    FLOAT = "float"
    STR = "str"
    BOOL = "bool"
    LIST = "list"  #: a list of strings or ints
    TIME = "time"  #: integer ns since the epoch; JSON: epoch seconds; pandas: datetime (UTC)
    DURATION_MS = "ms"  #: integer ns; JSON: milliseconds; pandas: timedelta
    DURATION_S = "s"  #: integer ns; JSON: seconds; pandas: timedelta


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: ColumnKind
    doc: str
    in_table: bool = True  #: shown in the terminal table (JSON and CSV always have every column)


@dataclass(frozen=True, slots=True)
class Table:
    """A named list of columns and the function that turns one record into a row."""

    name: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, kind: ColumnKind, doc: str, in_table: bool = True) -> Column:
    return Column(name, kind, doc, in_table)


K = ColumnKind

# --------------------------------------------------------------------------- messages

MESSAGES = Table(
    "messages",
    (
        _c("frame", K.INT, "1-based frame number in its file (the frame completing the message)"),
        _c("file", K.STR, "the capture file, as given", in_table=False),
        _c("ts", K.TIME, "capture time of that frame; JSON: epoch seconds, full capture precision"),
        _c("src", K.STR, "sender, ip:port ([v6]:port for IPv6)"),
        _c("dst", K.STR, "receiver, ip:port"),
        _c("transport", K.STR, "udp, tcp, tls, ws, wss or sctp", in_table=False),
        _c("kind", K.STR, "request or response", in_table=False),
        _c("method", K.STR, "request method as written; for a response, its CSeq method"),
        _c("status", K.INT, "response status code; null for requests"),
        _c("reason", K.STR, "response reason phrase; null for requests"),
        _c("call_id", K.STR, "Call-ID"),
        _c("cseq", K.INT, "CSeq number"),
        _c("from_tag", K.STR, "From tag", in_table=False),
        _c("to_tag", K.STR, "To tag", in_table=False),
        _c("branch", K.STR, "branch parameter of the top Via", in_table=False),
        _c("anomalies", K.LIST, "codes of what is wrong with the message"),
        _c("transaction", K.INT, "id of its transaction (see `transactions`); null if none"),
        _c("dialog", K.INT, "id of its dialog (see `dialogs`); null if none", in_table=False),
        _c("retransmission", K.BOOL, "the same message sent again on the same hop"),
    ),
)


def message_row(message: Message, links: MessageLinks | None = None) -> Row:
    sip = message.sip
    return {
        "frame": message.frame,
        "file": message.file,
        "ts": message.ts_ns,
        "src": str(message.src),
        "dst": str(message.dst),
        "transport": message.transport.value,
        "kind": sip.kind.value,
        "method": sip.method if sip.is_request else sip.cseq_method,
        "status": sip.status,
        "reason": sip.reason,
        "call_id": sip.call_id,
        "cseq": sip.cseq.number if sip.cseq else None,
        "from_tag": sip.from_tag,
        "to_tag": sip.to_tag,
        "branch": sip.branch,
        "anomalies": [a.code for a in sip.anomalies],
        "transaction": links.transaction if links else None,
        "dialog": links.dialog if links else None,
        "retransmission": links.retransmission if links else None,
    }


# --------------------------------------------------------------------------- correlation

CALLS = Table(
    "calls",
    (
        _c("call_id", K.STR, "Call-ID"),
        _c("caller", K.STR, "From URI of the initial INVITE"),
        _c("callee", K.STR, "To URI of the initial INVITE"),
        _c("state", K.STR, "completed, answered, cancelled, redirected, rejected or incomplete"),
        _c("final_status", K.INT, "first final response to the initial INVITE (after challenges)"),
        _c("start", K.TIME, "first message of the Call-ID"),
        _c("end", K.TIME, "last message of the Call-ID", in_table=False),
        _c("messages", K.INT, "number of messages with this Call-ID, retransmissions included",
           in_table=False),
        _c("retransmissions", K.INT, "how many of them were retransmissions", in_table=False),
        _c("pdd_ms", K.DURATION_MS, "INVITE to the first response other than 100"),
        _c("answer_ms", K.DURATION_MS, "INVITE to the first 2xx"),
        _c("release_ms", K.DURATION_MS, "BYE to its final response"),
        _c("duration_s", K.DURATION_S, "first 2xx to the BYE"),
        _c("dialogs", K.INT, "number of dialogs (more than one when the INVITE forked)",
           in_table=False),
        _c("challenged", K.BOOL, "the INVITE got a 401/407 and was sent again", in_table=False),
        _c("dialog_ids", K.LIST, "ids of the dialogs (see `dialogs`)", in_table=False),
        _c("transaction_ids", K.LIST, "ids of the transactions, all hops", in_table=False),
    ),
)


def call_row(call: Call) -> Row:
    return {
        "call_id": call.call_id,
        "caller": call.caller,
        "callee": call.callee,
        "state": call.state.value,
        "final_status": call.final_status,
        "start": call.start_ns,
        "end": call.end_ns,
        "messages": len(call.messages),
        "retransmissions": call.retransmissions,
        "pdd_ms": call.pdd_ns,
        "answer_ms": call.answer_ns,
        "release_ms": call.release_ns,
        "duration_s": call.duration_ns,
        "dialogs": len(call.dialogs),
        "challenged": call.challenged,
        "dialog_ids": list(call.dialogs),
        "transaction_ids": list(call.transactions),
    }


#: What :func:`call_row` gives each column of :data:`CALLS`, as a Python expression on a
#: Call named ``record``: ``sipladder calls --format json`` writes the calls through these
#: (:func:`sipladder.output.write_json_records`) without making a row of each, the same
#: text (tests/test_output.py compares them).
CALL_VALUES = (
    "record.call_id",
    "record.caller",
    "record.callee",
    "record.state.value",
    "record.final_status",
    "record.start_ns",
    "record.end_ns",
    "len(record.messages)",
    "record.retransmissions",
    "record.pdd_ns",
    "record.answer_ns",
    "record.release_ns",
    "record.duration_ns",
    "len(record.dialogs)",
    "record.challenged",
    "list(record.dialogs)",
    "list(record.transactions)",
)
#: Where :data:`CALL_VALUES` reach the ids (dialogs, transactions), and only they do from
#: there to the end: the columns a worker of the streaming path cannot write
#: (:class:`sipladder.streaming.CallText`).
CALL_IDS_FROM = CALL_VALUES.index("list(record.dialogs)")


REGISTRATIONS = Table(
    "registrations",
    (
        _c("id", K.INT, "0-based, in order of the first REGISTER", in_table=False),
        _c("aor", K.STR, "address of record (To URI)"),
        _c("contact", K.STR, "Contact URI(s) registered, comma-separated; null for a query"),
        _c("call_ids", K.LIST, "Call-IDs of the attempt's REGISTERs (may change after a challenge)",
           in_table=False),
        _c("kind", K.STR, "initial, refresh, deregistration or query"),
        _c("state", K.STR, "registered, deregistered, failed or incomplete"),
        _c("final_status", K.INT, "final response to the last REGISTER of the attempt"),
        _c("challenged", K.BOOL, "a 401/407 challenge was part of the attempt"),
        _c("delay_ms", K.DURATION_MS, "first REGISTER to the final 2xx, across challenges"),
        _c("expires", K.INT, "seconds granted by the 2xx (else asked for)"),
        _c("start", K.TIME, "first REGISTER of the attempt"),
        _c("messages", K.INT, "number of messages, all hops", in_table=False),
    ),
)


def registration_row(registration: Registration) -> Row:
    return {
        "id": registration.id,
        "aor": registration.aor,
        "contact": registration.contact,
        "call_ids": list(registration.call_ids),
        "kind": registration.kind.value,
        "state": registration.state.value,
        "final_status": registration.final_status,
        "challenged": registration.challenged,
        "delay_ms": registration.delay_ns,
        "expires": registration.expires,
        "start": registration.start_ns,
        "messages": len(registration.messages),
    }


TRANSACTIONS = Table(
    "transactions",
    (
        _c("id", K.INT, "0-based, in order of the first request copy"),
        _c("method", K.STR, "request method (ACK: an ACK for a 2xx, which is its own row)"),
        _c("call_id", K.STR, "Call-ID", in_table=False),
        _c("cseq", K.INT, "CSeq number", in_table=False),
        _c("branch", K.STR, "top Via branch", in_table=False),
        _c("client", K.STR, "sender of the request on this hop"),
        _c("server", K.STR, "receiver of the request on this hop"),
        _c("state", K.STR, "calling/trying, proceeding, completed, confirmed or terminated"),
        _c("final_status", K.INT, "first final response"),
        _c("start", K.TIME, "first copy of the request"),
        _c("provisional_ms", K.DURATION_MS, "request to the first provisional response, this hop"),
        _c("final_ms", K.DURATION_MS, "request to the first final response, this hop"),
        _c("retransmissions", K.INT, "retransmitted requests and responses"),
        _c("group", K.INT, "request group: the hops of one request share it", in_table=False),
        _c("hop", K.INT, "0 for the first hop of the request in the capture, 1 for the next, ..."),
        _c("parent", K.INT, "transaction of the previous hop", in_table=False),
        _c("forward_ms", K.DURATION_MS, "delay the previous node added passing the request on"),
        _c("return_ms", K.DURATION_MS, "delay the previous node added passing the final back"),
        _c("dialog", K.INT, "its dialog, if any", in_table=False),
        _c("cancels", K.INT, "for a CANCEL: the INVITE transaction it cancels", in_table=False),
        _c("rfc2543", K.BOOL, "matched by the RFC 2543 rules (no magic cookie)", in_table=False),
        _c("messages", K.INT, "number of messages", in_table=False),
    ),
)


def transaction_row(tx: Transaction, all_transactions: Sequence[Transaction]) -> Row:
    from sipladder.analysis.timings import (
        forward_delay,
        return_delay,
        to_final,
        to_first_provisional,
    )

    parent = all_transactions[tx.parent] if tx.parent is not None else None
    return {
        "id": tx.id,
        "method": tx.method,
        "call_id": tx.call_id,
        "cseq": tx.cseq,
        "branch": tx.branch,
        "client": str(tx.client),
        "server": str(tx.server),
        "state": tx.state.value,
        "final_status": tx.final_status,
        "start": tx.start_ns,
        "provisional_ms": to_first_provisional(tx),
        "final_ms": to_final(tx),
        "retransmissions": tx.retransmissions,
        "group": tx.request_group,
        "hop": tx.hop,
        "parent": tx.parent,
        "forward_ms": forward_delay(tx, parent) if parent else None,
        "return_ms": return_delay(tx, parent) if parent else None,
        "dialog": tx.dialog,
        "cancels": tx.cancels,
        "rfc2543": tx.rfc2543,
        "messages": len(tx.messages),
    }


DIALOGS = Table(
    "dialogs",
    (
        _c("id", K.INT, "0-based, in order of creation"),
        _c("call_id", K.STR, "Call-ID"),
        _c("from_tag", K.STR, "tag of the side that sent the creating request"),
        _c("to_tag", K.STR, "tag of the side that answered"),
        _c("method", K.STR, "method of the creating request (INVITE, SUBSCRIBE, ...)"),
        _c("state", K.STR, "last state: early, confirmed or terminated"),
        _c("history", K.LIST, "states in the order they were reached", in_table=False),
        _c("start", K.TIME, "the message that created it"),
        _c("confirmed", K.TIME, "when it became confirmed; null if never", in_table=False),
        _c("end", K.TIME, "when it was terminated; null if not in the capture", in_table=False),
        _c("early_ms", K.DURATION_MS, "time spent early (created to confirmed or terminated)"),
        _c("confirmed_s", K.DURATION_S, "time spent confirmed (confirmed to terminated)"),
        _c("transactions", K.INT, "number of transactions", in_table=False),
        _c("messages", K.INT, "number of messages"),
    ),
)


def dialog_row(dialog: Dialog) -> Row:
    from sipladder.model import DialogState

    times = {change.state: change.ts_ns for change in dialog.history}
    early = times.get(DialogState.EARLY)
    confirmed = times.get(DialogState.CONFIRMED)
    ended = times.get(DialogState.TERMINATED)
    early_end = confirmed if confirmed is not None else ended
    return {
        "id": dialog.id,
        "call_id": dialog.call_id,
        "from_tag": dialog.from_tag,
        "to_tag": dialog.to_tag,
        "method": dialog.method,
        "state": dialog.state.value,
        "history": [change.state.value for change in dialog.history],
        "start": dialog.start_ns,
        "confirmed": confirmed,
        "end": dialog.end_ns,
        "early_ms": early_end - early if early is not None and early_end is not None else None,
        "confirmed_s": ended - confirmed if confirmed is not None and ended is not None else None,
        "transactions": len(dialog.transactions),
        "messages": len(dialog.messages),
    }


# --------------------------------------------------------------------------- lint

LINT = Table(
    "lint",
    (
        _c("file", K.STR, "the capture file, as given"),
        _c("frame", K.INT, "1-based frame number in its file; null for a file-level problem"),
        _c("ts", K.TIME, "capture time of the message; null for capture problems", in_table=False),
        _c("severity", K.STR, "error, warning or info"),
        _c("code", K.STR, "stable code (see README, section lint)"),
        _c("scope", K.STR, "capture, message, transaction or dialog"),
        _c("call_id", K.STR, "Call-ID of the message, if any", in_table=False),
        _c("transaction", K.INT, "id of its transaction (see `transactions`)", in_table=False),
        _c("message", K.STR, "what is wrong and what was expected"),
    ),
)


SUMMARY = Table(
    "summary",
    (
        _c("section", K.STR, "part of the summary (capture, methods, calls.by_state, ...)"),
        _c("name", K.STR, "what is counted"),
        _c("value", K.STR, "the number or text"),
    ),
)


# --------------------------------------------------------------------------- metrics

METRICS = Table(
    "metrics",
    (
        _c("metric", K.STR, "short code: rrd, ira, srd_success, srd_failure, sdd_success, "
           "sdd_failure, sdt, ser, seer, isa, scr, ssr"),
        _c("section", K.STR, "RFC 6076 section", in_table=False),
        _c("title", K.STR, "the metric's name in RFC 6076", in_table=False),
        _c("scope", K.STR, "capture, bucket, caller_domain or callee_domain"),
        _c("group", K.STR, "all, the bucket's start (ISO 8601, UTC) or the domain"),
        _c("unit", K.STR, "ms for delays (mean), % for ratios"),
        _c("value", K.FLOAT, "mean delay in ms, or the ratio in percent; null: nothing measured"),
        _c("samples", K.INT, "delays measured, or the ratio's denominator"),
        _c("numerator", K.INT, "for ratios: the count above the line"),
        _c("median_ms", K.FLOAT, "for delays: the median"),
        _c("p95_ms", K.FLOAT, "for delays: the 95th percentile (nearest rank)"),
        _c("max_ms", K.FLOAT, "for delays: the largest"),
    ),
)


def metric_row(value: MetricValue) -> Row:
    definition = METRIC_DEFINITIONS[value.metric]
    return {
        "metric": value.metric,
        "section": definition.section,
        "title": definition.title,
        "scope": value.scope,
        "group": value.group,
        "unit": "ms" if definition.kind is MetricKind.DELAY else "%",
        "value": value.value,
        "samples": value.samples,
        "numerator": value.numerator,
        "median_ms": value.median_ms,
        "p95_ms": value.p95_ms,
        "max_ms": value.max_ms,
    }


def rows(records: Iterable[Any], make_row: Callable[[Any], Row]) -> list[Row]:
    return [make_row(record) for record in records]
