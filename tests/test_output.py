"""Tests for sipladder.output: JSON/CSV/table writing and the escaping of untrusted text."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipladder.model import Call, CallState
from sipladder.output import (
    _json_value,
    _json_writer,
    csv_safe,
    seconds_text,
    terminal_safe,
    to_csv,
    to_json,
    to_table,
    write_rows,
)
from sipladder.rows import CALLS, Column, ColumnKind, Table

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

TABLE = Table(
    "t",
    (
        Column("ts", ColumnKind.TIME, "time"),
        Column("name", ColumnKind.STR, "text"),
        Column("n", ColumnKind.INT, "count"),
        Column("delay", ColumnKind.DURATION_MS, "ms"),
        Column("codes", ColumnKind.LIST, "list"),
        Column("hidden", ColumnKind.STR, "not in table", in_table=False),
    ),
)


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (1_700_000_000_123_456_789, "1700000000.123456789"),
        (1_700_000_000_123_456_000, "1700000000.123456"),
        (1_700_000_000_000_000_000, "1700000000.0"),
        (5, "0.000000005"),
        (-1_500_000_000, "-1.5"),
    ],
    ids=["ns", "us-trailing-zeros", "whole", "tiny", "negative"],
)
def test_seconds_text_is_exact(ns: int, text: str) -> None:
    assert seconds_text(ns) == text


def test_json_keeps_nanoseconds_and_nulls() -> None:
    rows = [{"ts": 1_700_000_000_123_456_789, "name": "a\"b", "n": None, "delay": 1_500_000,
             "codes": ["x"], "hidden": "h"}]
    text = to_json(TABLE, rows)
    assert '"ts": 1700000000.123456789' in text
    data = json.loads(text)
    assert data == [{"ts": pytest.approx(1700000000.1234567), "name": 'a"b', "n": None,
                     "delay": 1.5, "codes": ["x"], "hidden": "h"}]


def test_json_of_nothing_is_an_empty_array() -> None:
    assert json.loads(to_json(TABLE, [])) == []


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1+2", "'+1+2"), ("-cmd", "'-cmd"),
     ("@SUM(A1)", "'@SUM(A1)"), ("-12.5", "-12.5"), ("plain", "plain"), ("-", "-"),
     ("-+1", "'-+1")],
    ids=["equals", "plus", "minus-text", "at", "negative-number", "plain", "stdin-name",
         "minus-formula"],
)
def test_csv_defuses_formulas(cell: str, expected: str) -> None:
    assert csv_safe(cell) == expected


def test_csv_round_trips_through_the_csv_module() -> None:
    rows = [{"ts": 1_000_000_000, "name": "a,b\n=c", "n": 3, "delay": None, "codes": ["p", "q"],
             "hidden": ""}]
    parsed = list(csv.reader(io.StringIO(to_csv(TABLE, rows))))
    assert parsed[0] == ["ts", "name", "n", "delay", "codes", "hidden"]
    assert parsed[1] == ["1.0", "a,b\n=c", "3", "", "p,q", ""]


def test_terminal_never_sees_escape_sequences() -> None:
    assert terminal_safe("a\x1b[31mred\x07") == "a\\x1b[31mred\\x07"
    rows = [{"ts": 0, "name": "\x1b]0;pwned\x07", "n": 1, "delay": 2_000_000, "codes": [],
             "hidden": "x"}]
    table = to_table(TABLE, rows, width=200)
    assert "\x1b" not in table and "\x07" not in table
    assert "hidden" not in table  # columns marked in_table=False stay out


def test_table_fits_the_width_it_is_given() -> None:
    rows = [{"ts": 0, "name": "x" * 300, "n": 12345, "delay": 2_000_000, "codes": ["a"] * 40,
             "hidden": ""}]
    table = to_table(TABLE, rows, width=80)
    assert all(len(line) <= 80 for line in table.splitlines())
    assert "…" in table


def test_json_escapes_del_and_c1_controls_losslessly() -> None:
    # json.dumps(ensure_ascii=False) passes U+007F-U+009F raw; U+009B is a CSI on some terminals
    name = "a\x7fb\x9b31mc\x85é"
    rows = [{"ts": 0, "name": name, "n": 1, "delay": None, "codes": [], "hidden": ""}]
    text = to_json(TABLE, rows)
    assert not any("\x7f" <= ch <= "\x9f" for ch in text)
    assert "\\u009b" in text and "é" in text  # other non-ASCII stays readable
    assert json.loads(text)[0]["name"] == name


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
def test_csv_is_raw_in_a_pipe_and_visible_on_a_terminal(tty: bool) -> None:
    rows = [{"ts": 0, "name": "x\x1b[2Jy\x18", "n": 1, "delay": None, "codes": [], "hidden": ""}]
    stream = _Stream(tty)
    write_rows(TABLE, rows, "csv", stream)
    out = stream.getvalue()
    if tty:
        assert "\x1b" not in out and "\x18" not in out and "x\\x1b[2Jy\\x18" in out
    else:
        assert out == to_csv(TABLE, rows)  # files and pipes get the data unchanged


@pytest.mark.parametrize(
    ("name", "content", "lines"),
    [("final_status", 3, ["final", "status"]), ("final_status", 12, ["final_status"]),
     ("a_b_c", 3, ["a_b", "c"]), ("retransmissions", 1, ["retransmissions"])],
    ids=["split", "fits", "greedy", "no-underscore"],
)
def test_header_lines(name: str, content: int, lines: list[str]) -> None:
    from sipladder.output import header_lines

    assert header_lines(name, content) == lines


def test_long_headers_wrap_above_narrow_numbers() -> None:
    table = Table("t", (Column("final_status", ColumnKind.INT, ""),
                        Column("name", ColumnKind.STR, "")))
    text = to_table(table, [{"final_status": 200, "name": "x"}], width=80)
    assert text.splitlines() == [" final", "status  name", "------  ----", "   200  x"]


def test_messages_table_drops_its_least_useful_columns_to_fit() -> None:
    """Shortened to the 8-character floor, the row is still too wide for 80: ``transaction``
    goes first, then ``anomalies`` (all empty), then ``reason``; the last line says so."""
    from sipladder.rows import MESSAGES

    row = {
        "frame": 1, "ts": 0, "src": "[2001:db8::1]:5060", "dst": "[2001:db8::2]:5060",
        "method": "INVITE", "status": None, "reason": "Session Progress", "call_id": "c" * 30,
        "cseq": 1, "anomalies": [], "transaction": 0, "retransmission": False,
    }
    lines = to_table(MESSAGES, [row], width=80).splitlines()
    assert lines[0].split() == ["frame", "ts", "src", "dst", "method", "status", "call_id",
                                "cseq", "retx"]
    assert lines[-1] == "(not shown at width 80: transaction, anomalies, reason)"
    assert all(len(line) <= 80 for line in lines)
    # anomalies that say something are kept; the next columns in the order go instead
    lines = to_table(MESSAGES, [{**row, "anomalies": ["cseq-invalid"]}], width=80).splitlines()
    assert "anomalies" in lines[0]
    assert lines[-1].startswith("(not shown at width 80: transaction, reason, retransmission")
    # wide enough: nothing dropped, no note
    assert "not shown" not in to_table(MESSAGES, [row], width=200)


@pytest.mark.parametrize("width", [20, 30, 45])
def test_no_table_line_is_wider_than_the_width(width: int) -> None:
    """Numbers and times are never shortened inside a cell, so a very narrow terminal
    gets lines cut at its edge instead of wrapped."""
    rows = [{"ts": 0, "name": "x" * 50, "n": 10**12, "delay": 2_000_000, "codes": ["a"] * 9}]
    lines = to_table(TABLE, rows, width=width).splitlines()
    assert max(len(line) for line in lines) <= width
    assert lines[-1].endswith("…")


@given(
    st.sampled_from(list(ColumnKind)),
    st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
        st.text(max_size=8), st.lists(st.integers(min_value=-(2**40), max_value=2**40),
                                      max_size=4),
        st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3),
    ),
)  # fmt: skip
def test_json_writer_per_kind_equals_the_generic_value(kind: ColumnKind, value: object) -> None:
    # to_json's per-column writers are the kind tests of _json_value done once: same text
    # (floats only come from the DURATION kinds, as ints of ns)
    if kind in (ColumnKind.TIME, ColumnKind.DURATION_MS, ColumnKind.DURATION_S) and not (
        value is None or type(value) is int
    ):
        return
    if kind is ColumnKind.FLOAT and type(value) is not int and value is not None:
        return
    assert _json_writer(kind)(value) == _json_value(kind, value)


def _many_rows(n: int) -> list[dict[str, object]]:
    return [
        {"ts": 1_700_000_000_000_000_000 + i, "name": f"=row\x85{i}", "n": i,
         "delay": i * 1000, "codes": [i, "x"], "hidden": None}
        for i in range(n)
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize("n", [0, 1, 5000], ids=["empty", "one", "several-pieces"])
def test_write_rows_streams_the_same_text(fmt: str, n: int) -> None:
    rows = _many_rows(n)
    whole = to_json(TABLE, rows) if fmt == "json" else to_csv(TABLE, rows)
    produced = 0

    def generated():  # type: ignore[no-untyped-def]
        nonlocal produced
        for row in rows:
            produced += 1
            yield row

    class Watching(io.StringIO):
        """Records how many rows had been produced at each write."""

        seen: list[int] = []

        def write(self, text: str) -> int:
            self.seen.append(produced)
            return super().write(text)

    out = Watching()
    write_rows(TABLE, generated(), fmt, out)
    assert out.getvalue() == whole
    if n == 5000:
        # written while the rows were still coming, not after all were made
        assert min(out.seen) < n and len(out.seen) > 2


# --------------------------------------------------------------------------- generated writer
# The row writer is generated per table (json_row_writer) and the durations and times are
# written from the integer's digits: each is compared here with the plain definition.

_C1 = re.compile("[\x7f-\x9f]")


def _reference_json(table: Table, rows: list[dict[str, object]]) -> str:
    """to_json as defined: each cell through _json_value, C1 controls escaped by a regex."""
    objects = [
        "{" + ", ".join(json.dumps(c.name) + ": " + _json_value(c.kind, row.get(c.name))
                        for c in table.columns) + "}"
        for row in rows
    ]  # fmt: skip
    text = "[\n " + ",\n ".join(objects) + "\n]\n" if objects else "[]\n"
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_ALL_KINDS = Table("all", tuple(Column(f"k_{k.name}", k, "") for k in ColumnKind))
_NS = st.integers(min_value=-(2**70), max_value=2**70)
_ANY = st.one_of(
    st.none(), st.booleans(), _NS, st.text(max_size=12), st.floats(allow_nan=False,
    allow_infinity=False), st.lists(st.one_of(_NS, st.booleans(), st.text(max_size=3)),
    max_size=4),
)  # fmt: skip


def _cell_values(kind: ColumnKind) -> st.SearchStrategy[object]:
    # times and durations are integer ns or None (model.py); anything goes elsewhere
    if kind in (ColumnKind.TIME, ColumnKind.DURATION_MS, ColumnKind.DURATION_S):
        return st.one_of(st.none(), _NS, st.integers(min_value=0, max_value=2**62))
    return _ANY


_ROWS = st.lists(
    st.fixed_dictionaries(
        {}, optional={c.name: _cell_values(c.kind) for c in _ALL_KINDS.columns}
    ),
    max_size=6,
)


@given(_ROWS)
def test_generated_row_writer_equals_the_definition(rows: list[dict[str, object]]) -> None:
    assert to_json(_ALL_KINDS, rows) == _reference_json(_ALL_KINDS, rows)


@pytest.mark.parametrize("n", [0, 1, 255, 256, 257, 600], ids=lambda n: f"{n}-rows")
def test_json_pieces_join_at_any_row_count(n: int) -> None:
    from sipladder.rows import CALLS

    rows = [
        {"call_id": f"c{i}\x9b", "caller": None, "callee": "é", "state": "completed",
         "final_status": 200, "start": 1_700_000_000_000_000_000 + i, "end": i,
         "pdd_ms": i * 1_000, "duration_s": i * 10**8, "challenged": i % 2 == 0,
         "dialog_ids": [i], "transaction_ids": list(range(i % 4))}
        for i in range(n)
    ]  # fmt: skip
    assert to_json(CALLS, rows) == _reference_json(CALLS, rows)


def test_generated_writer_of_a_table_without_columns() -> None:
    assert to_json(Table("none", ()), [{}, {"x": 1}]) == "[\n {},\n {}\n]\n"


_DECIMAL_EDGES = [0, 1, 99, 100, 999_999, 1_000_000, 1_000_001, 123_456_789, 10**9 - 1, 10**9,
                  10**9 + 1, 10**15 - 1, 10**15, 10**15 + 1, 2**53, 2**53 + 1, 10**18,
                  1_700_000_000_123_456_789, 2**63 - 1]  # fmt: skip


@given(st.one_of(st.sampled_from(_DECIMAL_EDGES), st.integers(min_value=0, max_value=2**64),
                 st.integers(min_value=10**5, max_value=10**15), st.integers(max_value=0)))
def test_duration_texts_equal_the_float_repr(ns: int) -> None:
    from sipladder.output import ms_text, ms_value, s_text, s_value

    for value in (ns, -ns):
        assert ms_text(value) == float.__repr__(ms_value(value))
        assert s_text(value) == float.__repr__(s_value(value))


def test_duration_texts_of_floats_go_through_the_float() -> None:
    from sipladder.output import ms_text, s_text

    assert ms_text(2_500_000.0) == "2.5" and s_text(2.5e9) == "2.5"


@given(st.one_of(st.sampled_from(_DECIMAL_EDGES), st.integers(min_value=-(2**70),
                                                              max_value=2**70)))
def test_seconds_text_equals_the_exact_decimal(ns: int) -> None:
    from decimal import Decimal

    for value in (ns, -ns):
        text = seconds_text(value)
        assert Decimal(text) == Decimal(value) / 10**9  # exact
        whole, _, frac = text.partition(".")
        assert frac and (frac == "0" or not frac.endswith("0"))  # trimmed, at least one digit
        assert whole.lstrip("-") == str(abs(value) // 10**9)


@given(st.text(alphabet=st.one_of(st.sampled_from("a\x7f\x80\x9b\x9f\xa0\x1b\"é"),
                                  st.characters(max_codepoint=0x2FF)), max_size=40))
def test_json_safe_equals_the_regex_substitution(text: str) -> None:
    from sipladder.output import json_safe

    assert json_safe(text) == _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# --------------------------------------------------------------------------- calls from records

_OPTIONAL_NS = st.one_of(st.none(), st.integers(min_value=-(10**12), max_value=10**16))
_IDS = st.lists(st.integers(min_value=0, max_value=10**6), max_size=5).map(tuple)
_CALLS = st.lists(
    st.builds(
        Call,
        call_id=st.text(max_size=10),
        caller=st.one_of(st.none(), st.text(max_size=10)),
        callee=st.one_of(st.none(), st.text(max_size=10)),
        state=st.sampled_from(list(CallState)),
        final_status=st.one_of(st.none(), st.integers(min_value=100, max_value=699)),
        start_ns=st.integers(min_value=0, max_value=2**63),
        end_ns=st.integers(min_value=0, max_value=2**63),
        messages=_IDS,
        retransmissions=st.integers(min_value=0, max_value=100),
        pdd_ns=_OPTIONAL_NS,
        answer_ns=_OPTIONAL_NS,
        release_ns=_OPTIONAL_NS,
        duration_ns=_OPTIONAL_NS,
        dialogs=_IDS,
        transactions=_IDS,
        challenged=st.booleans(),
    ),
    max_size=5,
)


@given(_CALLS)
def test_calls_written_from_their_records_as_from_their_rows(calls: list[Call]) -> None:
    from sipladder.output import iter_json
    from sipladder.rows import CALL_VALUES, CALLS, call_row

    assert "".join(iter_json(CALLS, calls, CALL_VALUES)) == to_json(CALLS, map(call_row, calls))


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.pcap*")))
def test_sample_calls_written_from_their_records_as_from_their_rows(name: str) -> None:
    from sipladder.capture import Capture
    from sipladder.output import write_json_records
    from sipladder.rows import CALL_VALUES, CALLS, call_row

    calls = list(Capture(str(SAMPLES / name)).correlation.calls)  # none in some samples
    out = io.StringIO()
    write_json_records(CALLS, calls, CALL_VALUES, out)
    assert out.getvalue() == to_json(CALLS, map(call_row, calls))


@given(_CALLS, st.integers(min_value=1, max_value=16))
def test_call_written_in_two_halves_as_whole(calls: list[Call], split: int) -> None:
    from sipladder.output import json_record_writers, json_row_writer
    from sipladder.rows import CALL_VALUES

    head, tail = json_record_writers(CALLS, CALL_VALUES, split)
    whole = json_row_writer(CALLS, CALL_VALUES)
    for call in calls:
        assert head(call) + tail(call) == whole(call)


@pytest.mark.parametrize("split", [0, len(CALLS.columns)], ids=["at-start", "at-end"])
def test_halves_must_both_hold_columns(split: int) -> None:
    from sipladder.output import json_record_writers
    from sipladder.rows import CALL_VALUES

    with pytest.raises(ValueError, match="not inside"):
        json_record_writers(CALLS, CALL_VALUES, split)


def test_call_ids_are_the_last_columns() -> None:
    # the streaming path writes a call's columns from CALL_IDS_FROM on in the parent, with
    # ids it renumbers: only the dialog and transaction ids may be there
    from sipladder.rows import CALL_IDS_FROM, CALL_VALUES

    assert CALL_VALUES[CALL_IDS_FROM:] == ("list(record.dialogs)", "list(record.transactions)")
    assert CALLS.names[CALL_IDS_FROM:] == ["dialog_ids", "transaction_ids"]
    for value in CALL_VALUES[:CALL_IDS_FROM]:  # (the number of ids is the same)
        for field in ("dialogs", "transactions", "invite", "bye", "messages"):
            if f"record.{field}" in value:
                assert value == f"len(record.{field})"
