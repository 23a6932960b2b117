"""The :class:`Ladder` object: one computed layout, offered in every output format.

Rendering is separate from output (as in rich): ``to_svg()``/``export_svg()`` return
text, ``save()``/``save_svg()`` write files. In Jupyter a ladder shows itself as SVG
(``_repr_mimebundle_``), with the text ladder as the plain-text fallback.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from sipladder.layout import Layout
from sipladder.render.svg import render_svg
from sipladder.render.text import render_text

#: Output file suffix -> format name (``--format`` takes the names).
SUFFIXES: dict[str, str] = {
    ".svg": "svg",
    ".txt": "text",
    ".png": "png",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".mmd": "mermaid",
    ".puml": "plantuml",
}
FORMATS: tuple[str, ...] = ("svg", "text", "png", "pdf", "html", "mermaid", "plantuml")


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The format to write ``path`` in: ``fmt`` if given, else chosen by the file's suffix."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown ladder format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"cannot tell the ladder format from {str(path)!r}: use one of "
            f"{', '.join(sorted(SUFFIXES))} or --format"
        )
    return SUFFIXES[suffix]


class Ladder:
    """A ladder diagram ready to draw. Build one with :meth:`sipladder.Capture.ladder`."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def __repr__(self) -> str:
        return (
            f"<Ladder: {len(self.layout.columns)} columns, {len(self.layout.rows)} messages, "
            f"{len(self.layout.brackets)} timing brackets>"
        )

    def __len__(self) -> int:
        return len(self.layout.rows)

    # ----------------------------------------------------------------------- text formats

    def to_svg(self) -> str:
        return render_svg(self.layout)

    def export_svg(self) -> str:
        """The SVG document as a string (rich's name for it)."""
        return self.to_svg()

    def to_text(self, width: int | None = None) -> str:
        """A text ladder ``width`` characters wide (default: the terminal's width)."""
        if width is None:
            width = shutil.get_terminal_size((120, 24)).columns
        return render_text(self.layout, width)

    def __str__(self) -> str:
        return self.to_text()

    def to_html(self) -> str:
        from sipladder.render.html import render_html

        return render_html(self.layout)

    def to_mermaid(self) -> str:
        from sipladder.render.mermaid import render_mermaid

        return render_mermaid(self.layout)

    def to_plantuml(self) -> str:
        from sipladder.render.plantuml import render_plantuml

        return render_plantuml(self.layout)

    # ----------------------------------------------------------------------- images

    def to_png(self, dpi: float = 150) -> bytes:
        from sipladder.render.mpl import render_image

        return render_image(self.layout, "png", dpi=dpi)

    def to_pdf(self) -> bytes:
        from sipladder.render.mpl import render_image

        return render_image(self.layout, "pdf")

    # ----------------------------------------------------------------------- files

    def render(self, fmt: str, width: int | None = None) -> str | bytes:
        """The ladder in format ``fmt`` (one of :data:`FORMATS`): text, or bytes for images.
        ``width`` is for the text format (None: as wide as the labels need)."""
        if fmt == "svg":
            return self.to_svg()
        if fmt == "text":
            return render_text(self.layout, width)  # None: as wide as the labels need
        if fmt == "html":
            return self.to_html()
        if fmt == "mermaid":
            return self.to_mermaid()
        if fmt == "plantuml":
            return self.to_plantuml()
        if fmt == "png":
            return self.to_png()
        if fmt == "pdf":
            return self.to_pdf()
        raise ValueError(f"unknown ladder format {fmt!r}; choose one of {', '.join(FORMATS)}")

    def save(
        self, path: str | os.PathLike[str], fmt: str | None = None, width: int | None = None
    ) -> str:
        """Write the ladder to ``path`` in the format its suffix names (or ``fmt``).
        Returns the format written. Text files are as wide as their labels need
        unless ``width`` says otherwise."""
        chosen = format_for(path, fmt)
        data = self.render(chosen, width)
        if isinstance(data, str):
            data = data.encode("utf-8")
        Path(path).write_bytes(data)
        return chosen

    def save_svg(self, path: str | os.PathLike[str]) -> None:
        self.save(path, "svg")

    # ----------------------------------------------------------------------- Jupyter

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = {"image/svg+xml": self.to_svg(), "text/plain": repr(self)}
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle
