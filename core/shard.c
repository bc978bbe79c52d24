/*
 * rtpproc - the engine on several threads (contract in shard.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "rtpproc/rtp.h"
#include "sdp.h"
#include "shard.h"

#define RP_SHARD_OPS     1024         /* operations per batch */
#define RP_SHARD_ARENA   (256 * 1024) /* payload bytes per batch */
#define RP_SHARD_BATCHES 4            /* batches per worker: bounds memory and lag */

enum rp_op_kind { OP_FEED, OP_SDP, OP_PT, OP_EPOCH, OP_TICK };

/* One operation for a sub-engine; bytes (payload, name) in the arena. */
typedef struct rp_op {
    enum rp_op_kind kind;
    uint64_t order;     /* OP_FEED */
    rtpproc_datagram d; /* OP_FEED: d.payload is set when the batch runs */
    size_t off, len;    /* bytes in the arena */
    rtpproc_time_ns t;  /* OP_EPOCH, OP_TICK */
    rtpproc_addr addr;  /* OP_PT */
    uint16_t port;      /* OP_PT */
    unsigned pt, channels, fmtp;
    uint32_t rate;
} rp_op;

typedef struct rp_batch {
    struct rp_batch *next;
    unsigned n;
    size_t used, cap;
    uint8_t *arena;
    rp_op ops[RP_SHARD_OPS];
} rp_batch;

typedef struct rp_worker {
    rp_shards *pool;
    rtpproc_engine *e;
    pthread_t thread;
    bool started;
    bool conds;             /* work and done_cv initialised */
    pthread_cond_t work;    /* the worker waits here for batches */
    pthread_cond_t done_cv; /* the producer waits here for a free batch or completion */
    /* under mu: */
    rp_batch *head, *tail; /* submitted, not yet run */
    rp_batch *free;        /* run, reusable */
    unsigned nbatches;     /* allocated */
    uint64_t submitted, done;
    bool quit;
    /* producer only: */
    rp_batch *cur;
} rp_worker;

struct rp_shards {
    unsigned n;
    rp_worker *w;
    pthread_mutex_t mu; /* the workers' queues, errors, sink opening */
    bool have_error;    /* set once, under mu; read without it (atomic) */
    int error_status;
    char error[512];
    rtpproc_sink_open_fn open; /* the caller's, called under mu */
    void *open_userdata;
    bool ssrc_filter_set;
    uint32_t ssrc_filter;
    bool learn_sdp;
    bool have_epoch;
    GArray *merged;      /* rtpproc_stream_summary, in validation order */
    unsigned index_base; /* summaries released so far */
};

/* Sub-engines open recordings one at a time: the recorder factory keeps
 * the names handed out in one table. */
static rtpproc_sink *locked_open(void *userdata, const rtpproc_sink_info *info,
                                 const rtpproc_sink_format *fmt, int *status, char *errbuf,
                                 size_t errlen)
{
    rp_shards *p = userdata;
    pthread_mutex_lock(&p->mu);
    rtpproc_sink *s = p->open(p->open_userdata, info, fmt, status, errbuf, errlen);
    pthread_mutex_unlock(&p->mu);
    return s;
}

static void record_error(rp_shards *p, int status, const char *msg)
{
    pthread_mutex_lock(&p->mu);
    if (!p->have_error) {
        p->error_status = status;
        snprintf(p->error, sizeof(p->error), "%s", msg);
        __atomic_store_n(&p->have_error, true, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&p->mu);
}

static void run_op(rp_worker *w, rp_batch *b, rp_op *op)
{
    rtpproc_engine *e = w->e;
    int rc = 0;

    switch (op->kind) {
    case OP_FEED: /* fed in runs by run_batch */
        break;
    case OP_SDP:
        rtpproc_engine_learn_sdp(e, b->arena + op->off, op->len);
        break;
    case OP_PT:
        rtpproc_engine_learn_pt(e, &op->addr, op->port, op->pt, (const char *)b->arena + op->off,
                                op->rate, op->channels, op->fmtp);
        break;
    case OP_EPOCH:
        rtpproc_engine_set_epoch(e, op->t);
        break;
    case OP_TICK:
        rc = rtpproc_engine_tick(e, op->t);
        break;
    }
    if (rc < 0)
        record_error(w->pool, rc, rtpproc_engine_error(e));
}

/*
 * Runs a batch's operations in order. Consecutive datagrams are fed as one
 * run, with the look-ahead of the single-threaded feed (the next
 * datagrams' table slots, streams and buffers fetched while one is fed):
 * fed one at a time, --threads 2 took 2.16 s of user time on 2 M datagrams
 * of 10 000 streams, 1.28 s fed in runs. A failed datagram is recorded and
 * the run goes on after it, as it did one datagram at a time.
 */
static void run_batch(rp_worker *w, rp_batch *b)
{
    unsigned i = 0;

    while (i < b->n) {
        if (b->ops[i].kind != OP_FEED) {
            run_op(w, b, &b->ops[i]);
            i++;
            continue;
        }
        unsigned end = i;
        for (; end < b->n && b->ops[end].kind == OP_FEED; end++)
            b->ops[end].d.payload = b->arena + b->ops[end].off;
        while (i < end) {
            size_t done;
            int rc = rp_engine_feed_run(w->e, &b->ops[i].d, &b->ops[i].order, sizeof(rp_op),
                                        end - i, NULL, &done);
            if (rc >= 0)
                break;
            record_error(w->pool, rc, rtpproc_engine_error(w->e));
            i += (unsigned)done + 1;
        }
        i = end;
    }
}

static void *worker_main(void *arg)
{
    rp_worker *w = arg;
    rp_shards *p = w->pool;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (w->head == NULL && !w->quit)
            pthread_cond_wait(&w->work, &p->mu);
        if (w->head == NULL)
            break;
        rp_batch *b = w->head;
        w->head = b->next;
        if (w->head == NULL)
            w->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        run_batch(w, b);
        b->n = 0;
        b->used = 0;
        pthread_mutex_lock(&p->mu);
        b->next = w->free;
        w->free = b;
        w->done++;
        pthread_cond_signal(&w->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static rp_batch *batch_new(void)
{
    rp_batch *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    b->arena = malloc(RP_SHARD_ARENA);
    if (b->arena == NULL) {
        free(b);
        return NULL;
    }
    b->cap = RP_SHARD_ARENA;
    return b;
}

static void batch_free_list(rp_batch *b)
{
    while (b != NULL) {
        rp_batch *next = b->next;
        free(b->arena);
        free(b);
        b = next;
    }
}

/* Hands the batch being filled to the worker. */
static void submit(rp_shards *p, rp_worker *w)
{
    rp_batch *b = w->cur;
    if (b == NULL || b->n == 0)
        return;
    w->cur = NULL;
    pthread_mutex_lock(&p->mu);
    b->next = NULL;
    if (w->tail != NULL)
        w->tail->next = b;
    else
        w->head = b;
    w->tail = b;
    w->submitted++;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&p->mu);
}

/* A batch with room for one operation and `bytes` of arena, or NULL when
 * memory runs out. Waits for the worker when all its batches are queued. */
static rp_batch *room(rp_shards *p, rp_worker *w, size_t bytes)
{
    rp_batch *b = w->cur;
    if (b != NULL && b->n < RP_SHARD_OPS && b->cap - b->used >= bytes)
        return b;
    submit(p, w);
    pthread_mutex_lock(&p->mu);
    while (w->free == NULL && w->nbatches >= RP_SHARD_BATCHES)
        pthread_cond_wait(&w->done_cv, &p->mu);
    b = w->free;
    if (b != NULL)
        w->free = b->next;
    else
        w->nbatches++;
    pthread_mutex_unlock(&p->mu);
    if (b == NULL && (b = batch_new()) == NULL) {
        pthread_mutex_lock(&p->mu);
        w->nbatches--;
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    if (bytes > b->cap) {
        /* A datagram larger than the arena (reassembled, up to 64 KiB). */
        uint8_t *a = realloc(b->arena, bytes);
        if (a == NULL) {
            b->next = w->free;
            w->free = b;
            return NULL;
        }
        b->arena = a;
        b->cap = bytes;
    }
    w->cur = b;
    return b;
}

/* Appends an operation with `len` bytes copied from `bytes`. */
static rp_op *push(rp_shards *p, rp_worker *w, enum rp_op_kind kind, const void *bytes, size_t len)
{
    rp_batch *b = room(p, w, len);
    if (b == NULL) {
        record_error(p, RTPPROC_ENOMEM, "out of memory");
        return NULL;
    }
    rp_op *op = &b->ops[b->n++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    op->off = b->used;
    op->len = len;
    if (len > 0)
        memcpy(b->arena + b->used, bytes, len);
    b->used += len;
    return op;
}

/* Submits everything and waits until every worker has run it. */
static void sync_all(rp_shards *p)
{
    for (unsigned i = 0; i < p->n; i++)
        submit(p, &p->w[i]);
    pthread_mutex_lock(&p->mu);
    for (unsigned i = 0; i < p->n; i++) {
        while (p->w[i].done != p->w[i].submitted)
            pthread_cond_wait(&p->w[i].done_cv, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
}

rp_shards *rp_shards_new(const rtpproc_engine_config *cfg, unsigned n)
{
    rp_shards *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->n = n;
    p->w = calloc(n, sizeof(*p->w));
    p->merged = g_array_new(FALSE, TRUE, sizeof(rtpproc_stream_summary));
    pthread_mutex_init(&p->mu, NULL);
    p->open = cfg->sink_open;
    p->open_userdata = cfg->sink_userdata;
    p->ssrc_filter_set = cfg->ssrc_filter_set;
    p->ssrc_filter = cfg->ssrc_filter;
    p->learn_sdp = cfg->learn_sdp;
    if (p->w == NULL) {
        rp_shards_free(p);
        return NULL;
    }
    rtpproc_engine_config sub = *cfg;
    sub.threads = 0;
    if (sub.sink_open != NULL) {
        sub.sink_open = locked_open;
        sub.sink_userdata = p;
    }
    /* The stream bound is shared out; each sub-engine keeps the whole
     * probation pool, so that which candidates are evicted does not depend
     * on how the sources fall on the shards. */
    sub.max_streams = (cfg->max_streams + n - 1) / n;
    for (unsigned i = 0; i < n; i++) {
        rp_worker *w = &p->w[i];
        w->pool = p;
        pthread_cond_init(&w->work, NULL);
        pthread_cond_init(&w->done_cv, NULL);
        w->conds = true;
        w->e = rtpproc_engine_new(&sub);
        if (w->e == NULL || pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            rp_shards_free(p);
            return NULL;
        }
        w->started = true;
    }
    return p;
}

void rp_shards_free(rp_shards *p)
{
    if (p == NULL)
        return;
    if (p->w != NULL) {
        pthread_mutex_lock(&p->mu);
        for (unsigned i = 0; i < p->n; i++) {
            p->w[i].quit = true;
            if (p->w[i].conds)
                pthread_cond_signal(&p->w[i].work);
        }
        pthread_mutex_unlock(&p->mu);
        for (unsigned i = 0; i < p->n; i++) {
            rp_worker *w = &p->w[i];
            if (w->started)
                pthread_join(w->thread, NULL);
            batch_free_list(w->head);
            batch_free_list(w->free);
            batch_free_list(w->cur);
            rtpproc_engine_free(w->e);
            if (w->conds) {
                pthread_cond_destroy(&w->work);
                pthread_cond_destroy(&w->done_cv);
            }
        }
    }
    free(p->w);
    g_array_free(p->merged, TRUE);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* The worker of a 5-tuple: FNV-1a over its address bytes and ports. */
static rp_worker *shard_of(rp_shards *p, const rtpproc_flow *f)
{
    uint32_t h = 2166136261u;
    const rtpproc_addr *a[2] = {&f->src, &f->dst};
    for (unsigned k = 0; k < 2; k++) {
        size_t len = a[k]->family == 6 ? 16 : 4;
        for (size_t i = 0; i < len; i++) {
            h ^= a[k]->bytes[i];
            h *= 16777619u;
        }
    }
    uint16_t ports[2] = {f->sport, f->dport};
    for (unsigned k = 0; k < 2; k++) {
        h ^= ports[k] & 0xff;
        h *= 16777619u;
        h ^= ports[k] >> 8;
        h *= 16777619u;
    }
    return &p->w[h % p->n];
}

int rp_shards_feed(rp_shards *p, const rtpproc_datagram *d, uint64_t order)
{
    rtpproc_rtp_hdr h;
    int verdict;
    rp_worker *w;

    if (!p->have_epoch)
        rp_shards_set_epoch(p, d->ts);
    switch (rtpproc_rtp_parse(d->payload, d->caplen, d->len, &h)) {
    case RTPPROC_PARSE_OK:
        verdict =
            p->ssrc_filter_set && h.ssrc != p->ssrc_filter ? RTPPROC_PKT_FILTERED : RTPPROC_PKT_RTP;
        w = shard_of(p, &d->flow);
        break;
    case RTPPROC_PARSE_TRUNCATED:
        verdict = RTPPROC_PKT_TRUNCATED;
        w = shard_of(p, &d->flow);
        break;
    case RTPPROC_PARSE_INVALID:
        verdict = RTPPROC_PKT_INVALID;
        w = shard_of(p, &d->flow);
        break;
    default:
        /* Counted once (worker 0); SIP/SDP in it is learned by all. */
        verdict = RTPPROC_PKT_NOT_RTP;
        w = &p->w[0];
        if (p->learn_sdp && d->caplen == d->len && rp_sip_detect(d->payload, d->caplen)) {
            for (unsigned i = 1; i < p->n; i++)
                push(p, &p->w[i], OP_SDP, d->payload, d->caplen);
        }
        break;
    }
    rp_op *op = push(p, w, OP_FEED, d->payload, d->caplen);
    if (op == NULL)
        return RTPPROC_ENOMEM;
    op->order = order;
    op->d = *d;
    op->d.payload = NULL;
    /* A write error in a worker stops the caller at its next datagram. */
    if (__atomic_load_n(&p->have_error, __ATOMIC_ACQUIRE))
        return p->error_status;
    return verdict;
}

void rp_shards_set_epoch(rp_shards *p, rtpproc_time_ns t)
{
    if (p->have_epoch)
        return;
    p->have_epoch = true;
    for (unsigned i = 0; i < p->n; i++) {
        rp_op *op = push(p, &p->w[i], OP_EPOCH, NULL, 0);
        if (op != NULL)
            op->t = t;
    }
}

void rp_shards_learn_sdp(rp_shards *p, const uint8_t *msg, size_t len)
{
    for (unsigned i = 0; i < p->n; i++)
        push(p, &p->w[i], OP_SDP, msg, len);
}

void rp_shards_learn_pt(rp_shards *p, const rtpproc_addr *addr, uint16_t port, unsigned pt,
                        const char *name, uint32_t rate, unsigned channels, unsigned fmtp)
{
    for (unsigned i = 0; i < p->n; i++) {
        rp_op *op = push(p, &p->w[i], OP_PT, name, strlen(name) + 1);
        if (op == NULL)
            continue;
        op->addr = *addr;
        op->port = port;
        op->pt = pt;
        op->rate = rate;
        op->channels = channels;
        op->fmtp = fmtp;
    }
}

static int first_error(rp_shards *p)
{
    return __atomic_load_n(&p->have_error, __ATOMIC_ACQUIRE) ? p->error_status : 0;
}

int rp_shards_tick(rp_shards *p, rtpproc_time_ns now)
{
    /* Live housekeeping: what is batched is handed over too, so that the
     * workers are never more than a tick behind. */
    for (unsigned i = 0; i < p->n; i++) {
        rp_op *op = push(p, &p->w[i], OP_TICK, NULL, 0);
        if (op != NULL)
            op->t = now;
        submit(p, &p->w[i]);
    }
    return first_error(p);
}

/* Runs `fn` on every sub-engine, idle after sync_all(): the caller's thread
 * may use them until it submits again (the queue lock orders the memory).
 * Returns the first error, a worker's included. */
static int each_engine(rp_shards *p, int (*fn)(rtpproc_engine *))
{
    sync_all(p);
    int rc = first_error(p);
    for (unsigned i = 0; i < p->n; i++) {
        int r = fn(p->w[i].e);
        if (r < 0 && rc == 0) {
            record_error(p, r, rtpproc_engine_error(p->w[i].e));
            rc = r;
        }
    }
    return rc;
}

int rp_shards_flush(rp_shards *p)
{
    return each_engine(p, rtpproc_engine_flush);
}

int rp_shards_finish(rp_shards *p)
{
    return each_engine(p, rtpproc_engine_finish);
}

const char *rp_shards_error(const rp_shards *p)
{
    return __atomic_load_n(&p->have_error, __ATOMIC_ACQUIRE) ? p->error : "";
}

void rp_shards_counters(rp_shards *p, rtpproc_engine_counters *out)
{
    sync_all(p);
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < p->n; i++) {
        const rtpproc_engine_counters *c = rtpproc_engine_counters_get(p->w[i].e);
        out->datagrams += c->datagrams;
        out->rtp += c->rtp;
        out->not_rtp += c->not_rtp;
        out->truncated += c->truncated;
        out->payload_truncated += c->payload_truncated;
        out->invalid += c->invalid;
        out->filtered += c->filtered;
        out->dropped_limit += c->dropped_limit;
        out->probation_evicted += c->probation_evicted;
        out->probation_expired += c->probation_expired;
        out->probation_peak += c->probation_peak;
        out->probation_discarded += c->probation_discarded;
        out->streams += c->streams;
        out->sdp_bindings =
            c->sdp_bindings > out->sdp_bindings ? c->sdp_bindings : out->sdp_bindings;
    }
}

size_t rp_shards_open_streams(rp_shards *p)
{
    sync_all(p);
    size_t n = 0;
    for (unsigned i = 0; i < p->n; i++)
        n += rtpproc_engine_open_streams(p->w[i].e);
    return n;
}

static gint by_validation(gconstpointer a, gconstpointer b)
{
    const rtpproc_stream_summary *x = a, *y = b;
    return x->validated_at < y->validated_at ? -1 : x->validated_at > y->validated_at;
}

const rtpproc_stream_summary *rp_shards_summaries(rp_shards *p, size_t *n)
{
    sync_all(p);
    g_array_set_size(p->merged, 0);
    for (unsigned i = 0; i < p->n; i++) {
        size_t k = 0;
        const rtpproc_stream_summary *s = rtpproc_engine_summaries(p->w[i].e, &k);
        g_array_append_vals(p->merged, s, (guint)k);
    }
    g_array_sort(p->merged, by_validation);
    rtpproc_stream_summary *m = (rtpproc_stream_summary *)(void *)p->merged->data;
    for (guint i = 0; i < p->merged->len; i++)
        m[i].index = p->index_base + i;
    *n = p->merged->len;
    return m;
}

void rp_shards_release_summaries(rp_shards *p)
{
    size_t n = 0;
    rp_shards_summaries(p, &n);
    p->index_base += (unsigned)n;
    g_array_set_size(p->merged, 0);
    for (unsigned i = 0; i < p->n; i++)
        rtpproc_engine_release_summaries(p->w[i].e);
}
