"""Dialogs (RFC 3261 section 12): Call-ID plus the two tags, with their state over time.

A dialog is end to end: every hop of a request carries the same Call-ID and tags,
so one dialog gathers the copies of all hops. The observer does not know which
side is "local", so the two tags are looked up as an unordered pair; the record
keeps them as the caller's (``from_tag``) and the callee's (``to_tag``).

* created by a response with a To tag to a dialog-creating request (INVITE,
  SUBSCRIBE, REFER) sent outside a dialog: a 1xx makes it early, a 2xx confirmed
  (section 12.1); several To tags for one INVITE (forking, section 13.2.2.4) make
  several dialogs;
* a request with both tags whose dialog began before the capture opens it as
  confirmed (an ACK never does: it may follow a non-2xx, which creates no dialog).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sipladder.correlate.transactions import TxBuilder, builder_constructor
from sipladder.model import (
    Dialog,
    DialogState,
    DialogStateChange,
    Message,
    MessageKind,
    fast_constructor,
)

D = DialogState

#: Requests that create a dialog when sent outside one (RFC 3261 section 12.1; RFC 6665
#: section 4.1.2.4 for SUBSCRIBE; RFC 3515 for REFER).
DIALOG_CREATING = frozenset({"INVITE", "SUBSCRIBE", "REFER"})


class DialogEvent(StrEnum):
    PROVISIONAL = "1xx"  #: a 101-199 with To tag to the creating request
    SUCCESS = "2xx"  #: a 2xx to the creating request
    FAILURE = "3xx-6xx"  #: a non-2xx final to the creating request
    BYE = "bye"
    GONE = "481/408"  #: a 481 or 408 to a request inside the dialog


# (state, event) -> next state. None stands for "no dialog yet". Missing pairs change nothing.
DIALOG_MACHINE: dict[tuple[DialogState | None, DialogEvent], DialogState] = {
    (None, DialogEvent.PROVISIONAL): D.EARLY,  # 12.1: 1xx with To tag -> early dialog
    (None, DialogEvent.SUCCESS): D.CONFIRMED,  # 12.1: 2xx -> confirmed dialog
    (D.EARLY, DialogEvent.PROVISIONAL): D.EARLY,
    (D.EARLY, DialogEvent.SUCCESS): D.CONFIRMED,  # 12.1 / 13.2.2.4: early -> confirmed
    (D.EARLY, DialogEvent.FAILURE): D.TERMINATED,  # 12.3: non-2xx final ends early dialogs
    (D.EARLY, DialogEvent.BYE): D.TERMINATED,  # 15: a UAC may send BYE in an early dialog
    (D.CONFIRMED, DialogEvent.BYE): D.TERMINATED,  # 15.1: BYE ends the session and dialog
    (D.EARLY, DialogEvent.GONE): D.TERMINATED,  # 12.2.1.2: 481/408 -> terminate the dialog
    (D.CONFIRMED, DialogEvent.GONE): D.TERMINATED,  # 12.2.1.2
}


@dataclass(slots=True)
class DialogBuilder:
    id: int
    call_id: str
    from_tag: str | None
    to_tag: str | None
    start_ns: int
    method: str | None
    creating_transaction: int | None
    state: DialogState | None = None
    history: list[DialogStateChange] = field(default_factory=list)
    transactions: dict[int, None] = field(default_factory=dict)  # ordered set
    messages: list[int] = field(default_factory=list)
    end_ns: int | None = None

    def apply(self, event: DialogEvent, message: Message, history: bool = True) -> None:
        """The state after ``event`` (DIALOG_MACHINE); ``history=False`` records no
        :class:`~sipladder.model.DialogStateChange` (DialogTable's ``records``)."""
        new = DIALOG_MACHINE.get((self.state, event))
        if new is None or new is self.state:
            return
        self.state = new
        ts_ns = message.ts_ns
        if history:
            self.history.append(_new_state_change(ts_ns, new, message.index))
        if new is _TERMINATED:
            self.end_ns = ts_ns

    def freeze(self) -> Dialog:
        return _new_dialog(
            self.id,
            self.call_id,
            self.from_tag,
            self.to_tag,
            self.state or D.EARLY,  # state
            tuple(self.history),  # history
            tuple(self.transactions),  # transactions
            tuple(sorted(self.messages)),  # messages
            self.start_ns,
            self.end_ns,
            self.method,
            self.creating_transaction,
        )


_new_dialog = fast_constructor(Dialog)
_new_dialog_builder = builder_constructor(DialogBuilder)
_new_state_change = fast_constructor(DialogStateChange)
# (a global is cheaper to read than an enum member, in the per-message paths)
_REQUEST = MessageKind.REQUEST
_TERMINATED = D.TERMINATED
_PROVISIONAL, _SUCCESS, _FAILURE = DialogEvent.PROVISIONAL, DialogEvent.SUCCESS, DialogEvent.FAILURE
_BYE, _GONE = DialogEvent.BYE, DialogEvent.GONE


class DialogTable:
    """Finds (or creates) the dialog of each message: one dict lookup per message."""

    __slots__ = ("dialogs", "_by_key", "_records")

    def __init__(self, records: bool = True) -> None:
        self.dialogs: list[DialogBuilder] = []
        self._by_key: dict[tuple[str, str, str], int] = {}
        #: False: keep of each dialog only what the calls read (its id, state, end and
        #: creating transaction), not its history, messages and transactions, which only
        #: its frozen record has (for Correlator(calls_only=True), which freezes none)
        self._records = records

    def feed(
        self,
        message: Message,
        tx: TxBuilder | None,
        retransmission: bool,
        call_id: str,
        from_tag: str,
        to_tag: str,
    ) -> int | None:
        """The dialog of a message with a Call-ID and both tags (``name_tag`` of its From
        and To, read once by the caller): without them, a message identifies no dialog
        (a dialog-creating request, a 100 Trying, no dialog yet)."""
        sip = message.sip
        # the two tags as an unordered pair (either side may send the request)
        key = (call_id, from_tag, to_tag) if from_tag <= to_tag else (call_id, to_tag, from_tag)
        index = self._by_key.get(key)
        dialog = self.dialogs[index] if index is not None else None
        records = self._records
        if sip.kind is _REQUEST:
            method = sip.method or "?"
            if dialog is None:
                if method in ("ACK", "CANCEL") or retransmission:
                    return None
                # An in-dialog request of a dialog that began before the capture.
                dialog = self._new(key, call_id, from_tag, to_tag, message, method, None)
                dialog.apply(_SUCCESS, message, records)
            if method == "BYE" and not retransmission:
                dialog.apply(_BYE, message, records)
        else:
            status = sip.status or 0
            creating = tx is not None and tx.to_tag is None and tx.method in DIALOG_CREATING
            if dialog is None:
                if not creating or not 101 <= status < 300 or tx is None:
                    return None
                dialog = self._new(key, call_id, tx.from_tag, to_tag, message, tx.method, tx.id)
            if not retransmission:
                if creating:
                    event = (
                        _PROVISIONAL if status < 200 else _SUCCESS if status < 300 else _FAILURE
                    )
                    if status != 100:
                        dialog.apply(event, message, records)
                elif status in (481, 408):
                    dialog.apply(_GONE, message, records)
        if tx is not None and tx.dialog is None:
            tx.dialog = dialog.id
        if records:
            dialog.messages.append(message.index)
            if tx is not None:
                dialog.transactions[tx.id] = None
        return dialog.id

    def _new(
        self,
        key: tuple[str, str, str],
        call_id: str,
        from_tag: str | None,
        to_tag: str,
        message: Message,
        method: str,
        creating: int | None,
    ) -> DialogBuilder:
        dialog = _new_dialog_builder(  # every field of DialogBuilder, in order
            len(self.dialogs), call_id, from_tag, to_tag, message.ts_ns, method, creating,
            None, [], {}, [], None,  # state, history, transactions, messages, end_ns
        )  # fmt: skip
        self.dialogs.append(dialog)
        self._by_key[key] = dialog.id
        return dialog
