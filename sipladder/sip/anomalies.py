"""The anomalies the SIP parser can record: code, severity and human sentence in one table.

An anomaly is data, not an exception (see :class:`~sipladder.model.Anomaly`). The codes are
a stable contract (documented in README.md, section "Anomaly codes"); sentences are
templates filled with ``str.format`` fields. Edit-distance helpers for "did you mean"
suggestions live here too.
"""

from __future__ import annotations

from sipladder.model import Anomaly, Severity

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: notice (info)

#: code -> (severity, sentence template)
ANOMALIES: dict[str, tuple[Severity, str]] = {
    # start line (RFC 3261 sections 7.1, 7.2, 25.1)
    "method-misspelled": (W, "Unknown method {method!r}: did you mean {suggestion}?"),
    "method-unknown": (
        N,
        "Method {method!r} is not a method sipladder knows (it may be an extension).",
    ),
    "version-invalid": (E, "SIP version {version!r} is not valid: expected SIP/2.0."),
    "version-missing": (
        E,
        "The Request-Line has no SIP version: expected 'METHOD Request-URI SIP/2.0'.",
    ),
    "request-uri-invalid": (W, "Request-URI {uri!r} is not a valid URI ({why})."),
    "status-invalid": (E, "Status code {status} is outside 100-699 (RFC 3261 section 7.2)."),
    "reason-missing": (
        N,
        "The Status-Line has no reason phrase (RFC 3261 expects one after the code).",
    ),
    # headers
    "header-malformed": (W, "Line {line!r} is not a header (no 'name: value')."),
    "header-name-invalid": (W, "Header name {name!r} is not a token."),
    "header-unknown-misspelled": (W, "Unknown header {name!r}: did you mean {suggestion}?"),
    "header-duplicated-name": (
        W,
        "Header name {name!r} repeats a name: did you mean {suggestion}?",
    ),
    "header-repeated": (W, "Header {name} appears {count} times; RFC 3261 allows it once."),
    "header-missing": (E, "Mandatory header {name} is missing (RFC 3261 section {section})."),
    "header-value-empty": (W, "Header {name} has an empty value."),
    "header-non-utf8": (
        W,
        "The header section contains bytes that are not UTF-8 (decoded with replacement).",
    ),
    "nul-byte": (E, "The header section contains NUL bytes."),
    "headers-unterminated": (W, "No empty line ends the header section (the message may be cut)."),
    "line-ending-lf": (N, "Lines end with LF only, not CRLF (RFC 3261 section 7)."),
    # individual headers
    "cseq-invalid": (E, "CSeq {value!r} is not 'number method' with a number below 2**31."),
    "cseq-method-mismatch": (
        E,
        "CSeq method {cseq_method!r} differs from the request method {method!r}"
        " (RFC 3261 section 8.1.1.5).",
    ),
    "cseq-method-is-status": (E, "CSeq {value!r} carries a status code where a method belongs."),
    "via-invalid": (E, "Via {value!r} cannot be read as 'SIP/2.0/transport host[:port];params'."),
    "via-branch-no-cookie": (
        N,
        "Top Via branch {branch!r} lacks the RFC 3261 magic cookie 'z9hG4bK'"
        " (RFC 2543 transaction matching applies).",
    ),
    "name-addr-invalid": (
        W,
        "{name} value {value!r} cannot be read as a name-addr or addr-spec ({why}).",
    ),
    "display-name-invalid": (W, "{name} display name in {value!r} has {why}: quote it."),
    "param-empty": (W, "{name} value {value!r} has {why}."),
    "list-element-empty": (W, "{name} has an empty element in its comma-separated list."),
    "start-line-whitespace": (W, "The Request-Line has {what} (RFC 3261 section 7.1: single SP)."),
    "date-invalid": (W, "Date {value!r} is not an RFC 1123 date in GMT (RFC 3261 section 20.17)."),
    "via-branch-invalid": (W, "Top Via branch {branch!r} has the magic cookie but no identifier."),
    "uri-invalid": (W, "{name} URI {uri!r} is not a valid URI ({why})."),
    "max-forwards-invalid": (E, "Max-Forwards {value!r} is not a number 0-255."),
    "expires-invalid": (W, "Expires {value!r} is not a number of seconds."),
    "call-id-invalid": (W, "Call-ID {value!r} contains whitespace."),
    "contact-star-invalid": (
        E,
        "Contact '*' is only allowed alone, with Expires 0, in a REGISTER"
        " (RFC 3261 section 10.2.2).",
    ),
    # body
    "content-length-invalid": (E, "Content-Length {value!r} is not a valid length."),
    "content-length-mismatch": (
        E,
        "Content-Length says {declared} bytes but the body has {actual}.",
    ),
    "content-length-missing": (
        N,
        "No Content-Length: the body is taken as the rest of the datagram.",
    ),
    "body-trailing-data": (
        N,
        "{extra} bytes follow the {declared}-byte body that Content-Length announces"
        " (discarded, RFC 3261 section 18.3).",
    ),
    "multipart-invalid": (W, "The multipart body could not be split ({why})."),
}


def anomaly(code: str, offset: int | None = None, **fields: object) -> Anomaly:
    """Build the :class:`Anomaly` for ``code`` with its sentence filled from ``fields``."""
    severity, template = ANOMALIES[code]
    try:
        message = template.format(**fields)
    except (KeyError, IndexError, ValueError):  # a template bug must not crash parsing
        message = template
    return Anomaly(code, message, severity, offset)


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count 1: INIVTE -> INVITE),
    cut off at ``limit``. Only called for unknown names, so simplicity beats speed."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) >= limit and (i < 2 or min(prev) >= limit):
            # No cell of this row (nor of the previous one, which a transposition may
            # still use) is under the limit: no later cell can be. Unknown names are
            # checked once each, and a capture may hold millions of distinct ones.
            return limit
        prev2, prev = prev, cur
    return min(prev[len(b)], limit)


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` and every string made from it by deleting up to ``depth`` characters."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


#: (candidates, depth) -> deletion variant -> candidate positions (a "SymSpell" index).
#: A handful of keys in the whole program (known methods, known headers).
_INDEXES: dict[tuple[tuple[str, ...], int], dict[str, list[int]]] = {}


def _index(candidates: tuple[str, ...], depth: int) -> dict[str, list[int]]:
    index = _INDEXES.get((candidates, depth))
    if index is None:
        index = {}
        for position, cand in enumerate(candidates):
            for variant in _deletions(cand.upper(), depth):
                index.setdefault(variant, []).append(position)
        _INDEXES[(candidates, depth)] = index
    return index


def closest(
    word: str, candidates: tuple[str, ...] | list[str], max_distance: int = 2
) -> str | None:
    """The candidate nearest to ``word`` (case-insensitively), if it is close enough.

    Short words only get distance 1, so ``BYE`` does not turn into ``ACK``.

    Every unknown name of a capture is checked (once), and a hostile capture may hold
    millions of distinct ones, so the distance is computed only for the candidates that
    share a deletion variant with ``word``: each edit (insertion, deletion, substitution,
    adjacent transposition) costs at most one deletion on each side, so any candidate
    within distance k shares a string reachable by k deletions from both.
    """
    upper = word.upper()
    allowed = 1 if len(word) <= 4 else max_distance
    candidates = tuple(candidates)
    if not candidates or len(upper) > max(map(len, candidates)) + allowed:
        return None
    index = _index(candidates, allowed)
    near: set[int] = set()
    for variant in _deletions(upper, allowed):
        found = index.get(variant)
        if found is not None:
            near.update(found)
    best: str | None = None
    best_distance = allowed + 1
    for position in sorted(near):  # candidate order breaks ties, as before
        cand = candidates[position]
        d = edit_distance(upper, cand.upper(), allowed + 1)
        if d < best_distance:
            best, best_distance = cand, d
    return best
