/*
 * rtpproc - G.722 (static PT 9) through spandsp.
 *
 * specification: ITU-T G.722; RFC 3551 section 4.5.2. RTP carries the
 * 64 kbit/s mode, one octet per two 16 kHz samples. The RTP clock is 8000 Hz
 * although the audio is sampled at 16000 Hz (an error kept for backward
 * compatibility, RFC 3551 4.5.2). The output rate is 16000 Hz whatever the
 * clock says: a peer announcing "G722/16000" still sends 16 kHz audio, only
 * its timestamps step twice as fast.
 *
 * The decoder is initialised as Wireshark 4.0's g722 codec plug-in does
 * (plugins/codecs/G722/G722decode.c: spandsp, 64000 bit/s, no options, one
 * decoder per stream and payload type kept across packets), so the samples
 * are the ones Wireshark's RTP player decodes.
 *
 * G.722 is a mono codec. A spec with more channels (a wrong --pt-map) gets
 * the mono signal copied into each channel, so the recording keeps the
 * format it was opened with.
 */
#include "rtpproc/codec.h"

#include <spandsp/telephony.h>
#include <spandsp/g722.h>

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_g722;

#define G722_BIT_RATE        64000 /* the only mode RTP uses (RFC 3551 4.5.2) */
#define G722_SAMPLE_RATE     16000 /* Hz, G.722 section 1 */
#define G722_SAMPLES_PER_OCT 2     /* 64 kbit/s at 16000 samples/s: 4 bits each */

static uint32_t g722_sample_rate(uint32_t clock_rate)
{
    (void)clock_rate;
    return G722_SAMPLE_RATE;
}

static void *g722_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    return g722_decode_init(NULL, G722_BIT_RATE, 0);
}

static void g722_destroy(void *state)
{
    if (state != NULL)
        g722_decode_free(state);
}

static size_t g722_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    (void)spec;
    return len * G722_SAMPLES_PER_OCT;
}

/* Spreads `frames` mono samples at the start of `out` over `ch` channels. */
static void spread_mono(int16_t *out, size_t frames, unsigned ch)
{
    for (size_t i = frames; i-- > 0;) {
        for (unsigned c = 0; c < ch; c++)
            out[i * ch + c] = out[i];
    }
}

static long g722_dec(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                     int16_t *out, size_t out_frames)
{
    unsigned ch = spec->channels != 0 ? spec->channels : 1;

    /* Every octet holds two samples, so cut the input to what fits. */
    if (len > out_frames / G722_SAMPLES_PER_OCT)
        len = out_frames / G722_SAMPLES_PER_OCT;
    if (len == 0)
        return RTPPROC_EINVAL;
    if (len > (size_t)INT32_MAX / G722_SAMPLES_PER_OCT)
        return RTPPROC_ELIMIT;
    int n = g722_decode(state, out, in, (int)len);
    if (n <= 0)
        return RTPPROC_EINVAL;
    if (ch > 1)
        spread_mono(out, (size_t)n, ch);
    return n;
}

const rtpproc_codec rp_codec_g722 = {
    .name = "G722",
    .ws_name = "g722",
    .static_pt = 9,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = 8000,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = g722_sample_rate,
    .create = g722_create,
    .destroy = g722_destroy,
    .max_frames = g722_max_frames,
    .decode = g722_dec,
    .conceal = NULL,
};
