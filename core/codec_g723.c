/*
 * rtpproc - G.723.1 (static PT 4) through libavcodec's native "g723_1"
 * decoder.
 *
 * specification: ITU-T G.723.1; RFC 3551 section 4.5.3. A payload is one or
 * more 30 ms frames (240 samples at 8000 Hz). The low two bits of each
 * frame's first octet give its type and so its length: 00 a 24-octet
 * 6.3 kbit/s frame, 01 a 20-octet 5.3 kbit/s frame, 10 a 4-octet SID frame
 * (comfort noise, G.723.1 Annex A), 11 reserved. A payload that does not
 * split exactly into such frames is rejected whole, before the decoder
 * state is touched. Each frame goes to libavcodec as its own packet.
 */
#include "rtpproc/codec.h"

#include <stdlib.h>
#include <string.h>

#include "codec_lavc.h"
#include "cursor.h"

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_g723;

#define G723_RATE          8000 /* Hz */
#define G723_FRAME_SAMPLES 240  /* 30 ms */
#define G723_MAX_FRAME     24   /* octets, 6.3 kbit/s */
#define G723_MIN_FRAME     4    /* octets, SID */

/*
 * Erased frames conceal() produces in a row. G.723.1 mutes from the third
 * erased frame on, but libavcodec 5.1's output grows there instead (after
 * a two-tone signal at RMS 4387: 2216, 646, then 2360, 6927, 17258, 26219
 * for erased frames 3-6), so the engine fills the rest of a longer loss
 * with silence instead.
 */
#define G723_MAX_ERASED 2

typedef struct g723_state {
    rp_lavc *dec;
    unsigned erased; /* frames concealed since the last decoded frame */
} g723_state;

/* Frame length by the two type bits; 0 for the reserved type 11. */
static const uint8_t g723_frame_len[4] = {24, 20, 4, 0};

/*
 * What conceal() feeds the decoder: a 6.3 kbit/s frame whose first pitch
 * lag (7 bits after the 2 type bits and 24 LSP bits, read LSB first) is
 * 127, a code G.723.1 forbids. libavcodec takes such a frame as erased and
 * runs G.723.1's frame-erasure concealment (after speech: the excitation
 * repeated with decaying gain; after a SID or untransmitted frame: comfort
 * noise continues).
 */
static const uint8_t g723_erased_frame[G723_MAX_FRAME] = {[3] = 0xFC, [4] = 0x01};

static uint32_t g723_sample_rate(uint32_t clock_rate)
{
    (void)clock_rate;
    return G723_RATE;
}

static void *g723_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    g723_state *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->dec = rp_lavc_open("g723_1", G723_RATE, 1, 0, G723_MAX_FRAME);
    if (s->dec == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

static void g723_destroy(void *state)
{
    g723_state *s = state;
    if (s == NULL)
        return;
    rp_lavc_close(s->dec);
    free(s);
}

static size_t g723_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    (void)spec;
    return len / G723_MIN_FRAME * G723_FRAME_SAMPLES;
}

/* Number of frames in the payload, or 0 when it does not split into whole frames. */
static size_t g723_count_frames(const uint8_t *in, size_t len)
{
    rp_cur c = rp_cur_make(in, len);
    size_t n = 0;

    while (c.left > 0) {
        uint8_t first;
        if (!rp_peek_u8(&c, 0, &first))
            return 0;
        uint8_t flen = g723_frame_len[first & 0x03];
        if (flen == 0 || !rp_skip(&c, flen))
            return 0;
        n++;
    }
    return n;
}

static long g723_decode(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                        int16_t *out, size_t out_frames)
{
    g723_state *s = state;

    if (spec->channels > 1)
        return RTPPROC_EUNSUPP; /* RFC 3551 defines G723 as mono */
    if (g723_count_frames(in, len) == 0)
        return RTPPROC_EINVAL;

    rp_cur c = rp_cur_make(in, len);
    size_t done = 0;
    while (c.left > 0 && done + G723_FRAME_SAMPLES <= out_frames) {
        uint8_t first;
        rp_cur frame;
        if (!rp_peek_u8(&c, 0, &first) || !rp_sub(&c, g723_frame_len[first & 0x03], &frame))
            return RTPPROC_EINVAL; /* unreachable: counted above */
        long n = rp_lavc_decode(s->dec, frame.p, frame.left, out + done, out_frames - done);
        if (n < 0)
            return done > 0 ? (long)done : n;
        s->erased = 0;
        done += (size_t)n;
    }
    return (long)done;
}

static long g723_conceal(void *state, const rtpproc_codec_spec *spec, int16_t *out, size_t frames)
{
    g723_state *s = state;
    size_t done = 0;

    if (spec->channels > 1)
        return RTPPROC_EUNSUPP;
    while (done + G723_FRAME_SAMPLES <= frames && s->erased < G723_MAX_ERASED) {
        long n = rp_lavc_decode(s->dec, g723_erased_frame, sizeof(g723_erased_frame), out + done,
                                frames - done);
        if (n <= 0)
            return done > 0 ? (long)done : n;
        s->erased++;
        done += (size_t)n;
    }
    return (long)done;
}

const rtpproc_codec rp_codec_g723 = {
    .name = "G723",
    .ws_name = "g723",
    .static_pt = 4,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = G723_RATE,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = g723_sample_rate,
    .create = g723_create,
    .destroy = g723_destroy,
    .max_frames = g723_max_frames,
    .decode = g723_decode,
    .conceal = g723_conceal,
    .runtime_library = rp_lavc_avcodec_soname,
};
