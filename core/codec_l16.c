/*
 * rtpproc - L16: uncompressed 16-bit linear PCM.
 *
 * specification: RFC 3551 section 4.5.11. Samples are signed two's
 * complement in network byte order; with several channels the samples of
 * one sampling instant are consecutive (RFC 3551 4.1). Static PT 10 is
 * 44100 Hz stereo and PT 11 44100 Hz mono (table 4); any other rate or
 * channel count comes from SDP or --pt-map.
 */
#include "rtpproc/codec.h"

#include "cursor.h"

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_l16;

static int l16_state; /* L16 keeps no state; create() returns this address */

static uint32_t l16_sample_rate(uint32_t clock_rate)
{
    return clock_rate;
}

static void *l16_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    return &l16_state;
}

static void l16_destroy(void *state)
{
    (void)state;
}

static size_t l16_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    unsigned ch = spec->channels != 0 ? spec->channels : 1;
    return len / (2 * (size_t)ch);
}

static long l16_decode(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                       int16_t *out, size_t out_frames)
{
    (void)state;
    unsigned ch = spec->channels != 0 ? spec->channels : 1;
    /* Only whole frames are decoded; a trailing partial frame is dropped. */
    size_t frames = len / (2 * (size_t)ch);

    if (frames > out_frames)
        frames = out_frames;
    size_t n = frames * ch;
    rp_cur c = rp_cur_make(in, n * 2);
    for (size_t i = 0; i < n; i++) {
        uint16_t v;
        if (!rp_be16(&c, &v))
            return (long)(i / ch); /* unreachable: the cursor holds n samples */
        out[i] = (int16_t)v;
    }
    return (long)frames;
}

const rtpproc_codec rp_codec_l16 = {
    .name = "L16",
    /* Wireshark's name for PT 11, the variant its l16mono codec decodes. */
    .ws_name = "16-bit audio, monaural",
    /* PT 10 (stereo) is the same codec; the static table in codec.c has both. */
    .static_pt = 11,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = 44100,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = l16_sample_rate,
    .create = l16_create,
    .destroy = l16_destroy,
    .max_frames = l16_max_frames,
    .decode = l16_decode,
};
