"""Terminal output fits the terminal: ladders and tables at COLUMNS=80 and 120 (and
``--width``) on captures whose IPv6 addresses and many hops used to overflow."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sipladder.cli import cli

ROOT = Path(__file__).resolve().parents[1]
IMS = str(ROOT / "samples" / "ims-tom-jerry.pcapng")  # 8 hosts, IPv6, brackets
ERSPAN = str(ROOT / "tests" / "data" / "heplify" / "erspan_sip_ipv4_udp.pcapng")
IPV6 = str(ROOT / "tests" / "data" / "heplify" / "sip_ipv6_udp.pcap")
#: 18 columns: cannot fit 80 characters even at the narrowest spacing.
FUZZ = str(ROOT / "tests" / "data" / "nDPI" / "fuzz-2006-06-26-2594.pcap")
COMMANDS = ["ladder", "messages", "transactions", "calls", "registrations", "dialogs"]


def run(columns: int, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("columns", [80, 120], ids=lambda c: f"COLUMNS={c}")
@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("capture", [IMS, ERSPAN, IPV6], ids=["ims", "erspan", "ipv6"])
def test_every_line_fits(capture: str, command: str, columns: int) -> None:
    lines = run(columns, command, capture).splitlines()
    assert lines
    assert max(len(line) for line in lines) <= columns


@pytest.mark.parametrize("width", [40, 60, 80])
@pytest.mark.parametrize("capture", [IMS, ERSPAN], ids=["ims", "erspan"])
def test_ladder_width_option_is_kept_or_the_overflow_is_announced(capture: str, width: int) -> None:
    lines = run(200, "ladder", "--width", str(width), capture).splitlines()
    widest = max(len(line) for line in lines)
    if widest > width:  # IMS (8 columns) at 40 and 60, erspan (6 columns) at 40
        assert lines[1].startswith("! ")
        assert f"need {widest} chars, width is {width}:" in lines[1]
    else:
        assert not lines[1].startswith("! ")


def test_brackets_give_way_with_a_note() -> None:
    """At 120 the IMS ladder has room for its timing brackets; at 80 it has not, and says so."""
    wide = run(120, "ladder", IMS)
    assert "registration 92.9 ms" in wide and "not drawn" not in wide
    narrow = run(80, "ladder", IMS)
    assert "registration 92.9 ms" not in narrow and "┌" not in narrow
    assert "4 timing brackets not drawn (no room: they need --width 118)" in narrow
    # every message still has its row: 67 messages, each with a time of day
    assert sum(1 for line in narrow.splitlines() if line[:3] == "07:") == 67


def test_a_ladder_that_cannot_fit_says_so_on_top() -> None:
    lines = run(80, "ladder", FUZZ).splitlines()
    assert lines[1] == "! 18 columns need 130 chars, width is 80: try --group host or --call-id"
    assert len(lines[1]) <= 80


@pytest.mark.parametrize("columns", [80, 120], ids=lambda c: f"COLUMNS={c}")
def test_messages_drop_columns_in_order_and_name_them(columns: int) -> None:
    text = run(columns, "messages", IMS)
    header = text.splitlines()[0].split()
    for kept in ("frame", "ts", "src", "dst", "method", "status", "call_id", "cseq"):
        assert kept in header
    if columns == 80:
        assert "tx" not in header and "reason" not in header
        assert text.splitlines()[-1] == (
            "(not shown at width 80: transaction, anomalies, reason, retransmission)"
        )
    else:
        assert "not shown" not in text
