/*
 * rtpproc - link, IP and UDP decoding with IP fragment reassembly.
 *
 * One function per layer (link, IPv4, IPv6 extension chain, UDP), each
 * reading through the bounded cursor of cursor.h. A layer answers with an
 * internal reason (enum why) that finish() turns into the public parse
 * result and its counter: every non-OK, non-PENDING result bumps exactly
 * one of truncated, invalid, not_ip, not_udp, unsupported, frag_overflows;
 * OK bumps datagrams; PENDING was counted in fragments when stored.
 * Only UDP is reassembled: a fragment of another protocol is not_udp at once
 * (for IPv6, UDP possibly behind destination options).
 *
 * Not checked on purpose: IPv4 header and UDP checksums (offloaded
 * checksums are routinely wrong in captures). IPv6 jumbograms (RFC 2675,
 * payload length 0) are not supported and count as invalid. An IPv4 total
 * length of 0 (segmentation offload captures) is invalid too.
 *
 * Truncated against invalid: `missing` is how many bytes of the frame were
 * on the wire but not captured (wirelen - caplen). A length field that
 * reaches beyond the captured bytes but not beyond the wire is a snaplen cut
 * (TRUNCATED if we need those bytes, or a datagram with caplen < len if only
 * payload is missing); one that reaches beyond the wire is INVALID.
 *
 * Reassembly (RFC 791 section 3.2, RFC 8200 section 4.5): fragment data is
 * kept in 8-octet blocks with a bitmap of the blocks received. The first
 * copy of a block wins: duplicates and overlapping fragments never overwrite
 * data already held (Linux drops overlapping IPv6 datagrams per RFC 5722;
 * keeping the first copy is the simpler rule that still cannot overflow and
 * gives identical results for the common exact retransmission).
 * Bounds: at most cfg.max_reassemblies datagrams and cfg.max_reassembly_bytes
 * bytes (entry bookkeeping plus data buffers). A new datagram that needs room
 * evicts the oldest ones; their stored fragments count in frag_overflows. A
 * datagram that alone cannot fit is dropped and its fragment returns
 * RTPPROC_PARSE_UNSUPPORTED (counted in frag_overflows, not unsupported).
 * An incomplete datagram is dropped (frag_timeouts) once capture time has
 * advanced more than cfg.frag_timeout past its first fragment.
 */
#include "rtpproc/decode.h"

#include <stdlib.h>
#include <string.h>

#include "cursor.h"

#define RP_MAX_VLAN_TAGS 8 /* 802.1Q/802.1ad tags followed before giving up */
#define RP_MAX_IPV6_EXT  8 /* IPv6 extension headers followed (RFC 8200 section 4) */
#define RP_IP_MAX        65535u
#define RP_FRAG_BLOCKS   (RP_IP_MAX / 8 + 1) /* 8-octet blocks of the largest datagram */

#define RP_PROTO_HOPOPTS  0  /* IPv6 hop-by-hop options (RFC 8200 4.3) */
#define RP_PROTO_UDP      17 /* RFC 768 */
#define RP_PROTO_ROUTING  43 /* RFC 8200 4.4 */
#define RP_PROTO_FRAGMENT 44 /* RFC 8200 4.5 */
#define RP_PROTO_DSTOPTS  60 /* RFC 8200 4.6 */

/* Ethertypes (IEEE registry; RFC 7042 section 3 lists the ones IETF uses). */
#define RP_ETH_IPV4     0x0800
#define RP_ETH_IPV6     0x86DD
#define RP_ETH_8021Q    0x8100 /* C-VLAN tag, RFC 7042 3.4 */
#define RP_ETH_8021AD   0x88A8 /* S-VLAN tag (QinQ), RFC 7042 3.4 */
#define RP_ETH_QINQ_OLD 0x9100 /* pre-standard QinQ tag, still seen in the field */
#define RP_ETH_MIN_TYPE 0x0600 /* below: an IEEE 802.3 length, i.e. an LLC frame */

/* Internal outcome of a layer; finish() maps it to enum rtpproc_parse. */
enum why {
    W_OK,
    W_TRUNC,
    W_INVALID,
    W_NOT_IP,
    W_NOT_UDP,
    W_LINK_UNSUPP,
    W_PENDING,
    W_OVERFLOW,
    W_FRAG, /* ipv6_walk() stopped at a fragment header; never leaves this file's layers */
};

/* One datagram being reassembled, keyed by family, addresses, id (and protocol for IPv4). */
typedef struct rp_frag {
    struct rp_frag *prev, *next; /* creation order: d->head is the oldest */
    uint8_t family;              /* 4 or 6 */
    uint8_t proto;               /* IPv4 protocol; IPv6 next header of the offset-0 fragment */
    uint32_t id;                 /* IPv4 identification (16 bits) or IPv6 fragment id */
    uint8_t src[16], dst[16];    /* zero-filled beyond the family's length */
    rtpproc_time_ns first_ts;    /* capture time of the first fragment seen */
    uint8_t *buf;                /* fragmentable part, offset 0 = fragment offset 0 */
    size_t cap;                  /* bytes allocated at buf */
    size_t total;                /* fragmentable part length, known once the last arrived */
    size_t max_end;              /* highest fragment end seen (bytes) */
    unsigned nfrags;             /* fragments accepted into this entry */
    unsigned nblocks;            /* distinct 8-octet blocks received */
    bool have_last;              /* the fragment with MF = 0 arrived: total is known */
    uint8_t got[(RP_FRAG_BLOCKS + 7) / 8]; /* bitmap of received blocks */
} rp_frag;

struct rtpproc_decoder {
    rtpproc_decoder_config cfg;
    rtpproc_decode_counters ctr;
    rp_frag *head, *tail;      /* reassemblies in creation order */
    unsigned nfrag;            /* entries in the list */
    size_t held;               /* bytes held: sizeof(rp_frag) + cap per entry */
    rtpproc_time_ns oldest_ts; /* <= first_ts of every entry (lazy lower bound) */
    uint8_t *done;             /* last completed datagram; freed at the next call */
};

/* What a fragment looks like to the reassembler. */
typedef struct frag_in {
    uint8_t family;
    uint8_t proto; /* IPv4 protocol; IPv6 next header in this fragment header */
    uint32_t id;
    const uint8_t *src, *dst; /* 16 bytes each, zero-filled */
    size_t off;               /* fragment offset in bytes */
    bool more;                /* MF / M flag */
    rp_cur data;              /* exactly the fragment's data, fully captured */
} frag_in;

/* IPv6 fragment header fields, filled by ipv6_walk() on W_FRAG. */
typedef struct v6frag {
    uint8_t nh;    /* next header of the fragmentable part */
    size_t off;    /* fragment offset in bytes */
    bool more;     /* M flag */
    uint32_t id;   /* identification */
    size_t unfrag; /* extension header bytes before the fragment header */
} v6frag;

void rtpproc_decoder_config_init(rtpproc_decoder_config *cfg)
{
    cfg->max_reassemblies = 64;
    cfg->max_reassembly_bytes = (size_t)4 << 20;
    cfg->frag_timeout = 30 * RTPPROC_NS_PER_SEC;
}

rtpproc_decoder *rtpproc_decoder_new(const rtpproc_decoder_config *cfg)
{
    rtpproc_decoder *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    if (cfg != NULL)
        d->cfg = *cfg;
    else
        rtpproc_decoder_config_init(&d->cfg);
    if (d->cfg.frag_timeout < 0)
        d->cfg.frag_timeout = 0;
    return d;
}

static void frag_unlink(rtpproc_decoder *d, rp_frag *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        d->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        d->tail = e->prev;
    d->nfrag--;
    d->held -= sizeof(*e) + e->cap;
}

static void frag_drop(rtpproc_decoder *d, rp_frag *e)
{
    frag_unlink(d, e);
    free(e->buf);
    free(e);
}

void rtpproc_decoder_free(rtpproc_decoder *d)
{
    if (d == NULL)
        return;
    while (d->head != NULL)
        frag_drop(d, d->head);
    free(d->done);
    free(d);
}

bool rtpproc_decode_linktype_supported(int linktype)
{
    switch (linktype) {
    case RTPPROC_DLT_NULL:
    case RTPPROC_DLT_EN10MB:
    case RTPPROC_DLT_RAW:
    case RTPPROC_DLT_RAW_BSD:
    case RTPPROC_DLT_LINKTYPE_RAW:
    case RTPPROC_DLT_LOOP:
    case RTPPROC_DLT_LINUX_SLL:
    case RTPPROC_DLT_IPV4:
    case RTPPROC_DLT_IPV6:
    case RTPPROC_DLT_LINUX_SLL2:
        return true;
    default:
        return false;
    }
}

const rtpproc_decode_counters *rtpproc_decoder_counters(const rtpproc_decoder *d)
{
    return &d->ctr;
}

/*
 * True when more than `timeout` ns of capture time passed from `first` to
 * `now`. Unsigned arithmetic: capture times may be anything a file holds,
 * and time running backwards (merged captures) never expires anything.
 */
static bool frag_expired(rtpproc_time_ns first, rtpproc_time_ns timeout, rtpproc_time_ns now)
{
    if (now <= first)
        return false;
    return (uint64_t)now - (uint64_t)first > (uint64_t)timeout;
}

void rtpproc_decoder_expire(rtpproc_decoder *d, rtpproc_time_ns now)
{
    if (d->nfrag == 0 || !frag_expired(d->oldest_ts, d->cfg.frag_timeout, now))
        return;
    rp_frag *e = d->head;
    bool any = false;
    rtpproc_time_ns oldest = 0;
    while (e != NULL) {
        rp_frag *next = e->next;
        if (frag_expired(e->first_ts, d->cfg.frag_timeout, now)) {
            d->ctr.frag_timeouts++;
            frag_drop(d, e);
        } else if (!any || e->first_ts < oldest) {
            oldest = e->first_ts;
            any = true;
        }
        e = next;
    }
    d->oldest_ts = oldest;
}

/* Maps a layer's reason to the public result and bumps its counter. */
static int finish(rtpproc_decoder *d, enum why w)
{
    switch (w) {
    case W_OK:
        d->ctr.datagrams++;
        return RTPPROC_PARSE_OK;
    case W_TRUNC:
        d->ctr.truncated++;
        return RTPPROC_PARSE_TRUNCATED;
    case W_NOT_IP:
        d->ctr.not_ip++;
        return RTPPROC_PARSE_NOT_RTP;
    case W_NOT_UDP:
        d->ctr.not_udp++;
        return RTPPROC_PARSE_NOT_RTP;
    case W_LINK_UNSUPP:
        d->ctr.unsupported++;
        return RTPPROC_PARSE_UNSUPPORTED;
    case W_PENDING:
        /* counted in `fragments` when the fragment was stored */
        return RTPPROC_PARSE_PENDING;
    case W_OVERFLOW:
        /* counted in `frag_overflows` where the fragments were dropped */
        return RTPPROC_PARSE_UNSUPPORTED;
    case W_INVALID:
    case W_FRAG:
    default:
        d->ctr.invalid++;
        return RTPPROC_PARSE_INVALID;
    }
}

/*
 * Claimed-versus-captured check for `n` bytes: beyond what the enclosing
 * length field claims is INVALID, beyond what was captured is TRUNCATED.
 */
static enum why need(const rp_cur *c, size_t claimed, size_t n)
{
    if (n > claimed)
        return W_INVALID;
    if (n > c->left)
        return W_TRUNC;
    return W_OK;
}

/*
 * UDP header, RFC 768:
 *    0      7 8     15 16    23 24    31
 *   +--------+--------+--------+--------+
 *   |  source port    |  dest. port     |
 *   +--------+--------+--------+--------+
 *   |     length      |    checksum     |
 *   +--------+--------+--------+--------+
 * `claimed` is the IP payload length from the IP header(s). Suricata's three
 * checks: the IP payload holds 8 bytes, the length field is at least 8 and
 * no larger than the IP payload; then the cursor shrinks to the UDP length so
 * IP or link padding never becomes payload. The checksum is not verified
 * (offloaded checksums are routinely wrong in captures).
 */
static enum why udp(rp_cur *c, size_t claimed, rtpproc_datagram *out)
{
    uint16_t sport, dport, ulen;
    enum why w = need(c, claimed, 8);
    if (w != W_OK)
        return w;
    rp_be16(c, &sport);
    rp_be16(c, &dport);
    rp_be16(c, &ulen);
    rp_skip(c, 2); /* checksum */
    if (ulen < 8 || ulen > claimed)
        return W_INVALID;
    rp_clamp(c, (size_t)ulen - 8);
    if (c->bad)
        return W_TRUNC;
    out->flow.sport = sport;
    out->flow.dport = dport;
    out->payload = c->p;
    out->caplen = c->left;
    out->len = (size_t)ulen - 8;
    return W_OK;
}

static void bit_set(uint8_t *map, size_t i)
{
    map[i / 8] = (uint8_t)(map[i / 8] | (1u << (i % 8)));
}

static bool bit_get(const uint8_t *map, size_t i)
{
    return (map[i / 8] >> (i % 8)) & 1u;
}

/*
 * Makes room for `extra` more held bytes by evicting the oldest entries
 * other than `keep`. Returns false when even an empty table would not do.
 */
static bool frag_make_room(rtpproc_decoder *d, const rp_frag *keep, size_t extra)
{
    while (d->held + extra > d->cfg.max_reassembly_bytes) {
        rp_frag *victim = d->head;
        if (victim == keep)
            victim = victim->next;
        if (victim == NULL)
            return false;
        d->ctr.frag_overflows += victim->nfrags;
        frag_drop(d, victim);
    }
    return true;
}

static rp_frag *frag_find(rtpproc_decoder *d, const frag_in *f)
{
    for (rp_frag *e = d->head; e != NULL; e = e->next) {
        if (e->id == f->id && e->family == f->family && (f->family == 6 || e->proto == f->proto) &&
            memcmp(e->src, f->src, 16) == 0 && memcmp(e->dst, f->dst, 16) == 0)
            return e;
    }
    return NULL;
}

static rp_frag *frag_create(rtpproc_decoder *d, const frag_in *f, rtpproc_time_ns ts)
{
    if (d->cfg.max_reassemblies == 0)
        return NULL;
    while (d->nfrag >= d->cfg.max_reassemblies) {
        d->ctr.frag_overflows += d->head->nfrags;
        frag_drop(d, d->head);
    }
    if (!frag_make_room(d, NULL, sizeof(rp_frag)))
        return NULL;
    rp_frag *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->family = f->family;
    e->proto = f->family == 4 ? f->proto : 0;
    e->id = f->id;
    memcpy(e->src, f->src, 16);
    memcpy(e->dst, f->dst, 16);
    e->first_ts = ts;
    e->prev = d->tail;
    if (d->tail != NULL)
        d->tail->next = e;
    else
        d->head = e;
    d->tail = e;
    if (d->nfrag == 0 || ts < d->oldest_ts)
        d->oldest_ts = ts;
    d->nfrag++;
    d->held += sizeof(*e);
    return e;
}

/* Grows e->buf to hold `end` bytes, within the byte bound. */
static bool frag_reserve(rtpproc_decoder *d, rp_frag *e, size_t end)
{
    if (end <= e->cap)
        return true;
    size_t cap = (end + 1023) & ~(size_t)1023;
    if (cap < 2 * e->cap)
        cap = 2 * e->cap;
    if (cap > RP_IP_MAX + 1)
        cap = RP_IP_MAX + 1; /* end <= RP_IP_MAX was checked by the caller */
    if (!frag_make_room(d, e, cap - e->cap))
        return false;
    uint8_t *buf = realloc(e->buf, cap);
    if (buf == NULL)
        return false;
    d->held += cap - e->cap;
    e->buf = buf;
    e->cap = cap;
    return true;
}

/*
 * Stores one fragment. Returns W_PENDING, W_INVALID (inconsistent with the
 * fragments already held; the fragment is ignored), W_OVERFLOW, or W_OK with
 * the completed fragmentable part in d->done (*len bytes, *proto its
 * protocol / first next header).
 */
static enum why frag_add(rtpproc_decoder *d, frag_in *f, rtpproc_time_ns ts, size_t *len,
                         uint8_t *proto)
{
    size_t flen = f->data.left;
    size_t end = f->off + flen;
    rp_frag *e = frag_find(d, f);

    if (e != NULL) {
        /* RFC 791 3.2 / RFC 8200 4.5: every fragment lies within the total. */
        if (e->have_last && end > e->total)
            return W_INVALID;
        if (!f->more && ((e->have_last && end != e->total) || e->max_end > end))
            return W_INVALID;
    } else {
        e = frag_create(d, f, ts);
        if (e == NULL) {
            d->ctr.frag_overflows++;
            return W_OVERFLOW;
        }
    }
    if (!frag_reserve(d, e, end)) {
        d->ctr.frag_overflows += e->nfrags + 1u;
        frag_drop(d, e);
        return W_OVERFLOW;
    }

    /* First copy of each 8-octet block wins; f->off is a multiple of 8. */
    for (size_t b = f->off / 8; b * 8 < end; b++) {
        size_t n = end - b * 8 < 8 ? end - b * 8 : 8;
        if (bit_get(e->got, b)) {
            rp_skip(&f->data, n);
            continue;
        }
        rp_bytes(&f->data, e->buf + b * 8, n);
        bit_set(e->got, b);
        e->nblocks++;
    }
    e->nfrags++;
    d->ctr.fragments++;
    if (end > e->max_end)
        e->max_end = end;
    if (!f->more) {
        e->have_last = true;
        e->total = end;
    }
    if (f->off == 0 && f->family == 6)
        e->proto = f->proto;
    if (!e->have_last || e->nblocks != (e->total + 7) / 8)
        return W_PENDING;

    /* Complete: hand the buffer over to d->done (freed at the next call). */
    *len = e->total;
    *proto = e->proto;
    free(d->done);
    d->done = e->buf;
    e->buf = NULL;
    frag_drop(d, e);
    d->ctr.reassembled++;
    return W_OK;
}

/*
 * IPv6 extension header chain, RFC 8200 section 4, from next header *nh
 * with the cursor at that header and *claimed bytes left of the payload.
 * Stops at UDP (W_OK, cursor at the UDP header) or, when `in_packet`, at a
 * real fragment header (W_FRAG, cursor at the fragment data, *claimed its
 * length). Hop-by-hop is allowed only right after the fixed header (4.1);
 * in reassembled data (in_packet false) neither it nor another fragment
 * header may appear. An atomic fragment (offset 0, M 0; RFC 6946) is skipped.
 * Generic extension header, 8-octet units not counting the first:
 *   | next header | hdr ext len |  options ... ((hdr ext len + 1) * 8 bytes)
 * Fragment header (4.5):
 *   | next header | reserved | fragment offset (13) | res (2) | M |
 *   | identification (32)                                          |
 */
static enum why ipv6_walk(rp_cur *c, size_t *claimed, uint8_t *nh, bool in_packet, v6frag *fh)
{
    size_t start = *claimed;
    for (unsigned depth = 0; depth <= RP_MAX_IPV6_EXT; depth++) {
        uint8_t next, hlen;
        enum why w;
        switch (*nh) {
        case RP_PROTO_UDP:
            return W_OK;
        case RP_PROTO_HOPOPTS:
            if (depth != 0 || !in_packet)
                return W_INVALID;
            /* fall through */
        case RP_PROTO_ROUTING:
        case RP_PROTO_DSTOPTS:
            if (depth == RP_MAX_IPV6_EXT)
                return W_INVALID;
            w = need(c, *claimed, 2);
            if (w != W_OK)
                return w;
            rp_peek_u8(c, 0, &next);
            rp_peek_u8(c, 1, &hlen);
            w = need(c, *claimed, ((size_t)hlen + 1) * 8);
            if (w != W_OK)
                return w;
            rp_skip(c, ((size_t)hlen + 1) * 8);
            *claimed -= ((size_t)hlen + 1) * 8;
            *nh = next;
            break;
        case RP_PROTO_FRAGMENT: {
            uint16_t offm;
            uint32_t id;
            if (!in_packet || depth == RP_MAX_IPV6_EXT)
                return W_INVALID;
            w = need(c, *claimed, 8);
            if (w != W_OK)
                return w;
            rp_u8(c, &next);
            rp_skip(c, 1); /* reserved */
            rp_be16(c, &offm);
            rp_be32(c, &id);
            *claimed -= 8;
            *nh = next;
            if ((offm & 0xFFF8u) == 0 && (offm & 1u) == 0)
                break; /* atomic fragment: the datagram is whole */
            fh->nh = next;
            fh->off = offm & 0xFFF8u; /* 8-octet units in the top 13 bits */
            fh->more = (offm & 1u) != 0;
            fh->id = id;
            fh->unfrag = start - *claimed - 8;
            return W_FRAG;
        }
        default:
            return W_NOT_UDP; /* TCP, ICMPv6, ESP, AH, no next header (59), ... */
        }
    }
    return W_INVALID;
}

static void set_addr(rtpproc_addr *a, uint8_t family, const uint8_t *bytes)
{
    a->family = family;
    memcpy(a->bytes, bytes, 16);
}

/*
 * IPv6 fixed header, RFC 8200 section 3:
 *   | version (4) | traffic class (8) | flow label (20)             |
 *   | payload length (16)             | next header | hop limit     |
 *   | source address (128)  | destination address (128)             |
 * A zero payload length would announce a jumbogram (RFC 2675, hop-by-hop
 * option); jumbograms are not supported: the chain then overruns the
 * zero-byte payload and the packet counts as invalid.
 */
static enum why ipv6(rtpproc_decoder *d, rp_cur *c, size_t missing, rtpproc_time_ns ts,
                     rtpproc_datagram *out)
{
    uint8_t b0, nh;
    uint16_t plen;
    uint8_t src[16], dst[16];

    if (!rp_peek_u8(c, 0, &b0))
        return W_TRUNC;
    if (b0 >> 4 != 6)
        return W_INVALID;
    if (c->left < 40)
        return W_TRUNC;
    rp_skip(c, 4); /* version, traffic class, flow label */
    rp_be16(c, &plen);
    rp_u8(c, &nh);
    rp_skip(c, 1); /* hop limit */
    rp_bytes(c, src, 16);
    rp_bytes(c, dst, 16);
    if (plen > c->left && plen - c->left > missing)
        return W_INVALID; /* claims more than was on the wire */
    rp_clamp(c, plen);    /* drops link-layer trailer bytes */

    set_addr(&out->flow.src, 6, src);
    set_addr(&out->flow.dst, 6, dst);
    size_t claimed = plen;
    v6frag fh;
    enum why w = ipv6_walk(c, &claimed, &nh, true, &fh);
    if (w == W_OK)
        return udp(c, claimed, out);
    if (w != W_FRAG)
        return w;

    /* A fragment. Only UDP (possibly behind destination options) is kept. */
    if (fh.nh != RP_PROTO_UDP && fh.nh != RP_PROTO_DSTOPTS)
        return W_NOT_UDP;
    if (c->left < claimed)
        return W_TRUNC; /* cut by the snaplen: cannot be reassembled */
    if (fh.more && (claimed == 0 || claimed % 8 != 0))
        return W_INVALID; /* RFC 8200 4.5: non-last fragments are multiples of 8 */
    if (fh.unfrag + fh.off + claimed > RP_IP_MAX)
        return W_INVALID; /* reassembled payload length would exceed 65535 */
    frag_in f = {6, fh.nh, fh.id, src, dst, fh.off, fh.more, {NULL, 0, false}};
    rp_sub(c, claimed, &f.data);
    size_t len;
    uint8_t first_nh;
    w = frag_add(d, &f, ts, &len, &first_nh);
    if (w != W_OK)
        return w;
    rp_cur r = rp_cur_make(d->done, len);
    w = ipv6_walk(&r, &len, &first_nh, false, &fh);
    if (w != W_OK)
        return w;
    return udp(&r, len, out);
}

/*
 * IPv4 header, RFC 791 section 3.1:
 *   | version | IHL | type of service | total length                |
 *   | identification                  | flags (3) | fragment offset |
 *   | time to live    | protocol      | header checksum             |
 *   | source address | destination address | options (IHL*4 - 20)   |
 * The header checksum is not verified (offload). Flags: bit 0 reserved,
 * bit 1 DF, bit 2 MF; the offset counts 8-octet units.
 */
static enum why ipv4(rtpproc_decoder *d, rp_cur *c, size_t missing, rtpproc_time_ns ts,
                     rtpproc_datagram *out)
{
    uint8_t vihl, proto;
    uint16_t tot, id, frag;
    uint8_t src[16] = {0}, dst[16] = {0};

    if (!rp_peek_u8(c, 0, &vihl))
        return W_TRUNC;
    if (vihl >> 4 != 4)
        return W_INVALID;
    size_t hl = (size_t)(vihl & 0x0F) * 4;
    if (hl < 20)
        return W_INVALID;
    if (hl > c->left)
        return W_TRUNC;
    size_t avail = c->left; /* captured bytes from the header on */
    rp_skip(c, 2);          /* version/IHL, type of service */
    rp_be16(c, &tot);
    rp_be16(c, &id);
    rp_be16(c, &frag);
    rp_skip(c, 1); /* time to live */
    rp_u8(c, &proto);
    rp_skip(c, 2); /* header checksum */
    rp_bytes(c, src, 4);
    rp_bytes(c, dst, 4);
    rp_skip(c, hl - 20); /* options */
    if (tot < hl)
        return W_INVALID;
    if (tot > avail && tot - avail > missing)
        return W_INVALID; /* claims more than was on the wire */
    size_t claimed = tot - hl;
    rp_clamp(c, claimed); /* Ethernet trailer padding is not IP payload */

    set_addr(&out->flow.src, 4, src);
    set_addr(&out->flow.dst, 4, dst);
    size_t off = (size_t)(frag & 0x1FFFu) * 8;
    bool more = (frag & 0x2000u) != 0;
    if (!more && off == 0) {
        if (proto != RP_PROTO_UDP)
            return W_NOT_UDP;
        return udp(c, claimed, out);
    }

    /* A fragment (RFC 791 3.2), keyed by source, destination, id, protocol. */
    if (proto != RP_PROTO_UDP)
        return W_NOT_UDP;
    if (c->left < claimed)
        return W_TRUNC; /* cut by the snaplen: cannot be reassembled */
    if (more && (claimed == 0 || claimed % 8 != 0))
        return W_INVALID; /* non-last fragments carry a multiple of 8 octets */
    if (hl + off + claimed > RP_IP_MAX)
        return W_INVALID; /* reassembled total length would exceed 65535 */
    frag_in f = {4, proto, id, src, dst, off, more, {NULL, 0, false}};
    rp_sub(c, claimed, &f.data);
    size_t len;
    enum why w = frag_add(d, &f, ts, &len, &proto);
    if (w != W_OK)
        return w;
    rp_cur r = rp_cur_make(d->done, len);
    return udp(&r, len, out);
}

/* Dispatches on an ethertype, first skipping any stack of VLAN tags. */
static enum why ethertype(rp_cur *c, uint16_t type, int *ipver)
{
    /*
     * 802.1Q / 802.1ad tag (RFC 7042 3.4): 2 bytes TCI (PCP, DEI, VLAN id)
     * then the next ethertype; the tag type itself was already read.
     */
    for (unsigned depth = 0;
         type == RP_ETH_8021Q || type == RP_ETH_8021AD || type == RP_ETH_QINQ_OLD; depth++) {
        if (depth == RP_MAX_VLAN_TAGS)
            return W_INVALID;
        if (!rp_skip(c, 2) || !rp_be16(c, &type))
            return W_TRUNC;
    }
    if (type == RP_ETH_IPV4)
        *ipver = 4;
    else if (type == RP_ETH_IPV6)
        *ipver = 6;
    else
        return W_NOT_IP; /* ARP, LLC (802.3 length values below 0x0600), ... */
    return W_OK;
}

/* BSD loopback address family values (tcpdump's BSD_AFNUM_*). */
static enum why bsd_family(uint32_t af, int *ipver)
{
    switch (af) {
    case 2: /* AF_INET everywhere */
        *ipver = 4;
        return W_OK;
    case 24: /* AF_INET6 on NetBSD, OpenBSD, BSD/OS */
    case 28: /* FreeBSD, DragonFly */
    case 30: /* Darwin */
        *ipver = 6;
        return W_OK;
    default:
        return W_NOT_IP;
    }
}

/* Raw IP: the version nibble says which. */
static enum why raw_version(const rp_cur *c, int *ipver)
{
    uint8_t b0;
    if (!rp_peek_u8(c, 0, &b0))
        return W_TRUNC;
    if (b0 >> 4 == 4 || b0 >> 4 == 6) {
        *ipver = b0 >> 4;
        return W_OK;
    }
    return W_NOT_IP;
}

/* Link layer: leaves the cursor at the IP header and says which version. */
static enum why link_layer(int linktype, rp_cur *c, int *ipver)
{
    uint16_t type;
    uint32_t af;

    switch (linktype) {
    case RTPPROC_DLT_EN10MB:
        /* Ethernet II: destination (6), source (6), ethertype (2). */
        if (!rp_skip(c, 12) || !rp_be16(c, &type))
            return W_TRUNC;
        if (type < RP_ETH_MIN_TYPE)
            return W_NOT_IP; /* IEEE 802.3 length: LLC/SNAP */
        return ethertype(c, type, ipver);
    case RTPPROC_DLT_LINUX_SLL:
        /*
         * Linux cooked v1: packet type (2), ARPHRD type (2), address
         * length (2), address (8), protocol (2, an ethertype for IP).
         */
        if (!rp_skip(c, 14) || !rp_be16(c, &type))
            return W_TRUNC;
        return ethertype(c, type, ipver);
    case RTPPROC_DLT_LINUX_SLL2:
        /*
         * Linux cooked v2: protocol (2), reserved (2), interface index (4),
         * ARPHRD type (2), packet type (1), address length (1), address (8).
         */
        if (!rp_be16(c, &type) || !rp_skip(c, 18))
            return W_TRUNC;
        return ethertype(c, type, ipver);
    case RTPPROC_DLT_NULL: {
        /*
         * 4-byte address family in the capturing host's byte order. The
         * values of interest are below 256, so the swapped reading of a
         * foreign-order value is >= 2^24 and the two readings never collide.
         */
        rp_cur be = *c;
        if (!rp_le32(c, &af))
            return W_TRUNC;
        if (af > 0xFFFF)
            rp_be32(&be, &af);
        return bsd_family(af, ipver);
    }
    case RTPPROC_DLT_LOOP:
        /* As DLT_NULL, but the family is always in network byte order. */
        if (!rp_be32(c, &af))
            return W_TRUNC;
        return bsd_family(af, ipver);
    case RTPPROC_DLT_RAW:
    case RTPPROC_DLT_RAW_BSD:
    case RTPPROC_DLT_LINKTYPE_RAW:
        return raw_version(c, ipver);
    case RTPPROC_DLT_IPV4:
        *ipver = 4; /* ipv4() rejects another version as invalid */
        return W_OK;
    case RTPPROC_DLT_IPV6:
        *ipver = 6;
        return W_OK;
    default:
        return W_LINK_UNSUPP;
    }
}

int rtpproc_decode_frame(rtpproc_decoder *d, int linktype, rtpproc_time_ns ts, const uint8_t *data,
                         size_t caplen, size_t wirelen, rtpproc_datagram *out)
{
    d->ctr.frames++;
    if (d->done != NULL) {
        free(d->done); /* the previous reassembled datagram's lifetime ends here */
        d->done = NULL;
    }
    rtpproc_decoder_expire(d, ts);

    rp_cur c = rp_cur_make(data, caplen);
    size_t missing = wirelen > caplen ? wirelen - caplen : 0;
    int ipver = 0;
    enum why w = link_layer(linktype, &c, &ipver);
    if (w != W_OK)
        return finish(d, w);

    memset(&out->flow, 0, sizeof(out->flow));
    out->ts = ts;
    if (ipver == 4)
        w = ipv4(d, &c, missing, ts, out);
    else
        w = ipv6(d, &c, missing, ts, out);
    return finish(d, w);
}
