/*
 * rtpproc - G.711 encoding tables (codec_g711.c), for the recorder's
 * A-law and u-law files.
 */
#ifndef RP_G711_H
#define RP_G711_H

#include <stdint.h>

#include "rtpproc/codec.h"

/*
 * spandsp's encoding of every 16-bit PCM value into `encoding`
 * (RTPPROC_NATIVE_ALAW or RTPPROC_NATIVE_ULAW), indexed by the value as
 * uint16_t. Static, built on first use, thread-safe.
 */
const uint8_t *rp_g711_encoder(enum rtpproc_native encoding);

#endif
