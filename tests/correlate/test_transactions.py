"""RFC 3261 section 17 matching rules, one test each, on hand-built flows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sipladder.correlate import Correlator
from sipladder.correlate.calls import CallBuilder
from sipladder.correlate.dialogs import DialogBuilder
from sipladder.correlate.transactions import (
    INVITE_MACHINE,
    NON_INVITE_MACHINE,
    Event,
    TxBuilder,
    builder_constructor,
    key_for_method,
    name_tag,
    transaction_key,
)
from sipladder.model import Dialog, DialogState, NameAddr, Transaction
from sipladder.model import TransactionState as S
from tests.correlate.sipflow import Flow, ms

A, B = "10.0.0.1", "10.0.0.2"


def test_invite_and_its_responses_form_one_transaction() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(100, 10, inv)
    f.response(180, 50, inv, to_tag="t1")
    f.response(200, 300, inv, to_tag="t1")
    (tx,) = f.correlation.transactions
    assert tx.method == "INVITE"
    assert tx.messages == (0, 1, 2, 3)
    assert tx.state is S.TERMINATED  # 17.1.1.2: a 2xx ends the INVITE transaction
    assert tx.final_status == 200
    assert ms(tx.first_provisional_ns - tx.start_ns) == 10
    assert ms(tx.final_ns - tx.start_ns) == 300
    assert str(tx.client) == "10.0.0.1:5060" and str(tx.server) == "10.0.0.2:5060"
    assert [r.status for r in tx.responses] == [100, 180, 200]
    assert not tx.rfc2543


def test_non_invite_goes_trying_proceeding_completed() -> None:
    f = Flow()
    opt = f.request("OPTIONS", 0, A, B, branch="z9hG4bKo")
    lone = f.request("OPTIONS", 1, A, B, branch="z9hG4bKlone", cseq=2)
    f.response(100, 2, opt)
    f.response(200, 3, opt, to_tag="x")
    first, second = f.correlation.transactions
    assert first.state is S.COMPLETED
    assert second.state is S.TRYING and second.final_status is None
    assert second.request == lone.index


def test_ack_for_non_2xx_belongs_to_the_invite_transaction() -> None:
    # 17.1.1.3: the ACK for a 3xx-6xx carries the INVITE's branch; 17.2.1: -> Confirmed.
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(486, 20, inv, to_tag="t1")
    f.request("ACK", 21, A, B, branch="z9hG4bK1", to_tag="t1", cseq_method="ACK")
    (tx,) = f.correlation.transactions
    assert tx.messages == (0, 1, 2)
    assert tx.state is S.CONFIRMED
    assert tx.final_status == 486


def test_ack_for_2xx_is_not_part_of_the_invite_transaction() -> None:
    # 17.1.1.3 / 13.2.2.4: the ACK for a 2xx is a new request with its own branch.
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(200, 20, inv, to_tag="t1")
    f.request("ACK", 21, A, B, branch="z9hG4bK2", to_tag="t1")
    invite, ack = f.correlation.transactions
    assert invite.messages == (0, 1) and invite.state is S.TERMINATED
    assert ack.method == "ACK" and ack.messages == (2,)
    assert ack.dialog == invite.dialog is not None


def test_ack_for_2xx_reusing_the_invite_branch_still_is_not_in_the_invite_transaction() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(200, 20, inv, to_tag="t1")
    f.request("ACK", 21, A, B, branch="z9hG4bK1", to_tag="t1")
    invite, ack = f.correlation.transactions
    assert invite.messages == (0, 1)
    assert ack.method == "ACK"


def test_cancel_is_its_own_transaction_linked_to_the_invite() -> None:
    # 9.1: the CANCEL copies the INVITE's top Via (branch); 9.2 / 17.2.3 match it by method.
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(180, 10, inv, to_tag="t1")
    cancel = f.request("CANCEL", 100, A, B, branch="z9hG4bK1")
    f.response(200, 110, cancel)
    f.response(487, 111, inv, to_tag="t1")
    f.request("ACK", 112, A, B, branch="z9hG4bK1", to_tag="t1", cseq_method="ACK")
    invite, can = f.correlation.transactions
    assert can.method == "CANCEL" and can.cancels == invite.id
    assert can.messages == (2, 3) and can.final_status == 200
    assert invite.messages == (0, 1, 4, 5) and invite.final_status == 487
    assert invite.state is S.CONFIRMED


def test_same_branch_from_another_sent_by_is_another_transaction() -> None:
    # 17.2.3: branch AND sent-by must match (two clients may pick the same branch).
    f = Flow()
    f.request("OPTIONS", 0, A, B, branch="z9hG4bKsame")
    f.request("OPTIONS", 1, "10.0.0.3", B, branch="z9hG4bKsame")
    assert len(f.correlation.transactions) == 2


def test_same_branch_other_method_is_another_transaction() -> None:
    f = Flow()
    f.request("REGISTER", 0, A, B, branch="z9hG4bKsame")
    f.request("OPTIONS", 1, A, B, branch="z9hG4bKsame")
    assert [t.method for t in f.correlation.transactions] == ["REGISTER", "OPTIONS"]


def test_response_is_matched_by_cseq_method() -> None:
    # 17.1.3: branch + CSeq method; a 200 to the CANCEL is not an answer to the INVITE.
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    cancel = f.request("CANCEL", 5, A, B, branch="z9hG4bK1")
    f.response(200, 6, cancel)
    invite, can = f.correlation.transactions
    assert invite.final_status is None and invite.state is S.CALLING
    assert can.final_status == 200
    assert inv.index == invite.request


# --------------------------------------------------------------------------- RFC 2543


def test_rfc2543_fallback_matches_without_magic_cookie() -> None:
    # 17.2.3, last paragraphs: no z9hG4bK -> Request-URI, tags, Call-ID, CSeq and top Via.
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="oldbranch")
    f.response(180, 10, inv, to_tag="t1")
    f.response(486, 20, inv, to_tag="t1")
    f.request("ACK", 21, A, B, branch="oldbranch", to_tag="t1", cseq_method="ACK")
    (tx,) = f.correlation.transactions
    assert tx.rfc2543
    assert tx.messages == (0, 1, 2, 3)
    assert tx.state is S.CONFIRMED


def test_transaction_key_text() -> None:
    # the key as the record shows it: its parts joined by "|" (by hand, from the rules:
    # branch, sent-by and method; or the RFC 2543 parts; or, without Via, where it went)
    f = Flow()
    f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.request("OPTIONS", 1, A, B, branch="old", cseq=7)
    no_via = f.request("BYE", 2, A, B, branch=None, cseq=8)
    correlator = Correlator()
    for message in f.messages[:2]:
        correlator.feed(message)
    correlator.feed(replace(no_via, sip=replace(no_via.sip, vias=())))
    assert [t.key for t in correlator.finish().transactions] == [
        "z9hG4bK1|10.0.0.1:5060|INVITE",
        "2543|call-1|ftag|7|OPTIONS|10.0.0.1:5060|old",
        f"novia|10.0.0.1:5060|10.0.0.2:5060|call-1|{no_via.sip.cseq}|BYE",
    ]


@pytest.mark.parametrize("branch", ["z9hG4bK1", "old", None], ids=["rfc3261", "rfc2543", "none"])
def test_key_for_another_method_is_the_key_made_for_it(branch: str | None) -> None:
    f = Flow()
    ack = f.request("ACK", 0, A, B, branch=branch, cseq=7, to_tag="t")
    found = transaction_key(ack.sip, "ACK")
    invite = transaction_key(ack.sip, "INVITE")
    assert found is not None and invite is not None
    assert key_for_method(found[0], "INVITE") == invite[0] != found[0]
    novia = ("novia", "a", "b", "c", "d", "ACK")  # (no Via: no key for any method)
    assert key_for_method(novia, "INVITE") is None


def test_rfc2543_without_any_branch() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch=None)
    f.response(200, 10, inv, to_tag="t1")
    (tx,) = f.correlation.transactions
    assert tx.rfc2543 and tx.final_status == 200


def test_rfc2543_different_cseq_is_a_different_transaction() -> None:
    f = Flow()
    f.request("INVITE", 0, A, B, branch=None, cseq=1)
    f.request("INVITE", 5, A, B, branch=None, cseq=2)
    assert len(f.correlation.transactions) == 2


def test_rfc2543_different_request_uri_is_a_different_transaction() -> None:
    f = Flow()
    f.request("INVITE", 0, A, B, branch=None, uri="sip:bob@b.example")
    f.request("INVITE", 5, A, B, branch=None, uri="sip:carol@b.example")
    assert len(f.correlation.transactions) == 2


def test_rfc2543_ack_with_another_to_tag_is_not_in_the_invite_transaction() -> None:
    # 17.2.3: "the To tag of the ACK matches the To tag of the response sent".
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch=None)
    f.response(486, 20, inv, to_tag="t1")
    f.request("ACK", 21, A, B, branch=None, to_tag="other", cseq_method="ACK")
    invite, ack = f.correlation.transactions
    assert invite.state is S.COMPLETED
    assert ack.method == "ACK"


def test_rfc2543_cancel_is_linked_to_its_invite() -> None:
    f = Flow()
    f.request("INVITE", 0, A, B, branch=None)
    f.request("CANCEL", 5, A, B, branch=None)
    invite, cancel = f.correlation.transactions
    assert cancel.cancels == invite.id and cancel.rfc2543


# --------------------------------------------------------------------------- retransmissions


def test_request_retransmission_is_marked_and_does_not_move_the_start() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.again(inv, 500)  # Timer A (17.1.1.2)
    f.again(inv, 1500)
    f.response(180, 1600, inv, to_tag="t1")
    c = f.correlation
    (tx,) = c.transactions
    assert tx.retransmissions == 2
    assert [link.retransmission for link in c.links] == [False, True, True, False]
    assert tx.start_ns == inv.ts_ns
    assert ms(tx.first_provisional_ns - tx.start_ns) == 1600


def test_response_retransmission_is_marked() -> None:
    # 13.3.1.4: the UAS core retransmits the 2xx until the ACK arrives.
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    ok = f.response(200, 10, inv, to_tag="t1")
    f.again(ok, 510)
    c = f.correlation
    assert c.transactions[0].retransmissions == 1
    assert c.links[2].retransmission
    assert [r.ts_ns for r in c.transactions[0].responses] == [ok.ts_ns]


def test_same_status_from_two_forks_is_not_a_retransmission() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(180, 10, inv, to_tag="fork1")
    f.response(180, 12, inv, to_tag="fork2")
    c = f.correlation
    assert c.transactions[0].retransmissions == 0
    assert len(c.transactions[0].responses) == 2


def test_ack_for_non_2xx_retransmission() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(486, 10, inv, to_tag="t1")
    ack = f.request("ACK", 11, A, B, branch="z9hG4bK1", to_tag="t1", cseq_method="ACK")
    f.response(486, 510, inv, to_tag="t1")  # the ACK was lost: the UAS sends the 486 again
    f.again(ack, 511)
    c = f.correlation
    assert c.transactions[0].retransmissions == 2
    assert [link.retransmission for link in c.links] == [False, False, False, True, True]


def test_same_request_on_another_hop_is_not_a_retransmission() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.forward(inv, 5, B, "10.0.0.3", branch="z9hG4bKp")
    c = f.correlation
    assert len(c.transactions) == 2
    assert not any(link.retransmission for link in c.links)


def test_orphan_response_is_counted() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.messages.clear()
    f.response(200, 10, inv, to_tag="t")
    c = f.correlation
    assert c.transactions == () and c.orphan_responses == 1
    assert c.links[0].transaction is None


def test_request_without_via_still_gets_a_transaction() -> None:
    f = Flow()
    inv = f.request("OPTIONS", 0, A, B, branch="z9hG4bK1")
    from dataclasses import replace

    f.messages[0] = replace(inv, sip=replace(inv.sip, vias=()))
    f.again(f.messages[0], 500)
    c = f.correlation
    assert len(c.transactions) == 1 and c.transactions[0].retransmissions == 1


# --------------------------------------------------------------------------- state tables


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], S.CALLING),
        ([Event.PROVISIONAL], S.PROCEEDING),
        ([Event.PROVISIONAL, Event.SUCCESS], S.TERMINATED),
        ([Event.SUCCESS], S.TERMINATED),
        ([Event.FAILURE], S.COMPLETED),
        ([Event.PROVISIONAL, Event.FAILURE, Event.ACK], S.CONFIRMED),
        ([Event.SUCCESS, Event.PROVISIONAL], S.TERMINATED),  # late 1xx changes nothing
    ],
    ids=["none", "1xx", "1xx-2xx", "2xx", "non-2xx", "non-2xx-ack", "late-1xx"],
)
def test_invite_state_table(events: list[Event], expected: S) -> None:
    state = S.CALLING
    for event in events:
        state = INVITE_MACHINE.get((state, event), state)
    assert state is expected


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], S.TRYING),
        ([Event.PROVISIONAL], S.PROCEEDING),
        ([Event.SUCCESS], S.COMPLETED),
        ([Event.PROVISIONAL, Event.FAILURE], S.COMPLETED),
    ],
    ids=["none", "1xx", "2xx", "1xx-failure"],
)
def test_non_invite_state_table(events: list[Event], expected: S) -> None:
    state = S.TRYING
    for event in events:
        state = NON_INVITE_MACHINE.get((state, event), state)
    assert state is expected


def test_feed_returns_the_links_at_once() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    correlator = Correlator()
    first = correlator.feed(inv)
    second = correlator.feed(f.again(inv, 500))
    assert first.transaction == second.transaction == 0
    assert second.retransmission and not first.retransmission


def test_cancel_whose_via_drops_the_default_port_is_still_linked() -> None:
    # Seen in sngrep's aaa.pcap: INVITE Via "192.168.1.2:5060", CANCEL Via "192.168.1.2".
    # Without a port, sent-by means port 5060 (RFC 3261 section 19.1.2), so they are equal.
    f = Flow()
    f.request("INVITE", 0, A, B, branch="z9hG4bK1", sent_by="10.0.0.1:5060")
    f.request("CANCEL", 5, A, B, branch="z9hG4bK1", sent_by="10.0.0.1")
    invite, cancel = f.correlation.transactions
    assert cancel.cancels == invite.id


def test_tls_default_port_is_5061() -> None:
    from sipladder.correlate.transactions import sent_by_key
    from sipladder.model import Via
    from tests.correlate.sipflow import via

    tls = via("proxy.example", "z9hG4bK1")
    tls = type(tls)(tls.protocol, "TLS", tls.host, None, tls.params)
    assert sent_by_key(tls) == "proxy.example:5061"
    assert sent_by_key(via("Proxy.Example", "z9hG4bK1")) == "proxy.example:5060"
    assert sent_by_key(Via("SIP/2.0", "UDP", "2001:DB8::1", None)) == "[2001:db8::1]:5060"


def test_sent_by_texts_are_remembered_within_a_bound() -> None:
    from sipladder.correlate import transactions
    from sipladder.model import Via

    limit = transactions._SENT_BY_LIMIT
    for round_ in range(2):  # the second round finds them remembered (or made again)
        for n in range(limit + 10):
            host = f"Host{n}.Example"
            assert transactions.sent_by_key(Via("SIP/2.0", "UDP", host, None)) == (
                f"host{n}.example:5060"
            ), round_
            assert transactions.sent_by_key(Via("SIP/2.0", "TLS", host, None)) == (
                f"host{n}.example:5061"
            ), round_
            assert transactions.sent_by_key(Via("SIP/2.0", "UDP", host, 5070)) == (
                f"host{n}.example:5070"
            ), round_
            assert len(transactions._SENT_BY) <= limit


def test_finish_twice_gives_the_same_result_and_feed_after_finish_is_refused() -> None:
    f = Flow()
    inv = f.request("INVITE", 0, A, B, branch="z9hG4bK1")
    f.response(180, 10, inv, to_tag="t")
    correlator = Correlator()
    for m in f.messages:
        correlator.feed(m)
    first = correlator.finish()
    assert correlator.finish() is first
    assert first.dialogs[0].messages == (0, 1)
    with pytest.raises(RuntimeError):
        correlator.feed(inv)


def test_builders_freeze_every_field_into_its_place() -> None:
    # Every attribute of the builders gets a value of its own, so that a field frozen from
    # the wrong attribute (the constructors are positional) shows.
    tx = TxBuilder(*[f"tx-{name}" for name in list(TxBuilder.__dataclass_fields__)[:17]])
    for name in list(TxBuilder.__dataclass_fields__)[17:]:
        setattr(tx, name, f"tx-{name}")
    tx.messages, tx.responses, tx.key = [1, 2], ["r1"], ("z9hG4bK1", "a.example:5060", 7)
    expected = {name: f"tx-{name}" for name in Transaction.__dataclass_fields__}
    expected |= {"messages": (1, 2), "responses": ("r1",), "key": "z9hG4bK1|a.example:5060|7"}
    assert tx.freeze() == Transaction(**expected)

    dialog = DialogBuilder(*[f"d-{name}" for name in list(DialogBuilder.__dataclass_fields__)])
    dialog.history, dialog.transactions, dialog.messages = ["h"], {3: None, 1: None}, [5, 4]
    wanted = {name: f"d-{name}" for name in Dialog.__dataclass_fields__}
    wanted |= {"history": ("h",), "transactions": (3, 1), "messages": (4, 5)}
    assert dialog.freeze() == Dialog(**wanted)
    dialog.state = None
    assert dialog.freeze().state is DialogState.EARLY


@pytest.mark.parametrize("cls", [TxBuilder, DialogBuilder, CallBuilder],
                         ids=["transaction", "dialog", "call"])
def test_builder_constructor_is_the_dataclass_constructor(cls: type) -> None:
    values = [f"v-{name}" for name in cls.__dataclass_fields__]  # each its own value
    built = builder_constructor(cls)(*values)
    assert type(built) is cls
    assert built == cls(*values)
    assert [getattr(built, name) for name in cls.__dataclass_fields__] == values


@pytest.mark.parametrize(
    ("params", "tag"),
    [((), None), ((("tag", "a1"),), "a1"), ((("lr", None), ("tag", "b2")), "b2"),
     ((("tag", None),), None)],
    ids=["none", "only", "after-other", "valueless"],
)
def test_name_tag_reads_the_tag_parameter(params: tuple[tuple[str, str | None], ...],
                                          tag: str | None) -> None:
    addr = NameAddr(None, "sip:a@b", params)
    assert name_tag(addr) == addr.tag == tag
    assert name_tag(None) is None
