/*
 * rtpproc - shared types of the RTP stream core.
 *
 * Everything here is plain data: no allocation, no ownership. Types that
 * several modules exchange live here so that module headers never include
 * each other in cycles.
 */
#ifndef RTPPROC_TYPES_H
#define RTPPROC_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define RTPPROC_API __attribute__((visibility("default")))
#else
#define RTPPROC_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Status codes of library calls: 0 is success, failures are negative.
 * rtpproc_strerror() gives a static English text for each.
 */
enum rtpproc_status {
    RTPPROC_OK = 0,
    RTPPROC_ENOMEM = -1,   /* allocation failed */
    RTPPROC_EINVAL = -2,   /* invalid argument or option value */
    RTPPROC_EIO = -3,      /* read/write error (errno or libsndfile says more) */
    RTPPROC_EEXIST = -4,   /* output file exists and overwriting was not allowed */
    RTPPROC_ENOCODEC = -5, /* no decoder for this payload type */
    RTPPROC_ELIMIT = -6,   /* a configured bound was reached */
    RTPPROC_EUNSUPP = -7,  /* unsupported link type or format */
};

/* Static text for a status code; never NULL. */
RTPPROC_API const char *rtpproc_strerror(int status);

/*
 * Result of parsing one packet layer. A malformed packet is data, not an
 * error: callers count the reason and carry on (style.md 3.4).
 *   TRUNCATED - the capture length ran out (snaplen) before a field we need;
 *   INVALID   - the packet's own length fields or flags are impossible;
 *   NOT_RTP   - a well-formed packet that is not for us (not UDP, not RTP);
 *   UNSUPPORTED - a link type or protocol we do not decode;
 *   PENDING   - an IP fragment was stored; the datagram is not complete yet.
 */
enum rtpproc_parse {
    RTPPROC_PARSE_OK = 0,
    RTPPROC_PARSE_TRUNCATED,
    RTPPROC_PARSE_INVALID,
    RTPPROC_PARSE_NOT_RTP,
    RTPPROC_PARSE_UNSUPPORTED,
    RTPPROC_PARSE_PENDING,
};

/* Capture time: nanoseconds since the Unix epoch. */
typedef int64_t rtpproc_time_ns;

#define RTPPROC_NS_PER_SEC  1000000000LL
#define RTPPROC_NS_PER_MSEC 1000000LL

/* An IPv4 or IPv6 address; bytes beyond the family's length are zero. */
typedef struct rtpproc_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t bytes[16];
} rtpproc_addr;

/* Longest text form of an address, with NUL (INET6_ADDRSTRLEN). */
#define RTPPROC_ADDRSTRLEN 46

/* The UDP flow of a datagram. Zero-fill before use so it can be hashed. */
typedef struct rtpproc_flow {
    rtpproc_addr src;
    rtpproc_addr dst;
    uint16_t sport;
    uint16_t dport;
} rtpproc_flow;

/*
 * One UDP datagram, the level at which both front-ends enter the core.
 * `payload` is a view: it points into the caller's frame buffer (or the
 * decoder's reassembly buffer) and is valid only until the next call that
 * produced it. `caplen` bytes are present; `len` is the UDP payload length
 * the packet claims. caplen < len means the capture was cut (snaplen).
 */
typedef struct rtpproc_datagram {
    rtpproc_time_ns ts;
    rtpproc_flow flow;
    const uint8_t *payload;
    size_t caplen; /* bytes present at payload */
    size_t len;    /* bytes on the wire (UDP length - 8) */
} rtpproc_datagram;

/* Formats `a` as text into buf (RTPPROC_ADDRSTRLEN bytes). Returns buf. */
RTPPROC_API char *rtpproc_addr_format(const rtpproc_addr *a, char *buf, size_t buflen);

#ifdef __cplusplus
}
#endif
#endif
