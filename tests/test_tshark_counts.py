"""End to end: the SIP messages sipladder finds in real UDP captures and in every sample
are the ones tshark finds, frame by frame (tshark computes the expectation here)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import sipladder
from sipladder.model import Transport

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"

#: Third-party captures whose SIP travels in plain UDP (no TCP, SCTP or tunnel), see
#: tests/data/SOURCES.md. Captures with tunnelled or TCP SIP are checked with the
#: transports that carry them.
UDP_CAPTURES = [
    "PcapPlusPlus/sdp.pcap",
    "PcapPlusPlus/sip_non_default_port.pcap",
    "PcapPlusPlus/sip_not_sdp.pcap",
    "PcapPlusPlus/sip_reqs.pcap",
    "heplify/ipip0.pcap",
    "heplify/rtp_rtcp_sip_ipv4_udp.pcap",
    "heplify/sip_ipv6_udp.pcap",
    "misc-student-repos/MaryLS_Laborator09__sip.pcap",
    "misc-student-repos/MichalCab_ISA__sip.pcap",
    "nDPI/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
    "nDPI/sip_hello.pcapng",
    "nDPI/webex.pcap",
    "sngrep/aaa.pcap",
    "sngrep/ipv6frag.pcap",
    "suricata-verify/sip-body-frames__public-cloudshark-sip-s0.pcap",
    "suricata-verify/sip-compact-form__sip_compact_form.pcap",
    "suricata-verify/sip-header-multi-value__sip_header_multi_val.pcap",
    "suricata-verify/sip-options-method__input.pcap",
    "suricata-verify/sip-pattern-matching__sip.pcap",
    "suricata-verify/sip-sdp__sdp.pcap",
    "zeek/invalid-content-length.pcap",
    "zeek/sip-junk-before-request.pcap",
    "zeek/sip-long-request-response-paths.pcap",
]
SAMPLES = sorted(p.name for p in (ROOT / "samples").glob("*.pcap*"))
FUZZ = "nDPI/fuzz-2006-06-26-2594.pcap"
#: Samples with deliberately defective messages that tshark does not take for SIP
#: (``INIVTE``, ``SIP2.0``): we must find at least what tshark finds, and all of them.
DEFECTIVE_SAMPLES = {"seed-listings.pcap": 6}  # the seed article's six listings


TSHARK_FIELDS = ["-T", "fields", "-e", "frame.number", "-e", "sip.CSeq"]
TSHARK_FILTER = "sip && udp && !gre && !gtp && !vxlan"


def _parse(out: str) -> Counter[int]:
    frames: Counter[int] = Counter()
    for line in out.splitlines():
        number, cseqs = line.split("\t")
        frames[int(number)] += len(cseqs.split(",")) if cseqs else 1
    return frames


@pytest.fixture(scope="module")
def tshark() -> dict[Path, Counter[int]]:
    """Frame number -> SIP messages tshark dissects in it (over UDP, outside tunnels),
    for every capture of this module, computed by tshark processes run side by side
    (tshark's start-up dominates; one at a time would take half a minute)."""
    paths = [DATA / n for n in [*UDP_CAPTURES, FUZZ]] + [ROOT / "samples" / n for n in SAMPLES]
    results: dict[Path, Counter[int]] = {}
    for start in range(0, len(paths), 4):
        batch = paths[start : start + 4]
        procs = [
            subprocess.Popen(
                ["tshark", "-n", "-r", str(p), "-Y", TSHARK_FILTER, *TSHARK_FIELDS],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for p in batch
        ]
        for path, proc in zip(batch, procs, strict=True):
            out, _ = proc.communicate()
            assert proc.returncode == 0, f"tshark failed on {path}"
            results[path] = _parse(out)
    return results


def our_sip_frames(path: Path) -> Counter[int]:
    capture = sipladder.load(str(path))
    return Counter(m.frame for m in capture.records if m.transport is Transport.UDP)


@pytest.mark.parametrize("name", UDP_CAPTURES)
def test_udp_capture_matches_tshark(tshark: dict[Path, Counter[int]], name: str) -> None:
    expected = tshark[DATA / name]
    assert expected, "tshark found no SIP: wrong capture in the list"
    assert our_sip_frames(DATA / name) == expected


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_matches_tshark(tshark: dict[Path, Counter[int]], name: str) -> None:
    path = ROOT / "samples" / name
    ours, expected = our_sip_frames(path), tshark[path]
    if name in DEFECTIVE_SAMPLES:
        assert set(expected) <= set(ours) and len(expected) < len(ours)
        assert sum(ours.values()) == DEFECTIVE_SAMPLES[name]
    else:
        assert ours == expected


def test_corrupted_capture_finds_every_message_tshark_finds(
    tshark: dict[Path, Counter[int]],
) -> None:
    """nDPI's byte-corrupted copy of aaa.pcap: tshark gives up on some damaged messages
    that the lenient reader still finds, so tshark's frames are a subset of ours."""
    path = DATA / FUZZ
    ours, expected = our_sip_frames(path), tshark[path]
    assert set(expected) <= set(ours) and len(expected) > 40


def test_messages_command_end_to_end(tshark: dict[Path, Counter[int]]) -> None:
    path = DATA / "sngrep/ipv6frag.pcap"
    result = subprocess.run(
        [sys.executable, "-m", "sipladder", "messages", "--format", "json", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(result.stdout)
    assert Counter(row["frame"] for row in rows) == tshark[path]
    assert rows[0]["src"].startswith("[fd17:625c:f037:2:") and rows[0]["transport"] == "udp"
