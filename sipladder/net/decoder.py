"""From frames to transport payloads: link layer, IP (with fragment reassembly) and UDP.

The decoder keeps state (fragments waiting for their siblings, later TCP
streams), so it is an object fed one frame at a time::

    decoder = PacketDecoder(report)
    for frame in frames:
        for payload in decoder.feed(frame):
            ...
    for payload in decoder.finish():
        ...
"""

from __future__ import annotations

from collections.abc import Callable

from sipladder.model import Diagnostic, Frame, Payload

Report = Callable[[Diagnostic], None]


class PacketDecoder:
    def __init__(self, report: Report) -> None:
        self.report = report

    def feed(self, frame: Frame) -> list[Payload]:
        """The payloads this frame completes (none, one, or several)."""
        raise NotImplementedError

    def finish(self) -> list[Payload]:
        """End of capture: report what never completed, return what can still be delivered."""
        return []
