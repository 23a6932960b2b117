#!/usr/bin/env python3
"""Time SIP over TCP: sipladder's reassembly against tshark, on the same capture, same run.

Builds the synth traffic of ``make_capture.py`` (same seed, same messages) carried over
TCP instead of UDP: one connection per user agent to the server (SYN, SYN-ACK first),
each message sent as one segment, except that every 7th message is split in two
segments and every 5th is coalesced with the next one of the same direction, and one
segment in 50 arrives after its successor (out of order). Then times
``sipladder messages --format json`` and ``tshark -Y sip`` (with ``-q -z sip,stat``) on
it, checks both found the same number of messages, and prints the ratio.

Example::

    python benchmarks/tcp_transport.py -n 100000
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_capture import SERVER, SERVER_IP, PcapWriter, synth_messages  # noqa: E402

ETHERTYPE_IPV6 = 0x86DD
IPPROTO_TCP = 6
_ETH = bytes(12) + struct.pack("!H", ETHERTYPE_IPV6)


def tcp6_frame(
    src: bytes, sport: int, dst: bytes, dport: int, seq: int, ack: int, flags: int, data: bytes
) -> bytes:
    """Ethernet + IPv6 + TCP (checksum left zero: nobody here verifies it)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq % 2**32, ack % 2**32, 5 << 4, flags,
                      65535, 0, 0)
    ip6 = struct.pack("!IHBB", 6 << 28, len(tcp) + len(data), IPPROTO_TCP, 64) + src + dst
    return _ETH + ip6 + tcp + data


def build(path: str, messages: int) -> None:
    writer = PcapWriter(path)
    seqs: dict[tuple[bytes, int, int], int] = {}  # (client, port, direction) -> next seq
    held: dict[tuple[bytes, int, int], bytes] = {}  # a message waiting to be coalesced
    ends_of: dict[tuple[bytes, int, int], tuple[bytes, int, bytes, int]] = {}
    late: list[tuple[int, bytes]] = []
    n = 0
    for ts, client, direction, payload in synth_messages(6, messages, 400.0, 50):
        key = (client.packed, client.port, direction)
        if direction == 0:
            ends = (client.packed, client.port, SERVER_IP, SERVER[1])
        else:
            ends = (SERVER_IP, SERVER[1], client.packed, client.port)
        ends_of[key] = ends
        if key not in seqs:
            seqs[key] = 1000 * (direction + 1)
            writer.write(ts, tcp6_frame(*ends, seqs[key] - 1, 0, 0x02, b""))  # SYN
        n += 1
        if n % 5 == 0 and key not in held:
            held[key] = payload
            continue
        data = held.pop(key, b"") + payload
        pieces = [data[: len(data) // 2], data[len(data) // 2 :]] if n % 7 == 0 else [data]
        for piece in pieces:
            frame = tcp6_frame(*ends, seqs[key], 1, 0x18, piece)
            seqs[key] += len(piece)
            if n % 50 == 0 and not late:
                late.append((ts, frame))  # sent after the next segment
                continue
            writer.write(ts, frame)
            while late:
                writer.write(*late.pop())
    for ts_, frame in late:
        writer.write(ts_, frame)
    for key, data in held.items():  # what is still held goes out last: every message is sent
        writer.write(ts, tcp6_frame(*ends_of[key], seqs[key], 1, 0x18, data))
    writer.close()


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - start, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--messages", type=int, default=100_000)
    parser.add_argument("-o", "--output", default="benchmarks/out/tcp.pcap")
    args = parser.parse_args()
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    build(args.output, args.messages)
    root = str(Path(__file__).resolve().parent.parent)
    ours_s, out = timed([sys.executable, "-m", "sipladder", "messages", "-q", "--format",
                         "json", args.output])
    ours = len(json.loads(out))
    theirs_s, _ = timed(["tshark", "-r", args.output, "-q", "-z", "sip,stat"])
    _, out = timed(["tshark", "-r", args.output, "-Y", "sip", "-T", "fields", "-e",
                    "sip.CSeq", "-E", "aggregator=|"])
    tshark_count = sum(len(line.split("|")) for line in out.splitlines() if line)
    print(f"capture: {args.output} ({args.messages} messages over TCP), cwd {root}")
    print(f"sipladder messages: {ours_s:.2f} s, {ours} messages")
    print(f"tshark -z sip,stat: {theirs_s:.2f} s; tshark -Y sip finds {tshark_count} messages")
    print(f"ratio tshark/sipladder: {theirs_s / ours_s:.2f}")
    return 0 if ours == tshark_count else 1


if __name__ == "__main__":
    raise SystemExit(main())
