/*
 * rtpproc - options shared by both front-ends.
 *
 * The standalone tool maps its long options (--timeout 5) and the tshark
 * plug-in its "-z rtpproc,timeout=5" items onto the same setter, so names,
 * meanings and error messages are written once.
 */
#ifndef RTPPROC_OPTIONS_H
#define RTPPROC_OPTIONS_H

#include "rtpproc/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rtpproc_options {
    char *out_dir;     /* -o / dir=: where recordings go ("." by default) */
    char *json_path;   /* --json / json=: JSON report file, or NULL */
    bool force;        /* --force / force=1: replace existing files */
    bool no_audio;     /* --no-audio: statistics only */
    bool sync_writes;  /* --sync-writes: no writer thread (rtpproc_recorder_factory_start_writer) */
    uint32_t out_rate; /* --rate / rate=: every recording at this rate, Hz (0: codec's) */
    rtpproc_engine_config engine;
} rtpproc_options;

/* Defaults; strings NULL. Release with rtpproc_options_clear(). */
RTPPROC_API void rtpproc_options_init(rtpproc_options *o);
RTPPROC_API void rtpproc_options_clear(rtpproc_options *o);

/*
 * Sets option `name` (a long option name without dashes, e.g. "timeout",
 * "dir", "ssrc", "encoding", "json", "pt-map", "force", "no-audio", "rate")
 * from `value` (NULL for flags). Returns RTPPROC_OK, or RTPPROC_EINVAL with a one-line
 * message in errbuf ("unknown option 'x'", "invalid timeout '-1': ...").
 */
RTPPROC_API int rtpproc_options_set(rtpproc_options *o, const char *name, const char *value,
                                    char *errbuf, size_t errlen);

/*
 * Parses "name=value,name=value" (the plug-in's -z tail). Values may not
 * contain ','. Same errors as rtpproc_options_set().
 */
RTPPROC_API int rtpproc_options_parse_list(rtpproc_options *o, const char *list, char *errbuf,
                                           size_t errlen);

/* Parses a duration: "5", "5s", "250ms", "1.5" (seconds). */
RTPPROC_API int rtpproc_parse_duration(const char *text, rtpproc_time_ns *out);

#ifdef __cplusplus
}
#endif
#endif
