"""Registrations: REGISTER attempts grouped by address of record and contact.

A registration attempt is made of the REGISTERs, as they left the registering UA
(the first hop of each request in the capture), of one address of record (the To
URI, RFC 3261 section 10.2) and one set of Contact URIs. A REGISTER answered by a
401 or 407 challenge continues into the next REGISTER of the same AOR and contact sent
within 32 s (64*T1) of the challenge with the same Call-ID, or with a new Call-ID, CSeq
and From tag when it carries credentials (as in the seed article's IMS flow); any other
final response ends the attempt. Contacts are compared as a registrar compares bindings
(RFC 3261 section 10.3 step 7, by the URI rules of section 19.1.4, see
:func:`same_binding`): a retry whose Contact only gained or lost a parameter such as
``;line=`` is the same contact. An attempt shows the Contact of its last REGISTER.

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


# RFC 3261 section 19.1.1: sip:user:password@host:port;uri-parameters?headers
_SIP_URI = re.compile(
    r"(?P<scheme>sips?):(?:(?P<user>[^@]*)@)?"
    r"(?P<host>\[[^\]]*\]|[^:;?]*)(?::(?P<port>[0-9]*))?"
    r"(?P<params>;[^?]*)?(?:\?.*)?\Z",
    re.IGNORECASE | re.DOTALL,
)

#: Section 19.1.4: "A user, ttl, or method uri-parameter appearing in only one URI never
#: matches ... A URI that includes an maddr parameter will not match a URI that contains
#: no maddr parameter." Any other parameter found in only one of the URIs is ignored.
_MUST_BOTH = frozenset({"user", "ttl", "method", "maddr"})

_BindingKey = tuple[str, str | None, str, str | None, dict[str, str | None]] | str


def _binding_key(uri: str) -> _BindingKey:
    """The parts of a Contact URI section 19.1.4 compares: scheme, userinfo (case-sensitive),
    host and port (an absent port is not 5060), parameters (names and values case-folded).
    Headers (``?...``) and %-escapes are not compared (a subset: a UA does not register a
    contact with headers). Other schemes (tel, urn, ``*``) compare as written."""
    text = _uri_key(uri)
    m = _SIP_URI.match(text)
    if m is None:
        return text
    params: dict[str, str | None] = {}
    for item in (m["params"] or "").split(";"):
        if item:
            name, eq, value = item.partition("=")
            params[name.strip().lower()] = value.strip().lower() if eq else None
    return (m["scheme"].lower(), m["user"], m["host"].lower(), m["port"] or None, params)


def same_binding(a: str, b: str) -> bool:
    """Whether two Contact URIs name the same binding (RFC 3261 section 10.3 step 7, which
    compares by section 19.1.4): same scheme, user, host and port; a parameter present in
    both URIs must have the same value; one present in only one of them is ignored unless it
    is ``user``, ``ttl``, ``method`` or ``maddr``."""
    return _same_key(_binding_key(a), _binding_key(b))


def _same_key(ka: _BindingKey, kb: _BindingKey) -> bool:
    """:func:`same_binding` on two keys of :func:`_binding_key`."""
    if ka.__class__ is str or kb.__class__ is str:
        return ka == kb
    if ka[:4] != kb[:4]:
        return False
    pa, pb = ka[4], kb[4]
    if pa == pb:  # the usual case: nothing gained or lost (and the test below would agree)
        return True
    assert isinstance(pa, dict) and isinstance(pb, dict)
    for name in pa.keys() | pb.keys():
        if name in pa and name in pb:
            if pa[name] != pb[name]:
                return False
        elif name in _MUST_BOTH:
            return False
    return True


def same_contacts(a: Sequence[str], b: Sequence[str]) -> bool:
    """Two Contact lists bind the same: every URI of each has its binding in the other."""
    return _Contacts(a, {}).same(_Contacts(b, {}))


class _Contacts:
    """A Contact URI list with its binding keys worked out once (the same lists are compared
    again and again: each REGISTER with the attempts still waiting and the bindings of its
    AOR). ``bases`` is what must be equal for two lists to bind the same (scheme, user, host
    and port of each URI, section 19.1.4; parameters decide only between equal bases): it
    sorts the registered lists into buckets so that only candidates are compared."""

    __slots__ = ("uris", "keys", "bases")

    def __init__(self, uris: Sequence[str], cache: dict[str, _BindingKey]) -> None:
        keys = []
        for uri in uris:
            key = cache.get(uri)
            if key is None:
                key = cache[uri] = _binding_key(uri)
            keys.append(key)
        self.uris = uris
        self.keys = keys
        self.bases = frozenset(k if k.__class__ is str else k[:4] for k in keys)

    def same(self, other: _Contacts) -> bool:
        """:func:`same_contacts`: every URI of each has its binding in the other."""
        a, b = self.keys, other.keys
        if not a or not b:
            return not a and not b
        if self.uris == other.uris:
            return True  # the usual case: the very same URIs
        if self.bases != other.bases:
            return False  # a URI's scheme, user, host or port is not in the other list
        for x in a:
            for y in b:
                if _same_key(x, y):
                    break
            else:
                return False
        for y in b:
            for x in a:
                if _same_key(x, y):
                    break
            else:
                return False
        return True


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


def granted_expires(
    response: SipMessage,
    contacts: Sequence[NameAddr],
    cache: dict[str, _BindingKey] | None = None,
) -> int | None:
    """RFC 3261 section 10.3 step 8: the 2xx lists every binding with its expires; take the
    one of the registered contact, else the response's Expires header. ``cache``: binding
    keys by URI, shared between calls."""
    if cache is None:
        cache = {}
    wanted = _Contacts([c.uri for c in contacts], cache).keys
    for contact in response.contacts:
        uri = contact.uri
        key = cache.get(uri)
        if key is None:
            key = cache[uri] = _binding_key(uri)
        for other in wanted:
            if _same_key(key, other):
                value = contact.param("expires")
                if value is not None and value.isdigit():
                    return int(value)
                break
    return response.expires


def _challenged_at(tx: Transaction) -> int | None:
    """When ``tx`` got its final 401/407; None when it was not challenged."""
    return tx.final_ns if tx.final_status in CHALLENGES else None


_NONCE = re.compile(r'nonce\s*=\s*"([^"]+)"', re.IGNORECASE)


def has_credentials(sip: SipMessage) -> bool:
    """An Authorization or Proxy-Authorization with a non-empty nonce: the answer to a
    challenge (RFC 3261 section 22.4; an IMS initial REGISTER carries one with nonce="")."""
    values = sip.header_values("Authorization") + sip.header_values("Proxy-Authorization")
    return any(_NONCE.search(value) for value in values)


@dataclass(slots=True)
class _Attempt:
    aor: str
    contact: str | None  #: of the last REGISTER
    uris: _Contacts  #: its Contact URIs
    txs: list[Transaction] = field(default_factory=list)
    #: when its last REGISTER was challenged (see _challenged_at): a REGISTER can continue
    #: the attempt only then, within CHALLENGE_ANSWER_WINDOW_NS
    challenged_at: int | None = None

    def add(self, tx: Transaction) -> None:
        self.txs.append(tx)
        self.challenged_at = _challenged_at(tx)


def build_registrations(
    transactions: Sequence[Transaction],
    group_members: Callable[[int], Sequence[int]],
    message: Callable[[int], Message],
) -> list[Registration]:
    """``transactions``: all, in order; ``group_members(group)``: every transaction id of a
    request group (all hops); ``message(index)``: the message with that index."""
    attempts: list[_Attempt] = []
    recent: dict[str, list[_Attempt]] = {}
    cache: dict[str, _BindingKey] = {}  # binding keys by Contact URI
    for tx in transactions:
        if tx.method != "REGISTER" or tx.hop != 0:
            continue
        request = message(tx.request).sip
        aor = _uri_key(tx.to_uri or "")
        contact = contact_text(request.contacts)
        uris = _Contacts([c.uri for c in request.contacts], cache)
        same_aor = recent.setdefault(aor, [])
        # Section 10.3 step 7: the retry may add or drop a Contact parameter (aaa.pcap's
        # deregistration gains ";line=" in its answer to the 401) and still be the same.
        start_ns = tx.start_ns
        waiting = [
            a for a in same_aor
            if a.challenged_at is not None
            and start_ns - a.challenged_at <= CHALLENGE_ANSWER_WINDOW_NS
            and a.uris.same(uris)
        ]
        # The answer to a challenge keeps the Call-ID (RFC 3261 sections 10.2 and 22.2) ...
        current = next((a for a in reversed(waiting) if a.txs[-1].call_id == tx.call_id), None)
        if current is None and waiting and has_credentials(request):
            # ... or, as in the seed's IMS flow, comes with a new Call-ID but carries the
            # credentials the challenge asked for (a nonce).
            current = waiting[-1]
        if current is not None:
            current.add(tx)  # the challenge round trip goes on
            current.contact, current.uris = contact, uris
        else:
            current = _Attempt(aor, contact, uris)
            current.add(tx)
            attempts.append(current)
            same_aor.append(current)
            del same_aor[:-32]  # only the last few (of all its contacts) can still be waiting

    # The contacts of each AOR registered with success so far, compared as bindings; by
    # their bases (see _Contacts), as only lists with equal bases can bind the same.
    registered: dict[str, dict[frozenset[object], list[_Contacts]]] = {}
    result: list[Registration] = []
    for attempt in attempts:
        first, last = attempt.txs[0], attempt.txs[-1]
        request = message(last.request).sip
        asked = requested_expires(request)
        bound = registered.setdefault(attempt.aor, {}).setdefault(attempt.uris.bases, [])
        if attempt.contact is None:
            kind = RegistrationKind.QUERY
        elif asked and all(value == 0 for value in asked):
            kind = RegistrationKind.DEREGISTRATION
        elif any(uris.same(attempt.uris) for uris in bound):
            kind = RegistrationKind.REFRESH
        else:
            kind = RegistrationKind.INITIAL
        status = last.final_status
        expires = next((v for v in asked if v is not None), None)
        if status is None:
            state = RegistrationState.INCOMPLETE
        elif 200 <= status < 300:
            final = next(s for s in last.responses if s.status == status)
            granted = granted_expires(message(final.message).sip, request.contacts, cache)
            if granted is not None and kind is not RegistrationKind.QUERY:
                expires = granted
            if kind is RegistrationKind.DEREGISTRATION:
                state = RegistrationState.DEREGISTERED
                bound[:] = [u for u in bound if not u.same(attempt.uris)]
            else:
                state = RegistrationState.REGISTERED
                if kind is RegistrationKind.INITIAL:
                    bound.append(attempt.uris)
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
