"""Calls straight from the capture: memory bounded by the calls, and every core at work.

``sipladder calls`` needs of each message only what correlation learns from it, and
neither the parsed messages afterwards nor the registrations. This path reads the
capture once, feeds each message to a :class:`~sipladder.correlate.Correlator` that keeps
no messages, and lets the message go: memory grows with the calls and transactions,
not with the capture's bytes (the :class:`~sipladder.capture.Capture` keeps every
message, for the ladders and the message table).

With several workers (processes forked from this one, one per core), each reads and
decodes the whole capture but parses and correlates only the messages of its part of
the Call-IDs (:mod:`sipladder.sip.skim`). A call never spans Call-IDs (RFC 3261
section 8.1.1.4), so the parts are independent. The parent puts the calls back in
capture order and renumbers transactions, dialogs and messages as a single correlator
numbers them: each id is given in order of the message that created the record, so the
rank of that message among all parts' is the id.

The split is exact when every Call-ID hint agrees with the part of the parsed Call-ID,
every message has a Call-ID, and no transaction key (top-Via branch, sent-by, method)
occurs in two parts: RFC 3261 section 17.2.3 matches transactions by branch, not by
Call-ID, so a UA that reuses a branch in another call links the two. A worker that sees
otherwise says so, and the capture is then read again by one process: the result is
always what one correlator over the whole capture gives (tests compare the two on every
capture of the test data).
"""

from __future__ import annotations

import heapq
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sipladder.correlate import Correlator
from sipladder.errors import CaptureError, SipLadderError
from sipladder.model import Call, Diagnostic
from sipladder.pipeline import Counters, Shard, tracked_messages, without_cyclic_gc
from sipladder.progress import Progress
from sipladder.readers import read_frames
from sipladder.sip.skim import call_id_hint, shard_of

#: Below this many bytes of capture, one process does it all: starting workers would
#: cost more than it saves.
PARALLEL_MIN_BYTES = 8 * 1024 * 1024


@dataclass
class CallsResult:
    """The calls of a capture, with what reading it reported."""

    calls: list[Call]
    diagnostics: list[Diagnostic]
    counters: Counters
    first_ns: int | None  #: time of the first SIP message (relative --since/--until)
    workers: int  #: processes that did the work (1 also after an inexact split)


def default_workers(paths: Sequence[str]) -> int:
    """One worker per core available to us, for plain files large enough to pay; else 1."""
    if any(path == "-" for path in paths):
        return 1  # standard input can be read only once
    try:
        size = sum(os.path.getsize(path) for path in paths)
    except OSError:
        return 1  # the reader will say what is wrong with the file
    if size < PARALLEL_MIN_BYTES:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, cores)


def stream_calls(
    paths: str | Sequence[str],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> CallsResult:
    """The calls of one capture or several (merged by time), as ``Capture(paths).correlation
    .calls`` gives them, without keeping the messages; ``workers`` processes (default:
    :func:`default_workers`). Raises :class:`~sipladder.errors.CaptureError` for a file
    that cannot be read at all."""
    paths = (paths,) if isinstance(paths, str) else tuple(paths)
    count = default_workers(paths) if workers is None else max(1, workers)
    if count > 1 and "fork" in _start_methods() and "-" not in paths:
        result = _parallel(paths, count, progress)
        if result is not None:
            return result
    return _single(paths, progress)


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


# --------------------------------------------------------------------------- one process


def _single(paths: Sequence[str], progress: Progress | None) -> CallsResult:
    diagnostics: list[Diagnostic] = []
    counters = Counters()

    def report(diagnostic: Diagnostic) -> None:
        diagnostics.append(diagnostic)
        counters.diagnostics[diagnostic.code] = counters.diagnostics.get(diagnostic.code, 0) + 1

    correlator = Correlator(keep_messages=False)
    first: int | None = None
    with without_cyclic_gc():
        frames = read_frames(paths, report)
        for message in tracked_messages(frames, report, counters, progress):
            if first is None:
                first = message.ts_ns
            correlator.feed(message)
        calls = correlator.finish_calls()
    return CallsResult(calls, diagnostics, counters, first, 1)


# --------------------------------------------------------------------------- workers


@dataclass
class _Part:
    """What one worker sends back (pickled): its calls with ids local to it, and the
    positions (in the whole capture's SIP message stream) that renumber them."""

    calls: list[Call] = field(default_factory=list)
    created_transactions: list[int] = field(default_factory=list)  #: by local id
    created_dialogs: list[int] = field(default_factory=list)  #: by local id
    kept: list[int] = field(default_factory=list)  #: positions of the messages correlated
    key_hashes: set[int] = field(default_factory=set)  #: hash() of each transaction key
    diagnostics: list[tuple[int, int, Diagnostic]] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)
    first: tuple[int, int] | None = None  #: (position, time) of its first message
    exact: bool = True


def _work(paths: Sequence[str], shard: Shard, progress: Progress | None) -> _Part:
    part = _Part()
    counters = part.counters
    diagnostics = part.diagnostics

    def report(diagnostic: Diagnostic) -> None:
        # where in the stream, so the parent can merge the workers' lists in capture order
        diagnostics.append((counters.frames, counters.payloads, diagnostic))

    correlator = Correlator(keep_messages=False)
    kept = part.kept
    number, count = shard.number, shard.count
    frames = read_frames(paths, report)
    for message in tracked_messages(frames, report, counters, progress, shard=shard):
        call_id = message.sip.call_id
        if call_id is None:
            part.exact = False  # may belong to a transaction of any part (by branch)
            return part
        if shard_of(call_id, count) != number:
            if call_id_hint(message.sip.raw) is not None:
                part.exact = False  # the hint sent it here, its Call-ID elsewhere
                return part
            continue  # parsed by every worker for want of a hint: another one's
        if part.first is None:
            part.first = (message.index, message.ts_ns)
        kept.append(message.index)
        correlator.feed(message)
    part.calls = correlator.finish_calls()
    part.created_transactions = [b.messages[0] for b in correlator.transaction_builders]
    part.created_dialogs = [b.messages[0] for b in correlator.dialog_builders]
    part.key_hashes = {hash(key) for key in correlator.transaction_keys}
    return part


def _child(
    paths: Sequence[str], shard: Shard, progress: Progress | None, send: Callable[[Any], None]
) -> None:
    """A worker process's body: the part, or the error, sent back to the parent."""
    try:
        with without_cyclic_gc():
            part = _work(paths, shard, progress)
        send(("part", part))
    except CaptureError as exc:
        send(("capture-error", (exc.file, exc.reason, exc.frame)))
    except SipLadderError as exc:
        send(("error", str(exc)))
    except BaseException:  # noqa: BLE001 - anything else is a bug: show it in the parent
        send(("bug", traceback.format_exc()))


def _parallel(paths: Sequence[str], count: int, progress: Progress | None) -> CallsResult | None:
    """The calls by ``count`` workers, or None when the split turned out inexact."""
    import multiprocessing

    # Fail on an unreadable file here, once, with the reader's own error (a worker's
    # would come back only as text); the frames are not read.
    read_frames(paths, lambda diagnostic: None)
    context = multiprocessing.get_context("fork")
    sys.stdout.flush()
    sys.stderr.flush()
    pipes = []
    processes = []
    for number in range(count):
        receive, send = context.Pipe(duplex=False)
        # Only worker 0 draws the progress line (packets and bytes: it reads everything;
        # its own message and call counts would be a part's, so they are not shown).
        shown = progress if number == 0 else None
        process = context.Process(
            target=_child, args=(paths, Shard(number, count), shown, send.send), daemon=True
        )
        process.start()
        send.close()
        pipes.append(receive)
        processes.append(process)
    answers = []
    try:
        for receive in pipes:
            try:
                answers.append(receive.recv())
            except EOFError:
                answers.append(("bug", "a worker process ended without an answer"))
    finally:
        for process in processes:
            process.join()
    parts: list[_Part] = []
    for kind, value in answers:
        if kind == "capture-error":
            raise CaptureError(*value)
        if kind == "error":
            raise SipLadderError(value)
        if kind == "bug":
            raise RuntimeError(f"sipladder worker failed:\n{value}")
        parts.append(value)
    if not all(part.exact for part in parts) or _keys_shared(parts):
        return None
    return _merge(parts)


def _keys_shared(parts: Sequence[_Part]) -> bool:
    seen: set[int] = set()
    for part in parts:
        if not seen.isdisjoint(part.key_hashes):
            return True
        seen |= part.key_hashes
    return False


def _ranks(lists: Sequence[Sequence[int]]) -> dict[int, int]:
    """Each position's rank among all of them (the positions are distinct)."""
    return {position: rank for rank, position in enumerate(sorted(p for x in lists for p in x))}


def _merge(parts: Sequence[_Part]) -> CallsResult:
    message_rank = _ranks([part.kept for part in parts])
    transaction_rank = _ranks([part.created_transactions for part in parts])
    dialog_rank = _ranks([part.created_dialogs for part in parts])
    calls: list[Call] = []
    for part in parts:
        created_tx = part.created_transactions
        created_dialog = part.created_dialogs

        def tx(local: int | None, created_tx: list[int] = created_tx) -> int | None:
            return None if local is None else transaction_rank[created_tx[local]]

        for call in part.calls:
            calls.append(
                replace(
                    call,
                    messages=tuple(message_rank[p] for p in call.messages),
                    transactions=tuple(transaction_rank[created_tx[t]] for t in call.transactions),
                    dialogs=tuple(dialog_rank[created_dialog[d]] for d in call.dialogs),
                    invite=tx(call.invite),
                    bye=tx(call.bye),
                )
            )
    # a single correlator lists calls in order of their Call-ID's first message
    calls.sort(key=lambda call: call.messages[0])
    lead = parts[0].counters
    counters = Counters(
        frames=lead.frames,
        payloads=lead.payloads,
        sip_messages=len(message_rank),
        non_sip_payloads=lead.non_sip_payloads,
        unparsable=sum(part.counters.unparsable for part in parts),
        ignored=lead.ignored,
        unreadable=lead.unreadable,
    )
    diagnostics = [
        diagnostic
        for _, _, diagnostic in heapq.merge(
            *(part.diagnostics for part in parts), key=lambda entry: (entry[0], entry[1])
        )
    ]
    for diagnostic in diagnostics:
        counters.diagnostics[diagnostic.code] = counters.diagnostics.get(diagnostic.code, 0) + 1
    firsts = [part.first for part in parts if part.first is not None]
    first = min(firsts)[1] if firsts else None
    return CallsResult(calls, diagnostics, counters, first, len(parts))
