"""RFC 4475 (SIP torture test messages): one test per message of tests/data/rfc4475.

Valid messages parse with the field values the RFC describes; invalid ones carry the
anomaly the RFC's explanation calls for; none raises. Expected values were read off the
messages and the RFC text (section numbers in the comments), not off the parser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sipladder.model import MessageKind, SipMessage
from sipladder.sip.framing import split_datagram
from sipladder.sip.parser import looks_like_sip, parse_message
from sipladder.sip.sdp import content_type_param, multipart_parts

DATA = Path(__file__).parent.parent / "data" / "rfc4475"
NO_COOKIE = "via-branch-no-cookie"  # info: RFC 2543-style branch


def check_wsinv(m: SipMessage) -> None:  # 3.1.1.1 A short tortuous INVITE
    assert m.method == "INVITE"
    assert m.request_uri == "sip:vivekg@chair-dnrc.example.com;unknownparam"
    assert m.to is not None and m.to.uri == "sip:vivekg@chair-dnrc.example.com"
    assert m.to_tag == "1918181833n"
    assert m.from_ is not None and m.from_.display_name == 'J Rosenberg \\"'  # escaped chars
    assert m.from_.uri == "sip:jdrosen@example.com" and m.from_tag == "98asjd8"
    assert m.max_forwards == 68  # leading zeros
    assert m.cseq is not None and (m.cseq.number, m.cseq.method) == (9, "INVITE")
    assert m.call_id == "wsinv.ndaksdj@192.0.2.1"
    assert [(v.transport, v.host, v.branch) for v in m.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert m.header("Subject") == ""  # an empty subject
    assert m.header("NewFangledHeader") == "newfangled value continued newfangled value"
    # unknown header: one opaque value, not split at its commas
    assert m.header_values("UnknownHeaderWithUnusualValue") == [";;,,;;,;"]
    (route,) = m.routes
    assert route.uri == "sip:services.example.com;lr;unknownwith=value;unknown-no-value"
    (contact,) = m.contacts
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == (("newparam", "newvalue"), ("secondparam", None), ("q", "0.33"))
    assert m.content_length == 150 and len(m.body) == 150
    assert m.sdp is not None and m.sdp.origin == "mhandley 29739 7272939 IN IP4 192.0.2.3"
    assert m.sdp.connection == "192.0.2.4"


def check_intmeth(m: SipMessage) -> None:  # 3.1.1.2 wide range of valid characters
    assert m.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert m.request_uri == (
        "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
        "(doesn't-it)@example.com"
    )
    assert m.branch == "z9hG4bK-.!%66*_+`'~"
    assert m.to is not None and m.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert m.from_ is not None and m.from_.display_name == "token1~` token2'+_ token3*%!.-"
    assert (
        m.from_.param("fromparam''~+*_!.-%")
        == '"\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439"'
    )
    assert m.from_tag == "_token~1'+`*%!-."
    assert m.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert m.cseq is not None and m.cseq.method == m.method
    assert m.max_forwards == 255
    assert m.header("extensionHeader-!.%*+_`'~") == "\ufeff\u5927\u505c\u96fb"


def check_esc01(m: SipMessage) -> None:  # 3.1.1.3 valid % escaping (kept as written)
    assert m.request_uri == "sip:sips%3Auser%40example.com@example.net"
    assert m.to is not None and m.to.uri == "sip:%75se%72@example.com"
    assert m.from_ is not None and m.from_.uri == "sip:I%20have%20spaces@example.net"
    assert m.content_type == "application/sdp"  # compact "C"
    assert [c.uri for c in m.contacts] == [
        "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31"
    ]


def check_escnull(m: SipMessage) -> None:  # 3.1.1.4 escaped nulls: two distinct contacts
    assert m.to is not None and m.to.uri == "sip:null-%00-null@example.com"
    assert [c.uri for c in m.contacts] == [
        "sip:%00@host5.example.com",
        "sip:%00%00@host5.example.com",
    ]
    assert m.content_length == 0


def check_esc02(m: SipMessage) -> None:  # 3.1.1.5 % that is not an escape
    assert m.method == "RE%47IST%45R"  # unknown, NOT REGISTER
    assert m.to is not None and m.to.display_name == "%Z%45"
    assert m.from_ is not None and m.from_.display_name == "%Z%45"
    # two Contact values, not three: C%6Fntact is another header
    assert [c.uri for c in m.contacts] == [
        "sip:alias1@host1.example.com",
        "sip:alias3@host3.example.com",
    ]
    assert m.header("C%6Fntact") == "<sip:alias2@host2.example.com>"


def check_lwsdisp(m: SipMessage) -> None:  # 3.1.1.6 no LWS between display name and <
    assert m.from_ is not None
    assert (m.from_.display_name, m.from_.uri, m.from_tag) == (
        "caller",
        "sip:caller@example.com",
        "323",
    )


def check_longreq(m: SipMessage) -> None:  # 3.1.1.7 long values
    assert m.to is not None and m.to.display_name is not None and len(m.to.display_name) > 100
    assert m.from_tag is not None and len(m.from_tag) > 150
    assert m.call_id is not None and len(m.call_id) == 141 and m.call_id.endswith("longcallid")
    # 34 Via values under every spelling: Via, v, V, ViA, "V  :", ... in order
    hosts = [v.host for v in m.vias]
    assert len(hosts) == 34 and hosts[:3] == [
        "sip33.example.com",
        "sip32.example.com",
        "sip31.example.com",
    ]
    assert hosts[-2:] == ["sip1.example.com", "host.example.com"]
    assert m.vias[-1].received == "192.0.2.5"
    assert m.header(
        "Unknown-LongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLong-Name"
    )
    assert m.sdp is not None and m.content_length == len(m.body)


def check_dblreq(m: SipMessage) -> None:  # 3.1.1.8 extra trailing octets: ignored
    assert m.method == "REGISTER" and m.body == b""
    assert b"INVITE" not in m.raw
    assert m.anomalies[0].severity.value == "info"


def check_semiuri(m: SipMessage) -> None:  # 3.1.1.9
    assert m.request_uri == "sip:user;par=u%40example.net@example.com"
    assert m.header_values("Accept") == [
        "application/sdp", "application/pkcs7-mime", "multipart/mixed", "multipart/signed",
        "message/sip", "message/sipfrag",
    ]  # fmt: skip


def check_transports(m: SipMessage) -> None:  # 3.1.1.10
    assert [v.transport for v in m.vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    assert m.call_id == "transports.kijh4akdnaqjkwendsasfdj"


def check_mpart01(m: SipMessage) -> None:  # 3.1.1.11 multipart with binary part
    assert m.method == "MESSAGE" and m.content_length == 553 and len(m.body) == 553
    assert m.content_type is not None
    boundary = content_type_param(m.content_type, "boundary")
    assert boundary == "7a9cbec02ceef655"
    parts = multipart_parts(m.body, boundary)
    assert [h["content-type"] for h, _ in parts] == ["text/plain", "application/octet-stream"]
    assert parts[0][1] == b"Hello"
    assert b"\x00" in parts[1][1]
    assert m.sdp is None


def check_unreason(m: SipMessage) -> None:  # 3.1.1.12 unusual reason phrase
    assert m.status == 200 and m.reason is not None
    assert m.reason.startswith("= 2**3 * 5**2 \u043d\u043e ")
    assert m.reason.endswith("- \u043f\u0440\u043e\u0441\u0442\u043e\u0435")


def check_noreason(m: SipMessage) -> None:  # 3.1.1.13 empty reason phrase
    assert (m.status, m.reason) == (100, None)


def check_bcast(m: SipMessage) -> None:  # 3.3.10
    assert [v.host for v in m.vias] == ["192.0.2.198", "255.255.255.255"]


def check_zeromf(m: SipMessage) -> None:  # 3.3.11
    assert m.max_forwards == 0


def check_cparam01(m: SipMessage) -> None:  # 3.3.12 contact-param, not url-param
    (contact,) = m.contacts
    assert contact.uri == "sip:+19725552222@gw1.example.net"
    assert contact.params == (("unknownparam", None),)


def check_cparam02(m: SipMessage) -> None:  # 3.3.13 url-parameter
    (contact,) = m.contacts
    assert (contact.uri, contact.params) == ("sip:+19725552222@gw1.example.net;unknownparam", ())


def check_regescrt(m: SipMessage) -> None:  # 3.3.14 escaped header in a Contact URI
    (contact,) = m.contacts
    assert contact.uri == "sip:user@example.com?Route=%3Csip:sip.example.com%3E"
    assert m.content_length == 0  # "L:0"


def check_unkscm(m: SipMessage) -> None:  # 3.3.2
    assert m.request_uri == "nobodyKnowsThisScheme:totallyopaquecontent"


def check_novelsc(m: SipMessage) -> None:  # 3.3.3
    assert m.request_uri == "soap.beep://192.0.2.103:3002"


def check_unksm2(m: SipMessage) -> None:  # 3.3.4
    assert m.to is not None and m.to.uri == "isbn:2983792873"
    assert m.from_ is not None and m.from_.uri == "http://www.example.com"
    assert [c.uri for c in m.contacts] == ["name:John_Smith"]


def check_bext01(m: SipMessage) -> None:  # 3.3.5
    assert m.header_values("Require") == ["nothingSupportsThis", "nothingSupportsThisEither"]
    assert m.header_values("Proxy-Require") == [
        "noProxiesSupportThis",
        "norDoAnyProxiesSupportThis",
    ]


def check_invut(m: SipMessage) -> None:  # 3.3.6
    assert m.content_type == "application/unknownformat" and m.sdp is None
    assert m.body.startswith(b"<audio>") and len(m.body) == 40


def check_regaut01(m: SipMessage) -> None:  # 3.3.7
    assert m.header_values("Authorization") == ["NoOneKnowsThisScheme opaque-data=here"]


def check_sdp01(m: SipMessage) -> None:  # 3.3.15
    assert m.header("Accept") == "text/nobodyKnowsThis"
    assert m.sdp is not None


def check_inv2543(m: SipMessage) -> None:  # 3.4.1 RFC 2543 syntax
    assert m.branch is None and m.from_tag is None
    assert m.content_length is None
    assert m.body.startswith(b"v=0") and m.sdp is not None
    assert m.sdp.media[0].port == 49217
    assert m.to is not None and m.to.uri == "sip:+16505552222@ss1.example.net"
    assert m.to.params == (("user", "phone"),)


def check_insuf(m: SipMessage) -> None:  # 3.3.1
    assert (m.call_id, m.from_, m.to) == (None, None, None)
    assert {a.message.split()[2] for a in m.anomalies} == {"To", "From", "Call-ID", "Max-Forwards"}


def check_multi01(m: SipMessage) -> None:  # 3.3.8: the first of each is kept
    assert m.call_id == "multi01.98asdh@192.0.2.1"
    assert m.cseq is not None and m.cseq.number == 5
    assert m.max_forwards == 70
    names = sorted(a.message.split()[1] for a in m.anomalies)
    assert names == ["CSeq", "Call-ID", "From", "Max-Forwards", "To"]


def check_scalar02(m: SipMessage) -> None:  # 3.1.2.4
    assert m.cseq is not None and m.cseq.number == 36893488147419103232
    assert m.max_forwards == 300


def check_bigcode(m: SipMessage) -> None:  # 3.1.2.19
    assert m.kind is MessageKind.RESPONSE and m.status == 4294967301


def check_clerr(m: SipMessage) -> None:  # 3.1.2.2
    assert m.content_length == 9999 and 0 < len(m.body) < 9999


def check_test(m: SipMessage) -> None:  # resiprocate's extra test.dat (not in RFC 4475)
    assert m.method == "INVITE" and m.request_uri == "sip:alan@jasomi.com"
    assert m.max_forwards == 68
    assert m.body == b"v=0\r\ntesting=123\r\n"


# file -> (anomaly codes in order, extra checks). RFC 4475 section in the comment.
CASES: dict[str, tuple[list[str], Callable[[SipMessage], None] | None]] = {
    # 3.1.1 valid messages
    "wsinv": ([NO_COOKIE], check_wsinv),
    "intmeth": (["method-unknown"], check_intmeth),
    "esc01": ([], check_esc01),
    "escnull": ([], check_escnull),
    "esc02": (["method-unknown"], check_esc02),
    "lwsdisp": ([], check_lwsdisp),
    "longreq": ([NO_COOKIE], check_longreq),
    "dblreq": (["body-trailing-data"], check_dblreq),
    "semiuri": ([], check_semiuri),
    "transports": ([], check_transports),
    "mpart01": ([], check_mpart01),
    "unreason": ([], check_unreason),
    "noreason": ([], check_noreason),
    # 3.1.2 invalid messages
    "badinv01": (
        ["list-element-empty", "param-empty", "via-invalid", NO_COOKIE, "param-empty"],
        None,
    ),
    "clerr": (["content-length-mismatch"], check_clerr),
    "ncl": (["content-length-invalid"], None),
    "scalar02": (
        ["cseq-invalid", "max-forwards-invalid", "expires-invalid", "expires-invalid"],
        check_scalar02,
    ),
    "scalarlg": (["cseq-invalid"], None),
    "quotbal": (["name-addr-invalid"], None),
    "ltgtruri": (["request-uri-invalid", NO_COOKIE], None),
    "lwsruri": (["request-uri-invalid"], None),
    "lwsstart": (["start-line-whitespace"], None),
    "trws": (["start-line-whitespace"], None),
    "escruri": (["request-uri-invalid"], None),
    "baddate": (["date-invalid"], None),
    "regbadct": (["uri-invalid"], None),
    "badaspec": (["uri-invalid"], None),
    # the file has no empty line after the headers, hence headers-unterminated
    "baddn": (["headers-unterminated", "display-name-invalid", "display-name-invalid"], None),
    "badvers": (["version-invalid"], None),
    "mismatch01": (["cseq-method-mismatch"], None),
    "mismatch02": (["method-unknown", "cseq-method-mismatch"], None),
    "bigcode": (["status-invalid"], check_bigcode),
    # 3.2 transaction layer
    "badbranch": (["via-branch-invalid"], None),
    # 3.3 application layer
    "insuf": (["header-missing"] * 4, check_insuf),
    "unkscm": ([], check_unkscm),
    "novelsc": ([], check_novelsc),
    "unksm2": ([], check_unksm2),
    "bext01": ([], check_bext01),
    "invut": ([], check_invut),
    "regaut01": ([], check_regaut01),
    "multi01": (["header-repeated"] * 5, check_multi01),
    "mcl01": (["header-repeated", "content-length-invalid"], None),
    "bcast": ([], check_bcast),
    "zeromf": ([], check_zeromf),
    "cparam01": ([], check_cparam01),
    "cparam02": ([], check_cparam02),
    "regescrt": ([], check_regescrt),
    "sdp01": ([], check_sdp01),
    # 3.4 backward compatibility
    "inv2543": (["header-missing", NO_COOKIE, "content-length-missing"], check_inv2543),
    # resiprocate's test.dat: no SIP version, "TO :" spacing, a line without colon,
    # addr-specs without scheme
    "test": (
        [
            "version-missing",
            "header-malformed",
            "header-missing",
            "header-missing",
            "uri-invalid",
            "uri-invalid",
        ],
        check_test,
    ),
}


def test_every_file_has_a_case() -> None:
    assert sorted(p.stem for p in DATA.glob("*.dat")) == sorted(CASES)
    assert len(CASES) == 50


@pytest.mark.parametrize("name", sorted(CASES))
def test_rfc4475_message(name: str) -> None:
    data = (DATA / f"{name}.dat").read_bytes()
    assert looks_like_sip(data)
    msg = parse_message(data)
    expected, check = CASES[name]
    assert [a.code for a in msg.anomalies] == expected
    if check is not None:
        check(msg)


def test_dblreq_datagram_holds_two_messages() -> None:
    # RFC 4475 3.1.1.8: the receiver ignores the INVITE; split_datagram still shows that
    # the datagram carried it, for the pipeline to report
    parts = split_datagram((DATA / "dblreq.dat").read_bytes())
    assert [parse_message(p).method for p in parts] == ["REGISTER", "INVITE"]
