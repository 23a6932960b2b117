"""RFC 3261 conformance findings (``sipladder lint``): one record per thing that is wrong.

Three sources, one list:

* capture level: the pipeline's :class:`~sipladder.model.Diagnostic` records (a damaged
  file, a frame that could not be decoded, a limit that was hit);
* message level: the parser's anomalies (:mod:`sipladder.sip.anomalies`), taken as they
  are (never detected a second time), plus the few message rules the parser leaves to
  lint (magic cookie, tags);
* transaction and dialog level: checks that need the correlation
  (:mod:`sipladder.correlate`): a response whose Via or From does not match its request,
  an ACK, PRACK or CANCEL that fits no transaction, RSeq/RAck sequences (RFC 3262), a
  request sent after its dialog ended.

Codes are stable (README, section "lint"); every sentence says what is wrong and what
was expected. Pure: records in, findings out, in capture order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sipladder.correlate import Correlation
from sipladder.correlate.transactions import MAGIC_COOKIE, via_identity
from sipladder.model import Diagnostic, DialogState, Message, Severity, SipMessage
from sipladder.sip.anomalies import anomaly

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO


class Scope(StrEnum):
    CAPTURE = "capture"  #: the file or one frame of it (from the pipeline's diagnostics)
    MESSAGE = "message"  #: one SIP message on its own
    TRANSACTION = "transaction"  #: a message compared with its request or responses
    DIALOG = "dialog"  #: a message compared with its dialog


#: The checks lint adds to the parser's anomalies: code -> (severity, scope, sentence).
#: Message-level codes that the parser's table already defines (``via-branch-no-cookie``)
#: are taken from there.
CHECKS: dict[str, tuple[Severity, Scope, str]] = {
    # RFC 3261 section 8.1.1.3: the From field MUST contain a new tag chosen by the UAC.
    "from-tag-missing": (
        W,
        Scope.MESSAGE,
        "The {method} request has no From tag: RFC 3261 section 8.1.1.3 requires one.",
    ),
    # RFC 3261 section 8.2.6.2: the UAS MUST add a To tag (12.1.1: it identifies the dialog).
    "to-tag-missing-2xx": (
        E,
        Scope.MESSAGE,
        "The {status} response to {method} has no To tag: a 2xx must carry one"
        " (RFC 3261 sections 8.2.6.2 and 12.1.1).",
    ),
    # RFC 3261 section 8.2.6.2: Via, From, Call-ID, CSeq of a response copy the request's.
    "response-via-mismatch": (
        E,
        Scope.TRANSACTION,
        "The response's Via stack {got} differs from {expected}, the stack of its"
        " request{where}: a response carries the request's Via headers, in order, on each hop"
        " (RFC 3261 sections 8.2.6.2 and 16.7 step 3).",
    ),
    "response-from-mismatch": (
        E,
        Scope.TRANSACTION,
        "The response's From tag {got!r} differs from its request's {expected!r}"
        "{where}: a response copies From (RFC 3261 section 8.2.6.2).",
    ),
    "response-call-id-mismatch": (
        E,
        Scope.TRANSACTION,
        "The response's Call-ID {got!r} differs from its request's {expected!r}{where}:"
        " a response copies Call-ID (RFC 3261 section 8.2.6.2).",
    ),
    "response-cseq-mismatch": (
        E,
        Scope.TRANSACTION,
        "The response's CSeq {got!r} differs from its request's {expected!r}{where}:"
        " a response copies CSeq (RFC 3261 section 8.2.6.2).",
    ),
    "response-no-request": (
        N,
        Scope.TRANSACTION,
        "No request in the capture matches this {status} response (top Via branch"
        " {branch!r}, CSeq {cseq!r}): expected its request before it (or the capture"
        " began after it was sent).",
    ),
    # RFC 3261 sections 17.1.1.3 and 13.2.2.4: an ACK acknowledges a final response.
    "ack-unmatched": (
        W,
        Scope.TRANSACTION,
        "This ACK (CSeq {cseq}) fits no INVITE transaction: expected an INVITE with the"
        " same Call-ID and CSeq number answered by a final response before it"
        " (RFC 3261 sections 13.2.2.4 and 17.1.1.3).",
    ),
    # RFC 3261 section 9.1: a CANCEL has the branch of the INVITE it cancels.
    "cancel-unmatched": (
        W,
        Scope.TRANSACTION,
        "This CANCEL fits no INVITE transaction: expected an INVITE with the same top"
        " Via branch and sent-by before it (RFC 3261 section 9.1).",
    ),
    # RFC 3262 section 7.2: RAck = response-num CSeq-num Method.
    "rack-missing": (
        E,
        Scope.TRANSACTION,
        "The PRACK has no RAck header: expected 'RAck: RSeq CSeq-number method'"
        " (RFC 3262 section 7.2).",
    ),
    "rack-invalid": (
        E,
        Scope.TRANSACTION,
        "RAck {value!r} is not 'RSeq CSeq-number method' (RFC 3262 section 7.2).",
    ),
    "prack-unmatched": (
        W,
        Scope.TRANSACTION,
        "This PRACK (RAck {value!r}) fits no reliable provisional response: expected a"
        " 101-199 response with an RSeq header for Call-ID and CSeq {cseq!r} before it"
        " (RFC 3262 section 4).",
    ),
    "rack-mismatch": (
        E,
        Scope.TRANSACTION,
        "RAck {value!r} matches no reliable provisional response: {seen}; the RAck must"
        " repeat the RSeq and CSeq of the response it acknowledges (RFC 3262 section 7.2).",
    ),
    "rseq-invalid": (
        E,
        Scope.MESSAGE,
        "RSeq {value!r} is not a number from 1 to 2**32-1 (RFC 3262 section 7.1).",
    ),
    "rseq-not-incremented": (
        W,
        Scope.TRANSACTION,
        "RSeq {got} follows RSeq {previous}{where} in the same transaction: each new"
        " reliable provisional response must carry the previous RSeq plus one"
        " (RFC 3262 section 3).",
    ),
    # RFC 3261 section 12.2.1.1: each new request in a dialog has a higher CSeq.
    "cseq-not-increasing": (
        W,
        Scope.DIALOG,
        "{method} has CSeq {got}, not above the CSeq {previous} of the {previous_method}"
        " the same side sent earlier in this dialog{where}: each new request within a"
        " dialog must increase the CSeq (RFC 3261 section 12.2.1.1).",
    ),
    # RFC 3261 section 15: after the BYE the dialog is gone; section 12.2.1.2 for 481/408.
    "request-after-dialog-end": (
        W,
        Scope.DIALOG,
        "{method} sent in a dialog that ended {ago} earlier{where}: no request is"
        " expected in a dialog after it terminated (RFC 3261 sections 12.3 and 15).",
    ),
}

#: The capture-level codes (:class:`~sipladder.model.Diagnostic`) the readers, decoders
#: and engines report, as README's "Capture diagnostics" table lists them (a test keeps
#: the two equal). Together with CHECKS and the parser's anomaly codes: every code lint
#: can report, so ``--ignore`` can tell a typo (:func:`known_codes`).
CAPTURE_CODES: tuple[str, ...] = (
    "capture-truncated", "capture-corrupt", "capture-unreadable", "bad-packet-block",
    "timestamps-backwards", "unknown-linktype", "malformed-packet", "frame-cut",
    "fragments-incomplete", "fragments-expired", "fragments-evicted", "fragments-too-large",
    "fragments-overlap", "frame-empty", "snaplen-exceeded", "sip-truncated", "sip-too-long",
    "sip-unparsable", "tcp-gap", "tcp-incomplete-message", "tcp-too-many-streams",
    "tcp-memory-limit", "tcp-truncated", "tls-unreadable", "sctp-truncated",
    "sctp-incomplete-message", "tshark-unreadable",
)  # fmt: skip


def known_codes() -> tuple[str, ...]:
    """Every code a finding can have: capture diagnostics, parser anomalies, lint checks."""
    from sipladder.sip.anomalies import ANOMALIES

    return tuple(dict.fromkeys([*CAPTURE_CODES, *ANOMALIES, *CHECKS]))


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that is wrong: where, how bad, and a sentence saying what and why."""

    file: str
    frame: int | None  #: None for file-level problems
    code: str  #: stable kebab-case code (an anomaly code, a diagnostic code or a CHECKS code)
    severity: Severity
    scope: Scope
    message: str
    ts_ns: int | None = None
    call_id: str | None = None
    transaction: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.frame}" if self.frame is not None else self.file
        return f"{where}: {self.severity.value} {self.code}: {self.message}"


_SEVERITY_RANK = {N: 0, W: 1, E: 2}


def at_least(severity: Severity, minimum: Severity) -> bool:
    return _SEVERITY_RANK[severity] >= _SEVERITY_RANK[minimum]


def _check(code: str, message: Message, tx: int | None = None, **fields: object) -> Finding:
    severity, scope, template = CHECKS[code]
    try:
        text = template.format(**fields)
    except (KeyError, IndexError, ValueError):  # a template bug must not stop lint
        text = template
    return Finding(
        message.file, message.frame, code, severity, scope, text, message.ts_ns,
        message.sip.call_id, tx,
    )  # fmt: skip


def _has(sip: SipMessage, code: str) -> bool:
    return any(a.code == code for a in sip.anomalies)


def _where(message: Message) -> str:
    return f" (frame {message.frame})"


def _via_text(sip: SipMessage) -> str:
    stack = via_identity(sip)
    if not stack:
        return "(none)"
    return "[" + ", ".join(f"{sent_by};branch={branch}" for sent_by, branch in stack) + "]"


# --------------------------------------------------------------------------- the whole run


def lint(
    messages: Sequence[Message],
    correlation: Correlation,
    diagnostics: Iterable[Diagnostic] = (),
) -> list[Finding]:
    """Every finding: capture diagnostics first (in the order reported), then message,
    transaction and dialog findings in message order."""
    findings = [
        Finding(d.file, d.frame, d.code, d.severity, Scope.CAPTURE, d.message)
        for d in diagnostics
    ]
    per_message: dict[int, list[Finding]] = {}

    def add(found: Iterable[tuple[int, Finding]]) -> None:
        for index, finding in found:
            per_message.setdefault(index, []).append(finding)

    add(_message_findings(messages, correlation))
    add(_response_findings(messages, correlation))
    add(_ack_cancel_findings(messages, correlation))
    add(_prack_findings(messages, correlation))
    add(_dialog_findings(messages, correlation))
    add(_cseq_findings(messages, correlation))
    for index in sorted(per_message):
        findings.extend(per_message[index])
    return findings


# --------------------------------------------------------------------------- message level


def _message_findings(
    messages: Sequence[Message], correlation: Correlation
) -> Iterator[tuple[int, Finding]]:
    links = correlation.links
    for message in messages:
        sip = message.sip
        if links[message.index].retransmission:
            continue  # a copy repeats the findings of the first; report each once
        tx = links[message.index].transaction
        for found in sip.anomalies:
            yield message.index, Finding(
                message.file, message.frame, found.code, found.severity, Scope.MESSAGE,
                found.message, message.ts_ns, sip.call_id, tx,
            )  # fmt: skip
        # RFC 3261 section 8.1.1.7: the branch MUST start with the magic cookie.
        branch = sip.branch
        if (
            sip.is_request
            and branch is not None
            and not branch.startswith(MAGIC_COOKIE)
            and not _has(sip, "via-branch-no-cookie")
        ):
            found = anomaly("via-branch-no-cookie", branch=branch)
            yield message.index, Finding(
                message.file, message.frame, found.code, found.severity, Scope.MESSAGE,
                found.message, message.ts_ns, sip.call_id, tx,
            )  # fmt: skip
        if sip.is_request:
            if sip.from_ is not None and sip.from_tag is None:
                yield message.index, _check("from-tag-missing", message, tx, method=sip.method)
        elif sip.status is not None and 200 <= sip.status < 300 and sip.to is not None:
            if sip.to_tag is None:
                found_check = _check(
                    "to-tag-missing-2xx", message, tx, status=sip.status, method=sip.cseq_method
                )
                yield message.index, found_check
        # RSeq belongs in reliable provisional responses (RFC 3262 section 7.1); looking it
        # up builds the lazily parsed headers, so only 1xx responses are asked
        if sip.status is not None and 101 <= sip.status < 200 and _may_have_rseq(sip):
            rseq = sip.header("RSeq")
            if rseq is not None and _rseq(rseq) is None:
                yield message.index, _check("rseq-invalid", message, tx, value=rseq)


def _may_have_rseq(sip: SipMessage) -> bool:
    """A cheap test on the raw bytes before the (lazily built) headers are asked for."""
    return b"rseq" in sip.raw.lower()


def _rseq(value: str) -> int | None:
    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) <= 10:
        number = int(value)
        if 1 <= number < 2**32:
            return number
    return None


# --------------------------------------------------------------------------- responses


def _response_findings(
    messages: Sequence[Message], correlation: Correlation
) -> Iterator[tuple[int, Finding]]:
    """RFC 3261 section 8.2.6.2: a response copies Via, From, Call-ID and CSeq from its
    request. A response correlation could not match is compared with the request whose
    top-Via branch it carries somewhere in its Via stack (same Call-ID): that is how a
    response with a wrong Via stack is told from one whose request was never captured."""
    links = correlation.links
    txs = correlation.transactions
    # (Call-ID, branch) -> index of the first request with that top-Via branch
    requests: dict[tuple[str | None, str], int] = {}
    for message in messages:
        sip = message.sip
        link = links[message.index]
        if sip.is_request:
            if sip.branch is not None and sip.method != "ACK":
                requests.setdefault((sip.call_id, sip.branch), message.index)
            continue
        if link.retransmission:
            continue
        request: Message | None = None
        if link.transaction is not None:
            request = messages[txs[link.transaction].request]
        else:
            for via in sip.vias:
                if via.branch is not None:
                    index = requests.get((sip.call_id, via.branch))
                    if index is not None:
                        request = messages[index]
                        break
            if request is None:
                cseq = f"{sip.cseq.number} {sip.cseq.method}" if sip.cseq else None
                yield message.index, _check(
                    "response-no-request", message, None,
                    status=sip.status, branch=sip.branch, cseq=cseq,
                )  # fmt: skip
                continue
        yield from _compare_with_request(message, request, link.transaction)


def _compare_with_request(
    response: Message, request: Message, tx: int | None
) -> Iterator[tuple[int, Finding]]:
    sip, req = response.sip, request.sip
    index = response.index
    where = _where(request)
    if sip.vias != req.vias and via_identity(sip) != via_identity(req):
        yield index, _check(
            "response-via-mismatch", response, tx,
            got=_via_text(sip), expected=_via_text(req), where=where,
        )  # fmt: skip
    if sip.from_tag != req.from_tag and sip.from_ is not None and req.from_ is not None:
        yield index, _check(
            "response-from-mismatch", response, tx,
            got=sip.from_tag, expected=req.from_tag, where=where,
        )  # fmt: skip
    if sip.call_id != req.call_id and sip.call_id is not None and req.call_id is not None:
        yield index, _check(
            "response-call-id-mismatch", response, tx,
            got=sip.call_id, expected=req.call_id, where=where,
        )  # fmt: skip
    if sip.cseq is not None and req.cseq is not None and sip.cseq != req.cseq:
        yield index, _check(
            "response-cseq-mismatch", response, tx,
            got=f"{sip.cseq.number} {sip.cseq.method}",
            expected=f"{req.cseq.number} {req.cseq.method}", where=where,
        )  # fmt: skip


# --------------------------------------------------------------------------- ACK and CANCEL


def _ack_cancel_findings(
    messages: Sequence[Message], correlation: Correlation
) -> Iterator[tuple[int, Finding]]:
    links = correlation.links
    txs = correlation.transactions
    # (Call-ID, CSeq number) of INVITEs that got a final response, with its time
    answered: dict[tuple[str | None, int], int] = {}
    for tx in txs:
        if tx.method == "INVITE" and tx.cseq is not None and tx.final_ns is not None:
            key = (tx.call_id, tx.cseq)
            answered[key] = min(answered.get(key, tx.final_ns), tx.final_ns)
    for message in messages:
        sip = message.sip
        link = links[message.index]
        if link.retransmission or link.transaction is None:
            continue
        tx = txs[link.transaction]
        if sip.method == "ACK" and tx.method == "ACK" and sip.cseq is not None:
            # not part of an INVITE transaction (that is the non-2xx ACK): an ACK for a 2xx
            final = answered.get((sip.call_id, sip.cseq.number))
            if final is None or final > message.ts_ns:
                yield message.index, _check("ack-unmatched", message, tx.id, cseq=sip.cseq.number)
        elif sip.method == "CANCEL" and tx.method == "CANCEL" and tx.cancels is None:
            yield message.index, _check("cancel-unmatched", message, tx.id)


# --------------------------------------------------------------------------- PRACK (RFC 3262)

#: RFC 3262 section 7.2: RAck = "RAck" HCOLON response-num LWS CSeq-num LWS Method
RACK = re.compile(r"^\s*(?P<rseq>[0-9]{1,10})\s+(?P<cseq>[0-9]{1,10})\s+(?P<method>[!-~]+)\s*$")


def _prack_findings(
    messages: Sequence[Message], correlation: Correlation
) -> Iterator[tuple[int, Finding]]:
    links = correlation.links
    # Call-ID -> [(RSeq, CSeq number, CSeq method, frame)] of reliable provisionals seen
    reliable: dict[str | None, list[tuple[int, int, str, Message]]] = {}
    last_rseq: dict[int, tuple[int, Message]] = {}  # transaction -> last RSeq
    for message in messages:
        sip = message.sip
        link = links[message.index]
        if link.retransmission:
            continue
        if not sip.is_request:
            if sip.status is None or not 101 <= sip.status < 200 or sip.cseq is None:
                continue
            value = sip.header("RSeq") if _may_have_rseq(sip) else None
            rseq = _rseq(value) if value is not None else None
            if rseq is None:
                continue
            reliable.setdefault(sip.call_id, []).append(
                (rseq, sip.cseq.number, sip.cseq.method, message)
            )
            if link.transaction is not None:
                previous = last_rseq.get(link.transaction)
                if previous is not None and rseq != previous[0] + 1:
                    yield message.index, _check(
                        "rseq-not-incremented", message, link.transaction,
                        got=rseq, previous=previous[0], where=_where(previous[1]),
                    )  # fmt: skip
                last_rseq[link.transaction] = (rseq, message)
            continue
        if sip.method != "PRACK":
            continue
        value = sip.header("RAck")
        if value is None:
            yield message.index, _check("rack-missing", message, link.transaction)
            continue
        m = RACK.match(value)
        if m is None:
            yield message.index, _check("rack-invalid", message, link.transaction, value=value)
            continue
        wanted = (int(m["rseq"]), int(m["cseq"]), m["method"])
        seen = reliable.get(sip.call_id, [])
        if any((r, c, meth) == wanted for r, c, meth, _ in seen):
            continue
        if not seen:
            yield message.index, _check(
                "prack-unmatched", message, link.transaction,
                value=value, cseq=f"{wanted[1]} {wanted[2]}",
            )  # fmt: skip
        else:
            described = "; ".join(
                f"the {m_.sip.status} in frame {m_.frame} has RSeq {r}, CSeq {c} {meth}"
                for r, c, meth, m_ in seen[-3:]
            )
            yield message.index, _check(
                "rack-mismatch", message, link.transaction, value=value, seen=described
            )


# --------------------------------------------------------------------------- dialogs


def _dialog_findings(
    messages: Sequence[Message], correlation: Correlation
) -> Iterator[tuple[int, Finding]]:
    """RFC 3261 section 15: a request inside a dialog after the BYE (or the 481/408, or
    the non-2xx final of an early dialog) that terminated it. The ending transaction's
    own messages (the BYE's retransmissions, the ACK of a non-2xx) are not counted."""
    links = correlation.links
    txs = correlation.transactions
    for dialog in correlation.dialogs:
        if dialog.state is not DialogState.TERMINATED or dialog.end_ns is None:
            continue
        ending = dialog.history[-1].message
        end_message = messages[ending]
        # the ending request's own hops (a BYE passed on by each proxy) are not "after"
        ending_tx = links[ending].transaction
        groups = {txs[ending_tx].request_group} if ending_tx is not None else set()
        exempt = {ending_tx, dialog.creating_transaction}
        for index in dialog.messages:
            if index <= ending:
                continue
            message = messages[index]
            link = links[index]
            if not message.sip.is_request or link.retransmission:
                continue
            if link.transaction in exempt or (
                link.transaction is not None and txs[link.transaction].request_group in groups
            ):
                continue
            if link.transaction is not None and txs[link.transaction].method == "ACK":
                # the ACK of a 2xx that crossed the BYE is still owed (section 13.2.2.4)
                continue
            ago_ms = (message.ts_ns - dialog.end_ns) / 1e6
            yield index, _check(
                "request-after-dialog-end", message, link.transaction,
                method=message.sip.method, ago=f"{ago_ms:.3f} ms",
                where=f" ({end_message.sip.label} in frame {end_message.frame})",
            )  # fmt: skip


def _cseq_findings(
    messages: Sequence[Message], correlation: Correlation
) -> Iterator[tuple[int, Finding]]:
    """RFC 3261 section 12.2.1.1: the CSeq of each new request a side sends in a dialog is
    higher than its previous one. ACK and CANCEL reuse the CSeq of the request they
    belong to (sections 13.2.2.4, 9.1); the hops of one request share its CSeq."""
    links = correlation.links
    txs = correlation.transactions
    # (dialog, sender's tag) -> (CSeq, request group, message) of its last new request
    last: dict[tuple[int, str | None], tuple[int, int, Message]] = {}
    for message in messages:
        sip = message.sip
        link = links[message.index]
        if (
            not sip.is_request
            or link.retransmission
            or link.dialog is None
            or link.transaction is None
            or sip.cseq is None
            or sip.method in ("ACK", "CANCEL")
        ):
            continue
        group = txs[link.transaction].request_group
        key = (link.dialog, sip.from_tag)
        previous = last.get(key)
        if previous is not None and previous[1] != group and sip.cseq.number <= previous[0]:
            earlier = previous[2]
            yield message.index, _check(
                "cseq-not-increasing", message, link.transaction,
                method=sip.method, got=sip.cseq.number, previous=previous[0],
                previous_method=earlier.sip.method, where=_where(earlier),
            )  # fmt: skip
        if previous is None or sip.cseq.number > previous[0]:
            last[key] = (sip.cseq.number, group, message)


# --------------------------------------------------------------------------- rows


def finding_row(finding: Finding) -> dict[str, object]:
    return {
        "file": finding.file,
        "frame": finding.frame,
        "ts": finding.ts_ns,
        "severity": finding.severity.value,
        "code": finding.code,
        "scope": finding.scope.value,
        "call_id": finding.call_id,
        "transaction": finding.transaction,
        "message": finding.message,
    }
