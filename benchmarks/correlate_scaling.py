#!/usr/bin/env python3
"""Correlation alone stays linear: time per message must not grow with the number of calls.

Builds :class:`~sipladder.model.Message` records in memory (no capture, no parser, so
only the correlator is timed) for growing numbers of overlapping dialogues, runs
:func:`sipladder.correlate.correlate` over them, and prints the CPU time per message
and its ratio to the smallest run. Linear means the ratio stays near 1.

Traffic: a new dialogue every 2 ms, each lasting seconds, so that thousands are open at
once (as on a busy link): 80 % calls (INVITE, 100, 180, 200, ACK, BYE, 200) with a
retransmitted INVITE in one call of 20, and 20 % registrations with a digest challenge
(REGISTER, 401, REGISTER, 200) with a new Call-ID after the challenge.

Example::

    python benchmarks/correlate_scaling.py --dialogues 2000,20000,200000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sipladder.correlate import correlate  # noqa: E402
from sipladder.model import (  # noqa: E402
    CSeq,
    Endpoint,
    Message,
    MessageKind,
    NameAddr,
    SipMessage,
    Transport,
    Via,
)

SERVER = Endpoint("2001:db8::1", 5060)
MS = 1_000_000


def _sip(kind: MessageKind, method: str | None, status: int | None, call_id: str, cseq: int,
         cseq_method: str, branch: str, sent_by: str, from_tag: str, to_tag: str | None,
         aor: str) -> SipMessage:
    return SipMessage(
        kind=kind, method=method, request_uri="sip:" + aor if method else None, status=status,
        reason="R" if status else None, version="SIP/2.0", headers=(), body=b"", raw=b"",
        call_id=call_id, cseq=CSeq(cseq, cseq_method),
        from_=NameAddr(None, "sip:caller@example.com", (("tag", from_tag),)),
        to=NameAddr(None, "sip:" + aor, (("tag", to_tag),) if to_tag else ()),
        vias=(Via("SIP/2.0", "UDP", sent_by.rsplit(":", 1)[0].strip("[]"),
                  int(sent_by.rsplit(":", 1)[1]), (("branch", branch),)),),
        contacts=(NameAddr(None, f"sip:u@{sent_by}", ()),) if method == "REGISTER" else (),
    )


def build(dialogues: int) -> list[Message]:
    events: list[tuple[int, int, Endpoint, Endpoint, SipMessage]] = []
    seq = 0
    for d in range(dialogues):
        t0 = d * 2 * MS
        client = Endpoint(f"2001:db8::{2 + d % 5000:x}", 5060)
        sent_by = str(client)
        cid = f"c{d}@bench"
        out: list[tuple[int, bool, SipMessage]] = []  # (ms offset, from client?, message)
        req, resp = MessageKind.REQUEST, MessageKind.RESPONSE
        if d % 5 == 4:
            aor = f"user{d % 5000}@example.com"
            cid2 = f"c{d}b@bench"
            out += [
                (0, True, _sip(req, "REGISTER", None, cid, 1, "REGISTER", f"z9hG4bK{d}r1",
                               sent_by, "f", None, aor)),
                (40, False, _sip(resp, None, 401, cid, 1, "REGISTER", f"z9hG4bK{d}r1",
                                 sent_by, "f", "s", aor)),
                (60, True, _sip(req, "REGISTER", None, cid2, 2, "REGISTER", f"z9hG4bK{d}r2",
                                sent_by, "g", None, aor)),
                (110, False, _sip(resp, None, 200, cid2, 2, "REGISTER", f"z9hG4bK{d}r2",
                                  sent_by, "g", "s", aor)),
            ]
        else:
            aor = f"callee{d}@example.com"
            b = f"z9hG4bK{d}i"

            def invite_resp(status: int, tag: str | None, b: str = b, aor: str = aor,
                            cid: str = cid, sent_by: str = sent_by) -> SipMessage:
                return _sip(MessageKind.RESPONSE, None, status, cid, 1, "INVITE", b, sent_by,
                            "f", tag, aor)

            invite = _sip(req, "INVITE", None, cid, 1, "INVITE", b, sent_by, "f", None, aor)
            out += [(0, True, invite)]
            if d % 20 == 0:
                out += [(500, True, invite)]
            out += [
                (510, False, invite_resp(100, None)),
                (900, False, invite_resp(180, "t")),
                (3000, False, invite_resp(200, "t")),
                (3010, True, _sip(req, "ACK", None, cid, 1, "ACK", f"z9hG4bK{d}a", sent_by,
                                  "f", "t", aor)),
                (9000, True, _sip(req, "BYE", None, cid, 2, "BYE", f"z9hG4bK{d}b", sent_by,
                                  "f", "t", aor)),
                (9030, False, _sip(resp, None, 200, cid, 2, "BYE", f"z9hG4bK{d}b", sent_by,
                                   "f", "t", aor)),
            ]
        for offset, from_client, sip in out:
            src, dst = (client, SERVER) if from_client else (SERVER, client)
            events.append((t0 + offset * MS, seq, src, dst, sip))
            seq += 1
    events.sort(key=lambda e: (e[0], e[1]))
    return [
        Message(i, "bench", i + 1, ts, src, dst, Transport.UDP, sip)
        for i, (ts, _, src, dst, sip) in enumerate(events)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialogues", default="2000,20000,200000",
                        help="comma-separated numbers of dialogues (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="best of N (default 3)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.dialogues.split(",")]
    print(f"{'dialogues':>10} {'messages':>10} {'calls':>8} {'CPU s':>8} {'us/msg':>8} "
          f"{'ratio':>6}")
    base: float | None = None
    for size in sizes:
        messages = build(size)
        best = float("inf")
        calls = 0
        for _ in range(args.rounds):
            start = time.process_time()
            result = correlate(messages)
            best = min(best, time.process_time() - start)
            calls = len(result.calls)
        per = best / len(messages) * 1e6
        base = base or per
        print(f"{size:>10,} {len(messages):>10,} {calls:>8,} {best:>8.2f} {per:>8.2f} "
              f"{per / base:>6.2f}")


if __name__ == "__main__":
    main()
