/*
 * wscheck - checks an rtpproc G.711 recording against Wireshark's own
 * G.711 decoder (the codec plug-ins the RTP player uses, wireshark-notes.md
 * section 4).
 *
 *   wscheck [--alaw|--ulaw] CAPTURE WAV SRC SPORT DST DPORT SSRC
 *
 * The capture is read with libpcap; frames go through rtpproc_decode_frame()
 * and rtpproc_rtp_parse() only to find the packets of the stream key
 * (SRC, SPORT, DST, DPORT, SSRC). No rtpproc decoding or playout code is
 * used: every sample is produced by Wireshark's "g711U"/"g711A" codecs and
 * its position is computed here, independently, from the RTP timestamp:
 *
 *   position = ext_ts - first_ts
 *
 * where first_ts is the timestamp of the first packet of the stream (any
 * payload type) and ext_ts extends each 32-bit timestamp by the signed
 * 32-bit difference from the previous packet of the stream (so a wrap at
 * 2^32 is continuous). This is design.md section 4's `rtp` timing mode at
 * 8000 Hz, where the RTP clock equals the sample rate.
 *
 * Checked packets: PT 0 or 8, payload not cut by the snaplen, at least 2
 * bytes (the RTP player also skips 1-byte G.711 payloads). A packet whose
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
 * or setup errors (unreadable file, codec not found).
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

enum mode { MODE_PCM16, MODE_ALAW, MODE_ULAW };

typedef struct wav {
    sf_count_t frames;
    int16_t *pcm;     /* MODE_PCM16: decoded samples */
    uint8_t *raw;     /* MODE_ALAW/ULAW: stored code bytes */
    uint8_t *covered; /* one flag per frame: written by a checked packet */
} wav;

typedef struct check {
    enum mode mode;
    rtpproc_flow key;
    uint32_t ssrc;
    codec_handle_t ulaw, alaw;
    void *ulaw_ctx, *alaw_ctx;
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
    uint64_t other_pt;     /* not PT 0/8 (events, CN, ...) */
    uint64_t not_checked;  /* PT 0/8 but truncated or < 2 bytes */
    uint64_t unchecked_pt; /* --alaw with PT 0, --ulaw with PT 8: covered, not compared */
    uint64_t checked;      /* N: packets compared with the WAV */
    uint64_t samples;      /* M */
    uint64_t mismatches;   /* K */
    uint64_t out_of_range; /* samples before frame 0 or after the end (part of K) */
    unsigned reports;
} check;

static void usage(void)
{
    fprintf(stderr, "usage: wscheck [--alaw|--ulaw] CAPTURE WAV SRC SPORT DST DPORT SSRC\n");
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
    int rc = -1;
    if (info.samplerate != 8000 || info.channels != 1) {
        fprintf(stderr, "wscheck: %s: %d Hz, %d channels; expected 8000 Hz mono\n", path,
                info.samplerate, info.channels);
        goto out;
    }
    if ((info.format & SF_FORMAT_SUBMASK) != want_sub) {
        fprintf(stderr, "wscheck: %s: sample format 0x%04X, expected 0x%04X\n", path,
                (unsigned)(info.format & SF_FORMAT_SUBMASK), (unsigned)want_sub);
        goto out;
    }
    c->w.frames = info.frames;
    size_t n = info.frames > 0 ? (size_t)info.frames : 0;
    c->w.covered = g_malloc0(n + 1);
    sf_count_t got;
    if (c->mode == MODE_PCM16) {
        c->w.pcm = g_malloc0(sizeof(int16_t) * (n + 1));
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
        return c->w.pcm[i] == 0;
    case MODE_ALAW:
        return c->w.raw[i] == 0xD5 || c->w.raw[i] == 0x55;
    case MODE_ULAW:
        return c->w.raw[i] == 0xFF || c->w.raw[i] == 0x7F;
    }
    return false;
}

/* Compares one packet's payload, placed at frame `pos`, with the WAV. */
static void check_payload(check *c, uint16_t seq, uint8_t pt, int64_t pos, const uint8_t *payload,
                          size_t len)
{
    bool compare_raw = (c->mode == MODE_ALAW && pt == 8) || (c->mode == MODE_ULAW && pt == 0);
    bool compare_pcm = c->mode == MODE_PCM16;
    int16_t *decoded = NULL;
    size_t nsamples = len;

    if (compare_pcm) {
        codec_handle_t h = pt == 0 ? c->ulaw : c->alaw;
        void *ctx = pt == 0 ? c->ulaw_ctx : c->alaw_ctx;
        size_t need = codec_decode(h, ctx, payload, len, NULL, NULL);
        decoded = g_malloc0(need + sizeof(int16_t));
        size_t outsize = need;
        size_t got = codec_decode(h, ctx, payload, len, decoded, &outsize);
        nsamples = got / sizeof(int16_t);
        if (nsamples != len) {
            report(c, "seq %u: Wireshark decoded %zu bytes into %zu samples", seq, len, nsamples);
        }
    } else if (!compare_raw) {
        /* The other G.711 law in a native file: rtpproc transcoded it; the
         * frames are accounted for but cannot be compared byte for byte. */
        c->unchecked_pt++;
    }

    if (compare_pcm || compare_raw) {
        c->checked++;
    }
    for (size_t k = 0; k < nsamples; k++) {
        int64_t f = pos + (int64_t)k;
        if (f < 0 || f >= c->w.frames) {
            c->out_of_range++;
            c->mismatches++;
            if (compare_pcm || compare_raw) {
                c->samples++;
            }
            report(c, "seq %u pt %u: frame %" PRId64 " outside the file (%" PRId64 " frames)", seq,
                   pt, f, (int64_t)c->w.frames);
            continue;
        }
        c->w.covered[f] = 1;
        if (compare_pcm) {
            c->samples++;
            if (c->w.pcm[f] != decoded[k]) {
                c->mismatches++;
                report(c, "seq %u pt %u: frame %" PRId64 ": wav %d, wireshark %d", seq, pt, f,
                       c->w.pcm[f], decoded[k]);
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

    if (h->pt != 0 && h->pt != 8) {
        c->other_pt++;
        return;
    }
    if (h->truncated || h->payload_len < 2 || h->payload_caplen < h->payload_len) {
        c->not_checked++;
        return;
    }
    check_payload(c, h->seq, h->pt, rel_ts, h->payload, h->payload_len);
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
    c->ulaw = find_codec("g711U");
    c->alaw = find_codec("g711A");
    if (!c->ulaw || !c->alaw) {
        fprintf(stderr, "wscheck: Wireshark's G.711 codec plug-in (g711U/g711A) not found\n");
        return -1;
    }
    c->ulaw_ctx = codec_init(c->ulaw);
    c->alaw_ctx = codec_init(c->alaw);
    return 0;
}

int main(int argc, char **argv)
{
    check c;
    memset(&c, 0, sizeof(c));
    c.mode = MODE_PCM16;
    int ai = 1;
    for (; ai < argc && argv[ai][0] == '-' && argv[ai][1] == '-'; ai++) {
        if (strcmp(argv[ai], "--alaw") == 0) {
            c.mode = MODE_ALAW;
        } else if (strcmp(argv[ai], "--ulaw") == 0) {
            c.mode = MODE_ULAW;
        } else {
            usage();
            return 2;
        }
    }
    if (argc - ai != 7) {
        usage();
        return 2;
    }
    const char *cap = argv[ai], *wavpath = argv[ai + 1];
    uint32_t sport, dport;
    if (parse_addr(argv[ai + 2], &c.key.src) != 0 ||
        parse_u32(argv[ai + 3], 65535, &sport, "port") != 0 ||
        parse_addr(argv[ai + 4], &c.key.dst) != 0 ||
        parse_u32(argv[ai + 5], 65535, &dport, "port") != 0 ||
        parse_u32(argv[ai + 6], 0xFFFFFFFFUL, &c.ssrc, "SSRC") != 0) {
        usage();
        return 2;
    }
    c.key.sport = (uint16_t)sport;
    c.key.dport = (uint16_t)dport;

    if (init_codecs(&c, argv[0]) != 0 || load_wav(&c, wavpath) != 0) {
        return 2;
    }
    c.seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    printf("wscheck %s (%s)\n", wavpath,
           c.mode == MODE_PCM16  ? "pcm16"
           : c.mode == MODE_ALAW ? "alaw"
                                 : "ulaw");
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
                   (int64_t)i, c.mode == MODE_PCM16 ? c.w.pcm[i] : c.w.raw[i]);
        }
    }

    printf("stream_packets=%" PRIu64 " duplicates=%" PRIu64 " other_pt=%" PRIu64
           " truncated_or_short=%" PRIu64 " unchecked_law=%" PRIu64 " wav_frames=%" PRId64
           " uncovered=%" PRIu64 " out_of_range=%" PRIu64 "\n",
           c.stream_packets, c.duplicates, c.other_pt, c.not_checked, c.unchecked_pt,
           (int64_t)c.w.frames, uncovered, c.out_of_range);
    printf("packets=%" PRIu64 " samples=%" PRIu64 " mismatches=%" PRIu64
           " uncovered_nonzero=%" PRIu64 "\n",
           c.checked, c.samples, c.mismatches, uncovered_nonzero);

    codec_release(c.ulaw, c.ulaw_ctx);
    codec_release(c.alaw, c.alaw_ctx);
    codecs_cleanup();
    g_hash_table_destroy(c.seen);
    g_free(c.w.pcm);
    g_free(c.w.raw);
    g_free(c.w.covered);
    return c.mismatches == 0 && uncovered_nonzero == 0 && c.checked > 0 ? 0 : 1;
}
