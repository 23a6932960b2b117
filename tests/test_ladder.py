"""The Ladder object: formats by suffix, rich-style export/save, Jupyter display."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from ladder_factory import call_correlation, call_messages  # noqa: E402

from sipladder.ladder import FORMATS, SUFFIXES, Ladder, format_for  # noqa: E402
from sipladder.layout import build_layout  # noqa: E402


@pytest.fixture
def ladder() -> Ladder:
    return Ladder(build_layout(call_messages(), call_correlation()))


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.svg", "svg"), ("a.TXT", "text"), ("x/y.png", "png"), ("a.pdf", "pdf"), ("a.html", "html"),
     ("a.htm", "html"), ("a.mmd", "mermaid"), ("a.puml", "plantuml")],
)
def test_format_by_suffix(name: str, fmt: str) -> None:
    assert format_for(name) == fmt


def test_format_errors() -> None:
    with pytest.raises(ValueError, match="cannot tell"):
        format_for("ladder.jpeg")
    with pytest.raises(ValueError, match="unknown ladder format"):
        format_for("a.svg", "gif")
    assert format_for("ladder.out", "svg") == "svg"
    assert set(SUFFIXES.values()) == set(FORMATS)


def test_export_and_save_svg(ladder: Ladder, tmp_path: Path) -> None:
    svg = ladder.export_svg()
    assert svg == ladder.to_svg()
    ladder.save_svg(tmp_path / "a.svg")
    assert (tmp_path / "a.svg").read_text(encoding="utf-8") == svg
    assert ladder.save(tmp_path / "b.txt", width=90) == "text"
    text = (tmp_path / "b.txt").read_text(encoding="utf-8")
    assert text == ladder.to_text(90)
    assert max(len(line) for line in text.splitlines()) <= 90


def test_jupyter_display(ladder: Ladder) -> None:
    bundle = ladder._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    ET.fromstring(bundle["image/svg+xml"].encode())
    assert ladder._repr_svg_() == bundle["image/svg+xml"]
    assert ladder._repr_mimebundle_(include={"text/plain"}) == {"text/plain": repr(ladder)}
    assert repr(ladder) == "<Ladder: 3 columns, 14 messages, 5 timing brackets>"
    assert len(ladder) == 14
