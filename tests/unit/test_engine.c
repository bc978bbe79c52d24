/*
 * The stream engine end to end on hand-made datagrams, recording into a
 * capture sink defined here: probation keeps the first packet, loss becomes
 * silence, duplicates are dropped, wraps are seamless, reordering within the
 * window is repaired, idle timeout splits streams, bogus jumps re-anchor.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

/* spandsp's g711.h needs these two first. */
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

#include "capsink.h"
#include "rtpproc/engine.h"

CU_pSuite rtpproc_test_engine_suite(void);

/* ---- packet builder ---- */

static rtpproc_engine *eng;
static uint8_t pktbuf[2048];
static const int64_t MS = 1000000;

static rtpproc_engine *make_engine_timing(enum rtpproc_timing timing, int64_t jitter_ms, bool plc)
{
    rtpproc_engine_config cfg;
    rtpproc_engine_config_init(&cfg);
    cfg.sink_open = test_capsink_open;
    cfg.timing = timing;
    cfg.jitter_buffer = jitter_ms * MS;
    cfg.plc = plc;
    test_capsink_reset();
    return rtpproc_engine_new(&cfg);
}

static rtpproc_engine *make_engine(void)
{
    return make_engine_timing(RTPPROC_TIMING_RTP, 50, false);
}

/* Feeds one PCMA packet of `n` bytes, all equal to `fill`, from 10.0.0.1:4000
 * to 10.0.0.2:5000 at capture time `t_ms`. */
static int feed_pt(uint32_t ssrc, uint8_t pt, uint16_t seq, uint32_t ts, int64_t t_ms, size_t n,
                   uint8_t fill)
{
    rtpproc_datagram d;
    memset(&d, 0, sizeof(d));
    d.ts = 1700000000LL * 1000000000LL + t_ms * MS;
    d.flow.src.family = d.flow.dst.family = 4;
    d.flow.src.bytes[0] = 10;
    d.flow.src.bytes[3] = 1;
    d.flow.dst.bytes[0] = 10;
    d.flow.dst.bytes[3] = 2;
    d.flow.sport = 4000;
    d.flow.dport = 5000;
    pktbuf[0] = 0x80;
    pktbuf[1] = pt;
    pktbuf[2] = (uint8_t)(seq >> 8);
    pktbuf[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++) {
        pktbuf[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        pktbuf[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    memset(pktbuf + 12, fill, n);
    d.payload = pktbuf;
    d.caplen = d.len = 12 + n;
    return rtpproc_engine_feed(eng, &d);
}

static int feed(uint16_t seq, uint32_t ts, int64_t t_ms, uint8_t fill)
{
    return feed_pt(0x11223344, 8, seq, ts, t_ms, 160, fill);
}

/* A-law 0xD5 decodes to +8, 0x55 to -8 (G.711 table; Wireshark notes 4). */
#define A_POS 0xD5
#define A_NEG 0x55

static void assert_span(const test_capsink *c, size_t from, size_t n, int16_t v)
{
    CU_ASSERT_FATAL(from + n <= c->n);
    size_t bad = 0;
    for (size_t i = from; i < from + n; i++)
        bad += c->pcm[i] != v;
    CU_ASSERT_EQUAL(bad, 0);
}

static const rtpproc_stream_summary *only_summary(void)
{
    size_t n;
    const rtpproc_stream_summary *s = rtpproc_engine_summaries(eng, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    return s;
}

static void done(void)
{
    rtpproc_engine_free(eng);
    eng = NULL;
    test_capsink_reset();
}

static void test_engine_probation_keeps_first_packet(void)
{
    eng = make_engine();
    CU_ASSERT_EQUAL(feed(100, 8000, 0, A_POS), RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(rtpproc_engine_open_streams(eng), 0);
    CU_ASSERT_EQUAL(feed(101, 8160, 20, A_NEG), RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(rtpproc_engine_open_streams(eng), 1);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_TRUE(test_caps[0]->closed);
    CU_ASSERT_EQUAL(test_caps[0]->n, 320);
    assert_span(test_caps[0], 0, 160, 8);
    assert_span(test_caps[0], 160, 160, -8);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->packets, 2);
    CU_ASSERT_EQUAL(s->lost, 0);
    CU_ASSERT_EQUAL(s->first_seq, 100);
    CU_ASSERT_EQUAL(s->frames, 320);
    CU_ASSERT_EQUAL(s->sample_rate, 8000);
    CU_ASSERT_STRING_EQUAL(s->codec, "PCMA");
    done();
}

/* The first packet to arrive is not the lowest: 401 came before 400 (both
 * in probation, which 402 and 403 end). Playout starts at the lowest kept
 * packet, so 400 is placed before 401, not counted late; first_seq stays
 * the first packet's (as tshark's), the base of expected the lowest. */
static void test_engine_probation_first_packet_reordered(void)
{
    eng = make_engine();
    feed(401, 160, 0, A_NEG);
    feed(400, 0, 5, A_POS);
    feed(402, 320, 40, A_NEG);
    feed(403, 480, 60, A_NEG);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(test_caps[0]->n, 640);
    assert_span(test_caps[0], 0, 160, 8);
    assert_span(test_caps[0], 160, 480, -8);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->packets, 4);
    CU_ASSERT_EQUAL(s->expected, 4);
    CU_ASSERT_EQUAL(s->lost, 0);
    CU_ASSERT_EQUAL(s->late, 0);
    CU_ASSERT_EQUAL(s->reordered, 1);
    CU_ASSERT_EQUAL(s->first_seq, 401);
    CU_ASSERT_EQUAL(s->frames, 640);
    done();
}

static void test_engine_probation_keeps_packet_before_gap_and_dup(void)
{
    eng = make_engine();
    /* 400, [401..402 lost], 403, 404: the first packet still belongs */
    feed(400, 0, 0, A_POS);
    feed(400, 0, 1, A_NEG); /* its duplicate */
    feed(403, 480, 60, A_NEG);
    feed(404, 640, 80, A_NEG);
    rtpproc_engine_finish(eng);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->packets, 4);
    CU_ASSERT_EQUAL(s->first_seq, 400);
    CU_ASSERT_EQUAL(s->expected, 5);
    CU_ASSERT_EQUAL(s->lost, 1); /* 2 lost, 1 duplicate: expected - packets */
    CU_ASSERT_EQUAL(s->duplicates, 1);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(test_caps[0]->n, 800);
    assert_span(test_caps[0], 0, 160, 8);
    assert_span(test_caps[0], 160, 320, 0);
    assert_span(test_caps[0], 480, 320, -8);
    done();
}

static void test_engine_single_packet_makes_no_stream(void)
{
    eng = make_engine();
    feed(100, 8000, 0, A_POS);
    feed(500, 9000, 20, A_POS); /* not sequential: probation restarts */
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    size_t n;
    rtpproc_engine_summaries(eng, &n);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(test_ncaps, 0);
    CU_ASSERT_EQUAL(rtpproc_engine_counters_get(eng)->streams, 0);
    done();
}

static void test_engine_loss_becomes_silence(void)
{
    eng = make_engine();
    feed(1, 0, 0, A_POS);
    feed(2, 160, 20, A_POS);
    /* seq 3 (ts 320) lost */
    feed(4, 480, 60, A_NEG);
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(test_caps[0]->n, 640);
    assert_span(test_caps[0], 0, 320, 8);
    assert_span(test_caps[0], 320, 160, 0);
    assert_span(test_caps[0], 480, 160, -8);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->lost, 1);
    CU_ASSERT_EQUAL(s->expected, 4);
    CU_ASSERT_EQUAL(s->silence_frames, 160);
    done();
}

static void test_engine_duplicate_dropped(void)
{
    eng = make_engine();
    feed(1, 0, 0, A_POS);
    feed(2, 160, 20, A_POS);
    feed(2, 160, 21, A_NEG); /* duplicate with other bytes: must not be written */
    feed(3, 320, 40, A_POS);
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL(test_caps[0]->n, 480);
    assert_span(test_caps[0], 0, 480, 8);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->duplicates, 1);
    CU_ASSERT_EQUAL(s->packets, 4);
    CU_ASSERT_EQUAL(s->lost, -1); /* A.3: expected 3, received 4 */
    done();
}

static void test_engine_seq_and_ts_wrap(void)
{
    eng = make_engine();
    /* seq 65534, 65535, [0 lost], 1 and ts crossing 2^32 at the same time */
    feed(65534, 0xFFFFFEC0u, 0, A_POS);
    feed(65535, 0xFFFFFF60u, 20, A_POS);
    feed(1, 0x000000A0u, 60, A_NEG);
    feed(2, 0x00000140u, 80, A_NEG);
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(test_caps[0]->n, 800);
    assert_span(test_caps[0], 0, 320, 8);
    assert_span(test_caps[0], 320, 160, 0);
    assert_span(test_caps[0], 480, 320, -8);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->expected, 5);
    CU_ASSERT_EQUAL(s->lost, 1);
    CU_ASSERT_EQUAL(s->discontinuities, 0);
    done();
}

static void test_engine_reorder_within_window(void)
{
    eng = make_engine();
    feed(1, 0, 0, 0xD5);
    feed(2, 160, 20, 0xD5);
    feed(4, 480, 40, A_NEG); /* 3 is late by one packet */
    feed(3, 320, 45, 0xD4);  /* A-law 0xD4 = +24 */
    feed(5, 640, 80, A_NEG);
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL(test_caps[0]->n, 800);
    assert_span(test_caps[0], 0, 320, 8);
    assert_span(test_caps[0], 320, 160, 24);
    assert_span(test_caps[0], 480, 320, -8);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->lost, 0);
    CU_ASSERT_EQUAL(s->late, 0);
    CU_ASSERT_EQUAL(s->silence_frames, 0);
    done();
}

static void test_engine_late_beyond_window_dropped(void)
{
    eng = make_engine();
    feed(1, 0, 0, A_POS);
    feed(2, 160, 20, A_POS);
    feed(4, 480, 60, A_POS);
    feed(5, 640, 80, A_POS);
    feed(6, 800, 200, A_POS); /* 140 ms after 4 arrived: gap given up */
    feed(3, 320, 210, A_NEG); /* too late */
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL(test_caps[0]->n, 960);
    assert_span(test_caps[0], 320, 160, 0);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->late, 1);
    CU_ASSERT_EQUAL(s->duplicates, 0);
    done();
}

static void test_engine_idle_timeout_starts_new_stream(void)
{
    eng = make_engine();
    feed(1, 0, 0, A_POS);
    feed(2, 160, 20, A_POS);
    /* 6 s later (timeout 5 s): the first stream is closed on this packet */
    feed(3, 320, 6020, A_NEG);
    CU_ASSERT_EQUAL(rtpproc_engine_open_streams(eng), 0);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_TRUE(test_caps[0]->closed);
    feed(4, 480, 6040, A_NEG);
    rtpproc_engine_finish(eng);
    size_t n;
    const rtpproc_stream_summary *s = rtpproc_engine_summaries(eng, &n);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(s[0].packets, 2);
    CU_ASSERT_EQUAL(s[1].packets, 2);
    CU_ASSERT_EQUAL(s[1].first_seq, 3);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 2);
    CU_ASSERT_EQUAL(test_caps[1]->n, 320);
    assert_span(test_caps[1], 0, 320, -8);
    done();
}

static void test_engine_tick_closes_idle_stream(void)
{
    eng = make_engine();
    feed(1, 0, 0, A_POS);
    feed(2, 160, 20, A_POS);
    int64_t base = 1700000000LL * 1000000000LL;
    CU_ASSERT_EQUAL(rtpproc_engine_tick(eng, base + 4000 * MS), 0);
    CU_ASSERT_EQUAL(rtpproc_engine_open_streams(eng), 1);
    CU_ASSERT_EQUAL(rtpproc_engine_tick(eng, base + 5100 * MS), 0);
    CU_ASSERT_EQUAL(rtpproc_engine_open_streams(eng), 0);
    CU_ASSERT_TRUE(test_caps[0]->closed);
    done();
}

static void test_engine_bogus_jump_reanchors(void)
{
    eng = make_engine();
    feed(1, 0, 0, A_POS);
    feed(2, 160, 20, A_POS);
    /* timestamp jumps by one hour while arrival moves 20 ms */
    feed(3, 160 + 8000u * 3600u, 40, A_NEG);
    feed(4, 320 + 8000u * 3600u, 60, A_NEG);
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL(test_caps[0]->n, 640);
    assert_span(test_caps[0], 0, 320, 8);
    assert_span(test_caps[0], 320, 320, -8);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->discontinuities, 1);
    done();
}

static void test_engine_silence_gap_confirmed_by_arrival(void)
{
    eng = make_engine();
    feed(1, 0, 0, A_POS);
    feed(2, 160, 20, A_POS);
    /* DTX: 1 s of silence, arrival agrees */
    feed(3, 320 + 8000, 1040, A_NEG);
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL(test_caps[0]->n, 320 + 8000 + 160);
    assert_span(test_caps[0], 320, 8000, 0);
    CU_ASSERT_EQUAL(only_summary()->discontinuities, 0);
    done();
}

static void test_engine_ssrc_filter_and_unknown_pt(void)
{
    rtpproc_engine_config cfg;
    rtpproc_engine_config_init(&cfg);
    cfg.sink_open = test_capsink_open;
    cfg.ssrc_filter_set = true;
    cfg.ssrc_filter = 0xABCD;
    test_capsink_reset();
    eng = rtpproc_engine_new(&cfg);
    CU_ASSERT_EQUAL(feed(1, 0, 0, A_POS), RTPPROC_PKT_FILTERED);
    CU_ASSERT_EQUAL(feed_pt(0xABCD, 120, 1, 0, 0, 50, 1), RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(feed_pt(0xABCD, 120, 2, 90, 20, 50, 1), RTPPROC_PKT_RTP);
    rtpproc_engine_finish(eng);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->ssrc, 0xABCD);
    CU_ASSERT_PTR_NULL(s->file);
    CU_ASSERT_EQUAL(s->note, RTPPROC_NOTE_NO_CODEC);
    CU_ASSERT_TRUE(s->pts[120]);
    CU_ASSERT_EQUAL(test_ncaps, 0);
    CU_ASSERT_EQUAL(rtpproc_engine_counters_get(eng)->filtered, 1);
    done();
}

static void test_engine_truncated_payload_not_decoded(void)
{
    eng = make_engine();
    for (uint16_t i = 0; i < 3; i++) {
        rtpproc_datagram d;
        memset(&d, 0, sizeof(d));
        d.ts = 1700000000LL * 1000000000LL + i * 20 * MS;
        d.flow.src.family = d.flow.dst.family = 4;
        memcpy(pktbuf,
               (const uint8_t[]){0x80, 8, 0, (uint8_t)i, 0, 0, 0, (uint8_t)(i * 160), 0, 0, 0, 7},
               12);
        memset(pktbuf + 12, A_POS, 160);
        d.payload = pktbuf;
        d.caplen = 12 + 100; /* snaplen cut the payload */
        d.len = 12 + 160;
        CU_ASSERT_EQUAL(rtpproc_engine_feed(eng, &d), RTPPROC_PKT_RTP);
    }
    rtpproc_engine_finish(eng);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->packets, 3);
    CU_ASSERT_EQUAL(s->truncated, 3);
    CU_ASSERT_EQUAL(s->note, RTPPROC_NOTE_TRUNCATED);
    CU_ASSERT_PTR_NULL(s->file);
    CU_ASSERT_EQUAL(test_ncaps, 0);
    CU_ASSERT_EQUAL(rtpproc_engine_counters_get(eng)->payload_truncated, 3);
    done();
}

static void test_engine_ssrc_flood_is_bounded(void)
{
    rtpproc_engine_config cfg;
    rtpproc_engine_config_init(&cfg);
    cfg.sink_open = test_capsink_open;
    cfg.max_probation = 64;
    test_capsink_reset();
    eng = rtpproc_engine_new(&cfg);
    for (uint32_t i = 0; i < 10000; i++)
        feed_pt(0x1000 + i, 8, (uint16_t)(i * 7919), i, i, 160, A_POS);
    rtpproc_engine_finish(eng);
    const rtpproc_engine_counters *c = rtpproc_engine_counters_get(eng);
    CU_ASSERT_EQUAL(c->streams, 0);
    CU_ASSERT_EQUAL(c->probation_evicted, 10000 - 64);
    CU_ASSERT_EQUAL(test_ncaps, 0);
    done();
}

/* Sources that never validate leave probation after the idle timeout, so
 * the pool holds only the recent ones: 100 000 one-packet sources, one per
 * millisecond, never fill the 65536 slots (no eviction), at most the 5 s
 * timeout's worth are held at once, and a stream whose second packet comes
 * after all of them still validates. A source whose second packet comes
 * after the timeout starts probation again. */
static void test_engine_probation_expires_idle_sources(void)
{
    rtpproc_engine_config cfg;
    rtpproc_engine_config_init(&cfg);
    cfg.sink_open = test_capsink_open;
    test_capsink_reset();
    eng = rtpproc_engine_new(&cfg);
    feed_pt(0x77, 8, 500, 0, 0, 160, A_POS); /* alone for 6 s: forgotten */
    for (uint32_t i = 0; i < 100000; i++)
        feed_pt(0x1000 + i, 8, (uint16_t)(i * 7919), i, i, 160, A_POS);
    feed_pt(0x77, 8, 501, 160, 100000, 160, A_POS);
    feed_pt(0x77, 8, 502, 320, 100020, 160, A_POS);
    const rtpproc_engine_counters *c = rtpproc_engine_counters_get(eng);
    CU_ASSERT_EQUAL(c->probation_evicted, 0);
    CU_ASSERT_EQUAL(c->probation_peak, 5002);
    CU_ASSERT_EQUAL(c->probation_expired, 1 + 95020); /* 0x77, then those before t = 95020 ms */
    CU_ASSERT_EQUAL(c->streams, 1);
    rtpproc_engine_finish(eng);
    size_t n = 0;
    const rtpproc_stream_summary *m = rtpproc_engine_summaries(eng, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(m[0].first_seq, 501); /* 500 was forgotten */
    CU_ASSERT_EQUAL(m[0].packets, 2);
    done();
}

/* 12000 sources that all start within one packet interval (a probe that
 * starts on a busy link) each pass probation with the default bounds; with
 * a pool smaller than the sources starting at once, none can. */
static void test_engine_many_sources_start_at_once(void)
{
    for (int small = 0; small < 2; small++) {
        rtpproc_engine_config cfg;
        rtpproc_engine_config_init(&cfg);
        if (small)
            cfg.max_probation = 4096;
        test_capsink_reset();
        eng = rtpproc_engine_new(&cfg);
        for (uint32_t k = 0; k < 2; k++)
            for (uint32_t i = 0; i < 12000; i++)
                feed_pt(0x1000 + i, 8, (uint16_t)(100 + k), 160 * k, 20 * k, 160, A_POS);
        rtpproc_engine_finish(eng);
        const rtpproc_engine_counters *c = rtpproc_engine_counters_get(eng);
        CU_ASSERT_EQUAL(c->streams, small ? 0 : 12000);
        CU_ASSERT_EQUAL(c->probation_evicted, small ? 24000 - 4096 : 0);
        done();
    }
}

/* 20 ms packets 0..n-1 except `lost` (-1: none), each on time. */
static void feed_run(unsigned n, int lost)
{
    for (unsigned i = 0; i < n; i++)
        if ((int)i != lost)
            feed((uint16_t)(1 + i), 160 * i, 20 * (int64_t)i, A_POS);
}

static void test_engine_reordered_packets_are_counted_and_placed(void)
{
    eng = make_engine();
    feed(1, 0, 0, A_POS);
    feed(2, 160, 20, A_POS);
    feed(4, 480, 40, A_NEG); /* arrives before 3 */
    feed(3, 320, 45, A_NEG);
    feed(5, 640, 80, A_POS);
    rtpproc_engine_finish(eng);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->reordered, 1);
    CU_ASSERT_EQUAL(s->late, 0);
    CU_ASSERT_EQUAL(s->silence_frames, 0);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    assert_span(test_caps[0], 320, 320, -8);
    done();
}

/* The player's Uninterrupted mode: payloads back to back, no silence. */
static void test_engine_continuous_closes_gaps(void)
{
    eng = make_engine_timing(RTPPROC_TIMING_CONTINUOUS, 50, false);
    feed_run(10, 4);
    /* A pause of 2 s (DTX): no silence either. */
    feed(11, 160 * 10 + 16000, 200 + 2000, A_NEG);
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(test_caps[0]->n, 10 * 160);
    assert_span(test_caps[0], 0, 9 * 160, 8);
    assert_span(test_caps[0], 9 * 160, 160, -8);
    CU_ASSERT_EQUAL(only_summary()->silence_frames, 0);
    done();
}

/*
 * The player's Jitter Buffer mode computes silence in floating point and
 * truncates it (wireshark-notes.md 6): losing the packet at ts 2240 between
 * ts 2080 and 2400 gives (int)((0.3 - 0.26) * 8000 - 160) = 159 samples,
 * one less than the exact 160 that --timing rtp writes.
 */
static void test_engine_jitter_mode_truncates_like_the_player(void)
{
    eng = make_engine_timing(RTPPROC_TIMING_JITTER, 50, false);
    feed_run(20, 14);
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    CU_ASSERT_EQUAL(test_caps[0]->n, 20 * 160 - 1);
    CU_ASSERT_EQUAL(only_summary()->silence_frames, 159);
    CU_ASSERT_EQUAL(only_summary()->jitter_drops, 0);
    done();

    eng = make_engine();
    feed_run(20, 14);
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL(test_caps[0]->n, 20 * 160);
    done();
}

/* Arrival 80 ms late against the timestamps: a jitter drop that the player
 * still writes; with a pause of more than two packets before it, the
 * player resyncs on arrival time. */
static void test_engine_jitter_mode_drop_and_resync(void)
{
    eng = make_engine_timing(RTPPROC_TIMING_JITTER, 50, false);
    feed_run(5, -1);
    /* ts says +60 ms after packet 4, arrival says +140 ms */
    feed(6, 160 * 4 + 480, 80 + 140, A_NEG);
    rtpproc_engine_finish(eng);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->jitter_drops, 1);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    /* resync silence = (arrive_time - arrive_prev) * 8000 - 160 = 0.14 * 8000 - 160 */
    CU_ASSERT_EQUAL(test_caps[0]->n, 5 * 160 + 960 + 160);
    assert_span(test_caps[0], 5 * 160 + 960, 160, -8);
    done();

    /* A buffer larger than the disagreement: the timestamp decides. */
    eng = make_engine_timing(RTPPROC_TIMING_JITTER, 100, false);
    feed_run(5, -1);
    feed(6, 160 * 4 + 480, 80 + 140, A_NEG);
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL(only_summary()->jitter_drops, 0);
    CU_ASSERT_EQUAL(test_caps[0]->n, 5 * 160 + 320 + 160);
    done();
}

/* --plc: a loss is concealed (spandsp PLC for G.711), a DTX gap is not. */
static void test_engine_plc_conceals_losses_only(void)
{
    eng = make_engine_timing(RTPPROC_TIMING_RTP, 50, true);
    /* A periodic signal, so that PLC has a pitch to repeat. */
    for (unsigned i = 0; i < 10; i++) {
        if (i == 6)
            continue;
        feed((uint16_t)(1 + i), 160 * i, 20 * (int64_t)i, (i & 1) ? A_NEG : A_POS);
    }
    /* DTX: 1 s pause, seq contiguous. */
    feed(11, 160 * 10 + 8000, 200 + 1000, A_POS);
    rtpproc_engine_finish(eng);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_EQUAL(s->concealed_frames, 160);
    CU_ASSERT_EQUAL(s->silence_frames, 8000);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
    size_t nonzero = 0;
    for (size_t i = 6 * 160; i < 7 * 160; i++)
        nonzero += test_caps[0]->pcm[i] != 0;
    CU_ASSERT(nonzero > 0);
    /* the packets around the loss keep their own audio (spandsp's PLC
     * cross-fades into the first samples after a concealed span) */
    assert_span(test_caps[0], 5 * 160, 160, -8);
    assert_span(test_caps[0], 7 * 160 + 60, 100, -8);
    assert_span(test_caps[0], 10 * 160, 8000, 0);
    done();
}

/* RFC 3389: a CN packet at -40 dBov during a 1 s pause; --comfort-noise
 * fills the pause with noise of RMS 32767 * 10^(-40/20) = 327.7. */
static void test_engine_comfort_noise_level(void)
{
    for (int on = 0; on <= 1; on++) {
        rtpproc_engine_config cfg;
        rtpproc_engine_config_init(&cfg);
        cfg.sink_open = test_capsink_open;
        cfg.comfort_noise = on;
        test_capsink_reset();
        eng = rtpproc_engine_new(&cfg);
        feed_run(3, -1);
        CU_ASSERT_EQUAL(feed_pt(0x11223344, 13, 4, 480, 60, 1, 40), RTPPROC_PKT_RTP);
        feed(5, 480 + 8000, 60 + 1000, A_POS);
        rtpproc_engine_finish(eng);
        CU_ASSERT_EQUAL_FATAL(test_ncaps, 1);
        CU_ASSERT_EQUAL_FATAL(test_caps[0]->n, 4 * 160 + 8000);
        double sum = 0;
        for (size_t i = 480; i < 480 + 8000; i++)
            sum += (double)test_caps[0]->pcm[i] * test_caps[0]->pcm[i];
        double rms = sqrt(sum / 8000);
        if (on) {
            CU_ASSERT(rms > 327.7 * 0.9 && rms < 327.7 * 1.1);
        } else {
            CU_ASSERT_EQUAL(rms, 0.0);
        }
        CU_ASSERT_EQUAL(only_summary()->silence_frames, 8000);
        done();
    }
}

/* --rate: the report gives the recording's rate and length. */
static void test_engine_report_at_output_rate(void)
{
    rtpproc_engine_config cfg;
    rtpproc_engine_config_init(&cfg);
    cfg.sink_open = test_capsink_open;
    static char name[] = "rec.wav";
    cfg.sink_userdata = name;
    cfg.out_rate = 16000;
    test_capsink_reset();
    eng = rtpproc_engine_new(&cfg);
    feed_run(5, 2);
    rtpproc_engine_finish(eng);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_STRING_EQUAL(s->file, "rec.wav");
    CU_ASSERT_EQUAL(s->sample_rate, 16000);
    CU_ASSERT_EQUAL(s->codec_rate, 8000);
    CU_ASSERT_EQUAL(s->frames, 1600);
    CU_ASSERT_EQUAL(s->silence_frames, 320);
    done();
}

/*
 * Eight interleaved streams, PCMA and PCMU, each with packets swapped and
 * lost at its own places, so that streams open and empty their reorder
 * windows at different times and reuse each other's (playout.c keeps the
 * emptied ones). Every 20 ms of every stream is checked: its own bytes,
 * expanded by spandsp, or silence where its packet was lost; the bytes
 * reach the sink undecoded (write_native).
 */
enum { RW_STREAMS = 8, RW_PACKETS = 150 };

static uint8_t rw_fill(unsigned k, unsigned seq)
{
    return (uint8_t)(seq * 7 + k * 31 + 1);
}

static bool rw_lost(unsigned k, unsigned seq)
{
    return seq >= 4 && seq + 2 < RW_PACKETS && seq % 23 == k + 5; /* none at the end */
}

static void test_engine_reorder_windows_shared_by_streams(void)
{
    unsigned order[RW_STREAMS][RW_PACKETS];
    unsigned lost[RW_STREAMS] = {0};

    for (unsigned k = 0; k < RW_STREAMS; k++) {
        for (unsigned i = 0; i < RW_PACKETS; i++)
            order[k][i] = i;
        for (unsigned i = 4; i + 1 < RW_PACKETS; i++) {
            if (i % 7 == k % 7 && !rw_lost(k, i) && !rw_lost(k, i + 1)) {
                order[k][i] = i + 1;
                order[k][i + 1] = i;
                i++;
            }
        }
    }
    eng = make_engine();
    for (unsigned i = 0; i < RW_PACKETS; i++) {
        for (unsigned k = 0; k < RW_STREAMS; k++) {
            unsigned seq = order[k][i];
            if (rw_lost(k, seq)) {
                lost[k]++;
                continue;
            }
            feed_pt(0x5000 + k, k % 2 ? 0 : 8, (uint16_t)seq, seq * 160, (int64_t)i * 20, 160,
                    rw_fill(k, seq));
        }
    }
    rtpproc_engine_finish(eng);
    CU_ASSERT_EQUAL_FATAL(test_ncaps, RW_STREAMS);
    size_t n;
    const rtpproc_stream_summary *sum = rtpproc_engine_summaries(eng, &n);
    CU_ASSERT_EQUAL_FATAL(n, RW_STREAMS);
    for (unsigned k = 0; k < RW_STREAMS; k++) {
        const test_capsink *c = test_caps[k];
        CU_ASSERT_EQUAL(c->pt, k % 2 ? 0u : 8u);
        CU_ASSERT(c->native_writes > RW_PACKETS / 2);
        CU_ASSERT_EQUAL_FATAL(c->n, (size_t)RW_PACKETS * 160);
        unsigned bad = 0;
        for (unsigned seq = 0; seq < RW_PACKETS; seq++) {
            uint8_t b = rw_fill(k, seq);
            int16_t want = rw_lost(k, seq) ? 0 : k % 2 ? ulaw_to_linear(b) : alaw_to_linear(b);
            for (unsigned j = 0; j < 160; j++)
                bad += c->pcm[seq * 160 + j] != want;
        }
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT(lost[k] > 0);
        CU_ASSERT_EQUAL(sum[k].lost, lost[k]);
        CU_ASSERT(sum[k].reordered > 0);
        CU_ASSERT_EQUAL(sum[k].late, 0);
    }
    done();
}

CU_pSuite rtpproc_test_engine_suite(void)
{
    CU_pSuite s = CU_add_suite("engine", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (!CU_add_test(s, "probation keeps the first packet",
                     test_engine_probation_keeps_first_packet) ||
        !CU_add_test(s, "probation keeps a first packet before a gap and its duplicate",
                     test_engine_probation_keeps_packet_before_gap_and_dup) ||
        !CU_add_test(s, "a single packet makes no stream",
                     test_engine_single_packet_makes_no_stream) ||
        !CU_add_test(s, "a lost packet becomes silence", test_engine_loss_becomes_silence) ||
        !CU_add_test(s, "reordered packets are counted and placed",
                     test_engine_reordered_packets_are_counted_and_placed) ||
        !CU_add_test(s, "continuous timing closes gaps", test_engine_continuous_closes_gaps) ||
        !CU_add_test(s, "jitter timing truncates like the player",
                     test_engine_jitter_mode_truncates_like_the_player) ||
        !CU_add_test(s, "jitter timing drops and resyncs",
                     test_engine_jitter_mode_drop_and_resync) ||
        !CU_add_test(s, "--plc conceals losses only", test_engine_plc_conceals_losses_only) ||
        !CU_add_test(s, "--comfort-noise at the CN level", test_engine_comfort_noise_level) ||
        !CU_add_test(s, "--rate: report at the output rate", test_engine_report_at_output_rate) ||
        !CU_add_test(s, "a duplicate is dropped", test_engine_duplicate_dropped) ||
        !CU_add_test(s, "seq and ts wrap are seamless", test_engine_seq_and_ts_wrap) ||
        !CU_add_test(s, "reordering within the window is repaired",
                     test_engine_reorder_within_window) ||
        !CU_add_test(s, "a packet later than the window is dropped",
                     test_engine_late_beyond_window_dropped) ||
        !CU_add_test(s, "idle timeout starts a new stream",
                     test_engine_idle_timeout_starts_new_stream) ||
        !CU_add_test(s, "tick closes an idle stream", test_engine_tick_closes_idle_stream) ||
        !CU_add_test(s, "a bogus timestamp jump re-anchors", test_engine_bogus_jump_reanchors) ||
        !CU_add_test(s, "a gap confirmed by arrival is silence",
                     test_engine_silence_gap_confirmed_by_arrival) ||
        !CU_add_test(s, "SSRC filter and unknown payload type",
                     test_engine_ssrc_filter_and_unknown_pt) ||
        !CU_add_test(s, "a truncated payload is counted, not decoded",
                     test_engine_truncated_payload_not_decoded) ||
        !CU_add_test(s, "an SSRC flood stays bounded", test_engine_ssrc_flood_is_bounded) ||
        !CU_add_test(s, "the first packet after its successor in probation",
                     test_engine_probation_first_packet_reordered) ||
        !CU_add_test(s, "idle sources leave probation",
                     test_engine_probation_expires_idle_sources) ||
        !CU_add_test(s, "12000 sources starting at once all pass probation",
                     test_engine_many_sources_start_at_once) ||
        !CU_add_test(s, "streams reuse each other's reorder windows",
                     test_engine_reorder_windows_shared_by_streams))
        return NULL;
    return s;
}
