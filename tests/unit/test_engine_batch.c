/*
 * rtpproc_engine_feed_batch() against rtpproc_engine_feed() (suite
 * "engine_batch"): the same datagrams fed one at a time and in batches of
 * every size give the same verdicts, counters, summaries and audio, with
 * streams opening, idling out and reopening inside batches, packets lost,
 * reordered and duplicated, sources that never validate, non-RTP and cut
 * datagrams; a recording that cannot be opened stops the batch at that
 * datagram, and --threads workers, which feed in runs, go on after it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "rtpproc/engine.h"
#include "suite.h"

CU_pSuite rtpproc_test_engine_batch_suite(void);

static const int64_t MS = 1000000;

/* ---- a sink keeping each recording's samples until the test ends ---- */

#define MAX_RECS 64

typedef struct rec {
    rtpproc_sink base;
    int16_t *pcm;
    size_t n, cap;
    bool begun;       /* close_begin ran */
    bool after_begin; /* something was written after it (must not be) */
    bool closed;
} rec;

typedef struct recs {
    rec *r[MAX_RECS];
    unsigned n;
    unsigned fail_at;   /* the open with this number (1-based) fails; 0: none */
    uint32_t fail_ssrc; /* opens for this SSRC fail; 0: none */
    unsigned opens;
    unsigned long prefetches;
} recs;

static int rec_push(rec *r, const int16_t *v, size_t n, bool zero)
{
    if (r->n + n > r->cap) {
        size_t cap = (r->n + n) * 2;
        int16_t *p = realloc(r->pcm, cap * sizeof(*p));
        if (p == NULL)
            return RTPPROC_ENOMEM;
        r->pcm = p;
        r->cap = cap;
    }
    if (zero)
        memset(r->pcm + r->n, 0, n * sizeof(*v));
    else
        memcpy(r->pcm + r->n, v, n * sizeof(*v));
    r->n += n;
    return RTPPROC_OK;
}

static int rec_write_pcm(rtpproc_sink *s, const int16_t *f, size_t n)
{
    ((rec *)s)->after_begin |= ((rec *)s)->begun;
    return rec_push((rec *)s, f, n * s->fmt.channels, false);
}

static int rec_write_silence(rtpproc_sink *s, uint64_t n)
{
    ((rec *)s)->after_begin |= ((rec *)s)->begun;
    return rec_push((rec *)s, NULL, (size_t)n * s->fmt.channels, true);
}

static int rec_close_begin(rtpproc_sink *s)
{
    ((rec *)s)->begun = true;
    return RTPPROC_OK;
}

static int rec_flush(rtpproc_sink *s)
{
    (void)s;
    return RTPPROC_OK;
}

static int rec_close(rtpproc_sink *s)
{
    ((rec *)s)->closed = true; /* kept for comparison; freed by recs_free */
    return RTPPROC_OK;
}

static recs *prefetch_owner; /* whose counter rec_prefetch bumps */

static void rec_prefetch(rtpproc_sink *s)
{
    (void)s;
    prefetch_owner->prefetches++;
}

static const rtpproc_sink_ops rec_ops = {
    .write_pcm = rec_write_pcm,
    .write_silence = rec_write_silence,
    .flush = rec_flush,
    .close = rec_close,
    .close_begin = rec_close_begin,
    .prefetch = rec_prefetch,
};

/* --threads workers open recordings concurrently. */
static pthread_mutex_t recs_lock = PTHREAD_MUTEX_INITIALIZER;

static rtpproc_sink *rec_open(void *ud, const rtpproc_sink_info *info,
                              const rtpproc_sink_format *fmt, int *status, char *err, size_t len)
{
    recs *rs = ud;
    rec *r = NULL;
    (void)info;
    pthread_mutex_lock(&recs_lock);
    if (++rs->opens == rs->fail_at || (rs->fail_ssrc != 0 && info->ssrc == rs->fail_ssrc) ||
        rs->n == MAX_RECS) {
        *status = RTPPROC_EIO;
        snprintf(err, len, "cannot create 'rec%u': test", rs->opens);
    } else if ((r = calloc(1, sizeof(*r))) == NULL) {
        *status = RTPPROC_ENOMEM;
    } else {
        r->base.ops = &rec_ops;
        r->base.fmt = *fmt;
        rs->r[rs->n++] = r;
    }
    pthread_mutex_unlock(&recs_lock);
    return r != NULL ? &r->base : NULL;
}

static void recs_free(recs *rs)
{
    for (unsigned i = 0; i < rs->n; i++) {
        free(rs->r[i]->pcm);
        free(rs->r[i]);
    }
    rs->n = 0;
}

/* ---- a capture: datagrams that each own their bytes ---- */

#define MAX_DG 6000

typedef struct capture {
    rtpproc_datagram dg[MAX_DG];
    uint8_t bytes[MAX_DG][180];
    size_t n;
} capture;

static uint32_t rnd_state;

static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

/* Appends one datagram: an RTP packet when `pt` < 128, else `n` bytes of
 * something else. */
static void add(capture *c, unsigned src, uint32_t ssrc, unsigned pt, uint16_t seq, uint32_t ts,
                int64_t t_ms, size_t n)
{
    if (c->n == MAX_DG)
        return;
    rtpproc_datagram *d = &c->dg[c->n];
    uint8_t *b = c->bytes[c->n];
    memset(d, 0, sizeof(*d));
    d->ts = 1700000000LL * 1000000000LL + t_ms * MS;
    d->flow.src.family = d->flow.dst.family = 4;
    d->flow.src.bytes[0] = 10;
    d->flow.src.bytes[2] = (uint8_t)(src >> 8);
    d->flow.src.bytes[3] = (uint8_t)src;
    d->flow.dst.bytes[0] = 10;
    d->flow.dst.bytes[3] = 200;
    d->flow.sport = (uint16_t)(4000 + src);
    d->flow.dport = 5000;
    for (size_t i = 0; i < n && i < sizeof(c->bytes[0]); i++)
        b[i] = (uint8_t)rnd();
    if (pt < 128) {
        b[0] = 0x80;
        b[1] = (uint8_t)pt;
        b[2] = (uint8_t)(seq >> 8);
        b[3] = (uint8_t)seq;
        for (int i = 0; i < 4; i++) {
            b[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
            b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
        }
    } else {
        b[0] = 0x45; /* version 1: not RTP */
    }
    d->payload = b;
    d->len = n;
    d->caplen = n;
    c->n++;
}

/*
 * Twelve streams of 20 ms G.711 (PCMA and PCMU) with 2 % loss, some
 * reordering and duplicates; streams 0-3 pause for 7 s in the middle (idle
 * timeout: they close and reopen), one-packet sources that never validate,
 * non-RTP datagrams and cut ones, in capture order.
 */
static void make_capture(capture *c)
{
    enum { STREAMS = 12, TICKS = 400 };
    uint16_t seq[STREAMS];
    uint32_t ts[STREAMS];

    rnd_state = 4242;
    c->n = 0;
    for (unsigned s = 0; s < STREAMS; s++) {
        seq[s] = (uint16_t)(s * 5000 + 65500 * (s == 5)); /* stream 5 wraps */
        ts[s] = s * 7777u;
    }
    for (int64_t tick = 0; tick < TICKS; tick++) {
        int64_t t = tick * 20 + (tick >= 200 ? 7000 : 0);
        for (unsigned s = 0; s < STREAMS; s++) {
            bool paused = s < 4 && tick >= 150 && tick < 200;
            unsigned pt = s % 2 == 0 ? 8 : 0;
            uint16_t q = seq[s]++;
            uint32_t tt = ts[s];
            ts[s] += 160;
            if (paused || rnd() % 50 == 0)
                continue; /* lost */
            if (rnd() % 40 == 0 && c->n > 0) {
                /* swapped with the datagram before it */
                add(c, s, 0x1000u + s, pt, q, tt, t + s / 4, 172);
                rtpproc_datagram tmp = c->dg[c->n - 1];
                c->dg[c->n - 1] = c->dg[c->n - 2];
                c->dg[c->n - 2] = tmp;
                continue;
            }
            add(c, s, 0x1000u + s, pt, q, tt, t + s / 4, 172);
            if (rnd() % 60 == 0)
                add(c, s, 0x1000u + s, pt, q, tt, t + s / 4 + 1, 172); /* duplicate */
        }
        if (tick % 3 == 0)
            add(c, 900 + (unsigned)tick, 0x9000u + (uint32_t)tick, 8, 1, 1, t + 5, 172);
        if (tick % 7 == 0)
            add(c, 800, 0, 200, 0, 0, t + 6, 60); /* not RTP */
        if (tick % 11 == 0)
            add(c, 700, 0x7000, 8, (uint16_t)tick, 0, t + 7, 8); /* shorter than a header */
    }
}

/* ---- feeding ---- */

static rtpproc_engine *new_engine(recs *rs, unsigned threads)
{
    rtpproc_engine_config cfg;
    rtpproc_engine_config_init(&cfg);
    cfg.sink_open = rec_open;
    cfg.sink_userdata = rs;
    cfg.threads = threads;
    return rtpproc_engine_new(&cfg);
}

/* Feeds the capture one datagram at a time; stops at the first error. */
static void feed_single(rtpproc_engine *e, const capture *c, int *verdicts)
{
    for (size_t i = 0; i < c->n; i++) {
        verdicts[i] = rtpproc_engine_feed(e, &c->dg[i]);
        if (verdicts[i] < 0)
            return;
    }
}

/* Feeds the capture in batches of `size` (0: random sizes 1-40). */
static int feed_batches(rtpproc_engine *e, const capture *c, int *verdicts, size_t size)
{
    for (size_t i = 0; i < c->n;) {
        size_t k = size != 0 ? size : 1 + rnd() % 40;
        if (k > c->n - i)
            k = c->n - i;
        int rc = rtpproc_engine_feed_batch(e, &c->dg[i], k, &verdicts[i]);
        if (rc < 0)
            return rc;
        i += k;
    }
    return RTPPROC_OK;
}

static void assert_same_engines(rtpproc_engine *a, recs *ra, rtpproc_engine *b, recs *rb)
{
    const rtpproc_engine_counters *ca = rtpproc_engine_counters_get(a);
    const rtpproc_engine_counters *cb = rtpproc_engine_counters_get(b);
    CU_ASSERT_EQUAL(ca->datagrams, cb->datagrams);
    CU_ASSERT_EQUAL(ca->rtp, cb->rtp);
    CU_ASSERT_EQUAL(ca->not_rtp, cb->not_rtp);
    CU_ASSERT_EQUAL(ca->truncated, cb->truncated);
    CU_ASSERT_EQUAL(ca->streams, cb->streams);
    CU_ASSERT_EQUAL(ca->probation_expired, cb->probation_expired);

    size_t na = 0, nb = 0;
    const rtpproc_stream_summary *sa = rtpproc_engine_summaries(a, &na);
    const rtpproc_stream_summary *sb = rtpproc_engine_summaries(b, &nb);
    CU_ASSERT_EQUAL_FATAL(na, nb);
    unsigned bad = 0;
    for (size_t i = 0; i < na; i++) {
        bad += sa[i].ssrc != sb[i].ssrc || sa[i].packets != sb[i].packets ||
               sa[i].lost != sb[i].lost || sa[i].duplicates != sb[i].duplicates ||
               sa[i].late != sb[i].late || sa[i].reordered != sb[i].reordered ||
               sa[i].frames != sb[i].frames || sa[i].silence_frames != sb[i].silence_frames ||
               sa[i].first_ts != sb[i].first_ts || sa[i].last_ts != sb[i].last_ts ||
               sa[i].max_jitter_ms != sb[i].max_jitter_ms || sa[i].note != sb[i].note;
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* The same recordings (in any order: --threads workers open theirs
     * concurrently), each closed. */
    CU_ASSERT_EQUAL_FATAL(ra->n, rb->n);
    bool taken[MAX_RECS] = {false};
    bad = 0;
    for (unsigned i = 0; i < ra->n; i++) {
        const rec *x = ra->r[i];
        unsigned j = 0;
        for (; j < rb->n; j++) {
            const rec *y = rb->r[j];
            if (!taken[j] && x->n == y->n &&
                (x->n == 0 || memcmp(x->pcm, y->pcm, x->n * sizeof(int16_t)) == 0))
                break;
        }
        bad += j == rb->n || !x->closed || (j < rb->n && !rb->r[j]->closed);
        if (j < rb->n)
            taken[j] = true;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static capture cap;
static int verdicts_a[MAX_DG], verdicts_b[MAX_DG];

static void check_batches(size_t size, unsigned threads)
{
    recs ra = {0}, rb = {0};

    make_capture(&cap);
    prefetch_owner = &ra;
    rtpproc_engine *a = new_engine(&ra, threads);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    feed_single(a, &cap, verdicts_a);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(a), 0);

    prefetch_owner = &rb;
    rtpproc_engine *b = new_engine(&rb, threads);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    rnd_state = 99;
    CU_ASSERT_EQUAL(feed_batches(b, &cap, verdicts_b, size), RTPPROC_OK);
    CU_ASSERT_EQUAL(rtpproc_engine_finish(b), 0);

    CU_ASSERT_EQUAL(memcmp(verdicts_a, verdicts_b, cap.n * sizeof(int)), 0);
    assert_same_engines(a, &ra, b, &rb);
    CU_ASSERT(ra.n > 12); /* streams 0-3 reopened after their pause */
    /* finish() started closing every recording still open before closing
     * any (close_begin), and nothing was written after that. */
    unsigned begun = 0, late_writes = 0;
    for (unsigned i = 0; i < ra.n; i++) {
        begun += ra.r[i]->begun;
        late_writes += ra.r[i]->after_begin;
    }
    CU_ASSERT(begun >= 12 && begun < ra.n); /* not those closed by the idle timeout */
    CU_ASSERT_EQUAL(late_writes, 0);
    if (threads <= 1) {
        CU_ASSERT_EQUAL(ra.prefetches, 0); /* fed one at a time: no lookahead */
        if (size != 1)
            CU_ASSERT(rb.prefetches > 0); /* the lookahead asked the sinks */
    } else {
        /* The workers feed what they are handed in runs, with the
         * lookahead, however it was handed to the engine. */
        CU_ASSERT(ra.prefetches > 0);
        CU_ASSERT(rb.prefetches > 0);
    }
    rtpproc_engine_free(a);
    rtpproc_engine_free(b);
    recs_free(&ra);
    recs_free(&rb);
}

static void test_batch_random_sizes_same_as_single(void)
{
    check_batches(0, 1);
}

static void test_batch_of_one_same_as_single(void)
{
    check_batches(1, 1);
}

static void test_batch_of_whole_capture_same_as_single(void)
{
    check_batches(MAX_DG, 1);
}

static void test_batch_with_threads_same_as_single(void)
{
    check_batches(0, 2);
}

/* The fifth recording cannot be opened: the batch returns that error at
 * the datagram that wanted it, as feed() does, and feeds nothing after. */
static void test_batch_stops_at_failed_open(void)
{
    recs ra = {0}, rb = {0};

    make_capture(&cap);
    ra.fail_at = rb.fail_at = 5;
    prefetch_owner = &ra;
    rtpproc_engine *a = new_engine(&ra, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    for (size_t i = 0; i < MAX_DG; i++)
        verdicts_a[i] = verdicts_b[i] = 12345;
    feed_single(a, &cap, verdicts_a);
    size_t fail = 0;
    while (fail < cap.n && verdicts_a[fail] >= 0)
        fail++;
    CU_ASSERT_FATAL(fail < cap.n);

    prefetch_owner = &rb;
    rtpproc_engine *b = new_engine(&rb, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    rnd_state = 7;
    int rc = feed_batches(b, &cap, verdicts_b, 0);
    CU_ASSERT_EQUAL(rc, verdicts_a[fail]);
    CU_ASSERT_EQUAL(memcmp(verdicts_a, verdicts_b, (fail + 1) * sizeof(int)), 0);
    CU_ASSERT_EQUAL(verdicts_b[fail + 1], 12345); /* not fed */
    CU_ASSERT_EQUAL(rtpproc_engine_counters_get(b)->datagrams, fail + 1);
    CU_ASSERT_STRING_EQUAL(rtpproc_engine_error(a), rtpproc_engine_error(b));
    rtpproc_engine_finish(a);
    rtpproc_engine_finish(b);
    assert_same_engines(a, &ra, b, &rb);
    rtpproc_engine_free(a);
    rtpproc_engine_free(b);
    recs_free(&ra);
    recs_free(&rb);
}

/*
 * One stream's recording cannot be opened. A caller that goes on feeding
 * gets the same streams, counters and other recordings from --threads
 * workers (which feed in runs) as from one engine: the run a failed
 * datagram was in goes on after it.
 */
static void test_threads_go_on_after_failed_open(void)
{
    recs ra = {0}, rb = {0};

    make_capture(&cap);
    ra.fail_ssrc = rb.fail_ssrc = 0x1003;
    prefetch_owner = &ra;
    rtpproc_engine *a = new_engine(&ra, 1);
    rtpproc_engine *b = new_engine(&rb, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    unsigned failed = 0;
    for (size_t i = 0; i < cap.n; i++) {
        failed += rtpproc_engine_feed(a, &cap.dg[i]) < 0;
        (void)rtpproc_engine_feed(b, &cap.dg[i]); /* the error comes back later */
    }
    CU_ASSERT(failed >= 1); /* the open failed, in each of its two lives */
    rtpproc_engine_finish(a);
    rtpproc_engine_finish(b);
    CU_ASSERT_EQUAL(rtpproc_engine_counters_get(b)->datagrams, cap.n);
    assert_same_engines(a, &ra, b, &rb);
    CU_ASSERT(ra.n >= 12); /* every other stream recorded */
    rtpproc_engine_free(a);
    rtpproc_engine_free(b);
    recs_free(&ra);
    recs_free(&rb);
}

CU_pSuite rtpproc_test_engine_batch_suite(void)
{
    CU_pSuite s = CU_add_suite("engine_batch", NULL, NULL);
    static const test_case tests[] = {
        {"random_sizes_same_as_single", test_batch_random_sizes_same_as_single},
        {"batch_of_one_same_as_single", test_batch_of_one_same_as_single},
        {"whole_capture_same_as_single", test_batch_of_whole_capture_same_as_single},
        {"with_threads_same_as_single", test_batch_with_threads_same_as_single},
        {"stops_at_failed_open", test_batch_stops_at_failed_open},
        {"threads_go_on_after_failed_open", test_threads_go_on_after_failed_open},
    };
    return test_add_all(s, tests, TEST_COUNT(tests));
}
