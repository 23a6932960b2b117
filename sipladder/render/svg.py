"""SVG backend: draws a :class:`~sipladder.layout.Layout` as one self-contained SVG document.

No scripts, no external fonts or images. Text stays text (selectable, searchable),
every arrow is a ``<g>`` whose ``<title>`` holds the whole SIP message, so hovering
shows it. All capture text goes through :func:`~sipladder.render.escape.xml_text`.
Numbers are rounded to 0.1 px, so the output is byte-identical for the same input.
"""

from __future__ import annotations

from string import Template

from sipladder.layout import (
    ANOMALY_COLOUR,
    BRACKET_COLOUR,
    MUTED_COLOUR,
    Bracket,
    Layout,
    Row,
    clock_text,
    delta_text,
    label_width,
)
from sipladder.render.escape import xml_text

FONT = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
HEAD = 8.0  #: arrowhead length
#: Messages longer than this are cut in the hover text (the SVG stays modest).
DETAIL_LIMIT = 6000

# CSS braces would make an f-string unreadable: string.Template on purpose.
_STYLE = Template("""
text{font-family:$font;fill:#111}
.t{font-size:14px;font-weight:bold}
.note{font-size:11px;fill:$muted}
.name{font-size:12px;font-weight:bold}
.addr,.time,.delta,.sdp,.cseq,.bl,.hop,.leg{font-size:10.5px}
.delta,.sdp,.cseq,.addr,.leg{fill:$muted}
.lbl{font-size:12px;paint-order:stroke;stroke:#fff;stroke-width:5px;stroke-linejoin:round}
.sdp{paint-order:stroke;stroke:#fff;stroke-width:5px;stroke-linejoin:round}
.anom{fill:$anomaly;font-weight:bold}
.retr{font-style:italic}
.bg{fill:#fff}
.life{stroke:#b8b8b8;stroke-width:1}
.box{fill:#f4f4f4;stroke:#777;stroke-width:1}
.arrow{stroke-width:1.6;fill:none}
.dash{stroke-dasharray:6 4}
.msg:hover .arrow{stroke-width:3}
.msg:hover .lbl{font-weight:bold}
.br{stroke:$bracket;stroke-width:1.2;fill:none}
.guide{stroke:#999;stroke-width:0.8;stroke-dasharray:1 3;fill:none}
.bl{fill:$bracket;font-weight:bold;paint-order:stroke;stroke:#fff;stroke-width:3px}
.hop{fill:$bracket;paint-order:stroke;stroke:#fff;stroke-width:3px}
""").substitute(font=FONT, muted=MUTED_COLOUR, anomaly=ANOMALY_COLOUR, bracket=BRACKET_COLOUR)


def _n(value: float) -> str:
    """A coordinate: at most one decimal, no trailing ``.0`` (deterministic and short).
    Called ~20 times per arrow, hence integer arithmetic rather than formatting."""
    tenths = round(value * 10)
    if tenths % 10 == 0:
        return str(tenths // 10)
    return f"{tenths / 10:.1f}"


def _text(cls: str, x: float, y: float, content: str, anchor: str | None = None) -> str:
    """A ``<text>`` element; ``content`` must already be escaped markup."""
    where = f' text-anchor="{anchor}"' if anchor else ""
    return f'<text class="{cls}" x="{_n(x)}" y="{_n(y)}"{where}>{content}</text>'


def _detail(row: Row) -> str:
    detail = row.detail
    if len(detail) > DETAIL_LIMIT:
        detail = detail[:DETAIL_LIMIT] + f"\n[... {len(row.detail) - DETAIL_LIMIT} more characters]"
    extra = ""
    if row.retransmission:
        extra += "retransmission\n"
    if row.anomalies:
        extra += "anomalies: " + ", ".join(row.anomalies) + "\n"
    return f"{row.heading}\n{extra}\n{detail}"


def _arrow(layout: Layout, row: Row) -> list[str]:
    x1 = layout.columns[row.src].x
    x2 = layout.columns[row.dst].x
    y = row.y
    cls = "arrow dash" if row.retransmission else "arrow"
    out: list[str] = []
    if row.src == row.dst:  # a message between two ports of one host (--group host)
        x3 = x1 + 34
        y2 = y + 10
        out.append(
            f'<path class="{cls}" stroke="{row.colour}" d="M{_n(x1)} {_n(y - 6)}H{_n(x3)}V{_n(y2)}'
            f'H{_n(x1 + HEAD)}"/>'
        )
        out.append(f'<path fill="{row.colour}" d="M{_n(x1)} {_n(y2)}l{_n(HEAD)} -4v8z"/>')
        return out
    direction = 1 if x2 > x1 else -1
    tip = x2 - direction * 1
    base = tip - direction * HEAD
    out.append(
        f'<line class="{cls}" stroke="{row.colour}" '
        f'x1="{_n(x1)}" y1="{_n(y)}" x2="{_n(base)}" y2="{_n(y)}"/>'
    )
    out.append(
        f'<path fill="{row.colour}" d="M{_n(tip)} {_n(y)}L{_n(base)} {_n(y - 4)}V{_n(y + 4)}z"/>'
    )
    return out


def _row(layout: Layout, row: Row) -> str:
    g = layout.geometry
    x1 = layout.columns[row.src].x
    x2 = layout.columns[row.dst].x
    centre = (x1 + x2) / 2 if row.src != row.dst else x1 + 40
    anchor = "middle" if row.src != row.dst else "start"
    parts = [f'<g class="msg" id="m{row.index}" data-frame="{row.frame}">']
    parts.append(f"<title>{xml_text(_detail(row))}</title>")
    parts.append(
        f'<text class="time" x="{_n(g.margin)}" y="{_n(row.y - 2)}">{clock_text(row.ts_ns)}</text>'
    )
    if row.delta_ns is not None:
        parts.append(_text("delta", g.margin, row.y + 10, xml_text(delta_text(row.delta_ns))))
    parts.extend(_arrow(layout, row))

    def backdrop(width: float, top: float, height: float) -> None:
        # A white card behind text keeps lifelines from striking through it.
        left = centre - width / 2 if anchor == "middle" else centre
        parts.append(
            f'<rect class="bg" x="{_n(left - 2)}" y="{_n(top)}" '
            f'width="{_n(width + 4)}" height="{_n(height)}"/>'
        )

    width = label_width(row, g)
    small = g.small
    backdrop(width, row.y - 16, 13)
    if row.sdp:
        backdrop(g.text_width(row.sdp, small), row.y + 4, 12)
    label = [f'<tspan fill="{row.colour}">{xml_text(row.label)}</tspan>']
    if row.cseq:
        label.append(f' <tspan class="cseq">{xml_text(row.cseq)}</tspan>')
    if row.retransmission:
        label.append(' <tspan class="cseq retr">↻ retr.</tspan>')
    if row.anomalies:
        label.append(f' <tspan class="anom">⚠ {xml_text(row.anomaly_summary)}</tspan>')
    parts.append(_text("lbl", centre, row.y - 5, "".join(label), anchor))
    if row.sdp:
        parts.append(_text("sdp", centre, row.y + 13, xml_text(row.sdp), anchor))
    parts.append("</g>")
    return "".join(parts)


def _bracket(layout: Layout, bracket: Bracket) -> str:
    x, y0, y1 = bracket.x, bracket.y0, bracket.y1
    label = xml_text(bracket.label)
    if bracket.kind == "hop":
        # The bracket hugs the node's lifeline from the request's arrival to its
        # departure; the label sits just above the departure arrow, on the side the
        # request came from, where that row has neither arrow nor label.
        tick = 4 if bracket.side == "left" else -4  # ticks point at the lifeline
        text_x = x - tick
        anchor = "end" if bracket.side == "left" else "start"
        node = xml_text(layout.columns[bracket.column or 0].title)
        return (
            f'<g class="hopd"><title>delay added by {node}: {label}</title>'
            f'<path class="br" d="M{_n(x + tick)} {_n(y0)}H{_n(x)}V{_n(y1)}H{_n(x + tick)}"/>'
            + _text("hop", text_x, y1 - 4, label, anchor)
            + "</g>"
        )
    right_edge = max(c.x for c in layout.columns)
    mid = (y0 + y1) / 2 + 4
    return (
        f'<g class="bracket {bracket.kind}"><title>{label}</title>'
        f'<path class="guide" d="M{_n(right_edge)} {_n(y0)}H{_n(x - 5)}'
        f'M{_n(right_edge)} {_n(y1)}H{_n(x - 5)}"/>'
        f'<path class="br" d="M{_n(x - 5)} {_n(y0)}H{_n(x)}V{_n(y1)}H{_n(x - 5)}"/>'
        f'<text class="bl" x="{_n(x + 4)}" y="{_n(mid)}">{label}</text></g>'
    )


def render_svg(layout: Layout) -> str:
    """The whole SVG document as text (UTF-8, with an XML declaration)."""
    g = layout.geometry
    w, h = layout.width, layout.height
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(w)}" height="{_n(h)}" '
        f'viewBox="0 0 {_n(w)} {_n(h)}" role="img">',
        f"<title>{xml_text(layout.title)}</title>",
        f"<style>{_STYLE}</style>",
        f'<rect width="{_n(w)}" height="{_n(h)}" fill="#ffffff"/>',
        _text("t", g.margin, g.margin + 12, xml_text(layout.title)),
    ]
    for i, note in enumerate(layout.notes):
        y = g.margin + g.title_height + g.note_line * i + 6
        out.append(f'<text class="note" x="{_n(g.margin)}" y="{_n(y)}">{xml_text(note)}</text>')

    out.append('<g class="columns">')
    box_top = layout.box_top
    for column in layout.columns:
        x = column.x
        out.append(
            f'<line class="life" x1="{_n(x)}" y1="{_n(box_top + g.box_height)}" x2="{_n(x)}" '
            f'y2="{_n(layout.lifeline_end)}" shape-rendering="crispEdges"/>'
        )
        out.append(
            f'<rect class="box" x="{_n(x - column.box_width / 2)}" y="{_n(box_top)}" '
            f'width="{_n(column.box_width)}" height="{_n(g.box_height)}" rx="4"/>'
        )
        if column.name:
            out.append(
                f'<text class="name" x="{_n(x)}" y="{_n(box_top + 14)}" text-anchor="middle">'
                f"{xml_text(column.name)}</text>"
            )
            out.append(
                f'<text class="addr" x="{_n(x)}" y="{_n(box_top + 28)}" text-anchor="middle">'
                f"{xml_text(column.address)}</text>"
            )
        else:
            out.append(
                f'<text class="name" x="{_n(x)}" y="{_n(box_top + 21)}" text-anchor="middle">'
                f"{xml_text(column.address)}</text>"
            )
    out.append("</g>")

    # Hop brackets first, so that arrow labels (with their white halo) stay on top.
    if layout.hop_brackets:
        out.append('<g class="hops">')
        out.extend(_bracket(layout, b) for b in layout.hop_brackets)
        out.append("</g>")

    out.append('<g class="rows">')
    out.extend(_row(layout, row) for row in layout.rows)
    out.append("</g>")

    if layout.side_brackets:
        out.append('<g class="brackets">')
        out.extend(_bracket(layout, b) for b in layout.side_brackets)
        out.append("</g>")

    if layout.legend:
        y = layout.lifeline_end + g.margin + 8
        x = g.margin
        out.append('<g class="legend">')
        for colour, meaning in layout.legend:
            out.append(
                f'<rect x="{_n(x)}" y="{_n(y - 8)}" width="10" height="10" fill="{colour}"/>'
            )
            out.append(
                f'<text class="leg" x="{_n(x + 14)}" y="{_n(y + 1)}">{xml_text(meaning)}</text>'
            )
            x += 14 + g.text_width(meaning, g.small) + 18
            if x > w - 200:
                break  # the legend is a help, not a list: the first entries say enough
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
