"""The bundled sample captures match their construction.

Read with scapy and a few lines of text handling, independently of sipladder's own
pipeline: these tests check the *data* (message counts, hosts, RFC 3261 details of
the story, and that each ``*.timings.json`` agrees with the packet timestamps), so
that the correlation tests built on the samples stand on checked ground. The last
section then holds sipladder's calls, registrations and per-hop delays to the same
timings files.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.utils import PcapNgReader, PcapReader

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@dataclass
class Datagram:
    frame: int
    ts: Decimal
    src: str
    dst: str
    sport: int
    dport: int
    text: str

    @property
    def start(self) -> str:
        return self.text.split("\r\n", 1)[0]

    @property
    def head(self) -> str:
        return self.text.split("\r\n\r\n", 1)[0]

    @property
    def body(self) -> bytes:
        return self.text.encode("utf-8").split(b"\r\n\r\n", 1)[1]

    def headers(self, name: str) -> list[str]:
        out = []
        for line in self.head.split("\r\n")[1:]:
            n, _, v = line.partition(":")
            if n.strip().lower() == name.lower():
                out.append(v.strip())
        return out

    def header(self, name: str) -> str:
        (value,) = self.headers(name)
        return value

    @property
    def is_response(self) -> bool:
        return self.start.startswith("SIP/2.0 ")

    @property
    def status(self) -> int | None:
        return int(self.start.split()[1]) if self.is_response else None

    @property
    def method(self) -> str:
        return self.header("CSeq").split()[1] if self.is_response else self.start.split()[0]

    @property
    def label(self) -> str:
        """``INVITE`` for a request, ``183 INVITE`` for a response."""
        return f"{self.status} {self.method}" if self.is_response else self.method


def read(path: Path) -> list[Datagram]:
    reader = PcapNgReader if path.suffix == ".pcapng" else PcapReader
    out = []
    with reader(str(path)) as packets:
        for n, pkt in enumerate(packets, 1):
            assert isinstance(pkt, Ether), f"{path.name} frame {n}: not Ethernet"
            ip = pkt[IPv6] if IPv6 in pkt else pkt[IP]
            udp = pkt[UDP]
            payload = bytes(udp.payload)
            assert udp.len == 8 + len(payload)
            out.append(
                Datagram(
                    n,
                    Decimal(str(pkt.time)),
                    ip.src,
                    ip.dst,
                    udp.sport,
                    udp.dport,
                    payload.decode("utf-8"),
                )
            )
    return out


def timings(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.timings.json").read_text(encoding="utf-8"))


def ms_between(a: Datagram, b: Datagram) -> float:
    return float((b.ts - a.ts) * 1000)


def counts(datagrams: list[Datagram]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in datagrams:
        out[d.label] = out.get(d.label, 0) + 1
    return out


# --------------------------------------------------------------------------- every sample

ALL_SAMPLES = sorted(p.name for p in SAMPLES.glob("*.pcap*"))


def test_samples_are_there() -> None:
    assert "ims-tom-jerry.pcapng" in ALL_SAMPLES
    assert "seed-listings.pcap" in ALL_SAMPLES


def test_rebuilding_gives_byte_identical_files(tmp_path: Path) -> None:
    """The script is deterministic and the committed captures are what it builds."""
    subprocess.run(
        [sys.executable, str(SAMPLES / "make_samples.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    built = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(
        p.name for p in SAMPLES.iterdir() if p.suffix in (".pcap", ".pcapng", ".json")
    )
    assert built == committed
    for name in built:
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name


@pytest.mark.parametrize("name", [n for n in ALL_SAMPLES if n != "seed-listings.pcap"])
def test_rfc3261_syntax_basics(name: str) -> None:
    """Content-Length right, magic-cookie branches, mandatory headers, time order."""
    datagrams = read(SAMPLES / name)
    assert datagrams
    for d in datagrams:
        where = f"{name} frame {d.frame}"
        assert len(d.body) == int(d.header("Content-Length")), where
        for via in d.headers("Via"):
            assert re.match(r"SIP/2\.0/UDP \S+;branch=z9hG4bK\w+", via), where
        for h in ("From", "To", "Call-ID", "CSeq"):
            assert d.header(h), where
        if not d.is_response:
            assert re.fullmatch(r"[A-Z]+ sip:\S+ SIP/2\.0", d.start), where
            assert 0 < int(d.header("Max-Forwards")) <= 70, where
            assert d.header("CSeq").split()[1] == d.method, where
        else:
            assert re.fullmatch(r"SIP/2\.0 [1-6]\d\d [A-Za-z ]+", d.start), where
            if d.status != 100:  # RFC 3261 section 8.2.6.2: every other response has a To tag
                assert ";tag=" in d.header("To"), where
        if d.body:
            assert d.header("Content-Type") == "application/sdp", where
            assert d.body.startswith(b"v=0\r\n") and d.body.endswith(b"\r\n"), where
    ts = [d.ts for d in datagrams]
    assert ts == sorted(ts) and len(set(ts)) == len(ts)


@pytest.mark.parametrize("name", [n for n in ALL_SAMPLES if n != "seed-listings.pcap"])
def test_timings_json_counts_match_the_capture(name: str) -> None:
    stem = name.rsplit(".", 1)[0]
    data = timings(stem)
    datagrams = read(SAMPLES / name)
    assert data["capture"] == name
    assert data["counts"]["datagrams"] == len(datagrams)
    found = counts(datagrams)
    expected = dict(data["counts"]["requests"])
    expected.update(data["counts"]["responses"])
    assert found == expected
    hosts = {d.src for d in datagrams} | {d.dst for d in datagrams}
    assert data["counts"]["hosts"] == len(hosts)
    assert {h["ip"] for h in data["hosts"].values()} == hosts
    assert Decimal(str(data["epoch"])) == datagrams[0].ts


# --------------------------------------------------------------------------- the IMS story

TOM, PCSCF1 = "4444::2:3:4:5", "5555::a:f:f:e"


@pytest.fixture(scope="module")
def ims() -> list[Datagram]:
    return read(SAMPLES / "ims-tom-jerry.pcapng")


@pytest.fixture(scope="module")
def ims_t() -> dict:
    return timings("ims-tom-jerry")


def test_ims_counts_by_construction(ims: list[Datagram]) -> None:
    # registration: 2 REGISTERs x 3 hops (UE-P, P-I, I-S), 401 and 200 back over 3 hops;
    # INVITE over 6 hops, each receiver answers 100; 183/180/200 back over 6 hops;
    # PRACK, ACK, BYE and their 200s over the 5 hops of the Record-Route path.
    assert counts(ims) == {
        "REGISTER": 6,
        "401 REGISTER": 3,
        "200 REGISTER": 3,
        "INVITE": 6,
        "100 INVITE": 6,
        "183 INVITE": 6,
        "180 INVITE": 6,
        "200 INVITE": 6,
        "PRACK": 5,
        "200 PRACK": 5,
        "ACK": 5,
        "BYE": 5,
        "200 BYE": 5,
    }


def test_ims_hosts(ims: list[Datagram], ims_t: dict) -> None:
    hosts = {d.src for d in ims} | {d.dst for d in ims}
    assert len(hosts) == 8
    assert TOM in hosts and PCSCF1 in hosts
    assert ims[0].src == TOM and ims[0].dst == PCSCF1
    names = {k: v["ip"] for k, v in ims_t["hosts"].items()}
    assert names["tom"] == TOM and names["pcscf1"] == PCSCF1


def test_ims_registration_as_in_the_article(ims: list[Datagram]) -> None:
    regs = [d for d in ims if d.label == "REGISTER" and d.src == TOM]
    assert len(regs) == 2
    first, second = regs
    for h in ("Call-ID", "CSeq"):
        assert first.header(h) != second.header(h)
    assert first.header("Via") != second.header("Via")  # new branch
    assert first.header("From").split("tag=")[1] != second.header("From").split("tag=")[1]
    assert 'response=""' in first.header("Authorization")
    assert 'response="6629fac4969a87854152369874c43fd1"' in second.header("Authorization")
    ok = [d for d in ims if d.label == "200 REGISTER"][-1]
    assert ok.dst == TOM
    assert ok.header("Service-Route") == "<sip:telcomx@scscf1.tel.com;lr>"
    assert ok.header("Path") == "<sip:term@pcscf1.tel.com;lr>"
    assert ok.header("Call-ID") == second.header("Call-ID")
    # the 200 as it leaves the S-CSCF carries the three Vias of listing 3
    at_s = [d for d in ims if d.label == "200 REGISTER"][0]
    assert [v.split(";")[0] for v in at_s.headers("Via")] == [
        "SIP/2.0/UDP icscf1.tel.com",
        "SIP/2.0/UDP pcscf1.tel.com",
        "SIP/2.0/UDP [4444::2:3:4:5]:1537",
    ]


def test_ims_invite_hop_by_hop(ims: list[Datagram]) -> None:
    invites = [d for d in ims if d.label == "INVITE"]
    assert [d.src for d in invites][0] == TOM and invites[-1].dst == "4444::5:6:7:8"
    for hop, d in enumerate(invites):
        assert int(d.header("Max-Forwards")) == 70 - hop
        assert len(d.headers("Via")) == hop + 1
        assert invites[hop - 1].dst == d.src if hop else True
    # Route popped by each node owning the entry; Record-Route added by P1, S1, S2, P2
    routes = [d.headers("Route") for d in invites]
    assert routes == [
        ["<sip:[5555::a:f:f:e];lr>", "<sip:telcomx@scscf1.tel.com;lr>"],
        ["<sip:telcomx@scscf1.tel.com;lr>"],
        [],
        ["<sip:scscf2.california.tel.com;lr>"],
        ["<sip:pcscf2.california.tel.com;lr>"],
        [],
    ]
    rr = [len(d.headers("Record-Route")) for d in invites]
    assert rr == [0, 1, 2, 2, 3, 4]
    assert invites[-1].headers("Record-Route") == [
        "<sip:pcscf2.california.tel.com;lr>",
        "<sip:scscf2.california.tel.com;lr>",
        "<sip:scscf1.tel.com;lr>",
        "<sip:pcscf1.tel.com;lr>",
    ]
    assert invites[-1].start == "INVITE sip:[4444::5:6:7:8]:1078 SIP/2.0"
    # every INVITE hop is answered by 100 Trying from its receiver
    tryings = [d for d in ims if d.label == "100 INVITE"]
    assert sorted((t.src, t.dst) for t in tryings) == sorted((i.dst, i.src) for i in invites)


def test_ims_100rel(ims: list[Datagram]) -> None:
    r183 = [d for d in ims if d.label == "183 INVITE"]
    assert all(d.header("Require") == "100rel" and d.header("RSeq") == "1" for d in r183)
    assert all(b"m=audio" in d.body for d in r183)
    prack = [d for d in ims if d.label == "PRACK"]
    assert all(d.header("RAck") == "1 1 INVITE" for d in prack)


def test_ims_release_from_jerry(ims: list[Datagram]) -> None:
    byes = [d for d in ims if d.label == "BYE"]
    assert byes[0].src == "4444::5:6:7:8" and byes[-1].dst == TOM
    assert byes[0].header("From").startswith("<sip:jerry@california.tel.com>")
    assert byes[0].header("Call-ID") == [d for d in ims if d.label == "INVITE"][0].header("Call-ID")


def _first(
    ims: list[Datagram], label: str, src: str | None = None, dst: str | None = None
) -> Datagram:
    return next(
        d
        for d in ims
        if d.label == label and (src is None or d.src == src) and (dst is None or d.dst == dst)
    )


def test_ims_timings_match_timestamps(ims: list[Datagram], ims_t: dict) -> None:
    reg = ims_t["registration"]
    assert ms_between(
        _first(ims, "REGISTER", TOM), [d for d in ims if d.label == "200 REGISTER"][-1]
    ) == pytest.approx(reg["delay_ms"], abs=1e-6)
    call = ims_t["call"]
    invite = _first(ims, "INVITE", TOM)
    assert float(invite.ts) == pytest.approx(call["start"], abs=1e-6)
    assert ms_between(invite, _first(ims, "183 INVITE", dst=TOM)) == pytest.approx(
        call["pdd_ms"], abs=1e-6
    )
    assert ms_between(invite, _first(ims, "200 INVITE", dst=TOM)) == pytest.approx(
        call["answer_ms"], abs=1e-6
    )
    bye = _first(ims, "BYE")
    bye_done = [d for d in ims if d.label == "200 BYE"][-1]
    assert ms_between(bye, bye_done) == pytest.approx(call["release_ms"], abs=1e-6)
    assert ms_between(_first(ims, "200 INVITE"), bye) / 1000 == pytest.approx(
        call["duration_s"], abs=1e-9
    )
    # each proxy's added delay: its INVITE copy's time minus the time of the copy it got
    invites = [d for d in ims if d.label == "INVITE"]
    hops = call["invite_hops"]
    for (prev, fwd), hop in zip(zip(invites, invites[1:], strict=False), hops[1:], strict=True):
        assert ms_between(prev, fwd) == pytest.approx(
            call["invite_added_delay_ms"][hop["from"]], abs=1e-6
        )
    # 100 Trying from each receiver, relative to the INVITE it got
    hosts = {k: v["ip"] for k, v in ims_t["hosts"].items()}
    for node, delay in call["trying_after_invite_ms"].items():
        got = _first(ims, "INVITE", dst=hosts[node])
        trying = _first(ims, "100 INVITE", src=hosts[node])
        assert ms_between(got, trying) == pytest.approx(delay, abs=1e-6)
    # plausible scale: a few ms per local hop, seconds for the callee to answer
    assert 100 < call["pdd_ms"] < 1000 and 3000 < call["answer_ms"] < 20000


# --------------------------------------------------------------------------- seed listings


def test_seed_listings_as_printed() -> None:
    datagrams = read(SAMPLES / "seed-listings.pcap")
    assert [d.start for d in datagrams] == [
        "REGISTER sip: telcomx.tel.com SIP2.0",
        "REGISTER sip: telcomx.tel.com SIP2.0",
        "SIP/2.0 200 OK",
        "INIVTE sip:[email\u00a0protected]",
        "SIP/2.0 183 Session in Progress",
        "BYE sip:[4444::2:3:4:5] SIP/2.0",
    ]
    texts = [d.text for d in datagrams]
    assert '\r\n             realm="telcomx.tel.com",\r\n' in texts[0]  # folded Authorization
    assert texts[4].count("\r\nRoute-Route:<sip ") == 4
    assert "\r\nCSeq: 2 183\r\n" in texts[4]
    assert "\r\nContent-Length:183\r\n\r\n" in texts[3] and texts[3].endswith("\r\n\r\n")
    assert all(t.endswith("\r\n\r\n") for t in texts)
    # the same bytes as the listings extracted independently for the parser's tests
    seed = sorted((ROOT / "tests" / "data" / "seed").glob("listing*.sip"))
    assert [p.read_bytes() for p in seed] == [t.encode("utf-8") for t in texts]
    # one datagram per listing, from the sender the story gives it
    assert [d.src for d in datagrams] == [TOM, TOM, PCSCF1, TOM, PCSCF1, "4444::5:6:7:8"]


# --------------------------------------------------------------------------- every call and
# registration of every sample: the JSON's intervals, found again from the definitions

FLOW_SAMPLES = [n for n in ALL_SAMPLES if n != "seed-listings.pcap"]


def _expected_call_frames(datagrams: list[Datagram], call_id: str, cseq: int | None = None) -> dict:
    """The frames each interval of a call runs between, by the README's definitions, found
    here from the packets alone (the originator's view: the caller's host)."""
    mine = [d for d in datagrams if d.header("Call-ID") == call_id]
    invites = [d for d in mine if d.label == "INVITE" and "tag=" not in d.header("To")]
    if cseq is not None:
        invites = [d for d in invites if int(d.header("CSeq").split()[0]) == cseq]
    invite = invites[0]
    num = invite.header("CSeq").split()[0]
    caller = invite.src
    to_caller = [
        d
        for d in mine
        if d.is_response
        and d.method == "INVITE"
        and d.header("CSeq").split()[0] == num
        and d.dst == caller
        and d.frame > invite.frame
    ]
    frames: dict[str, list[int]] = {}
    first_non_100 = next((d for d in to_caller if d.status and d.status > 100), None)
    if first_non_100 is not None:
        frames["pdd_ms"] = [invite.frame, first_non_100.frame]
    ok = next((d for d in to_caller if d.status and 200 <= d.status < 300), None)
    if ok is not None:
        frames["answer_ms"] = [invite.frame, ok.frame]
        first_2xx = next(
            d for d in mine if d.label == "200 INVITE" and d.header("CSeq").split()[0] == num
        )
        byes = [d for d in mine if d.label == "BYE"]
        if byes:
            bye = byes[0]
            done = next(d for d in mine if d.label == "200 BYE" and d.dst == bye.src)
            frames["release_ms"] = [bye.frame, done.frame]
            frames["duration_s"] = [first_2xx.frame, bye.frame]
    return frames


def _check_intervals(datagrams: list[Datagram], doc: dict, expected_frames: dict) -> None:
    assert doc["anchors"] == expected_frames
    for key, (a, b) in expected_frames.items():
        span = ms_between(datagrams[a - 1], datagrams[b - 1])
        if key == "duration_s":
            assert span / 1000 == pytest.approx(doc[key], abs=1e-9), key
        else:
            assert span == pytest.approx(doc[key], abs=1e-6), key
    for key in ("pdd_ms", "answer_ms", "release_ms", "duration_s"):
        if key in doc and key not in expected_frames:
            assert doc[key] is None, f"{key} did not happen but has a value"


@pytest.mark.parametrize("name", FLOW_SAMPLES)
def test_call_intervals_match_definitions(name: str) -> None:
    datagrams = read(SAMPLES / name)
    data = timings(name.rsplit(".", 1)[0])
    for call in data["calls"]:
        _check_intervals(datagrams, call, _expected_call_frames(datagrams, call["call_id"]))
        first = next(d for d in datagrams if d.header("Call-ID") == call["call_id"])
        assert float(first.ts) == pytest.approx(call["start"], abs=1e-6)
        finals = [
            d
            for d in datagrams
            if d.header("Call-ID") == call["call_id"]
            and d.is_response
            and d.method == "INVITE"
            and d.status >= 200
            and d.dst == first.src  # as the caller sees it
        ]
        assert finals[0].status == call["final_status"]
        if "redirected_invite" in call:
            again = call["redirected_invite"]
            frames = _expected_call_frames(datagrams, call["call_id"], cseq=again["cseq"])
            _check_intervals(datagrams, again, frames)


@pytest.mark.parametrize("name", FLOW_SAMPLES)
def test_registration_delays_match_definition(name: str) -> None:
    datagrams = read(SAMPLES / name)
    data = timings(name.rsplit(".", 1)[0])
    for reg in data["registrations"]:
        regs = [
            d for d in datagrams if d.label == "REGISTER" and d.header("Call-ID") in reg["call_ids"]
        ]
        ue = regs[0].src
        ok = next(d for d in datagrams if d.label == "200 REGISTER" and d.dst == ue)
        assert reg["anchors"]["delay_ms"] == [regs[0].frame, ok.frame]
        assert ms_between(regs[0], ok) == pytest.approx(reg["delay_ms"], abs=1e-6)
        challenged = any(d.label in ("401 REGISTER", "407 REGISTER") for d in datagrams)
        assert reg["challenged"] is challenged
        assert int(regs[0].headers("Expires")[0]) == reg["expires"]


def test_every_flow_sample_is_described() -> None:
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for name in ALL_SAMPLES:
        assert f"`{name}`" in readme, name


# --------------------------------------------------------------------------- flow specifics


def test_busy_acked_hop_by_hop() -> None:
    d = read(SAMPLES / "busy.pcap")
    assert [x.label for x in d] == [
        "INVITE",
        "100 INVITE",
        "INVITE",
        "486 INVITE",
        "ACK",
        "486 INVITE",
        "ACK",
    ]
    # the ACK for a non-2xx final response reuses the INVITE's branch on its hop (17.1.1.3)
    assert d[4].headers("Via")[0] == d[2].headers("Via")[0]
    assert d[6].headers("Via")[0] == d[0].headers("Via")[0]


def test_cancel_matches_its_invite() -> None:
    d = read(SAMPLES / "no-answer-cancel.pcap")
    cancels = [x for x in d if x.label == "CANCEL"]
    invites = [x for x in d if x.label == "INVITE"]
    assert len(cancels) == 2
    for c, i in zip(cancels, invites, strict=True):
        assert c.headers("Via")[0] == i.headers("Via")[0]
        assert c.start.split()[1] == i.start.split()[1]
        assert c.header("CSeq") == i.header("CSeq").replace("INVITE", "CANCEL")
    assert counts(d)["487 INVITE"] == 2 and counts(d)["200 CANCEL"] == 2


def test_forwarding_samples() -> None:
    d302 = read(SAMPLES / "forward-302.pcap")
    r302 = [x for x in d302 if x.status == 302]
    assert r302 and r302[0].header("Contact") == "<sip:carol@203.0.113.30>"
    invites = [x for x in d302 if x.label == "INVITE" and x.src == "192.0.2.10"]
    assert [x.header("CSeq") for x in invites] == ["1 INVITE", "2 INVITE"]
    assert invites[0].header("Call-ID") == invites[1].header("Call-ID")
    d181 = read(SAMPLES / "forward-181.pcap")
    assert counts(d181)["181 INVITE"] == 1
    tags = {
        x.header("To").split("tag=")[1]
        for x in d181
        if x.is_response and x.method == "INVITE" and "tag=" in x.header("To")
    }
    assert len(tags) == 3  # bob, the proxy (181), carol


def _directions(datagrams: list[Datagram], label: str) -> list[str]:
    out = []
    for x in datagrams:
        if x.label == label and x.body:
            out += re.findall(r"^a=(sendrecv|sendonly|recvonly|inactive)\r$", x.body.decode(), re.M)
    return out


def test_hold_and_resume_directions() -> None:
    d = read(SAMPLES / "hold-resume.pcap")
    # offers from alice on her hop: the initial INVITE, then hold, inactive, resume
    offers = [x for x in d if x.label == "INVITE" and x.src == "192.0.2.10"]
    assert [_directions([x], "INVITE") for x in offers] == [
        ["sendrecv"],
        ["sendonly"],
        ["inactive"],
        ["sendrecv"],
    ]
    answers = [x for x in d if x.label == "200 INVITE" and x.dst == "192.0.2.10"]
    assert [_directions([x], "200 INVITE") for x in answers] == [
        ["sendrecv"],
        ["recvonly"],
        ["inactive"],
        ["sendrecv"],
    ]


def test_session_modification() -> None:
    d = read(SAMPLES / "session-modification.pcap")
    c = counts(d)
    assert c["INVITE"] == 4 and c["UPDATE"] == 2 and c["200 UPDATE"] == 2
    reinvite = [x for x in d if x.label == "INVITE" and "tag=" in x.header("To")][0]
    assert b"m=video" in reinvite.body
    update = [x for x in d if x.label == "UPDATE"][0]
    assert update.src == "2001:db8:20::b" and b"G722" in update.body


def test_deregistration() -> None:
    d = read(SAMPLES / "deregistration.pcap")
    assert [x.label for x in d] == ["REGISTER", "401 REGISTER", "REGISTER", "200 REGISTER"]
    assert all(x.header("Expires") == "0" for x in d if x.label == "REGISTER")
    assert d[3].headers("Contact") == []  # no bindings left (RFC 3261 section 10.3 step 8)


# --------------------------------------------------------------------------- the pipeline
# against the construction: `sipladder calls` / `registrations` JSON (the README's
# contract) must give what each timings JSON says, for every sample


def _cli_json(command: str, path: Path) -> list[dict]:
    from click.testing import CliRunner

    from sipladder.cli import cli

    result = CliRunner().invoke(cli, [command, str(path), "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _same(expected: object, got: object) -> bool:
    if isinstance(expected, float):
        return got is not None and abs(expected - float(got)) < 1e-6  # type: ignore[arg-type]
    return expected == got


@pytest.mark.parametrize("name", FLOW_SAMPLES)
def test_sipladder_agrees_with_the_construction(name: str) -> None:
    data = timings(name.rsplit(".", 1)[0])
    path = SAMPLES / name
    calls = {c["call_id"]: c for c in _cli_json("calls", path)}
    assert sorted(calls) == sorted(c["call_id"] for c in data["calls"])
    for want in data["calls"]:
        got = calls[want["call_id"]]
        keys = ["caller", "callee", "state", "final_status", "start"]
        keys += ["pdd_ms", "answer_ms", "release_ms", "duration_s"]
        wrong = {k: (want[k], got.get(k)) for k in keys if not _same(want[k], got.get(k))}
        assert not wrong, f"{want['call_id']}: (construction, sipladder): {wrong}"
        if "dialogs" in want:
            assert got["dialogs"] == want["dialogs"]
    regs = _cli_json("registrations", path)
    assert len(regs) == len(data["registrations"])
    for want, got in zip(data["registrations"], regs, strict=True):
        keys = ["aor", "final_status", "challenged", "delay_ms", "expires", "start"]
        wrong = {k: (want[k], got.get(k)) for k in keys if not _same(want[k], got.get(k))}
        assert not wrong, f"{want['aor']}: (construction, sipladder): {wrong}"
        assert sorted(got["call_ids"]) == sorted(want["call_ids"])


def test_sipladder_per_hop_delays_on_the_ims_sample(ims_t: dict) -> None:
    """Each INVITE hop's transaction: forward_ms is what the node before it added,
    return_ms what it added to the final response, provisional_ms its receiver's 100."""
    rows = [
        t
        for t in _cli_json("transactions", SAMPLES / "ims-tom-jerry.pcapng")
        if t["method"] == "INVITE"
    ]
    call = ims_t["call"]
    hops = call["invite_hops"]
    assert len(rows) == len(hops)
    for row, hop in zip(rows, hops, strict=True):
        assert _same(call["trying_after_invite_ms"][hop["to"]], row["provisional_ms"])
        if hop["from"] == "tom":
            assert row["forward_ms"] is None and row["return_ms"] is None
            assert _same(call["answer_ms"], row["final_ms"])
        else:
            assert _same(call["invite_added_delay_ms"][hop["from"]], row["forward_ms"])
            assert _same(call["response_added_delay_ms"][hop["from"]], row["return_ms"])


@pytest.mark.parametrize("name", FLOW_SAMPLES)
def test_lint_finds_nothing_in_the_constructed_samples(name: str) -> None:
    from click.testing import CliRunner

    from sipladder.cli import cli

    result = CliRunner().invoke(cli, ["lint", str(SAMPLES / name), "--format", "json"])
    assert json.loads(result.output) == [], result.output
