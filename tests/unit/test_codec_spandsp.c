/*
 * Unit tests of the spandsp-backed codecs: G.722, G.726 (both packings, all
 * four rates), GSM 06.10 and DVI4 (suite "codec_spandsp").
 *
 * Each codec encodes a known two-tone signal with spandsp's own encoder,
 * decodes it packet by packet through the rtpproc descriptor and compares
 * with spandsp's decoder run over the whole stream (sample-exact) and with
 * the source (SNR, at the codec's delay). Bit packings and the DVI4 header
 * are checked against hand-built payloads, independently of spandsp's
 * packers. Short, garbage and oversized payloads must return a negative
 * status or at most max_frames frames, never crash (run under ASan in the
 * sanitizer build).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#include <spandsp/g726.h>
#include <spandsp/gsm0610.h>
#include <spandsp/ima_adpcm.h>

#include "rtpproc/codec.h"
#include "suite.h"

CU_pSuite rtpproc_test_codec_spandsp_suite(void);

#define TONE_MAX_SAMPLES 48000

/* 0.4 sin(2 pi 440 t) + 0.3 sin(2 pi 1000 t), the captures' signal. */
static void make_tone(int16_t *out, size_t n, unsigned rate)
{
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        double v = 0.4 * sin(2 * M_PI * 440 * t) + 0.3 * sin(2 * M_PI * 1000 * t);
        out[i] = (int16_t)lrint(v * 32767);
    }
}

/* SNR in dB of `dec` delayed by `lag` against `ref`, over ref[skip..n). */
static double snr_db(const int16_t *ref, const int16_t *dec, size_t n, size_t lag, size_t skip)
{
    double es = 0, ee = 0;
    for (size_t i = skip; i + lag < n; i++) {
        double d = (double)ref[i] - dec[i + lag];
        es += (double)ref[i] * ref[i];
        ee += d * d;
    }
    return ee == 0 ? 999 : 10 * log10(es / ee);
}

/* The best SNR over lags 0..maxlag (the codec's delay is not our concern). */
static double best_snr_db(const int16_t *ref, const int16_t *dec, size_t n, size_t maxlag,
                          size_t skip, size_t *lag_out)
{
    double best = -1000;
    for (size_t lag = 0; lag <= maxlag; lag++) {
        double s = snr_db(ref, dec, n, lag, skip);
        if (s > best) {
            best = s;
            *lag_out = lag;
        }
    }
    return best;
}

static const rtpproc_codec *need_codec(const char *name)
{
    const rtpproc_codec *c = rtpproc_codec_find_by_name(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    return c;
}

/*
 * Decodes `len` bytes split into packets of `pkt` bytes through the
 * descriptor; every packet must give exactly `frames_per_pkt` frames (0: any
 * positive count up to max_frames). Returns the frames written to `out`.
 */
static size_t decode_packets(const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                             size_t pkt, long frames_per_pkt, int16_t *out, size_t cap)
{
    const rtpproc_codec *c = spec->codec;
    void *st = c->create(spec);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    size_t total = 0;
    for (size_t off = 0; off < len; off += pkt) {
        size_t n = len - off < pkt ? len - off : pkt;
        size_t maxf = c->max_frames(spec, n);
        CU_ASSERT_FATAL(total + maxf <= cap);
        long got = c->decode(st, spec, in + off, n, out + total, maxf);
        if (frames_per_pkt > 0)
            CU_ASSERT_EQUAL(got, frames_per_pkt);
        CU_ASSERT(got > 0 && (size_t)got <= maxf);
        if (got > 0)
            total += (size_t)got;
    }
    c->destroy(st);
    return total;
}

/* Feeds payloads of every length 0..max_len of `fill` bytes; none may crash. */
static void feed_garbage(const rtpproc_codec_spec *spec, size_t max_len)
{
    const rtpproc_codec *c = spec->codec;
    static uint8_t junk[2048];
    static int16_t out[2048 * 4 * 2];
    unsigned seed = 12345;
    for (size_t i = 0; i < sizeof(junk); i++) {
        seed = seed * 1103515245u + 12345u;
        junk[i] = (uint8_t)(seed >> 16);
    }
    void *st = c->create(spec);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    for (size_t len = 0; len <= max_len && len <= sizeof(junk); len++) {
        size_t maxf = c->max_frames(spec, len);
        CU_ASSERT_FATAL(maxf * spec->channels <= sizeof(out) / sizeof(out[0]));
        long got = c->decode(st, spec, junk, len, out, maxf);
        CU_ASSERT(got <= (long)maxf);
        if (len == 0)
            CU_ASSERT(got < 0);
        /* Less room than needed: never written past out_frames. */
        if (maxf > 1) {
            out[maxf / 2] = 0x5555;
            got = c->decode(st, spec, junk, len, out, maxf / 2);
            CU_ASSERT(got <= (long)(maxf / 2));
            CU_ASSERT_EQUAL(out[maxf / 2], 0x5555);
        }
    }
    c->destroy(st);
}

/* ---- G.722 ---- */

static void test_g722_matches_spandsp_and_source(void)
{
    static int16_t tone[TONE_MAX_SAMPLES], ref[TONE_MAX_SAMPLES], dec[TONE_MAX_SAMPLES];
    static uint8_t bits[TONE_MAX_SAMPLES];
    const size_t n = 16000; /* 1 s at 16 kHz */
    make_tone(tone, n, 16000);
    g722_encode_state_t *enc = g722_encode_init(NULL, 64000, 0);
    int nbytes = g722_encode(enc, bits, tone, (int)n);
    g722_encode_free(enc);
    CU_ASSERT_EQUAL_FATAL(nbytes, (int)n / 2);

    g722_decode_state_t *d = g722_decode_init(NULL, 64000, 0);
    CU_ASSERT_EQUAL(g722_decode(d, ref, bits, nbytes), (int)n);
    g722_decode_free(d);

    rtpproc_codec_spec spec;
    rtpproc_codec_spec_make(need_codec("G722"), 0, 0, &spec);
    /* 20 ms packets: 160 octets, 320 samples at 16 kHz. */
    size_t got = decode_packets(&spec, bits, (size_t)nbytes, 160, 320, dec, TONE_MAX_SAMPLES);
    CU_ASSERT_EQUAL(got, n);
    CU_ASSERT_EQUAL(memcmp(dec, ref, n * sizeof(int16_t)), 0);

    size_t lag = 0;
    double snr = best_snr_db(tone, dec, n, 64, 320, &lag);
    printf("\n    G.722: SNR %.1f dB at lag %zu ", snr, lag);
    CU_ASSERT(snr > 30.0);             /* measured 39 dB */
    CU_ASSERT(lag >= 16 && lag <= 30); /* QMF delay, about 22 samples */
}

static void test_g722_rates_and_static_pt(void)
{
    const rtpproc_codec *c = need_codec("G722");
    CU_ASSERT_STRING_EQUAL(c->ws_name, "g722");
    CU_ASSERT_EQUAL(c->static_pt, 9);
    CU_ASSERT_EQUAL(c->kind, RTPPROC_KIND_AUDIO);
    CU_ASSERT_PTR_NULL(c->conceal);
    CU_ASSERT_EQUAL(c->sample_rate(8000), 16000);
    /* A "G722/16000" peer still sends 16 kHz audio. */
    CU_ASSERT_EQUAL(c->sample_rate(16000), 16000);
    rtpproc_codec_spec spec;
    CU_ASSERT_EQUAL(rtpproc_codec_spec_for_static_pt(9, &spec), RTPPROC_OK);
    CU_ASSERT_PTR_EQUAL(spec.codec, c);
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);
    CU_ASSERT_EQUAL(spec.sample_rate, 16000);
    CU_ASSERT_EQUAL(spec.channels, 1);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 160), 320);
}

static void test_g722_garbage_and_limits(void)
{
    rtpproc_codec_spec spec;
    rtpproc_codec_spec_make(need_codec("G722"), 0, 0, &spec);
    feed_garbage(&spec, 700);
    /* Every octet is a valid G.722 codeword pair: garbage still decodes. */
    void *st = spec.codec->create(&spec);
    int16_t out[8];
    const uint8_t in[4] = {0x12, 0x34, 0x56, 0x78};
    CU_ASSERT_EQUAL(spec.codec->decode(st, &spec, in, 4, out, 8), 8);
    CU_ASSERT_EQUAL(spec.codec->decode(st, &spec, in, 4, out, 5), 4); /* 2 whole octets fit */
    CU_ASSERT(spec.codec->decode(st, &spec, in, 4, out, 1) < 0);      /* not one octet */
    spec.codec->destroy(st);
}

static void test_g722_stereo_spec_copies_mono(void)
{
    rtpproc_codec_spec mono, stereo;
    rtpproc_codec_spec_make(need_codec("G722"), 8000, 1, &mono);
    rtpproc_codec_spec_make(need_codec("G722"), 8000, 2, &stereo);
    uint8_t in[40];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 37);
    int16_t a[80], b[160];
    void *s1 = mono.codec->create(&mono), *s2 = stereo.codec->create(&stereo);
    CU_ASSERT_EQUAL(mono.codec->decode(s1, &mono, in, sizeof(in), a, 80), 80);
    CU_ASSERT_EQUAL(stereo.codec->decode(s2, &stereo, in, sizeof(in), b, 80), 80);
    for (size_t i = 0; i < 80; i++) {
        CU_ASSERT_EQUAL(b[2 * i], a[i]);
        CU_ASSERT_EQUAL(b[2 * i + 1], a[i]);
    }
    mono.codec->destroy(s1);
    stereo.codec->destroy(s2);
}

/* ---- G.726 ---- */

static const struct g726_case {
    const char *name;
    unsigned bits;
    int packing;
    double min_snr; /* dB, a few dB below the value measured here */
} g726_cases[] = {
    {"G726-16", 2, G726_PACKING_RIGHT, 6.0},      {"G726-24", 3, G726_PACKING_RIGHT, 12.0},
    {"G726-32", 4, G726_PACKING_RIGHT, 20.0},     {"G726-40", 5, G726_PACKING_RIGHT, 26.0},
    {"AAL2-G726-16", 2, G726_PACKING_LEFT, 6.0},  {"AAL2-G726-24", 3, G726_PACKING_LEFT, 12.0},
    {"AAL2-G726-32", 4, G726_PACKING_LEFT, 20.0}, {"AAL2-G726-40", 5, G726_PACKING_LEFT, 26.0},
};

static void test_g726_matches_spandsp_and_source(void)
{
    static int16_t tone[TONE_MAX_SAMPLES], ref[TONE_MAX_SAMPLES], dec[TONE_MAX_SAMPLES];
    static uint8_t bits[TONE_MAX_SAMPLES];
    const size_t n = 8000; /* 1 s at 8 kHz */
    make_tone(tone, n, 8000);
    printf("\n");
    for (size_t k = 0; k < sizeof(g726_cases) / sizeof(g726_cases[0]); k++) {
        const struct g726_case *t = &g726_cases[k];
        int rate = (int)t->bits * 8000;
        g726_state_t *enc = g726_init(NULL, rate, G726_ENCODING_LINEAR, t->packing);
        int nbytes = g726_encode(enc, bits, tone, (int)n);
        g726_free(enc);
        CU_ASSERT_EQUAL_FATAL((size_t)nbytes, n * t->bits / 8);
        g726_state_t *d = g726_init(NULL, rate, G726_ENCODING_LINEAR, t->packing);
        CU_ASSERT_EQUAL(g726_decode(d, ref, bits, nbytes), (int)n);
        g726_free(d);

        const rtpproc_codec *c = need_codec(t->name);
        CU_ASSERT_STRING_EQUAL(c->ws_name, t->name);
        CU_ASSERT_EQUAL(c->static_pt, -1);
        CU_ASSERT_PTR_NULL(c->conceal);
        rtpproc_codec_spec spec;
        rtpproc_codec_spec_make(c, 0, 0, &spec);
        CU_ASSERT_EQUAL(spec.clock_rate, 8000);
        CU_ASSERT_EQUAL(spec.sample_rate, 8000);
        /* 20 ms packets: 160 codewords. */
        size_t got = decode_packets(&spec, bits, (size_t)nbytes, 160 * t->bits / 8, 160, dec,
                                    TONE_MAX_SAMPLES);
        CU_ASSERT_EQUAL(got, n);
        CU_ASSERT_EQUAL(memcmp(dec, ref, n * sizeof(int16_t)), 0);
        size_t lag = 0;
        double snr = best_snr_db(tone, dec, n, 8, 160, &lag);
        printf("    %s: SNR %.1f dB at lag %zu\n", t->name, snr, lag);
        CU_ASSERT(snr > t->min_snr);
        CU_ASSERT_EQUAL(lag, 0); /* G.726 has no algorithmic delay */
    }
}

/* Packs 16 codewords as RFC 3551 4.5.4 (LSB first) or I.366.2 (MSB first). */
static size_t pack_codes(const uint8_t *codes, size_t n, unsigned bits, bool msb_first,
                         uint8_t *out)
{
    size_t nbits = n * bits;
    memset(out, 0, (nbits + 7) / 8);
    for (size_t k = 0; k < n; k++) {
        for (unsigned b = 0; b < bits; b++) {
            size_t pos = k * bits + b; /* bit index in the stream */
            unsigned v;
            if (msb_first) {
                v = (codes[k] >> (bits - 1 - b)) & 1u;
                out[pos / 8] |= (uint8_t)(v << (7 - pos % 8));
            } else {
                v = (codes[k] >> b) & 1u;
                out[pos / 8] |= (uint8_t)(v << (pos % 8));
            }
        }
    }
    return (nbits + 7) / 8;
}

static void test_g726_bit_packings_by_hand(void)
{
    for (size_t k = 0; k < sizeof(g726_cases) / sizeof(g726_cases[0]); k++) {
        const struct g726_case *t = &g726_cases[k];
        uint8_t codes[16], payload[16];
        for (size_t i = 0; i < 16; i++)
            codes[i] = (uint8_t)((i * 7 + 3) & ((1u << t->bits) - 1));
        /* 16 codewords of 2..5 bits are whole octets (4..10). */
        size_t len = pack_codes(codes, 16, t->bits, t->packing == G726_PACKING_LEFT, payload);

        int16_t want[16], have[16];
        g726_state_t *d = g726_init(NULL, (int)t->bits * 8000, G726_ENCODING_LINEAR,
                                    G726_PACKING_NONE); /* one codeword per octet */
        CU_ASSERT_EQUAL(g726_decode(d, want, codes, 16), 16);
        g726_free(d);

        rtpproc_codec_spec spec;
        rtpproc_codec_spec_make(need_codec(t->name), 0, 0, &spec);
        void *st = spec.codec->create(&spec);
        CU_ASSERT_EQUAL(spec.codec->decode(st, &spec, payload, len, have, 16), 16);
        CU_ASSERT_EQUAL(memcmp(want, have, sizeof(want)), 0);
        spec.codec->destroy(st);
    }
}

static void test_g726_leftover_bits_carry_to_next_payload(void)
{
    static int16_t tone[1600], whole[1600], split[1600 + 8];
    static uint8_t bits[1600];
    make_tone(tone, 1600, 8000);
    const char *names[] = {"G726-24", "AAL2-G726-40"};
    const int packing[] = {G726_PACKING_RIGHT, G726_PACKING_LEFT};
    const int rate[] = {24000, 40000};
    for (size_t k = 0; k < 2; k++) {
        g726_state_t *enc = g726_init(NULL, rate[k], G726_ENCODING_LINEAR, packing[k]);
        int nbytes = g726_encode(enc, bits, tone, 1600);
        g726_free(enc);
        rtpproc_codec_spec spec;
        rtpproc_codec_spec_make(need_codec(names[k]), 0, 0, &spec);
        size_t a = decode_packets(&spec, bits, (size_t)nbytes, (size_t)nbytes, 1600, whole, 1600);
        /* 7-octet payloads end mid-codeword: the rest must start the next one. */
        size_t b = decode_packets(&spec, bits, (size_t)nbytes, 7, 0, split, 1600 + 8);
        CU_ASSERT_EQUAL(a, 1600);
        CU_ASSERT_EQUAL(b, 1600);
        CU_ASSERT_EQUAL(memcmp(whole, split, sizeof(whole)), 0);
    }
}

static void test_g726_garbage_and_limits(void)
{
    for (size_t k = 0; k < sizeof(g726_cases) / sizeof(g726_cases[0]); k++) {
        rtpproc_codec_spec spec;
        rtpproc_codec_spec_make(need_codec(g726_cases[k].name), 0, 0, &spec);
        feed_garbage(&spec, 300);
        /* max_frames allows for bits-1 carried bits. */
        unsigned bits = g726_cases[k].bits;
        CU_ASSERT_EQUAL(spec.codec->max_frames(&spec, 1), (8 + bits - 1) / bits);
    }
    CU_ASSERT_PTR_NULL(rtpproc_codec_find_by_name("G726"));
    CU_ASSERT_PTR_EQUAL(rtpproc_codec_find_by_name("aal2-g726-32"),
                        rtpproc_codec_find_by_name("AAL2-G726-32"));
}

/* ---- GSM 06.10 ---- */

static void test_gsm_matches_spandsp_and_source(void)
{
    static int16_t tone[TONE_MAX_SAMPLES], ref[TONE_MAX_SAMPLES], dec[TONE_MAX_SAMPLES];
    static uint8_t bits[TONE_MAX_SAMPLES];
    const size_t n = 8000; /* 50 frames */
    make_tone(tone, n, 8000);
    gsm0610_state_t *enc = gsm0610_init(NULL, GSM0610_PACKING_VOIP);
    int nbytes = gsm0610_encode(enc, bits, tone, (int)n);
    gsm0610_free(enc);
    CU_ASSERT_EQUAL_FATAL(nbytes, 50 * 33);
    gsm0610_state_t *d = gsm0610_init(NULL, GSM0610_PACKING_VOIP);
    CU_ASSERT_EQUAL(gsm0610_decode(d, ref, bits, nbytes), (int)n);
    gsm0610_free(d);

    rtpproc_codec_spec spec;
    rtpproc_codec_spec_make(need_codec("GSM"), 0, 0, &spec);
    /* Two frames (40 ms) per packet. */
    size_t got = decode_packets(&spec, bits, (size_t)nbytes, 66, 320, dec, TONE_MAX_SAMPLES);
    CU_ASSERT_EQUAL(got, n);
    CU_ASSERT_EQUAL(memcmp(dec, ref, n * sizeof(int16_t)), 0);
    size_t lag = 0;
    double snr = best_snr_db(tone, dec, n, 8, 320, &lag);
    printf("\n    GSM: SNR %.1f dB at lag %zu ", snr, lag);
    CU_ASSERT(snr > 18.0); /* measured 21.3 dB */
}

static void test_gsm_partial_and_bad_frames(void)
{
    static int16_t tone[480], out[480 * 2];
    static uint8_t bits[3 * 33 + 10];
    make_tone(tone, 480, 8000);
    gsm0610_state_t *enc = gsm0610_init(NULL, GSM0610_PACKING_VOIP);
    CU_ASSERT_EQUAL_FATAL(gsm0610_encode(enc, bits, tone, 480), 99);
    gsm0610_free(enc);
    memset(bits + 99, 0xDD, 10);

    rtpproc_codec_spec spec;
    rtpproc_codec_spec_make(need_codec("GSM"), 0, 0, &spec);
    const rtpproc_codec *c = spec.codec;
    void *st = c->create(&spec);
    /* Trailing octets that are no whole frame are ignored. */
    CU_ASSERT_EQUAL(c->max_frames(&spec, 109), 480);
    CU_ASSERT_EQUAL(c->decode(st, &spec, bits, 109, out, 480), 480);
    CU_ASSERT_EQUAL(c->decode(st, &spec, bits, 65, out, 480), 160);
    /* Less than one frame: undecodable. */
    CU_ASSERT_EQUAL(c->max_frames(&spec, 32), 0);
    CU_ASSERT(c->decode(st, &spec, bits, 32, out, 480) < 0);
    CU_ASSERT(c->decode(st, &spec, bits, 0, out, 480) < 0);
    /* A frame without the 0xD signature: the payload is not GSM. */
    uint8_t bad[66];
    memcpy(bad, bits, 66);
    bad[33] = (uint8_t)((bad[33] & 0x0F) | 0xC0);
    CU_ASSERT(c->decode(st, &spec, bad, 66, out, 480) < 0);
    /* Output room for one frame: one frame decoded. */
    CU_ASSERT_EQUAL(c->decode(st, &spec, bits, 99, out, 200), 160);
    c->destroy(st);
    feed_garbage(&spec, 400);
}

static void test_gsm_static_pt(void)
{
    const rtpproc_codec *c = need_codec("GSM");
    CU_ASSERT_STRING_EQUAL(c->ws_name, "GSM");
    CU_ASSERT_EQUAL(c->static_pt, 3);
    CU_ASSERT_PTR_NULL(c->conceal);
    rtpproc_codec_spec spec;
    CU_ASSERT_EQUAL(rtpproc_codec_spec_for_static_pt(3, &spec), RTPPROC_OK);
    CU_ASSERT_PTR_EQUAL(spec.codec, c);
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);
    CU_ASSERT_EQUAL(spec.sample_rate, 8000);
    CU_ASSERT_EQUAL(spec.channels, 1);
}

/* ---- DVI4 ---- */

static void test_dvi4_header_and_nibble_order_by_hand(void)
{
    /*
     * predict 1000 (0x03E8), step index 0 (step 7), reserved 0xAB (ignored);
     * codewords 7, 0, 0, 8, high nibble first (RFC 3551 4.5.1):
     *   7: diff = 7>>3 + 7>>2 + 7>>1 + 7 = 11 -> 1011, index 8 (step 16)
     *   0: diff = 16>>3 = 2            -> 1013, index 7 (step 14)
     *   0: diff = 14>>3 = 1            -> 1014, index 6 (step 13)
     *   8: diff = -(13>>3) = -1        -> 1013, index 5
     * The header value itself is not a sample.
     */
    const uint8_t pkt[] = {0x03, 0xE8, 0x00, 0xAB, 0x70, 0x08};
    const int16_t want[] = {1011, 1013, 1014, 1013};
    /*
     * predict -200 (0xFF38), index 88 (step 32767), codewords 0, 8:
     *   0: diff = 32767>>3 = 4095       -> 3895, index 87 (step 29794)
     *   8: diff = -(29794>>3) = -3724   -> 171
     */
    const uint8_t pkt2[] = {0xFF, 0x38, 88, 0x00, 0x08};
    const int16_t want2[] = {3895, 171};
    int16_t out[8];

    rtpproc_codec_spec spec;
    rtpproc_codec_spec_make(need_codec("DVI4"), 8000, 0, &spec);
    void *st = spec.codec->create(&spec);
    CU_ASSERT_EQUAL(spec.codec->max_frames(&spec, sizeof(pkt)), 4);
    CU_ASSERT_EQUAL(spec.codec->decode(st, &spec, pkt, sizeof(pkt), out, 8), 4);
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);
    /* Each packet's header re-seeds the predictor: decoding again is the same. */
    CU_ASSERT_EQUAL(spec.codec->decode(st, &spec, pkt, sizeof(pkt), out, 8), 4);
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);
    CU_ASSERT_EQUAL(spec.codec->decode(st, &spec, pkt2, sizeof(pkt2), out, 8), 2);
    CU_ASSERT_EQUAL(memcmp(out, want2, sizeof(want2)), 0);
    spec.codec->destroy(st);
}

static void test_dvi4_matches_spandsp_and_source(void)
{
    static int16_t tone[TONE_MAX_SAMPLES], ref[TONE_MAX_SAMPLES], dec[TONE_MAX_SAMPLES];
    static uint8_t pkt[TONE_MAX_SAMPLES];
    const unsigned rates[] = {8000, 16000, 11025, 22050};
    printf("\n");
    for (size_t r = 0; r < 4; r++) {
        /* About 20 ms, even (two samples per octet): 441 at 22050 Hz -> 440. */
        const size_t spp = rates[r] / 50 & ~(size_t)1;
        const size_t n = spp * 25; /* 0.5 s */
        make_tone(tone, n, rates[r]);
        ima_adpcm_state_t *enc = ima_adpcm_init(NULL, IMA_ADPCM_DVI4, 0);
        ima_adpcm_state_t *d = ima_adpcm_init(NULL, IMA_ADPCM_DVI4, 0);
        rtpproc_codec_spec spec;
        rtpproc_codec_spec_make(need_codec("DVI4"), rates[r], 0, &spec);
        CU_ASSERT_EQUAL(spec.sample_rate, rates[r]);
        void *st = spec.codec->create(&spec);
        size_t total = 0;
        for (size_t off = 0; off < n; off += spp) {
            /* spandsp writes the RFC 3551 header for each call (chunk size 0). */
            int len = ima_adpcm_encode(enc, pkt, tone + off, (int)spp);
            CU_ASSERT_EQUAL_FATAL(len, (int)(4 + spp / 2));
            CU_ASSERT_EQUAL(ima_adpcm_decode(d, ref + off, pkt, len), (int)spp);
            long got = spec.codec->decode(st, &spec, pkt, (size_t)len, dec + off, spp);
            CU_ASSERT_EQUAL(got, (long)spp);
            total += got > 0 ? (size_t)got : 0;
        }
        spec.codec->destroy(st);
        ima_adpcm_free(enc);
        ima_adpcm_free(d);
        CU_ASSERT_EQUAL(total, n);
        CU_ASSERT_EQUAL(memcmp(dec, ref, n * sizeof(int16_t)), 0);
        size_t lag = 0;
        double snr = best_snr_db(tone, dec, n, 4, spp, &lag);
        printf("    DVI4 %u Hz: SNR %.1f dB at lag %zu\n", rates[r], snr, lag);
        CU_ASSERT(snr > 22.0); /* measured 25.2 (8 kHz) to 35.0 dB (22.05 kHz) */
        CU_ASSERT_EQUAL(lag, 0);
    }
}

static void test_dvi4_bad_headers(void)
{
    rtpproc_codec_spec spec;
    rtpproc_codec_spec_make(need_codec("DVI4"), 8000, 0, &spec);
    const rtpproc_codec *c = spec.codec;
    void *st = c->create(&spec);
    int16_t out[16];
    const uint8_t ok[] = {0x00, 0x10, 88, 0, 0x12, 0x34};
    const uint8_t bad_index[] = {0x00, 0x10, 89, 0, 0x12, 0x34};
    const uint8_t bad_index2[] = {0x00, 0x10, 0xFF, 0, 0x12, 0x34};
    /* A header alone, or cut inside it: undecodable, nothing read past len. */
    for (size_t len = 0; len <= 4; len++) {
        CU_ASSERT_EQUAL(c->max_frames(&spec, len), 0);
        CU_ASSERT(c->decode(st, &spec, ok, len, out, 16) < 0);
    }
    CU_ASSERT_EQUAL(c->decode(st, &spec, ok, sizeof(ok), out, 16), 4);
    CU_ASSERT(c->decode(st, &spec, bad_index, sizeof(bad_index), out, 16) < 0);
    CU_ASSERT(c->decode(st, &spec, bad_index2, sizeof(bad_index2), out, 16) < 0);
    /* Room for 3 frames: one octet (2 samples) decoded. */
    CU_ASSERT_EQUAL(c->decode(st, &spec, ok, sizeof(ok), out, 3), 2);
    c->destroy(st);
    feed_garbage(&spec, 400);
}

static void test_dvi4_static_pts(void)
{
    const rtpproc_codec *c = need_codec("DVI4");
    CU_ASSERT_EQUAL(c->static_pt, 5);
    CU_ASSERT_STRING_EQUAL(c->ws_name, "DVI4 8k");
    CU_ASSERT_PTR_NULL(c->conceal);
    const struct {
        unsigned pt;
        uint32_t rate;
        const char *ws;
    } pts[] = {{5, 8000, "DVI4 8k"},
               {6, 16000, "DVI4 16k"},
               {16, 11025, "DVI4 11k"},
               {17, 22050, "DVI4 22k"}};
    for (size_t i = 0; i < 4; i++) {
        rtpproc_codec_spec spec;
        CU_ASSERT_EQUAL(rtpproc_codec_spec_for_static_pt(pts[i].pt, &spec), RTPPROC_OK);
        CU_ASSERT_PTR_EQUAL(spec.codec, c);
        CU_ASSERT_EQUAL(spec.clock_rate, pts[i].rate);
        CU_ASSERT_EQUAL(spec.sample_rate, pts[i].rate);
        CU_ASSERT_EQUAL(spec.channels, 1);
        CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(pts[i].pt), pts[i].ws);
    }
}

static void test_ptmap_names_reach_spandsp_codecs(void)
{
    rtpproc_ptmap m;
    char err[128];
    rtpproc_ptmap_init(&m);
    CU_ASSERT_EQUAL(
        rtpproc_ptmap_parse(&m, "96=G726-32/8000,97=AAL2-G726-16,98=DVI4/16000", err, sizeof(err)),
        RTPPROC_OK);
    rtpproc_codec_spec spec;
    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 96, &spec), RTPPROC_OK);
    CU_ASSERT_PTR_EQUAL(spec.codec, rtpproc_codec_find_by_name("G726-32"));
    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 97, &spec), RTPPROC_OK);
    CU_ASSERT_PTR_EQUAL(spec.codec, rtpproc_codec_find_by_name("AAL2-G726-16"));
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);
    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 98, &spec), RTPPROC_OK);
    CU_ASSERT_PTR_EQUAL(spec.codec, rtpproc_codec_find_by_name("DVI4"));
    CU_ASSERT_EQUAL(spec.sample_rate, 16000);
}

CU_pSuite rtpproc_test_codec_spandsp_suite(void)
{
    CU_pSuite s = CU_add_suite("codec_spandsp", NULL, NULL);
    static const test_case tests[] = {
        {"g722_matches_spandsp_and_source", test_g722_matches_spandsp_and_source},
        {"g722_rates_and_static_pt", test_g722_rates_and_static_pt},
        {"g722_garbage_and_limits", test_g722_garbage_and_limits},
        {"g722_stereo_spec_copies_mono", test_g722_stereo_spec_copies_mono},
        {"g726_matches_spandsp_and_source", test_g726_matches_spandsp_and_source},
        {"g726_bit_packings_by_hand", test_g726_bit_packings_by_hand},
        {"g726_leftover_bits_carry_to_next_payload", test_g726_leftover_bits_carry_to_next_payload},
        {"g726_garbage_and_limits", test_g726_garbage_and_limits},
        {"gsm_matches_spandsp_and_source", test_gsm_matches_spandsp_and_source},
        {"gsm_partial_and_bad_frames", test_gsm_partial_and_bad_frames},
        {"gsm_static_pt", test_gsm_static_pt},
        {"dvi4_header_and_nibble_order_by_hand", test_dvi4_header_and_nibble_order_by_hand},
        {"dvi4_matches_spandsp_and_source", test_dvi4_matches_spandsp_and_source},
        {"dvi4_bad_headers", test_dvi4_bad_headers},
        {"dvi4_static_pts", test_dvi4_static_pts},
        {"ptmap_names_reach_spandsp_codecs", test_ptmap_names_reach_spandsp_codecs},
    };
    return test_add_all(s, tests, TEST_COUNT(tests));
}
