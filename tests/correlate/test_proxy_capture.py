"""A real two-leg capture through a proxy (sngrep's ipv6frag.pcap: SIPp caller, proxy,
SIPp callee, 100rel, IPv6 with a fragmented INVITE), correlated hop by hop and checked
against tshark's field output: the call's times are those seen at the caller's address."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import sipladder

CAPTURE = Path(__file__).resolve().parents[1] / "data" / "sngrep" / "ipv6frag.pcap"
FIELDS = ["frame.time_epoch", "ipv6.src", "udp.srcport", "ipv6.dst", "udp.dstport",
          "sip.Method", "sip.Status-Code", "sip.CSeq.method"]


def rows() -> list[list[str]]:
    tshark = shutil.which("tshark")
    assert tshark, "tshark is needed for this cross-check (CI installs it)"
    args = [tshark, "-r", str(CAPTURE), "-Y", "sip", "-T", "fields", "-E", "separator=|"]
    for field in FIELDS:
        args += ["-e", field]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


def ns(text: str) -> int:
    return int(Decimal(text) * 1_000_000_000)


def test_two_legs_and_the_callers_view() -> None:
    r = rows()
    invites = [x for x in r if x[5] == "INVITE"]
    caller = (invites[0][1], invites[0][2])
    proxy = (invites[0][3], invites[0][4])
    # What arrives back at the caller, for the INVITE: first non-100, first 2xx.
    back = [x for x in r if (x[3], x[4]) == caller and x[7] == "INVITE" and x[6]]
    first_non100 = next(x for x in back if x[6] != "100")
    first_2xx = next(x for x in back if x[6].startswith("2"))
    bye = next(x for x in r if x[5] == "BYE")
    bye_final = next(x for x in r if x[7] == "BYE" and x[6] and (x[3], x[4]) == (bye[1], bye[2]))

    capture = sipladder.load(str(CAPTURE))
    (call,) = capture.correlation.calls
    assert call.pdd_ns == ns(first_non100[0]) - ns(invites[0][0])
    assert call.answer_ns == ns(first_2xx[0]) - ns(invites[0][0])
    assert call.release_ns == ns(bye_final[0]) - ns(bye[0])
    assert call.state.value == "completed"

    hops = [t for t in capture.correlation.transactions if t.method == "INVITE"]
    assert [t.hop for t in hops] == [0, 1] and hops[1].parent == hops[0].id
    assert (hops[0].client.ip, str(hops[0].client.port)) == caller
    assert (hops[1].client.ip, str(hops[1].client.port)) == proxy
    # The proxy took this long to pass the INVITE on (the second leg's first copy).
    assert hops[1].start_ns - hops[0].start_ns == ns(invites[1][0]) - ns(invites[0][0])
    # Every request of the call crossed both legs: one group of two hops per request.
    groups: dict[int, list[int]] = {}
    for t in capture.correlation.transactions:
        groups.setdefault(t.request_group, []).append(t.hop)
    assert all(h == [0, 1] for h in groups.values())
    assert len(groups) == sum(1 for x in r if x[5] and (x[1], x[2]) == caller)
