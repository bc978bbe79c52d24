/*
 * rtpproc - G.711 tables and expansion (codec_g711.c), for the decoders and
 * for the recorder's A-law and u-law files.
 */
#ifndef RP_G711_H
#define RP_G711_H

#include <stddef.h>
#include <stdint.h>

#include "rtpproc/codec.h"

/*
 * spandsp's encoding of every 16-bit PCM value into `encoding`
 * (RTPPROC_NATIVE_ALAW or RTPPROC_NATIVE_ULAW), indexed by the value as
 * uint16_t. Static, built on first use, thread-safe.
 */
const uint8_t *rp_g711_encoder(enum rtpproc_native encoding);

/*
 * Expands `n` bytes of `law` (RTPPROC_NATIVE_ALAW or RTPPROC_NATIVE_ULAW)
 * into 16-bit PCM: the values of spandsp's alaw_to_linear() and
 * ulaw_to_linear(). `in` and `out` must not overlap. Uses the fastest
 * implementation this CPU has (rp_g711_impls), chosen on first use.
 */
void rp_g711_expand(enum rtpproc_native law, const uint8_t *in, int16_t *out, size_t n);

/* One implementation of the expansion, for the tests to compare them all. */
typedef struct rp_g711_impl {
    const char *name;
    void (*alaw)(const uint8_t *in, int16_t *out, size_t n);
    void (*ulaw)(const uint8_t *in, int16_t *out, size_t n);
} rp_g711_impl;

/*
 * The implementations this CPU can run, the portable table loop first and
 * the one rp_g711_expand uses last. Static; *count receives how many.
 */
const rp_g711_impl *rp_g711_impls(size_t *count);

#endif
