/*
 * rtpproc - SIP/SDP payload-type bindings (see sdp.h). Text is parsed
 * line by line within the datagram's bounds; nothing is assumed to be
 * NUL-terminated, and every field is copied with a length check before
 * conversion.
 */
#include "sdp.h"

#include <arpa/inet.h>
#include <string.h>

#include <glib.h>

#include "rtpproc/codec.h"

/* A view of bytes [p, p + n). */
typedef struct rp_span {
    const char *p;
    size_t n;
} rp_span;

#define SDP_MAX_PTS  32 /* payload types listed on one m= line that we keep */
#define SDP_NAME_LEN 32
#define SDP_ADDR_LEN 64

typedef struct rp_sdp_rtpmap {
    unsigned pt;
    char name[SDP_NAME_LEN];
    uint32_t rate;
    unsigned channels;
    bool octet_align;
    bool have_map;
} rp_sdp_rtpmap;

typedef struct rp_sdp_media {
    bool active;
    uint16_t port;
    bool have_addr;
    rtpproc_addr addr;
    unsigned npts;
    rp_sdp_rtpmap pts[SDP_MAX_PTS];
} rp_sdp_media;

static bool span_starts(rp_span s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.n >= n && memcmp(s.p, prefix, n) == 0;
}

/* The next space-separated token of `s` (advanced past it). */
static rp_span next_token(rp_span *s)
{
    while (s->n > 0 && *s->p == ' ') {
        s->p++;
        s->n--;
    }
    rp_span t = {s->p, 0};
    while (s->n > 0 && *s->p != ' ') {
        s->p++;
        s->n--;
        t.n++;
    }
    return t;
}

/* A decimal in [0, max] filling the whole span. */
static bool span_uint(rp_span s, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (s.n == 0 || s.n > 10)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Splits `s` at the first `c`: `s` keeps the head, the tail is returned. */
static rp_span split_at(rp_span *s, char c)
{
    const char *x = memchr(s->p, c, s->n);
    if (x == NULL)
        return (rp_span){s->p + s->n, 0};
    rp_span tail = {x + 1, s->n - (size_t)(x - s->p) - 1};
    s->n = (size_t)(x - s->p);
    return tail;
}

bool rp_sip_detect(const uint8_t *p, size_t len)
{
    /* "SIP/2.0 200 OK" or "INVITE sip:b@x SIP/2.0" (RFC 3261 7.1, 7.2). */
    const char *t = (const char *)p;
    if (len >= 8 && memcmp(t, "SIP/2.0 ", 8) == 0)
        return true;
    const char *eol = memchr(t, '\n', len < 512 ? len : 512);
    if (eol == NULL)
        return false;
    size_t n = (size_t)(eol - t);
    if (n > 0 && t[n - 1] == '\r')
        n--;
    return n > 8 && t[0] >= 'A' && t[0] <= 'Z' && memcmp(t + n - 8, " SIP/2.0", 8) == 0;
}

/* c=IN IP4 192.0.2.1 (RFC 4566 5.7); a multicast "/ttl" suffix is dropped. */
static bool parse_connection(rp_span v, rtpproc_addr *out)
{
    char buf[SDP_ADDR_LEN];
    rp_span net = next_token(&v), type = next_token(&v), addr = next_token(&v);
    if (net.n != 2 || memcmp(net.p, "IN", 2) != 0 || type.n != 3)
        return false;
    (void)split_at(&addr, '/');
    if (addr.n == 0 || addr.n >= sizeof(buf))
        return false;
    memcpy(buf, addr.p, addr.n);
    buf[addr.n] = '\0';
    memset(out, 0, sizeof(*out));
    if (memcmp(type.p, "IP4", 3) == 0 && inet_pton(AF_INET, buf, out->bytes) == 1) {
        out->family = 4;
        return true;
    }
    if (memcmp(type.p, "IP6", 3) == 0 && inet_pton(AF_INET6, buf, out->bytes) == 1) {
        out->family = 6;
        return true;
    }
    return false;
}

/* m=audio 49170[/2] RTP/AVP 0 8 97 (RFC 4566 5.14) */
static void parse_media(rp_span v, rp_sdp_media *m)
{
    memset(m, 0, sizeof(*m));
    (void)next_token(&v); /* media type: bindings of any type are kept */
    rp_span port = next_token(&v);
    (void)split_at(&port, '/');
    uint32_t pv;
    if (!span_uint(port, 65535, &pv) || pv == 0)
        return; /* port 0: the stream is rejected or disabled (RFC 3264 6) */
    rp_span proto = next_token(&v);
    if (proto.n < 3 || memcmp(proto.p, "RTP", 3) != 0)
        return;
    m->active = true;
    m->port = (uint16_t)pv;
    for (rp_span f = next_token(&v); f.n > 0 && m->npts < SDP_MAX_PTS; f = next_token(&v)) {
        uint32_t pt;
        if (span_uint(f, 127, &pt))
            m->pts[m->npts++].pt = pt;
    }
}

static rp_sdp_rtpmap *media_pt(rp_sdp_media *m, uint32_t pt)
{
    for (unsigned i = 0; i < m->npts; i++) {
        if (m->pts[i].pt == pt)
            return &m->pts[i];
    }
    return NULL;
}

/* a=rtpmap:97 AMR/8000/1 (RFC 4566 6) */
static void parse_rtpmap(rp_span v, rp_sdp_media *m)
{
    rp_span pt_s = next_token(&v), enc = next_token(&v);
    uint32_t pt, rate = 0, ch = 0;
    if (!span_uint(pt_s, 127, &pt))
        return;
    rp_sdp_rtpmap *r = media_pt(m, pt);
    if (r == NULL)
        return;
    rp_span rest = split_at(&enc, '/');
    rp_span chs = split_at(&rest, '/');
    if (enc.n == 0 || enc.n >= SDP_NAME_LEN || !span_uint(rest, 384000, &rate) ||
        (chs.n > 0 && !span_uint(chs, 8, &ch)))
        return;
    memcpy(r->name, enc.p, enc.n);
    r->name[enc.n] = '\0';
    r->rate = rate;
    r->channels = ch;
    r->have_map = true;
}

/* a=fmtp:97 octet-align=1;mode-set=... (RFC 4867 8.1) */
static void parse_fmtp(rp_span v, rp_sdp_media *m)
{
    rp_span pt_s = next_token(&v);
    uint32_t pt;
    if (!span_uint(pt_s, 127, &pt))
        return;
    rp_sdp_rtpmap *r = media_pt(m, pt);
    if (r == NULL)
        return;
    while (v.n > 0) {
        rp_span param = v;
        v = split_at(&param, ';');
        while (param.n > 0 && *param.p == ' ') {
            param.p++;
            param.n--;
        }
        if (param.n == 13 && memcmp(param.p, "octet-align=1", 13) == 0)
            r->octet_align = true;
    }
}

static unsigned emit(const rp_sdp_media *m, const rtpproc_addr *session_addr, rp_sdp_binding_fn fn,
                     void *ud)
{
    const rtpproc_addr *addr = m->have_addr ? &m->addr : session_addr;
    unsigned n = 0;
    if (!m->active || addr == NULL)
        return 0;
    for (unsigned i = 0; i < m->npts; i++) {
        const rp_sdp_rtpmap *r = &m->pts[i];
        if (!r->have_map)
            continue;
        unsigned fmtp = 0;
        /* RFC 4867 8.1: without octet-align=1 AMR is bandwidth-efficient. */
        if (g_ascii_strcasecmp(r->name, "AMR") == 0 || g_ascii_strcasecmp(r->name, "AMR-WB") == 0)
            fmtp = r->octet_align ? RTPPROC_FMTP_OCTET_ALIGN : RTPPROC_FMTP_BW_EFFICIENT;
        fn(ud, addr, m->port, r->pt, r->name, r->rate, r->channels, fmtp);
        n++;
    }
    return n;
}

unsigned rp_sdp_parse_sip(const uint8_t *p, size_t len, rp_sdp_binding_fn fn, void *userdata)
{
    const char *t = (const char *)p;
    /* The body follows the first empty line (RFC 3261 7.5). */
    const char *body = NULL;
    for (size_t i = 0; i + 1 < len; i++) {
        if (t[i] == '\n' &&
            (t[i + 1] == '\n' || (t[i + 1] == '\r' && i + 2 < len && t[i + 2] == '\n'))) {
            body = t + i + (t[i + 1] == '\n' ? 2 : 3);
            break;
        }
    }
    if (body == NULL)
        return 0;
    rp_span rest = {body, len - (size_t)(body - t)};
    if (!span_starts(rest, "v=0"))
        return 0;

    rtpproc_addr session_addr;
    bool have_session_addr = false;
    rp_sdp_media m;
    unsigned n = 0;
    memset(&m, 0, sizeof(m));
    bool in_media = false;

    while (rest.n > 0) {
        rp_span line = rest;
        rest = split_at(&line, '\n');
        if (line.n > 0 && line.p[line.n - 1] == '\r')
            line.n--;
        if (line.n < 2 || line.p[1] != '=')
            continue;
        rp_span v = {line.p + 2, line.n - 2};
        switch (line.p[0]) {
        case 'c':
            if (in_media)
                m.have_addr = parse_connection(v, &m.addr);
            else
                have_session_addr = parse_connection(v, &session_addr);
            break;
        case 'm':
            if (in_media)
                n += emit(&m, have_session_addr ? &session_addr : NULL, fn, userdata);
            parse_media(v, &m);
            in_media = true;
            break;
        case 'a':
            if (!in_media)
                break;
            if (span_starts(v, "rtpmap:"))
                parse_rtpmap((rp_span){v.p + 7, v.n - 7}, &m);
            else if (span_starts(v, "fmtp:"))
                parse_fmtp((rp_span){v.p + 5, v.n - 5}, &m);
            break;
        default:
            break;
        }
    }
    if (in_media)
        n += emit(&m, have_session_addr ? &session_addr : NULL, fn, userdata);
    return n;
}
