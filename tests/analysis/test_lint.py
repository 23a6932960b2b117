"""lint: message findings from the parser's anomalies, transaction and dialog checks from the
correlation, and the CLI contract (formats, exit status). Messages are written as SIP text,
parsed, and correlated; nothing is compared with output pasted from the code under test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sipladder.analysis.lint import CAPTURE_CODES, CHECKS, Finding, Scope, known_codes, lint
from sipladder.capture import Capture
from sipladder.cli import cli
from sipladder.correlate import correlate
from sipladder.model import Diagnostic, Endpoint, Message, Severity, Transport
from sipladder.sip.parser import parse_message

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "seed-listings.pcap"
IMS = ROOT / "samples" / "ims-tom-jerry.pcapng"

A, B, P = "10.0.0.1:5060", "10.0.0.2:5060", "10.0.0.9:5060"
T0 = 1_700_000_000_000_000_000


def ep(text: str) -> Endpoint:
    host, port = text.split(":")
    return Endpoint.of(host, int(port))


class Flow:
    """SIP text in, Message records out, one frame each, 10 ms apart."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def send(self, src: str, dst: str, text: str) -> Message:
        raw = text.strip("\n").replace("\n", "\r\n").encode() + b"\r\n\r\n"
        if b"Content-Length" not in raw:
            raw = raw[:-2] + b"Content-Length: 0\r\n\r\n"
        n = len(self.messages)
        message = Message(
            n, "t.pcap", n + 1, T0 + n * 10_000_000, ep(src), ep(dst), Transport.UDP,
            parse_message(raw),
        )  # fmt: skip
        self.messages.append(message)
        return message

    def findings(self) -> list[Finding]:
        return lint(self.messages, correlate(self.messages))

    def codes(self) -> list[tuple[int | None, str]]:
        return [(f.frame, f.code) for f in self.findings()]


def headers(
    method: str, cseq: int, *, branch: str = "z9hG4bK1", to_tag: str | None = None,
    from_tag: str = "ft", call_id: str = "c1", vias: str = "SIP/2.0/UDP 10.0.0.1:5060",
    extra: str = "",
) -> str:  # fmt: skip
    to = "<sip:b@x>" + (f";tag={to_tag}" if to_tag else "")
    via_lines = "\n".join(
        f"Via: {v};branch={branch if i == 0 else 'z9hG4bKlower' + str(i)}"
        for i, v in enumerate(vias.split(","))
    )
    return (
        f"{via_lines}\nFrom: <sip:a@x>;tag={from_tag}\nTo: {to}\nCall-ID: {call_id}\n"
        f"CSeq: {cseq} {method}\nMax-Forwards: 70\n{extra}"
    ).rstrip("\n")


def request(method: str, cseq: int, **kw: str) -> str:
    return f"{method} sip:b@10.0.0.2 SIP/2.0\n" + headers(method, cseq, **kw)


def response(status: int, method: str, cseq: int, **kw: str) -> str:
    lines = headers(method, cseq, **kw).split("\n")
    return f"SIP/2.0 {status} Reason\n" + "\n".join(
        line for line in lines if not line.startswith("Max-Forwards")
    )


def clean_call(flow: Flow) -> None:
    flow.send(A, B, request("INVITE", 1))
    flow.send(B, A, response(100, "INVITE", 1))
    flow.send(B, A, response(180, "INVITE", 1, to_tag="tt"))
    flow.send(B, A, response(200, "INVITE", 1, to_tag="tt"))
    flow.send(A, B, request("ACK", 1, branch="z9hG4bK2", to_tag="tt"))
    flow.send(A, B, request("BYE", 2, branch="z9hG4bK3", to_tag="tt"))
    flow.send(B, A, response(200, "BYE", 2, branch="z9hG4bK3", to_tag="tt"))


# --------------------------------------------------------------------------- clean input


def test_clean_call_has_no_finding() -> None:
    flow = Flow()
    clean_call(flow)
    assert flow.findings() == []


def test_ims_sample_is_clean() -> None:
    # samples/ims-tom-jerry.pcapng is built to be RFC 3261-correct, across 7 hops
    assert Capture(str(IMS)).lint() == []


CORRECT_SAMPLES = sorted(
    p.name for p in (ROOT / "samples").glob("*.pcap*") if p.name != "seed-listings.pcap"
)


@pytest.mark.parametrize("name", CORRECT_SAMPLES)
def test_constructed_samples_are_clean(name: str) -> None:
    # built RFC 3261-correct by samples/make_samples.py (re-INVITE, UPDATE, hold, CANCEL,
    # 302, 181, PRACK...): any finding here is a false positive of lint
    assert Capture(str(ROOT / "samples" / name)).lint() == []


def test_sipp_lossy_bye_resent_after_the_dialog_ended() -> None:
    # tests/data/sipp/lossy.pcap: SIPp's BYE of call 6 is retransmitted (frames 36-49,
    # branch z9hG4bK-21236-6-7) and answered 200 (frame 42); 32 s later SIPp sends it
    # once more as a new transaction (frame 50, branch z9hG4bK-21236-6--1) with the same
    # CSeq 2: a request in a dialog the BYE ended, and a CSeq that did not increase.
    found = Capture(str(ROOT / "tests" / "data" / "sipp" / "lossy.pcap")).lint()
    assert [(f.frame, f.code) for f in found] == [
        (50, "request-after-dialog-end"), (50, "cseq-not-increasing")
    ]  # fmt: skip


# --------------------------------------------------------------------------- the seed article


#: Each defect of the article's listings (samples/seed/listing-N.sip, frame N), by reading
#: the listings: what is printed wrong in each, and where.
SEED_DEFECTS = [
    (1, "version-invalid", "SIP2.0"),
    (2, "version-invalid", "SIP2.0"),
    (1, "header-missing", "Max-Forwards"),
    (1, "via-branch-no-cookie", "xo93sle"),
    (1, "request-uri-invalid", "sip: telcomx"),
    (3, "response-via-mismatch", "frame 2"),
    (4, "method-misspelled", "did you mean INVITE"),
    (4, "version-missing", "SIP/2.0"),
    (4, "cseq-method-mismatch", "INIVTE"),
    (4, "content-length-mismatch", "183"),
    (4, "via-branch-no-cookie", "8ulse1"),
    (5, "header-duplicated-name", "Route-Route"),
    (5, "cseq-method-is-status", "2 183"),
    (5, "content-length-mismatch", "165"),
    (5, "response-via-mismatch", "frame 4"),
    (5, "response-from-mismatch", "6e87wa9"),
    (5, "response-cseq-mismatch", "1 INVITE"),
    (6, "header-missing", "Via"),
    (6, "from-tag-missing", "BYE"),
]


@pytest.fixture(scope="module")
def seed_findings() -> list[Finding]:
    return Capture(str(SEED)).lint()


@pytest.mark.parametrize(
    ("frame", "code", "text"), SEED_DEFECTS, ids=[f"{f}-{c}" for f, c, _ in SEED_DEFECTS]
)
def test_seed_listing_defect_found(
    seed_findings: list[Finding], frame: int, code: str, text: str
) -> None:
    hits = [f for f in seed_findings if f.frame == frame and f.code == code]
    assert hits, f"frame {frame}: {code} not found"
    assert any(text in f.message for f in hits)
    assert all(f.file.endswith("seed-listings.pcap") for f in hits)


# --------------------------------------------------------------------------- message level


def test_parser_anomalies_are_taken_not_redetected() -> None:
    flow = Flow()
    flow.send(A, B, "INIVTE sip:b@x SIP/2.0\n" + headers("INVITE", 1))
    found = flow.findings()
    # the parser's sentence, severity and code, once
    anomalies = flow.messages[0].sip.anomalies
    for anomaly in anomalies:
        assert [(f.severity, f.message) for f in found if f.code == anomaly.code] == [
            (anomaly.severity, anomaly.message)
        ]
    assert all(f.scope is Scope.MESSAGE for f in found if f.code in {a.code for a in anomalies})


def test_branch_without_magic_cookie() -> None:
    flow = Flow()
    flow.send(A, B, request("OPTIONS", 1, branch="abc123"))
    assert (1, "via-branch-no-cookie") in flow.codes()


def test_2xx_without_to_tag() -> None:
    flow = Flow()
    flow.send(A, B, request("OPTIONS", 1))
    flow.send(B, A, response(200, "OPTIONS", 1))
    found = [f for f in flow.findings() if f.code == "to-tag-missing-2xx"]
    assert [f.frame for f in found] == [2] and found[0].severity is Severity.ERROR


def test_1xx_without_to_tag_is_fine() -> None:
    flow = Flow()
    flow.send(A, B, request("INVITE", 1))
    flow.send(B, A, response(180, "INVITE", 1))
    assert flow.codes() == []


def test_missing_from_tag() -> None:
    flow = Flow()
    flow.send(A, B, request("OPTIONS", 1).replace(";tag=ft", ""))
    assert (1, "from-tag-missing") in flow.codes()


def test_retransmission_reports_once() -> None:
    flow = Flow()
    text = request("OPTIONS", 1, branch="nocookie")
    flow.send(A, B, text)
    flow.send(A, B, text)
    assert flow.codes() == [(1, "via-branch-no-cookie")]


# --------------------------------------------------------------------------- transactions


def test_response_via_does_not_match_request() -> None:
    flow = Flow()
    flow.send(A, B, request("OPTIONS", 1))
    # the proxy's own Via was left on top of the response
    text = response(200, "OPTIONS", 1, to_tag="t")
    flow.send(B, A, text.replace("Via:", "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKp\nVia:", 1))
    found = [f for f in flow.findings() if f.frame == 2]
    assert [f.code for f in found] == ["response-via-mismatch"]
    assert "frame 1" in found[0].message and found[0].scope is Scope.TRANSACTION


def test_response_copies_from_call_id_and_cseq() -> None:
    flow = Flow()
    flow.send(A, B, request("OPTIONS", 7))
    flow.send(B, A, response(200, "OPTIONS", 7, to_tag="t", from_tag="other", call_id="c2"))
    codes = [c for frame, c in flow.codes() if frame == 2]
    assert codes == ["response-from-mismatch", "response-call-id-mismatch"]


def test_response_without_request_is_info() -> None:
    flow = Flow()
    flow.send(B, A, response(200, "OPTIONS", 1, to_tag="t"))
    found = flow.findings()
    assert [(f.code, f.severity) for f in found] == [("response-no-request", Severity.INFO)]


def test_ack_without_invite() -> None:
    flow = Flow()
    flow.send(A, B, request("ACK", 1, to_tag="tt"))
    assert flow.codes() == [(1, "ack-unmatched")]


def test_ack_with_wrong_cseq() -> None:
    flow = Flow()
    flow.send(A, B, request("INVITE", 1))
    flow.send(B, A, response(200, "INVITE", 1, to_tag="tt"))
    flow.send(A, B, request("ACK", 5, branch="z9hG4bK2", to_tag="tt"))
    assert flow.codes() == [(3, "ack-unmatched")]


def test_ack_for_non_2xx_in_invite_transaction_is_fine() -> None:
    flow = Flow()
    flow.send(A, B, request("INVITE", 1))
    flow.send(B, A, response(486, "INVITE", 1, to_tag="tt"))
    flow.send(A, B, request("ACK", 1, to_tag="tt"))
    assert flow.codes() == []


def test_cancel_with_other_branch() -> None:
    flow = Flow()
    flow.send(A, B, request("INVITE", 1))
    flow.send(A, B, request("CANCEL", 1, branch="z9hG4bKother"))
    assert flow.codes() == [(2, "cancel-unmatched")]


def reliable(status: int, rseq: int, cseq: int = 1) -> str:
    return response(status, "INVITE", cseq, to_tag="tt", extra=f"RSeq: {rseq}\nRequire: 100rel")


def test_prack_flow_is_fine() -> None:
    flow = Flow()
    flow.send(A, B, request("INVITE", 1))
    flow.send(B, A, reliable(183, 1))
    flow.send(A, B, request("PRACK", 2, branch="z9hG4bKp", to_tag="tt", extra="RAck: 1 1 INVITE"))
    flow.send(B, A, reliable(180, 2))
    assert flow.codes() == []


@pytest.mark.parametrize(
    ("rack", "code"),
    [
        ("RAck: 2 1 INVITE", "rack-mismatch"),  # wrong RSeq
        ("RAck: 1 2 INVITE", "rack-mismatch"),  # wrong CSeq (as in sngrep/ipv6frag.pcap)
        ("RAck: one", "rack-invalid"),
        ("", "rack-missing"),
    ],
    ids=["rseq", "cseq", "invalid", "missing"],
)
def test_rack_problems(rack: str, code: str) -> None:
    flow = Flow()
    flow.send(A, B, request("INVITE", 1))
    flow.send(B, A, reliable(183, 1))
    flow.send(A, B, request("PRACK", 2, branch="z9hG4bKp", to_tag="tt", extra=rack))
    assert flow.codes() == [(3, code)]


def test_prack_without_reliable_provisional() -> None:
    flow = Flow()
    flow.send(A, B, request("INVITE", 1))
    flow.send(B, A, response(183, "INVITE", 1, to_tag="tt"))
    flow.send(A, B, request("PRACK", 2, branch="z9hG4bKp", to_tag="tt", extra="RAck: 1 1 INVITE"))
    assert flow.codes() == [(3, "prack-unmatched")]


def test_rseq_must_grow_by_one() -> None:
    flow = Flow()
    flow.send(A, B, request("INVITE", 1))
    flow.send(B, A, reliable(183, 5))
    flow.send(B, A, reliable(180, 7))
    found = flow.findings()
    assert [(f.frame, f.code) for f in found] == [(3, "rseq-not-incremented")]
    assert "frame 2" in found[0].message


def test_rseq_invalid() -> None:
    flow = Flow()
    flow.send(A, B, request("INVITE", 1))
    flow.send(B, A, reliable(183, 0))
    assert flow.codes() == [(2, "rseq-invalid")]


# --------------------------------------------------------------------------- dialogs


def test_request_after_bye() -> None:
    flow = Flow()
    clean_call(flow)
    flow.send(A, B, request("INFO", 3, branch="z9hG4bK4", to_tag="tt"))
    found = flow.findings()
    assert [(f.frame, f.code) for f in found] == [(8, "request-after-dialog-end")]
    assert "BYE in frame 6" in found[0].message and found[0].scope is Scope.DIALOG


def test_bye_retransmission_and_its_hops_are_not_after_the_end() -> None:
    flow = Flow()
    clean_call(flow)
    flow.send(A, B, request("BYE", 2, branch="z9hG4bK3", to_tag="tt"))  # retransmission
    assert flow.findings() == []


def test_cseq_must_increase_in_a_dialog() -> None:
    flow = Flow()
    clean_call(flow)  # INVITE 1, ACK 1, BYE 2: fine
    found = Flow()
    found.send(A, B, request("INVITE", 5))
    found.send(B, A, response(200, "INVITE", 5, to_tag="tt"))
    found.send(A, B, request("ACK", 5, branch="z9hG4bK2", to_tag="tt"))
    found.send(A, B, request("INFO", 5, branch="z9hG4bK4", to_tag="tt"))
    # the other side counts on its own: its first CSeq may be anything
    found.send(B, A, request("INFO", 1, branch="z9hG4bK5", to_tag="ft", from_tag="tt"))
    links = correlate(found.messages).links
    assert links[4].dialog == links[3].dialog is not None  # the same dialog, other side
    codes = found.codes()
    assert codes == [(4, "cseq-not-increasing")], codes
    assert "CSeq 5 of the INVITE" in found.findings()[0].message
    assert flow.codes() == []


# --------------------------------------------------------------------------- capture level


def test_diagnostics_become_capture_findings_first() -> None:
    flow = Flow()
    flow.send(A, B, request("OPTIONS", 1, branch="x"))
    diag = Diagnostic("t.pcap", 3, "malformed-packet", "IPv4 header cut", Severity.ERROR)
    found = lint(flow.messages, correlate(flow.messages), [diag])
    assert [(f.scope, f.code, f.frame) for f in found] == [
        (Scope.CAPTURE, "malformed-packet", 3), (Scope.MESSAGE, "via-branch-no-cookie", 1)
    ]  # fmt: skip


def test_every_check_has_a_sentence_with_rfc_or_expectation() -> None:
    for code, (_, _, sentence) in CHECKS.items():
        assert code == code.lower() and " " not in code
        assert "RFC" in sentence or "expected" in sentence, code


# --------------------------------------------------------------------------- CLI


def test_cli_exit_1_with_findings_and_table_lines() -> None:
    result = CliRunner().invoke(cli, ["lint", str(SEED)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(":4: warning method-misspelled:" in line for line in lines)
    assert "errors" in lines[-1] and "6 SIP messages" in lines[-1]


def test_cli_exit_0_when_clean() -> None:
    result = CliRunner().invoke(cli, ["lint", str(IMS)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("0 findings")


def test_cli_json_and_filters() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["lint", str(SEED), "--format", "json", "--severity", "error"])
    assert result.exit_code == 1
    rows = json.loads(result.output)
    assert rows and {r["severity"] for r in rows} == {"error"}
    assert set(rows[0]) == {
        "file", "frame", "ts", "severity", "code", "scope", "call_id", "transaction", "message"
    }  # fmt: skip
    codes = {r["code"] for r in rows}
    ignored = runner.invoke(
        cli, ["lint", str(SEED), "--format", "json", "--severity", "error"]
        + [a for c in codes for a in ("--ignore", c)],
    )  # fmt: skip
    assert ignored.exit_code == 0 and json.loads(ignored.output) == []


def test_cli_csv() -> None:
    result = CliRunner().invoke(cli, ["lint", str(SEED), "--format", "csv"])
    lines = result.output.splitlines()
    assert lines[0] == "file,frame,ts,severity,code,scope,call_id,transaction,message"
    assert result.exit_code == 1 and len(lines) > 10


def test_every_check_code_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### `sipladder lint", 1)[1].split("\n## ", 1)[0]
    for code in [*CHECKS, "via-branch-no-cookie"]:
        assert f"| `{code}` |" in section, code


def test_capture_codes_are_the_readme_diagnostics_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("**Capture diagnostics.**", 1)[1].split("\n### ", 1)[0]
    documented = [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")]
    assert sorted(documented) == sorted(CAPTURE_CODES)


def test_known_codes_are_checks_anomalies_and_diagnostics() -> None:
    from sipladder.sip.anomalies import ANOMALIES

    codes = set(known_codes())
    assert set(CHECKS) | set(ANOMALIES) | set(CAPTURE_CODES) == codes
    assert {"rack-mismatch", "via-branch-no-cookie", "tcp-gap"} <= codes


@pytest.mark.parametrize(
    ("code", "warning"),
    [
        ("via-brnch-no-cookie", "--ignore via-brnch-no-cookie is not a known code: "
         "did you mean via-branch-no-cookie?"),
        ("tcp-gapp", "--ignore tcp-gapp is not a known code: did you mean tcp-gap?"),
        ("NOSUCHCODE", "--ignore NOSUCHCODE is not a known code"),
    ],
    ids=["check-typo", "diagnostic-typo", "no-suggestion"],
)
def test_cli_unknown_ignore_code_warns_once_and_runs_on(code: str, warning: str) -> None:
    result = CliRunner().invoke(cli, ["lint", str(IMS), "--ignore", code, "--ignore", code])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"sipladder: {warning}\n"
    assert result.stdout.startswith("0 findings")


def test_cli_known_ignore_codes_do_not_warn() -> None:
    args = ["lint", str(SEED)]
    for code in ("method-misspelled", "response-cseq-mismatch", "capture-truncated"):
        args += ["--ignore", code]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and result.stderr == ""
    for code in ("method-misspelled", "response-cseq-mismatch"):
        assert code not in result.stdout
