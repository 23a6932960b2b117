"""Each anomaly code of sipladder.sip.anomalies: a message that shows it, its sentence,
and its row in README.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sipladder.sip.anomalies import ANOMALIES, anomaly, closest, edit_distance
from sipladder.sip.parser import parse_message

BASE = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: <sip:bob@example.com>\r\n"
    b"From: <sip:alice@example.com>;tag=1\r\n"
    b"Call-ID: abc@192.0.2.1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
RESPONSE = BASE.replace(b"INVITE sip:bob@example.com SIP/2.0", b"SIP/2.0 200 OK")


def sub(old: bytes, new: bytes, base: bytes = BASE) -> bytes:
    assert old in base
    return base.replace(old, new)


# code -> (message, a phrase its sentence must contain)
CASES: dict[str, tuple[bytes, str]] = {
    "method-misspelled": (sub(b"INVITE sip", b"INIVTE sip"), "did you mean INVITE"),
    "method-unknown": (sub(b"INVITE sip", b"FROBNICATE sip"), "'FROBNICATE'"),
    "version-invalid": (sub(b"SIP/2.0\r\nVia", b"SIP/7.0\r\nVia"), "expected SIP/2.0"),
    "version-missing": (sub(b" SIP/2.0\r\nVia", b"\r\nVia"), "no SIP version"),
    "request-uri-invalid": (sub(b"sip:bob@example.com SIP", b"<sip:bob@example.com> SIP"), "<sip"),
    "status-invalid": (sub(b"200 OK", b"700 Odd", RESPONSE), "700"),
    "reason-missing": (sub(b"200 OK", b"200", RESPONSE), "no reason phrase"),
    "header-malformed": (sub(b"Max-Forwards: 70", b"Max-Forwards 70"), "'Max-Forwards 70'"),
    "header-name-invalid": (sub(b"Call-ID:", b"Call ID:\r\nCall-ID:"), "'Call ID'"),
    "header-unknown-misspelled": (
        sub(b"Call-ID: abc", b"Call-ID: abc\r\nContcat: <sip:a@b>"),
        "Contact",
    ),
    "header-duplicated-name": (
        sub(b"Call-ID: abc", b"Call-ID: abc\r\nRoute-Route: <sip:a@b>"),
        "Route",
    ),
    "header-repeated": (
        sub(b"Max-Forwards: 70", b"Max-Forwards: 70\r\nMax-Forwards: 69"),
        "2 times",
    ),
    "header-missing": (sub(b"Max-Forwards: 70\r\n", b""), "Max-Forwards"),
    "header-value-empty": (sub(b"Call-ID: abc@192.0.2.1", b"Call-ID:"), "Call-ID"),
    "header-non-utf8": (sub(b"Call-ID: abc", b"Subject: \xff\xfe\r\nCall-ID: abc"), "UTF-8"),
    "nul-byte": (sub(b"Call-ID: abc", b"Subject: a\x00b\r\nCall-ID: abc"), "NUL"),
    "headers-unterminated": (BASE[:-2], "empty line"),
    "line-ending-lf": (BASE.replace(b"\r\n", b"\n"), "LF only"),
    "cseq-invalid": (sub(b"CSeq: 1 INVITE", b"CSeq: 4294967296 INVITE"), "2**31"),
    "cseq-method-mismatch": (sub(b"CSeq: 1 INVITE", b"CSeq: 1 BYE"), "'BYE'"),
    "cseq-method-is-status": (sub(b"CSeq: 1 INVITE", b"CSeq: 2 183", RESPONSE), "status code"),
    "via-invalid": (sub(b"Via: SIP/2.0/UDP 192.0.2.1:5060", b"Via: 192.0.2.1:5060"), "Via"),
    "via-branch-no-cookie": (sub(b"branch=z9hG4bK1", b"branch=abc"), "'abc'"),
    "via-branch-invalid": (sub(b"branch=z9hG4bK1", b"branch=z9hG4bK"), "no identifier"),
    "name-addr-invalid": (
        sub(b"To: <sip:bob@example.com>", b'To: "Bob <sip:bob@example.com>'),
        "To",
    ),
    "display-name-invalid": (sub(b"To: <sip", b"To: Bob, Jr. <sip"), "quote it"),
    "param-empty": (sub(b";tag=1", b";tag=1;;"), "empty parameter"),
    "list-element-empty": (sub(b"Call-ID: abc", b"Allow: INVITE,,BYE\r\nCall-ID: abc"), "Allow"),
    "start-line-whitespace": (sub(b"INVITE sip", b"INVITE  sip"), "single SP"),
    "date-invalid": (
        sub(b"Call-ID: abc", b"Date: Fri, 01 Jan 2010 16:00:00 EST\r\nCall-ID: abc"),
        "GMT",
    ),
    "uri-invalid": (sub(b"To: <sip:bob@example.com>", b"To: <sip: bob@example.com>"), "To URI"),
    "max-forwards-invalid": (sub(b"Max-Forwards: 70", b"Max-Forwards: 300"), "'300'"),
    "expires-invalid": (sub(b"Call-ID: abc", b"Expires: soon\r\nCall-ID: abc"), "'soon'"),
    "call-id-invalid": (sub(b"Call-ID: abc@192.0.2.1", b"Call-ID: abc def"), "whitespace"),
    "contact-star-invalid": (sub(b"Call-ID: abc", b"Contact: *\r\nCall-ID: abc"), "REGISTER"),
    "content-length-invalid": (sub(b"Content-Length: 0", b"Content-Length: five"), "'five'"),
    "content-length-mismatch": (sub(b"Content-Length: 0", b"Content-Length: 10"), "10 bytes"),
    "content-length-missing": (
        sub(b"Content-Length: 0\r\n", b"") + b"body",
        "rest of the datagram",
    ),
    "body-trailing-data": (BASE + b"garbage", "7 bytes"),
    "multipart-invalid": (
        sub(
            b"Content-Length: 0", b"Content-Type: multipart/mixed;boundary=xyz\r\nContent-Length: 4"
        )
        + b"body",
        "xyz",
    ),
}


def test_every_code_has_a_case() -> None:
    assert sorted(CASES) == sorted(ANOMALIES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_anomaly(code: str) -> None:
    data, phrase = CASES[code]
    msg = parse_message(data)
    found = [a for a in msg.anomalies if a.code == code]
    assert found, [a.code for a in msg.anomalies]
    assert phrase in found[0].message
    assert found[0].severity is ANOMALIES[code][0]


def test_base_message_is_clean() -> None:
    assert parse_message(BASE).anomalies == ()
    assert parse_message(RESPONSE).anomalies == ()


def test_every_code_documented_in_readme() -> None:
    readme = (Path(__file__).parent.parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Anomaly codes", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.M))
    assert set(ANOMALIES) <= documented


def test_sentence_template_errors_do_not_crash() -> None:
    assert anomaly("method-misspelled").message.startswith("Unknown method")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("INIVTE", "INVITE"),
        ("REGIStER", "REGISTER"),
        ("BYEE", "BYE"),
        ("NOTIFYY", "NOTIFY"),
        ("FOO", None),
    ],
)
def test_closest_method(word: str, expected: str | None) -> None:
    methods = ("INVITE", "ACK", "BYE", "REGISTER", "NOTIFY")
    assert closest(word, methods) == expected


def test_edit_distance_counts_transpositions_once() -> None:
    assert edit_distance("INIVTE", "INVITE") == 1
    assert edit_distance("ABC", "ABC") == 0
    assert edit_distance("A", "ABCDEF", limit=3) == 3
