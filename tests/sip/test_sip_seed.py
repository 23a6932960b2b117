"""The seed article's six listings (tests/data/seed): each defect yields its anomaly, and
the rest of each message is still read."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipladder.model import MessageKind, SipMessage
from sipladder.sip.parser import looks_like_sip, parse_message

SEED = Path(__file__).parent.parent / "data" / "seed"
OBFUSCATED = "sip: [email\xa0protected]"  # what the web site left of the e-mail addresses


def load(name: str) -> SipMessage:
    return parse_message((SEED / name).read_bytes())


def codes(msg: SipMessage) -> list[str]:
    return [a.code for a in msg.anomalies]


@pytest.mark.parametrize("name", sorted(p.name for p in SEED.glob("*.sip")))
def test_every_listing_is_recognised_and_crlf(name: str) -> None:
    data = (SEED / name).read_bytes()
    assert looks_like_sip(data)
    assert data.count(b"\n") == data.count(b"\r\n")
    assert data.endswith(b"\r\n\r\n")


@pytest.mark.parametrize("name", ["listing1-register.sip", "listing2-register-auth.sip"])
def test_register_listings(name: str) -> None:
    msg = load(name)
    assert msg.kind is MessageKind.REQUEST and msg.method == "REGISTER"
    assert msg.request_uri == "sip: telcomx.tel.com"
    assert msg.version == "SIP2.0"
    assert codes(msg) == [
        "request-uri-invalid",  # "sip: telcomx.tel.com" has a space
        "version-invalid",  # SIP2.0
        "header-missing",  # Max-Forwards
        "uri-invalid",  # From: <sip: [email protected]>
        "uri-invalid",  # To
        "via-branch-no-cookie",  # branch=xo93sle: RFC 2543 style
    ]
    assert "SIP2.0" in msg.anomalies[1].message and "SIP/2.0" in msg.anomalies[1].message
    assert "Max-Forwards" in msg.anomalies[2].message
    # the rest is read: IPv6 Via without space, addr-spec Route with lr as header param
    (via,) = msg.vias
    assert (via.transport, via.host, via.port) == ("UDP", "4444::2:3:4:5", None)
    (route,) = msg.routes
    assert (route.uri, route.params) == ("sip:[5555::a:f:f:e]", (("lr", None),))
    assert msg.contacts[0].uri == "sip:[4444::2:3:4:5]"
    assert msg.contacts[0].param("expires") == "600000"
    assert msg.from_ is not None and msg.from_.uri == OBFUSCATED
    # the folded Authorization header is one value, not split at its commas
    (auth,) = msg.header_values("Authorization")
    assert auth.startswith('Digest username="[email\xa0protected]", realm="telcomx.tel.com",')
    assert auth.endswith('response=""') or auth.endswith(
        'response="6629fac4969a87854152369874c43fd1"'
    )
    assert msg.content_length == 0 and msg.body == b""


def test_listing2_is_the_second_attempt() -> None:
    first, second = load("listing1-register.sip"), load("listing2-register-auth.sip")
    assert first.call_id != second.call_id
    assert first.branch == "xo93sle" and second.branch == "u2x9s7"
    assert (first.from_tag, second.from_tag) == ("pohjaxx", "6e87wa9")
    assert first.cseq is not None and second.cseq is not None
    assert (first.cseq.number, second.cseq.number) == (25, 47)


def test_listing3_register_200() -> None:
    msg = load("listing3-register-200.sip")
    assert (msg.status, msg.reason, msg.cseq_method) == (200, "OK", "REGISTER")
    assert [v.host for v in msg.vias] == ["icscf1.tel.com", "pcscf1.tel.com", "4444::2:3:4:5"]
    assert msg.to_tag == "kotimaex" and msg.from_tag == "6e87wa9"
    assert msg.header("Service-Route") == "sip:[email\xa0protected];lr"
    # only the obfuscated From/To, and the branch without magic cookie
    assert codes(msg) == ["uri-invalid", "uri-invalid", "via-branch-no-cookie"]


def test_listing4_inivte() -> None:
    msg = load("listing4-invite.sip")
    assert msg.method == "INIVTE"
    assert msg.version == ""
    assert codes(msg) == [
        "version-missing",  # "INIVTE sip:[email protected]" has no SIP/2.0
        "method-misspelled",
        "request-uri-invalid",  # the NBSP of the obfuscation
        "cseq-method-mismatch",  # CSeq: 1 INVITE for method INIVTE
        "uri-invalid",
        "uri-invalid",
        "via-branch-no-cookie",
        "content-length-mismatch",  # the article leaves out the 183-byte SDP body
    ]
    misspelled = msg.anomalies[1]
    assert "did you mean INVITE" in misspelled.message
    assert [r.uri for r in msg.routes] == [
        "sip:[5555::a:b:c:d];lr",
        "sip:telcomx@scscf1.tel.com;lr",
    ]
    assert msg.contacts[0].uri == "sip:[4444::2:3:4:5]:1537"
    assert msg.max_forwards == 70 and msg.content_length == 183


def test_listing5_183_route_route_and_status_in_cseq() -> None:
    msg = load("listing5-183.sip")
    assert (msg.status, msg.reason) == (183, "Session in Progress")
    assert len(msg.vias) == 5 and msg.vias[-1].host == "4444::2:3:4:5"
    assert codes(msg) == [
        "header-duplicated-name",  # Route-Route (reported once, the header is there 4 times)
        "cseq-method-is-status",  # CSeq: 2 183
        "uri-invalid",
        "uri-invalid",
        "via-branch-no-cookie",
        "content-length-mismatch",
    ]
    assert "did you mean Route" in msg.anomalies[0].message
    assert len(msg.header_values("Route-Route")) == 4
    assert [r.uri for r in msg.routes] == ["sip:telcomx@scscf1.tel.com;lr"]
    assert msg.cseq is not None and (msg.cseq.number, msg.cseq.method) == (2, "183")


def test_listing6_bye_without_via() -> None:
    msg = load("listing6-bye.sip")
    assert (msg.method, msg.request_uri) == ("BYE", "sip:[4444::2:3:4:5]")
    assert codes(msg) == ["header-missing", "uri-invalid", "uri-invalid"]
    assert "Via" in msg.anomalies[0].message
    assert msg.vias == () and msg.branch is None
    assert msg.to_tag == "6e87wa9" and msg.from_tag is None
    assert len(msg.routes) == 4
