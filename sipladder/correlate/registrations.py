"""Registrations: REGISTER attempts grouped by address of record and contact.

A registration attempt is made of the REGISTERs, as they left the registering UA
(the first hop of each request in the capture), of one address of record (the To
URI, RFC 3261 section 10.2) and one set of Contact URIs. A REGISTER answered by a
401 or 407 challenge continues into the next REGISTER of the same AOR and contact sent
within 32 s (64*T1) of the challenge with the same Call-ID, or with a new Call-ID, CSeq
and From tag when it carries credentials (as in the seed article's IMS flow); any other
final response ends the attempt.

The kind of an attempt: ``deregistration`` when every contact asks for expires 0
(Contact parameter, else the Expires header; RFC 3261 section 10.2.2), ``query`` when
there is no Contact (section 10.2.3), ``refresh`` when the same AOR and contact were
registered with success earlier in the capture, ``initial`` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sipladder.analysis.timings import (
    CHALLENGE_ANSWER_WINDOW_NS,
    CHALLENGES,
    registration_delay,
)
from sipladder.model import (
    Message,
    NameAddr,
    Registration,
    RegistrationKind,
    RegistrationState,
    SipMessage,
    Transaction,
)


def _uri_key(uri: str) -> str:
    """A URI compared the forgiving way: surrounding blanks and a blank after the scheme
    (the seed writes ``sip: tom@...``) do not make a different address."""
    uri = uri.strip()
    scheme, colon, rest = uri.partition(":")
    if colon:
        return f"{scheme.lower()}:{rest.strip()}"
    return uri


def contact_text(contacts: Sequence[NameAddr]) -> str | None:
    if not contacts:
        return None
    return ", ".join(sorted(dict.fromkeys(_uri_key(c.uri) for c in contacts)))


def requested_expires(sip: SipMessage) -> list[int | None]:
    """Expires asked for each contact: its parameter, else the Expires header (10.2.1.1)."""
    values: list[int | None] = []
    for contact in sip.contacts:
        value = contact.param("expires")
        try:
            values.append(int(value) if value is not None else sip.expires)
        except ValueError:
            values.append(sip.expires)
    return values


def granted_expires(response: SipMessage, contacts: Sequence[NameAddr]) -> int | None:
    """RFC 3261 section 10.3 step 8: the 2xx lists every binding with its expires; take the
    one of the registered contact, else the response's Expires header."""
    wanted = {_uri_key(c.uri) for c in contacts}
    for contact in response.contacts:
        if _uri_key(contact.uri) in wanted:
            value = contact.param("expires")
            if value is not None and value.isdigit():
                return int(value)
    return response.expires


def _answers_challenge(previous: Transaction, tx: Transaction) -> bool:
    return (
        previous.final_status in CHALLENGES
        and previous.final_ns is not None
        and tx.start_ns - previous.final_ns <= CHALLENGE_ANSWER_WINDOW_NS
    )


_NONCE = re.compile(r'nonce\s*=\s*"([^"]+)"', re.IGNORECASE)


def has_credentials(sip: SipMessage) -> bool:
    """An Authorization or Proxy-Authorization with a non-empty nonce: the answer to a
    challenge (RFC 3261 section 22.4; an IMS initial REGISTER carries one with nonce="")."""
    values = sip.header_values("Authorization") + sip.header_values("Proxy-Authorization")
    return any(_NONCE.search(value) for value in values)


@dataclass(slots=True)
class _Attempt:
    aor: str
    contact: str | None
    txs: list[Transaction] = field(default_factory=list)


def build_registrations(
    transactions: Sequence[Transaction],
    group_members: Callable[[int], Sequence[int]],
    message: Callable[[int], Message],
) -> list[Registration]:
    """``transactions``: all, in order; ``group_members(group)``: every transaction id of a
    request group (all hops); ``message(index)``: the message with that index."""
    attempts: list[_Attempt] = []
    recent: dict[tuple[str, str | None], list[_Attempt]] = {}
    for tx in transactions:
        if tx.method != "REGISTER" or tx.hop != 0:
            continue
        request = message(tx.request).sip
        aor = _uri_key(tx.to_uri or "")
        contact = contact_text(request.contacts)
        key = (aor, contact)
        same_key = recent.setdefault(key, [])
        waiting = [a for a in same_key if _answers_challenge(a.txs[-1], tx)]
        # The answer to a challenge keeps the Call-ID (RFC 3261 sections 10.2 and 22.2) ...
        current = next((a for a in reversed(waiting) if a.txs[-1].call_id == tx.call_id), None)
        if current is None and waiting and has_credentials(request):
            # ... or, as in the seed's IMS flow, comes with a new Call-ID but carries the
            # credentials the challenge asked for (a nonce).
            current = waiting[-1]
        if current is not None:
            current.txs.append(tx)  # the challenge round trip goes on
        else:
            current = _Attempt(aor, contact)
            current.txs.append(tx)
            attempts.append(current)
            same_key.append(current)
            del same_key[:-8]  # only the last few can still be waiting for an answer

    registered: set[tuple[str, str | None]] = set()
    result: list[Registration] = []
    for attempt in attempts:
        first, last = attempt.txs[0], attempt.txs[-1]
        request = message(last.request).sip
        asked = requested_expires(request)
        key = (attempt.aor, attempt.contact)
        if attempt.contact is None:
            kind = RegistrationKind.QUERY
        elif asked and all(value == 0 for value in asked):
            kind = RegistrationKind.DEREGISTRATION
        elif key in registered:
            kind = RegistrationKind.REFRESH
        else:
            kind = RegistrationKind.INITIAL
        status = last.final_status
        expires = next((v for v in asked if v is not None), None)
        if status is None:
            state = RegistrationState.INCOMPLETE
        elif 200 <= status < 300:
            final = next(s for s in last.responses if s.status == status)
            granted = granted_expires(message(final.message).sip, request.contacts)
            if granted is not None and kind is not RegistrationKind.QUERY:
                expires = granted
            if kind is RegistrationKind.DEREGISTRATION:
                state = RegistrationState.DEREGISTERED
                registered.discard(key)
            else:
                state = RegistrationState.REGISTERED
                if kind is not RegistrationKind.QUERY:
                    registered.add(key)
        else:
            state = RegistrationState.FAILED
        members = [m for tx in attempt.txs for m in group_members(tx.request_group)]
        messages = sorted({i for m in members for i in transactions[m].messages})
        result.append(
            Registration(
                id=len(result),
                aor=attempt.aor,
                contact=attempt.contact,
                call_ids=tuple(dict.fromkeys(t.call_id for t in attempt.txs if t.call_id)),
                kind=kind,
                final_status=status,
                challenged=len(attempt.txs) > 1
                or any(s.status in CHALLENGES for s in first.responses),
                delay_ns=registration_delay(attempt.txs),
                expires=expires,
                start_ns=first.start_ns,
                messages=tuple(messages),
                transactions=tuple(sorted(members)),
                state=state,
                end_ns=last.final_ns,
            )
        )
    return result
