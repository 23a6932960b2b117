"""Registration attempts: challenges across a new Call-ID, refreshes, deregistrations."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import sipladder
from sipladder.correlate.registrations import same_binding, same_contacts
from sipladder.model import RegistrationKind as K
from sipladder.model import RegistrationState as St
from tests.correlate.sipflow import Flow, ms, name_addr

UE, P, IC, S = "10.0.0.1", "10.0.0.10", "10.0.0.11", "10.0.0.12"
AOR = "sip:tom@telcomx.tel.com"
CONTACT = (name_addr("sip:[4444::2:3:4:5]", expires="600000"),)


#: The seed's Authorization headers: empty nonce first (IMS), then the challenge's nonce.
NO_CREDENTIALS = 'Digest username="tom@telcomx.tel.com", nonce="", response=""'
CREDENTIALS = 'Digest username="tom@telcomx.tel.com", nonce="A34Cm+FVa73YTUGpGMBIs34P", ' \
    'response="6629fac4969a87854152369874c43fd1"'


def register(f: Flow, at: float, branch: str, call_id: str, cseq: int, from_tag: str,
             contacts=CONTACT, expires: int | None = None, src: str = UE, dst: str = P,  # type: ignore[no-untyped-def]
             authorization: str | None = None):
    return f.request("REGISTER", at, src, dst, branch=branch, call_id=call_id, cseq=cseq,
                     from_tag=from_tag, uri="sip:telcomx.tel.com", from_uri=AOR, to_uri=AOR,
                     contacts=contacts, expires=expires, authorization=authorization)


def seed_registration() -> Flow:
    """The seed article's flow, UE -> P-CSCF -> I-CSCF -> S-CSCF, times in ms:

    REGISTER #1 (Call-ID ...aj11) leaves UE at 0, P at 5, I at 12; S answers 401 at 20,
    back at I's hop 20, P's hop 24, UE 30. REGISTER #2 (new Call-ID ...aj22, new From tag,
    new branch) leaves UE at 100, P 105, I 112; 200 at 140, 146, UE 150.
    """
    f = Flow()
    r0 = register(f, 0, "z9hG4bKxo93sle", "apb304a94sslfeiasle93aj11", 25, "pohjaxx",
                  authorization=NO_CREDENTIALS)
    r1 = f.forward(r0, 5, P, IC, branch="z9hG4bKp1")
    r2 = f.forward(r1, 12, IC, S, branch="z9hG4bKi1")
    f.response(401, 20, r2, to_tag="s1")
    f.response(401, 24, r1, to_tag="s1")
    f.response(401, 30, r0, to_tag="s1")
    q0 = register(f, 100, "z9hG4bKu2x9s7", "apb304a94sslfaser2le93aj22", 47, "6e87wa9",
                  authorization=CREDENTIALS)
    q1 = f.forward(q0, 105, P, IC, branch="z9hG4bKp2")
    q2 = f.forward(q1, 112, IC, S, branch="z9hG4bKi2")
    granted = (name_addr("sip:[4444::2:3:4:5]", expires="600000"),)
    f.response(200, 140, q2, to_tag="kotimaex", contacts=granted)
    f.response(200, 146, q1, to_tag="kotimaex", contacts=granted)
    f.response(200, 150, q0, to_tag="kotimaex", contacts=granted)
    return f


def test_challenge_round_trip_with_new_call_id_is_one_attempt() -> None:
    c = seed_registration().correlation
    (reg,) = c.registrations
    assert reg.aor == AOR and reg.contact == "sip:[4444::2:3:4:5]"
    assert reg.call_ids == ("apb304a94sslfeiasle93aj11", "apb304a94sslfaser2le93aj22")
    assert reg.challenged and reg.final_status == 200
    assert reg.state is St.REGISTERED and reg.kind is K.INITIAL
    assert ms(reg.delay_ns) == 150  # first REGISTER leaving UE to the 200 arriving at UE
    assert reg.expires == 600000
    assert len(reg.transactions) == 6  # 2 REGISTERs x 3 hops
    assert reg.messages == tuple(range(12))
    assert ms(reg.end_ns - reg.start_ns) == 150
    assert c.calls == ()  # a registration is no call


def test_registration_per_hop_times() -> None:
    c = seed_registration().correlation
    hops = [t for t in c.transactions if t.call_id.endswith("22")]
    assert [ms(t.final_ns - t.start_ns) for t in hops] == [50, 41, 28]


def test_refresh_and_deregistration_are_recognised() -> None:
    f = Flow()
    r = register(f, 0, "z9hG4bK1", "c1", 1, "a")
    f.response(200, 10, r, to_tag="s", contacts=(name_addr("sip:[4444::2:3:4:5]", expires="3600"),))
    r = register(f, 3_000_000, "z9hG4bK2", "c1", 2, "a")
    f.response(200, 3_000_012, r, to_tag="s")
    r = register(f, 4_000_000, "z9hG4bK3", "c1", 3, "a",
                 contacts=(name_addr("sip:[4444::2:3:4:5]", expires="0"),))
    f.response(200, 4_000_009, r, to_tag="s")
    first, refresh, dereg = f.correlation.registrations
    assert (first.kind, refresh.kind, dereg.kind) == (K.INITIAL, K.REFRESH, K.DEREGISTRATION)
    assert first.expires == 3600  # granted by the registrar (10.3 step 8), not asked 600000
    assert refresh.expires == 600000  # the 200 lists no binding: what was asked
    assert dereg.expires == 0 and dereg.state is St.DEREGISTERED
    assert [ms(r.delay_ns) for r in (first, refresh, dereg)] == [10, 12, 9]
    assert not any(r.challenged for r in (first, refresh, dereg))


def test_deregistration_by_expires_header_and_star() -> None:
    f = Flow()
    r = register(f, 0, "z9hG4bK1", "c1", 1, "a", contacts=(name_addr("*"),), expires=0)
    f.response(200, 10, r, to_tag="s")
    (reg,) = f.correlation.registrations
    assert reg.kind is K.DEREGISTRATION and reg.contact == "*"


def test_query_without_contact() -> None:
    f = Flow()
    r = register(f, 0, "z9hG4bK1", "c1", 1, "a", contacts=())
    f.response(200, 10, r, to_tag="s")
    (reg,) = f.correlation.registrations
    assert reg.kind is K.QUERY and reg.contact is None


def test_failed_and_incomplete_registrations() -> None:
    f = Flow()
    r = register(f, 0, "z9hG4bK1", "c1", 1, "a")
    f.response(401, 10, r, to_tag="s")
    r = register(f, 20, "z9hG4bK2", "c1", 2, "a")
    f.response(403, 30, r, to_tag="s")
    r = register(f, 1000, "z9hG4bK3", "c1", 3, "a")
    f.again(r, 1500)
    failed, incomplete = f.correlation.registrations
    assert failed.state is St.FAILED and failed.final_status == 403 and failed.challenged
    assert failed.delay_ns is None  # no 2xx: the delay did not happen
    assert incomplete.state is St.INCOMPLETE and incomplete.final_status is None
    assert incomplete.end_ns is None


def test_different_contacts_are_different_registrations() -> None:
    f = Flow()
    r = register(f, 0, "z9hG4bK1", "c1", 1, "a")
    f.response(401, 10, r, to_tag="s")
    other = (name_addr("sip:tom@10.9.9.9"),)
    r = register(f, 20, "z9hG4bK2", "c2", 1, "b", contacts=other)
    f.response(200, 30, r, to_tag="s")
    a, b = f.correlation.registrations
    assert a.state is St.FAILED and a.final_status == 401
    assert b.contact == "sip:tom@10.9.9.9" and not b.challenged


def test_register_long_after_a_challenge_is_a_new_attempt() -> None:
    # As in sngrep's aaa.pcap: credentials rejected (401 again), the UA tries 74 s later.
    f = Flow()
    r = register(f, 0, "z9hG4bK1", "c1", 1, "a")
    f.response(401, 100, r, to_tag="s")
    r = register(f, 17_000, "z9hG4bK2", "c1", 2, "a")  # a person typed the password: 17 s
    f.response(401, 17_100, r, to_tag="s")
    r = register(f, 91_100, "z9hG4bK3", "c1", 3, "a")  # 74 s after the last challenge
    f.response(401, 91_200, r, to_tag="s")
    r = register(f, 91_300, "z9hG4bK4", "c1", 4, "a")
    f.response(200, 91_400, r, to_tag="s")
    failed, ok = f.correlation.registrations
    assert failed.state is St.FAILED and failed.final_status == 401
    assert len(failed.transactions) == 2 and failed.challenged
    assert ok.state is St.REGISTERED and ms(ok.delay_ns) == 300


def test_interleaved_attempts_of_one_contact_are_kept_apart() -> None:
    # Two attempts overlap (a UA restarted, or a generator reusing a contact): the answer
    # to each challenge keeps its Call-ID; a new Call-ID without credentials starts anew.
    f = Flow()
    a1 = register(f, 0, "z9hG4bKa1", "A", 1, "a")
    f.response(401, 10, a1, to_tag="s")
    b1 = register(f, 12, "z9hG4bKb1", "B", 1, "b")
    f.response(401, 20, b1, to_tag="s")
    a2 = register(f, 25, "z9hG4bKa2", "A", 2, "a", authorization=CREDENTIALS)
    f.response(200, 30, a2, to_tag="s")
    b2 = register(f, 40, "z9hG4bKb2", "B", 2, "b", authorization=CREDENTIALS)
    f.response(200, 52, b2, to_tag="s")
    first, second = f.correlation.registrations
    assert first.call_ids == ("A",) and ms(first.delay_ns) == 30 and first.challenged
    assert second.call_ids == ("B",) and ms(second.delay_ns) == 40 and second.challenged


def test_new_call_id_without_credentials_after_a_challenge_is_a_new_attempt() -> None:
    f = Flow()
    r = register(f, 0, "z9hG4bK1", "A", 1, "a")
    f.response(401, 10, r, to_tag="s")
    r = register(f, 20, "z9hG4bK2", "B", 1, "b", authorization=NO_CREDENTIALS)
    f.response(200, 30, r, to_tag="s")
    failed, ok = f.correlation.registrations
    assert failed.final_status == 401 and not ok.challenged


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("sip:tom@10.0.0.1:5060", "sip:tom@10.0.0.1:5060;line=abc", True),
        ("sip:tom@10.0.0.1;line=abc", "sip:tom@10.0.0.1;transport=udp", True),
        ("SIP:tom@HOST.example;Line=ABC", "sip:tom@host.example;line=abc", True),
        ("sip:tom@10.0.0.1", "sip:tom@10.0.0.1:5060", False),  # absent port is not 5060
        ("sip:tom@10.0.0.1:5060", "sip:tom@10.0.0.1:5070", False),
        ("sip:Tom@10.0.0.1", "sip:tom@10.0.0.1", False),  # userinfo is case-sensitive
        ("sip:tom@10.0.0.1", "sips:tom@10.0.0.1", False),
        ("sip:tom@10.0.0.1;line=a", "sip:tom@10.0.0.1;line=b", False),  # in both: must match
        ("sip:tom@10.0.0.1", "sip:tom@10.0.0.1;maddr=239.1.1.1", False),
        ("sip:tom@10.0.0.1", "sip:tom@10.0.0.1;user=phone", False),
        ("sip:[4444::2:3:4:5]", "sip:[4444::2:3:4:5];ob", True),
        ("tel:+4512345678", "tel:+4512345678", True),
        ("*", "sip:tom@10.0.0.1", False),
    ],
    ids=[
        "gained-param", "different-params-each", "case-insensitive-host-and-params",
        "absent-port-vs-5060", "port", "user-case", "scheme", "param-value", "maddr-only-one",
        "user-param-only-one", "ipv6-gained-flag", "tel-as-written", "star",
    ],
)
def test_same_binding(a: str, b: str, same: bool) -> None:
    assert same_binding(a, b) is same
    assert same_binding(b, a) is same


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ([], [], True),
        ([], ["sip:tom@10.0.0.1"], False),
        (["sip:tom@10.0.0.1"], ["sip:tom@10.0.0.1"], True),
        (["sip:tom@10.0.0.1;line=a"], ["sip:tom@10.0.0.1"], True),
        (["sip:tom@10.0.0.1", "sip:tom@10.0.0.2"], ["sip:tom@10.0.0.2", "sip:tom@10.0.0.1"], True),
        (["sip:tom@10.0.0.1", "sip:tom@10.0.0.2"], ["sip:tom@10.0.0.1"], False),
        # Same hosts on both sides, but ;line=b has no binding in the other list.
        (["sip:tom@10.0.0.1;line=a"], ["sip:tom@10.0.0.1;line=a", "sip:tom@10.0.0.1;line=b"],
         False),
        (["sip:tom@10.0.0.1;line=a", "sip:tom@10.0.0.1"], ["sip:tom@10.0.0.1;line=b"], False),
        (["tel:+4512345678"], ["tel:+4512345678"], True),
        (["*"], ["sip:tom@10.0.0.1"], False),
    ],
    ids=[
        "both-empty", "one-empty", "equal", "gained-param", "order-free", "one-more",
        "param-value-without-match", "one-of-each-side-unmatched", "tel", "star",
    ],
)
def test_same_contacts(a: list[str], b: list[str], same: bool) -> None:
    assert same_contacts(a, b) is same
    assert same_contacts(b, a) is same
    assert same_contacts(tuple(a), b) is same  # a tuple and a list of the same URIs


def test_challenge_retry_whose_contact_gained_a_parameter_is_the_same_attempt() -> None:
    f = Flow()
    r = register(f, 0, "z9hG4bK1", "c1", 1, "a", contacts=(name_addr("sip:tom@10.0.0.1:5060"),))
    f.response(401, 10, r, to_tag="s")
    line = (name_addr("sip:tom@10.0.0.1:5060;line=abc"),)
    r = register(f, 20, "z9hG4bK2", "c1", 2, "a", contacts=line)
    f.response(200, 30, r, to_tag="s", contacts=(name_addr(line[0].uri, expires="300"),))
    (reg,) = f.correlation.registrations
    assert reg.state is St.REGISTERED and reg.challenged and ms(reg.delay_ns) == 30
    assert reg.contact == "sip:tom@10.0.0.1:5060;line=abc"  # the last REGISTER's
    assert reg.expires == 300
    # A refresh that drops the parameter again refreshes the same binding.
    r = register(f, 1000, "z9hG4bK3", "c1", 3, "a", contacts=(name_addr("sip:tom@10.0.0.1:5060"),))
    f.response(200, 1010, r, to_tag="s")
    first, refresh = f.correlation.registrations
    assert refresh.kind is K.REFRESH and not refresh.challenged


@pytest.mark.parametrize(
    "retry_contact",
    ["sip:tom@10.0.0.1:5070", "sip:tom@10.0.0.1", "sip:tom@10.0.0.1:5060;maddr=10.0.0.9"],
    ids=["other-port", "port-dropped", "maddr-added"],
)
def test_challenge_retry_with_another_binding_is_a_new_attempt(retry_contact: str) -> None:
    f = Flow()
    r = register(f, 0, "z9hG4bK1", "c1", 1, "a", contacts=(name_addr("sip:tom@10.0.0.1:5060"),))
    f.response(401, 10, r, to_tag="s")
    r = register(f, 20, "z9hG4bK2", "c1", 2, "a", contacts=(name_addr(retry_contact),))
    f.response(200, 30, r, to_tag="s")
    failed, ok = f.correlation.registrations
    assert failed.state is St.FAILED and failed.final_status == 401
    assert ok.state is St.REGISTERED and ok.contact == retry_contact and not ok.challenged


AAA = Path(__file__).resolve().parents[1] / "data" / "sngrep" / "aaa.pcap"


def test_aaa_deregistration_retry_with_line_parameter_is_one_attempt() -> None:
    # tshark -r aaa.pcap -Y 'frame.number>=415 && frame.number<=440 && sip' -T fields
    #   -e frame.number -e sip.Method -e sip.Status-Code -e sip.contact.uri -e sip.CSeq:
    # 421 REGISTER  sip:voi18062@192.168.1.2:5060                       76 REGISTER
    # 422 401                                                          76 REGISTER
    # 430 REGISTER  sip:voi18062@192.168.1.2:5060;line=aca6b97ca3f5e51a 77 REGISTER
    # 432 401                                                          77 REGISTER
    # (one Call-ID, 430 sent 17.4 s after the 401; both REGISTERs ask for expires 0).
    frames = " || ".join(f"frame.number == {n}" for n in (421, 422, 430, 432))
    out = subprocess.run(
        ["tshark", "-r", str(AAA), "-Y", frames,
         "-T", "fields", "-e", "frame.number", "-e", "sip.contact.uri", "-e", "sip.Status-Code"],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")
    assert [line.split("\t") for line in out if line] == [
        ["421", "sip:voi18062@192.168.1.2:5060", ""],
        ["422", "", "401"],
        ["430", "sip:voi18062@192.168.1.2:5060;line=aca6b97ca3f5e51a", ""],
        ["432", "", "401"],
    ]
    capture = sipladder.load(str(AAA))
    frame = {m.index: m.frame for m in capture.records}
    (dereg,) = [
        r for r in capture.correlation.registrations if r.kind is K.DEREGISTRATION
    ]
    assert [frame[i] for i in dereg.messages] == [421, 422, 430, 432]
    assert dereg.state is St.FAILED and dereg.final_status == 401 and dereg.challenged
    assert dereg.contact == "sip:voi18062@192.168.1.2:5060;line=aca6b97ca3f5e51a"
