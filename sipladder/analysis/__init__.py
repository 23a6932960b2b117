"""Analysis: timings, RFC 6076 metrics, lint findings, computed from correlation results."""
