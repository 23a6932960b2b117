"""From frames to transport payloads: the dispatch tables that tie the layers together.

The decoder keeps state (fragments waiting for their siblings, later TCP
streams), so it is an object fed one frame at a time::

    decoder = PacketDecoder(report)
    for frame in frames:
        for payload in decoder.feed(frame):
            ...
    for payload in decoder.finish():
        ...

Each layer is a plain function found in one of three tables, so a new protocol
plugs in without touching the others:

========================  =====================================================  ============
table                     handler signature                                       filled by
========================  =====================================================  ============
``linktypes[int]``        ``(decoder, frame, view)``                              link.py
``ethertypes[int]``       ``(decoder, frame, view)``                              link.py, ip.py
``ip_protocols[int]``     ``(decoder, frame, src, dst, view)``                    ip.py, udp.py
``udp_ports[int]``        ``(decoder, frame, payload) -> bool`` (True: consumed)  (tunnels, HEP)
========================  =====================================================  ============

``frame`` is the :class:`~sipladder.model.Frame` being decoded (the context every
payload inherits: file, frame number, time), ``view`` a :class:`memoryview` that
starts at the handler's own header, ``src``/``dst`` the packed IP addresses
(4 or 16 bytes). A handler delivers what it finds with :meth:`PacketDecoder.emit`
and raises :class:`~sipladder.errors.DecodeError` for a malformed header (a short
buffer's ``struct.error``/``IndexError`` is treated the same way).

Decoding is re-entrant: a tunnel handler (IP-in-IP, GRE, VXLAN, ERSPAN, MPLS) calls
:meth:`~PacketDecoder.decode_ip`, :meth:`~PacketDecoder.decode_ethertype` or
:meth:`~PacketDecoder.decode_link` on the inner packet with the outer frame.

Handlers that need state of their own per capture (TCP streams) are installed by
an *installer*: a function ``install(decoder)`` that registers handlers (closures or
bound methods of a per-decoder object) and, if needed, a finish hook with
:meth:`PacketDecoder.on_finish`. :data:`INSTALLERS` lists the installers every
decoder runs; add yours there.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from typing import Any

from sipladder.accel import accel
from sipladder.errors import DecodeError
from sipladder.model import Diagnostic, Endpoint, Frame, Payload, Severity
from sipladder.net.udp import datagram as _datagram

Report = Callable[[Diagnostic], None]

LinkHandler = Callable[["PacketDecoder", Frame, memoryview], None]
EthertypeHandler = Callable[["PacketDecoder", Frame, memoryview], None]
IpProtocolHandler = Callable[["PacketDecoder", Frame, bytes, bytes, memoryview], None]
UdpPortHandler = Callable[["PacketDecoder", Frame, Payload], bool]
Installer = Callable[["PacketDecoder"], None]
FinishHook = Callable[[], None]

#: Cached endpoints are dropped wholesale past this many (a bound, not a tuning knob:
#: SIP captures have few distinct endpoints, scans have many).
ENDPOINT_CACHE_LIMIT = 65536


class PacketDecoder:
    """Link, IP and transport decoding through dispatch tables (see the module docstring)."""

    def __init__(self, report: Report, installers: list[Installer] | None = None) -> None:
        self.report = report
        self.linktypes: dict[int, LinkHandler] = {}
        self.ethertypes: dict[int, EthertypeHandler] = {}
        self.ip_protocols: dict[int, IpProtocolHandler] = {}
        self.udp_ports: dict[int, UdpPortHandler] = {}
        #: frames or packets passed over because nothing here carries SIP
        #: (ARP, ICMP, unknown ethertypes, ...), by reason: for the summary.
        self.ignored: dict[str, int] = {}
        self._finish_hooks: list[FinishHook] = []
        #: the payloads of the frame being decoded (what :meth:`emit` appends to;
        #: hot paths may append directly)
        self.out: list[Payload] = []
        #: (packed address, port) -> Endpoint, shared by every payload (see :meth:`endpoint`)
        self.endpoints: dict[tuple[bytes, int], Endpoint] = {}
        self._unknown_linktypes: set[tuple[str, int]] = set()
        #: per-protocol state installers can keep here (for example ``"fragments"``)
        self.state: dict[str, Any] = {}
        #: the link types whose plain UDP datagrams the compiled accelerator decodes
        #: (see :meth:`_plain_udp_linktypes`); None: to be worked out again
        self._fast_linktypes: frozenset[int] | None = None
        for install in INSTALLERS if installers is None else installers:
            install(self)

    # ------------------------------------------------------------------- registration

    def register_linktype(self, linktype: int, handler: LinkHandler) -> None:
        self.linktypes[linktype] = handler
        self._fast_linktypes = None

    def register_ethertype(self, ethertype: int, handler: EthertypeHandler) -> None:
        self.ethertypes[ethertype] = handler
        self._fast_linktypes = None

    def register_ip_protocol(self, protocol: int, handler: IpProtocolHandler) -> None:
        self.ip_protocols[protocol] = handler
        self._fast_linktypes = None

    def register_udp_port(self, port: int, handler: UdpPortHandler) -> None:
        """``handler`` sees every UDP datagram to or from ``port`` before it is emitted;
        it returns True when it consumed the datagram (a tunnel or HEP packet)."""
        self.udp_ports[port] = handler

    def on_finish(self, hook: FinishHook) -> None:
        """``hook()`` runs at :meth:`finish`; it may :meth:`emit` and :attr:`report`."""
        self._finish_hooks.append(hook)

    # ------------------------------------------------------------------- feeding

    def feed(self, frame: Frame) -> list[Payload]:
        """The payloads this frame completes (none, one, or several)."""
        out = self.out = []
        fast = self._fast_linktypes
        if fast is None:
            fast = self._fast_linktypes = self._plain_udp_linktypes()
        if frame.linktype in fast:
            # The compiled accelerator decodes a plain UDP datagram (nearly every SIP
            # packet) as the handlers below would; anything else, or a datagram for a
            # registered UDP port (tunnels, HEP), goes down the handlers.
            found = accel.udp_payload(frame.linktype, frame.data)  # type: ignore[union-attr]
            if found is not None:
                src, dst, sport, dport, data, truncated = found
                ports = self.udp_ports
                if not ports or (dport not in ports and sport not in ports):
                    out.append(_datagram(self, frame, src, dst, sport, dport, data, truncated))
                    return out
        handler = self.linktypes.get(frame.linktype)
        if handler is None:
            self._unknown_linktype(frame)
            return out
        try:
            handler(self, frame, memoryview(frame.data))
        except (DecodeError, struct.error, IndexError, ValueError) as exc:
            self._malformed(frame, exc)
        return out

    def compiled_udp(self, linktype: int) -> bool:
        """Whether frames of ``linktype`` may be decoded by the compiled accelerator (see
        :meth:`feed`): true only while the handlers of that link type, IPv4, IPv6 and UDP
        are the standard ones. A frame it decodes is still for a registered UDP port's
        handler when one of its ports is in :attr:`udp_ports`."""
        fast = self._fast_linktypes
        if fast is None:
            fast = self._fast_linktypes = self._plain_udp_linktypes()
        return linktype in fast

    def finish(self) -> list[Payload]:
        """End of capture: report what never completed, return what can still be delivered."""
        out = self.out = []
        for hook in self._finish_hooks:
            hook()
        return out

    def _plain_udp_linktypes(self) -> frozenset[int]:
        """The link types the accelerator may decode: those whose handlers here are still
        the standard ones of link.py, ip.py and udp.py (the accelerator decodes as those
        do); none without the accelerator or with IPv4, IPv6 or UDP handled otherwise."""
        if accel is None:
            return frozenset()
        from sipladder.net import ip, link, udp

        if (
            self.ethertypes.get(link.ETH_IPV4) is not ip.ipv4
            or self.ethertypes.get(link.ETH_IPV6) is not ip.ipv6
            or self.ip_protocols.get(udp.IPPROTO_UDP) is not udp.udp
        ):
            return frozenset()
        standard = {
            link.LINKTYPE_ETHERNET: link.ethernet,
            link.LINKTYPE_LINUX_SLL: link.linux_sll,
            link.LINKTYPE_LINUX_SLL2: link.linux_sll2,
            link.LINKTYPE_RAW: link.raw_ip,
            link.LINKTYPE_RAW_ALT12: link.raw_ip,
            link.LINKTYPE_RAW_ALT14: link.raw_ip,
            link.LINKTYPE_IPV4: link.raw_ipv4,
            link.LINKTYPE_IPV6: link.raw_ipv6,
        }
        return frozenset(lt for lt, fn in standard.items() if self.linktypes.get(lt) is fn)

    # ------------------------------------------------------------------- re-entry points

    def decode_link(self, frame: Frame, linktype: int, view: memoryview) -> None:
        """Decode ``view`` as a frame of ``linktype`` (ERSPAN and VXLAN carry Ethernet)."""
        handler = self.linktypes.get(linktype)
        if handler is None:
            self.ignore(f"linktype {linktype}")
        else:
            handler(self, frame, view)

    def decode_ethertype(self, frame: Frame, ethertype: int, view: memoryview) -> None:
        handler = self.ethertypes.get(ethertype)
        if handler is None:
            self.ignore(f"ethertype {ethertype:#06x}")
        else:
            handler(self, frame, view)

    def decode_ip(self, frame: Frame, view: memoryview) -> None:
        """Decode an IPv4 or IPv6 packet, chosen by its version nibble."""
        if not view:
            raise DecodeError("empty IP packet")
        version = view[0] >> 4
        if version == 4:
            self.ethertypes[0x0800](self, frame, view)
        elif version == 6:
            self.ethertypes[0x86DD](self, frame, view)
        else:
            raise DecodeError(f"IP version {version} is neither 4 nor 6")

    def decode_ip_payload(
        self, frame: Frame, protocol: int, src: bytes, dst: bytes, view: memoryview
    ) -> None:
        """Hand a complete (possibly reassembled) IP payload to its protocol handler."""
        handler = self.ip_protocols.get(protocol)
        if handler is None:
            self.ignore(f"IP protocol {protocol}")
        else:
            handler(self, frame, src, dst, view)

    # ------------------------------------------------------------------- helpers for handlers

    def emit(self, payload: Payload) -> None:
        self.out.append(payload)

    def endpoint(self, packed: bytes, port: int) -> Endpoint:
        """The :class:`Endpoint` of a packed address and port, built once and cached."""
        key = (packed, port)
        endpoint = self.endpoints.get(key)
        if endpoint is None:
            if len(self.endpoints) >= ENDPOINT_CACHE_LIMIT:
                self.endpoints.clear()
            endpoint = Endpoint(str(ipaddress.ip_address(bytes(packed))), port)
            self.endpoints[key] = endpoint
        return endpoint

    def ignore(self, reason: str) -> None:
        self.ignored[reason] = self.ignored.get(reason, 0) + 1

    def _unknown_linktype(self, frame: Frame) -> None:
        key = (frame.file, frame.linktype)
        self.ignore(f"linktype {frame.linktype}")
        if key in self._unknown_linktypes:
            return
        self._unknown_linktypes.add(key)
        from sipladder.net.link import linktype_name

        self.report(
            Diagnostic(
                frame.file,
                frame.number,
                "unknown-linktype",
                f"link type {linktype_name(frame.linktype)} ({frame.linktype}) is not supported; "
                "its frames are skipped",
                Severity.ERROR,
            )
        )

    def _malformed(self, frame: Frame, exc: Exception) -> None:
        if isinstance(exc, DecodeError):
            reason = exc.reason
        else:  # struct.error or IndexError from a buffer shorter than a fixed header
            reason = "a header ends before its fixed fields"
        if len(frame.data) < frame.orig_len:
            # Most likely the snap length, not a broken packet: say so.
            code = "frame-cut"
            message = (
                f"the snap length cut the frame to {len(frame.data)} of {frame.orig_len} bytes "
                f"inside its headers ({reason}); skipped"
            )
        else:
            code = "malformed-packet"
            message = f"malformed packet skipped: {reason}"
        self.report(Diagnostic(frame.file, frame.number, code, message, Severity.WARNING))


def _install_defaults(decoder: PacketDecoder) -> None:
    from sipladder.net import fragments, ip, link, udp

    link.install(decoder)
    ip.install(decoder)
    fragments.install(decoder)
    udp.install(decoder)


def _install_transports(decoder: PacketDecoder) -> None:
    from sipladder.net import hep, sctp, tcp, tunnels

    tcp.install(decoder)
    sctp.install(decoder)
    tunnels.install(decoder)
    hep.install(decoder)


#: Installers every new :class:`PacketDecoder` runs, in order (later ones may
#: override earlier registrations).
INSTALLERS: list[Installer] = [_install_defaults, _install_transports]
