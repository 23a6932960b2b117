"""The ``--engine tshark`` backend: Wireshark's dissectors, through pyshark, to payloads.

For what only Wireshark does: decrypting SIP over TLS 1.2 and 1.3 with a key log file
(``SSLKEYLOGFILE`` format, ``--tls-keylog``), and any transport or encapsulation our
own decoder does not know. tshark dissects, reassembles and decrypts; we take the raw
bytes of every SIP message it found (tshark's EK output with ``-x`` gives each SIP PDU's
bytes, one entry per message even when a frame carries several) with the frame's
number and time, the innermost IP addresses and ports, and the transport. Those become
:class:`~sipladder.model.Payload` records and go through our own SIP parser like the
native engine's, so both engines give the same message records.

pyshark is an optional extra (``pip install 'sipladder[tshark]'``), imported only here
and only when this engine is used; the ``tshark`` program must be installed too.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import sys
import warnings
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any

from sipladder.errors import CaptureError, MissingExtraError, SipLadderError
from sipladder.model import Diagnostic, Endpoint, Payload, Transport

Report = Callable[[Diagnostic], None]


def _pyshark() -> Any:
    try:
        import pyshark
    except ImportError:
        raise MissingExtraError("pyshark", "tshark", "--engine tshark") from None
    return pyshark


def _fields(layer: Any) -> Any:
    """The values of an EK layer: a dict of fields, or for a ``*_raw`` layer the hex
    string (a list of them when the protocol occurs several times in the frame)."""
    return layer._fields_dict  # pyshark's EkLayer keeps tshark's JSON here, untouched


def _innermost(layer: Any) -> dict[str, Any]:
    """The fields of a layer; of its last occurrence when tunnels repeat it (pyshark
    then gives a list of dicts)."""
    fields = _fields(layer)
    if isinstance(fields, list):
        fields = fields[-1] if fields else {}
    return fields if isinstance(fields, dict) else {}


def _last(value: Any) -> Any:
    """The innermost occurrence of a field repeated by tunnels (IP in IP, ...)."""
    return value[-1] if isinstance(value, list) else value


def _ts_ns(epoch: str) -> int:
    """tshark's ``frame.time_epoch`` ("1700000000.123456789") as integer nanoseconds."""
    seconds, _, fraction = str(epoch).partition(".")
    return int(seconds) * 1_000_000_000 + int((fraction + "000000000")[:9])


def _transport(names: set[str]) -> Transport:
    if "websocket" in names:
        return Transport.WSS if "tls" in names else Transport.WS
    if "tls" in names:
        return Transport.TLS
    if "sctp" in names:
        return Transport.SCTP
    if "tcp" in names:
        return Transport.TCP
    return Transport.UDP


def _payloads(file: str, packet: Any) -> list[Payload]:
    layers = {layer.layer_name: layer for layer in packet.layers}
    raw = layers.get("sip_raw")
    if raw is None:
        return []
    chunks = _fields(raw)
    if isinstance(chunks, str):
        chunks = [chunks]
    frame = _innermost(packet.frame_info)
    number = int(_last(frame.get("frame_frame_number", 0)))
    ts = _ts_ns(_last(frame.get("frame_frame_time_epoch", "0")))
    names = set(layers)
    # The innermost network layer carried the SIP (tunnels repeat ip and ipv6).
    src_ip = dst_ip = "0.0.0.0"
    for layer in packet.layers:
        if layer.layer_name in ("ip", "ipv6"):
            net, name = _innermost(layer), layer.layer_name
            src_ip = _last(net.get(f"{name}_{name}_src", src_ip))
            dst_ip = _last(net.get(f"{name}_{name}_dst", dst_ip))
    sport = dport = 0
    for proto in ("sctp", "tcp", "udp"):
        if proto in layers:
            f = _innermost(layers[proto])
            sport = int(_last(f.get(f"{proto}_{proto}_srcport", 0)))
            dport = int(_last(f.get(f"{proto}_{proto}_dstport", 0)))
            break
    src, dst = Endpoint.of(src_ip, sport), Endpoint.of(dst_ip, dport)
    transport = _transport(names)
    return [
        Payload(file, number, ts, src, dst, transport, bytes.fromhex(chunk))
        for chunk in chunks
        if chunk
    ]


def _frame_number(packet: Any) -> int | None:
    try:
        return int(packet.frame_info.number)
    except (AttributeError, TypeError, ValueError):
        return None


def _read_file(
    path: str,
    report: Report,
    tls_keylog: str | None,
    decode_as: Mapping[str, str] | None,
) -> Generator[Payload, None, None]:
    pyshark = _pyshark()
    if path == "-":
        raise CaptureError(path, "--engine tshark cannot read standard input; give a file")
    if not os.path.exists(path):
        raise CaptureError(path, "no such file")
    prefs: dict[str, str] = {}
    if tls_keylog is not None:
        prefs["tls.keylog_file"] = os.path.abspath(tls_keylog)
    try:
        capture = pyshark.FileCapture(
            path,
            display_filter="sip",
            use_ek=True,
            include_raw=True,
            keep_packets=False,
            override_prefs=prefs or None,
            decode_as=dict(decode_as) if decode_as else None,
        )
    except pyshark.tshark.tshark.TSharkNotFoundException:
        raise SipLadderError(
            "--engine tshark needs the tshark program (Debian/Ubuntu: apt install tshark)"
        ) from None
    try:
        for packet in capture:
            try:
                found = _payloads(path, packet)
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                # tshark's output for this frame is not shaped as expected: say so, go on.
                report(
                    Diagnostic(
                        path,
                        _frame_number(packet),
                        "tshark-unreadable",
                        f"the tshark engine could not take SIP out of this frame ({exc!r})",
                    )
                )
                continue
            yield from found
    except pyshark.capture.capture.TSharkCrashException as exc:
        raise CaptureError(path, f"tshark could not read it: {exc}") from None
    finally:
        capture.close()


def read_payloads(
    paths: Sequence[str],
    report: Report,
    tls_keylog: str | None = None,
    decode_as: Mapping[str, str] | None = None,
) -> Iterator[Payload]:
    """Every SIP payload tshark finds in the files, merged by time (file order breaks ties).

    ``decode_as`` passes tshark's ``-d`` rules, for example ``{"tcp.port==6060": "sip"}``.
    """
    if tls_keylog is not None and not os.path.isfile(tls_keylog):
        raise CaptureError(tls_keylog, "TLS key log file not found")
    streams = [_read_file(path, report, tls_keylog, decode_as) for path in paths]
    try:
        if len(streams) == 1:
            yield from streams[0]
        else:
            yield from heapq.merge(*streams, key=lambda p: p.ts_ns)
    finally:
        for stream in streams:  # each file's tshark stopped (when left unfinished)...
            stream.close()
        _release_child_watcher()  # ...before the watcher of its process is detached


def _release_child_watcher() -> None:
    """Undo what pyshark leaves behind in the whole process once its captures are closed.

    For its tshark processes pyshark installs asyncio's ``SafeChildWatcher`` on the event
    loop, which keeps a SIGCHLD handler and a signal wake-up pipe that nothing reads after
    the capture. Every child process that ends later (the workers of ``sipladder calls``,
    or any subprocess of the program using us) then writes a byte into that pipe; once it
    is full, Python prints "Exception ignored ... BlockingIOError" on standard error for
    each. Closing the watcher removes the handler and the wake-up pipe; pyshark installs
    one again for its next capture."""
    if sys.is_finalizing():
        return  # (a reading left unfinished until the interpreter's exit: nothing to free)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # child watchers, Python 3.12+
        try:
            watcher = asyncio.get_child_watcher()
        except (AttributeError, NotImplementedError, RuntimeError):  # none to detach
            return
        if isinstance(watcher, asyncio.SafeChildWatcher):
            # closed (detached from its loop) and replaced by asyncio's default, which
            # uses no signal: left in place, it would attach itself to the next event
            # loop anyone sets (asyncio's policy does so), hooking SIGCHLD again
            asyncio.set_child_watcher(None)  # type: ignore[arg-type] # (None: the default)
