"""End to end: the SIP messages sipladder finds in real UDP captures, in the SIPp
recordings and in every sample are the ones tshark finds, frame by frame (tshark
computes the expectation here, it is never pasted).

Over UDP a datagram carries one message (RFC 3261 section 18.1.1). The one accepted
difference: a datagram whose start line is not well formed (``INIVTE sip:x`` without a
version, ``SIP2.0``, a fuzzed ``SIP/a.0``, a NUL in the Request-URI) is not SIP to
tshark's dissector, while our lenient parser recovers it and flags anomalies. Each such
frame is checked to have a malformed start line (read from tshark's own payload field,
not from our parser) and anomalies on our side; a frame tshark sees as SIP and we miss is
always a failure.

Without tshark the tests fail in CI (``CI=true``; ``.ci/run`` installs it) and are
skipped, saying why, elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
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
    "PcapPlusPlus/sip_resp.pcap",  # one response is over TCP: the UDP ones are compared
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
#: Our SIPp recordings (tests/data/sipp/README.md): real SIPp traffic, plain UDP.
SIPP_CAPTURES = sorted(f"sipp/{p.name}" for p in (DATA / "sipp").glob("*.pcap"))
SAMPLES = sorted(p.name for p in (ROOT / "samples").glob("*.pcap*"))
FUZZ = "nDPI/fuzz-2006-06-26-2594.pcap"
#: Samples with deliberately defective messages that tshark does not take for SIP
#: (``INIVTE``, ``SIP2.0``): we must find at least what tshark finds, and all of them.
DEFECTIVE_SAMPLES = {"seed-listings.pcap": 6}  # the seed article's six listings


TSHARK_FIELDS = ["-T", "fields", "-e", "frame.number", "-e", "sip.CSeq"]
TSHARK_FILTER = "sip && udp && !gre && !gtp && !vxlan"

#: RFC 3261 sections 7.1 and 7.2 start lines, strictly (token method, visible-character
#: Request-URI, SIP/2.0; or SIP/2.0, three digits, a reason without control characters).
WELL_FORMED_START = re.compile(
    rb"(?:[A-Za-z!%*_+`'~.-]+ [\x21-\x7e]+ SIP/2\.0|SIP/2\.0 \d{3} [^\x00-\x08\x0a-\x1f\x7f]*)\r?"
)


def _tshark_binary() -> str:
    found = shutil.which("tshark")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tshark is not installed, and CI must have it (.ci/run installs it)")
        pytest.skip("tshark is not installed here (CI installs it): cannot cross-check counts")
    return found


def _parse(out: str) -> Counter[int]:
    frames: Counter[int] = Counter()
    for line in out.splitlines():
        number, cseqs = line.split("\t")
        frames[int(number)] += len(cseqs.split(",")) if cseqs else 1
    return frames


@pytest.fixture(scope="module")
def tshark(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Counter[int]]:
    """Frame number -> SIP messages tshark dissects in it (over UDP, outside tunnels),
    for every capture of this module.

    tshark's start-up (about a second) dominates on small files, so the captures are
    concatenated with mergecap (``-a``: one after the other, each file's frames in
    order; pcapng keeps every link type) and dissected by one tshark run; each file's
    frames are found again by its frame count (capinfos). mergecap and capinfos come
    with tshark (Debian package wireshark-common). Over UDP nothing carries over from
    one file to the next, so this gives what one tshark run per file gives (checked
    when it was written: 43 s one by one, 3 s merged, same frames)."""
    binary = _tshark_binary()
    tools = {name: shutil.which(name) for name in ("mergecap", "capinfos")}
    missing = [name for name, found in tools.items() if found is None]
    assert not missing, f"{missing} should come with tshark (wireshark-common)"
    paths = [DATA / n for n in [*UDP_CAPTURES, *SIPP_CAPTURES, FUZZ]]
    paths += [ROOT / "samples" / n for n in SAMPLES]
    counts = subprocess.run(
        [str(tools["capinfos"]), "-c", "-M", "-T", "-r", *map(str, paths)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    frames_per_file = [int(line.rsplit("\t", 1)[1]) for line in counts]
    assert len(frames_per_file) == len(paths)
    merged = tmp_path_factory.mktemp("tshark") / "all.pcapng"
    subprocess.run(
        [str(tools["mergecap"]), "-a", "-F", "pcapng", "-w", str(merged), *map(str, paths)],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [binary, "-n", "-r", str(merged), "-Y", TSHARK_FILTER, *TSHARK_FIELDS],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    everything = _parse(out)
    results: dict[Path, Counter[int]] = {}
    offset = 0
    for path, count in zip(paths, frames_per_file, strict=True):
        results[path] = Counter(
            {n - offset: k for n, k in everything.items() if offset < n <= offset + count}
        )
        offset += count
    return results


def our_sip_frames(path: Path) -> Counter[int]:
    capture = sipladder.load(str(path))
    return Counter(m.frame for m in capture.records if m.transport is Transport.UDP)


def assert_extra_frames_are_malformed(path: Path, extra: set[int]) -> None:
    """Frames we find SIP in and tshark does not: each must start with a malformed start
    line (payload from tshark, not from our parser) and carry anomalies of ours."""
    if not extra:
        return
    shown = " || ".join(f"frame.number == {n}" for n in sorted(extra))
    out = subprocess.run(
        [
            _tshark_binary(),
            "-n",
            "-r",
            str(path),
            "-Y",
            shown,
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "udp.payload",
            "-e",
            "data.data",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    payloads = {}
    for line in out.splitlines():
        number, udp_payload, data = line.split("\t")
        payloads[int(number)] = bytes.fromhex((udp_payload or data).replace(":", ""))
    assert set(payloads) == extra
    flagged = {m.frame for m in sipladder.load(str(path)).records if m.sip.anomalies}
    for n, payload in payloads.items():
        start = payload.lstrip(b"\r\n").split(b"\n", 1)[0]
        assert not WELL_FORMED_START.fullmatch(start), (
            f"frame {n}: tshark sees no SIP in {start!r}, yet its start line is well formed"
        )
        assert n in flagged, f"frame {n}: recovered from a malformed start line without anomalies"


@pytest.mark.parametrize("name", UDP_CAPTURES)
def test_udp_capture_matches_tshark(tshark: dict[Path, Counter[int]], name: str) -> None:
    expected = tshark[DATA / name]
    assert expected, "tshark found no SIP: wrong capture in the list"
    assert our_sip_frames(DATA / name) == expected


@pytest.mark.parametrize("name", SIPP_CAPTURES)
def test_sipp_recording_matches_tshark(tshark: dict[Path, Counter[int]], name: str) -> None:
    expected = tshark[DATA / name]
    assert expected, "tshark found no SIP in a SIPp recording"
    assert our_sip_frames(DATA / name) == expected


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_matches_tshark(tshark: dict[Path, Counter[int]], name: str) -> None:
    path = ROOT / "samples" / name
    ours, expected = our_sip_frames(path), tshark[path]
    if name in DEFECTIVE_SAMPLES:
        assert set(expected) <= set(ours) and len(expected) < len(ours)
        assert sum(ours.values()) == DEFECTIVE_SAMPLES[name]
        assert_extra_frames_are_malformed(path, set(ours) - set(expected))
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
    # (no per-frame message count here: on frame 527, whose CSeq method is a run of 0xAA
    # bytes, tshark reports the sip.CSeq field twice for one message)
    assert_extra_frames_are_malformed(path, set(ours) - set(expected))


def test_seed_listings_three_of_six_for_tshark(tshark: dict[Path, Counter[int]]) -> None:
    """Listings 1 and 2 (``SIP2.0``) and 4 (``INIVTE``, no version) are not SIP to
    tshark; we parse all six, in order."""
    path = ROOT / "samples" / "seed-listings.pcap"
    assert sorted(tshark[path]) == [3, 5, 6]
    assert [m.frame for m in sipladder.load(str(path)).records] == [1, 2, 3, 4, 5, 6]


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
