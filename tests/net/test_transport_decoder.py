"""TCP, SCTP, tunnels and HEP plugged into the PacketDecoder: whole frames built with scapy."""

from __future__ import annotations

from collections.abc import Callable

from conftest import Result
from scapy.contrib.erspan import ERSPAN_III
from scapy.contrib.gtp import GTP_U_Header
from scapy.contrib.mpls import MPLS
from scapy.layers.inet import GRE, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1Q, Ether
from scapy.layers.sctp import SCTP, SCTPChunkData
from scapy.layers.vxlan import VXLAN
from scapy.packet import Packet, Raw
from test_hep import hep3
from transport_helpers import SDP, sip_request

from sipladder.model import Transport

ETH = 1
SIP = sip_request("dec", 1, body=SDP)
INNER = IP(src="10.1.1.1", dst="10.1.1.2") / UDP(sport=5060, dport=5062) / Raw(SIP)


def eth(pkt: Packet) -> tuple[int, bytes]:
    return ETH, bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / pkt)


def outer(proto: Packet) -> Packet:
    return IP(src="192.0.2.1", dst="192.0.2.2") / proto


Decode = Callable[..., Result]


def test_tcp_segments_out_of_order(decode: Decode) -> None:
    base = IP(src="10.0.0.1", dst="10.0.0.2")
    syn = base / TCP(sport=5070, dport=5060, seq=99, flags="S")
    parts = [SIP[:100], SIP[100:200], SIP[200:]]
    segs = [base / TCP(sport=5070, dport=5060, seq=100 + i * 100, flags="PA") / Raw(p)
            for i, p in enumerate(parts)]
    result = decode([eth(syn), eth(segs[0]), eth(segs[2]), eth(segs[1])])
    assert [(p.data, p.frame, p.transport, str(p.src)) for p in result.payloads] == [
        (SIP, 4, Transport.TCP, "10.0.0.1:5070")
    ]
    assert result.codes == []


def test_tcp_in_ipv6_with_vlan(decode: Decode) -> None:
    pkt = Dot1Q(vlan=7) / IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(
        sport=5060, dport=5060, seq=1, flags="PA") / Raw(SIP + SIP)
    result = decode([eth(pkt)])
    assert [(p.data, str(p.dst)) for p in result.payloads] == [(SIP, "[2001:db8::2]:5060")] * 2


def test_sctp(decode: Decode) -> None:
    chunk = SCTPChunkData(tsn=1, beginning=1, ending=1, data=SIP)
    pkt = outer(SCTP(sport=5060, dport=5060) / chunk)
    result = decode([eth(pkt)])
    assert [(p.data, p.transport) for p in result.payloads] == [(SIP, Transport.SCTP)]


def check_inner(result: Result) -> None:
    assert [(p.data, str(p.src), str(p.dst), p.transport) for p in result.payloads] == [
        (SIP, "10.1.1.1:5060", "10.1.1.2:5062", Transport.UDP)
    ]
    assert result.codes == []


def test_ip_in_ip(decode: Decode) -> None:
    check_inner(decode([eth(outer(INNER))]))


def test_ipv6_in_ipv4(decode: Decode) -> None:
    inner6 = IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5060, dport=5060) / Raw(SIP)
    result = decode([eth(IP(src="192.0.2.1", dst="192.0.2.2", proto=41) / inner6)])
    assert [str(p.src) for p in result.payloads] == ["[2001:db8::1]:5060"]


def test_gre(decode: Decode) -> None:
    check_inner(decode([eth(outer(GRE(proto=0x0800) / INNER))]))


def test_erspan_type_3_inside_gre(decode: Decode) -> None:
    inner = Ether() / INNER
    check_inner(decode([eth(outer(GRE(proto=0x22EB, seqnum_present=1) / ERSPAN_III() / inner))]))


def test_vxlan(decode: Decode) -> None:
    check_inner(decode([eth(outer(UDP(sport=40000, dport=4789) / VXLAN(vni=5) / Ether() / INNER))]))


def test_gtp_u(decode: Decode) -> None:
    check_inner(decode([eth(outer(UDP(sport=2152, dport=2152) / GTP_U_Header(teid=9) / INNER))]))


def test_mpls(decode: Decode) -> None:
    check_inner(decode([eth(MPLS(label=100, s=0) / MPLS(label=200, s=1) / INNER)]))


def test_hep3_on_the_collector_port(decode: Decode) -> None:
    from test_hep import SIP as HEP_SIP
    from test_hep import USEC

    pkt = outer(UDP(sport=40000, dport=9060) / Raw(hep3()))
    result = decode([eth(pkt)])
    assert [(p.data, str(p.src), str(p.dst)) for p in result.payloads] == [
        (HEP_SIP, "10.0.0.1:5060", "10.0.0.2:5080")
    ]
    assert result.payloads[0].ts_ns % 10**9 == USEC * 1000  # the agent's time, not ours


def test_not_a_tunnel_on_a_tunnel_port_is_an_ordinary_datagram(decode: Decode) -> None:
    pkt = outer(UDP(sport=5060, dport=4789) / Raw(SIP))
    result = decode([eth(pkt)])
    assert [p.data for p in result.payloads] == [SIP]
