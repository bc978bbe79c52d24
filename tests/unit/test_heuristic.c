/*
 * Opus recognition (core/heuristic.c, --guess-codecs): the TOC byte's
 * durations per RFC 6716 3.1, refusals, and the engine taking a dynamic PT
 * for Opus only after RP_OPUS_RUN packets whose timestamps agree with
 * their TOC - never for 20 ms G.711 bytes on an 8 kHz clock.
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "heuristic.h"
#include "rtpproc/engine.h"

CU_pSuite rtpproc_test_heuristic_suite(void);

static void test_heuristic_toc_durations(void)
{
    int st = -1;
    /* config 1 (SILK NB 20 ms), code 0: one frame, 960 samples, mono */
    CU_ASSERT_EQUAL(rp_opus_toc_samples((const uint8_t[]){0x08}, 1, &st), 960);
    CU_ASSERT_EQUAL(st, 0);
    /* config 31 (CELT FB 20 ms), stereo, code 1: two frames */
    CU_ASSERT_EQUAL(rp_opus_toc_samples((const uint8_t[]){0xFD, 0}, 2, &st), 1920);
    CU_ASSERT_EQUAL(st, 1);
    /* config 16 (CELT 2.5 ms), code 3 with 6 frames */
    CU_ASSERT_EQUAL(rp_opus_toc_samples((const uint8_t[]){0x83, 6}, 2, &st), 720);
    /* config 3 (SILK 60 ms) x 2 = 120 ms: the maximum */
    CU_ASSERT_EQUAL(rp_opus_toc_samples((const uint8_t[]){0x19, 0}, 2, &st), 5760);
    /* refusals: empty, code 3 without count or with 0 frames, > 120 ms */
    CU_ASSERT_EQUAL(rp_opus_toc_samples(NULL, 0, &st), 0);
    CU_ASSERT_EQUAL(rp_opus_toc_samples((const uint8_t[]){0x0B}, 1, &st), 0);
    CU_ASSERT_EQUAL(rp_opus_toc_samples((const uint8_t[]){0x0B, 0x00}, 2, &st), 0);
    CU_ASSERT_EQUAL(rp_opus_toc_samples((const uint8_t[]){0x1B, 3}, 2, &st), 0);
}

static rtpproc_engine *eng;

/* `n` packets of PT 99, `len` bytes of `fill`, timestamps `step` apart. */
static void feed_run(unsigned n, uint32_t step, size_t len, uint8_t fill)
{
    uint8_t buf[12 + 400];
    for (unsigned i = 0; i < n; i++) {
        rtpproc_datagram d;
        memset(&d, 0, sizeof(d));
        d.ts = 1700000000LL * RTPPROC_NS_PER_SEC + (int64_t)i * 20 * RTPPROC_NS_PER_MSEC;
        d.flow.src.family = d.flow.dst.family = 4;
        d.flow.src.bytes[3] = 1;
        d.flow.dst.bytes[3] = 2;
        d.flow.sport = 4000;
        d.flow.dport = 5000;
        uint16_t seq = (uint16_t)(100 + i);
        uint32_t ts = 1000 + i * step;
        buf[0] = 0x80;
        buf[1] = 99;
        buf[2] = (uint8_t)(seq >> 8);
        buf[3] = (uint8_t)seq;
        for (int b = 0; b < 4; b++) {
            buf[4 + b] = (uint8_t)(ts >> (24 - 8 * b));
            buf[8 + b] = (uint8_t)(0x1234 >> (24 - 8 * b));
        }
        memset(buf + 12, fill, len);
        d.payload = buf;
        d.caplen = d.len = 12 + len;
        CU_ASSERT_EQUAL(rtpproc_engine_feed(eng, &d), RTPPROC_PKT_RTP);
    }
}

static const rtpproc_stream_format *run_engine(bool guess, unsigned n, uint32_t step, size_t len,
                                               uint8_t fill)
{
    rtpproc_engine_config cfg;
    rtpproc_engine_config_init(&cfg);
    cfg.guess_codecs = guess;
    eng = rtpproc_engine_new(&cfg);
    feed_run(n, step, len, fill);
    rtpproc_engine_finish(eng);
    size_t ns;
    const rtpproc_stream_summary *s = rtpproc_engine_summaries(eng, &ns);
    return ns == 1 && s->nformats == 1 ? &s->formats[0] : NULL;
}

static void test_heuristic_engine_recognises_opus_only(void)
{
    if (rtpproc_codec_find_by_name("opus") == NULL)
        return; /* built without libopus: nothing to recognise */
    /* TOC 0x08: 20 ms; timestamps 960 apart. Bytes after the TOC are not a
     * valid SILK frame, but recognition looks at durations only. */
    const rtpproc_stream_format *f = run_engine(true, 12, 960, 40, 0x08);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->source, RTPPROC_PTSRC_HEURISTIC);
    CU_ASSERT_STRING_EQUAL(f->codec->name, "opus");
    CU_ASSERT_EQUAL(f->clock_rate, 48000);
    rtpproc_engine_free(eng);
    /* Off by default. */
    f = run_engine(false, 12, 960, 40, 0x08);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->source, RTPPROC_PTSRC_NONE);
    rtpproc_engine_free(eng);
    /* Nine packets are not enough. */
    f = run_engine(true, RP_OPUS_RUN - 1, 960, 40, 0x08);
    CU_ASSERT_EQUAL(f->source, RTPPROC_PTSRC_NONE);
    rtpproc_engine_free(eng);
    /* G.711 bytes (0xD5 reads as a 2 x 10 ms TOC) on an 8 kHz clock. */
    f = run_engine(true, 200, 160, 160, 0xD5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->source, RTPPROC_PTSRC_NONE);
    CU_ASSERT_PTR_NULL(f->codec);
    rtpproc_engine_free(eng);
    eng = NULL;
}

CU_pSuite rtpproc_test_heuristic_suite(void)
{
    CU_pSuite s = CU_add_suite("heuristic", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (!CU_add_test(s, "Opus TOC durations", test_heuristic_toc_durations) ||
        !CU_add_test(s, "the engine recognises Opus only",
                     test_heuristic_engine_recognises_opus_only))
        return NULL;
    return s;
}
