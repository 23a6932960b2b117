/*
 * _sipladder_accel: the optional compiled twin of sipladder's hot functions.
 *
 * Each function here does exactly what its pure-Python original does (named in its
 * comment), or answers "not for me" (None) and lets the original do the work. The first
 * ones run once per packet on every worker, before any parsing (looks_like_sip, the
 * Call-ID hint, the decoding of a plain UDP datagram, the walk over a classic pcap
 * file's records that passes over another worker's datagrams); the parser's fast path
 * (parse_fast) reads a SIP message that breaks no rule with the Python parser's own memo
 * tables and functions. In CPython these cost two thirds of a `sipladder calls` run.
 * sipladder/accel.py loads this module (and checks ACCEL_VERSION); with the module
 * absent or SIPLADDER_PURE=1 set, the Python originals run. tests/test_accel.py and
 * tests/sip/test_sip_compiled.py feed both the same inputs (every test capture, and
 * hypothesis-generated input) and require the same answers.
 *
 * Copyright (C) sipladder developers. GPL-2.0-or-later.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Bump with any change of behaviour; sipladder/accel.py refuses another version. */
#define ACCEL_VERSION 3

/* ------------------------------------------------------------------ helpers */

static inline int lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
static inline int is_ws(unsigned char c) { return c == ' ' || c == '\t'; }
static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_alpha(unsigned char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }

/* token characters of grammar.LOOKS_REQUEST_B: [-.!%*_+`'~0-9A-Za-z] */
static inline int is_tok(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '!' || c == '%' ||
           c == '*' || c == '_' || c == '+' || c == '`' || c == '\'' || c == '~';
}

/* bytes.find(needle, start, end): index or -1. The needles here are a few bytes long
 * and searched in a few hundred: memchr for the first byte, then a compare, costs a
 * fraction of glibc's memmem, whose setup dominated (8 % of a worker's decoding and
 * parsing in a profile). */
static Py_ssize_t find(const char *s, Py_ssize_t start, Py_ssize_t end, const char *needle,
                       Py_ssize_t nlen)
{
    if (start < 0)
        start = 0;
    Py_ssize_t last = end - nlen; /* the last place a match can start */
    for (Py_ssize_t p = start; p <= last; p++) {
        const char *hit = memchr(s + p, needle[0], (size_t)(last - p + 1));
        if (hit == NULL)
            return -1;
        p = hit - s;
        if (memcmp(s + p + 1, needle + 1, (size_t)(nlen - 1)) == 0)
            return p;
    }
    return -1;
}

/* "sip" in any case at s[i], with i + 3 <= end */
static inline int sip_at(const unsigned char *s, Py_ssize_t i, Py_ssize_t end)
{
    return i + 3 <= end && lower(s[i]) == 's' && lower(s[i + 1]) == 'i' && lower(s[i + 2]) == 'p';
}

/* ------------------------------------------------------------ looks_like_sip */

/* grammar.LOOKS_STATUS_B.match(s, 0, end): [Ss][Ii][Pp]/?[0-9]+\.[0-9]+[ \t]+[0-9]{3} */
static int status_match(const unsigned char *s, Py_ssize_t end)
{
    Py_ssize_t i = 3, j;
    if (!sip_at(s, 0, end))
        return 0;
    if (i < end && s[i] == '/')
        i++;
    for (j = i; j < end && is_digit(s[j]); j++)
        ;
    if (j == i || j >= end || s[j] != '.')
        return 0;
    i = ++j;
    for (; j < end && is_digit(s[j]); j++)
        ;
    if (j == i)
        return 0;
    i = j;
    for (; j < end && is_ws(s[j]); j++)
        ;
    if (j == i)
        return 0;
    return j + 3 <= end && is_digit(s[j]) && is_digit(s[j + 1]) && is_digit(s[j + 2]);
}

/* grammar.LOOKS_REQUEST_B.match(s, 0, end), its two alternatives:
 *   [-.!%*_+`'~0-9A-Za-z]{2,64}[ \t]+[^\r\n]*[ \t][Ss][Ii][Pp]/?[0-9]
 *   [A-Za-z]{2,64}[ \t]+(?:[Ss][Ii][Pp][Ss]?|[Tt][Ee][Ll]):
 * A run of token characters longer than 64 never matches (the character after the
 * 64th would have to be a space); likewise for letters. */
static int request_match(const unsigned char *s, Py_ssize_t end)
{
    Py_ssize_t k, p, j;
    for (k = 0; k < end && is_tok(s[k]); k++)
        ;
    if (k >= 2 && k <= 64 && k < end && is_ws(s[k])) {
        /* some later space or tab on the line, followed by sip, an optional / and a digit */
        for (p = k + 1; p < end && s[p] != '\r' && s[p] != '\n'; p++) {
            if (is_ws(s[p]) && sip_at(s, p + 1, end)) {
                j = p + 4;
                if (j < end && s[j] == '/')
                    j++;
                if (j < end && is_digit(s[j]))
                    return 1;
            }
        }
    }
    for (k = 0; k < end && is_alpha(s[k]); k++)
        ;
    if (k < 2 || k > 64 || k >= end || !is_ws(s[k]))
        return 0;
    for (j = k; j < end && is_ws(s[j]); j++)
        ;
    if (sip_at(s, j, end)) {
        if (j + 3 < end && s[j + 3] == ':')
            return 1;
        return j + 4 < end && lower(s[j + 3]) == 's' && s[j + 4] == ':';
    }
    return j + 3 < end && lower(s[j]) == 't' && lower(s[j + 1]) == 'e' &&
           lower(s[j + 2]) == 'l' && s[j + 3] == ':';
}

/* sipladder.sip.parser.looks_like_sip */
static int looks_like_sip_impl(const unsigned char *data, Py_ssize_t n)
{
    Py_ssize_t b = 0, len = n, end;
    if (n > 0 && (data[0] == '\r' || data[0] == '\n')) {
        /* data[:600].lstrip(b"\r\n") */
        len = n < 600 ? n : 600;
        while (b < len && (data[b] == '\r' || data[b] == '\n'))
            b++;
        len -= b;
    }
    if (len == 0)
        return 0;
    end = len < 512 ? len : 512;
    if (len >= 3 && lower(data[b]) == 's' && lower(data[b + 1]) == 'i' && lower(data[b + 2]) == 'p')
        return status_match(data + b, end);
    return request_match(data + b, end);
}

static PyObject *accel_looks_like_sip(PyObject *Py_UNUSED(self), PyObject *arg)
{
    if (PyBytes_Check(arg))
        return PyBool_FromLong(looks_like_sip_impl(
            (const unsigned char *)PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg)));
    Py_buffer view; /* bytearray, memoryview: as the original, which slices and matches */
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int found = looks_like_sip_impl((const unsigned char *)view.buf, view.len);
    PyBuffer_Release(&view);
    return PyBool_FromLong(found);
}

/* -------------------------------------------------------------- call_id_hint */

/* A match of skim._CALL_ID_NAME, rb"\n(?:call-id|i)[ \t]*:" case-insensitive, starting
 * at the "\n" at s[p] and ending before end: the index after the ":", or -1. */
static Py_ssize_t call_id_name_at(const unsigned char *s, Py_ssize_t p, Py_ssize_t end)
{
    Py_ssize_t j = p + 1;
    static const char long_form[] = "call-id";
    if (j + 7 <= end) {
        int k;
        for (k = 0; k < 7 && lower(s[j + k]) == long_form[k]; k++)
            ;
        if (k == 7)
            j += 7;
        else if (lower(s[j]) == 'i')
            j += 1;
        else
            return -1;
    } else if (j < end && lower(s[j]) == 'i') {
        j += 1;
    } else {
        return -1;
    }
    while (j < end && is_ws(s[j]))
        j++;
    return (j < end && s[j] == ':') ? j + 1 : -1;
}

/* skim._CALL_ID_NAME.search(s, start, end): the end of the first match, or -1 */
static Py_ssize_t call_id_name_search(const unsigned char *s, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t p = start;
    while (p < end) {
        const unsigned char *nl = memchr(s + p, '\n', (size_t)(end - p));
        if (nl == NULL)
            return -1;
        p = nl - s;
        Py_ssize_t after = call_id_name_at(s, p, end);
        if (after >= 0)
            return after;
        p++;
    }
    return -1;
}

/* sipladder.sip.skim.call_id_hint on n bytes at s: 1 with the hint at s[*start:][:*length],
 * or 0 for None */
static int call_id_hint_span(const unsigned char *s, Py_ssize_t n, Py_ssize_t *start_out,
                             Py_ssize_t *length_out)
{
    const char *c = (const char *)s;
    Py_ssize_t crlf = find(c, 0, n, "\n\r\n", 3);
    Py_ssize_t lf = find(c, 0, crlf >= 0 ? crlf : n, "\n\n", 2);
    Py_ssize_t end = lf >= 0 ? lf : crlf;
    if (end < 0)
        return 0;
    Py_ssize_t start = call_id_name_search(s, 0, end);
    if (start < 0 || call_id_name_search(s, start, end) >= 0)
        return 0;
    /* the header section ends with a newline (at end): found within [start, end] */
    const unsigned char *nl = memchr(s + start, '\n', (size_t)(end + 1 - start));
    Py_ssize_t line_end = nl - s;
    if (line_end + 1 < n && is_ws(s[line_end + 1]))
        return 0; /* folded onto the next line */
    Py_ssize_t a = start, z = line_end;
    while (a < z && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r'))
        a++;
    while (z > a && (s[z - 1] == ' ' || s[z - 1] == '\t' || s[z - 1] == '\r'))
        z--;
    if (a == z)
        return 0;
    for (Py_ssize_t i = a; i < z; i++) {
        if (s[i] < 0x21 || s[i] > 0x7E)
            return 0;
    }
    *start_out = a;
    *length_out = z - a;
    return 1;
}

static PyObject *call_id_hint_impl(const char *c, Py_ssize_t n)
{
    Py_ssize_t start, length;
    if (!call_id_hint_span((const unsigned char *)c, n, &start, &length))
        Py_RETURN_NONE;
    return PyBytes_FromStringAndSize(c + start, length);
}

static PyObject *accel_call_id_hint(PyObject *Py_UNUSED(self), PyObject *arg)
{
    if (PyBytes_Check(arg))
        return call_id_hint_impl(PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg));
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *hint = call_id_hint_impl((const char *)view.buf, view.len);
    PyBuffer_Release(&view);
    return hint;
}

/* -------------------------------------------------------------- udp_payload */

static inline unsigned u16(const unsigned char *p) { return ((unsigned)p[0] << 8) | p[1]; }

/* One plain UDP datagram in a frame: where its addresses, ports and payload are */
typedef struct {
    const unsigned char *src, *dst;
    Py_ssize_t alen; /* 4 or 16 */
    unsigned sport, dport;
    const unsigned char *data;
    Py_ssize_t length;
    int truncated;
} Datagram;

/* One UDP datagram as sipladder.net.udp.udp delivers it, from a view that starts at the
 * UDP header: 1, or 0 when that function would raise (the caller then takes the Python
 * path, which reports). */
static int udp_found(const unsigned char *src, const unsigned char *dst, Py_ssize_t alen,
                     const unsigned char *v, Py_ssize_t available, Datagram *out)
{
    if (available < 8)
        return 0;
    Py_ssize_t length = u16(v + 4), stop;
    int truncated = 0;
    if (length == 0)
        length = available; /* RFC 2675 jumbogram, or captured before offload */
    else if (length < 8)
        return 0;
    if (length > available) {
        stop = available;
        truncated = 1;
    } else {
        stop = length;
    }
    out->src = src;
    out->dst = dst;
    out->alen = alen;
    out->sport = u16(v);
    out->dport = u16(v + 2);
    out->data = v + 8;
    out->length = stop - 8;
    out->truncated = truncated;
    return 1;
}

/* sipladder.net.ip.ipv4 for an unfragmented UDP packet */
static int ipv4_udp(const unsigned char *v, Py_ssize_t n, Datagram *out)
{
    if (n < 20 || (v[0] >> 4) != 4)
        return 0;
    Py_ssize_t ihl = (v[0] & 0x0F) * 4, total = u16(v + 2), end;
    if (ihl < 20)
        return 0;
    if (total == 0)
        total = n;
    else if (total < ihl)
        return 0;
    end = total <= n ? total : n;
    if (ihl > end)
        return 0;
    if (u16(v + 6) & 0x3FFF) /* MF flag or a fragment offset */
        return 0;
    if (v[9] != 17)
        return 0;
    return udp_found(v + 12, v + 16, 4, v + ihl, end - ihl, out);
}

/* sipladder.net.ip.ipv6 for a UDP packet without extension headers */
static int ipv6_udp(const unsigned char *v, Py_ssize_t n, Datagram *out)
{
    if (n < 40 || (v[0] >> 4) != 6)
        return 0;
    Py_ssize_t plen = u16(v + 4), end;
    if (plen == 0)
        end = n;
    else
        end = 40 + plen <= n ? 40 + plen : n;
    if (v[6] != 17)
        return 0;
    return udp_found(v + 8, v + 24, 16, v + 40, end - 40, out);
}

static int by_ethertype(unsigned ethertype, const unsigned char *v, Py_ssize_t n,
                        Datagram *out)
{
    if (ethertype == 0x0800)
        return ipv4_udp(v, n, out);
    if (ethertype == 0x86DD)
        return ipv6_udp(v, n, out);
    return 0;
}

static inline int vlan_tag(unsigned ethertype)
{
    return ethertype == 0x8100 || ethertype == 0x88A8 || ethertype == 0x9100 ||
           ethertype == 0x9200 || ethertype == 0x9300;
}

/* The plain UDP datagram in a frame of one of the link types of sipladder.net.link
 * (Ethernet with any VLAN tags, Linux SLL and SLL2, raw IP), over IPv4 without
 * fragmentation or IPv6 without extension headers: 1; 0 for anything else, including
 * every malformed frame. */
static int plain_udp(long linktype, const unsigned char *v, Py_ssize_t n, Datagram *out)
{
    switch (linktype) {
    case 1: { /* LINKTYPE_ETHERNET (link.ethernet) */
        if (n < 14)
            return 0;
        unsigned ethertype = u16(v + 12);
        Py_ssize_t offset = 14;
        int tags = 0;
        while (vlan_tag(ethertype)) {
            if (++tags > 8 || offset + 4 > n)
                break;
            ethertype = u16(v + offset + 2);
            offset += 4;
        }
        if (vlan_tag(ethertype))
            return 0;
        return by_ethertype(ethertype, v + offset, n - offset, out);
    }
    case 113: /* LINKTYPE_LINUX_SLL */
        return n >= 16 && by_ethertype(u16(v + 14), v + 16, n - 16, out);
    case 276: /* LINKTYPE_LINUX_SLL2 */
        return n >= 20 && by_ethertype(u16(v), v + 20, n - 20, out);
    case 101: /* LINKTYPE_RAW, and DLT_RAW of the BSDs: the version nibble decides */
    case 12:
    case 14:
        return n > 0 &&
               by_ethertype((v[0] >> 4) == 4 ? 0x0800 : (v[0] >> 4) == 6 ? 0x86DD : 0, v, n, out);
    case 228: /* LINKTYPE_IPV4 */
        return ipv4_udp(v, n, out);
    case 229: /* LINKTYPE_IPV6 */
        return ipv6_udp(v, n, out);
    }
    return 0;
}

/* (linktype, data) arguments: 1, or 0 for "the Python path" (-1: an error is set) */
static int frame_args(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t want,
                      const char *usage, long *linktype, Datagram *out)
{
    if (nargs != want) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    if (!PyBytes_Check(args[1]))
        return 0; /* (frames hold bytes; anything else takes the Python path) */
    *linktype = PyLong_AsLong(args[0]);
    if (*linktype == -1 && PyErr_Occurred())
        return -1;
    return plain_udp(*linktype, (const unsigned char *)PyBytes_AS_STRING(args[1]),
                     PyBytes_GET_SIZE(args[1]), out);
}

/* udp_payload(linktype, data): (src, dst, sport, dport, data, truncated) of the plain UDP
 * datagram in the frame, as sipladder.net decodes it; None for anything else. */
static PyObject *accel_udp_payload(PyObject *Py_UNUSED(self), PyObject *const *args,
                                   Py_ssize_t nargs)
{
    long linktype;
    Datagram d;
    int found = frame_args(args, nargs, 2, "udp_payload(linktype: int, data: bytes)",
                           &linktype, &d);
    if (found < 0)
        return NULL;
    if (!found)
        Py_RETURN_NONE;
    return Py_BuildValue("(y#y#IIy#O)", (const char *)d.src, d.alen, (const char *)d.dst, d.alen,
                         d.sport, d.dport, (const char *)d.data, d.length,
                         d.truncated ? Py_True : Py_False);
}

/* ------------------------------------------------------------- other_shard */

/* zlib.crc32 (CRC-32 of ISO 3309 / ITU-T V.42, reflected, polynomial 0xEDB88320) */
static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_of(const unsigned char *s, Py_ssize_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (Py_ssize_t i = 0; i < n; i++)
        c = crc_table[(c ^ s[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* The rest of other_shard's test, for a plain datagram not cut short that looks like
 * SIP: when its payload is one SIP message as sipladder.sip.framing.split_datagram's
 * fast path finds it, with a Call-ID hint (skim.call_id_hint), the part of ``count``
 * that hint names (skim.shard_of_bytes); -1 otherwise. */
static long part_of(const Datagram *d, long count)
{
    if (count < 1)
        return -1;
    const char *p = (const char *)d->data;
    Py_ssize_t m = d->length;
    /* split_datagram's fast path: no keep-alive first, a header section, and no second
     * start line after it */
    if (p[0] == '\r' || p[0] == '\n')
        return -1;
    Py_ssize_t head_end = find(p, 0, m, "\r\n\r\n", 4);
    if (head_end <= 0 || (find(p, head_end, m, "SIP", 3) >= 0 &&
                          (find(p, head_end, m, "SIP/", 4) >= 0 ||
                           find(p, head_end, m, "SIP2", 4) >= 0)))
        return -1;
    Py_ssize_t start, length;
    if (!call_id_hint_span(d->data, m, &start, &length))
        return -1;
    return (long)(crc32_of(d->data + start, length) % (uint32_t)count);
}

/* other_shard(linktype, data, count, number): (sport, dport) when the frame is a plain
 * UDP datagram (udp_payload) whose payload, not cut short, is one SIP message as
 * sipladder.sip.framing.split_datagram's fast path finds it, with a Call-ID hint
 * (skim.call_id_hint) of another part than ``number`` of ``count``
 * (skim.shard_of_bytes); None otherwise. A worker passes such a frame over without
 * decoding or parsing it: what it would do with it is count it. */
static PyObject *accel_other_shard(PyObject *Py_UNUSED(self), PyObject *const *args,
                                   Py_ssize_t nargs)
{
    long linktype;
    Datagram d;
    int found = frame_args(args, nargs, 4,
                           "other_shard(linktype: int, data: bytes, count: int, number: int)",
                           &linktype, &d);
    if (found < 0)
        return NULL;
    if (!found || d.truncated || !looks_like_sip_impl(d.data, d.length))
        Py_RETURN_NONE;
    long count = PyLong_AsLong(args[2]), number = PyLong_AsLong(args[3]);
    if (PyErr_Occurred())
        return NULL;
    long owner = part_of(&d, count);
    if (owner < 0 || owner == number)
        Py_RETURN_NONE;
    return Py_BuildValue("(II)", d.sport, d.dport);
}

/* ---------------------------------------------------------------- pcap_walk */

/* readers.MAX_CAPLEN: a larger captured length means a corrupt record */
#define MAX_CAPLEN 262144

/* the slots of pcap_walk's state array (int64 each), carried from block to block */
enum {
    S_NUMBER,          /* frames read so far (the last frame's number) */
    S_LAST_TS,         /* the last frame's timestamp, ns */
    S_BACKWARDS,       /* timestamps lower than the one before */
    S_FIRST_BACKWARDS, /* the first such frame's number, 0 for none */
    S_OVER_SNAPLEN,    /* frames longer than the header's snap length */
    S_FIRST_OVER,      /* the first such frame's number, 0 for none */
    S_PASSED,          /* frames passed over (another worker's part) */
    S_COUNT
};

static inline uint32_t rd32(const unsigned char *p, int big)
{
    if (big)
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

/* (count, bytes) of frames passed over, for the caller's counters and progress line */
static int append_passed(PyObject *items, long long count, long long bytes)
{
    PyObject *passed = Py_BuildValue("(LL)", count, bytes);
    if (passed == NULL)
        return -1;
    int rc = PyList_Append(items, passed);
    Py_DECREF(passed);
    return rc;
}

/*
 * pcap_walk(block, state, flags, snaplen, linktype, path, new_frame, shard)
 *     -> (items, used, corrupt)
 *
 * The classic pcap records that lie whole in ``block`` (bytes from a record boundary
 * on), as sipladder.readers._PcapReader.records and _frames_of read them: each record
 * header (ts_sec, ts_frac, caplen, orig_len, in the byte order of flags bit 0 = big
 * endian; flags bit 1: nanosecond fractions) gives a frame numbered after the state's
 * last, and the state's bookkeeping is updated as _frames_of does it (timestamps going
 * back, frames longer than a nonzero ``snaplen``). Every frame becomes
 * new_frame(path, number, ts_ns, linktype, data, orig_len), in ``items``, except, when
 * ``shard`` is (count, number, ports) rather than None, a frame that
 * pipeline.messages_from_frames would pass over: not empty, other_shard(linktype, data,
 * count, number) finds it, and neither of its ports has its bit set in the 8192-byte
 * bitmap ``ports`` (the decoder's udp_ports). Such frames are only counted: a run of
 * them in a row is one (frames, bytes) tuple in ``items`` (bytes: their captured
 * lengths plus 16 each), before the frame that ends it or at the end. A frame that
 * other_shard's test finds to be of the part ``number`` itself (the same datagram and
 * ports tests, one SIP message by split_datagram's fast path, a Call-ID hint of this
 * part) is the 1-tuple (frame,): the caller need not look for the message and its
 * hint again.
 *
 * ``used`` is where the first record not read begins: its header or data goes past the
 * block's end (the caller reads on), or, with ``corrupt`` >= 0, its header claims
 * ``corrupt`` bytes, more than MAX_CAPLEN (the caller reports the file corrupt there).
 * ``corrupt`` is -1 otherwise.
 */
static PyObject *accel_pcap_walk(PyObject *Py_UNUSED(self), PyObject *const *args,
                                 Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "pcap_walk(block, state, flags, snaplen, linktype, path, new_frame, "
                        "shard)");
        return NULL;
    }
    PyObject *linktype_obj = args[4], *path = args[5], *new_frame = args[6], *shard = args[7];
    long flags = PyLong_AsLong(args[2]);
    unsigned long long snaplen = PyLong_AsUnsignedLongLong(args[3]);
    long linktype = PyLong_AsLong(linktype_obj);
    long count = 0, number = 0;
    if (PyErr_Occurred())
        return NULL;
    Py_buffer block, state, ports;
    ports.buf = NULL;
    if (shard != Py_None) {
        if (!PyTuple_Check(shard) || PyTuple_GET_SIZE(shard) != 3) {
            PyErr_SetString(PyExc_TypeError, "shard: (count, number, ports) or None");
            return NULL;
        }
        count = PyLong_AsLong(PyTuple_GET_ITEM(shard, 0));
        number = PyLong_AsLong(PyTuple_GET_ITEM(shard, 1));
        if (PyErr_Occurred())
            return NULL;
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(shard, 2), &ports, PyBUF_SIMPLE) < 0)
            return NULL;
        if (ports.len != 8192) {
            PyBuffer_Release(&ports);
            PyErr_SetString(PyExc_ValueError, "ports: a bitmap of 65536 bits (8192 bytes)");
            return NULL;
        }
    }
    if (PyObject_GetBuffer(args[0], &block, PyBUF_SIMPLE) < 0)
        goto fail_ports;
    if (PyObject_GetBuffer(args[1], &state, PyBUF_WRITABLE) < 0)
        goto fail_block;
    if (state.len < (Py_ssize_t)(S_COUNT * sizeof(int64_t)) || state.itemsize != 8) {
        PyErr_SetString(PyExc_ValueError, "state: an array('q') of 7 or more items");
        goto fail_state;
    }
    PyObject *items = PyList_New(0);
    if (items == NULL)
        goto fail_state;
    int64_t *s = (int64_t *)state.buf;
    const unsigned char *buf = (const unsigned char *)block.buf, *bitmap = ports.buf;
    const int big = (flags & 1) != 0;
    const int64_t scale = (flags & 2) ? 1 : 1000;
    Py_ssize_t n = block.len, off = 0;
    long long corrupt = -1, passed = 0, passed_bytes = 0;
    while (n - off >= 16) {
        const unsigned char *h = buf + off;
        uint32_t caplen = rd32(h + 8, big);
        if (caplen > MAX_CAPLEN) {
            corrupt = caplen;
            break;
        }
        if ((Py_ssize_t)caplen > n - off - 16)
            break;
        const unsigned char *data = h + 16;
        int64_t frame_number = ++s[S_NUMBER];
        int64_t ts = (int64_t)rd32(h, big) * 1000000000 + (int64_t)rd32(h + 4, big) * scale;
        if (ts < s[S_LAST_TS]) {
            s[S_BACKWARDS]++;
            if (!s[S_FIRST_BACKWARDS])
                s[S_FIRST_BACKWARDS] = frame_number;
        }
        s[S_LAST_TS] = ts;
        if (snaplen > 0 && caplen > snaplen) {
            s[S_OVER_SNAPLEN]++;
            if (!s[S_FIRST_OVER])
                s[S_FIRST_OVER] = frame_number;
        }
        off += 16 + (Py_ssize_t)caplen;
        int own = 0;
        if (bitmap != NULL && caplen > 0) {
            Datagram d;
            if (plain_udp(linktype, data, caplen, &d) && !d.truncated &&
                !(bitmap[d.sport >> 3] & (1 << (d.sport & 7))) &&
                !(bitmap[d.dport >> 3] & (1 << (d.dport & 7))) &&
                looks_like_sip_impl(d.data, d.length)) {
                long owner = part_of(&d, count);
                if (owner >= 0 && owner != number) {
                    s[S_PASSED]++;
                    passed++;
                    passed_bytes += caplen + 16;
                    continue;
                }
                own = owner >= 0;
            }
        }
        if (passed) {
            if (append_passed(items, passed, passed_bytes) < 0)
                goto fail_items;
            passed = passed_bytes = 0;
        }
        PyObject *fargs[6] = {path, NULL, NULL, linktype_obj, NULL, NULL};
        fargs[1] = PyLong_FromLongLong(frame_number);
        fargs[2] = PyLong_FromLongLong(ts);
        fargs[4] = PyBytes_FromStringAndSize((const char *)data, caplen);
        fargs[5] = PyLong_FromUnsignedLong(rd32(h + 12, big));
        PyObject *frame = NULL;
        if (fargs[1] && fargs[2] && fargs[4] && fargs[5])
            frame = PyObject_Vectorcall(new_frame, fargs, 6, NULL);
        Py_XDECREF(fargs[1]);
        Py_XDECREF(fargs[2]);
        Py_XDECREF(fargs[4]);
        Py_XDECREF(fargs[5]);
        if (frame == NULL)
            goto fail_items;
        if (own) { /* (frame,): the worker's own plain datagram of one SIP message */
            PyObject *one = PyTuple_Pack(1, frame);
            Py_DECREF(frame);
            if (one == NULL)
                goto fail_items;
            frame = one;
        }
        int rc = PyList_Append(items, frame);
        Py_DECREF(frame);
        if (rc < 0)
            goto fail_items;
    }
    if (passed && append_passed(items, passed, passed_bytes) < 0)
        goto fail_items;
    PyBuffer_Release(&state);
    PyBuffer_Release(&block);
    if (ports.buf != NULL)
        PyBuffer_Release(&ports);
    return Py_BuildValue("(NnL)", items, off, corrupt);

fail_items:
    Py_DECREF(items);
fail_state:
    PyBuffer_Release(&state);
fail_block:
    PyBuffer_Release(&block);
fail_ports:
    if (ports.buf != NULL)
        PyBuffer_Release(&ports);
    return NULL;
}

/* ------------------------------------------------------------ parse fast path */

/*
 * sipladder.sip.parser._parse for the message that breaks no rule, in one call.
 *
 * The Python parser is the reference: this walks the same steps as its fast path
 * (CRLF line ends, no folding, every line looked up in the parser's own memo tables,
 * whose entries the parser's own functions make on a miss: they are called from here)
 * and builds the same record with the parser's own constructor. At the first sign of
 * anything the parser would report (an anomaly of any kind, a line that needs its text
 * path, a number outside its small-number table, a body other than SDP) it gives up and
 * returns None, and the caller runs the Python parser from the start: the result is
 * always the Python parser's. The memo entries are the parser's immutable tuples; every
 * one read is held (a reference) until the end, because a parser function called on a
 * miss may empty a full table.
 */

enum {
    F_CALL_ID, F_CSEQ, F_FROM, F_TO, F_VIA, F_MAX_FORWARDS, F_EXPIRES, F_DATE,
    F_CONTENT_TYPE, F_CONTENT_LENGTH, F_COUNT
};

/* the parser's tables and functions, given once by parse_setup() */
static struct {
    PyObject *line_cache, *line_miss;   /* _LINE_B_CACHE, _header_line_b */
    PyObject *start_cache, *start_miss; /* _START_B_CACHE, _start_line_b */
    PyObject *cseq_cache, *cseq_miss;   /* _CSEQ_CACHE, _cseq */
    PyObject *addr_cache, *addr_miss;   /* _ADDR_CACHE, _name_addr */
    PyObject *via_cache, *via_miss;     /* _VIA_CACHE, _via */
    PyObject *small_ints;               /* _SMALL_INTS: "0".."4095" -> int */
    PyObject *media_type;               /* sdp.media_type */
    PyObject *build;                    /* _build_lazy, every field in order */
    PyObject *lazy;                     /* _LAZY */
    PyObject *names;                    /* canonical header name -> F_* */
    PyObject *is_sdp;                   /* Content-Type -> media type is application/sdp */
    PyObject *s_method, *s_params, *s_expires, *s_star, *s_sdp, *s_gmt;
    /* for the compiled misses (below): the parser's module globals (its limits, read at
     * each store as _remember does), tables and the functions they fall back on */
    PyObject *globals, *canonical, *multi_slot, *list_headers, *interned;
    PyObject *param_names, *param_name, *split_params;
    PyObject *via_head_cache, *via_head, *new_via;
    PyObject *addr_head_cache, *addr_head, *new_name_addr;
    PyObject *s_cache_limit, *s_line_cache_limit, *s_memo_max_key, *s_branch, *s_cookie;
} P;

#define MAX_HELD 256 /* memo entries held by one message; more: the Python parser */
#define MAX_NAMES 64
#define MAX_MULTI 32

typedef struct {
    PyObject *held[MAX_HELD];
    int n_held;
} Held;

/* keep a new reference until the end (steals it); 0 when full (the reference dropped) */
static int hold(Held *h, PyObject *o)
{
    if (h->n_held >= MAX_HELD) {
        Py_DECREF(o);
        return 0;
    }
    h->held[h->n_held++] = o;
    return 1;
}

static PyObject *line_miss(PyObject *line);
static PyObject *via_miss(PyObject *value);
static PyObject *addr_miss(PyObject *value);
static PyObject *start_miss(PyObject *line) { return PyObject_CallOneArg(P.start_miss, line); }
static PyObject *cseq_miss(PyObject *value) { return PyObject_CallOneArg(P.cseq_miss, value); }

/* cache.get(key) or miss(key), held; NULL with an exception set, or with none for a
 * result the fast path cannot use (None, or no room to hold it) */
typedef PyObject *(*Miss)(PyObject *key);

/* A memo entry of another shape than the parser's: a SystemError, not a crash (the
 * parser's entries changed without this file) */
static int shape_error(const char *what)
{
    PyErr_Format(PyExc_SystemError,
                 "_sipladder_accel.parse_fast: a %s of unexpected shape (csrc/ out of date?)",
                 what);
    return 0;
}

static inline int tuple_of(PyObject *o, Py_ssize_t size, const char *what)
{
    return (PyTuple_CheckExact(o) && PyTuple_GET_SIZE(o) == size) || shape_error(what);
}

static PyObject *memo(Held *h, PyObject *cache, Miss miss, PyObject *key, Py_ssize_t size)
{
    PyObject *hit = PyDict_GetItemWithError(cache, key);
    if (hit != NULL)
        Py_INCREF(hit);
    else if (PyErr_Occurred())
        return NULL;
    else if ((hit = miss(key)) == NULL)
        return NULL;
    if (hit == Py_None || !hold(h, hit)) {
        if (hit == Py_None)
            Py_DECREF(hit);
        return NULL;
    }
    return tuple_of(hit, size, "memo entry") ? hit : NULL;
}

/* _SMALL_INTS[value] (borrowed), or NULL (a larger or odd number: the Python parser) */
static PyObject *small_int(PyObject *value)
{
    PyObject *number = PyDict_GetItemWithError(P.small_ints, value);
    return number;
}

/* a name-addr value's memo entry (record, code, reason, (record,)) without anomaly */
static PyObject *clean_addr(Held *h, PyObject *value)
{
    PyObject *r = memo(h, P.addr_cache, addr_miss, value, 4);
    if (r == NULL || PyTuple_GET_ITEM(r, 1) != Py_None || PyTuple_GET_ITEM(r, 0) == Py_None)
        return NULL;
    return r;
}

/* tuple(records) of name-addr values (Route, Record-Route, several Contacts), each
 * without anomaly; NULL otherwise */
static PyObject *addr_list(Held *h, PyObject **values, int count)
{
    PyObject *out = PyTuple_New(count);
    if (out == NULL)
        return NULL;
    for (int i = 0; i < count; i++) {
        PyObject *r = clean_addr(h, values[i]);
        if (r == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyObject *addr = PyTuple_GET_ITEM(r, 0);
        Py_INCREF(addr);
        PyTuple_SET_ITEM(out, i, addr);
    }
    return out;
}

static int str_has(PyObject *s, Py_UCS4 ch)
{
    return PyUnicode_FindChar(s, ch, 0, PyUnicode_GET_LENGTH(s), 1) != -1;
}

static int str_eq(PyObject *a, PyObject *b)
{
    return a == b || (PyUnicode_Check(a) && PyUnicode_Check(b) && PyUnicode_Compare(a, b) == 0);
}


/* ------------------------------------------------ parse fast path: memo misses */

/*
 * The parser's functions for a value not in its memo tables yet, for the usual
 * value: _header_line_b, _via and _name_addr, with headers.split_params. Each does
 * what the Python function does and stores the same entry in the same table; for any
 * value out of the ordinary (not ASCII, an unknown header name, a list, quotes, an
 * anomaly to report) it calls the Python function itself, which then does it all.
 */

/* str.isspace() of an ASCII character (str.strip() without arguments removes these) */
static inline int py_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* a limit of the parser (a module global, read at each call as _remember reads it) */
static Py_ssize_t parser_limit(PyObject *name, Py_ssize_t fallback)
{
    PyObject *value = PyDict_GetItemWithError(P.globals, name);
    if (value == NULL || !PyLong_Check(value))
        return fallback;
    return PyLong_AsSsize_t(value);
}

/* parser._remember(cache, key, value[, limit]) */
static int remember(PyObject *cache, PyObject *key, Py_ssize_t key_length, PyObject *value,
                    PyObject *limit_name)
{
    if (key_length > parser_limit(P.s_memo_max_key, 1024))
        return PyErr_Occurred() ? -1 : 0;
    Py_ssize_t limit = parser_limit(limit_name, 8192);
    if (PyErr_Occurred())
        return -1;
    if (PyDict_GET_SIZE(cache) >= limit)
        PyDict_Clear(cache);
    return PyDict_SetItem(cache, key, value);
}

/* headers.split_params(text) */
static PyObject *split_params(PyObject *text)
{
    if (!PyUnicode_IS_ASCII(text) || str_has(text, '"'))
        return PyObject_CallOneArg(P.split_params, text);
    const unsigned char *s = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t i = 0, j = PyUnicode_GET_LENGTH(text);
    while (i < j && py_space(s[i]))
        i++;
    while (j > i && py_space(s[j - 1]))
        j--;
    PyObject *params = PyList_New(0);
    if (params == NULL)
        return NULL;
    if (i == j) { /* (an empty text: no pieces at all) */
        Py_DECREF(params);
        return PyTuple_New(0);
    }
    while (1) { /* each piece of text.split(";"), the empty ones too */
        Py_ssize_t end = i;
        while (end < j && s[end] != ';')
            end++;
        /* piece s[i:end]: written, "=", value */
        Py_ssize_t eq = i;
        while (eq < end && s[eq] != '=')
            eq++;
        PyObject *written = PyUnicode_FromStringAndSize((const char *)s + i, eq - i);
        if (written == NULL)
            goto error;
        PyObject *name = PyDict_GetItemWithError(P.param_names, written);
        if (name != NULL)
            Py_INCREF(name);
        else if (!PyErr_Occurred())
            name = PyObject_CallOneArg(P.param_name, written);
        Py_DECREF(written);
        if (name == NULL)
            goto error;
        if (PyUnicode_Check(name) && PyUnicode_GET_LENGTH(name) == 0) {
            Py_DECREF(name); /* (an empty name: the piece is left out) */
        } else {
            PyObject *value;
            if (eq < end) {
                Py_ssize_t a = eq + 1, b = end;
                while (a < b && py_space(s[a]))
                    a++;
                while (b > a && py_space(s[b - 1]))
                    b--;
                value = PyUnicode_FromStringAndSize((const char *)s + a, b - a);
            } else {
                value = Py_None;
                Py_INCREF(value);
            }
            PyObject *pair = value == NULL ? NULL : PyTuple_Pack(2, name, value);
            Py_DECREF(name);
            Py_XDECREF(value);
            if (pair == NULL || PyList_Append(params, pair) < 0) {
                Py_XDECREF(pair);
                goto error;
            }
            Py_DECREF(pair);
        }
        if (end >= j)
            break;
        i = end + 1;
    }
    PyObject *out = PyList_AsTuple(params);
    Py_DECREF(params);
    return out;
error:
    Py_DECREF(params);
    return NULL;
}

/* text ends with ";" once trailing whitespace is gone, or holds ";;": the parser
 * reports an empty parameter */
static int empty_param(const unsigned char *s, Py_ssize_t n)
{
    while (n > 0 && py_space(s[n - 1]))
        n--;
    if (n > 0 && s[n - 1] == ';')
        return 1;
    for (Py_ssize_t i = 0; i + 1 < n; i++)
        if (s[i] == ';' && s[i + 1] == ';')
            return 1;
    return 0;
}

/* parser._header_line_b(line) */
static PyObject *line_miss(PyObject *line)
{
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(line);
    Py_ssize_t n = PyBytes_GET_SIZE(line), colon = -1;
    if (n == 0 || s[0] == ' ' || s[0] == '\t')
        return PyObject_CallOneArg(P.line_miss, line);
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c >= 0x80 || c == '\n' || c == 0)
            return PyObject_CallOneArg(P.line_miss, line);
        if (c == ':' && colon < 0)
            colon = i;
    }
    if (colon < 0)
        return PyObject_CallOneArg(P.line_miss, line);
    PyObject *name = PyUnicode_FromStringAndSize((const char *)s, colon);
    if (name == NULL)
        return NULL;
    PyObject *canon = PyDict_GetItemWithError(P.canonical, name);
    Py_DECREF(name);
    if (canon == NULL)
        return PyErr_Occurred() ? NULL : PyObject_CallOneArg(P.line_miss, line);
    Py_ssize_t a = colon + 1, b = n;
    while (a < b && py_space(s[a]))
        a++;
    while (b > a && py_space(s[b - 1]))
        b--;
    int is_list = PySet_Contains(P.list_headers, canon);
    if (is_list < 0)
        return NULL;
    if (is_list && memchr(s + a, ',', (size_t)(b - a)) != NULL)
        return PyObject_CallOneArg(P.line_miss, line); /* a list to split */
    PyObject *value = PyUnicode_FromStringAndSize((const char *)s + a, b - a);
    if (value == NULL)
        return NULL;
    int intern = PySet_Contains(P.interned, canon);
    if (intern < 0) {
        Py_DECREF(value);
        return NULL;
    }
    if (intern)
        PyUnicode_InternInPlace(&value);
    PyObject *slot = PyDict_GetItemWithError(P.multi_slot, canon);
    PyObject *pair = PyTuple_Pack(2, canon, value), *pairs = NULL, *result = NULL;
    if (pair != NULL && (pairs = PyTuple_Pack(1, pair)) != NULL) {
        if (slot == NULL) {
            if (!PyErr_Occurred())
                result = PyTuple_Pack(2, pairs, Py_None);
        } else {
            /* (pairs, values, slot, n_extra, anomalies): Via, Contact, Route, Record-Route */
            PyObject *values = PyTuple_Pack(1, value), *zero = PyLong_FromLong(0), *info = NULL;
            if (values != NULL && zero != NULL)
                info = PyTuple_Pack(5, pairs, values, slot, zero, Py_None);
            if (info != NULL)
                result = PyTuple_Pack(2, pairs, info);
            Py_XDECREF(values);
            Py_XDECREF(zero);
            Py_XDECREF(info);
        }
    }
    Py_DECREF(value);
    Py_XDECREF(pair);
    Py_XDECREF(pairs);
    if (result != NULL && remember(P.line_cache, line, n, result, P.s_line_cache_limit) < 0)
        Py_CLEAR(result);
    return result;
}

/* (record, None, None, (record,)), the memo entry of a value without anomaly, stored */
static PyObject *clean_entry(PyObject *cache, PyObject *key, PyObject *record)
{
    PyObject *alone = PyTuple_Pack(1, record);
    PyObject *entry = alone == NULL ? NULL : PyTuple_Pack(4, record, Py_None, Py_None, alone);
    Py_XDECREF(alone);
    if (entry != NULL &&
        remember(cache, key, PyUnicode_GET_LENGTH(key), entry, P.s_cache_limit) < 0)
        Py_CLEAR(entry);
    return entry;
}

/* parser._via(value): a via-parm whose head (before the first ";") the parser knows,
 * with a good branch and no empty parameter */
static PyObject *via_miss(PyObject *value)
{
    if (!PyUnicode_IS_ASCII(value))
        return PyObject_CallOneArg(P.via_miss, value);
    const unsigned char *s = PyUnicode_1BYTE_DATA(value);
    Py_ssize_t n = PyUnicode_GET_LENGTH(value), semi = 0;
    while (semi < n && s[semi] != ';')
        semi++;
    PyObject *prefix = PyUnicode_Substring(value, 0, semi);
    if (prefix == NULL)
        return NULL;
    PyObject *head = PyDict_GetItemWithError(P.via_head_cache, prefix);
    if (head != NULL)
        Py_INCREF(head);
    else if (!PyErr_Occurred())
        head = PyObject_CallOneArg(P.via_head, prefix);
    Py_DECREF(prefix);
    if (head == NULL)
        return NULL;
    if (!PyTuple_Check(head) || PyTuple_GET_SIZE(head) != 4 || empty_param(s + semi, n - semi)) {
        Py_DECREF(head);
        return PyObject_CallOneArg(P.via_miss, value);
    }
    PyObject *text = PyUnicode_Substring(value, semi, n);
    PyObject *params = text == NULL ? NULL : split_params(text);
    Py_XDECREF(text);
    if (params == NULL) {
        Py_DECREF(head);
        return NULL;
    }
    /* RFC 3261 8.1.1.7: the first branch parameter, with the magic cookie and more */
    PyObject *branch = NULL;
    if (!PyTuple_CheckExact(params)) {
        Py_DECREF(head);
        Py_DECREF(params);
        shape_error("parameter list");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(params); i++) {
        PyObject *param = PyTuple_GET_ITEM(params, i);
        if (!tuple_of(param, 2, "parameter")) {
            Py_DECREF(head);
            Py_DECREF(params);
            return NULL;
        }
        if (str_eq(PyTuple_GET_ITEM(param, 0), P.s_branch)) {
            branch = PyTuple_GET_ITEM(param, 1);
            break;
        }
    }
    if (branch == NULL || !PyUnicode_Check(branch) ||
        PyUnicode_Tailmatch(branch, P.s_cookie, 0, PY_SSIZE_T_MAX, -1) != 1 ||
        PyUnicode_GET_LENGTH(branch) == PyUnicode_GET_LENGTH(P.s_cookie)) {
        Py_DECREF(head);
        Py_DECREF(params);
        return PyErr_Occurred() ? NULL : PyObject_CallOneArg(P.via_miss, value);
    }
    PyObject *args[5] = {PyTuple_GET_ITEM(head, 0), PyTuple_GET_ITEM(head, 1),
                         PyTuple_GET_ITEM(head, 2), PyTuple_GET_ITEM(head, 3), params};
    PyObject *via = PyObject_Vectorcall(P.new_via, args, 5, NULL);
    Py_DECREF(head);
    Py_DECREF(params);
    if (via == NULL)
        return NULL;
    PyObject *entry = clean_entry(P.via_cache, value, via);
    Py_DECREF(via);
    return entry;
}

/* parser._name_addr(value): ``display <uri>;params`` without quotes, whose part up to
 * ">" the parser knows and finds good, with no empty parameter */
static PyObject *addr_miss(PyObject *value)
{
    if (!PyUnicode_IS_ASCII(value) || str_has(value, '"'))
        return PyObject_CallOneArg(P.addr_miss, value);
    const unsigned char *s = PyUnicode_1BYTE_DATA(value);
    Py_ssize_t n = PyUnicode_GET_LENGTH(value), lt = 0, gt;
    while (lt < n && s[lt] != '<')
        lt++;
    for (gt = lt; gt < n && s[gt] != '>'; gt++)
        ;
    if (gt >= n)
        return PyObject_CallOneArg(P.addr_miss, value);
    PyObject *head = PyUnicode_Substring(value, 0, gt + 1);
    if (head == NULL)
        return NULL;
    PyObject *known = PyDict_GetItemWithError(P.addr_head_cache, head);
    if (known != NULL)
        Py_INCREF(known);
    else if (!PyErr_Occurred()) {
        PyObject *at = PyLong_FromSsize_t(lt);
        PyObject *args[2] = {head, at};
        known = at == NULL ? NULL : PyObject_Vectorcall(P.addr_head, args, 2, NULL);
        Py_XDECREF(at);
    }
    Py_DECREF(head);
    if (known == NULL)
        return NULL;
    Py_ssize_t p = gt + 1;
    while (p < n && (s[p] == ' ' || s[p] == '\t')) /* (SWS) */
        p++;
    if (!PyTuple_Check(known) || PyTuple_GET_SIZE(known) != 4 ||
        PyTuple_GET_ITEM(known, 2) != Py_None || empty_param(s + p, n - p)) {
        Py_DECREF(known);
        return PyObject_CallOneArg(P.addr_miss, value); /* an anomaly to report */
    }
    PyObject *text = PyUnicode_Substring(value, p, n);
    PyObject *params = text == NULL ? NULL : split_params(text);
    Py_XDECREF(text);
    if (params == NULL) {
        Py_DECREF(known);
        return NULL;
    }
    PyObject *args[3] = {PyTuple_GET_ITEM(known, 0), PyTuple_GET_ITEM(known, 1), params};
    PyObject *addr = PyObject_Vectorcall(P.new_name_addr, args, 3, NULL);
    Py_DECREF(known);
    Py_DECREF(params);
    if (addr == NULL)
        return NULL;
    PyObject *entry = clean_entry(P.addr_cache, value, addr);
    Py_DECREF(addr);
    return entry;
}

/* the miss functions, for tests: the same entries as the parser's */
static PyObject *accel_header_line(PyObject *Py_UNUSED(self), PyObject *line)
{
    if (P.build == NULL || !PyBytes_CheckExact(line)) {
        PyErr_SetString(PyExc_TypeError, "header_line: bytes, after parse_setup()");
        return NULL;
    }
    return line_miss(line);
}

static PyObject *accel_via(PyObject *Py_UNUSED(self), PyObject *value)
{
    if (P.build == NULL || !PyUnicode_CheckExact(value)) {
        PyErr_SetString(PyExc_TypeError, "via: str, after parse_setup()");
        return NULL;
    }
    return via_miss(value);
}

static PyObject *accel_name_addr(PyObject *Py_UNUSED(self), PyObject *value)
{
    if (P.build == NULL || !PyUnicode_CheckExact(value)) {
        PyErr_SetString(PyExc_TypeError, "name_addr: str, after parse_setup()");
        return NULL;
    }
    return addr_miss(value);
}

static PyObject *accel_split_params(PyObject *Py_UNUSED(self), PyObject *text)
{
    if (P.build == NULL || !PyUnicode_CheckExact(text)) {
        PyErr_SetString(PyExc_TypeError, "split_params: str, after parse_setup()");
        return NULL;
    }
    return split_params(text);
}

/* the next "\r\n" in s[pos:end] (memchr for the CR: memmem costs more on short lines),
 * or end */
static Py_ssize_t crlf_at(const char *s, Py_ssize_t pos, Py_ssize_t end)
{
    while (pos < end - 1) {
        const char *cr = memchr(s + pos, '\r', (size_t)(end - 1 - pos));
        if (cr == NULL)
            break;
        pos = cr - s;
        if (s[pos + 1] == '\n')
            return pos;
        pos++;
    }
    return end;
}

/* the body of parse_fast: the message (new reference), or NULL (with an exception set
 * for an error, without one for "the Python parser") */
static PyObject *parse_fast_impl(PyObject *data, Held *h)
{
    const char *s = PyBytes_AS_STRING(data);
    Py_ssize_t n = PyBytes_GET_SIZE(data);
    if (n == 0 || s[0] == '\r' || s[0] == '\n') /* CRLF keep-alives first: the parser */
        return NULL;
    Py_ssize_t crlf = find(s, 0, n, "\n\r\n", 3);
    if (crlf < 0)
        return NULL;

    /* data[:crlf].split(b"\r\n"): the start line, then the header lines */
    PyObject *start = NULL;
    PyObject *first[F_COUNT] = {NULL};
    PyObject *seen[MAX_NAMES]; /* distinct header names, in order */
    int n_seen = 0;
    Py_ssize_t total = 0, extra = 0;
    PyObject *multi[4][MAX_MULTI]; /* values of Via, Contact, Route, Record-Route */
    int n_multi[4] = {0, 0, 0, 0};
    Py_ssize_t pos = 0;
    while (1) {
        Py_ssize_t end = crlf_at(s, pos, crlf);
        PyObject *line = PyBytes_FromStringAndSize(s + pos, end - pos);
        if (line == NULL)
            return NULL;
        if (start == NULL) {
            /* _START_B_CACHE.get(line, _MISSING): a known non-start line is None */
            start = memo(h, P.start_cache, start_miss, line, 7);
            Py_DECREF(line);
            if (start == NULL || !PyTuple_Check(PyTuple_GET_ITEM(start, 6)) ||
                PyTuple_GET_SIZE(PyTuple_GET_ITEM(start, 6)) != 0)
                return NULL; /* not a start line, or one with anomalies */
        } else {
            PyObject *hit = memo(h, P.line_cache, line_miss, line, 2);
            Py_DECREF(line);
            if (hit == NULL)
                return NULL; /* (None: the line needs the parser's text path) */
            PyObject *pairs = PyTuple_GET_ITEM(hit, 0);
            if (!PyTuple_CheckExact(pairs)) {
                shape_error("header line entry");
                return NULL;
            }
            Py_ssize_t n_pairs = PyTuple_GET_SIZE(pairs);
            for (Py_ssize_t i = 0; i < n_pairs; i++) {
                PyObject *pair = PyTuple_GET_ITEM(pairs, i);
                if (!tuple_of(pair, 2, "header pair"))
                    return NULL;
                PyObject *canon = PyTuple_GET_ITEM(pair, 0);
                int known = 0;
                total++;
                for (int j = n_seen - 1; j >= 0; j--) {
                    if (str_eq(seen[j], canon)) {
                        known = 1;
                        break;
                    }
                }
                if (known)
                    continue;
                if (n_seen >= MAX_NAMES)
                    return NULL;
                seen[n_seen++] = canon;
                /* the first value of the names the eager fields read */
                PyObject *slot = PyDict_GetItemWithError(P.names, canon);
                if (slot != NULL) {
                    long f = PyLong_AsLong(slot);
                    if (f >= 0 && f < F_COUNT && first[f] == NULL)
                        first[f] = PyTuple_GET_ITEM(pair, 1);
                } else if (PyErr_Occurred())
                    return NULL;
            }
            PyObject *info = PyTuple_GET_ITEM(hit, 1);
            if (info != Py_None) {
                if (!tuple_of(info, 5, "header line entry"))
                    return NULL;
                if (!PyTuple_CheckExact(PyTuple_GET_ITEM(info, 1))) {
                    shape_error("header line entry");
                    return NULL;
                }
                /* (pairs, values, slot, n_extra, anomalies) */
                if (PyTuple_GET_ITEM(info, 4) != Py_None)
                    return NULL; /* the line has anomalies */
                if (n_pairs) {
                    PyObject *slot = PyTuple_GET_ITEM(info, 2);
                    if (slot != Py_None) {
                        long m = PyLong_AsLong(slot);
                        PyObject *values = PyTuple_GET_ITEM(info, 1);
                        if (m < 0 || m > 3)
                            return NULL;
                        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(values); i++) {
                            if (n_multi[m] >= MAX_MULTI)
                                return NULL;
                            multi[m][n_multi[m]++] = PyTuple_GET_ITEM(values, i);
                        }
                    } else {
                        extra += PyLong_AsSsize_t(PyTuple_GET_ITEM(info, 3));
                    }
                }
            }
        }
        if (end >= crlf)
            break;
        pos = end + 2;
    }
    if (PyErr_Occurred())
        return NULL;

    /* a single-valued header repeated (the parser looks closer, and reports it) */
    Py_ssize_t repeats = total - n_seen;
    if (repeats) {
        Py_ssize_t allowed = extra;
        for (int m = 0; m < 4; m++)
            allowed += n_multi[m] - (n_multi[m] > 0);
        if (repeats > allowed)
            return NULL;
    }
    /* RFC 3261 8.1.1 / 8.2.6.2: mandatory headers */
    PyObject *method = PyTuple_GET_ITEM(start, 1);
    if (!first[F_TO] || !first[F_FROM] || !first[F_CSEQ] || !first[F_CALL_ID] ||
        !first[F_VIA] || (method != Py_None && !first[F_MAX_FORWARDS]))
        return NULL;
    PyObject *call_id = first[F_CALL_ID];
    if (PyUnicode_GET_LENGTH(call_id) == 0 || str_has(call_id, ' ') || str_has(call_id, '\t'))
        return NULL;

    PyObject *r = memo(h, P.cseq_cache, cseq_miss, first[F_CSEQ], 2);
    if (r == NULL || !PyTuple_Check(PyTuple_GET_ITEM(r, 1)) ||
        PyTuple_GET_SIZE(PyTuple_GET_ITEM(r, 1)) != 0)
        return NULL;
    PyObject *cseq = PyTuple_GET_ITEM(r, 0);
    if (cseq == Py_None)
        return NULL;
    if (method != Py_None) {
        PyObject *cseq_method = PyObject_GetAttr(cseq, P.s_method);
        if (cseq_method == NULL)
            return NULL;
        int same = str_eq(cseq_method, method);
        Py_DECREF(cseq_method);
        if (!same)
            return NULL;
    }
    PyObject *from_r = clean_addr(h, first[F_FROM]);
    if (from_r == NULL)
        return NULL;
    PyObject *to_r = clean_addr(h, first[F_TO]);
    if (to_r == NULL)
        return NULL;

    /* Via: every value a via-parm without odd params, the top one's branch a good one */
    PyObject *vias;
    for (int i = 0; i < n_multi[0]; i++) {
        r = memo(h, P.via_cache, via_miss, multi[0][i], 4);
        if (r == NULL || PyTuple_GET_ITEM(r, 0) == Py_None || PyTuple_GET_ITEM(r, 1) != Py_None ||
            (i == 0 && PyTuple_GET_ITEM(r, 2) != Py_None))
            return NULL;
        multi[0][i] = r; /* (the entry, held) */
    }
    if (n_multi[0] == 1) {
        vias = PyTuple_GET_ITEM(multi[0][0], 3);
        if (!PyTuple_CheckExact(vias)) {
            shape_error("Via entry");
            return NULL;
        }
        Py_INCREF(vias);
    } else {
        if ((vias = PyTuple_New(n_multi[0])) == NULL)
            return NULL;
        for (int i = 0; i < n_multi[0]; i++) {
            PyObject *via = PyTuple_GET_ITEM(multi[0][i], 0);
            Py_INCREF(via);
            PyTuple_SET_ITEM(vias, i, via);
        }
    }
    if (!hold(h, vias))
        return NULL;

    /* Contact (not "*": the parser checks where it may stand), Route, Record-Route */
    PyObject *contacts = NULL, *routes = NULL, *record_routes = NULL;
    for (int i = 0; i < n_multi[1]; i++) {
        if (str_eq(multi[1][i], P.s_star))
            return NULL;
    }
    if (n_multi[1] == 1) {
        r = clean_addr(h, multi[1][0]);
        if (r == NULL)
            return NULL;
        contacts = PyTuple_GET_ITEM(r, 3);
        if (!PyTuple_CheckExact(contacts)) {
            shape_error("name-addr entry");
            return NULL;
        }
        Py_INCREF(contacts);
    } else
        contacts = addr_list(h, multi[1], n_multi[1]);
    if (contacts == NULL || !hold(h, contacts))
        return NULL;
    routes = addr_list(h, multi[2], n_multi[2]);
    if (routes == NULL || !hold(h, routes))
        return NULL;
    record_routes = addr_list(h, multi[3], n_multi[3]);
    if (record_routes == NULL || !hold(h, record_routes))
        return NULL;

    PyObject *max_forwards = Py_None, *expires = Py_None, *content_length = Py_None;
    if (first[F_MAX_FORWARDS] != NULL) {
        max_forwards = small_int(first[F_MAX_FORWARDS]);
        if (max_forwards == NULL || PyLong_AsLong(max_forwards) > 255)
            return NULL;
    }
    if (first[F_EXPIRES] != NULL && (expires = small_int(first[F_EXPIRES])) == NULL)
        return NULL;
    /* each Contact's first expires parameter: a number the parser takes without a word */
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(contacts); i++) {
        PyObject *params = PyObject_GetAttr(PyTuple_GET_ITEM(contacts, i), P.s_params);
        if (params == NULL || !hold(h, params) || !PyTuple_Check(params))
            return NULL;
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(params); j++) {
            PyObject *param = PyTuple_GET_ITEM(params, j);
            if (!tuple_of(param, 2, "parameter"))
                return NULL;
            if (str_eq(PyTuple_GET_ITEM(param, 0), P.s_expires)) {
                PyObject *value = PyTuple_GET_ITEM(param, 1);
                if (value != Py_None && small_int(value) == NULL)
                    return NULL;
                break;
            }
        }
    }
    if (first[F_DATE] != NULL &&
        PyUnicode_Tailmatch(first[F_DATE], P.s_gmt, 0, PY_SSIZE_T_MAX, 1) != 1)
        return NULL;

    /* RFC 3261 7.4 / 18.3: the body, cut by Content-Length */
    Py_ssize_t body_start = crlf + 3, available = n - body_start, body_length;
    if (first[F_CONTENT_LENGTH] != NULL) {
        content_length = small_int(first[F_CONTENT_LENGTH]);
        if (content_length == NULL)
            return NULL;
        body_length = PyLong_AsSsize_t(content_length);
        if (body_length > available)
            return NULL;
        for (Py_ssize_t i = body_start + body_length; i < n; i++) {
            char c = s[i];
            if (c != '\r' && c != '\n' && c != '\t' && c != ' ')
                return NULL; /* trailing data */
        }
    } else if (available > 0) {
        return NULL; /* a body without Content-Length */
    } else {
        body_length = 0;
    }
    PyObject *content_type = first[F_CONTENT_TYPE] ? first[F_CONTENT_TYPE] : Py_None;
    PyObject *sdp = Py_None;
    if (body_length > 0 && content_type != Py_None) {
        PyObject *is_sdp = PyDict_GetItemWithError(P.is_sdp, content_type);
        if (is_sdp == NULL) {
            if (PyErr_Occurred())
                return NULL;
            PyObject *media = PyObject_CallOneArg(P.media_type, content_type);
            if (media == NULL)
                return NULL;
            is_sdp = str_eq(media, P.s_sdp) ? Py_True : Py_False;
            Py_DECREF(media);
            if (PyDict_GET_SIZE(P.is_sdp) >= 1024)
                PyDict_Clear(P.is_sdp);
            if (PyDict_SetItem(P.is_sdp, content_type, is_sdp) < 0)
                return NULL;
        }
        if (is_sdp != Py_True)
            return NULL; /* the parser reads other bodies (multipart) at once */
        sdp = P.lazy;
    }
    PyObject *raw;
    if (body_start + body_length < n) {
        raw = PyBytes_FromStringAndSize(s, body_start + body_length);
        if (raw == NULL || !hold(h, raw))
            return NULL;
    } else
        raw = data;
    PyObject *length = PyLong_FromSsize_t(body_length);
    if (length == NULL || !hold(h, length))
        return NULL;
    PyObject *no_anomalies = PyTuple_New(0);
    if (no_anomalies == NULL || !hold(h, no_anomalies))
        return NULL;
    PyObject *args[23] = {
        PyTuple_GET_ITEM(start, 0), method, PyTuple_GET_ITEM(start, 2),
        PyTuple_GET_ITEM(start, 3), PyTuple_GET_ITEM(start, 4), PyTuple_GET_ITEM(start, 5),
        P.lazy /* headers */, length /* body */, raw, call_id, cseq,
        PyTuple_GET_ITEM(from_r, 0), PyTuple_GET_ITEM(to_r, 0), vias, contacts, routes,
        record_routes, max_forwards, expires, content_type, content_length, sdp,
        no_anomalies,
    };
    return PyObject_Vectorcall(P.build, args, 23, NULL);
}

static PyObject *accel_parse_fast(PyObject *Py_UNUSED(self), PyObject *data)
{
    if (P.build == NULL || !PyBytes_CheckExact(data))
        Py_RETURN_NONE;
    Held h;
    h.n_held = 0;
    PyObject *result = parse_fast_impl(data, &h);
    for (int i = 0; i < h.n_held; i++)
        Py_DECREF(h.held[i]);
    if (result == NULL && !PyErr_Occurred())
        Py_RETURN_NONE;
    return result;
}

/* the parser's names parse_setup() takes from its module globals, in struct order */
static const struct {
    const char *name;
    PyObject **slot;
    char kind; /* 'd': a dict, 's': a set or frozenset, 'o': anything */
} SETUP[] = {
    {"_LINE_B_CACHE", &P.line_cache, 'd'}, {"_header_line_b", &P.line_miss, 'o'},
    {"_START_B_CACHE", &P.start_cache, 'd'}, {"_start_line_b", &P.start_miss, 'o'},
    {"_CSEQ_CACHE", &P.cseq_cache, 'd'}, {"_cseq", &P.cseq_miss, 'o'},
    {"_ADDR_CACHE", &P.addr_cache, 'd'}, {"_name_addr", &P.addr_miss, 'o'},
    {"_VIA_CACHE", &P.via_cache, 'd'}, {"_via", &P.via_miss, 'o'},
    {"_SMALL_INTS", &P.small_ints, 'd'}, {"media_type", &P.media_type, 'o'},
    {"_LAZY", &P.lazy, 'o'}, {"_CANONICAL", &P.canonical, 'd'},
    {"_MULTI_SLOT", &P.multi_slot, 'd'}, {"LIST_HEADERS", &P.list_headers, 's'},
    {"_INTERNED", &P.interned, 's'}, {"_PARAM_NAMES", &P.param_names, 'd'},
    {"_param_name", &P.param_name, 'o'}, {"split_params", &P.split_params, 'o'},
    {"_VIA_HEAD_CACHE", &P.via_head_cache, 'd'}, {"_via_head", &P.via_head, 'o'},
    {"_new_via", &P.new_via, 'o'}, {"_ADDR_HEAD_CACHE", &P.addr_head_cache, 'd'},
    {"_addr_head", &P.addr_head, 'o'}, {"_new_name_addr", &P.new_name_addr, 'o'},
    /* last: parse_fast works once this is set */
    {"_build_lazy", &P.build, 'o'},
};

static PyObject *accel_parse_setup(PyObject *Py_UNUSED(self), PyObject *namespace)
{
    static const char *names[F_COUNT] = {
        "Call-ID", "CSeq", "From", "To", "Via", "Max-Forwards", "Expires", "Date",
        "Content-Type", "Content-Length",
    };
    const size_t count = sizeof(SETUP) / sizeof(SETUP[0]);
    if (!PyDict_Check(namespace)) {
        PyErr_SetString(PyExc_TypeError, "parse_setup: expected the parser's globals()");
        return NULL;
    }
    PyObject *found[sizeof(SETUP) / sizeof(SETUP[0])];
    for (size_t i = 0; i < count; i++) {
        found[i] = PyDict_GetItemString(namespace, SETUP[i].name);
        if (found[i] == NULL || (SETUP[i].kind == 'd' && !PyDict_CheckExact(found[i])) ||
            (SETUP[i].kind == 's' && !PyAnySet_Check(found[i]))) {
            PyErr_Format(PyExc_TypeError, "parse_setup: the parser has no usable %s",
                         SETUP[i].name);
            return NULL;
        }
    }
    PyObject *table = PyDict_New();
    if (table == NULL)
        return NULL;
    for (int f = 0; f < F_COUNT; f++) {
        PyObject *key = PyUnicode_InternFromString(names[f]);
        PyObject *value = PyLong_FromLong(f);
        int failed = key == NULL || value == NULL || PyDict_SetItem(table, key, value) < 0;
        Py_XDECREF(key);
        Py_XDECREF(value);
        if (failed) {
            Py_DECREF(table);
            return NULL;
        }
    }
    if (P.s_method == NULL) {
        P.s_method = PyUnicode_InternFromString("method");
        P.s_params = PyUnicode_InternFromString("params");
        P.s_expires = PyUnicode_InternFromString("expires");
        P.s_star = PyUnicode_InternFromString("*");
        P.s_sdp = PyUnicode_InternFromString("application/sdp");
        P.s_gmt = PyUnicode_InternFromString(" GMT");
        P.s_cache_limit = PyUnicode_InternFromString("_CACHE_LIMIT");
        P.s_line_cache_limit = PyUnicode_InternFromString("_LINE_CACHE_LIMIT");
        P.s_memo_max_key = PyUnicode_InternFromString("_MEMO_MAX_KEY");
        P.s_branch = PyUnicode_InternFromString("branch");
        P.s_cookie = PyUnicode_InternFromString("z9hG4bK");
        P.is_sdp = PyDict_New();
        if (!P.s_method || !P.s_params || !P.s_expires || !P.s_star || !P.s_sdp || !P.s_gmt ||
            !P.s_cache_limit || !P.s_line_cache_limit || !P.s_memo_max_key || !P.s_branch ||
            !P.s_cookie || !P.is_sdp) {
            Py_DECREF(table);
            return NULL;
        }
    }
    Py_CLEAR(P.build); /* (parse_fast answers None while the tables change) */
    for (size_t i = 0; i < count; i++) {
        Py_INCREF(found[i]);
        Py_XSETREF(*SETUP[i].slot, found[i]);
    }
    Py_INCREF(namespace);
    Py_XSETREF(P.globals, namespace);
    Py_XSETREF(P.names, table);
    PyDict_Clear(P.is_sdp);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"looks_like_sip", accel_looks_like_sip, METH_O,
     "looks_like_sip(data: bytes) -> bool: as sipladder.sip.parser.looks_like_sip."},
    {"call_id_hint", accel_call_id_hint, METH_O,
     "call_id_hint(data: bytes) -> bytes | None: as sipladder.sip.skim.call_id_hint."},
    {"udp_payload", (PyCFunction)(void (*)(void))accel_udp_payload, METH_FASTCALL,
     "udp_payload(linktype: int, data: bytes) -> (src, dst, sport, dport, data, truncated)"
     " | None: a plain UDP datagram of the frame, as sipladder.net decodes it; None when"
     " the frame needs the Python decoder."},
    {"other_shard", (PyCFunction)(void (*)(void))accel_other_shard, METH_FASTCALL,
     "other_shard(linktype: int, data: bytes, count: int, number: int) -> (sport, dport)"
     " | None: the frame is one plain UDP SIP message of another worker's part."},
    {"pcap_walk", (PyCFunction)(void (*)(void))accel_pcap_walk, METH_FASTCALL,
     "pcap_walk(block, state, flags, snaplen, linktype, path, new_frame, shard) -> (items,"
     " used, corrupt): the whole classic pcap records in a block, as frames (and counts of"
     " frames passed over for a worker's shard), with the reader's bookkeeping in state."},
    {"parse_fast", accel_parse_fast, METH_O,
     "parse_fast(data: bytes) -> SipMessage | None: sipladder.sip.parser's result for a"
     " message that breaks no rule; None for any other (the Python parser then runs)."},
    {"parse_setup", accel_parse_setup, METH_O,
     "parse_setup(namespace: dict): the memo tables and functions of the parser, from"
     " its module globals (sipladder.sip.parser calls it once)."},
    {"header_line", accel_header_line, METH_O,
     "header_line(line: bytes): parser._header_line_b(line), the same entry stored."},
    {"via", accel_via, METH_O, "via(value: str): parser._via(value), the same entry stored."},
    {"name_addr", accel_name_addr, METH_O,
     "name_addr(value: str): parser._name_addr(value), the same entry stored."},
    {"split_params", accel_split_params, METH_O,
     "split_params(text: str): sipladder.sip.headers.split_params(text)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_sipladder_accel",
    .m_doc = "Compiled twins of sipladder's per-packet hot functions (see sipladder.accel).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__sipladder_accel(void)
{
    crc_init();
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "ACCEL_VERSION", ACCEL_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
