"""RFC 3261 section 12 dialogs: early, confirmed, terminated; forking; both directions."""

from __future__ import annotations

import pytest

from sipladder.correlate.dialogs import DIALOG_MACHINE, DialogEvent
from sipladder.model import DialogState as D
from tests.correlate.sipflow import Flow

A, B = "10.0.0.1", "10.0.0.2"


def states(dialog) -> list[str]:  # type: ignore[no-untyped-def]
    return [change.state.value for change in dialog.history]


def test_early_dialog_from_1xx_with_to_tag_then_confirmed_then_terminated() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(100, 1, inv)  # no To tag: no dialog yet
    f.response(180, 10, inv, to_tag="b")
    f.response(200, 100, inv, to_tag="b")
    f.request("ACK", 101, A, B, branch="z9hG4bK2", to_tag="b")
    # The callee hangs up: From and To tags swapped, still the same dialog.
    bye = f.request("BYE", 5000, B, A, branch="z9hG4bK3", from_tag="b", to_tag="ftag", cseq=1)
    f.response(200, 5010, bye)
    c = f.correlation
    (dialog,) = c.dialogs
    assert (dialog.call_id, dialog.from_tag, dialog.to_tag) == ("call-1", "ftag", "b")
    assert states(dialog) == ["early", "confirmed", "terminated"]
    assert [ch.message for ch in dialog.history] == [2, 3, 5]
    assert dialog.state is D.TERMINATED
    assert dialog.end_ns == bye.ts_ns
    assert dialog.messages == (0, 1, 2, 3, 4, 5, 6)
    assert dialog.method == "INVITE" and dialog.creating_transaction == 0
    assert [link.dialog for link in c.links] == [0] * 7
    assert dialog.transactions == (0, 1, 2)


def test_forking_gives_one_dialog_per_to_tag_under_one_call() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(180, 10, inv, to_tag="fork1")
    f.response(183, 12, inv, to_tag="fork2")
    f.response(200, 100, inv, to_tag="fork2")
    c = f.correlation
    first, second = c.dialogs
    assert (first.to_tag, second.to_tag) == ("fork1", "fork2")
    assert first.state is D.EARLY and second.state is D.CONFIRMED
    (call,) = c.calls
    assert call.dialogs == (0, 1)
    assert c.transactions[0].dialog == 0


def test_non_2xx_final_terminates_the_early_dialog() -> None:
    # 12.3 (and 13.2.2.3): a non-2xx final response ends the early dialogs it matches.
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(180, 10, inv, to_tag="b")
    f.response(486, 20, inv, to_tag="b")
    (dialog,) = f.correlation.dialogs
    assert states(dialog) == ["early", "terminated"]


def test_non_2xx_without_earlier_1xx_creates_no_dialog() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(486, 20, inv, to_tag="b")
    f.request("ACK", 21, A, B, branch="z9hG4bK1", to_tag="b", cseq_method="ACK")
    assert f.correlation.dialogs == ()


def test_481_to_an_in_dialog_request_terminates_the_dialog() -> None:
    # 12.2.1.2: a 481 or 408 to a request inside a dialog ends it.
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(200, 10, inv, to_tag="b")
    reinvite = f.request("INVITE", 60_000, A, B, branch="z9hG4bK9", to_tag="b", cseq=2)
    f.response(481, 60_010, reinvite, to_tag="b")
    (dialog,) = f.correlation.dialogs
    assert states(dialog) == ["confirmed", "terminated"]


def test_in_dialog_request_of_a_dialog_older_than_the_capture() -> None:
    f = Flow()
    bye = f.request("BYE", 0, A, B, branch="z9hG4bK1", to_tag="b")
    f.response(200, 5, bye)
    (dialog,) = f.correlation.dialogs
    assert dialog.creating_transaction is None
    assert states(dialog) == ["confirmed", "terminated"]


def test_subscribe_creates_a_dialog() -> None:
    f = Flow()
    sub = f.request("SUBSCRIBE", 0, A, B, branch="z9hG4bK1")
    f.response(202, 5, sub, to_tag="n")
    f.request("NOTIFY", 6, B, A, branch="z9hG4bK2", from_tag="n", to_tag="ftag")
    (dialog,) = f.correlation.dialogs
    assert dialog.method == "SUBSCRIBE" and dialog.state is D.CONFIRMED
    assert dialog.messages == (0, 1, 2)


def test_options_response_with_to_tag_creates_no_dialog() -> None:
    f = Flow()
    opt = f.request("OPTIONS", 0, A, B, branch="z9hG4bK1")
    f.response(200, 5, opt, to_tag="x")
    assert f.correlation.dialogs == ()


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([DialogEvent.PROVISIONAL], D.EARLY),
        ([DialogEvent.SUCCESS], D.CONFIRMED),
        ([DialogEvent.PROVISIONAL, DialogEvent.SUCCESS], D.CONFIRMED),
        ([DialogEvent.PROVISIONAL, DialogEvent.FAILURE], D.TERMINATED),
        ([DialogEvent.SUCCESS, DialogEvent.FAILURE], D.CONFIRMED),
        ([DialogEvent.SUCCESS, DialogEvent.BYE], D.TERMINATED),
        ([DialogEvent.PROVISIONAL, DialogEvent.BYE], D.TERMINATED),
        ([DialogEvent.SUCCESS, DialogEvent.GONE], D.TERMINATED),
    ],
    ids=["1xx", "2xx", "1xx-2xx", "1xx-failure", "2xx-late-failure", "bye", "early-bye", "481"],
)
def test_dialog_state_table(events: list[DialogEvent], expected: D) -> None:
    state: D | None = None
    for event in events:
        state = DIALOG_MACHINE.get((state, event), state)
    assert state is expected
