/*
 * rtpproc - internal: payload-type bindings from SIP/SDP carried over UDP.
 *
 * A SIP message (RFC 3261) in one UDP datagram may carry an SDP body
 * (RFC 4566). Each m= line announces the address (c=, media level before
 * session level) and port where its author receives the media, and its
 * a=rtpmap lines bind dynamic payload types to encodings there (RFC 3264
 * 5.1). Only that is read; everything else is skipped. SIP over TCP/TLS
 * and multipart bodies are not parsed.
 */
#ifndef RP_SDP_H
#define RP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtpproc/types.h"

/* One binding: `name` is NUL-terminated, valid during the call only. */
typedef void (*rp_sdp_binding_fn)(void *userdata, const rtpproc_addr *addr, uint16_t port,
                                  unsigned pt, const char *name, uint32_t rate, unsigned channels,
                                  unsigned fmtp);

/* True when `p` starts like a SIP request or response line. */
bool rp_sip_detect(const uint8_t *p, size_t len);

/*
 * Reads the SDP body of the SIP message `p` (len bytes) and calls `fn` for
 * every a=rtpmap of every m= line with a port and a usable address.
 * Returns the number of bindings reported (0 without SDP; malformed lines
 * are skipped).
 */
unsigned rp_sdp_parse_sip(const uint8_t *p, size_t len, rp_sdp_binding_fn fn, void *userdata);

#endif
