"""nDPI's byte-corrupted capture (tests/data/nDPI/fuzz-2006-06-26-2594.pcap, a fuzzed
copy of aaa.pcap): every command completes, and the damage is reported with file and
frame. That we still find every SIP message tshark finds is checked, frame by frame, in
tests/test_tshark_counts.py (test_corrupted_capture_finds_every_message_tshark_finds);
here tshark's view of the damage at the IP layer is computed and compared with ours."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import sipladder
from sipladder.cli import cli

FUZZ = Path(__file__).resolve().parent / "data" / "nDPI" / "fuzz-2006-06-26-2594.pcap"


@pytest.fixture(scope="module")
def capture() -> sipladder.Capture:
    return sipladder.load(str(FUZZ))


@pytest.mark.parametrize(
    "args",
    [
        ["messages", "--format", "json"],
        ["messages"],
        ["summary"],
        ["summary", "--format", "csv"],
        ["calls", "--format", "csv"],
        ["transactions"],
        ["dialogs", "--format", "json"],
        ["registrations"],
        ["ladder", "--width", "100"],
        ["ladder", "--format", "svg"],
        ["ladder", "--format", "html"],
    ],
    ids=lambda a: "-".join(a),
)
def test_every_command_completes(args: list[str]) -> None:
    result = CliRunner().invoke(cli, [args[0], str(FUZZ), *args[1:]])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    # the damage is told on stderr, one line per problem, naming file and frame
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith(f"sipladder: {FUZZ}: frame ") for line in lines)


def test_lint_reports_the_damage_and_exits_1() -> None:
    result = CliRunner().invoke(cli, ["lint", str(FUZZ), "--format", "json"])
    assert result.exit_code == 1 and result.exception is not None
    rows = json.loads(result.stdout)
    scopes = {r["scope"] for r in rows}
    assert {"capture", "message"} <= scopes
    assert all(r["file"] == str(FUZZ) and r["frame"] for r in rows)


def test_summary_counts_what_was_skipped(capture: sipladder.Capture) -> None:
    summary = capture.summary()
    assert sum(summary["diagnostics"].values()) == len(capture.diagnostics) > 0
    assert summary["sip_messages"] == len(capture)
    # ARP (and the corrupted ethertypes) are passed over and counted, not silently lost
    assert summary["ignored"]["ethertype 0x0806"] > 0


def test_bogus_ip_versions_reported_where_tshark_sees_them(capture: sipladder.Capture) -> None:
    tshark = shutil.which("tshark")
    assert tshark, "tshark is needed (CI installs it)"
    out = subprocess.run(
        [tshark, "-n", "-r", str(FUZZ), "-Y", "eth.type == 0x0800", "-T", "fields",
         "-e", "frame.number", "-e", "ip.version"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    bogus = {
        int(number) for number, version in (line.split("\t") for line in out.splitlines())
        if version.split(",")[0] != "4"
    }  # fmt: skip
    assert len(bogus) >= 5
    ours = {
        d.frame for d in capture.diagnostics
        if d.code == "malformed-packet" and "IPv4 packet with version" in d.message
    }  # fmt: skip
    assert ours == bogus
