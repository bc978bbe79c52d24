/*
 * Unit tests: core/codec_lavc.c, the libavcodec wrapper behind iLBC and
 * G.723.1, and how it loads libavcodec and libavutil (dlopen() on first use)
 * (suite "codec_lavc").
 *
 * The failure paths go through rp_lavc_lib_load(), the loader that
 * rp_lavc_open() calls once with the real sonames: a soname that does not
 * exist, or a library without libavcodec's functions, must give NULL (and
 * rp_lavc_open_lib() NULL for it), never a crash. The decoding itself is
 * checked against libavcodec in test_codec_amr_lavc.c.
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

#include "codec_lavc.h"
#include "rtpproc/codec.h"

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

CU_pSuite rtpproc_test_codec_lavc_suite(void)
{
    CU_pSuite s = CU_add_suite("codec_lavc", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (CU_add_test(s, "lavc_sonames_from_headers", test_lavc_sonames_from_headers) == NULL)
        return NULL;
    if (rtpproc_codec_find_by_name("iLBC") == NULL && rtpproc_codec_find_by_name("G723") == NULL)
        return s;
    /* Built with either codec, codec_lavc.c is linked in. */
    if (rp_lavc_lib_load == NULL || rp_lavc_open == NULL)
        return NULL;
    const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        {"lavc_first_open_from_threads", test_lavc_first_open_from_threads},
        {"lavc_real_library_loads_and_decodes", test_lavc_real_library_loads_and_decodes},
        {"lavc_missing_library_gives_null", test_lavc_missing_library_gives_null},
        {"lavc_library_without_the_functions_gives_null",
         test_lavc_library_without_the_functions_gives_null},
    };
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
            return NULL;
    }
    return s;
}
