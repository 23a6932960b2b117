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

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (transactions.py links each new transaction with link_hop)
    from sipladder.correlate.transactions import TxBuilder

#: (Call-ID, CSeq number, method, Via stack as ``via_identity`` gives it) -> the first
#: transaction seen with them
HopIndex = dict[tuple[object, ...], "TxBuilder"]


def link_hop(
    index: HopIndex, tx: TxBuilder, vias: tuple[tuple[str, str], ...], groups: int
) -> int:
    """Gives the new transaction ``tx``, whose request has the Via stack ``vias``
    (:func:`~sipladder.correlate.transactions.via_identity`), its hop number, request
    group and parent: one dict lookup. ``groups`` is the number of request groups so
    far; returns it after ``tx``."""
    call_id, cseq, method = tx.call_id, tx.cseq, tx.method
    parent = index.get((call_id, cseq, method, vias[1:])) if len(vias) > 1 else None
    if parent is not None and parent.id != tx.id:
        tx.parent = parent.id
        tx.hop = parent.hop + 1
        tx.request_group = parent.request_group
    else:
        tx.request_group = groups
        groups += 1
    index.setdefault((call_id, cseq, method, vias), tx)
    return groups
