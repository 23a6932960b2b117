"""The ladder of samples/ims-tom-jerry.pcapng against the sample's construction
(samples/ims-tom-jerry.timings.json): column order along the request path, names,
timing brackets and per-hop delays; golden text ladder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sipladder
from sipladder.ladder import Ladder
from sipladder.render.text import render_text

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "ims-tom-jerry.pcapng"
TIMINGS = json.loads((ROOT / "samples" / "ims-tom-jerry.timings.json").read_text())
GOLDEN = Path(__file__).parent / "golden"
PATH = ["tom", "pcscf1", "icscf1", "scscf1", "icscf2", "scscf2", "pcscf2", "jerry"]


@pytest.fixture(scope="module")
def ladder() -> Ladder:
    capture = sipladder.load(str(SAMPLE))
    hosts = TIMINGS["hosts"]
    return capture.ladder(aliases={hosts[h]["ip"]: h for h in PATH})


def test_columns_in_hop_order_named(ladder: Ladder) -> None:
    """Tom's UE first, then each hop as the REGISTER and the INVITE crossed them."""
    hosts = TIMINGS["hosts"]
    columns = ladder.layout.columns
    assert [c.name for c in columns] == PATH
    assert [c.key for c in columns] == [f"[{hosts[h]['ip']}]:{hosts[h]['port']}" for h in PATH]


def test_learned_names_without_aliases() -> None:
    """Proxies put host names in their Via: those name the columns; the UEs use
    IP literals, so they stay addresses."""
    layout = sipladder.load(str(SAMPLE)).ladder().layout
    hosts = TIMINGS["hosts"]
    expected = [None if h in ("tom", "jerry") else hosts[h]["host"] for h in PATH]
    assert [c.name for c in layout.columns] == expected


def test_side_brackets_match_the_construction(ladder: Ladder) -> None:
    call, registration = TIMINGS["call"], TIMINGS["registration"]
    brackets = {b.kind: b for b in ladder.layout.side_brackets}
    assert set(brackets) == {"registration", "pdd", "answer", "release"}
    for kind, ms in (
        ("registration", registration["delay_ms"]),
        ("pdd", call["pdd_ms"]),
        ("answer", call["answer_ms"]),
        ("release", call["release_ms"]),
    ):
        assert brackets[kind].duration_ns == round(ms * 1_000_000), kind
    rows = ladder.layout.rows
    pdd = brackets["pdd"]
    assert rows[pdd.start_row].label == "INVITE" and rows[pdd.start_row].src == 0
    assert rows[pdd.end_row].label == "183 Session Progress" and rows[pdd.end_row].dst == 0
    release = brackets["release"]
    assert rows[release.start_row].label == "BYE" and rows[release.start_row].src == 7


def test_hop_brackets_are_the_construction_delays(ladder: Ladder) -> None:
    delays = TIMINGS["delays_us"]
    names = [c.name for c in ladder.layout.columns]
    invite = {
        names[b.column]: b.duration_ns // 1000
        for b in ladder.layout.hop_brackets
        if b.column is not None and ladder.layout.rows[b.start_row].label == "INVITE"
    }
    assert invite == delays["invite_forward_us"]
    register = [
        (names[b.column], b.duration_ns // 1000)
        for b in ladder.layout.hop_brackets
        if b.column is not None and ladder.layout.rows[b.start_row].label == "REGISTER"
    ]
    forward = delays["register_forward_us"]
    assert register == [(k, v) for k, v in forward.items()] * 2  # both REGISTERs


def test_golden_text(ladder: Ladder) -> None:
    """Golden file checked by eye: 8 columns in hop order, 67 rows, the 401 challenge
    round trip and the registration bracket, PDD ending at the 183 reaching Tom, answer
    at the 200 reaching Tom, release on Jerry's BYE; each proxy's delay (4.2, 9.8, 2.9,
    7.8, 71.4, 6.3, 3.7 ms; on the BYE 1.9, 63.8, 2.0, 1.6 ms) beside its lifeline, as
    in samples/ims-tom-jerry.timings.json."""
    text = render_text(ladder.layout, 200)
    assert text == (GOLDEN / "ims-tom-jerry.txt").read_text(encoding="utf-8")


def test_deterministic_svg(ladder: Ladder) -> None:
    again = sipladder.load(str(SAMPLE)).ladder(
        aliases={c.key: c.name or "" for c in ladder.layout.columns}
    )
    assert again.to_svg() == ladder.to_svg()
