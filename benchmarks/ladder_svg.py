#!/usr/bin/env python3
"""How long a 5,000-message ladder takes to draw, and what it looks like in size.

Builds (once) the reproducible synthetic capture of ``make_capture.py`` with
``--messages`` messages, then measures, each the best of ``--rounds`` runs:

* ``layout``: :meth:`Capture.ladder` (selection, columns, rows, brackets), correlation
  already done (it is the tables' cost, not the ladder's);
* ``svg``: :meth:`Ladder.to_svg` of that layout;
* ``text``: :meth:`Ladder.to_text` at 200 columns;
* ``cli``: the whole command ``python -m sipladder ladder FILE -o out.svg`` in a fresh
  process (reading, parsing, correlating, drawing, writing);

and, as the peer in the same run, ``tshark -q -z flow,any,network,sip -r FILE``: tshark's
text flow graph of the same SIP messages (the nearest thing to a ladder that Wireshark
can export; sngrep cannot export its ladder at all). The goal: layout + SVG under 2 s.

Example::

    python benchmarks/ladder_svg.py                # 5,000 messages, 3 rounds
    python benchmarks/ladder_svg.py --messages 20000 --rounds 1
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout, without installing

import sipladder  # noqa: E402


def best_of(rounds: int, func):  # type: ignore[no-untyped-def]
    best = float("inf")
    result = None
    for _ in range(rounds):
        started = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - started)
    return best, result


def wall(command: list[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
        )
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    args = parser.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    capture_path = out / f"synth-{args.messages}.pcap"
    if not capture_path.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "make_capture.py"),
                "-n",
                str(args.messages),
                "-o",
                str(capture_path),
            ],
            check=True,
        )
    capture = sipladder.load(str(capture_path))
    _ = capture.correlation
    print(f"capture: {capture_path.name}, {len(capture)} SIP messages")

    t_layout, ladder = best_of(args.rounds, lambda: capture.ladder())
    t_svg, svg = best_of(args.rounds, ladder.to_svg)
    t_text, text = best_of(args.rounds, lambda: ladder.to_text(200))
    layout = ladder.layout
    svg_path = out / f"ladder-{args.messages}.svg"
    svg_path.write_text(svg, encoding="utf-8")
    print(
        f"ladder: {len(layout.rows)} rows, {len(layout.columns)} columns, "
        f"{len(layout.side_brackets)} side and {len(layout.hop_brackets)} hop brackets, "
        f"{layout.width:.0f} x {layout.height:.0f} px"
    )
    print(f"layout          {t_layout:7.3f} s")
    print(f"svg             {t_svg:7.3f} s   ({len(svg.encode()) / 1e6:.1f} MB, {svg_path})")
    verdict = "met" if t_layout + t_svg < 2 else "MISSED"
    print(f"layout + svg    {t_layout + t_svg:7.3f} s   goal < 2 s: {verdict}")
    print(f"text (200 col)  {t_text:7.3f} s   ({len(text.splitlines())} lines)")

    cli = wall(
        [sys.executable, "-m", "sipladder", "ladder", "-q", str(capture_path), "-o", str(svg_path)],
        args.rounds,
    )
    print(f"cli -o .svg     {cli:7.3f} s   (whole command: read, parse, correlate, draw, write)")
    if shutil.which("tshark"):
        peer = wall(
            ["tshark", "-q", "-z", "flow,any,network,sip", "-r", str(capture_path)], args.rounds
        )
        print(f"tshark flow     {peer:7.3f} s   (tshark -z flow,any,network,sip: text flow graph)")
        print(f"ratio cli/tshark {cli / peer:6.2f}")
    else:
        print("tshark not found: no peer timing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
