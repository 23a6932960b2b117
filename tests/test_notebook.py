"""notebooks/explore.ipynb runs from top to bottom (nbclient, a real Jupyter kernel), and the
outputs committed with it are the ones it produces now (text outputs compared; images
depend on the installed matplotlib and fonts, so only their presence is checked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
TEXT = ("text/plain", "text/html")


def _outputs(nb: Any) -> list[list[tuple[str, str]]]:
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        shown: list[tuple[str, str]] = []
        for output in cell.outputs:
            if output.output_type == "stream":
                # stderr carries one-off notices (a font cache being built, deprecations
                # of the installed libraries): not part of what the notebook shows.
                if output.name == "stderr":
                    continue
                if shown and shown[-1][0] == output.name:
                    # one text, sent in pieces: the kernel sends what was written every
                    # 0.2 s, and print() writes the text and its newline apart, so on a
                    # busy machine one print can arrive as two outputs
                    shown[-1] = (output.name, shown[-1][1] + output.text)
                else:
                    shown.append((output.name, output.text))
            elif output.output_type == "error":
                shown.append(("error", f"{output.ename}: {output.evalue}"))
            else:
                for kind, value in sorted(output.get("data", {}).items()):
                    shown.append((kind, value if kind in TEXT else "<image>"))
        cells.append(shown)
    return cells


def test_notebook_runs_and_its_committed_outputs_are_current() -> None:
    committed = nbformat.read(NOTEBOOK, as_version=4)
    fresh = nbformat.read(NOTEBOOK, as_version=4)
    # Raises CellExecutionError, with the cell and its traceback, if any cell fails.
    NotebookClient(
        fresh, timeout=240, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    now = _outputs(fresh)
    # Every code cell but the first (paths) and the last (cleaning up) shows something.
    assert all(now[1:-1])
    assert not any(kind == "error" for cell in now for kind, _ in cell)
    assert _outputs(committed) == now, "re-run the notebook and commit its outputs"
    images = [kind for cell in now for kind, _ in cell if kind.startswith("image/")]
    assert images.count("image/png") >= 5 and "image/svg+xml" in images
