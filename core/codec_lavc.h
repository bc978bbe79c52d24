/*
 * rtpproc - a libavcodec audio decoder behind the codec interface
 * (internal to the core; used by codec_ilbc.c and codec_g723.c).
 *
 * One rp_lavc is one opened decoder with its packet and frame, all
 * allocated by rp_lavc_open(). Decoding copies each codec frame into the
 * decoder's own padded input buffer (libavcodec's bit readers may read up
 * to AV_INPUT_BUFFER_PADDING_SIZE bytes past the end), so the caller's
 * payload is never read out of bounds. rtpproc's code allocates nothing per
 * packet; libavcodec itself still takes small buffer references per packet
 * (its send/receive API has no way round that).
 *
 * libavcodec and libavutil are not linked: the first rp_lavc_open() loads
 * them with dlopen() (see codec_lavc.c for why). An rp_lavc_lib is one such
 * loaded pair with the functions this module calls.
 */
#ifndef RP_CODEC_LAVC_H
#define RP_CODEC_LAVC_H

#include <stddef.h>
#include <stdint.h>

typedef struct rp_lavc rp_lavc;
typedef struct rp_lavc_lib rp_lavc_lib;

/*
 * The sonames rp_lavc_open() loads, from the major versions of the headers
 * the core was compiled with (e.g. "libavcodec.so.59", "libavutil.so.57").
 */
extern const char rp_lavc_avcodec_soname[];
extern const char rp_lavc_avutil_soname[];

/*
 * Loads libavutil `avutil_soname` and libavcodec `avcodec_soname` (dlopen,
 * RTLD_NOW | RTLD_LOCAL) and resolves the functions this module calls.
 * Returns NULL, with nothing left loaded, when either library cannot be
 * loaded, lacks one of the functions, or is older than the headers the core
 * was compiled with (another major version, or an older minor). Silences
 * libavutil's logging for the whole process (the core never prints).
 * rp_lavc_open() uses it once, with rp_lavc_avcodec_soname and
 * rp_lavc_avutil_soname; thread-safe like dlopen() itself.
 */
rp_lavc_lib *rp_lavc_lib_load(const char *avcodec_soname, const char *avutil_soname);

/*
 * Unloads a pair from rp_lavc_lib_load() (dlclose). Every decoder opened
 * from it must be closed first. NULL is allowed.
 */
void rp_lavc_lib_free(rp_lavc_lib *lib);

/*
 * Opens libavcodec's decoder `name` (e.g. "ilbc", "g723_1") for mono or
 * multi-channel audio at `sample_rate` Hz, with the functions of `lib`.
 * `block_align` is passed to the decoder (iLBC reads its frame mode from
 * it), 0 for none. `max_packet` is the largest packet rp_lavc_decode() will
 * be given, in bytes. Returns NULL when `lib` is NULL, when the decoder is
 * missing or cannot be opened, or on allocation failure. `lib` must outlive
 * the decoder.
 */
rp_lavc *rp_lavc_open_lib(const rp_lavc_lib *lib, const char *name, int sample_rate,
                          unsigned channels, int block_align, size_t max_packet);

/*
 * rp_lavc_open_lib() with the process's libavcodec, loaded by the first
 * call (exactly once, also when decoders are opened from several threads
 * at a time) and kept until the process ends. When that load failed
 * (library missing at run time, see rp_lavc_lib_load()), this and every
 * later call return NULL.
 */
rp_lavc *rp_lavc_open(const char *name, int sample_rate, unsigned channels, int block_align,
                      size_t max_packet);

/* Frees everything rp_lavc_open() allocated. NULL is allowed. */
void rp_lavc_close(rp_lavc *d);

/*
 * Decodes one packet of `len` bytes (1..max_packet) into `out` as
 * interleaved int16 (out_frames frames of the opened channel count). Every
 * frame the decoder returns for the packet is converted (S16, S16P, FLT or
 * FLTP); output beyond out_frames is dropped. Returns the frames written
 * (0 when the decoder produced none), or RTPPROC_EINVAL when the decoder
 * rejected the packet or its output has another channel count or rate.
 */
long rp_lavc_decode(rp_lavc *d, const uint8_t *in, size_t len, int16_t *out, size_t out_frames);

#endif
