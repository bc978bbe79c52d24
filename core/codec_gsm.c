/*
 * rtpproc - GSM 06.10 full rate (static PT 3) through spandsp.
 *
 * specification: ETSI GSM 06.10; RFC 3551 section 4.5.8. Each 20 ms block
 * of 160 samples at 8000 Hz is one 33-octet frame whose first four bits are
 * the signature 0xD (RFC 3551 4.5.8.1; spandsp's GSM0610_PACKING_VOIP, the
 * frame format of libgsm); a payload carries one or more whole frames.
 *
 * A payload is decoded frame by frame once every whole frame has shown the
 * signature; a frame without it means the payload is not GSM (a wrong PT map)
 * and the whole payload is undecodable (RTPPROC_EINVAL). Trailing octets
 * that do not make a whole frame (RFC 3551 allows none) are ignored and the
 * whole frames before them are decoded; a payload shorter than one frame is
 * undecodable.
 *
 * Wireshark 4.0 has no GSM codec plug-in, so there is no sample-exact
 * reference to compare with. GSM is mono; a spec with more channels (a wrong
 * --pt-map) gets the mono signal copied into each channel.
 */
#include "rtpproc/codec.h"

#include <spandsp/telephony.h>
#include <spandsp/gsm0610.h>

#include "cursor.h"

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_gsm;

#define GSM_FRAME_BYTES   33   /* 260 bits + 4-bit signature (RFC 3551 4.5.8.1) */
#define GSM_FRAME_SAMPLES 160  /* 20 ms at 8000 Hz */
#define GSM_SIGNATURE     0xD  /* high nibble of the first octet of a frame */
#define GSM_SAMPLE_RATE   8000 /* Hz */

static uint32_t gsm_sample_rate(uint32_t clock_rate)
{
    (void)clock_rate;
    return GSM_SAMPLE_RATE;
}

static void *gsm_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    return gsm0610_init(NULL, GSM0610_PACKING_VOIP);
}

static void gsm_destroy(void *state)
{
    if (state != NULL)
        gsm0610_free(state);
}

static size_t gsm_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    (void)spec;
    return len / GSM_FRAME_BYTES * GSM_FRAME_SAMPLES;
}

static void spread_mono(int16_t *out, size_t frames, unsigned ch)
{
    for (size_t i = frames; i-- > 0;) {
        for (unsigned c = 0; c < ch; c++)
            out[i * ch + c] = out[i];
    }
}

static long gsm_decode(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                       int16_t *out, size_t out_frames)
{
    unsigned ch = spec->channels != 0 ? spec->channels : 1;
    size_t nframes = len / GSM_FRAME_BYTES;

    if (nframes > out_frames / GSM_FRAME_SAMPLES)
        nframes = out_frames / GSM_FRAME_SAMPLES;
    if (nframes == 0)
        return RTPPROC_EINVAL;

    /* All signatures first: spandsp would stop at a bad one mid-payload. */
    rp_cur c = rp_cur_make(in, nframes * GSM_FRAME_BYTES);
    for (size_t f = 0; f < nframes; f++) {
        uint8_t first;
        if (!rp_u8(&c, &first) || first >> 4 != GSM_SIGNATURE || !rp_skip(&c, GSM_FRAME_BYTES - 1))
            return RTPPROC_EINVAL;
    }

    size_t n = 0;
    for (size_t f = 0; f < nframes; f++) {
        int got = gsm0610_decode(state, out + n, in + f * GSM_FRAME_BYTES, GSM_FRAME_BYTES);
        if (got != GSM_FRAME_SAMPLES)
            return n > 0 ? (long)n : RTPPROC_EINVAL; /* not expected after the checks */
        n += GSM_FRAME_SAMPLES;
    }
    if (ch > 1)
        spread_mono(out, n, ch);
    return (long)n;
}

const rtpproc_codec rp_codec_gsm = {
    .name = "GSM",
    .ws_name = "GSM",
    .static_pt = 3,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = GSM_SAMPLE_RATE,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = gsm_sample_rate,
    .create = gsm_create,
    .destroy = gsm_destroy,
    .max_frames = gsm_max_frames,
    .decode = gsm_decode,
    .conceal = NULL,
};
