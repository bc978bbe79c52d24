/*
 * rtpproc - the shared libavcodec wrapper of codec_ilbc.c and codec_g723.c.
 *
 * libavcodec's send/receive API (avcodec_send_packet/receive_frame) with
 * one packet per codec frame: the callers split RTP payloads into frames
 * themselves, so every packet is fully consumed and no input stays queued
 * inside the decoder between calls. Output is converted to interleaved
 * int16 in place, without allocation.
 */
#include "codec_lavc.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <libavutil/samplefmt.h>

#include "rtpproc/types.h"

/* The AVChannelLayout API (ch_layout) replaced AVCodecContext.channels in libavutil 57.24. */
#define RP_LAVC_CH_LAYOUT (LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 24, 100))

/* receive_frame calls per packet before the decoder is flushed (it returned neither EAGAIN nor
 * EOF). */
#define RP_LAVC_MAX_RECEIVE 64

struct rp_lavc {
    AVCodecContext *ctx;
    AVPacket *pkt; /* pkt->buf is the padded input buffer, owned by pkt */
    AVFrame *frame;
    unsigned channels;
    int sample_rate;   /* Hz */
    size_t max_packet; /* bytes */
};

static gsize log_silenced;

static void silence_logging(void)
{
    if (g_once_init_enter(&log_silenced)) {
        av_log_set_level(AV_LOG_QUIET);
        g_once_init_leave(&log_silenced, 1);
    }
}

rp_lavc *rp_lavc_open(const char *name, int sample_rate, unsigned channels, int block_align,
                      size_t max_packet)
{
    silence_logging();
    if (channels == 0 || channels > 8 || sample_rate <= 0 || max_packet == 0 ||
        max_packet > (size_t)INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        return NULL;
    const AVCodec *codec = avcodec_find_decoder_by_name(name);
    if (codec == NULL || codec->type != AVMEDIA_TYPE_AUDIO)
        return NULL;

    rp_lavc *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->channels = channels;
    d->sample_rate = sample_rate;
    d->max_packet = max_packet;
    d->ctx = avcodec_alloc_context3(codec);
    d->pkt = av_packet_alloc();
    d->frame = av_frame_alloc();
    if (d->ctx == NULL || d->pkt == NULL || d->frame == NULL)
        goto fail;
    d->pkt->buf = av_buffer_allocz(max_packet + AV_INPUT_BUFFER_PADDING_SIZE);
    if (d->pkt->buf == NULL)
        goto fail;

    d->ctx->sample_rate = sample_rate;
    d->ctx->block_align = block_align;
#if RP_LAVC_CH_LAYOUT
    av_channel_layout_default(&d->ctx->ch_layout, (int)channels);
#else
    d->ctx->channels = (int)channels;
#endif
    if (avcodec_open2(d->ctx, codec, NULL) < 0)
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
    avcodec_free_context(&d->ctx);
    av_packet_free(&d->pkt); /* also drops pkt->buf */
    av_frame_free(&d->frame);
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
    if (!av_buffer_is_writable(d->pkt->buf))
        return RTPPROC_EINVAL;
    memcpy(d->pkt->buf->data, in, len);
    memset(d->pkt->buf->data + len, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    d->pkt->data = d->pkt->buf->data;
    d->pkt->size = (int)len;

    if (avcodec_send_packet(d->ctx, d->pkt) < 0)
        return RTPPROC_EINVAL;

    size_t done = 0;
    bool bad = false;
    unsigned i;
    for (i = 0; i < RP_LAVC_MAX_RECEIVE; i++) {
        int rc = avcodec_receive_frame(d->ctx, d->frame);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            break;
        if (rc < 0) {
            bad = true; /* the decoder dropped (the rest of) the packet */
            continue;
        }
        long n = convert(d, d->frame, out + done * d->channels, out_frames - done);
        av_frame_unref(d->frame);
        if (n < 0)
            bad = true;
        else
            done += (size_t)n;
    }
    if (i == RP_LAVC_MAX_RECEIVE) {
        avcodec_flush_buffers(d->ctx);
        bad = true;
    }
    return bad ? RTPPROC_EINVAL : (long)done;
}
