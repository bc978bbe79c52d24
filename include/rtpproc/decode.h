/*
 * rtpproc - link, IP and UDP decoding: a captured frame to a UDP datagram.
 *
 * Supported link types (pcap DLT values as returned by pcap_datalink()):
 *   DLT_EN10MB (1)   Ethernet II, with any stack of 802.1Q / 802.1ad tags
 *                    (depth capped), and 802.3/LLC frames counted as not IP;
 *   DLT_NULL (0), DLT_LOOP (108)  BSD loopback, 4-byte family in either byte order;
 *   DLT_RAW (12, 14), LINKTYPE_RAW (101)  raw IPv4/IPv6 by version nibble;
 *   DLT_IPV4 (228), DLT_IPV6 (229);
 *   DLT_LINUX_SLL (113), DLT_LINUX_SLL2 (276).
 * IPv4 with options; IPv6 with hop-by-hop, routing, destination-options and
 * fragment extension headers (chain depth capped). IPv4 and IPv6 fragments
 * are reassembled with bounded memory and a timeout in capture time.
 */
#ifndef RTPPROC_DECODE_H
#define RTPPROC_DECODE_H

#include "rtpproc/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Link types by their pcap DLT number. */
enum {
    RTPPROC_DLT_NULL = 0,
    RTPPROC_DLT_EN10MB = 1,
    RTPPROC_DLT_RAW = 12,
    RTPPROC_DLT_RAW_BSD = 14,
    RTPPROC_DLT_LINKTYPE_RAW = 101,
    RTPPROC_DLT_LOOP = 108,
    RTPPROC_DLT_LINUX_SLL = 113,
    RTPPROC_DLT_IPV4 = 228,
    RTPPROC_DLT_IPV6 = 229,
    RTPPROC_DLT_LINUX_SLL2 = 276,
};

/* Why frames did not become datagrams, one counter per reason. */
typedef struct rtpproc_decode_counters {
    uint64_t frames;         /* frames handed to rtpproc_decode_frame() */
    uint64_t datagrams;      /* UDP datagrams produced (incl. reassembled) */
    uint64_t truncated;      /* link/IP/UDP header cut by the snaplen */
    uint64_t invalid;        /* impossible length fields or flags */
    uint64_t not_ip;         /* ARP, LLC, other ethertypes */
    uint64_t not_udp;        /* IP but not UDP (TCP, ICMP, ESP, ...) */
    uint64_t unsupported;    /* unknown link type */
    uint64_t fragments;      /* IP fragments accepted for reassembly (duplicates too) */
    uint64_t reassembled;    /* datagrams completed from fragments */
    uint64_t frag_timeouts;  /* incomplete reassemblies dropped after the timeout */
    uint64_t frag_overflows; /* fragments dropped because a bound was reached */
} rtpproc_decode_counters;

typedef struct rtpproc_decoder_config {
    unsigned max_reassemblies;    /* concurrent datagrams being reassembled (default 64) */
    size_t max_reassembly_bytes;  /* total bytes held for reassembly (default 4 MiB) */
    rtpproc_time_ns frag_timeout; /* capture time an incomplete datagram is kept (30 s) */
} rtpproc_decoder_config;

/* Opaque decoder: holds the reassembly state and the counters. */
typedef struct rtpproc_decoder rtpproc_decoder;

/* Fills `cfg` with the defaults named above. */
RTPPROC_API void rtpproc_decoder_config_init(rtpproc_decoder_config *cfg);

/*
 * Creates a decoder. `cfg` may be NULL for the defaults; it is copied.
 * Returns NULL on allocation failure. Free with rtpproc_decoder_free().
 */
RTPPROC_API rtpproc_decoder *rtpproc_decoder_new(const rtpproc_decoder_config *cfg);

/* Frees the decoder and any pending fragments. NULL is a no-op. */
RTPPROC_API void rtpproc_decoder_free(rtpproc_decoder *d);

/* True when rtpproc_decode_frame() understands this link type. */
RTPPROC_API bool rtpproc_decode_linktype_supported(int linktype);

/*
 * Decodes one frame down to its UDP payload.
 *   data/caplen  the captured bytes; wirelen the frame's length on the wire;
 *   ts           capture time, also used to expire fragments.
 * Returns an enum rtpproc_parse. On RTPPROC_PARSE_OK, `out` is filled and
 * out->payload points either into `data` or into the decoder's reassembly
 * buffer; either way it is valid only until the next call on this decoder
 * or until `data` is reused, whichever comes first. On any other result
 * `out` is unspecified and the matching counter was incremented.
 * IP fragments (IPv4 and IPv6, the first one included) return PENDING
 * until the datagram completes; the completing fragment returns OK, so no
 * datagram is delivered twice. A fragment dropped because a reassembly
 * bound was reached returns UNSUPPORTED and counts in frag_overflows.
 */
RTPPROC_API int rtpproc_decode_frame(rtpproc_decoder *d, int linktype, rtpproc_time_ns ts,
                                     const uint8_t *data, size_t caplen, size_t wirelen,
                                     rtpproc_datagram *out);

/* Drops reassemblies older than the timeout at capture time `now`. */
RTPPROC_API void rtpproc_decoder_expire(rtpproc_decoder *d, rtpproc_time_ns now);

/* Counters since creation; the pointer lives as long as the decoder. */
RTPPROC_API const rtpproc_decode_counters *rtpproc_decoder_counters(const rtpproc_decoder *d);

#ifdef __cplusplus
}
#endif
#endif
