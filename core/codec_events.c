/*
 * rtpproc - payload types that carry no audio to decode: RFC 4733
 * telephone-event and RFC 3389 comfort noise.
 *
 * They have descriptors so that the engine can tell them apart from
 * undecodable audio: their packets take part in timing and statistics,
 * and the engine handles their spans itself (CN fills its span, events are
 * reported). decode() therefore produces no frames.
 */
#include "rtpproc/codec.h"

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_telephone_event;
extern const rtpproc_codec rp_codec_cn;

static int no_state; /* create() returns this address: nothing to allocate */

static uint32_t same_rate(uint32_t clock_rate)
{
    return clock_rate;
}

static void *none_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    return &no_state;
}

static void none_destroy(void *state)
{
    (void)state;
}

static size_t none_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    (void)spec;
    (void)len;
    return 0;
}

static long none_decode(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                        int16_t *out, size_t out_frames)
{
    (void)state;
    (void)spec;
    (void)in;
    (void)len;
    (void)out;
    (void)out_frames;
    return 0;
}

/* RFC 4733: dynamic PT, "telephone-event/8000" in SDP unless stated otherwise. */
const rtpproc_codec rp_codec_telephone_event = {
    .name = "telephone-event",
    .ws_name = NULL, /* dynamic: Wireshark names it from SDP, or "rtpevent" */
    .static_pt = -1,
    .kind = RTPPROC_KIND_EVENT,
    .default_clock_rate = 8000,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = same_rate,
    .create = none_create,
    .destroy = none_destroy,
    .max_frames = none_max_frames,
    .decode = none_decode,
};

/* RFC 3389: static PT 13 at 8000 Hz (RFC 3551 table 4), or dynamic. */
const rtpproc_codec rp_codec_cn = {
    .name = "CN",
    .ws_name = "CN",
    .static_pt = 13,
    .kind = RTPPROC_KIND_CN,
    .default_clock_rate = 8000,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = same_rate,
    .create = none_create,
    .destroy = none_destroy,
    .max_frames = none_max_frames,
    .decode = none_decode,
};
