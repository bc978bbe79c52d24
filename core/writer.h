/*
 * rtpproc - a background thread for the recorders' writes.
 *
 * Writing the recordings is about half of an extraction's time, almost
 * all of it in the kernel (copying into the page cache, allocating and
 * clearing its pages), and on a live probe a write that blocks on a slow
 * disk must not stall the capture loop. A recorder whose buffer is full
 * queues it here and goes on filling a spare buffer of the same size; the
 * writer thread runs the queued jobs in order.
 *
 * Ordering: the jobs given one `pending` counter (one file's) run one at
 * a time in submission order, so a file's writes reach it in the order
 * they were made. The writer thread runs the queue from its oldest job;
 * a submitter that would otherwise wait (the queue full, or in
 * rp_writer_wait) runs the newest job itself if its counter shows no
 * other job of that file queued or running, so jobs of different files
 * may run at the same time in different threads. A submitter counts its
 * queued jobs in that counter, which the thread that ran a job decrements
 * under the writer's lock; rp_writer_wait() returns once it is zero, and
 * only then may the submitter touch what its jobs use (the SNDFILE, for a
 * header update or close).
 *
 * Memory: at most `max_bytes` of buffers are queued at once (rp_writer_queue waits
 * for the writer beyond that); buffers that come back are kept, per size,
 * as spares for later submissions, so the buffers the writer holds never
 * exceed `max_bytes` plus one buffer per size. No allocation per job once
 * those exist.
 *
 * Thread-safety: any number of threads may submit (the --threads workers
 * share one writer); a given `pending` counter belongs to one submitting
 * thread at a time.
 */
#ifndef RP_WRITER_H
#define RP_WRITER_H

#include <stddef.h>

typedef struct rp_writer rp_writer;

/*
 * A job: writes `len` bytes of `buf` for `ctx`. Runs on the writer thread;
 * it reports a failure through `ctx` (the recorder keeps its first error).
 */
typedef void (*rp_write_fn)(void *ctx, const void *buf, size_t len);

/* Starts the writer thread. NULL if the thread or memory cannot be had. */
rp_writer *rp_writer_new(size_t max_bytes);

/* Runs every queued job, stops the thread and frees the spares. NULL is
 * ignored. */
void rp_writer_free(rp_writer *w);

/*
 * Queueing a buffer takes two calls, so that the caller can fill the
 * buffer it goes on with from the one it gives up (recorder.c carries the
 * frames after a page boundary over).
 *
 * rp_writer_spare() returns a buffer of `size` bytes (from
 * rp_hugepool_alloc_buffer(size), contents undefined): a spare that came
 * back from an earlier job, or a new one; NULL if none can be had, and
 * the caller then waits for its jobs (rp_writer_wait) and writes itself.
 *
 * rp_writer_queue() queues fn(ctx, buf, len); the writer owns `buf` (of
 * `size` bytes, `len` <= `size`) until it hands it out again as a spare.
 * Increments *pending. Waits while `max_bytes` are already queued; never
 * fails.
 */
void *rp_writer_spare(rp_writer *w, size_t size);
void rp_writer_queue(rp_writer *w, rp_write_fn fn, void *ctx, void *buf, size_t size, size_t len,
                     unsigned *pending);

/*
 * Queues fn(ctx, NULL, 0), a job without a buffer (a file's set-up), in
 * order with the others. Increments *pending. Waits while every job slot
 * is taken; never fails.
 */
void rp_writer_call(rp_writer *w, rp_write_fn fn, void *ctx, unsigned *pending);

/* Returns once *pending is zero: every job submitted with it has run. */
void rp_writer_wait(rp_writer *w, const unsigned *pending);

#endif
