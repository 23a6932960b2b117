"""PlantUML backend: an ``@startuml`` sequence diagram for documentation pipelines.

Participants are ``C0``, ``C1``...; capture text is written with PlantUML's Unicode
escapes (``<U+0040>``) for anything but letters, digits and a few harmless marks, so no
quote, backslash, ``@enduml``, creole markup or line break from a capture can change the
diagram. (Not ``&#64;``: PlantUML 1.2020 feeds those to a Java regex replacement, where
``&#92;`` and ``&#36;`` make it fail.) Retransmissions are dashed arrows (``-->``); side brackets
become notes after the message that ends them.
"""

from __future__ import annotations

import re

from sipladder.layout import Layout, clock_text

_UNSAFE = re.compile(r"[^A-Za-z0-9 ._+\-/,()=µ:]")


def plantuml_text(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"<U+{ord(m.group()):04X}>", " ".join(text.split()))


def render_plantuml(layout: Layout) -> str:
    lines = ["@startuml", f"title {plantuml_text(layout.title)}"]
    lines.append("skinparam defaultFontName Monospaced")
    lines.append("skinparam sequenceMessageAlign center")
    if layout.notes:
        lines.append("header " + plantuml_text(" · ".join(layout.notes)))
    for column in layout.columns:
        label = plantuml_text(column.name) + "\\n" if column.name else ""
        lines.append(f'participant "{label}{plantuml_text(column.address)}" as C{column.index}')
    ends: dict[int, list[str]] = {}
    for bracket in layout.side_brackets:
        ends.setdefault(bracket.end_row, []).append(bracket.label)
    last = len(layout.columns) - 1
    for row in layout.rows:
        arrow = "-->" if row.retransmission else "->"
        colour = f"[{row.colour}]"
        arrow = arrow[0] + colour + arrow[1:] if arrow == "->" else "-" + colour + "->"
        text = row.text
        if row.retransmission:
            text += " (retransmission)"
        if row.anomalies:
            text += " ! " + ", ".join(row.anomalies)
        text = f"{clock_text(row.ts_ns)} {text}"
        lines.append(f"C{row.src} {arrow} C{row.dst} : {plantuml_text(text)}")
        for label in ends.get(row.index, []):
            lines.append(f"note right of C{last} : {plantuml_text(label)}")
    lines.append("@enduml")
    return "\n".join(lines) + "\n"
