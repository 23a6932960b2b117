"""sipladder.capture: the Capture object's bulk stages."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from sipladder.capture import load, without_cyclic_gc


@pytest.mark.parametrize("enabled", [True, False], ids=["gc-on", "gc-off"])
def test_bulk_stages_pause_the_collector_and_restore_it(enabled: bool) -> None:
    """Reading and correlating run with the cyclic GC paused; its state is restored."""
    sample = Path(__file__).resolve().parents[1] / "samples" / "busy.pcap"
    seen: list[bool] = []
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with without_cyclic_gc():
            seen.append(gc.isenabled())
        capture = load(str(sample))
        assert capture.correlation.calls
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
    assert seen == [False]
