"""Call states and call timings on hand-checked flows (times in the comments, in ms)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sipladder.correlate import Correlator
from sipladder.model import CallState
from tests.correlate.sipflow import Flow, ms

A, B = "10.0.0.1", "10.0.0.2"


def basic_call(bye_from_callee: bool = True) -> Flow:
    """INVITE 0, 100 at 5, 180 at 120, 200 at 2120, ACK 2125, BYE 62125, its 200 at 62140."""
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(100, 5, inv)
    f.response(180, 120, inv, to_tag="b")
    f.response(200, 2120, inv, to_tag="b")
    f.request("ACK", 2125, A, B, branch="z9hG4bK2", to_tag="b")
    if bye_from_callee:
        bye = f.request("BYE", 62125, B, A, branch="z9hG4bK3", from_tag="b", to_tag="ftag",
                        from_uri="sip:bob@b.example", to_uri="sip:alice@a.example")
    else:
        bye = f.request("BYE", 62125, A, B, branch="z9hG4bK3", to_tag="b", cseq=2)
    f.response(200, 62140, bye)
    return f


@pytest.mark.parametrize("bye_from_callee", [True, False], ids=["callee-hangs-up", "caller"])
def test_completed_call_and_its_timings(bye_from_callee: bool) -> None:
    (call,) = basic_call(bye_from_callee).correlation.calls
    assert call.state is CallState.COMPLETED
    assert call.final_status == 200
    assert (call.caller, call.callee) == ("sip:alice@a.example", "sip:bob@b.example")
    assert ms(call.pdd_ns) == 120  # INVITE to 180 (the 100 does not count)
    assert ms(call.answer_ns) == 2120  # INVITE to 200
    assert ms(call.release_ns) == 15  # BYE to its 200
    assert ms(call.duration_ns) == 60005  # 200 at 2120 to BYE at 62125
    assert call.messages == tuple(range(7))
    assert call.retransmissions == 0
    assert call.invite == 0 and call.bye == 2
    assert not call.challenged


def test_pdd_without_18x_is_the_final_response() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(100, 5, inv)
    f.response(200, 700, inv, to_tag="b")
    (call,) = f.correlation.calls
    assert call.state is CallState.ANSWERED
    assert ms(call.pdd_ns) == ms(call.answer_ns) == 700
    assert call.release_ns is None and call.duration_ns is None  # no BYE: null, never 0


def test_retransmitted_invite_does_not_restart_the_clock() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.again(inv, 500)
    f.again(inv, 1500)
    f.response(180, 1600, inv, to_tag="b")
    ring = f.messages[-1]
    f.again(ring, 1700)
    (call,) = f.correlation.calls
    assert ms(call.pdd_ns) == 1600
    assert call.retransmissions == 3
    assert call.state is CallState.INCOMPLETE and call.final_status is None


def test_cancelled() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(180, 100, inv, to_tag="b")
    cancel = f.request("CANCEL", 3000, A, B, branch="z9hG4bK1")
    f.response(200, 3010, cancel)
    f.response(487, 3011, inv, to_tag="b")
    (call,) = f.correlation.calls
    assert call.state is CallState.CANCELLED
    assert call.final_status == 487
    assert ms(call.pdd_ns) == 100 and call.answer_ns is None


def test_cancel_that_crosses_the_200_leaves_the_call_answered() -> None:
    # 9.1: a CANCEL has no effect once a final response was sent.
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(200, 3000, inv, to_tag="b")
    f.request("CANCEL", 3001, A, B, branch="z9hG4bK1")
    (call,) = f.correlation.calls
    assert call.state is CallState.ANSWERED


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (302, CallState.REDIRECTED),
        (486, CallState.REJECTED),
        (503, CallState.REJECTED),
        (603, CallState.REJECTED),
    ],
    ids=["302", "486", "503", "603"],
)
def test_failed_calls(status: int, state: CallState) -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(100, 5, inv)
    f.response(status, 40, inv, to_tag="b")
    f.request("ACK", 41, A, B, branch="z9hG4bK1", to_tag="b", cseq_method="ACK")
    (call,) = f.correlation.calls
    assert call.state is state and call.final_status == status
    assert ms(call.pdd_ns) == 40  # no 18x: the final response ends the PDD


def test_incomplete() -> None:
    f = Flow()
    f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    (call,) = f.correlation.calls
    assert call.state is CallState.INCOMPLETE
    assert call.final_status is None and call.pdd_ns is None and call.answer_ns is None


def test_challenged_invite_is_one_setup_measured_from_the_first_invite() -> None:
    f = Flow()
    inv1 = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(407, 10, inv1, to_tag="p")
    f.request("ACK", 11, A, B, branch="z9hG4bK1", to_tag="p", cseq_method="ACK")
    inv2 = f.request("INVITE", 20, A, B, branch="z9hG4bK2", cseq=2)
    f.response(180, 200, inv2, to_tag="b")
    f.response(200, 1200, inv2, to_tag="b")
    (call,) = f.correlation.calls
    assert call.challenged
    assert call.state is CallState.ANSWERED and call.final_status == 200
    assert ms(call.pdd_ns) == 200  # the 407 does not end the post-dial delay
    assert ms(call.answer_ns) == 1200


def test_challenge_not_answered_is_a_rejection() -> None:
    f = Flow()
    inv1 = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(407, 10, inv1, to_tag="p")
    (call,) = f.correlation.calls
    assert call.state is CallState.REJECTED and call.final_status == 407
    assert ms(call.pdd_ns) == 10 and not call.challenged


@pytest.mark.parametrize(
    ("retry_after_ms", "challenged", "pdd_ms"),
    [(31_990, True, 32_200), (32_010, False, 10)],
    ids=["within-64T1", "after-64T1"],
)
def test_challenge_answer_window(retry_after_ms: float, challenged: bool, pdd_ms: float) -> None:
    """The INVITE with credentials answers the 407 (at 10 ms) only within 64*T1 = 32 s;
    a retry later is a new attempt and its wait is not post-dial delay (sngrep's
    aaa.pcap has a 51 s retry that otherwise reads as a 51 s PDD)."""
    f = Flow()
    inv1 = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(407, 10, inv1, to_tag="p")
    f.request("ACK", 11, A, B, branch="z9hG4bK1", to_tag="p", cseq_method="ACK")
    inv2 = f.request("INVITE", 10 + retry_after_ms, A, B, branch="z9hG4bK2", cseq=2)
    f.response(180, 10 + retry_after_ms + 200, inv2, to_tag="b")
    (call,) = f.correlation.calls
    assert call.challenged is challenged
    assert ms(call.pdd_ns) == pytest.approx(pdd_ms)


def test_one_call_per_call_id_and_no_call_without_invite() -> None:
    f = Flow()
    f.request("INVITE", 0, A, B, branch="z9hG4bK1", call_id="c1")
    f.request("INVITE", 1, A, B, branch="z9hG4bK2", call_id="c2")
    f.request("OPTIONS", 2, A, B, branch="z9hG4bK3", call_id="c3")
    assert [c.call_id for c in f.correlation.calls] == ["c1", "c2"]


def test_reinvite_does_not_count_as_setup() -> None:
    f = basic_call(bye_from_callee=False)
    # Rebuild with a re-INVITE in the middle: it must not move answer or PDD.
    g = Flow()
    for m in f.messages[:5]:
        g.messages.append(m)
    re = g.request("INVITE", 30000, A, B, branch="z9hG4bK7", to_tag="b", cseq=2)
    g.response(200, 30050, re, to_tag="b")
    (call,) = g.correlation.calls
    assert ms(call.answer_ns) == 2120 and ms(call.pdd_ns) == 120
    assert call.state is CallState.ANSWERED


def test_cancel_with_a_mismatched_via_still_cancels_the_call() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(100, 5, inv)
    f.request("CANCEL", 3000, A, B, branch="z9hG4bKother")  # a UA that broke section 9.1
    f.response(408, 32000, inv, to_tag="b")
    (call,) = f.correlation.calls
    assert call.state is CallState.CANCELLED and call.final_status == 408


def test_call_set_up_before_the_capture() -> None:
    # Only a re-INVITE (it has a To tag) and the BYE: answered long ago, no setup times.
    f = Flow()
    re = f.request("INVITE", 0, A, B, branch="z9hG4bK7", to_tag="b", cseq=5)
    f.response(200, 50, re, to_tag="b")
    bye = f.request("BYE", 9000, A, B, branch="z9hG4bK8", to_tag="b", cseq=6)
    f.response(200, 9012, bye)
    (call,) = f.correlation.calls
    assert call.state is CallState.COMPLETED
    assert call.pdd_ns is None and call.answer_ns is None and call.duration_ns is None
    assert call.final_status is None
    assert ms(call.release_ns) == 12
    assert call.caller == "sip:alice@a.example"


def test_reinvite_only_without_bye_is_answered() -> None:
    f = Flow()
    f.request("INVITE", 0, A, B, branch="z9hG4bK7", to_tag="b", cseq=5)
    (call,) = f.correlation.calls
    assert call.state is CallState.ANSWERED and call.release_ns is None


@pytest.mark.parametrize("moved", [1, 2], ids=["100-elsewhere", "180-elsewhere"])
def test_dialog_of_a_transaction_spanning_call_ids_is_each_calls(moved: int) -> None:
    # The 100 or the 180 matches the INVITE by branch (RFC 3261 17.1.3) but carries another
    # Call-ID. The dialog the 180 creates belongs, through the INVITE's transaction, to the
    # calls of both Call-IDs (the messages without To tag join it once it exists). A
    # correlator that keeps only the calls (the streaming path's fallback) says the same.
    f = Flow()
    inv = f.request("INVITE", 0, "10.0.0.1", "10.0.0.2", branch="z9hG4bKx", call_id="call-1")
    f.response(100, 5, inv)
    f.response(180, 10, inv, to_tag="t1")
    f.request("INVITE", 20, "10.0.0.3", "10.0.0.2", branch="z9hG4bKy", call_id="call-2")
    other = f.messages[moved]
    f.messages[moved] = replace(other, sip=replace(other.sip, call_id="call-2"))
    correlation = f.correlation
    assert len(correlation.dialogs) == 1
    assert [call.dialogs for call in correlation.calls] == [(0,), (0,)]
    lean = Correlator(calls_only=True)
    for message in f.messages:
        lean.feed(message)
    assert lean.finish_calls() == list(correlation.calls)
