/*
 * rtpproc - RFC 3550 appendix A.1 (sequence validation), A.3 (lost) and
 * A.8 (interarrival jitter), written to be compared line by line with the RFC.
 */
#include <math.h>
#include <string.h>

#include "rtpproc/stats.h"

void rtpproc_seq_init(rtpproc_seq_state *s, uint16_t seq)
{
    /* A.1 init_seq(), plus the caller's "s->max_seq = seq - 1; probation =
     * MIN_SEQUENTIAL" on the first packet of a new source. */
    memset(s, 0, sizeof(*s));
    s->base_seq = seq;
    s->max_seq = (uint16_t)(seq - 1);
    s->bad_seq = RTPPROC_RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
    s->cycles = 0;
    s->received = 0;
    s->probation = RTPPROC_MIN_SEQUENTIAL;
}

static void init_seq(rtpproc_seq_state *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = RTPPROC_RTP_SEQ_MOD + 1;
    s->cycles = 0;
    s->received = 0;
}

int rtpproc_seq_update(rtpproc_seq_state *s, uint16_t seq)
{
    uint16_t udelta = (uint16_t)(seq - s->max_seq);

    /* Source is not valid until MIN_SEQUENTIAL packets with sequential
     * sequence numbers have been received. */
    if (s->probation) {
        if (seq == (uint16_t)(s->max_seq + 1)) {
            s->probation--;
            s->max_seq = seq;
            if (s->probation == 0) {
                init_seq(s, seq);
                s->received++;
                return 1;
            }
        } else {
            s->probation = RTPPROC_MIN_SEQUENTIAL - 1;
            s->max_seq = seq;
        }
        return 0;
    } else if (udelta < RTPPROC_MAX_DROPOUT) {
        /* in order, with permissible gap */
        if (seq < s->max_seq) {
            /* Sequence number wrapped - count another 64K cycle. */
            s->cycles += RTPPROC_RTP_SEQ_MOD;
        }
        s->max_seq = seq;
    } else if (udelta <= RTPPROC_RTP_SEQ_MOD - RTPPROC_MAX_MISORDER) {
        /* the sequence number made a very large jump */
        if (seq == s->bad_seq) {
            /* Two sequential packets -- assume that the other side
             * restarted without telling us so just re-sync. */
            init_seq(s, seq);
        } else {
            s->bad_seq = (seq + 1) & (RTPPROC_RTP_SEQ_MOD - 1);
            return 0;
        }
    } else {
        /* duplicate or reordered packet */
    }
    s->received++;
    return 1;
}

uint32_t rtpproc_seq_ext_max(const rtpproc_seq_state *s)
{
    return s->cycles + s->max_seq;
}

void rtpproc_seq_rebase(rtpproc_seq_state *s, uint16_t first_seq, uint32_t packets)
{
    /* A.1 starts counting at the packet that ends probation; rtpproc keeps
     * the probation packets, so the base moves back to the earliest one
     * (at most MAX_DROPOUT back). If that crosses a wrap (65535 .. 0), the
     * extended max gains a cycle. */
    if (first_seq > s->max_seq && s->cycles == 0)
        s->cycles = RTPPROC_RTP_SEQ_MOD;
    s->base_seq = first_seq;
    s->received = packets;
}

int64_t rtpproc_seq_expected(const rtpproc_seq_state *s)
{
    return (int64_t)rtpproc_seq_ext_max(s) - (int64_t)s->base_seq + 1;
}

int64_t rtpproc_seq_lost(const rtpproc_seq_state *s)
{
    return rtpproc_seq_expected(s) - (int64_t)s->received;
}

void rtpproc_jitter_init(rtpproc_jitter_state *j)
{
    memset(j, 0, sizeof(*j));
}

void rtpproc_jitter_update(rtpproc_jitter_state *j, rtpproc_time_ns arrival, uint32_t ts,
                           uint32_t clock_rate)
{
    if (j->have_prev) {
        double delta_ms = (double)(arrival - j->prev_arrival) / (double)RTPPROC_NS_PER_MSEC;
        if (delta_ms > j->max_delta_ms)
            j->max_delta_ms = delta_ms;
    }
    j->have_prev = true;
    j->prev_arrival = arrival;
    if (clock_rate == 0)
        return; /* events, comfort noise, unknown PTs: no timing reference */
    if (j->have_jit_prev && j->clock_rate == clock_rate) {
        /* A.8: D(i,j) = (Rj - Ri) - (Sj - Si) in timestamp units. Taking
         * both as differences keeps the double exact enough and makes a
         * timestamp wrap a plain signed 32-bit step. */
        double r = (double)(arrival - j->jit_prev_arrival) * (double)clock_rate /
                   (double)RTPPROC_NS_PER_SEC;
        double d = r - (double)(int32_t)(ts - j->prev_ts);
        j->jitter += (fabs(d) - j->jitter) / 16.0;
        double ms = j->jitter * 1000.0 / clock_rate;
        if (ms > j->max_jitter_ms)
            j->max_jitter_ms = ms;
        j->sum_jitter_ms += ms;
        j->jitter_samples++;
    } else if (j->have_jit_prev) {
        /* Another clock rate (a PT change): J in the old unit means nothing
         * in the new one, so the estimate restarts. */
        j->jitter = 0;
    }
    j->have_jit_prev = true;
    j->jit_prev_arrival = arrival;
    j->prev_ts = ts;
    j->clock_rate = clock_rate;
}

double rtpproc_jitter_ms(const rtpproc_jitter_state *j)
{
    if (j->clock_rate == 0)
        return 0;
    return j->jitter * 1000.0 / j->clock_rate;
}

double rtpproc_jitter_mean_ms(const rtpproc_jitter_state *j)
{
    return j->jitter_samples ? j->sum_jitter_ms / (double)j->jitter_samples : 0.0;
}
