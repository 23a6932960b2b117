"""Time the SIP stage alone: looks_like_sip, split_datagram and parse_message, in
microseconds per message, on the UDP payloads of a capture and on two typical messages.

    python benchmarks/parse_sip.py                       # builds benchmarks/out/synth-24k.pcap
    python benchmarks/parse_sip.py --capture FILE --rounds 5

Payloads are read and decoded first (not timed). The parser's memo tables are cleared
before every round, so each round sees the capture as the pipeline does: every message
new, with the repetition real traffic has (Via lines shared by a request and its
responses, From/To/Call-ID within a dialog, Max-Forwards: 70 everywhere). The typical
messages are timed twice: cold (memo tables cleared before each parse: every header line
new) and warm (the same message again). Times are CPU time of this process
(``time.process_time``), the minimum over the rounds, so that other load on a shared
machine disturbs them less.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sipladder.net.decoder import PacketDecoder  # noqa: E402
from sipladder.readers import read_frames  # noqa: E402
from sipladder.sip import parser  # noqa: E402
from sipladder.sip.framing import split_datagram  # noqa: E402
from sipladder.sip.parser import looks_like_sip, parse_message  # noqa: E402

SDP = (
    b"v=0\r\no=user1 53655765 2353687637 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
)
INVITE = (
    b"INVITE sip:service@[::1]:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP [::1]:5061;branch=z9hG4bK-12345-1-0;rport\r\n"
    b"From: sipp <sip:sipp@[::1]:5061>;tag=12345SIPpTag001\r\n"
    b"To: service <sip:service@[::1]:5060>\r\n"
    b"Call-ID: 1-12345@::1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: sip:sipp@[::1]:5061\r\n"
    b"Max-Forwards: 70\r\n"
    b"Subject: Performance Test\r\n"
    b"User-Agent: SIPp/3.6.1\r\n"
    b"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: %d\r\n\r\n" % len(SDP)
) + SDP
OK = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/UDP [::1]:5061;branch=z9hG4bK-12345-1-0;rport=5061;received=::1\r\n"
    b"From: sipp <sip:sipp@[::1]:5061>;tag=12345SIPpTag001\r\n"
    b"To: service <sip:service@[::1]:5060>;tag=67890SIPpTag011\r\n"
    b"Call-ID: 1-12345@::1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: <sip:[::1]:5060;transport=UDP>\r\n"
    b"Record-Route: <sip:[::2];lr>, <sip:[::3];lr>\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def clear_memo() -> None:
    for name in dir(parser):
        table = getattr(parser, name)
        if name.endswith("_CACHE") and isinstance(table, dict):
            table.clear()


def payloads_of(path: str) -> list[bytes]:
    decoder = PacketDecoder(lambda diagnostic: None)
    out: list[bytes] = []
    for frame in read_frames([path], lambda diagnostic: None):
        out.extend(p.data for p in decoder.feed(frame))
    out.extend(p.data for p in decoder.finish())
    return out


def best(rounds: int, run: object) -> float:
    times = []
    for _ in range(rounds):
        clear_memo()
        start = time.process_time()
        run()  # type: ignore[operator]
        times.append(time.process_time() - start)
    return min(times)


def one(message: bytes, cold: bool, number: int = 20000) -> float:
    start = time.process_time()
    for _ in range(number):
        if cold:
            clear_memo()
        parse_message(message)
    total = time.process_time() - start
    if cold:  # subtract the cost of clearing the tables
        start = time.process_time()
        for _ in range(number):
            clear_memo()
        total -= time.process_time() - start
    return total / number * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--capture", default=str(ROOT / "benchmarks/out/synth-24k.pcap"))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not Path(args.capture).exists():
        Path(args.capture).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks/make_capture.py"),
                "-n",
                "24000",
                "-o",
                args.capture,
            ],
            check=True,
        )
    payloads = payloads_of(args.capture)
    chunks = [c for p in payloads if looks_like_sip(p) for c in split_datagram(p)]
    n = len(chunks)

    t_looks = best(args.rounds, lambda: [looks_like_sip(p) for p in payloads])
    t_split = best(args.rounds, lambda: [split_datagram(p) for p in payloads])
    t_parse = best(args.rounds, lambda: [parse_message(c) for c in chunks])
    sizes = sum(map(len, chunks)) / max(n, 1)
    print(f"capture: {args.capture}: {len(payloads)} UDP payloads, {n} SIP messages,")
    print(f"         {sizes:.0f} bytes on average")
    print(f"{'stage':<28}{'µs/message':>12}")
    print(f"{'looks_like_sip':<28}{t_looks / max(len(payloads), 1) * 1e6:>12.2f}")
    print(f"{'split_datagram':<28}{t_split / max(len(payloads), 1) * 1e6:>12.2f}")
    print(f"{'parse_message':<28}{t_parse / max(n, 1) * 1e6:>12.2f}")
    print(f"{'  total for the capture':<28}{(t_looks + t_split + t_parse):>11.2f}s")
    for label, message in (("INVITE with SDP", INVITE), ("200 OK", OK)):
        cold = min(one(message, True) for _ in range(args.rounds))
        warm = min(one(message, False) for _ in range(args.rounds))
        print(f"{label + f' ({len(message)} B)':<28}{cold:>8.2f} cold {warm:>8.2f} warm")


if __name__ == "__main__":
    main()
