"""Reading capture files: the only module that opens them.

pcap (microsecond and nanosecond resolution, either byte order), pcapng (several
interfaces, each with its own link type and ``if_tsresol``) and gzip-compressed
files of either, through scapy's raw readers (no per-packet dissection). Several
files are merged by timestamp; ``-`` reads standard input.

Yields :class:`~sipladder.model.Frame` records and reports problems to a
``report`` callback as :class:`~sipladder.model.Diagnostic` records; raises
:class:`~sipladder.errors.CaptureError` only for a file that cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from sipladder.model import Diagnostic, Frame

Report = Callable[[Diagnostic], None]


def read_frames(paths: Sequence[str], report: Report) -> Iterator[Frame]:
    """Every frame of every file, merged by timestamp (stable: file order breaks ties)."""
    raise NotImplementedError
