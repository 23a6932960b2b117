"""Shared helpers of the fuzz harnesses: the repository on ``sys.path`` and seed corpora.

The seeds come from files in the repository only (the article's listings, the SIP
payloads of the test captures, the samples), so a fresh clone can fuzz.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def corpus_dir(name: str, seeds: list[bytes]) -> str:
    """``fuzz/corpus/NAME`` (git-ignored), filled with the seeds when empty."""
    out = ROOT / "fuzz" / "corpus" / name
    out.mkdir(parents=True, exist_ok=True)
    if not any(out.iterdir()):
        for n, seed in enumerate(seeds):
            (out / f"seed-{n:04d}").write_bytes(seed)
    return str(out)


def with_default_corpus(argv: list[str], name: str, seeds: list[bytes]) -> list[str]:
    """Add the default corpus folder when no folder or file is named on the command line."""
    if any(not a.startswith("-") for a in argv[1:]):
        return argv
    return [*argv, corpus_dir(name, seeds)]


def capture_files() -> list[Path]:
    files = sorted((ROOT / "tests" / "data").rglob("*.pcap*"))
    files += sorted((ROOT / "samples").glob("*.pcap*"))
    return [f for f in files if f.stat().st_size <= 200_000]
