"""RFC 6076 end-to-end performance metrics, computed from correlated calls and registrations.

Every metric is taken where the originator sees it (RFC 6076 section 3): delays start
at the request as first seen leaving the originating user agent and stop at the
response as first seen arriving back there; the correlation stage already measures
them that way (:mod:`sipladder.analysis.timings`). Successful and failed outcomes are
kept apart, never averaged together.

The RFC's own text is not available to this project; the definitions below follow
the notes in the project's ``shared/rfc/rfc6076-notes.md``. Two points there are
uncertain and are our documented choices: the Session Success Ratio (section 4.10)
and the stop event of a failed Session Duration Time (not computed).

"Failure" (RFC 6076 section 4): a final 4xx other than 401, 402 and 407, a 5xx or 6xx,
or a transaction timeout. A timeout is only declared when the capture went on for at
least Timer B/F (64*T1 = 32 s, RFC 3261 section 17.1.1.2) after the request without a
final response; a request whose answer may simply lie after the end of the capture is
*undetermined* and left out of every ratio.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from sipladder.correlate import Correlation
from sipladder.model import Call, CallState, Registration, RegistrationKind

#: RFC 3261 section 17.1.1.2: Timer B (INVITE) and Timer F (non-INVITE) are 64*T1.
TIMEOUT_NS = 64 * 500 * 1_000_000

#: RFC 6076 section 4: these 4xx are part of a successful exchange, not failures.
NOT_FAILURES = frozenset({401, 402, 407})
#: Section 4.7 (SEER): final responses that show the network did its job.
EFFECTIVE = frozenset({200, 480, 486, 600, 603})
#: Section 4.8 (ISA): final responses that show the network did not.
INEFFECTIVE = frozenset({408, 500, 503, 504})
#: Our Session Success Ratio choice: outcomes decided by the users, not by the network.
USER_CHOICE = frozenset({480, 486, 487, 600, 603})


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    TIMEOUT = "timeout"  #: a failure: no final response within 64*T1 of capture time
    UNDETERMINED = "undetermined"  #: no final response, but the capture ended too soon to tell


class MetricKind(StrEnum):
    DELAY = "delay"  #: value is a mean, in milliseconds
    RATIO = "ratio"  #: value is a percentage


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    name: str  #: short code used in tables: rrd, ira, srd, ...
    title: str
    section: str  #: RFC 6076 section
    kind: MetricKind
    definition: str  #: start and stop events, or the formula, as implemented


DEFINITIONS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        "rrd", "Registration Request Delay", "4.1", MetricKind.DELAY,
        "first REGISTER of a successful attempt to its final 2xx, across 401/407 challenges",
    ),
    MetricDefinition(
        "ira", "Ineffective Registration Attempts", "4.2", MetricKind.RATIO,
        "failed or timed-out registration attempts / all determined attempts x 100",
    ),
    MetricDefinition(
        "srd_success", "Session Request Delay (successful)", "4.3", MetricKind.DELAY,
        "INVITE to the first non-100 provisional response, or to the 2xx when none came",
    ),
    MetricDefinition(
        "srd_failure", "Session Request Delay (failed)", "4.3", MetricKind.DELAY,
        "INVITE to its failure final response (4xx except 401/402/407, 5xx, 6xx)",
    ),
    MetricDefinition(
        "sdd_success", "Session Disconnect Delay (successful)", "4.4", MetricKind.DELAY,
        "BYE to its 2xx",
    ),
    MetricDefinition(
        "sdd_failure", "Session Disconnect Delay (failed)", "4.4", MetricKind.DELAY,
        "BYE to its failure final response, or to Timer F (32 s) when none came",
    ),
    MetricDefinition(
        "sdt", "Session Duration Time", "4.5", MetricKind.DELAY,
        "2xx to the INVITE to the BYE, for sessions released by BYE (value in ms)",
    ),
    MetricDefinition(
        "ser", "Session Establishment Ratio", "4.6", MetricKind.RATIO,
        "INVITEs answered with 2xx / (INVITEs - INVITEs answered with 3xx) x 100",
    ),
    MetricDefinition(
        "seer", "Session Establishment Effectiveness Ratio", "4.7", MetricKind.RATIO,
        "INVITEs answered with 200, 480, 486, 600 or 603 / (INVITEs - INVITEs answered "
        "with 3xx) x 100",
    ),
    MetricDefinition(
        "isa", "Ineffective Session Attempts", "4.8", MetricKind.RATIO,
        "INVITEs answered with 408, 500, 503 or 504, or timed out / INVITEs x 100",
    ),
    MetricDefinition(
        "scr", "Session Completion Ratio", "4.9", MetricKind.RATIO,
        "sessions established and released by BYE / INVITEs x 100",
    ),
    MetricDefinition(
        "ssr", "Session Success Ratio", "4.10", MetricKind.RATIO,
        "(our choice; the RFC formula is not confirmed) INVITEs answered with 2xx or with "
        "an outcome the users chose (480, 486, 487 after the caller's CANCEL, 600, 603) / "
        "(INVITEs - INVITEs answered with 3xx) x 100",
    ),
)

BY_NAME = {d.name: d for d in DEFINITIONS}


@dataclass(frozen=True, slots=True)
class MetricValue:
    """One metric over one group of calls or registrations."""

    metric: str  #: :attr:`MetricDefinition.name`
    scope: str  #: ``capture``, ``bucket``, ``caller_domain`` or ``callee_domain``
    group: str  #: ``all``, the bucket's start (ISO 8601, UTC) or the domain
    value: float | None  #: mean delay in ms, or percentage; None when nothing to measure
    samples: int  #: delays measured, or the ratio's denominator
    numerator: int | None = None  #: for ratios
    median_ms: float | None = None  #: for delays
    p95_ms: float | None = None
    max_ms: float | None = None


_UNITS_NS = {"ms": 1_000_000, "s": 10**9, "sec": 10**9, "m": 60 * 10**9, "min": 60 * 10**9,
             "h": 3600 * 10**9, "hour": 3600 * 10**9}


def parse_bucket(text: str) -> int:
    """``"1min"``, ``"30s"``, ``"500ms"``, ``"2h"`` to nanoseconds; ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*", text.lower())
    if not match or match.group(2) not in _UNITS_NS or float(match.group(1)) <= 0:
        raise ValueError(f"not a bucket length: {text!r} (examples: 30s, 1min, 1h)")
    return int(float(match.group(1)) * _UNITS_NS[match.group(2)])


# --------------------------------------------------------------------------- outcomes


def _is_failure(status: int) -> bool:
    return status >= 400 and status not in NOT_FAILURES


def call_outcome(call: Call, capture_end_ns: int) -> Outcome:
    status = call.final_status
    if status is None:
        return Outcome.TIMEOUT if capture_end_ns - call.start_ns >= TIMEOUT_NS else (
            Outcome.UNDETERMINED
        )
    return Outcome.FAILURE if _is_failure(status) else Outcome.SUCCESS


def registration_outcome(registration: Registration, capture_end_ns: int) -> Outcome:
    status = registration.final_status
    if status is None or status in (401, 407):
        # A last challenge nobody answered in the capture is no final answer either.
        waited = capture_end_ns - registration.start_ns
        return Outcome.TIMEOUT if waited >= TIMEOUT_NS else Outcome.UNDETERMINED
    return Outcome.FAILURE if _is_failure(status) else Outcome.SUCCESS


# --------------------------------------------------------------------------- aggregation


def _delay(metric: str, scope: str, group: str, values_ns: Sequence[int]) -> MetricValue:
    if not values_ns:
        return MetricValue(metric, scope, group, None, 0)
    ms = sorted(v / 1_000_000 for v in values_ns)
    # Nearest-rank 95th percentile: an observed value, never an interpolation.
    p95 = ms[max(0, -(-95 * len(ms) // 100) - 1)]
    return MetricValue(
        metric, scope, group, round(statistics.fmean(ms), 6), len(ms),
        median_ms=round(statistics.median(ms), 6), p95_ms=round(p95, 6), max_ms=round(ms[-1], 6),
    )


def _ratio(metric: str, scope: str, group: str, numerator: int, denominator: int) -> MetricValue:
    value = round(100.0 * numerator / denominator, 6) if denominator else None
    return MetricValue(metric, scope, group, value, denominator, numerator=numerator)


def _call_metrics(
    calls: Sequence[Call], correlation: Correlation, end_ns: int, scope: str, group: str
) -> list[MetricValue]:
    transactions = correlation.transactions
    srd_ok: list[int] = []
    srd_failed: list[int] = []
    sdd_ok: list[int] = []
    sdd_failed: list[int] = []
    sdt: list[int] = []
    invites = answered = redirected = effective = ineffective = completed = user_ok = 0
    for call in calls:
        outcome = call_outcome(call, end_ns)
        if outcome is Outcome.UNDETERMINED:
            continue
        invites += 1
        status = call.final_status
        if status is not None and 300 <= status < 400:
            redirected += 1
        if status is not None and 200 <= status < 300:
            answered += 1
            if call.pdd_ns is not None:
                srd_ok.append(call.pdd_ns)
        elif outcome is Outcome.FAILURE and call.invite is not None:
            invite = transactions[call.invite]
            if invite.final_ns is not None:
                srd_failed.append(invite.final_ns - invite.start_ns)
        if status in EFFECTIVE:
            effective += 1
        if status in INEFFECTIVE or outcome is Outcome.TIMEOUT:
            ineffective += 1
        if status is not None and (200 <= status < 300 or status in USER_CHOICE):
            if status != 487 or call.state is CallState.CANCELLED:
                user_ok += 1
        if call.state is CallState.COMPLETED:
            completed += 1
            if call.duration_ns is not None:
                sdt.append(call.duration_ns)
        if call.bye is not None:
            bye = transactions[call.bye]
            if bye.final_status is not None and 200 <= bye.final_status < 300:
                if bye.final_ns is not None:
                    sdd_ok.append(bye.final_ns - bye.start_ns)
            elif bye.final_status is not None and bye.final_ns is not None:
                sdd_failed.append(bye.final_ns - bye.start_ns)
            elif end_ns - bye.start_ns >= TIMEOUT_NS:
                sdd_failed.append(TIMEOUT_NS)
    attempts = invites - redirected
    return [
        _delay("srd_success", scope, group, srd_ok),
        _delay("srd_failure", scope, group, srd_failed),
        _delay("sdd_success", scope, group, sdd_ok),
        _delay("sdd_failure", scope, group, sdd_failed),
        _delay("sdt", scope, group, sdt),
        _ratio("ser", scope, group, answered, attempts),
        _ratio("seer", scope, group, effective, attempts),
        _ratio("isa", scope, group, ineffective, invites),
        _ratio("scr", scope, group, completed, invites),
        _ratio("ssr", scope, group, user_ok, attempts),
    ]


def _registration_metrics(
    registrations: Sequence[Registration], end_ns: int, scope: str, group: str
) -> list[MetricValue]:
    delays: list[int] = []
    failed = attempts = 0
    for registration in registrations:
        if registration.kind is RegistrationKind.QUERY:
            continue  # a query for bindings registers nothing
        outcome = registration_outcome(registration, end_ns)
        if outcome is Outcome.UNDETERMINED:
            continue
        attempts += 1
        if outcome is Outcome.SUCCESS:
            if registration.delay_ns is not None:
                delays.append(registration.delay_ns)
        else:
            failed += 1
    return [
        _delay("rrd", scope, group, delays),
        _ratio("ira", scope, group, failed, attempts),
    ]


def domain(uri: str | None) -> str:
    """The host part of a SIP or tel URI, lower-cased (``-`` when there is none)."""
    if not uri:
        return "-"
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    host = rest.split("@", 1)[1] if "@" in rest else rest
    for stop in (";", "?", ">"):
        host = host.split(stop, 1)[0]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0].lower() or "-"


T = TypeVar("T")


def _grouped(items: Iterable[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return dict(sorted(groups.items()))


def compute_metrics(
    correlation: Correlation, capture_end_ns: int, bucket_ns: int | None = None
) -> list[MetricValue]:
    """Every metric over the whole capture, then per time bucket (when ``bucket_ns`` is
    given; calls and registrations fall in the bucket where they started), then per
    caller and callee domain. Registrations count under the caller domain of their AOR."""
    calls, registrations = correlation.calls, correlation.registrations
    values = _registration_metrics(registrations, capture_end_ns, "capture", "all")
    values += _call_metrics(calls, correlation, capture_end_ns, "capture", "all")
    if bucket_ns:
        def bucket(start_ns: int) -> str:
            start = start_ns - start_ns % bucket_ns
            moment = datetime.fromtimestamp(start // 10**9, tz=UTC)
            return moment.strftime("%Y-%m-%dT%H:%M:%S") + (
                f".{start % 10**9:09d}".rstrip("0") if start % 10**9 else ""
            ) + "Z"

        reg_buckets = _grouped(registrations, lambda r: bucket(r.start_ns))
        call_buckets = _grouped(calls, lambda c: bucket(c.start_ns))
        for key in sorted(set(reg_buckets) | set(call_buckets)):
            values += _registration_metrics(reg_buckets.get(key, []), capture_end_ns, "bucket", key)
            values += _call_metrics(
                call_buckets.get(key, []), correlation, capture_end_ns, "bucket", key
            )
    for key, group in _grouped(calls, lambda c: domain(c.caller)).items():
        values += _call_metrics(group, correlation, capture_end_ns, "caller_domain", key)
    for key, reg_group in _grouped(registrations, lambda r: domain(r.aor)).items():
        values += _registration_metrics(reg_group, capture_end_ns, "caller_domain", key)
    for key, group in _grouped(calls, lambda c: domain(c.callee)).items():
        values += _call_metrics(group, correlation, capture_end_ns, "callee_domain", key)
    return values
