/*
 * rtpproc - codec registry: descriptors by name, the RFC 3551 static
 * payload-type table, and --pt-map parsing.
 */
#include "rtpproc/codec.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

/*
 * The descriptors, one per codec file (core/codec_<name>.c). Declared here
 * rather than in a shared header because the registry is their only user.
 */
extern const rtpproc_codec rp_codec_pcmu;
extern const rtpproc_codec rp_codec_pcma;
extern const rtpproc_codec rp_codec_l16;
extern const rtpproc_codec rp_codec_cn;
extern const rtpproc_codec rp_codec_telephone_event;

/*
 * Optional codecs (cmake/Codecs.cmake defines RTPPROC_HAVE_<NAME> when the
 * file and its library are there). RP_<NAME> is the descriptor for the
 * static table, or NULL when the codec is not built.
 */
#ifdef RTPPROC_HAVE_G722
extern const rtpproc_codec rp_codec_g722;
#define RP_G722 &rp_codec_g722
#else
#define RP_G722 NULL
#endif
#ifdef RTPPROC_HAVE_G726
extern const rtpproc_codec rp_codec_g726_16, rp_codec_g726_24, rp_codec_g726_32, rp_codec_g726_40,
    rp_codec_aal2_g726_16, rp_codec_aal2_g726_24, rp_codec_aal2_g726_32, rp_codec_aal2_g726_40;
#endif
#ifdef RTPPROC_HAVE_GSM
extern const rtpproc_codec rp_codec_gsm;
#define RP_GSM &rp_codec_gsm
#else
#define RP_GSM NULL
#endif
#ifdef RTPPROC_HAVE_DVI4
extern const rtpproc_codec rp_codec_dvi4;
#define RP_DVI4 &rp_codec_dvi4
#else
#define RP_DVI4 NULL
#endif
#ifdef RTPPROC_HAVE_G729
extern const rtpproc_codec rp_codec_g729;
#define RP_G729 &rp_codec_g729
#else
#define RP_G729 NULL
#endif
#ifdef RTPPROC_HAVE_OPUS
extern const rtpproc_codec rp_codec_opus;
#endif
#ifdef RTPPROC_HAVE_SPEEX
extern const rtpproc_codec rp_codec_speex;
#endif
#ifdef RTPPROC_HAVE_AMR
extern const rtpproc_codec rp_codec_amr, rp_codec_amr_wb;
#endif
#ifdef RTPPROC_HAVE_ILBC
extern const rtpproc_codec rp_codec_ilbc;
#endif
#ifdef RTPPROC_HAVE_G723
extern const rtpproc_codec rp_codec_g723;
#define RP_G723 &rp_codec_g723
#else
#define RP_G723 NULL
#endif

static const rtpproc_codec *const all_codecs[] = {
    &rp_codec_pcmu,
    &rp_codec_pcma,
    &rp_codec_l16,
    &rp_codec_cn,
    &rp_codec_telephone_event,
#ifdef RTPPROC_HAVE_G722
    &rp_codec_g722,
#endif
#ifdef RTPPROC_HAVE_G726
    &rp_codec_g726_16,
    &rp_codec_g726_24,
    &rp_codec_g726_32,
    &rp_codec_g726_40,
    &rp_codec_aal2_g726_16,
    &rp_codec_aal2_g726_24,
    &rp_codec_aal2_g726_32,
    &rp_codec_aal2_g726_40,
#endif
#ifdef RTPPROC_HAVE_GSM
    &rp_codec_gsm,
#endif
#ifdef RTPPROC_HAVE_DVI4
    &rp_codec_dvi4,
#endif
#ifdef RTPPROC_HAVE_G729
    &rp_codec_g729,
#endif
#ifdef RTPPROC_HAVE_OPUS
    &rp_codec_opus,
#endif
#ifdef RTPPROC_HAVE_SPEEX
    &rp_codec_speex,
#endif
#ifdef RTPPROC_HAVE_AMR
    &rp_codec_amr,
    &rp_codec_amr_wb,
#endif
#ifdef RTPPROC_HAVE_ILBC
    &rp_codec_ilbc,
#endif
#ifdef RTPPROC_HAVE_G723
    &rp_codec_g723,
#endif
    NULL,
};

/*
 * RFC 3551 section 6, table 4 (audio) and table 5 (video), plus Wireshark's
 * short name for each (epan/dissectors/packet-rtp.c rtp_payload_type_short_vals,
 * checked against libwireshark 4.0.17). PTs 1, 2 and 19 are "reserved" in
 * RFC 3551; 1 and 2 keep their RFC 1890 names in Wireshark and get no clock
 * here. PT 19 was comfort noise before RFC 3389 moved it to 13 (Wireshark's
 * "CN(old)", which it also treats as CN), so it maps to the CN descriptor.
 */
struct static_pt {
    const rtpproc_codec *codec; /* NULL: no decoder here */
    uint32_t clock_rate;        /* 0: RFC 3551 gives none */
    unsigned channels;
    const char *ws_name;
};

#define STATIC_PT_COUNT 35

static const struct static_pt static_pts[STATIC_PT_COUNT] = {
    [0] = {&rp_codec_pcmu, 8000, 1, "g711U"},
    [1] = {NULL, 0, 1, "fs-1016"},
    [2] = {NULL, 0, 1, "g721"},
    [3] = {RP_GSM, 8000, 1, "GSM"},
    [4] = {RP_G723, 8000, 1, "g723"},
    [5] = {RP_DVI4, 8000, 1, "DVI4 8k"},
    [6] = {RP_DVI4, 16000, 1, "DVI4 16k"},
    [7] = {NULL, 8000, 1, "Exp. from Xerox PARC"},
    [8] = {&rp_codec_pcma, 8000, 1, "g711A"},
    /* G.722: the RTP clock is 8000 although audio is 16 kHz (RFC 3551 4.5.2). */
    [9] = {RP_G722, 8000, 1, "g722"},
    [10] = {&rp_codec_l16, 44100, 2, "16-bit audio, stereo"},
    [11] = {&rp_codec_l16, 44100, 1, "16-bit audio, monaural"},
    [12] = {NULL, 8000, 1, "Qualcomm"},
    [13] = {&rp_codec_cn, 8000, 1, "CN"},
    [14] = {NULL, 90000, 0, "MPEG-I/II Audio"},
    [15] = {NULL, 8000, 1, "g728"},
    [16] = {RP_DVI4, 11025, 1, "DVI4 11k"},
    [17] = {RP_DVI4, 22050, 1, "DVI4 22k"},
    [18] = {RP_G729, 8000, 1, "g729"},
    [19] = {&rp_codec_cn, 8000, 1, "CN(old)"},
    [25] = {NULL, 90000, 0, "CellB"},
    [26] = {NULL, 90000, 0, "JPEG"},
    [28] = {NULL, 90000, 0, "NV"},
    [31] = {NULL, 90000, 0, "h261"},
    [32] = {NULL, 90000, 0, "MPEG-I/II Video"},
    [33] = {NULL, 90000, 0, "MPEG-II streams"},
    [34] = {NULL, 90000, 0, "h263"},
};

/* Limits of --pt-map values. */
#define PTMAP_MAX_RATE     384000u
#define PTMAP_MAX_CHANNELS 8u

const rtpproc_codec *const *rtpproc_codec_all(void)
{
    return all_codecs;
}

const rtpproc_codec *rtpproc_codec_find_by_name(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; all_codecs[i] != NULL; i++) {
        if (g_ascii_strcasecmp(all_codecs[i]->name, name) == 0)
            return all_codecs[i];
    }
    return NULL;
}

const char *rtpproc_codec_static_pt_name(unsigned pt)
{
    if (pt >= STATIC_PT_COUNT)
        return NULL;
    return static_pts[pt].ws_name;
}

void rtpproc_codec_spec_make(const rtpproc_codec *c, uint32_t rate, unsigned channels,
                             rtpproc_codec_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->codec = c;
    if (c == NULL) {
        spec->clock_rate = rate;
        spec->channels = channels;
        return;
    }
    spec->clock_rate = rate != 0 ? rate : c->default_clock_rate;
    spec->channels = channels != 0 ? channels : c->default_channels;
    spec->sample_rate =
        c->sample_rate != NULL ? c->sample_rate(spec->clock_rate) : spec->clock_rate;
}

int rtpproc_codec_spec_for_static_pt(unsigned pt, rtpproc_codec_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    if (pt >= STATIC_PT_COUNT)
        return RTPPROC_ENOCODEC;
    const struct static_pt *e = &static_pts[pt];
    if (e->codec == NULL) {
        /* Known rate, no decoder: the stream is reported but not recorded. */
        spec->clock_rate = e->clock_rate;
        spec->channels = e->clock_rate != 0 ? e->channels : 0;
        return RTPPROC_ENOCODEC;
    }
    rtpproc_codec_spec_make(e->codec, e->clock_rate, e->channels, spec);
    return RTPPROC_OK;
}

void rtpproc_ptmap_init(rtpproc_ptmap *m)
{
    memset(m, 0, sizeof(*m));
}

/*
 * Parses a decimal number of at most 9 digits (no sign, no spaces) in
 * [lo, hi]. The length cap keeps the arithmetic far from overflow.
 */
static bool parse_uint(const char *s, size_t len, unsigned lo, unsigned hi, unsigned *out)
{
    unsigned v = 0;

    if (len == 0 || len > 9)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int item_error(char *errbuf, size_t errlen, const char *what, const char *field,
                      size_t field_len, const char *item, size_t item_len, const char *range)
{
    if (errbuf != NULL && errlen > 0) {
        snprintf(errbuf, errlen, "%s '%.*s' in --pt-map item '%.*s'%s", what, (int)field_len, field,
                 (int)item_len, item, range);
    }
    return RTPPROC_EINVAL;
}

/* One "PT=name[/rate[/channels]]" item of `len` bytes into `m`. */
static int parse_item(rtpproc_ptmap *m, const char *item, size_t len, char *errbuf, size_t errlen)
{
    const char *eq = memchr(item, '=', len);
    if (eq == NULL) {
        if (errbuf != NULL && errlen > 0)
            snprintf(errbuf, errlen, "missing '=' in --pt-map item '%.*s' (expected PT=name)",
                     (int)len, item);
        return RTPPROC_EINVAL;
    }

    unsigned pt;
    size_t pt_len = (size_t)(eq - item);
    if (!parse_uint(item, pt_len, 0, 127, &pt))
        return item_error(errbuf, errlen, "invalid payload type", item, pt_len, item, len,
                          " (0-127)");

    /* Split the rest at '/' into name, rate, channels. */
    const char *fields[3] = {NULL, NULL, NULL};
    size_t flen[3] = {0, 0, 0};
    const char *p = eq + 1;
    const char *end = item + len;
    unsigned nfields = 0;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *stop = slash != NULL ? slash : end;
        if (nfields == 3) {
            if (errbuf != NULL && errlen > 0)
                snprintf(errbuf, errlen,
                         "too many '/' fields in --pt-map item '%.*s' (expected "
                         "PT=name[/rate[/channels]])",
                         (int)len, item);
            return RTPPROC_EINVAL;
        }
        fields[nfields] = p;
        flen[nfields] = (size_t)(stop - p);
        nfields++;
        if (slash == NULL)
            break;
        p = slash + 1;
    }

    char name[64];
    if (flen[0] == 0 || flen[0] >= sizeof(name)) {
        return item_error(errbuf, errlen, "invalid codec name", fields[0], flen[0], item, len, "");
    }
    memcpy(name, fields[0], flen[0]);
    name[flen[0]] = '\0';
    const rtpproc_codec *c = rtpproc_codec_find_by_name(name);
    if (c == NULL)
        return item_error(errbuf, errlen, "unknown codec", fields[0], flen[0], item, len, "");

    unsigned rate = 0;
    if (nfields >= 2 && !parse_uint(fields[1], flen[1], 1, PTMAP_MAX_RATE, &rate))
        return item_error(errbuf, errlen, "invalid clock rate", fields[1], flen[1], item, len,
                          " (1-384000)");
    unsigned channels = 0;
    if (nfields >= 3 && !parse_uint(fields[2], flen[2], 1, PTMAP_MAX_CHANNELS, &channels))
        return item_error(errbuf, errlen, "invalid channel count", fields[2], flen[2], item, len,
                          " (1-8)");

    rtpproc_codec_spec_make(c, rate, channels, &m->spec[pt]);
    m->set[pt] = true;
    return RTPPROC_OK;
}

int rtpproc_ptmap_parse(rtpproc_ptmap *m, const char *text, char *errbuf, size_t errlen)
{
    /*
     * Parse into a copy so that a bad item leaves `m` as it was. A PT given
     * twice takes the later entry, as a later --pt-map option would.
     */
    rtpproc_ptmap tmp = *m;
    const char *p = text;

    if (text == NULL || *text == '\0') {
        if (errbuf != NULL && errlen > 0)
            snprintf(errbuf, errlen, "empty --pt-map (expected PT=name[/rate[/channels]],...)");
        return RTPPROC_EINVAL;
    }
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        /* Tolerate blanks around items ("96=L16, 97=PCMU"). */
        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0) {
            if (errbuf != NULL && errlen > 0)
                snprintf(errbuf, errlen, "empty item in --pt-map '%s'", text);
            return RTPPROC_EINVAL;
        }
        int rc = parse_item(&tmp, p, len, errbuf, errlen);
        if (rc != RTPPROC_OK)
            return rc;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    *m = tmp;
    return RTPPROC_OK;
}

int rtpproc_ptmap_resolve(const rtpproc_ptmap *m, unsigned pt, rtpproc_codec_spec *spec)
{
    if (m != NULL && pt < 128 && m->set[pt]) {
        *spec = m->spec[pt];
        return RTPPROC_OK;
    }
    return rtpproc_codec_spec_for_static_pt(pt, spec);
}
