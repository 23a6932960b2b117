"""Text backend: fits the width, shows brackets, safe for terminals."""

from __future__ import annotations

from pathlib import Path

import pytest
from ladder_factory import call_correlation, call_messages

from sipladder.layout import build_layout
from sipladder.render.text import render_text

GOLDEN = Path(__file__).parent / "golden"
ALIASES = {"2001:db8::a": "Alice", "192.0.2.20:5062": "Bob"}


def test_golden_call_text() -> None:
    """Golden file checked by eye against the hand-written table in ladder_factory:
    arrows in the right direction, dotted retransmission, brackets PDD rows 0-4, answer
    0-7, release 10-13, the proxy's +12.0 ms and +3.0 ms beside its lifeline."""
    text = render_text(build_layout(call_messages(), call_correlation(), aliases=ALIASES), 100)
    assert text == (GOLDEN / "call.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("width", [72, 80, 100, 132, 200])
def test_fits_the_width(width: int) -> None:
    text = render_text(build_layout(call_messages(), call_correlation(), aliases=ALIASES), width)
    assert max(len(line) for line in text.splitlines()) <= width


def test_arrow_directions_and_retransmission() -> None:
    lines = render_text(build_layout(call_messages(), call_correlation()), 160).splitlines()
    invite = next(line for line in lines if "INVITE CSeq 1 " in line and "->" in line)
    assert "-->|" in invite
    trying = next(line for line in lines if "100 Trying" in line)
    assert "|<-" in trying
    retr = next(line for line in lines if "(retr)" in line)
    assert "|<." in retr and "-" not in retr.split("|", 1)[1].replace("- ", "")[:3]


def test_control_characters_never_reach_the_terminal() -> None:
    layout = build_layout(call_messages(), aliases={"192.0.2.10": "evil\x1b[2J"})
    text = render_text(layout, 120)
    assert "\x1b" not in text and "evil\\x1b[2J" in text


def test_legend_of_cut_names_fits_and_keeps_the_address() -> None:
    # a learned or given name can be hundreds of characters (zeek's long-paths capture)
    layout = build_layout(call_messages(), aliases={"2001:db8::a": "a" * 900})
    lines = render_text(layout, 100).splitlines()
    legend = lines[lines.index("columns:") + 1 :]
    assert legend and all(len(line) <= 100 for line in legend)
    assert any(line.startswith("  aaaa") and "a… [2001:db8::a]:" in line for line in legend)
