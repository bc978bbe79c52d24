/*
 * rtpproc - per-source statistics: RFC 3550 appendix A.1 (sequence number
 * validation and probation), A.3 (expected and lost) and A.8 (jitter).
 *
 * Pure functions on a transparent struct, fed in arrival order.
 */
#ifndef RTPPROC_STATS_H
#define RTPPROC_STATS_H

#include "rtpproc/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 3550 A.1 constants, named as the RFC names them. */
#define RTPPROC_MIN_SEQUENTIAL 2
#define RTPPROC_MAX_DROPOUT    3000
#define RTPPROC_MAX_MISORDER   100
#define RTPPROC_RTP_SEQ_MOD    (1u << 16)

/* RFC 3550 A.1 source state. */
typedef struct rtpproc_seq_state {
    uint16_t max_seq;   /* highest seq number seen */
    uint32_t cycles;    /* shifted count of seq number cycles (multiple of 2^16) */
    uint32_t base_seq;  /* base seq number */
    uint32_t bad_seq;   /* last 'bad' seq number + 1 */
    uint32_t probation; /* sequential packets still needed before the source is valid */
    uint32_t received;  /* packets received, duplicates included */
} rtpproc_seq_state;

/* A.1 init_seq() and the start of probation, for the first packet. */
RTPPROC_API void rtpproc_seq_init(rtpproc_seq_state *s, uint16_t seq);

/*
 * A.1 update_seq(): returns 1 when the packet is valid for the source
 * (probation passed, or in range), 0 otherwise (still in probation, a large
 * jump awaiting confirmation, or a duplicate/misordered packet beyond
 * MAX_MISORDER). Counts `received` only for valid packets.
 */
RTPPROC_API int rtpproc_seq_update(rtpproc_seq_state *s, uint16_t seq);

/*
 * After the packet that ended probation: makes the source's base the first
 * probation packet `first_seq` and `packets` the count received so far
 * (rtpproc keeps probation packets; A.1 alone would drop them from A.3).
 */
RTPPROC_API void rtpproc_seq_rebase(rtpproc_seq_state *s, uint16_t first_seq, uint32_t packets);

/* A.3: extended highest sequence number received. */
RTPPROC_API uint32_t rtpproc_seq_ext_max(const rtpproc_seq_state *s);
/* A.3: packets expected, ext_max - base + 1. */
RTPPROC_API int64_t rtpproc_seq_expected(const rtpproc_seq_state *s);
/* A.3: cumulative lost = expected - received (negative with duplicates). */
RTPPROC_API int64_t rtpproc_seq_lost(const rtpproc_seq_state *s);

/*
 * A.8 interarrival jitter, kept in timestamp units as a double so that the
 * millisecond figures need no rescaling error. Also tracks the delta between
 * consecutive arrivals.
 */
typedef struct rtpproc_jitter_state {
    bool have_prev;      /* a previous packet (for the delta) */
    bool have_jit_prev;  /* a previous packet with a clock rate (for J) */
    uint32_t clock_rate; /* timestamp units per second of that packet */
    rtpproc_time_ns prev_arrival;
    rtpproc_time_ns jit_prev_arrival;
    uint32_t prev_ts;
    double jitter; /* J, ts units */
    double max_jitter_ms;
    double sum_jitter_ms; /* for the mean over jitter samples */
    uint64_t jitter_samples;
    double max_delta_ms; /* largest gap between consecutive arrivals */
} rtpproc_jitter_state;

RTPPROC_API void rtpproc_jitter_init(rtpproc_jitter_state *j);

/*
 * Feeds one packet (arrival time, RTP timestamp, clock rate of its PT; 0 for
 * events, comfort noise and unknown PTs, which then only update the delta).
 * J is updated per A.8 between consecutive packets with a clock rate; a
 * change of clock rate restarts J.
 */
RTPPROC_API void rtpproc_jitter_update(rtpproc_jitter_state *j, rtpproc_time_ns arrival,
                                       uint32_t ts, uint32_t clock_rate);

/* Current J in milliseconds (0 when no clock rate was known). */
RTPPROC_API double rtpproc_jitter_ms(const rtpproc_jitter_state *j);
/* Mean of J over all packets that updated it, in ms. */
RTPPROC_API double rtpproc_jitter_mean_ms(const rtpproc_jitter_state *j);

#ifdef __cplusplus
}
#endif
#endif
