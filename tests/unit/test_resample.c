/*
 * Unit tests of the resampling sink and its factory, and of the "rate"
 * option (suite "resample").
 *
 * The wrapped sink is a capture sink defined here: it keeps what reaches
 * it (or only counts it, for hour-long recordings) and survives close, so
 * the end of the stream - which the wrapper writes at close - can be read.
 * Tones are measured with the Goertzel algorithm over a whole number of
 * periods: amplitude = 2 |X(f)| / N.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <sndfile.h>

#include "rtpproc/options.h"
#include "rtpproc/recorder.h"
#include "rtpproc/resample.h"
#include "suite.h"

CU_pSuite rtpproc_test_resample_suite(void);

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- capture sink ---- */

typedef struct capture {
    bool keep;          /* store frames (else only count them) */
    int16_t *data;      /* frames * channels when keep */
    size_t cap;         /* samples allocated */
    uint64_t frames;    /* frames received */
    uint64_t nonzero;   /* non-zero samples received */
    int fail_writes_at; /* write call (1-based) that fails with EIO; 0 never */
    int writes;
    int closes;
    unsigned channels;
    uint32_t rate;
} capture;

typedef struct capsink {
    rtpproc_sink base;
    capture *c;
} capsink;

static int cap_append(capsink *k, const int16_t *frames, uint64_t nframes)
{
    capture *c = k->c;
    uint64_t n = nframes * c->channels;

    if (c->fail_writes_at != 0 && ++c->writes >= c->fail_writes_at)
        return RTPPROC_EIO;
    if (c->keep) {
        size_t have = (size_t)c->frames * c->channels;
        if (have + n > c->cap) {
            size_t cap = c->cap ? c->cap : 65536;
            while (cap < have + n)
                cap *= 2;
            int16_t *p = realloc(c->data, cap * sizeof(int16_t));
            if (p == NULL)
                return RTPPROC_ENOMEM;
            c->data = p;
            c->cap = cap;
        }
        if (frames != NULL)
            memcpy(c->data + have, frames, n * sizeof(int16_t));
        else
            memset(c->data + have, 0, n * sizeof(int16_t));
    }
    if (frames != NULL) {
        for (uint64_t i = 0; i < n; i++)
            c->nonzero += frames[i] != 0;
    }
    c->frames += nframes;
    k->base.frames += nframes;
    return RTPPROC_OK;
}

static int cap_write_pcm(rtpproc_sink *s, const int16_t *frames, size_t nframes)
{
    return cap_append((capsink *)s, frames, nframes);
}

static int cap_write_silence(rtpproc_sink *s, uint64_t nframes)
{
    return cap_append((capsink *)s, NULL, nframes);
}

static int cap_flush(rtpproc_sink *s)
{
    (void)s;
    return RTPPROC_OK;
}

static int cap_close(rtpproc_sink *s)
{
    capsink *k = (capsink *)s;
    k->c->closes++;
    free(s->path);
    free(k);
    return RTPPROC_OK;
}

static const rtpproc_sink_ops cap_ops = {
    .write_pcm = cap_write_pcm,
    .write_native = NULL,
    .write_silence = cap_write_silence,
    .flush = cap_flush,
    .close = cap_close,
};

static rtpproc_sink *capsink_new(capture *c)
{
    capsink *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return NULL;
    k->base.ops = &cap_ops;
    k->base.fmt.sample_rate = c->rate;
    k->base.fmt.channels = c->channels;
    k->base.fmt.encoding = RTPPROC_NATIVE_NONE;
    k->base.path = strdup("capture.wav");
    k->c = c;
    return &k->base;
}

/* A wrapper from `in` Hz onto a fresh capture at `out` Hz. */
static rtpproc_sink *wrap(capture *c, uint32_t in, uint32_t out, unsigned ch, bool keep)
{
    int status = 1;
    char err[256] = "";

    memset(c, 0, sizeof(*c));
    c->keep = keep;
    c->channels = ch;
    c->rate = out;
    rtpproc_sink *s = rtpproc_resample_new(capsink_new(c), in, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(status, RTPPROC_OK);
    CU_ASSERT_EQUAL(s->fmt.sample_rate, in);
    CU_ASSERT_EQUAL(s->fmt.channels, ch);
    CU_ASSERT_PTR_NULL(s->ops->write_native);
    return s;
}

/* round(n * out / in), half up, in long double (exact for these sizes). */
static uint64_t expected_frames(uint64_t n, uint32_t in, uint32_t out)
{
    return (uint64_t)floorl((long double)n * out / in + 0.5L);
}

/* ---- signals and measurements ---- */

/* `n` frames of a tone per channel (frequency f[c], amplitude a), from frame `start`. */
static void tone(int16_t *buf, size_t n, unsigned ch, uint32_t rate, const double *f, double a,
                 uint64_t start)
{
    for (size_t i = 0; i < n; i++) {
        for (unsigned c = 0; c < ch; c++) {
            double t = (double)(start + i) / rate;
            buf[i * ch + c] = (int16_t)lrint(a * sin(2 * M_PI * f[c] * t));
        }
    }
}

/* Goertzel amplitude of frequency f in channel c over frames [from, from + n). */
static double goertzel(const int16_t *buf, unsigned ch, unsigned c, size_t from, size_t n,
                       uint32_t rate, double f)
{
    double coeff = 2 * cos(2 * M_PI * f / rate), s1 = 0, s2 = 0;

    for (size_t i = 0; i < n; i++) {
        double s0 = buf[(from + i) * ch + c] + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    return 2 * sqrt(power > 0 ? power : 0) / (double)n;
}

/* RMS of channel c over frames [from, from + n). */
static double rms(const int16_t *buf, unsigned ch, unsigned c, size_t from, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        double x = buf[(from + i) * ch + c];
        e += x * x;
    }
    return sqrt(e / (double)n);
}

/* Small deterministic generator (xorshift32) for write patterns. */
static uint32_t rnd_state = 2463534242u;

static uint32_t rnd(uint32_t n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state % n;
}

/* ---- tests ---- */

/*
 * Random mixes of audio and silence (short and long gaps), mono and stereo,
 * up and down and by awkward ratios: after close, exactly round(N * out / in)
 * frames, and never more than that of what was written so far.
 */
static void test_lengths_exact_with_silence(void)
{
    static const uint32_t pairs[][2] = {
        {8000, 16000},  {8000, 48000},  {16000, 8000},  {48000, 8000},  {8000, 44100},
        {44100, 48000}, {11025, 8000},  {22050, 16000}, {48000, 16000}, {32000, 44100},
        {8000, 8001},   {192000, 8000}, {8000, 192000},
    };
    int16_t buf[2000 * 2];
    const double f[2] = {440, 1000};

    for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
        for (unsigned ch = 1; ch <= 2; ch++) {
            capture c;
            uint32_t in = pairs[p][0], out = pairs[p][1];
            rtpproc_sink *s = wrap(&c, in, out, ch, false);
            uint64_t n = 0;
            bool ok = true;
            for (int step = 0; step < 60; step++) {
                uint32_t what = rnd(10);
                if (what < 6) {
                    size_t len = 1 + rnd(2000);
                    tone(buf, len, ch, in, f, 8000, n);
                    CU_ASSERT_EQUAL(s->ops->write_pcm(s, buf, len), RTPPROC_OK);
                    n += len;
                } else if (what < 9) {
                    uint64_t len = rnd(3000); /* 0 included */
                    CU_ASSERT_EQUAL(s->ops->write_silence(s, len), RTPPROC_OK);
                    n += len;
                } else {
                    uint64_t len = in / 2 + rnd(in * 3); /* a long gap */
                    CU_ASSERT_EQUAL(s->ops->write_silence(s, len), RTPPROC_OK);
                    n += len;
                }
                if (c.frames > expected_frames(n, in, out))
                    ok = false;
            }
            CU_ASSERT_EQUAL(s->frames, n);
            CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
            if (c.frames != expected_frames(n, in, out) || !ok)
                printf("\n%u -> %u Hz, %u ch: %llu frames in, %llu out, expected %llu%s\n",
                       (unsigned)in, (unsigned)out, ch, (unsigned long long)n,
                       (unsigned long long)c.frames,
                       (unsigned long long)expected_frames(n, in, out),
                       ok ? "" : " (ahead of the input at some point)");
            CU_ASSERT_EQUAL(c.frames, expected_frames(n, in, out));
            CU_ASSERT_TRUE(ok);
            CU_ASSERT_EQUAL(c.closes, 1);
        }
    }
}

/* Edge lengths: nothing at all, one frame, silence only. */
static void test_lengths_edge_cases(void)
{
    capture c;
    int16_t one[2] = {1000, -1000};

    rtpproc_sink *s = wrap(&c, 8000, 48000, 2, true);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    CU_ASSERT_EQUAL(c.frames, 0);
    free(c.data);

    s = wrap(&c, 8000, 48000, 2, true);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, one, 1), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    CU_ASSERT_EQUAL(c.frames, 6);
    free(c.data);

    s = wrap(&c, 48000, 8000, 1, true);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, one, 1), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    CU_ASSERT_EQUAL(c.frames, 0); /* 1/6 frame rounds to none */
    free(c.data);

    s = wrap(&c, 48000, 8000, 1, true);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, one, 1), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 2), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    CU_ASSERT_EQUAL(c.frames, 1); /* 3/6 rounds up */
    free(c.data);

    s = wrap(&c, 16000, 44100, 1, true);
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 160000), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 17), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    CU_ASSERT_EQUAL(c.frames, expected_frames(160017, 16000, 44100));
    CU_ASSERT_EQUAL(c.nonzero, 0);
    free(c.data);
}

/*
 * A tone keeps its frequency and level: mono 1 kHz, and stereo with 1 kHz
 * left and 1.5 kHz right (no crosstalk), 8 kHz up to 16 and 48 kHz, and
 * 48 kHz down to 8 kHz. Measured over one second in the middle.
 */
static void check_tone(uint32_t in, uint32_t out, unsigned ch)
{
    const double f[2] = {1000, 1500};
    const double amp = 10000;
    size_t n = 3 * in;
    int16_t *buf = malloc(n * ch * sizeof(int16_t));
    capture c;

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    tone(buf, n, ch, in, f, amp, 0);
    rtpproc_sink *s = wrap(&c, in, out, ch, true);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, buf, n), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    CU_ASSERT_EQUAL_FATAL(c.frames, expected_frames(n, in, out));

    for (unsigned k = 0; k < ch; k++) {
        /* Frequency: the strongest 1 Hz bin within +-50 Hz (1 s window). */
        double best = 0, best_f = 0;
        for (double g = f[k] - 50; g <= f[k] + 50; g += 1) {
            double a = goertzel(c.data, ch, k, out, out, out, g);
            if (a > best) {
                best = a;
                best_f = g;
            }
        }
        double level_db = 20 * log10(best / amp);
        double purity = best / sqrt(2) / rms(c.data, ch, k, out, out);
        CU_ASSERT_DOUBLE_EQUAL(best_f, f[k], 0.01);
        CU_ASSERT_DOUBLE_EQUAL(level_db, 0, 0.5);
        CU_ASSERT(purity > 0.999); /* the tone is (almost) all the energy */
        if (ch == 2) {
            double other = goertzel(c.data, ch, k, out, out, out, f[1 - k]);
            CU_ASSERT(other < amp * 1e-3); /* below -60 dB */
        }
        if (fabs(best_f - f[k]) > 0.01 || fabs(level_db) > 0.5 || purity <= 0.999)
            printf("\n%u -> %u Hz ch %u: peak %.0f Hz, level %.3f dB, purity %.5f\n", (unsigned)in,
                   (unsigned)out, k, best_f, level_db, purity);
    }
    free(buf);
    free(c.data);
}

static void test_tone_frequency_and_level(void)
{
    check_tone(8000, 16000, 1);
    check_tone(8000, 48000, 1);
    check_tone(8000, 16000, 2);
    check_tone(8000, 48000, 2);
    check_tone(48000, 8000, 1);
    check_tone(48000, 8000, 2);
}

/* The timeline comes out the same however the writes are split. */
static void test_chunked_writes_equal_one_write(void)
{
    const double f[2] = {700, 1300};
    const unsigned ch = 2;
    const size_t n = 20000;
    int16_t *buf = malloc(n * ch * sizeof(int16_t));
    capture a, b;

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    tone(buf, n, ch, 8000, f, 12000, 0);
    /* Short silence (below the long-gap threshold) as zeros in the input. */
    memset(buf + 9000 * ch, 0, 1000 * ch * sizeof(int16_t));

    rtpproc_sink *s = wrap(&a, 8000, 44100, ch, true);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, buf, n), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);

    s = wrap(&b, 8000, 44100, ch, true);
    size_t pos = 0;
    while (pos < n) {
        size_t len = 1 + rnd(700);
        if (pos < 9000 && pos + len > 9000)
            len = 9000 - pos;
        if (pos == 9000) {
            /* the zeros as silence, in two writes */
            CU_ASSERT_EQUAL(s->ops->write_silence(s, 400), RTPPROC_OK);
            CU_ASSERT_EQUAL(s->ops->write_silence(s, 600), RTPPROC_OK);
            pos += 1000;
            continue;
        }
        if (len > n - pos)
            len = n - pos;
        CU_ASSERT_EQUAL(s->ops->write_pcm(s, buf + pos * ch, len), RTPPROC_OK);
        pos += len;
    }
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);

    CU_ASSERT_EQUAL_FATAL(a.frames, expected_frames(n, 8000, 44100));
    CU_ASSERT_EQUAL_FATAL(b.frames, a.frames);
    CU_ASSERT_EQUAL(memcmp(a.data, b.data, (size_t)a.frames * ch * sizeof(int16_t)), 0);
    free(buf);
    free(a.data);
    free(b.data);
}

/*
 * A long gap skips the converter: the result matches the gap written as
 * zeros through it - sample for sample within 2 LSB at an integer ratio,
 * and within the half-frame placement at 8000 -> 44100 (a 1 kHz tone
 * shifted by half a frame at 44.1 kHz differs by 7 %: SNR >= 20 dB).
 */
static void check_long_gap(uint32_t out, double min_snr_db)
{
    const double f[1] = {1000};
    const size_t burst = 1000, gap = 80000; /* 10 s */
    int16_t *buf = calloc(gap, sizeof(int16_t));
    capture fast, slow;

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    rtpproc_sink *a = wrap(&fast, 8000, out, 1, true);
    rtpproc_sink *b = wrap(&slow, 8000, out, 1, true);
    tone(buf, burst, 1, 8000, f, 10000, 0);
    CU_ASSERT_EQUAL(a->ops->write_pcm(a, buf, burst), RTPPROC_OK);
    CU_ASSERT_EQUAL(b->ops->write_pcm(b, buf, burst), RTPPROC_OK);
    CU_ASSERT_EQUAL(a->ops->write_silence(a, gap), RTPPROC_OK);
    memset(buf, 0, gap * sizeof(int16_t));
    CU_ASSERT_EQUAL(b->ops->write_pcm(b, buf, gap), RTPPROC_OK);
    tone(buf, burst, 1, 8000, f, 10000, burst + gap);
    CU_ASSERT_EQUAL(a->ops->write_pcm(a, buf, burst), RTPPROC_OK);
    CU_ASSERT_EQUAL(b->ops->write_pcm(b, buf, burst), RTPPROC_OK);
    CU_ASSERT_EQUAL(a->ops->close(a), RTPPROC_OK);
    CU_ASSERT_EQUAL(b->ops->close(b), RTPPROC_OK);

    uint64_t total = expected_frames(2 * burst + gap, 8000, out);
    CU_ASSERT_EQUAL_FATAL(fast.frames, total);
    CU_ASSERT_EQUAL_FATAL(slow.frames, total);
    int maxdiff = 0;
    double es = 0, ee = 0;
    for (uint64_t i = 0; i < total; i++) {
        int d = abs(fast.data[i] - slow.data[i]);
        if (d > maxdiff)
            maxdiff = d;
        es += (double)slow.data[i] * slow.data[i];
        ee += (double)d * d;
    }
    double snr = ee > 0 ? 10 * log10(es / ee) : 999;
    if (min_snr_db == 0) {
        CU_ASSERT(maxdiff <= 2);
    } else {
        CU_ASSERT(snr >= min_snr_db);
    }
    if ((min_snr_db == 0 && maxdiff > 2) || snr < min_snr_db)
        printf("\n8000 -> %u Hz long gap: max difference %d, SNR %.1f dB\n", (unsigned)out, maxdiff,
               snr);
    /* The middle of the gap is digital silence. */
    uint64_t mid = expected_frames(burst + gap / 2, 8000, out);
    CU_ASSERT_EQUAL(fast.data[mid], 0);
    free(buf);
    free(fast.data);
    free(slow.data);
}

static void test_long_gap_matches_zeros(void)
{
    check_long_gap(48000, 0);
    check_long_gap(16000, 0);
    check_long_gap(44100, 20);
}

/* An hour on hold costs no filtering (this would take tens of seconds) and stays exact. */
static void test_hour_of_silence(void)
{
    const double f[2] = {1000, 1000};
    int16_t buf[160 * 2];
    capture c;

    rtpproc_sink *s = wrap(&c, 8000, 48000, 2, false);
    tone(buf, 160, 2, 8000, f, 10000, 0);
    for (int rep = 0; rep < 3; rep++) {
        CU_ASSERT_EQUAL(s->ops->write_pcm(s, buf, 160), RTPPROC_OK);
        CU_ASSERT_EQUAL(s->ops->write_silence(s, 3600ull * 8000 + 7), RTPPROC_OK);
    }
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, buf, 160), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    CU_ASSERT_EQUAL(c.frames, expected_frames(4 * 160 + 3 * (3600ull * 8000 + 7), 8000, 48000));
    CU_ASSERT(c.nonzero > 0);
}

/* A failing wrapped sink: the error comes back now and later, close still closes it. */
static void test_inner_write_error(void)
{
    int16_t buf[8000] = {0};
    capture c;

    for (int i = 0; i < 8000; i++)
        buf[i] = (int16_t)(i % 100 * 100);
    rtpproc_sink *s = wrap(&c, 8000, 16000, 1, false);
    c.fail_writes_at = 2;
    int rc = RTPPROC_OK;
    for (int i = 0; i < 10 && rc == RTPPROC_OK; i++)
        rc = s->ops->write_pcm(s, buf, 8000);
    CU_ASSERT_EQUAL(rc, RTPPROC_EIO);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, buf, 10), RTPPROC_EIO);
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 10), RTPPROC_EIO);
    CU_ASSERT_EQUAL(s->ops->flush(s), RTPPROC_EIO);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_EIO);
    CU_ASSERT_EQUAL(c.closes, 1);
}

/* Ratios beyond libsamplerate's 1:256 are refused, and the sink is still closed. */
static void test_new_rejects_bad_ratio(void)
{
    capture c = {.channels = 1, .rate = 8000};
    int status = 0;
    char err[256] = "";

    CU_ASSERT_PTR_NULL(
        rtpproc_resample_new(capsink_new(&c), 8000 * 300, &status, err, sizeof(err)));
    CU_ASSERT_EQUAL(status, RTPPROC_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "2400000 Hz to 8000 Hz"));
    CU_ASSERT_EQUAL(c.closes, 1);
    CU_ASSERT_PTR_NULL(rtpproc_resample_new(capsink_new(&c), 0, &status, err, sizeof(err)));
    CU_ASSERT_EQUAL(status, RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(c.closes, 2);
}

/* ---- the factory ---- */

typedef struct fake_factory {
    capture c;
    int opens;
    rtpproc_sink_format asked;
} fake_factory;

static rtpproc_sink *fake_open(void *userdata, const rtpproc_sink_info *info,
                               const rtpproc_sink_format *fmt, int *status, char *errbuf,
                               size_t errlen)
{
    fake_factory *f = userdata;
    (void)info;
    (void)errbuf;
    (void)errlen;
    f->opens++;
    f->asked = *fmt;
    memset(&f->c, 0, sizeof(f->c));
    f->c.channels = fmt->channels;
    f->c.rate = fmt->sample_rate;
    *status = RTPPROC_OK;
    rtpproc_sink *s = capsink_new(&f->c);
    if (s != NULL)
        s->fmt.encoding = fmt->encoding;
    return s;
}

static void test_factory(void)
{
    fake_factory ff = {0};
    rtpproc_engine_config cfg;
    rtpproc_resample_factory rf;
    int status = 1;
    char err[256] = "";

    rtpproc_engine_config_init(&cfg);
    cfg.sink_open = fake_open;
    cfg.sink_userdata = &ff;
    rtpproc_resample_install(&rf, 0, &cfg); /* no --rate: nothing changes */
    CU_ASSERT_PTR_EQUAL(cfg.sink_open, fake_open);
    CU_ASSERT_PTR_EQUAL(cfg.sink_userdata, &ff);
    rtpproc_resample_install(&rf, 16000, &cfg);
    CU_ASSERT_PTR_EQUAL(cfg.sink_open, rtpproc_resample_open);
    CU_ASSERT_PTR_EQUAL(cfg.sink_userdata, &rf);

    /* Already at the output rate: the wrapped factory's own sink. */
    rtpproc_sink_format g722 = {16000, 1, RTPPROC_NATIVE_NONE};
    rtpproc_sink *s = cfg.sink_open(cfg.sink_userdata, NULL, &g722, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_EQUAL(s->ops, &cap_ops);
    CU_ASSERT_EQUAL(ff.asked.sample_rate, 16000);
    s->ops->close(s);

    /* Another rate: the wrapped factory opens at 16000, the engine writes at 8000. */
    rtpproc_sink_format pcma = {8000, 2, RTPPROC_NATIVE_ALAW};
    s = cfg.sink_open(cfg.sink_userdata, NULL, &pcma, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(status, RTPPROC_OK);
    CU_ASSERT_PTR_NOT_EQUAL(s->ops, &cap_ops);
    CU_ASSERT_EQUAL(ff.asked.sample_rate, 16000);
    CU_ASSERT_EQUAL(ff.asked.channels, 2);
    CU_ASSERT_EQUAL(ff.asked.encoding, RTPPROC_NATIVE_ALAW);
    CU_ASSERT_EQUAL(s->fmt.sample_rate, 8000);
    CU_ASSERT_EQUAL(s->fmt.encoding, RTPPROC_NATIVE_ALAW);
    CU_ASSERT_PTR_NULL(s->ops->write_native); /* the engine then writes PCM */
    CU_ASSERT_STRING_EQUAL(s->path, "capture.wav");
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 80), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    CU_ASSERT_EQUAL(ff.c.frames, 160);
    CU_ASSERT_EQUAL(ff.c.closes, 1);

    /* A ratio libsamplerate cannot do: refused before the wrapped factory opens anything. */
    int opens = ff.opens;
    rtpproc_sink_format tiny = {50, 1, RTPPROC_NATIVE_NONE};
    CU_ASSERT_PTR_NULL(cfg.sink_open(cfg.sink_userdata, NULL, &tiny, &status, err, sizeof(err)));
    CU_ASSERT_EQUAL(status, RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(ff.opens, opens);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "50 Hz to 16000 Hz"));
}

/* Through the real recorder: the WAV is at the output rate, with the exact length. */
static void test_recorder_file_at_output_rate(void)
{
    char dir[] = "/tmp/rtpproc-test-resample-XXXXXX";
    char path[128];
    const double f[1] = {1000};
    int16_t buf[8000];
    int status = 1;
    char err[256] = "";

    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/r.wav", dir);
    rtpproc_sink_format out = {48000, 1, RTPPROC_NATIVE_NONE};
    rtpproc_sink *inner = rtpproc_recorder_open_path(path, false, &out, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(inner);
    rtpproc_sink *s = rtpproc_resample_new(inner, 8000, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s->path, path);
    tone(buf, 8000, 1, 8000, f, 10000, 0);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, buf, 8000), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->flush(s), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 123), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);

    SF_INFO info;
    memset(&info, 0, sizeof(info));
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(info.samplerate, 48000);
    CU_ASSERT_EQUAL(info.channels, 1);
    CU_ASSERT_EQUAL(info.frames, (sf_count_t)expected_frames(8123, 8000, 48000));
    sf_close(sf);
    unlink(path);
    rmdir(dir);
}

/* ---- the option ---- */

static void test_rate_option(void)
{
    rtpproc_options o;
    char err[256];

    rtpproc_options_init(&o);
    CU_ASSERT_EQUAL(o.out_rate, 0);
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "rate", "16000", err, sizeof(err)), RTPPROC_OK);
    CU_ASSERT_EQUAL(o.out_rate, 16000);
    static const char *const bad[] = {"0",
                                      "abc",
                                      "1000000",
                                      "7999",
                                      "192001",
                                      "0x3E80",
                                      " 16000",
                                      "16000 ",
                                      "+8000",
                                      "-8000",
                                      "1e4",
                                      "16k",
                                      "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(rtpproc_options_set(&o, "rate", bad[i], err, sizeof(err)), RTPPROC_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "from 8000 to 192000"));
    }
    CU_ASSERT_EQUAL(o.out_rate, 16000); /* a refused value changes nothing */
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "rate", NULL, err, sizeof(err)), RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "rate", "8000", err, sizeof(err)), RTPPROC_OK);
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "rate", "192000", err, sizeof(err)), RTPPROC_OK);
    rtpproc_options_clear(&o);

    /* G.711 kept as it came is 8000 Hz: any other rate is refused, in either order. */
    rtpproc_options_init(&o);
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "rate", "16000", err, sizeof(err)), RTPPROC_OK);
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "encoding", "alaw", err, sizeof(err)), RTPPROC_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "8000 Hz"));
    CU_ASSERT_EQUAL(o.engine.encoding, RTPPROC_NATIVE_NONE);
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "encoding", "pcm16", err, sizeof(err)), RTPPROC_OK);
    rtpproc_options_clear(&o);

    rtpproc_options_init(&o);
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "encoding", "ulaw", err, sizeof(err)), RTPPROC_OK);
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "rate", "48000", err, sizeof(err)), RTPPROC_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "invalid rate '48000'"));
    CU_ASSERT_EQUAL(o.out_rate, 0);
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "rate", "8000", err, sizeof(err)), RTPPROC_OK);
    rtpproc_options_clear(&o);

    /* The plug-in's list form. */
    rtpproc_options_init(&o);
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "rate=44100,force", err, sizeof(err)),
                    RTPPROC_OK);
    CU_ASSERT_EQUAL(o.out_rate, 44100);
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "rate=", err, sizeof(err)), RTPPROC_EINVAL);
    rtpproc_options_clear(&o);
}

CU_pSuite rtpproc_test_resample_suite(void)
{
    CU_pSuite s = CU_add_suite("resample", NULL, NULL);
    static const test_case tests[] = {
        {"lengths_exact_with_silence", test_lengths_exact_with_silence},
        {"lengths_edge_cases", test_lengths_edge_cases},
        {"tone_frequency_and_level", test_tone_frequency_and_level},
        {"chunked_writes_equal_one_write", test_chunked_writes_equal_one_write},
        {"long_gap_matches_zeros", test_long_gap_matches_zeros},
        {"hour_of_silence", test_hour_of_silence},
        {"inner_write_error", test_inner_write_error},
        {"new_rejects_bad_ratio", test_new_rejects_bad_ratio},
        {"factory", test_factory},
        {"recorder_file_at_output_rate", test_recorder_file_at_output_rate},
        {"rate_option", test_rate_option},
    };
    return test_add_all(s, tests, TEST_COUNT(tests));
}
