/*
 * rtpproc - the RTP stream engine: datagrams in, recordings and statistics out.
 *
 * Both front-ends (the libpcap tool and the tshark tap) create one engine,
 * feed it UDP datagrams in capture order, and finish it. The engine parses
 * RTP, keeps the stream table (key: src, sport, dst, dport, SSRC), runs
 * RFC 3550 probation and statistics, places decoded audio on each stream's
 * timeline and writes it through sinks. It never prints and never exits.
 */
#ifndef RTPPROC_ENGINE_H
#define RTPPROC_ENGINE_H

#include "rtpproc/types.h"
#include "rtpproc/codec.h"
#include "rtpproc/sink.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Where decoded audio goes on a stream's timeline (design.md section 4).
 * RTP: by RTP timestamp, exactly; losses and DTX gaps become silence,
 * contradicted jumps are re-anchored at arrival time. JITTER and
 * CONTINUOUS reproduce the Wireshark 4.0 RTP player's "Jitter Buffer" and
 * "Uninterrupted" modes (docs/stream-statistics.md, "Timing modes").
 */
enum rtpproc_timing {
    RTPPROC_TIMING_RTP = 0,
    RTPPROC_TIMING_JITTER,
    RTPPROC_TIMING_CONTINUOUS,
};

/* Most worker threads an engine runs (cfg.threads, --threads). */
#define RTPPROC_MAX_THREADS 64

typedef struct rtpproc_engine_config {
    rtpproc_time_ns idle_timeout; /* capture time without packets that closes a stream (5 s) */
    bool ssrc_filter_set;         /* keep only streams with this SSRC */
    uint32_t ssrc_filter;
    rtpproc_ptmap ptmap;            /* --pt-map overrides, else RFC 3551 */
    enum rtpproc_native encoding;   /* output: NONE = 16-bit PCM, or G.711 A/u-law */
    unsigned max_streams;           /* active streams at once (default 100000) */
    unsigned max_probation;         /* sources in probation at once (default 65536; more
                                       sources starting at once evict the oldest and
                                       may never validate) */
    unsigned max_learned;           /* learned payload-type bindings kept (65536) */
    bool learn_sdp;                 /* learn PTs from SIP/SDP in fed datagrams (true) */
    unsigned reorder_packets;       /* reorder window in packets (default 16) */
    rtpproc_time_ns reorder_time;   /* reorder window in capture time (100 ms) */
    rtpproc_time_ns max_gap;        /* a timestamp jump beyond the arrival gap by more
                                       than this is a discontinuity (2 s) */
    enum rtpproc_timing timing;     /* RTP by default */
    rtpproc_time_ns jitter_buffer;  /* JITTER mode's buffer (50 ms, as the player) */
    bool plc;                       /* conceal losses instead of silence (RTP mode) */
    bool dtmf_tones;                /* synthesise RFC 4733 events' tones into the gaps
                                       they leave in the stream's audio */
    bool comfort_noise;             /* noise at the RFC 3389 level instead of silence */
    bool guess_codecs;              /* recognise unnamed dynamic PTs by their payloads
                                       (Opus); off: such PTs need SDP or --pt-map */
    uint32_t out_rate;              /* recordings resampled to this rate (0: codec's);
                                       the report gives the recording's rate and frames */
    unsigned threads;               /* > 1: streams sharded by 5-tuple over this many
                                       worker threads; same recordings and report */
    bool per_direction;             /* one recording per 5-tuple: streams of the same
                                       direction (SSRC changes) share a file, placed at
                                       their arrival time (docs/stream-statistics.md) */
    rtpproc_sink_open_fn sink_open; /* NULL: no recordings (statistics only) */
    void *sink_userdata;
} rtpproc_engine_config;

/* Fills `cfg` with the defaults named above. */
RTPPROC_API void rtpproc_engine_config_init(rtpproc_engine_config *cfg);

/* What became of one datagram. */
enum rtpproc_verdict {
    RTPPROC_PKT_RTP = 0,   /* an RTP packet taken by a stream or its probation */
    RTPPROC_PKT_NOT_RTP,   /* not RTP (or RTCP) */
    RTPPROC_PKT_TRUNCATED, /* RTP header cut by the snaplen */
    RTPPROC_PKT_INVALID,   /* impossible RTP header */
    RTPPROC_PKT_FILTERED,  /* RTP, but excluded by --ssrc */
    RTPPROC_PKT_DROPPED,   /* RTP, but a bound (max streams/probation) was hit */
};

/* Engine-wide counters. */
typedef struct rtpproc_engine_counters {
    uint64_t datagrams;
    uint64_t rtp;
    uint64_t not_rtp;
    uint64_t truncated;         /* RTP header cut by the snaplen */
    uint64_t payload_truncated; /* RTP header complete, payload cut: not decoded */
    uint64_t invalid;
    uint64_t filtered;
    uint64_t dropped_limit;
    uint64_t probation_evicted;   /* candidate sources dropped before validation
                                     because every probation slot was taken */
    uint64_t probation_expired;   /* candidate sources forgotten after the idle
                                     timeout without validating */
    uint64_t probation_peak;      /* most sources in probation at once */
    uint64_t probation_discarded; /* packets of a long probation beyond the held ones */
    uint64_t streams;             /* streams validated */
    uint64_t sdp_bindings;        /* payload-type bindings read from SIP/SDP */
} rtpproc_engine_counters;

/* Why a stream has no recording (or a partial one). */
enum rtpproc_stream_note {
    RTPPROC_NOTE_NONE = 0,
    RTPPROC_NOTE_NO_CODEC,       /* payload type with no decoder here */
    RTPPROC_NOTE_NO_AUDIO,       /* only events/comfort noise */
    RTPPROC_NOTE_RATE_CHANGE,    /* later audio PT with another rate was skipped */
    RTPPROC_NOTE_WRITE_ERROR,    /* the sink failed */
    RTPPROC_NOTE_TRUNCATED,      /* every audio payload was cut by the snaplen */
    RTPPROC_NOTE_DECODER_FAILED, /* the codec is known, but its decoder could not be
                                    created (runtime_library missing, out of memory) */
};

/* Where a stream's payload type got its codec (resolution order: MAP, SDP, STATIC/DEFAULT). */
enum rtpproc_pt_source {
    RTPPROC_PTSRC_NONE = 0,  /* dynamic PT that nothing described */
    RTPPROC_PTSRC_STATIC,    /* RFC 3551 table (codec may still be NULL: not built) */
    RTPPROC_PTSRC_MAP,       /* the user's --pt-map */
    RTPPROC_PTSRC_SDP,       /* learned: SDP in the capture, or tshark's payload name */
    RTPPROC_PTSRC_DEFAULT,   /* PT 101 without SDP: telephone-event, as Wireshark assumes */
    RTPPROC_PTSRC_HEURISTIC, /* recognised from the payloads (Opus TOC + timestamps) */
};

/* How many payload types a stream decodes (more are counted undecodable). */
#define RTPPROC_MAX_FORMATS 4

/* One payload type as a stream resolved it. */
typedef struct rtpproc_stream_format {
    unsigned pt;
    enum rtpproc_pt_source source;
    const rtpproc_codec *codec;  /* NULL: no decoder */
    const rtpproc_codec *failed; /* the codec the PT resolved to when its decoder could not
                                    be created (codec is then NULL), else NULL */
    uint32_t clock_rate;         /* 0 when unknown */
    unsigned channels;
} rtpproc_stream_format;

/* Telephone-events kept per stream; later ones are only counted. */
#define RTPPROC_MAX_EVENTS 256

/*
 * One RFC 4733 telephone-event of a stream: the packets that share its RTP
 * timestamp (the event's start, RFC 4733 2.5.1.1) and its code, end-of-event
 * retransmissions counted once. Two times place it: `offset`, from RTP
 * timestamps, is exact even when the event's first packets were lost;
 * `start` is when the first of its packets that was captured arrived.
 */
typedef struct rtpproc_event {
    unsigned code;         /* RFC 4733 3.2: 0-9, 10 '*', 11 '#', 12-15 'A'-'D'; others */
    rtpproc_time_ns start; /* capture time of its first packet seen */
    int64_t offset;        /* its RTP timestamp minus the stream's first packet's, clock units */
    uint32_t duration;     /* longest duration seen, clock units */
    uint32_t clock_rate;   /* the payload type's RTP clock, Hz */
    unsigned volume;       /* power level, -dBm0 (0-63; 0 for events without a level) */
    bool end;              /* an end packet (E bit) was seen */
    bool start_seen;       /* its first packet (M bit, RFC 4733 2.5.1.2) was seen */
} rtpproc_event;

/* The DTMF name of event `code` ("0"-"9", "*", "#", "A"-"D"), NULL above 15. */
RTPPROC_API const char *rtpproc_event_name(unsigned code);

/*
 * The final record of one stream, handed out when the stream ends (idle
 * timeout or finish). Strings are owned by the engine and live until
 * rtpproc_engine_free().
 */
typedef struct rtpproc_stream_summary {
    unsigned index;        /* order of validation, from 0 */
    uint64_t validated_at; /* number of the datagram (1-based, feed order) that
                              validated the stream */
    rtpproc_flow flow;
    uint32_t ssrc;
    rtpproc_time_ns first_ts, last_ts; /* capture times of first and last packet */
    uint8_t pts[128];                  /* pts[pt] != 0: payload type seen */
    unsigned first_pt;
    uint64_t packets;             /* every packet, duplicates included */
    uint32_t first_seq, last_seq; /* first packet's seq; highest extended seq mod 2^16 */
    int64_t expected;             /* RFC 3550 A.3 */
    int64_t lost;                 /* expected - packets (negative with duplicates) */
    uint64_t duplicates;
    uint64_t late;            /* arrived after their place was written; dropped */
    uint64_t reordered;       /* arrived after a higher sequence number, placed */
    uint64_t jitter_drops;    /* JITTER mode: outside the buffer (still written, as
                                 the player does) */
    uint64_t truncated;       /* payload cut by snaplen: counted, not decoded */
    uint64_t undecodable;     /* payloads the codec rejected */
    uint64_t discontinuities; /* timestamp jumps re-anchored at arrival time */
    uint64_t talkspurts;      /* packets with the marker bit set (talkspurt starts) */
    double max_delta_ms;
    double max_jitter_ms, mean_jitter_ms;
    uint64_t frames;           /* frames in the recording (audio + silence) */
    uint64_t silence_frames;   /* inserted for losses and gaps */
    uint64_t concealed_frames; /* --plc: concealment (or in-band FEC) instead of silence
                                  for losses */
    uint64_t file_offset;      /* --per-direction: frame of the recording where this
                                  stream's frame 0 lies (0 for the stream that opened it) */
    uint64_t overlap_frames;   /* --per-direction: audio frames not written because the
                                  shared recording already held another SSRC's there */
    uint32_t sample_rate;      /* of the recording (after --rate) */
    uint32_t codec_rate;       /* the codec's output rate (differs with --rate) */
    unsigned channels;
    rtpproc_stream_format formats[RTPPROC_MAX_FORMATS]; /* PTs resolved, first met first */
    unsigned nformats;
    const char *codec; /* codec name of the first audio PT, or NULL */
    const char *file;  /* recording path, or NULL */
    enum rtpproc_stream_note note;
    const rtpproc_event *events; /* telephone-events in the order met (engine-owned), or NULL */
    size_t nevents;
    uint64_t events_dropped;   /* distinct events beyond RTPPROC_MAX_EVENTS, not kept */
    uint64_t events_malformed; /* telephone-event payloads not made of 4-byte blocks */
} rtpproc_stream_summary;

typedef struct rtpproc_engine rtpproc_engine;

/*
 * Creates an engine; `cfg` is copied. NULL on allocation failure.
 * Free with rtpproc_engine_free() (which does not finish open streams:
 * call rtpproc_engine_finish() first). rtpproc_engine_free(NULL) is a no-op.
 */
RTPPROC_API rtpproc_engine *rtpproc_engine_new(const rtpproc_engine_config *cfg);
RTPPROC_API void rtpproc_engine_free(rtpproc_engine *e);

/*
 * Feeds one UDP datagram (capture order; time may step back a little).
 * Closes streams idle for longer than the timeout first. Returns an enum
 * rtpproc_verdict (>= 0), or a negative status when a recording could not
 * be opened or written: the message is in rtpproc_engine_error(); the engine
 * stays usable (finish still finalises every other open file).
 */
RTPPROC_API int rtpproc_engine_feed(rtpproc_engine *e, const rtpproc_datagram *d);

/*
 * Feeds d[0..n) in order, as n rtpproc_engine_feed() calls would, with
 * verdicts[i] set to what the i-th would have returned; faster with many
 * streams (the next datagrams' stream state is fetched from memory while
 * the current one is fed). Every datagram and the bytes it points to must
 * stay valid during the call. Returns RTPPROC_OK, or stops at the first
 * datagram whose verdict is negative and returns that status (verdicts of
 * the datagrams after it are not set, and they are not fed).
 */
RTPPROC_API int rtpproc_engine_feed_batch(rtpproc_engine *e, const rtpproc_datagram *d, size_t n,
                                          int *verdicts);

/* Closes streams idle at capture time `now` (live housekeeping). Status as feed. */
RTPPROC_API int rtpproc_engine_tick(rtpproc_engine *e, rtpproc_time_ns now);

/*
 * Refreshes every open recording's header (crash safety in live mode).
 * Returns 0 or the first negative status.
 */
RTPPROC_API int rtpproc_engine_flush(rtpproc_engine *e);

/* Ends every open stream and finalises its recording. Status as feed. */
RTPPROC_API int rtpproc_engine_finish(rtpproc_engine *e);

/*
 * Learns that the media endpoint addr:port uses payload type `pt` (0-127)
 * for the codec named `name` (case-insensitive, as in SDP) at clock `rate`
 * with `channels` and `fmtp` flags (0 = the codec's defaults; channels 0
 * also keeps the channel count of an existing binding of the same codec and
 * rate, so a name without a channel count adds nothing new), as an SDP
 * m= line announcing addr:port says (RFC 3264 5.1). A stream resolves a PT
 * the first time it meets it: the user's --pt-map first, then a binding
 * learned for its destination, then for its source (symmetric RTP), then
 * the RFC 3551 static table. A later announcement for the same endpoint
 * replaces the binding for streams that meet the PT afterwards; a stream
 * keeps a decoder it already made. The engine also learns from SIP/SDP in
 * the datagrams it is fed (cfg.learn_sdp). Returns RTPPROC_OK,
 * RTPPROC_ENOCODEC for a name without a codec here (nothing is learned),
 * RTPPROC_EINVAL for NULL arguments, pt > 127, rate > 384000 or
 * channels > 8 (the --pt-map limits), RTPPROC_ENOMEM.
 */
RTPPROC_API int rtpproc_engine_learn_pt(rtpproc_engine *e, const rtpproc_addr *addr, uint16_t port,
                                        unsigned pt, const char *name, uint32_t rate,
                                        unsigned channels, unsigned fmtp);

/*
 * Learns the payload-type bindings of the SDP body of one SIP message
 * (`msg`, a whole UDP payload of `len` bytes, not one cut by a snaplen;
 * RFC 3261 over UDP) as
 * rtpproc_engine_learn_pt() does for each a=rtpmap of each m= line with
 * a port. The engine does this itself for the datagrams it is fed when
 * cfg.learn_sdp is set; the tshark plug-in calls it for the SIP packets
 * tshark dissects. Static PTs keep their RFC 3551 meaning. Returns the
 * number of bindings read (0 if `msg` is not SIP or has no SDP).
 */
RTPPROC_API unsigned rtpproc_engine_learn_sdp(rtpproc_engine *e, const uint8_t *msg, size_t len);

/*
 * Sets the capture's start (the time of its first frame, of any kind) the
 * first time it is called; later calls are ignored. JITTER timing counts
 * arrival offsets from it in seconds as the Wireshark player does
 * (nstime_to_sec of times relative to the first frame), so that its
 * floating-point rounding is the player's. Without a call, the first
 * datagram fed is the start.
 */
RTPPROC_API void rtpproc_engine_set_epoch(rtpproc_engine *e, rtpproc_time_ns first_frame);

/* The last error message ("" if none); lives until the next call. */
RTPPROC_API const char *rtpproc_engine_error(const rtpproc_engine *e);

RTPPROC_API const rtpproc_engine_counters *rtpproc_engine_counters_get(const rtpproc_engine *e);

/*
 * Ended streams so far, in the order they were validated (index order).
 * The array lives until the next feed/tick/finish or free.
 */
RTPPROC_API const rtpproc_stream_summary *rtpproc_engine_summaries(rtpproc_engine *e, size_t *n);

/*
 * Forgets every summary handed out so far, with its strings and event list
 * (pointers from rtpproc_engine_summaries() become invalid). A long-running
 * front-end that reported each stream as it ended calls this so that memory
 * stays bounded by the streams still open. Counters are kept.
 */
RTPPROC_API void rtpproc_engine_release_summaries(rtpproc_engine *e);

/* Streams currently open (live statistics). */
RTPPROC_API size_t rtpproc_engine_open_streams(const rtpproc_engine *e);

#ifdef __cplusplus
}
#endif
#endif
