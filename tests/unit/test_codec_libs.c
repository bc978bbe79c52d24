/*
 * Unit tests of the library-backed decoders G.729 (bcg729), Opus (libopus)
 * and Speex (libspeex) (suite "codec_libs").
 *
 * Each codec's own encoder turns a known two-tone signal into payloads,
 * which are decoded through the public API (rtpproc_codec_find_by_name,
 * rtpproc_codec_spec_make / rtpproc_codec_spec_for_static_pt and the
 * descriptor's functions). Checked: frame counts, the SNR of the decoded
 * signal against the source after aligning the codec delay (best lag), the
 * documented concealment frame counts, and that garbage or truncated
 * payloads give a negative status or a bounded frame count without a crash
 * and without anything printed on stderr (the core never prints).
 *
 * The test driver does not see cmake's RTPPROC_HAVE_<codec> (a private
 * definition of rtpproc_core), so each codec's tests are compiled when its
 * library's headers are on the include path, registered only when the
 * descriptor is in the registry (the codec was built), and reference the
 * encoders as weak symbols so that a build with a codec switched off still
 * links.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "rtpproc/codec.h"

#if defined(__has_include)
#if __has_include(<bcg729/encoder.h>) && __has_include(<bcg729/decoder.h>)
#include <bcg729/decoder.h>
#include <bcg729/encoder.h>
#pragma weak initBcg729EncoderChannel
#pragma weak closeBcg729EncoderChannel
#pragma weak bcg729Encoder
#pragma weak initBcg729DecoderChannel
#pragma weak closeBcg729DecoderChannel
#pragma weak bcg729Decoder
#define TEST_G729 1
#endif
#if __has_include(<opus.h>)
#include <opus.h>
#pragma weak opus_encoder_create
#pragma weak opus_encoder_ctl
#pragma weak opus_encoder_destroy
#pragma weak opus_encode
#define TEST_OPUS 1
#endif
#if __has_include(<speex/speex.h>)
#include <speex/speex.h>
#include <speex/speex_bits.h>
#pragma weak speex_lib_get_mode
#pragma weak speex_encoder_init
#pragma weak speex_encoder_ctl
#pragma weak speex_encoder_destroy
#pragma weak speex_encode_int
#pragma weak speex_bits_init
#pragma weak speex_bits_reset
#pragma weak speex_bits_write
#pragma weak speex_bits_destroy
#define TEST_SPEEX 1
#endif
#endif

CU_pSuite rtpproc_test_codec_libs_suite(void);

/* ---- signals and measures ---- */

#define PI 3.14159265358979323846

/* Two tones per channel (channel c: f1 * (c + 1), f2 * (c + 1)), interleaved. */
static void make_tone(int16_t *out, size_t frames, unsigned ch, double rate, double f1, double f2)
{
    for (size_t i = 0; i < frames; i++) {
        for (unsigned c = 0; c < ch; c++) {
            double t = (double)i / rate;
            double v = 6000.0 * sin(2 * PI * f1 * (c + 1) * t) +
                       4000.0 * sin(2 * PI * f2 * (c + 1) * t + 0.5);
            out[i * ch + c] = (int16_t)lrint(v);
        }
    }
}

/*
 * SNR in dB of channel `c` of `out` against `ref` (both `ch` channels,
 * `frames` long), at the lag in [0, max_lag] that maximises it; compared
 * from frame `start` (past the codec's start-up) to frames - max_lag.
 */
static double snr_best_lag(const int16_t *ref, const int16_t *out, size_t frames, unsigned ch,
                           unsigned c, size_t start, size_t max_lag, size_t *lag_out)
{
    double best = -1000.0;
    size_t best_lag = 0;

    for (size_t lag = 0; lag <= max_lag; lag++) {
        double sig = 0.0, err = 0.0;
        for (size_t i = start; i + max_lag < frames; i++) {
            double r = ref[i * ch + c];
            double d = r - out[(i + lag) * ch + c];
            sig += r * r;
            err += d * d;
        }
        double snr = err > 0 ? 10.0 * log10(sig / err) : 200.0;
        if (snr > best) {
            best = snr;
            best_lag = lag;
        }
    }
    if (lag_out != NULL)
        *lag_out = best_lag;
    return best;
}

static double rms(const int16_t *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return n > 0 ? sqrt(s / (double)n) : 0.0;
}

/* Deterministic bytes for garbage payloads (xorshift32). */
static uint32_t rnd_state = 0x12345678u;

static uint32_t rnd(void)
{
    uint32_t x = rnd_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rnd_state = x;
    return x;
}

/* ---- stderr watch: the decoders must stay silent on bad input ---- */

typedef struct stderr_watch {
    int saved_fd;
    FILE *tmp;
} stderr_watch;

static void stderr_watch_begin(stderr_watch *w)
{
    fflush(stderr);
    w->tmp = tmpfile();
    w->saved_fd = w->tmp != NULL ? dup(STDERR_FILENO) : -1;
    if (w->saved_fd >= 0)
        dup2(fileno(w->tmp), STDERR_FILENO);
}

/* Bytes written to stderr since begin (-1 if it could not be watched). */
static long stderr_watch_end(stderr_watch *w)
{
    long n = -1;
    fflush(stderr);
    if (w->saved_fd >= 0) {
        dup2(w->saved_fd, STDERR_FILENO);
        close(w->saved_fd);
        n = ftell(w->tmp);
        if (n > 0) {
            char buf[200];
            rewind(w->tmp);
            size_t got = fread(buf, 1, sizeof(buf) - 1, w->tmp);
            buf[got] = '\0';
            fprintf(stderr, "\n  printed on stderr: %s", buf);
        }
    }
    if (w->tmp != NULL)
        fclose(w->tmp);
    return n;
}

/* ---- a decoder instance through the public API ---- */

typedef struct dec {
    rtpproc_codec_spec spec;
    void *st;
} dec;

static bool dec_open(dec *d, const char *name, uint32_t rate, unsigned channels)
{
    const rtpproc_codec *c = rtpproc_codec_find_by_name(name);
    memset(d, 0, sizeof(*d));
    if (c == NULL)
        return false;
    rtpproc_codec_spec_make(c, rate, channels, &d->spec);
    d->st = c->create(&d->spec);
    return d->st != NULL;
}

static void dec_close(dec *d)
{
    if (d->st != NULL)
        d->spec.codec->destroy(d->st);
    d->st = NULL;
}

static long dec_run(dec *d, const uint8_t *in, size_t len, int16_t *out, size_t out_frames)
{
    return d->spec.codec->decode(d->st, &d->spec, in, len, out, out_frames);
}

/* Garbage of random lengths up to max_len: never more than max_frames, never a print. */
static void check_garbage(const char *name, uint32_t rate, unsigned channels, size_t max_len,
                          unsigned rounds)
{
    dec d;
    uint8_t in[1500];
    static int16_t out[64 * 640 * 2];
    unsigned decoded = 0, refused = 0;
    stderr_watch w;

    CU_ASSERT_FATAL(max_len <= sizeof(in));
    CU_ASSERT_FATAL(dec_open(&d, name, rate, channels));
    stderr_watch_begin(&w);
    for (unsigned r = 0; r < rounds; r++) {
        size_t len = rnd() % (max_len + 1);
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)rnd();
        size_t cap = d.spec.codec->max_frames(&d.spec, len);
        CU_ASSERT_FATAL(cap * d.spec.channels <= sizeof(out) / sizeof(out[0]));
        long n = dec_run(&d, in, len, out, cap);
        CU_ASSERT(n <= (long)cap);
        if (n > 0)
            decoded++;
        else
            refused++;
    }
    CU_ASSERT_EQUAL(stderr_watch_end(&w), 0);
    dec_close(&d);
    fprintf(stderr, "\n  %s/%u garbage: %u decoded, %u refused", name, rate, decoded, refused);
}

/* ---- G.729 ---- */

#ifdef TEST_G729

#define G729_SECONDS 2
#define G729_FRAMES  (8000 * G729_SECONDS)

static bool g729_ready(void)
{
    return rtpproc_codec_find_by_name("G729") != NULL && initBcg729EncoderChannel != NULL;
}

/* Encodes `frames` samples (a multiple of 80) into 10-byte frames; returns bytes. */
static size_t g729_encode(const int16_t *pcm, size_t frames, uint8_t *out)
{
    bcg729EncoderChannelContextStruct *enc = initBcg729EncoderChannel(0);
    size_t bytes = 0;
    for (size_t i = 0; i + 80 <= frames; i += 80) {
        uint8_t len = 0;
        bcg729Encoder(enc, pcm + i, out + bytes, &len);
        CU_ASSERT_EQUAL(len, 10);
        bytes += 10;
    }
    closeBcg729EncoderChannel(enc);
    return bytes;
}

static void test_g729_descriptor_and_static_pt(void)
{
    const rtpproc_codec *c = rtpproc_codec_find_by_name("g729");
    rtpproc_codec_spec spec;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->name, "G729");
    CU_ASSERT_STRING_EQUAL(c->ws_name, "g729");
    CU_ASSERT_EQUAL(c->static_pt, 18);
    CU_ASSERT_EQUAL(c->kind, RTPPROC_KIND_AUDIO);
    CU_ASSERT_PTR_NOT_NULL(c->conceal);
    CU_ASSERT_EQUAL(rtpproc_codec_spec_for_static_pt(18, &spec), RTPPROC_OK);
    CU_ASSERT_PTR_EQUAL(spec.codec, c);
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);
    CU_ASSERT_EQUAL(spec.sample_rate, 8000);
    CU_ASSERT_EQUAL(spec.channels, 1);
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(18), c->ws_name);
    /* 10-byte frames, plus one 80-sample frame for a trailing 2-byte SID */
    CU_ASSERT_EQUAL(c->max_frames(&spec, 0), 0);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 2), 80);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 5), 0);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 10), 80);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 20), 160);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 22), 240);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 25), 160);
}

/*
 * bcg729 round trip, 20 ms packets: every packet gives 160 samples, the
 * samples equal bcg729's own decoder fed the same frames (what Wireshark's
 * g729 plug-in does), and the SNR against the source passes 8 dB. G.729 is
 * a CELP speech codec with a post-filter, so it does not follow a waveform
 * closely: measured 10.9 dB (tones 437 + 1031 Hz, lag 56 samples). 8 dB
 * leaves room for another bcg729 release, while a wrong frame order, lost
 * frames or byte-swapped output fall below 0 dB.
 */
static void test_g729_round_trip_snr_and_library_equality(void)
{
    static int16_t src[G729_FRAMES], out[G729_FRAMES], ref[G729_FRAMES];
    static uint8_t bits[G729_FRAMES / 8];
    dec d;

    make_tone(src, G729_FRAMES, 1, 8000, 437, 1031);
    size_t nbytes = g729_encode(src, G729_FRAMES, bits);
    CU_ASSERT_EQUAL_FATAL(nbytes, G729_FRAMES / 8);
    CU_ASSERT_FATAL(dec_open(&d, "G729", 8000, 1));
    bcg729DecoderChannelContextStruct *lib = initBcg729DecoderChannel();
    size_t done = 0;
    for (size_t off = 0; off < nbytes; off += 20) {
        long n = dec_run(&d, bits + off, 20, out + done, 160);
        CU_ASSERT_EQUAL(n, 160);
        if (n != 160)
            break;
        bcg729Decoder(lib, bits + off, 10, 0, 0, 0, ref + done);
        bcg729Decoder(lib, bits + off + 10, 10, 0, 0, 0, ref + done + 80);
        done += 160;
    }
    closeBcg729DecoderChannel(lib);
    CU_ASSERT_EQUAL_FATAL(done, G729_FRAMES);
    CU_ASSERT_EQUAL(memcmp(out, ref, sizeof(out)), 0);
    size_t lag = 0;
    double snr = snr_best_lag(src, out, G729_FRAMES, 1, 0, 800, 200, &lag);
    fprintf(stderr, "\n  G.729 SNR %.1f dB at lag %zu", snr, lag);
    CU_ASSERT(snr > 8.0);
    dec_close(&d);
}

/*
 * Annex B: a VAD-enabled encoder turns silence into SID (2-byte) or
 * untransmitted (0-byte) frames. A packet of speech frames plus a SID
 * decodes to one more 80-sample frame, equal to bcg729's own SID decoding.
 */
static void test_g729_sid_frame_decoded_as_comfort_noise(void)
{
    static int16_t src[G729_FRAMES], out[240], ref[240];
    uint8_t frame[10], sid[2];
    bool have_sid = false;
    dec d;

    /* 1 s of tone, then 1 s of faint noise the VAD calls silence. */
    make_tone(src, 8000, 1, 8000, 437, 1031);
    for (size_t i = 8000; i < G729_FRAMES; i++)
        src[i] = (int16_t)((int)(rnd() % 41) - 20);
    bcg729EncoderChannelContextStruct *enc = initBcg729EncoderChannel(1);
    uint8_t last_speech[10] = {0};
    for (size_t i = 0; i + 80 <= G729_FRAMES; i += 80) {
        uint8_t len = 0;
        bcg729Encoder(enc, src + i, frame, &len);
        if (len == 10)
            memcpy(last_speech, frame, 10);
        if (len == 2 && i >= 8000) {
            memcpy(sid, frame, 2);
            have_sid = true;
            break;
        }
    }
    closeBcg729EncoderChannel(enc);
    CU_ASSERT_FATAL(have_sid);

    uint8_t pkt[22];
    memcpy(pkt, last_speech, 10);
    memcpy(pkt + 10, last_speech, 10);
    memcpy(pkt + 20, sid, 2);
    CU_ASSERT_FATAL(dec_open(&d, "G729", 8000, 1));
    CU_ASSERT_EQUAL(d.spec.codec->max_frames(&d.spec, sizeof(pkt)), 240);
    CU_ASSERT_EQUAL(dec_run(&d, pkt, sizeof(pkt), out, 240), 240);
    bcg729DecoderChannelContextStruct *lib = initBcg729DecoderChannel();
    bcg729Decoder(lib, pkt, 10, 0, 0, 0, ref);
    bcg729Decoder(lib, pkt + 10, 10, 0, 0, 0, ref + 80);
    bcg729Decoder(lib, pkt + 20, 2, 0, 1, 0, ref + 160);
    closeBcg729DecoderChannel(lib);
    CU_ASSERT_EQUAL(memcmp(out, ref, sizeof(out)), 0);

    /* A SID alone is a whole payload too (RFC 3551 4.5.6). */
    CU_ASSERT_EQUAL(dec_run(&d, sid, 2, out, 240), 80);
    /* Comfort noise continues in concealment after a SID (Annex B.27). */
    CU_ASSERT_EQUAL(d.spec.codec->conceal(d.st, &d.spec, out, 160), 160);
    dec_close(&d);
}

static void test_g729_odd_lengths_and_capacity(void)
{
    static int16_t src[800], out[400];
    uint8_t bits[100];
    dec d;

    make_tone(src, 800, 1, 8000, 437, 1031);
    g729_encode(src, 800, bits);
    CU_ASSERT_FATAL(dec_open(&d, "G729", 8000, 1));
    /* Whole frames are decoded, a remainder other than a SID is ignored. */
    CU_ASSERT_EQUAL(dec_run(&d, bits, 15, out, 400), 80);
    CU_ASSERT_EQUAL(dec_run(&d, bits, 29, out, 400), 160);
    /* Nothing decodable: negative. */
    CU_ASSERT(dec_run(&d, bits, 0, out, 400) < 0);
    CU_ASSERT(dec_run(&d, bits, 1, out, 400) < 0);
    CU_ASSERT(dec_run(&d, bits, 9, out, 400) < 0);
    /* Output capacity bounds the frames decoded. */
    CU_ASSERT_EQUAL(dec_run(&d, bits, 30, out, 100), 80);
    CU_ASSERT_EQUAL(dec_run(&d, bits, 30, out, 79), 0);
    dec_close(&d);
}

static void test_g729_stereo_spec_copies_mono(void)
{
    static int16_t src[160], mono[160], stereo[320];
    uint8_t bits[20];
    dec m, s;

    make_tone(src, 160, 1, 8000, 437, 1031);
    g729_encode(src, 160, bits);
    CU_ASSERT_FATAL(dec_open(&m, "G729", 8000, 1));
    CU_ASSERT_FATAL(dec_open(&s, "G729", 8000, 2));
    CU_ASSERT_EQUAL(dec_run(&m, bits, 20, mono, 160), 160);
    CU_ASSERT_EQUAL(dec_run(&s, bits, 20, stereo, 160), 160);
    unsigned bad = 0;
    for (size_t i = 0; i < 160; i++)
        bad += stereo[2 * i] != mono[i] || stereo[2 * i + 1] != mono[i];
    CU_ASSERT_EQUAL(bad, 0);
    dec_close(&m);
    dec_close(&s);
}

/* Concealment: whole 80-sample frames, in the voice's range after speech. */
static void test_g729_conceal_frame_counts(void)
{
    static int16_t src[800], out[800];
    uint8_t bits[100];
    dec d;

    make_tone(src, 800, 1, 8000, 437, 1031);
    g729_encode(src, 800, bits);
    CU_ASSERT_FATAL(dec_open(&d, "G729", 8000, 1));
    CU_ASSERT_EQUAL(dec_run(&d, bits, 100, out, 800), 800);
    const rtpproc_codec *c = d.spec.codec;
    CU_ASSERT_EQUAL(c->conceal(d.st, &d.spec, out, 79), 0);
    CU_ASSERT_EQUAL(c->conceal(d.st, &d.spec, out, 80), 80);
    CU_ASSERT_EQUAL(c->conceal(d.st, &d.spec, out, 250), 240);
    /* The first concealed frames repeat the voice, not silence. */
    CU_ASSERT_EQUAL(c->conceal(d.st, &d.spec, out, 160), 160);
    dec_close(&d);
    CU_ASSERT_FATAL(dec_open(&d, "G729", 8000, 1));
    CU_ASSERT_EQUAL(dec_run(&d, bits, 100, out, 800), 800);
    CU_ASSERT_EQUAL(c->conceal(d.st, &d.spec, out, 160), 160);
    double level = rms(out, 160);
    fprintf(stderr, "\n  G.729 concealed RMS %.0f (source %.0f)", level, rms(src, 800));
    CU_ASSERT(level > 500.0);
    dec_close(&d);
}

static void test_g729_garbage(void)
{
    check_garbage("G729", 8000, 1, 200, 2000);
}

#endif /* TEST_G729 */

/* ---- Opus ---- */

#ifdef TEST_OPUS

#define OPUS_TEST_FRAMES 48000 /* 1 s */

static bool opus_ready(void)
{
    return rtpproc_codec_find_by_name("opus") != NULL && opus_encoder_create != NULL;
}

/* Encodes `frames` of `ch`-channel 48 kHz audio in packets of `step` frames. */
static size_t opus_encode_all(const int16_t *pcm, size_t frames, unsigned ch, int step,
                              uint8_t pkts[][1500], size_t *lens, size_t max_pkts)
{
    int err = 0;
    OpusEncoder *enc = opus_encoder_create(48000, (int)ch, OPUS_APPLICATION_AUDIO, &err);
    size_t n = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(enc);
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(ch == 2 ? 128000 : 64000));
    for (size_t i = 0; i + (size_t)step <= frames && n < max_pkts; i += (size_t)step) {
        int len = opus_encode(enc, pcm + i * ch, step, pkts[n], 1500);
        CU_ASSERT(len > 0);
        if (len <= 0)
            break;
        lens[n++] = (size_t)len;
    }
    opus_encoder_destroy(enc);
    return n;
}

static void test_opus_descriptor(void)
{
    const rtpproc_codec *c = rtpproc_codec_find_by_name("OPUS");
    rtpproc_codec_spec spec;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->name, "opus");
    CU_ASSERT_PTR_NULL(c->ws_name);
    CU_ASSERT_EQUAL(c->static_pt, -1);
    CU_ASSERT_EQUAL(c->default_clock_rate, 48000);
    CU_ASSERT_EQUAL(c->default_channels, 1);
    CU_ASSERT_PTR_NOT_NULL(c->conceal);
    rtpproc_codec_spec_make(c, 0, 0, &spec);
    CU_ASSERT_EQUAL(spec.clock_rate, 48000);
    CU_ASSERT_EQUAL(spec.sample_rate, 48000);
    CU_ASSERT_EQUAL(spec.channels, 1);
    /* RFC 7587 4.1: audio is decoded at 48 kHz whatever the map says. */
    CU_ASSERT_EQUAL(c->sample_rate(16000), 48000);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 0), 0);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 1), 5760);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 1275), 5760);
    /* "opus/48000/2" (RFC 7587 7) gives a stereo output. */
    rtpproc_ptmap map;
    rtpproc_ptmap_init(&map);
    CU_ASSERT_EQUAL_FATAL(rtpproc_ptmap_parse(&map, "99=opus/48000/2", NULL, 0), RTPPROC_OK);
    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&map, 99, &spec), RTPPROC_OK);
    CU_ASSERT_PTR_EQUAL(spec.codec, c);
    CU_ASSERT_EQUAL(spec.channels, 2);
    /* Opus in RTP has no layout beyond stereo: no decoder. */
    rtpproc_codec_spec_make(c, 48000, 3, &spec);
    CU_ASSERT_PTR_NULL(c->create(&spec));
}

/*
 * 64 kbit/s mono, 20 ms packets: 960 frames each, SNR over 30 dB. Opus
 * (CELT at this rate) is a transform codec that keeps the waveform of
 * steady tones well: measured 40.8 dB at lag 312 (libopus's 6.5 ms
 * look-ahead). 30 dB leaves room for encoder changes between libopus
 * releases; a decoder at the wrong rate scores below 0 dB.
 */
static void test_opus_mono_round_trip(void)
{
    static int16_t src[OPUS_TEST_FRAMES], out[OPUS_TEST_FRAMES];
    static uint8_t pkts[50][1500];
    size_t lens[50] = {0};
    dec d;

    make_tone(src, OPUS_TEST_FRAMES, 1, 48000, 437, 1031);
    size_t n = opus_encode_all(src, OPUS_TEST_FRAMES, 1, 960, pkts, lens, 50);
    CU_ASSERT_EQUAL_FATAL(n, 50);
    CU_ASSERT_FATAL(dec_open(&d, "opus", 48000, 1));
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        size_t cap = d.spec.codec->max_frames(&d.spec, lens[i]);
        CU_ASSERT_FATAL(done + cap <= OPUS_TEST_FRAMES + 5760);
        long got = dec_run(&d, pkts[i], lens[i], out + done, 960);
        CU_ASSERT_EQUAL(got, 960);
        if (got != 960)
            break;
        done += 960;
    }
    CU_ASSERT_EQUAL_FATAL(done, OPUS_TEST_FRAMES);
    size_t lag = 0;
    double snr = snr_best_lag(src, out, OPUS_TEST_FRAMES, 1, 0, 4800, 1000, &lag);
    fprintf(stderr, "\n  Opus mono SNR %.1f dB at lag %zu", snr, lag);
    CU_ASSERT(snr > 30.0);
    dec_close(&d);
}

/*
 * Stereo at 128 kbit/s with different tones left and right: each channel
 * keeps its own tone (measured 42.3 / 39.2 dB; threshold 30 dB; swapped
 * channels would score below 0 dB), and a
 * mono spec downmixes the same packets (960 frames each).
 */
static void test_opus_stereo_round_trip_and_downmix(void)
{
    static int16_t src[OPUS_TEST_FRAMES * 2], out[OPUS_TEST_FRAMES * 2];
    static int16_t mono[960];
    static uint8_t pkts[50][1500];
    size_t lens[50] = {0};
    dec d, m;

    make_tone(src, OPUS_TEST_FRAMES, 2, 48000, 437, 1031);
    size_t n = opus_encode_all(src, OPUS_TEST_FRAMES, 2, 960, pkts, lens, 50);
    CU_ASSERT_EQUAL_FATAL(n, 50);
    CU_ASSERT_FATAL(dec_open(&d, "opus", 48000, 2));
    CU_ASSERT_FATAL(dec_open(&m, "opus", 48000, 1));
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        long got = dec_run(&d, pkts[i], lens[i], out + done * 2, 5760);
        CU_ASSERT_EQUAL(got, 960);
        CU_ASSERT_EQUAL(dec_run(&m, pkts[i], lens[i], mono, 5760), 960);
        if (got != 960)
            break;
        done += 960;
    }
    CU_ASSERT_EQUAL_FATAL(done, OPUS_TEST_FRAMES);
    for (unsigned c = 0; c < 2; c++) {
        size_t lag = 0;
        double snr = snr_best_lag(src, out, OPUS_TEST_FRAMES, 2, c, 4800, 1000, &lag);
        fprintf(stderr, "\n  Opus stereo channel %u SNR %.1f dB at lag %zu", c, snr, lag);
        CU_ASSERT(snr > 30.0);
    }
    dec_close(&d);
    dec_close(&m);
}

/* A mono stream under "opus/48000/2" (what SDP always says): equal channels. */
static void test_opus_mono_packets_stereo_spec(void)
{
    static int16_t src[9600], out[5760 * 2];
    static uint8_t pkts[10][1500];
    size_t lens[10] = {0};
    dec d;

    make_tone(src, 9600, 1, 48000, 437, 1031);
    size_t n = opus_encode_all(src, 9600, 1, 960, pkts, lens, 10);
    CU_ASSERT_FATAL(dec_open(&d, "opus", 48000, 2));
    unsigned bad = 0;
    double level = 0;
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(dec_run(&d, pkts[i], lens[i], out, 5760), 960);
        for (size_t k = 0; k < 960; k++)
            bad += out[2 * k] != out[2 * k + 1];
        level = rms(out, 1920);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(level > 1000.0);
    dec_close(&d);
}

/* Packet durations from 2.5 to 120 ms come out whole (RFC 6716 3.2.5). */
static void test_opus_packet_durations(void)
{
    static int16_t src[5760 * 2], out[5760];
    static uint8_t pkts[2][1500];
    size_t lens[2] = {0};
    const int steps[] = {120, 240, 480, 960, 1920, 2880, 3840, 4800, 5760};

    make_tone(src, 5760 * 2, 1, 48000, 437, 1031);
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        dec d;
        size_t n = opus_encode_all(src, (size_t)steps[k], 1, steps[k], pkts, lens, 1);
        CU_ASSERT_EQUAL_FATAL(n, 1);
        CU_ASSERT_FATAL(dec_open(&d, "opus", 48000, 1));
        CU_ASSERT_EQUAL(dec_run(&d, pkts[0], lens[0], out, 5760), steps[k]);
        /* Too little room for the packet: refused, not cut. */
        if (steps[k] > 120)
            CU_ASSERT(dec_run(&d, pkts[0], lens[0], out, (size_t)steps[k] - 120) < 0);
        dec_close(&d);
    }
}

static void test_opus_invalid_and_truncated(void)
{
    static int16_t src[960], out[5760 * 2];
    static uint8_t pkts[1][1500];
    size_t lens[1] = {0};
    dec d;

    CU_ASSERT_FATAL(dec_open(&d, "opus", 48000, 2));
    /* Empty payload: nothing to decode (libopus would conceal instead). */
    CU_ASSERT(dec_run(&d, (const uint8_t *)"", 0, out, 5760) < 0);
    /* Code 3 (RFC 6716 3.2.5) with a frame count of 0. */
    const uint8_t zero_count[] = {0x03, 0x00};
    CU_ASSERT(dec_run(&d, zero_count, sizeof(zero_count), out, 5760) < 0);
    /* Code 1 (two equal frames) with an odd number of bytes left (3.2.2). */
    const uint8_t odd[] = {0x01, 0x10, 0x20, 0x30};
    CU_ASSERT(dec_run(&d, odd, sizeof(odd), out, 5760) < 0);
    /* Code 2 whose first frame length runs past the end (3.2.3). */
    const uint8_t long_first[] = {0x02, 0xfb, 0x10};
    CU_ASSERT(dec_run(&d, long_first, sizeof(long_first), out, 5760) < 0);
    /* Code 3 asking for 49 x 2.5 ms, over 120 ms (3.2.5). */
    const uint8_t too_long[] = {0x83, 0x31, 0x00};
    CU_ASSERT(dec_run(&d, too_long, sizeof(too_long), out, 5760) < 0);

    /* A real packet cut short: refused or decoded within bounds. */
    make_tone(src, 960, 1, 48000, 437, 1031);
    CU_ASSERT_EQUAL_FATAL(opus_encode_all(src, 960, 1, 960, pkts, lens, 1), 1);
    for (size_t len = 1; len < lens[0]; len++) {
        long n = dec_run(&d, pkts[0], len, out, 5760);
        CU_ASSERT(n < 0 || n == 960);
    }
    dec_close(&d);
}

/* libopus PLC in 2.5 ms steps: frames rounded down, any length in slices. */
static void test_opus_conceal_frame_counts(void)
{
    static int16_t src[9600], out[20000 * 2];
    static uint8_t pkts[10][1500];
    size_t lens[10] = {0};
    dec d;

    make_tone(src, 9600, 1, 48000, 437, 1031);
    size_t n = opus_encode_all(src, 9600, 1, 960, pkts, lens, 10);
    CU_ASSERT_FATAL(dec_open(&d, "opus", 48000, 2));
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(dec_run(&d, pkts[i], lens[i], out, 5760), 960);
    const rtpproc_codec *c = d.spec.codec;
    CU_ASSERT_EQUAL(c->conceal(d.st, &d.spec, out, 1000), 960);
    double level = rms(out, 960 * 2);
    fprintf(stderr, "\n  Opus concealed RMS %.0f (source %.0f)", level, rms(src, 9600));
    CU_ASSERT(level > 500.0);
    CU_ASSERT_EQUAL(c->conceal(d.st, &d.spec, out, 119), 0);
    CU_ASSERT_EQUAL(c->conceal(d.st, &d.spec, out, 120), 120);
    CU_ASSERT_EQUAL(c->conceal(d.st, &d.spec, out, 20000), 19920);
    /* Decoding goes on after concealment. */
    CU_ASSERT_EQUAL(dec_run(&d, pkts[0], lens[0], out, 5760), 960);
    dec_close(&d);
}

static void test_opus_garbage(void)
{
    check_garbage("opus", 48000, 1, 1500, 3000);
    check_garbage("opus", 48000, 2, 300, 3000);
}

#endif /* TEST_OPUS */

/* ---- Speex ---- */

#ifdef TEST_SPEEX

static bool speex_ready(void)
{
    return rtpproc_codec_find_by_name("speex") != NULL && speex_encoder_init != NULL;
}

/*
 * Encodes `frames` samples at mode `id` into packets of `per_packet` frames
 * (speex_bits_write adds the terminator padding, RFC 5574 3.3).
 */
static size_t speex_encode_all(int id, int quality, int vbr, const int16_t *pcm, size_t frames,
                               int per_packet, uint8_t pkts[][1500], size_t *lens, size_t max_pkts)
{
    /* The function, not speex.h's macro, which names speex_nb_mode (data). */
    void *enc = speex_encoder_init((speex_lib_get_mode)(id));
    SpeexBits bits;
    int fs = 0;
    size_t n = 0;
    int16_t buf[640];

    CU_ASSERT_PTR_NOT_NULL_FATAL(enc);
    speex_encoder_ctl(enc, SPEEX_GET_FRAME_SIZE, &fs);
    speex_encoder_ctl(enc, SPEEX_SET_QUALITY, &quality);
    speex_encoder_ctl(enc, SPEEX_SET_VBR, &vbr);
    speex_bits_init(&bits);
    int in_packet = 0;
    for (size_t i = 0; i + (size_t)fs <= frames && n < max_pkts; i += (size_t)fs) {
        memcpy(buf, pcm + i, (size_t)fs * sizeof(int16_t));
        speex_encode_int(enc, buf, &bits);
        if (++in_packet == per_packet) {
            int len = speex_bits_write(&bits, (char *)pkts[n], 1500);
            lens[n++] = (size_t)len;
            speex_bits_reset(&bits);
            in_packet = 0;
        }
    }
    speex_bits_destroy(&bits);
    speex_encoder_destroy(enc);
    return n;
}

static void test_speex_descriptor_and_modes(void)
{
    const rtpproc_codec *c = rtpproc_codec_find_by_name("SPEEX");
    rtpproc_codec_spec spec;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->name, "speex");
    CU_ASSERT_PTR_NULL(c->ws_name);
    CU_ASSERT_EQUAL(c->static_pt, -1);
    CU_ASSERT_PTR_NOT_NULL(c->conceal);
    /* RFC 5574 3.3: the clock is the sampling rate of the mode. */
    CU_ASSERT_EQUAL(c->sample_rate(8000), 8000);
    CU_ASSERT_EQUAL(c->sample_rate(16000), 16000);
    CU_ASSERT_EQUAL(c->sample_rate(32000), 32000);
    rtpproc_codec_spec_make(c, 0, 0, &spec);
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);
    CU_ASSERT_EQUAL(spec.channels, 1);
    /* Upper bound: 5-bit frames, at most 64 per payload. */
    CU_ASSERT_EQUAL(c->max_frames(&spec, 0), 0);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 5), 8 * 160);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 1000), 64 * 160);
    rtpproc_codec_spec_make(c, 32000, 1, &spec);
    CU_ASSERT_EQUAL(spec.sample_rate, 32000);
    CU_ASSERT_EQUAL(c->max_frames(&spec, 1000), 64 * 640);
}

/*
 * Every mode, every quality (CBR and VBR), 1 and 3 frames per packet: the
 * payload walk must agree with libspeex's parser on every frame size, so
 * each packet gives exactly its frames.
 */
static void test_speex_frames_per_packet_all_qualities(void)
{
    static int16_t src[32000];
    static uint8_t pkts[20][1500];
    size_t lens[20] = {0};
    static int16_t out[64 * 640];
    const uint32_t rates[] = {8000, 16000, 32000};
    unsigned wrong = 0;

    for (int id = 0; id < 3; id++) {
        size_t fs = rates[id] / 50;
        make_tone(src, rates[id], 1, rates[id], 437, 1031);
        for (int vbr = 0; vbr < 2; vbr++) {
            for (int q = 0; q <= 10; q++) {
                for (int per = 1; per <= 3; per += 2) {
                    dec d;
                    size_t n =
                        speex_encode_all(id, q, vbr, src, rates[id] / 5, per, pkts, lens, 20);
                    CU_ASSERT_FATAL(dec_open(&d, "speex", rates[id], 1));
                    for (size_t i = 0; i < n; i++) {
                        size_t cap = d.spec.codec->max_frames(&d.spec, lens[i]);
                        long got = dec_run(&d, pkts[i], lens[i], out, cap);
                        if (got != (long)(per * fs)) {
                            if (wrong++ < 5)
                                fprintf(stderr, "\n  mode %d q %d vbr %d x%d: %ld frames", id, q,
                                        vbr, per, got);
                        }
                    }
                    dec_close(&d);
                }
            }
        }
    }
    CU_ASSERT_EQUAL(wrong, 0);
}

/*
 * Round trip at quality 8 per mode. Speex is a CELP speech codec with a
 * perceptual enhancer, so waveform SNR is modest: measured NB 16.4 dB
 * (lag 243), WB 20.5 dB (lag 440), UWB 20.5 dB (lag 943), the codec's
 * 30 ms delay; the threshold is 12 dB. A mode mismatch (a WB stream
 * decoded at 8 kHz) or a wrong frame order falls below 0 dB.
 */
static void check_speex_round_trip(int id, uint32_t rate)
{
    static int16_t src[32000], out[32000 + 64 * 640];
    static uint8_t pkts[60][1500];
    size_t lens[60] = {0};
    size_t fs = rate / 50;
    dec d;

    make_tone(src, rate, 1, rate, 437, 1031);
    size_t n = speex_encode_all(id, 8, 0, src, rate, 2, pkts, lens, 60);
    CU_ASSERT_EQUAL_FATAL(n, 25);
    CU_ASSERT_FATAL(dec_open(&d, "speex", rate, 1));
    CU_ASSERT_EQUAL(d.spec.sample_rate, rate);
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        long got = dec_run(&d, pkts[i], lens[i], out + done, 64 * 640);
        CU_ASSERT_EQUAL(got, (long)(2 * fs));
        if (got <= 0)
            break;
        done += (size_t)got;
    }
    CU_ASSERT_EQUAL_FATAL(done, rate);
    size_t lag = 0;
    double snr = snr_best_lag(src, out, rate, 1, 0, rate / 10, rate / 25, &lag);
    fprintf(stderr, "\n  Speex %u Hz SNR %.1f dB at lag %zu", rate, snr, lag);
    CU_ASSERT(snr > 12.0);
    dec_close(&d);
}

static void test_speex_round_trip_nb_wb_uwb(void)
{
    check_speex_round_trip(SPEEX_MODEID_NB, 8000);
    check_speex_round_trip(SPEEX_MODEID_WB, 16000);
    check_speex_round_trip(SPEEX_MODEID_UWB, 32000);
}

/* A narrowband decoder skips the wideband layers (the layered bitstream). */
static void test_speex_wideband_stream_on_narrowband_clock(void)
{
    static int16_t src[16000], out[64 * 160];
    static uint8_t pkts[20][1500];
    size_t lens[20] = {0};
    dec d;

    make_tone(src, 16000, 1, 16000, 437, 1031);
    size_t n = speex_encode_all(SPEEX_MODEID_WB, 8, 0, src, 16000, 2, pkts, lens, 20);
    CU_ASSERT_FATAL(dec_open(&d, "speex", 8000, 1));
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(dec_run(&d, pkts[i], lens[i], out, 64 * 160), 320);
    dec_close(&d);
}

static void test_speex_invalid_and_truncated(void)
{
    static int16_t src[8000], out[64 * 640];
    static uint8_t pkts[5][1500];
    size_t lens[5] = {0};
    stderr_watch w;
    dec d;

    CU_ASSERT_FATAL(dec_open(&d, "speex", 8000, 1));
    stderr_watch_begin(&w);
    CU_ASSERT(dec_run(&d, (const uint8_t *)"", 0, out, 64 * 160) < 0);
    /* Terminator only (wideband bit 0, mode 15, then 1-bits). */
    const uint8_t term[] = {0x7f};
    CU_ASSERT(dec_run(&d, term, sizeof(term), out, 64 * 160) < 0);
    /* Narrowband modes 9 to 12 do not exist: libspeex would print. */
    for (uint8_t m = 9; m <= 12; m++) {
        uint8_t bad[8] = {(uint8_t)(m << 3), 0, 0, 0, 0, 0, 0, 0};
        CU_ASSERT(dec_run(&d, bad, sizeof(bad), out, 64 * 160) < 0);
    }
    /* Three wideband layers in a row. */
    const uint8_t layers[12] = {0x90, 0, 0, 0, 0x09, 0, 0, 0, 0, 0x80, 0, 0};
    CU_ASSERT(dec_run(&d, layers, sizeof(layers), out, 64 * 160) < 0);
    CU_ASSERT_EQUAL(stderr_watch_end(&w), 0);

    /* Real packets cut short: whole frames before the cut, never more. */
    make_tone(src, 8000, 1, 8000, 437, 1031);
    CU_ASSERT_EQUAL_FATAL(speex_encode_all(SPEEX_MODEID_NB, 8, 0, src, 1600, 3, pkts, lens, 5), 3);
    for (size_t len = 1; len < lens[0]; len++) {
        long n = dec_run(&d, pkts[0], len, out, 64 * 160);
        CU_ASSERT(n < 0 || (n % 160 == 0 && n <= 480));
    }
    /* Output room for one frame: one frame. */
    CU_ASSERT_EQUAL(dec_run(&d, pkts[1], lens[1], out, 200), 160);
    /* Three frames of narrowband mode 3 (quality 4: 160 bits, so 60 whole
     * bytes), then 10000 bytes of 1-bits: a wideband layer of mode 7,
     * undefined. The frames before it count, the rest is dropped, also past
     * the decoder's 8192-byte buffer. */
    static uint8_t big[60 + 10000];
    CU_ASSERT_EQUAL_FATAL(speex_encode_all(SPEEX_MODEID_NB, 4, 0, src, 480, 3, pkts, lens, 1), 1);
    CU_ASSERT_EQUAL_FATAL(lens[0], 60); /* byte-aligned: no terminator */
    memcpy(big, pkts[0], 60);
    memset(big + 60, 0xff, 10000);
    stderr_watch_begin(&w);
    CU_ASSERT_EQUAL(dec_run(&d, big, sizeof(big), out, 64 * 160), 480);
    CU_ASSERT_EQUAL(stderr_watch_end(&w), 0);
    dec_close(&d);
}

static void test_speex_conceal_frame_counts(void)
{
    static int16_t src[16000], out[64 * 320 * 2];
    static uint8_t pkts[10][1500];
    size_t lens[10] = {0};
    dec d;

    make_tone(src, 16000, 1, 16000, 437, 1031);
    size_t n = speex_encode_all(SPEEX_MODEID_WB, 8, 0, src, 16000, 1, pkts, lens, 10);
    CU_ASSERT_FATAL(dec_open(&d, "speex", 16000, 2));
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(dec_run(&d, pkts[i], lens[i], out, 64 * 320), 320);
    const rtpproc_codec *c = d.spec.codec;
    CU_ASSERT_EQUAL(c->conceal(d.st, &d.spec, out, 319), 0);
    CU_ASSERT_EQUAL(c->conceal(d.st, &d.spec, out, 700), 640);
    unsigned bad = 0;
    for (size_t i = 0; i < 640; i++)
        bad += out[2 * i] != out[2 * i + 1];
    CU_ASSERT_EQUAL(bad, 0);
    double level = rms(out, 640 * 2);
    fprintf(stderr, "\n  Speex concealed RMS %.0f (source %.0f)", level, rms(src, 16000));
    CU_ASSERT(level > 300.0);
    dec_close(&d);
}

static void test_speex_garbage(void)
{
    check_garbage("speex", 8000, 1, 300, 3000);
    check_garbage("speex", 16000, 1, 300, 3000);
    check_garbage("speex", 32000, 2, 300, 3000);
}

#endif /* TEST_SPEEX */

/* Runs whatever codecs are built: the suite always has this test. */
static void test_codec_libs_registry_consistent(void)
{
    const char *names[] = {"G729", "opus", "speex"};
    for (size_t i = 0; i < 3; i++) {
        const rtpproc_codec *c = rtpproc_codec_find_by_name(names[i]);
        if (c == NULL) {
            fprintf(stderr, "\n  %s: not built", names[i]);
            continue;
        }
        CU_ASSERT_STRING_EQUAL(c->name, names[i]);
        CU_ASSERT_PTR_NOT_NULL(c->create);
        CU_ASSERT_PTR_NOT_NULL(c->destroy);
        CU_ASSERT_PTR_NOT_NULL(c->decode);
        CU_ASSERT_PTR_NOT_NULL(c->max_frames);
        CU_ASSERT_PTR_NOT_NULL(c->conceal);
        CU_ASSERT_PTR_NOT_NULL(c->sample_rate);
        CU_ASSERT_EQUAL(c->kind, RTPPROC_KIND_AUDIO);
        CU_ASSERT(c->default_clock_rate > 0 && c->default_channels > 0);
        CU_ASSERT_EQUAL(c->native, RTPPROC_NATIVE_NONE);
    }
}

typedef struct test_entry {
    const char *name;
    CU_TestFunc fn;
} test_entry;

static bool add_tests(CU_pSuite s, const test_entry *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (CU_add_test(s, t[i].name, t[i].fn) == NULL)
            return false;
    }
    return true;
}

#define ADD_TESTS(s, arr) add_tests((s), (arr), sizeof(arr) / sizeof((arr)[0]))

CU_pSuite rtpproc_test_codec_libs_suite(void)
{
    CU_pSuite s = CU_add_suite("codec_libs", NULL, NULL);
    if (s == NULL)
        return NULL;
    const test_entry common[] = {
        {"codec_libs_registry_consistent", test_codec_libs_registry_consistent},
    };
    if (!ADD_TESTS(s, common))
        return NULL;
#ifdef TEST_G729
    const test_entry g729[] = {
        {"g729_descriptor_and_static_pt", test_g729_descriptor_and_static_pt},
        {"g729_round_trip_snr_and_library_equality", test_g729_round_trip_snr_and_library_equality},
        {"g729_sid_frame_decoded_as_comfort_noise", test_g729_sid_frame_decoded_as_comfort_noise},
        {"g729_odd_lengths_and_capacity", test_g729_odd_lengths_and_capacity},
        {"g729_stereo_spec_copies_mono", test_g729_stereo_spec_copies_mono},
        {"g729_conceal_frame_counts", test_g729_conceal_frame_counts},
        {"g729_garbage", test_g729_garbage},
    };
    if (g729_ready() && !ADD_TESTS(s, g729))
        return NULL;
#endif
#ifdef TEST_OPUS
    const test_entry opus[] = {
        {"opus_descriptor", test_opus_descriptor},
        {"opus_mono_round_trip", test_opus_mono_round_trip},
        {"opus_stereo_round_trip_and_downmix", test_opus_stereo_round_trip_and_downmix},
        {"opus_mono_packets_stereo_spec", test_opus_mono_packets_stereo_spec},
        {"opus_packet_durations", test_opus_packet_durations},
        {"opus_invalid_and_truncated", test_opus_invalid_and_truncated},
        {"opus_conceal_frame_counts", test_opus_conceal_frame_counts},
        {"opus_garbage", test_opus_garbage},
    };
    if (opus_ready() && !ADD_TESTS(s, opus))
        return NULL;
#endif
#ifdef TEST_SPEEX
    const test_entry speex[] = {
        {"speex_descriptor_and_modes", test_speex_descriptor_and_modes},
        {"speex_frames_per_packet_all_qualities", test_speex_frames_per_packet_all_qualities},
        {"speex_round_trip_nb_wb_uwb", test_speex_round_trip_nb_wb_uwb},
        {"speex_wideband_stream_on_narrowband_clock",
         test_speex_wideband_stream_on_narrowband_clock},
        {"speex_invalid_and_truncated", test_speex_invalid_and_truncated},
        {"speex_conceal_frame_counts", test_speex_conceal_frame_counts},
        {"speex_garbage", test_speex_garbage},
    };
    if (speex_ready() && !ADD_TESTS(s, speex))
        return NULL;
#endif
    return s;
}
