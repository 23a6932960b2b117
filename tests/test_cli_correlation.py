"""The correlation commands (calls, registrations, transactions, dialogs, summary) and the
matching Capture DataFrames, on hand-built flows (no capture file needed)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pandas as pd
import pytest
from click.testing import CliRunner

import sipladder.cli as cli_module
from sipladder import streaming
from sipladder.capture import Capture
from sipladder.cli import TIME_FORMS, cli
from sipladder.layout import parse_time
from sipladder.model import Message
from tests.correlate.sipflow import T0, Flow
from tests.correlate.test_calls import basic_call
from tests.correlate.test_hops import three_hop_call
from tests.correlate.test_registrations import seed_registration


def merged() -> list[Message]:
    """Registration at T0, a 3-hop answered call at T0+10 s, a completed call at T0+20 s,
    a busy call at T0+40 s."""
    messages: list[Message] = []
    for offset_s, flow, call_id in (
        (0, seed_registration(), None),
        (10, three_hop_call(), "hops"),
        (20, basic_call(), "basic"),
    ):
        for m in flow.messages:
            sip = m.sip if call_id is None else replace(m.sip, call_id=call_id)
            messages.append(
                replace(m, index=len(messages), ts_ns=m.ts_ns + offset_s * 10**9, sip=sip)
            )
    busy = Flow()
    inv = busy.request("INVITE", 40_000, "10.0.0.5", "10.0.0.6", branch="z9hG4bKb",
                       call_id="busy")
    busy.response(486, 40_030, inv, to_tag="x")
    busy.again(busy.messages[-1], 40_530)
    for m in busy.messages:
        messages.append(replace(m, index=len(messages)))
    return messages


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    messages = merged()
    monkeypatch.setattr(cli_module, "load", lambda paths: Capture.from_messages(messages, paths))

    def stream_calls(paths: list[str], **kw: object) -> streaming.CallsResult:
        # ``calls`` reads through the streaming path (tested in tests/test_streaming.py)
        capture = Capture.from_messages(messages, paths)
        calls = list(capture.correlation.calls)
        return streaming.CallsResult(calls, [], capture.counters, messages[0].ts_ns, 1)

    monkeypatch.setattr(streaming, "stream_calls", stream_calls)

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli, [*args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    return invoke


def test_calls_json_keys_and_values(run) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(run("calls", "x.pcap", "--format", "json"))
    assert [r["call_id"] for r in rows] == ["hops", "basic", "busy"]
    for key in ("call_id", "caller", "callee", "state", "final_status", "start", "messages",
                "retransmissions", "pdd_ms", "answer_ms", "release_ms", "duration_s", "dialogs"):
        assert key in rows[0]
    hops, basic, busy = rows
    assert (hops["state"], hops["pdd_ms"], hops["answer_ms"]) == ("answered", 38.0, 1040.0)
    assert hops["release_ms"] is None and hops["duration_s"] is None  # null, never 0
    assert basic["state"] == "completed"
    assert (basic["pdd_ms"], basic["answer_ms"], basic["release_ms"]) == (120.0, 2120.0, 15.0)
    assert basic["duration_s"] == 60.005
    assert basic["start"] == (T0 + 20 * 10**9) / 1e9
    assert (busy["state"], busy["final_status"], busy["retransmissions"]) == ("rejected", 486, 1)


def test_calls_json_from_records_is_the_json_of_rows(run) -> None:  # type: ignore[no-untyped-def]
    # without filters the calls are written from their records (no row dicts); any filter
    # goes through the rows: naming every state keeps every call, and the text is the same
    from sipladder.model import CallState
    from sipladder.output import to_json
    from sipladder.rows import CALLS, call_row

    whole = run("calls", "x.pcap", "--format", "json")
    every_state = [arg for state in CallState for arg in ("--state", state.value)]
    assert run("calls", "x.pcap", "--format", "json", *every_state) == whole
    calls = Capture.from_messages(merged(), ["x.pcap"]).correlation.calls
    assert whole == to_json(CALLS, map(call_row, calls))
    assert len(json.loads(whole)) == 3


def test_calls_filters(run) -> None:  # type: ignore[no-untyped-def]
    def ids(*args: str) -> list[str]:
        return [r["call_id"] for r in json.loads(run("calls", "x.pcap", "--format", "json", *args))]

    assert ids("--state", "completed") == ["basic"]
    assert ids("--state", "completed", "--state", "rejected") == ["basic", "busy"]
    assert ids("--call-id", "hops") == ["hops"]
    since = str((T0 + 15 * 10**9) // 10**9)
    assert ids("--since", since) == ["basic", "busy"]
    assert ids("--until", since) == ["hops"]
    assert ids("--since", "2023-11-14T22:13:45") == ["busy"]  # T0 is 22:13:20 UTC
    assert ids("--state", "cancelled") == []


def test_registrations_command(run) -> None:  # type: ignore[no-untyped-def]
    (row,) = json.loads(run("registrations", "x.pcap", "--format", "json"))
    for key in ("aor", "contact", "call_ids", "final_status", "challenged", "delay_ms",
                "expires", "start"):
        assert key in row
    assert row["call_ids"] == ["apb304a94sslfeiasle93aj11", "apb304a94sslfaser2le93aj22"]
    assert (row["challenged"], row["delay_ms"], row["final_status"]) == (True, 150.0, 200)
    assert json.loads(run("registrations", "x.pcap", "--format", "json", "--aor", "sip:x@y")) == []
    assert len(json.loads(run("registrations", "x.pcap", "--format", "json",
                              "--call-id", "apb304a94sslfaser2le93aj22"))) == 1


def test_transactions_command_shows_hops(run) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(run("transactions", "x.pcap", "--format", "json", "--call-id", "hops"))
    assert [r["hop"] for r in rows] == [0, 1, 2]
    assert [r["forward_ms"] for r in rows] == [None, 4.0, 6.0]
    assert [r["return_ms"] for r in rows] == [None, 4.0, 6.0]
    assert [r["provisional_ms"] for r in rows] == [2.0, 2.0, 20.0]
    invites = json.loads(run("transactions", "x.pcap", "--format", "json", "--method", "invite"))
    assert len(invites) == 5
    busy = [r for r in invites if r["call_id"] == "busy"][0]
    assert busy["retransmissions"] == 1 and busy["state"] == "completed"


def test_dialogs_command(run) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(run("dialogs", "x.pcap", "--format", "json"))
    basic = [r for r in rows if r["call_id"] == "basic"][0]
    assert basic["history"] == ["early", "confirmed", "terminated"]
    assert basic["early_ms"] == 2000.0  # 180 at 120 ms to 200 at 2120 ms
    assert basic["confirmed_s"] == 60.005  # 200 at 2120 ms to BYE at 62125 ms
    terminated = json.loads(run("dialogs", "x.pcap", "--format", "json", "--state", "terminated"))
    assert [r["call_id"] for r in terminated] == ["basic"]


def test_messages_gain_correlation_columns(run) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(run("messages", "x.pcap", "--format", "json"))
    assert all(key in rows[0] for key in ("transaction", "dialog", "retransmission"))
    assert rows[-1]["retransmission"] is True and rows[-2]["retransmission"] is False
    assert rows[-1]["transaction"] == rows[-2]["transaction"] is not None


@pytest.mark.parametrize("command", ["calls", "registrations", "transactions", "dialogs"])
def test_csv_and_table_formats(run, command: str) -> None:  # type: ignore[no-untyped-def]
    as_json = json.loads(run(command, "x.pcap", "--format", "json"))
    as_csv = list(csv.DictReader(io.StringIO(run(command, "x.pcap", "--format", "csv"))))
    assert len(as_csv) == len(as_json) > 0
    assert list(as_csv[0]) == list(as_json[0])
    lines = run(command, "x.pcap").splitlines()
    # header (one or more lines: long names wrap), a rule of dashes, one line per row
    rule = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "})
    assert len(lines) - rule - 1 == len(as_json)


def test_summary_json(run) -> None:  # type: ignore[no-untyped-def]
    s = json.loads(run("summary", "x.pcap", "--format", "json"))
    assert s["files"] == ["x.pcap"]
    assert s["methods"]["INVITE"] == 5 and s["statuses"]["486"] == 2
    assert s["calls"]["total"] == 3
    assert s["calls"]["by_state"]["completed"] == 1 and s["calls"]["by_state"]["cancelled"] == 0
    assert s["registrations"]["challenged"] == 1
    assert s["retransmissions"] == 1
    assert [c["call_id"] for c in s["slowest_setups"]] == ["basic", "hops", "busy"]
    assert s["start"] == T0 / 1e9


def test_summary_text_and_csv(run) -> None:  # type: ignore[no-untyped-def]
    text = run("summary", "x.pcap")
    assert "Calls: 3" in text and "completed 1" in text and "Registrations: 1" in text
    assert "Slowest call setups" in text and "120.0 ms" in text
    assert len(text.splitlines()) < 50  # one screen
    rows = list(csv.DictReader(io.StringIO(run("summary", "x.pcap", "--format", "csv"))))
    assert {"section": "calls.by_state", "name": "completed", "value": "1"} in rows


def test_dataframes_match_json(run) -> None:  # type: ignore[no-untyped-def]
    capture = Capture.from_messages(merged())
    calls = capture.calls
    as_json = json.loads(run("calls", "x.pcap", "--format", "json"))
    assert list(calls.columns) == list(as_json[0])
    assert calls["pdd_ms"].dtype == "timedelta64[ns]"
    assert str(calls["start"].dtype).startswith("datetime64[ns")
    basic = calls[calls["call_id"] == "basic"].iloc[0]
    assert basic["pdd_ms"] == pd.Timedelta(milliseconds=120)
    assert basic["duration_s"] == pd.Timedelta(seconds=60.005)
    hops = calls[calls["call_id"] == "hops"].iloc[0]
    assert pd.isna(hops["release_ms"])  # missing, not zero
    assert len(capture.registrations) == 1 and capture.registrations["challenged"].iloc[0]
    assert len(capture.transactions) == len(capture.correlation.transactions)
    assert len(capture.dialogs) == len(capture.correlation.dialogs)
    assert capture.messages["retransmission"].sum() == 1


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1700000000.25", 1_700_000_000_250_000_000),
        ("1700000000", 1_700_000_000_000_000_000),
        ("2023-11-14T22:13:20", 1_700_000_000_000_000_000),
        ("2023-11-14T23:13:20.5+01:00", 1_700_000_000_500_000_000),
    ],
    ids=["epoch-fraction", "epoch", "iso-utc", "iso-offset"],
)
def test_parse_time(text: str, ns: int) -> None:
    # the table commands and ladder share sipladder.layout.parse_time
    assert parse_time(text) == ns


@pytest.mark.parametrize("command", ["calls", "registrations", "transactions", "dialogs"])
def test_every_table_command_takes_the_ladder_time_forms(  # type: ignore[no-untyped-def]
    run, command: str
) -> None:
    assert merged()[0].ts_ns == T0  # relative forms count from the first message
    assert T0 == 1_700_000_000 * 10**9  # 2023-11-14T22:13:20 UTC

    def rows(*args: str) -> list[dict[str, object]]:
        return json.loads(run(command, "x.pcap", "--format", "json", *args))  # type: ignore[no-any-return]

    everything = rows()
    after, before = rows("--since", "+15"), rows("--until", "+15")
    assert after == rows("--since", "1700000015") == rows("--since", "22:13:35")
    assert before == rows("--until", "1700000015") == rows("--until", "22:13:35.000")
    # nothing starts at exactly +15 s: the two windows split the rows between them
    assert len(after) + len(before) == len(everything) > 0
    assert rows("--since", "+10.5", "--until", "22:13:39") == rows(
        "--since", "2023-11-14T22:13:30.5", "--until", "1700000019"
    )


def test_relative_time_forms_pick_the_right_calls(run) -> None:  # type: ignore[no-untyped-def]
    def ids(*args: str) -> list[str]:
        return [r["call_id"] for r in json.loads(run("calls", "x.pcap", "--format", "json", *args))]

    assert ids("--since", "+15") == ["basic", "busy"]
    assert ids("--until", "+15") == ["hops"]
    assert ids("--since", "22:13:45") == ["busy"]
    assert ids("--since", "+19.5", "--until", "+20.5") == ["basic"]


@pytest.mark.parametrize(
    "command", ["calls", "registrations", "transactions", "dialogs", "ladder"]
)
def test_time_forms_documented_once_in_every_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=2000)
    assert " ".join(TIME_FORMS.split()) in " ".join(result.output.split())
    assert "+SECONDS" in TIME_FORMS and "HH:MM:SS" in TIME_FORMS


def test_bad_time_is_a_usage_error(run) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["calls", "x.pcap", "--since", "yesterday"])
    assert result.exit_code == 2 and "ISO 8601" in result.output


def test_every_correlation_command_has_an_example() -> None:
    for name in ("calls", "registrations", "transactions", "dialogs", "summary"):
        assert "Example:" in (cli.commands[name].help or "")


@pytest.mark.parametrize("table", ["CALLS", "REGISTRATIONS", "TRANSACTIONS", "DIALOGS"])
def test_readme_documents_every_json_key(table: str) -> None:
    from pathlib import Path

    import sipladder.rows as rows

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"### `{table.lower()}`", 1)[1].split("\n### ", 1)[0]
    missing = [c.name for c in getattr(rows, table).columns if f"`{c.name}`" not in section]
    assert missing == []


def test_readme_documents_every_summary_key(run) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### `summary`", 1)[1].split("\n### ", 1)[0]
    summary = json.loads(run("summary", "x.pcap", "--format", "json"))
    keys = set(summary) | set(summary["calls"]) | set(summary["registrations"])
    keys |= set(summary["slowest_setups"][0])
    assert sorted(k for k in keys if f"`{k}`" not in section) == []
