"""Ladder geometry: column order and names, rows, colours, brackets, scope notes."""

from __future__ import annotations

import dataclasses

import pytest
from ladder_factory import (
    CALL_ID,
    MS,
    T0,
    VIA_A,
    A,
    B,
    P,
    call_correlation,
    call_messages,
    message,
    sip,
)

from sipladder.layout import (
    PALETTE,
    build_layout,
    duration_text,
    learned_names,
    normalise_address,
    order_columns,
    parse_alias,
    parse_hosts,
    sdp_summary,
    select_messages,
)
from sipladder.model import Endpoint, SdpMedia, SdpSession, Via


def test_columns_follow_the_request_path() -> None:
    layout = build_layout(call_messages())
    assert [c.key for c in layout.columns] == [str(A), str(P), str(B)]
    xs = [c.x for c in layout.columns]
    assert xs == sorted(xs)


def test_register_path_is_inserted_after_the_node_that_forwarded_it() -> None:
    """An INVITE went A -> P -> B; a REGISTER went A -> P -> R: R goes right after P."""
    r = Endpoint("192.0.2.99", 5060)
    reg = sip(
        "REGISTER sip:example.com SIP/2.0", cseq=(1, "REGISTER"), vias=(VIA_A,), call_id="reg"
    )
    messages = call_messages()[:3] + [
        message(3, 40, A, P, reg),
        message(4, 41, P, r, reg),
    ]
    keys = order_columns(messages, [False] * 5, "endpoint")
    assert keys == [str(A), str(P), str(r), str(B)]


def test_register_only_capture_puts_the_registering_ue_first() -> None:
    r = Endpoint("192.0.2.99", 5060)
    reg = sip(
        "REGISTER sip:example.com SIP/2.0", cseq=(1, "REGISTER"), vias=(VIA_A,), call_id="reg"
    )
    ok = sip("SIP/2.0 200 OK", cseq=(1, "REGISTER"), vias=(VIA_A,), call_id="reg")
    # The response is listed first on purpose: order comes from the request path.
    messages = [message(0, 0, r, P, ok), message(1, 1, A, P, reg), message(2, 2, P, r, reg)]
    assert order_columns(messages, [False] * 3, "endpoint") == [str(A), str(P), str(r)]


def test_group_host_merges_ports_and_draws_a_self_message() -> None:
    b2 = Endpoint(B.ip, 5070)
    extra = message(
        14, 6000, B, b2, sip("OPTIONS sip:b SIP/2.0", cseq=(9, "OPTIONS"), vias=(VIA_A,))
    )
    by_endpoint = build_layout(call_messages() + [extra])
    by_host = build_layout(call_messages() + [extra], group="host")
    assert len(by_endpoint.columns) == 4
    assert [c.key for c in by_host.columns] == [A.ip, P.ip, B.ip]
    assert by_host.columns[0].address == "[2001:db8::a]"
    last = by_host.rows[-1]
    assert last.src == last.dst == 2


def test_learned_name_from_via_and_record_route() -> None:
    assert learned_names(call_messages()) == {P.ip: "proxy.example.com"}
    layout = build_layout(call_messages())
    assert [c.name for c in layout.columns] == [None, "proxy.example.com", None]
    assert build_layout(call_messages(), learn_names=False).columns[1].name is None


def test_learned_name_dropped_when_ambiguous() -> None:
    """The same host name on two addresses says nothing about either."""
    other = Endpoint("192.0.2.11", 5060)
    msgs = call_messages()
    twin = dataclasses.replace(msgs[2], index=14, src=other)
    assert learned_names(msgs + [twin]) == {}


@pytest.mark.parametrize(
    ("aliases", "expected"),
    [
        pytest.param(
            {"2001:DB8::A": "Alice"}, ["Alice", "proxy.example.com", None], id="ip-any-port"
        ),
        pytest.param(
            {"[2001:db8::a]:5060": "Alice"}, ["Alice", "proxy.example.com", None], id="v6-ip-port"
        ),
        pytest.param(
            {"192.0.2.20:5062": "Bob"}, [None, "proxy.example.com", "Bob"], id="v4-ip-port"
        ),
        pytest.param(
            {"192.0.2.20:9999": "Bob"}, [None, "proxy.example.com", None], id="other-port"
        ),
        pytest.param({"192.0.2.10": "P-CSCF"}, [None, "P-CSCF", None], id="alias-beats-learned"),
        pytest.param(
            {"proxy.example.com": "Edge"}, [None, "Edge", None], id="alias-of-learned-name"
        ),
        pytest.param(
            {"192.0.2.20": "any", "192.0.2.20:5062": "exact"},
            [None, "proxy.example.com", "exact"],
            id="ip-port-beats-ip",
        ),
    ],
)
def test_aliases(aliases: dict[str, str], expected: list[str | None]) -> None:
    layout = build_layout(call_messages(), aliases=aliases)
    assert [c.name for c in layout.columns] == expected


def test_parse_alias_and_hosts() -> None:
    assert parse_alias("5555::A:F:F:E=P-CSCF") == ("5555::a:f:f:e", "P-CSCF")
    assert parse_alias("[5555::1]:5060 = UE") == ("[5555::1]:5060", "UE")
    assert parse_alias("10.0.0.1:5060=a=b") == ("10.0.0.1:5060", "a=b")
    for bad in ("nothing", "=name", "1.2.3.4="):
        with pytest.raises(ValueError):
            parse_alias(bad)
    hosts = "# comment\n10.0.0.1  pcscf pcscf.example   # trailing\n\n5555::1 ue\n10.0.0.1 second\n"
    assert parse_hosts(hosts) == {"10.0.0.1": "pcscf", "5555::1": "ue"}
    assert normalise_address("Host.Example") == "host.example"


def test_rows_labels_deltas_and_retransmissions() -> None:
    layout = build_layout(call_messages(), call_correlation())
    rows = layout.rows
    assert len(rows) == 14
    assert (rows[0].label, rows[0].cseq, rows[0].src, rows[0].dst) == ("INVITE", "CSeq 1", 0, 1)
    assert (rows[1].label, rows[1].cseq, rows[1].src, rows[1].dst) == (
        "100 Trying",
        "CSeq 1 INVITE",
        1,
        0,
    )
    assert rows[0].delta_ns is None
    assert rows[1].delta_ns == 10 * MS
    assert [r.retransmission for r in rows] == [i == 5 for i in range(14)]
    assert rows[0].sdp == "SDP audio PCMU,PCMA,telephone-event sendrecv [2001:db8::a]:49170"
    assert rows[0].detail.startswith("INVITE sip:bob@example.com SIP/2.0\nVia: ")
    ys = [r.y for r in rows]
    assert ys == sorted(ys) and len(set(ys)) == 14


def test_fallback_retransmission_rule_without_correlation() -> None:
    layout = build_layout(call_messages())
    assert [r.retransmission for r in layout.rows] == [i == 5 for i in range(14)]


def test_sdp_summary_forms() -> None:
    sdp = SdpSession(
        None,
        None,
        "10.0.0.1",
        (
            SdpMedia(
                "audio", 4000, "RTP/AVP", ("8",), rtpmap=(("8", "PCMA/8000"),), direction="sendonly"
            ),
            SdpMedia("video", 0, "RTP/AVP", ("96",)),
        ),
    )
    assert sdp_summary(sdp) == "SDP audio PCMA sendonly 10.0.0.1:4000 | video 96 sendrecv rejected"


def test_colours_per_dialog_from_the_colour_blind_safe_palette() -> None:
    corr = call_correlation()
    layout = build_layout(call_messages(), corr)
    assert {r.colour for r in layout.rows} == {PALETTE[0]}
    assert layout.legend == ((PALETTE[0], f"dialog 0 (Call-ID {CALL_ID})"),)
    # Without correlation, two Call-IDs get two colours.
    other = message(
        14,
        9000,
        A,
        P,
        sip("OPTIONS sip:p SIP/2.0", cseq=(1, "OPTIONS"), vias=(VIA_A,), call_id="x"),
    )
    plain = build_layout(call_messages() + [other])
    assert [c for c, _ in plain.legend] == [PALETTE[0], PALETTE[1]]
    assert "#F0E442" not in PALETTE  # Okabe-Ito yellow is unreadable on white


def test_timing_brackets_from_correlation() -> None:
    """Intervals of the hand-worked call in ladder_factory: PDD 33 ms (rows 0-4),
    answer 2.004 s (0-7), release 22 ms (10-13), proxy adds 12 ms (0-2) and 3 ms (10-11)."""
    layout = build_layout(call_messages(), call_correlation())
    side = {(b.kind, b.label, b.start_row, b.end_row) for b in layout.side_brackets}
    assert side == {
        ("pdd", "PDD 33.0 ms", 0, 4),
        ("answer", "answer 2.004 s", 0, 7),
        ("release", "release 22.0 ms", 10, 13),
    }
    hops = {(b.label, b.start_row, b.end_row, b.column, b.side) for b in layout.hop_brackets}
    assert hops == {("+12.0 ms", 0, 2, 1, "left"), ("+3.0 ms", 10, 11, 1, "left")}
    # Overlapping side brackets never share a lane; all are right of the ladder.
    pdd, answer = (next(b for b in layout.side_brackets if b.kind == k) for k in ("pdd", "answer"))
    assert pdd.lane != answer.lane
    assert all(b.x > layout.columns[-1].x for b in layout.side_brackets)
    assert all(b.x < layout.width for b in layout.brackets)


def test_no_brackets_for_rows_outside_the_selection() -> None:
    messages = call_messages()[8:]  # from the ACK on: no INVITE, so no PDD or answer
    layout = build_layout(messages, call_correlation())
    assert {b.kind for b in layout.side_brackets} == {"release"}
    assert layout.side_brackets[0].start_row == 2  # BYE is the third row shown


def test_select_messages_scope_and_cut_notes() -> None:
    msgs = call_messages()
    chosen, notes = select_messages(msgs, call_id=CALL_ID, max_messages=5)
    assert [m.index for m in chosen] == [0, 1, 2, 3, 4]
    assert notes == [
        f"Call-ID {CALL_ID}",
        "cut: first 5 of 14 messages shown (9 more not drawn; raise --max-messages)",
    ]
    chosen, notes = select_messages(msgs, since_ns=T0 + 2000 * MS, until_ns=T0 + 2013 * MS)
    assert [m.index for m in chosen] == [6, 7, 8, 9]
    assert notes == ["time window 2023-11-14 22:13:22.000 to 2023-11-14 22:13:22.013 UTC"]
    assert select_messages(msgs, call_id="nope")[0] == []
    assert select_messages(msgs)[1] == []


def test_select_by_aor_without_correlation() -> None:
    reg = sip("REGISTER sip:example.com SIP/2.0", cseq=(1, "REGISTER"), vias=(VIA_A,), call_id="r1")
    ok = sip("SIP/2.0 200 OK", cseq=(1, "REGISTER"), vias=(VIA_A,), call_id="r1")
    msgs = call_messages() + [message(14, 9000, A, P, reg), message(15, 9001, P, A, ok)]
    chosen, notes = select_messages(msgs, aor="<sip:BOB@example.com>")
    # the factory's To is sip:bob@example.com; the host part compares case-insensitively
    assert [m.index for m in chosen] == [14, 15]
    assert notes == ["registration of <sip:BOB@example.com>"]


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (850_000, "850 µs"),
        (12_345_678, "12.3 ms"),
        (123_456_789, "123 ms"),
        (2_004_000_000, "2.004 s"),
        (99_999_000_000, "99.999 s"),
        (754_000_000_000, "754 s"),
        (9_000_000_000_000, "2.5 h"),
        (198_166_587_013_000_000, "2293.6 d"),  # PcapPlusPlus sip_reqs.pcap's jump
    ],
)
def test_duration_text(ns: int, text: str) -> None:
    assert duration_text(ns) == text


def test_layout_is_deterministic() -> None:
    one = build_layout(call_messages(), call_correlation(), aliases={"192.0.2.10": "P"})
    two = build_layout(call_messages(), call_correlation(), aliases={"192.0.2.10": "P"})
    assert one == two


def test_unknown_group_is_refused() -> None:
    with pytest.raises(ValueError):
        build_layout(call_messages(), group="port")


def test_empty_selection_gives_an_empty_ladder() -> None:
    layout = build_layout([])
    assert layout.columns == () and layout.rows == () and layout.width > 0


def test_via_helper_sanity() -> None:
    assert Via("SIP/2.0", "UDP", "2001:db8::a", 5060).sent_by == "[2001:db8::a]:5060"
    assert T0 % MS == 0


def test_real_correlator_gives_the_hand_worked_brackets() -> None:
    """The correlator (sipladder.correlate) on the factory's call yields the same
    ladder as the correlation written out by hand."""
    from sipladder.correlate import correlate

    real = build_layout(call_messages(), correlate(call_messages()))
    hand = build_layout(call_messages(), call_correlation())
    assert real.brackets == hand.brackets
    assert [r.retransmission for r in real.rows] == [r.retransmission for r in hand.rows]


def test_default_title_names_the_files() -> None:
    title = build_layout(call_messages()).title
    assert title == "SIP ladder · test.pcap · 2023-11-14 · 14 messages"


def test_record_route_of_an_earlier_proxy_does_not_name_a_later_hop() -> None:
    """Q forwards (top Via q.example) a request that carries P's Record-Route: the
    Record-Route names P, not Q (RFC 3261 section 16.6 step 4: only a proxy that
    record-routes adds itself)."""
    q = Endpoint("192.0.2.30", 5060)
    via_q = Via("SIP/2.0", "UDP", "q.example", 5060, (("branch", "z9hG4bKq1"),))
    forwarded = sip(
        "INVITE sip:bob@example.com SIP/2.0",
        cseq=(1, "INVITE"),
        vias=(via_q, VIA_A),
        record_routes=("sip:proxy.example.com;lr",),
    )
    messages = call_messages() + [message(14, 20, q, B, forwarded)]
    assert learned_names(messages) == {P.ip: "proxy.example.com", q.ip: "q.example"}


def test_record_route_names_a_proxy_without_a_via_name() -> None:
    r = Endpoint("192.0.2.40", 5060)
    via_r = Via("SIP/2.0", "UDP", "192.0.2.40", 5060, (("branch", "z9hG4bKr1"),))
    forwarded = sip(
        "INVITE sip:bob@example.com SIP/2.0",
        cseq=(1, "INVITE"),
        vias=(via_r, VIA_A),
        record_routes=("sip:edge.example;lr",),
    )
    assert learned_names([message(0, 0, r, B, forwarded)]) == {r.ip: "edge.example"}


def test_too_many_overlapping_brackets_are_left_out_with_a_note() -> None:
    """Eight copies of the same call: 16 brackets overlap at row 0 (PDD and answer),
    8 more at row 10 (release). Six lanes are drawn; the rest is counted in a note."""
    hand = call_correlation()
    crowded = dataclasses.replace(hand, calls=hand.calls * 8)
    layout = build_layout(call_messages(), crowded)
    assert max(b.lane for b in layout.side_brackets) == 5
    assert len(layout.side_brackets) == 12
    assert layout.notes[-1] == (
        "12 of 24 timing brackets not drawn (more than 6 overlap; "
        "narrow the ladder with --call-id, --aor or a time window)"
    )


def test_colour_by_transaction_follows_each_request_across_hops() -> None:
    layout = build_layout(call_messages(), call_correlation(), colour_by="transaction")
    colours = [r.colour for r in layout.rows]
    # INVITE (both hops, its responses), ACK (both hops), BYE (both hops, its 200s)
    assert colours[:8] == [PALETTE[0]] * 8
    assert colours[8:10] == [PALETTE[1]] * 2
    assert colours[10:] == [PALETTE[2]] * 4
    assert [m for _, m in layout.legend] == [
        "INVITE CSeq 1 (request 0)",
        "ACK CSeq 1 (request 1)",
        "BYE CSeq 2 (request 2)",
    ]
    plain = build_layout(call_messages(), colour_by="transaction")
    assert [m for _, m in plain.legend][0] == f"INVITE CSeq 1 (Call-ID {CALL_ID})"
    with pytest.raises(ValueError):
        build_layout(call_messages(), colour_by="rainbow")


def test_anomalies_and_truncation_are_flagged() -> None:
    from sipladder.model import Anomaly
    from sipladder.render.svg import render_svg
    from sipladder.render.text import render_text

    bad = sip(
        "INIVTE sip:bob@example.com SIP/2.0",
        cseq=(7, "INVITE"),
        vias=(VIA_A,),
        anomalies=(Anomaly("method-misspelled", "INIVTE is not a method"),),
    )
    cut = dataclasses.replace(message(15, 9100, A, P, bad), truncated=True)
    layout = build_layout([*call_messages(), cut])
    assert layout.rows[-1].anomalies == ("method-misspelled", "truncated")
    assert layout.rows[-1].anomaly_summary == "method-misspelled +1"
    svg = render_svg(layout)
    assert "⚠ method-misspelled +1" in svg  # on the arrow: the first code and how many more
    assert "anomalies: method-misspelled, truncated" in svg  # in the hover text: all of them
    assert "!method-misspelled+1" in render_text(layout, 200)
