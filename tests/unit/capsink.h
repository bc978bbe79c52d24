/*
 * A sink for unit tests that keeps everything it is given (PCM, G.711
 * bytes expanded by spandsp, silence, all as int16 samples) for
 * inspection after the engine closed it.
 * Sinks stay alive until test_capsink_reset(); at most TEST_MAX_CAPS are
 * opened between resets (more fail with RTPPROC_ELIMIT).
 */
#ifndef RP_TEST_CAPSINK_H
#define RP_TEST_CAPSINK_H

#include <stdbool.h>
#include <stddef.h>

#include "rtpproc/sink.h"

#define TEST_MAX_CAPS 8

typedef struct test_capsink {
    rtpproc_sink base;
    unsigned pt;            /* payload type the engine opened it for */
    int16_t *pcm;           /* samples, interleaved */
    size_t n, cap;          /* samples held, capacity */
    unsigned native_writes; /* write_native calls (G.711 bytes given undecoded) */
    bool closed;
} test_capsink;

extern test_capsink *test_caps[TEST_MAX_CAPS];
extern unsigned test_ncaps;

/* An rtpproc_sink_open_fn; `ud`, if not NULL, is the path the sink reports. */
rtpproc_sink *test_capsink_open(void *ud, const rtpproc_sink_info *info,
                                const rtpproc_sink_format *fmt, int *status, char *err, size_t len);

/* Frees every sink opened so far. */
void test_capsink_reset(void);

#endif
