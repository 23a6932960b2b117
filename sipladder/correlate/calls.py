"""Calls: everything of one Call-ID that carries an INVITE, with its outcome and timings.

Messages are gathered per Call-ID while they arrive (one dict lookup each); the call
records are made at the end from the frozen transactions and dialogs, so the state
and timing rules (:mod:`sipladder.analysis.timings`) see the whole call at once.

The call's setup is the initial INVITE as it left the caller (the first hop of the
request in the capture, sent without To tag), followed by the INVITEs that answer a
401/407 challenge to it (same Call-ID, new CSeq). The state, as a table in order of
precedence (first match wins). A Call-ID whose only INVITEs are re-INVITEs (with a To
tag) was set up before the capture began: it counts as answered (completed once a BYE
is seen), with no setup times.

The table of states, in order of precedence (first match wins):

==========  ============================================
state       when
==========  ============================================
completed   a 2xx to the setup, then a BYE
answered    a 2xx to the setup, no BYE in the capture
cancelled   the caller's CANCEL of the setup, and no 2xx
redirected  final response 3xx
rejected    final response 4xx-6xx
incomplete  no final response in the capture
==========  ============================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import TypeVar

from sipladder.analysis.timings import (
    CHALLENGE_ANSWER_WINDOW_NS,
    CHALLENGES,
    TransactionView,
    call_timings,
    to_final,
)
from sipladder.model import Call, CallState, fast_constructor


@dataclass(slots=True)
class CallBuilder:
    call_id: str
    start_ns: int
    end_ns: int
    has_invite: bool = False
    messages: list[int] = field(default_factory=list)
    retransmissions: int = 0
    transactions: dict[int, None] = field(default_factory=dict)  # ordered set
    dialogs: dict[int, None] = field(default_factory=dict)


_Tx = TypeVar("_Tx", bound=TransactionView)


def setup_attempts(transactions: Sequence[_Tx]) -> list[_Tx]:
    """The first-hop INVITEs of the setup: the initial one and those answering its challenges.

    An INVITE answers a 401/407 only when it leaves within 64*T1 (32 s) of it, the same
    window registrations use: a caller who retries a minute later made a new attempt,
    and the minute must not count as post-dial delay."""
    return _challenge_chain(
        [t for t in transactions if t.method == "INVITE" and t.hop == 0 and t.to_tag is None]
    )


def _challenge_chain(initial: list[_Tx]) -> list[_Tx]:
    """Of the first-hop INVITEs without To tag, in order: the first, and each next one
    while it answers its predecessor's challenge (:func:`setup_attempts`)."""
    if len(initial) < 2:
        return initial
    chain: list[_Tx] = []
    for tx in initial:
        if chain:
            previous = chain[-1]
            if previous.final_status not in CHALLENGES or previous.final_ns is None:
                break
            if tx.start_ns - previous.final_ns > CHALLENGE_ANSWER_WINDOW_NS:
                break
        chain.append(tx)
    return chain


def call_state(answered: bool, bye: bool, cancelled: bool, final_status: int | None) -> CallState:
    # (the states as globals: an enum member read from its class costs a Python-level
    # lookup, about four times a whole dict lookup; this runs once per call)
    if answered:
        return _COMPLETED if bye else _ANSWERED
    if cancelled:
        return _CANCELLED
    if final_status is None:
        return _INCOMPLETE
    if 300 <= final_status < 400:
        return _REDIRECTED
    if final_status >= 400:
        return _REJECTED
    return _INCOMPLETE  # pragma: no cover - a 2xx final counts as answered above


_COMPLETED, _ANSWERED, _CANCELLED = CallState.COMPLETED, CallState.ANSWERED, CallState.CANCELLED
_INCOMPLETE, _REDIRECTED, _REJECTED = (
    CallState.INCOMPLETE, CallState.REDIRECTED, CallState.REJECTED
)  # fmt: skip
_new_call = fast_constructor(Call)  # one per call: positional, every field
_request_group = attrgetter("request_group")


def build_call(
    builder: CallBuilder,
    transactions: Sequence[TransactionView],
    transaction_ids: Sequence[int] | None = None,
    dialog_ids: Sequence[int] | None = None,
) -> Call:
    """``transactions``: every transaction of this Call-ID, in order (frozen, or their
    builders). ``transaction_ids``
    and ``dialog_ids``, when given, are the ids the call names its records by, indexed by
    the correlator's own (the streaming path correlates each Call-ID apart and numbers
    the records as one correlator over everything would)."""
    # One pass sorts out what the rules read (a call has a handful of transactions; a
    # filtering pass each cost more than the rest of the call's record).
    initial: list[TransactionView] = []  # first-hop INVITEs without To tag (setup_attempts)
    byes: list[TransactionView] = []  # first-hop BYEs
    cancels: list[TransactionView] = []
    mid: TransactionView | None = None  # the first INVITE (for a call set up before)
    for t in transactions:
        method = t.method
        if method == "INVITE":
            if mid is None:
                mid = t
            if t.hop == 0 and t.to_tag is None:
                initial.append(t)
        elif method == "BYE":
            if t.hop == 0:
                byes.append(t)
        elif method == "CANCEL":
            cancels.append(t)
    attempts = _challenge_chain(initial)
    invite_hops: list[TransactionView] = []  # (without attempts, the timings need none)
    if attempts:
        groups = set(map(_request_group, attempts))
        for t in transactions:  # (a loop: a comprehension is a function call of its own)
            if t.request_group in groups:
                invite_hops.append(t)
    timings = call_timings(attempts, byes, invite_hops)
    # The caller's CANCEL of the setup: linked by branch (section 9.1), or, from a UA that
    # built its CANCEL's Via differently, the same CSeq number sent from the same place.
    cancelled = False
    if cancels:  # (most calls have none: the sets are made only for those that do)
        ids = {t.id for t in attempts}
        sent = {(t.cseq, t.client) for t in attempts}
        cancelled = any(
            t.cancels in ids or (t.cancels is None and (t.cseq, t.client) in sent)
            for t in cancels
        )
    final_status = attempts[-1].final_status if attempts else None
    if timings.answered_at_ns is not None and (final_status is None or final_status >= 300):
        final_status = next(
            s.status for t in attempts for s in t.responses if 200 <= s.status < 300
        )
    first = attempts[0] if attempts else None
    state = call_state(
        timings.answered_at_ns is not None, timings.bye is not None, cancelled, final_status
    )
    if first is None:
        # Only re-INVITEs (requests with a To tag): the call was set up before the capture
        # began. It was answered then; the setup times did not happen in the capture.
        bye = byes[0] if byes else None
        timings = replace(timings, bye=bye, release_ns=None if bye is None else to_final(bye))
        state = _COMPLETED if bye else _ANSWERED
    invite = first.id if first else None
    bye_id = timings.bye.id if timings.bye else None
    # (map over a bound method: a comprehension is a function call of its own, each time)
    if transaction_ids is None:
        tx_ids = tuple(builder.transactions)
    else:
        tx_ids = tuple(map(transaction_ids.__getitem__, builder.transactions))
        invite = None if invite is None else transaction_ids[invite]
        bye_id = None if bye_id is None else transaction_ids[bye_id]
    if dialog_ids is None:
        dialogs = tuple(builder.dialogs)
    else:
        dialogs = tuple(map(dialog_ids.__getitem__, builder.dialogs))
    return _new_call(  # every field of Call, in order
        builder.call_id,
        # caller and callee
        first.from_uri if first else mid.from_uri if mid else None,
        first.to_uri if first else mid.to_uri if mid else None,
        state,
        final_status,
        builder.start_ns,
        builder.end_ns,
        tuple(builder.messages),
        builder.retransmissions,
        timings.pdd_ns,
        timings.answer_ns,
        timings.release_ns,
        timings.duration_ns,
        dialogs,
        tx_ids,  # transactions
        len(attempts) > 1,  # challenged
        invite,
        bye_id,  # bye
    )
