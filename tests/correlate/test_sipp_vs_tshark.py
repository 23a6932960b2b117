"""Cross-check against traffic no one here wrote: SIPp scenarios recorded on loopback
(tests/data/sipp/, made by record.sh), read by tshark and by sipladder.

The expected values are computed in this file from tshark's field output (Wireshark's
own SIP dissector and its retransmission flag ``sip.resend``), with the plain
definitions of the README: one Call-ID is one call, times from the first INVITE, first
BYE and first REGISTER. Every SIPp run is a single hop, so "as seen by the originator"
is simply the capture.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

import sipladder

DATA = Path(__file__).resolve().parents[1] / "data" / "sipp"
CAPTURES = ["basic", "register", "busy", "cancel", "lossy"]
FIELDS = [
    "frame.time_epoch", "sip.Call-ID", "sip.Method", "sip.Status-Code", "sip.CSeq.seq",
    "sip.CSeq.method", "sip.resend", "sip.to.addr", "sip.contact.uri", "sip.contact.parameter",
    "sip.Via.branch",
]


@dataclass(frozen=True)
class Row:
    ns: int
    call_id: str
    method: str  # request method, "" for a response
    status: int | None
    cseq: int
    cseq_method: str
    resend: bool
    to: str
    contact: str
    contact_params: str
    branch: str  # top Via branch


def tshark_rows(name: str) -> list[Row]:
    tshark = shutil.which("tshark")
    assert tshark, "tshark is needed for this cross-check (CI installs it)"
    args = [tshark, "-r", str(DATA / f"{name}.pcap"), "-Y", "sip", "-T", "fields", "-E",
            "separator=|"]
    for field in FIELDS:
        args += ["-e", field]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        t, cid, method, status, cseq, cmethod, resend, to, contact, params, branches = (
            line.split("|")
        )
        rows.append(Row(int(Decimal(t) * 1_000_000_000), cid, method,
                        int(status) if status else None, int(cseq), cmethod,
                        resend in ("1", "True"), to, contact, params, branches.split(",")[0]))
    return rows


def retransmitted(rows: list[Row]) -> list[bool]:
    """tshark's ``sip.resend``, except for a copy whose top Via branch differs from every
    earlier one of the same Call-ID, CSeq and method or status: Wireshark ignores the
    branch, RFC 3261 section 17.2.3 makes such a copy another transaction (SIPp's lossy run
    resends a BYE with a new branch after its 200 was lost)."""
    seen: set[tuple[object, ...]] = set()
    flags = []
    for r in rows:
        key = (r.call_id, r.cseq, r.method, r.status, r.branch)
        flags.append(r.resend and key in seen)
        seen.add(key)
    return flags


def first(rows: list[Row], pred) -> Row | None:  # type: ignore[no-untyped-def]
    return next((r for r in rows if pred(r)), None)


def expected_calls(rows: list[Row]) -> dict[str, dict[str, object]]:
    by_call: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_call[r.call_id].append(r)
    resent = dict(zip(map(id, rows), retransmitted(rows), strict=True))
    calls = {}
    for cid, msgs in by_call.items():
        invite = first(msgs, lambda r: r.method == "INVITE")
        if invite is None:
            continue
        to_invite = [r for r in msgs if r.status is not None and r.cseq_method == "INVITE"]
        non100 = first(to_invite, lambda r: r.status != 100)
        final = first(to_invite, lambda r: r.status >= 200)
        ok = first(to_invite, lambda r: 200 <= r.status < 300)
        byes = [r for r in msgs if r.method == "BYE" and ok is not None and r.ns >= ok.ns]
        bye = byes[0] if byes else None
        bye_final = bye and first(
            msgs, lambda r: r.status is not None and r.status >= 200 and r.cseq_method == "BYE"
        )
        cancel = first(msgs, lambda r: r.method == "CANCEL")
        if ok is not None:
            state = "completed" if bye else "answered"
        elif cancel is not None:
            state = "cancelled"
        elif final is None:
            state = "incomplete"
        else:
            state = "redirected" if final.status < 400 else "rejected"  # type: ignore[operator]
        calls[cid] = {
            "state": state,
            "final_status": final.status if final else None,
            "messages": len(msgs),
            "retransmissions": sum(resent[id(r)] for r in msgs),
            "pdd_ns": non100.ns - invite.ns if non100 else None,
            "answer_ns": ok.ns - invite.ns if ok else None,
            "release_ns": bye_final.ns - bye.ns if bye and bye_final else None,
            "duration_ns": bye.ns - ok.ns if bye and ok else None,
            "start_ns": msgs[0].ns,
        }
    return calls


def ns_of(ms_or_s: float | None, scale: int) -> int | None:
    return None if ms_or_s is None else round(Decimal(str(ms_or_s)) * scale)


@pytest.mark.parametrize("name", CAPTURES)
def test_message_counts_agree_with_tshark(name: str) -> None:
    rows = tshark_rows(name)
    capture = sipladder.load(str(DATA / f"{name}.pcap"))
    assert len(capture) == len(rows) > 0
    links = capture.correlation.links
    assert [link.retransmission for link in links] == retransmitted(rows)


@pytest.mark.parametrize("name", ["basic", "busy", "cancel", "lossy"])
def test_calls_agree_with_tshark(name: str) -> None:
    want = expected_calls(tshark_rows(name))
    capture = sipladder.load(str(DATA / f"{name}.pcap"))
    got = {c.call_id: c for c in capture.correlation.calls}
    assert sorted(got) == sorted(want)
    for cid, expected in want.items():
        call = got[cid]
        actual = {
            "state": call.state.value,
            "final_status": call.final_status,
            "messages": len(call.messages),
            "retransmissions": call.retransmissions,
            "pdd_ns": call.pdd_ns,
            "answer_ns": call.answer_ns,
            "release_ns": call.release_ns,
            "duration_ns": call.duration_ns,
            "start_ns": call.start_ns,
        }
        assert actual == expected, cid


@pytest.mark.parametrize(
    ("name", "states"),
    [
        ("basic", {"completed": 3}),
        ("busy", {"rejected": 3}),
        ("cancel", {"cancelled": 3}),
    ],
)
def test_scenario_outcomes(name: str, states: dict[str, int]) -> None:
    # What the SIPp scenarios do, independent of tshark: 3 calls each, all alike.
    capture = sipladder.load(str(DATA / f"{name}.pcap"))
    counted: dict[str, int] = defaultdict(int)
    for call in capture.correlation.calls:
        counted[call.state.value] += 1
    assert counted == states


def test_lossy_capture_really_has_retransmissions() -> None:
    rows = tshark_rows("lossy")
    assert sum(retransmitted(rows)) >= 5
    # The one place where Wireshark and RFC 3261 disagree in this capture (see retransmitted).
    assert sum(r.resend for r in rows) - sum(retransmitted(rows)) == 1


def test_registrations_agree_with_tshark() -> None:
    rows = tshark_rows("register")
    finals: dict[tuple[str, int], Row] = {}
    for r in rows:
        if r.status is not None and r.status >= 200:
            finals.setdefault((r.call_id, r.cseq), r)
    # Attempts: REGISTERs by (To, Contact); a 401/407 carries the attempt into the next one.
    attempts: list[list[Row]] = []
    open_attempts: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        if r.method != "REGISTER" or r.resend:
            continue
        key = (r.to, r.contact)
        current = open_attempts.get(key)
        last_final = finals.get((current[-1].call_id, current[-1].cseq)) if current else None
        if current and last_final and last_final.status in (401, 407):
            current.append(r)
        else:
            attempts.append([r])
            open_attempts[key] = attempts[-1]
    capture = sipladder.load(str(DATA / "register.pcap"))
    regs = capture.correlation.registrations
    assert len(regs) == len(attempts) == 6
    for reg, attempt in zip(regs, attempts, strict=True):
        final = finals[(attempt[-1].call_id, attempt[-1].cseq)]
        assert reg.aor == attempt[0].to
        assert reg.contact == attempt[0].contact
        assert reg.final_status == final.status
        assert reg.challenged == (len(attempt) > 1)
        assert reg.delay_ns == final.ns - attempt[0].ns
        assert reg.start_ns == attempt[0].ns
        deregistration = "expires=0" in attempt[-1].contact_params
        assert (reg.kind.value == "deregistration") == deregistration
        assert reg.expires == (0 if deregistration else 3600)
