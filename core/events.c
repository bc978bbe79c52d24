/*
 * rtpproc - RFC 4733 telephone-events of a stream: payload parsing and the
 * merging of the packets of one event (see events.h for the rules).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "events.h"
#include "stream.h"

/* RFC 4733 2.3.5: the duration field's largest value; a longer event is
 * sent as segments, each starting 0xFFFF units after the one before. */
#define RP_SEGMENT_MAX 0xFFFFu

/* RFC 4733 2.4.1 / 7.1: telephone-event's default clock. */
#define RP_EVENT_CLOCK 8000u

/* Blocks read from one payload; 2.5.1.5 packs only a few short events. */
#define RP_EVENTS_PER_PACKET 16

/* An event updated by a packet is one of the last few met: updates and
 * retransmissions of an event come before or shortly after the next one. */
#define RP_EVENTS_LOOKBACK 8

struct rp_events {
    size_t n;
    rtpproc_event list[RP_EVENTS_MAX];
    int64_t seg_ts[RP_EVENTS_MAX];    /* extended timestamp of its current segment */
    uint32_t seg_base[RP_EVENTS_MAX]; /* duration of its earlier segments */
    uint64_t dropped, malformed;
    bool have_last; /* the last event met, kept or not (drop counting) */
    int64_t last_ts;
    uint8_t last_code;
};

const char *rtpproc_event_name(unsigned code)
{
    /* RFC 4733 3.2, table 1: DTMF named events. */
    static const char *const dtmf[16] = {"0", "1", "2", "3", "4", "5", "6", "7",
                                         "8", "9", "*", "#", "A", "B", "C", "D"};
    return code < 16 ? dtmf[code] : NULL;
}

int rp_events_parse(const uint8_t *payload, size_t len, bool truncated, rp_event_block *out,
                    unsigned max)
{
    /*  0                   1                   2                   3
     *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
     * |     event     |E|R| volume    |          duration             |
     * (RFC 4733 2.3) */
    if (!truncated && len < 4)
        return RP_EVENTS_SHORT;
    if (!truncated && len % 4 != 0)
        return RP_EVENTS_ODD;
    rp_cur c = rp_cur_make(payload, len);
    unsigned n = 0;
    while (n < max && c.left >= 4) {
        uint8_t code, flags;
        uint16_t duration;
        if (!rp_u8(&c, &code) || !rp_u8(&c, &flags) || !rp_be16(&c, &duration))
            break;
        out[n].code = code;
        out[n].end = (flags & 0x80) != 0;
        out[n].reserved = (flags & 0x40) != 0;
        out[n].volume = flags & 0x3F;
        out[n].duration = duration;
        n++;
    }
    return (int)n;
}

rp_events *rp_events_new(void)
{
    return calloc(1, sizeof(rp_events));
}

void rp_events_free(rp_events *ev)
{
    free(ev);
}

/* The kept event with segment timestamp `ts` and `code`, or -1. */
static long find(const rp_events *ev, int64_t ts, uint8_t code)
{
    size_t stop = ev->n > RP_EVENTS_LOOKBACK ? ev->n - RP_EVENTS_LOOKBACK : 0;
    for (size_t i = ev->n; i-- > stop;) {
        if (ev->seg_ts[i] == ts && ev->list[i].code == code)
            return (long)i;
    }
    return -1;
}

static void update(rp_events *ev, size_t i, const rp_event_block *b, const rp_event_packet *p,
                   bool first_block)
{
    rtpproc_event *e = &ev->list[i];
    uint32_t d = ev->seg_base[i] + b->duration;
    if (d > e->duration)
        e->duration = d;
    e->end |= b->end;
    e->volume = b->volume;
    e->start_seen |= p->marker && first_block;
    if (p->arrival < e->start)
        e->start = p->arrival; /* reordered within the window */
}

static void add_block(rp_events *ev, const rp_event_block *b, int64_t ts, const rp_event_packet *p,
                      bool first_block)
{
    long i = find(ev, ts, b->code);
    if (i >= 0) {
        update(ev, (size_t)i, b, p, first_block);
        return;
    }
    if (ev->n > 0) {
        /* 2.5.1.3: the next segment of a long event that is still on. */
        size_t j = ev->n - 1;
        rtpproc_event *e = &ev->list[j];
        if (e->code == b->code && !e->end && e->duration - ev->seg_base[j] == RP_SEGMENT_MAX &&
            ts == ev->seg_ts[j] + RP_SEGMENT_MAX) {
            ev->seg_ts[j] = ts;
            ev->seg_base[j] += RP_SEGMENT_MAX;
            update(ev, j, b, p, false);
            return;
        }
    }
    if (ev->have_last && ev->last_ts == ts && ev->last_code == b->code)
        return; /* a repeat of the last event, already counted as dropped */
    ev->have_last = true;
    ev->last_ts = ts;
    ev->last_code = b->code;
    if (ev->n == RP_EVENTS_MAX) {
        ev->dropped++;
        return;
    }
    size_t k = ev->n++;
    ev->seg_ts[k] = ts;
    ev->seg_base[k] = 0;
    ev->list[k] = (rtpproc_event){
        .code = b->code,
        .start = p->arrival,
        .offset = ts - p->base_ts,
        .duration = b->duration,
        .clock_rate = p->clock_rate ? p->clock_rate : RP_EVENT_CLOCK,
        .volume = b->volume,
        .end = b->end,
        .start_seen = p->marker && first_block,
    };
}

void rp_events_add(rp_events *ev, const rp_event_packet *p)
{
    rp_event_block b[RP_EVENTS_PER_PACKET];
    int n = rp_events_parse(p->payload, p->payload_len, p->truncated, b, RP_EVENTS_PER_PACKET);
    if (n < 0) {
        ev->malformed++;
        return;
    }
    /* 2.5.1.5: the timestamp is the first event's start; packed events
     * are contiguous, each starting where the one before it ended. */
    int64_t ts = p->ext_ts;
    for (int i = 0; i < n; i++) {
        add_block(ev, &b[i], ts, p, i == 0);
        ts += b[i].duration;
    }
}

/* ITU-T Q.23: rows 697-941 Hz, columns 1209-1633 Hz; RFC 4733 3.2 codes. */
static const double dtmf_low[4] = {697.0, 770.0, 852.0, 941.0};
static const double dtmf_high[4] = {1209.0, 1336.0, 1477.0, 1633.0};
static const uint8_t dtmf_row[16] = {3, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 0, 1, 2, 3};
static const uint8_t dtmf_col[16] = {1, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 2, 3, 3, 3, 3};

/* A sine of peak 32767 is +3.14 dBm0 (ITU-T G.711 A-law; spandsp's
 * DBM0_MAX_SINE_POWER). */
#define RP_DBM0_FULL_SCALE_SINE 3.14

size_t rp_events_tones(const rp_events *ev, const rp_tone_map *map, uint64_t from, int16_t *pcm,
                       size_t n)
{
    size_t toned = 0;
    memset(pcm, 0, n * sizeof(*pcm));
    if (ev == NULL || map->clock_rate == 0 || map->rate == 0)
        return 0;
    for (size_t i = 0; i < ev->n; i++) {
        const rtpproc_event *e = &ev->list[i];
        if (e->code > 15 || e->clock_rate != map->clock_rate)
            continue;
        int64_t rel = map->first_ts + e->offset - map->base_ts;
        int64_t start = (int64_t)map->base_frame + rel * (int64_t)map->rate / map->clock_rate;
        int64_t len = (int64_t)e->duration * map->rate / map->clock_rate;
        int64_t lo = start > (int64_t)from ? start : (int64_t)from;
        int64_t hi = start + len < (int64_t)(from + n) ? start + len : (int64_t)(from + n);
        if (lo >= hi)
            continue;
        /* Each frequency at half the event's power: -3.01 dB. */
        double amp =
            32767.0 * pow(10.0, (-(double)e->volume - 3.0103 - RP_DBM0_FULL_SCALE_SINE) / 20.0);
        double w1 = 2.0 * M_PI * dtmf_low[dtmf_row[e->code]] / map->rate;
        double w2 = 2.0 * M_PI * dtmf_high[dtmf_col[e->code]] / map->rate;
        for (int64_t f = lo; f < hi; f++) {
            double k = (double)(f - start);
            double v = pcm[f - (int64_t)from] + amp * (sin(w1 * k) + sin(w2 * k));
            pcm[f - (int64_t)from] = (int16_t)lrint(v > 32767.0    ? 32767.0
                                                    : v < -32768.0 ? -32768.0
                                                                   : v);
        }
        toned += (size_t)(hi - lo);
    }
    return toned;
}

const rtpproc_event *rp_events_list(const rp_events *ev, size_t *n)
{
    *n = ev->n;
    return ev->list;
}

uint64_t rp_events_dropped(const rp_events *ev)
{
    return ev->dropped;
}

uint64_t rp_events_malformed(const rp_events *ev)
{
    return ev->malformed;
}

int rp_events_release(rp_stream *s, const rp_decoder_slot *d, const rp_pkt *p, int64_t ext)
{
    if (s->events == NULL && (s->events = rp_events_new()) == NULL)
        return RTPPROC_ENOMEM;
    rp_event_packet ep = {
        .ext_ts = ext,
        .base_ts = s->first_ext_ts,
        .clock_rate = d->spec.clock_rate,
        .arrival = p->arrival,
        .marker = p->marker,
        .truncated = p->truncated,
        .payload = p->payload,
        .payload_len = p->payload_len,
    };
    rp_events_add(s->events, &ep);
    return 0;
}
