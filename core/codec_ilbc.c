/*
 * rtpproc - iLBC through libavcodec's native "ilbc" decoder.
 *
 * specification: RFC 3951 (codec), RFC 3952 (RTP payload). A payload is
 * one or more frames of one mode: 38-octet frames of 20 ms (160 samples)
 * or 50-octet frames of 30 ms (240 samples), at 8000 Hz. The mode is
 * negotiated in SDP (a=fmtp mode=20/30), which the codec spec does not
 * carry, so it is read from the payload length: a multiple of 38 or of 50
 * octets. A length that is a multiple of both (950 octets: 25 frames of
 * 20 ms or 19 of 30 ms) keeps the mode the stream already uses, else takes
 * 30 ms, RFC 3952's default when mode is absent.
 *
 * libavcodec fixes the mode when the decoder opens (from block_align), so
 * both modes are opened at create() and a stream that switches mode
 * continues with the other decoder.
 *
 * Known difference from RFC 3951's reference decoder: libavcodec 5.1 starts
 * with an all-zero LSF history where the reference starts from its mean LSF
 * table, so a stream's first frame can come out loud (the first 30 ms of
 * sip-rtp-ilbc.pcap: 20 samples at full scale, RMS 10422, where no later
 * frame exceeds 2193).
 */
#include "rtpproc/codec.h"

#include <stdlib.h>
#include <string.h>

#include "codec_lavc.h"
#include "cursor.h"

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_ilbc;

#define ILBC_RATE 8000 /* Hz */

enum ilbc_mode { ILBC_MODE_NONE = 0, ILBC_MODE_20, ILBC_MODE_30 };

struct ilbc_mode_info {
    size_t frame_len;     /* octets */
    size_t frame_samples; /* samples per frame */
};

static const struct ilbc_mode_info ilbc_modes[] = {
    [ILBC_MODE_20] = {38, 160},
    [ILBC_MODE_30] = {50, 240},
};

typedef struct ilbc_state {
    rp_lavc *dec[3];     /* by enum ilbc_mode; [0] unused */
    enum ilbc_mode mode; /* of the last decoded payload */
    /*
     * What conceal() feeds the decoder: a frame of zeros whose last bit,
     * RFC 3951's "empty frame indicator" (section 3.8), is set; the decoder
     * then runs its packet loss concealment (RFC 3951 section 4.5).
     */
    uint8_t lost_frame[50];
} ilbc_state;

static uint32_t ilbc_sample_rate(uint32_t clock_rate)
{
    (void)clock_rate;
    return ILBC_RATE;
}

static void ilbc_destroy(void *state)
{
    ilbc_state *s = state;
    if (s == NULL)
        return;
    rp_lavc_close(s->dec[ILBC_MODE_20]);
    rp_lavc_close(s->dec[ILBC_MODE_30]);
    free(s);
}

static void *ilbc_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    ilbc_state *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    for (enum ilbc_mode m = ILBC_MODE_20; m <= ILBC_MODE_30; m++) {
        size_t len = ilbc_modes[m].frame_len;
        s->dec[m] = rp_lavc_open("ilbc", ILBC_RATE, 1, (int)len, len);
        if (s->dec[m] == NULL) {
            ilbc_destroy(s);
            return NULL;
        }
    }
    return s;
}

static size_t ilbc_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    (void)spec;
    size_t f20 = len / 38 * 160;
    size_t f30 = len / 50 * 240;
    return f20 > f30 ? f20 : f30;
}

static enum ilbc_mode ilbc_mode_of(const ilbc_state *s, size_t len)
{
    bool m20 = len > 0 && len % 38 == 0;
    bool m30 = len > 0 && len % 50 == 0;

    if (m20 && m30)
        return s->mode != ILBC_MODE_NONE ? s->mode : ILBC_MODE_30;
    if (m20)
        return ILBC_MODE_20;
    if (m30)
        return ILBC_MODE_30;
    return ILBC_MODE_NONE;
}

static long ilbc_decode(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                        int16_t *out, size_t out_frames)
{
    ilbc_state *s = state;

    if (spec->channels > 1)
        return RTPPROC_EUNSUPP; /* RFC 3952 defines iLBC as mono */
    enum ilbc_mode m = ilbc_mode_of(s, len);
    if (m == ILBC_MODE_NONE)
        return RTPPROC_EINVAL;
    s->mode = m;

    const struct ilbc_mode_info *mi = &ilbc_modes[m];
    rp_cur c = rp_cur_make(in, len);
    rp_cur frame;
    size_t done = 0;
    while (done + mi->frame_samples <= out_frames && rp_sub(&c, mi->frame_len, &frame)) {
        long n = rp_lavc_decode(s->dec[m], frame.p, frame.left, out + done, out_frames - done);
        if (n < 0)
            return done > 0 ? (long)done : n;
        done += (size_t)n;
    }
    return (long)done;
}

static long ilbc_conceal(void *state, const rtpproc_codec_spec *spec, int16_t *out, size_t frames)
{
    ilbc_state *s = state;

    if (spec->channels > 1)
        return RTPPROC_EUNSUPP;
    if (s->mode == ILBC_MODE_NONE)
        return 0; /* nothing decoded yet: nothing to conceal from */

    const struct ilbc_mode_info *mi = &ilbc_modes[s->mode];
    memset(s->lost_frame, 0, sizeof(s->lost_frame));
    s->lost_frame[mi->frame_len - 1] = 0x01;
    size_t done = 0;
    while (done + mi->frame_samples <= frames) {
        long n = rp_lavc_decode(s->dec[s->mode], s->lost_frame, mi->frame_len, out + done,
                                frames - done);
        if (n <= 0)
            return done > 0 ? (long)done : n;
        done += (size_t)n;
    }
    return (long)done;
}

const rtpproc_codec rp_codec_ilbc = {
    .name = "iLBC",
    .ws_name = NULL,
    .static_pt = -1,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = ILBC_RATE,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = ilbc_sample_rate,
    .create = ilbc_create,
    .destroy = ilbc_destroy,
    .max_frames = ilbc_max_frames,
    .decode = ilbc_decode,
    .conceal = ilbc_conceal,
    .runtime_library = rp_lavc_avcodec_soname,
};
