"""Output safety across commands: a hostile capture (markup, spreadsheet formulas,
terminal escape sequences in every text field it controls) must reach no output raw.

* terminal (table and text formats, stderr): no control character but the line feed;
* CSV: no cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``);
* JSON: valid, control characters escaped by the encoder;
* SVG: well-formed XML without any element or attribute from the capture;
* HTML, Mermaid, PlantUML: no ``<script>`` from the capture.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from sipladder.cli import cli

SCRIPT = "<script>alert(1)</script>"
ESC = "\x1b[31m\x1b]0;owned\x07"
FORMULA = "=cmd|' /C calc'!A0"


def _message(n: int, start: str, method: str) -> bytes:
    text = (
        f"{start}\r\n"
        f"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK{n}\r\n"
        f'From: "{SCRIPT}{ESC}" <sip:{FORMULA}@x>;tag=@SUM(1+1)\r\n'
        f"To: <sip:+1234{ESC}@x>\r\n"
        f"Call-ID: {FORMULA}{ESC}{SCRIPT}\r\n"
        f"CSeq: 1 {method}\r\nMax-Forwards: 70\r\n"
        f"Subject: {SCRIPT}\r\nX-{ESC}: {ESC}\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    return text.encode("utf-8")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    request = _message(1, f"INVITE sip:{FORMULA}@x{ESC} SIP/2.0", "INVITE")
    response = _message(1, f"SIP/2.0 486 {SCRIPT}{ESC}-@=", "INVITE")
    other = _message(2, f"-CMD sip:{SCRIPT}@x SIP/2.0", "-CMD")
    path = tmp_path_factory.mktemp("hostile") / "hostile.pcap"
    packets = []
    for i, (payload, forward) in enumerate([(request, True), (response, False), (other, True)]):
        src, dst = ("10.0.0.1", "10.0.0.2") if forward else ("10.0.0.2", "10.0.0.1")
        pkt = Ether() / IP(src=src, dst=dst) / UDP(sport=5060, dport=5060) / Raw(payload)
        pkt.time = 1_700_000_000 + i
        packets.append(pkt)
    wrpcap(str(path), packets)
    return path


TABLE_COMMANDS = ["messages", "calls", "transactions", "dialogs", "registrations", "summary"]
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_capture_is_hostile(hostile: Path) -> None:
    # guard against a fixture that lost its payload: JSON shows the raw text, escaped
    code, out, _ = run("messages", str(hostile), "--format", "json")
    rows = json.loads(out)
    assert len(rows) == 3 and ESC in rows[0]["call_id"] and SCRIPT in rows[0]["call_id"]
    assert rows[1]["reason"].startswith(SCRIPT)
    assert "\x1b" not in out  # json escapes it as \u001b


@pytest.mark.parametrize("command", [*TABLE_COMMANDS, "lint"])
def test_terminal_output_has_no_control_characters(hostile: Path, command: str) -> None:
    _, out, err = run(command, str(hostile))
    assert not _CONTROL.search(out), repr(_CONTROL.search(out))
    assert not _CONTROL.search(err)
    if command == "lint":
        assert "\\x1b" in out  # shown, visibly


def test_text_ladder_has_no_control_characters(hostile: Path) -> None:
    _, out, err = run("ladder", str(hostile), "--width", "160")
    assert out and not _CONTROL.search(out) and not _CONTROL.search(err)


@pytest.mark.parametrize("command", [*TABLE_COMMANDS, "lint"])
def test_csv_cells_are_not_formulas(hostile: Path, command: str) -> None:
    _, out, _ = run(command, str(hostile), "--format", "csv")
    cells = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
    assert len(cells) > 3
    for cell in cells:
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
            float(cell)  # only a plain number may start like a formula
    if command in ("messages", "calls", "transactions"):
        assert any(cell.startswith("'=cmd") for cell in cells)  # the Call-ID, defused


@pytest.mark.parametrize("command", [*TABLE_COMMANDS, "lint"])
def test_json_is_valid(hostile: Path, command: str) -> None:
    _, out, _ = run(command, str(hostile), "--format", "json")
    json.loads(out)
    assert "\x1b" not in out and "\x07" not in out


def test_svg_is_well_formed_and_inert(hostile: Path) -> None:
    _, out, _ = run("ladder", str(hostile), "--format", "svg")
    root = ET.fromstring(out)
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert "script" not in tags and "foreignObject" not in tags
    for el in root.iter():
        assert not any(name.lower().startswith("on") for name in el.attrib)
    assert SCRIPT not in out and "&lt;script&gt;" in out
    assert "\x1b" not in out


def test_html_has_no_capture_script(hostile: Path) -> None:
    _, out, _ = run("ladder", str(hostile), "--format", "html")
    assert SCRIPT not in out and "\x1b" not in out
    assert out.count("<script") <= 1  # only the page's own, pinned by its CSP hash


@pytest.mark.parametrize("fmt", ["mermaid", "plantuml"])
def test_diagram_sources_carry_no_markup(hostile: Path, fmt: str) -> None:
    _, out, _ = run("ladder", str(hostile), "--format", fmt)
    assert out and SCRIPT not in out and "\x1b" not in out and "<script" not in out


def test_file_name_with_escape_sequence(tmp_path: Path, hostile: Path) -> None:
    # the path itself is text from outside: in errors and diagnostics it is shown safely
    missing = tmp_path / f"x{ESC}.pcap"
    code, out, err = run("summary", str(missing))
    assert code == 1 and "\x1b" not in err and "\\x1b" in err
