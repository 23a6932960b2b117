"""Every capture in tests/data and samples, for the tests that must hold on all of them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: paths relative to ROOT (readable test ids), sorted
CAPTURES = sorted(
    str(p.relative_to(ROOT))
    for folder in ("tests/data", "samples")
    for p in (ROOT / folder).rglob("*")
    if p.suffix in (".pcap", ".pcapng", ".cap") or p.name.endswith((".pcap.gz", ".pcapng.gz"))
)
