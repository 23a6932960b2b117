"""Property tests: any message stream, however broken, correlates without an exception, and
the records stay consistent with each other."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipladder.correlate import Correlator, correlate
from sipladder.correlate.transactions import transaction_key, via_identity
from sipladder.model import (
    CSeq,
    DialogState,
    Endpoint,
    Message,
    MessageKind,
    NameAddr,
    SipMessage,
    Transport,
    Via,
)

METHODS = ["INVITE", "ACK", "CANCEL", "BYE", "REGISTER", "PRACK", "OPTIONS", "INIVTE"]
STATUSES = [100, 180, 183, 200, 202, 302, 401, 407, 408, 481, 486, 487, 500, 603]
ENDPOINTS = [Endpoint("10.0.0.1", 5060), Endpoint("10.0.0.2", 5060), Endpoint("::1", 5070)]


@st.composite
def sip_messages(draw: st.DrawFn) -> SipMessage:
    request = draw(st.booleans())
    tags = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
    branch = draw(st.one_of(st.none(), st.sampled_from(["z9hG4bK1", "z9hG4bK2", "old"])))
    vias = draw(st.lists(st.sampled_from(["10.0.0.1", "10.0.0.2:5060", "p.example"]),
                         max_size=3))
    method = draw(st.sampled_from(METHODS))
    contacts = draw(st.lists(st.builds(
        NameAddr, st.none(), st.sampled_from(["sip:u@h", "*"]),
        st.sampled_from([(), (("expires", "0"),), (("expires", "x"),), (("expires", None),)]),
    ), max_size=2))
    return SipMessage(
        kind=MessageKind.REQUEST if request else MessageKind.RESPONSE,
        method=method if request else None,
        request_uri=draw(st.sampled_from(["sip:b@h", "sip:c@h", None])) if request else None,
        status=None if request else draw(st.sampled_from(STATUSES)),
        reason=None,
        version="SIP/2.0",
        headers=(),
        body=b"",
        raw=b"",
        call_id=draw(st.one_of(st.none(), st.sampled_from(["c1", "c2"]))),
        cseq=draw(st.one_of(st.none(), st.builds(
            CSeq, st.integers(1, 3), st.sampled_from(METHODS)))),
        from_=draw(st.one_of(st.none(), st.builds(
            lambda t: NameAddr(None, "sip:a@h", (("tag", t),) if t else ()), tags))),
        to=draw(st.one_of(st.none(), st.builds(
            lambda t: NameAddr(None, "sip:b@h", (("tag", t),) if t else ()), tags))),
        vias=tuple(
            Via("SIP/2.0", "UDP", v.split(":")[0], int(v.split(":")[1]) if ":" in v else None,
                (("branch", branch),) if branch and i == 0 else ())
            for i, v in enumerate(vias)
        ),
        contacts=tuple(contacts),
        expires=draw(st.one_of(st.none(), st.sampled_from([0, 60]))),
    )


@st.composite
def streams(draw: st.DrawFn) -> list[Message]:
    sips = draw(st.lists(sip_messages(), max_size=25))
    times = sorted(draw(st.lists(st.integers(0, 10**10), min_size=len(sips),
                                 max_size=len(sips))))
    return [
        Message(i, "f", i + 1, ts, draw(st.sampled_from(ENDPOINTS)),
                draw(st.sampled_from(ENDPOINTS)), Transport.UDP, sip)
        for i, (ts, sip) in enumerate(zip(times, sips, strict=True))
    ]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_any_stream_correlates_consistently(messages: list[Message]) -> None:
    c = correlate(messages)
    assert len(c.links) == len(messages)
    for tx in c.transactions:
        assert tx.messages == tuple(sorted(tx.messages))
        assert tx.request in tx.messages
        assert all(c.links[i].transaction == tx.id for i in tx.messages)
        assert tx.retransmissions == sum(c.links[i].retransmission for i in tx.messages)
        if tx.parent is not None:
            parent = c.transactions[tx.parent]
            assert parent.request_group == tx.request_group and parent.hop + 1 == tx.hop
        assert tx.final_ns is None or tx.final_ns >= tx.start_ns
    for dialog in c.dialogs:
        assert all(c.links[i].dialog == dialog.id for i in dialog.messages)
    for call in c.calls:
        assert all(messages[i].sip.call_id == call.call_id for i in call.messages)
        for value in (call.pdd_ns, call.answer_ns, call.release_ns, call.duration_ns):
            assert value is None or value >= 0
        assert call.answer_ns is None or call.state.value in ("answered", "completed")
    for reg in c.registrations:
        assert reg.delay_ns is None or (reg.delay_ns >= 0 and reg.final_status is not None)
    assert sum(link.retransmission for link in c.links) == c.retransmissions


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_a_calls_only_correlator_gives_the_same_calls(messages: list[Message]) -> None:
    # Call-IDs c1 and c2 share branches and tags here: transactions and dialogs span
    # Call-IDs, which a calls_only correlator (what the streaming path falls back to) must
    # see as one over everything does, keeping less.
    full = Correlator()
    lean = Correlator(calls_only=True)
    for message in messages:
        assert tuple(lean.feed(message)) == tuple(full.feed(message))
    c = full.finish()
    assert lean.finish_calls() == list(c.calls)
    for tx, kept in zip(c.transactions, lean.transaction_builders, strict=True):
        assert (kept.state, kept.final_status, kept.final_ns, kept.dialog, kept.hop) == (
            tx.state, tx.final_status, tx.final_ns, tx.dialog, tx.hop
        )
        # the responses only of INVITEs: the calls read no others
        assert tuple(kept.responses) == (tx.responses if tx.method == "INVITE" else ())
    for dialog, builder in zip(c.dialogs, lean.dialog_builders, strict=True):
        assert (builder.state or DialogState.EARLY, builder.end_ns) == (dialog.state, dialog.end_ns)
        assert builder.history == builder.messages == [] and builder.transactions == {}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_transactions_are_matched_by_transaction_key(messages: list[Message]) -> None:
    # (TransactionTable.feed computes the key inline: it must be transaction_key's)
    c = correlate(messages)
    for tx in c.transactions:
        found = transaction_key(messages[tx.request].sip, tx.method)
        if found is None:
            assert tx.key.startswith("novia|")
        else:
            assert (tx.key, tx.rfc2543) == ("|".join(map(str, found[0])), found[1])
    for message, link in zip(messages, c.links, strict=True):
        if not message.sip.is_request and link.transaction is not None:
            found = transaction_key(message.sip, message.sip.cseq_method or "?")
            assert found is not None
            assert c.transactions[link.transaction].key == "|".join(map(str, found[0]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_hops_follow_the_via_stacks(messages: list[Message]) -> None:
    # The rule of sipladder.correlate.hops, restated over whole Via stacks: a transaction's
    # parent is the first transaction whose request had the same Call-ID, CSeq number and
    # method and the Via stack below this request's top Via. (The table indexes the stacks
    # only from the first request with several Vias on: this must not show.)
    c = correlate(messages)
    first: dict[tuple[object, ...], int] = {}
    groups = 0
    for tx in c.transactions:
        vias = via_identity(messages[tx.request].sip)
        parent = first.get((tx.call_id, tx.cseq, tx.method, vias[1:])) if len(vias) > 1 else None
        if parent is None:
            assert (tx.parent, tx.hop, tx.request_group) == (None, 0, groups)
            groups += 1
        else:
            parent_tx = c.transactions[parent]
            assert (tx.parent, tx.hop, tx.request_group) == (
                parent, parent_tx.hop + 1, parent_tx.request_group
            )
        first.setdefault((tx.call_id, tx.cseq, tx.method, vias), tx.id)
