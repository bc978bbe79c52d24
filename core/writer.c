/*
 * rtpproc - the recorders' writer thread (contract in writer.h).
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "hugepool.h"

#define RP_WRITER_JOBS    256 /* queue slots; submit waits when all are taken */
#define RP_WRITER_CLASSES 8   /* buffer sizes kept as spares; others are freed */

/*
 * A sleeping writer is woken once a quarter of max_bytes is queued, not
 * for every job: a wake-up is a futex call and, on a VM, an inter-processor
 * interrupt, which per 8 KiB job cost more system time than the writes
 * saved (measured: 2 M packets x 1000 streams, +0.4 s). Once awake it runs
 * until the queue is empty.
 */
#define RP_WRITER_WAKE_SHARE 4

/*
 * Waking a sleeping thread on this VM takes about a millisecond (the idle
 * vCPU is halted). While jobs come faster than RP_WRITER_BUSY_GAP_NS apart
 * on average (rtpproc reading a file: one per 10-25 us), the writer waits
 * for the next one without giving up its CPU, up to RP_WRITER_SPIN_GAPS
 * average gaps and at most RP_WRITER_SPIN_NS: a writer that slept between
 * such jobs cost 2 M x 10 000 streams 0.6 s (1.7 -> 2.3 s), most of it at
 * the end, where every file's close waits for its last buffer. Slower
 * producers (tshark: one job per 100 us or more) find it asleep; spinning
 * there burnt a core for nothing (the plug-in's CPU time +70 %).
 */
#define RP_WRITER_SPIN_NS     500000
#define RP_WRITER_BUSY_GAP_NS 50000
#define RP_WRITER_SPIN_GAPS   8

typedef struct rp_job {
    rp_write_fn fn;
    void *ctx;
    void *buf;
    size_t size, len;
    unsigned *pending;
} rp_job;

/* Spare buffers of one size, linked through their first bytes. */
typedef struct rp_spares {
    size_t size;
    void *head;
} rp_spares;

struct rp_writer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work; /* the thread waits here for jobs */
    pthread_cond_t room; /* submitters wait here for room in the queue */
    pthread_cond_t done; /* rp_writer_wait waits here for its jobs */
    /* under mu: */
    rp_job ring[RP_WRITER_JOBS];
    uint64_t head, tail; /* next job to run, next free slot */
    size_t queued_bytes, max_bytes, wake_bytes;
    uint64_t last_submit_ns; /* when the last job came */
    uint64_t gap_ns;         /* moving average of the time between jobs */
    unsigned room_waiters, done_waiters;
    bool sleeping, quit;
    bool running; /* the thread runs the job at head (head moves on after it) */
    rp_spares spares[RP_WRITER_CLASSES];
    unsigned nspares;
};

static rp_spares *spares_for(rp_writer *w, size_t size)
{
    for (unsigned i = 0; i < w->nspares; i++) {
        if (w->spares[i].size == size)
            return &w->spares[i];
    }
    if (w->nspares == RP_WRITER_CLASSES)
        return NULL;
    w->spares[w->nspares].size = size;
    w->spares[w->nspares].head = NULL;
    return &w->spares[w->nspares++];
}

static void *spare_pop(rp_writer *w, size_t size)
{
    rp_spares *c = spares_for(w, size);
    void *p;

    if (c == NULL || c->head == NULL)
        return rp_hugepool_alloc_buffer(size);
    p = c->head;
    c->head = *(void **)p;
    return p;
}

static void spare_push(rp_writer *w, void *p, size_t size)
{
    rp_spares *c = spares_for(w, size);

    if (c == NULL) {
        rp_hugepool_free(p, size);
        return;
    }
    *(void **)p = c->head;
    c->head = p;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Waits up to `spin_ns` for a job without sleeping; true if one came. */
static bool spin_for_job(rp_writer *w, uint64_t head, uint64_t spin_ns)
{
    uint64_t end = now_ns() + spin_ns;

    for (unsigned i = 1;; i++) {
        if (__atomic_load_n(&w->tail, __ATOMIC_RELAXED) != head)
            return true;
        cpu_relax();
        if (i % 64 == 0 && now_ns() >= end)
            return false;
    }
}

/* Waits up to SPIN_NS for *pending to reach zero without sleeping. */
static bool spin_for_jobs_done(const unsigned *pending)
{
    uint64_t end = now_ns() + RP_WRITER_SPIN_NS;

    for (unsigned i = 1;; i++) {
        if (__atomic_load_n(pending, __ATOMIC_ACQUIRE) == 0)
            return true;
        cpu_relax();
        if (i % 64 == 0 && now_ns() >= end)
            return false;
    }
}

/* Accounts for job `j` having run (under mu) and tells whoever waits. */
static void job_done(rp_writer *w, const rp_job *j)
{
    w->queued_bytes -= j->size;
    __atomic_sub_fetch(j->pending, 1, __ATOMIC_RELEASE); /* rp_writer_wait spins on it */
    if (j->buf != NULL)
        spare_push(w, j->buf, j->size);
    /* A full queue is let drain to half before its submitters go on:
     * waking them per job would switch threads per job. */
    if (w->room_waiters > 0 &&
        (w->queued_bytes <= w->max_bytes / 2 && w->tail - w->head <= RP_WRITER_JOBS / 2))
        pthread_cond_broadcast(&w->room);
    if (w->done_waiters > 0)
        pthread_cond_broadcast(&w->done);
}

/* Added to a file's pending counter while another thread runs its job. */
#define RP_WRITER_STOLEN (1u << 30)

/*
 * A submitter that would wait (the queue full, or its own jobs not run
 * yet) runs the newest queued job itself instead, if that job's file has
 * no other job queued or running (its pending counter is 1): a file's
 * jobs still run in order, one at a time. The writer thread takes jobs
 * from the other end. At the end of a run, when every recording's last
 * buffer and finalisation are queued at once and the reading thread
 * would only wait, both threads work (2 M x 10 000 streams: the writer
 * alone took the last 0.12-0.15 s). Under mu, which it releases while
 * the job runs; true if it ran one.
 */
static bool steal_one(rp_writer *w)
{
    if (w->tail - w->head <= (w->running ? 1u : 0u))
        return false;
    rp_job j = w->ring[(w->tail - 1) % RP_WRITER_JOBS];
    if (__atomic_load_n(j.pending, __ATOMIC_RELAXED) != 1)
        return false;
    __atomic_store_n(&w->tail, w->tail - 1, __ATOMIC_RELAXED); /* spin_for_job reads it */
    /* The file's next job, queued meanwhile, must wait for this one. */
    __atomic_add_fetch(j.pending, RP_WRITER_STOLEN, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&w->mu);
    j.fn(j.ctx, j.buf, j.len);
    pthread_mutex_lock(&w->mu);
    __atomic_sub_fetch(j.pending, RP_WRITER_STOLEN, __ATOMIC_RELAXED);
    job_done(w, &j);
    return true;
}

static void *writer_main(void *arg)
{
    rp_writer *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        if (w->head == w->tail && !w->quit && w->gap_ns < RP_WRITER_BUSY_GAP_NS) {
            uint64_t head = w->head;
            uint64_t spin = w->gap_ns * RP_WRITER_SPIN_GAPS;
            pthread_mutex_unlock(&w->mu);
            spin_for_job(w, head, spin < RP_WRITER_SPIN_NS ? spin : RP_WRITER_SPIN_NS);
            pthread_mutex_lock(&w->mu);
        }
        while (w->head == w->tail && !w->quit) {
            w->sleeping = true;
            pthread_cond_wait(&w->work, &w->mu);
            w->sleeping = false;
        }
        if (w->head == w->tail)
            break; /* quit, and nothing left to run */
        rp_job j = w->ring[w->head % RP_WRITER_JOBS];
        w->running = true; /* the head job is ours: no submitter takes it now */
        while (__atomic_load_n(j.pending, __ATOMIC_RELAXED) & RP_WRITER_STOLEN) {
            /* The file's previous job runs in a submitter (steal_one). */
            w->done_waiters++;
            pthread_cond_wait(&w->done, &w->mu);
            w->done_waiters--;
        }
        pthread_mutex_unlock(&w->mu);
        j.fn(j.ctx, j.buf, j.len);
        pthread_mutex_lock(&w->mu);
        w->running = false;
        w->head++;
        job_done(w, &j);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

rp_writer *rp_writer_new(size_t max_bytes)
{
    rp_writer *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return NULL;
    w->max_bytes = max_bytes;
    w->wake_bytes = max_bytes / RP_WRITER_WAKE_SHARE;
    w->gap_ns = 4 * RP_WRITER_BUSY_GAP_NS; /* not busy until jobs come fast */
    if (pthread_mutex_init(&w->mu, NULL) != 0)
        goto fail_mu;
    if (pthread_cond_init(&w->work, NULL) != 0)
        goto fail_work;
    if (pthread_cond_init(&w->done, NULL) != 0)
        goto fail_done;
    if (pthread_cond_init(&w->room, NULL) != 0)
        goto fail_room;
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
        goto fail_thread;
    pthread_setname_np(w->thread, "rtpproc-writer");
    return w;

fail_thread:
    pthread_cond_destroy(&w->room);
fail_room:
    pthread_cond_destroy(&w->done);
fail_done:
    pthread_cond_destroy(&w->work);
fail_work:
    pthread_mutex_destroy(&w->mu);
fail_mu:
    free(w);
    return NULL;
}

void rp_writer_free(rp_writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    for (unsigned i = 0; i < w->nspares; i++) {
        void *p = w->spares[i].head;
        while (p != NULL) {
            void *next = *(void **)p;
            rp_hugepool_free(p, w->spares[i].size);
            p = next;
        }
    }
    pthread_cond_destroy(&w->room);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* Waits, under mu, until a job of `size` bytes may be queued. */
static void wait_for_room(rp_writer *w, size_t size)
{
    /* A job larger than max_bytes still runs, alone. */
    while (w->tail - w->head == RP_WRITER_JOBS ||
           (size > 0 && w->queued_bytes > 0 && w->queued_bytes + size > w->max_bytes)) {
        if (steal_one(w))
            continue;
        if (w->sleeping)
            pthread_cond_signal(&w->work);
        w->room_waiters++;
        pthread_cond_wait(&w->room, &w->mu);
        w->room_waiters--;
    }
}

/* Queues `j` (under mu, room checked) and wakes a sleeping writer once
 * enough is queued. */
static void enqueue(rp_writer *w, rp_job j)
{
    uint64_t now = now_ns();
    uint64_t gap = now - w->last_submit_ns;

    w->last_submit_ns = now;
    w->gap_ns =
        gap > w->gap_ns ? w->gap_ns + (gap - w->gap_ns) / 8 : w->gap_ns - (w->gap_ns - gap) / 8;
    w->ring[w->tail % RP_WRITER_JOBS] = j;
    __atomic_store_n(&w->tail, w->tail + 1, __ATOMIC_RELAXED); /* spin_for_job reads it */
    w->queued_bytes += j.size;
    __atomic_add_fetch(j.pending, 1, __ATOMIC_RELAXED);
    if (w->sleeping &&
        (w->queued_bytes >= w->wake_bytes || w->tail - w->head >= RP_WRITER_JOBS / 2))
        pthread_cond_signal(&w->work);
}

void *rp_writer_spare(rp_writer *w, size_t size)
{
    pthread_mutex_lock(&w->mu);
    void *spare = spare_pop(w, size);
    pthread_mutex_unlock(&w->mu);
    return spare;
}

void rp_writer_queue(rp_writer *w, rp_write_fn fn, void *ctx, void *buf, size_t size, size_t len,
                     unsigned *pending)
{
    pthread_mutex_lock(&w->mu);
    wait_for_room(w, size);
    enqueue(w, (rp_job){fn, ctx, buf, size, len, pending});
    pthread_mutex_unlock(&w->mu);
}

void rp_writer_call(rp_writer *w, rp_write_fn fn, void *ctx, unsigned *pending)
{
    rp_writer_queue(w, fn, ctx, NULL, 0, 0, pending);
}

void rp_writer_wait(rp_writer *w, const unsigned *pending)
{
    /*
     * A running writer finishes a file's last buffer in microseconds; a
     * sleep here would cost a wake-up (about 1 ms on this VM) per file
     * closed, at the end of a run thousands of them. A sleeping writer is
     * woken first.
     */
    if (__atomic_load_n(pending, __ATOMIC_ACQUIRE) == 0)
        return;
    pthread_mutex_lock(&w->mu);
    while (__atomic_load_n(pending, __ATOMIC_ACQUIRE) > 0 && steal_one(w))
        ;
    if (w->sleeping)
        pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    if (spin_for_jobs_done(pending))
        return;
    pthread_mutex_lock(&w->mu);
    while (__atomic_load_n(pending, __ATOMIC_ACQUIRE) > 0) {
        if (steal_one(w))
            continue;
        if (w->sleeping)
            pthread_cond_signal(&w->work);
        w->done_waiters++;
        pthread_cond_wait(&w->done, &w->mu);
        w->done_waiters--;
    }
    pthread_mutex_unlock(&w->mu);
}
