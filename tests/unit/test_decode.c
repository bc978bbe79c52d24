/*
 * Unit tests of core/decode.c: link layers, IPv4/IPv6, UDP, truncation,
 * invalid length fields and IP fragment reassembly. Every frame is built by
 * hand from byte arrays whose comments give each field's meaning.
 */
#include "rtpproc/decode.h"
#include "suite.h"

#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#define T0 (1700000000 * RTPPROC_NS_PER_SEC) /* an arbitrary capture time */

/* ---- link-layer headers ------------------------------------------------ */

static const uint8_t eth_v4[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* destination MAC */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* source MAC */
    0x08, 0x00,                         /* ethertype IPv4 */
};

static const uint8_t eth_v6[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* destination MAC */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* source MAC */
    0x86, 0xdd,                         /* ethertype IPv6 */
};

static const uint8_t eth_dot1q_v4[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* destination MAC */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* source MAC */
    0x81, 0x00,                         /* 802.1Q tag */
    0x20, 0x64,                         /* TCI: PCP 1, DEI 0, VLAN 100 */
    0x08, 0x00,                         /* ethertype IPv4 */
};

static const uint8_t eth_qinq_v4[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* destination MAC */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* source MAC */
    0x88, 0xa8,                         /* 802.1ad service tag */
    0x00, 0xc8,                         /* TCI: S-VLAN 200 */
    0x81, 0x00,                         /* 802.1Q customer tag */
    0x00, 0x64,                         /* TCI: C-VLAN 100 */
    0x08, 0x00,                         /* ethertype IPv4 */
};

static const uint8_t eth_9100_v6[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* destination MAC */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* source MAC */
    0x91, 0x00,                         /* pre-standard QinQ tag */
    0x00, 0x0a,                         /* TCI: VLAN 10 */
    0x86, 0xdd,                         /* ethertype IPv6 */
};

static const uint8_t eth_arp[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* broadcast */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* source MAC */
    0x08, 0x06,                         /* ethertype ARP */
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, /* htype Ethernet, ptype IPv4, hlen 6, plen 4 */
    0x00, 0x01,                         /* request */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* sender MAC */
    192,  0,    2,    1,                /* sender IP */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* target MAC */
    192,  0,    2,    2,                /* target IP */
};

static const uint8_t eth_llc[] = {
    0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, /* STP multicast */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* source MAC */
    0x00, 0x26,                         /* 802.3 length 38: an LLC frame */
    0x42, 0x42, 0x03,                   /* LLC: DSAP/SSAP STP, UI */
    0x00, 0x00, 0x00, 0x00, 0x00,       /* start of a BPDU */
};

static const uint8_t sll_v4[] = {
    0x00, 0x00,                         /* packet type: to us */
    0x00, 0x01,                         /* ARPHRD_ETHER */
    0x00, 0x06,                         /* link-layer address length 6 */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* address */
    0x00, 0x00,                         /* address padding to 8 bytes */
    0x08, 0x00,                         /* protocol IPv4 */
};

static const uint8_t sll2_v6[] = {
    0x86, 0xdd,                         /* protocol IPv6 */
    0x00, 0x00,                         /* reserved */
    0x00, 0x00, 0x00, 0x02,             /* interface index 2 */
    0x00, 0x01,                         /* ARPHRD_ETHER */
    0x04,                               /* packet type: outgoing */
    0x06,                               /* address length 6 */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* address */
    0x00, 0x00,                         /* address padding */
};

static const uint8_t null_le_v4[] = {0x02, 0x00, 0x00, 0x00}; /* AF_INET, little-endian host */
static const uint8_t null_be_v4[] = {0x00, 0x00, 0x00, 0x02}; /* AF_INET, big-endian host */
static const uint8_t loop_v4[] = {0x00, 0x00, 0x00, 0x02};    /* AF_INET, network order */
static const uint8_t loop_v6[] = {0x00, 0x00, 0x00, 0x1e};    /* AF_INET6 (Darwin 30) */

/* ---- IP packets -------------------------------------------------------- */

static const uint8_t v4_src[4] = {192, 0, 2, 1};
static const uint8_t v4_dst[4] = {198, 51, 100, 7};
static const uint8_t rtp8[8] = {0x80, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef};

/* IPv4 + UDP 5000 -> 20000 + 8 payload bytes; 36 bytes. */
static const uint8_t ip4_udp[] = {
    0x45,                                           /* version 4, IHL 5 (20 bytes) */
    0x00,                                           /* DSCP/ECN */
    0x00, 0x24,                                     /* total length 36 */
    0x12, 0x34,                                     /* identification */
    0x40, 0x00,                                     /* flags DF, fragment offset 0 */
    0x40,                                           /* TTL 64 */
    0x11,                                           /* protocol UDP */
    0x00, 0x00,                                     /* header checksum (not verified) */
    192,  0,    2,    1,                            /* source 192.0.2.1 */
    198,  51,   100,  7,                            /* destination 198.51.100.7 */
    0x13, 0x88,                                     /* UDP source port 5000 */
    0x4e, 0x20,                                     /* UDP destination port 20000 */
    0x00, 0x10,                                     /* UDP length 16 */
    0x00, 0x00,                                     /* UDP checksum none */
    0x80, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, /* payload (rtp8) */
};
#define IP4_UDP_HDR 28 /* IPv4 + UDP header bytes of ip4_udp */

/* IPv4 with 8 bytes of options (IHL 7) + UDP + 8 payload bytes; 44 bytes. */
static const uint8_t ip4_opts_udp[] = {
    0x47,                                           /* version 4, IHL 7 (28 bytes) */
    0x00,                                           /* DSCP/ECN */
    0x00, 0x2c,                                     /* total length 44 */
    0x00, 0x01,                                     /* identification */
    0x00, 0x00,                                     /* no flags, offset 0 */
    0x01,                                           /* TTL 1 */
    0x11,                                           /* protocol UDP */
    0x00, 0x00,                                     /* checksum */
    192,  0,    2,    1,                            /* source */
    198,  51,   100,  7,                            /* destination */
    0x94, 0x04, 0x00, 0x00,                         /* option: Router Alert (RFC 2113), length 4 */
    0x01, 0x01, 0x01,                               /* options: 3 x NOP */
    0x00,                                           /* option: end of list */
    0x13, 0x88,                                     /* UDP source port 5000 */
    0x4e, 0x20,                                     /* UDP destination port 20000 */
    0x00, 0x10,                                     /* UDP length 16 */
    0x00, 0x00,                                     /* UDP checksum */
    0x80, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, /* payload */
};

/* IPv4 + TCP header: not UDP. */
static const uint8_t ip4_tcp[] = {
    0x45, 0x00, 0x00, 0x28,                  /* v4, IHL 5, total length 40 */
    0x00, 0x02, 0x40, 0x00,                  /* id 2, DF */
    0x40, 0x06, 0x00, 0x00,                  /* TTL 64, protocol TCP, checksum */
    192,  0,    2,    1,    198, 51, 100, 7, /* source, destination */
    0x13, 0x88, 0x00, 0x50,                  /* TCP ports 5000 -> 80 */
    0x00, 0x00, 0x00, 0x01,                  /* sequence number */
    0x00, 0x00, 0x00, 0x00,                  /* acknowledgement */
    0x50, 0x02, 0xff, 0xff,                  /* data offset 5, SYN, window */
    0x00, 0x00, 0x00, 0x00,                  /* checksum, urgent pointer */
};

static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* IPv6 + UDP 6000 -> 7000 + 8 payload bytes; 56 bytes. */
static const uint8_t ip6_udp[] = {
    0x60, 0x00, 0x00, 0x00, /* version 6, traffic class 0, flow label 0 */
    0x00, 0x10,             /* payload length 16 */
    0x11,                   /* next header UDP */
    0x40,                   /* hop limit 64 */
    0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    1, /* source 2001:db8::1 */
    0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    2,    /* destination 2001:db8::2 */
    0x17, 0x70,                                     /* UDP source port 6000 */
    0x1b, 0x58,                                     /* UDP destination port 7000 */
    0x00, 0x10,                                     /* UDP length 16 */
    0x00, 0x00,                                     /* UDP checksum */
    0x80, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, /* payload */
};
#define IP6_UDP_HDR 48

/* IPv6 + hop-by-hop (8) + destination options (16) + UDP + 8 bytes; 80 bytes. */
static const uint8_t ip6_ext_udp[] = {
    0x60, 0x00, 0x00, 0x00, /* version 6 */
    0x00, 0x28,             /* payload length 40 = 8 + 16 + 16 */
    0x00,                   /* next header hop-by-hop */
    0x40,                   /* hop limit */
    0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 1, /* source */
    0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 2, /* destination */
    0x3c, 0x00,                         /* HBH: next header dest. options, length 0 (8 bytes) */
    0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* PadN, 4 bytes */
    0x11, 0x01,                         /* DO: next header UDP, length 1 (16 bytes) */
    0x01, 0x0c, 0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, /* PadN, 12 bytes */
    0x17, 0x70, 0x1b, 0x58,                                           /* UDP 6000 -> 7000 */
    0x00, 0x10, 0x00, 0x00,                                           /* UDP length 16, checksum */
    0x80, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef,                   /* payload */
};
#define IP6_EXT_HDR 72

/* IPv6 + routing header type 0, segments left 0 (16 bytes) + UDP; 72 bytes. */
static const uint8_t ip6_rh_udp[] = {
    0x60, 0x00, 0x00, 0x00, /* version 6 */
    0x00, 0x20,             /* payload length 32 */
    0x2b,                   /* next header routing */
    0x40,                   /* hop limit */
    0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 1, /* source */
    0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 2, /* destination */
    0x11, 0x01,                                     /* RH: next header UDP, length 1 (16 bytes) */
    0x00, 0x00,                                     /* routing type 0, segments left 0 */
    0x00, 0x00, 0x00, 0x00,                         /* reserved */
    0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,    0,    /* one address, first half */
    0x17, 0x70, 0x1b, 0x58,                         /* UDP 6000 -> 7000 */
    0x00, 0x10, 0x00, 0x00,                         /* UDP length 16, checksum */
    0x80, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, /* payload */
};

/* ---- helpers ----------------------------------------------------------- */

static size_t frame_of(uint8_t *buf, const uint8_t *link, size_t ll, const uint8_t *pkt, size_t pl)
{
    if (ll > 0)
        memcpy(buf, link, ll);
    memcpy(buf + ll, pkt, pl);
    return ll + pl;
}
#define FRAME(buf, link, pkt) frame_of(buf, link, sizeof(link), pkt, sizeof(pkt))

static rtpproc_decoder *new_decoder(void)
{
    return rtpproc_decoder_new(NULL);
}

/* Decodes a whole frame (caplen == wirelen). */
static int decode_all(rtpproc_decoder *d, int lt, const uint8_t *f, size_t n, rtpproc_datagram *dg)
{
    return rtpproc_decode_frame(d, lt, T0, f, n, n, dg);
}

static bool zero_from(const uint8_t *b, size_t from)
{
    for (size_t i = from; i < 16; i++)
        if (b[i] != 0)
            return false;
    return true;
}

static void check_v4_flow(const rtpproc_datagram *dg, const uint8_t *src, const uint8_t *dst,
                          uint16_t sport, uint16_t dport)
{
    CU_ASSERT_EQUAL(dg->flow.src.family, 4);
    CU_ASSERT_EQUAL(dg->flow.dst.family, 4);
    CU_ASSERT_EQUAL(memcmp(dg->flow.src.bytes, src, 4), 0);
    CU_ASSERT_EQUAL(memcmp(dg->flow.dst.bytes, dst, 4), 0);
    CU_ASSERT_TRUE(zero_from(dg->flow.src.bytes, 4));
    CU_ASSERT_TRUE(zero_from(dg->flow.dst.bytes, 4));
    CU_ASSERT_EQUAL(dg->flow.sport, sport);
    CU_ASSERT_EQUAL(dg->flow.dport, dport);
}

static void check_v6_flow(const rtpproc_datagram *dg, uint16_t sport, uint16_t dport)
{
    CU_ASSERT_EQUAL(dg->flow.src.family, 6);
    CU_ASSERT_EQUAL(dg->flow.dst.family, 6);
    CU_ASSERT_EQUAL(memcmp(dg->flow.src.bytes, v6_src, 16), 0);
    CU_ASSERT_EQUAL(memcmp(dg->flow.dst.bytes, v6_dst, 16), 0);
    CU_ASSERT_EQUAL(dg->flow.sport, sport);
    CU_ASSERT_EQUAL(dg->flow.dport, dport);
}

/* Checks an OK result carrying rtp8 at frame offset `off`. */
static void check_rtp8_at(const rtpproc_datagram *dg, const uint8_t *frame, size_t off)
{
    CU_ASSERT_EQUAL(dg->len, 8);
    CU_ASSERT_EQUAL(dg->caplen, 8);
    CU_ASSERT_PTR_EQUAL(dg->payload, frame + off);
    CU_ASSERT_EQUAL(memcmp(dg->payload, rtp8, 8), 0);
}

/* One link type carrying ip4_udp: OK, exact flow, payload and counters. */
static void check_link_v4(int lt, const uint8_t *link, size_t ll)
{
    uint8_t f[128];
    rtpproc_datagram dg;
    size_t n = frame_of(f, link, ll, ip4_udp, sizeof(ip4_udp));
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL_FATAL(rtpproc_decode_frame(d, lt, T0 + 5, f, n, n, &dg), RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(dg.ts, T0 + 5);
    check_v4_flow(&dg, v4_src, v4_dst, 5000, 20000);
    check_rtp8_at(&dg, f, n - 8);
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);
    CU_ASSERT_EQUAL(k->frames, 1);
    CU_ASSERT_EQUAL(k->datagrams, 1);
    rtpproc_decoder_free(d);
}

static void check_link_v6(int lt, const uint8_t *link, size_t ll)
{
    uint8_t f[128];
    rtpproc_datagram dg;
    size_t n = frame_of(f, link, ll, ip6_udp, sizeof(ip6_udp));
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL_FATAL(decode_all(d, lt, f, n, &dg), RTPPROC_PARSE_OK);
    check_v6_flow(&dg, 6000, 7000);
    check_rtp8_at(&dg, f, n - 8);
    CU_ASSERT_EQUAL(rtpproc_decoder_counters(d)->datagrams, 1);
    rtpproc_decoder_free(d);
}

/* Decodes once on a fresh decoder and returns the result. */
static int decode_fresh(int lt, const uint8_t *f, size_t n, rtpproc_decode_counters *after)
{
    rtpproc_datagram dg;
    rtpproc_decoder *d = new_decoder();
    if (after != NULL)
        memset(after, 0, sizeof(*after));
    if (d == NULL)
        return -1;
    int r = decode_all(d, lt, f, n, &dg);
    if (after != NULL)
        *after = *rtpproc_decoder_counters(d);
    rtpproc_decoder_free(d);
    return r;
}

/* ---- link layers ------------------------------------------------------- */

static void test_ethernet_ipv4_udp_gives_flow_and_payload(void)
{
    check_link_v4(RTPPROC_DLT_EN10MB, eth_v4, sizeof(eth_v4));
}

static void test_ethernet_ipv6_udp_gives_flow_and_payload(void)
{
    check_link_v6(RTPPROC_DLT_EN10MB, eth_v6, sizeof(eth_v6));
}

static void test_ethernet_8021q_tag_is_skipped(void)
{
    check_link_v4(RTPPROC_DLT_EN10MB, eth_dot1q_v4, sizeof(eth_dot1q_v4));
}

static void test_ethernet_qinq_88a8_then_8100_is_skipped(void)
{
    check_link_v4(RTPPROC_DLT_EN10MB, eth_qinq_v4, sizeof(eth_qinq_v4));
}

static void test_ethernet_9100_tag_is_skipped(void)
{
    check_link_v6(RTPPROC_DLT_EN10MB, eth_9100_v6, sizeof(eth_9100_v6));
}

static void test_ethernet_vlan_stack_beyond_cap_is_invalid(void)
{
    uint8_t f[128], link[64];
    rtpproc_decode_counters k;
    size_t ll = 0;
    memcpy(link, eth_v4, 12); /* MACs */
    ll = 12;
    for (int i = 0; i < 9; i++) { /* nine 802.1Q tags, one more than the cap of 8 */
        link[ll++] = 0x81;
        link[ll++] = 0x00; /* tag type 802.1Q */
        link[ll++] = 0x00;
        link[ll++] = (uint8_t)i; /* TCI: VLAN i */
    }
    link[ll++] = 0x08;
    link[ll++] = 0x00; /* ethertype IPv4 */
    size_t n = frame_of(f, link, ll, ip4_udp, sizeof(ip4_udp));
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_EN10MB, f, n, &k), RTPPROC_PARSE_INVALID);
    CU_ASSERT_EQUAL(k.invalid, 1);

    /* Eight tags are still followed. */
    ll = 12;
    for (int i = 0; i < 8; i++) {
        link[ll++] = 0x81;
        link[ll++] = 0x00;
        link[ll++] = 0x00;
        link[ll++] = (uint8_t)i;
    }
    link[ll++] = 0x08;
    link[ll++] = 0x00;
    n = frame_of(f, link, ll, ip4_udp, sizeof(ip4_udp));
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_EN10MB, f, n, &k), RTPPROC_PARSE_OK);
}

static void test_linux_sll_ipv4(void)
{
    check_link_v4(RTPPROC_DLT_LINUX_SLL, sll_v4, sizeof(sll_v4));
}

static void test_linux_sll2_ipv6(void)
{
    check_link_v6(RTPPROC_DLT_LINUX_SLL2, sll2_v6, sizeof(sll2_v6));
}

static void test_null_ipv4_in_both_byte_orders(void)
{
    check_link_v4(RTPPROC_DLT_NULL, null_le_v4, sizeof(null_le_v4));
    check_link_v4(RTPPROC_DLT_NULL, null_be_v4, sizeof(null_be_v4));
}

static void test_null_ipv6_bsd_families_in_both_byte_orders(void)
{
    static const uint8_t afs[] = {24, 28, 30}; /* NetBSD/OpenBSD, FreeBSD, Darwin */
    for (size_t i = 0; i < sizeof(afs); i++) {
        const uint8_t le[4] = {afs[i], 0, 0, 0}; /* little-endian capturing host */
        const uint8_t be[4] = {0, 0, 0, afs[i]}; /* big-endian capturing host */
        check_link_v6(RTPPROC_DLT_NULL, le, 4);
        check_link_v6(RTPPROC_DLT_NULL, be, 4);
    }
}

static void test_null_unknown_family_is_not_ip(void)
{
    uint8_t f[128];
    rtpproc_decode_counters k;
    static const uint8_t af7[4] = {0x07, 0x00, 0x00, 0x00}; /* AF 7: not IP */
    size_t n = FRAME(f, af7, ip4_udp);
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_NULL, f, n, &k), RTPPROC_PARSE_NOT_RTP);
    CU_ASSERT_EQUAL(k.not_ip, 1);
    CU_ASSERT_EQUAL(k.datagrams, 0);
}

static void test_loop_is_network_byte_order(void)
{
    uint8_t f[128];
    check_link_v4(RTPPROC_DLT_LOOP, loop_v4, sizeof(loop_v4));
    check_link_v6(RTPPROC_DLT_LOOP, loop_v6, sizeof(loop_v6));
    /* A little-endian family is not accepted for DLT_LOOP. */
    size_t n = FRAME(f, null_le_v4, ip4_udp);
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_LOOP, f, n, NULL), RTPPROC_PARSE_NOT_RTP);
}

static void test_raw_ip_by_version_nibble(void)
{
    static const int lts[] = {RTPPROC_DLT_RAW, RTPPROC_DLT_RAW_BSD, RTPPROC_DLT_LINKTYPE_RAW};
    for (size_t i = 0; i < 3; i++) {
        check_link_v4(lts[i], NULL, 0);
        check_link_v6(lts[i], NULL, 0);
    }
    /* Version 5 is neither. */
    uint8_t f[64];
    rtpproc_decode_counters k;
    memcpy(f, ip4_udp, sizeof(ip4_udp));
    f[0] = 0x55;
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_RAW, f, sizeof(ip4_udp), &k), RTPPROC_PARSE_NOT_RTP);
    CU_ASSERT_EQUAL(k.not_ip, 1);
}

static void test_dlt_ipv4_and_ipv6(void)
{
    check_link_v4(RTPPROC_DLT_IPV4, NULL, 0);
    check_link_v6(RTPPROC_DLT_IPV6, NULL, 0);
    /* The other version under a fixed-version link type is invalid. */
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_IPV4, ip6_udp, sizeof(ip6_udp), NULL),
                    RTPPROC_PARSE_INVALID);
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_IPV6, ip4_udp, sizeof(ip4_udp), NULL),
                    RTPPROC_PARSE_INVALID);
}

static void test_unknown_linktype_is_unsupported(void)
{
    rtpproc_decode_counters k;
    CU_ASSERT_EQUAL(decode_fresh(105 /* IEEE 802.11 */, ip4_udp, sizeof(ip4_udp), &k),
                    RTPPROC_PARSE_UNSUPPORTED);
    CU_ASSERT_EQUAL(k.unsupported, 1);
    CU_ASSERT_EQUAL(k.frames, 1);
    CU_ASSERT_FALSE(rtpproc_decode_linktype_supported(105));
    CU_ASSERT_FALSE(rtpproc_decode_linktype_supported(-1));
    static const int ok[] = {0, 1, 12, 14, 101, 108, 113, 228, 229, 276};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        CU_ASSERT_TRUE(rtpproc_decode_linktype_supported(ok[i]));
}

/* ---- IP and UDP -------------------------------------------------------- */

static void test_ipv4_options_are_skipped(void)
{
    uint8_t f[128];
    rtpproc_datagram dg;
    size_t n = FRAME(f, eth_v4, ip4_opts_udp);
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL_FATAL(decode_all(d, RTPPROC_DLT_EN10MB, f, n, &dg), RTPPROC_PARSE_OK);
    check_v4_flow(&dg, v4_src, v4_dst, 5000, 20000);
    check_rtp8_at(&dg, f, 14 + 28 + 8);
    rtpproc_decoder_free(d);
}

static void test_ipv6_hop_by_hop_and_destination_options_are_skipped(void)
{
    uint8_t f[128];
    rtpproc_datagram dg;
    size_t n = FRAME(f, eth_v6, ip6_ext_udp);
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL_FATAL(decode_all(d, RTPPROC_DLT_EN10MB, f, n, &dg), RTPPROC_PARSE_OK);
    check_v6_flow(&dg, 6000, 7000);
    check_rtp8_at(&dg, f, 14 + IP6_EXT_HDR);
    rtpproc_decoder_free(d);
}

static void test_ipv6_routing_header_is_skipped(void)
{
    rtpproc_datagram dg;
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL_FATAL(decode_all(d, RTPPROC_DLT_RAW, ip6_rh_udp, sizeof(ip6_rh_udp), &dg),
                          RTPPROC_PARSE_OK);
    check_v6_flow(&dg, 6000, 7000);
    check_rtp8_at(&dg, ip6_rh_udp, 64);
    rtpproc_decoder_free(d);
}

static void test_ethernet_trailer_padding_is_excluded(void)
{
    /* 14 + 20 + 8 + 4 = 46 bytes, padded to the 60-byte Ethernet minimum. */
    static const uint8_t f[60] = {
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* destination MAC */
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* source MAC */
        0x08, 0x00,                         /* IPv4 */
        0x45, 0x00, 0x00, 0x20,             /* v4, IHL 5, total length 32 */
        0x00, 0x07, 0x00, 0x00,             /* id 7, no flags */
        0x40, 0x11, 0x00, 0x00,             /* TTL 64, UDP, checksum */
        10,   1,    2,    3,                /* source 10.1.2.3 */
        10,   4,    5,    6,                /* destination 10.4.5.6 */
        0x27, 0x10, 0x27, 0x11,             /* UDP 10000 -> 10001 */
        0x00, 0x0c, 0x00, 0x00,             /* UDP length 12, checksum */
        0xaa, 0xbb, 0xcc, 0xdd,             /* 4 payload bytes */
        /* 14 bytes of trailer padding, left 0 */
    };
    static const uint8_t s[4] = {10, 1, 2, 3}, t[4] = {10, 4, 5, 6};
    rtpproc_datagram dg;
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL_FATAL(decode_all(d, RTPPROC_DLT_EN10MB, f, sizeof(f), &dg), RTPPROC_PARSE_OK);
    check_v4_flow(&dg, s, t, 10000, 10001);
    CU_ASSERT_EQUAL(dg.len, 4);
    CU_ASSERT_EQUAL(dg.caplen, 4);
    CU_ASSERT_PTR_EQUAL(dg.payload, f + 42);
    rtpproc_decoder_free(d);
}

static void test_udp_length_shorter_than_ip_payload_shrinks(void)
{
    uint8_t f[64];
    rtpproc_datagram dg;
    memcpy(f, ip4_udp, sizeof(ip4_udp));
    f[25] = 0x0c; /* UDP length 12: 4 of the 8 bytes after the header */
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL_FATAL(decode_all(d, RTPPROC_DLT_RAW, f, sizeof(ip4_udp), &dg),
                          RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(dg.len, 4);
    CU_ASSERT_EQUAL(dg.caplen, 4);
    rtpproc_decoder_free(d);
}

static void test_snaplen_cut_payload_is_ok_with_short_caplen(void)
{
    uint8_t f[128];
    rtpproc_datagram dg;
    size_t n = FRAME(f, eth_v4, ip4_udp);
    rtpproc_decoder *d = new_decoder();
    /* 3 of the 8 payload bytes captured; the wire had all 50. */
    CU_ASSERT_EQUAL_FATAL(rtpproc_decode_frame(d, RTPPROC_DLT_EN10MB, T0, f, n - 5, n, &dg),
                          RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(dg.len, 8);
    CU_ASSERT_EQUAL(dg.caplen, 3);
    CU_ASSERT_PTR_EQUAL(dg.payload, f + 14 + IP4_UDP_HDR);
    check_v4_flow(&dg, v4_src, v4_dst, 5000, 20000);

    /* Cut right after the UDP header: nothing present, still a datagram. */
    n = FRAME(f, eth_v6, ip6_ext_udp);
    CU_ASSERT_EQUAL_FATAL(rtpproc_decode_frame(d, RTPPROC_DLT_EN10MB, T0, f, n - 8, n, &dg),
                          RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(dg.len, 8);
    CU_ASSERT_EQUAL(dg.caplen, 0);
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);
    CU_ASSERT_EQUAL(k->datagrams, 2);
    CU_ASSERT_EQUAL(k->truncated, 0);
    rtpproc_decoder_free(d);
}

/*
 * Every prefix shorter than the headers is TRUNCATED (the wire length says
 * the rest existed); the exact-size heap copy lets ASan/valgrind catch any
 * read past caplen. The prefix ending right at the payload is OK.
 */
static void check_truncated_prefixes(int lt, const uint8_t *frame, size_t n, size_t hdr)
{
    rtpproc_datagram dg;
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    for (size_t cap = 0; cap < hdr; cap++) {
        uint8_t *copy = malloc(cap ? cap : 1);
        if (copy == NULL)
            CU_FAIL_FATAL("out of memory");
        memcpy(copy, frame, cap);
        int r = rtpproc_decode_frame(d, lt, T0, copy, cap, n, &dg);
        if (r != RTPPROC_PARSE_TRUNCATED)
            CU_FAIL("prefix shorter than the headers not TRUNCATED");
        free(copy);
    }
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);
    CU_ASSERT_EQUAL(k->truncated, hdr);
    CU_ASSERT_EQUAL(k->frames, hdr);
    CU_ASSERT_EQUAL(k->invalid + k->not_ip + k->not_udp + k->datagrams, 0);

    uint8_t *copy = malloc(hdr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    memcpy(copy, frame, hdr);
    CU_ASSERT_EQUAL(rtpproc_decode_frame(d, lt, T0, copy, hdr, n, &dg), RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(dg.caplen, 0);
    CU_ASSERT_EQUAL(dg.len, n - hdr);
    free(copy);
    rtpproc_decoder_free(d);
}

static void test_truncated_at_every_header_offset(void)
{
    uint8_t f[160];
    size_t n;
    n = FRAME(f, eth_v4, ip4_udp);
    check_truncated_prefixes(RTPPROC_DLT_EN10MB, f, n, 14 + IP4_UDP_HDR);
    n = FRAME(f, eth_qinq_v4, ip4_opts_udp);
    check_truncated_prefixes(RTPPROC_DLT_EN10MB, f, n, 22 + 36);
    n = FRAME(f, eth_v6, ip6_ext_udp);
    check_truncated_prefixes(RTPPROC_DLT_EN10MB, f, n, 14 + IP6_EXT_HDR);
    n = FRAME(f, sll_v4, ip4_udp);
    check_truncated_prefixes(RTPPROC_DLT_LINUX_SLL, f, n, 16 + IP4_UDP_HDR);
    n = FRAME(f, sll2_v6, ip6_udp);
    check_truncated_prefixes(RTPPROC_DLT_LINUX_SLL2, f, n, 20 + IP6_UDP_HDR);
    n = FRAME(f, null_le_v4, ip4_udp);
    check_truncated_prefixes(RTPPROC_DLT_NULL, f, n, 4 + IP4_UDP_HDR);
    n = FRAME(f, loop_v6, ip6_rh_udp);
    check_truncated_prefixes(RTPPROC_DLT_LOOP, f, n, 4 + 64);
    check_truncated_prefixes(RTPPROC_DLT_RAW, ip6_udp, sizeof(ip6_udp), IP6_UDP_HDR);
    check_truncated_prefixes(RTPPROC_DLT_IPV4, ip4_udp, sizeof(ip4_udp), IP4_UDP_HDR);
}

/* Runs a modified ip4_udp (raw) and expects INVALID. */
static void expect_invalid_v4(const uint8_t *pkt, size_t n)
{
    rtpproc_decode_counters k;
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_RAW, pkt, n, &k), RTPPROC_PARSE_INVALID);
    CU_ASSERT_EQUAL(k.invalid, 1);
    CU_ASSERT_EQUAL(k.truncated + k.datagrams, 0);
}

static void test_invalid_ipv4_and_udp_length_fields(void)
{
    uint8_t p[64];

    memcpy(p, ip4_udp, sizeof(ip4_udp));
    p[0] = 0x44; /* IHL 4 (16 bytes) < 5 */
    expect_invalid_v4(p, sizeof(ip4_udp));

    memcpy(p, ip4_udp, sizeof(ip4_udp));
    p[3] = 19; /* total length 19 < IHL*4 = 20 */
    expect_invalid_v4(p, sizeof(ip4_udp));

    memcpy(p, ip4_udp, sizeof(ip4_udp));
    p[3] = 100; /* total length 100 > the 36 bytes that were on the wire */
    expect_invalid_v4(p, sizeof(ip4_udp));

    memcpy(p, ip4_udp, sizeof(ip4_udp));
    p[3] = 24; /* total length 24: 4-byte IP payload cannot hold a UDP header */
    expect_invalid_v4(p, sizeof(ip4_udp));

    memcpy(p, ip4_udp, sizeof(ip4_udp));
    p[25] = 7; /* UDP length 7 < 8 */
    expect_invalid_v4(p, sizeof(ip4_udp));

    memcpy(p, ip4_udp, sizeof(ip4_udp));
    p[25] = 0; /* UDP length 0 */
    expect_invalid_v4(p, sizeof(ip4_udp));

    memcpy(p, ip4_udp, sizeof(ip4_udp));
    p[25] = 17; /* UDP length 17 > IP payload 16 */
    expect_invalid_v4(p, sizeof(ip4_udp));

    /* Ethernet says IPv4 but the version nibble says 6. */
    uint8_t f[128];
    size_t n = FRAME(f, eth_v4, ip6_udp);
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_EN10MB, f, n, NULL), RTPPROC_PARSE_INVALID);
}

static void test_invalid_ipv6_length_fields(void)
{
    uint8_t p[128];
    rtpproc_decode_counters k;

    /* Payload length 0 with hop-by-hop: a jumbogram (RFC 2675), not supported. */
    memcpy(p, ip6_ext_udp, sizeof(ip6_ext_udp));
    p[4] = 0;
    p[5] = 0;
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_RAW, p, sizeof(ip6_ext_udp), &k),
                    RTPPROC_PARSE_INVALID);
    CU_ASSERT_EQUAL(k.invalid, 1);

    /* Destination options header longer than the payload length allows. */
    memcpy(p, ip6_ext_udp, sizeof(ip6_ext_udp));
    p[49] = 4; /* DO length 4: 40 bytes, beyond the 32 left */
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_RAW, p, sizeof(ip6_ext_udp), NULL),
                    RTPPROC_PARSE_INVALID);

    /* Hop-by-hop anywhere but first (RFC 8200 4.1). */
    memcpy(p, ip6_ext_udp, sizeof(ip6_ext_udp));
    p[6] = 60; /* IPv6 next header: destination options */
    p[40] = 0; /* ... whose next header is hop-by-hop */
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_RAW, p, sizeof(ip6_ext_udp), NULL),
                    RTPPROC_PARSE_INVALID);

    /* Payload length beyond what was on the wire. */
    memcpy(p, ip6_udp, sizeof(ip6_udp));
    p[5] = 0x20;
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_RAW, p, sizeof(ip6_udp), NULL), RTPPROC_PARSE_INVALID);

    /* UDP length larger than the IPv6 payload. */
    memcpy(p, ip6_udp, sizeof(ip6_udp));
    p[45] = 0x11;
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_RAW, p, sizeof(ip6_udp), NULL), RTPPROC_PARSE_INVALID);
}

static void test_ipv6_extension_chain_beyond_cap_is_invalid(void)
{
    uint8_t p[256];
    memcpy(p, ip6_udp, 40);
    size_t n = 40;
    int hdrs = 9; /* nine destination options headers, one more than the cap */
    p[6] = 60;
    for (int i = 0; i < hdrs; i++) {
        p[n++] = i + 1 < hdrs ? 60 : 17; /* next header */
        p[n++] = 0;                      /* length 0: 8 bytes */
        p[n++] = 0x01;
        p[n++] = 0x04; /* PadN, 4 bytes */
        memset(p + n, 0, 4);
        n += 4;
    }
    memcpy(p + n, ip6_udp + 40, 16); /* UDP + payload */
    n += 16;
    p[4] = (uint8_t)((n - 40) >> 8);
    p[5] = (uint8_t)(n - 40);
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_RAW, p, n, NULL), RTPPROC_PARSE_INVALID);
}

static void test_not_udp_and_not_ip(void)
{
    uint8_t f[128], p[64];
    rtpproc_decode_counters k;
    size_t n = FRAME(f, eth_v4, ip4_tcp);
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_EN10MB, f, n, &k), RTPPROC_PARSE_NOT_RTP);
    CU_ASSERT_EQUAL(k.not_udp, 1);
    CU_ASSERT_EQUAL(k.not_ip, 0);

    memcpy(p, ip6_udp, sizeof(ip6_udp));
    p[6] = 58; /* next header ICMPv6 */
    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_RAW, p, sizeof(ip6_udp), &k), RTPPROC_PARSE_NOT_RTP);
    CU_ASSERT_EQUAL(k.not_udp, 1);

    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_EN10MB, eth_arp, sizeof(eth_arp), &k),
                    RTPPROC_PARSE_NOT_RTP);
    CU_ASSERT_EQUAL(k.not_ip, 1);
    CU_ASSERT_EQUAL(k.not_udp, 0);

    CU_ASSERT_EQUAL(decode_fresh(RTPPROC_DLT_EN10MB, eth_llc, sizeof(eth_llc), &k),
                    RTPPROC_PARSE_NOT_RTP);
    CU_ASSERT_EQUAL(k.not_ip, 1);
}

static void test_counters_count_every_call(void)
{
    uint8_t f[128];
    rtpproc_datagram dg;
    rtpproc_decoder *d = new_decoder();
    size_t n = FRAME(f, eth_v4, ip4_udp);
    decode_all(d, RTPPROC_DLT_EN10MB, f, n, &dg);
    decode_all(d, RTPPROC_DLT_EN10MB, f, n, &dg);
    decode_all(d, RTPPROC_DLT_EN10MB, eth_arp, sizeof(eth_arp), &dg);
    decode_all(d, RTPPROC_DLT_EN10MB, f, 20, &dg); /* IPv4 header cut: truncated */
    decode_all(d, RTPPROC_DLT_EN10MB, f, 40, &dg); /* total length 36 > 26 on the wire */
    decode_all(d, 9999, f, n, &dg);
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);
    CU_ASSERT_EQUAL(k->frames, 6);
    CU_ASSERT_EQUAL(k->datagrams, 2);
    CU_ASSERT_EQUAL(k->not_ip, 1);
    CU_ASSERT_EQUAL(k->truncated, 1);
    CU_ASSERT_EQUAL(k->invalid, 1);
    CU_ASSERT_EQUAL(k->unsupported, 1);
    CU_ASSERT_EQUAL(k->not_udp + k->fragments, 0);
    rtpproc_decoder_free(d);
}

static void test_config_defaults_and_free_null(void)
{
    rtpproc_decoder_config cfg;
    memset(&cfg, 0xff, sizeof(cfg));
    rtpproc_decoder_config_init(&cfg);
    CU_ASSERT_EQUAL(cfg.max_reassemblies, 64);
    CU_ASSERT_EQUAL(cfg.max_reassembly_bytes, 4u * 1024 * 1024);
    CU_ASSERT_EQUAL(cfg.frag_timeout, 30 * RTPPROC_NS_PER_SEC);
    rtpproc_decoder_free(NULL);
    rtpproc_decoder *d = rtpproc_decoder_new(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);
    CU_ASSERT_EQUAL(k->frames + k->datagrams + k->fragments, 0);
    rtpproc_decoder_expire(d, T0); /* nothing to expire: no effect */
    CU_ASSERT_EQUAL(k->frag_timeouts, 0);
    rtpproc_decoder_free(d);
}

/* ---- fragments --------------------------------------------------------- */

static const uint8_t frag_src4[4] = {10, 0, 0, 1};
static const uint8_t frag_dst4[4] = {10, 0, 0, 2};

/* The 48-byte UDP datagram that the fragment tests split. */
static void make_udp48(uint8_t *u)
{
    u[0] = 0x0f;
    u[1] = 0xa0; /* source port 4000 */
    u[2] = 0x0f;
    u[3] = 0xa2; /* destination port 4002 */
    u[4] = 0x00;
    u[5] = 48; /* UDP length 48 */
    u[6] = 0;
    u[7] = 0; /* checksum */
    for (int i = 8; i < 48; i++)
        u[i] = (uint8_t)(i * 7 + 3); /* 40 payload bytes */
}

/*
 * A raw IPv4 fragment (RFC 791): 20-byte header from 10.0.0.1 to 10.0.0.2,
 * identification `id`, MF and offset as given (offset in bytes, a multiple
 * of 8), then `len` data bytes. Returns the frame length.
 */
static size_t ip4_frag(uint8_t *b, uint16_t id, size_t off, bool mf, uint8_t proto,
                       const uint8_t *data, size_t len)
{
    size_t tot = 20 + len;
    uint16_t fl = (uint16_t)((mf ? 0x2000 : 0) | (off / 8));
    b[0] = 0x45;                /* version 4, IHL 5 */
    b[1] = 0;                   /* DSCP/ECN */
    b[2] = (uint8_t)(tot >> 8); /* total length */
    b[3] = (uint8_t)tot;
    b[4] = (uint8_t)(id >> 8); /* identification */
    b[5] = (uint8_t)id;
    b[6] = (uint8_t)(fl >> 8); /* flags (MF = 0x20 in this byte) and offset / 8 */
    b[7] = (uint8_t)fl;
    b[8] = 64;    /* TTL */
    b[9] = proto; /* protocol */
    b[10] = 0;    /* checksum */
    b[11] = 0;
    memcpy(b + 12, frag_src4, 4);
    memcpy(b + 16, frag_dst4, 4);
    memcpy(b + 20, data, len);
    return tot;
}

/* Feeds one IPv4 fragment of u48 (data offset `off`, `len` bytes). */
static int feed4(rtpproc_decoder *d, rtpproc_time_ns ts, uint16_t id, const uint8_t *dgram,
                 size_t off, size_t len, bool mf, rtpproc_datagram *dg)
{
    uint8_t b[70000];
    size_t n = ip4_frag(b, id, off, mf, 17, dgram + off, len);
    return rtpproc_decode_frame(d, RTPPROC_DLT_IPV4, ts, b, n, n, dg);
}

static void check_reassembled48(const rtpproc_datagram *dg, const uint8_t *u)
{
    check_v4_flow(dg, frag_src4, frag_dst4, 4000, 4002);
    CU_ASSERT_EQUAL(dg->len, 40);
    CU_ASSERT_EQUAL(dg->caplen, 40);
    CU_ASSERT_EQUAL(memcmp(dg->payload, u + 8, 40), 0);
}

static void test_ipv4_fragments_in_order_reassemble(void)
{
    uint8_t u[48];
    rtpproc_datagram dg;
    make_udp48(u);
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL(feed4(d, T0, 77, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0 + 1, 77, u, 16, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL_FATAL(feed4(d, T0 + 2, 77, u, 32, 16, false, &dg), RTPPROC_PARSE_OK);
    check_reassembled48(&dg, u);
    CU_ASSERT_EQUAL(dg.ts, T0 + 2);
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);
    CU_ASSERT_EQUAL(k->frames, 3);
    CU_ASSERT_EQUAL(k->fragments, 3);
    CU_ASSERT_EQUAL(k->reassembled, 1);
    CU_ASSERT_EQUAL(k->datagrams, 1);
    /* The same id again starts a fresh reassembly. */
    CU_ASSERT_EQUAL(feed4(d, T0 + 3, 77, u, 32, 16, false, &dg), RTPPROC_PARSE_PENDING);
    rtpproc_decoder_free(d);
}

static void test_ipv4_fragments_out_of_order_reassemble(void)
{
    static const size_t orders[][3] = {{2, 0, 1}, {1, 2, 0}, {2, 1, 0}, {0, 2, 1}};
    uint8_t u[48];
    rtpproc_datagram dg;
    make_udp48(u);
    for (size_t o = 0; o < 4; o++) {
        rtpproc_decoder *d = new_decoder();
        for (size_t i = 0; i < 3; i++) {
            size_t part = orders[o][i];
            int r = feed4(d, T0, 9, u, part * 16, 16, part != 2, &dg);
            CU_ASSERT_EQUAL(r, i < 2 ? RTPPROC_PARSE_PENDING : RTPPROC_PARSE_OK);
        }
        check_reassembled48(&dg, u);
        CU_ASSERT_EQUAL(rtpproc_decoder_counters(d)->reassembled, 1);
        rtpproc_decoder_free(d);
    }
}

static void test_ipv4_interleaved_datagrams_are_kept_apart(void)
{
    uint8_t u[48], v[48];
    rtpproc_datagram dg;
    make_udp48(u);
    make_udp48(v);
    for (int i = 8; i < 48; i++)
        v[i] = (uint8_t)~u[i];
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL(feed4(d, T0, 1, u, 0, 24, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0, 2, v, 24, 24, false, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0, 2, v, 0, 24, true, &dg), RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(memcmp(dg.payload, v + 8, 40), 0);
    CU_ASSERT_EQUAL(feed4(d, T0, 1, u, 24, 24, false, &dg), RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(memcmp(dg.payload, u + 8, 40), 0);
    CU_ASSERT_EQUAL(rtpproc_decoder_counters(d)->reassembled, 2);
    rtpproc_decoder_free(d);
}

static void test_ipv4_non_udp_fragment_is_not_stored(void)
{
    uint8_t b[64], data[16] = {0};
    rtpproc_datagram dg;
    rtpproc_decoder *d = new_decoder();
    size_t n = ip4_frag(b, 5, 0, true, 6 /* TCP */, data, 16);
    CU_ASSERT_EQUAL(decode_all(d, RTPPROC_DLT_IPV4, b, n, &dg), RTPPROC_PARSE_NOT_RTP);
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);
    CU_ASSERT_EQUAL(k->not_udp, 1);
    CU_ASSERT_EQUAL(k->fragments, 0);
    rtpproc_decoder_free(d);
}

static void test_fragment_length_rules(void)
{
    uint8_t u[48], b[70000], big[80] = {0};
    rtpproc_datagram dg;
    make_udp48(u);
    rtpproc_decoder *d = new_decoder();
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);

    /* Non-last fragment of 12 bytes: not a multiple of 8. */
    CU_ASSERT_EQUAL(feed4(d, T0, 3, u, 0, 12, true, &dg), RTPPROC_PARSE_INVALID);
    /* Offset 65472 + 80 bytes + 20-byte header > 65535. */
    size_t n = ip4_frag(b, 3, 65472, false, 17, big, sizeof(big));
    CU_ASSERT_EQUAL(decode_all(d, RTPPROC_DLT_IPV4, b, n, &dg), RTPPROC_PARSE_INVALID);
    CU_ASSERT_EQUAL(k->invalid, 2);
    CU_ASSERT_EQUAL(k->fragments, 0);

    /* Last fragment sets the total 48; data beyond it and a shorter last are invalid. */
    CU_ASSERT_EQUAL(feed4(d, T0, 4, u, 32, 16, false, &dg), RTPPROC_PARSE_PENDING);
    n = ip4_frag(b, 4, 48, true, 17, big, 8);
    CU_ASSERT_EQUAL(decode_all(d, RTPPROC_DLT_IPV4, b, n, &dg), RTPPROC_PARSE_INVALID);
    CU_ASSERT_EQUAL(feed4(d, T0, 4, u, 16, 8, false, &dg), RTPPROC_PARSE_INVALID);
    CU_ASSERT_EQUAL(k->invalid, 4);
    /* The datagram still completes from consistent fragments. */
    CU_ASSERT_EQUAL(feed4(d, T0, 4, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL_FATAL(feed4(d, T0, 4, u, 16, 16, true, &dg), RTPPROC_PARSE_OK);
    check_reassembled48(&dg, u);

    /* A truncated fragment cannot be stored. */
    n = ip4_frag(b, 6, 0, true, 17, u, 16);
    CU_ASSERT_EQUAL(rtpproc_decode_frame(d, RTPPROC_DLT_IPV4, T0, b, n - 1, n, &dg),
                    RTPPROC_PARSE_TRUNCATED);
    CU_ASSERT_EQUAL(k->truncated, 1);
    rtpproc_decoder_free(d);
}

static void test_reassembled_datagram_with_bad_udp_length_is_invalid(void)
{
    uint8_t u[48];
    rtpproc_datagram dg;
    make_udp48(u);
    u[5] = 56; /* UDP length 56 > the 48 reassembled bytes */
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL(feed4(d, T0, 8, u, 0, 24, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0, 8, u, 24, 24, false, &dg), RTPPROC_PARSE_INVALID);
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);
    CU_ASSERT_EQUAL(k->reassembled, 1);
    CU_ASSERT_EQUAL(k->invalid, 1);
    CU_ASSERT_EQUAL(k->datagrams, 0);
    rtpproc_decoder_free(d);
}

static void test_duplicate_and_overlapping_fragments_keep_first_copy(void)
{
    uint8_t u[48], junk[48];
    rtpproc_datagram dg;
    make_udp48(u);
    memset(junk, 0xee, sizeof(junk));
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL(feed4(d, T0, 11, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0, 11, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0, 11, u, 16, 16, true, &dg), RTPPROC_PARSE_PENDING);
    /* Bytes 8..31 again with different content: all already held, ignored. */
    CU_ASSERT_EQUAL(feed4(d, T0, 11, junk, 8, 24, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL_FATAL(feed4(d, T0, 11, u, 32, 16, false, &dg), RTPPROC_PARSE_OK);
    check_reassembled48(&dg, u);
    CU_ASSERT_EQUAL(rtpproc_decoder_counters(d)->fragments, 5);

    /* An overlap that also covers a missing block fills only that block. */
    CU_ASSERT_EQUAL(feed4(d, T0, 12, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0, 12, junk, 8, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0, 12, u, 16, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL_FATAL(feed4(d, T0, 12, u, 32, 16, false, &dg), RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(memcmp(dg.payload, u + 8, 8), 0);    /* bytes 8..15: first fragment */
    CU_ASSERT_EQUAL(memcmp(dg.payload + 8, junk, 8), 0); /* 16..23: the overlap came first */
    CU_ASSERT_EQUAL(memcmp(dg.payload + 16, u + 24, 24), 0);
    rtpproc_decoder_free(d);
}

static void test_fragment_timeout_drops_incomplete_datagram(void)
{
    uint8_t u[48];
    rtpproc_datagram dg;
    make_udp48(u);
    rtpproc_decoder *d = new_decoder(); /* timeout 30 s */
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);

    /* Exactly 30 s later is still within the timeout. */
    CU_ASSERT_EQUAL(feed4(d, T0, 20, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0 + 30 * RTPPROC_NS_PER_SEC, 20, u, 16, 16, true, &dg),
                    RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0 + 30 * RTPPROC_NS_PER_SEC, 20, u, 32, 16, false, &dg),
                    RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(k->frag_timeouts, 0);

    /* 31 s later the first fragment is gone: the datagram never completes. */
    CU_ASSERT_EQUAL(feed4(d, T0, 21, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    rtpproc_time_ns later = T0 + 31 * RTPPROC_NS_PER_SEC;
    CU_ASSERT_EQUAL(feed4(d, later, 21, u, 16, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(k->frag_timeouts, 1);
    CU_ASSERT_EQUAL(feed4(d, later, 21, u, 32, 16, false, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(k->reassembled, 1);

    /* Capture time going backwards expires nothing. */
    rtpproc_decoder_expire(d, T0);
    CU_ASSERT_EQUAL(k->frag_timeouts, 1);
    /* rtpproc_decoder_expire() drops the leftovers. */
    rtpproc_decoder_expire(d, later + 31 * RTPPROC_NS_PER_SEC);
    CU_ASSERT_EQUAL(k->frag_timeouts, 2);
    /* ... so the missing first fragment now starts a new datagram. */
    CU_ASSERT_EQUAL(feed4(d, later + 32 * RTPPROC_NS_PER_SEC, 21, u, 0, 16, true, &dg),
                    RTPPROC_PARSE_PENDING);
    rtpproc_decoder_free(d);
}

static void test_reassembly_count_bound_evicts_oldest(void)
{
    uint8_t u[48];
    rtpproc_datagram dg;
    rtpproc_decoder_config cfg;
    make_udp48(u);
    rtpproc_decoder_config_init(&cfg);
    cfg.max_reassemblies = 2;
    rtpproc_decoder *d = rtpproc_decoder_new(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);

    CU_ASSERT_EQUAL(feed4(d, T0, 1, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0, 1, u, 16, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0, 2, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(k->frag_overflows, 0);
    /* A third datagram evicts the oldest (id 1, two fragments). */
    CU_ASSERT_EQUAL(feed4(d, T0, 3, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(k->frag_overflows, 2);
    for (uint16_t id = 2; id <= 3; id++) {
        CU_ASSERT_EQUAL(feed4(d, T0, id, u, 16, 16, true, &dg), RTPPROC_PARSE_PENDING);
        CU_ASSERT_EQUAL(feed4(d, T0, id, u, 32, 16, false, &dg), RTPPROC_PARSE_OK);
        check_reassembled48(&dg, u);
    }
    /* id 1's last fragment starts over and stays incomplete. */
    CU_ASSERT_EQUAL(feed4(d, T0, 1, u, 32, 16, false, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(k->reassembled, 2);

    /* Many more concurrent datagrams than the bound: only evictions, no crash. */
    for (uint16_t id = 100; id < 200; id++)
        CU_ASSERT_EQUAL(feed4(d, T0, id, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(k->frag_overflows, 2 + 1 + 98);
    rtpproc_decoder_free(d); /* frees the two left */
}

static void test_reassembly_byte_bound_drops_large_datagram(void)
{
    uint8_t u[48], b[9000], big[16] = {0};
    rtpproc_datagram dg;
    rtpproc_decoder_config cfg;
    make_udp48(u);
    rtpproc_decoder_config_init(&cfg);
    cfg.max_reassembly_bytes = 4096;
    rtpproc_decoder *d = rtpproc_decoder_new(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);

    /* A fragment at offset 8000 needs more than 4096 bytes of buffer. */
    size_t n = ip4_frag(b, 40, 8000, true, 17, big, sizeof(big));
    CU_ASSERT_EQUAL(decode_all(d, RTPPROC_DLT_IPV4, b, n, &dg), RTPPROC_PARSE_UNSUPPORTED);
    CU_ASSERT_EQUAL(k->frag_overflows, 1);
    CU_ASSERT_EQUAL(k->fragments, 0);
    CU_ASSERT_EQUAL(k->unsupported, 0);
    /* A small datagram still fits. */
    CU_ASSERT_EQUAL(feed4(d, T0, 41, u, 0, 24, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed4(d, T0, 41, u, 24, 24, false, &dg), RTPPROC_PARSE_OK);
    check_reassembled48(&dg, u);
    rtpproc_decoder_free(d);

    /*
     * 150000 bytes hold two datagrams whose fragments sit near offset 60000
     * (about 60 KiB of buffer each) but not three: the third evicts the
     * oldest, whose one fragment counts as an overflow.
     */
    cfg.max_reassembly_bytes = 150000;
    d = rtpproc_decoder_new(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    k = rtpproc_decoder_counters(d);
    for (uint16_t id = 50; id < 53; id++) {
        n = ip4_frag(b, id, 60000, true, 17, big, sizeof(big));
        CU_ASSERT_EQUAL(decode_all(d, RTPPROC_DLT_IPV4, b, n, &dg), RTPPROC_PARSE_PENDING);
    }
    CU_ASSERT_EQUAL(k->frag_overflows, 1);
    CU_ASSERT_EQUAL(k->fragments, 3);
    rtpproc_decoder_free(d);

    /* No reassembly at all. */
    cfg.max_reassemblies = 0;
    d = rtpproc_decoder_new(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(feed4(d, T0, 41, u, 0, 24, true, &dg), RTPPROC_PARSE_UNSUPPORTED);
    CU_ASSERT_EQUAL(rtpproc_decoder_counters(d)->frag_overflows, 1);
    rtpproc_decoder_free(d);
}

static void test_largest_ipv4_datagram_reassembles(void)
{
    /* 65535 - 20 = 65515 bytes of UDP: 8 + 65507 payload, in fragments of 1480. */
    static uint8_t u[65515];
    rtpproc_datagram dg;
    u[0] = 0x13;
    u[1] = 0x88; /* port 5000 */
    u[2] = 0x13;
    u[3] = 0x89; /* port 5001 */
    u[4] = 0xff;
    u[5] = 0xeb; /* UDP length 65515 */
    u[6] = u[7] = 0;
    for (size_t i = 8; i < sizeof(u); i++)
        u[i] = (uint8_t)(i ^ (i >> 8));
    size_t last = (sizeof(u) / 1480) * 1480;
    rtpproc_decoder *d = new_decoder();
    for (int pass = 0; pass < 2; pass++) {
        int r = RTPPROC_PARSE_PENDING;
        uint16_t id = (uint16_t)(99 + pass);
        if (pass == 0) {
            /* Back to front: the buffer is sized once by the last fragment. */
            r = feed4(d, T0, id, u, last, sizeof(u) - last, false, &dg);
            CU_ASSERT_EQUAL(r, RTPPROC_PARSE_PENDING);
            for (size_t off = 0; off < last; off += 1480)
                r = feed4(d, T0, id, u, off, 1480, true, &dg);
        } else {
            /* Front to back: the buffer grows as fragments arrive. */
            for (size_t off = 0; off < last; off += 1480)
                CU_ASSERT_EQUAL(feed4(d, T0, id, u, off, 1480, true, &dg), RTPPROC_PARSE_PENDING);
            r = feed4(d, T0, id, u, last, sizeof(u) - last, false, &dg);
        }
        CU_ASSERT_EQUAL_FATAL(r, RTPPROC_PARSE_OK);
        CU_ASSERT_EQUAL(dg.len, 65507);
        CU_ASSERT_EQUAL(dg.caplen, 65507);
        CU_ASSERT_EQUAL(memcmp(dg.payload, u + 8, 65507), 0);
    }
    CU_ASSERT_EQUAL(rtpproc_decoder_counters(d)->frag_overflows, 0);
    rtpproc_decoder_free(d);
}

/*
 * A raw IPv6 fragment (RFC 8200 4.5): fixed header 2001:db8::1 ->
 * 2001:db8::2, optionally an 8-byte hop-by-hop header (unfragmentable
 * part), then the 8-byte fragment header, then `len` data bytes.
 */
static size_t ip6_frag_x(uint8_t *b, bool hbh, uint32_t id, size_t off, bool more, uint8_t nh,
                         const uint8_t *data, size_t len)
{
    size_t h = hbh ? 8 : 0;
    size_t plen = h + 8 + len;
    uint16_t offm = (uint16_t)(off | (more ? 1 : 0));
    b[0] = 0x60; /* version 6 */
    b[1] = b[2] = b[3] = 0;
    b[4] = (uint8_t)(plen >> 8); /* payload length */
    b[5] = (uint8_t)plen;
    b[6] = hbh ? 0 : 44; /* next header: hop-by-hop or fragment */
    b[7] = 64;           /* hop limit */
    memcpy(b + 8, v6_src, 16);
    memcpy(b + 24, v6_dst, 16);
    if (hbh) {
        b[40] = 44;   /* HBH: next header fragment */
        b[41] = 0;    /* length 0: 8 bytes */
        b[42] = 0x01; /* PadN */
        b[43] = 0x04; /* 4 bytes */
        b[44] = b[45] = b[46] = b[47] = 0;
    }
    b[40 + h] = nh;                   /* fragment header: next header */
    b[41 + h] = 0;                    /* reserved */
    b[42 + h] = (uint8_t)(offm >> 8); /* offset (13 bits, 8-octet units), res, M */
    b[43 + h] = (uint8_t)offm;
    b[44 + h] = (uint8_t)(id >> 24); /* identification */
    b[45 + h] = (uint8_t)(id >> 16);
    b[46 + h] = (uint8_t)(id >> 8);
    b[47 + h] = (uint8_t)id;
    memcpy(b + 48 + h, data, len);
    return 48 + h + len;
}

static size_t ip6_frag(uint8_t *b, uint32_t id, size_t off, bool more, uint8_t nh,
                       const uint8_t *data, size_t len)
{
    return ip6_frag_x(b, false, id, off, more, nh, data, len);
}

static int feed6(rtpproc_decoder *d, uint32_t id, uint8_t nh, const uint8_t *dgram, size_t off,
                 size_t len, bool more, rtpproc_datagram *dg)
{
    uint8_t b[256];
    size_t n = ip6_frag(b, id, off, more, nh, dgram + off, len);
    return rtpproc_decode_frame(d, RTPPROC_DLT_IPV6, T0, b, n, n, dg);
}

static void test_ipv6_fragments_reassemble(void)
{
    uint8_t u[48];
    rtpproc_datagram dg;
    make_udp48(u);
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL(feed6(d, 0xdeadbeef, 17, u, 24, 24, false, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL_FATAL(feed6(d, 0xdeadbeef, 17, u, 0, 24, true, &dg), RTPPROC_PARSE_OK);
    check_v6_flow(&dg, 4000, 4002);
    CU_ASSERT_EQUAL(dg.len, 40);
    CU_ASSERT_EQUAL(dg.caplen, 40);
    CU_ASSERT_EQUAL(memcmp(dg.payload, u + 8, 40), 0);

    /* In order, three pieces; a different id is another datagram. */
    CU_ASSERT_EQUAL(feed6(d, 1, 17, u, 0, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed6(d, 2, 17, u, 16, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL(feed6(d, 1, 17, u, 16, 16, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL_FATAL(feed6(d, 1, 17, u, 32, 16, false, &dg), RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(memcmp(dg.payload, u + 8, 40), 0);
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);
    CU_ASSERT_EQUAL(k->reassembled, 2);
    CU_ASSERT_EQUAL(k->fragments, 6);
    rtpproc_decoder_free(d);
}

static void test_ipv6_fragment_with_destination_options_inside(void)
{
    /* Fragmentable part: destination options (8) + UDP (8) + 32 payload bytes. */
    uint8_t p[48];
    rtpproc_datagram dg;
    p[0] = 17; /* DO: next header UDP */
    p[1] = 0;  /* length 0: 8 bytes */
    p[2] = 0x01;
    p[3] = 0x04; /* PadN, 4 bytes */
    p[4] = p[5] = p[6] = p[7] = 0;
    p[8] = 0x17;
    p[9] = 0x70; /* UDP source port 6000 */
    p[10] = 0x1b;
    p[11] = 0x58; /* destination port 7000 */
    p[12] = 0;
    p[13] = 40; /* UDP length 40 */
    p[14] = p[15] = 0;
    for (int i = 16; i < 48; i++)
        p[i] = (uint8_t)i;
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL(feed6(d, 5, 60, p, 0, 24, true, &dg), RTPPROC_PARSE_PENDING);
    CU_ASSERT_EQUAL_FATAL(feed6(d, 5, 60, p, 24, 24, false, &dg), RTPPROC_PARSE_OK);
    check_v6_flow(&dg, 6000, 7000);
    CU_ASSERT_EQUAL(dg.len, 32);
    CU_ASSERT_EQUAL(memcmp(dg.payload, p + 16, 32), 0);

    /* A fragment of something else (ICMPv6) is not stored. */
    CU_ASSERT_EQUAL(feed6(d, 6, 58, p, 0, 24, true, &dg), RTPPROC_PARSE_NOT_RTP);
    CU_ASSERT_EQUAL(rtpproc_decoder_counters(d)->not_udp, 1);
    CU_ASSERT_EQUAL(rtpproc_decoder_counters(d)->fragments, 2);
    rtpproc_decoder_free(d);
}

static void test_ipv6_fragment_rules(void)
{
    uint8_t u[48], b[256];
    rtpproc_datagram dg;
    make_udp48(u);
    rtpproc_decoder *d = new_decoder();
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);

    /* Behind a hop-by-hop header the datagram still reassembles. */
    size_t n = ip6_frag_x(b, true, 30, 24, false, 17, u + 24, 24);
    CU_ASSERT_EQUAL(decode_all(d, RTPPROC_DLT_IPV6, b, n, &dg), RTPPROC_PARSE_PENDING);
    n = ip6_frag_x(b, true, 30, 0, true, 17, u, 24);
    CU_ASSERT_EQUAL_FATAL(decode_all(d, RTPPROC_DLT_IPV6, b, n, &dg), RTPPROC_PARSE_OK);
    check_v6_flow(&dg, 4000, 4002);
    CU_ASSERT_EQUAL(memcmp(dg.payload, u + 8, 40), 0);

    /*
     * Reassembled payload length = unfragmentable extension headers +
     * fragmentable part <= 65535: offset 65512 + 16 bytes = 65528 fits alone,
     * but not behind 8 bytes of hop-by-hop (65536).
     */
    n = ip6_frag(b, 31, 65512, false, 17, u, 16);
    CU_ASSERT_EQUAL(decode_all(d, RTPPROC_DLT_IPV6, b, n, &dg), RTPPROC_PARSE_PENDING);
    n = ip6_frag_x(b, true, 32, 65512, false, 17, u, 16);
    CU_ASSERT_EQUAL(decode_all(d, RTPPROC_DLT_IPV6, b, n, &dg), RTPPROC_PARSE_INVALID);
    CU_ASSERT_EQUAL(k->invalid, 1);

    /* Non-last fragment of 12 bytes: not a multiple of 8. */
    n = ip6_frag(b, 33, 0, true, 17, u, 12);
    CU_ASSERT_EQUAL(decode_all(d, RTPPROC_DLT_IPV6, b, n, &dg), RTPPROC_PARSE_INVALID);
    CU_ASSERT_EQUAL(k->invalid, 2);

    /* A fragment cut by the snaplen cannot be stored. */
    uint64_t stored = k->fragments;
    n = ip6_frag(b, 34, 0, true, 17, u, 16);
    CU_ASSERT_EQUAL(rtpproc_decode_frame(d, RTPPROC_DLT_IPV6, T0, b, n - 3, n, &dg),
                    RTPPROC_PARSE_TRUNCATED);
    CU_ASSERT_EQUAL(k->truncated, 1);
    CU_ASSERT_EQUAL(k->fragments, stored);
    rtpproc_decoder_free(d);
}

static void test_ipv6_atomic_fragment_is_a_whole_datagram(void)
{
    /* RFC 6946: offset 0 and M 0. */
    uint8_t b[128];
    rtpproc_datagram dg;
    size_t n = ip6_frag(b, 7, 0, false, 17, ip6_udp + 40, 16);
    rtpproc_decoder *d = new_decoder();
    CU_ASSERT_EQUAL_FATAL(decode_all(d, RTPPROC_DLT_IPV6, b, n, &dg), RTPPROC_PARSE_OK);
    check_v6_flow(&dg, 6000, 7000);
    check_rtp8_at(&dg, b, 56);
    CU_ASSERT_EQUAL(rtpproc_decoder_counters(d)->fragments, 0);
    rtpproc_decoder_free(d);
}

/* ---- robustness -------------------------------------------------------- */

static uint32_t rng_state = 0x12345678u;

static uint32_t rng(void)
{
    /* xorshift32: deterministic, so a failure reproduces. */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void test_mutated_frames_never_crash_and_counters_agree(void)
{
    uint8_t seeds[6][128];
    size_t lens[6];
    static const int lts[6] = {RTPPROC_DLT_EN10MB, RTPPROC_DLT_EN10MB, RTPPROC_DLT_LINUX_SLL,
                               RTPPROC_DLT_NULL,   RTPPROC_DLT_RAW,    RTPPROC_DLT_IPV4};
    uint8_t u[48];
    make_udp48(u);
    lens[0] = FRAME(seeds[0], eth_qinq_v4, ip4_opts_udp);
    lens[1] = FRAME(seeds[1], eth_v6, ip6_ext_udp);
    lens[2] = FRAME(seeds[2], sll_v4, ip4_udp);
    lens[3] = FRAME(seeds[3], null_le_v4, ip4_udp);
    lens[4] = ip6_frag(seeds[4], 1, 16, true, 17, u, 16);
    lens[5] = ip4_frag(seeds[5], 1, 0, true, 17, u, 16);

    rtpproc_decoder *d = new_decoder();
    uint64_t ok = 0, trunc = 0, inval = 0, notrtp = 0, calls = 0;
    for (int it = 0; it < 200000; it++) {
        size_t s = rng() % 6;
        uint8_t tmp[128];
        memcpy(tmp, seeds[s], lens[s]);
        int flips = 1 + (int)(rng() % 4);
        for (int i = 0; i < flips; i++)
            tmp[rng() % lens[s]] ^= (uint8_t)(1u << (rng() % 8));
        size_t cap = rng() % 4 == 0 ? rng() % (lens[s] + 1) : lens[s];
        uint8_t *f = malloc(cap ? cap : 1);
        if (f == NULL)
            CU_FAIL_FATAL("out of memory");
        memcpy(f, tmp, cap);
        uint64_t before = rtpproc_decoder_counters(d)->reassembled;
        rtpproc_datagram dg;
        int r = rtpproc_decode_frame(d, lts[s], T0 + it, f, cap, lens[s], &dg);
        calls++;
        if (r == RTPPROC_PARSE_OK) {
            ok++;
            if (dg.caplen > dg.len)
                CU_FAIL("caplen > len");
            if (rtpproc_decoder_counters(d)->reassembled == before &&
                (dg.payload < f || dg.payload + dg.caplen > f + cap))
                CU_FAIL("payload outside the frame");
        } else if (r == RTPPROC_PARSE_TRUNCATED) {
            trunc++;
        } else if (r == RTPPROC_PARSE_INVALID) {
            inval++;
        } else if (r == RTPPROC_PARSE_NOT_RTP) {
            notrtp++;
        }
        free(f);
    }
    const rtpproc_decode_counters *k = rtpproc_decoder_counters(d);
    CU_ASSERT_EQUAL(k->frames, calls);
    CU_ASSERT_EQUAL(k->datagrams, ok);
    CU_ASSERT_EQUAL(k->truncated, trunc);
    CU_ASSERT_EQUAL(k->invalid, inval);
    CU_ASSERT_EQUAL(k->not_ip + k->not_udp, notrtp);
    CU_ASSERT(ok > 0 && trunc > 0 && inval > 0 && notrtp > 0);
    rtpproc_decoder_free(d);
}

CU_pSuite rtpproc_test_decode_suite(void);

CU_pSuite rtpproc_test_decode_suite(void)
{
    static const test_case tests[] = {
        {"ethernet IPv4 UDP gives flow and payload", test_ethernet_ipv4_udp_gives_flow_and_payload},
        {"ethernet IPv6 UDP gives flow and payload", test_ethernet_ipv6_udp_gives_flow_and_payload},
        {"ethernet 802.1Q tag is skipped", test_ethernet_8021q_tag_is_skipped},
        {"ethernet QinQ 88a8+8100 is skipped", test_ethernet_qinq_88a8_then_8100_is_skipped},
        {"ethernet 9100 tag is skipped", test_ethernet_9100_tag_is_skipped},
        {"VLAN stack beyond cap is invalid", test_ethernet_vlan_stack_beyond_cap_is_invalid},
        {"Linux SLL IPv4", test_linux_sll_ipv4},
        {"Linux SLL2 IPv6", test_linux_sll2_ipv6},
        {"DLT_NULL IPv4 in both byte orders", test_null_ipv4_in_both_byte_orders},
        {"DLT_NULL IPv6 BSD families, both orders",
         test_null_ipv6_bsd_families_in_both_byte_orders},
        {"DLT_NULL unknown family is not IP", test_null_unknown_family_is_not_ip},
        {"DLT_LOOP is network byte order", test_loop_is_network_byte_order},
        {"raw IP by version nibble", test_raw_ip_by_version_nibble},
        {"DLT_IPV4 and DLT_IPV6", test_dlt_ipv4_and_ipv6},
        {"unknown link type is unsupported", test_unknown_linktype_is_unsupported},
        {"IPv4 options are skipped", test_ipv4_options_are_skipped},
        {"IPv6 hop-by-hop and dest options are skipped",
         test_ipv6_hop_by_hop_and_destination_options_are_skipped},
        {"IPv6 routing header is skipped", test_ipv6_routing_header_is_skipped},
        {"Ethernet trailer padding is excluded", test_ethernet_trailer_padding_is_excluded},
        {"UDP length shorter than IP payload shrinks",
         test_udp_length_shorter_than_ip_payload_shrinks},
        {"snaplen-cut payload is OK with short caplen",
         test_snaplen_cut_payload_is_ok_with_short_caplen},
        {"truncated at every header offset", test_truncated_at_every_header_offset},
        {"invalid IPv4 and UDP length fields", test_invalid_ipv4_and_udp_length_fields},
        {"invalid IPv6 length fields", test_invalid_ipv6_length_fields},
        {"IPv6 extension chain beyond cap is invalid",
         test_ipv6_extension_chain_beyond_cap_is_invalid},
        {"not UDP and not IP", test_not_udp_and_not_ip},
        {"counters count every call", test_counters_count_every_call},
        {"config defaults and free(NULL)", test_config_defaults_and_free_null},
        {"IPv4 fragments in order reassemble", test_ipv4_fragments_in_order_reassemble},
        {"IPv4 fragments out of order reassemble", test_ipv4_fragments_out_of_order_reassemble},
        {"IPv4 interleaved datagrams kept apart", test_ipv4_interleaved_datagrams_are_kept_apart},
        {"IPv4 non-UDP fragment is not stored", test_ipv4_non_udp_fragment_is_not_stored},
        {"fragment length rules", test_fragment_length_rules},
        {"reassembled datagram with bad UDP length is invalid",
         test_reassembled_datagram_with_bad_udp_length_is_invalid},
        {"duplicate/overlapping fragments keep first copy",
         test_duplicate_and_overlapping_fragments_keep_first_copy},
        {"fragment timeout drops incomplete datagram",
         test_fragment_timeout_drops_incomplete_datagram},
        {"reassembly count bound evicts oldest", test_reassembly_count_bound_evicts_oldest},
        {"reassembly byte bound drops large datagram",
         test_reassembly_byte_bound_drops_large_datagram},
        {"largest IPv4 datagram reassembles", test_largest_ipv4_datagram_reassembles},
        {"IPv6 fragments reassemble", test_ipv6_fragments_reassemble},
        {"IPv6 fragment with destination options inside",
         test_ipv6_fragment_with_destination_options_inside},
        {"IPv6 fragment rules", test_ipv6_fragment_rules},
        {"IPv6 atomic fragment is a whole datagram", test_ipv6_atomic_fragment_is_a_whole_datagram},
        {"mutated frames never crash, counters agree",
         test_mutated_frames_never_crash_and_counters_agree},
    };
    return test_add_all(CU_add_suite("decode", NULL, NULL), tests, TEST_COUNT(tests));
}
