/*
 * rtpproc - internal: payload types learned while reading, keyed by the
 * media endpoint (address, port) they were announced for.
 *
 * SDP (RFC 4566 5.14, RFC 3264 5.1) binds a dynamic payload type to an
 * encoding for the media a party *receives* at the address and port of its
 * m= line; with symmetric RTP (RFC 4961) the party also sends from there.
 * Calls reuse ports, so the latest announcement for an endpoint wins. The
 * table is bounded: when full, the oldest entry is forgotten.
 */
#ifndef RP_PTLEARN_H
#define RP_PTLEARN_H

#include "rtpproc/codec.h"

typedef struct rp_ptlearn rp_ptlearn;

/* A table of at most `max_entries` (>= 1) entries; NULL without memory. */
rp_ptlearn *rp_ptlearn_new(unsigned max_entries);

/* Frees the table; NULL is a no-op. */
void rp_ptlearn_free(rp_ptlearn *t);

/*
 * Binds `pt` at addr:port to `spec` (copied), replacing an earlier binding.
 * Returns RTPPROC_OK or RTPPROC_ENOMEM (the table is unchanged then).
 */
int rp_ptlearn_set(rp_ptlearn *t, const rtpproc_addr *addr, uint16_t port, unsigned pt,
                   const rtpproc_codec_spec *spec);

/* The binding of `pt` at addr:port, or NULL. Valid until the next set. */
const rtpproc_codec_spec *rp_ptlearn_get(const rp_ptlearn *t, const rtpproc_addr *addr,
                                         uint16_t port, unsigned pt);

/* Entries held. */
unsigned rp_ptlearn_size(const rp_ptlearn *t);

#endif
