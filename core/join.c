/*
 * rtpproc - joined recordings for --per-direction (contract in join.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "join.h"

/* One shared recording. */
typedef struct rp_join_file {
    rtpproc_flow flow; /* key: zero-filled as the engine's stream keys */
    rtpproc_sink *sink;
    rtpproc_time_ns start; /* arrival of frame 0 */
    uint64_t frames;       /* frames appended to the recording */
    unsigned refs;         /* open handles */
    int error;             /* first write error: every handle reports it */
    rp_joins *table;
} rp_join_file;

struct rp_joins {
    GHashTable *files; /* rtpproc_flow* -> rp_join_file*, keys inside the files */
};

/* One stream's view of a shared recording. */
typedef struct rp_join_handle {
    rtpproc_sink base; /* base.frames: the stream's own frames */
    rp_join_file *file;
    uint64_t offset;  /* recording frame of the stream's frame 0 */
    uint64_t overlap; /* frames dropped: the recording held audio there */
} rp_join_handle;

static guint flow_hash(gconstpointer p)
{
    /* FNV-1a over the zero-filled flow bytes. */
    const uint8_t *b = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < sizeof(rtpproc_flow); i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

static gboolean flow_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(rtpproc_flow)) == 0;
}

rp_joins *rp_joins_new(void)
{
    rp_joins *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return NULL;
    j->files = g_hash_table_new(flow_hash, flow_equal);
    return j;
}

void rp_joins_free(rp_joins *j)
{
    if (j == NULL)
        return;
    g_hash_table_destroy(j->files);
    free(j);
}

/*
 * Brings the recording to the handle's position before `n` frames are
 * written: silence up to it, or, when the recording is already past it,
 * the number of leading frames to drop. Returns 0 or a negative status.
 */
static int seek(rp_join_handle *h, size_t n, size_t *skip)
{
    rp_join_file *f = h->file;
    uint64_t at = h->offset + h->base.frames;

    *skip = 0;
    if (f->error < 0)
        return f->error;
    if (at > f->frames) {
        int rc = f->sink->ops->write_silence(f->sink, at - f->frames);
        if (rc < 0)
            return f->error = rc;
        f->frames = at;
    } else if (at < f->frames) {
        uint64_t behind = f->frames - at;
        *skip = behind < n ? (size_t)behind : n;
        h->overlap += *skip;
    }
    return 0;
}

/* Writes `n` frames of audio (16-bit PCM, or native G.711 bytes) at the
 * handle's position, minus the head the recording already holds. */
static int write_audio(rp_join_handle *h, const int16_t *pcm, enum rtpproc_native law,
                       const uint8_t *native, size_t n)
{
    size_t skip;
    int rc = seek(h, n, &skip);
    if (rc < 0)
        return rc;
    rtpproc_sink *out = h->file->sink;
    size_t at = skip * out->fmt.channels;
    if (skip < n)
        rc = pcm != NULL ? out->ops->write_pcm(out, pcm + at, n - skip)
                         : out->ops->write_native(out, law, native + at, n - skip);
    h->base.frames += n;
    if (rc < 0)
        return h->file->error = rc;
    h->file->frames += n - skip;
    return 0;
}

static int jh_write_pcm(rtpproc_sink *s, const int16_t *frames, size_t n)
{
    return write_audio((rp_join_handle *)s, frames, RTPPROC_NATIVE_NONE, NULL, n);
}

static int jh_write_native(rtpproc_sink *s, enum rtpproc_native law, const uint8_t *bytes, size_t n)
{
    return write_audio((rp_join_handle *)s, NULL, law, bytes, n);
}

static int jh_write_silence(rtpproc_sink *s, uint64_t n)
{
    rp_join_handle *h = (rp_join_handle *)s;
    rp_join_file *f = h->file;

    /* Silence goes only where the recording has nothing yet: it never
     * overwrites, and is never counted as overlap. */
    if (f->error < 0)
        return f->error;
    h->base.frames += n;
    uint64_t end = h->offset + h->base.frames;
    if (end > f->frames) {
        int rc = f->sink->ops->write_silence(f->sink, end - f->frames);
        if (rc < 0)
            return f->error = rc;
        f->frames = end;
    }
    return 0;
}

static int jh_flush(rtpproc_sink *s)
{
    rp_join_handle *h = (rp_join_handle *)s;
    if (h->file->error < 0)
        return h->file->error;
    int rc = h->file->sink->ops->flush(h->file->sink);
    return rc < 0 ? (h->file->error = rc) : 0;
}

static int jh_close(rtpproc_sink *s)
{
    rp_join_handle *h = (rp_join_handle *)s;
    rp_join_file *f = h->file;
    int rc = f->error < 0 ? f->error : 0;

    free(h->base.path);
    free(h);
    if (--f->refs > 0)
        return rc;
    g_hash_table_remove(f->table->files, &f->flow);
    int crc = f->sink->ops->close(f->sink);
    free(f);
    return rc < 0 ? rc : crc;
}

static const rtpproc_sink_ops join_ops = {
    .write_pcm = jh_write_pcm,
    .write_native = jh_write_native,
    .write_silence = jh_write_silence,
    .flush = jh_flush,
    .close = jh_close,
};

static bool same_format(const rtpproc_sink_format *a, const rtpproc_sink_format *b)
{
    return a->sample_rate == b->sample_rate && a->channels == b->channels &&
           a->encoding == b->encoding;
}

rtpproc_sink *rp_join_open(rp_joins *j, rtpproc_sink_open_fn open, void *userdata,
                           const rtpproc_sink_info *info, const rtpproc_sink_format *fmt,
                           int *status, char *errbuf, size_t errlen, uint64_t *offset)
{
    rp_join_file *f = g_hash_table_lookup(j->files, info->flow);

    *offset = 0;
    if (f != NULL && (!same_format(&f->sink->fmt, fmt) || f->error < 0))
        return open(userdata, info, fmt, status, errbuf, errlen);

    rp_join_handle *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        *status = RTPPROC_ENOMEM;
        snprintf(errbuf, errlen, "cannot open a recording: out of memory");
        return NULL;
    }
    if (f == NULL) {
        f = calloc(1, sizeof(*f));
        rtpproc_sink *out = f != NULL ? open(userdata, info, fmt, status, errbuf, errlen) : NULL;
        if (out == NULL) {
            if (f == NULL) {
                *status = RTPPROC_ENOMEM;
                snprintf(errbuf, errlen, "cannot open a recording: out of memory");
            }
            free(f);
            free(h);
            return NULL;
        }
        f->flow = *info->flow;
        f->sink = out;
        f->start = info->start;
        f->table = j;
        g_hash_table_insert(j->files, &f->flow, f);
    } else if (info->start > f->start) {
        /* Arrival time places the stream; rounded to the nearest frame. */
        uint64_t ns = (uint64_t)(info->start - f->start);
        uint64_t sec = ns / RTPPROC_NS_PER_SEC, frac = ns % RTPPROC_NS_PER_SEC;
        *offset = sec * fmt->sample_rate +
                  (frac * fmt->sample_rate + RTPPROC_NS_PER_SEC / 2) / RTPPROC_NS_PER_SEC;
    }
    f->refs++;
    h->file = f;
    h->offset = *offset;
    h->base.ops = &join_ops;
    h->base.fmt = f->sink->fmt;
    h->base.path = f->sink->path != NULL ? strdup(f->sink->path) : NULL;
    return &h->base;
}

uint64_t rp_join_overlap(const rtpproc_sink *s)
{
    return s != NULL && s->ops == &join_ops ? ((const rp_join_handle *)s)->overlap : 0;
}
