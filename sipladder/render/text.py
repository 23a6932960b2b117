"""Text backend: a :class:`~sipladder.layout.Layout` as a plain-text ladder of a given width.

One line per message (and one more for its SDP summary), time and delta on the
left, lifelines ``|``, arrows ``--->`` (retransmissions ``...>``), and the side
brackets (PDD, answer, release, registration) as ``┌ │ └`` lanes on the right with
their label beside their last row, and each hop's added delay beside the node's
lifeline on the row where the request leaves it. Control characters in capture text are shown as
``\\xNN`` (:func:`~sipladder.output.terminal_safe`), so printing it is safe.
"""

from __future__ import annotations

import textwrap

from sipladder.layout import Bracket, Layout, Row, clock_text, delta_text
from sipladder.output import terminal_safe

PREFIX = 23  #: "10:15:04.123 +12.3 ms  "
#: Characters between lifelines: below this, labels shrink to a few letters.
MIN_SPACING = 6
#: Below this spacing the side-bracket lanes give their room back to the columns:
#: arrow labels matter more than the timing brackets (which the timing tables repeat).
COMFORT_SPACING = 9


def _spacing(n: int, width: int, right: int) -> int:
    """The widest lifeline spacing at which ``n`` columns and ``right`` characters of
    bracket lanes fit in ``width`` (at least :data:`MIN_SPACING`, even if that overflows)."""
    if n <= 1:
        return MIN_SPACING
    # PREFIX + spacing // 2 + (n - 1) * spacing + 2 + right must fit in width.
    spacing = max(MIN_SPACING, int((width - PREFIX - right - 2) / (n - 0.5)) + 1)
    while spacing > MIN_SPACING and _ladder_width(n, spacing) + right > width:
        spacing -= 1
    return spacing


def _ladder_width(n: int, spacing: int) -> int:
    return PREFIX + spacing // 2 + max(n - 1, 0) * spacing + 2 if n else PREFIX


def _fit(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _put(line: list[str], at: int, text: str) -> None:
    for i, ch in enumerate(text):
        if 0 <= at + i < len(line):
            line[at + i] = ch


def _label(row: Row, room: int) -> str:
    """The arrow text, dropping the CSeq before cutting anything else."""
    flags = (" (retr)" if row.retransmission else "") + (
        " !" + row.anomaly_summary.replace(" ", "") if row.anomalies else ""
    )
    full = terminal_safe(row.text + flags)
    if len(full) <= room:
        return full
    return _fit(terminal_safe(row.label + flags), room)


def natural_width(layout: Layout) -> int:
    """A width at which one-hop arrows show their whole label (for files, which no
    terminal limits): from 16 to 40 characters per column."""
    need = 16
    for row in layout.rows:
        if abs(row.src - row.dst) == 1:
            need = max(need, len(_label(row, 1000)) + 6)
    for column in layout.columns:
        need = max(need, len(column.title) + 2, len(column.address) + 2)
    spacing = min(need, 40)
    side = layout.side_brackets
    lanes = max((b.lane for b in side), default=-1) + 1
    right = 2 * lanes + 2 + max((len(b.label) for b in side), default=0) + 2 if lanes else 0
    return PREFIX + spacing // 2 + max(len(layout.columns) - 1, 0) * spacing + 2 + right


def render_text(layout: Layout, width: int | None = 100) -> str:
    """The text ladder, at most ``width`` characters wide (None: :func:`natural_width`)."""
    if width is None:
        width = natural_width(layout)
    columns = layout.columns
    n = len(columns)
    side = layout.side_brackets
    notes = list(layout.notes)

    def lanes_of(side: tuple[Bracket, ...]) -> tuple[int, dict[int, list[str]], int]:
        """Lane count, labels by row and the characters the lanes take on the right."""
        lanes = max((b.lane for b in side), default=-1) + 1
        # Each label goes on its bracket's last row (next to its "└"), or the nearest free
        # row above it inside the bracket, so that labels rarely share a line.
        labels: dict[int, list[str]] = {}
        for bracket in sorted(side, key=lambda b: (b.end_row, b.lane)):
            free = [r for r in range(bracket.end_row, bracket.start_row - 1, -1) if r not in labels]
            labels.setdefault(free[0] if free else bracket.end_row, []).append(bracket.label)
        label_room = max((len(", ".join(v)) for v in labels.values()), default=0)
        return lanes, labels, (2 * lanes + 2 + label_room) if lanes else 0

    lanes, labels, right = lanes_of(side)
    spacing = _spacing(n, width, right)
    if side and (spacing < COMFORT_SPACING or _ladder_width(n, spacing) + right > width):
        need = _ladder_width(n, COMFORT_SPACING) + right
        notes.append(f"{len(side)} timing brackets not drawn (no room: they need --width {need})")
        side = ()
        lanes, labels, right = lanes_of(side)
        spacing = _spacing(n, width, right)
    if _ladder_width(n, spacing) > width:
        # Even at the narrowest spacing the columns do not fit: say so rather than let
        # the terminal wrap every line silently.
        notes.insert(
            0,
            f"! {n} columns need {_ladder_width(n, spacing)} chars, width is {width}: "
            "try --group host or --call-id",
        )
    xs = [PREFIX + spacing // 2 + i * spacing for i in range(n)] if n else []
    ladder_width = (xs[-1] + 2) if xs else PREFIX
    lane_x = [ladder_width + 1 + 2 * k for k in range(lanes)]
    label_x = ladder_width + 1 + 2 * lanes

    lines: list[str] = [_fit(terminal_safe(layout.title), width)]
    for note in notes:
        lines.extend(textwrap.wrap(terminal_safe(note), width, subsequent_indent="  ") or [""])

    def blank() -> list[str]:
        line = [" "] * ladder_width
        for x in xs:
            line[x] = "|"
        return line

    room = spacing - 1
    truncated = False
    for part in ("title", "address"):
        line = [" "] * max(ladder_width, width)
        for column, x in zip(columns, xs, strict=True):
            text = terminal_safe(
                column.title if part == "title" else (column.address if column.name else "")
            )
            shown = _fit(text, room)
            truncated = truncated or shown != text
            # Centred on the lifeline, but never cut by either edge of the line.
            _put(line, max(0, min(x - len(shown) // 2, len(line) - len(shown))), shown)
        lines.append("".join(line).rstrip())

    # What each lane shows beside each row: (arrow line, SDP line) characters.
    lane_marks: dict[int, list[tuple[int, str, str]]] = {}
    for bracket in side:
        x = lane_x[bracket.lane] - ladder_width
        for r in range(bracket.start_row, bracket.end_row + 1):
            if bracket.start_row == bracket.end_row:
                first_ch = "["
            elif r == bracket.start_row:
                first_ch = "┌"
            elif r == bracket.end_row:
                first_ch = "└"
            else:
                first_ch = "│"
            lane_marks.setdefault(r, []).append((x, first_ch, "│" if r < bracket.end_row else " "))

    def lane_part(r: int, first: bool) -> str:
        """The lanes beside row ``r`` (its arrow line when ``first``, else its SDP line)."""
        if not lanes:
            return ""
        line = [" "] * (label_x - ladder_width)
        for x, on_arrow, on_sdp in lane_marks.get(r, ()):
            line[x] = on_arrow if first else on_sdp
        text = "".join(line)
        if first and r in labels:
            text += " " + ", ".join(labels[r])
        return text

    # Per-hop delays: written beside the node's lifeline on the row where the request
    # leaves it, on the side it came from (that side of the row has no arrow), if blank.
    hops: dict[int, list[tuple[int, str, str]]] = {}
    for bracket in layout.hop_brackets:
        if bracket.column is not None:
            hops.setdefault(bracket.end_row, []).append(
                (bracket.column, bracket.side, bracket.label)
            )

    for row in layout.rows:
        line = blank()
        a, b = xs[row.src], xs[row.dst]
        time = f"{clock_text(row.ts_ns)} {delta_text(row.delta_ns):>9} "
        _put(line, 0, time)
        if a == b:
            _put(line, a + 1, "<-" + _label(row, spacing - 3))
        else:
            lo, hi = sorted((a, b))
            fill = "." if row.retransmission else "-"
            for x in range(lo + 1, hi):
                line[x] = fill
            if b > a:
                line[hi - 1] = ">"
            else:
                line[lo + 1] = "<"
            inner = hi - lo - 1
            text = _label(row, inner - 2)  # keep the tail and the head of the arrow
            if len(text) + 2 <= inner - 2:
                text = f" {text} "
            _put(line, lo + 1 + (inner - len(text)) // 2, text)
        for node, side_of, delay in hops.get(row.index, ()):
            at = xs[node]
            start = at - 1 - len(delay) if side_of == "left" else at + 2
            room_chars = line[start - 1 : start + len(delay) + 1]
            if start > PREFIX and len(room_chars) == len(delay) + 2 and set(room_chars) == {" "}:
                _put(line, start, delay)
        lines.append(("".join(line) + lane_part(row.index, True)).rstrip())
        if row.sdp:
            line = blank()
            lo, hi = sorted((a, b))
            span = max(hi - lo - 1, spacing - 1)
            text = _fit(terminal_safe(row.sdp), span)
            _put(line, lo + 1 + max((hi - lo - 1 - len(text)) // 2, 0), text)
            lines.append(("".join(line) + lane_part(row.index, False)).rstrip())
    if truncated:
        # the legend of cut column names; a name of any length (a learned Via host can be
        # hundreds of characters) is cut so that the line fits and keeps its address
        lines.append("columns:")
        for column in columns:
            address = terminal_safe(column.address)
            room = max(width - len(address) - 3, 8)
            name = f"{_fit(terminal_safe(column.name), room)} " if column.name else ""
            lines.append(_fit(f"  {name}{address}", width))
    return "\n".join(lines) + "\n"
