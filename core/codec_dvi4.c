/*
 * rtpproc - DVI4 (IMA ADPCM; static PTs 5, 6, 16 and 17) through spandsp.
 *
 * specification: RFC 3551 section 4.5.1. Every packet is one DVI block: a
 * 4-octet header (the 16-bit big-endian predicted value, the step-size table
 * index 0..88, one reserved octet), then 4-bit codewords, two per octet, the
 * first sample in the most significant nibble. Unlike IMA's own block format
 * the header does not hold the first sample: it seeds the predictor, and
 * every sample comes from a codeword (2 samples per octet after the header).
 * The rate is the RTP clock: 8000 (PT 5), 16000 (PT 6), 11025 (PT 16),
 * 22050 Hz (PT 17), or whatever SDP says for a dynamic PT.
 *
 * spandsp's IMA_ADPCM_DVI4 variant with a chunk size of 0 reads exactly this
 * layout (header at the start of every decode call, high nibble first), so
 * the whole payload is handed to it. It does not check the header, though:
 * it reads four octets whatever the length and indexes its step table with
 * the header's index unchecked. The header is therefore validated here
 * first, through the cursor; a payload shorter than the header plus one
 * octet, or with an index above 88, is undecodable (RTPPROC_EINVAL).
 *
 * Wireshark 4.0 has no DVI4 codec plug-in. RFC 3551 leaves multi-channel
 * DVI4 "for further study", so DVI4 is mono; a spec with more channels (a
 * wrong --pt-map) gets the mono signal copied into each channel.
 */
#include "rtpproc/codec.h"

#include <spandsp/telephony.h>
#include <spandsp/ima_adpcm.h>

#include "cursor.h"

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_dvi4;

#define DVI4_HEADER_BYTES    4  /* predict (16), index (8), reserved (8) */
#define DVI4_MAX_INDEX       88 /* the IMA step-size table has 89 entries */
#define DVI4_SAMPLES_PER_OCT 2

static uint32_t dvi4_sample_rate(uint32_t clock_rate)
{
    return clock_rate;
}

static void *dvi4_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    /* Chunk size 0: every decode call is one block starting with its header. */
    return ima_adpcm_init(NULL, IMA_ADPCM_DVI4, 0);
}

static void dvi4_destroy(void *state)
{
    if (state != NULL)
        ima_adpcm_free(state);
}

static size_t dvi4_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    (void)spec;
    return len > DVI4_HEADER_BYTES ? (len - DVI4_HEADER_BYTES) * DVI4_SAMPLES_PER_OCT : 0;
}

static void spread_mono(int16_t *out, size_t frames, unsigned ch)
{
    for (size_t i = frames; i-- > 0;) {
        for (unsigned c = 0; c < ch; c++)
            out[i * ch + c] = out[i];
    }
}

static long dvi4_decode(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                        int16_t *out, size_t out_frames)
{
    unsigned ch = spec->channels != 0 ? spec->channels : 1;
    rp_cur c = rp_cur_make(in, len);
    uint16_t predict;
    uint8_t index, reserved;

    if (!rp_be16(&c, &predict) || !rp_u8(&c, &index) || !rp_u8(&c, &reserved))
        return RTPPROC_EINVAL;
    (void)predict;  /* spandsp reads it again; only the index needs a bound */
    (void)reserved; /* "ignored by the receiver" (RFC 3551 4.5.1) */
    if (index > DVI4_MAX_INDEX || c.left == 0)
        return RTPPROC_EINVAL;
    size_t data = c.left;
    if (data > out_frames / DVI4_SAMPLES_PER_OCT)
        data = out_frames / DVI4_SAMPLES_PER_OCT;
    if (data == 0)
        return RTPPROC_EINVAL;
    if (data > (size_t)INT32_MAX / DVI4_SAMPLES_PER_OCT - DVI4_HEADER_BYTES)
        return RTPPROC_ELIMIT;
    int n = ima_adpcm_decode(state, out, in, (int)(DVI4_HEADER_BYTES + data));
    if (n <= 0)
        return RTPPROC_EINVAL;
    if (ch > 1)
        spread_mono(out, (size_t)n, ch);
    return n;
}

const rtpproc_codec rp_codec_dvi4 = {
    .name = "DVI4",
    /* Wireshark's name for PT 5; the static table in codec.c names 6, 16, 17. */
    .ws_name = "DVI4 8k",
    .static_pt = 5,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = 8000,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = dvi4_sample_rate,
    .create = dvi4_create,
    .destroy = dvi4_destroy,
    .max_frames = dvi4_max_frames,
    .decode = dvi4_decode,
    .conceal = NULL,
};
