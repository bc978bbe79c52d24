/*
 * rtpproc - G.711 A-law (PCMA, PT 8) and u-law (PCMU, PT 0) decoders.
 *
 * specification: ITU-T G.711; RFC 3551 section 4.5.14. One byte per
 * sample; with several channels the samples of one sampling instant are
 * consecutive (RFC 3551 4.1). Decoding uses spandsp's alaw_to_linear() and
 * ulaw_to_linear() (spandsp also backs Wireshark's G.722/G.726 codecs; its
 * G.711 values equal Wireshark's G711decode.c tables), expanded once into
 * 256-entry tables.
 */
#include "rtpproc/codec.h"
#include "g711.h"

#include <glib.h>

/* spandsp's g711.h needs these two first; spandsp.h would also drag in libtiff. */
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_pcma;
extern const rtpproc_codec rp_codec_pcmu;

static int16_t alaw_table[256];
static int16_t ulaw_table[256];
/* The encoders for every 16-bit value (rp_g711_encoder): the same bytes as
 * calling linear_to_alaw()/linear_to_ulaw() per sample, which cost a
 * quarter of a run that stores PCMU as A-law. */
static uint8_t alaw_of[65536];
static uint8_t ulaw_of[65536];
static gsize tables_ready;

/* Fills the tables exactly once, safely against concurrent first use. */
static void init_tables(void)
{
    if (g_once_init_enter(&tables_ready)) {
        for (unsigned i = 0; i < 256; i++) {
            alaw_table[i] = alaw_to_linear((uint8_t)i);
            ulaw_table[i] = ulaw_to_linear((uint8_t)i);
        }
        for (unsigned i = 0; i < 65536; i++) {
            alaw_of[i] = linear_to_alaw((int16_t)(uint16_t)i);
            ulaw_of[i] = linear_to_ulaw((int16_t)(uint16_t)i);
        }
        g_once_init_leave(&tables_ready, 1);
    }
}

const uint8_t *rp_g711_encoder(enum rtpproc_native encoding)
{
    init_tables();
    return encoding == RTPPROC_NATIVE_ALAW ? alaw_of : ulaw_of;
}

static uint32_t law_sample_rate(uint32_t clock_rate)
{
    return clock_rate;
}

/* The decoder state is the lookup table itself: G.711 keeps no history. */
static void *pcma_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    init_tables();
    return alaw_table;
}

static void *pcmu_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    init_tables();
    return ulaw_table;
}

static void law_destroy(void *state)
{
    (void)state; /* static tables */
}

static size_t law_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    unsigned ch = spec->channels != 0 ? spec->channels : 1;
    return len / ch;
}

static long law_decode(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                       int16_t *out, size_t out_frames)
{
    const int16_t *table = state;
    unsigned ch = spec->channels != 0 ? spec->channels : 1;
    /* A trailing incomplete frame (len not a multiple of channels) is dropped. */
    size_t frames = len / ch;

    if (frames > out_frames)
        frames = out_frames;
    size_t n = frames * ch;
    for (size_t i = 0; i < n; i++)
        out[i] = table[in[i]];
    return (long)frames;
}

const rtpproc_codec rp_codec_pcma = {
    .name = "PCMA",
    .ws_name = "g711A",
    .static_pt = 8,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = 8000,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_ALAW,
    .sample_rate = law_sample_rate,
    .create = pcma_create,
    .destroy = law_destroy,
    .max_frames = law_max_frames,
    .decode = law_decode,
};

const rtpproc_codec rp_codec_pcmu = {
    .name = "PCMU",
    .ws_name = "g711U",
    .static_pt = 0,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = 8000,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_ULAW,
    .sample_rate = law_sample_rate,
    .create = pcmu_create,
    .destroy = law_destroy,
    .max_frames = law_max_frames,
    .decode = law_decode,
};
