/*
 * rtpproc - G.711 A-law (PCMA, PT 8) and u-law (PCMU, PT 0) decoders.
 *
 * specification: ITU-T G.711; RFC 3551 section 4.5.14. One byte per
 * sample; with several channels the samples of one sampling instant are
 * consecutive (RFC 3551 4.1). Decoding uses spandsp's alaw_to_linear() and
 * ulaw_to_linear() (spandsp also backs Wireshark's G.722/G.726 codecs; its
 * G.711 values equal Wireshark's G711decode.c tables), expanded once into
 * 256-entry tables; on CPUs with AVX2 the same values are computed from
 * the G.711 formulas 16 samples at a time (the unit tests compare every
 * byte value and every tail length).
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
 * quarter of a run that stores PCMU as A-law. Built only when a recording
 * is stored as G.711. */
static uint8_t alaw_of[65536];
static uint8_t ulaw_of[65536];
static gsize decode_ready, encode_ready;

static void alaw_by_table(const uint8_t *in, int16_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = alaw_table[in[i]];
}

static void ulaw_by_table(const uint8_t *in, int16_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = ulaw_table[in[i]];
}

#if defined(__x86_64__) && defined(__GNUC__)
#define RP_G711_AVX2 1
#include <immintrin.h>

/*
 * The expansion by the formulas of G.711 (as spandsp's alaw_to_linear and
 * ulaw_to_linear compute them), 16 samples per step: a table lookup per
 * sample was a third of all instructions of a G.711 extraction. AVX2 has
 * no per-lane 16-bit shift, so "<< segment" is a multiplication by a power
 * of two that pshufb looks up (the high byte of each lane indexes with bit
 * 7 set, which gives 0). The tail goes through the table.
 *
 * A-law: the even bits come inverted (xor 0x55); segment = bits 4-6,
 * mantissa = bits 0-3; magnitude (mantissa << 4) + 8 in segment 0, else
 * ((mantissa << 4) + 0x108) << (segment - 1); bit 7 set is positive.
 */
__attribute__((target("avx2"))) static void alaw_avx2(const uint8_t *in, int16_t *out, size_t n)
{
    const __m256i pow2 = _mm256_setr_epi8(1, 1, 2, 4, 8, 16, 32, 64, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
                                          2, 4, 8, 16, 32, 64, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i hi_zero = _mm256_set1_epi16((short)0x8000);
    const __m256i sign = _mm256_set1_epi16(0x80);
    size_t i = 0;

    for (; i + 16 <= n; i += 16) {
        __m256i a = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(in + i)));
        a = _mm256_xor_si256(a, _mm256_set1_epi16(0x55));
        __m256i mant = _mm256_slli_epi16(_mm256_and_si256(a, _mm256_set1_epi16(0x0F)), 4);
        __m256i seg = _mm256_srli_epi16(_mm256_and_si256(a, _mm256_set1_epi16(0x70)), 4);
        __m256i seg0 = _mm256_cmpeq_epi16(seg, _mm256_setzero_si256());
        __m256i bias = _mm256_blendv_epi8(_mm256_set1_epi16(0x108), _mm256_set1_epi16(8), seg0);
        __m256i scale = _mm256_shuffle_epi8(pow2, _mm256_or_si256(seg, hi_zero));
        __m256i mag = _mm256_mullo_epi16(_mm256_add_epi16(mant, bias), scale);
        __m256i positive = _mm256_cmpeq_epi16(_mm256_and_si256(a, sign), sign);
        __m256i v =
            _mm256_blendv_epi8(_mm256_sub_epi16(_mm256_setzero_si256(), mag), mag, positive);
        _mm256_storeu_si256((__m256i *)(void *)(out + i), v);
    }
    alaw_by_table(in + i, out + i, n - i);
}

/*
 * u-law: every bit comes inverted; magnitude
 * (((mantissa << 3) + 0x84) << segment) - 0x84; bit 7 set is negative.
 */
__attribute__((target("avx2"))) static void ulaw_avx2(const uint8_t *in, int16_t *out, size_t n)
{
    const __m256i pow2 =
        _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)128, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 16,
                         32, 64, (char)128, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i hi_zero = _mm256_set1_epi16((short)0x8000);
    const __m256i bias = _mm256_set1_epi16(0x84);
    const __m256i sign = _mm256_set1_epi16(0x80);
    size_t i = 0;

    for (; i + 16 <= n; i += 16) {
        __m256i u = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(in + i)));
        u = _mm256_xor_si256(u, _mm256_set1_epi16(0xFF));
        __m256i mant = _mm256_slli_epi16(_mm256_and_si256(u, _mm256_set1_epi16(0x0F)), 3);
        __m256i seg = _mm256_srli_epi16(_mm256_and_si256(u, _mm256_set1_epi16(0x70)), 4);
        __m256i scale = _mm256_shuffle_epi8(pow2, _mm256_or_si256(seg, hi_zero));
        __m256i t = _mm256_mullo_epi16(_mm256_add_epi16(mant, bias), scale);
        __m256i negative = _mm256_cmpeq_epi16(_mm256_and_si256(u, sign), sign);
        __m256i v =
            _mm256_blendv_epi8(_mm256_sub_epi16(t, bias), _mm256_sub_epi16(bias, t), negative);
        _mm256_storeu_si256((__m256i *)(void *)(out + i), v);
    }
    ulaw_by_table(in + i, out + i, n - i);
}

/*
 * The same formulas 32 samples per step with AVX-512BW, which has the
 * per-lane 16-bit shift (vpsllvw) and masked subtraction the AVX2 code
 * builds from pshufb and blends: the G.711 files' expansion now runs on
 * the writer thread, the busier of the two at 10 000 streams (issue 7).
 */
__attribute__((target("avx512f,avx512bw"))) static void alaw_avx512(const uint8_t *in, int16_t *out,
                                                                    size_t n)
{
    const __m512i x55 = _mm512_set1_epi16(0x55);
    const __m512i low = _mm512_set1_epi16(0x0F);
    const __m512i segs = _mm512_set1_epi16(0x70);
    const __m512i one = _mm512_set1_epi16(1);
    const __m512i sign = _mm512_set1_epi16(0x80);
    size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        __m512i a =
            _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(in + i)));
        a = _mm512_xor_si512(a, x55);
        __m512i mant = _mm512_slli_epi16(_mm512_and_si512(a, low), 4);
        __m512i seg = _mm512_srli_epi16(_mm512_and_si512(a, segs), 4);
        __mmask32 seg0 = _mm512_cmpeq_epi16_mask(seg, _mm512_setzero_si512());
        __m512i bias =
            _mm512_mask_blend_epi16(seg0, _mm512_set1_epi16(0x108), _mm512_set1_epi16(8));
        __m512i mag = _mm512_sllv_epi16(_mm512_add_epi16(mant, bias), _mm512_subs_epu16(seg, one));
        __mmask32 negative = _mm512_testn_epi16_mask(a, sign);
        __m512i v = _mm512_mask_sub_epi16(mag, negative, _mm512_setzero_si512(), mag);
        _mm512_storeu_si512((void *)(out + i), v);
    }
    alaw_avx2(in + i, out + i, n - i);
}

__attribute__((target("avx512f,avx512bw"))) static void ulaw_avx512(const uint8_t *in, int16_t *out,
                                                                    size_t n)
{
    const __m512i xff = _mm512_set1_epi16(0xFF);
    const __m512i low = _mm512_set1_epi16(0x0F);
    const __m512i segs = _mm512_set1_epi16(0x70);
    const __m512i bias = _mm512_set1_epi16(0x84);
    const __m512i sign = _mm512_set1_epi16(0x80);
    size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        __m512i u =
            _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(in + i)));
        u = _mm512_xor_si512(u, xff);
        __m512i mant = _mm512_slli_epi16(_mm512_and_si512(u, low), 3);
        __m512i seg = _mm512_srli_epi16(_mm512_and_si512(u, segs), 4);
        __m512i t = _mm512_sllv_epi16(_mm512_add_epi16(mant, bias), seg);
        __mmask32 negative = _mm512_test_epi16_mask(u, sign);
        __m512i v = _mm512_mask_sub_epi16(_mm512_sub_epi16(t, bias), negative, bias, t);
        _mm512_storeu_si512((void *)(out + i), v);
    }
    ulaw_avx2(in + i, out + i, n - i);
}
#endif

static rp_g711_impl impls[3] = {{"table", alaw_by_table, ulaw_by_table}};
static size_t nimpls = 1;

/* Fills the decode tables and picks the expansion, once, safely against
 * concurrent first use (--threads workers). */
static void init_decode(void)
{
    if (g_once_init_enter(&decode_ready)) {
        for (unsigned i = 0; i < 256; i++) {
            alaw_table[i] = alaw_to_linear((uint8_t)i);
            ulaw_table[i] = ulaw_to_linear((uint8_t)i);
        }
#ifdef RP_G711_AVX2
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2"))
            impls[nimpls++] = (rp_g711_impl){"avx2", alaw_avx2, ulaw_avx2};
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") &&
            __builtin_cpu_supports("avx512bw"))
            impls[nimpls++] = (rp_g711_impl){"avx512", alaw_avx512, ulaw_avx512};
#endif
        g_once_init_leave(&decode_ready, 1);
    }
}

const rp_g711_impl *rp_g711_impls(size_t *count)
{
    init_decode();
    *count = nimpls;
    return impls;
}

void rp_g711_expand(enum rtpproc_native law, const uint8_t *in, int16_t *out, size_t n)
{
    const rp_g711_impl *best = &impls[nimpls - 1];

    init_decode();
    if (law == RTPPROC_NATIVE_ALAW)
        best->alaw(in, out, n);
    else
        best->ulaw(in, out, n);
}

const uint8_t *rp_g711_encoder(enum rtpproc_native encoding)
{
    if (g_once_init_enter(&encode_ready)) {
        for (unsigned i = 0; i < 65536; i++) {
            alaw_of[i] = linear_to_alaw((int16_t)(uint16_t)i);
            ulaw_of[i] = linear_to_ulaw((int16_t)(uint16_t)i);
        }
        g_once_init_leave(&encode_ready, 1);
    }
    return encoding == RTPPROC_NATIVE_ALAW ? alaw_of : ulaw_of;
}

static uint32_t law_sample_rate(uint32_t clock_rate)
{
    return clock_rate;
}

/* G.711 keeps no history: the decoder state only says which law (never
 * written, shared by every stream). */
static enum rtpproc_native pcma_law = RTPPROC_NATIVE_ALAW;
static enum rtpproc_native pcmu_law = RTPPROC_NATIVE_ULAW;

static void *pcma_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    init_decode();
    return &pcma_law;
}

static void *pcmu_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    init_decode();
    return &pcmu_law;
}

static void law_destroy(void *state)
{
    (void)state; /* static */
}

static size_t law_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    unsigned ch = spec->channels != 0 ? spec->channels : 1;
    return len / ch;
}

static long law_decode(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                       int16_t *out, size_t out_frames)
{
    const enum rtpproc_native *law = state;
    unsigned ch = spec->channels != 0 ? spec->channels : 1;
    /* A trailing incomplete frame (len not a multiple of channels) is dropped. */
    size_t frames = len / ch;

    if (frames > out_frames)
        frames = out_frames;
    rp_g711_expand(*law, in, out, frames * ch);
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
