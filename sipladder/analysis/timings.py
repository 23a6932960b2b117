"""The timing definitions, in one place (the README's "Timing definitions" mirrors this file).

Intervals are measured where the originator sees them (the UAC view of RFC 6076):
from the initiating request as first seen leaving its sender (the first hop of the
request in the capture, never a retransmission) to the response as first seen
arriving back at that sender (the same hop). A proxy's 100 Trying, or a response
still travelling on a later hop, belongs to another hop's transaction and so can
never end an interval. Each hop's own times are in the per-hop functions below.

All values are integer nanoseconds; ``None`` means "did not happen in the capture".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sipladder.model import Endpoint, ResponseSeen, Transaction, fast_constructor

#: Challenges that a client answers by sending the request again with credentials
#: (RFC 3261 sections 22.2 and 22.3).
CHALLENGES = (401, 407)

#: How long after a 401/407 a request (REGISTER or INVITE) still counts as its answer:
#: 64*T1 (32 s), the time a client transaction lives (RFC 3261 section 17.1.1.2, Timer B).
#: A UA answers a challenge at once, or after its user typed a password; a request
#: minutes later is a new attempt.
CHALLENGE_ANSWER_WINDOW_NS = 64 * 500_000_000


# --------------------------------------------------------------------------- one transaction


class TransactionView(Protocol):
    """What the call rules read of a transaction: a frozen :class:`~sipladder.model
    .Transaction`, or the correlator's builder of one (the streaming path builds its calls
    from the builders, without freezing transactions that nobody else reads)."""

    @property
    def id(self) -> int: ...
    @property
    def method(self) -> str: ...
    @property
    def cseq(self) -> int | None: ...
    @property
    def client(self) -> Endpoint: ...
    @property
    def start_ns(self) -> int: ...
    @property
    def final_ns(self) -> int | None: ...
    @property
    def final_status(self) -> int | None: ...
    @property
    def hop(self) -> int: ...
    @property
    def request_group(self) -> int: ...
    @property
    def cancels(self) -> int | None: ...
    @property
    def responses(self) -> Sequence[ResponseSeen]: ...
    @property
    def from_uri(self) -> str | None: ...
    @property
    def to_uri(self) -> str | None: ...
    @property
    def to_tag(self) -> str | None: ...



def to_first_provisional(tx: Transaction) -> int | None:
    """Request to its first provisional response (any 1xx, 100 Trying included), on its hop."""
    return None if tx.first_provisional_ns is None else tx.first_provisional_ns - tx.start_ns


def to_final(tx: TransactionView) -> int | None:
    """Request to its first final response (200-699), on its hop."""
    return None if tx.final_ns is None else tx.final_ns - tx.start_ns


def final_response(tx: Transaction) -> ResponseSeen | None:
    for seen in tx.responses:
        if seen.status >= 200:
            return seen
    return None


# --------------------------------------------------------------------------- hop by hop


def forward_delay(tx: Transaction, parent: Transaction) -> int:
    """What the node between the previous hop and this one added to the request: this hop's
    first copy minus the previous hop's first copy (processing plus the wire)."""
    return tx.start_ns - parent.start_ns


def return_delay(tx: Transaction, parent: Transaction) -> int | None:
    """What the node between this hop and the previous one added to the final response on its
    way back: from this hop's first copy to the first copy of the same response (same status
    and To tag) on the previous hop. None when either copy is not in the capture."""
    mine = final_response(tx)
    if mine is None:
        return None
    for seen in parent.responses:
        if seen.status == mine.status and seen.to_tag == mine.to_tag:
            return seen.ts_ns - mine.ts_ns
    return None


# --------------------------------------------------------------------------- calls


@dataclass(frozen=True, slots=True)
class CallTimings:
    pdd_ns: int | None
    answer_ns: int | None
    release_ns: int | None
    duration_ns: int | None
    answered_at_ns: int | None  #: first 2xx as it arrived at the caller
    bye: TransactionView | None  #: the first BYE (first hop) after the answer


_new_call_timings = fast_constructor(CallTimings)  # one per call: positional, every field


def call_timings(
    attempts: Sequence[TransactionView],
    byes: Sequence[TransactionView],
    invite_hops: Sequence[TransactionView] = (),
) -> CallTimings:
    """The call's setup and release intervals.

    ``attempts`` are the first-hop transactions of the initial INVITE, in order: one, or
    several when a 401/407 challenge was answered by a new INVITE (then the intervals run
    from the first INVITE, as the caller experiences them, and the challenges do not end
    the post-dial delay). ``byes`` are the first-hop BYE transactions of the call in order.

    * ``pdd``: first INVITE to the first response other than 100 (and other than an
      answered challenge): an 18x, or the final response when no 18x came (RFC 6076
      section 4.2, session request delay).
    * ``answer``: first INVITE to the first 2xx.
    * ``release``: BYE to its final response (whatever side sent the BYE).
    * ``duration``: the first 2xx as first seen in the capture (on whatever hop of the
      INVITE: normally as it left the callee) to the first BYE, as it left its sender,
      sent after it. ``invite_hops`` are every hop's transaction of the setup INVITEs.
    """
    if not attempts:
        return _new_call_timings(None, None, None, None, None, None)
    start = attempts[0].start_ns
    last = len(attempts) - 1
    pdd_at: int | None = None
    answered_at: int | None = None
    for i, tx in enumerate(attempts):
        for seen in tx.responses:
            challenge_answered = i < last and seen.status in CHALLENGES
            if pdd_at is None and seen.status != 100 and not challenge_answered:
                pdd_at = seen.ts_ns
            if answered_at is None and 200 <= seen.status < 300:
                answered_at = seen.ts_ns
    bye = None
    first_2xx: int | None = None
    if answered_at is not None:
        first_2xx = min(
            [answered_at]
            + [r.ts_ns for t in invite_hops for r in t.responses if 200 <= r.status < 300]
        )
        bye = next((b for b in byes if b.start_ns >= first_2xx), None)
    return _new_call_timings(
        None if pdd_at is None else pdd_at - start,  # pdd_ns
        None if answered_at is None else answered_at - start,  # answer_ns
        None if bye is None else to_final(bye),  # release_ns
        None if bye is None or first_2xx is None else bye.start_ns - first_2xx,  # duration_ns
        answered_at,  # answered_at_ns
        bye,
    )


# --------------------------------------------------------------------------- registrations


def registration_delay(attempts: Sequence[Transaction]) -> int | None:
    """First REGISTER of the attempt to its final 2xx, across 401/407 challenges (RFC 6076
    section 4.1, registration request delay). None when the attempt did not succeed."""
    if not attempts:
        return None
    last = attempts[-1]
    if last.final_status is None or not 200 <= last.final_status < 300 or last.final_ns is None:
        return None
    return last.final_ns - attempts[0].start_ns
