"""Writing rows as JSON, CSV or a terminal table: text made safe for where it goes.

Everything a capture contains is untrusted: CSV cells that a spreadsheet would run
as a formula are quoted with a leading apostrophe (OWASP "CSV injection"), and
control characters never reach a terminal raw (they are shown as ``\\xNN``).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from sipladder.rows import Column, ColumnKind, Row, Table

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\x1b]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# JSON escapes C0 controls itself; DEL and the C1 controls (0x9b is a one-byte CSI on some
# terminals) pass raw unless escaped, which \uXXXX does without changing the data.
_JSON_RAW_CONTROL = re.compile(r"[\x7f-\x9f]")


def seconds_text(ns: int) -> str:
    """Exact decimal seconds of an integer nanosecond value, trailing zeros trimmed."""
    if ns >= 1_000_000_000:
        # every epoch time: the integer's own digits, a point before the last nine (about
        # two thirds of the time of divmod and formatting on 61-bit integers)
        digits = int.__repr__(ns)
        return digits[:-9] + "." + (digits[-9:].rstrip("0") or "0")
    sign = "-" if ns < 0 else ""
    whole, frac = divmod(abs(ns), 1_000_000_000)
    text = f"{sign}{whole}.{frac:09d}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def ms_value(ns: int) -> float:
    return round(ns / 1_000_000, 6)


def s_value(ns: int) -> float:
    return round(ns / 1_000_000_000, 9)


# JSON text of ms_value and s_value. From 1 ms (1 s) to 10**15 ns, the text is the exact
# decimal of the integer: ns / 10**6 has at most 15 significant digits there, so its float
# is within half a unit in the 6th decimal place (round() gives it back unchanged) and no
# shorter decimal reads as the same float (a double tells apart all decimals of 15
# digits), which is what float.__repr__ writes, in plain notation from 1e-4 to 1e16.
# tests/test_output.py compares them on random and boundary values.


def ms_text(ns: int) -> str:
    """``float.__repr__(ms_value(ns))``, from the integer's digits where that is exact."""
    if type(ns) is int and 1_000_000 <= ns < 1_000_000_000_000_000:
        digits = int.__repr__(ns)
        return digits[:-6] + "." + (digits[-6:].rstrip("0") or "0")
    return float.__repr__(round(ns / 1_000_000, 6))


def s_text(ns: int) -> str:
    """``float.__repr__(s_value(ns))``, from the integer's digits where that is exact."""
    if type(ns) is int and 1_000_000_000 <= ns < 1_000_000_000_000_000:
        digits = int.__repr__(ns)
        return digits[:-9] + "." + (digits[-9:].rstrip("0") or "0")
    return float.__repr__(round(ns / 1_000_000_000, 9))


def terminal_safe(text: str) -> str:
    """Replace control characters (escape sequences among them) by visible ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def json_safe(text: str) -> str:
    """JSON text with DEL and C1 control characters written as ``\\u00XX`` escapes
    (they can only occur inside strings, so the decoded data is the same)."""
    # an ASCII text holds no C1 control; both tests run at C speed over the whole text,
    # several times faster than the regular expression's scan
    if (text.isascii() and "\x7f" not in text) or _JSON_RAW_CONTROL.search(text) is None:
        return text
    return _JSON_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def csv_safe(text: str) -> str:
    """Defuse spreadsheet formulas: a cell starting with = + - @ gets a leading apostrophe.

    A plain negative number is left alone: it is data, not a formula; so is a lone ``-``
    (standard input's file name), which no spreadsheet evaluates."""
    if text.startswith(_FORMULA_START) and text != "-":
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


# One encoder for every value (json.dumps with keyword arguments builds a new encoder per
# call, which cost more than the rest of the JSON output); strings and ints, nearly every
# cell, go straight to the same C functions json.dumps would reach.
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
_ENCODE_STR: Callable[[str], str] = getattr(json.encoder, "c_encode_basestring", None) or (
    json.encoder.py_encode_basestring
)


def _json_value(kind: ColumnKind, value: Any) -> str:
    """One JSON value as text. Times are written as exact decimal numbers (a float
    would lose nanoseconds: an epoch time needs 19 significant digits)."""
    if value is None:
        return "null"
    if kind is ColumnKind.TIME:
        return seconds_text(value)
    if kind is ColumnKind.DURATION_MS:
        value = ms_value(value)
    elif kind is ColumnKind.DURATION_S:
        value = s_value(value)
    cls = type(value)
    if cls is str:
        return _ENCODE_STR(value)
    if cls is int:
        return int.__repr__(value)
    return _ENCODE(value)


#: Each column kind's JSON text of a cell ``{v}`` as a Python expression: the kind tests of
#: :func:`_json_value` done once per table, the common cases (strings and ints, nearly every
#: cell) straight to the C functions json would reach, anything else through
#: :func:`_json_value` (``{k}`` names the kind). :func:`_json_writer` (a cell) and
#: :func:`json_row_writer` (a whole row) are generated from these, so both write the same.
_JSON_CELL: dict[ColumnKind, str] = {
    ColumnKind.TIME: "'null' if {v} is None else _seconds_text({v})",
    ColumnKind.STR: "'null' if {v} is None else _encode_str({v}) if type({v}) is str"
    " else _json_value({k}, {v})",
    ColumnKind.INT: "'null' if {v} is None else _int_repr({v}) if type({v}) is int"
    " else _json_value({k}, {v})",
    # a float from an int, never NaN or infinite: json writes float.__repr__ itself
    ColumnKind.DURATION_MS: "'null' if {v} is None else _ms_text({v})",
    ColumnKind.DURATION_S: "'null' if {v} is None else _s_text({v})",
    ColumnKind.BOOL: "'null' if {v} is None else ('true' if {v} else 'false')"
    " if type({v}) is bool else _json_value({k}, {v})",
    ColumnKind.LIST: "_json_list({v})",
}
_GENERIC_CELL = "_json_value({k}, {v})"


def _generated(source: str, name: str) -> Any:
    """The function ``name`` defined by ``source``, with the helpers its cells call."""
    namespace: dict[str, Any] = {
        "_seconds_text": seconds_text,
        "_encode_str": _ENCODE_STR,
        "_int_repr": int.__repr__,
        "_ms_text": ms_text,
        "_s_text": s_text,
        "_json_value": _json_value,
        "_json_list": _json_list,
        **{f"_kind_{kind.name}": kind for kind in ColumnKind},
    }
    exec(source, namespace)  # noqa: S102 - our own text, from the column kinds only
    return namespace[name]


def _cell(kind: ColumnKind, variable: str) -> str:
    return _JSON_CELL.get(kind, _GENERIC_CELL).format(v=variable, k=f"_kind_{kind.name}")


def _json_writer(kind: ColumnKind) -> Callable[[Any], str]:
    """:func:`_json_value` for one column kind, with the kind tests done once (the output
    of ``calls`` on a big capture is half a million cells)."""
    source = f"def write(v):\n    return {_cell(kind, 'v')}\n"
    return _generated(source, "write")  # type: ignore[no-any-return]


def _json_list(value: Any) -> str:
    """A list of ints as json writes it (", " between items); anything else through json."""
    if type(value) is list:
        for item in value:
            if type(item) is not int:
                break
        else:
            return list.__repr__(value)  # "[1, 2]": the ints' reprs, as json writes them
    return _json_value(ColumnKind.LIST, value)


@functools.lru_cache(maxsize=64)
def json_row_writer(table: Table, values: tuple[str, ...] | None = None) -> Callable[[Any], str]:
    """The JSON object of one row of ``table`` (every column, in order, ``null`` for a
    missing one), before :func:`json_safe`: one function generated per table, as
    :mod:`dataclasses` generates ``__init__``, with each column's cell written inline
    (a function call per cell cost more than the text it made). The same text as joining
    :func:`_json_value` of each cell (tests/test_output.py compares them).

    With ``values`` (one Python expression per column, on ``record``), it writes a record
    instead of a row, each cell from its expression: the calls of a big capture are
    written without making a row dict of each (see :data:`sipladder.rows.CALL_VALUES`).
    """
    if values is None:  # (``get`` bound once per row)
        values = tuple(f"get({column.name!r})" for column in table.columns)
        return _record_writer(table.columns, values, "{", "}", "get = record.get")
    return _record_writer(table.columns, values, "{", "}")


def _record_writer(
    columns: tuple[Column, ...],
    values: tuple[str, ...],
    opening: str,
    closing: str,
    prologue: str = "pass",
) -> Callable[[Any], str]:
    """The generated writer of ``columns`` (``values`` each one's expression, after the
    statement ``prologue``), its text between ``opening`` and ``closing``."""
    lines = ["def write_row(record):", f"    {prologue}"]
    pieces = []
    for number, (column, value) in enumerate(zip(columns, values, strict=True)):
        cell = f"c{number}"
        lines.append(f"    {cell} = {value}")
        lines.append(f"    {cell} = {_cell(column.kind, cell)}")
        pieces += [repr((opening if number == 0 else ", ") + json.dumps(column.name) + ": "), cell]
    pieces.append(repr(closing if pieces else opening + closing))
    lines.append(f"    return ''.join(({', '.join(pieces)},))")
    return _generated("\n".join(lines) + "\n", "write_row")  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=16)
def json_record_writers(
    table: Table, values: tuple[str, ...], split: int
) -> tuple[Callable[[Any], str], Callable[[Any], str]]:
    """:func:`json_row_writer` of records in two halves: ``head(record)`` writes the
    columns before ``split``, ``tail(record)`` those from ``split`` on, and
    ``head(r) + tail(r) == json_row_writer(table, values)(r)``. The two may be given
    different objects, each needing only what its own columns' ``values`` read: the
    streaming ``calls`` path writes a call's head in the worker that correlated it, and
    its tail (the dialog and transaction ids, known only once every worker has ended)
    in the parent (:class:`sipladder.streaming.CallText`)."""
    if not 0 < split < len(table.columns):
        raise ValueError(f"split {split} is not inside the {len(table.columns)} columns")
    columns = table.columns
    return (
        _record_writer(columns[:split], values[:split], "{", ""),
        _record_writer(columns[split:], values[split:], ", ", "}"),
    )


#: Rows joined into one piece of :func:`iter_json` (one json_safe scan, one write).
_JSON_ROWS_PER_PIECE = 256


def iter_json(
    table: Table, rows: Iterable[Any], values: tuple[str, ...] | None = None
) -> Iterator[str]:
    """:func:`to_json` in pieces of a few hundred rows, so that a long table is written as
    its rows come and never held as one text (of records instead of rows with ``values``:
    see :func:`json_row_writer`)."""
    return iter_json_objects(map(json_row_writer(table, values), rows))


def iter_json_objects(objects: Iterable[str]) -> Iterator[str]:
    """The JSON array of ``objects`` (each one's text, as :func:`json_row_writer` writes
    it), in the pieces :func:`iter_json` gives."""
    piece: list[str] = []
    separator = "[\n "
    for text in objects:
        piece.append(text)
        if len(piece) == _JSON_ROWS_PER_PIECE:
            yield json_safe(separator + ",\n ".join(piece))
            piece.clear()
            separator = ",\n "
    if piece:
        yield json_safe(separator + ",\n ".join(piece))
        separator = ",\n "
    yield "[]\n" if separator == "[\n " else "\n]\n"


def to_json(table: Table, rows: Iterable[Row]) -> str:
    """A JSON array of objects, one per row, every declared column present."""
    return "".join(iter_json(table, rows))


def plain_text(kind: ColumnKind, value: Any, *, for_terminal: bool = False) -> str:
    if value is None:
        return "" if not for_terminal else "-"
    if kind is ColumnKind.TIME:
        if for_terminal:
            moment = datetime.fromtimestamp(value // 1_000_000_000, tz=UTC)
            return moment.strftime("%H:%M:%S") + f".{(value % 1_000_000_000) // 1000:06d}"
        return seconds_text(value)
    if kind is ColumnKind.DURATION_MS:
        return f"{value / 1_000_000:.3f}" if for_terminal else repr(ms_value(value))
    if kind is ColumnKind.DURATION_S:
        return f"{value / 1_000_000_000:.3f}" if for_terminal else repr(s_value(value))
    if kind is ColumnKind.FLOAT and for_terminal:
        return f"{value:.3f}"
    if kind is ColumnKind.LIST:
        return ",".join(str(v) for v in value)
    if kind is ColumnKind.BOOL:
        return ("yes" if value else "no") if for_terminal else ("true" if value else "false")
    return str(value)


def iter_csv(table: Table, rows: Iterable[Row]) -> Iterator[str]:
    """:func:`to_csv` in pieces: the header line, then a line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.names)
    for row in rows:
        writer.writerow([csv_safe(plain_text(c.kind, row.get(c.name))) for c in table.columns])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def to_csv(table: Table, rows: Iterable[Row]) -> str:
    return "".join(iter_csv(table, rows))


#: Terminal-only headers for names far longer than what their column holds (JSON, CSV
#: and DataFrames keep the full names).
SHORT_HEADERS = {
    "retransmission": "retx",
    "retransmissions": "retx",
    "transaction": "tx",
    "transactions": "txs",
}


def header_lines(name: str, content_width: int) -> list[str]:
    """A column name over as few lines as its content's width allows: split only at
    underscores, so ``final_status`` above a 3-digit code reads ``final`` / ``status``."""
    if len(name) <= content_width or "_" not in name:
        return [name]
    parts = name.split("_")
    limit = max(content_width, max(len(p) for p in parts))
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 1 + len(part) <= limit:
            lines[-1] += "_" + part
        else:
            lines.append(part)
    return lines


#: Per table, the terminal columns given up first when even shortened text columns do not
#: fit, least useful first (JSON and CSV keep them all). A name ending in ``?`` goes only
#: when none of its cells says anything (all empty or ``-``).
DROP_ORDER: dict[str, tuple[str, ...]] = {
    "messages": ("transaction", "anomalies?", "reason", "retransmission", "cseq", "call_id"),
    "transactions": (
        "retransmissions",
        "hop",
        "return_ms",
        "forward_ms",
        "provisional_ms",
        "state",
    ),
    "calls": ("release_ms", "answer_ms", "state", "start"),
    "registrations": ("challenged", "expires", "kind", "contact"),
    "dialogs": ("from_tag", "to_tag", "messages", "early_ms", "confirmed_s"),
    "lint": ("scope", "file"),
    "metrics": ("numerator", "samples", "p95_ms", "median_ms", "group"),
}

_NUMERIC = {ColumnKind.INT, ColumnKind.FLOAT, ColumnKind.DURATION_MS, ColumnKind.DURATION_S}
_GAP = 2


def _fit_widths(
    kinds: Sequence[ColumnKind], content: Sequence[int], headers: Sequence[list[str]], width: int
) -> tuple[list[int], bool]:
    """Column widths, text columns shortened toward ``width``; and whether they fit."""
    widths = [max(content[i], *(len(h) for h in headers[i])) for i in range(len(kinds))]
    # Times and numbers are never cut (a cut number lies); text columns give way, the
    # widest first, down to 8 characters or their header.
    shrinkable = [i for i, k in enumerate(kinds) if k in (ColumnKind.STR, ColumnKind.LIST)]
    while shrinkable and sum(widths) + _GAP * (len(widths) - 1) > width:
        i = max(shrinkable, key=lambda k: widths[k])
        if widths[i] <= max(8, *(len(h) for h in headers[i])):
            break
        widths[i] -= 1
    return widths, sum(widths) + _GAP * (len(widths) - 1) <= width


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def to_table(table: Table, rows: Sequence[Row], width: int | None = None) -> str:
    """An aligned text table that fits ``width`` columns: long names wrap at underscores,
    then the widest text cells are shortened (never times or numbers), then the columns
    of :data:`DROP_ORDER` are left out (a last line names them); no line is wider."""
    width = width or shutil.get_terminal_size((120, 24)).columns
    columns = [c for c in table.columns if c.in_table]
    cells = [
        [terminal_safe(plain_text(c.kind, row.get(c.name), for_terminal=True)) for c in columns]
        for row in rows
    ]
    content = [0] * len(columns)
    for line in cells:
        for i, cell in enumerate(line):
            content[i] = max(content[i], len(cell))
    headers = [
        header_lines(SHORT_HEADERS.get(c.name, c.name), content[i]) for i, c in enumerate(columns)
    ]
    keep = list(range(len(columns)))
    dropped: list[str] = []
    kinds = [c.kind for c in columns]
    widths, fits = _fit_widths(kinds, content, headers, width)
    for entry in DROP_ORDER.get(table.name, ()):
        if fits:
            break
        name = entry.rstrip("?")
        where = [i for i in keep if columns[i].name == name]
        if not where:
            continue
        if entry.endswith("?") and any(line[where[0]] not in ("", "-") for line in cells):
            continue
        keep.remove(where[0])
        dropped.append(name)
        widths, fits = _fit_widths(
            [kinds[i] for i in keep], [content[i] for i in keep], [headers[i] for i in keep], width
        )
    if dropped:
        columns = [columns[i] for i in keep]
        cells = [[line[i] for i in keep] for line in cells]
        headers = [headers[i] for i in keep]

    def fmt(i: int, text: str) -> str:
        text = _cut(text, widths[i])
        return text.rjust(widths[i]) if columns[i].kind in _NUMERIC else text.ljust(widths[i])

    sep = " " * _GAP
    depth = max((len(h) for h in headers), default=1)
    lines = []
    for level in range(depth):
        # headers sit on the bottom line, the way a wrapped spreadsheet header does
        texts = [h[level - (depth - len(h))] if level >= depth - len(h) else "" for h in headers]
        lines.append(sep.join(fmt(i, t) for i, t in enumerate(texts)).rstrip())
    lines.append(sep.join("-" * w for w in widths))
    for line in cells:
        lines.append(sep.join(fmt(i, cell) for i, cell in enumerate(line)).rstrip())
    if dropped:
        lines.append(f"(not shown at width {width}: {', '.join(dropped)})")
    # Whatever still does not fit (numbers and times are never cut inside the table) is
    # cut at the edge rather than wrapped by the terminal into a second line.
    return "\n".join(_cut(line, width) for line in lines) + "\n"


def write_rows(table: Table, rows: Iterable[Row], fmt: str, stream: TextIO) -> None:
    """``rows`` in ``fmt`` on ``stream``: JSON and CSV as the rows come (a generator of rows
    is never held whole), the terminal table once all are known (for its column widths)."""
    if fmt == "json":
        for piece in iter_json(table, rows):
            stream.write(piece)
    elif fmt == "csv":
        # CSV has no escapes: raw for files and pipes, visible \xNN on a terminal
        safe = terminal_safe if stream.isatty() else None
        for piece in iter_csv(table, rows):
            stream.write(safe(piece) if safe else piece)
    else:
        stream.write(to_table(table, list(rows)))


def write_json_records(
    table: Table, records: Iterable[Any], values: tuple[str, ...], stream: TextIO
) -> None:
    """What ``write_rows(table, rows, "json", stream)`` writes of the records' rows, from
    the records themselves: ``values`` is each column's value as an expression on
    ``record`` (the same as the table's row function gives, which the caller's tests must
    show)."""
    for piece in iter_json(table, records, values):
        stream.write(piece)
