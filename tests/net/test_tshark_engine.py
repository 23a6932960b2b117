"""The tshark engine (sipladder.engines.tshark) and TLS decryption with a key log.

tests/data/tls/sip-tls.pcap is a real recording on loopback (Python's ssl module,
tcpdump) of two calls over TLS, the first TLS 1.3 and the second TLS 1.2, with the key
log the client wrote; tests/data/tls/make_sip_tls.py made both and lists what was sent.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import sipladder
from sipladder.cli import cli
from sipladder.errors import MissingExtraError, SipLadderError
from tests.captures import ROOT

DATA = Path(__file__).parent.parent / "data"
TLS = DATA / "tls"
PCAP, KEYS = str(TLS / "sip-tls.pcap"), str(TLS / "sip-tls.keys")


def recorder():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_sip_tls", TLS / "make_sip_tls.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sent() -> list[tuple[str, bytes]]:
    """(who sent it, bytes) of every message of the recording, in order."""
    make = recorder()
    return [step for call_id, _port, _version in make.CALLS for step in make.call(call_id)]


def test_tls_keylog_decrypts_message_by_message() -> None:
    capture = sipladder.load(PCAP, engine="tshark", tls_keylog=KEYS)
    expected = sent()
    assert len(capture.records) == len(expected) == 14
    for message, (who, data) in zip(capture.records, expected, strict=True):
        assert message.sip.raw == data
        assert message.transport.value == "tls"
        server = message.src if who == "s" else message.dst
        assert str(server) == "127.0.0.1:5061"
        assert message.sip.anomalies == ()
    times = [m.ts_ns for m in capture.records]
    assert times == sorted(times)


def test_the_recording_has_tls_1_3_and_tls_1_2() -> None:
    out = subprocess.run(
        ["tshark", "-r", PCAP, "-Y", "tls.handshake.type == 2", "-T", "fields",
         "-e", "tls.handshake.extensions.supported_version"],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")
    assert out[:2] == ["0x0304", ""]  # the first server hello picks 1.3, the second 1.2


def test_without_keys_the_connections_are_reported_unreadable() -> None:
    capture = sipladder.load(PCAP)
    assert capture.records == []
    tls = [d for d in capture.diagnostics if d.code == "tls-unreadable"]
    assert len(tls) == 2
    assert all("127.0.0.1:5061" in d.message for d in tls)
    assert capture.counters.diagnostics["tls-unreadable"] == 2


def test_the_summary_lists_the_unreadable_connections() -> None:
    capture = sipladder.load(PCAP)
    unreadable = capture.summary()["unreadable"]
    assert isinstance(unreadable, list) and len(unreadable) == 2
    assert all(u.startswith("tls 127.0.0.1:") and u.endswith(" -> 127.0.0.1:5061")
               for u in unreadable)
    text = CliRunner().invoke(cli, ["summary", "-q", PCAP]).output
    assert "unreadable without keys (2): tls 127.0.0.1:" in text


def test_cli_engine_and_keylog() -> None:
    result = CliRunner().invoke(
        cli, ["messages", "--engine", "tshark", "--tls-keylog", KEYS, PCAP, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["call_id"], r["cseq"], r["status"]) for r in rows][:4] == [
        ("tls13-call@127.0.0.1", 1, None),
        ("tls13-call@127.0.0.1", 1, 100),
        ("tls13-call@127.0.0.1", 1, 180),
        ("tls13-call@127.0.0.1", 1, 200),
    ]
    assert {r["transport"] for r in rows} == {"tls"}


def test_cli_keylog_needs_the_tshark_engine() -> None:
    result = CliRunner().invoke(cli, ["messages", "--tls-keylog", KEYS, PCAP])
    assert result.exit_code == 2
    assert "--engine tshark" in result.output


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("heplify/sip_ipv4_tcp_retrans.pcap", 8),  # TCP retransmissions, TLS noise
        ("heplify/sip_tcp_websocket.pcap", 39),  # WebSocket and UDP
        ("heplify/sip_sctp.pcap", 4),
        ("heplify/erspan_sip_ipv4_udp.pcapng", 140),  # GRE/ERSPAN: ip twice per frame
        ("arkime/gtp-iphone.pcap", 17),  # GTP-U, IPv6 inside IPv4
    ],
)
def test_engines_give_the_same_records(name: str, count: int) -> None:
    """Same frame, endpoints, transport and bytes of every message from both engines."""
    path = str(DATA / name)

    def key(c: sipladder.Capture) -> list[tuple[object, ...]]:
        return [(m.frame, str(m.src), str(m.dst), m.transport.value, m.sip.raw) for m in c.records]

    tshark = sipladder.load(path, engine="tshark")
    assert tshark.diagnostics == []
    assert key(sipladder.load(path)) == key(tshark)
    assert len(tshark.records) == count


def test_decode_as_rules() -> None:
    path = str(DATA / "heplify/sip_ipv4_tcp_fragmented.pcap")
    plain = sipladder.load(path, engine="tshark")
    assert plain.records == []  # tshark takes port 6060 for X11
    decoded = sipladder.load(path, engine="tshark", decode_as={"tcp.port==6060": "sip"})
    native = sipladder.load(path)
    assert len(native.records) == 406
    assert [m.sip.raw for m in decoded.records] == [m.sip.raw for m in native.records]
    with pytest.raises(SipLadderError, match="tshark engine"):
        sipladder.load(path, decode_as={"tcp.port==6060": "sip"})


def test_cli_decode_as() -> None:
    # The rules themselves are tested above on the 6060 capture; here the plumbing, on a
    # small capture (an RTP port taken as SIP finds nothing more, and breaks nothing).
    path = str(DATA / "heplify/sip_ipv4_tcp.pcap")
    result = CliRunner().invoke(
        cli, ["messages", "-q", "--engine", "tshark", "--decode-as", "udp.port==9,sip",
              "--decode-as", "tcp.port==5060,sip", "--format", "json", path]
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 7
    bad = CliRunner().invoke(cli, ["messages", "--engine", "tshark", "--decode-as", "sip", path])
    assert bad.exit_code == 2 and "SELECTOR,PROTOCOL" in bad.output
    native = CliRunner().invoke(cli, ["messages", "--decode-as", "tcp.port==6060,sip", path])
    assert native.exit_code == 2 and "--engine tshark" in native.output


def test_missing_pyshark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyshark", None)  # import pyshark now fails
    with pytest.raises(MissingExtraError, match=r"sipladder\[tshark\]"):
        sipladder.load(PCAP, engine="tshark")


def test_missing_files() -> None:
    with pytest.raises(SipLadderError, match="no such file"):
        sipladder.load(str(TLS / "nope.pcap"), engine="tshark")
    with pytest.raises(SipLadderError, match="key log"):
        sipladder.load(PCAP, engine="tshark", tls_keylog=str(TLS / "nope.keys"))
    with pytest.raises(SipLadderError, match="unknown engine"):
        sipladder.load(PCAP, engine="wireshark")


def _child_signal_state() -> tuple[object, int]:
    """The SIGCHLD handler and the signal wake-up fd (read by setting it and back)."""
    import signal

    fd = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(fd)
    return signal.getsignal(signal.SIGCHLD), fd


# (asyncio warns when a watcher is detached while a tshark process it waits for runs)
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("finish", ["read-whole", "closed-early"])
@pytest.mark.parametrize("files", [1, 2], ids=["one-file", "two-files"])
def test_pyshark_child_watcher_is_released(files: int, finish: str) -> None:
    # pyshark hooks SIGCHLD for its tshark processes (asyncio's SafeChildWatcher, with a
    # wake-up pipe nothing reads afterwards): left installed, every later child process
    # ending (the workers of `calls`) writes into that pipe, and once it is full Python
    # prints "Exception ignored ... BlockingIOError". Reading must leave it as it was.
    from sipladder.engines.tshark import read_payloads

    before = _child_signal_state()
    children = _children()
    paths = [str(ROOT / "samples" / name) for name in ("busy.pcap", "forward-302.pcap")]
    payloads = read_payloads(paths[:files], lambda diagnostic: None)
    next(payloads)
    assert _child_signal_state() != before  # pyshark's hook, while tshark runs
    if finish == "read-whole":
        assert len(list(payloads)) > 5
    else:
        payloads.close()  # every file's tshark stopped, then the hook released
    assert _child_signal_state() == before
    assert _children() <= children
    # and no watcher is left to hook SIGCHLD again on the next event loop set
    previous = asyncio.get_event_loop_policy().get_event_loop()  # (the one pyshark uses)
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        assert _child_signal_state() == before
    finally:
        asyncio.set_event_loop(previous)
        loop.close()


def _children() -> set[int]:
    """The processes whose parent is this one (Linux /proc)."""
    import os

    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended meanwhile
            # pid (comm) state ppid ...: comm may hold spaces, so split after its ")"
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.add(int(entry.name))
    return found
