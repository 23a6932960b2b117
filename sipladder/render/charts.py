"""Timing charts (matplotlib Figures) of a capture's calls, registrations and transactions.

The only module that imports matplotlib for charts, lazily: without the ``plot`` extra
a :class:`~sipladder.errors.MissingExtraError` says what to install. Charts are drawn
from the plain rows of :mod:`sipladder.rows` (so that pandas stays in
:mod:`sipladder.tables`) on Figures that belong to no pyplot state. :func:`figure_bytes`
writes them byte-identically for the same input: SVG ids from a fixed salt, no dates
in the metadata.

Every chart takes the capture's own rows; delays are in milliseconds, times in UTC.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sipladder.errors import MissingExtraError
from sipladder.render.escape import one_line

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sipladder.capture import Capture

FORMATS = ("png", "svg", "pdf")
#: Bucket lengths :func:`auto_bucket` chooses from (ns): 1 s to 1 day.
_NICE_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
#: Colours of outcomes, so that a state keeps its colour from chart to chart.
STATE_COLOURS = {
    "completed": "#2e7d32",
    "answered": "#81c784",
    "registered": "#2e7d32",
    "deregistered": "#81c784",
    "cancelled": "#f9a825",
    "redirected": "#1e88e5",
    "rejected": "#c62828",
    "failed": "#c62828",
    "incomplete": "#9e9e9e",
}
#: Response classes for the response-code chart's colours (RFC 3261 section 7.2).
_CLASS_COLOURS = {1: "#90a4ae", 2: "#2e7d32", 3: "#1e88e5", 4: "#ef6c00", 5: "#c62828",
                  6: "#6a1b9a"}
MAX_CODES = 10  #: response codes shown one by one; the rest are summed as "other"


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError("matplotlib", "plot", "Drawing charts") from None
    return matplotlib


def _figure(width: float = 9.0, height: float = 4.0, ncols: int = 1) -> tuple[Figure, list[Axes]]:
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def _plain(text: str) -> str:
    """matplotlib reads ``$...$`` as mathtext; capture text must stay literal."""
    return one_line(text).replace("$", r"\$")


def _no_data(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} in the capture", ha="center", va="center",
            transform=ax.transAxes, color="#757575")


# --------------------------------------------------------------------------- saving


def figure_bytes(fig: Figure, fmt: str, dpi: float = 100) -> bytes:
    """The figure as PNG, SVG or PDF bytes, the same bytes for the same figure."""
    if fmt not in FORMATS:
        raise ValueError(f"charts are written as png, svg or pdf, not {fmt!r}")
    matplotlib = _matplotlib()
    metadata: dict[str, Any] = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
    }[fmt]
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "sipladder", "svg.fonttype": "path"}):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike[str], fmt: str | None = None) -> None:
    """Write the figure; the format comes from the file name's suffix unless given."""
    if fmt is None:
        fmt = os.fspath(path).rsplit(".", 1)[-1].lower()
    data = figure_bytes(fig, fmt)
    with open(path, "wb") as out:
        out.write(data)


# --------------------------------------------------------------------------- time buckets


def auto_bucket(start_ns: int, end_ns: int, bars: int = 30) -> int:
    """A round bucket length (ns) giving at most about ``bars`` buckets over the span."""
    span = max(0, end_ns - start_ns)
    for seconds in _NICE_S:
        if span / (seconds * 10**9) <= bars:
            return seconds * 10**9
    return _NICE_S[-1] * 10**9


def bucket_length(bucket: str | int | None, times_ns: Sequence[int]) -> int:
    """``bucket`` as ns (``"1min"``, ``"30s"``, ns), or chosen from the times when None."""
    from sipladder.analysis.metrics import parse_bucket

    if bucket is None:
        return auto_bucket(min(times_ns, default=0), max(times_ns, default=0))
    if isinstance(bucket, str):
        return parse_bucket(bucket)
    if bucket <= 0:
        raise ValueError(f"not a bucket length: {bucket!r}")
    return int(bucket)


def _when(ns: int) -> datetime:
    # Naive UTC datetimes: matplotlib's date axis then needs no time zone setting.
    return datetime.fromtimestamp(ns // 10**9, tz=UTC).replace(
        tzinfo=None, microsecond=(ns % 10**9) // 1000
    )


def _stacked_bars(
    ax: Axes,
    items: Sequence[tuple[int, str]],
    bucket_ns: int,
    order: Sequence[str],
    colour: Callable[[str], str],
    what: str,
) -> None:
    """Bars per bucket of ``(start_ns, category)`` items, one stacked segment per category."""
    from matplotlib import dates
    from matplotlib.ticker import MaxNLocator

    if not items:
        _no_data(ax, what)
        return
    counts: dict[str, Counter[int]] = {c: Counter() for c in order}
    for start_ns, category in items:
        counts[category][start_ns - start_ns % bucket_ns] += 1
    buckets = sorted({b for c in counts.values() for b in c})
    x = [dates.date2num(_when(b)) for b in buckets]
    width = bucket_ns / 86_400e9 * 0.9
    bottom = [0] * len(buckets)
    for category in order:
        heights = [counts[category][b] for b in buckets]
        if not any(heights):
            continue
        ax.bar(x, heights, width=width, bottom=bottom, align="edge", label=_plain(category),
               color=colour(category), gid=f"bars-{category}")
        bottom = [a + b for a, b in zip(bottom, heights, strict=True)]
    ax.set_ylim(0, max(bottom) * 1.08 + 0.5)  # room above the tallest bar
    locator = dates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))
    ax.set_xlabel(f"start (UTC), {_duration(bucket_ns)} buckets")
    ax.set_ylabel(f"{what} per bucket")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)


def _duration(ns: int) -> str:
    seconds = ns / 10**9
    for unit, size in (("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{ns / 1e6:g} ms"


# --------------------------------------------------------------------------- distributions


def _distribution(
    series: Sequence[tuple[str, Sequence[float]]], what: str, title: str
) -> Figure:
    """Histogram (left) and empirical CDF (right) of delays in ms, one series per outcome."""
    fig, (hist, cdf) = _figure(10.0, 4.0, ncols=2)
    from matplotlib.ticker import MaxNLocator
    fig.suptitle(title)
    present = [(name, values) for name, values in series if values]
    if not present:
        _no_data(hist, what)
        _no_data(cdf, what)
        return fig
    everything = [v for _, values in present for v in values]
    low, high = min(everything), max(everything)
    if high == low:
        high = low + 1.0
    bins = min(50, max(5, int(len(everything) ** 0.5)))
    edges = [low + (high - low) * i / bins for i in range(bins + 1)]
    hist.hist([list(v) for _, v in present], bins=edges, stacked=True,
              label=[_plain(name) for name, _ in present],
              color=[STATE_COLOURS.get(name, "#607d8b") for name, _ in present])
    hist.set_xlabel(f"{what} (ms)")
    hist.set_ylabel("count")
    hist.yaxis.set_major_locator(MaxNLocator(integer=True))
    hist.set_title("histogram", fontsize="medium")
    for name, values in present:
        ordered = sorted(values)
        n = len(ordered)
        # Starts at 0 on the first value so that even a single attempt draws a step.
        cdf.step([ordered[0], *ordered], [0.0] + [(i + 1) / n for i in range(n)], where="post",
                 label=f"{_plain(name)} (n={n})", color=STATE_COLOURS.get(name, "#607d8b"),
                 gid=f"cdf-{name}")
    cdf.set_ylim(0, 1.02)
    cdf.set_xlabel(f"{what} (ms)")
    cdf.set_ylabel("fraction of attempts")
    cdf.set_title("cumulative distribution", fontsize="medium")
    cdf.grid(True, alpha=0.3)
    cdf.legend(loc="lower right", fontsize="small")
    return fig


def _ms(value: object) -> float | None:
    return None if value is None else int(value) / 1e6  # type: ignore[call-overload]


def setup_delay(capture: Capture) -> Figure:
    """Session setup delay (``pdd_ms``: INVITE to the first response other than 100),
    answered calls (final 2xx) apart from the others."""
    answered: list[float] = []
    other: list[float] = []
    for row in capture.call_rows():
        pdd = _ms(row["pdd_ms"])
        if pdd is None:
            continue
        status = row["final_status"]
        ok = isinstance(status, int) and 200 <= status < 300
        (answered if ok else other).append(pdd)
    return _distribution(
        [("answered", answered), ("not answered", other)],
        "setup delay",
        "Setup delay: INVITE to the first response other than 100",
    )


def registration_delay(capture: Capture) -> Figure:
    """Registration delay (``delay_ms``: first REGISTER to the final 2xx, across
    challenges), initial registrations, refreshes and deregistrations apart."""
    by_kind: dict[str, list[float]] = {}
    for row in capture.registration_rows():
        delay = _ms(row["delay_ms"])
        if delay is not None:
            by_kind.setdefault(str(row["kind"]), []).append(delay)
    return _distribution(
        sorted(by_kind.items()),
        "registration delay",
        "Registration delay: first REGISTER to the final 2xx",
    )


# --------------------------------------------------------------------------- over time

CALL_STATES = ("completed", "answered", "cancelled", "redirected", "rejected", "incomplete")
REGISTRATION_STATES = ("registered", "deregistered", "failed", "incomplete")


def calls(capture: Capture, bucket: str | int | None = None) -> Figure:
    """Calls per time bucket (by the call's start) stacked by state."""
    items = [(int(r["start"]), str(r["state"])) for r in capture.call_rows()]  # type: ignore[call-overload]
    order = [*CALL_STATES, *sorted({s for _, s in items} - set(CALL_STATES))]
    bucket_ns = bucket_length(bucket, [t for t, _ in items])
    fig, (ax,) = _figure()
    fig.suptitle("Calls per time bucket, by outcome")
    _stacked_bars(ax, items, bucket_ns, order, lambda s: STATE_COLOURS.get(s, "#607d8b"), "calls")
    return fig


def registrations(capture: Capture, bucket: str | int | None = None) -> Figure:
    """Registration attempts per time bucket (by their first REGISTER) stacked by state."""
    items = [(int(r["start"]), str(r["state"])) for r in capture.registration_rows()]  # type: ignore[call-overload]
    order = [*REGISTRATION_STATES, *sorted({s for _, s in items} - set(REGISTRATION_STATES))]
    bucket_ns = bucket_length(bucket, [t for t, _ in items])
    fig, (ax,) = _figure()
    fig.suptitle("Registration attempts per time bucket, by outcome")
    _stacked_bars(
        ax, items, bucket_ns, order, lambda s: STATE_COLOURS.get(s, "#607d8b"), "registrations"
    )
    return fig


def response_code_items(capture: Capture) -> list[tuple[int, str]]:
    """``(time, code)`` of every response in the capture, retransmissions left out;
    beyond the :data:`MAX_CODES` most frequent codes, the rest are ``"other"``."""
    responses = [
        (m.ts_ns, m.sip.status)
        for m in capture.records
        if m.sip.status is not None and not capture.correlation.links[m.index].retransmission
    ]
    frequent = {code for code, _ in Counter(c for _, c in responses).most_common(MAX_CODES)}
    return [(t, str(c) if c in frequent else "other") for t, c in responses]


def response_codes(capture: Capture, bucket: str | int | None = None) -> Figure:
    """Responses per time bucket stacked by status code (each hop's copy counts;
    retransmissions do not). Colours follow the response class."""
    items = response_code_items(capture)
    codes = sorted({c for _, c in items if c != "other"}, key=int)
    order = [*codes, "other"]
    shades: dict[str, str] = {}
    for code in codes:
        # Codes of one class share its hue, lighter for each further code.
        base = _CLASS_COLOURS.get(int(code) // 100, "#607d8b")
        rank = sum(1 for c in shades if c[0] == code[0])
        shades[code] = _lighter(base, 0.25 * rank)
    shades["other"] = "#bdbdbd"
    bucket_ns = bucket_length(bucket, [t for t, _ in items])
    fig, (ax,) = _figure()
    fig.suptitle("Responses per time bucket, by status code")
    _stacked_bars(ax, items, bucket_ns, order, shades.__getitem__, "responses")
    return fig


def _lighter(colour: str, amount: float) -> str:
    amount = min(amount, 0.75)
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in rgb)


# --------------------------------------------------------------------------- per hop


def hop_delay_samples(capture: Capture) -> dict[str, dict[str, list[float]]]:
    """Per node (the sender of a request on a hop after the first, that is the proxy
    that forwarded it): ``forward`` and ``return`` delays it added, in ms."""
    nodes: dict[str, dict[str, list[float]]] = {}
    for row in capture.transaction_rows():
        if not row["hop"]:
            continue
        node = str(row["client"])
        for key, column in (("forward", "forward_ms"), ("return", "return_ms")):
            value = _ms(row[column])
            if value is not None:
                nodes.setdefault(node, {"forward": [], "return": []})[key].append(value)
    return dict(sorted(nodes.items()))


def hop_delay(capture: Capture) -> Figure:
    """Delay each proxy added: passing a request on to the next hop (left) and passing
    the final response back (right); one row per node (its host name when the capture
    names it), one dot per transaction, a bar at the median."""
    from sipladder.layout import learned_names

    samples = hop_delay_samples(capture)
    # Host names the capture itself ties to an address (top Via sent-by), as on ladders.
    known = learned_names(capture.records)

    def node_label(node: str) -> str:
        name = known.get(node.rsplit(":", 1)[0].strip("[]"))
        return _plain(f"{name} {node}" if name else node)

    height = max(3.0, 1.2 + 0.45 * len(samples))
    fig, (forward, back) = _figure(10.0, height, ncols=2)
    fig.suptitle("Delay added per hop (by the node forwarding)")
    names = list(samples)
    for ax, key, label in (
        (forward, "forward", "request forwarded (ms)"),
        (back, "return", "final response returned (ms)"),
    ):
        ax.set_xlabel(label)
        if not any(samples[n][key] for n in names):
            _no_data(ax, "forwarded requests")
            ax.set_yticks([])
            continue
        for y, name in enumerate(names):
            values = sorted(samples[name][key])
            if not values:
                continue
            ax.scatter(values, [y] * len(values), s=14, alpha=0.6, color="#1e88e5",
                       gid=f"{key}-{y}")
            middle = values[len(values) // 2] if len(values) % 2 else (
                values[len(values) // 2 - 1] + values[len(values) // 2]
            ) / 2
            ax.plot([middle, middle], [y - 0.3, y + 0.3], color="#c62828", linewidth=2)
        # Node names once, on the left; both panels share the rows.
        shown = [node_label(n) for n in names] if ax is forward else [""] * len(names)
        ax.set_yticks(range(len(names)), shown, fontsize="small")
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.grid(True, axis="x", alpha=0.3)
    return fig


#: Chart name (CLI spelling) to function; ``bucket`` is accepted by those over time.
CHARTS: dict[str, Callable[..., Figure]] = {
    "setup-delay": setup_delay,
    "registration-delay": registration_delay,
    "calls": calls,
    "registrations": registrations,
    "response-codes": response_codes,
    "hop-delay": hop_delay,
}
OVER_TIME = frozenset({"calls", "registrations", "response-codes"})


class Plots:
    """``capture.plot``: each chart of this module as a method returning a Figure."""

    def __init__(self, capture: Capture) -> None:
        self._capture = capture

    def __repr__(self) -> str:
        return f"<Plots: {', '.join(n.replace('-', '_') for n in CHARTS)}>"

    def __dir__(self) -> list[str]:
        return [n.replace("-", "_") for n in CHARTS]

    def setup_delay(self) -> Figure:
        """Setup delay histogram and CDF (answered and not answered calls)."""
        return setup_delay(self._capture)

    def registration_delay(self) -> Figure:
        """Registration delay histogram and CDF (per registration kind)."""
        return registration_delay(self._capture)

    def calls(self, bucket: str | int | None = None) -> Figure:
        """Calls per time bucket, stacked by state (``bucket``: "1min", "30s"; auto)."""
        return calls(self._capture, bucket)

    def registrations(self, bucket: str | int | None = None) -> Figure:
        """Registration attempts per time bucket, stacked by state."""
        return registrations(self._capture, bucket)

    def response_codes(self, bucket: str | int | None = None) -> Figure:
        """Responses per time bucket, stacked by status code."""
        return response_codes(self._capture, bucket)

    def hop_delay(self) -> Figure:
        """Delay each proxy added, forwarding requests and returning final responses."""
        return hop_delay(self._capture)

    def chart(self, name: str, bucket: str | int | None = None) -> Figure:
        """A chart by its CLI name (``setup-delay``, ``calls``, ...)."""
        if name not in CHARTS:
            raise ValueError(f"unknown chart {name!r}: choose from {', '.join(CHARTS)}")
        if name in OVER_TIME:
            return CHARTS[name](self._capture, bucket)
        return CHARTS[name](self._capture)
