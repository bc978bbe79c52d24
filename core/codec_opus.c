/*
 * rtpproc - Opus through libopus.
 *
 * specification: RFC 6716 (the codec), RFC 7587 (RTP payload format). One
 * RTP payload is exactly one Opus packet of 2.5 to 120 ms (RFC 7587 4.2;
 * RFC 6716 3.2.5 caps a packet at 120 ms, 5760 samples at 48 kHz). The RTP
 * clock is always 48000 Hz whatever the encoded bandwidth (RFC 7587 4.1),
 * so audio is decoded at 48000 Hz and one RTP tick is one output frame.
 *
 * Channels: RFC 7587 7 makes the SDP name always "opus/48000/2"; whether
 * the sender really sends stereo is only a hint (sprop-stereo), and each
 * packet's TOC byte says mono or stereo. The output therefore has
 * spec->channels channels: 2 when the map or SDP says "opus/48000/2", 1 for
 * a bare "opus" (the descriptor's default). libopus turns a mono packet into
 * two equal channels or downmixes a stereo packet, so the recording keeps
 * one format for the whole stream. Opus in RTP defines no other channel
 * count (multichannel needs the Ogg/WebM mapping families), so a spec with
 * more than 2 channels gets no decoder and the stream is undecodable.
 *
 * Concealment is libopus's own PLC (opus_decode with no data), which needs
 * whole 2.5 ms steps. In-band FEC (LBRR, RFC 7587 3.2): recover() decodes
 * the packet after a loss with decode_fec set, which rebuilds the frames
 * just before it from its redundancy when the encoder sent some (and
 * conceals them otherwise).
 */
#include "rtpproc/codec.h"

#include <stdint.h>
#include <stdlib.h>

#include <opus.h>

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_opus;

#define OPUSD_RATE        48000 /* RFC 7587 4.1 */
#define OPUSD_MAX_FRAMES  5760  /* 120 ms at 48 kHz (RFC 6716 3.2.5) */
#define OPUSD_PLC_STEP    120   /* 2.5 ms: libopus conceals in multiples of this */
#define OPUSD_MAX_CHANNEL 2

typedef struct opusd_state {
    OpusDecoder *dec;
    int channels;
} opusd_state;

static uint32_t opusd_sample_rate(uint32_t clock_rate)
{
    (void)clock_rate;
    return OPUSD_RATE;
}

static void *opusd_create(const rtpproc_codec_spec *spec)
{
    unsigned ch = spec->channels != 0 ? spec->channels : 1;
    if (ch > OPUSD_MAX_CHANNEL)
        return NULL;
    opusd_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    int err = OPUS_OK;
    st->channels = (int)ch;
    st->dec = opus_decoder_create(OPUSD_RATE, st->channels, &err);
    if (st->dec == NULL || err != OPUS_OK) {
        if (st->dec != NULL)
            opus_decoder_destroy(st->dec);
        free(st);
        return NULL;
    }
    return st;
}

static void opusd_destroy(void *state)
{
    opusd_state *st = state;
    if (st == NULL)
        return;
    opus_decoder_destroy(st->dec);
    free(st);
}

static size_t opusd_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    (void)spec;
    return len == 0 ? 0 : OPUSD_MAX_FRAMES;
}

static long opusd_decode_payload(void *state, const rtpproc_codec_spec *spec, const uint8_t *in,
                                 size_t len, int16_t *out, size_t out_frames)
{
    opusd_state *st = state;
    (void)spec;

    /* An empty payload would ask libopus for concealment, not decoding. */
    if (len == 0 || len > INT32_MAX)
        return RTPPROC_EINVAL;
    if (out_frames > OPUSD_MAX_FRAMES)
        out_frames = OPUSD_MAX_FRAMES;
    /* Negative: OPUS_INVALID_PACKET for a corrupt TOC or frame lengths,
     * OPUS_BUFFER_TOO_SMALL when out_frames is below the packet's length. */
    int n = opus_decode(st->dec, in, (opus_int32)len, out, (int)out_frames, 0);
    if (n < 0)
        return RTPPROC_EINVAL;
    return n;
}

static long opusd_conceal(void *state, const rtpproc_codec_spec *spec, int16_t *out, size_t frames)
{
    opusd_state *st = state;
    size_t done = 0;
    (void)spec;

    frames -= frames % OPUSD_PLC_STEP;
    /* In slices: libopus's int16 path stages each call in a stack buffer. */
    while (done < frames) {
        size_t step = frames - done;
        if (step > OPUSD_MAX_FRAMES)
            step = OPUSD_MAX_FRAMES;
        int n = opus_decode(st->dec, NULL, 0, out + done * (size_t)st->channels, (int)step, 0);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (done == 0 && frames > 0)
        return RTPPROC_EINVAL;
    return (long)done;
}

static long opusd_recover(void *state, const rtpproc_codec_spec *spec, const uint8_t *next,
                          size_t len, int16_t *out, size_t frames)
{
    opusd_state *st = state;
    (void)spec;

    /* libopus 1.3 cannot say whether `next` carries LBRR; decode_fec uses
     * it when present and conceals otherwise, the right fallback too. */
    frames -= frames % OPUSD_PLC_STEP;
    if (len == 0 || frames == 0 || frames > OPUSD_MAX_FRAMES)
        return 0;
    int n = opus_decode(st->dec, next, (opus_int32)len, out, (int)frames, 1);
    return n < 0 ? RTPPROC_EINVAL : n;
}

const rtpproc_codec rp_codec_opus = {
    .name = "opus",
    .ws_name = NULL, /* Debian's Wireshark 4.0 has no opus codec plug-in */
    .static_pt = -1,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = OPUSD_RATE,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = opusd_sample_rate,
    .create = opusd_create,
    .destroy = opusd_destroy,
    .max_frames = opusd_max_frames,
    .decode = opusd_decode_payload,
    .conceal = opusd_conceal,
    .recover = opusd_recover,
};
