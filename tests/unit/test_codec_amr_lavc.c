/*
 * Unit tests of the AMR, AMR-WB (opencore-amr), iLBC and G.723.1
 * (libavcodec) decoders behind the codec interface (suite
 * "codec_amr_lavc").
 *
 * AMR-NB: a known signal is encoded with opencore-amrnb's encoder (storage
 * format, RFC 4867 section 5), packed here into RTP payloads in both
 * RFC 4867 packings, and decoded through the descriptor. The PCM must equal
 * opencore's own decoder fed the storage frames directly, be the same for
 * both packings and for autodetection, and be close to the source (SNR).
 * AMR-WB has no encoder in opencore: frames with deterministic pseudo-random
 * speech bits of every type are packed both ways and checked the same way.
 * G.723.1: libavcodec's g723_1 encoder makes the frames; iLBC has no
 * encoder here, so pseudo-random frames check the framing against
 * libavcodec's decoder called directly.
 *
 * The encoders and reference decoders are called directly, but the codecs
 * are optional: opencore's functions are declared weak, so this file links
 * when a codec is switched off (the library is then absent); libavcodec's
 * are called only when tests/unit/CMakeLists.txt links it into the driver
 * (RTPPROC_TEST_LINKS_LAVC), since the core loads it with dlopen() instead
 * of linking it. The suite runs only the tests whose descriptor
 * rtpproc_codec_find_by_name() finds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "rtpproc/codec.h"

CU_pSuite rtpproc_test_codec_amr_lavc_suite(void);

#if defined(__has_include)
#if __has_include(<opencore-amrnb/interf_enc.h>) && __has_include(<opencore-amrwb/dec_if.h>)
#define TEST_HAVE_OPENCORE 1
#endif
#endif
#ifdef RTPPROC_TEST_LINKS_LAVC
#define TEST_HAVE_LAVC 1
#endif
#ifndef TEST_HAVE_OPENCORE
#define TEST_HAVE_OPENCORE 0
#endif
#ifndef TEST_HAVE_LAVC
#define TEST_HAVE_LAVC 0
#endif

#if TEST_HAVE_OPENCORE
#include <opencore-amrnb/interf_dec.h>
#include <opencore-amrnb/interf_enc.h>
#include <opencore-amrwb/dec_if.h>
#pragma weak Encoder_Interface_init
#pragma weak Encoder_Interface_Encode
#pragma weak Encoder_Interface_exit
#pragma weak Decoder_Interface_init
#pragma weak Decoder_Interface_Decode
#pragma weak Decoder_Interface_exit
#pragma weak D_IF_init
#pragma weak D_IF_decode
#pragma weak D_IF_exit
#endif

#if TEST_HAVE_LAVC
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#endif

/* ---- helpers shared by all codecs ---- */

static uint32_t rng_state;

static uint32_t rng_next(void)
{
    /* xorshift32: deterministic pseudo-random bits */
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

#define TEST_PI 3.14159265358979323846

/* Two tones (frequencies in Hz) at about -12 dBFS in total, 8 or 16 kHz. */
static void make_tones(int16_t *buf, size_t n, double rate, double f1, double f2)
{
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        buf[i] =
            (int16_t)lrint(5000.0 * sin(2 * TEST_PI * f1 * t) + 3000.0 * sin(2 * TEST_PI * f2 * t));
    }
}

/*
 * Compares `dec` with `ref` over ref[from, n) at the decoder delay (0 to
 * max_lag samples) where they correlate best. Returns the SNR in dB after
 * scaling `dec` by the best gain, 10 log10(1 / (1 - rho^2)) for the
 * correlation rho: waveform fidelity independent of the output level,
 * which *gain_out reports (RMS of dec / RMS of ref). *snr_out gets the
 * plain SNR at that delay, *lag_out the delay.
 */
static double best_snr(const int16_t *ref, const int16_t *dec, size_t n, size_t from,
                       size_t max_lag, size_t *lag_out, double *gain_out, double *snr_out)
{
    double best = -1, best_rr = 0, best_dd = 0, best_rd = 0;
    size_t best_lag = 0;
    for (size_t lag = 0; lag <= max_lag; lag++) {
        double rr = 0, dd = 0, rd = 0;
        for (size_t i = from; i + lag < n; i++) {
            double r = ref[i], d = dec[i + lag];
            rr += r * r;
            dd += d * d;
            rd += r * d;
        }
        double rho = rr > 0 && dd > 0 ? rd / sqrt(rr * dd) : 0;
        if (rho > best) {
            best = rho;
            best_lag = lag;
            best_rr = rr;
            best_dd = dd;
            best_rd = rd;
        }
    }
    *lag_out = best_lag;
    *gain_out = best_rr > 0 ? sqrt(best_dd / best_rr) : 0;
    double err = best_rr - 2 * best_rd + best_dd;
    *snr_out = err > 0 ? 10 * log10(best_rr / err) : 999;
    return best < 1 ? 10 * log10(1 / (1 - best * best)) : 999;
}

static double rms(const int16_t *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return n > 0 ? sqrt(s / (double)n) : 0;
}

/* A codec instance: descriptor, spec and state. */
typedef struct dec_inst {
    const rtpproc_codec *c;
    rtpproc_codec_spec spec;
    void *st;
} dec_inst;

static bool inst_open(dec_inst *d, const char *name, uint32_t rate, unsigned fmtp)
{
    d->c = rtpproc_codec_find_by_name(name);
    if (d->c == NULL)
        return false;
    rtpproc_codec_spec_make(d->c, rate, 0, &d->spec);
    d->spec.fmtp = fmtp;
    d->st = d->c->create(&d->spec);
    return d->st != NULL;
}

static void inst_close(dec_inst *d)
{
    if (d->c != NULL && d->st != NULL)
        d->c->destroy(d->st);
    d->st = NULL;
}

/* Decodes one payload with a capacity of max_frames(); checks the bound. */
static long inst_decode(dec_inst *d, const uint8_t *in, size_t len, int16_t *out, size_t cap)
{
    size_t bound = d->c->max_frames(&d->spec, len);
    size_t room = bound < cap ? bound : cap;
    long n = d->c->decode(d->st, &d->spec, in, len, out, room);
    CU_ASSERT(n <= (long)bound);
    return n;
}

/* Feeds random payloads of random lengths; the decoder must not crash or overrun. */
static void fuzz_decoder(dec_inst *d, unsigned rounds, size_t max_len)
{
    static uint8_t buf[2048];
    static int16_t pcm[256 * 320 + 64];
    for (unsigned r = 0; r < rounds; r++) {
        size_t len = rng_next() % (max_len + 1);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rng_next();
        size_t bound = d->c->max_frames(&d->spec, len);
        CU_ASSERT_FATAL(bound <= sizeof(pcm) / sizeof(pcm[0]));
        long n = d->c->decode(d->st, &d->spec, buf, len, pcm, bound);
        CU_ASSERT(n <= (long)bound);
    }
}

/* ---- AMR (RFC 4867) ---- */

#if TEST_HAVE_OPENCORE

/* Speech bits per frame type (RFC 4867 3.6; TS 26.101 / 26.201 table 1a); -1 invalid. */
static const int nb_bits[16] = {95, 103, 118, 134, 148, 159, 204, 244,
                                39, -1,  -1,  -1,  -1,  -1,  -1,  0};
static const int wb_bits[16] = {132, 177, 253, 285, 317, 365, 397, 461,
                                477, 40,  -1,  -1,  -1,  -1,  0,   0};

/* One frame in storage format: header octet (0 FT Q 0 0) and speech octets. */
typedef struct stored_frame {
    uint8_t b[64];
} stored_frame;

static unsigned sf_ft(const stored_frame *f)
{
    return (f->b[0] >> 3) & 0x0F;
}

static bool sf_q(const stored_frame *f)
{
    return (f->b[0] & 0x04) != 0;
}

/* A small MSB-first bit writer for the bandwidth-efficient packing. */
typedef struct bit_writer {
    uint8_t *p;
    size_t cap; /* bytes */
    size_t pos; /* bits */
} bit_writer;

static void bw_put(bit_writer *w, unsigned v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned bit = (v >> (n - 1 - i)) & 1u;
        CU_ASSERT_FATAL(w->pos / 8 < w->cap);
        if (bit)
            w->p[w->pos / 8] |= (uint8_t)(0x80u >> (w->pos % 8));
        w->pos++;
    }
}

/*
 * Packs frames f[0..n) into an RFC 4867 payload (CMR 15, no request);
 * returns its length in bytes.
 */
static size_t pack_octet(const stored_frame *f, size_t n, const int *bits, uint8_t *out, size_t cap)
{
    size_t len = 0;
    memset(out, 0, cap);
    out[len++] = 15 << 4;
    for (size_t i = 0; i < n; i++)
        out[len++] = (uint8_t)((i + 1 < n ? 0x80 : 0) | sf_ft(&f[i]) << 3 | (sf_q(&f[i]) << 2));
    for (size_t i = 0; i < n; i++) {
        size_t nb = ((size_t)bits[sf_ft(&f[i])] + 7) / 8;
        CU_ASSERT_FATAL(len + nb <= cap);
        memcpy(out + len, f[i].b + 1, nb);
        len += nb;
    }
    return len;
}

static size_t pack_bwe(const stored_frame *f, size_t n, const int *bits, uint8_t *out, size_t cap)
{
    bit_writer w = {out, cap, 0};
    memset(out, 0, cap);
    bw_put(&w, 15, 4);
    for (size_t i = 0; i < n; i++) {
        bw_put(&w, i + 1 < n ? 1 : 0, 1);
        bw_put(&w, sf_ft(&f[i]), 4);
        bw_put(&w, sf_q(&f[i]), 1);
    }
    for (size_t i = 0; i < n; i++) {
        size_t nb = (size_t)bits[sf_ft(&f[i])];
        for (size_t k = 0; k < nb; k++)
            bw_put(&w, (f[i].b[1 + k / 8] >> (7 - k % 8)) & 1u, 1);
    }
    return (w.pos + 7) / 8;
}

#define NB_SECONDS 2
#define NB_FRAMES  (NB_SECONDS * 50)
#define NB_SAMPLES (NB_FRAMES * 160)

static int16_t nb_src[NB_SAMPLES];
static int16_t nb_ref[NB_SAMPLES];
static int16_t nb_out[4][NB_SAMPLES];
static stored_frame nb_frames[NB_FRAMES];

/*
 * Encodes nb_src into nb_frames. `mode` < 0 cycles through all eight modes
 * frame by frame; `dtx` enables discontinuous transmission (SID and NO_DATA
 * frames in silence).
 */
static void amr_nb_encode(int mode, int dtx)
{
    void *enc = Encoder_Interface_init(dtx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(enc);
    for (size_t i = 0; i < NB_FRAMES; i++) {
        enum Mode m = mode < 0 ? (enum Mode)(i % 8) : (enum Mode)mode;
        memset(&nb_frames[i], 0, sizeof(nb_frames[i]));
        int got = Encoder_Interface_Encode(enc, m, nb_src + i * 160, nb_frames[i].b, 0);
        CU_ASSERT_FATAL(got >= 1 && got <= 32);
        unsigned ft = sf_ft(&nb_frames[i]);
        CU_ASSERT_FATAL(nb_bits[ft] >= 0);
        CU_ASSERT_EQUAL(got, 1 + (nb_bits[ft] + 7) / 8);
    }
    Encoder_Interface_exit(enc);
}

/* opencore's decoder on the storage frames: the reference PCM. */
static void amr_nb_reference(void)
{
    void *dec = Decoder_Interface_init();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dec);
    for (size_t i = 0; i < NB_FRAMES; i++)
        Decoder_Interface_Decode(dec, nb_frames[i].b, nb_ref + i * 160, 0);
    Decoder_Interface_exit(dec);
}

/*
 * Decodes nb_frames as RTP payloads of 1, 2, 3, 1, 2, 3 ... frames in the
 * given packing through a fresh "AMR" instance with `fmtp`; returns frames.
 */
static size_t amr_nb_rtp(bool octet, unsigned fmtp, int16_t *out)
{
    dec_inst d;
    uint8_t payload[256];
    size_t done = 0;

    CU_ASSERT_FATAL(inst_open(&d, "AMR", 8000, fmtp));
    for (size_t i = 0, k = 0; i < NB_FRAMES; k++) {
        size_t n = 1 + k % 3;
        if (n > NB_FRAMES - i)
            n = NB_FRAMES - i;
        size_t len = octet ? pack_octet(nb_frames + i, n, nb_bits, payload, sizeof(payload))
                           : pack_bwe(nb_frames + i, n, nb_bits, payload, sizeof(payload));
        long got = inst_decode(&d, payload, len, out + done, NB_SAMPLES - done);
        CU_ASSERT_EQUAL(got, (long)(n * 160));
        if (got > 0)
            done += (size_t)got;
        i += n;
    }
    inst_close(&d);
    return done;
}

static void check_nb_all_ways(void)
{
    amr_nb_reference();
    CU_ASSERT_EQUAL(amr_nb_rtp(true, RTPPROC_FMTP_OCTET_ALIGN, nb_out[0]), NB_SAMPLES);
    CU_ASSERT_EQUAL(amr_nb_rtp(false, RTPPROC_FMTP_BW_EFFICIENT, nb_out[1]), NB_SAMPLES);
    CU_ASSERT_EQUAL(amr_nb_rtp(true, 0, nb_out[2]), NB_SAMPLES);
    CU_ASSERT_EQUAL(amr_nb_rtp(false, 0, nb_out[3]), NB_SAMPLES);
    for (int k = 0; k < 4; k++)
        CU_ASSERT(memcmp(nb_out[k], nb_ref, sizeof(nb_ref)) == 0);
}

static void test_amr_descriptors(void)
{
    const rtpproc_codec *nb = rtpproc_codec_find_by_name("AMR");
    const rtpproc_codec *wb = rtpproc_codec_find_by_name("amr-wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(nb);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wb);
    CU_ASSERT_STRING_EQUAL(nb->name, "AMR");
    CU_ASSERT_STRING_EQUAL(wb->name, "AMR-WB");
    CU_ASSERT_PTR_NULL(nb->ws_name);
    CU_ASSERT_PTR_NULL(wb->ws_name);
    CU_ASSERT_EQUAL(nb->static_pt, -1);
    CU_ASSERT_EQUAL(wb->static_pt, -1);
    CU_ASSERT_EQUAL(nb->kind, RTPPROC_KIND_AUDIO);
    CU_ASSERT_EQUAL(nb->default_clock_rate, 8000);
    CU_ASSERT_EQUAL(wb->default_clock_rate, 16000);
    CU_ASSERT_EQUAL(nb->default_channels, 1);
    CU_ASSERT_PTR_NOT_NULL(nb->conceal);
    CU_ASSERT_PTR_NOT_NULL(wb->conceal);
    rtpproc_codec_spec spec;
    rtpproc_codec_spec_make(nb, 0, 0, &spec);
    CU_ASSERT_EQUAL(spec.sample_rate, 8000);
    rtpproc_codec_spec_make(wb, 0, 0, &spec);
    CU_ASSERT_EQUAL(spec.clock_rate, 16000);
    CU_ASSERT_EQUAL(spec.sample_rate, 16000);
}

/*
 * Two tones, 12.2 kbit/s: both packings, autodetected or told, give
 * exactly opencore's own PCM, and that PCM follows the source. Measured:
 * best-gain SNR 20 dB (correlation 0.995). The level comes out about 2x
 * (+5.8 dB) the source's: that is in the bitstream opencore's encoder
 * makes (libavcodec's independent amrnb decoder gives the same level, and
 * its PCM is within 29.5 dB SNR of opencore's), so the plain SNR is about
 * 0 dB and only the best-gain SNR is tested, at 15 dB.
 */
static void test_amr_nb_tone_both_packings_snr(void)
{
    make_tones(nb_src, NB_SAMPLES, 8000, 440, 1000);
    amr_nb_encode(MR122, 0);
    for (size_t i = 0; i < NB_FRAMES; i++)
        CU_ASSERT_EQUAL(sf_ft(&nb_frames[i]), 7);
    check_nb_all_ways();
    size_t lag = 0;
    double gain = 0, plain = 0;
    double snr = best_snr(nb_src, nb_out[0], NB_SAMPLES, 800, 400, &lag, &gain, &plain);
    printf("\n    AMR-NB 12.2 two tones: best-gain SNR %.1f dB (plain %.1f dB, level x%.2f) at "
           "delay %zu\n",
           snr, plain, gain, lag);
    CU_ASSERT(snr >= 15.0);
    CU_ASSERT(gain > 0.5 && gain < 2.5);
}

/* Every frame size of AMR-NB (modes cycling 4.75 ... 12.2) packed both ways. */
static void test_amr_nb_all_modes_both_packings(void)
{
    make_tones(nb_src, NB_SAMPLES, 8000, 300, 1700);
    amr_nb_encode(-1, 0);
    for (unsigned ft = 0; ft < 8; ft++)
        CU_ASSERT_EQUAL(sf_ft(&nb_frames[ft]), ft);
    check_nb_all_ways();
    CU_ASSERT(rms(nb_out[0] + 800, NB_SAMPLES - 800) > 500);
}

/* DTX: silence between tone bursts gives SID (FT 8) and NO_DATA (FT 15) frames. */
static void test_amr_nb_dtx_sid_and_no_data(void)
{
    make_tones(nb_src, NB_SAMPLES, 8000, 500, 1200);
    for (size_t i = NB_SAMPLES / 4; i < NB_SAMPLES * 3 / 4; i++)
        nb_src[i] = (int16_t)((int)(rng_next() % 61) - 30); /* quiet noise */
    amr_nb_encode(MR122, 1);
    unsigned seen[16] = {0};
    for (size_t i = 0; i < NB_FRAMES; i++)
        seen[sf_ft(&nb_frames[i])]++;
    printf("\n    AMR-NB DTX: %u speech, %u SID, %u NO_DATA frames\n", seen[7], seen[8], seen[15]);
    CU_ASSERT(seen[8] > 0);
    CU_ASSERT(seen[15] > 0);
    check_nb_all_ways();
}

/* Once autodetection has decided a packing, payloads of the other packing are refused. */
static void test_amr_nb_autodetect_sticks(void)
{
    make_tones(nb_src, NB_SAMPLES, 8000, 440, 1000);
    amr_nb_encode(MR122, 0);
    uint8_t oa[64], be[64];
    size_t oa_len = pack_octet(nb_frames, 1, nb_bits, oa, sizeof(oa));
    size_t be_len = pack_bwe(nb_frames, 1, nb_bits, be, sizeof(be));
    CU_ASSERT_EQUAL(oa_len, 33);
    CU_ASSERT_EQUAL(be_len, 32);
    int16_t pcm[4 * 160];

    dec_inst d;
    CU_ASSERT_FATAL(inst_open(&d, "AMR", 8000, 0));
    CU_ASSERT_EQUAL(inst_decode(&d, be, be_len, pcm, 4 * 160), 160);
    CU_ASSERT(inst_decode(&d, oa, oa_len, pcm, 4 * 160) < 0);
    CU_ASSERT_EQUAL(inst_decode(&d, be, be_len, pcm, 4 * 160), 160);
    inst_close(&d);

    CU_ASSERT_FATAL(inst_open(&d, "AMR", 8000, 0));
    CU_ASSERT_EQUAL(inst_decode(&d, oa, oa_len, pcm, 4 * 160), 160);
    CU_ASSERT(inst_decode(&d, be, be_len, pcm, 4 * 160) < 0);
    inst_close(&d);

    /* Told octet-aligned, a bandwidth-efficient payload is refused from the start. */
    CU_ASSERT_FATAL(inst_open(&d, "AMR", 8000, RTPPROC_FMTP_OCTET_ALIGN));
    CU_ASSERT(inst_decode(&d, be, be_len, pcm, 4 * 160) < 0);
    inst_close(&d);
}

/* Malformed payloads are refused with a negative status, whatever the packing setting. */
static void test_amr_nb_malformed_payloads(void)
{
    make_tones(nb_src, NB_SAMPLES, 8000, 440, 1000);
    amr_nb_encode(MR122, 0);
    uint8_t oa[128], be[128];
    size_t oa_len = pack_octet(nb_frames, 2, nb_bits, oa, sizeof(oa));
    size_t be_len = pack_bwe(nb_frames, 2, nb_bits, be, sizeof(be));
    int16_t pcm[8 * 160];
    const unsigned modes[] = {0, RTPPROC_FMTP_OCTET_ALIGN, RTPPROC_FMTP_BW_EFFICIENT};
    static const uint8_t all_ones[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    /* FT 9 (reserved for AMR: RFC 4867 4.3.2 says discard) in either packing. */
    const uint8_t ft9_octet[] = {0xF0, 9 << 3 | 0x04, 0, 0, 0, 0, 0, 0};
    /* CMR 1111, F 0, FT 1001, Q 1, then zeros. */
    const uint8_t ft9_bwe[] = {0xF4, 0xC0, 0, 0, 0, 0, 0, 0};

    for (size_t m = 0; m < 3; m++) {
        dec_inst d;
        CU_ASSERT_FATAL(inst_open(&d, "AMR", 8000, modes[m]));
        CU_ASSERT(d.c->decode(d.st, &d.spec, oa, 0, pcm, 8 * 160) < 0);
        CU_ASSERT(inst_decode(&d, oa, 1, pcm, 8 * 160) < 0);
        /*
         * Truncated by one octet. (Read in the other packing, a payload
         * can be valid by chance, so each is checked where it is refused.)
         */
        if (modes[m] != RTPPROC_FMTP_BW_EFFICIENT)
            CU_ASSERT(inst_decode(&d, oa, oa_len - 1, pcm, 8 * 160) < 0);
        if (modes[m] != RTPPROC_FMTP_OCTET_ALIGN)
            CU_ASSERT(inst_decode(&d, be, be_len - 1, pcm, 8 * 160) < 0);
        CU_ASSERT(inst_decode(&d, all_ones, sizeof(all_ones), pcm, 8 * 160) < 0);
        CU_ASSERT(inst_decode(&d, ft9_octet, sizeof(ft9_octet), pcm, 8 * 160) < 0);
        CU_ASSERT(inst_decode(&d, ft9_bwe, sizeof(ft9_bwe), pcm, 8 * 160) < 0);
        /* Still decoding after all that. */
        if (modes[m] != RTPPROC_FMTP_BW_EFFICIENT)
            CU_ASSERT_EQUAL(inst_decode(&d, oa, oa_len, pcm, 8 * 160), 320);
        rng_state = 0x1234567u + (uint32_t)m;
        fuzz_decoder(&d, 3000, 400);
        inst_close(&d);
    }
}

/* A capacity smaller than the payload's frames: only whole frames that fit are written. */
static void test_amr_nb_output_capacity(void)
{
    make_tones(nb_src, NB_SAMPLES, 8000, 440, 1000);
    amr_nb_encode(MR122, 0);
    uint8_t oa[128];
    size_t oa_len = pack_octet(nb_frames, 3, nb_bits, oa, sizeof(oa));
    int16_t pcm[3 * 160];
    dec_inst d;
    CU_ASSERT_FATAL(inst_open(&d, "AMR", 8000, 0));
    CU_ASSERT(d.c->max_frames(&d.spec, oa_len) >= 3 * 160);
    CU_ASSERT_EQUAL(d.c->decode(d.st, &d.spec, oa, oa_len, pcm, 2 * 160 + 10), 2 * 160);
    CU_ASSERT_EQUAL(d.c->decode(d.st, &d.spec, oa, oa_len, pcm, 100), 0);
    inst_close(&d);
}

/* conceal(): whole 20 ms frames from the decoder's error concealment, continuing the tone. */
static void test_amr_nb_conceal(void)
{
    make_tones(nb_src, NB_SAMPLES, 8000, 440, 1000);
    amr_nb_encode(MR122, 0);
    dec_inst d;
    uint8_t payload[64];
    int16_t pcm[5 * 160];
    CU_ASSERT_FATAL(inst_open(&d, "AMR", 8000, 0));
    for (size_t i = 0; i < 20; i++) {
        size_t len = pack_bwe(nb_frames + i, 1, nb_bits, payload, sizeof(payload));
        CU_ASSERT_EQUAL(inst_decode(&d, payload, len, pcm, 160), 160);
    }
    double last = rms(pcm, 160);
    CU_ASSERT_EQUAL(d.c->conceal(d.st, &d.spec, pcm, 5 * 160 - 1), 4 * 160);
    double concealed = rms(pcm, 160);
    printf("\n    AMR-NB conceal: last frame RMS %.0f, first concealed frame RMS %.0f\n", last,
           concealed);
    CU_ASSERT(concealed > last * 0.1);
    CU_ASSERT_EQUAL(d.c->conceal(d.st, &d.spec, pcm, 159), 0);
    inst_close(&d);
}

#define WB_FRAMES 40

static stored_frame wb_frames[WB_FRAMES];
static int16_t wb_ref[WB_FRAMES * 320];
static int16_t wb_out[4][WB_FRAMES * 320];

/* Frames of types 0..9 (every speech rate and SID) with pseudo-random bits, and NO_DATA/LOST. */
static void amr_wb_make_frames(void)
{
    rng_state = 0xC0FFEEu;
    for (size_t i = 0; i < WB_FRAMES; i++) {
        unsigned ft = i < 30 ? (unsigned)(i % 10) : (i % 2 ? 15u : 14u);
        memset(&wb_frames[i], 0, sizeof(wb_frames[i]));
        wb_frames[i].b[0] = (uint8_t)(ft << 3 | 0x04);
        for (int k = 0; k < wb_bits[ft]; k++) {
            if (rng_next() & 1u)
                wb_frames[i].b[1 + k / 8] |= (uint8_t)(0x80u >> (k % 8));
        }
    }
}

static size_t amr_wb_rtp(bool octet, unsigned fmtp, int16_t *out)
{
    dec_inst d;
    uint8_t payload[512];
    size_t done = 0;
    CU_ASSERT_FATAL(inst_open(&d, "AMR-WB", 16000, fmtp));
    for (size_t i = 0; i < WB_FRAMES; i += 2) {
        size_t len = octet ? pack_octet(wb_frames + i, 2, wb_bits, payload, sizeof(payload))
                           : pack_bwe(wb_frames + i, 2, wb_bits, payload, sizeof(payload));
        long got = inst_decode(&d, payload, len, out + done, WB_FRAMES * 320 - done);
        CU_ASSERT_EQUAL(got, 640);
        if (got > 0)
            done += (size_t)got;
    }
    inst_close(&d);
    return done;
}

/* AMR-WB: every frame type packed both ways decodes exactly as opencore's D_IF_decode. */
static void test_amr_wb_all_types_both_packings(void)
{
    amr_wb_make_frames();
    void *dec = D_IF_init();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dec);
    for (size_t i = 0; i < WB_FRAMES; i++)
        D_IF_decode(dec, wb_frames[i].b, wb_ref + i * 320, 0);
    D_IF_exit(dec);

    CU_ASSERT_EQUAL(amr_wb_rtp(true, RTPPROC_FMTP_OCTET_ALIGN, wb_out[0]), WB_FRAMES * 320);
    CU_ASSERT_EQUAL(amr_wb_rtp(false, RTPPROC_FMTP_BW_EFFICIENT, wb_out[1]), WB_FRAMES * 320);
    CU_ASSERT_EQUAL(amr_wb_rtp(true, 0, wb_out[2]), WB_FRAMES * 320);
    CU_ASSERT_EQUAL(amr_wb_rtp(false, 0, wb_out[3]), WB_FRAMES * 320);
    for (int k = 0; k < 4; k++)
        CU_ASSERT(memcmp(wb_out[k], wb_ref, sizeof(wb_ref)) == 0);
    CU_ASSERT(rms(wb_ref, 30 * 320) > 0); /* not a decoder that only outputs zeros */
}

/* AMR-WB NO_DATA at the start of a stream is (near) silence; bad payloads are refused. */
static void test_amr_wb_no_data_and_malformed(void)
{
    int16_t pcm[4 * 320];
    dec_inst d;
    /* CMR 15; one ToC entry F=0 FT=15 Q=1: octet-aligned and bandwidth-efficient. */
    const uint8_t no_data_octet[] = {0xF0, 0x7C};
    const uint8_t no_data_bwe[] = {0xF7, 0xC0};
    /* FT 10 is reserved for AMR-WB (RFC 4867 4.3.2: discard). */
    const uint8_t ft10_octet[] = {0xF0, 10 << 3 | 0x04, 0, 0, 0, 0, 0, 0};

    CU_ASSERT_FATAL(inst_open(&d, "AMR-WB", 16000, 0));
    memset(pcm, 0x55, sizeof(pcm));
    CU_ASSERT_EQUAL(inst_decode(&d, no_data_octet, sizeof(no_data_octet), pcm, 4 * 320), 320);
    CU_ASSERT(rms(pcm, 320) < 32.0); /* measured 5.3: quieter than -60 dBFS */
    CU_ASSERT(inst_decode(&d, ft10_octet, sizeof(ft10_octet), pcm, 4 * 320) < 0);
    CU_ASSERT(inst_decode(&d, no_data_bwe, sizeof(no_data_bwe), pcm, 4 * 320) < 0);
    CU_ASSERT(inst_decode(&d, no_data_octet, 1, pcm, 4 * 320) < 0);
    CU_ASSERT_EQUAL(d.c->conceal(d.st, &d.spec, pcm, 2 * 320), 2 * 320);
    inst_close(&d);

    CU_ASSERT_FATAL(inst_open(&d, "AMR-WB", 16000, 0));
    CU_ASSERT_EQUAL(inst_decode(&d, no_data_bwe, sizeof(no_data_bwe), pcm, 4 * 320), 320);
    CU_ASSERT(inst_decode(&d, no_data_octet, sizeof(no_data_octet), pcm, 4 * 320) < 0);
    inst_close(&d);

    for (unsigned m = 0; m < 3; m++) {
        const unsigned modes[] = {0, RTPPROC_FMTP_OCTET_ALIGN, RTPPROC_FMTP_BW_EFFICIENT};
        CU_ASSERT_FATAL(inst_open(&d, "AMR-WB", 16000, modes[m]));
        rng_state = 0xABCDEFu + m;
        fuzz_decoder(&d, 3000, 400);
        inst_close(&d);
    }
}

#endif /* TEST_HAVE_OPENCORE */

/* ---- G.723.1 and iLBC (libavcodec) ---- */

#if TEST_HAVE_LAVC

/* Decodes packets one by one with libavcodec directly; returns samples or -1. */
static long lavc_reference(const char *name, int block_align, const uint8_t *frames,
                           size_t frame_len, size_t nframes, int16_t *out, size_t cap)
{
    const AVCodec *codec = avcodec_find_decoder_by_name(name);
    AVCodecContext *ctx = codec ? avcodec_alloc_context3(codec) : NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    uint8_t buf[64 + AV_INPUT_BUFFER_PADDING_SIZE];
    long done = -1;

    if (ctx == NULL || pkt == NULL || fr == NULL || frame_len > 64)
        goto out;
    ctx->sample_rate = 8000;
    ctx->block_align = block_align;
    av_channel_layout_default(&ctx->ch_layout, 1);
    if (avcodec_open2(ctx, codec, NULL) < 0)
        goto out;
    done = 0;
    for (size_t i = 0; i < nframes; i++) {
        memset(buf, 0, sizeof(buf));
        memcpy(buf, frames + i * frame_len, frame_len);
        pkt->data = buf;
        pkt->size = (int)frame_len;
        if (avcodec_send_packet(ctx, pkt) < 0) {
            done = -1;
            goto out;
        }
        while (avcodec_receive_frame(ctx, fr) == 0) {
            for (int k = 0; k < fr->nb_samples && (size_t)done < cap; k++)
                out[done++] = ((const int16_t *)fr->extended_data[0])[k];
            av_frame_unref(fr);
        }
    }
out:
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    return done;
}

#define G723_FRAMES  100 /* 3 s */
#define G723_SAMPLES (G723_FRAMES * 240)

static int16_t g723_src[G723_SAMPLES];
static int16_t g723_ref[G723_SAMPLES];
static int16_t g723_out[G723_SAMPLES];
static uint8_t g723_bits[G723_FRAMES * 24];

/* libavcodec's G.723.1 encoder (6.3 kbit/s, 24-octet frames) on g723_src. */
static bool g723_encode(void)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("g723_1");
    AVCodecContext *ctx = codec ? avcodec_alloc_context3(codec) : NULL;
    AVFrame *fr = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    size_t got = 0;
    bool ok = false;

    if (ctx == NULL || fr == NULL || pkt == NULL)
        goto out;
    ctx->sample_rate = 8000;
    ctx->bit_rate = 6300;
    ctx->sample_fmt = AV_SAMPLE_FMT_S16;
    av_channel_layout_default(&ctx->ch_layout, 1);
    if (avcodec_open2(ctx, codec, NULL) < 0)
        goto out;
    fr->nb_samples = 240;
    fr->format = AV_SAMPLE_FMT_S16;
    fr->sample_rate = 8000;
    av_channel_layout_default(&fr->ch_layout, 1);
    if (av_frame_get_buffer(fr, 0) < 0)
        goto out;
    for (size_t i = 0; i <= G723_FRAMES; i++) {
        if (i < G723_FRAMES) {
            if (av_frame_make_writable(fr) < 0)
                goto out;
            memcpy(fr->data[0], g723_src + i * 240, 240 * sizeof(int16_t));
            if (avcodec_send_frame(ctx, fr) < 0)
                goto out;
        } else if (avcodec_send_frame(ctx, NULL) < 0) {
            goto out;
        }
        while (avcodec_receive_packet(ctx, pkt) == 0) {
            if (pkt->size == 24 && got < G723_FRAMES)
                memcpy(g723_bits + 24 * got++, pkt->data, 24);
            av_packet_unref(pkt);
        }
    }
    ok = got == G723_FRAMES;
out:
    av_packet_free(&pkt);
    av_frame_free(&fr);
    avcodec_free_context(&ctx);
    return ok;
}

static void test_g723_descriptor_and_static_pt(void)
{
    const rtpproc_codec *c = rtpproc_codec_find_by_name("g723");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->name, "G723");
    CU_ASSERT_STRING_EQUAL(c->ws_name, "g723");
    CU_ASSERT_EQUAL(c->static_pt, 4);
    CU_ASSERT_EQUAL(c->default_clock_rate, 8000);
    CU_ASSERT_EQUAL(c->default_channels, 1);
    CU_ASSERT_PTR_NOT_NULL(c->conceal);
    rtpproc_codec_spec spec;
    CU_ASSERT_EQUAL(rtpproc_codec_spec_for_static_pt(4, &spec), RTPPROC_OK);
    CU_ASSERT_PTR_EQUAL(spec.codec, c);
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);
    CU_ASSERT_EQUAL(spec.sample_rate, 8000);
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(4), "g723");
}

/*
 * A two-tone signal through libavcodec's encoder, in payloads of one and
 * two frames: the PCM equals libavcodec's decoder fed frame by frame, and
 * is close to the source. Measured: plain SNR 16.8 dB; threshold 12 dB
 * (G.723.1 at 6.3 kbit/s is a low-rate speech coder with a postfilter).
 */
static void test_g723_encoded_tone_matches_reference_and_source(void)
{
    make_tones(g723_src, G723_SAMPLES, 8000, 440, 1000);
    CU_ASSERT_FATAL(g723_encode());
    for (size_t i = 0; i < G723_FRAMES; i++)
        CU_ASSERT_EQUAL(g723_bits[i * 24] & 3, 0);
    CU_ASSERT_EQUAL(lavc_reference("g723_1", 0, g723_bits, 24, G723_FRAMES, g723_ref, G723_SAMPLES),
                    G723_SAMPLES);

    dec_inst d;
    rtpproc_codec_spec_for_static_pt(4, &d.spec);
    d.c = d.spec.codec;
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.c);
    d.st = d.c->create(&d.spec);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.st);
    size_t done = 0;
    for (size_t i = 0; i < G723_FRAMES;) {
        size_t n = i % 3 == 0 && i + 2 <= G723_FRAMES ? 2 : 1;
        long got =
            inst_decode(&d, g723_bits + i * 24, n * 24, g723_out + done, G723_SAMPLES - done);
        CU_ASSERT_EQUAL(got, (long)(n * 240));
        if (got > 0)
            done += (size_t)got;
        i += n;
    }
    inst_close(&d);
    CU_ASSERT_EQUAL(done, G723_SAMPLES);
    CU_ASSERT(memcmp(g723_out, g723_ref, sizeof(g723_ref)) == 0);
    size_t lag = 0;
    double gain = 0, plain = 0;
    double snr = best_snr(g723_src, g723_out, G723_SAMPLES, 1200, 480, &lag, &gain, &plain);
    printf("\n    G.723.1 6.3 two tones: best-gain SNR %.1f dB (plain %.1f dB, level x%.2f) at "
           "delay %zu\n",
           snr, plain, gain, lag);
    CU_ASSERT(plain >= 12.0);
    CU_ASSERT(snr >= 12.0);
}

/* Frame types by the low two bits: 5.3 kbit/s (20 octets), SID (4), reserved 11. */
static void test_g723_frame_types_and_malformed(void)
{
    make_tones(g723_src, G723_SAMPLES, 8000, 440, 1000);
    CU_ASSERT_FATAL(g723_encode());
    dec_inst d;
    int16_t pcm[4 * 240];
    CU_ASSERT_FATAL(inst_open(&d, "G723", 8000, 0));
    for (size_t i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(inst_decode(&d, g723_bits + i * 24, 24, pcm, 4 * 240), 240);

    uint8_t p[64];
    memset(p, 0, sizeof(p));
    p[0] = 0x02; /* SID: 4 octets, then 5.3 kbit/s: 20 octets */
    p[4] = 0x01;
    CU_ASSERT_EQUAL(inst_decode(&d, p, 24, pcm, 4 * 240), 480);
    CU_ASSERT_EQUAL(inst_decode(&d, p, 4, pcm, 4 * 240), 240);

    CU_ASSERT(d.c->decode(d.st, &d.spec, p, 0, pcm, 4 * 240) < 0);
    CU_ASSERT(inst_decode(&d, g723_bits, 23, pcm, 4 * 240) < 0);
    CU_ASSERT(inst_decode(&d, g723_bits, 27, pcm, 4 * 240) < 0); /* 24 + 3 */
    p[0] = 0x03;                                                 /* reserved type */
    CU_ASSERT(inst_decode(&d, p, 24, pcm, 4 * 240) < 0);
    CU_ASSERT(inst_decode(&d, p, 1, pcm, 4 * 240) < 0);
    CU_ASSERT_EQUAL(d.c->decode(d.st, &d.spec, g723_bits, 48, pcm, 300), 240);
    rng_state = 0x7234u;
    fuzz_decoder(&d, 3000, 200);
    inst_close(&d);
}

/* conceal() after speech: G.723.1 erasure concealment for at most two frames in a row. */
static void test_g723_conceal(void)
{
    make_tones(g723_src, G723_SAMPLES, 8000, 440, 1000);
    CU_ASSERT_FATAL(g723_encode());
    dec_inst d;
    int16_t pcm[6 * 240];
    CU_ASSERT_FATAL(inst_open(&d, "G723", 8000, 0));
    for (size_t i = 0; i < 20; i++)
        CU_ASSERT_EQUAL(inst_decode(&d, g723_bits + i * 24, 24, pcm, 240), 240);
    double last = rms(pcm, 240);
    CU_ASSERT_EQUAL(d.c->conceal(d.st, &d.spec, pcm, 6 * 240), 2 * 240);
    double first = rms(pcm, 240), second = rms(pcm + 240, 240);
    printf("\n    G.723.1 conceal: last RMS %.0f, concealed frames %.0f, %.0f\n", last, first,
           second);
    CU_ASSERT(first > last * 0.1);
    CU_ASSERT(first < last * 2 && second < last * 2);
    /* The loss goes on: no more concealment until a frame is decoded. */
    CU_ASSERT_EQUAL(d.c->conceal(d.st, &d.spec, pcm, 6 * 240), 0);
    CU_ASSERT_EQUAL(inst_decode(&d, g723_bits + 20 * 24, 24, pcm, 240), 240);
    CU_ASSERT_EQUAL(d.c->conceal(d.st, &d.spec, pcm, 239), 0);
    CU_ASSERT_EQUAL(d.c->conceal(d.st, &d.spec, pcm, 240), 240);
    inst_close(&d);
}

static void test_ilbc_descriptor(void)
{
    const rtpproc_codec *c = rtpproc_codec_find_by_name("ilbc");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->name, "iLBC");
    CU_ASSERT_PTR_NULL(c->ws_name);
    CU_ASSERT_EQUAL(c->static_pt, -1);
    CU_ASSERT_EQUAL(c->default_clock_rate, 8000);
    CU_ASSERT_PTR_NOT_NULL(c->conceal);
    rtpproc_codec_spec spec;
    rtpproc_codec_spec_make(c, 0, 0, &spec);
    CU_ASSERT_EQUAL(spec.sample_rate, 8000);
}

#define ILBC_FRAMES 40

static uint8_t ilbc_bits[ILBC_FRAMES * 50];
static int16_t ilbc_ref[ILBC_FRAMES * 240];
static int16_t ilbc_out[ILBC_FRAMES * 240];

/*
 * Pseudo-random frames (the last bit, RFC 3951's empty-frame flag, clear)
 * in payloads of 1-3 frames: the same PCM as libavcodec's decoder opened
 * for that mode and fed frame by frame.
 */
static void check_ilbc_mode(size_t flen, size_t spf)
{
    rng_state = (uint32_t)(0x11BCu + flen);
    for (size_t i = 0; i < ILBC_FRAMES * flen; i++)
        ilbc_bits[i] = (uint8_t)rng_next();
    for (size_t i = 0; i < ILBC_FRAMES; i++)
        ilbc_bits[i * flen + flen - 1] &= 0xFE;
    CU_ASSERT_EQUAL_FATAL(lavc_reference("ilbc", (int)flen, ilbc_bits, flen, ILBC_FRAMES, ilbc_ref,
                                         ILBC_FRAMES * 240),
                          (long)(ILBC_FRAMES * spf));
    dec_inst d;
    CU_ASSERT_FATAL(inst_open(&d, "iLBC", 8000, 0));
    size_t done = 0;
    for (size_t i = 0, k = 0; i < ILBC_FRAMES; k++) {
        size_t n = 1 + k % 3;
        if (n > ILBC_FRAMES - i)
            n = ILBC_FRAMES - i;
        long got = inst_decode(&d, ilbc_bits + i * flen, n * flen, ilbc_out + done,
                               ILBC_FRAMES * 240 - done);
        CU_ASSERT_EQUAL(got, (long)(n * spf));
        if (got > 0)
            done += (size_t)got;
        i += n;
    }
    CU_ASSERT_EQUAL(done, ILBC_FRAMES * spf);
    CU_ASSERT(memcmp(ilbc_out, ilbc_ref, ILBC_FRAMES * spf * sizeof(int16_t)) == 0);

    /* conceal(): whole frames of this mode. */
    CU_ASSERT_EQUAL(d.c->conceal(d.st, &d.spec, ilbc_out, 2 * spf + 1), (long)(2 * spf));
    CU_ASSERT(rms(ilbc_out, 2 * spf) > 0);
    inst_close(&d);
}

static void test_ilbc_30ms_frames_match_reference(void)
{
    check_ilbc_mode(50, 240);
}

static void test_ilbc_20ms_frames_match_reference(void)
{
    check_ilbc_mode(38, 160);
}

/* The mode comes from the payload length; 950 octets (both) keeps the stream's mode, else 30. */
static void test_ilbc_mode_from_length(void)
{
    static uint8_t p[950];
    static int16_t pcm[25 * 240];
    dec_inst d;
    memset(p, 0, sizeof(p));

    CU_ASSERT_FATAL(inst_open(&d, "iLBC", 8000, 0));
    CU_ASSERT_EQUAL(d.c->conceal(d.st, &d.spec, pcm, 480), 0); /* nothing decoded yet */
    CU_ASSERT(d.c->max_frames(&d.spec, 950) >= 25 * 160);
    CU_ASSERT(d.c->max_frames(&d.spec, 950) >= 19 * 240);
    CU_ASSERT_EQUAL(inst_decode(&d, p, 950, pcm, 25 * 240), 19 * 240);
    CU_ASSERT_EQUAL(inst_decode(&d, p, 38, pcm, 25 * 240), 160);
    CU_ASSERT_EQUAL(inst_decode(&d, p, 950, pcm, 25 * 240), 25 * 160);
    CU_ASSERT_EQUAL(inst_decode(&d, p, 100, pcm, 25 * 240), 480);
    CU_ASSERT_EQUAL(inst_decode(&d, p, 76, pcm, 25 * 240), 320);
    CU_ASSERT(d.c->decode(d.st, &d.spec, p, 0, pcm, 240) < 0);
    CU_ASSERT(inst_decode(&d, p, 37, pcm, 25 * 240) < 0);
    CU_ASSERT(inst_decode(&d, p, 51, pcm, 25 * 240) < 0);
    CU_ASSERT(inst_decode(&d, p, 49, pcm, 25 * 240) < 0);
    rng_state = 0x3952u;
    fuzz_decoder(&d, 2000, 400);
    inst_close(&d);
}

#endif /* TEST_HAVE_LAVC */

/* A codec that is not built has no descriptor, and its static PT none either. */
static void test_absent_codecs_have_no_descriptor(void)
{
    const char *names[] = {"AMR", "AMR-WB", "iLBC", "G723"};
    for (size_t i = 0; i < 4; i++) {
        const rtpproc_codec *c = rtpproc_codec_find_by_name(names[i]);
        if (c != NULL)
            continue;
        printf("\n    %s: not built, its tests are not registered\n", names[i]);
        if (strcmp(names[i], "G723") == 0) {
            rtpproc_codec_spec spec;
            CU_ASSERT_EQUAL(rtpproc_codec_spec_for_static_pt(4, &spec), RTPPROC_ENOCODEC);
            CU_ASSERT_EQUAL(spec.clock_rate, 8000);
        }
    }
}

struct test_entry {
    const char *codec; /* registered only when this codec is built; NULL: always */
    const char *name;
    CU_TestFunc fn;
};

CU_pSuite rtpproc_test_codec_amr_lavc_suite(void)
{
    CU_pSuite s = CU_add_suite("codec_amr_lavc", NULL, NULL);
    if (s == NULL)
        return NULL;
    const struct test_entry tests[] = {
        {NULL, "absent_codecs_have_no_descriptor", test_absent_codecs_have_no_descriptor},
#if TEST_HAVE_OPENCORE
        {"AMR", "amr_descriptors", test_amr_descriptors},
        {"AMR", "amr_nb_tone_both_packings_snr", test_amr_nb_tone_both_packings_snr},
        {"AMR", "amr_nb_all_modes_both_packings", test_amr_nb_all_modes_both_packings},
        {"AMR", "amr_nb_dtx_sid_and_no_data", test_amr_nb_dtx_sid_and_no_data},
        {"AMR", "amr_nb_autodetect_sticks", test_amr_nb_autodetect_sticks},
        {"AMR", "amr_nb_malformed_payloads", test_amr_nb_malformed_payloads},
        {"AMR", "amr_nb_output_capacity", test_amr_nb_output_capacity},
        {"AMR", "amr_nb_conceal", test_amr_nb_conceal},
        {"AMR-WB", "amr_wb_all_types_both_packings", test_amr_wb_all_types_both_packings},
        {"AMR-WB", "amr_wb_no_data_and_malformed", test_amr_wb_no_data_and_malformed},
#endif
#if TEST_HAVE_LAVC
        {"G723", "g723_descriptor_and_static_pt", test_g723_descriptor_and_static_pt},
        {"G723", "g723_encoded_tone_matches_reference_and_source",
         test_g723_encoded_tone_matches_reference_and_source},
        {"G723", "g723_frame_types_and_malformed", test_g723_frame_types_and_malformed},
        {"G723", "g723_conceal", test_g723_conceal},
        {"iLBC", "ilbc_descriptor", test_ilbc_descriptor},
        {"iLBC", "ilbc_30ms_frames_match_reference", test_ilbc_30ms_frames_match_reference},
        {"iLBC", "ilbc_20ms_frames_match_reference", test_ilbc_20ms_frames_match_reference},
        {"iLBC", "ilbc_mode_from_length", test_ilbc_mode_from_length},
#endif
    };
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        if (tests[i].codec != NULL && rtpproc_codec_find_by_name(tests[i].codec) == NULL)
            continue;
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
            return NULL;
    }
    return s;
}
