"""Transactions: which request each message belongs to, on one hop (RFC 3261 section 17).

A passive observer sees both ends of every transaction, so it matches the way a
server transaction does (section 17.2.3) and, for responses, the way a client
transaction does (section 17.1.3):

* branch with the magic cookie ``z9hG4bK``: the key is top-Via branch, top-Via
  sent-by and method (the CSeq method for responses). An ACK looks for the INVITE
  transaction with its key; it belongs there only when that INVITE got a non-2xx
  final response (section 17.1.1.3). An ACK for a 2xx carries a new branch (or
  follows a 2xx, which ended the INVITE transaction) and becomes a row of its own.
  A CANCEL has its own transaction and is linked to the INVITE with the same branch
  (section 9.2).
* no magic cookie (RFC 2543 peers): the last paragraphs of section 17.2.3: Call-ID,
  From tag, CSeq number and method, and the whole top Via; for requests also the
  Request-URI, and for an ACK the To tag of the final response.

A message with the same transaction, source, destination and start line as one
seen before is a retransmission: marked, counted, and never used as the start or
end of an interval. This module also keeps the transaction state machine (a table,
below) and the per-transaction record of first responses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sipladder.correlate.hops import HopIndex, link_hop
from sipladder.model import (
    Endpoint,
    Message,
    MessageKind,
    NameAddr,
    ResponseSeen,
    SipMessage,
    Transaction,
    TransactionState,
    Via,
    fast_constructor,
)

#: RFC 3261 section 8.1.1.7: a branch starting with this was built by an RFC 3261 element.
MAGIC_COOKIE = "z9hG4bK"

S = TransactionState


class Event(StrEnum):
    """What a message does to its transaction."""

    PROVISIONAL = "1xx"
    SUCCESS = "2xx"
    FAILURE = "3xx-6xx"
    ACK = "ack"


# RFC 3261 section 17.1.1.2 (INVITE client) and 17.2.1 (INVITE server), merged into the
# view of an observer that sees both: (state, event) -> next state. An event missing from
# the table (a provisional after the final, say, because of reordering) leaves the state.
INVITE_MACHINE: dict[tuple[TransactionState, Event], TransactionState] = {
    (S.CALLING, Event.PROVISIONAL): S.PROCEEDING,  # 17.1.1.2: 1xx -> Proceeding
    (S.CALLING, Event.SUCCESS): S.TERMINATED,  # 17.1.1.2: 2xx -> Terminated
    (S.CALLING, Event.FAILURE): S.COMPLETED,  # 17.1.1.2: 300-699 -> Completed
    (S.PROCEEDING, Event.PROVISIONAL): S.PROCEEDING,  # 17.1.1.2: further 1xx
    (S.PROCEEDING, Event.SUCCESS): S.TERMINATED,  # 17.1.1.2
    (S.PROCEEDING, Event.FAILURE): S.COMPLETED,  # 17.1.1.2
    (S.COMPLETED, Event.ACK): S.CONFIRMED,  # 17.2.1: ACK for the non-2xx -> Confirmed
}

# RFC 3261 section 17.1.2.2 (non-INVITE client), Figure 6.
NON_INVITE_MACHINE: dict[tuple[TransactionState, Event], TransactionState] = {
    (S.TRYING, Event.PROVISIONAL): S.PROCEEDING,  # 17.1.2.2: 1xx -> Proceeding
    (S.TRYING, Event.SUCCESS): S.COMPLETED,  # 17.1.2.2: 200-699 -> Completed
    (S.TRYING, Event.FAILURE): S.COMPLETED,
    (S.PROCEEDING, Event.PROVISIONAL): S.PROCEEDING,
    (S.PROCEEDING, Event.SUCCESS): S.COMPLETED,
    (S.PROCEEDING, Event.FAILURE): S.COMPLETED,
}


def response_event(status: int) -> Event:
    if status < 200:
        return Event.PROVISIONAL
    return Event.SUCCESS if status < 300 else Event.FAILURE


def has_magic_cookie(branch: str | None) -> bool:
    return branch is not None and branch.startswith(MAGIC_COOKIE)


#: A Via stack as compared across hops: (sent-by, branch) of each Via, top first.
ViaIdentity = tuple[tuple[str, str], ...]


def via_identity(sip: SipMessage) -> ViaIdentity:
    """The Via stack as (sent-by, branch) pairs: what a proxy leaves unchanged below its own."""
    vias = sip.vias
    if len(vias) == 1:  # (most messages: made once for every new transaction)
        via = vias[0]
        return ((sent_by_key(via), _branch(via) or ""),)
    return tuple([(sent_by_key(v), _branch(v) or "") for v in vias])


# Correlation reads the tags and branches of every message: these are ``NameAddr.tag`` and
# ``Via.branch`` without the property and the generic parameter lookup (names are stored
# lower-cased, model._param), which cost more than the rest of a dict lookup.


def name_tag(addr: NameAddr | None) -> str | None:
    """``addr.tag``, None when ``addr`` is None."""
    if addr is None:
        return None
    for key, value in addr.params:
        if key == "tag":
            return value
    return None


def _branch(via: Via) -> str | None:
    for key, value in via.params:
        if key == "branch":
            return value
    return None


#: A transaction's matching key as compared: its parts, in the order of the text
#: (:attr:`~sipladder.model.Transaction.key`) that joins them with "|". A tuple of the
#: parts costs less than that text, made and hashed for every message.
TransactionKey = tuple[str | int, ...]


# records built once per transaction or response: positional, every field (model.py)
_new_transaction = fast_constructor(Transaction)
_new_response_seen = fast_constructor(ResponseSeen)


@dataclass(slots=True)
class TxBuilder:
    """A transaction while messages are still arriving (mutable; frozen at the end)."""

    id: int
    key: TransactionKey
    method: str
    call_id: str | None
    cseq: int | None
    branch: str | None
    client: Endpoint
    server: Endpoint
    request: int
    start_ns: int
    state: TransactionState
    rfc2543: bool
    request_uri: str | None
    from_uri: str | None
    to_uri: str | None
    from_tag: str | None
    to_tag: str | None
    hop: int = 0
    request_group: int = 0
    parent: int | None = None
    cancels: int | None = None
    dialog: int | None = None
    messages: list[int] = field(default_factory=list)
    responses: list[ResponseSeen] = field(default_factory=list)
    retransmissions: int = 0
    first_provisional_ns: int | None = None
    final_ns: int | None = None
    final_status: int | None = None
    final_to_tag: str | None = None

    @property
    def is_invite(self) -> bool:
        return self.method == "INVITE"

    def apply(self, event: Event) -> None:
        machine = INVITE_MACHINE if self.method == "INVITE" else NON_INVITE_MACHINE
        state = self.state
        self.state = machine.get((state, event), state)

    def freeze(self) -> Transaction:
        return _new_transaction(
            self.id,
            "|".join([str(part) for part in self.key]),  # key
            self.method,
            self.call_id,
            self.cseq,
            self.branch,
            self.client,
            self.server,
            tuple(self.messages),  # messages
            self.request,
            self.start_ns,
            self.first_provisional_ns,
            self.final_ns,
            self.final_status,
            self.state,
            self.retransmissions,
            self.hop,
            self.request_group,
            self.dialog,
            self.cancels,
            self.rfc2543,
            self.parent,
            tuple(self.responses),  # responses
            self.request_uri,
            self.from_uri,
            self.to_uri,
            self.from_tag,
            self.to_tag,
        )


def builder_constructor(cls: type[_T]) -> Callable[..., _T]:
    """A positional constructor for the mutable slotted dataclass ``cls``: every field, in
    field order, defaults not applied (:func:`~sipladder.model.fast_constructor` is the
    same for the frozen records). For the builders made once per transaction or dialog:
    calling the class goes through ``type.__call__`` to a dataclass ``__init__`` (run in
    an interpreter loop of its own) that also fills the defaults; this one is a plain
    function of attribute stores, a quarter of the instructions."""
    names = list(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    args = ", ".join(f"a{i}" for i in range(len(names)))
    lines = "".join(f"    o.{name} = a{i}\n" for i, name in enumerate(names))
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    exec(f"def build({args}):\n    o = _new(_cls)\n{lines}    return o\n", namespace)  # noqa: S102
    return namespace["build"]  # type: ignore[no-any-return]


_T = TypeVar("_T")

#: ``TxBuilder(...)`` with every field given, in order (builder_constructor)
_new_tx = builder_constructor(TxBuilder)


#: RFC 3261 section 18.2.2 / 19.1.2 (and RFC 7118 for WebSocket): the port a sent-by without
#: one stands for, by Via transport.
DEFAULT_PORTS = {"TLS": 5061, "WS": 80, "WSS": 443}


def sent_by_key(via: Via) -> str:
    """The sent-by as compared: host in lower case, the default port written out, so that
    ``host`` and ``host:5060`` match (some UAs drop the port when they build the CANCEL)."""
    # Every message's top Via is compared (and every Via of a new transaction), while a
    # capture has few distinct sent-bys: each one's text is made once (and shared).
    memo = (via.host, via.port, via.transport)
    key = _SENT_BY.get(memo)
    if key is None:
        host = via.host.lower()
        port = via.port
        if port is None:
            port = DEFAULT_PORTS.get(via.transport.upper(), 5060)
        key = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if len(_SENT_BY) >= _SENT_BY_LIMIT:
            _SENT_BY.clear()  # a capture of very many hosts: start again rather than grow
        _SENT_BY[memo] = key
    return key


_SENT_BY: dict[tuple[str, int | None, str], str] = {}
_SENT_BY_LIMIT = 4096


def transaction_key(sip: SipMessage, method: str) -> tuple[TransactionKey, bool] | None:
    """The matching key of a message for ``method`` and whether it is the RFC 2543 fallback.

    None when the message has nothing to match on (no Via at all)."""
    vias = sip.vias
    if not vias:
        return None
    via = vias[0]
    branch = _branch(via)
    if branch is not None and branch.startswith(MAGIC_COOKIE):
        # RFC 3261 section 17.2.3: branch + sent-by + method (ACK matches INVITE, which
        # the caller asks for by passing method="INVITE"). The branch is case-sensitive.
        return (branch, sent_by_key(via), method), False
    # RFC 3261 section 17.2.3, last paragraphs (RFC 2543 compatibility): Call-ID, From tag,
    # CSeq, and top Via; Request-URI and To tag are checked separately (responses lack the
    # first, the initial request the second).
    cseq = sip.cseq.number if sip.cseq else ""
    from_tag = name_tag(sip.from_) or ""
    return ("2543", sip.call_id or "", from_tag, cseq, method, sent_by_key(via), branch or ""), True


def key_for_method(key: TransactionKey, method: str) -> TransactionKey | None:
    """What :func:`transaction_key` gives, for ``method``, the message whose key (for another
    method) is ``key``: the same parts, the method replaced (an ACK or a CANCEL seeks its
    INVITE so, without making the key again). None for the key of a message without Via."""
    if len(key) == 3:  # branch, sent-by, method
        return (key[0], key[1], method)
    if len(key) == 7:  # "2543", Call-ID, From tag, CSeq, method, sent-by, branch
        return (*key[:4], method, *key[5:])
    return None  # "novia" (TransactionTable._request): nothing to match on


class TransactionTable:
    """Matches each message to its transaction (one dict lookup per message), and links each
    new transaction to the hop it was forwarded from (:mod:`sipladder.correlate.hops`)."""

    __slots__ = ("transactions", "_by_key", "_seen", "orphan_responses", "_hops", "_groups",
                 "_all_responses", "retransmission")  # fmt: skip

    def __init__(self, all_responses: bool = True) -> None:
        self.transactions: list[TxBuilder] = []
        self._by_key: dict[TransactionKey, int] = {}
        #: the signature of each distinct message of each transaction, tagged with the
        #: transaction's id (one set for the table rather than one per transaction: fewer
        #: objects to make and free); see _add_request_copy and feed (responses)
        self._seen: set[tuple[object, ...]] = set()
        self.orphan_responses = 0  #: responses whose request is not in the capture
        #: see :func:`~sipladder.correlate.hops.link_hop`; made by _hop_index when needed
        self._hops: HopIndex | None = None
        self._groups = 0  #: request groups so far
        #: False: only INVITE transactions keep their responses (TxBuilder.responses), for
        #: Correlator(calls_only=True): the calls' timings read only the INVITEs'
        self._all_responses = all_responses
        #: whether the message fed last is a retransmission (set by feed: an attribute
        #: rather than a second value returned, a tuple made and unpacked every message)
        self.retransmission = False

    def feed(self, message: Message, from_tag: str | None, to_tag: str | None) -> TxBuilder | None:
        """The transaction the message belongs to (None if it has none); whether it is a
        retransmission is then :attr:`retransmission`. ``from_tag`` and ``to_tag`` are the
        message's (``name_tag`` of its From and To): the caller reads them for the dialogs
        too."""
        sip = message.sip
        request = sip.kind is _REQUEST
        if request:
            method = sip.method or "?"
        else:
            cseq = sip.cseq
            method = (None if cseq is None else cseq.method) or "?"
        # transaction_key(sip, method), inline (it runs for every message), keeping the
        # top Via's branch and sent-by for a new transaction's hop (via_identity)
        vias = sip.vias
        branch: str | None = None
        sent_by = ""
        key: TransactionKey | None
        if vias:
            via = vias[0]
            for name, value in via.params:  # (_branch)
                if name == "branch":
                    branch = value
                    break
            sent_by = _SENT_BY.get((via.host, via.port, via.transport)) or sent_by_key(via)
            if branch is not None and branch.startswith(MAGIC_COOKIE):
                # RFC 3261 section 17.2.3: branch + sent-by + method
                key = (branch, sent_by, method)
                rfc2543 = False
            else:  # section 17.2.3, last paragraphs: the RFC 2543 fallback
                cseq = sip.cseq
                key = (
                    "2543", sip.call_id or "", from_tag or "", "" if cseq is None else cseq.number,
                    method, sent_by, branch or "",
                )  # fmt: skip
                rfc2543 = True
        else:
            key = None
            rfc2543 = True
        if not request:  # a response: the transaction of its key (section 17.1.3)
            index = None if key is None else self._by_key.get(key)
            status = sip.status
            if index is None or status is None:
                self.orphan_responses += 1
                self.retransmission = False
                return None
            tx = self.transactions[index]
            index = message.index
            tx.messages.append(index)
            # A response retransmission repeats the same status from the same side on the
            # same hop; the To tag keeps the answers of different forks (same status) apart.
            # (Endpoints as their fields: an Endpoint's hash is a Python-level function.)
            src, dst = message.src, message.dst
            seen = self._seen
            before = len(seen)
            # (eight items: never equal to a request's seven)
            seen.add((tx.id, src.ip, src.port, dst.ip, dst.port, status, sip.reason, to_tag))
            if len(seen) == before:
                tx.retransmissions += 1
                self.retransmission = True
                return tx
            ts_ns = message.ts_ns
            if self._all_responses or tx.method == "INVITE":
                tx.responses.append(_new_response_seen(status, ts_ns, index, to_tag))
            if status < 200:
                if tx.first_provisional_ns is None:
                    tx.first_provisional_ns = ts_ns
                event = _PROVISIONAL
            else:
                if tx.final_status is None:
                    tx.final_status = status
                    tx.final_ns = ts_ns
                    tx.final_to_tag = to_tag
                event = _SUCCESS if status < 300 else _FAILURE
            state = tx.state  # (TxBuilder.apply, inline)
            tx.state = (INVITE_MACHINE if tx.method == "INVITE" else NON_INVITE_MACHINE).get(
                (state, event), state
            )
            self.retransmission = False
            return tx
        if key is None:
            # No Via: nothing to match on. Give it a transaction of its own on this hop, keyed
            # by where it travelled, so that its copies still count as retransmissions.
            key = (
                "novia", str(message.src), str(message.dst), str(sip.call_id), str(sip.cseq), method
            )  # fmt: skip
        elif method == "ACK":
            acked = self._ack_for_non_2xx(sip, key, rfc2543, to_tag)
            if acked is not None:
                self.retransmission = self._add_request_copy(acked, message, ack=True)
                return acked
        index = self._by_key.get(key)
        if index is not None:
            tx = self.transactions[index]
            # RFC 2543 matching also needs the Request-URI to be equal (section 17.2.3).
            if not (rfc2543 and tx.request_uri != sip.request_uri):
                self.retransmission = self._add_request_copy(tx, message)
                return tx
        self.retransmission = False
        return self._new(message, key, method, rfc2543, branch, sent_by, from_tag, to_tag)

    # ------------------------------------------------------------------ requests

    def _ack_for_non_2xx(
        self, sip: SipMessage, ack_key: TransactionKey, rfc2543: bool, to_tag: str | None
    ) -> TxBuilder | None:
        """RFC 3261 section 17.1.1.3 / 17.2.3: the ACK for a non-2xx final response carries
        the INVITE's branch and belongs to the INVITE transaction."""
        key = key_for_method(ack_key, "INVITE")
        index = None if key is None else self._by_key.get(key)
        if index is None:
            return None
        tx = self.transactions[index]
        if tx.final_status is None or 200 <= tx.final_status < 300:
            return None  # an ACK for a 2xx is not part of the INVITE transaction (17.1.1.3)
        if rfc2543 and (tx.request_uri != sip.request_uri or tx.final_to_tag != to_tag):
            return None  # RFC 2543 ACK: Request-URI and To tag of the response must match
        return tx

    def _add_request_copy(self, tx: TxBuilder, message: Message, ack: bool = False) -> bool:
        tx.messages.append(message.index)
        seen = self._seen
        before = len(seen)
        src, dst, sip = message.src, message.dst, message.sip
        # what two copies of one request share (a response's signature has eight items)
        seen.add((tx.id, src.ip, src.port, dst.ip, dst.port, sip.method, sip.request_uri))
        if len(seen) == before:
            tx.retransmissions += 1
            return True
        if ack:
            tx.apply(_ACK)
        return False

    def _new(
        self,
        message: Message,
        key: TransactionKey,
        method: str,
        rfc2543: bool,
        branch: str | None,
        sent_by: str,
        from_tag: str | None,
        to_tag: str | None,
    ) -> TxBuilder:
        """A new transaction; ``branch`` and ``sent_by`` are the top Via's (as
        :func:`_branch` and :func:`sent_by_key` give them; None and "" without Via)."""
        sip = message.sip
        cseq, from_, to, call_id = sip.cseq, sip.from_, sip.to, sip.call_id
        index = message.index
        transactions = self.transactions
        src, dst = message.src, message.dst
        tx = _new_tx(  # every field of TxBuilder, in order
            len(transactions),  # id
            key,
            method,
            call_id,
            None if cseq is None else cseq.number,
            branch,
            src,  # client
            dst,  # server
            index,  # request
            message.ts_ns,  # start_ns
            # An ACK for a 2xx has no transaction in the RFC (17.1.1.3): nothing to wait for.
            _INITIAL_STATE.get(method, _TRYING),  # state
            rfc2543,
            sip.request_uri,
            None if from_ is None else from_.uri,
            None if to is None else to.uri,
            from_tag,
            to_tag,
            0,  # hop
            0,  # request_group
            None,  # parent
            None,  # cancels
            None,  # dialog
            [index],  # messages
            [],  # responses
            0,  # retransmissions
            None,  # first_provisional_ns
            None,  # final_ns
            None,  # final_status
            None,  # final_to_tag
        )
        # what two copies of one request share (a response's signature has eight items)
        self._seen.add((tx.id, src.ip, src.port, dst.ip, dst.port, sip.method, sip.request_uri))
        transactions.append(tx)
        self._by_key[key] = tx.id
        if method == "CANCEL":
            tx.cancels = self._cancelled_invite(sip, key, rfc2543)
        # The hop (sipladder.correlate.hops). A request with one Via (or none) has no
        # previous hop: it starts a request group, and only the index needs its Via stack,
        # for a next hop's lookup. That index is made when the first request with several
        # Vias comes (_hop_index: most Call-IDs never see one, so never make it).
        vias = sip.vias
        hops = self._hops
        if len(vias) > 1:
            if hops is None:
                hops = self._hops = self._hop_index()
            self._groups = link_hop(hops, tx, via_identity(sip), self._groups)
        else:
            tx.request_group = self._groups  # (link_hop's result without a previous hop)
            self._groups += 1
            if hops is not None and vias:
                hops.setdefault((call_id, tx.cseq, method, ((sent_by, branch or ""),)), tx)
        return tx

    def _hop_index(self) -> HopIndex:
        """The hop index (:func:`~sipladder.correlate.hops.link_hop`) of the transactions
        before the newest, each of which has one Via or none: its Via stack is then in its
        key (transaction_key: sent-by and branch). Without Via it has none, which no
        lookup (by the stack below a next hop's top Via) can match: not indexed."""
        index: HopIndex = {}
        for tx in self.transactions[:-1]:
            key = tx.key
            if len(key) == 3:  # branch, sent-by, method
                identity: ViaIdentity = ((key[1], key[0]),)  # type: ignore[assignment]
            elif len(key) == 7:  # "2543", Call-ID, From tag, CSeq, method, sent-by, branch
                identity = ((key[5], key[6]),)  # type: ignore[assignment]
            else:  # "novia"
                continue
            index.setdefault((tx.call_id, tx.cseq, tx.method, identity), tx)
        return index

    def _cancelled_invite(
        self, sip: SipMessage, cancel_key: TransactionKey, rfc2543: bool
    ) -> int | None:
        """RFC 3261 section 9.2: the CANCEL matches the INVITE with the same top Via branch
        and sent-by (or, for RFC 2543 peers, the same Request-URI, Call-ID, From tag, CSeq
        number and top Via)."""
        key = key_for_method(cancel_key, "INVITE")
        index = None if key is None else self._by_key.get(key)
        if index is None:
            return None
        if rfc2543 and self.transactions[index].request_uri != sip.request_uri:
            return None
        return index


#: The state of a new transaction by method; any other method starts in Trying.
_INITIAL_STATE = {"INVITE": S.CALLING, "ACK": S.TERMINATED}
# (a global is cheaper to read than an enum member, in the per-message paths)
_TRYING = S.TRYING
_REQUEST = MessageKind.REQUEST
_PROVISIONAL, _SUCCESS, _FAILURE = Event.PROVISIONAL, Event.SUCCESS, Event.FAILURE
_ACK = Event.ACK
