"""Broken captures, end to end: one test per kind of damage. Each capture is built here
(scapy for the packets, struct for the file), holds good SIP messages around the damage,
and must give: a diagnostic naming the file, the frame and the reason; every good message;
the count in ``summary``; and on the command line no traceback."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from sipladder.capture import Capture
from sipladder.cli import cli

Record = bytes | tuple[bytes, int, int]  # data, or (data, original length, seconds)


def sip(n: int, extra: bytes = b"", length: bytes = b"0") -> bytes:
    return (
        b"OPTIONS sip:b@example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK%d\r\n"
        b"From: <sip:a@example.com>;tag=f%d\r\nTo: <sip:b@example.com>\r\nCall-ID: call-%d\r\n"
        b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n%bContent-Length: %b\r\n\r\n"
    ) % (n, n, n, extra, length)


def packet(payload: bytes) -> bytes:
    return bytes(
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IP(src="10.0.0.1", dst="10.0.0.2")
        / UDP(sport=5060, dport=5060)
        / Raw(payload)
    )


def pcap(records: list[Record], snaplen: int = 65535) -> bytes:
    """A little-endian microsecond pcap; frame i is at second i unless given."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1)
    for i, record in enumerate(records):
        data, orig, sec = record if isinstance(record, tuple) else (record, len(record), i)
        out += struct.pack("<IIII", 1_700_000_000 + sec, 0, len(data), orig) + data
    return out


GOOD = [packet(sip(n)) for n in range(3)]


def load(tmp_path: Path, data: bytes, name: str = "broken.pcap") -> tuple[Capture, str]:
    path = tmp_path / name
    path.write_bytes(data)
    return Capture(str(path)), str(path)


def call_ids(capture: Capture) -> list[str | None]:
    return [m.sip.call_id for m in capture.records]


def only_diagnostic(capture: Capture, code: str, frame: int | None) -> str:
    found = [d for d in capture.diagnostics if d.code == code]
    assert [d.frame for d in found] == [frame], capture.diagnostics
    assert capture.summary()["diagnostics"] == {code: 1}
    text = str(found[0])
    assert text.startswith(capture.paths[0]) and (frame is None or f"frame {frame}" in text)
    return text


def cli_run(path: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["summary", path, "--format", "json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


# --------------------------------------------------------------------------- the file


@pytest.mark.parametrize(
    ("cut", "reason"),
    [(5, "inside a packet header"), (16 + 40, "inside a packet (40 of")],
    ids=["mid-header", "mid-packet"],
)
def test_truncated_file(tmp_path: Path, cut: int, reason: str) -> None:
    whole = pcap(GOOD)
    data = whole[: len(whole) - (16 + len(GOOD[2])) + cut]
    capture, path = load(tmp_path, data)
    text = only_diagnostic(capture, "capture-truncated", 3)
    assert reason in text and "rest of the file is lost" in text
    assert call_ids(capture) == ["call-0", "call-1"]
    code, out, err = cli_run(path)
    assert code == 0 and json.loads(out)["sip_messages"] == 2
    assert f"{path}: frame 3: file ends {reason}" in err


def test_truncated_inside_file_header(tmp_path: Path) -> None:
    path = tmp_path / "short.pcap"
    path.write_bytes(pcap([])[:10])
    result = CliRunner().invoke(cli, ["messages", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}: unreadable capture header")


def test_bad_magic(tmp_path: Path) -> None:
    path = tmp_path / "bad.pcap"
    path.write_bytes(b"\x00\x01\x02\x03" + pcap(GOOD)[4:])
    result = CliRunner().invoke(cli, ["summary", str(path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {path}: not a pcap or pcapng capture (unknown magic number 00010203)\n"
    )


def test_wrong_snap_length_in_header(tmp_path: Path) -> None:
    # the header says 64 bytes, every packet has more: the header is wrong, not the packets
    capture, _ = load(tmp_path, pcap(GOOD, snaplen=64))
    text = only_diagnostic(capture, "snaplen-exceeded", 1)
    assert "3 packet(s)" in text and "snap length 64" in text
    assert call_ids(capture) == ["call-0", "call-1", "call-2"]


def test_timestamps_going_backwards(tmp_path: Path) -> None:
    records: list[Record] = [(GOOD[0], len(GOOD[0]), 5), (GOOD[1], len(GOOD[1]), 3)]
    records.append((GOOD[2], len(GOOD[2]), 4))
    capture, _ = load(tmp_path, pcap(records))
    text = only_diagnostic(capture, "timestamps-backwards", 2)
    assert "1 time(s)" in text
    # kept in file order, nothing lost
    assert call_ids(capture) == ["call-0", "call-1", "call-2"]


# --------------------------------------------------------------------------- frames


def test_packet_cut_by_snap_length(tmp_path: Path) -> None:
    cut = GOOD[1][:120]  # Ethernet, IP, UDP and the start of the SIP message
    capture, path = load(tmp_path, pcap([GOOD[0], (cut, len(GOOD[1]), 1), GOOD[2]]))
    text = only_diagnostic(capture, "sip-truncated", 2)
    assert "lost its tail" in text
    assert len(capture) == 3
    cut_message = capture.records[1]
    assert cut_message.truncated and cut_message.sip.raw == cut[42:]
    assert "headers-unterminated" in [a.code for a in cut_message.sip.anomalies]
    assert not capture.records[0].truncated and not capture.records[2].truncated


def test_zero_length_packets(tmp_path: Path) -> None:
    records: list[Record] = [GOOD[0], (b"", 0, 1), (b"", 60, 1), GOOD[2]]
    capture, _ = load(tmp_path, pcap(records))
    found = [(d.code, d.frame) for d in capture.diagnostics]
    assert found == [("frame-empty", 2), ("frame-empty", 3)]
    assert capture.summary()["diagnostics"] == {"frame-empty": 2}
    assert call_ids(capture) == ["call-0", "call-2"]


def test_wrong_checksums_are_read_like_wireshark(tmp_path: Path) -> None:
    # Checksums are not verified (offloading leaves them wrong on the sending host, and
    # Wireshark does not check them by default either): the message is read, and tshark
    # agrees that it is there.
    bad = bytearray(GOOD[1])
    bad[14 + 10] ^= 0xFF  # IPv4 header checksum
    bad[14 + 20 + 6] ^= 0xFF  # UDP checksum
    capture, path = load(tmp_path, pcap([GOOD[0], bytes(bad), GOOD[2]]))
    assert call_ids(capture) == ["call-0", "call-1", "call-2"]
    assert capture.diagnostics == []
    tshark = subprocess.run(
        ["tshark", "-n", "-r", path, "-Y", "sip", "-T", "fields", "-e", "frame.number"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert tshark.stdout.split() == ["1", "2", "3"]


# --------------------------------------------------------------------------- SIP payloads


@pytest.mark.parametrize(
    "length", [b"99999999999999999999", b"4294967296", b"-5"], ids=["huge", "2**32", "negative"]
)
def test_huge_or_negative_content_length(tmp_path: Path, length: bytes) -> None:
    capture, _ = load(tmp_path, pcap([packet(sip(0, length=length)), GOOD[1]]))
    assert call_ids(capture) == ["call-0", "call-1"]
    first = capture.records[0].sip
    assert [a.code for a in first.anomalies] == ["content-length-invalid"]
    assert first.body == b"" and first.content_length is None
    assert capture.summary()["anomalies"] == {"content-length-invalid": 1}


def test_non_utf8_bytes_in_headers(tmp_path: Path) -> None:
    capture, _ = load(tmp_path, pcap([packet(sip(0, b"Subject: caf\xe9 \xff\xfe\r\n")), GOOD[1]]))
    assert call_ids(capture) == ["call-0", "call-1"]
    first = capture.records[0].sip
    assert "header-non-utf8" in [a.code for a in first.anomalies]
    assert first.header("Subject") == "caf\ufffd \ufffd\ufffd"


def test_nul_bytes(tmp_path: Path) -> None:
    capture, _ = load(tmp_path, pcap([packet(sip(0, b"Subject: a\x00b\r\n")), GOOD[1]]))
    assert call_ids(capture) == ["call-0", "call-1"]
    assert "nul-byte" in [a.code for a in capture.records[0].sip.anomalies]


def test_datagram_with_several_sip_messages(tmp_path: Path) -> None:
    capture, _ = load(tmp_path, pcap([packet(sip(0) + sip(1) + sip(2))]))
    assert call_ids(capture) == ["call-0", "call-1", "call-2"]
    assert {m.frame for m in capture.records} == {1}
    assert capture.diagnostics == []


# --------------------------------------------------------------------------- command line


def test_missing_file_one_line_exit_1(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pcap"
    for command in ("messages", "summary", "lint", "calls", "ladder"):
        result = CliRunner().invoke(cli, [command, str(missing)])
        assert result.exit_code == 1, command
        assert result.stderr == f"Error: {missing}: no such file\n", command
        assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "is a directory"), (b"", "the file is empty"), (b"\x1f\x8b\x08junk", "cannot read")],
    ids=["directory", "empty", "broken-gzip"],
)
def test_unreadable_file_one_line_exit_1(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "x.pcap"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    result = CliRunner().invoke(cli, ["summary", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}: {reason}")
