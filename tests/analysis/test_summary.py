"""The one-screen summary text (sipladder.analysis.summary): what a reader sees first."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from sipladder.cli import cli

OPTIONS = (
    b"OPTIONS sip:b@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%d\r\n"
    b"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
    b"Call-ID: c%d\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)


def _capture(path: Path, times: list[float]) -> Path:
    packets = []
    for n, when in enumerate(times):
        pkt = Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5060, dport=5060)
        pkt = pkt / Raw(OPTIONS % (n, n))
        pkt.time = when
        packets.append(pkt)
    wrpcap(str(path), packets)
    return path


def _time_line(path: Path) -> str:
    result = CliRunner().invoke(cli, ["summary", str(path)])
    assert result.exit_code == 0
    return next(line for line in result.stdout.splitlines() if line.startswith("Time"))


def test_time_span_across_midnight_shows_both_dates(tmp_path: Path) -> None:
    # 2023-11-14 23:59:59.5 UTC to 2023-11-15 00:00:01.5 UTC
    path = _capture(tmp_path / "midnight.pcap", [1_700_006_399.5, 1_700_006_401.5])
    assert _time_line(path) == (
        "Time      2023-11-14 23:59:59.500000 → 2023-11-15 00:00:01.500000 UTC   (2.000 s)"
    )


def test_time_span_within_a_day_gives_the_date_once(tmp_path: Path) -> None:
    path = _capture(tmp_path / "day.pcap", [1_700_000_000.0, 1_700_000_003.25])
    assert _time_line(path) == (
        "Time      2023-11-14 22:13:20.000000 → 22:13:23.250000 UTC   (3.250 s)"
    )


@pytest.mark.parametrize("columns", [80, 120])
def test_slowest_setups_fit_the_terminal(columns: int) -> None:
    # sngrep's aaa.pcap: long SIP URIs and Call-IDs made these lines 135 characters wide
    capture = Path(__file__).resolve().parents[1] / "data" / "sngrep" / "aaa.pcap"
    result = CliRunner().invoke(cli, ["summary", str(capture), "-q"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0
    lines = result.stdout.split("Slowest call setups (PDD)")[1].splitlines()[2:]
    assert len(lines) == 5  # header and the four calls with a PDD
    assert all(len(line) <= columns for line in lines), max(lines, key=len)
    # INVITE frame 223 at 049.188993 to the 408 of frame 252 at 085.961798 (tshark);
    # numbers are never cut
    assert lines[1].lstrip().startswith("36,772.8 ms")
    if columns == 120:
        assert lines[1].endswith("  105090259-446faf7a@192.168.1.2")  # whole when it fits
