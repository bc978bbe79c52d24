/*
 * rtpproc - Speex narrowband, wideband and ultra-wideband through libspeex.
 *
 * specification: RFC 5574 (RTP payload format); the Speex manual for the
 * bitstream. The mode follows the RTP clock, which RFC 5574 section 3 ties to the
 * sampling rate: 8000 narrowband (160-sample frames), 16000 wideband (320),
 * 32000 ultra-wideband (640); another clock gets the nearest mode at or
 * above it. One payload holds one or more 20 ms frames, packed bit after
 * bit, possibly padded with a terminator (RFC 5574 section 3). Speex in RTP is
 * mono; a spec with more channels (a wrong --pt-map) gets the mono signal
 * copied into each channel.
 *
 * Why the payload is walked before each frame is decoded: libspeex prints
 * "notification: Invalid mode encountered..." on stderr when it meets a
 * corrupt mode field, and the core never prints. walk() mirrors the mode
 * parsing of libspeex's nb_decode()/sb_decode() on a copy of the bit
 * reader, with every layer's size taken from the library itself
 * (SPEEX_SUBMODE_BITS_PER_FRAME), so the decoder only ever sees frames
 * whose mode fields are valid. A payload whose first frame is corrupt is
 * undecodable; a corrupt frame after good ones ends the payload there.
 */
#include "rtpproc/codec.h"

#include <stdlib.h>

#include <speex/speex.h>
#include <speex/speex_bits.h>

#include "cursor.h"

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_speex;

/* Frames decoded from one payload at most: 64 x 20 ms. RFC 5574 sets no
 * limit; this bounds max_frames() (real senders put 1 to 10 frames). */
#define SPEEXD_MAX_PACKET_FRAMES 64
/*
 * Bytes of a payload handed to libspeex. The largest frame is 880 bits
 * (narrowband mode 7, 492, + wideband layer 4, 352, + ultra-wideband layer
 * 1, 36), so 64 frames take at most 7040 bytes: bytes past this bound could
 * only hold frames past the 64th (or in-band padding), which are not decoded.
 */
#define SPEEXD_BUF_BYTES   8192
#define SPEEXD_NB_SUBMODES 16 /* 4-bit narrowband mode field */
#define SPEEXD_SB_SUBMODES 8  /* 3-bit wideband layer mode field */

enum walk_result { WALK_FRAME, WALK_END, WALK_CORRUPT };

typedef struct speexd_state {
    void *dec;
    int depth;      /* 0 narrowband, 1 wideband, 2 ultra-wideband */
    int frame_size; /* samples per 20 ms frame */
    /* Bits of a frame layer by mode field, -1 where the mode is invalid:
     * [0] narrowband (with its 5 header bits), [1] wideband and [2]
     * ultra-wideband extension layers (with their 4 header bits). */
    int layer_bits[3][SPEEXD_NB_SUBMODES];
    SpeexBits bits;
    char buf[SPEEXD_BUF_BYTES];
} speexd_state;

static int mode_id_for_clock(uint32_t clock_rate)
{
    if (clock_rate <= 8000)
        return SPEEX_MODEID_NB;
    if (clock_rate <= 16000)
        return SPEEX_MODEID_WB;
    return SPEEX_MODEID_UWB;
}

static uint32_t speexd_sample_rate(uint32_t clock_rate)
{
    static const uint32_t rates[] = {8000, 16000, 32000};
    return rates[mode_id_for_clock(clock_rate)];
}

static unsigned spec_channels(const rtpproc_codec_spec *spec)
{
    return spec->channels != 0 ? spec->channels : 1;
}

static void fill_layer_bits(int *out, int mode_id, int count)
{
    const SpeexMode *mode = speex_lib_get_mode(mode_id);
    for (int i = 0; i < SPEEXD_NB_SUBMODES; i++) {
        int v = i;
        if (i >= count || mode == NULL || speex_mode_query(mode, SPEEX_SUBMODE_BITS_PER_FRAME, &v))
            v = -1;
        out[i] = v;
    }
}

static void *speexd_create(const rtpproc_codec_spec *spec)
{
    int id = mode_id_for_clock(spec->clock_rate);
    const SpeexMode *mode = speex_lib_get_mode(id);
    if (mode == NULL)
        return NULL;
    speexd_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->dec = speex_decoder_init(mode);
    if (st->dec == NULL) {
        free(st);
        return NULL;
    }
    st->depth = id;
    speex_decoder_ctl(st->dec, SPEEX_GET_FRAME_SIZE, &st->frame_size);
    fill_layer_bits(st->layer_bits[0], SPEEX_MODEID_NB, SPEEXD_NB_SUBMODES);
    fill_layer_bits(st->layer_bits[1], SPEEX_MODEID_WB, SPEEXD_SB_SUBMODES);
    fill_layer_bits(st->layer_bits[2], SPEEX_MODEID_UWB, SPEEXD_SB_SUBMODES);
    if (st->frame_size <= 0 || st->layer_bits[0][0] <= 0) {
        speex_decoder_destroy(st->dec);
        free(st);
        return NULL;
    }
    return st;
}

static void speexd_destroy(void *state)
{
    speexd_state *st = state;
    if (st == NULL)
        return;
    speex_decoder_destroy(st->dec);
    free(st);
}

static size_t max_packet_frames(size_t len)
{
    /* The shortest frame is a 5-bit narrowband mode-0 frame. */
    size_t n = len * 8 / 5;
    return n < SPEEXD_MAX_PACKET_FRAMES ? n : SPEEXD_MAX_PACKET_FRAMES;
}

static size_t speexd_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    return max_packet_frames(len) * (speexd_sample_rate(spec->clock_rate) / 50);
}

/* Bits an unregistered in-band request carries (libspeex speex_inband_handler). */
static int inband_bits(unsigned id)
{
    if (id < 2)
        return 1;
    if (id < 8)
        return 4;
    if (id < 10)
        return 8;
    if (id < 12)
        return 16;
    if (id < 14)
        return 32;
    return 64;
}

/*
 * The narrowband part of a frame, as nb_decode() reads it: extension layers
 * a narrowband-only decoder skips, in-band requests, then the 4-bit mode.
 */
static enum walk_result walk_nb(const speexd_state *st, SpeexBits *w)
{
    for (;;) {
        if (speex_bits_remaining(w) < 5)
            return WALK_END;
        if (speex_bits_unpack_unsigned(w, 1)) {
            for (int layer = 0;; layer++) {
                unsigned sub = speex_bits_unpack_unsigned(w, 3);
                int bits = st->layer_bits[1][sub];
                /* nb_decode() cannot skip an empty or undefined layer
                 * (it reports corruption), so neither can we. */
                if (sub == 0 || bits < 4)
                    return WALK_CORRUPT;
                speex_bits_advance(w, bits - 4);
                if (layer == 0 && speex_bits_remaining(w) < 5)
                    return WALK_END;
                if (!speex_bits_unpack_unsigned(w, 1))
                    break;
                if (layer == 1)
                    return WALK_CORRUPT; /* a third extension layer */
            }
        }
        if (speex_bits_remaining(w) < 4)
            return WALK_END;
        unsigned m = speex_bits_unpack_unsigned(w, 4);
        if (m == 15)
            return WALK_END; /* terminator */
        if (m == 14) {
            speex_bits_advance(w, inband_bits(speex_bits_unpack_unsigned(w, 4)));
            continue;
        }
        if (m == 13) {
            /* User in-band data: 4-bit size, then 5 + 8 * size bits. */
            int size = (int)speex_bits_unpack_unsigned(w, 4);
            speex_bits_advance(w, 5 + 8 * size);
            continue;
        }
        int bits = st->layer_bits[0][m];
        if (bits < 5)
            return WALK_CORRUPT;
        speex_bits_advance(w, bits - 5);
        return WALK_FRAME;
    }
}

/* One frame for a decoder of `depth` layers, as sb_decode() reads it. */
static enum walk_result walk(const speexd_state *st, SpeexBits *w, int depth)
{
    if (depth == 0)
        return walk_nb(st, w);
    enum walk_result r = walk(st, w, depth - 1);
    if (r != WALK_FRAME)
        return r;
    /* No layer bit: the sender stopped at a lower band for this frame. */
    if (speex_bits_remaining(w) <= 0 || !speex_bits_peek(w))
        return WALK_FRAME;
    speex_bits_unpack_unsigned(w, 1);
    unsigned sub = speex_bits_unpack_unsigned(w, 3);
    if (sub == 0)
        return WALK_FRAME;
    int bits = st->layer_bits[depth][sub];
    if (bits < 4)
        return WALK_CORRUPT;
    speex_bits_advance(w, bits - 4);
    return WALK_FRAME;
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

static long speexd_decode(void *state, const rtpproc_codec_spec *spec, const uint8_t *in,
                          size_t len, int16_t *out, size_t out_frames)
{
    speexd_state *st = state;
    size_t fs = (size_t)st->frame_size;
    size_t limit = max_packet_frames(len);
    size_t done = 0;
    size_t take = len < SPEEXD_BUF_BYTES ? len : SPEEXD_BUF_BYTES;
    rp_cur c = rp_cur_make(in, len);

    /* A copy: libspeex's bit reader takes a non-const buffer. */
    if (!rp_bytes(&c, st->buf, take))
        return RTPPROC_EINVAL;
    speex_bits_set_bit_buffer(&st->bits, st->buf, (int)take);
    while (done < limit && (done + 1) * fs <= out_frames) {
        SpeexBits w = st->bits;
        enum walk_result r = walk(st, &w, st->depth);
        if (r == WALK_END)
            break;
        if (r == WALK_CORRUPT) {
            if (done == 0)
                return RTPPROC_EINVAL;
            break;
        }
        if (speex_decode_int(st->dec, &st->bits, out + done * fs) != 0)
            break;
        done++;
    }
    if (done == 0)
        return RTPPROC_EINVAL;
    spread_channels(out, done * fs, spec_channels(spec));
    return (long)(done * fs);
}

/* libspeex's packet-loss concealment, one 20 ms frame at a time. */
static long speexd_conceal(void *state, const rtpproc_codec_spec *spec, int16_t *out, size_t frames)
{
    speexd_state *st = state;
    size_t fs = (size_t)st->frame_size;
    size_t n = frames / fs;
    size_t done = 0;

    while (done < n && speex_decode_int(st->dec, NULL, out + done * fs) == 0)
        done++;
    if (done == 0 && n > 0)
        return RTPPROC_EINVAL;
    spread_channels(out, done * fs, spec_channels(spec));
    return (long)(done * fs);
}

const rtpproc_codec rp_codec_speex = {
    .name = "speex",
    .ws_name = NULL, /* Wireshark has no Speex codec plug-in */
    .static_pt = -1,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = 8000,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = speexd_sample_rate,
    .create = speexd_create,
    .destroy = speexd_destroy,
    .max_frames = speexd_max_frames,
    .decode = speexd_decode,
    .conceal = speexd_conceal,
};
