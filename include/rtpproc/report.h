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

#ifdef __cplusplus
}
#endif
#endif
