/*
 * rtpproc - RTP fixed header parsing (RFC 3550 section 5.1).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
#include <string.h>

#include "rtpproc/rtp.h"
#include "cursor.h"

int rtpproc_rtp_parse(const uint8_t *data, size_t caplen, size_t len, rtpproc_rtp_hdr *out)
{
    uint8_t b0, b1;
    uint16_t ext_words;

    if (caplen > len)
        caplen = len;
    memset(out, 0, sizeof(*out));
    if (len < RTPPROC_RTP_HDR_LEN)
        return RTPPROC_PARSE_NOT_RTP;
    /* The first two bytes decide RTP or not; without them we know nothing. */
    rp_cur c = rp_cur_make(data, caplen);
    if (!rp_u8(&c, &b0) || !rp_u8(&c, &b1))
        return RTPPROC_PARSE_TRUNCATED;
    out->version = b0 >> 6;
    if (out->version != 2)
        return RTPPROC_PARSE_NOT_RTP;
    out->pt = b1 & 0x7f;
    /* RFC 5761 section 4: PT 72-76 with M collide with RTCP SR/RR/SDES/BYE/APP. */
    if (out->pt >= 72 && out->pt <= 76)
        return RTPPROC_PARSE_NOT_RTP;
    out->padding = (b0 & 0x20) != 0;
    out->extension = (b0 & 0x10) != 0;
    out->csrc_count = b0 & 0x0f;
    out->marker = (b1 & 0x80) != 0;

    /* Lengths are checked against the wire length first (invalid), then
     * against what was captured (truncated): truncated is not invalid. */
    size_t hdr = RTPPROC_RTP_HDR_LEN + (size_t)out->csrc_count * 4;
    if (hdr > len)
        return RTPPROC_PARSE_INVALID;
    if (!rp_be16(&c, &out->seq) || !rp_be32(&c, &out->ts) || !rp_be32(&c, &out->ssrc) ||
        !rp_skip(&c, (size_t)out->csrc_count * 4))
        return RTPPROC_PARSE_TRUNCATED;
    if (out->extension) {
        /* RFC 3550 5.3.1: 16-bit profile field, 16-bit length in 32-bit words. */
        if (hdr + 4 > len)
            return RTPPROC_PARSE_INVALID;
        if (!rp_skip(&c, 2) || !rp_be16(&c, &ext_words))
            return RTPPROC_PARSE_TRUNCATED;
        hdr += 4 + (size_t)ext_words * 4;
        if (hdr > len)
            return RTPPROC_PARSE_INVALID;
        if (!rp_skip(&c, (size_t)ext_words * 4))
            return RTPPROC_PARSE_TRUNCATED;
    }
    out->hdr_len = hdr;
    out->payload = data + hdr;
    out->payload_len = len - hdr;
    out->payload_caplen = caplen - hdr;
    out->truncated = caplen < len;
    if (out->padding) {
        /* RFC 3550 5.1: the last octet counts the padding, itself included. */
        if (out->truncated) {
            /* The count is in the part we did not capture; the payload
             * is not decoded anyway, only its header is used. */
            return RTPPROC_PARSE_OK;
        }
        uint8_t pad = data[len - 1];
        if (pad == 0 || pad > out->payload_len)
            return RTPPROC_PARSE_INVALID;
        out->pad_len = pad;
        out->payload_len -= pad;
        out->payload_caplen = out->payload_len;
    }
    return RTPPROC_PARSE_OK;
}
