"""The one-screen overview of a capture (``sipladder summary``): numbers, then their text.

:func:`build_summary` gathers the counts from the message records, the correlation
and the pipeline counters into a plain dict (the JSON of ``summary --format
json``); :func:`summary_text` lays that dict out for a terminal; :func:`summary_rows`
flattens it for CSV. ``None`` means "did not happen in the capture".
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sipladder.correlate import Correlation
from sipladder.model import CallState, Message, RegistrationKind, RegistrationState

#: How many of the slowest call setups the summary lists.
SLOWEST = 5

_NS = "\x00ns:"  # marks an integer-ns time inside the dict until it is written as JSON


def build_summary(
    files: Sequence[str],
    messages: Sequence[Message],
    correlation: Correlation,
    *,
    frames: int,
    unparsable: int,
    diagnostics: Mapping[str, int],
    ignored: Mapping[str, int] | None = None,
    unreadable: Sequence[str] = (),
) -> dict[str, Any]:
    methods: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    anomalies: Counter[str] = Counter()
    for message in messages:
        sip = message.sip
        if sip.is_request:
            methods[sip.method or "?"] += 1
        elif sip.status is not None:
            statuses[sip.status] += 1
        for anomaly in sip.anomalies:
            anomalies[anomaly.code] += 1
    start = min((m.ts_ns for m in messages), default=None)
    end = max((m.ts_ns for m in messages), default=None)
    calls = correlation.calls
    call_states = Counter(c.state.value for c in calls)
    registrations = correlation.registrations
    reg_states = Counter(r.state.value for r in registrations)
    reg_kinds = Counter(r.kind.value for r in registrations)
    timed = [c for c in calls if c.pdd_ns is not None]
    timed.sort(key=lambda c: (-(c.pdd_ns or 0), c.start_ns, c.call_id))
    reg_delays = sorted(r.delay_ns for r in registrations if r.delay_ns is not None)
    return {
        "files": list(files),
        "start": None if start is None else _NS + str(start),
        "end": None if end is None else _NS + str(end),
        "span_s": None if start is None or end is None else round((end - start) / 1e9, 6),
        "frames": frames,
        "sip_messages": len(messages),
        "unparsable": unparsable,
        "requests": sum(methods.values()),
        "responses": sum(statuses.values()),
        "methods": dict(sorted(methods.items(), key=lambda kv: (-kv[1], kv[0]))),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "retransmissions": correlation.retransmissions,
        "orphan_responses": correlation.orphan_responses,
        "transactions": len(correlation.transactions),
        "dialogs": len(correlation.dialogs),
        "calls": {
            "total": len(calls),
            "by_state": {s.value: call_states.get(s.value, 0) for s in CallState},
            "median_pdd_ms": _median_ms([c.pdd_ns for c in timed]),
            "median_answer_ms": _median_ms(
                [c.answer_ns for c in calls if c.answer_ns is not None]
            ),
            "median_release_ms": _median_ms(
                [c.release_ns for c in calls if c.release_ns is not None]
            ),
        },
        "registrations": {
            "total": len(registrations),
            "by_state": {s.value: reg_states.get(s.value, 0) for s in RegistrationState},
            "by_kind": {k.value: reg_kinds.get(k.value, 0) for k in RegistrationKind},
            "challenged": sum(1 for r in registrations if r.challenged),
            "median_delay_ms": _median_ms(reg_delays),
        },
        "anomalies": dict(sorted(anomalies.items(), key=lambda kv: (-kv[1], kv[0]))),
        "diagnostics": dict(sorted(diagnostics.items(), key=lambda kv: (-kv[1], kv[0]))),
        "ignored": dict(sorted((ignored or {}).items(), key=lambda kv: (-kv[1], kv[0]))),
        "unreadable": list(unreadable),
        "slowest_setups": [
            {
                "call_id": c.call_id,
                "caller": c.caller,
                "callee": c.callee,
                "state": c.state.value,
                "final_status": c.final_status,
                "pdd_ms": _ms(c.pdd_ns),
                "answer_ms": _ms(c.answer_ns),
            }
            for c in timed[:SLOWEST]
        ],
    }


def _ms(ns: int | None) -> float | None:
    return None if ns is None else round(ns / 1_000_000, 6)


def _median_ms(values: Sequence[int | None]) -> float | None:
    present = sorted(v for v in values if v is not None)
    if not present:
        return None
    mid = len(present) // 2
    value = present[mid] if len(present) % 2 else (present[mid - 1] + present[mid]) / 2
    return round(value / 1_000_000, 6)


# --------------------------------------------------------------------------- JSON and CSV


def summary_json(summary: Mapping[str, Any]) -> str:
    """JSON with times as exact epoch seconds (like every other command's JSON)."""
    from sipladder.output import json_safe, seconds_text

    text = json_safe(json.dumps(summary, ensure_ascii=False, indent=2, allow_nan=False))
    return (
        re.sub(r'"\\u0000ns:(-?\d+)"', lambda m: seconds_text(int(m.group(1))), text) + "\n"
    )


def summary_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flatten to (section, name, value) rows for CSV."""
    from sipladder.output import seconds_text

    rows: list[dict[str, Any]] = []

    def add(section: str, name: str, value: Any) -> None:
        if isinstance(value, str) and value.startswith(_NS):
            value = seconds_text(int(value[len(_NS) :]))
        rows.append({"section": section, "name": name, "value": value})

    for key, value in summary.items():
        if key == "slowest_setups":
            for rank, call in enumerate(value, 1):
                for name, item in call.items():
                    add(f"slowest_setups.{rank}", name, item)
        elif isinstance(value, Mapping):
            for name, item in value.items():
                if isinstance(item, Mapping):
                    for sub, number in item.items():
                        add(f"{key}.{name}", sub, number)
                else:
                    add(key, name, item)
        elif isinstance(value, list):
            for item in value:
                add(key, "", item)
        else:
            add("capture", key, value)
    return rows


# --------------------------------------------------------------------------- terminal text


def _clock(value: str | None, with_date: bool) -> str:
    if value is None:
        return "-"
    ns = int(value[len(_NS) :])
    moment = datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")
    return f"{text}.{(ns % 1_000_000_000) // 1000:06d}"


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}"
    return f"{value:,}{unit}"


def _pairs(items: Mapping[str, int], limit: int) -> list[str]:
    shown = list(items.items())[:limit]
    width = max((len(k) for k, _ in shown), default=0)
    lines = [f"{k:<{width}}  {v:>6,}" for k, v in shown]
    if len(items) > limit:
        rest = sum(v for _, v in list(items.items())[limit:])
        lines.append(f"{'(other)':<{width}}  {rest:>6,}")
    return lines


def _side_by_side(left: list[str], right: list[str], gap: int = 6) -> list[str]:
    width = max((len(line) for line in left), default=0)
    out = []
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        out.append((a.ljust(width + gap) + b).rstrip())
    return out


def _status_label(code: str) -> str:
    from sipladder.output import terminal_safe

    return terminal_safe(code)


def summary_text(summary: Mapping[str, Any]) -> str:
    """A one-screen overview: capture, traffic, outcomes, problems, the slowest setups."""
    from sipladder.output import terminal_safe

    s = summary
    lines: list[str] = []

    def section(title: str) -> None:
        lines.append("")
        lines.append(title)
        lines.append("─" * len(title))

    files = ", ".join(terminal_safe(f) for f in s["files"]) or "-"
    lines.append(f"Capture   {files}")
    span = "-" if s["span_s"] is None else f"{s['span_s']:,.3f} s"
    # the end's date is left out only when it is the start's (a capture can span midnight)
    same_day = _clock(s["start"], True)[:10] == _clock(s["end"], True)[:10]
    lines.append(
        f"Time      {_clock(s['start'], True)} → {_clock(s['end'], not same_day)} UTC   ({span})"
    )
    lines.append(
        f"Frames    {_num(s['frames'])}    SIP messages {_num(s['sip_messages'])}"
        f" ({_num(s['requests'])} requests, {_num(s['responses'])} responses)"
        f"    unparsable {_num(s['unparsable'])}"
    )

    section("Messages")
    methods = _pairs(s["methods"], 10)
    statuses = _pairs({_status_label(k): v for k, v in s["statuses"].items()}, 10)
    left = ["requests"] + ["  " + terminal_safe(x) for x in methods]
    right = ["responses"] + ["  " + x for x in statuses]
    lines.extend(_side_by_side(left, right))
    lines.append(
        f"retransmissions {_num(s['retransmissions'])}    transactions {_num(s['transactions'])}"
        f"    dialogs {_num(s['dialogs'])}    responses without request"
        f" {_num(s['orphan_responses'])}"
    )

    calls = s["calls"]
    section(f"Calls: {calls['total']:,}")
    states = [f"{k} {v:,}" for k, v in calls["by_state"].items() if v]
    lines.append("  ".join(states) if states else "none")
    lines.append(
        f"median PDD {_num(calls['median_pdd_ms'], ' ms')}"
        f"    median answer {_num(calls['median_answer_ms'], ' ms')}"
        f"    median release {_num(calls.get('median_release_ms'), ' ms')}"
    )

    regs = s["registrations"]
    section(f"Registrations: {regs['total']:,}")
    states = [f"{k} {v:,}" for k, v in regs["by_state"].items() if v]
    kinds = [f"{k} {v:,}" for k, v in (regs.get("by_kind") or {}).items() if v]
    kinds_text = "    (" + ", ".join(kinds) + ")" if kinds else ""
    lines.append(("  ".join(states) if states else "none") + kinds_text)
    lines.append(
        f"challenged {regs['challenged']:,}    median delay {_num(regs['median_delay_ms'], ' ms')}"
    )

    section("Problems")
    if not (s["anomalies"] or s["diagnostics"] or s.get("unreadable") or s.get("ignored")):
        lines.append("none: no anomalies, no capture diagnostics")
    anomalies = _pairs({terminal_safe(k): v for k, v in s["anomalies"].items()}, 6)
    diagnostics = _pairs({terminal_safe(k): v for k, v in s["diagnostics"].items()}, 6)
    left = [f"anomalies ({sum(s['anomalies'].values()):,})"] + ["  " + x for x in anomalies]
    right = [f"capture diagnostics ({sum(s['diagnostics'].values()):,})"] + [
        "  " + x for x in diagnostics
    ]
    if s["anomalies"] or s["diagnostics"]:
        lines.extend(_side_by_side(left, right))
    unreadable = s.get("unreadable") or []
    if unreadable:
        shown = ", ".join(terminal_safe(x) for x in unreadable[:4])
        more = f", +{len(unreadable) - 4:,} more" if len(unreadable) > 4 else ""
        lines.append(f"unreadable without keys ({len(unreadable):,}): {shown}{more}")
    ignored = s.get("ignored") or {}
    if ignored:
        shown = ", ".join(f"{terminal_safe(k)} {v:,}" for k, v in list(ignored.items())[:6])
        more = ", ..." if len(ignored) > 6 else ""
        lines.append(f"skipped, no SIP in them ({sum(ignored.values()):,} frames): {shown}{more}")

    slow = s["slowest_setups"]
    section("Slowest call setups (PDD)")
    if not slow:
        lines.append("none")
    else:
        rows = [
            (
                _num(c["pdd_ms"], " ms"),
                _num(c["answer_ms"], " ms"),
                f"{c['state']} {c['final_status'] or ''}".rstrip(),
                terminal_safe(f"{c['caller'] or '?'} → {c['callee'] or '?'}"),
                terminal_safe(c["call_id"]),
            )
            for c in slow
        ]
        head = ("pdd", "answer", "outcome", "caller → callee", "call_id")
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
        # fit the terminal: the URIs give way first (down to 24 characters), then the
        # Call-ID (down to 16); the numbers and the outcome are never cut
        excess = sum(widths) + 2 * 4 - shutil.get_terminal_size((120, 24)).columns
        for i, floor in ((3, 24), (4, 16)):
            cut = max(0, min(excess, widths[i] - floor))
            widths[i] -= cut
            excess -= cut

        def fit(text: str, width: int) -> str:
            return text if len(text) <= width else text[: width - 1] + "…"

        for r in [head, *rows]:
            lines.append(
                f"{r[0]:>{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}"
                f"  {fit(r[3], widths[3]):<{widths[3]}}  {fit(r[4], widths[4])}".rstrip()
            )
    return "\n".join(lines) + "\n"
