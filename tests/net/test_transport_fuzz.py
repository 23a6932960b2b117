"""Random bytes into every transport and tunnel decoder: no exception escapes the decoder,
and a frame that breaks nothing else keeps the stream going."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transport_helpers import segment, sip_request

from sipladder.model import Diagnostic, Frame
from sipladder.net import hep, tunnels
from sipladder.net.decoder import PacketDecoder
from sipladder.net.sctp import SctpDecoder
from sipladder.net.tcp import TcpReassembler
from sipladder.net.websocket import WebSocketFramer, looks_like_sip_frame, looks_like_upgrade

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNWRAPS = [tunnels.gre, tunnels.erspan3, tunnels.mpls, tunnels.ppp, tunnels.pppoe_session,
           tunnels.vxlan, tunnels.gtp_u]


@FUZZ
@given(st.binary(max_size=200))
def test_unwrap_functions_never_raise(data: bytes) -> None:
    for unwrap in UNWRAPS:
        result = unwrap(data)
        assert result is None or (isinstance(result[0], int) and isinstance(result[1], bytes))
    hep.decode(data)
    hep.decode(b"HEP3" + data)
    hep.decode(b"\x02" + data)
    looks_like_upgrade(data)
    looks_like_sip_frame(data)


@FUZZ
@given(st.lists(st.binary(max_size=300), max_size=8))
def test_stream_decoders_never_raise(chunks: list[bytes]) -> None:
    diags: list[Diagnostic] = []
    tcp = TcpReassembler(diags.append)
    sctp = SctpDecoder(diags.append)
    ws = WebSocketFramer(expect_handshake=False)
    for i, chunk in enumerate(chunks):
        tcp.feed("f", i, i, "10.0.0.1", "10.0.0.2", chunk)
        tcp.feed("f", i, i, "10.0.0.1", "10.0.0.2", segment(1 + 300 * i, chunk))
        sctp.feed("f", i, i, "10.0.0.1", "10.0.0.2", chunk)
        ws.feed(chunk)
    tcp.finish()


@FUZZ
@given(st.binary(max_size=120), st.sampled_from([4, 41, 47, 6, 132, 17]))
def test_whole_decoder_with_random_inner_packets(inner: bytes, protocol: int) -> None:
    """An IPv4 header saying ``protocol``, random bytes after it, then a good SIP/TCP
    packet: the random one is at worst a diagnostic, the good one still decodes."""
    import struct

    diags: list[Diagnostic] = []
    d = PacketDecoder(diags.append)
    total = 20 + len(inner)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, protocol, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + inner
    d.feed(Frame("f", 1, 1, 101, ip, len(ip)))  # LINKTYPE_RAW
    sip = sip_request("after", 1)
    good = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + len(sip), 2, 0, 64, 6, 0,
                       bytes([10, 0, 0, 3]), bytes([10, 0, 0, 4]))
    good += segment(7, sip, sport=5070, dport=5060)
    out = d.feed(Frame("f", 2, 2, 101, good, len(good)))
    out += d.finish()
    assert sip in [p.data for p in out]
