"""Making capture text safe for each output format: everything in a capture is untrusted.

XML (SVG, HTML) gets entity escaping plus removal of the characters XML 1.0 forbids
(section 2.2 ``Char``), which would otherwise make the document invalid; they are
shown as visible ``\\xNN`` instead, like control characters on a terminal.
"""

from __future__ import annotations

import re

# XML 1.0 section 2.2:
#   Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
# C1 controls (#x80-#x9F) are allowed but "discouraged" (section 2.2 note): shown escaped too.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def visible(text: str) -> str:
    """Replace characters XML cannot carry (and C0/C1 controls but tab/newline) by ``\\xNN``."""
    return _NOT_XML_CHAR.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r", ""))


def xml_text(text: str) -> str:
    """Escape for XML element content and attribute values (either quote)."""
    return (
        visible(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def one_line(text: str) -> str:
    """Collapse whitespace runs (newlines included) to single spaces."""
    return " ".join(text.split())
