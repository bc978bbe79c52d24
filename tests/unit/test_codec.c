/*
 * Unit tests of the codec registry, G.711, L16, events/CN descriptors and
 * --pt-map parsing (suite "codec").
 *
 * G.711 is checked exhaustively against an independent decoder: libsndfile
 * reading the same 256 bytes as headerless A-law / u-law from memory
 * (sf_open_virtual), which uses libsndfile's own tables.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <sndfile.h>

#include "rtpproc/codec.h"

#include "g711.h"
#include "suite.h"

CU_pSuite rtpproc_test_codec_suite(void);

/* ---- libsndfile reading from a memory buffer ---- */

typedef struct membuf {
    const uint8_t *data;
    sf_count_t len;
    sf_count_t pos;
} membuf;

static sf_count_t mb_len(void *user)
{
    return ((membuf *)user)->len;
}

static sf_count_t mb_seek(sf_count_t off, int whence, void *user)
{
    membuf *m = user;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->len;
    if (base + off < 0 || base + off > m->len)
        return -1;
    m->pos = base + off;
    return m->pos;
}

static sf_count_t mb_read(void *ptr, sf_count_t count, void *user)
{
    membuf *m = user;
    if (count > m->len - m->pos)
        count = m->len - m->pos;
    memcpy(ptr, m->data + m->pos, (size_t)count);
    m->pos += count;
    return count;
}

static sf_count_t mb_tell(void *user)
{
    return ((membuf *)user)->pos;
}

/* Decodes `n` G.711 bytes with libsndfile; returns frames read. */
static sf_count_t sndfile_decode(int subformat, const uint8_t *bytes, size_t n, short *out)
{
    SF_VIRTUAL_IO io = {mb_len, mb_seek, mb_read, NULL, mb_tell};
    membuf mb = {bytes, (sf_count_t)n, 0};
    SF_INFO info;

    memset(&info, 0, sizeof(info));
    info.samplerate = 8000;
    info.channels = 1;
    info.format = SF_FORMAT_RAW | subformat;
    SNDFILE *sf = sf_open_virtual(&io, SFM_READ, &info, &mb);
    if (sf == NULL)
        return -1;
    sf_count_t got = sf_read_short(sf, out, (sf_count_t)n);
    sf_close(sf);
    return got;
}

/* Decodes `len` bytes with the named codec at its static spec. */
static long codec_decode_static(unsigned pt, const uint8_t *in, size_t len, int16_t *out,
                                size_t out_frames)
{
    rtpproc_codec_spec spec;
    if (rtpproc_codec_spec_for_static_pt(pt, &spec) != RTPPROC_OK)
        return -1000;
    void *st = spec.codec->create(&spec);
    if (st == NULL)
        return -1001;
    long n = spec.codec->decode(st, &spec, in, len, out, out_frames);
    spec.codec->destroy(st);
    return n;
}

static void check_g711_against_sndfile(unsigned pt, int subformat)
{
    uint8_t bytes[256];
    int16_t ours[256];
    short ref[256];

    for (unsigned i = 0; i < 256; i++)
        bytes[i] = (uint8_t)i;
    CU_ASSERT_EQUAL_FATAL(sndfile_decode(subformat, bytes, 256, ref), 256);
    CU_ASSERT_EQUAL_FATAL(codec_decode_static(pt, bytes, 256, ours, 256), 256);
    unsigned mismatches = 0;
    for (unsigned i = 0; i < 256; i++) {
        if (ours[i] != ref[i]) {
            if (mismatches++ < 5)
                fprintf(stderr, "\n  pt %u byte 0x%02X: ours %d libsndfile %d", pt, i, ours[i],
                        ref[i]);
        }
    }
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_alaw_all_256_codes_match_libsndfile(void)
{
    check_g711_against_sndfile(8, SF_FORMAT_ALAW);
}

static void test_ulaw_all_256_codes_match_libsndfile(void)
{
    check_g711_against_sndfile(0, SF_FORMAT_ULAW);
}

static void test_alaw_spot_values_from_wireshark(void)
{
    /* wireshark-notes.md 4: Wireshark's g711A codec gives 8, 56, 40, 216. */
    const uint8_t in[] = {0xd5, 0xd6, 0xd7, 0xd8};
    int16_t out[4];
    CU_ASSERT_EQUAL_FATAL(codec_decode_static(8, in, 4, out, 4), 4);
    CU_ASSERT_EQUAL(out[0], 8);
    CU_ASSERT_EQUAL(out[1], 56);
    CU_ASSERT_EQUAL(out[2], 40);
    CU_ASSERT_EQUAL(out[3], 216);
}

static void test_ulaw_extremes_and_zero(void)
{
    /* G.711 u-law: 0xFF and 0x7F are +0 and -0, 0x80 / 0x00 the extremes. */
    const uint8_t in[] = {0xff, 0x7f, 0x80, 0x00};
    int16_t out[4];
    CU_ASSERT_EQUAL_FATAL(codec_decode_static(0, in, 4, out, 4), 4);
    CU_ASSERT_EQUAL(out[0], 0);
    CU_ASSERT_EQUAL(out[1], 0);
    CU_ASSERT_EQUAL(out[2], 32124);
    CU_ASSERT_EQUAL(out[3], -32124);
}

/* Every implementation of the G.711 expansion, every byte value, against
 * libsndfile's own tables. */
static void test_g711_expand_every_impl_every_byte(void)
{
    uint8_t bytes[256];
    short ref_a[256], ref_u[256];
    int16_t out[256];
    size_t n = 0;
    const rp_g711_impl *impls = rp_g711_impls(&n);

    for (unsigned i = 0; i < 256; i++)
        bytes[i] = (uint8_t)i;
    CU_ASSERT_EQUAL_FATAL(sndfile_decode(SF_FORMAT_ALAW, bytes, 256, ref_a), 256);
    CU_ASSERT_EQUAL_FATAL(sndfile_decode(SF_FORMAT_ULAW, bytes, 256, ref_u), 256);
    CU_ASSERT_FATAL(n >= 1);
    CU_ASSERT_STRING_EQUAL(impls[0].name, "table");
#if defined(__x86_64__) && defined(__GNUC__)
    /* The vector paths must really be taken where the CPU has them. */
    if (__builtin_cpu_supports("avx2")) {
        bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
        CU_ASSERT_EQUAL(n, avx512 ? 3 : 2);
        CU_ASSERT_STRING_EQUAL(impls[1].name, "avx2");
        CU_ASSERT_STRING_EQUAL(impls[n - 1].name, avx512 ? "avx512" : "avx2");
    }
#endif
    for (size_t k = 0; k < n; k++) {
        impls[k].alaw(bytes, out, 256);
        CU_ASSERT_EQUAL(memcmp(out, ref_a, sizeof(out)), 0);
        impls[k].ulaw(bytes, out, 256);
        CU_ASSERT_EQUAL(memcmp(out, ref_u, sizeof(out)), 0);
    }
    rp_g711_expand(RTPPROC_NATIVE_ALAW, bytes, out, 256);
    CU_ASSERT_EQUAL(memcmp(out, ref_a, sizeof(out)), 0);
    rp_g711_expand(RTPPROC_NATIVE_ULAW, bytes, out, 256);
    CU_ASSERT_EQUAL(memcmp(out, ref_u, sizeof(out)), 0);
}

/* Lengths around the 16-sample steps and unaligned starts: the same values
 * as the table loop, and nothing written past the end. */
static void test_g711_expand_tails_and_offsets(void)
{
    uint8_t in[80];
    int16_t ref[72], out[72 + 4];
    size_t n = 0;
    const rp_g711_impl *impls = rp_g711_impls(&n);
    uint32_t x = 12345;

    for (size_t i = 0; i < sizeof(in); i++) {
        x = x * 1103515245u + 12345u;
        in[i] = (uint8_t)(x >> 24);
    }
    unsigned bad = 0;
    for (size_t k = 0; k < n; k++) {
        for (unsigned law = 0; law < 2; law++) {
            for (size_t off = 0; off < 4; off++) {
                for (size_t len = 0; len <= 72; len++) {
                    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
                        out[i] = 0x5A5A;
                    if (law == 0) {
                        impls[0].alaw(in + off, ref, len);
                        impls[k].alaw(in + off, out, len);
                    } else {
                        impls[0].ulaw(in + off, ref, len);
                        impls[k].ulaw(in + off, out, len);
                    }
                    bad += memcmp(out, ref, len * sizeof(int16_t)) != 0;
                    for (size_t i = len; i < sizeof(out) / sizeof(out[0]); i++)
                        bad += out[i] != 0x5A5A;
                }
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_g711_decode_stops_at_output_capacity(void)
{
    const uint8_t in[] = {0xd5, 0xd6, 0xd7, 0xd8};
    int16_t out[4] = {111, 111, 111, 111};
    CU_ASSERT_EQUAL(codec_decode_static(8, in, 4, out, 2), 2);
    CU_ASSERT_EQUAL(out[1], 56);
    CU_ASSERT_EQUAL(out[2], 111);
}

static void test_g711_stereo_via_spec_make(void)
{
    const rtpproc_codec *c = rtpproc_codec_find_by_name("PCMU");
    rtpproc_codec_spec spec;
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rtpproc_codec_spec_make(c, 8000, 2, &spec);
    /* 5 bytes in stereo: two whole frames, the fifth byte is half a frame. */
    const uint8_t in[] = {0xff, 0x80, 0x00, 0x7f, 0x80};
    int16_t out[6] = {0};
    CU_ASSERT_EQUAL(c->max_frames(&spec, sizeof(in)), 2);
    void *st = c->create(&spec);
    CU_ASSERT_EQUAL(c->decode(st, &spec, in, sizeof(in), out, 3), 2);
    c->destroy(st);
    CU_ASSERT_EQUAL(out[0], 0);
    CU_ASSERT_EQUAL(out[1], 32124);
    CU_ASSERT_EQUAL(out[2], -32124);
    CU_ASSERT_EQUAL(out[3], 0);
    CU_ASSERT_EQUAL(out[4], 0); /* untouched */
}

static void test_g711_descriptors(void)
{
    const rtpproc_codec *a = rtpproc_codec_find_by_name("PCMA");
    const rtpproc_codec *u = rtpproc_codec_find_by_name("PCMU");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(u);
    CU_ASSERT_EQUAL(a->static_pt, 8);
    CU_ASSERT_EQUAL(u->static_pt, 0);
    CU_ASSERT_EQUAL(a->native, RTPPROC_NATIVE_ALAW);
    CU_ASSERT_EQUAL(u->native, RTPPROC_NATIVE_ULAW);
    CU_ASSERT_STRING_EQUAL(a->ws_name, "g711A");
    CU_ASSERT_STRING_EQUAL(u->ws_name, "g711U");
    CU_ASSERT_EQUAL(a->kind, RTPPROC_KIND_AUDIO);
    CU_ASSERT_EQUAL(a->sample_rate(8000), 8000);
    CU_ASSERT_EQUAL(u->sample_rate(16000), 16000);
    CU_ASSERT_EQUAL(a->max_frames(
                        &(rtpproc_codec_spec){
                            .codec = a, .clock_rate = 8000, .sample_rate = 8000, .channels = 1},
                        160),
                    160);
}

/* ---- L16 ---- */

static void test_l16_mono_network_byte_order(void)
{
    /* 0x1234, 0xFFFE = -2, 0x8000 = -32768, 0x7FFF = 32767, big-endian. */
    const uint8_t in[] = {0x12, 0x34, 0xff, 0xfe, 0x80, 0x00, 0x7f, 0xff};
    int16_t out[4];
    CU_ASSERT_EQUAL_FATAL(codec_decode_static(11, in, sizeof(in), out, 4), 4);
    CU_ASSERT_EQUAL(out[0], 0x1234);
    CU_ASSERT_EQUAL(out[1], -2);
    CU_ASSERT_EQUAL(out[2], -32768);
    CU_ASSERT_EQUAL(out[3], 32767);
}

static void test_l16_stereo_interleave_pt10(void)
{
    rtpproc_codec_spec spec;
    CU_ASSERT_EQUAL_FATAL(rtpproc_codec_spec_for_static_pt(10, &spec), RTPPROC_OK);
    CU_ASSERT_EQUAL(spec.channels, 2);
    CU_ASSERT_EQUAL(spec.clock_rate, 44100);
    CU_ASSERT_EQUAL(spec.sample_rate, 44100);
    /* L0=1 R0=-1 L1=256 R1=-256, then 3 bytes of an incomplete frame. */
    const uint8_t in[] = {0x00, 0x01, 0xff, 0xff, 0x01, 0x00, 0xff, 0x00, 0x12, 0x34, 0x56};
    int16_t out[6] = {7, 7, 7, 7, 7, 7};
    CU_ASSERT_EQUAL(spec.codec->max_frames(&spec, sizeof(in)), 2);
    CU_ASSERT_EQUAL_FATAL(codec_decode_static(10, in, sizeof(in), out, 3), 2);
    CU_ASSERT_EQUAL(out[0], 1);
    CU_ASSERT_EQUAL(out[1], -1);
    CU_ASSERT_EQUAL(out[2], 256);
    CU_ASSERT_EQUAL(out[3], -256);
    CU_ASSERT_EQUAL(out[4], 7);
}

static void test_l16_mono_pt11_spec(void)
{
    rtpproc_codec_spec spec;
    CU_ASSERT_EQUAL_FATAL(rtpproc_codec_spec_for_static_pt(11, &spec), RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(spec.codec->name, "L16");
    CU_ASSERT_EQUAL(spec.channels, 1);
    CU_ASSERT_EQUAL(spec.clock_rate, 44100);
    CU_ASSERT_EQUAL(spec.codec->max_frames(&spec, 7), 3);
    CU_ASSERT_EQUAL(spec.codec->native, RTPPROC_NATIVE_NONE);
}

/* ---- events and CN ---- */

static void test_event_and_cn_decode_no_frames(void)
{
    const rtpproc_codec *ev = rtpproc_codec_find_by_name("telephone-event");
    const rtpproc_codec *cn = rtpproc_codec_find_by_name("CN");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cn);
    CU_ASSERT_EQUAL(ev->kind, RTPPROC_KIND_EVENT);
    CU_ASSERT_EQUAL(cn->kind, RTPPROC_KIND_CN);
    CU_ASSERT_EQUAL(ev->default_clock_rate, 8000);
    CU_ASSERT_EQUAL(ev->static_pt, -1);
    CU_ASSERT_EQUAL(cn->static_pt, 13);

    const uint8_t in[] = {0x05, 0x8a, 0x03, 0x20}; /* RFC 4733: digit 5, end, 800 units */
    int16_t out[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    rtpproc_codec_spec spec;
    rtpproc_codec_spec_make(ev, 0, 0, &spec);
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);
    void *st = ev->create(&spec);
    CU_ASSERT_PTR_NOT_NULL(st);
    CU_ASSERT_EQUAL(ev->max_frames(&spec, sizeof(in)), 0);
    CU_ASSERT_EQUAL(ev->decode(st, &spec, in, sizeof(in), out, 8), 0);
    ev->destroy(st);

    CU_ASSERT_EQUAL_FATAL(rtpproc_codec_spec_for_static_pt(13, &spec), RTPPROC_OK);
    CU_ASSERT_PTR_EQUAL(spec.codec, cn);
    st = cn->create(&spec);
    CU_ASSERT_PTR_NOT_NULL(st);
    CU_ASSERT_EQUAL(cn->decode(st, &spec, in, 1, out, 8), 0);
    cn->destroy(st);
    CU_ASSERT_EQUAL(out[0], 9);
}

/* ---- static payload types (RFC 3551 tables 4 and 5) ---- */

static void test_static_pt_with_codecs(void)
{
    rtpproc_codec_spec spec;

    CU_ASSERT_EQUAL(rtpproc_codec_spec_for_static_pt(0, &spec), RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(spec.codec->name, "PCMU");
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);
    CU_ASSERT_EQUAL(spec.sample_rate, 8000);
    CU_ASSERT_EQUAL(spec.channels, 1);

    CU_ASSERT_EQUAL(rtpproc_codec_spec_for_static_pt(8, &spec), RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(spec.codec->name, "PCMA");
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);

    /* PT 19, comfort noise before RFC 3389, counts as CN like in Wireshark. */
    CU_ASSERT_EQUAL(rtpproc_codec_spec_for_static_pt(19, &spec), RTPPROC_OK);
    CU_ASSERT_EQUAL(spec.codec->kind, RTPPROC_KIND_CN);
}

static void check_no_codec(unsigned pt, uint32_t clock)
{
    rtpproc_codec_spec spec;
    memset(&spec, 0xAB, sizeof(spec));
    CU_ASSERT_EQUAL(rtpproc_codec_spec_for_static_pt(pt, &spec), RTPPROC_ENOCODEC);
    CU_ASSERT_PTR_NULL(spec.codec);
    CU_ASSERT_EQUAL(spec.clock_rate, clock);
    if (spec.clock_rate != clock)
        fprintf(stderr, "\n  pt %u: clock %u, expected %u", pt, spec.clock_rate, clock);
}

static void test_static_pt_without_codec_gives_rfc3551_clock(void)
{
    check_no_codec(7, 8000);   /* LPC */
    check_no_codec(12, 8000);  /* QCELP */
    check_no_codec(14, 90000); /* MPA */
    check_no_codec(15, 8000);  /* G728 */
    check_no_codec(25, 90000); /* CelB */
    check_no_codec(26, 90000); /* JPEG */
    check_no_codec(28, 90000); /* nv */
    check_no_codec(31, 90000); /* H261 */
    check_no_codec(32, 90000); /* MPV */
    check_no_codec(33, 90000); /* MP2T */
    check_no_codec(34, 90000); /* H263 */
}

static void test_static_pt_unassigned_and_dynamic_give_zero_clock(void)
{
    check_no_codec(1, 0); /* reserved */
    check_no_codec(2, 0); /* reserved */
    check_no_codec(20, 0);
    check_no_codec(27, 0);
    check_no_codec(35, 0);
    check_no_codec(72, 0);
    check_no_codec(96, 0);
    check_no_codec(127, 0);
    check_no_codec(128, 0);
    check_no_codec(100000, 0);
}

static void test_static_pt_wireshark_short_names(void)
{
    /* Wireshark 4.0 rtp_payload_type_short_vals (epan/dissectors/packet-rtp.c). */
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(0), "g711U");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(1), "fs-1016");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(7), "Exp. from Xerox PARC");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(8), "g711A");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(9), "g722");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(10), "16-bit audio, stereo");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(11), "16-bit audio, monaural");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(12), "Qualcomm");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(13), "CN");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(18), "g729");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(19), "CN(old)");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(28), "NV");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(31), "h261");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(33), "MPEG-II streams");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_static_pt_name(34), "h263");
    CU_ASSERT_PTR_NULL(rtpproc_codec_static_pt_name(20));
    CU_ASSERT_PTR_NULL(rtpproc_codec_static_pt_name(35));
    CU_ASSERT_PTR_NULL(rtpproc_codec_static_pt_name(96));
    CU_ASSERT_PTR_NULL(rtpproc_codec_static_pt_name(128));
}

/* ---- registry ---- */

static void test_find_by_name_is_case_insensitive(void)
{
    const rtpproc_codec *a = rtpproc_codec_find_by_name("PCMA");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_STRING_EQUAL(a->name, "PCMA");
    CU_ASSERT_PTR_EQUAL(rtpproc_codec_find_by_name("pcma"), a);
    CU_ASSERT_PTR_EQUAL(rtpproc_codec_find_by_name("PcMa"), a);
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_find_by_name("pcmu")->name, "PCMU");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_find_by_name("l16")->name, "L16");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_find_by_name("Telephone-Event")->name, "telephone-event");
    CU_ASSERT_STRING_EQUAL(rtpproc_codec_find_by_name("cn")->name, "CN");
    CU_ASSERT_PTR_NULL(rtpproc_codec_find_by_name("nosuchcodec"));
    CU_ASSERT_PTR_NULL(rtpproc_codec_find_by_name("PCM"));
    CU_ASSERT_PTR_NULL(rtpproc_codec_find_by_name("PCMAX"));
    CU_ASSERT_PTR_NULL(rtpproc_codec_find_by_name(""));
    CU_ASSERT_PTR_NULL(rtpproc_codec_find_by_name(NULL));
}

static void test_codec_all_is_complete_and_consistent(void)
{
    const rtpproc_codec *const *all = rtpproc_codec_all();
    const char *want[] = {"PCMA", "PCMU", "L16", "telephone-event", "CN"};
    bool seen[5] = {false};
    size_t n = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(all);
    for (; all[n] != NULL; n++) {
        const rtpproc_codec *c = all[n];
        CU_ASSERT_PTR_NOT_NULL(c->name);
        CU_ASSERT_PTR_NOT_NULL(c->sample_rate);
        CU_ASSERT_PTR_NOT_NULL(c->create);
        CU_ASSERT_PTR_NOT_NULL(c->destroy);
        CU_ASSERT_PTR_NOT_NULL(c->max_frames);
        CU_ASSERT_PTR_NOT_NULL(c->decode);
        CU_ASSERT(c->default_clock_rate > 0);
        CU_ASSERT(c->default_channels > 0);
        /* every listed codec is reachable by its name */
        CU_ASSERT_PTR_EQUAL(rtpproc_codec_find_by_name(c->name), c);
        /* a static PT in the descriptor resolves back to the descriptor */
        if (c->static_pt >= 0) {
            rtpproc_codec_spec spec;
            CU_ASSERT_EQUAL(rtpproc_codec_spec_for_static_pt((unsigned)c->static_pt, &spec),
                            RTPPROC_OK);
            CU_ASSERT_PTR_EQUAL(spec.codec, c);
        }
        for (size_t i = 0; i < 5; i++) {
            if (strcmp(c->name, want[i]) == 0) {
                CU_ASSERT_FALSE(seen[i]);
                seen[i] = true;
            }
        }
    }
    /* The five always built, plus the optional codecs cmake found. */
    CU_ASSERT(n >= 5);
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_TRUE(seen[i]);
}

static void test_spec_make_defaults_and_overrides(void)
{
    rtpproc_codec_spec spec;
    const rtpproc_codec *l16 = rtpproc_codec_find_by_name("L16");

    rtpproc_codec_spec_make(l16, 0, 0, &spec);
    CU_ASSERT_PTR_EQUAL(spec.codec, l16);
    CU_ASSERT_EQUAL(spec.clock_rate, 44100);
    CU_ASSERT_EQUAL(spec.sample_rate, 44100);
    CU_ASSERT_EQUAL(spec.channels, 1);

    rtpproc_codec_spec_make(l16, 16000, 2, &spec);
    CU_ASSERT_EQUAL(spec.clock_rate, 16000);
    CU_ASSERT_EQUAL(spec.sample_rate, 16000);
    CU_ASSERT_EQUAL(spec.channels, 2);
}

/* ---- --pt-map ---- */

static void test_ptmap_parse_and_resolve(void)
{
    rtpproc_ptmap m;
    rtpproc_codec_spec spec;
    char err[256] = "";

    rtpproc_ptmap_init(&m);
    CU_ASSERT_EQUAL_FATAL(
        rtpproc_ptmap_parse(&m, "96=L16/16000/2,97=pcmu, 98=PCMA/16000 ,101=telephone-event", err,
                            sizeof(err)),
        RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_TRUE(m.set[96]);
    CU_ASSERT_TRUE(m.set[97]);
    CU_ASSERT_TRUE(m.set[98]);
    CU_ASSERT_TRUE(m.set[101]);
    CU_ASSERT_FALSE(m.set[99]);

    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 96, &spec), RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(spec.codec->name, "L16");
    CU_ASSERT_EQUAL(spec.clock_rate, 16000);
    CU_ASSERT_EQUAL(spec.sample_rate, 16000);
    CU_ASSERT_EQUAL(spec.channels, 2);

    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 97, &spec), RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(spec.codec->name, "PCMU");
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);
    CU_ASSERT_EQUAL(spec.channels, 1);

    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 98, &spec), RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(spec.codec->name, "PCMA");
    CU_ASSERT_EQUAL(spec.clock_rate, 16000);
    CU_ASSERT_EQUAL(spec.channels, 1);

    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 101, &spec), RTPPROC_OK);
    CU_ASSERT_EQUAL(spec.codec->kind, RTPPROC_KIND_EVENT);
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);

    /* Not in the map: the static table decides. */
    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 8, &spec), RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(spec.codec->name, "PCMA");
    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 99, &spec), RTPPROC_ENOCODEC);
    CU_ASSERT_PTR_NULL(spec.codec);
    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 7, &spec), RTPPROC_ENOCODEC); /* LPC */
    CU_ASSERT_EQUAL(spec.clock_rate, 8000);
    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(NULL, 0, &spec), RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(spec.codec->name, "PCMU");
}

static void test_ptmap_overrides_static_pt_and_adds(void)
{
    rtpproc_ptmap m;
    rtpproc_codec_spec spec;
    char err[256];

    rtpproc_ptmap_init(&m);
    CU_ASSERT_EQUAL_FATAL(rtpproc_ptmap_parse(&m, "0=PCMA", err, sizeof(err)), RTPPROC_OK);
    CU_ASSERT_EQUAL_FATAL(rtpproc_ptmap_parse(&m, "96=PCMU/8000/1", err, sizeof(err)), RTPPROC_OK);
    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 0, &spec), RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(spec.codec->name, "PCMA");
    /* the second parse added to the first */
    CU_ASSERT_TRUE(m.set[0]);
    CU_ASSERT_EQUAL(rtpproc_ptmap_resolve(&m, 96, &spec), RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(spec.codec->name, "PCMU");
    /* limits are inclusive */
    CU_ASSERT_EQUAL(rtpproc_ptmap_parse(&m, "127=L16/384000/8,1=L16/1/1", err, sizeof(err)),
                    RTPPROC_OK);
    CU_ASSERT_EQUAL(m.spec[127].clock_rate, 384000);
    CU_ASSERT_EQUAL(m.spec[127].channels, 8);
    CU_ASSERT_EQUAL(m.spec[1].clock_rate, 1);
}

static void check_ptmap_error(const char *text, const char *expect)
{
    rtpproc_ptmap m;
    rtpproc_ptmap ref;
    char err[256] = "";

    rtpproc_ptmap_init(&m);
    CU_ASSERT_EQUAL(rtpproc_ptmap_parse(&m, "100=PCMA", err, sizeof(err)), RTPPROC_OK);
    ref = m;
    CU_ASSERT_EQUAL(rtpproc_ptmap_parse(&m, text, err, sizeof(err)), RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, expect);
    if (strcmp(err, expect) != 0)
        fprintf(stderr, "\n  '%s': got \"%s\"", text, err);
    /* one line, and the map is exactly as before */
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    CU_ASSERT_EQUAL(memcmp(&m, &ref, sizeof(m)), 0);
}

static void test_ptmap_errors(void)
{
    check_ptmap_error("96=nosuch/48000/2",
                      "unknown codec 'nosuch' in --pt-map item '96=nosuch/48000/2'");
    check_ptmap_error("96=L16/16000/2,97=foo", "unknown codec 'foo' in --pt-map item '97=foo'");
    check_ptmap_error("128=PCMU", "invalid payload type '128' in --pt-map item '128=PCMU' (0-127)");
    check_ptmap_error("-1=PCMU", "invalid payload type '-1' in --pt-map item '-1=PCMU' (0-127)");
    check_ptmap_error("x=PCMU", "invalid payload type 'x' in --pt-map item 'x=PCMU' (0-127)");
    check_ptmap_error("=PCMU", "invalid payload type '' in --pt-map item '=PCMU' (0-127)");
    check_ptmap_error("96", "missing '=' in --pt-map item '96' (expected PT=name)");
    check_ptmap_error("96=", "invalid codec name '' in --pt-map item '96='");
    check_ptmap_error("96=PCMU/0",
                      "invalid clock rate '0' in --pt-map item '96=PCMU/0' (1-384000)");
    check_ptmap_error("96=PCMU/384001",
                      "invalid clock rate '384001' in --pt-map item '96=PCMU/384001' (1-384000)");
    check_ptmap_error("96=PCMU/8k",
                      "invalid clock rate '8k' in --pt-map item '96=PCMU/8k' (1-384000)");
    check_ptmap_error("96=PCMU//1",
                      "invalid clock rate '' in --pt-map item '96=PCMU//1' (1-384000)");
    check_ptmap_error("96=PCMU/8000/0",
                      "invalid channel count '0' in --pt-map item '96=PCMU/8000/0' (1-8)");
    check_ptmap_error("96=PCMU/8000/9",
                      "invalid channel count '9' in --pt-map item '96=PCMU/8000/9' (1-8)");
    check_ptmap_error("96=PCMU/8000/1/3", "too many '/' fields in --pt-map item '96=PCMU/8000/1/3' "
                                          "(expected PT=name[/rate[/channels]])");
    check_ptmap_error("96=PCMU,,97=PCMA", "empty item in --pt-map '96=PCMU,,97=PCMA'");
    check_ptmap_error("96=PCMU,", "empty item in --pt-map '96=PCMU,'");
    check_ptmap_error("", "empty --pt-map (expected PT=name[/rate[/channels]],...)");
    check_ptmap_error("99999999999999999999=PCMU",
                      "invalid payload type '99999999999999999999' in --pt-map item "
                      "'99999999999999999999=PCMU' (0-127)");
}

static void test_ptmap_error_without_errbuf_is_safe(void)
{
    rtpproc_ptmap m;
    rtpproc_ptmap_init(&m);
    CU_ASSERT_EQUAL(rtpproc_ptmap_parse(&m, "96=nope", NULL, 0), RTPPROC_EINVAL);
    char tiny[8];
    CU_ASSERT_EQUAL(rtpproc_ptmap_parse(&m, "96=nope", tiny, sizeof(tiny)), RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(tiny, "unknown");
    CU_ASSERT_FALSE(m.set[96]);
}

CU_pSuite rtpproc_test_codec_suite(void)
{
    CU_pSuite s = CU_add_suite("codec", NULL, NULL);
    static const test_case tests[] = {
        {"alaw_all_256_codes_match_libsndfile", test_alaw_all_256_codes_match_libsndfile},
        {"ulaw_all_256_codes_match_libsndfile", test_ulaw_all_256_codes_match_libsndfile},
        {"alaw_spot_values_from_wireshark", test_alaw_spot_values_from_wireshark},
        {"ulaw_extremes_and_zero", test_ulaw_extremes_and_zero},
        {"g711_expand_every_impl_every_byte", test_g711_expand_every_impl_every_byte},
        {"g711_expand_tails_and_offsets", test_g711_expand_tails_and_offsets},
        {"g711_decode_stops_at_output_capacity", test_g711_decode_stops_at_output_capacity},
        {"g711_stereo_via_spec_make", test_g711_stereo_via_spec_make},
        {"g711_descriptors", test_g711_descriptors},
        {"l16_mono_network_byte_order", test_l16_mono_network_byte_order},
        {"l16_stereo_interleave_pt10", test_l16_stereo_interleave_pt10},
        {"l16_mono_pt11_spec", test_l16_mono_pt11_spec},
        {"event_and_cn_decode_no_frames", test_event_and_cn_decode_no_frames},
        {"static_pt_with_codecs", test_static_pt_with_codecs},
        {"static_pt_without_codec_gives_rfc3551_clock",
         test_static_pt_without_codec_gives_rfc3551_clock},
        {"static_pt_unassigned_and_dynamic_give_zero_clock",
         test_static_pt_unassigned_and_dynamic_give_zero_clock},
        {"static_pt_wireshark_short_names", test_static_pt_wireshark_short_names},
        {"find_by_name_is_case_insensitive", test_find_by_name_is_case_insensitive},
        {"codec_all_is_complete_and_consistent", test_codec_all_is_complete_and_consistent},
        {"spec_make_defaults_and_overrides", test_spec_make_defaults_and_overrides},
        {"ptmap_parse_and_resolve", test_ptmap_parse_and_resolve},
        {"ptmap_overrides_static_pt_and_adds", test_ptmap_overrides_static_pt_and_adds},
        {"ptmap_errors", test_ptmap_errors},
        {"ptmap_error_without_errbuf_is_safe", test_ptmap_error_without_errbuf_is_safe},
    };
    return test_add_all(s, tests, TEST_COUNT(tests));
}
