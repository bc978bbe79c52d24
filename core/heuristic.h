/*
 * rtpproc - internal: recognising a codec from its payloads when nothing
 * (--pt-map, SDP) names a dynamic payload type.
 *
 * Only what can be made safe is here: Opus, whose TOC byte (RFC 6716 3.1)
 * gives each packet's duration, which a stream's RTP timestamps must then
 * repeat exactly, packet after packet, on the 48 kHz clock of RFC 7587.
 */
#ifndef RP_HEURISTIC_H
#define RP_HEURISTIC_H

#include <stddef.h>
#include <stdint.h>

/* Consecutive packets whose timestamp steps must match their TOC. */
#define RP_OPUS_RUN 10

/*
 * Duration in 48 kHz samples of the Opus packet `p` per its TOC byte and
 * frame count (RFC 6716 3.1-3.2), 0 if it cannot be an Opus packet (empty,
 * code 3 without its count byte or with 0 frames, over 120 ms). Sets
 * *stereo from the TOC's s bit.
 */
unsigned rp_opus_toc_samples(const uint8_t *p, size_t len, int *stereo);

#endif
