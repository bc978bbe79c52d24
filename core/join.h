/*
 * rtpproc - internal: --per-direction recordings. The streams of one
 * direction (one 5-tuple; a new SSRC after a re-INVITE, a transfer, a
 * media server switching sources) share one recording. Each stream writes
 * through its own handle, a sink whose frame 0 lies at the stream's first
 * packet's arrival, counted from the arrival of the first packet of the
 * stream that opened the file. Handles append only: the gap before a
 * stream's audio becomes silence; audio for a position the file already
 * holds (two SSRCs talking at once) is dropped and counted (overlap).
 * Not installed.
 */
#ifndef RP_JOIN_H
#define RP_JOIN_H

#include "rtpproc/sink.h"

typedef struct rp_joins rp_joins;

/* A table of open joined recordings by 5-tuple; NULL on allocation failure. */
rp_joins *rp_joins_new(void);
/* Frees the table; every handle must have been closed. NULL is a no-op. */
void rp_joins_free(rp_joins *j);

/*
 * A handle on the recording of `info->flow`. The first handle opens it with
 * `open`/`userdata` (failure: NULL, *status and errbuf as
 * rtpproc_sink_open_fn); later handles of the same 5-tuple whose format
 * equals the recording's share it, placed at info->start. A stream of
 * another format gets a recording of its own, not shared. The handle is
 * closed with its ops->close (the recording is finalised when its last
 * handle closes). *offset receives the handle's frame 0 in the recording.
 */
rtpproc_sink *rp_join_open(rp_joins *j, rtpproc_sink_open_fn open, void *userdata,
                           const rtpproc_sink_info *info, const rtpproc_sink_format *fmt,
                           int *status, char *errbuf, size_t errlen, uint64_t *offset);

/* Frames a handle could not write because the recording already held audio
 * there; 0 for a sink that is not a handle. */
uint64_t rp_join_overlap(const rtpproc_sink *s);

#endif
