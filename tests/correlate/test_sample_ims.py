"""The seed's IMS story (samples/ims-tom-jerry.pcapng) against the timings it was built with.

``samples/ims-tom-jerry.timings.json`` is written by ``samples/make_samples.py`` from the
delays it used to build the capture, not by the correlator: it is the independent truth.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import sipladder
from sipladder.analysis.timings import forward_delay, return_delay, to_first_provisional
from sipladder.capture import Capture

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "ims-tom-jerry.pcapng"
TRUTH = json.loads(
    (ROOT / "samples" / "ims-tom-jerry.timings.json").read_text(), parse_float=Decimal
)


@pytest.fixture(scope="module")
def capture() -> Capture:
    return sipladder.load(str(SAMPLE))


def ms(ns: int | None) -> Decimal | None:
    """Exact milliseconds, comparable with the JSON's decimals."""
    return None if ns is None else Decimal(ns) / 1_000_000


def test_one_challenged_registration(capture: Capture) -> None:
    want = TRUTH["registration"]
    (reg,) = capture.correlation.registrations
    assert reg.aor == want["aor"]
    assert list(reg.call_ids) == want["call_ids"]
    assert reg.challenged is want["challenged"] is True
    assert reg.final_status == want["final_status"]
    assert reg.expires == want["expires"]
    assert reg.start_ns == int(want["start"] * 1_000_000_000)
    assert ms(reg.delay_ns) == want["delay_ms"]
    assert reg.state.value == "registered"


def test_one_completed_call_tom_to_jerry(capture: Capture) -> None:
    want = TRUTH["call"]
    (call,) = capture.correlation.calls
    assert call.call_id == want["call_id"]
    assert (call.caller, call.callee) == (want["caller"], want["callee"])
    assert call.state.value == want["state"] == "completed"
    assert call.final_status == want["final_status"]
    assert call.start_ns == int(want["start"] * 1_000_000_000)
    assert ms(call.pdd_ns) == want["pdd_ms"]
    assert ms(call.answer_ns) == want["answer_ms"]
    assert ms(call.release_ns) == want["release_ms"]
    assert call.duration_ns is not None
    assert Decimal(call.duration_ns) / 1_000_000_000 == want["duration_s"]
    assert len(call.dialogs) == 1


def test_invite_hops_and_the_delay_each_node_added(capture: Capture) -> None:
    want = TRUTH["call"]
    hosts = {h["ip"]: name for name, h in TRUTH["hosts"].items()}
    txs = capture.correlation.transactions
    invites = [t for t in txs if t.method == "INVITE"]
    assert [(hosts[t.client.ip], hosts[t.server.ip]) for t in invites] == [
        (hop["from"], hop["to"]) for hop in want["invite_hops"]
    ]
    assert [t.hop for t in invites] == list(range(len(invites)))
    assert len({t.request_group for t in invites}) == 1
    for t in invites[1:]:
        parent = txs[t.parent]  # type: ignore[index]
        node = hosts[t.client.ip]  # the node between the two hops
        assert ms(forward_delay(t, parent)) == want["invite_added_delay_ms"][node]
        assert ms(return_delay(t, parent)) == want["response_added_delay_ms"][node]
    # Each hop's 100 Trying (or, on the last hop, Jerry's first response) answers its hop only.
    for t in invites:
        assert ms(to_first_provisional(t)) == want["trying_after_invite_ms"][hosts[t.server.ip]]


def test_prack_round_trip_at_the_caller(capture: Capture) -> None:
    prack = next(t for t in capture.correlation.transactions if t.method == "PRACK")
    assert prack.hop == 0 and ms(prack.final_ns - prack.start_ns) == TRUTH["call"][
        "prack_round_trip_ms"
    ]


def test_counts(capture: Capture) -> None:
    counts = TRUTH["counts"]
    c = capture.correlation
    assert len(c.transactions) == sum(counts["requests"].values())  # one per request and hop
    assert c.retransmissions == 0 and c.orphan_responses == 0
    summary = capture.summary()
    assert summary["methods"] == dict(
        sorted(counts["requests"].items(), key=lambda kv: (-kv[1], kv[0]))
    )
