"""The compiled accelerator (csrc/_sipladder_accel.c, loaded by sipladder.accel) gives the
same answers as the Python originals it stands in for: on every frame and payload of every
test capture, and on generated input built to reach each branch (hypothesis)."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from types import ModuleType

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sipladder import accel as accel_module
from sipladder.model import Diagnostic, Frame, Payload
from sipladder.net import decoder as decoder_module
from sipladder.net.decoder import PacketDecoder
from sipladder.readers import read_frames
from sipladder.sip.framing import split_datagram
from sipladder.sip.parser import python_looks_like_sip
from sipladder.sip.skim import python_call_id_hint, shard_of_bytes
from tests.captures import CAPTURES, ROOT

PURE = os.environ.get("SIPLADDER_PURE", "") not in ("", "0")


def test_the_accelerator_is_built_and_loaded() -> None:
    """``pip install .`` builds it wherever a C compiler is (CI has one): a build that
    failed quietly would leave every test below comparing nothing."""
    if PURE:
        assert accel_module.accel is None
        assert "SIPLADDER_PURE" in accel_module.status()
    else:
        assert accel_module.accel is not None, (
            "_sipladder_accel is not importable (or from another version): run "
            "`pip install .` with a C compiler, or set SIPLADDER_PURE=1 to test without it"
        )
        assert accel_module.status() == "compiled accelerator 3 in use"


@pytest.fixture()
def compiled() -> ModuleType:
    if PURE:
        pytest.skip("SIPLADDER_PURE=1 was set: the accelerator is switched off on purpose")
    assert accel_module.accel is not None
    return accel_module.accel


# --------------------------------------------------------------------------- real captures


def _decode(frames: list[Frame], fast: bool, monkeypatch: pytest.MonkeyPatch) -> tuple:
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(decoder_module, "accel", None)
        reports: list[Diagnostic] = []
        decoder = PacketDecoder(reports.append)
        out = [decoder.feed(frame) for frame in frames]
        out.append(decoder.finish())
        return out, reports, decoder.ignored


@pytest.mark.parametrize("path", CAPTURES)
def test_every_capture_decodes_the_same(
    path: str, compiled: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = list(read_frames([str(ROOT / path)], lambda diagnostic: None))
    assert _decode(frames, True, monkeypatch) == _decode(frames, False, monkeypatch)
    # ... and every SIP-bearing payload gets the same verdict and Call-ID hint
    payloads = [p for batch in _decode(frames, False, monkeypatch)[0] for p in batch]
    for payload in payloads:
        data = payload.data
        assert compiled.looks_like_sip(data) is python_looks_like_sip(data), data[:80]
        assert compiled.call_id_hint(data) == python_call_id_hint(data), data[:200]


def test_plain_udp_frames_take_the_compiled_path(
    compiled: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed's capture (Ethernet, IPv6, UDP): every payload comes from the accelerator,
    so the comparison above is not between two Python runs."""
    calls = []

    class Spy:
        def udp_payload(self, linktype: int, data: bytes) -> object:
            found = compiled.udp_payload(linktype, data)
            calls.append(found is not None)
            return found

    monkeypatch.setattr(decoder_module, "accel", Spy())
    frames = list(read_frames([str(ROOT / "samples/ims-tom-jerry.pcapng")], lambda d: None))
    decoder = PacketDecoder(lambda diagnostic: None)
    payloads = [p for frame in frames for p in decoder.feed(frame)]
    assert len(payloads) == len(frames) == len(calls) > 20
    assert all(calls)


def test_a_decoder_with_its_own_udp_handler_is_not_bypassed(compiled: ModuleType) -> None:
    seen: list[int] = []
    decoder = PacketDecoder(lambda diagnostic: None)
    decoder.register_ip_protocol(17, lambda d, frame, src, dst, view: seen.append(len(view)))
    frame = Frame("x", 1, 0, 101, _ipv4(_udp(b"INVITE sip:x SIP/2.0\r\n\r\n")), 52)
    assert decoder.feed(frame) == []
    assert seen == [8 + 24]


# --------------------------------------------------------------------------- looks_like_sip

_PIECES = [
    b"INVITE", b"OPTIONS", b"ACK", b"x", b"-", b"~", b"'", b"9", b" ", b"\t", b"  ",
    b"sip:", b"SIP:", b"sips:", b"sIpS:", b"tel:", b"TEL:", b"sip", b"SIP", b"sIp", b"/",
    b"2", b"2.0", b".", b"0", b"200", b"20", b"SIP/2.0", b"SIP/2.0 200 OK", b"\r\n", b"\n",
    b"\r", b"\r\n\r\n", b"\n\n", b"Call-ID", b"call-id", b"CALL-ID", b"i", b"I", b":",
    b" : ", b"abc@host", b"a b", b"\x00", b"\xff", b"\x7f", b"\xc3\xa9", b"Via: x",
]
_SIPISH = st.lists(st.sampled_from(_PIECES), max_size=24).map(b"".join)
# long runs move the interesting bytes across the 512- and 600-byte windows
_RUNS = st.tuples(st.sampled_from([b"\r\n", b"\r", b"\n", b"a", b" ", b"-"]),
                  st.integers(0, 700)).map(lambda pair: pair[0] * pair[1])
_INPUTS = st.one_of(
    st.binary(max_size=64),
    _SIPISH,
    st.tuples(_RUNS, _SIPISH, _RUNS, _SIPISH).map(b"".join),
    st.tuples(_SIPISH, _RUNS, _SIPISH).map(b"".join),
)


@settings(max_examples=3000, deadline=None)
@given(_INPUTS)
@example(b"INVITE " + b"x" * 500 + b" SIP/2.0")  # the version past byte 512
@example(b"\r\n" * 60 + b"INVITE sip:a SIP/2.0")  # keep-alives, then the usual
@example(b"\r\n" * 60 + b"INVITE " + b"a" * 475 + b" SIP/2.0")  # window cut at 600 - 120
@example(b"A" * 64 + b" sip:x SIP/2")
@example(b"A" * 65 + b" sip:x SIP/2")
@example(b"AB tel:")
@example(b"SIP/2.0 200")
@example(b"sip/2.0\t 1234")
def test_looks_like_sip_is_the_same(data: bytes) -> None:
    compiled = accel_module.accel
    if compiled is None:
        pytest.skip("SIPLADDER_PURE=1 was set")
    assert compiled.looks_like_sip(data) is python_looks_like_sip(data)
    assert compiled.looks_like_sip(bytearray(data)) is python_looks_like_sip(data)


# --------------------------------------------------------------------------- call_id_hint

_HEADERISH = st.lists(
    st.sampled_from(
        [b"Call-ID", b"call-id", b"CaLl-Id", b"i", b"I", b"Call-IDx", b"call-i", b": ", b":",
         b" :", b"\t:", b"abc@h", b"x y", b"\xe9", b"\x00", b"\r\n", b"\n", b"\r\n\r\n",
         b"\n\n", b"\n\r\n", b" ", b"\t", b"\r\n ", b"\r\n\t", b"Via: x", b"v", b"\r",
         b"\x7f", b"!", b"~"]
    ),
    max_size=30,
).map(b"".join)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.binary(max_size=64), _HEADERISH,
                 st.tuples(st.just(b"INVITE sip:a SIP/2.0\r\n"), _HEADERISH).map(b"".join)))
@example(b"INVITE sip:a SIP/2.0\r\nCall-ID: a@b\r\n\r\n")
@example(b"INVITE sip:a SIP/2.0\r\ni:a@b\r\n i\r\n\r\n")  # folded
@example(b"INVITE sip:a SIP/2.0\r\nCall-ID: a\r\nCall-ID: b\r\n\r\n")  # two
@example(b"x\ncall-id :  \t a \r\n\nbody")
@example(b"\ni:\n\n")
@example(b"INVITE sip:a SIP/2.0\r\nCall-ID: a\x7fb\r\n\r\n")  # DEL is not visible
def test_call_id_hint_is_the_same(data: bytes) -> None:
    compiled = accel_module.accel
    if compiled is None:
        pytest.skip("SIPLADDER_PURE=1 was set")
    assert compiled.call_id_hint(data) == python_call_id_hint(data)
    assert compiled.call_id_hint(bytearray(data)) == python_call_id_hint(data)


# --------------------------------------------------------------------------- udp_payload


def _udp(payload: bytes, sport: int = 5060, dport: int = 5060, length: int | None = None) -> bytes:
    length = 8 + len(payload) if length is None else length
    return struct.pack("!HHHH", sport, dport, length & 0xFFFF, 0) + payload


def _ipv4(inner: bytes, version: int = 4, ihl: int = 5, total: int | None = None,
          frag: int = 0, proto: int = 17) -> bytes:
    options = b"\x01" * max(0, ihl - 5) * 4
    total = 4 * ihl + len(inner) if total is None else total
    head = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, total & 0xFFFF, 7,
                       frag, 64, proto, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return head + options + inner


def _ipv6(inner: bytes, version: int = 6, plen: int | None = None, nh: int = 17) -> bytes:
    plen = len(inner) if plen is None else plen
    src = bytes.fromhex("20010db8000000000000000000000001")
    dst = bytes.fromhex("20010db8000000000000000000000002")
    return struct.pack("!IHBB16s16s", version << 28, plen & 0xFFFF, nh, 64, src, dst) + inner


def _link(linktype: int, ethertype: int, tags: list[int], packet: bytes) -> bytes:
    if linktype == 1:
        vlans = b"".join(struct.pack("!HH", tag, 5) for tag in tags)
        if vlans:  # the first tag's type sits where the ethertype would be
            return b"\x02" * 12 + vlans + struct.pack("!H", ethertype) + packet
        return b"\x02" * 12 + struct.pack("!H", ethertype) + packet
    if linktype == 113:
        return b"\x00" * 14 + struct.pack("!H", ethertype) + packet
    if linktype == 276:
        return struct.pack("!H", ethertype) + b"\x00" * 18 + packet
    if linktype == 0:
        return struct.pack("<I", 2) + packet
    return packet  # raw IP link types


@st.composite
def _frames(
    draw: Callable, payloads: st.SearchStrategy[bytes] | None = None
) -> tuple[Frame, bool]:
    """A frame built layer by layer, each field either right or one of its odd values;
    and whether the accelerator must take it when Python delivers one datagram from it
    without a complaint (it declines only what is not plain UDP: other protocols and
    link types, registered ports, IPv6 extension headers)."""
    plain = True

    def either(good: int, *others: int) -> int:
        nonlocal plain
        value: int = draw(st.sampled_from([good, good, *others]))
        plain = plain and value == good
        return value

    def any_of(*values: object) -> object:  # (odd values both decoders must agree on)
        return draw(st.sampled_from(values))

    payload = draw(st.binary(max_size=40) if payloads is None else payloads)
    sport = either(5060, 9060)  # HEP's port: its handler decides (Python)
    dport = either(5060, 4789)  # VXLAN's
    udp_length = any_of(None, 0, 7, 3, 8 + len(payload) + 5, max(8, 8 + len(payload) - 3))
    segment = _udp(payload, sport, dport, length=udp_length)  # type: ignore[arg-type]
    family = draw(st.sampled_from([4, 6]))
    if family == 4:
        packet = _ipv4(
            segment,
            version=any_of(4, 4, 6, 5),  # type: ignore[arg-type]
            ihl=any_of(5, 5, 6, 4, 15),  # type: ignore[arg-type]
            total=any_of(None, None, 0, 3, 1000),  # type: ignore[arg-type]
            frag=any_of(0, 0x4000, 0x2000, 0x0001),  # type: ignore[arg-type]
            proto=either(17, 6, 51),
        )
    else:
        packet = _ipv6(
            segment,
            version=any_of(6, 6, 4),  # type: ignore[arg-type]
            plen=any_of(None, None, 0, 3, 1000),  # type: ignore[arg-type]
            nh=either(17, 0, 44, 6),
        )
    linktype = either(draw(st.sampled_from([1, 113, 276, 101, 12, 14, 228, 229])), 0)
    tags = draw(st.lists(st.sampled_from([0x8100, 0x88A8, 0x9100]), max_size=10))
    ethertype = either(0x0800 if family == 4 else 0x86DD, 0x8864, 0x0806, 0x05DC)
    data = _link(linktype, ethertype, tags, packet)
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    if cut is not None:
        data = data[:cut]
    return Frame("gen.pcap", 1, 1_000, linktype, data, len(data)), plain


def _tagged(tags: int) -> tuple[Frame, bool]:
    data = _link(1, 0x0800, [0x8100] * tags, _ipv4(_udp(b"SIP/2.0 200 OK\r\n\r\n")))
    return Frame("gen.pcap", 1, 1_000, 1, data, len(data)), tags <= 8


@settings(max_examples=2000, deadline=None)
@given(_frames())
@example(_tagged(8))  # the most VLAN tags link.ethernet unwraps
@example(_tagged(9))  # one too many: a malformed frame
def test_decoding_a_generated_frame_is_the_same(case: tuple[Frame, bool]) -> None:
    compiled = accel_module.accel
    if compiled is None:
        pytest.skip("SIPLADDER_PURE=1 was set")
    frame, plain = case
    fast_reports: list[Diagnostic] = []
    fast = PacketDecoder(fast_reports.append)
    got = fast.feed(frame)
    saved = decoder_module.accel
    decoder_module.accel = None  # (not monkeypatch: hypothesis runs many examples)
    try:
        slow_reports: list[Diagnostic] = []
        slow = PacketDecoder(slow_reports.append)
        want = slow.feed(frame)
    finally:
        decoder_module.accel = saved
    assert (got, fast_reports, fast.ignored) == (want, slow_reports, slow.ignored)
    found = compiled.udp_payload(frame.linktype, frame.data)
    if found is not None and not {found[2], found[3]} & slow.udp_ports.keys():
        # what it says is what the Python decoder delivers (unless a port handler takes it)
        assert not slow_reports and len(want) == 1
        payload: Payload = want[0]
        src, dst, sport, dport, data, truncated = found
        assert (payload.src.port, payload.dst.port, payload.data, payload.truncated) == (
            sport, dport, data, truncated)
    elif plain and not slow_reports and len(want) == 1:
        pytest.fail(f"a plain UDP datagram was left to Python: {frame.data.hex()}")


# --------------------------------------------------------------------------- other_shard


def _python_other_shard(frame: Frame, count: int, number: int) -> tuple[int, int] | None:
    """What other_shard must say, by the Python stages: the frame gives one plain UDP
    payload (no report), not cut short, that looks like SIP and splits into one message
    whose Call-ID hint belongs to another part than ``number``."""
    reports: list[Diagnostic] = []
    saved = decoder_module.accel
    decoder_module.accel = None
    try:
        decoder = PacketDecoder(reports.append)
        decoder.udp_ports.clear()  # (the pipeline checks the ports itself)
        payloads = decoder.feed(frame)
    finally:
        decoder_module.accel = saved
    if reports or len(payloads) != 1:
        return None
    payload = payloads[0]
    if payload.truncated or not python_looks_like_sip(payload.data):
        return None
    chunks = split_datagram(payload.data)
    if len(chunks) != 1:
        return None
    hint = python_call_id_hint(chunks[0])
    if hint is None or shard_of_bytes(hint, count) == number:
        return None
    return payload.src.port, payload.dst.port


def _assert_other_shard_is_right(compiled: ModuleType, frame: Frame) -> bool:
    """other_shard's answer for every part of two and three workers is either None or the
    Python stages' (never a frame that another outcome awaits); True when it answered."""
    answered = False
    for count in (2, 3):
        for number in range(count):
            got = compiled.other_shard(frame.linktype, frame.data, count, number)
            if got is not None:
                assert got == _python_other_shard(frame, count, number), frame.data.hex()
                answered = True
    return answered


@pytest.mark.parametrize("path", CAPTURES)
def test_every_capture_passes_over_the_same_frames(path: str, compiled: ModuleType) -> None:
    for frame in read_frames([str(ROOT / path)], lambda diagnostic: None):
        _assert_other_shard_is_right(compiled, frame)


_SIP_PAYLOADS = st.tuples(
    st.sampled_from([b"INVITE sip:a SIP/2.0\r\nCall-ID: ", b"SIP/2.0 200 OK\r\ni:", b"\r\n",
                     b"x", b"INVITE sip:a SIP/2.0\r\nVia: x\r\n"]),
    st.sampled_from([b"c1@h", b"c2@h", b"c3@h", b"x y", b"", b"c1@h\r\n i"]),
    st.sampled_from([b"\r\n\r\n", b"\r\n\r\nSIP/2.0 100 x\r\n\r\n", b"\n\n", b"\r\n",
                     b"\r\nCall-ID: c2@h\r\n\r\n", b"\r\n\r\nv=0 SIP2", b"\r\n\r\nSIPx"]),
).map(b"".join)


def _cut_short(message: bytes) -> tuple[Frame, bool]:
    """A datagram whose UDP length says 5 bytes more than the frame holds (the payload is
    cut short: worker 0 reports it, so no worker may pass it over)."""
    data = _link(1, 0x0800, [], _ipv4(_udp(message, length=8 + len(message) + 5)))
    return Frame("gen.pcap", 1, 1_000, 1, data, len(data)), True


@settings(max_examples=2000, deadline=None)
@given(_frames(_SIP_PAYLOADS))
@example(_tagged(8))
@example(_cut_short(b"INVITE sip:a SIP/2.0\r\nCall-ID: c1@h\r\n\r\n"))
@example(_cut_short(b"INVITE sip:a SIP/2.0\r\nCall-ID: c2@h\r\n\r\n"))
def test_other_shard_on_generated_frames(case: tuple[Frame, bool]) -> None:
    compiled = accel_module.accel
    if compiled is None:
        pytest.skip("SIPLADDER_PURE=1 was set")
    frame, plain = case
    _assert_other_shard_is_right(compiled, frame)
    payload = compiled.udp_payload(frame.linktype, frame.data)
    if plain and payload is not None and _split_by_the_fast_path(payload[4]):
        # a plain datagram of one message as split_datagram's first test finds it:
        # recognised wherever the Python stages would pass it over
        for count in (2, 3):
            for number in range(count):
                if _python_other_shard(frame, count, number) is not None:
                    assert compiled.other_shard(frame.linktype, frame.data, count, number)


def _split_by_the_fast_path(data: bytes) -> bool:
    """split_datagram's first test (one message, no keep-alive, no second start line),
    the only one other_shard makes."""
    head_end = data.find(b"\r\n\r\n")
    return (
        data[:1] not in (b"\r", b"\n")
        and head_end > 0
        and (
            data.find(b"SIP", head_end) < 0
            or (data.find(b"SIP/", head_end) < 0 and data.find(b"SIP2", head_end) < 0)
        )
    )


def test_a_worker_passes_over_other_parts_frames(
    compiled: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two workers, each passes over the other's plain frames (the coverage of the
    comparison above), and the positions and counts are those of a full reading."""
    from sipladder import pipeline
    from sipladder.pipeline import Counters, Shard, messages_from_frames

    path = str(ROOT / "samples" / "ims-tom-jerry.pcapng")
    seen: list[object] = []
    real = pipeline.messages_from_payloads

    def spy(payloads, *args, **kwargs):  # type: ignore[no-untyped-def]
        return real((seen.append(p) or p for p in payloads), *args, **kwargs)

    monkeypatch.setattr(pipeline, "messages_from_payloads", spy)
    full = Counters()
    every = list(messages_from_frames(read_frames([path], lambda d: None), lambda d: None, full))
    parts = []
    for number in (0, 1):
        counters = Counters()
        frames = read_frames([path], lambda d: None)
        kept = list(messages_from_frames(frames, lambda d: None, counters, Shard(number, 2)))
        parts.append(kept)
        assert (counters.frames, counters.payloads) == (full.frames, full.payloads)
    assert sum(p is pipeline._ANOTHER_PART for p in seen) > len(every) // 4
    by_index = {m.index: m for m in every}
    for kept in parts:
        for message in kept:
            assert message == by_index[message.index]
    assert sorted(m.index for kept in parts for m in kept) == sorted(by_index)


# --------------------------------------------------------------------------- pcap_walk
# (what it reads: tests/test_readers.py and tests/test_pipeline.py compare the compiled
# reader with the Python one; here, that wrong arguments raise rather than crash)


def test_pcap_walk_refuses_wrong_arguments(compiled: ModuleType) -> None:
    from array import array

    from sipladder.readers import _new_frame

    state = array("q", bytes(8 * 7))
    record = struct.pack("<IIII", 1, 2, 3, 3) + b"abc" + b"\x01\x02"  # then a cut header
    items, used, corrupt = compiled.pcap_walk(record, state, 0, 0, 1, "f", _new_frame, None)
    assert (items, used, corrupt) == ([Frame("f", 1, 1_000_002_000, 1, b"abc", 3)], 19, -1)
    assert list(state) == [1, 1_000_002_000, 0, 0, 0, 0, 0]
    ports = bytes(8192)
    bad = [
        (TypeError, (record, state, 0, 0, 1, "f", _new_frame)),  # too few
        (ValueError, (record, array("q", [0] * 6), 0, 0, 1, "f", _new_frame, None)),
        (ValueError, (record, array("i", [0] * 14), 0, 0, 1, "f", _new_frame, None)),
        (BufferError, (record, b"\0" * 56, 0, 0, 1, "f", _new_frame, None)),  # read-only
        (TypeError, (record, state, 0, 0, 1, "f", _new_frame, (2, 0))),
        (ValueError, (record, state, 0, 0, 1, "f", _new_frame, (2, 0, b"\0" * 10))),
        (TypeError, (record, state, 0, 0, 1, "f", _new_frame, (2, "0", ports))),
        (TypeError, ("text", state, 0, 0, 1, "f", _new_frame, None)),
        (TypeError, (record, state, 0, 0, 1, "f", None, None)),  # not callable
    ]
    for error, args in bad:
        with pytest.raises(error):
            compiled.pcap_walk(*args)
