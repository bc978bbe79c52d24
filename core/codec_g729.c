/*
 * rtpproc - G.729, G.729 Annex A and Annex B (static PT 18) through bcg729.
 *
 * specification: ITU-T G.729 and its Annexes A and B; RFC 3551 section
 * 4.5.6. A payload is zero or more 10-byte frames (80 bits, 10 ms, 80
 * samples at 8000 Hz), optionally followed by ONE 2-byte Annex B SID frame
 * (comfort-noise parameters) at the end. G.729 and G.729A share the
 * bitstream, so one decoder serves both; bcg729 is the library behind
 * Wireshark's g729 codec plug-in (plugins/codecs/G729/G729decode.c), which
 * decodes every whole 10-byte frame the same way, so speech frames are
 * sample-exact with Wireshark.
 *
 * Where rtpproc deliberately differs from Wireshark 4.0: its plug-in ignores
 * the bytes after the last whole frame (checked with 4.0.17's g729.so: 12
 * bytes give 80 samples, a 2-byte SID alone none), so a trailing SID frame
 * gives no audio there, whereas here the SID is decoded by bcg729's Annex B
 * comfort noise generator. Packets with a SID frame therefore differ from
 * Wireshark by design (80 more samples of comfort noise). Any other remainder (1 or 3..9 bytes,
 * which RFC 3551 does not allow) is ignored after the whole frames are decoded, as in Wireshark; a
 * payload with neither a whole frame nor a SID frame is undecodable.
 *
 * G.729 is a mono codec. A spec with more channels (a wrong --pt-map) gets
 * the mono signal copied into each channel, so the recording keeps the
 * format it was opened with.
 */
#include "rtpproc/codec.h"

#include <stdlib.h>

#include <bcg729/decoder.h>

#include "cursor.h"

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_g729;

#define G729_FRAME_BYTES   10 /* 80 bits per 10 ms frame (G.729 table 8) */
#define G729_SID_BYTES     2  /* Annex B SID frame: 15 bits, padded to 2 bytes (RFC 3551 4.5.6) */
#define G729_FRAME_SAMPLES 80 /* 10 ms at 8000 Hz */

typedef struct g729_state {
    bcg729DecoderChannelContextStruct *dec;
} g729_state;

static uint32_t g729_sample_rate(uint32_t clock_rate)
{
    (void)clock_rate;
    return 8000; /* the codec's only rate (RFC 3551 table 4) */
}

static void *g729_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    g729_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->dec = initBcg729DecoderChannel();
    if (st->dec == NULL) {
        free(st);
        return NULL;
    }
    return st;
}

static void g729_destroy(void *state)
{
    g729_state *st = state;
    if (st == NULL)
        return;
    closeBcg729DecoderChannel(st->dec);
    free(st);
}

/* Whole frames, plus one for a trailing SID frame. */
static size_t g729_frame_count(size_t len)
{
    return len / G729_FRAME_BYTES + (len % G729_FRAME_BYTES == G729_SID_BYTES ? 1 : 0);
}

static size_t g729_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    (void)spec;
    return g729_frame_count(len) * G729_FRAME_SAMPLES;
}

/* Spreads `frames` mono samples at the start of `out` over `ch` channels, in place. */
static void spread_channels(int16_t *out, size_t frames, unsigned ch)
{
    if (ch <= 1)
        return;
    /* Backwards, so that each mono sample is read before a copy lands on it. */
    for (size_t i = frames; i-- > 0;) {
        int16_t v = out[i];
        for (unsigned c = 0; c < ch; c++)
            out[i * ch + c] = v;
    }
}

static unsigned spec_channels(const rtpproc_codec_spec *spec)
{
    return spec->channels != 0 ? spec->channels : 1;
}

static long g729_decode(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                        int16_t *out, size_t out_frames)
{
    g729_state *st = state;
    size_t whole = len / G729_FRAME_BYTES;
    bool sid = len % G729_FRAME_BYTES == G729_SID_BYTES;
    size_t room = out_frames / G729_FRAME_SAMPLES;
    size_t done = 0;
    rp_cur c = rp_cur_make(in, len);
    rp_cur frame;

    if (whole == 0 && !sid)
        return RTPPROC_EINVAL;
    /* Decoding into the first out_frames mono samples, spread at the end. */
    for (size_t i = 0; i < whole && done < room; i++) {
        if (!rp_sub(&c, G729_FRAME_BYTES, &frame))
            break; /* unreachable: whole frames are in the payload */
        bcg729Decoder(st->dec, frame.p, G729_FRAME_BYTES, 0, 0, 0, out + done * G729_FRAME_SAMPLES);
        done++;
    }
    /* The SID frame only follows every whole frame (RFC 3551 4.5.6). */
    if (sid && done == whole && done < room && rp_sub(&c, G729_SID_BYTES, &frame)) {
        bcg729Decoder(st->dec, frame.p, G729_SID_BYTES, 0, 1, 0, out + done * G729_FRAME_SAMPLES);
        done++;
    }
    spread_channels(out, done * G729_FRAME_SAMPLES, spec_channels(spec));
    return (long)(done * G729_FRAME_SAMPLES);
}

/*
 * G.729 section 4.4 frame erasure concealment, one 10 ms frame at a time.
 * After a SID or an erased frame following one, bcg729 keeps generating
 * comfort noise instead (its Annex B handling of erasures), which is what a
 * DTX gap should hold.
 */
static long g729_conceal(void *state, const rtpproc_codec_spec *spec, int16_t *out, size_t frames)
{
    g729_state *st = state;
    size_t n = frames / G729_FRAME_SAMPLES;

    for (size_t i = 0; i < n; i++)
        bcg729Decoder(st->dec, NULL, 0, 1, 0, 0, out + i * G729_FRAME_SAMPLES);
    spread_channels(out, n * G729_FRAME_SAMPLES, spec_channels(spec));
    return (long)(n * G729_FRAME_SAMPLES);
}

const rtpproc_codec rp_codec_g729 = {
    .name = "G729",
    .ws_name = "g729",
    .static_pt = 18,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = 8000,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = g729_sample_rate,
    .create = g729_create,
    .destroy = g729_destroy,
    .max_frames = g729_max_frames,
    .decode = g729_decode,
    .conceal = g729_conceal,
};
