"""The :class:`Capture` object: runs the pipeline once over some files and offers the results.

This is the Python API (and what the CLI and notebooks use). Everything is computed
on first use and kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from sipladder.errors import SipLadderError
from sipladder.model import Diagnostic, Message
from sipladder.pipeline import (
    Counters,
    messages_from_payloads,
    tracked_messages,
    without_cyclic_gc,
)
from sipladder.progress import Progress
from sipladder.readers import read_frames
from sipladder.rows import (
    CALLS,
    DIALOGS,
    MESSAGES,
    REGISTRATIONS,
    TRANSACTIONS,
    call_row,
    dialog_row,
    message_row,
    registration_row,
    transaction_row,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    import pandas as pd

    from sipladder.analysis.lint import Finding
    from sipladder.analysis.metrics import MetricValue
    from sipladder.correlate import Correlation
    from sipladder.ladder import Ladder
    from sipladder.render.charts import Plots


class Capture:
    """SIP found in one or more capture files (merged by time)."""

    def __init__(
        self,
        paths: str | Sequence[str],
        progress: Progress | None = None,
        engine: str = "native",
        tls_keylog: str | None = None,
        decode_as: Mapping[str, str] | None = None,
    ) -> None:
        self.paths: tuple[str, ...] = (paths,) if isinstance(paths, str) else tuple(paths)
        self.diagnostics: list[Diagnostic] = []
        self.counters = Counters()
        self.engine = engine
        self._messages: list[Message] = []
        if engine == "tshark":
            # Wireshark's dissectors (TLS decryption, ...); the same records come out.
            from sipladder.engines.tshark import read_payloads

            payloads = read_payloads(self.paths, self._report, tls_keylog, decode_as)
            self._messages = list(messages_from_payloads(payloads, self._report, self.counters))
            return
        if engine != "native":
            raise SipLadderError(f"unknown engine {engine!r}: choose 'native' or 'tshark'")
        if tls_keylog is not None or decode_as:
            raise SipLadderError(
                "TLS decryption and decode-as rules need the tshark engine (--engine tshark)"
            )
        frames = read_frames(self.paths, self._report)
        with without_cyclic_gc():
            self._messages = list(
                tracked_messages(frames, self._report, self.counters, progress)
            )

    @classmethod
    def from_messages(cls, messages: Sequence[Message], paths: Sequence[str] = ()) -> Capture:
        """A capture over messages already parsed (tests, other front ends): no file is read."""
        capture = cls.__new__(cls)
        capture.paths = tuple(paths)
        capture.diagnostics = []
        capture.counters = Counters(sip_messages=len(messages))
        capture._messages = list(messages)
        return capture

    def _report(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)
        counts = self.counters.diagnostics
        counts[diagnostic.code] = counts.get(diagnostic.code, 0) + 1

    def __repr__(self) -> str:
        return f"<Capture {', '.join(self.paths)}: {len(self._messages)} SIP messages>"

    def __len__(self) -> int:
        return len(self._messages)

    # ----------------------------------------------------------------------- messages

    @property
    def records(self) -> list[Message]:
        """The :class:`~sipladder.model.Message` records, in capture order."""
        return self._messages

    def message_rows(self) -> list[dict[str, object]]:
        links = self.correlation.links
        return [message_row(m, links[m.index]) for m in self._messages]

    @cached_property
    def messages(self) -> pd.DataFrame:
        """One row per SIP message (the columns of ``sipladder messages --format json``)."""
        from sipladder.tables import frame

        return frame(MESSAGES, self.message_rows())

    # ----------------------------------------------------------------------- correlation

    @cached_property
    def correlation(self) -> Correlation:
        """Transactions, dialogs, calls and registrations (records; computed once)."""
        from sipladder.correlate import correlate

        with without_cyclic_gc():
            return correlate(self._messages)

    def call_rows(self) -> list[dict[str, object]]:
        return [call_row(c) for c in self.correlation.calls]

    def registration_rows(self) -> list[dict[str, object]]:
        return [registration_row(r) for r in self.correlation.registrations]

    def transaction_rows(self) -> list[dict[str, object]]:
        txs = self.correlation.transactions
        return [transaction_row(t, txs) for t in txs]

    def dialog_rows(self) -> list[dict[str, object]]:
        return [dialog_row(d) for d in self.correlation.dialogs]

    def summary(self) -> dict[str, object]:
        """The numbers of ``sipladder summary --format json``."""
        from sipladder.analysis.summary import build_summary

        return build_summary(
            self.paths,
            self._messages,
            self.correlation,
            frames=self.counters.frames,
            unparsable=self.counters.unparsable,
            diagnostics=self.counters.diagnostics,
            ignored=self.counters.ignored,
            unreadable=self.counters.unreadable,
        )

    def metric_values(self, bucket: str | int | None = None) -> list[MetricValue]:
        """RFC 6076 metrics over the capture, per ``bucket`` (``"1min"``, ``"30s"`` or ns)
        and per caller/callee domain (see :mod:`sipladder.analysis.metrics`)."""
        from sipladder.analysis.metrics import compute_metrics, parse_bucket

        end_ns = max((m.ts_ns for m in self._messages), default=0)
        bucket_ns = parse_bucket(bucket) if isinstance(bucket, str) else bucket
        return compute_metrics(self.correlation, end_ns, bucket_ns)

    def metric_rows(self, bucket: str | int | None = None) -> list[dict[str, object]]:
        from sipladder.rows import metric_row

        return [metric_row(v) for v in self.metric_values(bucket)]

    def metrics(self, bucket: str | int | None = None) -> pd.DataFrame:
        """RFC 6076 metrics as a DataFrame: one row per metric and group (the columns of
        ``sipladder stats --format json``)."""
        from sipladder.rows import METRICS
        from sipladder.tables import frame

        return frame(METRICS, self.metric_rows(bucket))

    def lint(self) -> list[Finding]:
        """RFC 3261 conformance findings (``sipladder lint``), capture problems first."""
        from sipladder.analysis.lint import lint

        return lint(self._messages, self.correlation, self.diagnostics)

    def lint_rows(self) -> list[dict[str, object]]:
        from sipladder.analysis.lint import finding_row

        return [finding_row(f) for f in self.lint()]

    @cached_property
    def calls(self) -> pd.DataFrame:
        """One row per call (the columns of ``sipladder calls --format json``)."""
        from sipladder.tables import frame

        return frame(CALLS, self.call_rows())

    @cached_property
    def registrations(self) -> pd.DataFrame:
        """One row per registration attempt (``sipladder registrations --format json``)."""
        from sipladder.tables import frame

        return frame(REGISTRATIONS, self.registration_rows())

    @cached_property
    def transactions(self) -> pd.DataFrame:
        """One row per transaction and hop (``sipladder transactions --format json``)."""
        from sipladder.tables import frame

        return frame(TRANSACTIONS, self.transaction_rows())

    @cached_property
    def dialogs(self) -> pd.DataFrame:
        """One row per dialog (``sipladder dialogs --format json``)."""
        from sipladder.tables import frame

        return frame(DIALOGS, self.dialog_rows())

    # ----------------------------------------------------------------------- charts, report

    @cached_property
    def plot(self) -> Plots:
        """The timing charts, each a method returning a matplotlib Figure:
        ``capture.plot.setup_delay()``, ``.registration_delay()``, ``.calls(bucket=)``,
        ``.registrations(bucket=)``, ``.response_codes(bucket=)``, ``.hop_delay()``
        (needs the ``plot`` extra)."""
        from sipladder.render.charts import Plots

        return Plots(self)

    def report(
        self,
        *,
        title: str | None = None,
        bucket: str | int | None = None,
        max_ladders: int = 100,
    ) -> str:
        """The self-contained HTML report of ``sipladder report`` (a str): summary,
        calls and registrations tables with their ladders, metrics, charts, anomalies
        and lint findings. Charts need the ``plot`` extra (without it, a note)."""
        from sipladder.render.report import render_report

        return render_report(self, title=title, bucket=bucket, max_ladders=max_ladders)

    # ----------------------------------------------------------------------- ladder

    def ladder(
        self,
        *,
        call_id: str | None = None,
        aor: str | None = None,
        since: str | int | float | datetime | None = None,
        until: str | int | float | datetime | None = None,
        max_messages: int | None = None,
        aliases: Mapping[str, str] | None = None,
        group: str = "endpoint",
        learn_names: bool = True,
        title: str | None = None,
        colour_by: str = "dialog",
    ) -> Ladder:
        """A ladder diagram of the whole capture, one call (``call_id``), one
        registration (``aor``) and/or a time window (``since``/``until``: datetimes,
        ns, epoch seconds, or text as :func:`sipladder.layout.parse_time` reads it).

        ``aliases`` maps ``ip``, ``ip:port`` or a learned host name to a column name;
        ``group="host"`` merges the ports of one address into one column;
        ``colour_by="transaction"`` colours each request (all its hops) and its
        responses instead of each dialog."""
        from sipladder.ladder import Ladder
        from sipladder.layout import build_layout, parse_time, select_messages

        correlation = self.correlation
        first = self._messages[0].ts_ns if self._messages else None
        selected, notes = select_messages(
            self._messages,
            correlation,
            call_id=call_id,
            aor=aor,
            since_ns=None if since is None else parse_time(since, first),
            until_ns=None if until is None else parse_time(until, first),
            max_messages=max_messages,
        )
        layout = build_layout(
            selected,
            correlation,
            aliases=aliases,
            group=group,
            learn_names=learn_names,
            notes=notes,
            title=title,
            colour_by=colour_by,
        )
        return Ladder(layout)


def load(
    paths: str | Sequence[str],
    progress: Progress | None = None,
    engine: str = "native",
    tls_keylog: str | None = None,
    decode_as: Mapping[str, str] | None = None,
) -> Capture:
    """Read one capture file or several (merged by timestamp) and parse every SIP message.

    ``progress``: a :class:`~sipladder.progress.Progress` to draw while reading (the CLI
    passes one that shows on a terminal only).

    ``engine="tshark"`` reads through Wireshark's dissectors (pyshark, the ``tshark``
    extra) instead of sipladder's own decoder: with ``tls_keylog`` (a key log file in
    the ``SSLKEYLOGFILE`` format) it decrypts SIP over TLS; ``decode_as`` passes
    tshark ``-d`` rules such as ``{"tcp.port==6060": "sip"}``.
    """
    return Capture(paths, progress, engine=engine, tls_keylog=tls_keylog, decode_as=decode_as)
