/*
 * Unit tests: core/writer.c (the recorders' writer thread).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/CUnit.h>

#include "hugepool.h"
#include "writer.h"

CU_pSuite rtpproc_test_writer_suite(void);

enum { SIZE = 8192, MAX_BYTES = 16 * SIZE };

/* What the jobs of one submitter saw, in the order they ran. */
typedef struct log {
    pthread_mutex_t mu;
    unsigned ran;          /* jobs run */
    unsigned out_of_order; /* a job whose sequence number was not ran + 1 */
    unsigned bad_bytes;    /* a buffer whose bytes were not the submitter's */
    unsigned max_in_flight;
    unsigned *in_flight; /* shared by every log of a test: queued, not yet run */
    unsigned sleep_us;   /* each job takes this long */
} log_t;

static unsigned in_flight_all;
static pthread_mutex_t in_flight_mu = PTHREAD_MUTEX_INITIALIZER;

/* Buffers carry their sequence number in the first 4 bytes and a fill byte
 * derived from it in the rest. */
/* A buffer queued as the recorder does it: a spare first, then the job;
 * returns the spare (NULL: nothing queued). */
static void *submit(rp_writer *w, rp_write_fn fn, void *ctx, void *buf, size_t size, size_t len,
                    unsigned *pending)
{
    void *spare = rp_writer_spare(w, size);
    if (spare != NULL)
        rp_writer_queue(w, fn, ctx, buf, size, len, pending);
    return spare;
}

static void job(void *ctx, const void *buf, size_t len)
{
    log_t *l = ctx;
    const uint8_t *b = buf;
    uint32_t seq;

    memcpy(&seq, b, sizeof(seq));
    unsigned bad = 0;
    for (size_t i = sizeof(seq); i < len; i++)
        bad += b[i] != (uint8_t)(seq * 7 + 3);
    if (l->sleep_us > 0) {
        struct timespec ts = {0, (long)l->sleep_us * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&in_flight_mu);
    in_flight_all--;
    pthread_mutex_unlock(&in_flight_mu);
    pthread_mutex_lock(&l->mu);
    l->out_of_order += seq != l->ran + 1;
    l->bad_bytes += bad;
    l->ran++;
    pthread_mutex_unlock(&l->mu);
}

/* One more job queued (submitters and the writer thread count under the lock). */
static unsigned in_flight_inc(void)
{
    pthread_mutex_lock(&in_flight_mu);
    unsigned n = ++in_flight_all;
    pthread_mutex_unlock(&in_flight_mu);
    return n;
}

static void fill(uint8_t *b, uint32_t seq, size_t len)
{
    memcpy(b, &seq, sizeof(seq));
    memset(b + sizeof(seq), (uint8_t)(seq * 7 + 3), len - sizeof(seq));
}

typedef struct submitter {
    rp_writer *w;
    log_t log;
    unsigned jobs;
    unsigned pending;
    unsigned queued_over; /* submissions that found more than MAX_BYTES queued */
    unsigned reused_own;  /* a spare equal to the buffer just submitted */
    unsigned ran_after_wait;
} submitter;

static void *submit_many(void *arg)
{
    submitter *s = arg;
    uint8_t *buf = rp_hugepool_alloc(SIZE);

    for (uint32_t seq = 1; seq <= s->jobs; seq++) {
        size_t len = 64 + (seq * 97u) % (SIZE - 64); /* varying fill */
        fill(buf, seq, len);
        if (in_flight_inc() * SIZE > MAX_BYTES + SIZE * 8u) /* 8 submitters may overshoot by one */
            s->queued_over++;
        uint8_t *spare = submit(s->w, job, &s->log, buf, SIZE, len, &s->pending);
        if (spare == NULL)
            return NULL;
        s->reused_own += spare == buf;
        buf = spare;
        /* Scribbling on the spare must not reach a queued job. */
        memset(buf, 0xee, SIZE);
        if (seq % 100 == 0) {
            rp_writer_wait(s->w, &s->pending);
            pthread_mutex_lock(&s->log.mu);
            s->ran_after_wait += s->log.ran != seq;
            pthread_mutex_unlock(&s->log.mu);
        }
    }
    rp_writer_wait(s->w, &s->pending);
    rp_hugepool_free(buf, SIZE);
    return NULL;
}

static void run_submitters(unsigned n, unsigned jobs, unsigned sleep_us)
{
    submitter s[8];
    pthread_t t[8];
    rp_writer *w = rp_writer_new(MAX_BYTES);

    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    in_flight_all = 0;
    memset(s, 0, sizeof(s));
    for (unsigned i = 0; i < n; i++) {
        s[i].w = w;
        s[i].jobs = jobs;
        s[i].log.sleep_us = sleep_us;
        pthread_mutex_init(&s[i].log.mu, NULL);
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, submit_many, &s[i]), 0);
    }
    for (unsigned i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        CU_ASSERT_EQUAL(s[i].log.ran, jobs);
        CU_ASSERT_EQUAL(s[i].pending, 0);
        CU_ASSERT_EQUAL(s[i].log.out_of_order, 0);
        CU_ASSERT_EQUAL(s[i].log.bad_bytes, 0);
        CU_ASSERT_EQUAL(s[i].reused_own, 0);
        CU_ASSERT_EQUAL(s[i].ran_after_wait, 0);
        CU_ASSERT_EQUAL(s[i].queued_over, 0);
        pthread_mutex_destroy(&s[i].log.mu);
    }
    rp_writer_free(w);
}

/* One submitter: every job runs once, in order, on the bytes it was given,
 * while the submitter scribbles on its spare; wait means all have run. */
static void test_writer_one_submitter_order_and_bytes(void)
{
    run_submitters(1, 3000, 0);
}

/* Slow jobs: submit blocks, so no more than max_bytes are queued. */
static void test_writer_slow_jobs_bound_the_queue(void)
{
    run_submitters(1, 300, 200);
}

/* Eight threads share one writer (the --threads workers do). */
static void test_writer_eight_submitters(void)
{
    run_submitters(8, 1500, 0);
}

/* Freeing a writer with queued jobs runs them first. */
static void test_writer_free_runs_queued_jobs(void)
{
    log_t l;
    unsigned pending = 0;
    rp_writer *w = rp_writer_new(MAX_BYTES);
    uint8_t *buf = rp_hugepool_alloc(SIZE);

    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    memset(&l, 0, sizeof(l));
    pthread_mutex_init(&l.mu, NULL);
    l.sleep_us = 2000;
    in_flight_all = 0;
    for (uint32_t seq = 1; seq <= 10; seq++) {
        fill(buf, seq, SIZE);
        in_flight_inc();
        buf = submit(w, job, &l, buf, SIZE, SIZE, &pending);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    }
    rp_writer_free(w);
    CU_ASSERT_EQUAL(l.ran, 10);
    CU_ASSERT_EQUAL(l.out_of_order, 0);
    CU_ASSERT_EQUAL(l.bad_bytes, 0);
    CU_ASSERT_EQUAL(pending, 0);
    rp_hugepool_free(buf, SIZE);
    pthread_mutex_destroy(&l.mu);
    rp_writer_free(NULL);
}

/* A job larger than max_bytes is queued alone rather than waiting forever. */
static void test_writer_job_larger_than_queue(void)
{
    enum { BIG = 4 * MAX_BYTES };
    log_t l;
    unsigned pending = 0;
    rp_writer *w = rp_writer_new(MAX_BYTES);
    uint8_t *buf = rp_hugepool_alloc(BIG); /* above RP_HUGEPOOL_MAX: calloc */

    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    memset(&l, 0, sizeof(l));
    pthread_mutex_init(&l.mu, NULL);
    in_flight_all = 0;
    for (uint32_t seq = 1; seq <= 3; seq++) {
        fill(buf, seq, BIG);
        in_flight_inc();
        uint8_t *spare = submit(w, job, &l, buf, BIG, BIG, &pending);
        CU_ASSERT_PTR_NOT_NULL_FATAL(spare);
        buf = spare; /* the submitted one is the writer's now */
    }
    rp_writer_wait(w, &pending);
    CU_ASSERT_EQUAL(l.ran, 3);
    CU_ASSERT_EQUAL(l.out_of_order, 0);
    CU_ASSERT_EQUAL(l.bad_bytes, 0);
    rp_writer_free(w);
    rp_hugepool_free(buf, BIG);
    pthread_mutex_destroy(&l.mu);
}

/* A job that notes the thread it ran on and when, and sleeps `us`. */
typedef struct where {
    pthread_t thread;
    unsigned us;
    int started; /* set when the job begins (atomic) */
    int ran;     /* order among the jobs of this test, from 1 */
} where;

static int where_seq;
static pthread_mutex_t where_mu = PTHREAD_MUTEX_INITIALIZER;

static void where_job(void *ctx, const void *buf, size_t len)
{
    where *wh = ctx;
    (void)buf;
    (void)len;
    wh->thread = pthread_self();
    __atomic_store_n(&wh->started, 1, __ATOMIC_RELEASE);
    if (wh->us > 0) {
        struct timespec ts = {0, (long)wh->us * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&where_mu);
    wh->ran = ++where_seq;
    pthread_mutex_unlock(&where_mu);
}

typedef struct steal_arg {
    rp_writer *w;
    unsigned pending;
} steal_arg;

/* Waits for a file's jobs in another thread (which runs them, stolen). */
static void *wait_for(void *arg)
{
    steal_arg *sa = arg;
    rp_writer_wait(sa->w, &sa->pending);
    return NULL;
}

/* A job's place in the order, read under the jobs' lock (it may be running). */
static int ran_of(const where *wh)
{
    pthread_mutex_lock(&where_mu);
    int ran = wh->ran;
    pthread_mutex_unlock(&where_mu);
    return ran;
}

/*
 * A submitter waiting for its file's job runs the newest queued job itself
 * when that job's file has nothing else queued or running; a file's second
 * job, queued behind its first, stays with the writer thread and runs
 * after the first; the job the writer thread runs is never taken.
 */
static void test_writer_waiting_submitter_runs_the_newest_job(void)
{
    rp_writer *w = rp_writer_new(MAX_BYTES);
    unsigned pending_a = 0, pending_b = 0;
    where a1 = {.us = 300000}, a2 = {.us = 0}, b1 = {.us = 0};

    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    where_seq = 0;
    /* Nothing wakes the writer thread for three small jobs. */
    rp_writer_call(w, where_job, &a1, &pending_a);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    rp_writer_call(w, where_job, &a2, &pending_a);
    rp_writer_call(w, where_job, &b1, &pending_b);
    rp_writer_wait(w, &pending_b);
    /* b1 ran here, before a1 (queued first, the writer thread asleep). */
    CU_ASSERT(pthread_equal(b1.thread, pthread_self()));
    CU_ASSERT_EQUAL(b1.ran, 1);
    CU_ASSERT_EQUAL(ran_of(&a1), 0);
    rp_writer_wait(w, &pending_a);
    /* a2 waited for a1, on the writer thread. */
    CU_ASSERT_EQUAL(a1.ran, 2);
    CU_ASSERT_EQUAL(a2.ran, 3);
    CU_ASSERT(!pthread_equal(a2.thread, pthread_self()));
    CU_ASSERT(pthread_equal(a2.thread, a1.thread));
    CU_ASSERT_EQUAL(pending_a, 0);
    CU_ASSERT_EQUAL(pending_b, 0);

    /* The job the writer thread is running is never run again by a
     * waiting submitter, though it is its file's only job. (Waiting for
     * d1 runs d1 here and wakes the writer thread, which takes c1.) */
    where c1 = {.us = 50000}, d1 = {.us = 0};
    unsigned pending_c = 0, pending_d = 0;
    where_seq = 0;
    rp_writer_call(w, where_job, &c1, &pending_c);
    rp_writer_call(w, where_job, &d1, &pending_d);
    rp_writer_wait(w, &pending_d);
    while (!__atomic_load_n(&c1.started, __ATOMIC_ACQUIRE))
        nanosleep(&ts, NULL);
    rp_writer_wait(w, &pending_c);
    CU_ASSERT(pthread_equal(d1.thread, pthread_self()));
    CU_ASSERT_EQUAL(d1.ran, 1);
    CU_ASSERT_EQUAL(c1.ran, 2);
    CU_ASSERT_EQUAL(where_seq, 2);
    CU_ASSERT(!pthread_equal(c1.thread, pthread_self()));
    CU_ASSERT_EQUAL(pending_c, 0);

    /* A file's job queued while another thread runs its previous one
     * (stolen) waits for it, though the writer thread reaches it first. */
    where f1 = {.us = 50000}, f2 = {.us = 0};
    steal_arg sa = {w, 0};
    pthread_t helper;
    where_seq = 0;
    rp_writer_call(w, where_job, &f1, &sa.pending);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&helper, NULL, wait_for, &sa), 0);
    while (!__atomic_load_n(&f1.started, __ATOMIC_ACQUIRE))
        nanosleep(&ts, NULL);
    rp_writer_call(w, where_job, &f2, &sa.pending);
    rp_writer_wait(w, &sa.pending); /* wakes the writer thread: it takes f2 */
    pthread_join(helper, NULL);
    CU_ASSERT(pthread_equal(f1.thread, helper));
    CU_ASSERT_EQUAL(f1.ran, 1);
    CU_ASSERT_EQUAL(f2.ran, 2);
    CU_ASSERT_EQUAL(sa.pending, 0);
    rp_writer_free(w);
}

CU_pSuite rtpproc_test_writer_suite(void)
{
    CU_pSuite s = CU_add_suite("writer", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (!CU_add_test(s, "one submitter: order, bytes, wait",
                     test_writer_one_submitter_order_and_bytes) ||
        !CU_add_test(s, "slow jobs: the queue stays bounded",
                     test_writer_slow_jobs_bound_the_queue) ||
        !CU_add_test(s, "eight submitters on one writer", test_writer_eight_submitters) ||
        !CU_add_test(s, "free runs the queued jobs", test_writer_free_runs_queued_jobs) ||
        !CU_add_test(s, "a job larger than the queue", test_writer_job_larger_than_queue) ||
        !CU_add_test(s, "a waiting submitter runs the newest job",
                     test_writer_waiting_submitter_runs_the_newest_job))
        return NULL;
    return s;
}
