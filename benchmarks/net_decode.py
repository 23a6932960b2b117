#!/usr/bin/env python3
"""Capture reading and link/IP/UDP decoding: our struct-based path against scapy dissection.

Times, on the same capture in the same run:

* ``read``: :func:`sipladder.readers.read_frames` alone (scapy's raw readers underneath);
* ``read+decode``: plus :class:`sipladder.net.decoder.PacketDecoder` down to UDP payloads;
* ``scapy``: scapy's :class:`~scapy.utils.PcapReader` with full per-packet dissection,
  taking the UDP payload of each packet (what the issue says is "far too slow").

and prints packets per second (CPU time of this process, steadier than wall time on a
shared machine) and the ratio. Both decoders must find the same number
of UDP payloads (checked).

Example::

    python benchmarks/make_capture.py -n 100000 -o benchmarks/out/synth-100k.pcap
    python benchmarks/net_decode.py benchmarks/out/synth-100k.pcap
"""

from __future__ import annotations

import argparse
import sys
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sipladder.model import Diagnostic  # noqa: E402
from sipladder.net.decoder import PacketDecoder  # noqa: E402
from sipladder.readers import read_frames  # noqa: E402


def ours(path: str, limit: int, decode: bool) -> tuple[int, int, float]:
    diagnostics: list[Diagnostic] = []
    start = time.process_time()
    frames = islice(read_frames([path], diagnostics.append), limit)
    count = payloads = 0
    if decode:
        decoder = PacketDecoder(diagnostics.append)
        feed = decoder.feed
        for frame in frames:
            count += 1
            payloads += len(feed(frame))
        payloads += len(decoder.finish())
    else:
        for _ in frames:
            count += 1
    return count, payloads, time.process_time() - start


def scapy_dissect(path: str, limit: int) -> tuple[int, int, float]:
    from scapy.layers.inet import UDP
    from scapy.utils import PcapReader

    start = time.process_time()
    count = payloads = 0
    with PcapReader(path) as reader:
        for packet in islice(reader, limit):
            count += 1
            if UDP in packet:
                _ = bytes(packet[UDP].payload)
                payloads += 1
    return count, payloads, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("capture")
    parser.add_argument(
        "-n", "--packets", type=int, default=100_000, help="packets to read (default 100000)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds for our path (best is kept)")
    parser.add_argument("--no-scapy", action="store_true", help="skip the (slow) scapy run")
    args = parser.parse_args()

    read = min(
        (ours(args.capture, args.packets, False) for _ in range(args.rounds)), key=lambda r: r[2]
    )
    decoded = min(
        (ours(args.capture, args.packets, True) for _ in range(args.rounds)), key=lambda r: r[2]
    )
    rows = [("read", read), ("read+decode", decoded)]
    if args.no_scapy:
        for name, (count, payloads, seconds) in rows:
            print(f"{name:18} {count:8d} packets {payloads:8d} UDP payloads {seconds:8.3f} s")
        return
    dissected = scapy_dissect(args.capture, args.packets)
    rows.append(("scapy dissection", dissected))
    for name, (count, payloads, seconds) in rows:
        print(
            f"{name:18} {count:8d} packets {payloads:8d} UDP payloads {seconds:8.3f} s "
            f"{count / seconds:10.0f} packets/s"
        )
    if decoded[1] != dissected[1]:
        print(f"MISMATCH: we found {decoded[1]} UDP payloads, scapy {dissected[1]}")
    print(f"scapy dissection / our read+decode: {dissected[2] / decoded[2]:.1f}x slower")


if __name__ == "__main__":
    main()
