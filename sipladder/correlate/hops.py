"""Hops: one request travelling through proxies, seen once per hop.

Every proxy on the way forwards the request with its own Via on top and a new
branch (RFC 3261 section 16.6 step 8), so each hop's copy is a transaction of its
own (see :mod:`sipladder.correlate.transactions`). This module links them: the copy
on the next hop has the same Call-ID, CSeq and method, and a Via stack that is the
previous hop's stack with one more Via on top. Linking by the whole Via stack
(not by Call-ID alone) keeps apart two requests that merely share a Call-ID, and
lets a forking proxy's branches (several next hops of one request) share a parent.

A node that answers on one hop (a proxy's 100 Trying) answers that hop's
transaction only, so it can never be taken for the far end's answer.
"""

from __future__ import annotations

from sipladder.correlate.transactions import TxBuilder, via_identity
from sipladder.model import SipMessage


class HopLinker:
    """Gives each new transaction its hop number, request group and parent: one dict lookup."""

    __slots__ = ("_index", "groups")

    def __init__(self) -> None:
        # (Call-ID, CSeq number, method, Via stack) -> transaction id of the first copy seen
        self._index: dict[tuple[object, ...], TxBuilder] = {}
        self.groups = 0

    def link(self, tx: TxBuilder, sip: SipMessage) -> None:
        vias = via_identity(sip)
        call_id, cseq, method = tx.call_id, tx.cseq, tx.method
        parent = self._index.get((call_id, cseq, method, vias[1:])) if len(vias) > 1 else None
        if parent is not None and parent.id != tx.id:
            tx.parent = parent.id
            tx.hop = parent.hop + 1
            tx.request_group = parent.request_group
        else:
            tx.request_group = self.groups
            self.groups += 1
        self._index.setdefault((call_id, cseq, method, vias), tx)

