/*
 * rtpproc - the end-of-run report: a tshark-like text table and JSON.
 *
 * Formatting only: the functions append to a GString the caller owns and
 * prints; the core never writes to stdout itself.
 */
#ifndef RTPPROC_REPORT_H
#define RTPPROC_REPORT_H

#include <glib.h>

#include "rtpproc/engine.h"
#include "rtpproc/decode.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Payload names of a summary, ascending PT, joined with ", " (as
 * `tshark -z rtp,streams` does): the codec name for a PT the stream resolved
 * through --pt-map or SDP, Wireshark's short name for static PTs ("g711A"),
 * "RTPType-NN" otherwise.
 */
RTPPROC_API void rtpproc_report_payload_names(const rtpproc_stream_summary *s, GString *out);

/*
 * The text table: a header, one line per stream with the columns
 *   Src addr, Port, Dst addr, Port, SSRC, Payload, Pkts, Lost, Dups,
 *   Max Delta(ms), Max Jitter(ms), Mean Jitter(ms), File
 * and a footer with the packet counters. `decode` may be NULL (plug-in).
 */
RTPPROC_API void rtpproc_report_text(const rtpproc_stream_summary *s, size_t n,
                                     const rtpproc_engine_counters *ec,
                                     const rtpproc_decode_counters *dc, GString *out);

/* The same as one JSON document: {"streams":[...],"counters":{...}}. */
RTPPROC_API void rtpproc_report_json(const rtpproc_stream_summary *s, size_t n,
                                     const rtpproc_engine_counters *ec,
                                     const rtpproc_decode_counters *dc, GString *out);

/* Live capture's kernel counters (libpcap's pcap_stats). */
typedef struct rtpproc_capture_counters {
    uint64_t received;   /* packets that passed the kernel filter (ps_recv) */
    uint64_t dropped;    /* dropped because the capture buffer was full (ps_drop) */
    uint64_t if_dropped; /* dropped by the interface or its driver (ps_ifdrop) */
} rtpproc_capture_counters;

/*
 * The two reports in pieces, for a front-end that reports each stream as it
 * ends (a long live capture) instead of keeping every summary:
 *   text: header, then one stream after another, then the footer;
 *   JSON: open, the streams (`first` for the first one written: no comma),
 *   then close.
 * rtpproc_report_text() and rtpproc_report_json() are exactly these calls
 * with `cap` NULL. A non-NULL `cap` adds a "Capture:" footer line and a
 * "capture" object next to "counters".
 */
RTPPROC_API void rtpproc_report_text_header(GString *out);
RTPPROC_API void rtpproc_report_text_stream(const rtpproc_stream_summary *m, GString *out);
RTPPROC_API void rtpproc_report_text_footer(const rtpproc_engine_counters *ec,
                                            const rtpproc_decode_counters *dc,
                                            const rtpproc_capture_counters *cap, GString *out);
RTPPROC_API void rtpproc_report_json_open(GString *out);
RTPPROC_API void rtpproc_report_json_stream(const rtpproc_stream_summary *m, bool first,
                                            GString *out);
RTPPROC_API void rtpproc_report_json_close(const rtpproc_engine_counters *ec,
                                           const rtpproc_decode_counters *dc,
                                           const rtpproc_capture_counters *cap, GString *out);

#ifdef __cplusplus
}
#endif
#endif
