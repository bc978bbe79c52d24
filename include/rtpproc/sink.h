/*
 * rtpproc - abstract audio sink: where a stream's timeline goes.
 *
 * A sink is a small vtable (like libsndfile's SF_VIRTUAL_IO): the recorder
 * (recorder.h) implements it on libsndfile; tests use the memory sink below.
 * The engine owns every sink it opened and closes each exactly once.
 */
#ifndef RTPPROC_SINK_H
#define RTPPROC_SINK_H

#include "rtpproc/types.h"
#include "rtpproc/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the engine asks a sink to store. */
typedef struct rtpproc_sink_format {
    uint32_t sample_rate;
    unsigned channels;
    enum rtpproc_native encoding; /* NONE: 16-bit PCM; ALAW/ULAW: G.711 samples */
} rtpproc_sink_format;

/* Facts about the stream, for naming the file. Valid during open only. */
typedef struct rtpproc_sink_info {
    const rtpproc_flow *flow;
    uint32_t ssrc;
    unsigned pt;            /* first audio payload type */
    const char *codec_name; /* e.g. "PCMA" */
    rtpproc_time_ns start;  /* capture time of the stream's first packet */
} rtpproc_sink_info;

typedef struct rtpproc_sink rtpproc_sink;

typedef struct rtpproc_sink_ops {
    /* Appends interleaved 16-bit frames. */
    int (*write_pcm)(rtpproc_sink *s, const int16_t *frames, size_t nframes);
    /*
     * Appends G.711 bytes of `law` (RTPPROC_NATIVE_ALAW or _ULAW) as they
     * came, one byte per sample. A sink opened with that native encoding
     * stores them untouched; a 16-bit PCM sink stores their expansion (the
     * values the PCMA/PCMU decoders give), maybe later than this call;
     * any other sink returns RTPPROC_EINVAL. NULL if unsupported.
     */
    int (*write_native)(rtpproc_sink *s, enum rtpproc_native law, const uint8_t *bytes,
                        size_t nframes);
    /* Appends `nframes` of digital silence in the sink's encoding. */
    int (*write_silence)(rtpproc_sink *s, uint64_t nframes);
    /* Writes buffered frames and refreshes the file header (crash safety). */
    int (*flush)(rtpproc_sink *s);
    /* Flushes, finalises the header, frees the sink. Always frees. */
    int (*close)(rtpproc_sink *s);
    /*
     * Optional (NULL): starts closing without waiting, so that many sinks
     * can finish their writes and finalise their files together. Nothing
     * is written to the sink afterwards; close() must still be called and
     * returns the result. Returns the status known so far.
     */
    int (*close_begin)(rtpproc_sink *s);
    /*
     * A hint that a write of about the size of the last one comes soon:
     * the sink may fetch the memory it will write into. Optional (NULL).
     */
    void (*prefetch)(rtpproc_sink *s);
} rtpproc_sink_ops;

/* Base of every sink; implementations embed it first. */
struct rtpproc_sink {
    const rtpproc_sink_ops *ops;
    rtpproc_sink_format fmt;
    uint64_t frames; /* frames appended so far (audio + silence) */
    char *path;      /* file written, or NULL; owned by the sink */
};

/*
 * Opens a sink for a new stream. On failure returns NULL and writes a
 * one-line message (with the file name and reason) into errbuf; the engine
 * then stops with RTPPROC_EIO or RTPPROC_EEXIST in *status.
 */
typedef rtpproc_sink *(*rtpproc_sink_open_fn)(void *userdata, const rtpproc_sink_info *info,
                                              const rtpproc_sink_format *fmt, int *status,
                                              char *errbuf, size_t errlen);

/*
 * Memory sink for tests: keeps every frame in a growing buffer of int16
 * (PCM) or uint8 (native). Read with rtpproc_memsink_data() before close.
 */
RTPPROC_API rtpproc_sink *rtpproc_memsink_new(const rtpproc_sink_format *fmt);
/* Samples so far (frames * channels); valid until the next write or close. */
RTPPROC_API const int16_t *rtpproc_memsink_pcm(const rtpproc_sink *s, size_t *nsamples);
RTPPROC_API const uint8_t *rtpproc_memsink_native(const rtpproc_sink *s, size_t *nsamples);

#ifdef __cplusplus
}
#endif
#endif
