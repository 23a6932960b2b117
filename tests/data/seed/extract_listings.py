"""Extract the six SIP listings of the seed article into listing<N>-<name>.sip files.

Run from the repository root: ``python tests/data/seed/extract_listings.py PATH-TO-ARTICLE``
(the article is ``sip-session-flow.zh.txt``, cnblogs.com/yz123/p/11929830.html).

What the web page added is removed, what the authors wrote is kept (see README.md here):
the line-number lines and the blank lines between lines go; a single leading NBSP
(the page's indentation of listings 4 and 5) goes; longer NBSP runs that start folded
continuation lines (the Authorization header) become spaces; the placeholders
"(必须的空行)" (the mandatory empty line) and "(SDP 请求消息体)" (SDP body) become the
empty line and no body. Defects (INIVTE, SIP2.0, Route-Route, CSeq: 2 183, ...) and the
site's e-mail obfuscation "[email\xa0protected]" stay as they are. Lines end with CRLF.
"""

from __future__ import annotations

import sys
from pathlib import Path

NAMES = {
    1: "register",
    2: "register-auth",
    3: "register-200",
    4: "invite",
    5: "183",
    6: "bye",
}


def extract(text: str) -> dict[int, bytes]:
    lines = text.split("\n")
    out: dict[int, bytes] = {}
    for number in NAMES:
        start = next(i for i, line in enumerate(lines) if line.startswith(f"清单 {number}"))
        body: list[str] = []
        for line in lines[start + 1 :]:
            if not line.strip() or line.strip().isdigit():
                continue
            if line == "(必须的空行)":
                body.append("")
                continue
            if line == "(SDP 请求消息体)":
                break
            stripped = line.lstrip("\xa0")
            indent = len(line) - len(stripped)
            if indent > 1:
                line = " " * indent + stripped
            elif indent == 1:
                line = stripped
            if not (line[:1].isascii() and line[:1].strip()) and not line.startswith(" "):
                break  # back to the article's prose
            body.append(line)
            if line.startswith("Content-Length"):
                if number not in (4, 5):  # 4 and 5 continue with the empty line
                    body.append("")
                    break
        out[number] = ("\r\n".join(body) + "\r\n").encode("utf-8")
    return out


def main() -> None:
    text = Path(sys.argv[1]).read_text(encoding="utf-8")
    here = Path(__file__).parent
    for number, data in extract(text).items():
        (here / f"listing{number}-{NAMES[number]}.sip").write_bytes(data)


if __name__ == "__main__":
    main()
