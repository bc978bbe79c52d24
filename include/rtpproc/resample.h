/*
 * rtpproc - resampling sink: every recording at one output rate (--rate).
 *
 * A wrapper around another sink (normally a recorder): the engine writes at
 * the codec's rate, the wrapped sink receives the same timeline at the
 * output rate, converted with libsamplerate's SRC_SINC_MEDIUM_QUALITY
 * (band-limited sinc, 97 dB SNR, 90 % of the lower Nyquist frequency kept:
 * beyond what 16-bit output or any voice codec resolves, at a third of the
 * cost of SRC_SINC_BEST_QUALITY).
 *
 * Lengths are exact over the whole stream, silence included: after close,
 * the wrapped sink holds round(N * out / in) frames for N frames written
 * (rounding half up), however the writes were split, so recordings never
 * drift against the capture clock. Audio writes split differently give the
 * same samples. A silence of RTPPROC_RESAMPLE_LONG_GAP_MS or more is
 * written as zeros without passing through the converter (the converter
 * restarts after it), so an hour on hold costs no filtering; the audio
 * after it lands within half an output frame of its exact place.
 *
 * Buffers are allocated when the wrapper is made, none per write.
 */
#ifndef RTPPROC_RESAMPLE_H
#define RTPPROC_RESAMPLE_H

#include "rtpproc/engine.h"
#include "rtpproc/sink.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Output rates accepted by --rate / rate= (Hz). */
#define RTPPROC_RESAMPLE_MIN_RATE 8000
#define RTPPROC_RESAMPLE_MAX_RATE 192000

/* Silences from this long (ms of input) skip the converter (see above). */
#define RTPPROC_RESAMPLE_LONG_GAP_MS 250

/*
 * Wraps `inner`, a sink opened at the output rate with the channel count
 * that the wrapper will be written with, so that frames written at
 * `in_rate` reach it at inner->fmt.sample_rate. The wrapper's fmt is
 * inner's with in_rate; its path is a copy of inner's; write_native is
 * NULL (resampled G.711 is PCM: a G.711 inner sink encodes it).
 * Takes ownership of `inner` in every case: it is closed by the wrapper's
 * close(), or here if the wrapper cannot be made. Returns NULL with
 * *status (RTPPROC_EINVAL: a rate ratio libsamplerate cannot convert,
 * beyond 1:256; RTPPROC_ENOMEM) and a message in errbuf on failure.
 */
RTPPROC_API rtpproc_sink *rtpproc_resample_new(rtpproc_sink *inner, uint32_t in_rate, int *status,
                                               char *errbuf, size_t errlen);

/*
 * A sink factory that wraps another: streams whose codec rate is `rate`
 * get the wrapped factory's sink itself (byte for byte what they would get
 * without --rate); the others get that factory's sink opened at `rate`,
 * wrapped by rtpproc_resample_new(). Plain data: fill it with
 * rtpproc_resample_install(), nothing to free.
 */
typedef struct rtpproc_resample_factory {
    uint32_t rate;             /* output rate, Hz */
    rtpproc_sink_open_fn open; /* the wrapped factory */
    void *userdata;            /* its userdata */
} rtpproc_resample_factory;

/* An rtpproc_sink_open_fn; `userdata` is an rtpproc_resample_factory. */
RTPPROC_API rtpproc_sink *rtpproc_resample_open(void *userdata, const rtpproc_sink_info *info,
                                                const rtpproc_sink_format *fmt, int *status,
                                                char *errbuf, size_t errlen);

/*
 * With `rate` != 0 and a factory in cfg->sink_open, moves that factory into
 * `f` and puts rtpproc_resample_open with `f` in its place; otherwise
 * leaves `cfg` alone. `f` must live as long as the engine made from cfg.
 */
RTPPROC_API void rtpproc_resample_install(rtpproc_resample_factory *f, uint32_t rate,
                                          rtpproc_engine_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
