/*
 * wscheck - checks an rtpproc recording against Wireshark's own codec
 * plug-ins (the decoders the RTP player uses, wireshark-notes.md sections
 * 2.2 and 4).
 *
 *   wscheck [--alaw|--ulaw] CAPTURE WAV SRC SPORT DST DPORT SSRC
 *   wscheck --codec NAME [--pt N] [--clock HZ] CAPTURE WAV SRC SPORT DST DPORT SSRC
 *
 * The capture is read with libpcap; frames go through rtpproc_decode_frame()
 * and rtpproc_rtp_parse() only to find the packets of the stream key
 * (SRC, SPORT, DST, DPORT, SSRC). No rtpproc decoding or playout code is
 * used: every sample is produced by a Wireshark codec and its position is
 * computed here, independently, from the RTP timestamp:
 *
 *   position = (ext_ts - first_ts) * wav_rate / clock
 *
 * where first_ts is the timestamp of the first packet of the stream (any
 * payload type) and ext_ts extends each 32-bit timestamp by the signed
 * 32-bit difference from the previous packet of the stream (so a wrap at
 * 2^32 is continuous). This is design.md section 4's `rtp` timing mode.
 *
 * G.711 mode (no --codec; the original command line): packets of PT 0 and 8
 * are decoded with Wireshark's "g711U"/"g711A"; the WAV is 8000 Hz mono and
 * the clock 8000 Hz. Packets of 1 byte are skipped (so does the RTP player).
 * With --alaw/--ulaw the WAV is a native A-law/u-law file whose raw bytes
 * must be the payload bytes.
 *
 * Codec mode (--codec NAME): packets of one payload type, --pt N, are decoded
 * with Wireshark's codec NAME (its exact, case-sensitive name: "g711A",
 * "g711U", "g722", "g729", "G726-16".."G726-40", "AAL2-G726-16".."-40",
 * "16-bit audio, monaural"). Without --pt, the static PT of the name is used
 * (g711U 0, g711A 8, g722 9, g729 18, "16-bit audio, monaural" 11); a
 * dynamic codec needs --pt. One decoder context is kept for the stream, as
 * in the RTP player. The WAV's rate must be the codec's rate, except for
 * "16-bit audio, monaural", whose plug-in says 44100 whatever the stream is
 * (its decode is only a byte swap, right for L16 at any rate; a WAV of C
 * channels then takes the decoded samples as interleaved frames of C). The
 * clock is --clock HZ, else 8000 for g722 (RFC 3551 4.5.2: 16 kHz audio,
 * 8 kHz clock, position = 2 * (ext_ts - first_ts)), else the WAV's rate.
 * g729: Wireshark decodes whole 10-byte frames and ignores a trailing 2-byte
 * SID frame (notes 2.2); rtpproc decodes the SID as comfort noise, so the 80
 * frames after the speech of such a packet count as covered but are not
 * compared (sid_frames), and a SID-only packet is not decoded.
 *
 * In both modes: a packet cut by the snaplen is not checked; a packet whose
 * sequence number was already seen is a duplicate and is skipped. The
 * payload is decoded WITHOUT the RTP padding: rtpproc strips padding
 * (RFC 3550 5.1), whereas the Wireshark player would feed it to the codec.
 *
 * Every frame of the WAV not covered by a checked packet must be silence:
 * sample 0 in a PCM16 file; in a native A-law/u-law file (--alaw/--ulaw,
 * raw bytes compared through sf_read_raw) the codes of the smallest
 * magnitude (A-law 0xD5/0x55, u-law 0xFF/0x7F).
 *
 * Output: a few lines of detail, then
 *   packets=N samples=M mismatches=K uncovered_nonzero=U
 * Exit 0 only if K == 0, U == 0 and N > 0; 1 on a failed check; 2 on usage
 * or setup errors (unreadable file, codec not found, WAV format); --help
 * prints the usage and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <pcap/pcap.h>
#include <sndfile.h>

#include <wsutil/codecs.h>
#include <wsutil/filesystem.h>
#include <wsutil/privileges.h>
#include <wsutil/wslog.h>

#include "rtpproc/decode.h"
#include "rtpproc/rtp.h"

/* Mismatch lines printed before going quiet. */
#define MAX_REPORTS 10

/* G.729 (RFC 3551 4.5.6): 10-byte speech frames, a trailing 2-byte SID. */
#define G729_FRAME_BYTES   10
#define G729_SID_BYTES     2
#define G729_FRAME_SAMPLES 80

/* Wireshark's L16 plug-in name (it decodes any rate, says 44100). */
#define WS_L16 "16-bit audio, monaural"

enum mode { MODE_PCM16, MODE_ALAW, MODE_ULAW };

typedef struct wav {
    sf_count_t frames;
    int rate; /* Hz */
    int channels;
    int16_t *pcm;     /* MODE_PCM16: decoded samples, interleaved */
    uint8_t *raw;     /* MODE_ALAW/ULAW: stored code bytes */
    uint8_t *covered; /* one flag per frame: written by a checked packet */
} wav;

/* One checked payload type and its Wireshark decoder. */
typedef struct ws_codec {
    unsigned pt;
    const char *name;
    codec_handle_t h;
    void *ctx;
} ws_codec;

typedef struct check {
    enum mode mode;
    bool g711;          /* the original G.711 command line */
    ws_codec codecs[2]; /* G.711 mode: PT 0 and 8; codec mode: one */
    unsigned ncodecs;
    uint32_t clock; /* RTP clock, Hz (0: the WAV's rate) */
    bool is_g729, is_l16;
    rtpproc_flow key;
    uint32_t ssrc;
    wav w;

    /* Per-stream extension state. */
    bool started;
    uint32_t first_ts;
    uint32_t prev_ts;
    int64_t prev_rel_ts; /* ext_ts - first_ts of the previous packet */
    uint16_t prev_seq;
    int64_t prev_ext_seq;
    GHashTable *seen; /* extended seq numbers already seen */

    /* Counters. */
    uint64_t stream_packets; /* every packet of the key, duplicates included */
    uint64_t duplicates;
    uint64_t other_pt;     /* not a checked PT (events, CN, ...) */
    uint64_t not_checked;  /* checked PT but truncated, too short, or decoded to nothing */
    uint64_t unchecked_pt; /* --alaw with PT 0, --ulaw with PT 8: covered, not compared */
    uint64_t sid_frames;   /* g729: frames of trailing SIDs, covered, not compared */
    uint64_t checked;      /* N: packets compared with the WAV */
    uint64_t samples;      /* M */
    uint64_t mismatches;   /* K */
    uint64_t out_of_range; /* samples before frame 0 or after the end (part of K) */
    unsigned reports;
} check;

static void usage(FILE *f)
{
    fprintf(f, "usage: wscheck [--alaw|--ulaw] CAPTURE WAV SRC SPORT DST DPORT SSRC\n"
               "       wscheck --codec NAME [--pt N] [--clock HZ] CAPTURE WAV SRC SPORT DST "
               "DPORT SSRC\n"
               "  NAME: a Wireshark codec, e.g. g711A g711U g722 g729 G726-32 AAL2-G726-32\n"
               "        \"" WS_L16 "\"\n");
}

static void report(check *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void report(check *c, const char *fmt, ...)
{
    if (c->reports++ >= MAX_REPORTS) {
        if (c->reports == MAX_REPORTS + 1) {
            printf("  (further differences not shown)\n");
        }
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fputs("  ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

static int parse_addr(const char *text, rtpproc_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->bytes) == 1) {
        out->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out->bytes) == 1) {
        out->family = 6;
        return 0;
    }
    fprintf(stderr, "wscheck: not an IPv4/IPv6 address: '%s'\n", text);
    return -1;
}

static int parse_u32(const char *text, unsigned long max, uint32_t *out, const char *what)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 0);
    if (errno != 0 || end == text || *end != '\0' || v > max) {
        fprintf(stderr, "wscheck: invalid %s '%s'\n", what, text);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static bool addr_equal(const rtpproc_addr *a, const rtpproc_addr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

static bool flow_matches(const rtpproc_flow *f, const rtpproc_flow *key)
{
    return f->sport == key->sport && f->dport == key->dport && addr_equal(&f->src, &key->src) &&
           addr_equal(&f->dst, &key->dst);
}

/* The rate the WAV must have: G.711 mode 8000, else the codec's own. */
static int expected_rate(const check *c)
{
    if (c->g711) {
        return 8000;
    }
    if (c->is_l16) {
        return 0; /* any: the plug-in's 44100 is not the stream's rate */
    }
    return (int)codec_get_frequency(c->codecs[0].h, c->codecs[0].ctx);
}

static int load_wav(check *c, const char *path)
{
    SF_INFO info;
    memset(&info, 0, sizeof(info));
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) {
        fprintf(stderr, "wscheck: %s: %s\n", path, sf_strerror(NULL));
        return -1;
    }
    int want_sub = c->mode == MODE_ALAW   ? SF_FORMAT_ALAW
                   : c->mode == MODE_ULAW ? SF_FORMAT_ULAW
                                          : SF_FORMAT_PCM_16;
    int want_rate = expected_rate(c);
    int rc = -1;
    if ((want_rate != 0 && info.samplerate != want_rate) || (info.channels != 1 && !c->is_l16)) {
        fprintf(stderr, "wscheck: %s: %d Hz, %d channels; expected %d Hz mono\n", path,
                info.samplerate, info.channels, want_rate);
        goto out;
    }
    if ((info.format & SF_FORMAT_SUBMASK) != want_sub) {
        fprintf(stderr, "wscheck: %s: sample format 0x%04X, expected 0x%04X\n", path,
                (unsigned)(info.format & SF_FORMAT_SUBMASK), (unsigned)want_sub);
        goto out;
    }
    c->w.frames = info.frames;
    c->w.rate = info.samplerate;
    c->w.channels = info.channels;
    size_t n = info.frames > 0 ? (size_t)info.frames : 0;
    c->w.covered = g_malloc0(n + 1);
    sf_count_t got;
    if (c->mode == MODE_PCM16) {
        c->w.pcm = g_malloc0(sizeof(int16_t) * (n + 1) * (size_t)info.channels);
        got = sf_readf_short(sf, c->w.pcm, info.frames);
    } else {
        /* One byte per frame for mono G.711; sf_read_raw gives the codes. */
        c->w.raw = g_malloc0(n + 1);
        got = sf_read_raw(sf, c->w.raw, info.frames);
    }
    if (got != info.frames) {
        fprintf(stderr, "wscheck: %s: read %" PRId64 " of %" PRId64 " frames\n", path, (int64_t)got,
                (int64_t)info.frames);
        goto out;
    }
    rc = 0;
out:
    sf_close(sf);
    return rc;
}

static bool is_silence(const check *c, sf_count_t i)
{
    switch (c->mode) {
    case MODE_PCM16:
        for (int ch = 0; ch < c->w.channels; ch++) {
            if (c->w.pcm[i * c->w.channels + ch] != 0) {
                return false;
            }
        }
        return true;
    case MODE_ALAW:
        return c->w.raw[i] == 0xD5 || c->w.raw[i] == 0x55;
    case MODE_ULAW:
        return c->w.raw[i] == 0xFF || c->w.raw[i] == 0x7F;
    }
    return false;
}

/* First non-zero sample of frame i (for reports). */
static int frame_value(const check *c, sf_count_t i)
{
    if (c->mode != MODE_PCM16) {
        return c->w.raw[i];
    }
    for (int ch = 0; ch < c->w.channels; ch++) {
        if (c->w.pcm[i * c->w.channels + ch] != 0) {
            return c->w.pcm[i * c->w.channels + ch];
        }
    }
    return 0;
}

static ws_codec *codec_for_pt(check *c, unsigned pt)
{
    for (unsigned i = 0; i < c->ncodecs; i++) {
        if (c->codecs[i].pt == pt) {
            return &c->codecs[i];
        }
    }
    return NULL;
}

/*
 * Decodes `len` bytes with Wireshark's codec: the size query first, then
 * the decode, as ui/rtp_media.c does. Returns g_malloc'd samples (host
 * order), their count in *nsamples.
 */
static int16_t *ws_decode(ws_codec *k, const uint8_t *payload, size_t len, size_t *nsamples)
{
    size_t need = codec_decode(k->h, k->ctx, payload, len, NULL, NULL);
    /* G.726 may decode one codeword more than its size query says, from bits
     * the previous payload left over: leave room for a few samples more. */
    size_t cap = need + 16 * sizeof(int16_t);
    int16_t *decoded = g_malloc0(cap);
    size_t outsize = cap;
    size_t got = codec_decode(k->h, k->ctx, payload, len, decoded, &outsize);
    *nsamples = got / sizeof(int16_t);
    return decoded;
}

/* Compares one packet's payload, placed at frame `pos`, with the WAV. */
static void check_payload(check *c, uint16_t seq, uint8_t pt, int64_t pos, const uint8_t *payload,
                          size_t len)
{
    bool compare_raw = (c->mode == MODE_ALAW && pt == 8) || (c->mode == MODE_ULAW && pt == 0);
    bool compare_pcm = c->mode == MODE_PCM16;
    int16_t *decoded = NULL;
    size_t nframes = len; /* native G.711: one byte per frame */
    size_t extra = 0;     /* g729 SID frames: covered, not compared */
    int chans = c->w.channels > 0 ? c->w.channels : 1;

    if (compare_pcm) {
        size_t dec_len = len;
        if (c->is_g729 && len % G729_FRAME_BYTES == G729_SID_BYTES) {
            extra = G729_FRAME_SAMPLES;
            dec_len -= G729_SID_BYTES;
        }
        size_t nsamples = 0;
        if (dec_len > 0) {
            decoded = ws_decode(codec_for_pt(c, pt), payload, dec_len, &nsamples);
        }
        if (c->g711 && nsamples != len) {
            report(c, "seq %u: Wireshark decoded %zu bytes into %zu samples", seq, len, nsamples);
        }
        if (nsamples % (size_t)chans != 0) {
            report(c, "seq %u: %zu samples are not whole frames of %d channels", seq, nsamples,
                   chans);
        }
        nframes = nsamples / (size_t)chans;
        if (nframes == 0 && extra == 0) {
            c->not_checked++;
            g_free(decoded);
            return;
        }
    } else if (!compare_raw) {
        /* The other G.711 law in a native file: rtpproc transcoded it; the
         * frames are accounted for but cannot be compared byte for byte. */
        c->unchecked_pt++;
    }

    if (compare_pcm || compare_raw) {
        c->checked++;
    }
    for (size_t k = 0; k < nframes + extra; k++) {
        int64_t f = pos + (int64_t)k;
        bool compared = (compare_pcm || compare_raw) && k < nframes;
        if (f < 0 || f >= c->w.frames) {
            if (k >= nframes) {
                continue; /* rtpproc may end the file before a last SID's noise */
            }
            c->out_of_range++;
            c->mismatches++;
            if (compared) {
                c->samples++;
            }
            report(c, "seq %u pt %u: frame %" PRId64 " outside the file (%" PRId64 " frames)", seq,
                   pt, f, (int64_t)c->w.frames);
            continue;
        }
        c->w.covered[f] = 1;
        if (k >= nframes) {
            c->sid_frames++;
        } else if (compare_pcm) {
            for (int ch = 0; ch < chans; ch++) {
                int16_t want = decoded[k * (size_t)chans + (size_t)ch];
                int16_t have = c->w.pcm[f * chans + ch];
                c->samples++;
                if (have != want) {
                    c->mismatches++;
                    report(c, "seq %u pt %u: frame %" PRId64 " channel %d: wav %d, wireshark %d",
                           seq, pt, f, ch, have, want);
                }
            }
        } else if (compare_raw) {
            c->samples++;
            if (c->w.raw[f] != payload[k]) {
                c->mismatches++;
                report(c, "seq %u pt %u: frame %" PRId64 ": wav 0x%02X, payload 0x%02X", seq, pt, f,
                       c->w.raw[f], payload[k]);
            }
        }
    }
    g_free(decoded);
}

static void on_rtp(check *c, const rtpproc_rtp_hdr *h)
{
    c->stream_packets++;
    int64_t ext_seq, rel_ts;
    if (!c->started) {
        c->started = true;
        c->first_ts = h->ts;
        ext_seq = h->seq;
        rel_ts = 0;
    } else {
        ext_seq = c->prev_ext_seq + (int16_t)(uint16_t)(h->seq - c->prev_seq);
        rel_ts = c->prev_rel_ts + (int32_t)(uint32_t)(h->ts - c->prev_ts);
    }
    gint64 *key = g_new(gint64, 1);
    *key = ext_seq;
    if (!g_hash_table_add(c->seen, key)) {
        c->duplicates++;
        return; /* same seq seen before: neither decoded nor used for extension */
    }
    c->prev_seq = h->seq;
    c->prev_ext_seq = ext_seq;
    c->prev_ts = h->ts;
    c->prev_rel_ts = rel_ts;

    if (codec_for_pt(c, h->pt) == NULL) {
        c->other_pt++;
        return;
    }
    /* The player skips 1-byte G.711 payloads ("probably a silence packet"). */
    size_t min_len = c->g711 || (h->pt == 0 || h->pt == 8) ? 2 : 1;
    if (h->truncated || h->payload_len < min_len || h->payload_caplen < h->payload_len) {
        c->not_checked++;
        return;
    }
    uint32_t clock = c->clock != 0 ? c->clock : (uint32_t)c->w.rate;
    int64_t pos = rel_ts * c->w.rate / (int64_t)clock;
    check_payload(c, h->seq, h->pt, pos, h->payload, h->payload_len);
}

static int read_capture(check *c, const char *path)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!p) {
        fprintf(stderr, "wscheck: %s: %s\n", path, errbuf);
        return -1;
    }
    int linktype = pcap_datalink(p);
    rtpproc_decoder *d = rtpproc_decoder_new(NULL);
    if (!d) {
        pcap_close(p);
        return -1;
    }
    struct pcap_pkthdr *ph;
    const u_char *data;
    int r;
    while ((r = pcap_next_ex(p, &ph, &data)) == 1) {
        rtpproc_time_ns ts =
            (rtpproc_time_ns)ph->ts.tv_sec * RTPPROC_NS_PER_SEC + (rtpproc_time_ns)ph->ts.tv_usec;
        rtpproc_datagram dg;
        if (rtpproc_decode_frame(d, linktype, ts, data, ph->caplen, ph->len, &dg) !=
            RTPPROC_PARSE_OK) {
            continue;
        }
        if (!flow_matches(&dg.flow, &c->key)) {
            continue;
        }
        rtpproc_rtp_hdr h;
        if (rtpproc_rtp_parse(dg.payload, dg.caplen, dg.len, &h) != RTPPROC_PARSE_OK ||
            h.ssrc != c->ssrc) {
            continue;
        }
        on_rtp(c, &h);
    }
    int rc = 0;
    if (r == PCAP_ERROR) {
        /* Like tshark, keep what was read from a file cut short. */
        fprintf(stderr, "wscheck: %s: %s (checking the packets read so far)\n", path,
                pcap_geterr(p));
    }
    rtpproc_decoder_free(d);
    pcap_close(p);
    return rc;
}

/* Static PTs of Wireshark's codec names (RFC 3551 table 4), -1 if none. */
static int static_pt_of(const char *name)
{
    static const struct {
        const char *name;
        int pt;
    } names[] = {{"g711U", 0}, {"g711A", 8}, {"g722", 9}, {"g729", 18}, {WS_L16, 11}};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        if (strcmp(names[i].name, name) == 0) {
            return names[i].pt;
        }
    }
    return -1;
}

static int init_codecs(check *c, const char *argv0)
{
    /* wireshark-notes.md section 4: this order, or codecs_init() aborts. */
    init_process_policies();
    ws_log_init("wscheck", NULL);
    char *err = configuration_init(argv0, NULL);
    if (err) {
        fprintf(stderr, "wscheck: configuration_init: %s\n", err);
        g_free(err);
    }
    codecs_init();
    for (unsigned i = 0; i < c->ncodecs; i++) {
        ws_codec *k = &c->codecs[i];
        k->h = find_codec(k->name);
        if (!k->h) {
            fprintf(stderr, "wscheck: Wireshark's codec plug-in '%s' not found\n", k->name);
            return -1;
        }
        k->ctx = codec_init(k->h);
    }
    return 0;
}

int main(int argc, char **argv)
{
    check c;
    memset(&c, 0, sizeof(c));
    c.mode = MODE_PCM16;
    const char *codec_name = NULL;
    int pt = -1;
    int ai = 1;
    for (; ai < argc && argv[ai][0] == '-' && argv[ai][1] == '-'; ai++) {
        uint32_t v;
        if (strcmp(argv[ai], "--alaw") == 0) {
            c.mode = MODE_ALAW;
        } else if (strcmp(argv[ai], "--ulaw") == 0) {
            c.mode = MODE_ULAW;
        } else if (strcmp(argv[ai], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[ai], "--codec") == 0 && ai + 1 < argc) {
            codec_name = argv[++ai];
        } else if (strcmp(argv[ai], "--pt") == 0 && ai + 1 < argc) {
            if (parse_u32(argv[++ai], 127, &v, "payload type") != 0) {
                return 2;
            }
            pt = (int)v;
        } else if (strcmp(argv[ai], "--clock") == 0 && ai + 1 < argc) {
            if (parse_u32(argv[++ai], 10000000, &v, "clock rate") != 0 || v == 0) {
                return 2;
            }
            c.clock = v;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (argc - ai != 7) {
        usage(stderr);
        return 2;
    }
    if (codec_name == NULL) {
        if (pt >= 0 || c.clock != 0) {
            fprintf(stderr, "wscheck: --pt and --clock need --codec\n");
            return 2;
        }
        c.g711 = true;
        c.codecs[0] = (ws_codec){.pt = 0, .name = "g711U"};
        c.codecs[1] = (ws_codec){.pt = 8, .name = "g711A"};
        c.ncodecs = 2;
        c.clock = 8000;
    } else {
        if (c.mode != MODE_PCM16) {
            fprintf(stderr, "wscheck: --alaw/--ulaw are for the G.711 mode only\n");
            return 2;
        }
        if (pt < 0) {
            pt = static_pt_of(codec_name);
        }
        if (pt < 0) {
            fprintf(stderr, "wscheck: '%s' has no static payload type: give --pt\n", codec_name);
            return 2;
        }
        c.codecs[0] = (ws_codec){.pt = (unsigned)pt, .name = codec_name};
        c.ncodecs = 1;
        c.is_g729 = strcmp(codec_name, "g729") == 0;
        c.is_l16 = strcmp(codec_name, WS_L16) == 0;
        if (c.clock == 0 && strcmp(codec_name, "g722") == 0) {
            c.clock = 8000; /* RFC 3551 4.5.2 */
        }
    }
    const char *cap = argv[ai], *wavpath = argv[ai + 1];
    uint32_t sport, dport;
    if (parse_addr(argv[ai + 2], &c.key.src) != 0 ||
        parse_u32(argv[ai + 3], 65535, &sport, "port") != 0 ||
        parse_addr(argv[ai + 4], &c.key.dst) != 0 ||
        parse_u32(argv[ai + 5], 65535, &dport, "port") != 0 ||
        parse_u32(argv[ai + 6], 0xFFFFFFFFUL, &c.ssrc, "SSRC") != 0) {
        usage(stderr);
        return 2;
    }
    c.key.sport = (uint16_t)sport;
    c.key.dport = (uint16_t)dport;

    if (init_codecs(&c, argv[0]) != 0 || load_wav(&c, wavpath) != 0) {
        return 2;
    }
    c.seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    if (c.g711) {
        printf("wscheck %s (%s)\n", wavpath,
               c.mode == MODE_PCM16  ? "pcm16"
               : c.mode == MODE_ALAW ? "alaw"
                                     : "ulaw");
    } else {
        printf("wscheck %s (codec %s, PT %u, %d Hz, %d channel(s), clock %u Hz)\n", wavpath,
               codec_name, c.codecs[0].pt, c.w.rate, c.w.channels,
               c.clock != 0 ? c.clock : (unsigned)c.w.rate);
    }
    if (read_capture(&c, cap) != 0) {
        return 2;
    }

    uint64_t uncovered = 0, uncovered_nonzero = 0;
    for (sf_count_t i = 0; i < c.w.frames; i++) {
        if (c.w.covered[i]) {
            continue;
        }
        uncovered++;
        if (!is_silence(&c, i)) {
            uncovered_nonzero++;
            report(&c, "frame %" PRId64 ": not covered by any packet but not silence (%d)",
                   (int64_t)i, frame_value(&c, i));
        }
    }

    printf("stream_packets=%" PRIu64 " duplicates=%" PRIu64 " other_pt=%" PRIu64
           " truncated_or_short=%" PRIu64 " unchecked_law=%" PRIu64 " sid_frames=%" PRIu64
           " wav_frames=%" PRId64 " uncovered=%" PRIu64 " out_of_range=%" PRIu64 "\n",
           c.stream_packets, c.duplicates, c.other_pt, c.not_checked, c.unchecked_pt, c.sid_frames,
           (int64_t)c.w.frames, uncovered, c.out_of_range);
    printf("packets=%" PRIu64 " samples=%" PRIu64 " mismatches=%" PRIu64
           " uncovered_nonzero=%" PRIu64 "\n",
           c.checked, c.samples, c.mismatches, uncovered_nonzero);

    for (unsigned i = 0; i < c.ncodecs; i++) {
        codec_release(c.codecs[i].h, c.codecs[i].ctx);
    }
    codecs_cleanup();
    g_hash_table_destroy(c.seen);
    g_free(c.w.pcm);
    g_free(c.w.raw);
    g_free(c.w.covered);
    return c.mismatches == 0 && uncovered_nonzero == 0 && c.checked > 0 ? 0 : 1;
}
