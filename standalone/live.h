/*
 * rtpproc tool - live capture (-i): the capture loop, its housekeeping, the
 * report of each stream as it ends, and the privilege drop (-Z).
 *
 * The loop waits in poll() on libpcap's selectable descriptor for at most
 * RP_LIVE_WAKE_MS, so streams are closed on their idle timeout, recordings
 * refreshed and signals served even when no packet arrives. Nothing here
 * prints except rp_live_run()'s SIGUSR1 line and the report writers.
 */
#ifndef RP_LIVE_H
#define RP_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

#include "rtpproc/decode.h"
#include "rtpproc/engine.h"
#include "rtpproc/report.h"

#include "pcap_source.h"

/* Longest wait without packets, and libpcap's packet-buffer timeout. */
#define RP_LIVE_WAKE_MS 100

/*
 * Streams reported as they end: the table lines (the header before the
 * first) and the JSON document written progressively, so that a capture of
 * any length keeps in memory only its open streams.
 */
typedef struct rp_live_report {
    FILE *table;         /* NULL: no table (-q) */
    FILE *json;          /* NULL: no JSON */
    bool header_written; /* the table's header is out */
    uint64_t json_streams;
    int error; /* errno of the first failed write, 0 if none */
} rp_live_report;

/* Sets up `r` and writes the start of the JSON document. */
void rp_live_report_init(rp_live_report *r, FILE *table, FILE *json);

/*
 * Writes every stream the engine ended since the last call, then lets the
 * engine forget them. Returns 0, or -1 when a write failed (r->error).
 */
int rp_live_report_ended(rp_live_report *r, rtpproc_engine *e);

/*
 * After rtpproc_engine_finish(): the last streams, the table's footer and
 * the end of the JSON document, with the capture counters `cap`.
 * Returns 0 or -1 as above.
 */
int rp_live_report_finish(rp_live_report *r, rtpproc_engine *e, const rtpproc_decoder *d,
                          const rtpproc_capture_counters *cap);

typedef struct rp_live_opts {
    uint64_t count;                 /* -c: stop after this many frames (0: no limit) */
    rtpproc_time_ns duration;       /* --duration: stop after this long (0: no limit) */
    rtpproc_time_ns flush_interval; /* recordings and -w flushed at least this often */
} rp_live_opts;

/* Why rp_live_run() returned. */
enum rp_live_end {
    RP_LIVE_STOPPED = 0,       /* SIGINT/SIGTERM, -c or --duration */
    RP_LIVE_CAPTURE_ERROR = 1, /* libpcap failed (e.g. the interface went away) */
    RP_LIVE_OUTPUT_ERROR = 2,  /* a recording, -w or the report could not be written */
};

/*
 * Captures from `in` (opened by rp_input_open_live) until stopped: each
 * frame goes through the decoder and the engine (RTP packets also to
 * `dumper` when not NULL); every RP_LIVE_WAKE_MS the engine is ticked with
 * the current time and ended streams are reported; every flush interval the
 * recordings and `dumper` are flushed. SIGINT and SIGTERM stop it; SIGUSR1
 * prints one line of statistics on stderr. Open streams are left to the
 * caller (rtpproc_engine_finish). Returns an enum rp_live_end; on an error
 * `err` holds the message.
 */
int rp_live_run(rp_input *in, const rp_live_opts *o, rtpproc_engine *e, rtpproc_decoder *d,
                pcap_dumper_t *dumper, rp_live_report *rep, char *err, size_t errlen);

/* The capture counters of `in` (zeros when pcap_stats fails). */
void rp_live_counters(rp_input *in, rtpproc_capture_counters *cap);

/*
 * -Z: looks `user` up (uid, gid). Returns 0, or -1 with "no such user" or
 * the system's reason in `err`.
 */
int rp_user_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);

/*
 * -Z: becomes `user` for good (supplementary groups, gid, then uid, as
 * tcpdump does). Returns 0, or -1 with the reason in `err`.
 */
int rp_drop_privileges(const char *user, char *err, size_t errlen);

#endif
