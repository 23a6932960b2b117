"""matplotlib backend: PNG and PDF files that their own readers accept; deterministic."""

from __future__ import annotations

import io
import sys

import matplotlib.image
import pytest
from ladder_factory import call_correlation, call_messages

from sipladder.errors import MissingExtraError
from sipladder.ladder import Ladder
from sipladder.layout import build_layout
from sipladder.render import mpl


@pytest.fixture(scope="module")
def ladder() -> Ladder:
    return Ladder(build_layout(call_messages(), call_correlation()))


def test_png_reads_back_with_the_layout_size(ladder: Ladder) -> None:
    data = ladder.to_png(dpi=100)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
    height, width = pixels.shape[:2]
    assert abs(width - ladder.layout.width) <= 1 and abs(height - ladder.layout.height) <= 1
    # Not blank: the arrows' blue (#0072B2) is there.
    rgb = (pixels[..., :3] * 255).round().astype(int).reshape(-1, 3)
    assert (
        (abs(rgb[:, 0] - 0x00) < 10) & (abs(rgb[:, 1] - 0x72) < 10) & (abs(rgb[:, 2] - 0xB2) < 10)
    ).any()


def test_pdf_header_trailer_and_page_size(ladder: Ladder) -> None:
    data = ladder.to_pdf()
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")
    assert b"/MediaBox [ 0 0 " in data
    assert ladder.to_pdf() == data  # deterministic: no creation date


def test_png_is_deterministic(ladder: Ladder) -> None:
    assert ladder.to_png(dpi=60) == ladder.to_png(dpi=60)


def test_dollar_signs_stay_literal() -> None:
    assert mpl._plain("cost $5 and $x$") == r"cost \$5 and \$x\$"
    assert mpl._plain(" CSeq\r\n 1") == " CSeq 1"


def test_missing_matplotlib_gives_install_advice(
    monkeypatch: pytest.MonkeyPatch, ladder: Ladder
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'sipladder\[plot\]'"):
        ladder.to_png()


def test_save_by_suffix(ladder: Ladder, tmp_path: pytest.TempPathFactory) -> None:
    png = tmp_path / "l.png"  # type: ignore[operator]
    pdf = tmp_path / "l.pdf"  # type: ignore[operator]
    assert ladder.save(png) == "png" and ladder.save(pdf) == "pdf"
    assert matplotlib.image.imread(png).shape[2] in (3, 4)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_png_too_tall_to_read_is_refused(ladder: Ladder) -> None:
    import dataclasses

    tall = Ladder(dataclasses.replace(ladder.layout, height=200_000.0))
    with pytest.raises(ValueError, match="too tall for a PNG; write SVG or HTML"):
        tall.to_png()
