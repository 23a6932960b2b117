"""The :class:`Capture` object: runs the pipeline once over some files and offers the results.

This is the Python API (and what the CLI and notebooks use). Everything is computed
on first use and kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from sipladder.model import Diagnostic, Message
from sipladder.pipeline import Counters, messages_from_frames
from sipladder.readers import read_frames
from sipladder.rows import MESSAGES, message_row

if TYPE_CHECKING:
    import pandas as pd


class Capture:
    """SIP found in one or more capture files (merged by time)."""

    def __init__(self, paths: str | Sequence[str]) -> None:
        self.paths: tuple[str, ...] = (paths,) if isinstance(paths, str) else tuple(paths)
        self.diagnostics: list[Diagnostic] = []
        self.counters = Counters()
        frames = read_frames(self.paths, self._report)
        self._messages: list[Message] = list(
            messages_from_frames(frames, self._report, self.counters)
        )

    def _report(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)
        counts = self.counters.diagnostics
        counts[diagnostic.code] = counts.get(diagnostic.code, 0) + 1

    def __repr__(self) -> str:
        return f"<Capture {', '.join(self.paths)}: {len(self._messages)} SIP messages>"

    def __len__(self) -> int:
        return len(self._messages)

    # ----------------------------------------------------------------------- messages

    @property
    def records(self) -> list[Message]:
        """The :class:`~sipladder.model.Message` records, in capture order."""
        return self._messages

    def message_rows(self) -> list[dict[str, object]]:
        return [message_row(m) for m in self._messages]

    @cached_property
    def messages(self) -> pd.DataFrame:
        """One row per SIP message (the columns of ``sipladder messages --format json``)."""
        from sipladder.tables import frame

        return frame(MESSAGES, self.message_rows())


def load(paths: str | Sequence[str]) -> Capture:
    """Read one capture file or several (merged by timestamp) and parse every SIP message."""
    return Capture(paths)
