"""The streaming calls path (sipladder.streaming) gives what one correlator over the whole
capture gives (``Capture(path).correlation.calls``), record for record, in one process
and split between worker processes; it falls back to one process exactly when the split
would not be exact; and it keeps no messages."""

from __future__ import annotations

import json
import re
import struct
import tracemalloc
from pathlib import Path

import pytest

from sipladder.capture import Capture
from sipladder.correlate import Correlator
from sipladder.output import json_record_writers, json_row_writer
from sipladder.rows import CALL_IDS_FROM, CALL_VALUES, CALLS
from sipladder.sip.skim import call_id_hint, shard_of
from sipladder.streaming import (
    PARALLEL_MIN_BYTES,
    QUIET_NS,
    CallText,
    default_workers,
    stream_calls,
)
from tests.captures import CAPTURES, ROOT
from tests.test_limits import ipv4, udp, write_pcap


def split_is_exact(capture: Capture, workers: int) -> bool:
    """Whether a split by Call-ID between ``workers`` can give one correlator's result,
    decided from the whole capture's records (not by the code under test): every message
    has a Call-ID, no transaction holds messages of two Call-IDs or cancels one of another
    Call-ID, and no transaction key is used in two parts."""
    records = capture.records
    if any(m.sip.call_id is None for m in records):
        return False
    transactions = capture.correlation.transactions
    parts: dict[str, int] = {}
    for tx in transactions:
        if {records[i].sip.call_id for i in tx.messages} != {tx.call_id}:
            return False
        if tx.cancels is not None and transactions[tx.cancels].call_id != tx.call_id:
            return False
        part = shard_of(tx.call_id, workers)
        if parts.setdefault(tx.key, part) != part:
            return False
    return True


def quiet_gap(capture: Capture) -> bool:
    """Whether some Call-ID is quiet for more than 32 s between two of its messages (then
    its state may have been dropped in between, and the reading is done again)."""
    last: dict[str | None, int] = {}
    for m in capture.records:
        if m.ts_ns - last.get(m.sip.call_id, m.ts_ns) > QUIET_NS:
            return True
        last[m.sip.call_id] = m.ts_ns
    return False


def same_reading(capture: Capture, result_workers: int, result: object) -> None:
    from sipladder.streaming import CallsResult

    assert isinstance(result, CallsResult)
    assert result.calls == list(capture.correlation.calls)
    assert [str(d) for d in result.diagnostics] == [str(d) for d in capture.diagnostics]
    assert result.counters.frames == capture.counters.frames
    assert result.counters.sip_messages == capture.counters.sip_messages
    assert result.counters.unparsable == capture.counters.unparsable
    assert result.counters.diagnostics == capture.counters.diagnostics
    first = capture.records[0].ts_ns if len(capture) else None
    assert result.first_ns == first


#: each call's JSON object, written by the workers but for the ids (as ``calls`` does)
JSON_TEXT = CallText(*json_record_writers(CALLS, CALL_VALUES, CALL_IDS_FROM))


def same_texts(capture: Capture, result: object) -> None:
    """``result`` (of ``stream_calls(..., text=JSON_TEXT)``) holds the JSON object of each
    of one correlator's calls, in order, as the generic writer writes it whole."""
    from sipladder.streaming import CallsResult

    assert isinstance(result, CallsResult)
    write = json_row_writer(CALLS, CALL_VALUES)
    assert result.texts == [write(call) for call in capture.correlation.calls]
    assert result.calls == []


def test_the_captures_are_found() -> None:
    assert len(CAPTURES) >= 50


@pytest.mark.parametrize("path", CAPTURES)
def test_same_calls_as_one_correlator(path: str) -> None:
    capture = Capture(str(ROOT / path))
    same_reading(capture, 1, stream_calls(str(ROOT / path), workers=1))
    for workers in (2, 3):
        result = stream_calls(str(ROOT / path), workers=workers)
        same_reading(capture, workers, result)
        # split when it can be exact, else read again by one process
        if not split_is_exact(capture, workers):
            assert result.workers == 1
        elif not quiet_gap(capture):
            assert result.workers == workers
    for workers in (1, 2):
        same_texts(capture, stream_calls(str(ROOT / path), workers=workers, text=JSON_TEXT))


def call_id_in_part(part: int, parts: int = 2, prefix: str = "c") -> str:
    return next(f"{prefix}{i}@x" for i in range(100) if shard_of(f"{prefix}{i}@x", parts) == part)


def invite(call_id: str, branch: str, extra: bytes = b"") -> bytes:
    return (
        b"INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=" + branch.encode() + b"\r\n"
        b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\n" + extra + b"Call-ID: " + call_id.encode()
        + b"\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    )


def ringing(call_id: str, branch: str) -> bytes:
    return (
        b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=" + branch.encode() + b"\r\n"
        b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: " + call_id.encode()
        + b"\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    )


def capture_of(tmp_path: Path, messages: list[bytes]) -> str:
    return write_pcap(tmp_path / "x.pcap", [ipv4(17, udp(m)) for m in messages])


def test_branch_reused_in_another_call_is_read_by_one_process(tmp_path: Path) -> None:
    # RFC 3261 17.2.3 matches by branch: the second INVITE is taken as a copy of the first
    # (a broken UA reusing its branch), whatever its Call-ID; the parts cannot see that
    first, second = call_id_in_part(0), call_id_in_part(1)
    path = capture_of(
        tmp_path, [invite(first, "z9hG4bKsame"), invite(second, "z9hG4bKsame"),
                   ringing(first, "z9hG4bKsame")],
    )
    capture = Capture(path)
    assert capture.correlation.transactions[0].call_id == first
    result = stream_calls(path, workers=2)
    assert result.workers == 1
    same_reading(capture, 1, result)


def test_hint_that_disagrees_with_the_parser_is_caught(tmp_path: Path) -> None:
    # a header line starting with a vertical tab: the parser strips it and takes this
    # first Call-ID; the hint sees only the second line. The worker that the hint chose
    # finds the parsed Call-ID in the other part and says the split is inexact.
    parsed, hinted = call_id_in_part(1, prefix="p"), call_id_in_part(0, prefix="h")
    odd = invite(hinted, "z9hG4bKa", extra=b"\x0bCall-ID: " + parsed.encode() + b"\r\n")
    path = capture_of(tmp_path, [odd, ringing(parsed, "z9hG4bKa"), invite("y@x", "z9hG4bKb")])
    capture = Capture(path)
    assert capture.records[0].sip.call_id == parsed
    result = stream_calls(path, workers=2)
    assert result.workers == 1
    same_reading(capture, 1, result)


def test_messages_without_hint_go_to_their_parsed_part(tmp_path: Path) -> None:
    # Call-IDs folded onto a second line (RFC 3261 7.3.1): no hint, every worker parses
    # them, the owner keeps them
    calls = [call_id_in_part(part, prefix=f"k{n}") for n in range(3) for part in (0, 1)]
    messages = []
    for n, call_id in enumerate(calls):
        branch = f"z9hG4bK{n}"
        for message in (invite(call_id, branch), ringing(call_id, branch)):
            folded = message.replace(b"Call-ID: ", b"Call-ID:\r\n ")
            assert call_id_hint(folded) is None
            messages.append(folded)
    path = capture_of(tmp_path, messages)
    capture = Capture(path)
    result = stream_calls(path, workers=2)
    assert result.workers == 2
    same_reading(capture, 2, result)
    assert [c.call_id for c in result.calls] == calls


def test_unparsable_messages_in_a_split_reading(tmp_path: Path) -> None:
    # SIP-looking but unparsable (no Request-URI), with a Call-ID hint for either part and
    # without one: reported once, by the worker that owns it (worker 0 when unknown), and
    # the message indices of the calls after them are those of one reader
    broken = [b"INVITE  SIP/2.0\r\nCall-ID: " + call_id_in_part(p, prefix="u").encode()
              + b"\r\n\r\n" for p in (0, 1)] + [b"INVITE  SIP/2.0\r\nCall-ID:\r\n z@x\r\n\r\n"]
    messages = []
    for n, call_id in enumerate(call_id_in_part(p, prefix=f"v{n}") for n in range(3)
                                for p in (0, 1)):
        messages += [broken[n % 3], invite(call_id, f"z9hG4bKv{n}"),
                     ringing(call_id, f"z9hG4bKv{n}")]
    path = capture_of(tmp_path, messages)
    capture = Capture(path)
    assert capture.counters.unparsable == 6
    for workers in (2, 3):
        result = stream_calls(path, workers=workers)
        assert result.workers == workers
        same_reading(capture, workers, result)
        result = stream_calls(path, workers=workers, text=JSON_TEXT)
        assert result.workers == workers
        same_texts(capture, result)


def test_file_cut_short_is_reported_once(tmp_path: Path) -> None:
    # the reader's own diagnostics (here: the file ends inside a packet) come from every
    # worker's reader; one is reported
    cut = tmp_path / "cut.pcap"
    cut.write_bytes((ROOT / "samples" / "busy.pcap").read_bytes()[:-10])
    capture = Capture(str(cut))
    assert [d.code for d in capture.diagnostics] == ["capture-truncated"]
    for workers in (2, 3):
        result = stream_calls(str(cut), workers=workers)
        assert result.workers == workers
        same_reading(capture, workers, result)


def test_unreadable_file_is_the_readers_error(tmp_path: Path) -> None:
    from sipladder.errors import CaptureError

    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a capture at all")
    for workers in (1, 2):
        with pytest.raises(CaptureError, match="bad.pcap"):
            stream_calls(str(bad), workers=workers)


def completed_call(call_id: str, n: int, pad: bytes) -> list[bytes]:
    """INVITE (with ``pad``), 180, 200, ACK, BYE, 200."""
    branch = f"z9hG4bKm{n}"
    ok = ringing(call_id, branch).replace(b"180 Ringing", b"200 OK")
    ack = invite(call_id, f"z9hG4bKa{n}").replace(b"INVITE", b"ACK").replace(
        b"To: <sip:b@x>", b"To: <sip:b@x>;tag=2")
    bye = ack.replace(b"ACK", b"BYE").replace(f"z9hG4bKa{n}".encode(), f"z9hG4bKb{n}".encode())
    bye_ok = ok.replace(branch.encode(), f"z9hG4bKb{n}".encode()).replace(b" INVITE", b" BYE")
    return [invite(call_id, branch, extra=pad), ringing(call_id, branch), ok, ack, bye, bye_ok]


def write_timed_pcap(path: Path, frames: list[tuple[int, bytes]]) -> str:
    """A classic pcap of (time in ms, frame) pairs."""
    with path.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for ms, data in frames:
            sec, rest = divmod(ms, 1000)
            f.write(struct.pack("<IIII", 1_700_000_000 + sec, rest * 1000, len(data), len(data)))
            f.write(data)
    return str(path)


def test_ended_calls_are_dropped(tmp_path: Path) -> None:
    # 600 completed calls, one a second, each INVITE with 30 kB of padding: the Capture
    # keeps every message (18 MB of bytes alone); the streaming path keeps the Call
    # records and the calls of the last 32 s
    # (the streaming path's peak, about 2 MB, does not grow with the padding: 20 kB left
    # it within a few percent of a tenth of what the Capture keeps, which shrinks as the
    # correlator keeps less)
    pad = b"X-Padding: " + b"p" * 30_000 + b"\r\n"
    frames = [
        (1000 * n + 100 * k, ipv4(17, udp(message)))
        for n in range(600)
        for k, message in enumerate(completed_call(f"m{n}@x", n, pad))
    ]
    path = write_timed_pcap(tmp_path / "calls.pcap", frames)
    tracemalloc.start()
    try:
        capture = Capture(path)
        calls = list(capture.correlation.calls)
        kept = tracemalloc.get_traced_memory()[0]
        del capture
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = stream_calls(path, workers=1)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert [c.state.value for c in calls] == ["completed"] * 600
    assert result.calls == calls
    assert kept > 600 * 30_000
    assert peak < kept / 10, (peak, kept)


def test_correlator_without_messages_gives_the_same_records() -> None:
    capture = Capture(str(ROOT / "samples" / "ims-tom-jerry.pcapng"))
    full = Correlator()
    lean = Correlator(keep_messages=False)
    for message in capture.records:
        full.feed(message)
        lean.feed(message)
    with_messages, without = full.finish(), lean.finish()
    assert without.calls == with_messages.calls
    assert without.transactions == with_messages.transactions
    assert without.dialogs == with_messages.dialogs
    assert without.links == with_messages.links
    assert with_messages.registrations and not without.registrations  # they need messages
    only_calls = Correlator(calls_only=True)
    for message in capture.records:
        only_calls.feed(message)
    assert only_calls.finish_calls() == list(with_messages.calls)
    with pytest.raises(RuntimeError):
        only_calls.feed(capture.records[0])
    with pytest.raises(RuntimeError):
        only_calls.finish()  # it kept too little for the other records
    every_link = Correlator(keep_messages=False)
    for message in capture.records:
        every_link.feed(message)
    assert every_link.finish_calls() == list(with_messages.calls)


def test_default_workers(tmp_path: Path) -> None:
    small = tmp_path / "small.pcap"
    small.write_bytes(b"x" * 100)
    assert default_workers([str(small)]) == 1
    assert default_workers(["-"]) == 1
    assert default_workers([str(tmp_path / "missing.pcap")]) == 1
    big = tmp_path / "big.pcap"
    with big.open("wb") as f:
        f.truncate(PARALLEL_MIN_BYTES)
    import os

    assert default_workers([str(big)]) == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("sample", ["ims-tom-jerry.pcapng", "busy.pcap"])
def test_calls_command_same_output_with_any_jobs(sample: str) -> None:
    from click.testing import CliRunner

    from sipladder.cli import cli

    path = str(ROOT / "samples" / sample)
    outputs = set()
    for jobs in ([], ["--jobs", "1"], ["-j", "2"], ["-j", "3"]):
        result = CliRunner().invoke(cli, ["calls", path, "--format", "json", *jobs])
        assert result.exit_code == 0, result.output
        outputs.add(result.stdout)
    assert len(outputs) == 1, outputs
    (output,) = outputs
    assert json.loads(output)  # the calls are there
    result = CliRunner().invoke(cli, ["calls", path, "--jobs", "0"])
    assert result.exit_code == 2 and "--jobs" in result.output


def test_progress_line_one_and_several_workers(tmp_path: Path) -> None:
    # 5,000 frames: the line is redrawn every 4,096. With workers, worker 0 draws it on the
    # inherited file descriptor, with the messages and calls all workers counted so far.
    from sipladder.progress import Progress

    messages = []
    for n in range(2500):
        messages += [invite(f"p{n}@x", f"z9hG4bKp{n}"), ringing(f"p{n}@x", f"z9hG4bKp{n}")]
    path = capture_of(tmp_path, messages)
    for workers in (1, 2):
        log = tmp_path / f"progress-{workers}.txt"
        with log.open("w") as stream:
            progress = Progress(stream=stream, enabled=True, delay=0, interval=0)
            result = stream_calls(path, workers=workers, progress=progress)
        assert result.workers == workers
        text = log.read_bytes().decode()
        assert "sipladder: 4,096 packets" in text
        shown = re.search(r"4,096 packets, ([0-9,]+) SIP messages, ([0-9,]+) calls", text)
        assert shown is not None, text
        messages, calls = (int(n.replace(",", "")) for n in shown.groups())
        # each worker writes its counts every 1,024 messages it keeps (and at its end):
        # by its 4,096th packet, worker 0 has kept about half of 4,095 messages, so it has
        # written at least once; the other worker may be anywhere, even done; the sums
        # never exceed the capture's 5,000 messages and 2,500 calls
        assert 1_024 <= messages <= 5_000 and 512 <= calls <= 2_500, text
        assert text.endswith("\r\x1b[K")  # erased at the end
