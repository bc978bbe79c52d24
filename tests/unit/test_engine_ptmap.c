/*
 * Per-stream payload-type resolution: rtpproc_engine_learn_pt() binds a
 * dynamic PT to a codec for one media endpoint (as SDP does; the tshark
 * plug-in learns from tshark's names). A stream resolves each PT the first
 * time it meets it: --pt-map, then its destination's binding, then its
 * source's, then RFC 3551. Two calls that use one PT number for different
 * rates each get theirs; a later binding reaches later streams only; the
 * table is bounded; bad arguments are refused and leave it alone.
 *
 * Expected samples come from the G.711 tables, not from rtpproc: A-law 0xD5
 * is +8 and u-law 0xD5 is +716 (checked with sox).
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "capsink.h"
#include "rtpproc/engine.h"
#include "rtpproc/report.h"

CU_pSuite rtpproc_test_engine_ptmap_suite(void);

#define A_D5 8   /* A-law 0xD5 */
#define U_D5 716 /* u-law 0xD5 */

/* ---- engine and packets ---- */

static rtpproc_engine *eng;

/* `ptmap` is a --pt-map text or NULL; `max_learned` 0 keeps the default. */
static rtpproc_engine *make_engine_max(const char *ptmap, unsigned max_learned)
{
    rtpproc_engine_config cfg;
    char err[256];

    rtpproc_engine_config_init(&cfg);
    cfg.sink_open = test_capsink_open;
    if (max_learned != 0)
        cfg.max_learned = max_learned;
    if (ptmap != NULL && rtpproc_ptmap_parse(&cfg.ptmap, ptmap, err, sizeof(err)) != RTPPROC_OK)
        return NULL;
    test_capsink_reset();
    return rtpproc_engine_new(&cfg);
}

static rtpproc_engine *make_engine(const char *ptmap)
{
    return make_engine_max(ptmap, 0);
}

/* 10.0.0.<host> */
static rtpproc_addr addr4(uint8_t host)
{
    rtpproc_addr a;
    memset(&a, 0, sizeof(a));
    a.family = 4;
    a.bytes[0] = 10;
    a.bytes[3] = host;
    return a;
}

/* Packet i (from 0) of SSRC `ssrc` with PT `pt` from 10.0.0.1:sport to
 * 10.0.0.2:dport: n payload bytes of `fill`, 20 ms apart, timestamps
 * `step` apart. */
static int feed_flow(uint16_t sport, uint16_t dport, uint32_t ssrc, uint8_t pt, unsigned i,
                     uint32_t step, size_t n, uint8_t fill)
{
    uint8_t buf[12 + 1280];
    rtpproc_datagram d;
    uint16_t seq = (uint16_t)(1000 + i);
    uint32_t ts = 50000 + i * step;

    memset(&d, 0, sizeof(d));
    d.ts = 1700000000LL * RTPPROC_NS_PER_SEC + (int64_t)i * 20 * RTPPROC_NS_PER_MSEC;
    d.flow.src = addr4(1);
    d.flow.dst = addr4(2);
    d.flow.sport = sport;
    d.flow.dport = dport;
    buf[0] = 0x80; /* V=2, no padding, extension or CSRC */
    buf[1] = pt;   /* M=0 */
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    for (int b = 0; b < 4; b++) {
        buf[4 + b] = (uint8_t)(ts >> (24 - 8 * b));
        buf[8 + b] = (uint8_t)(ssrc >> (24 - 8 * b));
    }
    if (n > sizeof(buf) - 12)
        return RTPPROC_EINVAL;
    memset(buf + 12, fill, n);
    d.payload = buf;
    d.caplen = d.len = 12 + n;
    return rtpproc_engine_feed(eng, &d);
}

/* 10.0.0.1:4000 -> 10.0.0.2:5000 */
static int feed(uint32_t ssrc, uint8_t pt, unsigned i, uint32_t step, size_t n, uint8_t fill)
{
    return feed_flow(4000, 5000, ssrc, pt, i, step, n, fill);
}

/* Binds `pt` at 10.0.0.<host>:port. */
static int learn(uint8_t host, uint16_t port, unsigned pt, const char *name, uint32_t rate,
                 unsigned ch)
{
    rtpproc_addr a = addr4(host);
    return rtpproc_engine_learn_pt(eng, &a, port, pt, name, rate, ch, 0);
}

/* Three 20 ms G.711 packets (160 bytes of 0xD5) with PT `pt`. */
static void feed_g711(uint32_t ssrc, uint8_t pt)
{
    for (unsigned i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(feed(ssrc, pt, i, 160, 160, 0xD5), RTPPROC_PKT_RTP);
}

static const rtpproc_stream_summary *summary_of(uint32_t ssrc)
{
    size_t n;
    const rtpproc_stream_summary *s = rtpproc_engine_summaries(eng, &n);
    for (size_t i = 0; i < n; i++)
        if (s[i].ssrc == ssrc)
            return &s[i];
    return NULL;
}

static const test_capsink *sink_of_rate(uint32_t rate)
{
    for (unsigned i = 0; i < test_ncaps; i++)
        if (test_caps[i]->base.fmt.sample_rate == rate)
            return test_caps[i];
    return NULL;
}

static size_t count_not(const test_capsink *k, int16_t v)
{
    size_t bad = 0;
    for (size_t i = 0; i < k->n; i++)
        bad += k->pcm[i] != v;
    return bad;
}

static void done(void)
{
    rtpproc_engine_free(eng);
    eng = NULL;
    test_capsink_reset();
}

static void test_engine_ptmap_destination_binding_decodes_dynamic_pt(void)
{
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    CU_ASSERT_EQUAL(learn(2, 5000, 96, "pcma", 8000, 1), RTPPROC_OK);
    feed_g711(0x1234, 96);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(test_caps[0]->pt, 96);
    CU_ASSERT_EQUAL(test_caps[0]->base.fmt.sample_rate, 8000);
    CU_ASSERT_EQUAL(test_caps[0]->base.fmt.channels, 1);
    CU_ASSERT_EQUAL(test_caps[0]->n, 480);
    CU_ASSERT_EQUAL(count_not(test_caps[0], A_D5), 0);
    const rtpproc_stream_summary *s = summary_of(0x1234);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s->codec, "PCMA");
    CU_ASSERT_EQUAL(s->frames, 480);
    CU_ASSERT_EQUAL(s->note, RTPPROC_NOTE_NONE);
    CU_ASSERT_EQUAL_FATAL(s->nformats, 1);
    CU_ASSERT_EQUAL(s->formats[0].pt, 96);
    CU_ASSERT_EQUAL(s->formats[0].source, RTPPROC_PTSRC_SDP);
    GString *out = g_string_new(NULL);
    rtpproc_report_payload_names(s, out);
    CU_ASSERT_STRING_EQUAL(out->str, "PCMA");
    g_string_free(out, TRUE);
    done();
}

static void test_engine_ptmap_source_binding_is_used_too(void)
{
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    /* Symmetric RTP: the sender's own m= line (10.0.0.1:4000) names PT 96. */
    CU_ASSERT_EQUAL(learn(1, 4000, 96, "PCMU", 8000, 1), RTPPROC_OK);
    CU_ASSERT_EQUAL(learn(1, 4002, 96, "PCMA", 8000, 1), RTPPROC_OK);
    feed_g711(0x1234, 96);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(count_not(test_caps[0], U_D5), 0);
    done();
}

static void test_engine_ptmap_destination_wins_over_source(void)
{
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    CU_ASSERT_EQUAL(learn(1, 4000, 96, "PCMU", 8000, 1), RTPPROC_OK);
    CU_ASSERT_EQUAL(learn(2, 5000, 96, "PCMA", 8000, 1), RTPPROC_OK);
    feed_g711(0x1234, 96);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(count_not(test_caps[0], A_D5), 0);
    done();
}

static void test_engine_ptmap_unmapped_dynamic_pt_has_no_codec(void)
{
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    /* A binding for another endpoint does not apply. */
    CU_ASSERT_EQUAL(learn(2, 5002, 96, "PCMA", 8000, 1), RTPPROC_OK);
    feed_g711(0x1234, 96);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL(test_ncaps, 0);
    const rtpproc_stream_summary *s = summary_of(0x1234);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NULL(s->codec);
    CU_ASSERT_EQUAL(s->frames, 0);
    CU_ASSERT_EQUAL(s->note, RTPPROC_NOTE_NO_CODEC);
    CU_ASSERT_EQUAL_FATAL(s->nformats, 1);
    CU_ASSERT_EQUAL(s->formats[0].source, RTPPROC_PTSRC_NONE);
    /* The report says what would help. */
    GString *out = g_string_new(NULL);
    rtpproc_report_json(s, 1, NULL, NULL, out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out->str, "use --pt-map 96=NAME/RATE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out->str, "\"payload\":\"RTPType-96\""));
    g_string_free(out, TRUE);
    done();
}

static void test_engine_ptmap_configured_entry_wins(void)
{
    eng = make_engine("96=PCMU");
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    CU_ASSERT_EQUAL(learn(2, 5000, 96, "PCMA", 8000, 1), RTPPROC_OK);
    feed_g711(0x1234, 96);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(test_caps[0]->n, 480);
    CU_ASSERT_EQUAL(count_not(test_caps[0], U_D5), 0);
    const rtpproc_stream_summary *s = summary_of(0x1234);
    CU_ASSERT_STRING_EQUAL(s->codec, "PCMU");
    CU_ASSERT_EQUAL(s->formats[0].source, RTPPROC_PTSRC_MAP);
    done();
}

static void test_engine_ptmap_latest_binding_wins(void)
{
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    CU_ASSERT_EQUAL(learn(2, 5000, 97, "PCMU", 0, 0), RTPPROC_OK);
    CU_ASSERT_EQUAL(learn(2, 5000, 97, "PCMA", 8000, 1), RTPPROC_OK);
    feed_g711(0x1234, 97);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(count_not(test_caps[0], A_D5), 0);
    CU_ASSERT_STRING_EQUAL(summary_of(0x1234)->codec, "PCMA");
    done();
}

/*
 * Four calls to one endpoint, each announcing PT 99 as L16 at its own rate
 * before its media (sip-rtp-l16.pcap does this): each stream gets its rate.
 */
static void test_engine_ptmap_calls_reusing_a_pt_get_their_own_rate(void)
{
    static const uint32_t rates[3] = {8000, 16000, 32000};
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    for (unsigned c = 0; c < 3; c++) {
        CU_ASSERT_EQUAL(learn(2, 6000, 99, "L16", rates[c], 1), RTPPROC_OK);
        /* 20 ms of mono L16 at this rate; bytes 0x02 0x02 are 514. */
        uint32_t step = rates[c] / 50;
        for (unsigned i = 0; i < 3; i++)
            CU_ASSERT_EQUAL(
                feed_flow((uint16_t)(30000 + c), 6000, 0xA000 + c, 99, i, step, 2 * step, 0x02),
                RTPPROC_PKT_RTP);
    }
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 3);
    for (unsigned c = 0; c < 3; c++) {
        const test_capsink *k = sink_of_rate(rates[c]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(k);
        CU_ASSERT_EQUAL(k->base.frames, 3 * rates[c] / 50);
        CU_ASSERT_EQUAL(count_not(k, 514), 0);
        const rtpproc_stream_summary *s = summary_of(0xA000 + c);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL(s->sample_rate, rates[c]);
        CU_ASSERT_EQUAL(s->formats[0].clock_rate, rates[c]);
    }
    done();
}

static void test_engine_ptmap_telephone_event_gives_event_only_stream(void)
{
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    CU_ASSERT_EQUAL(learn(2, 5000, 101, "telephone-event", 8000, 0), RTPPROC_OK);
    /* RFC 4733 event: 4 bytes, same timestamp for the whole event. */
    for (unsigned i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(feed(0x5678, 101, i, 0, 4, 0x05), RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL(test_ncaps, 0);
    const rtpproc_stream_summary *s = summary_of(0x5678);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->packets, 4);
    CU_ASSERT_EQUAL(s->undecodable, 0);
    CU_ASSERT_EQUAL(s->note, RTPPROC_NOTE_NO_AUDIO);
    done();
}

static void test_engine_ptmap_rate_and_channels_are_used(void)
{
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    CU_ASSERT_EQUAL(learn(2, 5000, 98, "L16", 16000, 2), RTPPROC_OK);
    /* 20 ms of 16 kHz stereo L16: 320 frames, 1280 bytes, ts step 320.
     * Bytes 0x01 0x01 are the big-endian sample 257. */
    for (unsigned i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(feed(0x9abc, 98, i, 320, 1280, 0x01), RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(test_caps[0]->base.fmt.sample_rate, 16000);
    CU_ASSERT_EQUAL(test_caps[0]->base.fmt.channels, 2);
    CU_ASSERT_EQUAL(test_caps[0]->base.frames, 960);
    CU_ASSERT_EQUAL(count_not(test_caps[0], 257), 0);
    const rtpproc_stream_summary *s = summary_of(0x9abc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->sample_rate, 16000);
    CU_ASSERT_EQUAL(s->channels, 2);
    done();
}

static void test_engine_ptmap_binding_reaches_later_streams(void)
{
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    feed_g711(0x1111, 96);
    CU_ASSERT_EQUAL(learn(2, 5000, 96, "PCMA", 8000, 1), RTPPROC_OK);
    feed_g711(0x2222, 96);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    /* The stream that met PT 96 unmapped keeps its (missing) decoder. */
    CU_ASSERT_EQUAL(summary_of(0x1111)->note, RTPPROC_NOTE_NO_CODEC);
    CU_ASSERT_EQUAL(summary_of(0x2222)->note, RTPPROC_NOTE_NONE);
    CU_ASSERT_EQUAL(summary_of(0x2222)->frames, 480);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(count_not(test_caps[0], A_D5), 0);
    done();
}

static void test_engine_ptmap_table_is_bounded(void)
{
    eng = make_engine_max(NULL, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    CU_ASSERT_EQUAL(learn(2, 5000, 96, "PCMA", 8000, 1), RTPPROC_OK);
    CU_ASSERT_EQUAL(learn(2, 5002, 96, "PCMA", 8000, 1), RTPPROC_OK);
    CU_ASSERT_EQUAL(learn(2, 5004, 96, "PCMA", 8000, 1), RTPPROC_OK);
    /* The oldest binding (port 5000) was forgotten. */
    feed_g711(0x1234, 96);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL(test_ncaps, 0);
    CU_ASSERT_EQUAL(summary_of(0x1234)->note, RTPPROC_NOTE_NO_CODEC);
    done();
}

static void test_engine_ptmap_bad_arguments_are_refused(void)
{
    rtpproc_addr none;
    memset(&none, 0, sizeof(none));
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    rtpproc_addr a = addr4(2);
    CU_ASSERT_EQUAL(learn(2, 5000, 96, "nosuchcodec", 8000, 1), RTPPROC_ENOCODEC);
    CU_ASSERT_EQUAL(learn(2, 5000, 128, "PCMA", 8000, 1), RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(learn(2, 5000, 96, NULL, 8000, 1), RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(learn(2, 5000, 96, "L16", 384001, 1), RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(learn(2, 5000, 96, "L16", 8000, 9), RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(rtpproc_engine_learn_pt(eng, NULL, 5000, 96, "PCMA", 8000, 1, 0),
                    RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(rtpproc_engine_learn_pt(eng, &none, 5000, 96, "PCMA", 8000, 1, 0),
                    RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(rtpproc_engine_learn_pt(NULL, &a, 5000, 96, "PCMA", 8000, 1, 0),
                    RTPPROC_EINVAL);
    /* None of them left an entry: PT 96 is still unknown. */
    feed_g711(0x1234, 96);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL(test_ncaps, 0);
    CU_ASSERT_EQUAL(summary_of(0x1234)->note, RTPPROC_NOTE_NO_CODEC);
    done();
}

CU_pSuite rtpproc_test_engine_ptmap_suite(void)
{
    CU_pSuite s = CU_add_suite("engine_ptmap", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (!CU_add_test(s, "a destination binding decodes a dynamic PT",
                     test_engine_ptmap_destination_binding_decodes_dynamic_pt) ||
        !CU_add_test(s, "a source binding is used too",
                     test_engine_ptmap_source_binding_is_used_too) ||
        !CU_add_test(s, "the destination wins over the source",
                     test_engine_ptmap_destination_wins_over_source) ||
        !CU_add_test(s, "an unmapped dynamic PT has no codec",
                     test_engine_ptmap_unmapped_dynamic_pt_has_no_codec) ||
        !CU_add_test(s, "a configured --pt-map entry wins",
                     test_engine_ptmap_configured_entry_wins) ||
        !CU_add_test(s, "the latest binding wins", test_engine_ptmap_latest_binding_wins) ||
        !CU_add_test(s, "calls reusing a PT get their own rate",
                     test_engine_ptmap_calls_reusing_a_pt_get_their_own_rate) ||
        !CU_add_test(s, "telephone-event gives an event-only stream",
                     test_engine_ptmap_telephone_event_gives_event_only_stream) ||
        !CU_add_test(s, "rate and channels are used",
                     test_engine_ptmap_rate_and_channels_are_used) ||
        !CU_add_test(s, "a binding reaches streams that meet the PT later",
                     test_engine_ptmap_binding_reaches_later_streams) ||
        !CU_add_test(s, "the table is bounded", test_engine_ptmap_table_is_bounded) ||
        !CU_add_test(s, "bad arguments are refused and leave the table alone",
                     test_engine_ptmap_bad_arguments_are_refused))
        return NULL;
    return s;
}
