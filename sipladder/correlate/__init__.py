"""Correlation: from the message stream to transactions, dialogs, calls and registrations.

Pure code, no IO, fed one :class:`~sipladder.model.Message` at a time, in capture
order::

    correlator = Correlator()
    for message in messages:
        correlator.feed(message)
    result = correlator.finish()   # a Correlation
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sipladder.model import Call, Dialog, Message, Registration, Transaction


@dataclass(frozen=True, slots=True)
class MessageLinks:
    """What correlation learned about one message."""

    transaction: int | None
    dialog: int | None
    retransmission: bool


@dataclass(frozen=True, slots=True)
class Correlation:
    transactions: tuple[Transaction, ...]
    dialogs: tuple[Dialog, ...]
    calls: tuple[Call, ...]
    registrations: tuple[Registration, ...]
    links: tuple[MessageLinks, ...]  #: one per message, by Message.index


class Correlator:
    def feed(self, message: Message) -> None:
        raise NotImplementedError

    def finish(self) -> Correlation:
        raise NotImplementedError


def correlate(messages: Iterable[Message]) -> Correlation:
    correlator = Correlator()
    for message in messages:
        correlator.feed(message)
    return correlator.finish()
