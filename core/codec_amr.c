/*
 * rtpproc - AMR (narrowband, 8000 Hz) and AMR-WB (wideband, 16000 Hz)
 * through opencore-amr.
 *
 * specification: RFC 4867 (RTP payload), 3GPP TS 26.101/26.201 (frame
 * types and sizes). A payload is a 4-bit codec mode request (CMR), a table
 * of contents (ToC) with one entry per frame (F: another entry follows, FT:
 * frame type, Q: frame quality) and the speech bits of the frames in ToC
 * order, in one of two packings:
 *   - octet-aligned (section 4.4): CMR and 4 reserved bits in one octet,
 *     one octet per ToC entry (F FT Q and 2 padding bits), every frame
 *     padded to whole octets;
 *   - bandwidth-efficient (section 4.3): 4-bit CMR, 6-bit ToC entries and
 *     the frames' bits back to back, only the payload's end padded.
 * SDP (a=fmtp octet-align) says which one; then the receiver rules of
 * RFC 4867 apply (reserved and padding bits ignored, octets after the last
 * frame ignored). When spec->fmtp does not say, the first payload that is
 * valid in exactly one packing under strict rules decides it for the
 * stream, and later payloads must pass the same strict test: reserved and
 * padding bits zero (the sender MUST set them so), a known CMR, and frame
 * sizes that fill the payload exactly (octet-aligned) or up to fewer than 8
 * padding bits (bandwidth-efficient). A bandwidth-efficient payload seldom
 * passes the octet-aligned test; one valid in both packings is decoded
 * octet-aligned without deciding.
 *
 * Not supported (no fmtp flag carries them): octet-aligned payloads with
 * interleaving or frame CRCs (RFC 4867 4.4), robust sorting, and
 * multi-channel sessions; such payloads fail the size checks and are
 * counted as undecodable (a multi-channel spec is refused outright).
 *
 * Each frame is rebuilt in RFC 4867 section 5's storage format (one header
 * octet 0 FT Q 0 0, then the speech bits from the first octet's top bit,
 * zero-padded) and given to Decoder_Interface_Decode / D_IF_decode, which
 * take their frame type from that header octet. NO_DATA frames (FT 15, and
 * AMR-WB's SPEECH_LOST, FT 14) go to the decoder too: its DTX handler
 * continues comfort noise after a SID frame and conceals after speech. A
 * frame with Q = 0 (damaged, section 4.3.2) is passed as a bad frame, which
 * opencore also handles as NO_DATA.
 */
#include "rtpproc/codec.h"

#include <stdlib.h>
#include <string.h>

#include <opencore-amrnb/interf_dec.h>
#include <opencore-amrwb/dec_if.h>

#include "cursor.h"

/* Referenced by the registry in codec.c. */
extern const rtpproc_codec rp_codec_amr;
extern const rtpproc_codec rp_codec_amr_wb;

#define AMR_NB_RATE    8000  /* Hz */
#define AMR_WB_RATE    16000 /* Hz */
#define AMR_NB_SAMPLES 160   /* per 20 ms frame */
#define AMR_WB_SAMPLES 320
#define AMR_MAX_TOC    256 /* ToC entries (frames) per payload */
/* Storage-format frame: header octet + 477 bits (AMR-WB 23.85) = 61 octets, rounded up. */
#define AMR_STORE_LEN 64

enum amr_packing { AMR_PACK_UNKNOWN = 0, AMR_PACK_OCTET, AMR_PACK_BWE };

/*
 * Speech bits per frame type (RFC 4867 section 3.6, TS 26.101 table 1a,
 * TS 26.201 table 1a); -1 marks a type whose payload SHOULD be discarded
 * whole (section 4.3.2: FT 9-14 for AMR, 10-13 for AMR-WB).
 */
static const int16_t amr_nb_bits[16] = {95, 103, 118, 134, 148, 159, 204, 244,
                                        39, -1,  -1,  -1,  -1,  -1,  -1,  0};
static const int16_t amr_wb_bits[16] = {132, 177, 253, 285, 317, 365, 397, 461,
                                        477, 40,  -1,  -1,  -1,  -1,  0,   0};

struct amr_toc {
    uint8_t ft; /* frame type */
    bool q;     /* frame quality: false = damaged */
};

typedef struct amr_state {
    bool wb;
    void *dec;                /* opencore decoder */
    enum amr_packing packing; /* decided from the payloads; UNKNOWN until then */
    struct amr_toc toc[AMR_MAX_TOC];
    uint8_t frame[AMR_STORE_LEN]; /* one frame in storage format */
} amr_state;

/* A bounded big-endian bit reader over the bytes a cursor has left. */
typedef struct bit_reader {
    const uint8_t *p;
    size_t nbits; /* bits readable from p */
    size_t pos;   /* bits read */
} bit_reader;

static bit_reader bits_from(const rp_cur *c)
{
    bit_reader b = {c->p, (c->left <= SIZE_MAX / 8 ? c->left : SIZE_MAX / 8) * 8, 0};
    return b;
}

/* Reads n <= 16 bits, most significant first; false (nothing read) past the end. */
static bool bits_get(bit_reader *b, unsigned n, unsigned *v)
{
    if (n > b->nbits - b->pos)
        return false;
    unsigned x = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t at = b->pos + i;
        x = x << 1 | ((b->p[at / 8] >> (7 - at % 8)) & 1u);
    }
    b->pos += n;
    *v = x;
    return true;
}

static const int16_t *frame_bits(const amr_state *s)
{
    return s->wb ? amr_wb_bits : amr_nb_bits;
}

static size_t frame_samples(const amr_state *s)
{
    return s->wb ? AMR_WB_SAMPLES : AMR_NB_SAMPLES;
}

/* CMR values a sender may use: a mode, or 15 (no request). */
static bool cmr_valid(const amr_state *s, unsigned cmr)
{
    return cmr == 15 || cmr <= (s->wb ? 8u : 7u);
}

/*
 * Reads the octet-aligned header and ToC of `in` into s->toc. `strict`
 * (packing not known yet) also requires zero reserved/padding bits, a valid
 * CMR and frames that end exactly at the payload's end. Returns the number
 * of frames, 0 if the payload is not octet-aligned AMR; *speech is the
 * offset of the first frame.
 */
static size_t parse_octet(amr_state *s, const uint8_t *in, size_t len, bool strict, size_t *speech)
{
    const int16_t *bits = frame_bits(s);
    rp_cur c = rp_cur_make(in, len);
    uint8_t b;
    size_t n = 0, need = 0;

    if (!rp_u8(&c, &b) || (strict && ((b & 0x0F) != 0 || !cmr_valid(s, b >> 4))))
        return 0;
    do {
        if (n == AMR_MAX_TOC || !rp_u8(&c, &b))
            return 0;
        unsigned ft = (b >> 3) & 0x0F;
        if (bits[ft] < 0 || (strict && (b & 0x03) != 0))
            return 0;
        s->toc[n].ft = (uint8_t)ft;
        s->toc[n].q = (b & 0x04) != 0;
        need += ((size_t)bits[ft] + 7) / 8;
        n++;
    } while (b & 0x80);
    if (c.left < need || (strict && c.left != need))
        return 0;
    *speech = len - c.left;
    return n;
}

/*
 * The same for the bandwidth-efficient packing; *speech is the bit offset
 * of the first frame. The payload must hold every frame's bits, and
 * `strict` also wants a valid CMR and fewer than 8 bits of padding.
 */
static size_t parse_bwe(amr_state *s, const uint8_t *in, size_t len, bool strict, size_t *speech)
{
    const int16_t *bits = frame_bits(s);
    rp_cur c = rp_cur_make(in, len);
    bit_reader br = bits_from(&c);
    unsigned cmr, f, ft, q;
    size_t n = 0, need = 0;

    if (!bits_get(&br, 4, &cmr) || (strict && !cmr_valid(s, cmr)))
        return 0;
    do {
        if (n == AMR_MAX_TOC || !bits_get(&br, 1, &f) || !bits_get(&br, 4, &ft) ||
            !bits_get(&br, 1, &q))
            return 0;
        if (bits[ft] < 0)
            return 0;
        s->toc[n].ft = (uint8_t)ft;
        s->toc[n].q = q != 0;
        need += (size_t)bits[ft];
        n++;
    } while (f);
    size_t left = br.nbits - br.pos;
    if (left < need || (strict && left - need >= 8))
        return 0;
    *speech = br.pos;
    return n;
}

/* Decodes the frame in s->frame (header octet set here) into `out`. */
static void decode_stored(amr_state *s, unsigned ft, bool bad, int16_t *out)
{
    s->frame[0] = (uint8_t)(ft << 3 | (bad ? 0u : 1u) << 2);
    if (s->wb)
        D_IF_decode(s->dec, s->frame, out, bad ? 1 : 0);
    else
        Decoder_Interface_Decode(s->dec, s->frame, out, bad ? 1 : 0);
}

static uint32_t amr_nb_sample_rate(uint32_t clock_rate)
{
    (void)clock_rate;
    return AMR_NB_RATE;
}

static uint32_t amr_wb_sample_rate(uint32_t clock_rate)
{
    (void)clock_rate;
    return AMR_WB_RATE;
}

static void *amr_create_common(bool wb)
{
    amr_state *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->wb = wb;
    s->dec = wb ? D_IF_init() : Decoder_Interface_init();
    if (s->dec == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

static void *amr_nb_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    return amr_create_common(false);
}

static void *amr_wb_create(const rtpproc_codec_spec *spec)
{
    (void)spec;
    return amr_create_common(true);
}

static void amr_destroy(void *state)
{
    amr_state *s = state;
    if (s == NULL)
        return;
    if (s->wb)
        D_IF_exit(s->dec);
    else
        Decoder_Interface_exit(s->dec);
    free(s);
}

/* At most one frame per 6 payload bits after the 4-bit CMR (bandwidth-efficient NO_DATA). */
static size_t max_toc(size_t len)
{
    if (len == 0 || len > SIZE_MAX / 8)
        return 0;
    size_t n = (len * 8 - 4) / 6;
    return n < AMR_MAX_TOC ? n : AMR_MAX_TOC;
}

static size_t amr_nb_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    (void)spec;
    return max_toc(len) * AMR_NB_SAMPLES;
}

static size_t amr_wb_max_frames(const rtpproc_codec_spec *spec, size_t len)
{
    (void)spec;
    return max_toc(len) * AMR_WB_SAMPLES;
}

/* Parses `in` in the stream's packing, deciding it first if need be; 0 if undecodable. */
static size_t parse_payload(amr_state *s, const rtpproc_codec_spec *spec, const uint8_t *in,
                            size_t len, enum amr_packing *packing, size_t *speech)
{
    size_t n;

    if (spec->fmtp & RTPPROC_FMTP_OCTET_ALIGN) {
        *packing = AMR_PACK_OCTET;
        return parse_octet(s, in, len, false, speech);
    }
    if (spec->fmtp & RTPPROC_FMTP_BW_EFFICIENT) {
        *packing = AMR_PACK_BWE;
        return parse_bwe(s, in, len, false, speech);
    }
    /* Decided from the payloads: they keep passing the strict test that decided it. */
    if (s->packing == AMR_PACK_OCTET) {
        *packing = AMR_PACK_OCTET;
        return parse_octet(s, in, len, true, speech);
    }
    if (s->packing == AMR_PACK_BWE) {
        *packing = AMR_PACK_BWE;
        return parse_bwe(s, in, len, true, speech);
    }

    bool bwe = parse_bwe(s, in, len, true, speech) > 0;
    n = parse_octet(s, in, len, true, speech);
    if (n > 0) {
        if (!bwe)
            s->packing = AMR_PACK_OCTET;
        *packing = AMR_PACK_OCTET;
        return n;
    }
    if (!bwe)
        return 0;
    s->packing = AMR_PACK_BWE;
    *packing = AMR_PACK_BWE;
    return parse_bwe(s, in, len, true, speech);
}

static long amr_decode(void *state, const rtpproc_codec_spec *spec, const uint8_t *in, size_t len,
                       int16_t *out, size_t out_frames)
{
    amr_state *s = state;
    const int16_t *bits = frame_bits(s);
    size_t spf = frame_samples(s);
    enum amr_packing packing = AMR_PACK_UNKNOWN;
    size_t speech = 0;

    if (spec->channels > 1)
        return RTPPROC_EUNSUPP;
    size_t n = parse_payload(s, spec, in, len, &packing, &speech);
    if (n == 0)
        return RTPPROC_EINVAL;

    rp_cur c = rp_cur_make(in, len);
    bit_reader br = bits_from(&c);
    br.pos = packing == AMR_PACK_BWE ? speech : 0;
    if (packing == AMR_PACK_OCTET && !rp_skip(&c, speech))
        return RTPPROC_EINVAL; /* unreachable: parse_octet checked the length */

    size_t done = 0;
    for (size_t i = 0; i < n && done + spf <= out_frames; i++) {
        unsigned ft = s->toc[i].ft;
        size_t nbits = (size_t)bits[ft];
        memset(s->frame, 0, sizeof(s->frame));
        if (packing == AMR_PACK_OCTET) {
            if (!rp_bytes(&c, s->frame + 1, (nbits + 7) / 8))
                return RTPPROC_EINVAL; /* unreachable: sizes checked */
        } else {
            for (size_t k = 0; k < nbits; k++) {
                unsigned bit;
                if (!bits_get(&br, 1, &bit))
                    return RTPPROC_EINVAL; /* unreachable: sizes checked */
                s->frame[1 + k / 8] |= (uint8_t)(bit << (7 - k % 8));
            }
        }
        /* NO_DATA/SPEECH_LOST carry no bits; Q matters for frames with speech or SID. */
        decode_stored(s, ft, nbits > 0 && !s->toc[i].q, out + done);
        done += spf;
    }
    return (long)done;
}

static long amr_conceal(void *state, const rtpproc_codec_spec *spec, int16_t *out, size_t frames)
{
    amr_state *s = state;
    size_t spf = frame_samples(s);
    size_t done = 0;

    if (spec->channels > 1)
        return RTPPROC_EUNSUPP;
    memset(s->frame, 0, sizeof(s->frame));
    for (; done + spf <= frames; done += spf)
        decode_stored(s, 15, true, out + done);
    return (long)done;
}

const rtpproc_codec rp_codec_amr = {
    .name = "AMR",
    .ws_name = NULL,
    .static_pt = -1,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = AMR_NB_RATE,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = amr_nb_sample_rate,
    .create = amr_nb_create,
    .destroy = amr_destroy,
    .max_frames = amr_nb_max_frames,
    .decode = amr_decode,
    .conceal = amr_conceal,
};

const rtpproc_codec rp_codec_amr_wb = {
    .name = "AMR-WB",
    .ws_name = NULL,
    .static_pt = -1,
    .kind = RTPPROC_KIND_AUDIO,
    .default_clock_rate = AMR_WB_RATE,
    .default_channels = 1,
    .native = RTPPROC_NATIVE_NONE,
    .sample_rate = amr_wb_sample_rate,
    .create = amr_wb_create,
    .destroy = amr_destroy,
    .max_frames = amr_wb_max_frames,
    .decode = amr_decode,
    .conceal = amr_conceal,
};
