/*
 * rtpproc - the codec interface: RTP payload to 16-bit PCM.
 *
 * Each codec is one file (core/codec_<name>.c) exporting one descriptor.
 * A stream owns one decoder instance per payload type it carries; the
 * instance keeps codec state across packets (ADPCM predictors, etc.).
 */
#ifndef RTPPROC_CODEC_H
#define RTPPROC_CODEC_H

#include "rtpproc/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a recorder may store without transcoding (e.g. A-law WAV). */
enum rtpproc_native {
    RTPPROC_NATIVE_NONE = 0,
    RTPPROC_NATIVE_ALAW,
    RTPPROC_NATIVE_ULAW,
};

/* The role of a payload type that is not audio to decode. */
enum rtpproc_codec_kind {
    RTPPROC_KIND_AUDIO = 0, /* decoded into the recording */
    RTPPROC_KIND_CN,        /* comfort noise, RFC 3389: fills its span */
    RTPPROC_KIND_EVENT,     /* telephone-event, RFC 4733 */
};

typedef struct rtpproc_codec rtpproc_codec;

/*
 * A payload format as the stream uses it: a codec plus the clock rate and
 * channel count from the static table, SDP or --pt-map.
 */
/* Format parameters (SDP a=fmtp) that change how a payload is read. */
enum rtpproc_fmtp {
    RTPPROC_FMTP_OCTET_ALIGN = 1u << 0,  /* AMR: octet-aligned (RFC 4867 4.4) */
    RTPPROC_FMTP_BW_EFFICIENT = 1u << 1, /* AMR: bandwidth-efficient (RFC 4867 4.3);
                                            neither flag: the codec tells them apart */
};

typedef struct rtpproc_codec_spec {
    const rtpproc_codec *codec; /* NULL: unknown payload type */
    uint32_t clock_rate;        /* RTP timestamp units per second */
    uint32_t sample_rate;       /* decoded samples per second per channel */
    unsigned channels;
    unsigned fmtp; /* enum rtpproc_fmtp flags */
} rtpproc_codec_spec;

/* The descriptor each codec file exports. Immutable, static storage. */
struct rtpproc_codec {
    const char *name;    /* encoding name as in SDP / RFC 3551, e.g. "PCMA" */
    const char *ws_name; /* Wireshark's short PT name, e.g. "g711A", or NULL */
    int static_pt;       /* RFC 3551 static payload type, or -1 */
    enum rtpproc_codec_kind kind;
    uint32_t default_clock_rate;
    unsigned default_channels;
    enum rtpproc_native native;
    /* Output rate for a given clock rate (G.722: 16000 for an 8000 clock). */
    uint32_t (*sample_rate)(uint32_t clock_rate);
    /*
     * Creates decoder state for `spec`; NULL on allocation failure, or when
     * runtime_library cannot be loaded. Codecs without state may return a
     * non-NULL static pointer. Freed by destroy.
     */
    void *(*create)(const rtpproc_codec_spec *spec);
    void (*destroy)(void *state);
    /* Upper bound of frames (samples per channel) `len` payload bytes give. */
    size_t (*max_frames)(const rtpproc_codec_spec *spec, size_t len);
    /*
     * Decodes `len` bytes into `out` (interleaved, out_frames * channels
     * int16 capacity). Returns frames written, or a negative status for a
     * payload that cannot be decoded (it is then counted, not fatal).
     */
    long (*decode)(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                   int16_t *out, size_t out_frames);
    /*
     * Codec-native loss concealment (Opus, G.729, AMR ...): writes up to
     * `frames` frames standing in for lost audio and returns how many it
     * wrote (the engine fills the rest with silence), or a negative status.
     * NULL: the codec has none (the engine uses spandsp's PLC or silence).
     */
    long (*conceal)(void *state, const rtpproc_codec_spec *spec, int16_t *out, size_t frames);
    /*
     * In-band forward error correction: rebuilds the `frames` frames that
     * precede the packet `next` (len bytes) from the redundancy it carries
     * (Opus LBRR, RFC 7587 3.2), into `out`. Returns frames written, 0 when
     * `next` carries none, or a negative status. NULL: the codec has none.
     */
    long (*recover)(void *state, const rtpproc_codec_spec *spec, const uint8_t *next, size_t len,
                    int16_t *out, size_t frames);
    /*
     * The shared library the decoder loads (dlopen) when the process creates
     * its first instance, e.g. "libavcodec.so.59"; NULL when it needs none
     * beyond what rtpproc links. Named in the report when create() fails.
     */
    const char *runtime_library;
};

/* Looks a codec up by encoding name, case-insensitively. NULL if unknown. */
RTPPROC_API const rtpproc_codec *rtpproc_codec_find_by_name(const char *name);

/*
 * Fills `spec` for a static payload type (RFC 3551 table 4). Returns
 * RTPPROC_OK, or RTPPROC_ENOCODEC for a PT without a codec here (spec->codec
 * is then NULL and clock_rate is RFC 3551's rate when it defines one, else 0).
 */
RTPPROC_API int rtpproc_codec_spec_for_static_pt(unsigned pt, rtpproc_codec_spec *spec);

/*
 * Wireshark's short name of a static payload type (its
 * rtp_payload_type_short_vals, e.g. "g711U", "16-bit audio, monaural",
 * "CN(old)", "h261"), as tshark prints it in -z rtp,streams. Static storage.
 * NULL for an unassigned, reserved or dynamic PT (Wireshark itself says
 * "Unassigned", "Reserved for RTCP conflict avoidance" or "RTPType-<pt>").
 */
RTPPROC_API const char *rtpproc_codec_static_pt_name(unsigned pt);

/* Fills `spec` for codec `c` at clock `rate` with `channels` (0 = defaults). */
RTPPROC_API void rtpproc_codec_spec_make(const rtpproc_codec *c, uint32_t rate, unsigned channels,
                                         rtpproc_codec_spec *spec);

/*
 * A payload-type map from --pt-map: "PT=name[/rate[/channels]]" items,
 * comma separated (e.g. "96=L16/16000/2,97=PCMU"). Entries override the
 * static table for that PT.
 */
typedef struct rtpproc_ptmap {
    bool set[128];
    rtpproc_codec_spec spec[128];
} rtpproc_ptmap;

RTPPROC_API void rtpproc_ptmap_init(rtpproc_ptmap *m);

/*
 * Parses `text` into `m` (adding to what is there). On error returns
 * RTPPROC_EINVAL and writes a one-line reason into errbuf.
 */
RTPPROC_API int rtpproc_ptmap_parse(rtpproc_ptmap *m, const char *text, char *errbuf,
                                    size_t errlen);

/* Resolves `pt` through the map, then the static table (see spec_for_static_pt). */
RTPPROC_API int rtpproc_ptmap_resolve(const rtpproc_ptmap *m, unsigned pt,
                                      rtpproc_codec_spec *spec);

/* The codec descriptors compiled in, NULL-terminated (for listings). */
RTPPROC_API const rtpproc_codec *const *rtpproc_codec_all(void);

#ifdef __cplusplus
}
#endif
#endif
