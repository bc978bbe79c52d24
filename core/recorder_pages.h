/*
 * rtpproc - how a recording's writes fall on the file's pages (recorder.c).
 *
 * The recorder writes whole pages of the file once it knows where its
 * frames start (see write_buffer); this tells the tests whether it does.
 */
#ifndef RP_RECORDER_PAGES_H
#define RP_RECORDER_PAGES_H

#include "rtpproc/sink.h"

/*
 * Writes of frames that ended inside a page of the file, among those made
 * so far by a sink from rtpproc_recorder_open() or _open_path(): after
 * waiting for its queued writes. Only the sink's own thread may call it.
 */
unsigned rp_recorder_ragged_writes(rtpproc_sink *s);

#endif
