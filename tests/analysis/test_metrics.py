"""RFC 6076 metrics on hand-built flows where every delay and ratio is known exactly.

Times are milliseconds from the flow's origin; the expected values are worked out
by hand in the comments, from the definitions in sipladder/analysis/metrics.py.
"""

from __future__ import annotations

import pytest

from sipladder.analysis.metrics import (
    DEFINITIONS,
    MetricValue,
    compute_metrics,
    domain,
    parse_bucket,
)
from sipladder.correlate import Correlation
from tests.correlate.sipflow import MS, T0, Flow, name_addr

UA, PROXY = "10.0.0.1", "10.0.0.9"


def call(f: Flow, call_id: str, start: float, finals: list[tuple[int, float]], *,
         bye_at: float | None = None, bye_answer: float | None = None,
         callee: str = "sip:bob@b.example") -> None:
    """An INVITE at ``start`` answered by ``finals`` (status, ms after start); with a 2xx,
    the ACK, and optionally a BYE from the caller at ``bye_at`` answered after ``bye_answer``."""
    inv = f.request("INVITE", start, UA, PROXY, branch=f"z9hG4bK-{call_id}", call_id=call_id,
                    to_uri=callee, uri=callee)
    for status, after in finals:
        f.response(status, start + after, inv, to_tag="t" if status > 100 else None)
    if any(200 <= s < 300 for s, _ in finals):
        f.request("ACK", start + finals[-1][1] + 1, UA, PROXY, branch=f"z9hG4bK-{call_id}-ack",
                  call_id=call_id, to_tag="t", to_uri=callee, uri=callee)
    if bye_at is not None:
        bye = f.request("BYE", bye_at, UA, PROXY, branch=f"z9hG4bK-{call_id}-bye",
                        call_id=call_id, cseq=2, to_tag="t", to_uri=callee, uri=callee)
        if bye_answer is not None:
            f.response(200, bye_at + bye_answer, bye)


def register(f: Flow, call_id: str, start: float, aor: str, answers: list[tuple[int, float]],
             retry: tuple[str, float, int, float] | None = None) -> None:
    """A REGISTER for ``aor`` answered by ``answers``; ``retry`` = (new Call-ID, sent at,
    final status, answered after) for the REGISTER that answers a challenge."""
    contact = (name_addr(f"sip:{aor.split(':')[1]}@10.0.0.1"),)
    reg = f.request("REGISTER", start, UA, PROXY, branch=f"z9hG4bK-{call_id}", call_id=call_id,
                    uri="sip:b.example", from_uri=aor, to_uri=aor, contacts=contact)
    for status, after in answers:
        f.response(status, start + after, reg)
    if retry:
        new_id, at, status, after = retry
        again = f.request("REGISTER", at, UA, PROXY, branch=f"z9hG4bK-{new_id}", call_id=new_id,
                          cseq=2, uri="sip:b.example", from_uri=aor, to_uri=aor,
                          contacts=contact, from_tag="ftag2",
                          # the answer to a challenge carries credentials (RFC 3261 22.2)
                          authorization='Digest username="u", nonce="n1", response="r1"')
        f.response(status, at + after, again)


def scenario() -> Flow:
    f = Flow()
    register(f, "r1", 0, "sip:alice@a.example", [(401, 10)], retry=("r1b", 50, 200, 30))
    register(f, "r2", 100, "sip:carol@a.example", [(403, 20)])
    register(f, "r3", 200, "sip:dave@c.example", [])  # never answered: a timeout by 40 s
    # completed: 180 after 100, 200 after 1100; BYE at 11100 answered after 20 ms
    call(f, "c1", 1000, [(100, 5), (180, 100), (200, 1100)], bye_at=11100, bye_answer=20)
    call(f, "c2", 2000, [(100, 5), (486, 300)])  # busy: failed SRD 300
    call(f, "c3", 3000, [(503, 50)], callee="sip:x@c.example")  # failed SRD 50, ineffective
    call(f, "c4", 4000, [(302, 40)])  # redirected: out of SER's denominator
    call(f, "c5", 5000, [])  # no answer at all, and the capture goes on: timeout
    # Something at 40 s, so that Timer B/F (32 s) has expired for c5 and r3.
    f.request("OPTIONS", 40_000, UA, PROXY, branch="z9hG4bK-end", call_id="end")
    return f


def capture_metrics(f: Flow, bucket_ns: int | None = None) -> list[MetricValue]:
    correlation: Correlation = f.correlation
    return compute_metrics(correlation, f.messages[-1].ts_ns, bucket_ns)


def pick(values: list[MetricValue], metric: str, scope: str = "capture",
         group: str = "all") -> MetricValue:
    (value,) = [v for v in values if (v.metric, v.scope, v.group) == (metric, scope, group)]
    return value


@pytest.mark.parametrize(
    ("metric", "value", "samples", "numerator"),
    [
        ("rrd", 80.0, 1, None),  # REGISTER at 0 to the 200 at 50+30, across the 401
        ("ira", 200 / 3, 3, 2),  # 403 and the unanswered one, of three attempts
        ("srd_success", 100.0, 1, None),  # c1: INVITE to the 180
        ("srd_failure", 175.0, 2, None),  # c2 486 after 300, c3 503 after 50
        ("sdd_success", 20.0, 1, None),
        ("sdd_failure", None, 0, None),
        ("ser", 25.0, 4, 1),  # one 2xx / (5 INVITEs - 1 redirected)
        ("seer", 50.0, 4, 2),  # 200 and 486
        ("isa", 40.0, 5, 2),  # 503 and the timeout, of all 5
        ("scr", 20.0, 5, 1),  # c1 only
        ("ssr", 50.0, 4, 2),  # 200 and the user's 486
    ],
    ids=lambda v: str(v),
)
def test_capture_wide_metrics(metric: str, value: float | None, samples: int,
                              numerator: int | None) -> None:
    got = pick(capture_metrics(scenario()), metric)
    assert got.samples == samples
    assert got.numerator == numerator
    assert got.value == (None if value is None else pytest.approx(value, abs=1e-6))


def test_session_duration_is_2xx_to_bye() -> None:
    # c1: the 200 arrives at 1000+1100 = 2100, the BYE leaves at 11100: 9000 ms.
    got = pick(capture_metrics(scenario()), "sdt")
    assert got.value == pytest.approx(9000.0)


def test_delay_statistics_are_observed_values() -> None:
    got = pick(capture_metrics(scenario()), "srd_failure")
    assert (got.median_ms, got.p95_ms, got.max_ms) == (175.0, 300.0, 300.0)


def test_unanswered_request_at_the_end_of_the_capture_is_left_out() -> None:
    f = Flow()
    call(f, "c1", 0, [(100, 5)])  # the capture ends 5 ms later: we cannot tell
    values = capture_metrics(f)
    assert pick(values, "isa").samples == 0 and pick(values, "isa").value is None
    assert pick(values, "ser").value is None  # nothing to divide by: null, not zero


def test_failed_bye_is_a_failed_disconnect() -> None:
    f = Flow()
    call(f, "c1", 0, [(200, 100)], bye_at=1000)  # BYE never answered
    f.request("OPTIONS", 40_000, UA, PROXY, branch="z9hG4bK-end", call_id="end")
    got = pick(capture_metrics(f), "sdd_failure")
    assert (got.samples, got.value) == (1, 32_000.0)  # Timer F: 64*T1


def test_per_domain_and_per_bucket() -> None:
    values = capture_metrics(scenario(), bucket_ns=parse_bucket("2s"))
    # c3 is the only call to c.example; r3 the only registration of c.example
    assert pick(values, "isa", "callee_domain", "c.example").value == 100.0
    assert pick(values, "ira", "caller_domain", "c.example").value == 100.0
    assert pick(values, "ira", "caller_domain", "a.example").value == 50.0
    # 2 s buckets from T0: r1-r3 and c1 in the first, c2 in the second, c3 and c4 together
    first = "2023-11-14T22:13:20Z"
    assert T0 // 10**9 == 1_700_000_000 and T0 % (2 * 10**9) == 0
    assert pick(values, "rrd", "bucket", first).value == 80.0
    assert pick(values, "ser", "bucket", "2023-11-14T22:13:24Z").samples == 1  # c3; c4 is 3xx


@pytest.mark.parametrize(
    ("text", "ns"),
    [("1min", 60 * 10**9), ("30s", 30 * 10**9), ("500ms", 500 * MS), ("2h", 7200 * 10**9),
     ("1.5s", 1_500_000_000)],
)
def test_parse_bucket(text: str, ns: int) -> None:
    assert parse_bucket(text) == ns


@pytest.mark.parametrize("text", ["", "1", "min", "-1s", "0s", "3 parsecs"])
def test_parse_bucket_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bucket(text)


@pytest.mark.parametrize(
    ("uri", "host"),
    [("sip:bob@B.example;user=phone", "b.example"), ("sips:b.example:5061", "b.example"),
     ("tel:+15551234", "+15551234"), ("sip:[2001:db8::1]:5060", "[2001:db8::1]"), (None, "-")],
)
def test_domain(uri: str | None, host: str) -> None:
    assert domain(uri) == host


def test_every_metric_is_documented_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for definition in DEFINITIONS:
        assert f"`{definition.name}`" in readme, definition.name


def test_stats_command_on_the_ims_sample() -> None:
    """The sample's registration delay as built by samples/make_samples.py."""
    import json
    from pathlib import Path

    from click.testing import CliRunner

    from sipladder.cli import cli

    root = Path(__file__).resolve().parents[2]
    built = json.loads((root / "samples" / "ims-tom-jerry.timings.json").read_text())
    result = CliRunner().invoke(
        cli, ["stats", str(root / "samples" / "ims-tom-jerry.pcapng"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    (rrd,) = [r for r in rows if (r["metric"], r["scope"]) == ("rrd", "capture")]
    assert rrd["value"] == pytest.approx(built["registration"]["delay_ms"], abs=0.001)
    for metric, key in [("srd_success", "pdd_ms"), ("sdd_success", "release_ms")]:
        (row,) = [r for r in rows if (r["metric"], r["scope"]) == (metric, "capture")]
        assert row["value"] == pytest.approx(built["call"][key], abs=0.001), metric
    (scr,) = [r for r in rows if (r["metric"], r["scope"]) == ("scr", "capture")]
    assert (scr["value"], scr["numerator"], scr["samples"]) == (100.0, 1, 1)


def test_stats_rejects_a_bad_bucket() -> None:
    from click.testing import CliRunner

    from sipladder.cli import cli

    result = CliRunner().invoke(cli, ["stats", "x.pcap", "--bucket", "soon"])
    assert result.exit_code == 2 and "--bucket" in result.output
