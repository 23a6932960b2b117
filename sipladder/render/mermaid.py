"""Mermaid backend: a ``sequenceDiagram`` for documentation pipelines.

Participants are ``C0``, ``C1``... (capture text never becomes an identifier); every
piece of capture text is written with Mermaid entity codes (``#59;``) for anything
but letters, digits and a few harmless marks, so no ``;``, ``#``, ``:``, ``%%``,
``<`` or line break from a capture can change the diagram's structure.
Retransmissions are dotted arrows (``-->>``); side brackets become notes after the
message that ends them.
"""

from __future__ import annotations

import re

from sipladder.layout import Layout, clock_text

_UNSAFE = re.compile(r"[^A-Za-z0-9 ._+\-/,()\[\]=*@µ]")


def mermaid_text(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"#{ord(m.group())};", " ".join(text.split()))


def render_mermaid(layout: Layout) -> str:
    lines = ["sequenceDiagram"]
    lines.append(f"    %% {mermaid_text(layout.title)}")
    for note in layout.notes:
        lines.append(f"    %% {mermaid_text(note)}")
    for column in layout.columns:
        label = mermaid_text(column.name) + "<br/>" if column.name else ""
        lines.append(f"    participant C{column.index} as {label}{mermaid_text(column.address)}")
    ends: dict[int, list[str]] = {}
    for bracket in layout.side_brackets:
        ends.setdefault(bracket.end_row, []).append(bracket.label)
    last = len(layout.columns) - 1
    for row in layout.rows:
        arrow = "-->>" if row.retransmission else "->>"
        text = row.text
        if row.retransmission:
            text += " (retransmission)"
        if row.anomalies:
            text += " ! " + ", ".join(row.anomalies)
        text = f"{clock_text(row.ts_ns)} {text}"
        lines.append(f"    C{row.src}{arrow}C{row.dst}: {mermaid_text(text)}")
        for label in ends.get(row.index, []):
            lines.append(f"    Note right of C{last}: {mermaid_text(label)}")
    return "\n".join(lines) + "\n"
