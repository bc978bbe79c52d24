/*
 * RTP header parsing (RFC 3550 5.1): valid headers, every rejection reason,
 * truncated against invalid, padding, CSRCs and extensions.
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "rtpproc/rtp.h"

CU_pSuite rtpproc_test_rtp_suite(void);

/* V=2 P=0 X=0 CC=0, M=1 PT=8, seq 0x1234, ts 0x01020304, SSRC 0xDEADBEEF,
 * then 4 payload bytes. */
static const uint8_t plain[] = {0x80, 0x88, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04,
                                0xde, 0xad, 0xbe, 0xef, 0xd5, 0xd5, 0xd5, 0xd5};

static void test_rtp_parses_fixed_header(void)
{
    rtpproc_rtp_hdr h;
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(plain, sizeof(plain), sizeof(plain), &h), RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(h.version, 2);
    CU_ASSERT_TRUE(h.marker);
    CU_ASSERT_EQUAL(h.pt, 8);
    CU_ASSERT_EQUAL(h.seq, 0x1234);
    CU_ASSERT_EQUAL(h.ts, 0x01020304u);
    CU_ASSERT_EQUAL(h.ssrc, 0xDEADBEEFu);
    CU_ASSERT_EQUAL(h.hdr_len, 12);
    CU_ASSERT_EQUAL(h.payload_len, 4);
    CU_ASSERT_PTR_EQUAL(h.payload, plain + 12);
    CU_ASSERT_FALSE(h.truncated);
}

static void test_rtp_rejects_not_rtp(void)
{
    rtpproc_rtp_hdr h;
    uint8_t b[sizeof(plain)];

    /* shorter than the fixed header */
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(plain, 11, 11, &h), RTPPROC_PARSE_NOT_RTP);
    /* version 1 and version 3 */
    memcpy(b, plain, sizeof(b));
    b[0] = 0x40;
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(b, sizeof(b), sizeof(b), &h), RTPPROC_PARSE_NOT_RTP);
    b[0] = 0xc0;
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(b, sizeof(b), sizeof(b), &h), RTPPROC_PARSE_NOT_RTP);
    /* RTCP: second byte 200..204 (SR..APP) = M + PT 72..76 (RFC 5761 4) */
    for (unsigned t = 200; t <= 204; t++) {
        memcpy(b, plain, sizeof(b));
        b[1] = (uint8_t)t;
        CU_ASSERT_EQUAL(rtpproc_rtp_parse(b, sizeof(b), sizeof(b), &h), RTPPROC_PARSE_NOT_RTP);
    }
    /* PT 71 and 77 are RTP */
    b[1] = 71;
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(b, sizeof(b), sizeof(b), &h), RTPPROC_PARSE_OK);
    b[1] = 77;
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(b, sizeof(b), sizeof(b), &h), RTPPROC_PARSE_OK);
}

static void test_rtp_csrc_and_extension(void)
{
    /* CC=2, X=1: 2 CSRCs, extension profile 0xBEDE with 1 word, 2 payload bytes */
    static const uint8_t p[] = {0x92,
                                0x00,
                                0x00,
                                0x01,
                                0,
                                0,
                                0,
                                160,
                                0,
                                0,
                                0,
                                1,
                                /* CSRC */ 1,
                                1,
                                1,
                                1,
                                2,
                                2,
                                2,
                                2,
                                /* ext */ 0xbe,
                                0xde,
                                0x00,
                                0x01,
                                0x10,
                                0xaa,
                                0,
                                0,
                                /* payload */ 0x11,
                                0x22};
    rtpproc_rtp_hdr h;
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(p, sizeof(p), sizeof(p), &h), RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(h.csrc_count, 2);
    CU_ASSERT_TRUE(h.extension);
    CU_ASSERT_EQUAL(h.hdr_len, 28);
    CU_ASSERT_EQUAL(h.payload_len, 2);
    CU_ASSERT_EQUAL(h.payload[0], 0x11);

    /* CSRC list longer than the packet: invalid */
    uint8_t b[sizeof(p)];
    memcpy(b, p, sizeof(b));
    b[0] = 0x9f; /* CC=15 -> 72 bytes of header */
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(b, sizeof(b), sizeof(b), &h), RTPPROC_PARSE_INVALID);
    /* extension length beyond the packet: invalid */
    memcpy(b, p, sizeof(b));
    b[23] = 9;
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(b, sizeof(b), sizeof(b), &h), RTPPROC_PARSE_INVALID);
    /* header exactly fills the packet: valid, empty payload */
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(p, 28, 28, &h), RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(h.payload_len, 0);
}

static void test_rtp_padding(void)
{
    /* P=1, 4 payload bytes + 3 padding bytes, last octet = 3 */
    static const uint8_t p[] = {0xa0, 0x00, 0,    1,    0,    0,    0, 0, 0, 0,
                                0,    1,    0x11, 0x22, 0x33, 0x44, 0, 0, 3};
    rtpproc_rtp_hdr h;
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(p, sizeof(p), sizeof(p), &h), RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(h.pad_len, 3);
    CU_ASSERT_EQUAL(h.payload_len, 4);
    CU_ASSERT_EQUAL(h.payload_caplen, 4);

    uint8_t b[sizeof(p)];
    memcpy(b, p, sizeof(b));
    b[sizeof(b) - 1] = 0; /* a padding count must count itself */
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(b, sizeof(b), sizeof(b), &h), RTPPROC_PARSE_INVALID);
    b[sizeof(b) - 1] = 8; /* more padding than payload */
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(b, sizeof(b), sizeof(b), &h), RTPPROC_PARSE_INVALID);
    b[sizeof(b) - 1] = 7; /* the whole payload is padding: valid, empty */
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(b, sizeof(b), sizeof(b), &h), RTPPROC_PARSE_OK);
    CU_ASSERT_EQUAL(h.payload_len, 0);
}

static void test_rtp_truncated_is_not_invalid(void)
{
    rtpproc_rtp_hdr h;
    /* header cut at every offset: truncated (0 and 1 byte: not even V known) */
    for (size_t cap = 0; cap < 12; cap++)
        CU_ASSERT_EQUAL(rtpproc_rtp_parse(plain, cap, sizeof(plain), &h), RTPPROC_PARSE_TRUNCATED);
    /* payload cut: a valid header whose payload is marked truncated */
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(plain, 14, sizeof(plain), &h), RTPPROC_PARSE_OK);
    CU_ASSERT_TRUE(h.truncated);
    CU_ASSERT_EQUAL(h.payload_len, 4);
    CU_ASSERT_EQUAL(h.payload_caplen, 2);
    /* a cut CSRC list is truncated, not invalid */
    static const uint8_t c[] = {0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 9, 9, 9, 0xd5};
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(c, 14, sizeof(c), &h), RTPPROC_PARSE_TRUNCATED);
    /* a cut packet with P set keeps its header and is not decoded */
    static const uint8_t pp[] = {0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 1};
    CU_ASSERT_EQUAL(rtpproc_rtp_parse(pp, 13, sizeof(pp), &h), RTPPROC_PARSE_OK);
    CU_ASSERT_TRUE(h.truncated);
}

CU_pSuite rtpproc_test_rtp_suite(void)
{
    CU_pSuite s = CU_add_suite("rtp", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (!CU_add_test(s, "parses the fixed header", test_rtp_parses_fixed_header) ||
        !CU_add_test(s, "rejects short, wrong version and RTCP", test_rtp_rejects_not_rtp) ||
        !CU_add_test(s, "CSRC list and header extension", test_rtp_csrc_and_extension) ||
        !CU_add_test(s, "padding removed and checked", test_rtp_padding) ||
        !CU_add_test(s, "truncated is not invalid", test_rtp_truncated_is_not_invalid))
        return NULL;
    return s;
}
