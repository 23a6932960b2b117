"""Loads the optional compiled accelerator, ``_sipladder_accel``, when it can be used.

The accelerator (``csrc/_sipladder_accel.c``, built by ``pip install`` when a C
compiler is there) holds compiled twins of functions that run once per packet or per
SIP message on every worker: :func:`sipladder.sip.parser.looks_like_sip`,
:func:`sipladder.sip.skim.call_id_hint`, the link/IP/UDP decoding of a plain UDP
datagram (:mod:`sipladder.net`), the reading of a classic pcap file's records
(:class:`sipladder.readers.PcapFrames`, which for a worker also passes over another
worker's datagrams), and the parser's fast path for a message that breaks no
rule (:func:`sipladder.sip.parser.parse_message`, with the parser's own memo tables and
record). Each gives the same answers as its Python original, or leaves the work to it
(``tests/test_accel.py`` and ``tests/sip/test_sip_compiled.py`` check this on every test
capture and on generated input), so results never depend on whether it is there; only
the time does.

It is a top-level module, not ``sipladder._accel``: tests run ``sipladder`` from the
source tree, where no compiled file lies, while the installed accelerator is found in
site-packages. A copy built from another version of the C source is refused (its
``ACCEL_VERSION`` differs), and ``SIPLADDER_PURE=1`` turns it off.
"""

from __future__ import annotations

import os
from types import ModuleType

#: The version of csrc/_sipladder_accel.c this Python code was written against.
ACCEL_VERSION = 3


def _load() -> ModuleType | None:
    if os.environ.get("SIPLADDER_PURE", "") not in ("", "0"):
        return None
    try:
        import _sipladder_accel  # type: ignore[import-not-found]
    except ImportError:
        return None
    if getattr(_sipladder_accel, "ACCEL_VERSION", None) != ACCEL_VERSION:
        return None
    module: ModuleType = _sipladder_accel
    return module


#: The accelerator module, or None when the Python originals run.
accel: ModuleType | None = _load()


def status() -> str:
    """One line for ``sipladder --version`` and bug reports."""
    if accel is not None:
        return f"compiled accelerator {ACCEL_VERSION} in use"
    if os.environ.get("SIPLADDER_PURE", "") not in ("", "0"):
        return "pure Python: SIPLADDER_PURE is set"
    return "pure Python: the compiled accelerator is not installed"
