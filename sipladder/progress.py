"""A progress line on standard error for long runs: packets, SIP messages and calls so far.

Shown only when the stream is a terminal (never in pipes, files or CI logs) and
not with ``--quiet``. Cheap enough to sit in the frame loop: it counts frames with
one addition and looks at the clock only every few thousand frames, redrawing at
most a few times a second. The line is erased when the run ends, so the output
that follows (a table on the same terminal) starts clean.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TextIO, TypeVar

T = TypeVar("T")

#: Frames between two looks at the clock (a power of two minus one, used as a mask).
_CHECK_MASK = 0x0FFF


class Progress:
    """Counts what the pipeline has done and draws it, throttled, on ``stream``.

    ``messages`` and ``calls`` are callables returning the counts so far (the
    pipeline's counters), read only when a line is drawn.
    """

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        total_bytes: int | None = None,
        messages: Callable[[], int] | None = None,
        calls: Callable[[], int] | None = None,
        interval: float = 0.25,
        delay: float = 0.5,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.total_bytes = total_bytes
        self.messages = messages
        self.calls = calls
        self.interval = interval
        self.frames = 0
        self.bytes = 0
        self._started = time.monotonic()
        self._next_draw = self._started + delay  # short runs never show a line
        self._drawn = False

    @classmethod
    def for_files(
        cls,
        paths: Sequence[str],
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        **kw: object,
    ) -> Progress:
        """A progress line for reading ``paths``: disabled with ``quiet``; a percentage
        is estimated when every file is a plain (not compressed, not stdin) capture."""
        total: int | None = 0
        for path in paths:
            if path == "-" or path.endswith((".gz", ".gzip")):
                total = None
                break
            try:
                total = (total or 0) + os.path.getsize(path)
            except OSError:
                total = None
                break
        enabled = False if quiet else None
        return cls(stream=stream, enabled=enabled, total_bytes=total, **kw)  # type: ignore[arg-type]

    # ----------------------------------------------------------------------- counting

    def track(
        self,
        frames: Iterable[T],
        size: Callable[[T], int] | None = None,
        count: Callable[[T], int] | None = None,
    ) -> Iterator[T]:
        """Pass ``frames`` through, counting them (and their bytes, via ``size``); an
        item may stand for ``count(item)`` frames (the reader's count of frames it
        passed over for a worker)."""
        if not self.enabled:
            yield from frames
            return
        for frame in frames:
            before = self.frames
            self.frames += 1 if count is None else count(frame)
            if size is not None:
                self.bytes += size(frame)
            if (before ^ self.frames) & ~_CHECK_MASK:  # a multiple of _CHECK_MASK + 1 reached
                self.tick()
            yield frame
        self.close()

    def tick(self) -> None:
        """Redraw if enough time has passed."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now >= self._next_draw:
            self._next_draw = now + self.interval
            self._draw(now)

    def text(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        parts = [f"{self.frames:,} packets"]
        if self.messages is not None:
            parts.append(f"{self.messages():,} SIP messages")
        if self.calls is not None:
            parts.append(f"{self.calls():,} calls")
        line = "sipladder: " + ", ".join(parts) + f", {now - self._started:.1f} s"
        if self.total_bytes and self.bytes:
            # Record headers are not counted: an estimate, never shown as finished.
            share = min(99, int(100 * self.bytes / self.total_bytes))
            line += f" (~{share}%)"
        return line

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.text(now) + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the line (if one was drawn)."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False
