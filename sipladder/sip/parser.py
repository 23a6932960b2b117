"""Bytes to :class:`~sipladder.model.SipMessage`: a lenient parser that records anomalies.

RFC 3261 sections 7 (message format), 20 (header fields) and 25 (grammar). The parser
accepts what real traffic sends (LF-only line ends, folded headers, compact names, any
case, missing Content-Length on datagrams, leading keep-alive CRLFs) and records an
:class:`~sipladder.model.Anomaly` for every rule a message breaks. It raises
:class:`~sipladder.errors.SipParseError` only when the bytes are not SIP at all, and never
anything else.

Speed matters (hundreds of thousands of messages per capture): the header section is
decoded once, split once, and only the headers correlation needs are parsed; their parsed
values are memoised by text, because Via, From, To, Contact and Route values repeat across
the messages of a transaction and dialog (the records are immutable, so sharing is safe).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

from sipladder.accel import accel
from sipladder.errors import SipParseError
from sipladder.model import (
    Anomaly,
    CSeq,
    MessageKind,
    NameAddr,
    SdpSession,
    SipMessage,
    Via,
    fast_constructor,
)
from sipladder.sip import grammar as g
from sipladder.sip.anomalies import anomaly, closest
from sipladder.sip.headers import (
    _CANONICAL,
    _PARAM_NAMES,  # noqa: F401 - (read by the compiled fast path from globals())
    KNOWN_HEADERS,
    KNOWN_LOWER,
    LIST_HEADERS,
    SINGLE_HEADERS,
    _param_name,  # noqa: F401 - (the same)
    canonical_name,
    split_commas,
    split_params,
)
from sipladder.sip.sdp import content_type_param, media_type, multipart_parts, parse_sdp

#: RFC 3261 methods and the extension methods of RFC 2976 (INFO), 3262 (PRACK),
#: 3311 (UPDATE), 6665 (SUBSCRIBE, NOTIFY), 3515 (REFER), 3428 (MESSAGE), 3903 (PUBLISH).
KNOWN_METHODS: tuple[str, ...] = (
    "INVITE", "ACK", "OPTIONS", "BYE", "CANCEL", "REGISTER", "INFO", "PRACK", "UPDATE",
    "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE", "PUBLISH",
)  # fmt: skip
_KNOWN_METHODS = frozenset(KNOWN_METHODS)

#: RFC 3261 section 8.1.1 (requests) and 8.2.6.2 (responses copy them): mandatory headers.
_MANDATORY_REQUEST = (
    ("To", "8.1.1.2"), ("From", "8.1.1.3"), ("CSeq", "8.1.1.5"), ("Call-ID", "8.1.1.4"),
    ("Max-Forwards", "8.1.1.6"), ("Via", "8.1.1.7"),
)  # fmt: skip
_MANDATORY_RESPONSE = (
    ("To", "8.2.6.2"), ("From", "8.2.6.2"), ("CSeq", "8.2.6.2"), ("Call-ID", "8.2.6.2"),
    ("Via", "8.2.6.2"),
)  # fmt: skip

_MANDATORY_REQUEST_NAMES = frozenset(name for name, _ in _MANDATORY_REQUEST)
_MANDATORY_RESPONSE_NAMES = frozenset(name for name, _ in _MANDATORY_RESPONSE)

#: Headers whose values go into the eager fields of SipMessage (or into checks).
_EAGER = frozenset(
    {
        "Call-ID", "CSeq", "From", "To", "Via", "Contact", "Route", "Record-Route",
        "Max-Forwards", "Expires", "Content-Type", "Content-Length",
    }
)  # fmt: skip

_MAX_DELTA = 2**32 - 1  # delta-seconds: RFC 3261 section 25.1 / RFC 4475 3.1.2.4
_MAX_CSEQ = 2**31  # RFC 3261 section 8.1.1.5: the sequence number MUST be less than 2**31
_MAX_CONTENT_LENGTH = 1 << 31  # anything larger is hostile or broken

# Strings that repeat across messages (method, version, reason, Request-URI, Call-ID,
# Content-Type) are interned: the messages of a call then share one copy instead of
# holding one each, several hundred bytes per message on large captures. Values are
# unchanged; interned strings are freed like others once no message holds them.
_intern = sys.intern

_CACHE_LIMIT = 8192
# longer texts are parsed every time, not kept: memory stays bounded (entries x this)
# however long the lines of a hostile capture are
_MEMO_MAX_KEY = 1024
_LINE_CACHE_LIMIT = 32768


def _remember(cache: dict[Any, Any], key: Any, value: Any, limit: int | None = None) -> None:
    """Keep ``value`` in a memo table, if its key is short enough (memory stays bounded:
    entries x _MEMO_MAX_KEY); a full table (``limit`` entries, else _CACHE_LIMIT, read at
    the call) is emptied rather than grown. Called only after a miss, where the parsing
    it saves costs far more than the call."""
    if len(key) <= _MEMO_MAX_KEY:
        if len(cache) >= (_CACHE_LIMIT if limit is None else limit):
            cache.clear()
        cache[key] = value


_MISSING = object()
# value text -> (record or None, why-invalid or None); bounded, cleared when full
# (the last item: the record alone in a tuple, or (): shared by the messages that have
# this one value, as the usual single Via or Contact)
_ViaResult = tuple[Via | None, str | None, Anomaly | None, tuple[Via, ...]]
_AddrResult = tuple[NameAddr | None, str | None, str | None, tuple[NameAddr, ...]]
_VIA_CACHE: dict[str, _ViaResult] = {}
_ADDR_CACHE: dict[str, _AddrResult] = {}
_URI_SYNTAX = "expected scheme:rest in printable ASCII without whitespace"
_StartLine = tuple[
    MessageKind, str | None, str | None, int | None, str | None, str, tuple[Anomaly, ...]
]
_START_CACHE: dict[str, _StartLine | None] = {}
_CSEQ_CACHE: dict[str, tuple[CSeq | None, tuple[Anomaly, ...]]] = {}
# Via, Contact, Route and Record-Route values are collected while the headers are split
_MULTI_SLOT = {"Via": 0, "Contact": 1, "Route": 2, "Record-Route": 3}
# single-valued headers whose values repeat across calls or are kept by every message of
# a call: interned once, when their line is first seen
_INTERNED = frozenset({"Call-ID", "Content-Type"})
# the usual numbers of Content-Length, Max-Forwards and Expires, without int()
_SMALL_INTS = {str(i): i for i in range(0, 4096)}
_REQUEST = MessageKind.REQUEST
_RESPONSE = MessageKind.RESPONSE
# unknown header name -> anomaly (or None): the edit-distance search runs once per name
_NAME_CHECK_CACHE: dict[str, Anomaly | None] = {}


_SIP_ANY_CASE = frozenset(
    bytes(c) for c in ((s, i, p) for s in b"Ss" for i in b"Ii" for p in b"Pp")
)


def python_looks_like_sip(data: bytes) -> bool:
    """True when the payload starts with a SIP request line or ``SIP/2.0`` status line
    (after any CRLF keep-alives). Cheap: called on every payload of the capture."""
    if data[:1] in (b"\r", b"\n"):
        data = data[:600].lstrip(b"\r\n")
    if not data:
        return False
    # (the first 512 bytes, without copying them)
    if data[:3] in _SIP_ANY_CASE:
        return g.LOOKS_STATUS_B.match(data, 0, 512) is not None
    return g.LOOKS_REQUEST_B.match(data, 0, 512) is not None


#: :func:`python_looks_like_sip`, or its compiled twin (:mod:`sipladder.accel`): the
#: same answers, several times faster.
looks_like_sip: Callable[[bytes], bool] = (
    python_looks_like_sip if accel is None else accel.looks_like_sip
)


def parse_message(data: bytes) -> SipMessage:
    """Parse one message; raise :class:`~sipladder.errors.SipParseError` if it is not SIP at all."""
    try:
        if _parse_fast is not None:
            # the compiled fast path answers for a message that breaks no rule, with
            # this module's own tables, functions and record; None for any other
            message = _parse_fast(data)
            if message is not None:
                return message  # type: ignore[no-any-return]
        return _parse(data)
    except SipParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract: only SipParseError escapes
        raise SipParseError(f"internal error: {type(exc).__name__}: {exc}") from exc


# --------------------------------------------------------------------------- header values


def parse_via(value: str) -> Via | None:
    """One via-parm (RFC 3261 section 20.42), or None when it cannot be read."""
    return _via(value)[0]


_ViaHead = tuple[str, str, str, int | None]
# the text of a Via value before its first ";" -> (protocol, transport, host, port), or
# () when that text alone does not read as a via-parm without parameters. Via values
# are unique per transaction (the branch), their sent-protocol and sent-by are not.
_VIA_HEAD_CACHE: dict[str, _ViaHead | tuple[()]] = {}


def _via_head_of(m: re.Match[str]) -> _ViaHead:
    name, version, transport, host, port, _ = m.groups()
    if host[:1] == "[":
        host = host[1:-1]
    return (
        "SIP/2.0" if name == "SIP" and version == "2.0" else f"{name}/{version}",
        _intern(transport.upper()),
        _intern(host),
        int(port) if port is not None and len(port) <= 6 else None,
    )


def _via_head(prefix: str) -> _ViaHead | tuple[()]:
    """VIA_PARM on the text before the first ";", when it matches there with empty
    params: then it matches the whole value the same way, with the params starting at
    that ";" (no group before params can take a ";" once the prefix matched: name and
    version end at a "/", transport, port and unbracketed hosts hold no ";", and a
    bracketed host closed within the prefix). Memoised."""
    m = g.VIA_PARM.match(prefix)
    head = _via_head_of(m) if m is not None and m.start("params") == len(prefix) else ()
    _remember(_VIA_HEAD_CACHE, prefix, head)
    return head


def _via(value: str) -> _ViaResult:
    """(Via or None, why its params are odd, the anomaly of its branch if it is the top
    Via, (Via,) or ()), memoised."""
    hit = _VIA_CACHE.get(value)
    if hit is not None:
        return hit
    semi = value.find(";")
    prefix = value[:semi] if semi >= 0 else value
    head = _VIA_HEAD_CACHE.get(prefix)
    if head is None:
        head = _via_head(prefix)
    result: _ViaResult
    m = None
    if head:
        text = value[len(prefix) :]
    else:
        m = g.VIA_PARM.match(value)
        if m is not None:
            head = _via_head_of(m)
            text = m["params"]
    if not head:
        result = (None, "not a via-parm", None, ())
    else:
        params = split_params(text)
        via = _new_via(*head, params)
        why = (
            "an empty parameter (extra ';')"
            if ";;" in text or text.rstrip().endswith(";")
            else None
        )
        # RFC 3261 8.1.1.7: the branch starts with the magic cookie and identifies the
        # transaction; without it, RFC 2543 matching applies (17.2.3)
        branch = None
        for key, param in params:  # (Via.branch: the first one)
            if key == "branch":
                branch = param
                break
        if branch is None or not branch.startswith("z9hG4bK"):
            result = (via, why, anomaly("via-branch-no-cookie", branch=branch), (via,))
        elif branch == "z9hG4bK":
            result = (via, why, anomaly("via-branch-invalid", branch=branch), (via,))
        else:
            result = (via, why, None, (via,))
    _remember(_VIA_CACHE, value, result)
    return result


def _unquote(quoted: str) -> str:
    inner = quoted[1:-1]
    if "\\" not in inner:
        return inner
    out = []
    i = 0
    while i < len(inner):
        ch = inner[i]
        if ch == "\\" and i + 1 < len(inner):
            i += 1
            ch = inner[i]
        out.append(ch)
        i += 1
    return "".join(out)


def parse_name_addr(value: str) -> NameAddr | None:
    """A name-addr or addr-spec with header parameters (RFC 3261 section 20.10)."""
    return _name_addr(value)[0]


def _name_addr(value: str) -> _AddrResult:
    """(record or None, anomaly code or None, reason, (record,) or ()) for a name-addr /
    addr-spec value, memoised."""
    hit = _ADDR_CACHE.get(value)
    if hit is not None:
        return hit
    result = _name_addr_uncached(value)
    _remember(_ADDR_CACHE, value, result)
    return result


# "display <uri>" (no quotes) -> (display name, URI, anomaly code, reason), see below
_AddrHead = tuple[str | None, str, str | None, str | None]
_ADDR_HEAD_CACHE: dict[str, _AddrHead] = {}


def _bracketed_uri(raw_uri: str) -> tuple[str, str | None, str | None]:
    """The URI between ``<`` and ``>`` (RFC 3261 20.10 name-addr), stripped, and the
    anomaly code and reason when it is not one (None, None when it is)."""
    uri = raw_uri.strip()
    if uri != raw_uri:
        return uri, "uri-invalid", "whitespace inside <>"
    if not g.URI.match(uri):
        return uri, "uri-invalid", _URI_SYNTAX
    return uri, None, None


def _addr_head(head: str, lt: int) -> _AddrHead:
    """The part of a name-addr without quotes up to its ">" (``lt``: where "<" is), as
    NAME_ADDR reads it: the display name (display-name = *(token LWS)) and the URI, with
    the anomaly they give. Memoised."""
    code: str | None = None
    why: str | None = None
    display = head[:lt].strip() or None
    if display is not None and not g.DISPLAY_TOKENS.match(display):
        code, why = "display-name-invalid", "characters that need quotes"
    uri, uri_code, uri_why = _bracketed_uri(head[lt + 1 : -1])
    if code is None:
        code, why = uri_code, uri_why
    result = (display, uri, code, why)
    _remember(_ADDR_HEAD_CACHE, head, result)
    return result


def _name_addr_uncached(value: str) -> _AddrResult:
    result: tuple[NameAddr | None, str | None, str | None]
    code: str | None = None
    why: str | None = None
    lt = value.find("<")
    gt = value.find(">", lt) if lt >= 0 and '"' not in value else -1
    if gt >= 0:
        # Without quotes, NAME_ADDR reads the display name before the first "<" and
        # the URI up to the first ">" after it; that part repeats (the tags after it
        # differ), so it is read once (_addr_head)
        head = value[: gt + 1]
        display, uri, code, why = _ADDR_HEAD_CACHE.get(head) or _addr_head(head, lt)
        params = value[gt + 1 :].lstrip(" \t")  # (SWS)
        if code is None and (";;" in params or params.rstrip().endswith(";")):
            code, why = "param-empty", "an empty parameter (extra ';')"
        result = (_new_name_addr(display, uri, split_params(params)), code, why)
    elif lt >= 0:
        m = g.NAME_ADDR.match(value)
        if m is None:
            result = (None, "name-addr-invalid", "unbalanced quotes or angle brackets")
        else:
            quoted, plain, raw_uri, params = m.groups()
            if quoted is not None:
                display = _unquote(quoted)
            else:
                display = plain.strip() or None
                # display-name = *(token LWS) / quoted-string
                if display is not None and not g.DISPLAY_TOKENS.match(display):
                    code, why = "display-name-invalid", "characters that need quotes"
            uri, uri_code, uri_why = _bracketed_uri(raw_uri)
            if code is None:
                code, why = uri_code, uri_why
            if code is None and (";;" in params or params.rstrip().endswith(";")):
                code, why = "param-empty", "an empty parameter (extra ';')"
            result = (_new_name_addr(display, uri, split_params(params)), code, why)
    else:
        m = g.ADDR_SPEC.match(value)
        if m is None or not m["uri"]:
            result = (None, "name-addr-invalid", "empty value")
        else:
            uri = m["uri"]
            params = m["params"]
            if uri != "*" and not g.URI.match(uri):
                code, why = "uri-invalid", _URI_SYNTAX
            elif "?" in uri or "," in uri:
                # RFC 3261 20.10: a URI with headers, commas or semicolons needs <...>
                code, why = "uri-invalid", "a URI with '?' or ',' must be enclosed in <>"
            elif params and params[0] != ";":
                # text after the URI that is not a parameter: a display name without <>
                code, why = "uri-invalid", "whitespace in an addr-spec without <>"
            elif ";;" in params or params.rstrip().endswith(";"):
                code, why = "param-empty", "an empty parameter (extra ';')"
            result = (_new_name_addr(None, uri, split_params(params)), code, why)
    addr = result[0]
    return (addr, result[1], result[2], () if addr is None else (addr,))


def _check_header_name(name: str) -> Anomaly | None:
    """Anomaly for an unknown header name that is a typo or a doubled known name."""
    hit = _NAME_CHECK_CACHE.get(name, _MISSING)
    if hit is not _MISSING:
        return hit  # type: ignore[return-value]
    result: Anomaly | None = None
    if not g.HEADER_NAME.match(name):
        result = anomaly("header-name-invalid", name=name)
    else:
        lower = name.lower()
        n = len(name)
        half = (n - 1) // 2
        doubled = n % 2 == 1 and name[half] == "-" and lower[:half] == lower[half + 1 :]
        if doubled and lower[:half] in KNOWN_LOWER:  # Route-Route
            suggestion = canonical_name(name[:half])
            result = anomaly("header-duplicated-name", name=name, suggestion=suggestion)
        elif n >= 5:
            near = closest(name, KNOWN_HEADERS, 2)
            if near is not None and near.lower() != lower:
                result = anomaly("header-unknown-misspelled", name=name, suggestion=near)
    _remember(_NAME_CHECK_CACHE, name, result)
    return result


def _cseq(value: str) -> tuple[CSeq | None, tuple[Anomaly, ...]]:
    """CSeq = "CSeq" HCOLON 1*DIGIT LWS Method (RFC 3261 section 20.16), memoised."""
    hit = _CSEQ_CACHE.get(value)
    if hit is not None:
        return hit
    m = g.CSEQ.match(value)
    result: tuple[CSeq | None, tuple[Anomaly, ...]]
    if m is None:
        result = (None, (anomaly("cseq-invalid", value=value),))
    else:
        number = int(m["number"]) if len(m["number"]) <= 30 else _MAX_CSEQ * 2
        cseq_method = m["method"] or ""
        bad = []
        if number >= _MAX_CSEQ or not cseq_method:
            bad.append(anomaly("cseq-invalid", value=value))
        if cseq_method.isdigit():  # CSeq: 2 183
            bad.append(anomaly("cseq-method-is-status", value=value))
        result = (_new_cseq(number, cseq_method), tuple(bad))
    _remember(_CSEQ_CACHE, value, result)
    return result


_LineInfo = tuple[
    tuple[tuple[str, str], ...], tuple[str, ...], int | None, int, tuple[Anomaly, ...] | None
]
# what the memo keeps of a line: its pairs, and the whole _LineInfo when the line needs
# more than adding its pairs (Via/Contact/Route/Record-Route values, a split list,
# anomalies), None for the other lines: most lines then cost one lookup and one extend
_LineEntry = tuple[tuple[tuple[str, str], ...], _LineInfo | None]
_LINE_CACHE: dict[str, _LineEntry] = {}
# the same, keyed by the raw bytes of the line (the fast path of _parse)
_LINE_B_CACHE: dict[bytes, _LineEntry] = {}
_START_B_CACHE: dict[bytes, Any] = {}  # (_StartLine or None)


def _header_line(line: str) -> _LineEntry:
    """:func:`_line_info`, memoised."""
    result = _line_info(line)
    _remember(_LINE_CACHE, line, result, _LINE_CACHE_LIMIT)
    return result


def _line_info(line: str) -> _LineEntry:
    """One (unfolded) header line: its (canonical name, value) pairs (several for a split
    ``#`` list), and for a line that needs more than adding them (see _LineEntry) the
    _LineInfo: the pairs, the values alone, the slot of Via/Contact/Route/Record-Route,
    how many extra pairs the split made (for the repeated-header check), and the
    anomalies of the line."""
    name, sep, value = line.partition(":")
    found: list[Anomaly] | None = None
    if not sep:
        if line.strip():
            malformed = (anomaly("header-malformed", line=line[:80]),)
            return ((), ((), (), None, 0, malformed))
        return ((), None)
    canon = _CANONICAL.get(name)
    if canon is None:
        found = []
        canon = _unusual_name(name, found)
    value = value.strip()
    slot = _MULTI_SLOT.get(canon)
    if "," in value and canon in LIST_HEADERS:
        items = split_commas(value)
        if len(items) <= value.count(",") and '"' not in value and "<" not in value:
            found = (found or []) + [anomaly("list-element-empty", name=canon)]
        values = tuple(items)
        pairs = tuple([(canon, item) for item in items])
        # Via/Contact/Route/Record-Route values are counted from ``multi`` instead
        n_extra = len(items) - 1 if slot is None else 0
    else:
        if canon in _INTERNED:
            value = _intern(value)
        pairs = ((canon, value),)
        if slot is None and not found:  # the usual line: its pair is all there is
            return (pairs, None)
        values = (value,)
        n_extra = 0
    if slot is None and not n_extra and not found:
        return (pairs, None)
    return (pairs, (pairs, values, slot, n_extra, tuple(found) if found else None))


def _header_line_b(line: bytes) -> _LineEntry | None:
    """:func:`_line_info` for one CRLF-delimited line still in bytes (memoised by the
    bytes), or None when the line needs the whole-section treatment of :func:`_parse`'s
    text path: a bare LF inside it (LF-only or mixed line ends), a leading space or tab
    (folding, RFC 3261 7.3.1), a NUL byte or bytes that are not UTF-8 (anomalies with
    offsets into the message)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # (tested on the text: ``b"\n" in line`` goes through the buffer protocol, 5x slower)
    if "\n" in text or "\x00" in text or text[:1] in (" ", "\t"):
        return None
    result = _line_info(text)
    _remember(_LINE_B_CACHE, line, result, _LINE_CACHE_LIMIT)
    return result


def _start_line_b(line: bytes) -> _StartLine | None:
    """:func:`_start_line` for the first line still in bytes (memoised by the bytes), or
    None when it needs the text path or is not a start line (the text path says why)."""
    result = None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = "\n"
    if "\n" not in text and "\x00" not in text:  # (leading whitespace is no fold here)
        result = _start_line(text)
    _remember(_START_B_CACHE, line, result)
    return result


def _unusual_name(name: str, anomalies: list[Anomaly]) -> str:
    """Canonical name of a header name not found as spelled: odd case, whitespace before
    the colon, or unknown (then checked for typos and doubled names)."""
    key = name.strip()
    canon = _CANONICAL.get(key) or _CANONICAL.get(key.lower())
    if canon is None:
        canon = canonical_name(key)
        found = _check_header_name(key)
        if found is not None:
            anomalies.append(found)
    return canon


def _int_or_none(value: str) -> int | None:
    known = _SMALL_INTS.get(value)
    if known is not None:
        return known
    value = value.strip()
    if value.isdigit() and value.isascii() and len(value) <= 18:
        return int(value)
    return None


# --------------------------------------------------------------------------- the parser


def _start_line(first_line: str) -> _StartLine | None:
    """RFC 3261 7.1 Request-Line / 7.2 Status-Line: (kind, method, Request-URI, status,
    reason, version, anomalies), or None when the line is not a SIP start line. Memoised:
    start lines repeat (``SIP/2.0 100 Trying``, requests to the same target)."""
    hit = _START_CACHE.get(first_line, _MISSING)
    if hit is not _MISSING:
        return hit  # type: ignore[return-value]
    first = first_line.strip()
    anomalies: list[Anomaly] = []
    method: str | None = None
    request_uri: str | None = None
    status: int | None = None
    reason: str | None = None
    version: str
    kind: MessageKind
    m = g.STATUS_LINE.match(first) if first[:3].upper() == "SIP" else None
    if m is not None:
        kind = _RESPONSE
        version = _intern(m["version"])
        code = m["status"]
        status = int(code) if len(code) <= 18 else None  # (fits int64 columns)
        reason = _intern(m["reason"] or "")
        if status is None or not 100 <= status <= 699 or len(code) != 3:
            anomalies.append(anomaly("status-invalid", status=code))
        if not reason:
            reason = None
            # "SIP/2.0 100 " (SP, empty phrase) is valid; "SIP/2.0 100" lacks the SP
            if not first_line.rstrip("\r").endswith((" ", "\t")):
                anomalies.append(anomaly("reason-missing"))
    else:
        m = g.REQUEST_LINE.match(first)
        if m is None or not m["uri"] or (m["version"] is None and not g.SCHEME.match(m["uri"])):
            # without a SIP version, only a URI with a scheme makes it a (broken) SIP request
            return None
        kind = _REQUEST
        method = _intern(m["method"])
        request_uri = _intern(m["uri"])
        version = _intern(m["version"] or "")
        if not version:
            anomalies.append(anomaly("version-missing"))
        if method not in _KNOWN_METHODS:
            suggestion = closest(method, KNOWN_METHODS, 2)
            if suggestion is not None:
                anomalies.append(anomaly("method-misspelled", method=method, suggestion=suggestion))
            else:
                anomalies.append(anomaly("method-unknown", method=method))
        if m.end("method") + 1 != m.start("uri") or (
            m["version"] is not None and m.end("uri") + 1 != m.start("version")
        ):
            anomalies.append(
                anomaly("start-line-whitespace", what="more than one SP between parts")
            )
        elif first_line.rstrip("\r") != first:
            anomalies.append(anomaly("start-line-whitespace", what="whitespace around the line"))
        if " " in request_uri or "\t" in request_uri:
            bad_uri = "it contains whitespace"
            anomalies.append(anomaly("request-uri-invalid", uri=request_uri, why=bad_uri))
        elif not g.URI.match(request_uri):
            bad_uri = "expected scheme:rest in printable ASCII"
            anomalies.append(anomaly("request-uri-invalid", uri=request_uri, why=bad_uri))
        elif "?" in request_uri.rpartition("@")[2] and request_uri[:3].lower() == "sip":
            bad_uri = "headers ('?...') are not allowed in a Request-URI, RFC 3261 19.1.5"
            anomalies.append(anomaly("request-uri-invalid", uri=request_uri, why=bad_uri))
    if version and version != "SIP/2.0" and version.upper() != "SIP/2.0":
        anomalies.append(anomaly("version-invalid", version=version))

    result: _StartLine | None = (
        kind,
        method,
        request_uri,
        status,
        reason,
        version,
        tuple(anomalies),
    )
    _remember(_START_CACHE, first_line, result)
    return result


_Scanned = tuple[
    list[tuple[str, str]], tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], int
]


def _scan(
    lines: list[Any],
    get_line: Callable[[Any], _LineEntry | None],
    miss: Callable[[Any], _LineEntry | None],
    anomalies: list[Anomaly],
) -> _Scanned | None:
    """The header lines (bytes or text, with the memo and the function for
    lines not in it): (name, value) pairs, the values of Via, Contact, Route and
    Record-Route, how many pairs come from splitting a line; None when ``miss`` says a
    line needs the text path (RFC 3261 7.3)."""
    headers: list[tuple[str, str]] = []
    extend = headers.extend
    special: list[_LineInfo] | None = None
    for line in lines:
        # header lines repeat across the messages of a transaction and a dialog (and
        # Max-Forwards: 70, Content-Length: 0, ... across all): each distinct line is
        # split and named once
        hit = get_line(line)
        if hit is None:
            hit = miss(line)
            if hit is None:
                return None
        extend(hit[0])
        if hit[1] is not None:
            if special is None:
                special = [hit[1]]
            else:
                special.append(hit[1])
    # values of Via, Contact, Route and Record-Route: tuples from the line memo, joined
    # (adding a tuple to an empty one allocates nothing: usually one line each)
    via_values: tuple[str, ...] = ()
    contact_values: tuple[str, ...] = ()
    route_values: tuple[str, ...] = ()
    rr_values: tuple[str, ...] = ()
    extra = 0  # (name, value) pairs that come from splitting one line
    if special is not None:
        for pairs, values, slot, n_extra, line_anomalies in special:  # in line order
            if line_anomalies is not None:
                anomalies.extend(line_anomalies)
            if pairs:
                if slot is not None:
                    if slot == 0:
                        via_values += values
                    elif slot == 1:
                        contact_values += values
                    elif slot == 2:
                        route_values += values
                    else:
                        rr_values += values
                elif n_extra:
                    extra += n_extra
    return headers, via_values, contact_values, route_values, rr_values, extra


def _parse(data: bytes, lazy: bool = True) -> SipMessage:
    if not isinstance(data, bytes):
        if isinstance(data, bytearray | memoryview):
            data = bytes(data)
        else:
            raise SipParseError(f"expected bytes, got {type(data).__name__}")
    n = len(data)
    start = 0
    if data[:1] in (b"\r", b"\n"):  # CRLF keep-alives before the message (RFC 5626 4.4.1)
        start = n - len(data.lstrip(b"\r\n"))
        if start >= n:
            raise SipParseError("only keep-alive line breaks", 0)
    anomalies: list[Anomaly] = []
    start_line: _StartLine | None

    # RFC 3261 7: the header section ends with an empty line. b"\n\r\n" also matches the
    # CRLF CRLF case (one byte later); b"\n\n" catches LF-only messages.
    crlf = data.find(b"\n\r\n", start)
    scanned = None
    if crlf >= 0:
        # Fast path, nearly every message: CRLF line ends, no folding, no NUL, UTF-8.
        # The header section is split in bytes and each line is looked up in a memo
        # keyed by its bytes, so only lines never seen before are decoded. A line that
        # needs more (see _header_line_b) sends the message down the text path below,
        # which does the whole-section work (an earlier LF-only empty line, decoding
        # with offsets, LF-only line ends, unfolding) first; both paths give the same
        # lines, hence the same message. (An LF-only empty line before ``crlf`` leaves
        # a bare LF in a line, so it always takes the text path.)
        head_end, body_start = crlf, crlf + 3
        lines: list[Any] = data[start:crlf].split(b"\r\n")
        hit = _START_B_CACHE.get(lines[0], _MISSING)
        start_line = _start_line_b(lines[0]) if hit is _MISSING else hit
        if start_line is not None:
            if start_line[6]:
                anomalies.extend(start_line[6])
            del lines[0]
            scanned = _scan(lines, _LINE_B_CACHE.get, _header_line_b, anomalies)
            if scanned is None:
                anomalies.clear()
    if scanned is None:
        lf = data.find(b"\n\n", start, crlf if crlf >= 0 else n)
        if lf >= 0:
            head_end, body_start = lf, lf + 2
        elif crlf >= 0:
            head_end, body_start = crlf, crlf + 3
        else:
            head_end = body_start = n
            anomalies.append(anomaly("headers-unterminated"))
        head = data[start:head_end]
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            anomalies.append(anomaly("header-non-utf8", offset=start + exc.start))
            text = head.decode("utf-8", "replace")
        if "\x00" in text and text.count("\x00") != text.count("\\\x00"):
            # (a quoted-pair "\" NUL is legal inside a quoted string, RFC 3261 25.1)
            anomalies.append(anomaly("nul-byte", offset=start + text.index("\x00")))
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        elif "\n" in text:
            anomalies.append(anomaly("line-ending-lf"))
        if "\n " in text or "\n\t" in text:
            # RFC 3261 7.3.1: a header line may continue on lines starting with whitespace
            text = g.FOLD.sub(" ", text)
        first_line, _, rest = text.partition("\n")
        # ---- start line: RFC 3261 7.1 Request-Line / 7.2 Status-Line
        start_line = _start_line(first_line)
        if start_line is None:
            # without a SIP version, only a URI with a scheme makes it a (broken) SIP request
            raise SipParseError(f"not a SIP start line: {first_line.strip()[:80]!r}", start)
        if start_line[6]:
            anomalies.extend(start_line[6])
        # ---- headers: RFC 3261 7.3; one (canonical name, value) pair per value
        lines = rest.split("\n") if rest else []
        scanned = _scan(lines, _LINE_CACHE.get, _header_line, anomalies)
        assert scanned is not None  # (_header_line always answers)
    kind, method, request_uri, status, reason, version, _ = start_line  # type: ignore[misc]
    headers, via_values, contact_values, route_values, rr_values, extra = scanned
    cl_conflict: str | None = None
    # the first value of each header: dict() keeps the last assignment, so feed it reversed
    first_of = dict(reversed(headers))
    # repeated names beyond the split lists and the usual repeated Via/Route/...
    # lines: only then look for a single-valued header that is repeated
    repeats = len(headers) - len(first_of)
    multi = (via_values, contact_values, route_values, rr_values)
    if repeats and repeats > extra + sum(map(len, multi)) - sum(map(bool, multi)):
        singles = [canon for canon, _ in headers if canon in SINGLE_HEADERS]
        if len(singles) != len(set(singles)):
            for canon in sorted(set(singles)):
                count = singles.count(canon)
                if count > 1:
                    anomalies.append(anomaly("header-repeated", name=canon, count=count))
                    if canon == "Content-Length":
                        lengths = {v for c, v in headers if c == "Content-Length"}
                        if len(lengths) > 1:  # RFC 4475 3.3.9: no way to frame the body
                            cl_conflict = ", ".join(sorted(lengths))

    # ---- mandatory headers: RFC 3261 8.1.1 and 8.2.6.2
    mandatory: tuple[tuple[str, str], ...]
    if method is not None:
        mandatory, names = _MANDATORY_REQUEST, _MANDATORY_REQUEST_NAMES
    else:
        mandatory, names = _MANDATORY_RESPONSE, _MANDATORY_RESPONSE_NAMES
    if not first_of.keys() >= names:  # (one test in C; the loop only when one is missing)
        for name, section in mandatory:
            if name not in first_of:
                anomalies.append(anomaly("header-missing", name=name, section=section))

    # ---- the eager fields
    value: str | None
    call_id = first_of.get("Call-ID")
    if call_id is not None:  # (interned by _line_info)
        if not call_id:
            anomalies.append(anomaly("header-value-empty", name="Call-ID"))
        elif " " in call_id or "\t" in call_id:
            anomalies.append(anomaly("call-id-invalid", value=call_id))

    cseq: CSeq | None = None
    value = first_of.get("CSeq")
    if value is not None:
        cseq, bad = _cseq(value)
        if bad:
            anomalies.extend(bad)
        if cseq is not None and method is not None and cseq.method != method:
            if cseq.method and not cseq.method.isdigit():
                found = anomaly("cseq-method-mismatch", cseq_method=cseq.method, method=method)
                anomalies.append(found)

    # (the memo tables are read here first: most values were seen in an earlier message)
    from_ = to = None
    value = first_of.get("From")
    if value is not None:
        from_, code, why, _ = _ADDR_CACHE.get(value) or _name_addr(value)
        if code is not None:
            anomalies.append(_addr_anomaly(code, "From", value, from_, why))
    value = first_of.get("To")
    if value is not None:
        to, code, why, _ = _ADDR_CACHE.get(value) or _name_addr(value)
        if code is not None:
            anomalies.append(_addr_anomaly(code, "To", value, to, why))

    vias: tuple[Via, ...] = ()
    if via_values:
        value = via_values[0]
        via, why, top_branch_anomaly, vias = _VIA_CACHE.get(value) or _via(value)
        if len(via_values) > 1 or why is not None or via is None:
            parsed_vias: list[Via] = []
            for value in via_values:
                via, why, branch_anomaly, _ = _VIA_CACHE.get(value) or _via(value)
                if not parsed_vias:  # (the first Via that can be read counts as the top)
                    top_branch_anomaly = branch_anomaly
                if via is None:
                    anomalies.append(anomaly("via-invalid", value=value))
                else:
                    parsed_vias.append(via)
                    if why is not None:
                        anomalies.append(anomaly("param-empty", name="Via", value=value, why=why))
            vias = tuple(parsed_vias)
        if top_branch_anomaly is not None:  # (the top Via's branch, see _via)
            anomalies.append(top_branch_anomaly)

    contacts: tuple[NameAddr, ...] = ()
    if contact_values:
        value = contact_values[0]
        addr, code, _, contacts = _ADDR_CACHE.get(value) or _name_addr(value)
        if len(contact_values) > 1 or code is not None:
            contacts = _addr_list("Contact", contact_values, anomalies)
    routes = _addr_list("Route", route_values, anomalies) if route_values else ()
    record_routes = _addr_list("Record-Route", rr_values, anomalies) if rr_values else ()
    if "*" in contact_values:
        if len(contacts) > 1 or method != "REGISTER":
            anomalies.append(anomaly("contact-star-invalid"))

    max_forwards: int | None = None
    value = first_of.get("Max-Forwards")
    if value is not None:
        max_forwards = _int_or_none(value)
        if max_forwards is None or max_forwards > 255:
            anomalies.append(anomaly("max-forwards-invalid", value=value))

    expires: int | None = None
    value = first_of.get("Expires")
    if value is not None:
        expires = _int_or_none(value)
        if expires is None or expires > _MAX_DELTA:
            anomalies.append(anomaly("expires-invalid", value=value))
    if contacts and (
        len(contact_values) == 1  # (then "expires" in the value is all the test says)
        or "expires" in contact_values[0].lower()
        or len(contacts) > 1
    ):
        for contact in contacts:
            for key, text_value in contact.params:
                if key == "expires":  # (the first one, as NameAddr.param)
                    if text_value is not None:
                        number = _int_or_none(text_value)
                        if number is None or number > _MAX_DELTA:
                            anomalies.append(anomaly("expires-invalid", value=text_value))
                    break

    value = first_of.get("Date")
    if value is not None and not value.endswith(" GMT"):
        anomalies.append(anomaly("date-invalid", value=value))

    content_type = first_of.get("Content-Type")  # (interned by _line_info)

    # ---- body: RFC 3261 7.4 and 18.3 (cut by Content-Length; on datagrams, the rest)
    available = n - body_start
    content_length: int | None = None
    value = first_of.get("Content-Length")
    declared: int | None = None
    if cl_conflict is not None:
        anomalies.append(anomaly("content-length-invalid", value=cl_conflict))
    elif value is not None:
        declared = _int_or_none(value)
        if declared is None or declared > _MAX_CONTENT_LENGTH:
            anomalies.append(anomaly("content-length-invalid", value=value))
            declared = None
        else:
            content_length = declared
    if declared is None:
        body = data[body_start:]
        if body and value is None:
            anomalies.append(anomaly("content-length-missing"))
    elif declared <= available:
        body = data[body_start : body_start + declared]
        if declared < available:
            trailing = data[body_start + declared :]
            if trailing.strip(b"\r\n\t "):
                found = anomaly("body-trailing-data", extra=len(trailing), declared=declared)
                anomalies.append(found)
    else:
        body = data[body_start:]
        anomalies.append(anomaly("content-length-mismatch", declared=declared, actual=available))
    raw = data[start : body_start + len(body)] if start or body_start + len(body) < n else data

    sdp: SdpSession | None = None
    if body and content_type is not None:
        if lazy and media_type(content_type) == "application/sdp":
            sdp = _LAZY  # type: ignore[assignment] # parsed on first access (no anomalies)
        else:
            sdp = _find_sdp(content_type, body, anomalies)
    found_all = tuple(dict.fromkeys(anomalies)) if len(anomalies) > 1 else tuple(anomalies)
    if lazy:
        return _build_lazy(
            kind,
            method,
            request_uri,
            status,
            reason,
            version,
            _LAZY,  # type: ignore[arg-type] # headers: rebuilt from raw on first access
            len(body),  # type: ignore[arg-type] # body: a slice of raw, cut on access
            raw,
            call_id,
            cseq,
            from_,
            to,
            vias,
            contacts,
            routes,
            record_routes,
            max_forwards,
            expires,
            content_type,
            content_length,
            sdp,
            found_all,
        )

    return SipMessage(
        kind,
        method,
        request_uri,
        status,
        reason,
        version,
        tuple(headers),
        body,
        raw,
        call_id,
        cseq,
        from_,
        to,
        vias,
        contacts,
        routes,
        record_routes,
        max_forwards,
        expires,
        content_type,
        content_length,
        sdp,
        found_all,
    )


# --------------------------------------------------------------------------- lazy fields

# What costs memory in a parsed message is not what correlation reads: the (name, value)
# pairs of every header are about a third of a message's memory, the body is a second
# copy of the end of ``raw``, and SDP objects are built for bodies nobody may look at.
# The parser therefore returns a SipMessage subclass whose ``headers``, ``body`` and
# ``sdp`` are produced from ``raw`` on first access, by the very same code (``_parse``
# with ``lazy=False``), so they cannot differ from eager parsing; ``headers`` and
# ``sdp`` are then kept. Everything else (start line, eager fields, anomalies) is
# computed at parse time as before. The slots of the dataclass hold a marker until then
# (``body``: its length); ``dataclasses.replace``, pickling and equality go through
# the properties, so they see ordinary values.

_LAZY: object = object()
_HEADERS_SLOT = SipMessage.__dict__["headers"]
_BODY_SLOT = SipMessage.__dict__["body"]
_SDP_SLOT = SipMessage.__dict__["sdp"]


def _get_headers(self: SipMessage) -> tuple[tuple[str, str], ...]:
    value = _HEADERS_SLOT.__get__(self)
    if value is _LAZY:
        value = _parse(self.raw, lazy=False).headers
        _HEADERS_SLOT.__set__(self, value)
    return value  # type: ignore[no-any-return]


def _get_body(self: SipMessage) -> bytes:
    value = _BODY_SLOT.__get__(self)
    if value.__class__ is int:  # the body is the last ``value`` bytes of raw
        raw = self.raw
        return raw[len(raw) - value :] if value else b""
    return value  # type: ignore[no-any-return]


def _get_sdp(self: SipMessage) -> SdpSession | None:
    value = _SDP_SLOT.__get__(self)
    if value is _LAZY:
        value = _find_sdp(self.content_type or "", self.body, [])
        _SDP_SLOT.__set__(self, value)
    return value  # type: ignore[no-any-return]


# the records the parser builds by the hundred thousand (sipladder.model.fast_constructor)
_new_via = fast_constructor(Via)
_new_name_addr = fast_constructor(NameAddr)
_new_cseq = fast_constructor(CSeq)


class _LazySipMessage(SipMessage):
    """A :class:`SipMessage` from the parser: ``headers``, ``body`` and ``sdp`` on demand."""

    __slots__ = ()
    headers = property(_get_headers, _HEADERS_SLOT.__set__)  # type: ignore[assignment]
    body = property(_get_body, _BODY_SLOT.__set__)  # type: ignore[assignment]
    sdp = property(_get_sdp, _SDP_SLOT.__set__)  # type: ignore[assignment]

    def __repr__(self) -> str:  # the same text as an eagerly built SipMessage
        return "SipMessage" + SipMessage.__repr__(self)[len("_LazySipMessage") :]


_build_lazy = fast_constructor(_LazySipMessage, SipMessage)


def _addr_anomaly(
    code: str, name: str, value: str, addr: NameAddr | None, why: str | None
) -> Anomaly:
    if code == "uri-invalid" and addr is not None:
        return anomaly(code, name=name, uri=addr.uri, why=why)
    return anomaly(code, name=name, value=value, why=why)


def _addr_list(
    name: str, values: tuple[str, ...], anomalies: list[Anomaly]
) -> tuple[NameAddr, ...]:
    out = []
    for value in values:
        addr, code, why, _ = _ADDR_CACHE.get(value) or _name_addr(value)
        if code is not None:
            anomalies.append(_addr_anomaly(code, name, value, addr, why))
        if addr is not None:
            out.append(addr)
    return tuple(out)


def _find_sdp(content_type: str, body: bytes, anomalies: list[Anomaly]) -> SdpSession | None:
    """The SDP of an application/sdp body, or of the first SDP part of a multipart body."""
    mtype = media_type(content_type)
    if mtype == "application/sdp":
        return parse_sdp(body)
    if mtype.startswith("multipart/"):
        boundary = content_type_param(content_type, "boundary")
        if not boundary:
            anomalies.append(anomaly("multipart-invalid", why="no boundary parameter"))
            return None
        try:
            parts = multipart_parts(body, boundary)
        except ValueError as exc:
            anomalies.append(anomaly("multipart-invalid", why=str(exc)))
            return None
        for part_headers, content in parts:
            part_type = media_type(part_headers.get("content-type", "text/plain"))
            if part_type == "application/sdp":
                return parse_sdp(content)
            if part_type.startswith("multipart/"):  # nested multipart (RFC 2046 5.1.7)
                found = _find_sdp(part_headers["content-type"], content, anomalies)
                if found is not None:
                    return found
    return None


# --------------------------------------------------------------------------- compiled


#: The compiled fast path of :func:`_parse` (:mod:`sipladder.accel`), or None. It walks
#: the same steps for a message that breaks no rule, with the memo tables and functions
#: above (called on a miss), and builds the record with ``_build_lazy``; at the first
#: thing this parser would report, it returns None and :func:`_parse` runs from the
#: start, so the result is always this module's (tests/sip/test_sip_compiled.py compares them).
_parse_fast: Callable[[bytes], SipMessage | None] | None = None
if accel is not None:
    accel.parse_setup(globals())
    _parse_fast = accel.parse_fast
