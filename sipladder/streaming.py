"""Calls straight from the capture: memory bounded by the calls, and every core at work.

``sipladder calls`` needs of each message only what correlation learns from it, and
neither the parsed messages afterwards nor the registrations. This path reads the
capture once and lets each message go once it is correlated. A call never spans
Call-IDs (RFC 3261 section 8.1.1.4), so each Call-ID is correlated by a
:class:`~sipladder.correlate.Correlator` of its own (:class:`CallsByCallId`), which is
dropped, its call's record kept, once the call has ended and the Call-ID has been quiet
for a while: memory holds the calls in progress and the finished calls' records, not
the capture (the :class:`~sipladder.capture.Capture` keeps every message, for ladders
and the message table).

With several workers (processes forked from this one, one per core), each reads and
decodes the whole capture but parses and correlates only the messages of its share of
the Call-IDs (:mod:`sipladder.sip.skim`), and sends its finished calls to the parent as
it goes. The parent renumbers transactions, dialogs and messages as one correlator
numbers them (each id is given in order of the message that created the record, so the
rank of that message among all shares' is the id) and puts the calls in capture order.

Correlating per Call-ID is exact unless something links Call-IDs: a message without
Call-ID; a transaction key (top-Via branch, sent-by, method: RFC 3261 section 17.2.3
matches by branch, not by Call-ID) created, or sought by a response, CANCEL or ACK,
under two Call-IDs; a message for a Call-ID already dropped; or, between workers, a
Call-ID hint that the parser contradicts. Each is detected, and the capture is then read
again by one correlator over everything: the result is always what that one correlator
gives (tests compare the two on every capture of the test data).
"""

from __future__ import annotations

import bisect
import gc
import heapq
import operator
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sipladder.correlate import Correlator
from sipladder.correlate.transactions import TransactionKey, key_for_method, transaction_key
from sipladder.errors import CaptureError, SipLadderError
from sipladder.model import (
    Call,
    Diagnostic,
    DialogState,
    Message,
    MessageKind,
    TransactionState,
    fast_constructor,
)
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
    #: with a :class:`CallText`: each call's text, in the order of ``calls`` (then empty)
    texts: list[str] | None = None


class CallIds(NamedTuple):
    """A call's dialog and transaction ids as one correlator numbers them (what
    :attr:`CallText.tail` is given)."""

    dialogs: list[int]
    transactions: list[int]


@dataclass(frozen=True)
class CallText:
    """Each call written as text (the JSON object ``calls`` writes of it) while the calls
    are being correlated, so that with several workers they do most of the writing, in
    parallel, instead of the parent after they have all ended.

    ``head(call)`` writes what a worker's own record tells, and must not read the ids a
    worker numbers its own way (``dialogs``, ``transactions``, ``invite``, ``bye``,
    ``messages``; how many there are, it may). ``tail(ids)`` writes the rest from the
    :class:`CallIds` as one correlator gives them; the call's text is ``head(call) +
    tail(ids)``."""

    head: Callable[[Call], str]
    tail: Callable[[CallIds], str]


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
    text: CallText | None = None,
) -> CallsResult:
    """The calls of one capture or several (merged by time), as ``Capture(paths).correlation
    .calls`` gives them, without keeping the messages; ``workers`` processes (default:
    :func:`default_workers`); with ``text``, each call's text instead (``texts``). Raises
    :class:`~sipladder.errors.CaptureError` for a file that cannot be read at all."""
    paths = (paths,) if isinstance(paths, str) else tuple(paths)
    count = default_workers(paths) if workers is None else max(1, workers)
    if count > 1 and "fork" in _start_methods() and "-" not in paths:
        result = _parallel(paths, count, progress, text)
        if result is not None:
            return result
        # the split was inexact: what linked the Call-IDs would usually make a reading per
        # Call-ID inexact too
        return _written(_single(paths, progress, by_call_id=False), text)
    return _written(_single(paths, progress), text)


def _written(result: CallsResult, text: CallText | None) -> CallsResult:
    """``result`` with its calls as ``text`` writes them (when given)."""
    if text is not None:
        head, tail = text.head, text.tail
        result.texts = [
            head(call) + tail(CallIds(list(call.dialogs), list(call.transactions)))
            for call in result.calls
        ]
        result.calls = []
    return result


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


# --------------------------------------------------------------------------- per Call-ID

#: How long a Call-ID must have been quiet, after its call ended, before its state is
#: dropped: twice T2 (RFC 3261 section 17.1.2.2: T2 = 4 s is the longest interval between
#: two retransmissions, of a request whose response was lost or of a 2xx waiting for its
#: ACK, 13.3.1.4), so a peer still retransmitting is heard within it. Also how often an
#: unfinished Call-ID is looked at again. A message for a dropped Call-ID is caught and the
#: capture read again with one correlator (:attr:`CallsByCallId.exact`).
QUIET_NS = 8_000_000_000

#: Transaction states after which nothing more is expected but retransmissions.
_TX_ENDED = frozenset({TransactionState.COMPLETED, TransactionState.CONFIRMED,
                       TransactionState.TERMINATED})  # fmt: skip

#: Capture time between two looks for ended calls.
_SWEEP_NS = 1_000_000_000


class _Open(Correlator):
    """One Call-ID being correlated: a correlator of its own (``calls_only``), with the ids
    its records have in the whole stream (given in order of creation, as one correlator
    would give them). (A subclass rather than a record holding a correlator: one object
    less to make and free per Call-ID.)"""

    __slots__ = ("serial", "transaction_ids", "dialog_ids", "last_ns")

    def __init__(self, serial: int) -> None:
        Correlator.__init__(self, calls_only=True)
        self.serial = serial
        self.transaction_ids: list[int] = []  #: by local id
        self.dialog_ids: list[int] = []
        self.last_ns = 0


class CallsByCallId:
    """Correlates each Call-ID with a correlator of its own, and drops that correlator once
    its call has ended (every transaction answered, every dialog terminated) and the Call-ID
    has been quiet for ``quiet_ns``: memory holds the calls in progress and the finished
    Call records, whatever the length of the capture.

    The result equals one :class:`~sipladder.correlate.Correlator`'s ``calls`` unless a
    message links Call-IDs, which one correlator would see and this cannot: a message
    without Call-ID, a transaction key (RFC 3261 17.2.3: branch, sent-by, method; not the
    Call-ID) created under two Call-IDs or sought by a response, CANCEL or ACK under
    another than its own, or a message for a Call-ID whose state was dropped.
    Then :attr:`exact` turns False and the caller must read the capture again with one
    correlator; :attr:`created_keys` and :attr:`looked_up_keys` let a parent check the
    same across workers.
    """

    def __init__(
        self, quiet_ns: int = QUIET_NS, on_call: Callable[[Call], None] | None = None
    ) -> None:
        self.quiet_ns = quiet_ns
        #: where finished calls go as they are closed (else kept in :attr:`calls`)
        self.on_call = on_call
        self.exact = True
        self.calls: list[Call] = []
        self.created_transactions: list[int] = []  #: Message.index that created each id
        self.created_dialogs: list[int] = []
        self.created_keys: dict[int, int] = {}  #: hash(transaction key) -> serial of its owner
        self.looked_up_keys: set[int] = set()  #: hash of keys sought but not found
        self._open: dict[str, _Open] = {}  # least recently active first
        self._done: dict[str, bool] = {}  # Call-ID dropped -> whether it was a call
        self._serials = 0
        self._next_sweep = 0

    def feed(self, message: Message) -> None:
        sip = message.sip
        call_id = sip.call_id
        if call_id is None:
            self.exact = False  # may belong to a transaction of any Call-ID (by branch)
            return
        entry = self._open.pop(call_id, None)
        if entry is None:
            was_call = self._done.get(call_id)
            if was_call or (was_call is not None and sip.method == "INVITE"):
                self.exact = False  # its call record is out already, or would change
                return
            self._serials += 1
            entry = _Open(self._serials)
        self._open[call_id] = entry  # (again) the most recently active
        now = entry.last_ns = message.ts_ns
        if now >= self._next_sweep:
            self._next_sweep = now + _SWEEP_NS
            self._sweep(now)
        tx_id, dialog, _ = entry.feed(message)
        # a correlator numbers its records 0, 1, 2...: a new one has the next number
        if tx_id is not None:
            ids = entry.transaction_ids
            if tx_id == len(ids):
                created_transactions = self.created_transactions
                ids.append(len(created_transactions))
                created_transactions.append(message.index)
                created = entry.transaction_builders[tx_id]
                serial = entry.serial
                if self.created_keys.setdefault(hash(created.key), serial) != serial:
                    self.exact = False  # the same key under another Call-ID
                method = created.method
                if (method == "CANCEL" and created.cancels is None) or method == "ACK":
                    self._looked_up(key_for_method(created.key, "INVITE"), entry)
        elif sip.kind is not _REQUEST:  # a response without transaction: the key it sought
            found = transaction_key(sip, sip.cseq_method or "?")
            self._looked_up(None if found is None else found[0], entry)
        if dialog is not None:
            ids = entry.dialog_ids
            if dialog == len(ids):
                ids.append(len(self.created_dialogs))
                self.created_dialogs.append(message.index)

    def _looked_up(self, found: TransactionKey | None, entry: _Open) -> None:
        """A key this Call-ID sought and did not find (a response's transaction, the INVITE
        of a CANCEL or of an ACK): under another Call-ID, one correlator would find it."""
        if found is None:
            return
        key = hash(found)
        self.looked_up_keys.add(key)
        if self.created_keys.get(key, entry.serial) != entry.serial:
            self.exact = False

    def _sweep(self, now_ns: int) -> None:
        """Drop the Call-IDs quiet for ``quiet_ns`` whose call has ended; look at the others
        again after another ``quiet_ns``."""
        limit = now_ns - self.quiet_ns
        opened = self._open
        while opened:
            call_id = next(iter(opened))
            entry = opened[call_id]
            if entry.last_ns > limit:
                break
            del opened[call_id]
            if _ended(entry):
                self._close(call_id, entry)
            else:
                entry.last_ns = now_ns
                opened[call_id] = entry

    def _close(self, call_id: str, entry: _Open) -> None:
        calls = (
            entry.finish_calls(entry.transaction_ids, entry.dialog_ids)
            if entry.has_calls
            else []
        )
        self._done[call_id] = bool(calls)
        emit = self.on_call or self.calls.append
        for call in calls:
            emit(call)

    def finish(self) -> list[Call]:
        """Every call, in order of its Call-ID's first message (as one correlator lists them);
        with ``on_call``, the calls not yet given to it are given and the list is empty."""
        for call_id, entry in self._open.items():
            self._close(call_id, entry)
        self._open.clear()
        self.calls.sort(key=lambda call: call.messages[0])
        return self.calls


def _ended(correlator: Correlator) -> bool:
    for tx in correlator.transaction_builders:
        if tx.state not in _TX_ENDED:
            return False
    for dialog in correlator.dialog_builders:
        if dialog.state is not _TERMINATED:
            return False
    return True


_TERMINATED = DialogState.TERMINATED
_REQUEST = MessageKind.REQUEST


# --------------------------------------------------------------------------- one process


def _single(
    paths: Sequence[str], progress: Progress | None, by_call_id: bool = True
) -> CallsResult:
    """One process: per Call-ID (dropping ended calls), or, when that turns out inexact
    (or ``by_call_id`` is False), one correlator over everything."""
    diagnostics: list[Diagnostic] = []
    counters = Counters()

    def report(diagnostic: Diagnostic) -> None:
        diagnostics.append(diagnostic)
        counters.diagnostics[diagnostic.code] = counters.diagnostics.get(diagnostic.code, 0) + 1

    correlator = CallsByCallId() if by_call_id else Correlator(calls_only=True)
    first: int | None = None
    with without_cyclic_gc():
        frames = read_frames(paths, report)
        for message in tracked_messages(frames, report, counters, progress):
            if first is None:
                first = message.ts_ns
            correlator.feed(message)
            if isinstance(correlator, CallsByCallId) and not correlator.exact:
                break
        if isinstance(correlator, CallsByCallId):
            if not correlator.exact:
                return _single(paths, progress, by_call_id=False)
            calls = correlator.finish()
        else:
            calls = correlator.finish_calls()
    return CallsResult(calls, diagnostics, counters, first, 1)


# --------------------------------------------------------------------------- workers


@dataclass
class _Part:
    """What one worker sends back (pickled) after its calls: the positions (in the whole
    capture's SIP message stream) that renumber their ids, and what the parent checks."""

    created_transactions: list[int] = field(default_factory=list)  #: by the part's id
    created_dialogs: list[int] = field(default_factory=list)  #: by the part's id
    kept: int = 0  #: messages correlated
    unparsable: list[int] = field(default_factory=list)  #: positions of those not parsed
    created_keys: set[int] = field(default_factory=set)  #: hash() of each transaction key
    looked_up_keys: set[int] = field(default_factory=set)  #: and of keys sought in vain
    diagnostics: list[tuple[int, int, Diagnostic]] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)
    first: tuple[int, int] | None = None  #: (position, time) of its first message
    exact: bool = True


def _work(
    paths: Sequence[str],
    shard: Shard,
    progress: Progress | None,
    on_call: Callable[[Call], None],
    shown: Any = None,
) -> _Part:
    """One worker's share: its calls go to ``on_call`` (ids its own) as they end. With
    ``shown`` (an array shared by the workers, two slots each), the worker writes there,
    now and then, how many messages it kept and how many of its Call-IDs carried an
    INVITE, for the progress line that worker 0 draws."""
    part = _Part()
    invites: set[str] = set()  # (only counted for ``shown``)
    slot = 2 * shard.number
    counters = part.counters
    diagnostics = part.diagnostics

    def report(diagnostic: Diagnostic) -> None:
        # where in the stream, so the parent can merge the workers' lists in capture order
        diagnostics.append((counters.frames, counters.payloads, diagnostic))

    correlator = CallsByCallId(on_call=on_call)
    number, count = shard.number, shard.count
    # what the reader finds (a file cut short, the clock going back) worker 0 reports
    frames = read_frames(paths, report if number == 0 else _ignore)
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
        part.kept += 1
        correlator.feed(message)
        if not correlator.exact:
            part.exact = False
            return part
        if shown is not None:
            if message.sip.method == "INVITE":
                invites.add(call_id)
            if not part.kept & _SHOW_MASK:
                shown[slot], shown[slot + 1] = part.kept, len(invites)
    if shown is not None:
        shown[slot], shown[slot + 1] = part.kept, len(invites)
    correlator.finish()  # the calls still open go to on_call
    part.unparsable = shard.unparsable
    part.created_transactions = correlator.created_transactions
    part.created_dialogs = correlator.created_dialogs
    part.created_keys = set(correlator.created_keys)
    part.looked_up_keys = correlator.looked_up_keys
    return part


#: Messages a worker keeps between two updates of its counts for the progress line.
_SHOW_MASK = 0x3FF


def _ignore(diagnostic: Diagnostic) -> None:
    """Worker 0 reports these."""


def _child(
    paths: Sequence[str],
    shard: Shard,
    progress: Progress | None,
    send_bytes: Callable[[bytes], None],
    shown: Any = None,
    text: CallText | None = None,
) -> None:
    """A worker process's body. It sends, tagged: batches of finished calls as they come
    (b"C", so that the worker never holds them all), then its part (b"P"); or its error
    (b"E"). A call is sent as the tuple of its fields, or with ``text`` as its first
    message's position, its head and its ids."""
    batch: list[tuple[Any, ...]] = []
    head = None if text is None else text.head

    def flush() -> None:
        if batch:
            send_bytes(b"C" + pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
            batch.clear()

    def on_call(call: Call) -> None:
        if head is None:
            batch.append(_call_fields(call))
        else:
            batch.append((call.messages[0], head(call), call.dialogs, call.transactions))
        if len(batch) >= _BATCH:
            flush()

    # The cyclic collector stays off for the worker's whole life (see
    # pipeline.without_cyclic_gc), to its end: turned on again, it would at the next
    # allocation walk every object made meanwhile (they are all still in its youngest
    # generation), 0.3 s for a worker's share of 240k messages, for nothing, since the
    # process ends right after (os._exit in multiprocessing).
    gc.disable()
    try:
        part = _work(paths, shard, progress, on_call, shown)
        flush()
        send_bytes(b"P" + pickle.dumps(part, pickle.HIGHEST_PROTOCOL))
    except CaptureError as exc:
        send_bytes(b"E" + pickle.dumps(("capture-error", (exc.file, exc.reason, exc.frame))))
    except SipLadderError as exc:
        send_bytes(b"E" + pickle.dumps(("error", str(exc))))
    except BaseException:  # noqa: BLE001 - anything else is a bug: show it in the parent
        send_bytes(b"E" + pickle.dumps(("bug", traceback.format_exc())))


#: Calls per message from a worker to the parent.
_BATCH = 1024

# A call travels from a worker to the parent as the tuple of its fields, in order: a
# frozen slotted dataclass pickles through Python-level __getstate__ and __setstate__
# (the latter one object.__setattr__ per field), 7 us a call to unpickle; a tuple of
# plain values costs a fraction of that, and the parent builds each Call once, with its
# ids renumbered, positionally.
_CALL_FIELDS = tuple(Call.__dataclass_fields__)
_call_fields = operator.attrgetter(*_CALL_FIELDS)
_new_call = fast_constructor(Call)
_new_ids = tuple.__new__  # CallIds(...) without the named tuple's Python __new__
_FIRST = operator.itemgetter(0)
_MESSAGES, _DIALOGS, _TRANSACTIONS, _INVITE, _BYE = (
    _CALL_FIELDS.index(name) for name in ("messages", "dialogs", "transactions", "invite", "bye")
)


def _parallel(
    paths: Sequence[str], count: int, progress: Progress | None, text: CallText | None
) -> CallsResult | None:
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
    shown = None
    if progress is not None and progress.enabled:
        # Worker 0 draws the progress line: packets and bytes are its own (every worker
        # reads everything), messages and calls the sums of what each worker writes in
        # its two slots of this shared array (a worker's own counts are a share's).
        counts = shown = context.RawArray("q", 2 * count)
        progress.messages = lambda: sum(counts[0::2])
        progress.calls = lambda: sum(counts[1::2])
    for number in range(count):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=_child,
            args=(
                paths,
                Shard(number, count),
                progress if number == 0 else None,
                send.send_bytes,
                shown,
                text,
            ),
            daemon=True,
        )
        process.start()
        send.close()
        pipes.append(receive)
        processes.append(process)
    try:
        parts, batches = _receive(pipes)
        if not all(part.exact for part in parts) or _keys_shared(parts):
            return None
        calls: list[Call] = []
        texts: list[tuple[int, str]] = []
        # the tens of thousands of records made here live on: the collector would walk
        # them again and again as they accumulate, for nothing (no cycles)
        with without_cyclic_gc():
            renumber = _Renumbering(parts)
            for number, pickled in enumerate(batches):
                while pickled:  # each batch unpickled, renumbered and let go in turn
                    batch = pickle.loads(pickled.pop())
                    if text is None:
                        calls += renumber.calls(number, batch)
                    else:
                        texts += renumber.texts(number, batch, text.tail)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # not needed any more (an error, or an inexact split)
            process.join()
    result = renumber.result(parts, calls)
    if text is not None:
        # a single correlator lists calls in order of their Call-ID's first message
        texts.sort(key=_FIRST)
        result.texts = [written for _, written in texts]
    return result


def _receive(pipes: Sequence[Any]) -> tuple[list[_Part], list[list[bytes]]]:
    """Every worker's part, and its batches of calls still pickled (a third of their size as
    records), read as they come from whichever worker sends; a worker's error raised here."""
    from multiprocessing.connection import wait

    parts: list[_Part | None] = [None] * len(pipes)
    batches: list[list[bytes]] = [[] for _ in pipes]
    waiting = {pipe: number for number, pipe in enumerate(pipes)}
    while waiting:
        for pipe in wait(list(waiting)):
            number = waiting[pipe]  # type: ignore[index]
            try:
                data = pipe.recv_bytes()  # type: ignore[union-attr]
            except EOFError:
                raise RuntimeError("a sipladder worker process ended without an answer") from None
            tag, body = data[:1], data[1:]
            if tag == b"C":
                batches[number].append(body)
            elif tag == b"P":
                parts[number] = pickle.loads(body)
                del waiting[pipe]  # type: ignore[arg-type]
            else:
                kind, value = pickle.loads(body)
                if kind == "capture-error":
                    raise CaptureError(*value)
                if kind == "error":
                    raise SipLadderError(value)
                raise RuntimeError(f"sipladder worker failed:\n{value}")
    return [part for part in parts if part is not None], batches


def _keys_shared(parts: Sequence[_Part]) -> bool:
    """Whether a transaction key was created in two parts, or sought in vain in one and
    created in another: one correlator would have linked the two Call-IDs."""
    for number, part in enumerate(parts):
        for other in parts[number + 1 :]:
            if not part.created_keys.isdisjoint(other.created_keys):
                return True
        for other in parts:
            if other is not part and not part.looked_up_keys.isdisjoint(other.created_keys):
                return True
    return False


def _ranks(lists: Sequence[Sequence[int]]) -> dict[int, int]:
    """Each position's rank among all of them (the positions are distinct)."""
    return {position: rank for rank, position in enumerate(sorted(p for x in lists for p in x))}


class _Renumbering:
    """Ids as one correlator gives them, from the parts' positions of creating messages."""

    def __init__(self, parts: Sequence[_Part]) -> None:
        # positions count every SIP-looking message, Message.index only those parsed
        self.unparsable = sorted(p for part in parts for p in part.unparsable)
        transaction_rank = _ranks([part.created_transactions for part in parts])
        dialog_rank = _ranks([part.created_dialogs for part in parts])
        # by part, then by the part's own id: the id one correlator gives (one list index
        # per id in :meth:`calls` instead of a list index and a dict lookup)
        self.transaction_ids = [
            [transaction_rank[p] for p in part.created_transactions] for part in parts
        ]
        self.dialog_ids = [[dialog_rank[p] for p in part.created_dialogs] for part in parts]

    def calls(self, number: int, batch: Sequence[tuple[Any, ...]]) -> list[Call]:
        """The calls whose fields (in order, ids the part's own) worker ``number`` sent in
        one batch. (Done by batch, with the lookups bound once: it runs for every call
        after the workers have finished, when the parent's time adds to the wall time.)"""
        transaction_id = self.transaction_ids[number].__getitem__
        dialog_id = self.dialog_ids[number].__getitem__
        unparsable = self.unparsable
        calls = []
        for fields in batch:
            values = list(fields)
            if unparsable:
                values[_MESSAGES] = tuple(
                    [p - bisect.bisect(unparsable, p) for p in fields[_MESSAGES]]
                )
            values[_TRANSACTIONS] = tuple(map(transaction_id, fields[_TRANSACTIONS]))
            values[_DIALOGS] = tuple(map(dialog_id, fields[_DIALOGS]))
            invite, bye = fields[_INVITE], fields[_BYE]
            if invite is not None:
                values[_INVITE] = transaction_id(invite)
            if bye is not None:
                values[_BYE] = transaction_id(bye)
            calls.append(_new_call(*values))
        return calls

    def texts(
        self, number: int, batch: Sequence[tuple[Any, ...]], tail: Callable[[CallIds], str]
    ) -> list[tuple[int, str]]:
        """Each call's text (a worker's head, the tail from its ids as one correlator gives
        them) with the position of its first message, of the calls worker ``number`` sent
        in one batch with a :class:`CallText`."""
        transaction_id = self.transaction_ids[number].__getitem__
        dialog_id = self.dialog_ids[number].__getitem__
        return [
            (first, head + tail(_new_ids(CallIds, (list(map(dialog_id, dialogs)),
                                                   list(map(transaction_id, transactions))))))
            for first, head, dialogs, transactions in batch
        ]  # fmt: skip

    def result(self, parts: Sequence[_Part], calls: list[Call]) -> CallsResult:
        # a single correlator lists calls in order of their Call-ID's first message
        calls.sort(key=lambda call: call.messages[0])
        lead = parts[0].counters
        counters = Counters(
            frames=lead.frames,
            payloads=lead.payloads,
            sip_messages=sum(part.kept for part in parts),
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
            counters.diagnostics[diagnostic.code] = (
                counters.diagnostics.get(diagnostic.code, 0) + 1
            )
        firsts = [part.first for part in parts if part.first is not None]
        first = min(firsts)[1] if firsts else None
        return CallsResult(calls, diagnostics, counters, first, len(parts))
