/*
 * rtpproc - G.726 at 16, 24, 32 and 40 kbit/s in both RTP bit packings,
 * through spandsp.
 *
 * specification: ITU-T G.726; RFC 3551 section 4.5.4; ITU-T I.366.2 (ATM
 * AAL2) for the "AAL2-" bit order. G.726 has no static payload
 * type (PT 2 "G721" was withdrawn, RFC 3551 4.5.4), so every variant is a
 * dynamic PT named in SDP:
 *   "G726-xx"       codewords packed from the least significant bit of each
 *                   octet up (RFC 3551 4.5.4) - spandsp's G726_PACKING_RIGHT;
 *   "AAL2-G726-xx"  codewords packed from the most significant bit down
 *                   (the I.366.2 order) - spandsp's G726_PACKING_LEFT.
 * These are the constants Wireshark 4.0's G726 codec plug-in passes
 * (plugins/codecs/G726/G726decode.c), with 16-bit linear output and one
 * decoder per stream and payload type kept across packets, so the samples
 * equal those of Wireshark's RTP player. As there, codeword bits left over at
 * the end of a payload (24 and 40 kbit/s payloads need not hold a whole
 * number of codewords) stay in the decoder and begin the next payload's
 * first codeword.
 *
 * G.726 is a mono codec at 8000 Hz. A spec with more channels (a wrong
 * --pt-map) gets the mono signal copied into each channel.
 */
#include "rtpproc/codec.h"

#include <spandsp/telephony.h>
#include <spandsp/g726.h>

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_g726_16, rp_codec_g726_24, rp_codec_g726_32, rp_codec_g726_40,
    rp_codec_aal2_g726_16, rp_codec_aal2_g726_24, rp_codec_aal2_g726_32, rp_codec_aal2_g726_40;

#define G726_SAMPLE_RATE 8000 /* Hz, G.726 section 1 */

/* Bits per codeword: the bit rate over 8000 samples/s. */
static unsigned g726_bits(const rtpproc_codec *c)
{
    if (c == &rp_codec_g726_16 || c == &rp_codec_aal2_g726_16)
        return 2;
    if (c == &rp_codec_g726_24 || c == &rp_codec_aal2_g726_24)
        return 3;
    if (c == &rp_codec_g726_40 || c == &rp_codec_aal2_g726_40)
        return 5;
    return 4;
}

static bool g726_is_aal2(const rtpproc_codec *c)
{
    return c == &rp_codec_aal2_g726_16 || c == &rp_codec_aal2_g726_24 ||
           c == &rp_codec_aal2_g726_32 || c == &rp_codec_aal2_g726_40;
}

static uint32_t g726_sample_rate(uint32_t clock_rate)
{
    (void)clock_rate;
    return G726_SAMPLE_RATE;
}

static void *g726_create(const rtpproc_codec_spec *spec)
{
    unsigned bits = g726_bits(spec->codec);
    int packing = g726_is_aal2(spec->codec) ? G726_PACKING_LEFT : G726_PACKING_RIGHT;
    return g726_init(NULL, (int)(bits * G726_SAMPLE_RATE), G726_ENCODING_LINEAR, packing);
}

static void g726_destroy(void *state)
{
    if (state != NULL)
        g726_free(state);
}

/* Up to bits-1 bits of the previous payload may complete a codeword here. */
static size_t g726_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    unsigned bits = g726_bits(spec->codec);
    return (len * 8 + bits - 1) / bits;
}

static void spread_mono(int16_t *out, size_t frames, unsigned ch)
{
    for (size_t i = frames; i-- > 0;) {
        for (unsigned c = 0; c < ch; c++)
            out[i * ch + c] = out[i];
    }
}

static long g726_dec(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                     int16_t *out, size_t out_frames)
{
    unsigned ch = spec->channels != 0 ? spec->channels : 1;

    if (len == 0)
        return RTPPROC_EINVAL;
    /* spandsp decodes every codeword of the input: never give it more than fits. */
    if (g726_max_frames(spec, len) > out_frames || len > (size_t)INT32_MAX / 8)
        return RTPPROC_ELIMIT;
    int n = g726_decode(state, out, in, (int)len);
    if (n <= 0)
        return RTPPROC_EINVAL;
    if (ch > 1)
        spread_mono(out, (size_t)n, ch);
    return n;
}

#define G726_CODEC(var, nm)                                                                        \
    const rtpproc_codec var = {                                                                    \
        .name = nm,                                                                                \
        .ws_name = nm, /* Wireshark's codec names are the SDP names */                             \
        .static_pt = -1,                                                                           \
        .kind = RTPPROC_KIND_AUDIO,                                                                \
        .default_clock_rate = G726_SAMPLE_RATE,                                                    \
        .default_channels = 1,                                                                     \
        .native = RTPPROC_NATIVE_NONE,                                                             \
        .sample_rate = g726_sample_rate,                                                           \
        .create = g726_create,                                                                     \
        .destroy = g726_destroy,                                                                   \
        .max_frames = g726_max_frames,                                                             \
        .decode = g726_dec,                                                                        \
        .conceal = NULL,                                                                           \
    }

G726_CODEC(rp_codec_g726_16, "G726-16");
G726_CODEC(rp_codec_g726_24, "G726-24");
G726_CODEC(rp_codec_g726_32, "G726-32");
G726_CODEC(rp_codec_g726_40, "G726-40");
G726_CODEC(rp_codec_aal2_g726_16, "AAL2-G726-16");
G726_CODEC(rp_codec_aal2_g726_24, "AAL2-G726-24");
G726_CODEC(rp_codec_aal2_g726_32, "AAL2-G726-32");
G726_CODEC(rp_codec_aal2_g726_40, "AAL2-G726-40");
