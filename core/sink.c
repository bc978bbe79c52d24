/*
 * rtpproc - memory sink: keeps everything written in growing buffers so
 * tests can inspect the timeline the engine produced.
 */
#include "rtpproc/sink.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

typedef struct memsink {
    rtpproc_sink base;
    void *data;       /* int16_t[] for PCM, uint8_t[] for native */
    size_t nsamples;  /* samples stored (frames * channels) */
    size_t cap;       /* samples allocated */
    size_t elem_size; /* bytes per stored sample */
} memsink;

static const rtpproc_sink_ops memsink_ops;

/* Makes room for `more` samples; false on overflow or allocation failure. */
static bool reserve(memsink *m, size_t more)
{
    if (more > SIZE_MAX / m->elem_size - m->nsamples)
        return false;
    size_t need = m->nsamples + more;
    if (need <= m->cap)
        return true;
    size_t cap = m->cap != 0 ? m->cap : 1024;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 / m->elem_size ? need : cap * 2;
    void *p = realloc(m->data, cap * m->elem_size);
    if (p == NULL)
        return false;
    m->data = p;
    m->cap = cap;
    return true;
}

/* Samples in `nframes` frames, or false if that overflows size_t. */
static bool frames_to_samples(const memsink *m, uint64_t nframes, size_t *out)
{
    uint64_t ch = m->base.fmt.channels;
    if (nframes > SIZE_MAX / ch)
        return false;
    *out = (size_t)(nframes * ch);
    return true;
}

static uint8_t encode(enum rtpproc_native enc, int16_t v)
{
    return enc == RTPPROC_NATIVE_ALAW ? linear_to_alaw(v) : linear_to_ulaw(v);
}

static int memsink_write_pcm(rtpproc_sink *s, const int16_t *frames, size_t nframes)
{
    memsink *m = (memsink *)s;
    size_t n;

    if (!frames_to_samples(m, nframes, &n) || !reserve(m, n))
        return RTPPROC_ENOMEM;
    if (s->fmt.encoding == RTPPROC_NATIVE_NONE) {
        memcpy((int16_t *)m->data + m->nsamples, frames, n * sizeof(int16_t));
    } else {
        uint8_t *dst = (uint8_t *)m->data + m->nsamples;
        for (size_t i = 0; i < n; i++)
            dst[i] = encode(s->fmt.encoding, frames[i]);
    }
    m->nsamples += n;
    s->frames += nframes;
    return RTPPROC_OK;
}

/* A PCM memory sink expands the bytes sample by sample with spandsp's
 * own functions: a check, independent of the decoders' expansion, that
 * the engine passes the right bytes of the right law. */
static int memsink_write_native(rtpproc_sink *s, enum rtpproc_native law, const uint8_t *bytes,
                                size_t nframes)
{
    memsink *m = (memsink *)s;
    size_t n;

    if ((law != RTPPROC_NATIVE_ALAW && law != RTPPROC_NATIVE_ULAW) ||
        (s->fmt.encoding != RTPPROC_NATIVE_NONE && s->fmt.encoding != law))
        return RTPPROC_EINVAL;
    if (!frames_to_samples(m, nframes, &n) || !reserve(m, n))
        return RTPPROC_ENOMEM;
    if (s->fmt.encoding == RTPPROC_NATIVE_NONE) {
        int16_t *dst = (int16_t *)m->data + m->nsamples;
        for (size_t i = 0; i < n; i++)
            dst[i] =
                law == RTPPROC_NATIVE_ALAW ? alaw_to_linear(bytes[i]) : ulaw_to_linear(bytes[i]);
    } else {
        memcpy((uint8_t *)m->data + m->nsamples, bytes, n);
    }
    m->nsamples += n;
    s->frames += nframes;
    return RTPPROC_OK;
}

static int memsink_write_silence(rtpproc_sink *s, uint64_t nframes)
{
    memsink *m = (memsink *)s;
    size_t n;

    if (!frames_to_samples(m, nframes, &n) || !reserve(m, n))
        return RTPPROC_ENOMEM;
    if (s->fmt.encoding == RTPPROC_NATIVE_NONE)
        memset((int16_t *)m->data + m->nsamples, 0, n * sizeof(int16_t));
    else
        memset((uint8_t *)m->data + m->nsamples, encode(s->fmt.encoding, 0), n);
    m->nsamples += n;
    s->frames += nframes;
    return RTPPROC_OK;
}

static int memsink_flush(rtpproc_sink *s)
{
    (void)s;
    return RTPPROC_OK;
}

static int memsink_close(rtpproc_sink *s)
{
    memsink *m = (memsink *)s;

    if (m == NULL)
        return RTPPROC_OK;
    free(m->data);
    free(s->path);
    free(m);
    return RTPPROC_OK;
}

static const rtpproc_sink_ops memsink_ops = {
    .write_pcm = memsink_write_pcm,
    .write_native = memsink_write_native,
    .write_silence = memsink_write_silence,
    .flush = memsink_flush,
    .close = memsink_close,
};

rtpproc_sink *rtpproc_memsink_new(const rtpproc_sink_format *fmt)
{
    if (fmt == NULL || fmt->channels == 0)
        return NULL;
    if (fmt->encoding != RTPPROC_NATIVE_NONE && fmt->encoding != RTPPROC_NATIVE_ALAW &&
        fmt->encoding != RTPPROC_NATIVE_ULAW)
        return NULL;
    memsink *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->base.ops = &memsink_ops;
    m->base.fmt = *fmt;
    m->elem_size = fmt->encoding == RTPPROC_NATIVE_NONE ? sizeof(int16_t) : 1;
    return &m->base;
}

const int16_t *rtpproc_memsink_pcm(const rtpproc_sink *s, size_t *nsamples)
{
    *nsamples = 0;
    if (s == NULL || s->ops != &memsink_ops || s->fmt.encoding != RTPPROC_NATIVE_NONE)
        return NULL;
    const memsink *m = (const memsink *)s;
    *nsamples = m->nsamples;
    return m->data;
}

const uint8_t *rtpproc_memsink_native(const rtpproc_sink *s, size_t *nsamples)
{
    *nsamples = 0;
    if (s == NULL || s->ops != &memsink_ops || s->fmt.encoding == RTPPROC_NATIVE_NONE)
        return NULL;
    const memsink *m = (const memsink *)s;
    *nsamples = m->nsamples;
    return m->data;
}
