"""The ``sipladder ladder`` command, on the bundled IMS sample: every output suffix
gives a file its own format's reader accepts; options change what is drawn."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import pytest
from click.testing import CliRunner

from sipladder.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = str(ROOT / "samples" / "ims-tom-jerry.pcapng")
#: The README's command: the eight hosts by role.
ROLES = {
    "4444::2:3:4:5": "Tom (UE)",
    "5555::a:f:f:e": "P-CSCF (Tom)",
    "5555::b:0:0:1": "I-CSCF (Tom)",
    "5555::c:0:0:1": "S-CSCF (Tom)",
    "6666::b:0:0:1": "I-CSCF (Jerry)",
    "6666::c:0:0:1": "S-CSCF (Jerry)",
    "6666::a:f:f:e": "P-CSCF (Jerry)",
    "4444::5:6:7:8": "Jerry (UE)",
}
ALIAS_ARGS = [arg for address, name in ROLES.items() for arg in ("--alias", f"{address}={name}")]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_readme_picture_is_what_the_readme_command_draws(tmp_path: Path) -> None:
    """docs/ims-tom-jerry.svg (the README's first picture, checked by eye as a PNG)
    is exactly what the documented command writes today."""
    out = tmp_path / "ims.svg"
    code, _, _ = run("ladder", "samples/ims-tom-jerry.pcapng", "-o", str(out), *ALIAS_ARGS)
    assert code == 0
    assert out.read_text(encoding="utf-8") == (ROOT / "docs" / "ims-tom-jerry.svg").read_text(
        encoding="utf-8"
    )


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # titles name the file as given: keep it the same everywhere


def test_text_ladder_without_output_fits_the_width() -> None:
    code, out, _ = run("ladder", SAMPLE, "--width", "150", *ALIAS_ARGS)
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 150
    assert "Tom (UE)" in lines[1] and "Jerry (UE)" in lines[1]
    assert sum("REGISTER" in line for line in lines) == 6
    assert any("registration 92.9 ms" in line for line in lines)
    assert any("PDD 209 ms" in line for line in lines)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def _check_svg(data: bytes) -> None:
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (
        sum(1 for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "msg") == 67
    )


def _check_html(data: bytes) -> None:
    parser = _Tags()
    parser.feed(data.decode("utf-8"))
    assert parser.tags[:2] == ["html", "head"] and "svg" in parser.tags and "pre" in parser.tags


def _check_png(data: bytes) -> None:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    height, width = matplotlib.image.imread(io.BytesIO(data), format="png").shape[:2]
    assert width > 1000 and height > 500  # 8 columns, 12 rows at 150 dpi


def _check_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")


def _check_text(data: bytes) -> None:
    # A file gets the whole labels: 6 REGISTER requests, 6 responses to them.
    text = data.decode("utf-8")
    assert text.count("- REGISTER CSeq ") == 6 and text.count(" REGISTER --") == 6


def _check_mermaid(data: bytes) -> None:
    lines = data.decode("utf-8").splitlines()
    assert lines[0] == "sequenceDiagram"
    assert sum(1 for line in lines if re.match(r"    C\d+-?->>C\d+: ", line)) == 67
    assert sum(1 for line in lines if line.startswith("    participant ")) == 8


def _check_plantuml(data: bytes) -> None:
    lines = data.decode("utf-8").splitlines()
    assert lines[0] == "@startuml" and lines[-1] == "@enduml"
    assert sum(1 for line in lines if re.match(r"C\d+ -\[#\w+\]-?> C\d+ : ", line)) == 67


@pytest.mark.parametrize(
    ("suffix", "check"),
    [
        (".svg", _check_svg),
        (".html", _check_html),
        (".png", _check_png),
        (".pdf", _check_pdf),
        (".txt", _check_text),
        (".mmd", _check_mermaid),
        (".puml", _check_plantuml),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_suffix_writes_a_file_its_reader_accepts(
    suffix: str, check: Callable[[bytes], None], tmp_path: Path
) -> None:
    out = tmp_path / f"ladder{suffix}"
    # matplotlib takes seconds for the whole sample on a busy machine: the registration
    # (12 messages) is enough to show the file is written and readable.
    cut = ["--max-messages", "12"] if suffix in (".png", ".pdf") else []
    code, stdout, _ = run("ladder", SAMPLE, "-o", str(out), *ALIAS_ARGS, *cut)
    assert code == 0 and stdout == ""
    check(out.read_bytes())


def test_format_option_overrides_suffix_and_prints(tmp_path: Path) -> None:
    out = tmp_path / "ladder.out"
    assert run("ladder", SAMPLE, "-o", str(out), "--format", "mermaid")[0] == 0
    assert out.read_text().startswith("sequenceDiagram")
    code, stdout, _ = run("ladder", SAMPLE, "--format", "svg")
    assert code == 0 and stdout.startswith("<?xml")


def test_unknown_suffix_and_bad_alias_are_usage_errors(tmp_path: Path) -> None:
    code, _, err = run("ladder", SAMPLE, "-o", str(tmp_path / "x.jpeg"))
    assert code == 2 and "cannot tell the ladder format" in err
    code, _, err = run("ladder", SAMPLE, "--alias", "no-equals-sign")
    assert code == 2 and "ADDR=NAME" in err
    code, _, err = run("ladder", SAMPLE, "--since", "yesterday")
    assert code == 2 and "not a time" in err


def test_hosts_file_names_columns_and_alias_wins() -> None:
    code, out, _ = run(
        "ladder",
        SAMPLE,
        "--hosts",
        "docs/ims-tom-jerry.hosts",
        "--alias",
        "4444::2:3:4:5=Tommy",
        "--width",
        "200",
    )
    assert code == 0
    header = out.splitlines()[1]
    assert "Tommy" in header and "P-CSCF-1" in header and "Jerry-UE" in header
    assert "Tom-UE" not in header


def test_scope_options() -> None:
    _, out, _ = run("ladder", SAMPLE, "--call-id", "apb03a0s09dkjdfoaidy49555", "--width", "200")
    assert "Call-ID apb03a0s09dkjdfoaidy49555" in out and "REGISTER" not in out
    # samples/ims-tom-jerry.timings.json counts: 21 requests and 34 responses in the call
    assert "· 55 messages" in out.splitlines()[0]
    _, out, _ = run("ladder", SAMPLE, "--aor", "sip:tom@telcomx.tel.com", "--width", "200")
    assert "· 12 messages" in out.splitlines()[0] and "INVITE" not in out
    _, out, _ = run("ladder", SAMPLE, "--max-messages", "5", "--width", "200")
    assert "cut: first 5 of 67 messages shown (62 more not drawn; raise --max-messages)" in out
    _, out, _ = run("ladder", SAMPLE, "--since", "+2.5", "--until", "+2.6", "--width", "200")
    assert "time window 2024-10-09 07:41:13.500 to 2024-10-09 07:41:13.600 UTC" in out


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--call-id", "nope"), "--call-id nope"),
        (("--aor", "sip:nobody@nowhere"), "--aor sip:nobody@nowhere"),
        (("--since", "+1000"), "--since +1000"),
        (("--call-id", "nope", "--until", "+2"), "--call-id nope --until +2"),
    ],
    ids=["call-id", "aor", "window", "call-id-and-window"],
)
def test_selection_matching_nothing_is_an_error(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    out = tmp_path / "empty.svg"
    code, stdout, err = run("ladder", SAMPLE, *args, "-o", str(out))
    assert code == 1 and stdout == ""
    assert err == f"Error: no SIP message matches {said}\n"
    assert not out.exists()


def test_group_host_merges_ports() -> None:
    _, by_host, _ = run("ladder", SAMPLE, "--group", "host", "--width", "220")
    _, coloured, _ = run("ladder", SAMPLE, "--colour-by", "transaction", "--format", "svg")
    assert "REGISTER CSeq 25 (request 0)" in coloured and "BYE CSeq 15 (request" in coloured
    assert "[4444::2:3:4:5]" in by_host.splitlines()[1] and "]:1537" not in by_host.splitlines()[1]
