/*
 * rtpproc - internal: RFC 4733 telephone-events of one stream.
 *
 * Playout hands every released packet whose payload type resolves to
 * telephone-event to rp_events_release(), in sequence order (duplicates of
 * one sequence number were already dropped there). All packets that carry
 * one event share its RTP timestamp, the event's start (RFC 4733 2.5.1.1),
 * so an event is keyed by (extended timestamp, event code):
 *   - updates and end-of-event retransmissions (2.5.1.4: the final packet
 *     is sent three times, with new sequence numbers or the same one) merge
 *     into one event: the longest duration wins, the E bit sticks;
 *   - an event whose first packets were lost still starts at its timestamp;
 *   - an event whose end packet was lost keeps the longest duration seen and
 *     is marked as not ended when the next event or the stream's end comes;
 *   - a long event sent in segments (2.5.1.3: duration 0xFFFF, next segment
 *     at timestamp + 0xFFFF) stays one event;
 *   - several events packed in one payload (2.5.1.5) are consecutive: each
 *     starts where the one before it ends.
 * Storage is one block per stream, allocated with its first event packet;
 * at most RP_EVENTS_MAX events are kept, later ones only counted.
 */
#ifndef RP_EVENTS_H
#define RP_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtpproc/engine.h"

#define RP_EVENTS_MAX RTPPROC_MAX_EVENTS

/* One 4-byte event block of RFC 4733 2.3, as read. */
typedef struct rp_event_block {
    uint8_t code;      /* event, 0-255 */
    bool end;          /* E bit */
    bool reserved;     /* R bit (senders set 0, receivers ignore it) */
    uint8_t volume;    /* 0-63: -dBm0 */
    uint16_t duration; /* timestamp units since the event's (segment's) start */
} rp_event_block;

/* rp_events_parse() results below 0. */
#define RP_EVENTS_SHORT -1 /* fewer than 4 bytes */
#define RP_EVENTS_ODD   -2 /* not a whole number of 4-byte blocks */

/*
 * Reads the blocks of one telephone-event payload of `len` bytes into
 * out[0..max-1] through the bounded cursor. Returns the number of blocks
 * read (blocks beyond `max` are not read), RP_EVENTS_SHORT or RP_EVENTS_ODD.
 * A payload cut by the snaplen (`truncated`) gives its whole blocks and is
 * never an error: the cut was counted when the packet arrived.
 */
int rp_events_parse(const uint8_t *payload, size_t len, bool truncated, rp_event_block *out,
                    unsigned max);

typedef struct rp_events rp_events;

/* A stream's event table; NULL without memory. */
rp_events *rp_events_new(void);

/* Frees the table; NULL is a no-op. */
void rp_events_free(rp_events *ev);

/* One released telephone-event packet. */
typedef struct rp_event_packet {
    int64_t ext_ts;          /* its extended RTP timestamp */
    int64_t base_ts;         /* extended timestamp of the stream's first packet */
    uint32_t clock_rate;     /* the PT's clock (Hz); 0 means RFC 4733's default 8000 */
    rtpproc_time_ns arrival; /* capture time */
    bool marker;             /* M bit: first packet of an event (2.5.1.2) */
    bool truncated;          /* payload cut by the snaplen */
    const uint8_t *payload;
    size_t payload_len;
} rp_event_packet;

/* Merges one packet into the table (never allocates). */
void rp_events_add(rp_events *ev, const rp_event_packet *p);

/* The events kept, in the order they were met; `n` gets their number. */
const rtpproc_event *rp_events_list(const rp_events *ev, size_t *n);

/* Distinct events not kept because the table was full. */
uint64_t rp_events_dropped(const rp_events *ev);

/* Payloads that were not whole event blocks (RP_EVENTS_SHORT / _ODD). */
uint64_t rp_events_malformed(const rp_events *ev);

/*
 * Tone synthesis (--dtmf-tones). Where a stream's recording has no audio
 * because DTMF events replaced it, their tones can be written instead of
 * silence. A frame of the recording maps to RTP time as playout places
 * audio: frame = base_frame + (ext_ts - base_ts) * rate / clock, with the
 * event's extended timestamp ext_ts = first_ts + its offset.
 */
typedef struct rp_tone_map {
    int64_t base_ts;     /* extended timestamp at base_frame (playout's anchor) */
    uint64_t base_frame; /* recording frame of base_ts */
    int64_t first_ts;    /* extended timestamp of the stream's first packet */
    uint32_t clock_rate; /* RTP clock of the audio and of the events, Hz */
    uint32_t rate;       /* the recording's sample rate, Hz */
} rp_tone_map;

/*
 * Writes frames [from, from + n) of a mono recording into pcm[0..n): the
 * ITU-T Q.23 frequency pair of each DTMF event (codes 0-15) that covers a
 * frame, at the event's level (RFC 4733 volume as the power of the dual
 * tone, split equally between its two frequencies), 0 elsewhere. The phase
 * of a tone counts from its event's start, so a span filled in pieces is
 * the same as one filled at once. Returns the frames written with tone,
 * summed over events (0: pcm is all silence). Events whose clock is not
 * map->clock_rate are left out.
 */
size_t rp_events_tones(const rp_events *ev, const rp_tone_map *map, uint64_t from, int16_t *pcm,
                       size_t n);

struct rp_stream;
struct rp_decoder_slot;
struct rp_pkt;

/*
 * Playout's entry: packet `p` of stream `s`, with extended timestamp `ext`,
 * whose PT resolved to telephone-event in slot `d`. Creates the stream's
 * table with its first event packet. Returns 0 or RTPPROC_ENOMEM.
 */
int rp_events_release(struct rp_stream *s, const struct rp_decoder_slot *d, const struct rp_pkt *p,
                      int64_t ext);

#endif
