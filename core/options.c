/*
 * rtpproc - options shared by the command-line tool and the tshark plug-in.
 *
 * One table of names, one validator per value type, one set of messages.
 * Values are parsed by hand rather than with strtod()/strtoul(): those
 * accept leading blanks, signs and (inside tshark, which calls setlocale())
 * a locale-dependent decimal separator, none of which an option should.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <stddef.h>

#include <glib.h>

#include "rtpproc/options.h"
#include "rtpproc/resample.h"

enum opt_kind {
    OPT_STRING, /* needs a non-empty value */
    OPT_FLAG,   /* no value, or a boolean word */
};

typedef struct opt_def opt_def;

struct opt_def {
    const char *name;
    enum opt_kind kind;
    /* Validates and stores `value`; on error writes the reason after "invalid NAME 'VALUE': ".
     * NULL for an OPT_FLAG stored as is at `flag` (a bool in rtpproc_options). */
    int (*set)(rtpproc_options *o, const char *value, char *why, size_t whylen);
    size_t flag;
};

/* Table rows: an option with a value and its setter; a boolean flag and
 * where it lives in rtpproc_options. */
/* clang-format off */
#define VALUE(name, setter) {name, OPT_STRING, setter, 0}
#define FLAG(name, member)  {name, OPT_FLAG, NULL, offsetof(rtpproc_options, member)}
/* clang-format on */

static void set_error(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errbuf == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Grammar: DIGITS [ "." DIGITS ] [ "s" | "ms" ], no sign, no blanks.
 * Fraction digits beyond the nanosecond are dropped (truncation).
 */
int rtpproc_parse_duration(const char *text, rtpproc_time_ns *out)
{
    const char *p = text;
    int64_t whole = 0, frac = 0, frac_scale = 1, unit = RTPPROC_NS_PER_SEC;

    if (text == NULL || !is_digit(*p))
        return RTPPROC_EINVAL;
    for (; is_digit(*p); p++) {
        if (whole > (INT64_MAX - 9) / 10)
            return RTPPROC_EINVAL;
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return RTPPROC_EINVAL;
        for (; is_digit(*p); p++) {
            /* 9 digits are a nanosecond at the "s" unit; keeps frac * unit < 2^63. */
            if (frac_scale < RTPPROC_NS_PER_SEC) {
                frac = frac * 10 + (*p - '0');
                frac_scale *= 10;
            }
        }
    }
    if (strcmp(p, "ms") == 0)
        unit = RTPPROC_NS_PER_MSEC;
    else if (strcmp(p, "s") == 0 || *p == '\0')
        unit = RTPPROC_NS_PER_SEC;
    else
        return RTPPROC_EINVAL;

    if (whole > INT64_MAX / unit)
        return RTPPROC_EINVAL;
    int64_t ns = whole * unit;
    int64_t frac_ns = frac * unit / frac_scale;
    if (ns > INT64_MAX - frac_ns)
        return RTPPROC_EINVAL;
    if (out != NULL)
        *out = ns + frac_ns;
    return RTPPROC_OK;
}

/* Decimal, or hex after "0x"/"0X"; must fit 32 bits. */
static bool parse_u32(const char *text, uint32_t *out)
{
    uint64_t v = 0;
    const char *p = text;

    if ((p[0] == '0') && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        if (hex_value(*p) < 0)
            return false;
        for (; hex_value(*p) >= 0; p++) {
            v = v * 16 + (uint64_t)hex_value(*p);
            if (v > UINT32_MAX)
                return false;
        }
    } else {
        if (!is_digit(*p))
            return false;
        for (; is_digit(*p); p++) {
            v = v * 10 + (uint64_t)(*p - '0');
            if (v > UINT32_MAX)
                return false;
        }
    }
    if (*p != '\0')
        return false;
    *out = (uint32_t)v;
    return true;
}

/* NULL (a bare flag) is true; otherwise one of the usual boolean words. */
static bool parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};

    if (text == NULL) {
        *out = true;
        return true;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (g_ascii_strcasecmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static int set_dir(rtpproc_options *o, const char *value, char *why, size_t whylen)
{
    (void)why;
    (void)whylen;
    g_free(o->out_dir);
    o->out_dir = g_strdup(value);
    return RTPPROC_OK;
}

static int set_json(rtpproc_options *o, const char *value, char *why, size_t whylen)
{
    (void)why;
    (void)whylen;
    g_free(o->json_path);
    o->json_path = g_strdup(value);
    return RTPPROC_OK;
}

static int set_timeout(rtpproc_options *o, const char *value, char *why, size_t whylen)
{
    rtpproc_time_ns t;

    if (rtpproc_parse_duration(value, &t) != RTPPROC_OK || t <= 0) {
        set_error(why, whylen, "expected a positive duration such as 5, 1.5, 5s or 250ms");
        return RTPPROC_EINVAL;
    }
    o->engine.idle_timeout = t;
    return RTPPROC_OK;
}

static int set_ssrc(rtpproc_options *o, const char *value, char *why, size_t whylen)
{
    uint32_t ssrc;

    if (!parse_u32(value, &ssrc)) {
        set_error(why, whylen, "expected a 32-bit number, decimal or hex with 0x");
        return RTPPROC_EINVAL;
    }
    o->engine.ssrc_filter_set = true;
    o->engine.ssrc_filter = ssrc;
    return RTPPROC_OK;
}

/*
 * alaw/ulaw store G.711 as it came, at its 8000 Hz; resampling would have
 * to decode and re-encode it, so a --rate other than 8000 is refused with
 * them rather than silently transcoded (design.md 6).
 */
#define RATE_NATIVE_WHY                                                                            \
    "alaw and ulaw recordings keep G.711 as it came, at 8000 Hz: use them without rate, or "       \
    "with rate 8000"

static bool native_rate_ok(uint32_t rate)
{
    return rate == 0 || rate == 8000;
}

static int set_encoding(rtpproc_options *o, const char *value, char *why, size_t whylen)
{
    static const struct {
        const char *name;
        enum rtpproc_native enc;
    } names[] = {
        {"pcm16", RTPPROC_NATIVE_NONE},
        {"alaw", RTPPROC_NATIVE_ALAW},
        {"ulaw", RTPPROC_NATIVE_ULAW},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        if (g_ascii_strcasecmp(value, names[i].name) == 0) {
            if (names[i].enc != RTPPROC_NATIVE_NONE && !native_rate_ok(o->out_rate)) {
                set_error(why, whylen, RATE_NATIVE_WHY);
                return RTPPROC_EINVAL;
            }
            o->engine.encoding = names[i].enc;
            return RTPPROC_OK;
        }
    }
    set_error(why, whylen, "expected pcm16, alaw or ulaw");
    return RTPPROC_EINVAL;
}

/* Adds to the map already set (the option may be repeated); all or nothing. */
static int set_ptmap(rtpproc_options *o, const char *value, char *why, size_t whylen)
{
    rtpproc_ptmap copy = o->engine.ptmap;

    if (rtpproc_ptmap_parse(&copy, value, why, whylen) != RTPPROC_OK)
        return RTPPROC_EINVAL;
    o->engine.ptmap = copy;
    return RTPPROC_OK;
}

/* rtp | jitter[:MS] | continuous */
static int set_timing(rtpproc_options *o, const char *value, char *why, size_t whylen)
{
    if (g_ascii_strcasecmp(value, "rtp") == 0) {
        o->engine.timing = RTPPROC_TIMING_RTP;
        return RTPPROC_OK;
    }
    if (g_ascii_strcasecmp(value, "continuous") == 0) {
        o->engine.timing = RTPPROC_TIMING_CONTINUOUS;
        return RTPPROC_OK;
    }
    if (g_ascii_strncasecmp(value, "jitter", 6) == 0 && (value[6] == '\0' || value[6] == ':')) {
        rtpproc_time_ns buf = 50 * RTPPROC_NS_PER_MSEC;
        if (value[6] == ':') {
            /* The player's buffer is whole milliseconds, 0-500 in its UI;
             * any non-negative whole number is taken here. */
            uint32_t ms;
            if (!parse_u32(value + 7, &ms) || ms > 100000) {
                set_error(why, whylen,
                          "expected jitter:MS with MS in whole milliseconds (0-100000)");
                return RTPPROC_EINVAL;
            }
            buf = (rtpproc_time_ns)ms * RTPPROC_NS_PER_MSEC;
        }
        o->engine.timing = RTPPROC_TIMING_JITTER;
        o->engine.jitter_buffer = buf;
        return RTPPROC_OK;
    }
    set_error(why, whylen, "expected rtp, jitter, jitter:MS or continuous");
    return RTPPROC_EINVAL;
}

/* PACKETS | DURATION | PACKETS/DURATION: "16", "100ms", "32/200ms" */
static int set_reorder(rtpproc_options *o, const char *value, char *why, size_t whylen)
{
    const char *slash = strchr(value, '/');
    uint32_t pkts = o->engine.reorder_packets;
    rtpproc_time_ns t = o->engine.reorder_time;
    char head[32];

    if (slash != NULL) {
        size_t n = (size_t)(slash - value);
        if (n >= sizeof(head))
            goto bad;
        memcpy(head, value, n);
        head[n] = '\0';
        if (!parse_u32(head, &pkts) || rtpproc_parse_duration(slash + 1, &t) != RTPPROC_OK)
            goto bad;
    } else if (!parse_u32(value, &pkts) && rtpproc_parse_duration(value, &t) != RTPPROC_OK) {
        goto bad;
    } else if (strpbrk(value, "sm.") == NULL) {
        t = o->engine.reorder_time; /* a bare number is a packet count */
    } else {
        pkts = o->engine.reorder_packets;
    }
    if (pkts < 1 || pkts > 1024 || t < 0 || t > 10 * RTPPROC_NS_PER_SEC)
        goto bad;
    o->engine.reorder_packets = pkts;
    o->engine.reorder_time = t;
    return RTPPROC_OK;
bad:
    set_error(why, whylen,
              "expected PACKETS (1-1024), a DURATION (0-10 s, e.g. 100ms) or PACKETS/DURATION");
    return RTPPROC_EINVAL;
}

/* Worker threads: 1 (none) to RTPPROC_MAX_THREADS. */
static int set_threads(rtpproc_options *o, const char *value, char *why, size_t whylen)
{
    uint32_t n;

    if (value[strspn(value, "0123456789")] != '\0' || !parse_u32(value, &n) || n < 1 ||
        n > RTPPROC_MAX_THREADS) {
        set_error(why, whylen, "expected a number of threads from 1 to %d", RTPPROC_MAX_THREADS);
        return RTPPROC_EINVAL;
    }
    o->engine.threads = n;
    return RTPPROC_OK;
}

/* Decimal Hz, RTPPROC_RESAMPLE_MIN_RATE..MAX_RATE (include/rtpproc/resample.h). */
static int set_rate(rtpproc_options *o, const char *value, char *why, size_t whylen)
{
    uint32_t rate;

    if (value[strspn(value, "0123456789")] != '\0' || !parse_u32(value, &rate) ||
        rate < RTPPROC_RESAMPLE_MIN_RATE || rate > RTPPROC_RESAMPLE_MAX_RATE) {
        set_error(why, whylen, "expected a sample rate in Hz from %d to %d",
                  RTPPROC_RESAMPLE_MIN_RATE, RTPPROC_RESAMPLE_MAX_RATE);
        return RTPPROC_EINVAL;
    }
    if (o->engine.encoding != RTPPROC_NATIVE_NONE && !native_rate_ok(rate)) {
        set_error(why, whylen, RATE_NATIVE_WHY);
        return RTPPROC_EINVAL;
    }
    o->out_rate = rate;
    o->engine.out_rate = rate; /* the report gives the recordings' rate */
    return RTPPROC_OK;
}

static const opt_def opt_table[] = {
    VALUE("dir", set_dir),
    VALUE("timeout", set_timeout),
    VALUE("ssrc", set_ssrc),
    VALUE("encoding", set_encoding),
    VALUE("pt-map", set_ptmap),
    VALUE("json", set_json),
    FLAG("force", force),
    FLAG("no-audio", no_audio),
    FLAG("sync-writes", sync_writes),
    VALUE("timing", set_timing),
    VALUE("reorder", set_reorder),
    FLAG("plc", engine.plc),
    VALUE("rate", set_rate),
    FLAG("dtmf-tones", engine.dtmf_tones),
    FLAG("comfort-noise", engine.comfort_noise),
    FLAG("guess-codecs", engine.guess_codecs),
    FLAG("per-direction", engine.per_direction),
    VALUE("threads", set_threads),
};

void rtpproc_options_init(rtpproc_options *o)
{
    memset(o, 0, sizeof(*o));
    rtpproc_engine_config_init(&o->engine);
}

void rtpproc_options_clear(rtpproc_options *o)
{
    g_free(o->out_dir);
    g_free(o->json_path);
    rtpproc_options_init(o);
}

int rtpproc_options_set(rtpproc_options *o, const char *name, const char *value, char *errbuf,
                        size_t errlen)
{
    const opt_def *def = NULL;
    char why[256];

    if (name == NULL)
        name = "";
    for (size_t i = 0; i < G_N_ELEMENTS(opt_table); i++) {
        if (strcmp(opt_table[i].name, name) == 0) {
            def = &opt_table[i];
            break;
        }
    }
    if (def == NULL) {
        set_error(errbuf, errlen, "unknown option '%s'", name);
        return RTPPROC_EINVAL;
    }
    if (def->kind == OPT_STRING && (value == NULL || value[0] == '\0')) {
        set_error(errbuf, errlen, "option '%s' needs a value", name);
        return RTPPROC_EINVAL;
    }
    why[0] = '\0';
    int rc;
    if (def->set != NULL) {
        rc = def->set(o, value, why, sizeof(why));
    } else {
        rc = parse_bool(value, (bool *)(void *)((char *)o + def->flag)) ? RTPPROC_OK
                                                                        : RTPPROC_EINVAL;
        if (rc != RTPPROC_OK)
            set_error(why, sizeof(why), "expected 1, 0, true, false, yes, no, on or off");
    }
    if (rc != RTPPROC_OK) {
        set_error(errbuf, errlen, "invalid %s '%s': %s", name, value != NULL ? value : "",
                  why[0] != '\0' ? why : "bad value");
        return RTPPROC_EINVAL;
    }
    return RTPPROC_OK;
}

/*
 * "name=value,name,..." - an item without '=' is a flag. The first '='
 * splits, so "pt-map=96=L16/16000" works; several pt-map items add up.
 * Items are applied in order; on error the items before it stay applied.
 */
int rtpproc_options_parse_list(rtpproc_options *o, const char *list, char *errbuf, size_t errlen)
{
    if (list == NULL || list[0] == '\0')
        return RTPPROC_OK;

    char **items = g_strsplit(list, ",", -1);
    int rc = RTPPROC_OK;

    for (char **it = items; *it != NULL; it++) {
        char *eq = strchr(*it, '=');

        if ((*it)[0] == '\0') {
            set_error(errbuf, errlen, "empty option in '%s'", list);
            rc = RTPPROC_EINVAL;
            break;
        }
        if (eq != NULL)
            *eq = '\0';
        rc = rtpproc_options_set(o, *it, eq != NULL ? eq + 1 : NULL, errbuf, errlen);
        if (rc != RTPPROC_OK)
            break;
    }
    g_strfreev(items);
    return rc;
}
