/*
 * rtpproc - libsndfile recorder: one sound file per stream.
 *
 * Writes are buffered (RTPPROC_RECORDER_BUFFER_FRAMES per sink) so a
 * 20 ms packet costs no system call; the header is correct after every
 * flush and after close. A factory can hand the buffers to a writer
 * thread (rtpproc_recorder_factory_start_writer). A sink is used by one
 * thread at a time.
 */
#ifndef RTPPROC_RECORDER_H
#define RTPPROC_RECORDER_H

#include "rtpproc/sink.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RTPPROC_RECORDER_BUFFER_FRAMES 4096

/*
 * The file factory: a directory, the overwrite rule and the names already
 * handed out in this run. Default names are
 *   <src>_<sport>-<dst>_<dport>-0x<SSRC>.wav   (IPv6 ':' written as '-')
 * and, if that name was already used in this run (the same key after an
 * idle timeout), "-2", "-3", ... before ".wav". An existing file is an
 * error (RTPPROC_EEXIST) unless `force` is set.
 */
typedef struct rtpproc_recorder_factory rtpproc_recorder_factory;

/*
 * Creates a factory writing into `dir` (copied; "." if NULL). Returns NULL
 * on allocation failure. Free with rtpproc_recorder_factory_free() after
 * every sink it opened was closed. It also grows the process's descriptor
 * table once to room for 16384 descriptors (or RLIMIT_NOFILE, if lower),
 * opening and closing one descriptor there: create it before starting
 * threads, so that opening many recordings later does not make the kernel
 * grow the table step by step in a multi-threaded process.
 */
RTPPROC_API rtpproc_recorder_factory *rtpproc_recorder_factory_new(const char *dir, bool force);
RTPPROC_API void rtpproc_recorder_factory_free(rtpproc_recorder_factory *f);

/*
 * Gives the factory a writer thread: recordings it opens from then on are
 * created by the open call (an existing file is still reported there) but
 * set up by libsndfile on that thread, and hand each full buffer to it and
 * go on with a spare one, so the caller's thread does no file writes
 * between open and flush/close. Files come out byte-identical; at most
 * 1 MiB of buffers is queued. A write error, or a failure to set up the
 * created file (which is then removed), is reported by the sink's next
 * write, flush or close (RTPPROC_EIO) instead of the call that failed. Returns RTPPROC_OK, or
 * RTPPROC_ENOMEM if the thread cannot be started (the factory then writes
 * in the caller's thread as before). rtpproc_recorder_factory_free() stops
 * the thread.
 */
RTPPROC_API int rtpproc_recorder_factory_start_writer(rtpproc_recorder_factory *f);

/* An rtpproc_sink_open_fn; `userdata` is the factory. */
RTPPROC_API rtpproc_sink *rtpproc_recorder_open(void *userdata, const rtpproc_sink_info *info,
                                                const rtpproc_sink_format *fmt, int *status,
                                                char *errbuf, size_t errlen);

/*
 * Opens one WAV file at `path` directly (no naming rules). `force` allows
 * replacing an existing file. NULL on failure with errbuf/status set.
 */
RTPPROC_API rtpproc_sink *rtpproc_recorder_open_path(const char *path, bool force,
                                                     const rtpproc_sink_format *fmt, int *status,
                                                     char *errbuf, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
