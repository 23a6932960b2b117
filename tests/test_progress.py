"""The progress line: drawn only on a terminal, never with quiet, throttled, erased at the end."""

from __future__ import annotations

import io

import pytest

from sipladder.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(stream=stream, delay=0, interval=0)
    assert not progress.enabled
    assert list(progress.track(range(10_000))) == list(range(10_000))
    assert stream.getvalue() == ""


def test_silent_with_quiet_even_on_a_terminal(tmp_path) -> None:
    stream = Terminal()
    path = tmp_path / "x.pcap"
    path.write_bytes(b"\0" * 100)
    progress = Progress.for_files([str(path)], quiet=True, stream=stream, delay=0, interval=0)
    list(progress.track(range(10_000)))
    assert stream.getvalue() == ""


def test_draws_counts_on_a_terminal_and_erases_at_the_end() -> None:
    stream = Terminal()
    progress = Progress(stream=stream, messages=lambda: 1234, calls=lambda: 56, delay=0, interval=0)
    assert progress.enabled
    assert sum(progress.track(range(10_000))) == sum(range(10_000))
    text = stream.getvalue()
    assert "sipladder: 4,096 packets, 1,234 SIP messages, 56 calls" in text
    assert "8,192 packets" in text
    assert text.endswith("\r\x1b[K")  # the line is erased so later output starts clean


def test_short_runs_draw_nothing() -> None:
    stream = Terminal()
    progress = Progress(stream=stream)  # default delay: half a second before the first line
    list(progress.track(range(10_000)))
    assert stream.getvalue() == ""


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        pytest.param(["a.pcap", "b.pcap"], 300, id="plain-files-summed"),
        pytest.param(["a.pcap", "c.pcap.gz"], None, id="gzip-no-estimate"),
        pytest.param(["-"], None, id="stdin-no-estimate"),
        pytest.param(["missing.pcap"], None, id="missing-no-estimate"),
    ],
)
def test_total_bytes_for_files(tmp_path, monkeypatch, paths, expected) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.pcap").write_bytes(b"\0" * 100)
    (tmp_path / "b.pcap").write_bytes(b"\0" * 200)
    (tmp_path / "c.pcap.gz").write_bytes(b"\0" * 50)
    assert Progress.for_files(paths, stream=io.StringIO()).total_bytes == expected


def test_percentage_estimate_never_reaches_100() -> None:
    stream = Terminal()
    progress = Progress(stream=stream, total_bytes=1000, delay=0, interval=0)
    list(progress.track([b"x" * 600] * 4096 * 2, size=len))
    assert "(~99%)" in stream.getvalue()


def test_capture_reports_packets_messages_and_calls(tmp_path) -> None:
    """Reading a capture draws packets, SIP messages and calls (Call-IDs with an INVITE)."""
    import importlib.util
    from pathlib import Path

    from sipladder.capture import load

    spec = importlib.util.spec_from_file_location(
        "make_capture", Path(__file__).resolve().parents[1] / "benchmarks" / "make_capture.py"
    )
    assert spec is not None and spec.loader is not None
    make_capture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_capture)
    path = tmp_path / "bench.pcap"
    make_capture.make_synth(str(path), seed=1, messages=4500, rate=400.0, clients=5)

    stream = Terminal()
    capture = load(str(path), Progress.for_files([str(path)], stream=stream, delay=0, interval=0))
    assert len(capture) == 4500
    invites = {m.sip.call_id for m in capture.records if m.sip.method == "INVITE"}
    text = stream.getvalue()
    assert "sipladder: 4,096 packets, " in text
    assert "SIP messages, " in text and " calls, " in text
    last = text.rsplit("sipladder: ", 1)[1]
    assert int(last.split(" calls")[0].rsplit(", ", 1)[1].replace(",", "")) <= len(invites)
    assert text.endswith("\r\x1b[K")

