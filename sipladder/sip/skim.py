"""The Call-ID of a SIP message without parsing it, to share messages out between workers.

Calls are made of the messages of one Call-ID (RFC 3261 section 8.1.1.4: every
request and response of a dialog carries it), so a capture can be split by Call-ID
and each part correlated on its own (:mod:`sipladder.streaming`). Deciding the part
must cost far less than parsing: one regular expression over the header section.

The hint is only a hint. It is given when it is unambiguous (exactly one Call-ID line,
plain ASCII, not folded); otherwise None, and the message is parsed by every worker,
each keeping it only if the parsed Call-ID is its own. A worker also checks, for each
message it was handed by the hint, that the parsed Call-ID falls in its own part: if
not, the split is declared inexact and the caller starts again without splitting.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

from sipladder.accel import accel

# RFC 3261 section 20.8 (Call-ID) and 7.3.3 (its compact form "i"); header names are
# case-insensitive (7.3.1) and HCOLON allows whitespace before the colon (25.1).
_CALL_ID_NAME = re.compile(rb"\n(?:call-id|i)[ \t]*:", re.IGNORECASE)
#: bytes a Call-ID hint may hold (RFC 3261 25.1 callid = word ["@" word]: visible ASCII)
_VISIBLE = bytes(range(0x21, 0x7F))


def python_call_id_hint(data: bytes) -> bytes | None:
    """The Call-ID value of the message in ``data`` when it is certain, else None.

    Certain means: in the header section (ending where the parser ends it, RFC 3261 7),
    exactly one line is a Call-ID header (long or compact form, any case); the next line
    does not continue it (folding, 7.3.1); the value is visible ASCII. Anything else is
    left to the parser.
    """
    crlf = data.find(b"\n\r\n")
    lf = data.find(b"\n\n", 0, crlf if crlf >= 0 else len(data))
    end = lf if lf >= 0 else crlf
    if end < 0:
        return None  # no end of header section: leave it to the parser
    found = _CALL_ID_NAME.search(data, 0, end)
    if found is None or _CALL_ID_NAME.search(data, found.end(), end) is not None:
        return None
    start = found.end()
    line_end = data.find(b"\n", start, end + 1)  # the header section ends with a newline
    if data[line_end + 1 : line_end + 2] in (b" ", b"\t"):
        return None  # folded onto the next line
    value = data[start:line_end].strip(b" \t\r")
    if not value or value.translate(None, _VISIBLE):
        return None  # empty, or holding spaces, controls or non-ASCII: the parser decides
    return value


#: :func:`python_call_id_hint`, or its compiled twin (:mod:`sipladder.accel`): the same
#: answers, about ten times faster (it runs on every SIP message of every worker).
call_id_hint: Callable[[bytes], bytes | None] = (
    python_call_id_hint if accel is None else accel.call_id_hint
)


def shard_of_bytes(call_id: bytes, shards: int) -> int:
    """The part (0 .. shards-1) a Call-ID given as ASCII bytes belongs to."""
    return zlib.crc32(call_id) % shards


def shard_of(call_id: str | None, shards: int) -> int:
    """The part a parsed Call-ID belongs to (messages without one: part 0); equal to
    :func:`shard_of_bytes` of the same ASCII value."""
    if call_id is None:
        return 0
    return zlib.crc32(call_id.encode("utf-8", "surrogatepass")) % shards
