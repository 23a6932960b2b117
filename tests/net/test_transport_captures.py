"""Real third-party captures over TCP, WebSocket, SCTP, tunnels and IPv6 (tests/data, see
SOURCES.md): ``sipladder.load`` finds the SIP messages tshark finds, in the same order,
with the same Call-ID and CSeq. tshark runs inside the test; nothing is pasted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import sipladder

DATA = Path(__file__).parent.parent / "data"

# (file under tests/data, extra tshark arguments)
CAPTURES = [
    ("heplify/sip_ipv4_tcp.pcap", ()),
    ("heplify/sip_ipv4_tcp_retrans.pcap", ()),  # TCP retransmissions, TLS noise
    # SIP over TCP port 6060: tshark takes it for X11 unless told.
    ("heplify/sip_ipv4_tcp_fragmented.pcap", ("-d", "tcp.port==6060,sip")),
    ("heplify/sip_tcp_websocket.pcap", ()),
    ("heplify/sip_sctp.pcap", ()),
    ("heplify/erspan_sip_ipv4_udp.pcapng", ()),  # GRE + ERSPAN
    ("heplify/ipip0.pcap", ()),
    ("sngrep/ipip.pcap", ()),  # IP-in-IP, TCP
    ("nDPI/gre.pcapng", ()),  # VLAN + GRE (PPTP) + PPP
    ("heplify/sip_ipv6_udp.pcap", ()),
    ("suricata-verify/sip-body-large__sip-body-large.pcap", ()),  # 64 KB body, many segments
    ("suricata-verify/sip-tcp-pattern-matching__sip.pcap", ()),
    ("suricata-verify/sip-tcp-method__sip-tcp.pcap", ()),  # request split in 2 segments
    ("arkime/gtp-iphone.pcap", ()),  # GTP-U, IPv6 inside, SIP over TCP and UDP
]


ENDPOINT_FIELDS = ["ipv6.src", "ip.src", "ipv6.dst", "ip.dst", "tcp.srcport", "udp.srcport",
                   "sctp.srcport", "tcp.dstport", "udp.dstport", "sctp.dstport"]

Row = tuple[int, str, str, str, int, str]


def tshark_messages(path: Path, extra: tuple[str, ...]) -> list[Row]:
    """(frame, source, destination, Call-ID, CSeq number, CSeq method) of every SIP
    message tshark dissects, in frame order; several messages in one frame come out in
    stream order. Addresses and ports are the innermost: the last occurrence of each
    field (tunnels repeat ip)."""
    fields = ["frame.number", "sip.Call-ID", "sip.CSeq.seq", "sip.CSeq.method",
              *ENDPOINT_FIELDS]
    out = subprocess.run(
        ["tshark", "-r", str(path), *extra, "-Y", "sip", "-T", "fields",
         "-E", "aggregator=\x1f", *(arg for f in fields for arg in ("-e", f))],
        capture_output=True, text=True, check=True,
    ).stdout
    rows: list[Row] = []
    for line in out.splitlines():
        frame, call_ids, numbers, methods, *where = (f.split("\x1f") for f in line.split("\t"))
        s6, s4, d6, d4, *ports = (values[-1] for values in where)
        sport = next(p for p in ports[:3] if p)
        dport = next(p for p in ports[3:] if p)
        src = f"[{s6}]:{sport}" if s6 else f"{s4}:{sport}"
        dst = f"[{d6}]:{dport}" if d6 else f"{d4}:{dport}"
        assert len(call_ids) == len(numbers) == len(methods)
        rows += [
            (int(frame[0]), src, dst, c, int(n), m)
            for c, n, m in zip(call_ids, numbers, methods, strict=True)
        ]
    return rows


@pytest.mark.parametrize(("name", "extra"), CAPTURES, ids=[c[0] for c in CAPTURES])
def test_same_messages_as_tshark(name: str, extra: tuple[str, ...]) -> None:
    """Same count, same Call-ID and CSeq of each, and each from the same frame and the
    same (inner) endpoints."""
    path = DATA / name
    expected = tshark_messages(path, extra)
    assert expected, "tshark finds SIP in every one of these captures"
    capture = sipladder.load(str(path))
    ours = [
        (m.frame, str(m.src), str(m.dst), m.sip.call_id,
         m.sip.cseq.number if m.sip.cseq else None, m.sip.cseq.method if m.sip.cseq else None)
        for m in capture.records
    ]
    assert ours == expected
    assert not [d for d in capture.diagnostics if d.code != "tls-unreadable"]


def test_transports_are_named() -> None:
    ws = sipladder.load(str(DATA / "heplify/sip_tcp_websocket.pcap"))
    assert {m.transport.value for m in ws.records} == {"ws", "udp"}
    sctp = sipladder.load(str(DATA / "heplify/sip_sctp.pcap"))
    assert {m.transport.value for m in sctp.records} == {"sctp"}
    tcp = sipladder.load(str(DATA / "heplify/sip_ipv4_tcp.pcap"))
    assert {m.transport.value for m in tcp.records} == {"tcp"}


def test_https_noise_is_told_once_and_listed_in_the_summary() -> None:
    capture = sipladder.load(str(DATA / "heplify/sip_ipv4_tcp_retrans.pcap"))
    tls = [d for d in capture.diagnostics if d.code == "tls-unreadable"]
    assert len(tls) == 1 and "3 TLS connection(s) on port 443" in tls[0].message
    unreadable = capture.summary()["unreadable"]
    assert isinstance(unreadable, list) and len(unreadable) == 3
    assert all(u.startswith("tls ") and ":443" in u for u in unreadable)
