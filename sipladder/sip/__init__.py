"""SIP: recognising, framing and parsing messages (RFC 3261 sections 7, 20 and 25), and SDP.

Pure functions over bytes. :func:`~sipladder.sip.parser.parse_message` either returns a
:class:`~sipladder.model.SipMessage` (with anomalies for what was wrong but readable)
or raises :class:`~sipladder.errors.SipParseError`; never anything else.
"""
