/*
 * rtpproc - RTP fixed header parsing and validation (RFC 3550 section 5.1).
 */
#ifndef RTPPROC_RTP_H
#define RTPPROC_RTP_H

#include "rtpproc/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RTPPROC_RTP_HDR_LEN 12

/*
 * A parsed RTP header. A view: `payload` points into the buffer given to
 * rtpproc_rtp_parse() and lives as long as that buffer.
 */
typedef struct rtpproc_rtp_hdr {
    uint8_t version; /* always 2 after a successful parse */
    bool padding;    /* P bit */
    bool extension;  /* X bit */
    uint8_t csrc_count;
    bool marker; /* M bit */
    uint8_t pt;  /* payload type, 0..127 */
    uint16_t seq;
    uint32_t ts; /* RTP timestamp, clock-rate units */
    uint32_t ssrc;
    size_t hdr_len; /* fixed header + CSRCs + extension, in bytes */
    const uint8_t *payload;
    size_t payload_len;    /* on-the-wire payload length, padding removed */
    size_t payload_caplen; /* payload bytes actually present (<= payload_len) */
    uint8_t pad_len;       /* padding bytes removed (0 when P is clear) */
    bool truncated;        /* the payload was cut by the snaplen */
} rtpproc_rtp_hdr;

/*
 * Parses the RTP header at `data`. `caplen` bytes are present, `len` is the
 * UDP payload length on the wire (>= caplen).
 * Returns:
 *   RTPPROC_PARSE_OK        a valid RTP header; `out` filled. The payload
 *                           may still be truncated (out->truncated): it then
 *                           counts for statistics but must not be decoded;
 *   RTPPROC_PARSE_NOT_RTP   shorter than 12 bytes, version != 2, or a payload
 *                           type in 72..76 (RTCP, RFC 5761 section 4);
 *   RTPPROC_PARSE_INVALID   CSRC list or extension longer than the packet, or
 *                           a padding count of 0 or beyond the payload;
 *   RTPPROC_PARSE_TRUNCATED the header (fixed, CSRC or extension) was cut by
 *                           the snaplen though the packet claims it.
 */
RTPPROC_API int rtpproc_rtp_parse(const uint8_t *data, size_t caplen, size_t len,
                                  rtpproc_rtp_hdr *out);

#ifdef __cplusplus
}
#endif
#endif
