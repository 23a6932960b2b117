"""sipladder.model.fast_constructor builds the same records as the dataclass constructors."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest

from sipladder.model import (
    CSeq,
    Endpoint,
    Message,
    MessageKind,
    NameAddr,
    SipMessage,
    Transport,
    Via,
    fast_constructor,
)

VIA = Via("SIP/2.0", "UDP", "h", 5060, (("branch", "z9hG4bK1"),))
SIP = SipMessage(
    MessageKind.REQUEST, "INVITE", "sip:b@h", None, None, "SIP/2.0", (("Via", "x"),), b"",
    b"INVITE sip:b@h SIP/2.0\r\n\r\n", "c", CSeq(1, "INVITE"), NameAddr(None, "sip:a@h"),
    NameAddr("B", "sip:b@h", (("tag", "2"),)), (VIA,), expires=3,
)  # fmt: skip
RECORDS: dict[str, Any] = {
    "via": VIA,
    "name-addr": NameAddr("A", "sip:a@h", (("tag", "1"),)),
    "cseq": CSeq(1, "INVITE"),
    "sip-message": SIP,
    "message": Message(
        0, "f.pcap", 1, 2, Endpoint("::1", 5060), Endpoint("192.0.2.1", 5061), Transport.UDP, SIP
    ),
}


@pytest.mark.parametrize("record", list(RECORDS.values()), ids=list(RECORDS))
def test_same_record_as_the_dataclass_constructor(record: Any) -> None:
    cls = type(record)
    values = [getattr(record, f.name) for f in dataclasses.fields(cls)]
    built = fast_constructor(cls)(*values)
    assert type(built) is cls
    assert built == record and hash(built) == hash(record)
    assert repr(built) == repr(record)
    assert pickle.loads(pickle.dumps(built)) == record
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.__setattr__(dataclasses.fields(cls)[0].name, None)


def test_every_field_is_required() -> None:
    with pytest.raises(TypeError):
        fast_constructor(CSeq)(1)
