"""Helpers for the decoder tests: feed frames built in code, collect payloads and diagnostics."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pytest

from sipladder.model import Diagnostic, Frame, Payload
from sipladder.net.decoder import PacketDecoder


@dataclass
class Result:
    payloads: list[Payload] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    decoder: PacketDecoder | None = None

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.diagnostics]


Packet = tuple[int, bytes] | tuple[int, bytes, int] | Frame


def decode_frames(
    packets: Iterable[Packet], setup: Callable[[PacketDecoder], None] | None = None
) -> Result:
    """Decode (linktype, bytes[, orig_len]) tuples or Frames, numbered 1.. one ms apart."""
    result = Result()
    decoder = PacketDecoder(result.diagnostics.append)
    result.decoder = decoder
    if setup:
        setup(decoder)
    for number, packet in enumerate(packets, 1):
        if not isinstance(packet, Frame):
            linktype, data, *rest = packet
            packet = Frame(
                "t.pcap", number, number * 1_000_000, linktype, data, rest[0] if rest else len(data)
            )
        result.payloads.extend(decoder.feed(packet))
    result.payloads.extend(decoder.finish())
    return result


@pytest.fixture
def decode() -> Callable[..., Result]:
    return decode_frames
