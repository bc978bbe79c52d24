/*
 * rtpproc - the shared libavcodec wrapper of codec_ilbc.c and codec_g723.c.
 *
 * libavcodec's send/receive API (avcodec_send_packet/receive_frame) with
 * one packet per codec frame: the callers split RTP payloads into frames
 * themselves, so every packet is fully consumed and no input stays queued
 * inside the decoder between calls. Output is converted to interleaved
 * int16 in place, without allocation.
 *
 * libavcodec and libavutil are loaded with dlopen() when the first decoder
 * opens, not linked: they bring about 95 shared libraries with them, which
 * cost every run some 18 ms of dynamic loading (rtpproc --version took
 * 21.7 ms with them linked) for two codecs few captures carry. The build
 * still compiles against their headers: the sonames come from the headers'
 * major versions, because the AVCodecContext and AVFrame fields read and
 * written here are only laid out the same within that ABI, and each function
 * is resolved into a pointer of the type its header declares.
 */
#include "codec_lavc.h"

#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <libavutil/macros.h>
#include <libavutil/samplefmt.h>

#include "rtpproc/types.h"

/* The AVChannelLayout API (ch_layout) replaced AVCodecContext.channels in libavutil 57.24. */
#define RP_LAVC_CH_LAYOUT (LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 24, 100))

/* receive_frame calls per packet before the decoder is flushed (it returned neither EAGAIN nor
 * EOF). */
#define RP_LAVC_MAX_RECEIVE 64

const char rp_lavc_avcodec_soname[] = "libavcodec.so." AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR);
const char rp_lavc_avutil_soname[] = "libavutil.so." AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR);

/* A pointer to function `fn`, of the type its header declares. */
#define RP_LAVC_FN(fn) __typeof__(fn) *fn

struct rp_lavc_lib {
    void *avutil, *avcodec; /* dlopen() handles */

    /* libavutil */
    RP_LAVC_FN(avutil_version);
    RP_LAVC_FN(av_log_set_level);
    RP_LAVC_FN(av_buffer_allocz);
    RP_LAVC_FN(av_buffer_is_writable);
    RP_LAVC_FN(av_frame_alloc);
    RP_LAVC_FN(av_frame_free);
    RP_LAVC_FN(av_frame_unref);
#if RP_LAVC_CH_LAYOUT
    RP_LAVC_FN(av_channel_layout_default);
#endif

    /* libavcodec */
    RP_LAVC_FN(avcodec_version);
    RP_LAVC_FN(avcodec_find_decoder_by_name);
    RP_LAVC_FN(avcodec_alloc_context3);
    RP_LAVC_FN(avcodec_open2);
    RP_LAVC_FN(avcodec_free_context);
    RP_LAVC_FN(avcodec_send_packet);
    RP_LAVC_FN(avcodec_receive_frame);
    RP_LAVC_FN(avcodec_flush_buffers);
    RP_LAVC_FN(av_packet_alloc);
    RP_LAVC_FN(av_packet_free);
};

/*
 * Sets lib->fn to symbol `fn` of dlopen() handle `handle`, typed as fn's
 * header declares it; jumps to `fail` when the library has no such symbol.
 */
#define RP_LAVC_RESOLVE(lib, handle, fn)                                                           \
    do {                                                                                           \
        (lib)->fn = (__typeof__(fn) *)dlsym((handle), #fn);                                        \
        if ((lib)->fn == NULL)                                                                     \
            goto fail;                                                                             \
    } while (0)

struct rp_lavc {
    const rp_lavc_lib *lib;
    AVCodecContext *ctx;
    AVPacket *pkt; /* pkt->buf is the padded input buffer, owned by pkt */
    AVFrame *frame;
    unsigned channels;
    int sample_rate;   /* Hz */
    size_t max_packet; /* bytes */
};

/*
 * A library of the headers' major version but an older minor may lack
 * fields or behaviour the headers describe: refuse it rather than decode
 * wrongly.
 */
static bool version_fits(unsigned runtime, unsigned built)
{
    return AV_VERSION_MAJOR(runtime) == AV_VERSION_MAJOR(built) && runtime >= built;
}

rp_lavc_lib *rp_lavc_lib_load(const char *avcodec_soname, const char *avutil_soname)
{
    rp_lavc_lib *lib = calloc(1, sizeof(*lib));
    if (lib == NULL)
        return NULL;
    /* libavutil first: libavcodec needs it, so its dlopen() then finds it loaded. */
    lib->avutil = dlopen(avutil_soname, RTLD_NOW | RTLD_LOCAL);
    if (lib->avutil == NULL)
        goto fail;
    lib->avcodec = dlopen(avcodec_soname, RTLD_NOW | RTLD_LOCAL);
    if (lib->avcodec == NULL)
        goto fail;

    void *u = lib->avutil, *c = lib->avcodec;
    RP_LAVC_RESOLVE(lib, u, avutil_version);
    RP_LAVC_RESOLVE(lib, u, av_log_set_level);
    RP_LAVC_RESOLVE(lib, u, av_buffer_allocz);
    RP_LAVC_RESOLVE(lib, u, av_buffer_is_writable);
    RP_LAVC_RESOLVE(lib, u, av_frame_alloc);
    RP_LAVC_RESOLVE(lib, u, av_frame_free);
    RP_LAVC_RESOLVE(lib, u, av_frame_unref);
#if RP_LAVC_CH_LAYOUT
    RP_LAVC_RESOLVE(lib, u, av_channel_layout_default);
#endif
    RP_LAVC_RESOLVE(lib, c, avcodec_version);
    RP_LAVC_RESOLVE(lib, c, avcodec_find_decoder_by_name);
    RP_LAVC_RESOLVE(lib, c, avcodec_alloc_context3);
    RP_LAVC_RESOLVE(lib, c, avcodec_open2);
    RP_LAVC_RESOLVE(lib, c, avcodec_free_context);
    RP_LAVC_RESOLVE(lib, c, avcodec_send_packet);
    RP_LAVC_RESOLVE(lib, c, avcodec_receive_frame);
    RP_LAVC_RESOLVE(lib, c, avcodec_flush_buffers);
    RP_LAVC_RESOLVE(lib, c, av_packet_alloc);
    RP_LAVC_RESOLVE(lib, c, av_packet_free);
    if (!version_fits(lib->avutil_version(), LIBAVUTIL_VERSION_INT) ||
        !version_fits(lib->avcodec_version(), LIBAVCODEC_VERSION_INT))
        goto fail;
    lib->av_log_set_level(AV_LOG_QUIET);
    return lib;

fail:
    rp_lavc_lib_free(lib);
    return NULL;
}

void rp_lavc_lib_free(rp_lavc_lib *lib)
{
    if (lib == NULL)
        return;
    if (lib->avcodec != NULL)
        dlclose(lib->avcodec);
    if (lib->avutil != NULL)
        dlclose(lib->avutil);
    free(lib);
}

/*
 * The process's pair, loaded by the first rp_lavc_open(); NULL after a failed
 * load, which is kept too: a missing library is not looked for again per
 * stream. pthread_once() rather than GOnce: ThreadSanitizer sees the
 * ordering it gives, not GOnce's (GLib waits on futexes TSan cannot see,
 * as .ci/tsan.supp says of GMutex).
 */
static pthread_once_t process_lib_once = PTHREAD_ONCE_INIT;
static rp_lavc_lib *process_lib;

static void load_process_lib(void)
{
    process_lib = rp_lavc_lib_load(rp_lavc_avcodec_soname, rp_lavc_avutil_soname);
}

rp_lavc *rp_lavc_open(const char *name, int sample_rate, unsigned channels, int block_align,
                      size_t max_packet)
{
    if (pthread_once(&process_lib_once, load_process_lib) != 0)
        return NULL;
    return rp_lavc_open_lib(process_lib, name, sample_rate, channels, block_align, max_packet);
}

rp_lavc *rp_lavc_open_lib(const rp_lavc_lib *lib, const char *name, int sample_rate,
                          unsigned channels, int block_align, size_t max_packet)
{
    if (lib == NULL || channels == 0 || channels > 8 || sample_rate <= 0 || max_packet == 0 ||
        max_packet > (size_t)INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        return NULL;
    const AVCodec *codec = lib->avcodec_find_decoder_by_name(name);
    if (codec == NULL || codec->type != AVMEDIA_TYPE_AUDIO)
        return NULL;

    rp_lavc *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->lib = lib;
    d->channels = channels;
    d->sample_rate = sample_rate;
    d->max_packet = max_packet;
    d->ctx = lib->avcodec_alloc_context3(codec);
    d->pkt = lib->av_packet_alloc();
    d->frame = lib->av_frame_alloc();
    if (d->ctx == NULL || d->pkt == NULL || d->frame == NULL)
        goto fail;
    d->pkt->buf = lib->av_buffer_allocz(max_packet + AV_INPUT_BUFFER_PADDING_SIZE);
    if (d->pkt->buf == NULL)
        goto fail;

    d->ctx->sample_rate = sample_rate;
    d->ctx->block_align = block_align;
#if RP_LAVC_CH_LAYOUT
    lib->av_channel_layout_default(&d->ctx->ch_layout, (int)channels);
#else
    d->ctx->channels = (int)channels;
#endif
    if (lib->avcodec_open2(d->ctx, codec, NULL) < 0)
        goto fail;
    return d;

fail:
    rp_lavc_close(d);
    return NULL;
}

void rp_lavc_close(rp_lavc *d)
{
    if (d == NULL)
        return;
    d->lib->avcodec_free_context(&d->ctx);
    d->lib->av_packet_free(&d->pkt); /* also drops pkt->buf */
    d->lib->av_frame_free(&d->frame);
    free(d);
}

static int16_t float_to_s16(float v)
{
    float s = v * 32768.0f;
    if (!(s > -32768.0f)) /* also NaN */
        return -32768;
    if (s >= 32767.0f)
        return 32767;
    return (int16_t)lrintf(s);
}

/* Appends frame `f` to `out` (room for `cap` frames); returns frames written or -1. */
static long convert(const rp_lavc *d, const AVFrame *f, int16_t *out, size_t cap)
{
#if RP_LAVC_CH_LAYOUT
    int fch = f->ch_layout.nb_channels;
#else
    int fch = f->channels;
#endif
    unsigned ch = d->channels;

    if (fch != (int)ch || (f->sample_rate != 0 && f->sample_rate != d->sample_rate) ||
        f->nb_samples < 0)
        return -1;
    size_t n = (size_t)f->nb_samples;
    if (n > cap)
        n = cap;

    switch (f->format) {
    case AV_SAMPLE_FMT_S16:
        memcpy(out, f->extended_data[0], n * ch * sizeof(int16_t));
        break;
    case AV_SAMPLE_FMT_S16P:
        for (unsigned c = 0; c < ch; c++) {
            const int16_t *src = (const int16_t *)f->extended_data[c];
            for (size_t i = 0; i < n; i++)
                out[i * ch + c] = src[i];
        }
        break;
    case AV_SAMPLE_FMT_FLT: {
        const float *src = (const float *)f->extended_data[0];
        for (size_t i = 0; i < n * ch; i++)
            out[i] = float_to_s16(src[i]);
        break;
    }
    case AV_SAMPLE_FMT_FLTP:
        for (unsigned c = 0; c < ch; c++) {
            const float *src = (const float *)f->extended_data[c];
            for (size_t i = 0; i < n; i++)
                out[i * ch + c] = float_to_s16(src[i]);
        }
        break;
    default:
        return -1;
    }
    return (long)n;
}

long rp_lavc_decode(rp_lavc *d, const uint8_t *in, size_t len, int16_t *out, size_t out_frames)
{
    if (len == 0 || len > d->max_packet)
        return RTPPROC_EINVAL;
    /* After the previous call drained the decoder, nothing else references the buffer. */
    if (!d->lib->av_buffer_is_writable(d->pkt->buf))
        return RTPPROC_EINVAL;
    memcpy(d->pkt->buf->data, in, len);
    memset(d->pkt->buf->data + len, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    d->pkt->data = d->pkt->buf->data;
    d->pkt->size = (int)len;

    if (d->lib->avcodec_send_packet(d->ctx, d->pkt) < 0)
        return RTPPROC_EINVAL;

    size_t done = 0;
    bool bad = false;
    unsigned i;
    for (i = 0; i < RP_LAVC_MAX_RECEIVE; i++) {
        int rc = d->lib->avcodec_receive_frame(d->ctx, d->frame);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            break;
        if (rc < 0) {
            bad = true; /* the decoder dropped (the rest of) the packet */
            continue;
        }
        long n = convert(d, d->frame, out + done * d->channels, out_frames - done);
        d->lib->av_frame_unref(d->frame);
        if (n < 0)
            bad = true;
        else
            done += (size_t)n;
    }
    if (i == RP_LAVC_MAX_RECEIVE) {
        d->lib->avcodec_flush_buffers(d->ctx);
        bad = true;
    }
    return bad ? RTPPROC_EINVAL : (long)done;
}
