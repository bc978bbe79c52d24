/*
 * rtpproc - internal: one RTP stream's state, shared by engine.c (table,
 * probation, statistics, timeout) and playout.c (reorder window, timeline,
 * decoding, sink writes). Not installed.
 */
#ifndef RP_STREAM_H
#define RP_STREAM_H

#include "rtpproc/codec.h"
#include "rtpproc/engine.h"
#include "rtpproc/rtp.h"
#include "rtpproc/sink.h"
#include "rtpproc/stats.h"

#include "list.h"
#include "ptlearn.h"

#define RP_NO_PT 256u /* no payload type (PTs are 0..127) */

/* Sequence numbers whose release a stream remembers, to tell a late copy
 * (a duplicate) from a late original: more than MAX_MISORDER (100), so that
 * a copy that far behind is still recognised. */
#define RP_RELEASE_WORDS   4
#define RP_RELEASE_HISTORY (64 * RP_RELEASE_WORDS)

/* Stream key, as Wireshark keys its streams. Zero-filled, so hashable as bytes. */
typedef struct rp_key {
    rtpproc_flow flow;
    uint32_t ssrc;
} rp_key;

/* A packet as playout sees it: header facts plus a payload view. */
typedef struct rp_pkt {
    rtpproc_time_ns arrival;
    uint16_t seq;
    uint32_t ts;
    uint8_t pt;
    bool marker;
    bool truncated; /* payload cut by the snaplen: not decoded */
    const uint8_t *payload;
    size_t payload_len;
} rp_pkt;

/* A packet held in the reorder window; its payload lives in the slab. */
typedef struct rp_held {
    bool used;
    int64_t ext_seq;
    rp_pkt pkt; /* pkt.payload is NULL while held: see slab */
} rp_held;

/* One decoder per payload type the stream carries (a few at most). */
#define RP_MAX_DECODERS RTPPROC_MAX_FORMATS
typedef struct rp_decoder_slot {
    uint8_t pt;
    enum rtpproc_pt_source source;
    rtpproc_codec_spec spec;
    void *state;
    const rtpproc_codec *failed; /* resolved codec whose create() failed (spec.codec is NULL) */
} rp_decoder_slot;

typedef struct rp_engine_shared rp_engine_shared;

typedef struct rp_stream {
    rp_key key;
    unsigned index;
    uint64_t validated_at; /* datagram number that validated it */
    rp_link lru;           /* in the engine's streams by last activity */

    /* statistics, fed in arrival order */
    rtpproc_time_ns first_arrival, last_arrival;
    uint16_t first_seq;
    uint8_t pts[128];
    unsigned first_pt;
    uint64_t packets;
    uint64_t duplicates, late, truncated, undecodable, discontinuities;
    uint64_t reordered, jitter_drops;
    uint64_t talkspurts;      /* packets with the marker bit (RFC 3551 4.1) */
    uint64_t restart_packets; /* packets before the last A.1 restart (not in expected) */
    rtpproc_seq_state seq;
    rtpproc_jitter_state jit;
    unsigned jit_pt;    /* PT whose clock is in jit_clock, or RP_NO_PT */
    uint32_t jit_clock; /* its RTP clock for A.8, 0 if not audio */
    enum rtpproc_stream_note note;

    /* reorder window (playout.c) */
    bool have_release;                        /* next_release is set */
    int64_t max_ext_seq;                      /* highest extended seq seen */
    int64_t next_release;                     /* extended seq of the next packet to release */
    uint64_t released_mask[RP_RELEASE_WORDS]; /* bit i: next_release - 1 - i
                                                 was released (RP_RELEASE_HISTORY) */
    bool have_cand;    /* a far-off packet waits: a restart if the next follows */
    rp_pkt cand;       /* that packet; its payload in cand_buf */
    uint8_t *cand_buf; /* allocated at the first candidate (rare) */
    size_t cand_cap;
    rp_held *ring; /* reorder_packets slots, NULL until first needed */
    uint8_t *slab; /* ring payloads: reorder_packets * slab_slot bytes */
    size_t slab_slot;
    unsigned held; /* packets in the ring */

    /* timeline (playout.c) */
    bool have_ts;
    uint32_t last_ts;              /* raw RTP ts of the last released packet */
    int64_t ext_ts;                /* its extended value */
    int64_t base_ext_ts;           /* extended ts where the timeline anchor sits */
    uint64_t base_frame;           /* frame at base_ext_ts */
    bool have_audio;               /* an audio packet was written */
    rtpproc_time_ns audio_arrival; /* arrival of the last written audio packet */
    uint64_t audio_frames;         /* its decoded length */
    bool audio_marker;             /* its marker bit */
    uint64_t silence_frames;
    uint64_t concealed_frames;
    bool have_rel_seq;     /* last_rel_seq is set */
    uint16_t last_rel_seq; /* seq of the last released packet (loss vs DTX gaps) */
    void *plc;             /* spandsp plc_state_t for codecs without their own (--plc) */
    unsigned heur_run;     /* Opus recognition: consecutive matching packets */
    uint8_t heur_pt;       /* their PT */
    bool heur_stereo;      /* a TOC said stereo */
    int64_t heur_next_ts;  /* the timestamp the next one must have */
    bool have_cn;          /* a comfort-noise level was seen (RFC 3389) */
    uint8_t cn_level;      /* its level, -dBov */
    uint64_t cn_rand;      /* --comfort-noise generator state */

    /* Wireshark RTP player emulation (JITTER/CONTINUOUS; playout.c) */
    int64_t pl_start_ts;     /* extended ts the player's rtp_time counts from */
    double pl_start_time;    /* arrival offset its arrive_time counts from */
    double pl_rtp_time_prev; /* rtp_time of the last packet of the normal branch */
    double pl_arrive_prev;   /* its arrive_time */
    double pl_pack_period;   /* its length in seconds */
    int64_t pl_prev_samples; /* its length in samples */
    rp_decoder_slot dec[RP_MAX_DECODERS];
    unsigned ndec;
    uint32_t out_clock; /* clock rate of the recording's codec */
    const char *codec_name;
    rtpproc_sink *sink;
    bool sink_failed;        /* do not try to open again */
    uint64_t frames;         /* timeline length: frames written or due */
    uint64_t file_offset;    /* --per-direction: the recording's frame at our frame 0 */
    uint64_t overlap_frames; /* --per-direction: audio frames another SSRC had written */
    char *file;              /* path copy, owned by the stream */
    bool closing;            /* rp_playout_close_begin ran: only close may follow */
    int close_rc;            /* its status */

    /* RFC 4733 telephone-events (events.c) */
    int64_t first_ext_ts;     /* extended timestamp of the first released packet */
    struct rp_events *events; /* NULL until the first event packet */
} rp_stream;

/* What playout needs from the engine. */
struct rp_engine_shared {
    const rtpproc_engine_config *cfg;
    const rp_ptlearn *learned; /* PTs learned from SDP, by endpoint */
    bool have_epoch;           /* epoch is set */
    rtpproc_time_ns epoch;     /* the capture's first frame (rtpproc_engine_set_epoch) */
    struct rp_joins *joins;    /* --per-direction recordings, else NULL */
    int16_t *pcm;              /* decode scratch, grown on demand */
    size_t pcm_cap;            /* in int16 samples */
    struct rp_spare_window *spare_windows; /* reorder windows no stream uses (playout.c) */
    char error[512];
};

/* Playout entry points (playout.c). Return 0 or a negative status. */
int rp_playout_packet(rp_engine_shared *sh, rp_stream *s, const rp_pkt *p);
int rp_playout_close(rp_engine_shared *sh, rp_stream *s);
/*
 * The first half of rp_playout_close: plays out what the reorder window
 * holds and lets the sink start finalising in the background
 * (close_begin). Nothing may be fed to the stream afterwards; the status
 * is also returned by the rp_playout_close that must follow.
 */
int rp_playout_close_begin(rp_engine_shared *sh, rp_stream *s);
int rp_playout_flush(rp_engine_shared *sh, rp_stream *s);
void rp_playout_free(rp_stream *s);
/* Frees the reorder windows kept for reuse (the engine's end). */
void rp_playout_free_spares(rp_engine_shared *sh);

/*
 * The stream's decoder slot for `pt`, resolved and created on first use
 * (ptmap, then SDP learned for the destination, then the source, then the
 * static table). NULL when the stream already has RP_MAX_DECODERS slots.
 */
rp_decoder_slot *rp_playout_format(rp_engine_shared *sh, rp_stream *s, uint8_t pt);

#endif
