/* The unit tests' capture sink (capsink.h). */
#include "capsink.h"

#include <stdint.h>
#include <stdlib.h>

/* spandsp's g711.h needs these two first. */
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

test_capsink *test_caps[TEST_MAX_CAPS];
unsigned test_ncaps;

static int put(test_capsink *c, const int16_t *v, size_t n)
{
    if (c->n + n > c->cap) {
        size_t cap = c->cap ? c->cap : 1024;
        while (cap < c->n + n)
            cap *= 2;
        int16_t *p = realloc(c->pcm, cap * sizeof(*p));
        if (p == NULL)
            return RTPPROC_ENOMEM;
        c->pcm = p;
        c->cap = cap;
    }
    for (size_t i = 0; i < n; i++)
        c->pcm[c->n++] = v != NULL ? v[i] : 0;
    return 0;
}

static int cap_write_pcm(rtpproc_sink *s, const int16_t *f, size_t n)
{
    if (put((test_capsink *)s, f, n * s->fmt.channels) < 0)
        return RTPPROC_ENOMEM;
    s->frames += n;
    return 0;
}

/* G.711 bytes, of either law whatever the sink's format: the sink keeps
 * int16 samples only, expanded by spandsp sample by sample. */
static int cap_write_native(rtpproc_sink *s, enum rtpproc_native law, const uint8_t *b, size_t n)
{
    test_capsink *c = (test_capsink *)s;
    size_t k = n * s->fmt.channels;

    if (law != RTPPROC_NATIVE_ALAW && law != RTPPROC_NATIVE_ULAW)
        return RTPPROC_EINVAL;
    int16_t *v = malloc((k ? k : 1) * sizeof(*v));
    if (v == NULL)
        return RTPPROC_ENOMEM;
    for (size_t i = 0; i < k; i++)
        v[i] = law == RTPPROC_NATIVE_ALAW ? alaw_to_linear(b[i]) : ulaw_to_linear(b[i]);
    int rc = put(c, v, k);
    free(v);
    if (rc < 0)
        return RTPPROC_ENOMEM;
    c->native_writes++;
    s->frames += n;
    return 0;
}

static int cap_write_silence(rtpproc_sink *s, uint64_t n)
{
    if (put((test_capsink *)s, NULL, (size_t)n * s->fmt.channels) < 0)
        return RTPPROC_ENOMEM;
    s->frames += n;
    return 0;
}

static int cap_flush(rtpproc_sink *s)
{
    (void)s;
    return 0;
}

static int cap_close(rtpproc_sink *s)
{
    ((test_capsink *)s)->closed = true; /* freed by test_capsink_reset() */
    return 0;
}

static const rtpproc_sink_ops cap_ops = {
    .write_pcm = cap_write_pcm,
    .write_native = cap_write_native,
    .write_silence = cap_write_silence,
    .flush = cap_flush,
    .close = cap_close,
};

rtpproc_sink *test_capsink_open(void *ud, const rtpproc_sink_info *info,
                                const rtpproc_sink_format *fmt, int *status, char *err, size_t len)
{
    (void)err;
    (void)len;
    test_capsink *c = test_ncaps < TEST_MAX_CAPS ? calloc(1, sizeof(*c)) : NULL;
    if (c == NULL) {
        *status = test_ncaps < TEST_MAX_CAPS ? RTPPROC_ENOMEM : RTPPROC_ELIMIT;
        return NULL;
    }
    c->base.ops = &cap_ops;
    c->base.fmt = *fmt;
    c->base.path = ud;
    c->pt = info->pt;
    test_caps[test_ncaps++] = c;
    return &c->base;
}

void test_capsink_reset(void)
{
    for (unsigned i = 0; i < test_ncaps; i++) {
        free(test_caps[i]->pcm);
        free(test_caps[i]);
    }
    test_ncaps = 0;
}
