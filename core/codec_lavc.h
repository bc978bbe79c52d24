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
 */
#ifndef RP_CODEC_LAVC_H
#define RP_CODEC_LAVC_H

#include <stddef.h>
#include <stdint.h>

typedef struct rp_lavc rp_lavc;

/*
 * Opens libavcodec's decoder `name` (e.g. "ilbc", "g723_1") for mono or
 * multi-channel audio at `sample_rate` Hz. `block_align` is passed to the
 * decoder (iLBC reads its frame mode from it), 0 for none. `max_packet` is
 * the largest packet rp_lavc_decode() will be given, in bytes.
 * Returns NULL when the decoder is missing or cannot be opened, or on
 * allocation failure. Silences libavutil's logging for the whole process
 * (the core never prints).
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
