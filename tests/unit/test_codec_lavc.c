/*
 * Unit tests: core/codec_lavc.c, the libavcodec wrapper behind iLBC and
 * G.723.1, and how it loads libavcodec and libavutil (dlopen() on first use)
 * (suite "codec_lavc").
 *
 * The failure paths go through rp_lavc_lib_load(), the loader that
 * rp_lavc_open() calls once with the real sonames: a soname that does not
 * exist, or a library without libavcodec's functions, must give NULL (and
 * rp_lavc_open_lib() NULL for it), never a crash. The decoding itself is
 * checked against libavcodec in test_codec_amr_lavc.c. What the user then
 * sees: iLBC and G.723.1 name the library they load (runtime_library), and
 * the report's note for a decoder that could not start names it
 * (integration.lavc_lazy_load runs rtpproc without the library).
 *
 * codec_lavc.c is built only with the iLBC or G.723.1 codec, so its
 * functions are declared weak here and the suite registers its tests only
 * when one of those codecs is built.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <glib.h>

#include "codec_lavc.h"
#include "rtpproc/codec.h"
#include "rtpproc/report.h"
#include "suite.h"

CU_pSuite rtpproc_test_codec_lavc_suite(void);

#if defined(__has_include)
#if __has_include(<gnu/lib-names.h>)
#include <gnu/lib-names.h> /* LIBM_SO: glibc's libm soname */
#endif
#endif
#ifndef LIBM_SO
#define LIBM_SO "libm.so.6"
#endif

/* Set by tests/unit/CMakeLists.txt when it links libavcodec into the driver. */
#ifdef RTPPROC_TEST_LINKS_LAVC
#include <libavcodec/avcodec.h>
#include <libavutil/macros.h>
#endif

#pragma weak rp_lavc_avcodec_soname
#pragma weak rp_lavc_avutil_soname
#pragma weak rp_lavc_lib_load
#pragma weak rp_lavc_lib_free
#pragma weak rp_lavc_open_lib
#pragma weak rp_lavc_open
#pragma weak rp_lavc_close
#pragma weak rp_lavc_decode

#define G723_FRAME   24  /* octets: a 6.3 kbit/s frame */
#define G723_SAMPLES 240 /* per frame */

/* A soname no system has. */
#define BOGUS_SONAME "librtpproc-test-no-such-library.so.0"

/*
 * Opens a G.723.1 decoder from `lib`, or with rp_lavc_open() when `lib` is
 * NULL, and decodes one frame: returns its samples, or -1000 when the
 * decoder did not open.
 */
static long decode_one_g723(const rp_lavc_lib *lib)
{
    uint8_t frame[G723_FRAME] = {0}; /* type bits 00: 6.3 kbit/s */
    int16_t pcm[2 * G723_SAMPLES];

    rp_lavc *d = lib == NULL ? rp_lavc_open("g723_1", 8000, 1, 0, G723_FRAME)
                             : rp_lavc_open_lib(lib, "g723_1", 8000, 1, 0, G723_FRAME);
    if (d == NULL)
        return -1000;
    long n = rp_lavc_decode(d, frame, sizeof(frame), pcm, 2 * G723_SAMPLES);
    rp_lavc_close(d);
    return n;
}

#define THREADS 8

static pthread_barrier_t start_line;

static void *open_in_thread(void *arg)
{
    long *result = arg;
    pthread_barrier_wait(&start_line);
    *result = decode_one_g723(NULL);
    return NULL;
}

/*
 * The first decoders of a process opened from several threads at once (as
 * --threads workers do): the one load must serve them all. The first test
 * of the suite to open a decoder (ctest runs each suite in a process of its
 * own), so the load itself happens with the threads racing for it.
 */
static void test_lavc_first_open_from_threads(void)
{
    pthread_t t[THREADS];
    long result[THREADS];

    CU_ASSERT_EQUAL_FATAL(pthread_barrier_init(&start_line, NULL, THREADS), 0);
    for (unsigned i = 0; i < THREADS; i++) {
        result[i] = -1;
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, open_in_thread, &result[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CU_ASSERT_EQUAL(result[i], G723_SAMPLES);
    }
    pthread_barrier_destroy(&start_line);
}

/* The sonames are those of the headers, and the libavcodec the tests link has that major. */
static void test_lavc_sonames_from_headers(void)
{
    if (rtpproc_codec_find_by_name("iLBC") == NULL && rtpproc_codec_find_by_name("G723") == NULL) {
        printf("\n    iLBC and G.723.1 not built: the loader's tests are not registered\n");
        return;
    }
    printf("\n    loads %s and %s\n", rp_lavc_avcodec_soname, rp_lavc_avutil_soname);
#ifdef RTPPROC_TEST_LINKS_LAVC
    CU_ASSERT_STRING_EQUAL(rp_lavc_avcodec_soname,
                           "libavcodec.so." AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR));
    CU_ASSERT_STRING_EQUAL(rp_lavc_avutil_soname,
                           "libavutil.so." AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR));
    CU_ASSERT_EQUAL(AV_VERSION_MAJOR(avcodec_version()), LIBAVCODEC_VERSION_MAJOR);
    CU_ASSERT_EQUAL(AV_VERSION_MAJOR(avutil_version()), LIBAVUTIL_VERSION_MAJOR);
#endif
    CU_ASSERT(strncmp(rp_lavc_avcodec_soname, "libavcodec.so.", 14) == 0);
    CU_ASSERT(strncmp(rp_lavc_avutil_soname, "libavutil.so.", 13) == 0);
}

/* The real pair loads, decodes, and refuses decoders it lacks or that are not audio. */
static void test_lavc_real_library_loads_and_decodes(void)
{
    rp_lavc_lib *lib = rp_lavc_lib_load(rp_lavc_avcodec_soname, rp_lavc_avutil_soname);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
    CU_ASSERT_EQUAL(decode_one_g723(lib), G723_SAMPLES);
    CU_ASSERT_PTR_NULL(rp_lavc_open_lib(lib, "no-such-decoder", 8000, 1, 0, G723_FRAME));
    CU_ASSERT_PTR_NULL(rp_lavc_open_lib(lib, "h264", 8000, 1, 0, G723_FRAME));
    CU_ASSERT_PTR_NULL(rp_lavc_open_lib(lib, "g723_1", 8000, 0, 0, G723_FRAME));
    rp_lavc_lib_free(lib);
    /* The process's own load is unaffected by that pair's dlclose(). */
    CU_ASSERT_EQUAL(decode_one_g723(NULL), G723_SAMPLES);
}

/* A library missing at run time: NULL from the loader, NULL decoders, no crash. */
static void test_lavc_missing_library_gives_null(void)
{
    CU_ASSERT_PTR_NULL(rp_lavc_lib_load(BOGUS_SONAME, rp_lavc_avutil_soname));
    CU_ASSERT_PTR_NULL(rp_lavc_lib_load(rp_lavc_avcodec_soname, BOGUS_SONAME));
    CU_ASSERT_PTR_NULL(rp_lavc_lib_load(BOGUS_SONAME, BOGUS_SONAME));
    /* What rp_lavc_open() does with a failed load. */
    CU_ASSERT_PTR_NULL(rp_lavc_open_lib(NULL, "g723_1", 8000, 1, 0, G723_FRAME));
    CU_ASSERT_PTR_NULL(rp_lavc_open_lib(NULL, "ilbc", 8000, 1, 50, 50));
    rp_lavc_lib_free(NULL);
    rp_lavc_close(NULL);
}

/* A library that loads but lacks libavcodec's or libavutil's functions (libm). */
static void test_lavc_library_without_the_functions_gives_null(void)
{
    CU_ASSERT_PTR_NULL(rp_lavc_lib_load(LIBM_SO, rp_lavc_avutil_soname));
    CU_ASSERT_PTR_NULL(rp_lavc_lib_load(rp_lavc_avcodec_soname, LIBM_SO));
    /* Swapped: each library lacks the other's functions. */
    CU_ASSERT_PTR_NULL(rp_lavc_lib_load(rp_lavc_avutil_soname, rp_lavc_avcodec_soname));
}

/*
 * iLBC and G.723.1 name the library they load (the report's note says it
 * when their decoder cannot start); every other codec is linked, none.
 */
static void test_lavc_codecs_name_their_library(void)
{
    unsigned lavc = 0; /* codecs using libavcodec */
    for (const rtpproc_codec *const *c = rtpproc_codec_all(); *c != NULL; c++) {
        bool uses_lavc = strcmp((*c)->name, "iLBC") == 0 || strcmp((*c)->name, "G723") == 0;
        if (!uses_lavc) {
            CU_ASSERT_PTR_NULL((*c)->runtime_library);
            continue;
        }
        lavc++;
        CU_ASSERT_PTR_NOT_NULL_FATAL(rp_lavc_avcodec_soname);
        CU_ASSERT_PTR_EQUAL((*c)->runtime_library, rp_lavc_avcodec_soname);
    }
    CU_ASSERT(lavc <= 2);
}

/* The report of a stream whose decoder `c` (as PT 99, from --pt-map) could not start. */
static void check_failed_note(const rtpproc_codec *c, const char *note)
{
    rtpproc_stream_summary m;
    memset(&m, 0, sizeof(m));
    m.pts[99] = 1;
    m.first_pt = 99;
    m.packets = m.undecodable = 10;
    m.nformats = 1;
    m.formats[0] = (rtpproc_stream_format){
        .pt = 99, .source = RTPPROC_PTSRC_MAP, .failed = c, .clock_rate = 8000, .channels = 1};
    m.note = RTPPROC_NOTE_DECODER_FAILED;

    GString *out = g_string_new(NULL);
    rtpproc_report_json(&m, 1, NULL, NULL, out);
    char *want = g_strdup_printf("\"note\":\"%s\"", note);
    CU_ASSERT_PTR_NOT_NULL(strstr(out->str, want));
    g_free(want);
    want = g_strdup_printf("\"payload\":\"%s\"", c->name);
    CU_ASSERT_PTR_NOT_NULL(strstr(out->str, want));
    g_free(want);
    g_string_truncate(out, 0);
    rtpproc_report_text_stream(&m, out);
    want = g_strdup_printf("(%s)\n", note);
    CU_ASSERT(g_str_has_suffix(out->str, want));
    g_free(want);
    g_string_free(out, TRUE);
}

/* A decoder that could not start is named in the note, with the library it loads. */
static void test_lavc_failed_decoder_note(void)
{
    check_failed_note(rtpproc_codec_find_by_name("PCMA"), "the PCMA decoder could not be started");
    const rtpproc_codec *ilbc = rtpproc_codec_find_by_name("iLBC");
    if (ilbc != NULL) {
        char *note = g_strdup_printf("the iLBC decoder could not be started: it needs %s",
                                     rp_lavc_avcodec_soname);
        check_failed_note(ilbc, note);
        g_free(note);
    }
}

CU_pSuite rtpproc_test_codec_lavc_suite(void)
{
    CU_pSuite s = CU_add_suite("codec_lavc", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (CU_add_test(s, "lavc_sonames_from_headers", test_lavc_sonames_from_headers) == NULL ||
        CU_add_test(s, "lavc_codecs_name_their_library", test_lavc_codecs_name_their_library) ==
            NULL ||
        CU_add_test(s, "lavc_failed_decoder_note", test_lavc_failed_decoder_note) == NULL)
        return NULL;
    if (rtpproc_codec_find_by_name("iLBC") == NULL && rtpproc_codec_find_by_name("G723") == NULL)
        return s;
    /* Built with either codec, codec_lavc.c is linked in. */
    if (rp_lavc_lib_load == NULL || rp_lavc_open == NULL)
        return NULL;
    static const test_case tests[] = {
        {"lavc_first_open_from_threads", test_lavc_first_open_from_threads},
        {"lavc_real_library_loads_and_decodes", test_lavc_real_library_loads_and_decodes},
        {"lavc_missing_library_gives_null", test_lavc_missing_library_gives_null},
        {"lavc_library_without_the_functions_gives_null",
         test_lavc_library_without_the_functions_gives_null},
    };
    return test_add_all(s, tests, TEST_COUNT(tests));
}
