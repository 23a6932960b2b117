"""Records to plain rows, with every table's columns declared once.

A :class:`Column` says what a value is (a time, a duration, a count, ...), so each
edge converts it its own way: JSON writes epoch seconds and milliseconds,
pandas gets datetimes and timedeltas (:mod:`sipladder.tables`), the terminal
table a readable clock time. Inside a row, times and durations stay integer
nanoseconds; ``None`` means "did not happen in the capture", never zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sipladder.model import Message

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
    ),
)


def message_row(message: Message) -> Row:
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
    }


def rows(records: Iterable[Any], make_row: Callable[[Any], Row]) -> list[Row]:
    return [make_row(record) for record in records]
