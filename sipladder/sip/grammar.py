"""The SIP grammar as regular expressions: each one under the RFC 3261 section 25 ABNF rule
it implements (in the style of h11's ``_abnf.py``).

The expressions are *lenient* where real traffic is sloppy (extra whitespace, a missing
``/`` in the version, no space before an IPv6 sent-by) and say so in a comment; the parser
records an anomaly for every leniency it needs. Everything is compiled once, at import.
Patterns ending in ``_B`` work on bytes (the cheap content check runs before decoding);
the others work on the decoded header text.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- basic rules

# token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" )
TOKEN = r"[-.!%*_+`'~0-9A-Za-z]+"

# LWS = [*WSP CRLF] 1*WSP ; linear whitespace
# SWS = [LWS] ; sep whitespace
# (folding is undone before these rules run, so LWS is plain spaces and tabs here)
LWS = r"[ \t]+"
SWS = r"[ \t]*"

# quoted-string = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE
# quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
QUOTED_STRING = r'"(?:[^"\\]|\\.)*"'

# --------------------------------------------------------------------------- start lines

# Method = INVITEm / ACKm / OPTIONSm / BYEm / CANCELm / REGISTERm / extension-method
# extension-method = token
METHOD = TOKEN

# SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT
# Lenient: the "/" may be missing (``SIP2.0``), the digits may be anything; the parser
# checks the exact value and records ``version-invalid``.
SIP_VERSION = r"[Ss][Ii][Pp]/?[^ \t]*"
SIP_VERSION_STRICT = re.compile(r"SIP/\d+\.\d+\Z")

# Request-Line = Method SP Request-URI SP SIP-Version CRLF
# Lenient: runs of spaces/tabs between the parts; a Request-URI that contains whitespace
# (the parser flags it); a missing SIP-Version (group 3 is None then).
REQUEST_LINE = re.compile(
    rf"(?P<method>{METHOD}){LWS}(?P<uri>.*?)(?:{LWS}(?P<version>{SIP_VERSION}))?{SWS}\Z"
)

# Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
# Status-Code = 3DIGIT ; lenient: any number of digits, checked by the parser
# Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB)
STATUS_LINE = re.compile(
    rf"(?P<version>{SIP_VERSION}){LWS}(?P<status>\d+)(?:{LWS}(?P<reason>.*?))?{SWS}\Z"
)

# The cheap content check on raw bytes (first line only, never decoded):
# a request line ``METHOD SP anything SP SIP/d`` or ``SIP/d.d SP NNN``; lenient also
# ``SIP2.0`` and a request line without version whose URI has a SIP-ish scheme.
# (Only whether it matches counts: ``[^\r\n]*`` is greedy because backtracking from the
# end of the line finds the version in a few steps, where a lazy scan steps along the
# whole Request-URI; the set of lines that match is the same.)
LOOKS_REQUEST_B = re.compile(
    rb"[-.!%*_+`'~0-9A-Za-z]{2,64}[ \t]+[^\r\n]*[ \t][Ss][Ii][Pp]/?[0-9]"
    rb"|[A-Za-z]{2,64}[ \t]+(?:[Ss][Ii][Pp][Ss]?|[Tt][Ee][Ll]):"
)
LOOKS_STATUS_B = re.compile(rb"[Ss][Ii][Pp]/?[0-9]+\.[0-9]+[ \t]+[0-9]{3}")

# A line that starts a message, anywhere in a byte stream (for stream resynchronisation).
START_LINE_B = re.compile(
    rb"(?:^|(?<=\n))(?:[-.!%*_+`'~0-9A-Za-z]{2,64}[ \t]+[^\r\n]*?[ \t]SIP/[0-9]\.[0-9]\r?\n"
    rb"|SIP/[0-9]\.[0-9][ \t]+[0-9]{3}[^\r\n]*\r?\n)"
)

# --------------------------------------------------------------------------- headers

# message-header = header-name HCOLON header-value; HCOLON = *( SP / HTAB ) ":" SWS
# header-name is a token; the parser splits at the first ":" and strips.
HEADER_NAME = re.compile(rf"{TOKEN}\Z")

# Folding: a line starting with whitespace continues the previous one (RFC 3261 7.3.1);
# the line break and the leading whitespace together count as one SP.
FOLD = re.compile(r"\r?\n[ \t]+")

# Via = ( "Via" / "v" ) HCOLON via-parm *(COMMA via-parm)
# via-parm = sent-protocol LWS sent-by *( SEMI via-params )
# sent-protocol = protocol-name SLASH protocol-version SLASH transport
# sent-by = host [ COLON port ]
# host = hostname / IPv4address / IPv6reference
# Lenient: SLASH allows whitespace (SWS "/" SWS, as the RFC does); the LWS before
# sent-by may be missing when the host is a bracketed IPv6 reference.
VIA_PARM = re.compile(
    rf"{SWS}(?P<name>[^/ \t]+){SWS}/{SWS}(?P<version>[^/ \t]+){SWS}/{SWS}"
    rf"(?P<transport>[-.!%*_+`'~0-9A-Za-z]+){SWS}"
    r"(?P<host>\[[^\]]*\]|[^ \t;:\[]+)"
    rf"(?:{SWS}:{SWS}(?P<port>\d+))?{SWS}(?P<params>.*)\Z",
    re.S,
)

# name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
# display-name = *(token LWS)/ quoted-string
NAME_ADDR = re.compile(
    rf"{SWS}(?:(?P<quoted>{QUOTED_STRING})|(?P<plain>[^<\"]*?)){SWS}<(?P<uri>[^>]*)>{SWS}(?P<params>.*)\Z",
    re.S,
)

# display-name = *(token LWS)/ quoted-string (the unquoted form, LWS before "<" optional
# as RFC 4475 section 3.1.1.6 recommends)
DISPLAY_TOKENS = re.compile(rf"(?:{TOKEN}{SWS})*\Z")

# addr-spec = SIP-URI / SIPS-URI / absoluteURI (without angle brackets, the header's
# parameters follow the first ";": RFC 3261 section 20.10)
ADDR_SPEC = re.compile(rf"{SWS}(?P<uri>[^; \t]*){SWS}(?P<params>.*)\Z", re.S)

# CSeq = "CSeq" HCOLON 1*DIGIT LWS Method
# Lenient: the method may be missing or not a token (``CSeq: 2 183``); checked by the parser.
CSEQ = re.compile(rf"{SWS}(?P<number>\d+)(?:{LWS}(?P<method>[^ \t]+))?{SWS}\Z")

# Max-Forwards = "Max-Forwards" HCOLON 1*DIGIT
# Expires = "Expires" HCOLON delta-seconds ; delta-seconds = 1*DIGIT
# Content-Length = ( "Content-Length" / "l" ) HCOLON 1*DIGIT
DIGITS = re.compile(r"\d+\Z")

# SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
# absoluteURI = scheme ":" ( hier-part / opaque-part )
# scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
# Lenient check only: a scheme, a colon, and then printable ASCII without whitespace,
# quotes or angle brackets (anything else must be %-escaped, RFC 3261 section 19.1.1).
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!#-;=?-~]+\Z")
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")

# Call-ID = ( "Call-ID" / "i" ) HCOLON callid ; callid = word [ "@" word ]
CALLID = re.compile(r"[^ \t]+\Z")
