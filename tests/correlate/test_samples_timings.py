"""Every constructed sample against the calls and registrations its builder intended.

``samples/*.timings.json`` are written by ``samples/make_samples.py`` from the delays it
used to build each capture (not by the correlator); their ``calls`` and
``registrations`` use the JSON keys of ``sipladder calls`` and ``registrations``, so
the comparison is key by key, as exact decimals.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import sipladder
from sipladder.output import to_json
from sipladder.rows import CALLS, REGISTRATIONS

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TIMINGS = sorted(SAMPLES.glob("*.timings.json"))


def test_there_are_samples() -> None:
    assert len(TIMINGS) >= 2


@pytest.mark.parametrize("path", TIMINGS, ids=[p.name.split(".")[0] for p in TIMINGS])
def test_sample_calls_and_registrations(path: Path) -> None:
    truth = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    capture = sipladder.load(str(SAMPLES / truth["capture"]))
    calls = json.loads(to_json(CALLS, capture.call_rows()), parse_float=Decimal)
    regs = json.loads(to_json(REGISTRATIONS, capture.registration_rows()), parse_float=Decimal)
    want_calls = truth.get("calls") or ([truth["call"]] if "call" in truth else [])
    want_regs = truth.get("registrations") or (
        [truth["registration"]] if "registration" in truth else []
    )
    assert len(calls) == len(want_calls)
    assert len(regs) == len(want_regs)
    for want, got in zip(want_calls, calls, strict=True):
        common = {k: v for k, v in want.items() if k in got}
        assert {k: got[k] for k in common} == common, want["call_id"]
        assert {"state", "pdd_ms", "answer_ms", "final_status"} <= set(common)
    for want, got in zip(want_regs, regs, strict=True):
        common = {k: v for k, v in want.items() if k in got}
        assert {k: got[k] for k in common} == common, want["aor"]
        assert (got["kind"] == "deregistration") == bool(want.get("deregistration"))
