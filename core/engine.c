/*
 * rtpproc - the stream engine: RTP parsing, the stream table keyed by
 * (src, sport, dst, dport, SSRC), RFC 3550 A.1 probation, statistics and
 * the idle timeout. Audio placement is playout.c's job.
 *
 * Hot path: one hash lookup per datagram, no allocation once a stream
 * exists (the reorder ring and decode scratch grow rarely, per stream or per
 * engine, never per packet).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "rtpproc/engine.h"
#include "rtpproc/rtp.h"
#include "events.h"
#include "hugepool.h"
#include "join.h"
#include "keytab.h"
#include "sdp.h"
#include "shard.h"
#include "stream.h"

/*
 * A source in probation (RFC 3550 A.1, MIN_SEQUENTIAL = 2). Its packets are
 * kept, payload included, so that the audio and the counts of the packets
 * seen before the source was validated are not lost: a first packet followed
 * by a gap (400, 423, 424) or by its own duplicate (400, 400, 401) still
 * belongs to the stream. At most RP_PROBATION_HOLD packets are kept; beyond
 * that the oldest is discarded (a source that long in probation is noise).
 * Slots come from a fixed pool. A source that sends nothing for the idle
 * timeout leaves probation, as a stream would end; when every slot is taken
 * the least recently active source gives its slot up. Freed slots are
 * reused last-in first-out, so the memory touched follows the number of
 * sources in probation at once (sources per second times the timeout, at
 * most the pool), not the number ever seen: a flood of random SSRCs costs
 * bounded memory and creates no stream and no file.
 */
#define RP_PROBATION_HOLD 4
typedef struct rp_probation {
    rp_key key;
    rtpproc_seq_state seq;
    rtpproc_time_ns last;          /* arrival of its latest packet */
    rp_link link;                  /* in use: in pb_lru; free: the free list (next only) */
    unsigned n;                    /* packets held, oldest first */
    rp_pkt pkt[RP_PROBATION_HOLD]; /* payloads in buf[] */
    uint8_t *buf[RP_PROBATION_HOLD];
    size_t cap[RP_PROBATION_HOLD];
} rp_probation;

struct rtpproc_engine {
    rtpproc_engine_config cfg;
    rp_engine_shared sh;
    rp_keytab streams;   /* rp_stream* by their key; the engine owns the streams */
    rp_keytab probation; /* rp_probation* by their key, slots of pool */
    rp_probation *pool;
    unsigned pool_touched; /* slots ever handed out: pool[0..pool_touched) */
    rp_list pb_lru;        /* slots in use, least recently active first */
    rp_link *pb_free;      /* released slots, their buffers kept */
    unsigned pb_used;      /* slots in use */
    rp_list lru;           /* open streams, least recently active first */
    unsigned next_index;
    rtpproc_engine_counters counters;
    GArray *summaries;     /* rtpproc_stream_summary */
    GStringChunk *strings; /* file names and codec names of summaries */
    GPtrArray *blocks;     /* event lists of summaries */
    rp_ptlearn *learned;   /* PTs announced by SDP, by media endpoint */
    bool summaries_sorted;
    uint64_t order;                         /* number of the datagram being fed */
    rp_shards *shards;                      /* cfg.threads > 1: the sub-engines do the work */
    rtpproc_engine_counters shard_counters; /* their sum, for counters_get */
};

void rtpproc_engine_config_init(rtpproc_engine_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->idle_timeout = 5 * RTPPROC_NS_PER_SEC;
    rtpproc_ptmap_init(&cfg->ptmap);
    cfg->encoding = RTPPROC_NATIVE_NONE;
    cfg->max_streams = 100000;
    /* Every source that starts while others are in probation needs a slot
     * until its second packet: a probe that starts on a link carrying N
     * calls sees N new sources within one packet interval. */
    cfg->max_probation = 65536;
    cfg->max_learned = 65536;
    cfg->learn_sdp = true;
    cfg->reorder_packets = 16;
    cfg->reorder_time = 100 * RTPPROC_NS_PER_MSEC;
    cfg->max_gap = 2 * RTPPROC_NS_PER_SEC;
    cfg->timing = RTPPROC_TIMING_RTP;
    cfg->jitter_buffer = 50 * RTPPROC_NS_PER_MSEC;
}

static void make_key(rp_key *k, const rtpproc_flow *f, uint32_t ssrc)
{
    memset(k, 0, sizeof(*k));
    k->flow.src.family = f->src.family;
    k->flow.dst.family = f->dst.family;
    size_t alen = f->src.family == 6 ? 16 : 4;
    memcpy(k->flow.src.bytes, f->src.bytes, alen);
    alen = f->dst.family == 6 ? 16 : 4;
    memcpy(k->flow.dst.bytes, f->dst.bytes, alen);
    k->flow.sport = f->sport;
    k->flow.dport = f->dport;
    k->ssrc = ssrc;
}

static rp_stream *oldest_stream(const rtpproc_engine *e)
{
    return e->lru.head ? RP_CONTAINER(e->lru.head, rp_stream, lru) : NULL;
}

static rp_probation *oldest_probation(const rtpproc_engine *e)
{
    return e->pb_lru.head ? RP_CONTAINER(e->pb_lru.head, rp_probation, link) : NULL;
}

rtpproc_engine *rtpproc_engine_new(const rtpproc_engine_config *cfg)
{
    rtpproc_engine *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->cfg = *cfg;
    if (e->cfg.reorder_packets == 0)
        e->cfg.reorder_packets = 1;
    if (e->cfg.max_probation == 0)
        e->cfg.max_probation = 1;
    e->sh.cfg = &e->cfg;
    int trc = rp_keytab_init(&e->streams, offsetof(rp_stream, key));
    if (trc == RTPPROC_OK)
        trc = rp_keytab_init(&e->probation, offsetof(rp_probation, key));
    e->pool = calloc(e->cfg.max_probation, sizeof(*e->pool));
    e->summaries = g_array_new(FALSE, TRUE, sizeof(rtpproc_stream_summary));
    e->strings = g_string_chunk_new(4096);
    e->blocks = g_ptr_array_new_with_free_func(g_free);
    e->learned = rp_ptlearn_new(e->cfg.max_learned);
    e->sh.learned = e->learned;
    if (e->cfg.threads > 1 && (e->shards = rp_shards_new(&e->cfg, e->cfg.threads)) == NULL) {
        rtpproc_engine_free(e);
        return NULL;
    }
    /* With threads the sub-engines record; each keeps its own joins. */
    bool joins = e->cfg.per_direction && e->cfg.threads <= 1;
    if (joins)
        e->sh.joins = rp_joins_new();
    if (trc != RTPPROC_OK || e->pool == NULL || e->learned == NULL ||
        (joins && e->sh.joins == NULL)) {
        rtpproc_engine_free(e);
        return NULL;
    }
    return e;
}

static void free_stream(rp_stream *s)
{
    rp_playout_free(s);
    rp_events_free(s->events);
    rp_hugepool_free(s, sizeof(*s));
}

void rtpproc_engine_free(rtpproc_engine *e)
{
    if (e == NULL)
        return;
    rp_shards_free(e->shards);
    /* Streams still open were not finished: their sinks are closed here so
     * no file is left with a stale header. */
    for (rp_stream *s; (s = oldest_stream(e)) != NULL;) {
        rp_list_unlink(&e->lru, &s->lru);
        rp_playout_close(&e->sh, s);
        free_stream(s);
    }
    rp_keytab_destroy(&e->streams);
    rp_keytab_destroy(&e->probation);
    if (e->pool != NULL) {
        for (unsigned i = 0; i < e->pool_touched; i++)
            for (unsigned j = 0; j < RP_PROBATION_HOLD; j++)
                free(e->pool[i].buf[j]);
    }
    free(e->pool);
    g_array_free(e->summaries, TRUE);
    g_string_chunk_free(e->strings);
    g_ptr_array_free(e->blocks, TRUE);
    rp_ptlearn_free(e->learned);
    rp_joins_free(e->sh.joins);
    free(e->sh.pcm);
    rp_playout_free_spares(&e->sh);
    free(e);
}

static void summarise(rtpproc_engine *e, const rp_stream *s)
{
    rtpproc_stream_summary m;
    memset(&m, 0, sizeof(m));
    m.index = s->index;
    m.validated_at = s->validated_at;
    m.flow = s->key.flow;
    m.ssrc = s->key.ssrc;
    m.first_ts = s->first_arrival;
    m.last_ts = s->last_arrival;
    memcpy(m.pts, s->pts, sizeof(m.pts));
    m.first_pt = s->first_pt;
    m.packets = s->packets;
    m.first_seq = s->first_seq;
    m.last_seq = s->seq.max_seq;
    m.expected = rtpproc_seq_expected(&s->seq);
    /* After an A.1 restart, expected counts from the new base: the packets
     * before it are not among those expected (RFC 3550 A.3). */
    m.lost = m.expected - (int64_t)(s->packets - s->restart_packets);
    m.duplicates = s->duplicates;
    m.late = s->late;
    m.reordered = s->reordered;
    m.jitter_drops = s->jitter_drops;
    m.truncated = s->truncated;
    m.undecodable = s->undecodable;
    m.discontinuities = s->discontinuities;
    m.talkspurts = s->talkspurts;
    m.max_delta_ms = s->jit.max_delta_ms;
    m.max_jitter_ms = s->jit.max_jitter_ms;
    m.mean_jitter_ms = rtpproc_jitter_mean_ms(&s->jit);
    m.frames = s->frames;
    m.silence_frames = s->silence_frames;
    m.concealed_frames = s->concealed_frames;
    m.file_offset = s->file_offset;
    m.overlap_frames = s->overlap_frames;
    for (unsigned i = 0; i < s->ndec; i++) {
        const rp_decoder_slot *d = &s->dec[i];
        m.formats[i] = (rtpproc_stream_format){
            .pt = d->pt,
            .source = d->source,
            .codec = d->spec.codec,
            .failed = d->failed,
            .clock_rate = d->spec.clock_rate,
            .channels = d->spec.channels,
        };
    }
    m.nformats = s->ndec;
    for (unsigned i = 0; i < s->ndec; i++) {
        if (s->dec[i].spec.codec != NULL && s->codec_name != NULL &&
            s->dec[i].spec.codec->name == s->codec_name) {
            m.sample_rate = s->dec[i].spec.sample_rate;
            m.channels = s->dec[i].spec.channels;
            break;
        }
    }
    m.codec_rate = m.sample_rate;
    if (e->cfg.out_rate != 0 && m.sample_rate != 0 && m.sample_rate != e->cfg.out_rate &&
        s->file != NULL) {
        /* The recording was resampled (--rate): its frames are
         * round(N * out / in), as the resampling sink writes them. */
        double k = (double)e->cfg.out_rate / m.sample_rate;
        m.frames = (uint64_t)((double)m.frames * k + 0.5);
        m.silence_frames = (uint64_t)((double)m.silence_frames * k + 0.5);
        m.concealed_frames = (uint64_t)((double)m.concealed_frames * k + 0.5);
        m.file_offset = (uint64_t)((double)m.file_offset * k + 0.5);
        m.overlap_frames = (uint64_t)((double)m.overlap_frames * k + 0.5);
        m.sample_rate = e->cfg.out_rate;
    }
    m.codec = s->codec_name ? g_string_chunk_insert_const(e->strings, s->codec_name) : NULL;
    m.file = s->file ? g_string_chunk_insert(e->strings, s->file) : NULL;
    m.note = s->note;
    if (m.note == RTPPROC_NOTE_NONE && !s->have_audio && s->truncated > 0) {
        m.note = RTPPROC_NOTE_TRUNCATED;
    } else if (m.note == RTPPROC_NOTE_NONE && !s->have_audio) {
        bool any_unknown = false, any_failed = false;
        for (unsigned i = 0; i < s->ndec; i++) {
            any_unknown |= s->dec[i].spec.codec == NULL;
            any_failed |= s->dec[i].failed != NULL;
        }
        m.note = any_failed    ? RTPPROC_NOTE_DECODER_FAILED
                 : any_unknown ? RTPPROC_NOTE_NO_CODEC
                               : RTPPROC_NOTE_NO_AUDIO;
    }
    if (s->events != NULL) {
        const rtpproc_event *ev = rp_events_list(s->events, &m.nevents);
        if (m.nevents > 0) {
            rtpproc_event *copy = g_memdup2(ev, m.nevents * sizeof(*ev));
            g_ptr_array_add(e->blocks, copy);
            m.events = copy;
        }
        m.events_dropped = rp_events_dropped(s->events);
        m.events_malformed = rp_events_malformed(s->events);
    }
    g_array_append_val(e->summaries, m);
    e->summaries_sorted = false;
}

static int close_stream(rtpproc_engine *e, rp_stream *s)
{
    int rc = rp_playout_close(&e->sh, s);
    summarise(e, s);
    rp_list_unlink(&e->lru, &s->lru);
    rp_keytab_remove(&e->streams, &s->key, rp_key_hash(&s->key));
    free_stream(s);
    return rc;
}

/* Gives a slot in use back to the free list (its buffers stay with it). */
static void probation_release(rtpproc_engine *e, rp_probation *pb)
{
    rp_keytab_remove(&e->probation, &pb->key, rp_key_hash(&pb->key));
    rp_list_unlink(&e->pb_lru, &pb->link);
    pb->n = 0;
    e->pb_used--;
    pb->link.next = e->pb_free;
    e->pb_free = &pb->link;
}

static int expire(rtpproc_engine *e, rtpproc_time_ns now)
{
    rp_probation *pb;
    while ((pb = oldest_probation(e)) != NULL && now - pb->last > e->cfg.idle_timeout) {
        probation_release(e, pb);
        e->counters.probation_expired++;
    }
    int rc = 0;
    rp_stream *s;
    while ((s = oldest_stream(e)) != NULL && now - s->last_arrival > e->cfg.idle_timeout) {
        int r = close_stream(e, s);
        if (r < 0 && rc == 0)
            rc = r;
    }
    return rc;
}

/* Statistics for every packet of a validated stream, in arrival order. */
static int stream_packet(rtpproc_engine *e, rp_stream *s, const rp_pkt *p, bool count_seq)
{
    if (count_seq) {
        uint32_t base = s->seq.base_seq, received = s->seq.received;
        rtpproc_seq_update(&s->seq, p->seq);
        if (s->seq.base_seq != base || s->seq.received < received)
            s->restart_packets = s->packets; /* A.1 re-synchronised on this packet */
    }
    s->packets++;
    s->talkspurts += p->marker;
    s->last_arrival = p->arrival;
    s->pts[p->pt] = 1;
    if (p->truncated)
        s->truncated++;
    /* Jitter needs the PT's clock; events and comfort noise carry none
     * that describes packet timing (their timestamps repeat). Resolved
     * again only when the PT changes. */
    if (p->pt != s->jit_pt) {
        const rp_decoder_slot *d = rp_playout_format(&e->sh, s, p->pt);
        s->jit_pt = p->pt;
        s->jit_clock = 0;
        if (d != NULL && d->spec.codec != NULL && d->spec.codec->kind == RTPPROC_KIND_AUDIO)
            s->jit_clock = d->spec.clock_rate;
    }
    rtpproc_jitter_update(&s->jit, p->arrival, p->ts, s->jit_clock);
    return rp_playout_packet(&e->sh, s, p);
}

static rp_stream *new_stream(rtpproc_engine *e, const rp_key *k, uint32_t hash,
                             const rp_probation *pb, const rp_pkt *first)
{
    /* Touched by every packet: on huge pages with the recorders (hugepool.h). */
    rp_stream *s = rp_hugepool_alloc(sizeof(*s));
    if (s == NULL)
        return NULL;
    s->key = *k;
    if (rp_keytab_insert(&e->streams, s, hash) != RTPPROC_OK) {
        rp_hugepool_free(s, sizeof(*s));
        return NULL;
    }
    s->index = e->next_index++;
    s->validated_at = e->order;
    s->first_arrival = first->arrival;
    s->last_arrival = first->arrival;
    s->first_seq = first->seq;
    s->first_pt = first->pt;
    s->jit_pt = RP_NO_PT;
    s->seq = pb->seq;
    rtpproc_jitter_init(&s->jit);
    rp_list_append(&e->lru, &s->lru);
    e->counters.streams++;
    return s;
}

static rp_probation *probation_slot(rtpproc_engine *e)
{
    if (e->pb_free == NULL && e->pool_touched < e->cfg.max_probation) {
        e->pb_free = &e->pool[e->pool_touched++].link;
    } else if (e->pb_free == NULL) {
        probation_release(e, oldest_probation(e));
        e->counters.probation_evicted++;
    }
    rp_probation *pb = RP_CONTAINER(e->pb_free, rp_probation, link);
    e->pb_free = pb->link.next;
    pb->link.next = NULL;
    if (++e->pb_used > e->counters.probation_peak)
        e->counters.probation_peak = e->pb_used;
    return pb;
}

static int probation_keep(rtpproc_engine *e, rp_probation *pb, const rp_pkt *p)
{
    if (pb->n == RP_PROBATION_HOLD) {
        /* Drop the oldest; its buffer is reused for the newest. */
        uint8_t *b = pb->buf[0];
        size_t cap = pb->cap[0];
        memmove(&pb->pkt[0], &pb->pkt[1], (RP_PROBATION_HOLD - 1) * sizeof(pb->pkt[0]));
        memmove(&pb->buf[0], &pb->buf[1], (RP_PROBATION_HOLD - 1) * sizeof(pb->buf[0]));
        memmove(&pb->cap[0], &pb->cap[1], (RP_PROBATION_HOLD - 1) * sizeof(pb->cap[0]));
        pb->buf[RP_PROBATION_HOLD - 1] = b;
        pb->cap[RP_PROBATION_HOLD - 1] = cap;
        pb->n--;
        e->counters.probation_discarded++;
    }
    unsigned i = pb->n;
    if (p->payload_len > pb->cap[i]) {
        size_t cap = pb->cap[i] ? pb->cap[i] : 256;
        while (cap < p->payload_len)
            cap *= 2;
        uint8_t *b = realloc(pb->buf[i], cap);
        if (b == NULL)
            return RTPPROC_ENOMEM;
        pb->buf[i] = b;
        pb->cap[i] = cap;
    }
    pb->pkt[i] = *p;
    if (p->payload_len > 0)
        memcpy(pb->buf[i], p->payload, p->payload_len);
    pb->pkt[i].payload = pb->buf[i];
    pb->n++;
    return 0;
}

/* RFC 3550 A.1 probation for a source without a stream. */
static int probation_packet(rtpproc_engine *e, const rp_key *k, uint32_t hash, const rp_pkt *p)
{
    rp_probation *pb = rp_keytab_find(&e->probation, k, hash);
    if (pb == NULL) {
        pb = probation_slot(e);
        pb->key = *k;
        pb->n = 0;
        pb->last = p->arrival;
        rtpproc_seq_init(&pb->seq, p->seq);
        rtpproc_seq_update(&pb->seq, p->seq);
        if (rp_keytab_insert(&e->probation, pb, hash) != RTPPROC_OK) {
            rp_list_append(&e->pb_lru, &pb->link);
            probation_release(e, pb);
            return RTPPROC_ENOMEM;
        }
        rp_list_append(&e->pb_lru, &pb->link);
        return probation_keep(e, pb, p);
    }
    pb->last = p->arrival;
    rp_list_unlink(&e->pb_lru, &pb->link);
    rp_list_append(&e->pb_lru, &pb->link);
    if (!rtpproc_seq_update(&pb->seq, p->seq))
        return probation_keep(e, pb, p); /* not sequential yet: keep waiting */

    if (rp_keytab_size(&e->streams) >= e->cfg.max_streams) {
        e->counters.dropped_limit++;
        return RTPPROC_ELIMIT;
    }
    /* Validated: the kept packets within MAX_DROPOUT before this one are
     * the stream's first (a lone packet far away was another numbering,
     * e.g. a restart, and is discarded). */
    unsigned keep = 0, first = pb->n;
    bool use[RP_PROBATION_HOLD] = {false};
    uint16_t base = p->seq;
    for (unsigned i = 0; i < pb->n; i++) {
        uint16_t back = (uint16_t)(p->seq - pb->pkt[i].seq);
        if (back < RTPPROC_MAX_DROPOUT) {
            if (first == pb->n)
                first = i;
            if ((uint16_t)(p->seq - base) < back)
                base = pb->pkt[i].seq;
            use[i] = true;
            keep++;
        } else {
            e->counters.probation_discarded++;
        }
    }
    rtpproc_seq_rebase(&pb->seq, base, keep + 1);
    rp_stream *s = new_stream(e, k, hash, pb, first < pb->n ? &pb->pkt[first] : p);
    if (s == NULL) {
        probation_release(e, pb);
        return RTPPROC_ENOMEM;
    }
    int rc = 0;
    for (unsigned i = first; i < pb->n && rc >= 0; i++) {
        if (use[i])
            rc = stream_packet(e, s, &pb->pkt[i], false);
    }
    /* Released only now: the held payloads live in the slot's buffers. */
    probation_release(e, pb);
    int rc2 = stream_packet(e, s, p, false);
    return rc < 0 ? rc : rc2;
}

static void learn_binding(void *ud, const rtpproc_addr *addr, uint16_t port, unsigned pt,
                          const char *name, uint32_t rate, unsigned channels, unsigned fmtp)
{
    /* A static PT keeps its RFC 3551 meaning (an rtpmap for it only
     * repeats that, RFC 3551 3). Names without a codec here (video, a codec
     * not built) stay unknown. */
    if (rtpproc_codec_static_pt_name(pt) != NULL)
        return;
    (void)rtpproc_engine_learn_pt(ud, addr, port, pt, name, rate, channels, fmtp);
}

static void count_binding(void *ud, const rtpproc_addr *addr, uint16_t port, unsigned pt,
                          const char *name, uint32_t rate, unsigned channels, unsigned fmtp)
{
    (void)ud, (void)addr, (void)port, (void)pt, (void)name, (void)rate, (void)channels, (void)fmtp;
}

void rtpproc_engine_set_epoch(rtpproc_engine *e, rtpproc_time_ns first_frame)
{
    if (e->shards != NULL)
        rp_shards_set_epoch(e->shards, first_frame);
    if (!e->sh.have_epoch) {
        e->sh.have_epoch = true;
        e->sh.epoch = first_frame;
    }
}

unsigned rtpproc_engine_learn_sdp(rtpproc_engine *e, const uint8_t *msg, size_t len)
{
    if (e == NULL || msg == NULL || !rp_sip_detect(msg, len))
        return 0;
    if (e->shards != NULL) {
        rp_shards_learn_sdp(e->shards, msg, len);
        return rp_sdp_parse_sip(msg, len, count_binding, NULL);
    }
    unsigned n = rp_sdp_parse_sip(msg, len, learn_binding, e);
    e->counters.sdp_bindings += n;
    return n;
}

/*
 * A packet reads and writes most of its stream's 1 KiB and the head of its
 * recorder. With thousands of streams none of it is in the caches, and the
 * code reaches it a line at a time: asking for every line at once makes
 * the misses overlap instead of following each other (2 M packets x 10 000
 * streams: about 10 % of the run).
 */
static void prefetch_stream(const rp_stream *s)
{
    for (size_t off = 64; off < sizeof(*s); off += 64)
        __builtin_prefetch((const char *)s + off, 1);
    if (s->sink != NULL) {
        __builtin_prefetch(s->sink, 1);
        __builtin_prefetch((const char *)s->sink + 64, 1);
    }
}

/* What a datagram is before any state changes: its RTP header, stream key
 * and the key's hash. */
typedef struct rp_parsed {
    int parse; /* rtpproc_rtp_parse()'s result */
    rtpproc_rtp_hdr h;
    rp_key k;
    uint32_t hash;
} rp_parsed;

static void parse(const rtpproc_datagram *d, rp_parsed *out)
{
    out->parse = rtpproc_rtp_parse(d->payload, d->caplen, d->len, &out->h);
    if (out->parse == RTPPROC_PARSE_OK) {
        make_key(&out->k, &d->flow, out->h.ssrc);
        out->hash = rp_key_hash(&out->k);
    }
}

static int feed_parsed(rtpproc_engine *e, const rtpproc_datagram *d, const rp_parsed *pd,
                       uint64_t order)
{
    int rc;

    e->sh.error[0] = '\0';
    e->counters.datagrams++;
    e->order = order;
    rtpproc_engine_set_epoch(e, d->ts);
    int expired = expire(e, d->ts);

    switch (pd->parse) {
    case RTPPROC_PARSE_OK:
        break;
    case RTPPROC_PARSE_TRUNCATED:
        e->counters.truncated++;
        return expired < 0 ? expired : RTPPROC_PKT_TRUNCATED;
    case RTPPROC_PARSE_INVALID:
        e->counters.invalid++;
        return expired < 0 ? expired : RTPPROC_PKT_INVALID;
    default:
        e->counters.not_rtp++;
        /* A message cut by the snaplen could bind a wrong rate
         * ("L16/1600"): only whole datagrams are read. */
        if (e->cfg.learn_sdp && d->caplen == d->len)
            rtpproc_engine_learn_sdp(e, d->payload, d->caplen);
        return expired < 0 ? expired : RTPPROC_PKT_NOT_RTP;
    }
    const rtpproc_rtp_hdr *h = &pd->h;
    if (e->cfg.ssrc_filter_set && h->ssrc != e->cfg.ssrc_filter) {
        e->counters.filtered++;
        return expired < 0 ? expired : RTPPROC_PKT_FILTERED;
    }
    e->counters.rtp++;
    if (h->truncated)
        e->counters.payload_truncated++;

    rp_pkt p = {
        .arrival = d->ts,
        .seq = h->seq,
        .ts = h->ts,
        .pt = h->pt,
        .marker = h->marker,
        .truncated = h->truncated,
        .payload = h->payload,
        .payload_len = h->truncated ? h->payload_caplen : h->payload_len,
    };
    rp_stream *s = rp_keytab_find(&e->streams, &pd->k, pd->hash);
    if (s != NULL) {
        prefetch_stream(s);
        rp_list_unlink(&e->lru, &s->lru);
        rp_list_append(&e->lru, &s->lru);
        rc = stream_packet(e, s, &p, true);
    } else {
        rc = probation_packet(e, &pd->k, pd->hash, &p);
        if (rc == RTPPROC_ELIMIT)
            return expired < 0 ? expired : RTPPROC_PKT_DROPPED;
    }
    if (rc < 0)
        return rc;
    return expired < 0 ? expired : RTPPROC_PKT_RTP;
}

int rtpproc_engine_feed(rtpproc_engine *e, const rtpproc_datagram *d)
{
    rp_parsed pd;

    if (e->shards != NULL)
        return rp_shards_feed(e->shards, d, ++e->order);
    parse(d, &pd);
    return feed_parsed(e, d, &pd, e->counters.datagrams + 1);
}

/*
 * How far rtpproc_engine_feed_batch() looks ahead: a datagram's table slot
 * is fetched RP_AHEAD datagrams before it is fed, its stream one step
 * later, the place its audio goes one step after that.
 */
#define RP_AHEAD 3

/* The stream of an upcoming datagram, if it has one (a hint only: the
 * pointer must not outlive the next feed). */
static rp_stream *upcoming(const rtpproc_engine *e, const rp_parsed *pd)
{
    if (pd->parse != RTPPROC_PARSE_OK)
        return NULL;
    return rp_keytab_find(&e->streams, &pd->k, pd->hash);
}

/* The i-th datagram of a run: `stride` bytes apart (rp_engine_feed_run). */
static const rtpproc_datagram *run_at(const rtpproc_datagram *d, size_t stride, size_t i)
{
    return (const rtpproc_datagram *)(const void *)((const char *)d + i * stride);
}

int rp_engine_feed_run(rtpproc_engine *e, const rtpproc_datagram *d, const uint64_t *order,
                       size_t stride, size_t n, int *verdicts, size_t *done)
{
    rp_parsed ahead[RP_AHEAD + 1];

    /*
     * With thousands of streams a datagram's table slot, stream and
     * recording buffer are all out of the caches, and feeding it waits for
     * each in turn. Here the memory of the next datagrams is asked for
     * while the current one is fed: parsed and its slot fetched RP_AHEAD
     * datagrams early, its stream fetched two early, its sink asked to
     * fetch where the audio goes one early. Lookups are repeated at each
     * step, so feeding in between (streams opened, closed) only costs a
     * wasted fetch, never a stale pointer.
     */
    for (size_t i = 0; i < n + RP_AHEAD; i++) {
        if (i < n) {
            rp_parsed *pd = &ahead[i % (RP_AHEAD + 1)];
            parse(run_at(d, stride, i), pd);
            if (pd->parse == RTPPROC_PARSE_OK)
                __builtin_prefetch(rp_keytab_slot(&e->streams, pd->hash));
        }
        if (i >= 1 && i - 1 < n) {
            rp_stream *s = upcoming(e, &ahead[(i - 1) % (RP_AHEAD + 1)]);
            if (s != NULL)
                prefetch_stream(s);
        }
        if (i >= 2 && i - 2 < n) {
            rp_stream *s = upcoming(e, &ahead[(i - 2) % (RP_AHEAD + 1)]);
            if (s != NULL && s->sink != NULL && s->sink->ops->prefetch != NULL)
                s->sink->ops->prefetch(s->sink);
        }
        if (i >= RP_AHEAD) {
            size_t j = i - RP_AHEAD;
            uint64_t nth = order != NULL
                               ? *(const uint64_t *)(const void *)((const char *)order + j * stride)
                               : e->counters.datagrams + 1;
            int rc = feed_parsed(e, run_at(d, stride, j), &ahead[j % (RP_AHEAD + 1)], nth);
            if (verdicts != NULL)
                verdicts[j] = rc;
            if (rc < 0) {
                *done = j;
                return rc;
            }
        }
    }
    *done = n;
    return RTPPROC_OK;
}

int rtpproc_engine_feed_batch(rtpproc_engine *e, const rtpproc_datagram *d, size_t n, int *verdicts)
{
    size_t done;

    if (e->shards != NULL) {
        for (size_t i = 0; i < n; i++) {
            if ((verdicts[i] = rtpproc_engine_feed(e, &d[i])) < 0)
                return verdicts[i];
        }
        return RTPPROC_OK;
    }
    return rp_engine_feed_run(e, d, NULL, sizeof(*d), n, verdicts, &done);
}

int rtpproc_engine_tick(rtpproc_engine *e, rtpproc_time_ns now)
{
    if (e->shards != NULL)
        return rp_shards_tick(e->shards, now);
    e->sh.error[0] = '\0';
    return expire(e, now);
}

int rtpproc_engine_flush(rtpproc_engine *e)
{
    if (e->shards != NULL)
        return rp_shards_flush(e->shards);
    int rc = 0;
    for (rp_link *l = e->lru.head; l != NULL; l = l->next) {
        rp_stream *s = RP_CONTAINER(l, rp_stream, lru);
        int r = rp_playout_flush(&e->sh, s);
        if (r < 0 && rc == 0)
            rc = r;
    }
    return rc;
}

int rtpproc_engine_finish(rtpproc_engine *e)
{
    if (e->shards != NULL)
        return rp_shards_finish(e->shards);
    int rc = 0;
    /* Every recording starts finalising before any is waited for: with a
     * writer thread they then end in one run of its queue. */
    for (rp_link *l = e->lru.head; l != NULL; l = l->next)
        (void)rp_playout_close_begin(&e->sh, RP_CONTAINER(l, rp_stream, lru));
    for (rp_stream *s; (s = oldest_stream(e)) != NULL;) {
        int r = close_stream(e, s);
        if (r < 0 && rc == 0)
            rc = r;
    }
    return rc;
}

int rtpproc_engine_learn_pt(rtpproc_engine *e, const rtpproc_addr *addr, uint16_t port, unsigned pt,
                            const char *name, uint32_t rate, unsigned channels, unsigned fmtp)
{
    /* The same bounds as a --pt-map item (codec.c). */
    if (e == NULL || addr == NULL || name == NULL || pt > 127 || rate > 384000 || channels > 8 ||
        (addr->family != 4 && addr->family != 6))
        return RTPPROC_EINVAL;
    const rtpproc_codec *c = rtpproc_codec_find_by_name(name);
    if (c == NULL)
        return RTPPROC_ENOCODEC;
    if (e->shards != NULL) {
        rp_shards_learn_pt(e->shards, addr, port, pt, name, rate, channels, fmtp);
        return RTPPROC_OK;
    }
    rtpproc_codec_spec spec;
    rtpproc_codec_spec_make(c, rate, channels, &spec);
    spec.fmtp = fmtp;
    const rtpproc_codec_spec *old = rp_ptlearn_get(e->learned, addr, port, pt);
    if (old != NULL && memcmp(old, &spec, sizeof(spec)) == 0)
        return RTPPROC_OK; /* the plug-in repeats a binding with every packet */
    if (old != NULL && channels == 0 && old->codec == c && old->clock_rate == spec.clock_rate &&
        (fmtp == 0 || old->fmtp == fmtp))
        return RTPPROC_OK; /* tshark's per-packet name carries no channel count */
    return rp_ptlearn_set(e->learned, addr, port, pt, &spec);
}

const char *rtpproc_engine_error(const rtpproc_engine *e)
{
    return e->shards != NULL ? rp_shards_error(e->shards) : e->sh.error;
}

const rtpproc_engine_counters *rtpproc_engine_counters_get(const rtpproc_engine *e)
{
    if (e->shards != NULL) {
        /* Waits for the workers; the sum is cached in the engine. */
        rtpproc_engine *me = (rtpproc_engine *)(uintptr_t)e;
        rp_shards_counters(me->shards, &me->shard_counters);
        return &e->shard_counters;
    }
    return &e->counters;
}

static gint by_index(gconstpointer a, gconstpointer b)
{
    const rtpproc_stream_summary *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

const rtpproc_stream_summary *rtpproc_engine_summaries(rtpproc_engine *e, size_t *n)
{
    if (e->shards != NULL)
        return rp_shards_summaries(e->shards, n);
    if (!e->summaries_sorted) {
        g_array_sort(e->summaries, by_index);
        e->summaries_sorted = true;
    }
    *n = e->summaries->len;
    return (const rtpproc_stream_summary *)(void *)e->summaries->data;
}

void rtpproc_engine_release_summaries(rtpproc_engine *e)
{
    if (e->shards != NULL) {
        rp_shards_release_summaries(e->shards);
        return;
    }
    g_array_set_size(e->summaries, 0);
    /* Open streams own their own names; only summaries point into these. */
    g_string_chunk_clear(e->strings);
    g_ptr_array_set_size(e->blocks, 0);
    e->summaries_sorted = true;
}

size_t rtpproc_engine_open_streams(const rtpproc_engine *e)
{
    if (e->shards != NULL)
        return rp_shards_open_streams(e->shards);
    return rp_keytab_size(&e->streams);
}
