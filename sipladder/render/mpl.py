"""matplotlib backend: PNG and PDF images of a :class:`~sipladder.layout.Layout`.

The only module that imports matplotlib for ladders, lazily: without the ``plot``
extra a :class:`~sipladder.errors.MissingExtraError` says what to install. It draws
the same pixel geometry as the SVG backend (one layout unit = one pixel at 100 dpi),
on the non-interactive Agg/PDF canvases, and writes metadata without dates so that the
output is byte-identical for the same input.
"""

from __future__ import annotations

import io
import re
from typing import Any

from sipladder.errors import MissingExtraError
from sipladder.layout import (
    ANOMALY_COLOUR,
    BRACKET_COLOUR,
    MUTED_COLOUR,
    Layout,
    clock_text,
    delta_text,
)

#: Agg cannot draw more than 2**16 pixels in either direction.
MAX_PIXELS = 65_000
PT = 0.72  #: points per layout pixel at 100 dpi
FONT = ["DejaVu Sans Mono", "monospace"]


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError("matplotlib", "plot", "Drawing PNG or PDF ladders") from None
    return matplotlib


def _plain(text: str) -> str:
    """matplotlib reads ``$...$`` as mathtext; capture text must stay literal."""
    # Whitespace runs (line breaks included) become one space; leading spaces stay,
    # they separate the pieces of a label.
    return re.sub(r"\s+", " ", text).replace("$", r"\$")


def render_image(layout: Layout, fmt: str, dpi: float = 150) -> bytes:
    """The ladder as PNG or PDF bytes."""
    if fmt not in ("png", "pdf"):
        raise ValueError(f"matplotlib ladders are png or pdf, not {fmt!r}")
    _matplotlib()
    from matplotlib import patheffects
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon

    g = layout.geometry
    w, h = layout.width, layout.height
    if fmt == "png":
        largest = max(w, h) * dpi / 100
        if largest > MAX_PIXELS:
            dpi = MAX_PIXELS * 100 / max(w, h)
            if dpi < 50:  # text would be under 6 pixels high: unreadable, and minutes to draw
                raise ValueError(
                    f"a ladder of {len(layout.rows)} messages is too tall for a PNG; "
                    "write SVG or HTML, or cut it with --max-messages"
                )
    fig = Figure(figsize=(w / 100, h / 100), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.axis("off")
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]

    def text(x: float, y: float, s: str, size: float, **kw: Any) -> None:
        ax.text(x, y, _plain(s), fontsize=size * PT, family=FONT, va="baseline", **kw)

    text(g.margin, g.margin + 12, layout.title, 14, weight="bold")
    for i, note in enumerate(layout.notes):
        text(
            g.margin, g.margin + g.title_height + g.note_line * i + 6, note, 11, color=MUTED_COLOUR
        )

    from matplotlib.patches import FancyBboxPatch

    for column in layout.columns:
        x = column.x
        top = layout.box_top
        ax.plot([x, x], [top + g.box_height, layout.lifeline_end], color="#b8b8b8", lw=0.8)
        ax.add_patch(
            FancyBboxPatch(
                (x - column.box_width / 2, top),
                column.box_width,
                g.box_height,
                boxstyle="round,pad=0,rounding_size=4",
                fc="#f4f4f4",
                ec="#777777",
                lw=0.8,
            )
        )
        if column.name:
            text(x, top + 14, column.name, 12, ha="center", weight="bold")
            text(x, top + 28, column.address, 10.5, ha="center", color=MUTED_COLOUR)
        else:
            text(x, top + 21, column.address, 12, ha="center", weight="bold")

    for b in layout.hop_brackets:
        tick = 4 if b.side == "left" else -4
        ax.plot(
            [b.x + tick, b.x, b.x, b.x + tick],
            [b.y0, b.y0, b.y1, b.y1],
            color=BRACKET_COLOUR,
            lw=0.9,
        )
        text(
            b.x - tick,
            b.y1 - 4,
            b.label,
            10.5,
            ha="right" if b.side == "left" else "left",
            color=BRACKET_COLOUR,
            path_effects=halo,
        )

    for row in layout.rows:
        x1, x2 = layout.columns[row.src].x, layout.columns[row.dst].x
        y = row.y
        style = (0, (6, 4)) if row.retransmission else "solid"
        text(g.margin, y - 2, clock_text(row.ts_ns), 10.5)
        if row.delta_ns is not None:
            text(g.margin, y + 10, delta_text(row.delta_ns), 10.5, color=MUTED_COLOUR)
        if row.src == row.dst:
            ax.plot(
                [x1, x1 + 34, x1 + 34, x1 + 8],
                [y - 6, y - 6, y + 10, y + 10],
                color=row.colour,
                lw=1.2,
                linestyle=style,
            )
            ax.add_patch(
                Polygon([(x1, y + 10), (x1 + 8, y + 6), (x1 + 8, y + 14)], color=row.colour)
            )
            centre, anchor = x1 + 40, "left"
        else:
            d = 1 if x2 > x1 else -1
            tip, base = x2 - d, x2 - d * 9
            ax.plot([x1, base], [y, y], color=row.colour, lw=1.2, linestyle=style)
            ax.add_patch(Polygon([(tip, y), (base, y - 4), (base, y + 4)], color=row.colour, lw=0))
            centre, anchor = (x1 + x2) / 2, "center"
        # Label, CSeq, retransmission mark and anomalies on one line, as in the SVG:
        # pieces placed one after the other from the estimated monospace widths.
        pieces: list[tuple[str, float, dict[str, Any]]] = [(row.label, 12, {"color": row.colour})]
        if row.cseq:
            pieces.append((" " + row.cseq, 10.5, {"color": MUTED_COLOUR}))
        if row.retransmission:
            pieces.append((" ↻ retr.", 10.5, {"color": MUTED_COLOUR, "style": "italic"}))
        if row.anomalies:
            warning = " ⚠ " + row.anomaly_summary
            pieces.append((warning, 10.5, {"color": ANOMALY_COLOUR, "weight": "bold"}))
        total = sum(g.text_width(piece, size) for piece, size, _ in pieces)
        x = centre - total / 2 if anchor == "center" else centre
        for piece, size, look in pieces:
            text(x, y - 5, piece, size, ha="left", path_effects=halo, **look)
            x += g.text_width(piece, size)
        if row.sdp:
            text(centre, y + 13, row.sdp, 10.5, ha=anchor, color=MUTED_COLOUR, path_effects=halo)

    if layout.columns:
        right = max(c.x for c in layout.columns)
        for b in layout.side_brackets:
            for yy in (b.y0, b.y1):
                ax.plot([right, b.x - 5], [yy, yy], color="#999999", lw=0.6, linestyle=(0, (1, 3)))
            ax.plot(
                [b.x - 5, b.x, b.x, b.x - 5], [b.y0, b.y0, b.y1, b.y1], color=BRACKET_COLOUR, lw=1
            )
            text(b.x + 4, (b.y0 + b.y1) / 2 + 4, b.label, 10.5, color=BRACKET_COLOUR, weight="bold")

    if layout.legend:
        y = layout.lifeline_end + g.margin + 8
        x = g.margin
        for colour, meaning in layout.legend:
            ax.add_patch(
                Polygon([(x, y - 8), (x + 10, y - 8), (x + 10, y + 2), (x, y + 2)], color=colour)
            )
            text(x + 14, y + 1, meaning, 10.5, color=MUTED_COLOUR)
            x += 14 + g.text_width(meaning, g.small) + 18
            if x > w - 200:
                break

    out = io.BytesIO()
    if fmt == "png":
        fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    else:
        fig.savefig(
            out, format="pdf", metadata={"Creator": None, "Producer": None, "CreationDate": None}
        )
    return out.getvalue()
