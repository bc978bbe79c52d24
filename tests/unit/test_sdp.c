/*
 * SIP/SDP payload-type bindings (core/sdp.c): SIP detection, session and
 * media-level c=, several m= lines, port 0, rtpmap with and without a
 * channel count, AMR octet-align, IPv6, bare-LF line ends, and inputs that
 * must give nothing (no body, not SDP, malformed lines, a body cut short).
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "rtpproc/codec.h"
#include "sdp.h"

CU_pSuite rtpproc_test_sdp_suite(void);

#define MAX_B 16

typedef struct binding {
    rtpproc_addr addr;
    uint16_t port;
    unsigned pt;
    char name[32];
    uint32_t rate;
    unsigned channels;
    unsigned fmtp;
} binding;

static binding got[MAX_B];
static unsigned ngot;

static void collect(void *ud, const rtpproc_addr *addr, uint16_t port, unsigned pt,
                    const char *name, uint32_t rate, unsigned channels, unsigned fmtp)
{
    (void)ud;
    if (ngot == MAX_B)
        return;
    binding *b = &got[ngot++];
    b->addr = *addr;
    b->port = port;
    b->pt = pt;
    strncpy(b->name, name, sizeof(b->name) - 1);
    b->name[sizeof(b->name) - 1] = '\0';
    b->rate = rate;
    b->channels = channels;
    b->fmtp = fmtp;
}

static unsigned parse(const char *msg)
{
    ngot = 0;
    memset(got, 0, sizeof(got));
    return rp_sdp_parse_sip((const uint8_t *)msg, strlen(msg), collect, NULL);
}

static const char invite[] = "INVITE sip:bob@192.0.2.2 SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 192.0.2.1:5060\r\n"
                             "Content-Type: application/sdp\r\n"
                             "\r\n"
                             "v=0\r\n"
                             "o=- 1 1 IN IP4 192.0.2.1\r\n"
                             "s=-\r\n"
                             "c=IN IP4 192.0.2.1\r\n"
                             "t=0 0\r\n"
                             "m=audio 49170 RTP/AVP 0 97 101\r\n"
                             "a=rtpmap:97 L16/16000/2\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\n"
                             "a=fmtp:101 0-15\r\n"
                             "m=audio 49180 RTP/AVP 98\r\n"
                             "c=IN IP4 198.51.100.7/127\r\n"
                             "a=rtpmap:98 AMR/8000\r\n"
                             "a=fmtp:98 mode-set=7; octet-align=1\r\n"
                             "m=video 0 RTP/AVP 96\r\n"
                             "a=rtpmap:96 H264/90000\r\n";

static void test_sdp_detects_sip(void)
{
    const char *yes[] = {"SIP/2.0 200 OK\r\n", "INVITE sip:a@b SIP/2.0\r\nX: y\r\n",
                         "BYE sip:a@b SIP/2.0\n"};
    const char *no[] = {"",
                        "SIP/2.0",
                        "HTTP/1.1 200 OK\r\n",
                        "invite sip:a@b SIP/2.0\r\n",
                        "INVITE sip:a@b SIP/2.0",
                        "\x80\x08\x00\x01"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        CU_ASSERT_TRUE(rp_sip_detect((const uint8_t *)yes[i], strlen(yes[i])));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        CU_ASSERT_FALSE(rp_sip_detect((const uint8_t *)no[i], strlen(no[i])));
}

static void test_sdp_bindings_of_an_invite(void)
{
    CU_ASSERT_EQUAL(parse(invite), 3);
    CU_ASSERT_EQUAL_FATAL(ngot, 3);
    /* PT 0 has no rtpmap: the static table covers it, nothing is reported. */
    CU_ASSERT_EQUAL(got[0].pt, 97);
    CU_ASSERT_STRING_EQUAL(got[0].name, "L16");
    CU_ASSERT_EQUAL(got[0].rate, 16000);
    CU_ASSERT_EQUAL(got[0].channels, 2);
    CU_ASSERT_EQUAL(got[0].port, 49170);
    CU_ASSERT_EQUAL(got[0].addr.family, 4);
    CU_ASSERT_EQUAL(got[0].addr.bytes[0], 192);
    CU_ASSERT_EQUAL(got[0].addr.bytes[3], 1);
    CU_ASSERT_EQUAL(got[0].fmtp, 0);
    CU_ASSERT_EQUAL(got[1].pt, 101);
    CU_ASSERT_STRING_EQUAL(got[1].name, "telephone-event");
    CU_ASSERT_EQUAL(got[1].channels, 0);
    /* The second m= line has its own c= (a multicast TTL suffix). */
    CU_ASSERT_EQUAL(got[2].pt, 98);
    CU_ASSERT_STRING_EQUAL(got[2].name, "AMR");
    CU_ASSERT_EQUAL(got[2].port, 49180);
    CU_ASSERT_EQUAL(got[2].addr.bytes[0], 198);
    CU_ASSERT_EQUAL(got[2].addr.bytes[3], 7);
    CU_ASSERT_EQUAL(got[2].fmtp, RTPPROC_FMTP_OCTET_ALIGN);
    /* m=video with port 0 is disabled: no binding. */
}

static void test_sdp_amr_without_octet_align_is_bandwidth_efficient(void)
{
    CU_ASSERT_EQUAL(parse("SIP/2.0 200 OK\n\nv=0\nc=IN IP6 2001:db8::5\n"
                          "m=audio 4000 RTP/AVP 99\na=rtpmap:99 AMR-WB/16000/1\n"),
                    1);
    CU_ASSERT_EQUAL_FATAL(ngot, 1);
    CU_ASSERT_EQUAL(got[0].fmtp, RTPPROC_FMTP_BW_EFFICIENT);
    CU_ASSERT_EQUAL(got[0].addr.family, 6);
    CU_ASSERT_EQUAL(got[0].addr.bytes[0], 0x20);
    CU_ASSERT_EQUAL(got[0].addr.bytes[15], 5);
    CU_ASSERT_EQUAL(got[0].rate, 16000);
    CU_ASSERT_EQUAL(got[0].channels, 1);
}

static void test_sdp_inputs_without_bindings(void)
{
    /* No body, a body that is not SDP, no connection address, an rtpmap of a
     * PT not on the m= line, malformed numbers. */
    CU_ASSERT_EQUAL(parse("SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n"), 0);
    CU_ASSERT_EQUAL(parse("SIP/2.0 200 OK\r\n\r\n<xml/>\r\n"), 0);
    CU_ASSERT_EQUAL(parse("SIP/2.0 200 OK\r\n\r\nv=0\r\nm=audio 4000 RTP/AVP 97\r\n"
                          "a=rtpmap:97 PCMA/8000\r\n"),
                    0);
    CU_ASSERT_EQUAL(parse("SIP/2.0 200 OK\r\n\r\nv=0\r\nc=IN IP4 192.0.2.1\r\n"
                          "m=audio 4000 RTP/AVP 97\r\na=rtpmap:98 PCMA/8000\r\n"
                          "a=rtpmap:97 PCMA/80x0\r\na=rtpmap:97 /8000\r\n"
                          "a=rtpmap:97 PCMA/8000/99\r\na=rtpmap:200 PCMA/8000\r\n"),
                    0);
    CU_ASSERT_EQUAL(parse("SIP/2.0 200 OK\r\n\r\nv=0\r\nc=IN IP4 999.0.2.1\r\n"
                          "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 PCMA/8000\r\n"),
                    0);
    CU_ASSERT_EQUAL(parse("SIP/2.0 200 OK\r\n\r\nv=0\r\nc=IN IP4 192.0.2.1\r\n"
                          "m=audio 70000 RTP/AVP 97\r\na=rtpmap:97 PCMA/8000\r\n"),
                    0);
    CU_ASSERT_EQUAL(parse("SIP/2.0 200 OK\r\n\r\nv=0\r\nc=IN IP4 192.0.2.1\r\n"
                          "m=audio 4000 UDP/TLS 97\r\na=rtpmap:97 PCMA/8000\r\n"),
                    0);
}

static void test_sdp_every_cut_of_a_message_is_safe(void)
{
    /* Every prefix parses within its bounds (ASan checks the reads) and can
     * only lose bindings, never invent them. */
    size_t n = strlen(invite);
    for (size_t len = 0; len <= n; len++) {
        ngot = 0;
        unsigned k = rp_sdp_parse_sip((const uint8_t *)invite, len, collect, NULL);
        CU_ASSERT(k <= 3);
        CU_ASSERT_EQUAL(k, ngot);
    }
}

CU_pSuite rtpproc_test_sdp_suite(void)
{
    CU_pSuite s = CU_add_suite("sdp", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (!CU_add_test(s, "SIP is detected", test_sdp_detects_sip) ||
        !CU_add_test(s, "the bindings of an INVITE", test_sdp_bindings_of_an_invite) ||
        !CU_add_test(s, "AMR without octet-align is bandwidth-efficient",
                     test_sdp_amr_without_octet_align_is_bandwidth_efficient) ||
        !CU_add_test(s, "inputs without bindings", test_sdp_inputs_without_bindings) ||
        !CU_add_test(s, "every cut of a message is safe", test_sdp_every_cut_of_a_message_is_safe))
        return NULL;
    return s;
}
