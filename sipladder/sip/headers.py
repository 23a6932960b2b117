"""Header names and values: case-insensitive matching, compact forms, canonical spelling,
and the splitting of comma-separated and semicolon-separated values.

RFC 3261 section 7.3.1: header names are case-insensitive; section 7.3.3: compact forms.
Later RFCs add compact forms of their own (listed next to each name below).
"""

from __future__ import annotations

import re
from sys import intern as _intern

# Canonical spelling of every header name we know. Names are matched case-insensitively.
KNOWN_HEADERS: tuple[str, ...] = (
    # RFC 3261 section 20
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
    "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
    "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
    "Content-Type", "CSeq", "Date", "Error-Info", "Expires", "From", "In-Reply-To",
    "Max-Forwards", "MIME-Version", "Min-Expires", "Organization", "Priority",
    "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "Record-Route",
    "Reply-To", "Require", "Retry-After", "Route", "Server", "Subject", "Supported",
    "Timestamp", "To", "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate",
    # extensions in common use
    "RAck", "RSeq",  # RFC 3262
    "Event", "Allow-Events", "Subscription-State",  # RFC 6665
    "Refer-To", "Referred-By", "Refer-Sub",  # RFC 3515, 3892, 4488
    "Replaces", "Join", "Target-Dialog",  # RFC 3891, 3911, 4538
    "Session-Expires", "Min-SE",  # RFC 4028
    "Identity", "Identity-Info",  # RFC 4474, 8224
    "Accept-Contact", "Reject-Contact", "Request-Disposition",  # RFC 3841
    "SIP-ETag", "SIP-If-Match",  # RFC 3903
    "Path", "Service-Route",  # RFC 3327, 3608
    "Privacy", "P-Asserted-Identity", "P-Preferred-Identity",  # RFC 3323, 3325
    "P-Access-Network-Info", "P-Associated-URI", "P-Called-Party-ID",  # RFC 7315
    "P-Charging-Function-Addresses", "P-Charging-Vector", "P-Visited-Network-ID",
    "P-Served-User", "P-Early-Media", "P-Media-Authorization", "P-Profile-Key",
    "P-User-Database", "P-Asserted-Service", "P-Preferred-Service",
    "Security-Client", "Security-Server", "Security-Verify",  # RFC 3329
    "Reason", "History-Info", "Diversion", "Remote-Party-ID",  # RFC 3326, 7044, 5806
    "Resource-Priority", "Accept-Resource-Priority", "Max-Breadth",  # RFC 4412, 5393
    "Answer-Mode", "Priv-Answer-Mode", "Recv-Info", "Info-Package",  # RFC 5373, 6086
    "Content-ID", "Geolocation", "Geolocation-Routing", "Feature-Caps",
    "User-to-User", "Session-ID", "Flow-Timer", "Suppress-If-Match",
    "Policy-ID", "Policy-Contact", "Encryption", "Hide", "Response-Key",  # RFC 2543 leftovers
)  # fmt: skip

# RFC 3261 section 7.3.3 and the RFCs that added the later ones.
COMPACT_FORMS: dict[str, str] = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",  # RFC 6665
    "u": "Allow-Events",  # RFC 6665
    "r": "Refer-To",  # RFC 3515
    "b": "Referred-By",  # RFC 3892
    "x": "Session-Expires",  # RFC 4028
    "y": "Identity",  # RFC 4474
    "a": "Accept-Contact",  # RFC 3841
    "j": "Reject-Contact",  # RFC 3841
    "d": "Request-Disposition",  # RFC 3841
    "n": "Identity-Info",  # RFC 4474
}

# Exact spellings (as found on the wire) and lower-cased spellings to canonical names:
# the exact lookup usually hits, so most headers cost one dict lookup.
_CANONICAL: dict[str, str] = {}
for _name in KNOWN_HEADERS:
    _CANONICAL[_name] = _name
    _CANONICAL[_name.lower()] = _name
    _CANONICAL[_name.upper()] = _name
for _short, _name in COMPACT_FORMS.items():
    _CANONICAL[_short] = _name
    _CANONICAL[_short.upper()] = _name

KNOWN_LOWER: frozenset[str] = frozenset(name.lower() for name in KNOWN_HEADERS)

_UNKNOWN_CACHE: dict[str, str] = {}


def canonical_name(name: str) -> str:
    """``v`` -> ``Via``, ``call-id`` -> ``Call-ID``; unknown names are title-cased."""
    found = _CANONICAL.get(name)
    if found is not None:
        return found
    found = _CANONICAL.get(name.lower())
    if found is not None:
        return found
    found = _UNKNOWN_CACHE.get(name)
    if found is None:
        found = "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))
        if len(name) <= 256:  # bounded: hostile captures invent names
            if len(_UNKNOWN_CACHE) > 4096:
                _UNKNOWN_CACHE.clear()
            _UNKNOWN_CACHE[name] = found
    return found


def is_known(canonical: str) -> bool:
    return canonical.lower() in KNOWN_LOWER


# Headers whose grammar is a comma-separated list (``#`` in RFC 3261 section 25 and the
# extension RFCs): their values are split into one (name, value) pair per element.
# Not here on purpose: WWW-Authenticate, Authorization, Proxy-Authenticate,
# Proxy-Authorization (commas separate auth-params of ONE challenge/credential), Date,
# Retry-After, Subject, Server, User-Agent, Organization, Call-ID, Timestamp and every
# unknown header (we cannot know whether a comma separates values there).
LIST_HEADERS: frozenset[str] = frozenset(
    {
        "Via", "Route", "Record-Route", "Contact", "Accept", "Accept-Encoding",
        "Accept-Language", "Alert-Info", "Allow", "Call-Info", "Content-Encoding",
        "Content-Language", "Error-Info", "In-Reply-To", "Proxy-Require", "Require",
        "Supported", "Unsupported", "Warning", "Allow-Events", "Path", "Service-Route",
        "P-Associated-URI", "P-Asserted-Identity", "P-Preferred-Identity", "History-Info",
        "Reason", "Security-Client", "Security-Server", "Security-Verify",
        "Accept-Contact", "Reject-Contact", "Request-Disposition", "Diversion",
        "Remote-Party-ID", "Resource-Priority", "Accept-Resource-Priority", "Recv-Info",
        "P-Asserted-Service", "P-Preferred-Service", "Geolocation", "P-Early-Media",
        "P-Media-Authorization", "Feature-Caps",
    }
)  # fmt: skip

# Headers that may appear at most once (RFC 3261 section 20: not of the ``#`` form).
SINGLE_HEADERS: frozenset[str] = frozenset(
    {
        "Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Length", "Content-Type",
        "Expires", "Min-Expires", "MIME-Version", "Content-Disposition", "Date",
        "Organization", "Priority", "Reply-To", "Retry-After", "Server", "Subject",
        "Timestamp", "User-Agent", "RAck", "RSeq", "Event", "Refer-To", "Referred-By",
        "Replaces", "Session-Expires", "Min-SE", "SIP-ETag", "SIP-If-Match",
        "Subscription-State",
    }
)  # fmt: skip


# One element of a #-list: quoted strings and <...> may contain commas; a stray quote or
# angle bracket (malformed input) is taken as an ordinary character.
_LIST_ITEM = re.compile(r'(?:"(?:[^"\\]|\\.)*"|<[^>]*>|[^,"<]+|["<])+')


def split_commas(value: str) -> list[str]:
    """Split a ``#``-list value at commas that are not inside a quoted string or ``<...>``.

    Empty elements (``a,,b``) are dropped, as RFC 3261 section 7.3.1 allows.
    """
    if '"' not in value and "<" not in value:
        parts = value.split(",")
    else:
        parts = _LIST_ITEM.findall(value)
    return [part for part in map(str.strip, parts) if part]


# One generic-param: a quoted value may contain ";".
_PARAM_ITEM = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^;"]+|")+')


# parameter name as written -> stripped, lower-cased and interned (``tag``, ``branch``,
# ``lr``, ...: a handful of names in real traffic); bounded, cleared when full
_PARAM_NAMES: dict[str, str] = {}


def _param_name(written: str) -> str:
    name = _intern(written.strip().lower())  # one copy for all
    if len(written) <= 256:
        if len(_PARAM_NAMES) >= 4096:
            _PARAM_NAMES.clear()
        _PARAM_NAMES[written] = name
    return name


def split_params(text: str) -> tuple[tuple[str, str | None], ...]:
    """``;tag=x;lr;q="a;b"`` -> ``(("tag", "x"), ("lr", None), ("q", '"a;b"'))``.

    Names are lower-cased (parameter names are case-insensitive, RFC 3261 section 7.3.1);
    values are kept as written, quotes included. Whitespace around ``;`` and ``=`` is allowed.
    """
    text = text.strip()
    if not text:
        return ()
    if '"' not in text:
        pieces = text.split(";")
    else:
        pieces = _PARAM_ITEM.findall(text)
    params: list[tuple[str, str | None]] = []
    names = _PARAM_NAMES
    for piece in pieces:
        written, eq, val = piece.partition("=")
        name = names.get(written)
        if name is None:
            name = _param_name(written)
        if not name:
            continue
        params.append((name, val.strip() if eq else None))
    return tuple(params)
