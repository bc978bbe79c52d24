/*
 * rtpproc - resampling sink on libsamplerate (contract in resample.h).
 *
 * Bookkeeping: in_total input frames accepted, out_total frames handed to
 * the wrapped sink. libsamplerate's sinc converters are time-aligned
 * (output frame k is input time k / ratio, no added delay) and, told that
 * the input has ended, have produced floor(n * ratio) frames for n in. So
 * out_total never passes target(in_total) = round(in_total * out / in)
 * while a segment runs, and the end of a segment (close, or a long
 * silence) pads with zeros up to it: since floor(a + 1/2) + floor(b) <=
 * floor(a + b + 1/2), the padding is never negative and the total is exact
 * however many segments there were. Every hand-over is still capped at
 * the target, so a floating-point floor one too high cannot add a frame.
 */
#include "rtpproc/resample.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <samplerate.h>

#define RS_IN_FRAMES  1024 /* input frames converted per call */
#define RS_OUT_FRAMES 4096 /* output frames the converter may produce per call */

/*
 * Zero input frames after which the converter's output no longer depends
 * on the input before them. SRC_SINC_MEDIUM_QUALITY's filter spans about
 * 20 input frames either side when upsampling and 20 / ratio when
 * downsampling (its cut-off follows the lower rate); 256 is a wide margin.
 */
#define RS_SETTLE_FRAMES 256

typedef struct resampler {
    rtpproc_sink base;   /* fmt: what the engine writes (the codec's rate) */
    rtpproc_sink *inner; /* at out_rate; owned */
    SRC_STATE *src;
    double ratio; /* out_rate / in_rate */
    uint32_t in_rate, out_rate;
    unsigned ch;
    uint64_t in_total;  /* input frames accepted, audio and silence */
    uint64_t out_total; /* frames handed to inner */
    uint64_t settle;    /* zero input frames that empty the filter */
    uint64_t long_gap;  /* silences of this many input frames skip the converter */
    bool fed;           /* the converter holds input since its last reset */
    float *fin;         /* RS_IN_FRAMES * ch */
    float *fout;        /* RS_OUT_FRAMES * ch */
    int16_t *pcm;       /* RS_OUT_FRAMES * ch */
    int error;          /* first error; every later write returns it */
} resampler;

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errbuf == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* round(n * out / in), half up, without overflow for any stream length. */
static uint64_t target(const resampler *r, uint64_t n)
{
    uint64_t in = r->in_rate, out = r->out_rate;
    return n / in * out + ((n % in) * out + in / 2) / in;
}

/* Hands `n` converted frames (in fout) to inner, never past the target. */
static int emit(resampler *r, size_t n)
{
    uint64_t want = target(r, r->in_total);
    uint64_t room = want > r->out_total ? want - r->out_total : 0;

    if (n > room)
        n = (size_t)room;
    if (n == 0)
        return RTPPROC_OK;
    /* Clips to the 16-bit range: a full-scale input may overshoot a little. */
    src_float_to_short_array(r->fout, r->pcm, (int)(n * r->ch));
    int rc = r->inner->ops->write_pcm(r->inner, r->pcm, n);
    if (rc < 0)
        return r->error = rc;
    r->out_total += n;
    return RTPPROC_OK;
}

/*
 * Converts the `nin` frames in fin (all of them: the converter buffers
 * what it cannot use yet) and emits the output. With `end`, also drains
 * the converter: the segment is over.
 */
static int convert(resampler *r, size_t nin, bool end)
{
    size_t off = 0;

    for (;;) {
        SRC_DATA d;
        memset(&d, 0, sizeof(d));
        d.data_in = r->fin + off * r->ch;
        d.input_frames = (long)(nin - off);
        d.data_out = r->fout;
        d.output_frames = RS_OUT_FRAMES;
        d.src_ratio = r->ratio;
        d.end_of_input = end;
        if (src_process(r->src, &d) != 0)
            return r->error = RTPPROC_EIO;
        off += (size_t)d.input_frames_used;
        if (d.output_frames_gen > 0 && emit(r, (size_t)d.output_frames_gen) < 0)
            return r->error;
        if (off == nin && d.output_frames_gen < RS_OUT_FRAMES && (!end || d.output_frames_gen == 0))
            break;
        /* Nothing taken, nothing made, input left: never seen; no endless loop. */
        if (d.input_frames_used == 0 && d.output_frames_gen == 0)
            return off == nin ? RTPPROC_OK : (r->error = RTPPROC_EIO);
    }
    if (nin > 0)
        r->fed = true;
    return RTPPROC_OK;
}

/* Zeros up to the target: the end of a segment, or a silence without filtering. */
static int pad(resampler *r)
{
    uint64_t want = target(r, r->in_total);

    if (want <= r->out_total)
        return RTPPROC_OK;
    int rc = r->inner->ops->write_silence(r->inner, want - r->out_total);
    if (rc < 0)
        return r->error = rc;
    r->out_total = want;
    return RTPPROC_OK;
}

/* Drains the converter, pads to the target and restarts the converter. */
static int end_segment(resampler *r)
{
    if (r->fed) {
        if (convert(r, 0, true) < 0)
            return r->error;
        src_reset(r->src);
        r->fed = false;
    }
    return pad(r);
}

static int feed_zeros(resampler *r, uint64_t nframes)
{
    while (nframes > 0) {
        size_t take = nframes < RS_IN_FRAMES ? (size_t)nframes : RS_IN_FRAMES;
        memset(r->fin, 0, take * r->ch * sizeof(float));
        r->in_total += take;
        if (convert(r, take, false) < 0)
            return r->error;
        nframes -= take;
    }
    return RTPPROC_OK;
}

static int rs_write_pcm(rtpproc_sink *s, const int16_t *frames, size_t nframes)
{
    resampler *r = (resampler *)s;

    if (r->error != RTPPROC_OK)
        return r->error;
    while (nframes > 0) {
        size_t take = nframes < RS_IN_FRAMES ? nframes : RS_IN_FRAMES;
        src_short_to_float_array(frames, r->fin, (int)(take * r->ch));
        r->in_total += take;
        if (convert(r, take, false) < 0)
            return r->error;
        frames += take * r->ch;
        nframes -= take;
        s->frames += take;
    }
    return RTPPROC_OK;
}

static int rs_write_silence(rtpproc_sink *s, uint64_t nframes)
{
    resampler *r = (resampler *)s;

    if (r->error != RTPPROC_OK)
        return r->error;
    s->frames += nframes;
    if (nframes < r->long_gap)
        return feed_zeros(r, nframes);
    /*
     * A long gap: the audio before it rings out into `settle` zeros, the
     * segment ends exactly, the middle is zeros at the output rate, and a
     * fresh converter (whose history is zero, as it would have been) takes
     * the last `settle` zeros, where the sinc filter's pre-echo of the
     * next audio belongs.
     */
    if (r->fed) {
        if (feed_zeros(r, r->settle) < 0 || end_segment(r) < 0)
            return r->error;
        nframes -= r->settle;
    }
    r->in_total += nframes - r->settle;
    if (pad(r) < 0)
        return r->error;
    return feed_zeros(r, r->settle);
}

static int rs_flush(rtpproc_sink *s)
{
    resampler *r = (resampler *)s;

    /* The few frames inside the filter wait for more input or close. */
    if (r->error != RTPPROC_OK)
        return r->error;
    int rc = r->inner->ops->flush(r->inner);
    return rc < 0 ? (r->error = rc) : RTPPROC_OK;
}

static void rs_free(resampler *r)
{
    if (r->src != NULL)
        src_delete(r->src);
    free(r->fin);
    free(r->fout);
    free(r->pcm);
    free(r->base.path);
    free(r);
}

static int rs_close(rtpproc_sink *s)
{
    resampler *r = (resampler *)s;

    if (r == NULL)
        return RTPPROC_OK;
    int rc = r->error != RTPPROC_OK ? r->error : end_segment(r);
    int rc_inner = r->inner->ops->close(r->inner);
    rs_free(r);
    return rc != RTPPROC_OK ? rc : rc_inner;
}

static const rtpproc_sink_ops resample_ops = {
    .write_pcm = rs_write_pcm,
    .write_native = NULL,
    .write_silence = rs_write_silence,
    .flush = rs_flush,
    .close = rs_close,
};

rtpproc_sink *rtpproc_resample_new(rtpproc_sink *inner, uint32_t in_rate, int *status, char *errbuf,
                                   size_t errlen)
{
    resampler *r = NULL;
    int err = 0;

    if (inner == NULL) {
        *status = RTPPROC_EINVAL;
        set_err(errbuf, errlen, "cannot resample: no sink");
        return NULL;
    }
    uint32_t out_rate = inner->fmt.sample_rate;
    unsigned ch = inner->fmt.channels;
    double ratio = in_rate > 0 ? (double)out_rate / in_rate : 0.0;
    if (in_rate == 0 || out_rate == 0 || ch == 0 || ch > INT32_MAX / RS_OUT_FRAMES ||
        !src_is_valid_ratio(ratio)) {
        *status = RTPPROC_EINVAL;
        set_err(errbuf, errlen,
                "cannot resample %u Hz to %u Hz (%u channels): libsamplerate converts ratios up "
                "to 1:256",
                (unsigned)in_rate, (unsigned)out_rate, ch);
        goto fail;
    }

    r = calloc(1, sizeof(*r));
    if (r == NULL)
        goto nomem;
    r->base.ops = &resample_ops;
    r->base.fmt = inner->fmt;
    r->base.fmt.sample_rate = in_rate;
    r->inner = inner;
    r->ratio = ratio;
    r->in_rate = in_rate;
    r->out_rate = out_rate;
    r->ch = ch;
    r->settle = RS_SETTLE_FRAMES;
    if (ratio < 1.0)
        r->settle = (uint64_t)((double)RS_SETTLE_FRAMES / ratio) + 1;
    r->long_gap = (uint64_t)in_rate * RTPPROC_RESAMPLE_LONG_GAP_MS / 1000;
    if (r->long_gap < 4 * r->settle)
        r->long_gap = 4 * r->settle;
    r->fin = malloc((size_t)RS_IN_FRAMES * ch * sizeof(float));
    r->fout = malloc((size_t)RS_OUT_FRAMES * ch * sizeof(float));
    r->pcm = malloc((size_t)RS_OUT_FRAMES * ch * sizeof(int16_t));
    if (r->fin == NULL || r->fout == NULL || r->pcm == NULL)
        goto nomem;
    if (inner->path != NULL && (r->base.path = strdup(inner->path)) == NULL)
        goto nomem;
    r->src = src_new(SRC_SINC_MEDIUM_QUALITY, (int)ch, &err);
    if (r->src == NULL)
        goto nomem; /* libsamplerate fails here only for memory or channels, checked above */
    *status = RTPPROC_OK;
    return &r->base;

nomem:
    *status = RTPPROC_ENOMEM;
    set_err(errbuf, errlen, "cannot resample to '%s': out of memory",
            inner->path != NULL ? inner->path : "(recording)");
fail:
    if (r != NULL)
        rs_free(r);
    inner->ops->close(inner);
    return NULL;
}

rtpproc_sink *rtpproc_resample_open(void *userdata, const rtpproc_sink_info *info,
                                    const rtpproc_sink_format *fmt, int *status, char *errbuf,
                                    size_t errlen)
{
    const rtpproc_resample_factory *f = userdata;

    if (f == NULL || f->open == NULL || fmt == NULL) {
        *status = RTPPROC_EINVAL;
        set_err(errbuf, errlen, "cannot create a recording: no factory");
        return NULL;
    }
    if (fmt->sample_rate == f->rate)
        return f->open(f->userdata, info, fmt, status, errbuf, errlen);
    /* Refused before a file is created for it. */
    if (fmt->sample_rate == 0 || !src_is_valid_ratio((double)f->rate / fmt->sample_rate)) {
        *status = RTPPROC_EINVAL;
        set_err(errbuf, errlen,
                "cannot resample %u Hz to %u Hz: libsamplerate converts ratios up to 1:256",
                (unsigned)fmt->sample_rate, (unsigned)f->rate);
        return NULL;
    }
    rtpproc_sink_format out = *fmt;
    out.sample_rate = f->rate;
    rtpproc_sink *inner = f->open(f->userdata, info, &out, status, errbuf, errlen);
    if (inner == NULL)
        return NULL;
    return rtpproc_resample_new(inner, fmt->sample_rate, status, errbuf, errlen);
}

void rtpproc_resample_install(rtpproc_resample_factory *f, uint32_t rate,
                              rtpproc_engine_config *cfg)
{
    if (rate == 0 || cfg->sink_open == NULL)
        return;
    f->rate = rate;
    f->open = cfg->sink_open;
    f->userdata = cfg->sink_userdata;
    cfg->sink_open = rtpproc_resample_open;
    cfg->sink_userdata = f;
}
