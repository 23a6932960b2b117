"""Correlation: from the message stream to transactions, dialogs, calls and registrations.

Pure code, no IO, fed one :class:`~sipladder.model.Message` at a time, in capture
order::

    correlator = Correlator()
    for message in messages:
        correlator.feed(message)
    result = correlator.finish()   # a Correlation

Each message costs a constant number of dict lookups (transaction key, hop index,
dialog tags, Call-ID), whatever the number of calls already seen. The records are
frozen once, in :meth:`Correlator.finish`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sipladder.correlate.calls import CallBuilder, build_call
from sipladder.correlate.dialogs import DialogBuilder, DialogTable
from sipladder.correlate.registrations import build_registrations
from sipladder.correlate.transactions import TransactionTable, TxBuilder, builder_constructor
from sipladder.model import Call, Dialog, Message, Registration, Transaction


class MessageLinks(NamedTuple):
    """What correlation learned about one message (a named tuple: one is made per message,
    and a tuple is several times cheaper to build than a frozen dataclass)."""

    transaction: int | None
    dialog: int | None
    retransmission: bool


#: ``_new_links(MessageLinks, (transaction, dialog, retransmission))``: what the named
#: tuple's own ``__new__`` (a Python function) does, without that call.
_new_links = tuple.__new__

#: ``CallBuilder(...)`` with every field given, in order (one per Call-ID)
_new_call_builder = builder_constructor(CallBuilder)


@dataclass(frozen=True, slots=True)
class Correlation:
    transactions: tuple[Transaction, ...]
    dialogs: tuple[Dialog, ...]
    calls: tuple[Call, ...]
    registrations: tuple[Registration, ...]
    links: tuple[MessageLinks, ...]  #: one per message, in the order fed (= Message.index)
    orphan_responses: int = 0  #: responses whose request (transaction) is not in the capture

    @property
    def retransmissions(self) -> int:
        return sum(1 for link in self.links if link.retransmission)

    def call(self, call_id: str) -> Call | None:
        return next((c for c in self.calls if c.call_id == call_id), None)

    def hops(self, transaction: int) -> tuple[Transaction, ...]:
        """Every hop's transaction of the request that ``transaction`` is one hop of."""
        group = self.transactions[transaction].request_group
        return tuple(t for t in self.transactions if t.request_group == group)


class Correlator:
    """Feeds messages one by one; :meth:`finish` freezes the records.

    ``keep_messages=False`` keeps no :class:`Message` (only what correlation learned of
    each, a few integers): memory then grows with the calls and transactions, not with the
    capture's bytes. Registrations need the messages themselves (their Contact bindings):
    without them ``registrations`` is empty. The streaming ``calls`` path uses this
    (:mod:`sipladder.streaming`). ``calls_only=True`` keeps even less (not the links of
    each message, nor what only the frozen records would have: the dialogs' history,
    messages and transactions, the responses of non-INVITE transactions): then only
    :meth:`finish_calls` gives a result.
    """

    __slots__ = ("_transactions", "transaction_builders", "_dialogs", "_calls",
                 "_keep_messages", "_calls_only", "_messages", "_indices", "_call_ids",
                 "_links", "_unattached", "_unattached_calls", "_attached", "_finished",
                 "_result")  # fmt: skip

    # (calls_only: the per-message lists are not made; see __init__)
    _messages: list[Message]
    _indices: list[int]
    _call_ids: list[str | None]
    _links: list[MessageLinks]
    _unattached: list[int]

    def __init__(self, *, keep_messages: bool = True, calls_only: bool = False) -> None:
        # (positional: a keyword argument to a class costs a dict, once per Call-ID here)
        self._transactions = TransactionTable(not calls_only)  # all_responses
        #: The transactions so far, mutable, by id (``messages[0]`` created each one). (An
        #: attribute, not a property: the streaming path reads it for every new transaction.)
        self.transaction_builders: list[TxBuilder] = self._transactions.transactions
        #: made at the first message with both tags (what most Call-IDs of the streaming
        #: path, one correlator each, never see: REGISTER, OPTIONS...)
        self._dialogs: DialogTable | None = None
        self._calls: dict[str, CallBuilder] = {}
        self._keep_messages = keep_messages and not calls_only
        #: ``calls_only``: keep only what :meth:`finish_calls` reads, not each message's
        #: links (three list entries and a tuple per message, to make and to free)
        self._calls_only = calls_only
        #: ``calls_only``: the transaction and Call-ID of each message with a transaction
        #: but no dialog (yet), for _attach_creating_messages
        self._unattached_calls: list[tuple[int, str]] = []
        if not calls_only:  # (a correlator per Call-ID makes and frees these by the thousand)
            self._messages = []
            self._indices = []  #: Message.index of each message fed, in order
            self._call_ids = []  #: and its Call-ID
            self._links = []
            #: positions of the messages with a transaction but no dialog (yet): those that
            #: _attach_creating_messages looks at (the others it would pass over)
            self._unattached = []
        self._attached = False
        self._finished = False
        self._result: Correlation | None = None

    def feed(self, message: Message) -> tuple[int | None, int | None, bool]:
        """Correlate the next message; returns its :class:`MessageLinks` (transaction,
        dialog, retransmission). A ``calls_only`` correlator, which keeps no links,
        returns the same three values as a plain tuple (a named tuple costs five times as
        much to make, and this runs for every message)."""
        if self._finished:
            raise RuntimeError("Correlator.feed() after finish(): start a new Correlator")
        # (the message's fields read once into locals: this runs for every message)
        sip = message.sip
        index = message.index
        # The tags, read once for the transactions and the dialogs (name_tag, inline)
        from_tag = to_tag = None
        addr = sip.from_
        if addr is not None:
            for name, value in addr.params:
                if name == "tag":
                    from_tag = value
                    break
        addr = sip.to
        if addr is not None:
            for name, value in addr.params:
                if name == "tag":
                    to_tag = value
                    break
        transactions = self._transactions
        tx = transactions.feed(message, from_tag, to_tag)
        retransmission = transactions.retransmission
        call_id = sip.call_id
        dialog = None
        # a message without Call-ID or either tag identifies no dialog (DialogTable.feed)
        if to_tag is not None and from_tag is not None and call_id is not None:
            dialogs = self._dialogs
            if dialogs is None:
                dialogs = self._dialogs = DialogTable(not self._calls_only)  # records
            dialog = dialogs.feed(message, tx, retransmission, call_id, from_tag, to_tag)
        tx_id = None if tx is None else tx.id
        if call_id is not None:
            ts_ns = message.ts_ns
            call = self._calls.get(call_id)
            if call is None:
                # (every field of CallBuilder, in order)
                call = self._calls[call_id] = _new_call_builder(
                    call_id, ts_ns, ts_ns, False, [], 0, {}, {}
                )
            elif ts_ns > call.end_ns:
                call.end_ns = ts_ns
            call.messages.append(index)
            if sip.method == "INVITE":
                call.has_invite = True
            if retransmission:
                call.retransmissions += 1
            if tx_id is not None:
                call.transactions[tx_id] = None
            if dialog is not None:
                call.dialogs[dialog] = None
        if self._calls_only:
            # (_attach_creating_messages: a message of the transaction's own Call-ID other
            # than the one that created it adds nothing. That one was either recorded here
            # already, or had a dialog, which its transaction then took and its call has.)
            if (
                dialog is None
                and tx is not None
                and call_id is not None
                and (tx.request == index or call_id != tx.call_id)
            ):
                self._unattached_calls.append((tx.id, call_id))
            return tx_id, dialog, retransmission
        links = _new_links(MessageLinks, (tx_id, dialog, retransmission))
        if self._keep_messages:
            self._messages.append(message)
        if dialog is None and tx_id is not None:
            self._unattached.append(len(self._links))
        self._indices.append(index)
        self._call_ids.append(call_id)
        self._links.append(links)
        return links

    def _attach_creating_messages(self) -> None:
        """The dialog-creating request and the responses without To tag belong to the
        (first) dialog their transaction created: known only once that dialog exists."""
        if self._attached:
            return
        self._attached = True
        builders = self._transactions.transactions
        if self._calls_only:  # (only the calls' dialogs: the dialog records are not made)
            for transaction, owner in self._unattached_calls:
                created = builders[transaction].dialog
                if created is not None:
                    self._calls[owner].dialogs.setdefault(created, None)
            return
        dialogs = self.dialog_builders
        links = self._links
        for position in self._unattached:  # in order of the messages
            tx_id, _, retransmission = links[position]
            assert tx_id is not None
            dialog = builders[tx_id].dialog
            if dialog is not None:
                dialogs[dialog].messages.append(self._indices[position])
                call_id = self._call_ids[position]
                if call_id is not None:
                    self._calls[call_id].dialogs.setdefault(dialog, None)
                links[position] = MessageLinks(tx_id, dialog, retransmission)

    @property
    def has_calls(self) -> bool:
        """Whether a Call-ID fed so far carries an INVITE (:meth:`finish_calls` gives calls)."""
        for call in self._calls.values():
            if call.has_invite:
                return True
        return False

    def finish_calls(
        self,
        transaction_ids: Sequence[int] | None = None,
        dialog_ids: Sequence[int] | None = None,
    ) -> list[Call]:
        """Only the calls (as :meth:`finish` gives them), freezing only their transactions:
        for the streaming path, which needs nothing else. Ends the feeding, as finish does.
        ``transaction_ids`` and ``dialog_ids`` (by this correlator's ids) are the ids the
        calls name their records by, when given (:func:`~sipladder.correlate.calls
        .build_call`)."""
        if self._result is not None:
            return list(self._result.calls)
        self._attach_creating_messages()
        pick = self._transactions.transactions.__getitem__
        calls = []
        for call in self._calls.values():  # (a loop: a comprehension is a call of its own)
            if call.has_invite:
                # from the builders: the calls read a few fields of their transactions, and a
                # frozen copy of each (made, read once, freed) cost more than the call itself
                calls.append(
                    build_call(call, list(map(pick, call.transactions)), transaction_ids,
                               dialog_ids)  # fmt: skip
                )
        self._finished = True
        return calls

    @property
    def dialog_builders(self) -> list[DialogBuilder]:
        """The dialogs so far, mutable, by id (``messages[0]`` created each one)."""
        return [] if self._dialogs is None else self._dialogs.dialogs

    def finish(self) -> Correlation:
        """Freeze everything into records. Calling it again returns the same result."""
        if self._result is not None:
            return self._result
        if self._calls_only:
            raise RuntimeError("Correlator(calls_only=True) gives only finish_calls()")
        self._finished = True
        self._attach_creating_messages()
        builders = self._transactions.transactions
        dialogs = self.dialog_builders
        links = self._links
        transactions = tuple(b.freeze() for b in builders)
        calls = tuple(
            build_call(builder, [transactions[i] for i in builder.transactions])
            for builder in self._calls.values()
            if builder.has_invite
        )
        registrations: list[Registration] = []
        if self._keep_messages:
            groups: dict[int, list[int]] = {}
            for tx in transactions:
                groups.setdefault(tx.request_group, []).append(tx.id)
            # Message.index is normally the position in the stream: then the list itself is
            # the index (a dict over every message would be the largest object of the run).
            by_position = all(m.index == i for i, m in enumerate(self._messages))
            lookup = (
                self._messages.__getitem__
                if by_position
                else {m.index: m for m in self._messages}.__getitem__
            )
            registrations = build_registrations(
                transactions, lambda group: groups[group], lookup
            )
        self._result = Correlation(
            transactions=transactions,
            dialogs=tuple(d.freeze() for d in dialogs),
            calls=calls,
            registrations=tuple(registrations),
            links=tuple(links),
            orphan_responses=self._transactions.orphan_responses,
        )
        return self._result


def correlate(messages: Iterable[Message]) -> Correlation:
    """Correlate a whole message stream.

    The cyclic garbage collector is paused meanwhile: the records form no reference
    cycles (reference counting frees them), but its full passes over a heap that grows
    with the capture made the time per message grow with the number of calls (measured
    by ``benchmarks/correlate_scaling.py``: 42 us/message at 2,000 dialogues, 65 at
    20,000 with it; 28 and 29 without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        correlator = Correlator()
        for message in messages:
            correlator.feed(message)
        return correlator.finish()
    finally:
        if enabled:
            gc.enable()
