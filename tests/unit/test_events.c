/*
 * RFC 4733 telephone-events (suite "events"): payload parsing through the
 * bounded cursor, the merging of one event's packets (updates, end-of-event
 * retransmissions, lost start, lost end, long events in segments, packed
 * events), the per-stream bound, and the whole path through the engine
 * (hand-made datagrams) to the summaries and the text and JSON reports.
 *
 * Expected values come from RFC 4733 itself: the payload layout of 2.3
 * (event, E, R, volume, duration), the DTMF names of 3.2 table 1, the
 * timestamp rules of 2.5.1 and the 8000 Hz default clock.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "events.h"
#include "capsink.h"
#include "rtpproc/engine.h"
#include "rtpproc/report.h"

CU_pSuite rtpproc_test_events_suite(void);

/* ---- payload bytes ---- */

/* One 4-byte block: event, E|R|volume, duration (big-endian). */
static void block(uint8_t *b, uint8_t code, bool end, uint8_t volume, uint16_t duration)
{
    b[0] = code;
    b[1] = (uint8_t)((end ? 0x80 : 0) | (volume & 0x3F));
    b[2] = (uint8_t)(duration >> 8);
    b[3] = (uint8_t)duration;
}

static void test_events_parse_one_block(void)
{
    /* '#' (11), E=1, R=1, volume 10 (-10 dBm0), duration 0x0640 = 1600 */
    const uint8_t pay[4] = {0x0B, 0xCA, 0x06, 0x40};
    rp_event_block b[2];
    CU_ASSERT_EQUAL_FATAL(rp_events_parse(pay, sizeof(pay), false, b, 2), 1);
    CU_ASSERT_EQUAL(b[0].code, 11);
    CU_ASSERT_TRUE(b[0].end);
    CU_ASSERT_TRUE(b[0].reserved);
    CU_ASSERT_EQUAL(b[0].volume, 10);
    CU_ASSERT_EQUAL(b[0].duration, 1600);
    /* '0', no E, no R, volume 63, duration 65535 */
    const uint8_t pay2[4] = {0x00, 0x3F, 0xFF, 0xFF};
    CU_ASSERT_EQUAL_FATAL(rp_events_parse(pay2, sizeof(pay2), false, b, 2), 1);
    CU_ASSERT_EQUAL(b[0].code, 0);
    CU_ASSERT_FALSE(b[0].end);
    CU_ASSERT_FALSE(b[0].reserved);
    CU_ASSERT_EQUAL(b[0].volume, 63);
    CU_ASSERT_EQUAL(b[0].duration, 65535);
}

static void test_events_parse_several_blocks_and_max(void)
{
    uint8_t pay[12];
    rp_event_block b[3];
    block(pay, 1, true, 5, 400);
    block(pay + 4, 2, true, 6, 480);
    block(pay + 8, 200, false, 0, 80); /* a non-DTMF event code */
    CU_ASSERT_EQUAL_FATAL(rp_events_parse(pay, sizeof(pay), false, b, 3), 3);
    CU_ASSERT_EQUAL(b[1].code, 2);
    CU_ASSERT_EQUAL(b[1].volume, 6);
    CU_ASSERT_EQUAL(b[1].duration, 480);
    CU_ASSERT_EQUAL(b[2].code, 200);
    CU_ASSERT_FALSE(b[2].end);
    /* Only `max` blocks are read. */
    CU_ASSERT_EQUAL(rp_events_parse(pay, sizeof(pay), false, b, 2), 2);
}

static void test_events_parse_errors(void)
{
    uint8_t pay[8];
    rp_event_block b[2];
    block(pay, 5, false, 10, 160);
    block(pay + 4, 6, false, 10, 160);
    /* Fewer than 4 bytes: nothing to read. */
    for (size_t len = 0; len < 4; len++)
        CU_ASSERT_EQUAL(rp_events_parse(pay, len, false, b, 2), RP_EVENTS_SHORT);
    /* A trailing partial block: the payload is not RFC 4733's. */
    for (size_t len = 5; len < 8; len++)
        CU_ASSERT_EQUAL(rp_events_parse(pay, len, false, b, 2), RP_EVENTS_ODD);
    CU_ASSERT_EQUAL(rp_events_parse(pay, 8, false, b, 2), 2);
}

static void test_events_parse_truncated_gives_whole_blocks(void)
{
    /* Cut by the snaplen at every length: the whole blocks, never an error. */
    uint8_t pay[8];
    rp_event_block b[2];
    block(pay, 7, true, 12, 800);
    block(pay + 4, 8, true, 12, 800);
    for (size_t len = 0; len <= sizeof(pay); len++) {
        memset(b, 0xEE, sizeof(b));
        CU_ASSERT_EQUAL(rp_events_parse(pay, len, true, b, 2), (int)(len / 4));
        if (len >= 4) {
            CU_ASSERT_EQUAL(b[0].code, 7);
            CU_ASSERT_EQUAL(b[0].duration, 800);
        }
    }
}

static void test_events_names(void)
{
    const char *want[16] = {"0", "1", "2", "3", "4", "5", "6", "7",
                            "8", "9", "*", "#", "A", "B", "C", "D"};
    for (unsigned c = 0; c < 16; c++)
        CU_ASSERT_STRING_EQUAL(rtpproc_event_name(c), want[c]);
    CU_ASSERT_PTR_NULL(rtpproc_event_name(16)); /* flash: reported by code */
    CU_ASSERT_PTR_NULL(rtpproc_event_name(255));
}

/* ---- the table, fed directly ---- */

#define T0 ((rtpproc_time_ns)1700000000 * RTPPROC_NS_PER_SEC)
#define MS RTPPROC_NS_PER_MSEC

/* Adds one single-block packet at extended timestamp `ts` (stream base 1000,
 * 8000 Hz) arriving `at_ms` after T0. */
static void add(rp_events *ev, int64_t ts, int64_t at_ms, bool marker, uint8_t code, bool end,
                uint8_t volume, uint16_t duration)
{
    uint8_t pay[4];
    block(pay, code, end, volume, duration);
    rp_event_packet p = {
        .ext_ts = ts,
        .base_ts = 1000,
        .clock_rate = 8000,
        .arrival = T0 + at_ms * MS,
        .marker = marker,
        .payload = pay,
        .payload_len = sizeof(pay),
    };
    rp_events_add(ev, &p);
}

/* One event as a sender emits it: a first packet (M bit) and updates every
 * 20 ms (160 units), then the end packet `ends` times. */
static void send_event(rp_events *ev, int64_t ts, int64_t at_ms, uint8_t code, uint16_t duration,
                       unsigned ends)
{
    unsigned updates = duration / 160;
    for (unsigned i = 0; i < updates; i++)
        add(ev, ts, at_ms + 20 * i, i == 0, code, false, 10, (uint16_t)(160 * i));
    for (unsigned i = 0; i < ends; i++)
        add(ev, ts, at_ms + 20 * (updates + i), updates == 0 && i == 0, code, true, 10, duration);
}

static void test_events_retransmitted_end_counted_once(void)
{
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    /* RFC 4733 2.5.1.4: the final packet three times. */
    send_event(ev, 1000 + 8000, 1000, 11, 800, 3);
    size_t n;
    const rtpproc_event *e = rp_events_list(ev, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(e[0].code, 11);
    CU_ASSERT_EQUAL(e[0].offset, 8000); /* 1 s after the stream's first packet */
    CU_ASSERT_EQUAL(e[0].start, T0 + 1000 * MS);
    CU_ASSERT_EQUAL(e[0].duration, 800);
    CU_ASSERT_EQUAL(e[0].clock_rate, 8000);
    CU_ASSERT_EQUAL(e[0].volume, 10);
    CU_ASSERT_TRUE(e[0].end);
    CU_ASSERT_TRUE(e[0].start_seen);
    /* A fourth copy after the next event has started is still the same one. */
    send_event(ev, 1000 + 16000, 2000, 1, 480, 1);
    add(ev, 1000 + 8000, 2010, false, 11, true, 10, 800);
    e = rp_events_list(ev, &n);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(e[0].duration, 800);
    CU_ASSERT_EQUAL(rp_events_dropped(ev), 0);
    CU_ASSERT_EQUAL(rp_events_malformed(ev), 0);
    rp_events_free(ev);
}

static void test_events_lost_start(void)
{
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    /* The packets with durations 0, 160 and 320 were lost: the first seen
     * says 480 (60 ms after the start). The event still starts at its
     * timestamp; `start` is when the first seen packet arrived. */
    add(ev, 5000, 700, false, 4, false, 8, 480);
    add(ev, 5000, 720, false, 4, false, 8, 640);
    add(ev, 5000, 740, false, 4, true, 8, 800);
    size_t n;
    const rtpproc_event *e = rp_events_list(ev, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(e[0].code, 4);
    CU_ASSERT_EQUAL(e[0].offset, 4000);
    CU_ASSERT_EQUAL(e[0].start, T0 + 700 * MS);
    CU_ASSERT_EQUAL(e[0].duration, 800);
    CU_ASSERT_TRUE(e[0].end);
    CU_ASSERT_FALSE(e[0].start_seen);
    rp_events_free(ev);
}

static void test_events_lost_end(void)
{
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    /* '5' without its end packets, then '6' that also never ends (stream
     * end): each keeps the longest duration seen, not ended. */
    send_event(ev, 1000, 0, 5, 800, 0);
    send_event(ev, 1000 + 4000, 500, 6, 640, 0);
    size_t n;
    const rtpproc_event *e = rp_events_list(ev, &n);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(e[0].code, 5);
    CU_ASSERT_EQUAL(e[0].duration, 640); /* the last update said 4 x 160 */
    CU_ASSERT_FALSE(e[0].end);
    CU_ASSERT_EQUAL(e[1].code, 6);
    CU_ASSERT_EQUAL(e[1].offset, 4000);
    CU_ASSERT_EQUAL(e[1].duration, 480);
    CU_ASSERT_FALSE(e[1].end);
    rp_events_free(ev);
}

static void test_events_reordered_updates(void)
{
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    /* An older update after the end packet neither shortens the event nor
     * clears its end; an earlier arrival moves `start` back. */
    add(ev, 3000, 100, false, 9, false, 10, 320);
    add(ev, 3000, 120, false, 9, true, 10, 640);
    add(ev, 3000, 90, true, 9, false, 10, 0);
    add(ev, 3000, 130, false, 9, false, 10, 480);
    size_t n;
    const rtpproc_event *e = rp_events_list(ev, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(e[0].duration, 640);
    CU_ASSERT_TRUE(e[0].end);
    CU_ASSERT_TRUE(e[0].start_seen);
    CU_ASSERT_EQUAL(e[0].start, T0 + 90 * MS);
    rp_events_free(ev);
}

static void test_events_all_sixteen(void)
{
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    for (unsigned c = 0; c < 16; c++)
        send_event(ev, 1000 + 2000 * (int64_t)c, 250 * c, (uint8_t)c, 800, 3);
    size_t n;
    const rtpproc_event *e = rp_events_list(ev, &n);
    CU_ASSERT_EQUAL_FATAL(n, 16);
    for (unsigned c = 0; c < 16; c++) {
        CU_ASSERT_EQUAL(e[c].code, c);
        CU_ASSERT_EQUAL(e[c].offset, 2000 * (int64_t)c);
        CU_ASSERT_EQUAL(e[c].duration, 800);
        CU_ASSERT_TRUE(e[c].end);
    }
    rp_events_free(ev);
}

static void test_events_same_code_again_is_a_new_event(void)
{
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    /* "11": the same digit twice, each with its own timestamp. */
    send_event(ev, 2000, 0, 1, 480, 3);
    send_event(ev, 4000, 250, 1, 480, 3);
    size_t n;
    rp_events_list(ev, &n);
    CU_ASSERT_EQUAL(n, 2);
    /* Two codes on one timestamp are two events. */
    add(ev, 6000, 500, true, 2, true, 10, 160);
    add(ev, 6000, 520, false, 3, true, 10, 160);
    rp_events_list(ev, &n);
    CU_ASSERT_EQUAL(n, 4);
    rp_events_free(ev);
}

static void test_events_long_event_in_segments(void)
{
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    /* RFC 4733 2.5.1.3: a tone longer than 0xFFFF units (8.19 s at 8 kHz):
     * the first segment ends at duration 0xFFFF without E, the next one
     * starts at timestamp + 0xFFFF. One event of 0xFFFF + 8000 units. */
    add(ev, 1000, 0, true, 0, false, 10, 0);
    add(ev, 1000, 8000, false, 0, false, 10, 64000);
    add(ev, 1000, 8190, false, 0, false, 10, 0xFFFF);
    add(ev, 1000 + 0xFFFF, 8210, false, 0, false, 10, 160);
    add(ev, 1000 + 0xFFFF, 9190, false, 0, true, 10, 8000);
    size_t n;
    const rtpproc_event *e = rp_events_list(ev, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(e[0].offset, 0);
    CU_ASSERT_EQUAL(e[0].duration, 0xFFFFu + 8000u);
    CU_ASSERT_TRUE(e[0].end);
    rp_events_free(ev);
}

static void test_events_packed_events_are_consecutive(void)
{
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    /* RFC 4733 2.5.1.5: '1' (400 units, ended) then '2' (320 so far) in one
     * payload: '2' starts 400 units after the timestamp. A later packet for
     * '2' alone carries its own start as timestamp and updates it. */
    uint8_t pay[8];
    block(pay, 1, true, 10, 400);
    block(pay + 4, 2, false, 10, 320);
    rp_event_packet p = {
        .ext_ts = 9000,
        .base_ts = 1000,
        .clock_rate = 8000,
        .arrival = T0,
        .marker = true,
        .payload = pay,
        .payload_len = sizeof(pay),
    };
    rp_events_add(ev, &p);
    add(ev, 9400, 20, false, 2, true, 10, 480);
    size_t n;
    const rtpproc_event *e = rp_events_list(ev, &n);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(e[0].code, 1);
    CU_ASSERT_EQUAL(e[0].offset, 8000);
    CU_ASSERT_EQUAL(e[0].duration, 400);
    CU_ASSERT_TRUE(e[0].start_seen);
    CU_ASSERT_EQUAL(e[1].code, 2);
    CU_ASSERT_EQUAL(e[1].offset, 8400);
    CU_ASSERT_EQUAL(e[1].duration, 480);
    CU_ASSERT_TRUE(e[1].end);
    CU_ASSERT_FALSE(e[1].start_seen); /* the M bit marks the first event only */
    rp_events_free(ev);
}

static void test_events_malformed_counted(void)
{
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    uint8_t pay[6] = {0x01, 0x8A, 0x01, 0x40, 0x02, 0x00};
    rp_event_packet p = {.ext_ts = 1000, .base_ts = 1000, .clock_rate = 8000, .payload = pay};
    for (size_t len = 0; len <= sizeof(pay); len++) {
        p.payload_len = len;
        rp_events_add(ev, &p);
    }
    /* 0-3 short, 5-6 odd: 6 malformed; 4 is the one good event. */
    CU_ASSERT_EQUAL(rp_events_malformed(ev), 6);
    size_t n;
    const rtpproc_event *e = rp_events_list(ev, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(e[0].duration, 320);
    /* Cut by the snaplen: no error, its whole block counts. */
    p.truncated = true;
    p.ext_ts = 2000;
    p.payload_len = 6;
    rp_events_add(ev, &p);
    p.payload_len = 3;
    rp_events_add(ev, &p);
    CU_ASSERT_EQUAL(rp_events_malformed(ev), 6);
    rp_events_list(ev, &n);
    CU_ASSERT_EQUAL(n, 2);
    rp_events_free(ev);
}

static void test_events_table_is_bounded(void)
{
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    unsigned total = RTPPROC_MAX_EVENTS + 44;
    for (unsigned i = 0; i < total; i++)
        send_event(ev, 1000 + 1600 * (int64_t)i, 200 * i, (uint8_t)(i % 16), 480, 3);
    size_t n;
    const rtpproc_event *e = rp_events_list(ev, &n);
    CU_ASSERT_EQUAL(n, RTPPROC_MAX_EVENTS);
    /* Each dropped event once, whatever its retransmissions. */
    CU_ASSERT_EQUAL(rp_events_dropped(ev), 44);
    CU_ASSERT_EQUAL(e[RTPPROC_MAX_EVENTS - 1].offset, 1600 * (RTPPROC_MAX_EVENTS - 1));
    rp_events_free(ev);
}

static void test_events_default_clock(void)
{
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    uint8_t pay[4];
    block(pay, 3, true, 20, 4800);
    rp_event_packet p = {.ext_ts = 1, .base_ts = 1, .payload = pay, .payload_len = 4};
    rp_events_add(ev, &p);
    size_t n;
    const rtpproc_event *e = rp_events_list(ev, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(e[0].clock_rate, 8000); /* RFC 4733 7.1.1 default rate */
    rp_events_free(ev);
}

/* ---- tone synthesis, checked with the Goertzel algorithm ---- */

/* Power of frequency `f` in x[0..n) (Goertzel), normalised so that a sine
 * of peak A over whole periods gives about A^2 / 4. */
static double goertzel(const int16_t *x, size_t n, double f, double rate)
{
    double w = 2.0 * M_PI * f / rate, coeff = 2.0 * cos(w), s1 = 0.0, s2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i] + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / ((double)n * n);
}

static double rms_dbm0(const int16_t *x, size_t n)
{
    /* A sine of peak 32767 (rms 32767 / sqrt 2) is +3.14 dBm0 (G.711 A-law). */
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)x[i] * x[i];
    return 20.0 * log10(sqrt(sum / n) / (32767.0 / sqrt(2.0))) + 3.14;
}

static const rp_tone_map tone_map_8k = {
    .base_ts = 1000, .base_frame = 0, .first_ts = 1000, .clock_rate = 8000, .rate = 8000};

static void test_events_tones_have_the_q23_pairs(void)
{
    /* Q.23: '1' 697+1209, ..., 'D' 941+1633 Hz. */
    static const double low[4] = {697, 770, 852, 941}, high[4] = {1209, 1336, 1477, 1633};
    static const char *keys[4] = {"123A", "456B", "789C", "*0#D"};
    static int16_t pcm[8000];
    for (unsigned c = 0; c < 16; c++) {
        rp_events *ev = rp_events_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
        /* 0.5 s at -10 dBm0 from the stream's start. */
        add(ev, 1000, 0, true, (uint8_t)c, true, 10, 4000);
        CU_ASSERT_EQUAL(rp_events_tones(ev, &tone_map_8k, 0, pcm, 4000), 4000);
        unsigned row = 4, col = 4;
        for (unsigned r = 0; r < 4; r++)
            for (unsigned k = 0; k < 4; k++)
                if (keys[r][k] == rtpproc_event_name(c)[0])
                    row = r, col = k;
        CU_ASSERT_FATAL(row < 4 && col < 4);
        double want =
            fmin(goertzel(pcm, 4000, low[row], 8000), goertzel(pcm, 4000, high[col], 8000));
        for (unsigned k = 0; k < 4; k++) {
            /* Every other DTMF frequency at least 30 dB below. */
            if (k != row)
                CU_ASSERT(goertzel(pcm, 4000, low[k], 8000) < want * 1e-3);
            if (k != col)
                CU_ASSERT(goertzel(pcm, 4000, high[k], 8000) < want * 1e-3);
        }
        /* Equal power in both (no twist), the sum at -10 dBm0. */
        double twist = 10.0 * log10(goertzel(pcm, 4000, low[row], 8000) /
                                    goertzel(pcm, 4000, high[col], 8000));
        CU_ASSERT(fabs(twist) < 0.1);
        CU_ASSERT(fabs(rms_dbm0(pcm, 4000) + 10.0) < 0.1);
        rp_events_free(ev);
    }
}

static void test_events_tones_level_and_placement(void)
{
    static int16_t pcm[4000], part[4000];
    rp_events *ev = rp_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    /* '5' at 100 ms for 50 ms, 0 dBm0 (the loudest); '9' at 300 ms for 62.5 ms,
     * -30 dBm0; event 16 (flash) has no tone. */
    add(ev, 1800, 0, true, 5, true, 0, 400);
    add(ev, 3400, 0, true, 9, true, 30, 500);
    add(ev, 3000, 0, true, 16, true, 10, 800);
    CU_ASSERT_EQUAL(rp_events_tones(ev, &tone_map_8k, 0, pcm, 4000), 400 + 500);
    for (size_t i = 0; i < 4000; i++) {
        bool in5 = i >= 800 && i < 1200, in9 = i >= 2400 && i < 2900;
        if (!in5 && !in9 && pcm[i] != 0) {
            CU_FAIL("tone outside its event");
            break;
        }
    }
    CU_ASSERT_EQUAL(pcm[800], 0); /* both sines start at phase 0 */
    CU_ASSERT_NOT_EQUAL(pcm[801], 0);
    CU_ASSERT(fabs(rms_dbm0(pcm + 800, 400)) < 0.15);
    CU_ASSERT(fabs(rms_dbm0(pcm + 2400, 500) + 30.0) < 0.15);
    /* Filled in pieces as playout's gaps come: the same samples. */
    size_t at = 0, cut[] = {1, 799, 3, 397, 2000, 800};
    for (size_t k = 0; k < sizeof(cut) / sizeof(cut[0]); k++) {
        rp_events_tones(ev, &tone_map_8k, at, part + at, cut[k]);
        at += cut[k];
    }
    CU_ASSERT_EQUAL(at, 4000);
    CU_ASSERT_EQUAL(memcmp(pcm, part, sizeof(pcm)), 0);
    /* A span without events is silence and says so. */
    CU_ASSERT_EQUAL(rp_events_tones(ev, &tone_map_8k, 1200, part, 1200), 0);
    /* Another anchor (a re-anchored timeline, a 16 kHz recording of an
     * 8 kHz clock like G.722): '5' lands at frame 100 + 800 * 2. */
    rp_tone_map m = {
        .base_ts = 1000, .base_frame = 100, .first_ts = 1000, .clock_rate = 8000, .rate = 16000};
    CU_ASSERT_EQUAL(rp_events_tones(ev, &m, 0, pcm, 4000), 800); /* 9 is beyond */
    CU_ASSERT_EQUAL(pcm[1699], 0);
    CU_ASSERT_NOT_EQUAL(pcm[1701], 0);
    /* Another clock: left out. */
    m.clock_rate = 48000;
    CU_ASSERT_EQUAL(rp_events_tones(ev, &m, 0, pcm, 4000), 0);
    rp_events_free(ev);
}

/* ---- through the engine ---- */

static rtpproc_engine *eng;
static rtpproc_engine *make_engine(const char *ptmap)
{
    rtpproc_engine_config cfg;
    char err[256];
    rtpproc_engine_config_init(&cfg);
    cfg.sink_open = test_capsink_open;
    if (ptmap != NULL && rtpproc_ptmap_parse(&cfg.ptmap, ptmap, err, sizeof(err)) != RTPPROC_OK)
        return NULL;
    test_capsink_reset();
    return rtpproc_engine_new(&cfg);
}

/* One RTP datagram 10.0.0.1:4000 -> 10.0.0.2:5000 arriving `at_ms` after T0. */
static int feed_rtp(uint32_t ssrc, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                    int64_t at_ms, const uint8_t *pay, size_t n)
{
    uint8_t buf[12 + 160];
    rtpproc_datagram d;
    memset(&d, 0, sizeof(d));
    d.ts = T0 + at_ms * MS;
    d.flow.src.family = d.flow.dst.family = 4;
    d.flow.src.bytes[0] = d.flow.dst.bytes[0] = 10;
    d.flow.src.bytes[3] = 1;
    d.flow.dst.bytes[3] = 2;
    d.flow.sport = 4000;
    d.flow.dport = 5000;
    buf[0] = 0x80; /* V=2 */
    buf[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    for (int b = 0; b < 4; b++) {
        buf[4 + b] = (uint8_t)(ts >> (24 - 8 * b));
        buf[8 + b] = (uint8_t)(ssrc >> (24 - 8 * b));
    }
    if (n > sizeof(buf) - 12)
        return RTPPROC_EINVAL;
    memcpy(buf + 12, pay, n);
    d.payload = buf;
    d.caplen = d.len = 12 + n;
    return rtpproc_engine_feed(eng, &d);
}

static int feed_event(uint32_t ssrc, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                      int64_t at_ms, uint8_t code, bool end, uint8_t vol, uint16_t dur)
{
    uint8_t pay[4];
    block(pay, code, end, vol, dur);
    return feed_rtp(ssrc, pt, marker, seq, ts, at_ms, pay, sizeof(pay));
}

static const rtpproc_stream_summary *only_summary(void)
{
    size_t n;
    const rtpproc_stream_summary *s = rtpproc_engine_summaries(eng, &n);
    CU_ASSERT_EQUAL(n, 1);
    return n == 1 ? s : NULL;
}

static void test_events_engine_events_only_stream(void)
{
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    /* PT 101 (telephone-event by default): '#' as sipp sends it, 8 packets
     * then the end packet three times with the same sequence number. */
    uint16_t seq = 8436;
    for (unsigned i = 0; i < 7; i++, seq++)
        CU_ASSERT_EQUAL(
            feed_event(0xE1, 101, i == 0, seq, 92640, 20 * i, 11, false, 10, (uint16_t)(320 * i)),
            RTPPROC_PKT_RTP);
    for (unsigned i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(feed_event(0xE1, 101, false, seq, 92640, 140, 11, true, 10, 2240),
                        RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->packets, 10);
    CU_ASSERT_EQUAL(s->duplicates, 2);
    CU_ASSERT_EQUAL(s->note, RTPPROC_NOTE_NO_AUDIO);
    CU_ASSERT_PTR_NULL(s->file);
    CU_ASSERT_EQUAL(test_ncaps, 0);
    CU_ASSERT_EQUAL_FATAL(s->nevents, 1);
    CU_ASSERT_EQUAL(s->events[0].code, 11);
    CU_ASSERT_EQUAL(s->events[0].offset, 0);
    CU_ASSERT_EQUAL(s->events[0].start, T0);
    CU_ASSERT_EQUAL(s->events[0].duration, 2240);
    CU_ASSERT_EQUAL(s->events[0].volume, 10);
    CU_ASSERT_TRUE(s->events[0].end);
    CU_ASSERT_EQUAL(s->events_dropped, 0);
    CU_ASSERT_EQUAL(s->events_malformed, 0);

    /* Reports: 2240 units at 8 kHz are 280 ms; volume 10 is -10 dBm0. */
    GString *t = g_string_new(NULL), *j = g_string_new(NULL);
    rtpproc_report_text(s, 1, NULL, NULL, t);
    rtpproc_report_json(s, 1, NULL, NULL, j);
    CU_ASSERT_PTR_NOT_NULL(strstr(t->str, "\n  Events: #@0.000s/280ms/-10dBm0\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(j->str, "\"events_count\":1,\"events_dropped\":0,\"events_malformed\":0,"
                       "\"events\":[{\"event\":\"#\",\"code\":11,\"start\":1700000000.000000000,"
                       "\"offset_ms\":0.000,\"duration_ms\":280.000,\"volume_dbm0\":-10,"
                       "\"end\":true,\"start_seen\":true}]"));
    g_string_free(t, TRUE);
    g_string_free(j, TRUE);
    rtpproc_engine_free(eng);
    test_capsink_reset();
    eng = NULL;
}

static void test_events_engine_audio_and_events(void)
{
    /* G.711 and telephone-event on PT 96 (--pt-map) in one SSRC, as in
     * SIP_DTMF2.pcap: 20 ms audio packets; '7' 100 ms into the stream for
     * 60 ms, its first packet lost, its end packet lost too; then '*'
     * 300 ms in, whole. Event packets replace audio packets (same seq line). */
    eng = make_engine("96=telephone-event/8000");
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    uint8_t alaw[160];
    memset(alaw, 0xD5, sizeof(alaw));
    uint32_t ts0 = 0xFFFFFD00u; /* the timestamp wraps during the stream */
    uint16_t seq = 65530;       /* and so does the sequence number */
    for (unsigned i = 0; i < 25; i++, seq++) {
        uint32_t ts = ts0 + 160 * i;
        int64_t at = 20 * i;
        int rc;
        if (i == 5)
            continue; /* '7' start (duration 0), lost */
        if (i >= 6 && i <= 8)
            rc = feed_event(0xA1, 96, false, seq, ts0 + 800, at, 7, false, 12,
                            (uint16_t)(160 * (i - 5)));
        else if (i >= 15 && i <= 18)
            rc = feed_event(0xA1, 96, i == 15, seq, ts0 + 2400, at, 10, i == 18, 3,
                            (uint16_t)(160 * (i - 15) + (i == 18 ? 160 : 0)));
        else
            rc = feed_rtp(0xA1, 8, false, seq, ts, at, alaw, sizeof(alaw));
        CU_ASSERT_EQUAL(rc, RTPPROC_PKT_RTP);
    }
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL(s->codec);
    CU_ASSERT_EQUAL(s->note, RTPPROC_NOTE_NONE);
    CU_ASSERT_EQUAL(test_ncaps, 1);
    CU_ASSERT_EQUAL_FATAL(s->nevents, 2);
    CU_ASSERT_EQUAL(s->events[0].code, 7);
    CU_ASSERT_EQUAL(s->events[0].offset, 800); /* 100 ms */
    CU_ASSERT_EQUAL(s->events[0].start, T0 + 120 * MS);
    CU_ASSERT_EQUAL(s->events[0].duration, 480);
    CU_ASSERT_FALSE(s->events[0].end);
    CU_ASSERT_FALSE(s->events[0].start_seen);
    CU_ASSERT_EQUAL(s->events[0].volume, 12);
    CU_ASSERT_EQUAL(s->events[1].code, 10);
    CU_ASSERT_EQUAL(s->events[1].offset, 2400);
    CU_ASSERT_EQUAL(s->events[1].duration, 640);
    CU_ASSERT_TRUE(s->events[1].end);
    CU_ASSERT_EQUAL(s->events[1].volume, 3);

    GString *t = g_string_new(NULL);
    rtpproc_report_text(s, 1, NULL, NULL, t);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(t->str, "  Events: 7@0.100s/>=60ms/-12dBm0 *@0.300s/80ms/-3dBm0\n"));
    g_string_free(t, TRUE);
    rtpproc_engine_free(eng);
    test_capsink_reset();
    eng = NULL;
}

static void test_events_engine_reordered_and_malformed(void)
{
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    /* Updates of '9' arrive out of order (the reorder window sorts them);
     * a 3-byte payload on the event PT is counted, not parsed. */
    CU_ASSERT_EQUAL(feed_event(0xB2, 101, true, 100, 4000, 0, 9, false, 0, 0), RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(feed_event(0xB2, 101, false, 101, 4000, 20, 9, false, 0, 160), RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(feed_event(0xB2, 101, false, 103, 4000, 40, 9, true, 0, 480), RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(feed_event(0xB2, 101, false, 102, 4000, 45, 9, false, 0, 320), RTPPROC_PKT_RTP);
    const uint8_t bad[3] = {0x09, 0x80, 0x01};
    CU_ASSERT_EQUAL(feed_rtp(0xB2, 101, false, 104, 4000, 60, bad, sizeof(bad)), RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(s->nevents, 1);
    CU_ASSERT_EQUAL(s->events[0].duration, 480);
    CU_ASSERT_TRUE(s->events[0].end);
    CU_ASSERT_EQUAL(s->events[0].volume, 0);
    CU_ASSERT_EQUAL(s->events_malformed, 1);
    GString *t = g_string_new(NULL), *j = g_string_new(NULL);
    rtpproc_report_text(s, 1, NULL, NULL, t);
    rtpproc_report_json(s, 1, NULL, NULL, j);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(t->str, "  Events: 9@0.000s/60ms/0dBm0 (1 malformed event payloads)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(j->str, "\"volume_dbm0\":0,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(j->str, "\"events_malformed\":1,"));
    g_string_free(t, TRUE);
    g_string_free(j, TRUE);
    rtpproc_engine_free(eng);
    test_capsink_reset();
    eng = NULL;
}

static void test_events_engine_stream_without_events_reports_none(void)
{
    eng = make_engine(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    uint8_t alaw[160];
    memset(alaw, 0xD5, sizeof(alaw));
    for (unsigned i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(feed_rtp(0xC3, 8, false, (uint16_t)i, 160 * i, 20 * i, alaw, 160),
                        RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->nevents, 0);
    CU_ASSERT_PTR_NULL(s->events);
    GString *t = g_string_new(NULL), *j = g_string_new(NULL);
    rtpproc_report_text(s, 1, NULL, NULL, t);
    rtpproc_report_json(s, 1, NULL, NULL, j);
    CU_ASSERT_PTR_NULL(strstr(t->str, "Events:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(j->str, "\"events_count\":0,\"events_dropped\":0,"
                                          "\"events_malformed\":0,\"events\":[]"));
    g_string_free(t, TRUE);
    g_string_free(j, TRUE);
    rtpproc_engine_free(eng);
    test_capsink_reset();
    eng = NULL;
}

static void test_events_engine_48k_clock(void)
{
    /* telephone-event/48000 next to Opus: durations in 48 kHz units. */
    eng = make_engine("110=telephone-event/48000");
    CU_ASSERT_PTR_NOT_NULL_FATAL(eng);
    for (unsigned i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(feed_event(0xD4, 110, i == 0, (uint16_t)(7 + i), 96000, 20 * i, 15, i == 5,
                                   30, (uint16_t)(960 * i)),
                        RTPPROC_PKT_RTP);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(eng), 0);
    const rtpproc_stream_summary *s = only_summary();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(s->nevents, 1);
    CU_ASSERT_EQUAL(s->events[0].clock_rate, 48000);
    CU_ASSERT_EQUAL(s->events[0].duration, 4800);
    GString *j = g_string_new(NULL);
    rtpproc_report_json(s, 1, NULL, NULL, j);
    CU_ASSERT_PTR_NOT_NULL(strstr(j->str, "{\"event\":\"D\",\"code\":15,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(j->str, "\"duration_ms\":100.000,\"volume_dbm0\":-30,"));
    g_string_free(j, TRUE);
    rtpproc_engine_free(eng);
    test_capsink_reset();
    eng = NULL;
}

CU_pSuite rtpproc_test_events_suite(void)
{
    CU_pSuite s = CU_add_suite("events", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (!CU_add_test(s, "one block: event, E, R, volume, duration", test_events_parse_one_block) ||
        !CU_add_test(s, "several blocks, at most max", test_events_parse_several_blocks_and_max) ||
        !CU_add_test(s, "short and odd payloads are errors", test_events_parse_errors) ||
        !CU_add_test(s, "a truncated payload gives its whole blocks",
                     test_events_parse_truncated_gives_whole_blocks) ||
        !CU_add_test(s, "DTMF names 0-15", test_events_names) ||
        !CU_add_test(s, "retransmitted end packets count once",
                     test_events_retransmitted_end_counted_once) ||
        !CU_add_test(s, "lost start: one event at its timestamp", test_events_lost_start) ||
        !CU_add_test(s, "lost end: longest duration, not ended", test_events_lost_end) ||
        !CU_add_test(s, "reordered updates", test_events_reordered_updates) ||
        !CU_add_test(s, "all 16 DTMF events", test_events_all_sixteen) ||
        !CU_add_test(s, "the same code again is a new event",
                     test_events_same_code_again_is_a_new_event) ||
        !CU_add_test(s, "a long event in segments is one event",
                     test_events_long_event_in_segments) ||
        !CU_add_test(s, "packed events are consecutive",
                     test_events_packed_events_are_consecutive) ||
        !CU_add_test(s, "malformed payloads are counted", test_events_malformed_counted) ||
        !CU_add_test(s, "the table is bounded", test_events_table_is_bounded) ||
        !CU_add_test(s, "default clock 8000", test_events_default_clock) ||
        !CU_add_test(s, "tones: the Q.23 pair of each digit, no twist, its level",
                     test_events_tones_have_the_q23_pairs) ||
        !CU_add_test(s, "tones: level, placement, pieces, anchors",
                     test_events_tones_level_and_placement) ||
        !CU_add_test(s, "engine: events-only stream, reports",
                     test_events_engine_events_only_stream) ||
        !CU_add_test(s, "engine: audio and events in one SSRC",
                     test_events_engine_audio_and_events) ||
        !CU_add_test(s, "engine: reordered and malformed",
                     test_events_engine_reordered_and_malformed) ||
        !CU_add_test(s, "engine: a stream without events reports none",
                     test_events_engine_stream_without_events_reports_none) ||
        !CU_add_test(s, "engine: 48 kHz telephone-event", test_events_engine_48k_clock))
        return NULL;
    return s;
}
