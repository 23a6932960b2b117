"""One request crossing proxies: each hop its own transaction, linked into a request group."""

from __future__ import annotations

from sipladder.analysis.timings import forward_delay, return_delay
from tests.correlate.sipflow import Flow, ms

UE, P, S, J = "10.0.0.1", "10.0.0.10", "10.0.0.20", "10.0.0.2"
J2 = "10.0.0.3"


def three_hop_call() -> Flow:
    """UE -> P -> S -> J, each proxy answering 100 Trying on its hop; times in ms:

    INVITE leaves UE at 0, P forwards at 4, S forwards at 10. J rings at 30; the 180
    reaches S's hop back at 30, P's hop at 35, UE at 38. J answers at 1030 -> UE at 1040.
    """
    f = Flow()
    inv0 = f.request("INVITE", 0, UE, P, branch="z9hG4bKue")
    f.response(100, 2, inv0)  # P's 100 Trying: must not end the caller's PDD
    inv1 = f.forward(inv0, 4, P, S, branch="z9hG4bKp")
    f.response(100, 6, inv1)
    inv2 = f.forward(inv1, 10, S, J, branch="z9hG4bKs")
    f.response(180, 30, inv2, to_tag="j")
    f.response(180, 35, inv1, to_tag="j")
    f.response(180, 38, inv0, to_tag="j")
    f.response(200, 1030, inv2, to_tag="j")
    f.response(200, 1036, inv1, to_tag="j")
    f.response(200, 1040, inv0, to_tag="j")
    return f


def test_each_hop_is_its_own_transaction_in_one_group() -> None:
    c = three_hop_call().correlation
    hop0, hop1, hop2 = c.transactions
    assert [t.hop for t in c.transactions] == [0, 1, 2]
    assert hop0.request_group == hop1.request_group == hop2.request_group
    assert (hop0.parent, hop1.parent, hop2.parent) == (None, 0, 1)
    assert c.hops(2) == c.transactions


def test_the_proxy_100_trying_answers_only_its_hop() -> None:
    c = three_hop_call().correlation
    hop0, hop1, hop2 = c.transactions
    assert [r.status for r in hop0.responses] == [100, 180, 200]
    assert hop2.first_provisional_ns is not None
    assert [r.status for r in hop2.responses] == [180, 200]
    assert ms(hop0.first_provisional_ns - hop0.start_ns) == 2  # P's 100 on the first hop
    assert ms(hop2.first_provisional_ns - hop2.start_ns) == 20  # J's 180 on the last hop


def test_call_timings_are_measured_at_the_caller() -> None:
    (call,) = three_hop_call().correlation.calls
    assert ms(call.pdd_ns) == 38  # the 180 arriving at UE, not P's 100 at 2 ms, not J's at 30
    assert ms(call.answer_ns) == 1040
    assert call.state.value == "answered"


def test_per_hop_delays() -> None:
    c = three_hop_call().correlation
    hop0, hop1, hop2 = c.transactions
    assert ms(forward_delay(hop1, hop0)) == 4  # P took 4 ms to pass the INVITE on
    assert ms(forward_delay(hop2, hop1)) == 6  # S took 6 ms
    assert ms(return_delay(hop2, hop1)) == 6  # the 200: S's hop at 1030, P's at 1036
    assert ms(return_delay(hop1, hop0)) == 4  # P's hop at 1036, UE at 1040


def test_return_delay_is_none_when_the_previous_hop_never_saw_the_response() -> None:
    f = Flow()
    inv0 = f.request("INVITE", 0, UE, P, branch="z9hG4bKue")
    inv1 = f.forward(inv0, 4, P, S, branch="z9hG4bKp")
    f.response(486, 20, inv1, to_tag="s")
    hop0, hop1 = f.correlation.transactions
    assert return_delay(hop1, hop0) is None
    assert return_delay(hop0, hop0) is None  # no final at all


def test_forking_proxy_gives_two_next_hops_with_one_parent() -> None:
    f = Flow()
    inv0 = f.request("INVITE", 0, UE, P, branch="z9hG4bKue")
    f.forward(inv0, 4, P, J, branch="z9hG4bKp1")
    f.forward(inv0, 5, P, J2, branch="z9hG4bKp2")
    hop0, a, b = f.correlation.transactions
    assert a.parent == b.parent == hop0.id
    assert a.hop == b.hop == 1
    assert a.request_group == b.request_group == hop0.request_group


def test_requests_sharing_a_call_id_but_not_a_via_stack_are_not_linked() -> None:
    f = Flow()
    f.request("INVITE", 0, UE, P, branch="z9hG4bKa")
    f.request("INVITE", 5, "10.0.0.9", P, branch="z9hG4bKb")
    a, b = f.correlation.transactions
    assert a.request_group != b.request_group
    assert a.hop == b.hop == 0


def test_in_dialog_requests_are_grouped_too() -> None:
    f = Flow()
    bye0 = f.request("BYE", 0, J, S, branch="z9hG4bKj", from_tag="j", to_tag="ftag", cseq=2)
    bye1 = f.forward(bye0, 3, S, P, branch="z9hG4bKs2")
    f.forward(bye1, 5, P, UE, branch="z9hG4bKp2")
    assert [t.hop for t in f.correlation.transactions] == [0, 1, 2]


def test_duration_runs_from_the_2xx_as_first_seen_to_the_bye_leaving_its_sender() -> None:
    f = three_hop_call()
    # J hangs up at 5030; its BYE crosses S (5033) and P (5036) to UE; UE answers at 5037.
    bye0 = f.request("BYE", 5030, J, S, branch="z9hG4bKj", from_tag="j", to_tag="ftag", cseq=1)
    bye1 = f.forward(bye0, 5033, S, P, branch="z9hG4bKs2")
    bye2 = f.forward(bye1, 5036, P, UE, branch="z9hG4bKp2")
    f.response(200, 5037, bye2)
    f.response(200, 5040, bye1)
    f.response(200, 5044, bye0)
    (call,) = f.correlation.calls
    assert call.state.value == "completed"
    assert ms(call.duration_ns) == 4000  # the 200 left J at 1030 (reached UE at 1040)
    assert ms(call.release_ns) == 14  # BYE leaving J at 5030 to its 200 back at J at 5044
    assert ms(call.answer_ns) == 1040  # still measured at the caller
