/*
 * rtpgen - writes captures of synthetic RTP streams together with the audio
 * an ideal RTP-timestamp recorder must produce from them.
 *
 * This program is the test suite's independent reference. It links libpcap
 * and libsndfile only, never rtpproc_core: G.711 is encoded and decoded by
 * libsndfile, every header is built here byte by byte, and the expected WAV
 * is derived from the generator's own bookkeeping of what went on the wire.
 *
 * Everything is deterministic for a given command line (the PRNG is
 * splitmix64, the signal uses integer phase and IEEE +,-,*,/ only), so
 * captures/make-captures.sh regenerates the committed captures byte for byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NS_PER_SEC     1000000000LL
#define NS_PER_MSEC    1000000LL
#define NS_PER_USEC    1000LL
#define EPOCH_2024     1704067200LL /* 2024-01-01T00:00:00Z */
#define NTP_UNIX_DIFF  2208988800ULL
#define MAX_STREAMS    100
#define MAX_GAPS       32
#define MAX_RTP_BYTES  65000
#define DEFAULT_SNAP   262144
#define DUP_DELAY_NS   (250 * NS_PER_USEC)
#define AMPLITUDE      8000
#define NOISE_AMPL     250
#define RTCP_PERIOD_MS 5000
#define MAX_EVENTS     64
#define CN_LEVEL       64 /* RFC 3389 noise level, -dBov */
#define MAX_MODEL_SEC  3600
/* --jitter-reorder leaves the first packets on time, so that RFC 3550 A.1
 * probation (two packets in sequence) sees them in order. */
#define JITTER_REORDER_FROM 4

/*
 * The recorder that the expected audio models (design.md section 4, "rtp"
 * timing, with rtpproc's default bounds): a reorder window of 16 packets and
 * 100 ms of capture time, and a 2 s tolerance between a timestamp jump and
 * the arrival gap before the timeline is re-anchored at arrival time.
 */
#define MODEL_WINDOW_PACKETS 16
#define MODEL_WINDOW_NS      (100 * NS_PER_MSEC)
#define MODEL_MAX_GAP_NS     (2 * NS_PER_SEC)

/* ---- small helpers ------------------------------------------------------ */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("rtpgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        die("out of memory");
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        die("out of memory");
    }
    return q;
}

/* splitmix64: tiny, good enough, identical on every platform. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A generator for one purpose of one stream, independent of the others. */
static uint64_t rng_seed(uint64_t seed, unsigned stream, unsigned purpose)
{
    uint64_t s = seed ^ ((uint64_t)(stream + 1) << 32) ^ ((uint64_t)purpose << 16);
    (void)rng_next(&s);
    return s;
}

static double rng_unit(uint64_t *state)
{
    return (double)(rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- growable byte buffer ----------------------------------------------- */

typedef struct bytes {
    uint8_t *p;
    size_t len;
    size_t cap;
} bytes;

static void b_reserve(bytes *b, size_t extra)
{
    if (b->len + extra > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + extra) {
            cap *= 2;
        }
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
}

static void b_put(bytes *b, const void *src, size_t n)
{
    if (n == 0) {
        return;
    }
    b_reserve(b, n);
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void b_u8(bytes *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    b_put(b, &x, 1);
}

static void b_u16(bytes *b, unsigned v)
{
    b_u8(b, v >> 8);
    b_u8(b, v);
}

static void b_u32(bytes *b, uint32_t v)
{
    b_u16(b, v >> 16);
    b_u16(b, v & 0xFFFF);
}

static void b_zero(bytes *b, size_t n)
{
    b_reserve(b, n);
    memset(b->p + b->len, 0, n);
    b->len += n;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* ---- index lists: "3,10-12,40" ------------------------------------------ */

typedef struct range {
    unsigned lo;
    unsigned hi;
} range;

typedef struct range_list {
    range *v;
    size_t n;
} range_list;

static unsigned parse_uint(const char *s, const char *what, unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || end == s || *end || v > max || *s == '-') {
        die("invalid %s: '%s'", what, s);
    }
    return (unsigned)v;
}

static void parse_list(range_list *l, const char *arg, const char *what)
{
    char *copy = strdup(arg);
    char *save = NULL;
    if (!copy) {
        die("out of memory");
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        range r;
        char *dash = strchr(tok, '-');
        if (dash) {
            *dash = '\0';
            r.lo = parse_uint(tok, what, UINT_MAX);
            r.hi = parse_uint(dash + 1, what, UINT_MAX);
        } else {
            r.lo = r.hi = parse_uint(tok, what, UINT_MAX);
        }
        if (r.hi < r.lo) {
            die("invalid %s range %u-%u", what, r.lo, r.hi);
        }
        l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
        l->v[l->n++] = r;
    }
    free(copy);
}

static bool in_list(const range_list *l, unsigned k)
{
    for (size_t i = 0; i < l->n; i++) {
        if (k >= l->v[i].lo && k <= l->v[i].hi) {
            return true;
        }
    }
    return false;
}

/* ---- options ------------------------------------------------------------ */

enum codec_kind { CODEC_PCMA, CODEC_PCMU, CODEC_L16 };

typedef struct codec {
    enum codec_kind kind;
    unsigned pt;
    unsigned rate;     /* RTP clock rate = output sample rate, Hz */
    unsigned channels; /* interleaved in the payload */
} codec;

enum link_kind {
    LINK_EN10MB,
    LINK_VLAN,
    LINK_QINQ,
    LINK_SLL,
    LINK_SLL2,
    LINK_NULL,
    LINK_LOOP,
    LINK_RAW,
    LINK_IPV4,
    LINK_IPV6,
};

typedef struct link_def {
    const char *name;
    enum link_kind kind;
    int dlt;           /* for pcap_open_dead() */
    uint32_t linktype; /* LINKTYPE_ value written into pcapng */
} link_def;

static const link_def links[] = {
    {"en10mb", LINK_EN10MB, DLT_EN10MB, 1},   {"vlan", LINK_VLAN, DLT_EN10MB, 1},
    {"qinq", LINK_QINQ, DLT_EN10MB, 1},       {"sll", LINK_SLL, DLT_LINUX_SLL, 113},
    {"sll2", LINK_SLL2, DLT_LINUX_SLL2, 276}, {"null", LINK_NULL, DLT_NULL, 0},
    {"loop", LINK_LOOP, DLT_LOOP, 108},       {"raw", LINK_RAW, DLT_RAW, 101},
    {"ipv4", LINK_IPV4, DLT_IPV4, 228},       {"ipv6raw", LINK_IPV6, DLT_IPV6, 229},
};

enum out_format { FMT_AUTO, FMT_PCAP, FMT_PCAPNG };

typedef struct gap {
    unsigned after; /* packet index the gap follows */
    unsigned ms;    /* extra timestamp and arrival advance */
    bool pause;     /* --pause-after: arrival only, the timestamps go on */
} gap;

/* An impairment of packets lo..hi: "K:VALUE" or "K-L:VALUE". */
typedef struct event {
    unsigned lo;
    unsigned hi;
    int64_t v;
} event;

typedef struct event_list {
    event v[MAX_EVENTS];
    unsigned n;
} event_list;

typedef struct gen_options {
    const char *out_path;
    const char *expected_dir;
    unsigned streams;
    bool same_ssrc;
    bool bidir;
    codec fwd_codec;
    codec rev_codec;
    bool rev_codec_set;
    unsigned ptime_ms;
    unsigned rev_ptime_ms; /* 0: same as ptime_ms */
    unsigned packets;
    uint64_t seed;
    const link_def *link;
    bool ipv6;
    bool ip_options;
    unsigned fragment; /* largest IP packet, 0 = never fragment */
    enum out_format format;
    range_list loss;
    double loss_rate;
    range_list dup;
    bool seq_start_set;
    unsigned seq_start;
    bool ts_start_set;
    uint32_t ts_start;
    unsigned snaplen; /* 0 = none */
    unsigned noise;
    bool rtcp;
    gap gaps[MAX_GAPS];
    unsigned n_gaps;
    bool marker_all; /* --marker-all */
    unsigned jitter_ms;
    bool jitter_reorder;
    bool loss_burst;
    double burst_p;         /* Gilbert-Elliott: good -> bad */
    double burst_r;         /* bad -> good */
    event_list delays;      /* --delay K:MS */
    event_list dup_delays;  /* --dup-delay K:MS */
    event_list ts_jumps;    /* --ts-jump K:DELTA */
    event_list ts_restarts; /* --ts-restart K:TS */
    range_list ts_freeze;
    bool ssrc_change_set;
    unsigned ssrc_change;
    unsigned cn_ms;
    bool pad;
    bool ext;
    unsigned csrc;
    bool ssrc_set;
    uint32_t ssrc;
    int64_t start_ns; /* offset from 2024-01-01 */
} gen_options;

/*
 * "K:VALUE" (or "K-L:VALUE" when `ranges`) with VALUE in [min, max],
 * appended to `l`.
 */
static void parse_event(event_list *l, const char *arg, const char *what, bool ranges, int64_t min,
                        int64_t max)
{
    const char *colon = strchr(arg, ':');
    char kbuf[32];
    char *dash;
    char *end;
    long long v;
    if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof kbuf || l->n == MAX_EVENTS) {
        die("invalid %s '%s' (K%s:VALUE, at most %d)", what, arg, ranges ? "[-L]" : "", MAX_EVENTS);
    }
    memcpy(kbuf, arg, (size_t)(colon - arg));
    kbuf[colon - arg] = '\0';
    errno = 0;
    v = strtoll(colon + 1, &end, 0);
    if (errno || end == colon + 1 || *end || v < min || v > max) {
        die("invalid %s '%s' (value %" PRId64 "..%" PRId64 ")", what, arg, min, max);
    }
    dash = ranges ? strchr(kbuf, '-') : NULL;
    if (dash) {
        *dash = '\0';
        l->v[l->n].lo = parse_uint(kbuf, what, UINT_MAX);
        l->v[l->n].hi = parse_uint(dash + 1, what, UINT_MAX);
        if (l->v[l->n].hi < l->v[l->n].lo) {
            die("invalid %s range '%s'", what, arg);
        }
    } else {
        l->v[l->n].lo = l->v[l->n].hi = parse_uint(kbuf, what, UINT_MAX);
    }
    l->v[l->n].v = v;
    l->n++;
}

/* Sum of the values of the events at packet k. */
static int64_t event_sum(const event_list *l, unsigned k)
{
    int64_t sum = 0;
    for (unsigned i = 0; i < l->n; i++) {
        if (k >= l->v[i].lo && k <= l->v[i].hi) {
            sum += l->v[i].v;
        }
    }
    return sum;
}

static void usage(FILE *f)
{
    fputs("Usage: rtpgen [options] -o OUT.pcap [-e EXPECTED_DIR]\n"
          "\n"
          "Writes a capture of synthetic RTP streams and, with -e, the audio an ideal\n"
          "RTP-timestamp recorder must produce from each stream: one 16-bit PCM WAV per\n"
          "stream named <src>_<sport>-<dst>_<dport>-0x<SSRC>.wav (IPv6 ':' as '-'), and\n"
          "EXPECTED_DIR/streams.txt with one line per stream:\n"
          "  src sport dst dport 0xSSRC pt packets_on_wire first_seq frames\n"
          "\n"
          "Output:\n"
          "  -o, --output FILE       capture to write (required)\n"
          "  -e, --expected DIR      write expected WAVs and streams.txt into DIR\n"
          "      --format pcap|pcapng  file format (default: pcapng if FILE ends in\n"
          "                          .pcapng, else pcap; pcap has microsecond, pcapng\n"
          "                          nanosecond timestamps)\n"
          "      --linktype TYPE     en10mb (default), vlan (802.1Q VID 100), qinq\n"
          "                          (802.1ad VID 200 + 802.1Q VID 100), sll, sll2,\n"
          "                          null, loop, raw, ipv4, ipv6raw\n"
          "      --snaplen N         cut every frame to N bytes (caplen < len)\n"
          "      --start SECONDS     first packet at 2024-01-01T00:00:00Z + SECONDS\n"
          "                          (decimal, default 0)\n"
          "\n"
          "Streams:\n"
          "      --streams N         forward streams (default 1, at most 100); stream i\n"
          "                          goes 192.0.2.(10+i):(16384+4i) -> 198.51.100.(10+i):\n"
          "                          (30000+4i), or 2001:db8:0:1::(10+i) -> 2001:db8:0:2::\n"
          "                          (10+i) with --ipv6\n"
          "      --bidir             add the reverse direction of every stream\n"
          "      --ssrc 0xN          SSRC of forward stream 0 (default from --seed);\n"
          "                          forward stream i has SSRC+i, its reverse stream\n"
          "                          (SSRC+i) XOR 0x5A5A5A5A\n"
          "      --same-ssrc         every forward stream uses the same SSRC (and every\n"
          "                          reverse stream the same reverse SSRC)\n"
          "      --codec C           pcma (PT 8), pcmu (PT 0), l16 (PT 11, 44100 Hz mono)\n"
          "                          or l16:RATE[:CHANNELS[:PT]] (PT 10 for 44100 stereo,\n"
          "                          PT 11 for 44100 mono, else dynamic 96 by default)\n"
          "      --reverse-codec C   codec of the reverse streams (default: --codec)\n"
          "      --ptime MS          packet duration (default 20)\n"
          "      --reverse-ptime MS  packet duration of the reverse streams; they then\n"
          "                          cover the same time (packets * ptime / MS packets)\n"
          "      --packets N         packets per forward stream before loss (default 50)\n"
          "      --seq-start N       first sequence number (default: random per stream)\n"
          "      --ts-start N        first RTP timestamp (default: random per stream)\n"
          "      --seed N            seed of every random choice (default 1)\n"
          "\n"
          "Impairments (LIST = packet indexes from 0, e.g. 3,10-12; K = one index; every\n"
          "stream; the K:VALUE options are repeatable):\n"
          "      --loss LIST         these packets are not written\n"
          "      --loss-rate P       each packet from index 2 on is lost with probability P\n"
          "      --loss-burst P:R    bursty loss from index 2 on (Gilbert-Elliott: a good\n"
          "                          state turns bad with probability P per packet, a bad\n"
          "                          one good with R; every packet sent in the bad state\n"
          "                          is lost)\n"
          "      --dup LIST          these packets are written twice (250 us apart)\n"
          "      --dup-delay K[-L]:MS\n"
          "                          packets K..L are written a second time MS later\n"
          "      --delay K[-L]:MS    packets K..L arrive MS late (reordering)\n"
          "      --gap-after K:MS    talk-spurt gap after packet K: timestamps and arrival\n"
          "                          both jump by MS; marker bit set after it\n"
          "      --pause-after K:MS  a pause after packet K that the timestamps do not\n"
          "                          show: arrival jumps by MS, timestamps go on as if\n"
          "                          there were none; marker bit set after it\n"
          "      --marker-all        set the marker bit on every packet (as ffmpeg's\n"
          "                          Speex sender does)\n"
          "      --cn MS             during each --gap-after gap, RFC 3389 comfort noise\n"
          "                          packets (PT 13, level 64) every MS, the first at the\n"
          "                          start of the gap; they take sequence numbers\n"
          "      --jitter MS         add 0..MS of seeded arrival delay, order kept\n"
          "      --jitter-reorder    --jitter may reorder packets (the first 4 packets\n"
          "                          keep their times: RFC 3550 A.1 probation)\n"
          "      --ts-jump K:DELTA   from packet K on, timestamps are DELTA (may be\n"
          "                          negative) further; arrival unchanged\n"
          "      --ts-restart K:TS   from packet K on, timestamps restart at TS\n"
          "      --ts-freeze LIST    hold with frozen timestamps: in each run K-L, packets\n"
          "                          K+1..L carry packet K's timestamp; after L they are\n"
          "                          back on the real-time clock\n"
          "      --ssrc-change K     from packet K on, the stream continues with another\n"
          "                          SSRC (SSRC XOR 0x0F0F0F0F), sequence and timestamp\n"
          "                          base on the same 5-tuple: two streams\n"
          "\n"
          "Packet shape:\n"
          "      --pad               RTP padding on every third packet (1..8 bytes)\n"
          "      --ext               RFC 8285 one-byte header extension (audio level)\n"
          "      --csrc N            N contributing sources (0..15)\n"
          "      --ipv6              IPv6 instead of IPv4\n"
          "      --ip-options        IPv4 Router Alert option / IPv6 hop-by-hop header\n"
          "      --fragment SIZE     fragment IP packets longer than SIZE bytes (>= 68)\n"
          "      --rtcp              RTCP SR+SDES on port+1 after packet 0, then every 5 s\n"
          "      --noise N           N non-RTP frames: UDP, TCP and (Ethernet, SLL) ARP\n"
          "\n"
          "Expected audio: what a recorder following design.md section 4 (\"rtp\" timing,\n"
          "rtpproc's default bounds) writes. G.711 payloads are decoded with libsndfile,\n"
          "L16 is the PCM itself. The packets whose RTP header was captured are taken in\n"
          "capture order through a reorder window of 16 packets and 100 ms of capture\n"
          "time and released in sequence order; a packet whose place was released is\n"
          "late, one already released or held a duplicate: both add nothing. The first\n"
          "released packet is frame 0; a packet goes (ts - ts_anchor) frames after the\n"
          "anchor (timestamps extended by the signed 32-bit step). Losses and gaps are\n"
          "zeros, as are packets whose payload the snaplen cut; comfort noise spans\n"
          "become zeros when audio resumes; padding is not audio. Arrival time puts a\n"
          "packet at the previous audio packet's place plus the capture-time gap. A\n"
          "packet whose timestamp puts it more than 2 s beyond that, or wholly before\n"
          "the end of what was written, is a discontinuity: it goes where arrival time\n"
          "puts it (never before the end) and becomes the new anchor; so does a packet\n"
          "with the marker bit (the previous audio packet without) that arrival time\n"
          "puts more than 100 ms beyond where its timestamp does. A packet that\n"
          "overlaps the end is written from the end on. A stream of which nothing is\n"
          "visible gets no WAV and no line in streams.txt.\n"
          "With -e, DIR/stats.txt gives per stream: src sport dst dport 0xSSRC, then\n"
          "packets= lost= duplicates= late= reordered= discontinuities= frames=\n"
          "silence_frames= as this model counts them (docs/stream-statistics.md).\n"
          "\n"
          "  -h, --help              this text\n",
          f);
}

static codec parse_codec(const char *s)
{
    codec c = {CODEC_PCMA, 8, 8000, 1};
    if (!strcmp(s, "pcma")) {
        return c;
    }
    if (!strcmp(s, "pcmu")) {
        c.kind = CODEC_PCMU;
        c.pt = 0;
        return c;
    }
    if (!strncmp(s, "l16", 3) && (s[3] == '\0' || s[3] == ':')) {
        unsigned v[3] = {44100, 1, 0};
        int n = 0;
        c.kind = CODEC_L16;
        if (s[3] == ':') {
            char *copy = strdup(s + 4);
            char *save = NULL;
            if (!copy) {
                die("out of memory");
            }
            for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
                if (n == 3) {
                    die("invalid codec '%s'", s);
                }
                v[n] = parse_uint(t, "codec parameter", 384000);
                n++;
            }
            free(copy);
        }
        c.rate = v[0];
        c.channels = v[1];
        if (c.rate < 1000 || c.channels < 1 || c.channels > 8) {
            die("invalid codec '%s': rate >= 1000, 1..8 channels", s);
        }
        if (n >= 3) {
            c.pt = v[2];
            if (c.pt > 127 || (c.pt >= 72 && c.pt <= 76)) {
                die("invalid payload type %u", c.pt);
            }
        } else if (c.rate == 44100 && c.channels == 1) {
            c.pt = 11;
        } else if (c.rate == 44100 && c.channels == 2) {
            c.pt = 10;
        } else {
            c.pt = 96;
        }
        return c;
    }
    die("unknown codec '%s' (pcma, pcmu, l16[:RATE[:CHANNELS[:PT]]])", s);
}

/* "12.5" -> 12500000000 ns, without floating point. */
static int64_t parse_seconds(const char *s)
{
    const char *p = s;
    int64_t sec = 0;
    int64_t frac = 0;
    int64_t scale = NS_PER_SEC;
    if (!*p) {
        die("invalid --start '%s'", s);
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        sec = sec * 10 + (*p - '0');
        if (sec > 100LL * 365 * 86400) {
            die("--start '%s' too large", s);
        }
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
        }
    }
    if (*p) {
        die("invalid --start '%s'", s);
    }
    return sec * NS_PER_SEC + frac;
}

enum {
    OPT_FORMAT = 256,
    OPT_LINKTYPE,
    OPT_SNAPLEN,
    OPT_START,
    OPT_STREAMS,
    OPT_BIDIR,
    OPT_SSRC,
    OPT_SAME_SSRC,
    OPT_CODEC,
    OPT_REV_CODEC,
    OPT_PTIME,
    OPT_REV_PTIME,
    OPT_PACKETS,
    OPT_SEQ_START,
    OPT_TS_START,
    OPT_SEED,
    OPT_LOSS,
    OPT_LOSS_RATE,
    OPT_DUP,
    OPT_GAP_AFTER,
    OPT_PAUSE_AFTER,
    OPT_MARKER_ALL,
    OPT_JITTER,
    OPT_JITTER_REORDER,
    OPT_LOSS_BURST,
    OPT_DELAY,
    OPT_DUP_DELAY,
    OPT_TS_JUMP,
    OPT_TS_RESTART,
    OPT_TS_FREEZE,
    OPT_SSRC_CHANGE,
    OPT_CN,
    OPT_PAD,
    OPT_EXT,
    OPT_CSRC,
    OPT_IPV6,
    OPT_IP_OPTIONS,
    OPT_FRAGMENT,
    OPT_RTCP,
    OPT_NOISE,
};

static const struct option long_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"expected", required_argument, NULL, 'e'},
    {"help", no_argument, NULL, 'h'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"linktype", required_argument, NULL, OPT_LINKTYPE},
    {"snaplen", required_argument, NULL, OPT_SNAPLEN},
    {"start", required_argument, NULL, OPT_START},
    {"streams", required_argument, NULL, OPT_STREAMS},
    {"bidir", no_argument, NULL, OPT_BIDIR},
    {"ssrc", required_argument, NULL, OPT_SSRC},
    {"same-ssrc", no_argument, NULL, OPT_SAME_SSRC},
    {"codec", required_argument, NULL, OPT_CODEC},
    {"reverse-codec", required_argument, NULL, OPT_REV_CODEC},
    {"ptime", required_argument, NULL, OPT_PTIME},
    {"reverse-ptime", required_argument, NULL, OPT_REV_PTIME},
    {"packets", required_argument, NULL, OPT_PACKETS},
    {"seq-start", required_argument, NULL, OPT_SEQ_START},
    {"ts-start", required_argument, NULL, OPT_TS_START},
    {"seed", required_argument, NULL, OPT_SEED},
    {"loss", required_argument, NULL, OPT_LOSS},
    {"loss-rate", required_argument, NULL, OPT_LOSS_RATE},
    {"dup", required_argument, NULL, OPT_DUP},
    {"gap-after", required_argument, NULL, OPT_GAP_AFTER},
    {"jitter", required_argument, NULL, OPT_JITTER},
    {"jitter-reorder", no_argument, NULL, OPT_JITTER_REORDER},
    {"pause-after", required_argument, NULL, OPT_PAUSE_AFTER},
    {"marker-all", no_argument, NULL, OPT_MARKER_ALL},
    {"loss-burst", required_argument, NULL, OPT_LOSS_BURST},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"dup-delay", required_argument, NULL, OPT_DUP_DELAY},
    {"ts-jump", required_argument, NULL, OPT_TS_JUMP},
    {"ts-restart", required_argument, NULL, OPT_TS_RESTART},
    {"ts-freeze", required_argument, NULL, OPT_TS_FREEZE},
    {"ssrc-change", required_argument, NULL, OPT_SSRC_CHANGE},
    {"cn", required_argument, NULL, OPT_CN},
    {"pad", no_argument, NULL, OPT_PAD},
    {"ext", no_argument, NULL, OPT_EXT},
    {"csrc", required_argument, NULL, OPT_CSRC},
    {"ipv6", no_argument, NULL, OPT_IPV6},
    {"ip-options", no_argument, NULL, OPT_IP_OPTIONS},
    {"fragment", required_argument, NULL, OPT_FRAGMENT},
    {"rtcp", no_argument, NULL, OPT_RTCP},
    {"noise", required_argument, NULL, OPT_NOISE},
    {NULL, 0, NULL, 0},
};

static void parse_options(gen_options *o, int argc, char **argv)
{
    int c;
    memset(o, 0, sizeof *o);
    o->streams = 1;
    o->fwd_codec = parse_codec("pcma");
    o->ptime_ms = 20;
    o->packets = 50;
    o->seed = 1;
    o->link = &links[0];
    while ((c = getopt_long(argc, argv, "o:e:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->out_path = optarg;
            break;
        case 'e':
            o->expected_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case OPT_FORMAT:
            if (!strcmp(optarg, "pcap")) {
                o->format = FMT_PCAP;
            } else if (!strcmp(optarg, "pcapng")) {
                o->format = FMT_PCAPNG;
            } else {
                die("unknown format '%s' (pcap, pcapng)", optarg);
            }
            break;
        case OPT_LINKTYPE: {
            const link_def *found = NULL;
            for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
                if (!strcmp(optarg, links[i].name)) {
                    found = &links[i];
                }
            }
            if (!found) {
                die("unknown link type '%s'", optarg);
            }
            o->link = found;
            break;
        }
        case OPT_SNAPLEN:
            o->snaplen = parse_uint(optarg, "snaplen", DEFAULT_SNAP);
            if (o->snaplen < 16) {
                die("snaplen must be at least 16");
            }
            break;
        case OPT_START:
            o->start_ns = parse_seconds(optarg);
            break;
        case OPT_STREAMS:
            o->streams = parse_uint(optarg, "stream count", MAX_STREAMS);
            if (o->streams == 0) {
                die("--streams must be at least 1");
            }
            break;
        case OPT_BIDIR:
            o->bidir = true;
            break;
        case OPT_SSRC:
            o->ssrc = parse_uint(optarg, "SSRC", UINT32_MAX);
            o->ssrc_set = true;
            break;
        case OPT_SAME_SSRC:
            o->same_ssrc = true;
            break;
        case OPT_CODEC:
            o->fwd_codec = parse_codec(optarg);
            break;
        case OPT_REV_CODEC:
            o->rev_codec = parse_codec(optarg);
            o->rev_codec_set = true;
            break;
        case OPT_PTIME:
            o->ptime_ms = parse_uint(optarg, "ptime", 1000);
            break;
        case OPT_REV_PTIME:
            o->rev_ptime_ms = parse_uint(optarg, "reverse ptime", 1000);
            break;
        case OPT_PACKETS:
            o->packets = parse_uint(optarg, "packet count", 1000000);
            break;
        case OPT_SEQ_START:
            o->seq_start = parse_uint(optarg, "sequence number", 65535);
            o->seq_start_set = true;
            break;
        case OPT_TS_START:
            o->ts_start = parse_uint(optarg, "timestamp", UINT32_MAX);
            o->ts_start_set = true;
            break;
        case OPT_SEED: {
            char *end;
            errno = 0;
            o->seed = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end) {
                die("invalid seed '%s'", optarg);
            }
            break;
        }
        case OPT_LOSS:
            parse_list(&o->loss, optarg, "loss list");
            break;
        case OPT_LOSS_RATE: {
            char *end;
            o->loss_rate = strtod(optarg, &end);
            if (end == optarg || *end || !(o->loss_rate >= 0.0 && o->loss_rate < 1.0)) {
                die("invalid loss rate '%s' (0 <= P < 1)", optarg);
            }
            break;
        }
        case OPT_DUP:
            parse_list(&o->dup, optarg, "dup list");
            break;
        case OPT_GAP_AFTER:
        case OPT_PAUSE_AFTER: {
            char *colon = strchr(optarg, ':');
            const char *name = c == OPT_GAP_AFTER ? "--gap-after" : "--pause-after";
            if (!colon || o->n_gaps == MAX_GAPS) {
                die("invalid %s '%s' (K:MS, at most %d)", name, optarg, MAX_GAPS);
            }
            *colon = '\0';
            o->gaps[o->n_gaps].after = parse_uint(optarg, "gap packet", UINT_MAX);
            o->gaps[o->n_gaps].ms = parse_uint(colon + 1, "gap length", 3600000);
            o->gaps[o->n_gaps].pause = c == OPT_PAUSE_AFTER;
            o->n_gaps++;
            break;
        }
        case OPT_MARKER_ALL:
            o->marker_all = true;
            break;
        case OPT_JITTER:
            o->jitter_ms = parse_uint(optarg, "jitter", 10000);
            break;
        case OPT_JITTER_REORDER:
            o->jitter_reorder = true;
            break;
        case OPT_LOSS_BURST: {
            char *end;
            o->burst_p = strtod(optarg, &end);
            if (end == optarg || *end != ':') {
                die("invalid --loss-burst '%s' (P:R)", optarg);
            }
            const char *r = end + 1;
            o->burst_r = strtod(r, &end);
            if (end == r || *end || !(o->burst_p >= 0.0 && o->burst_p <= 1.0) ||
                !(o->burst_r > 0.0 && o->burst_r <= 1.0)) {
                die("invalid --loss-burst '%s' (0 <= P <= 1, 0 < R <= 1)", optarg);
            }
            o->loss_burst = true;
            break;
        }
        case OPT_DELAY:
            parse_event(&o->delays, optarg, "--delay", true, 1, 10000);
            break;
        case OPT_DUP_DELAY:
            parse_event(&o->dup_delays, optarg, "--dup-delay", true, 1, 10000);
            break;
        case OPT_TS_JUMP:
            parse_event(&o->ts_jumps, optarg, "--ts-jump", false, -(int64_t)UINT32_MAX, UINT32_MAX);
            break;
        case OPT_TS_RESTART:
            parse_event(&o->ts_restarts, optarg, "--ts-restart", false, 0, UINT32_MAX);
            break;
        case OPT_TS_FREEZE:
            parse_list(&o->ts_freeze, optarg, "freeze list");
            break;
        case OPT_SSRC_CHANGE:
            o->ssrc_change = parse_uint(optarg, "--ssrc-change packet", UINT_MAX);
            o->ssrc_change_set = true;
            if (o->ssrc_change == 0) {
                die("--ssrc-change must be at least 1 (packet 0 has the first SSRC)");
            }
            break;
        case OPT_CN:
            o->cn_ms = parse_uint(optarg, "comfort noise interval", 60000);
            if (o->cn_ms == 0) {
                die("--cn must be at least 1 ms");
            }
            break;
        case OPT_PAD:
            o->pad = true;
            break;
        case OPT_EXT:
            o->ext = true;
            break;
        case OPT_CSRC:
            o->csrc = parse_uint(optarg, "CSRC count", 15);
            break;
        case OPT_IPV6:
            o->ipv6 = true;
            break;
        case OPT_IP_OPTIONS:
            o->ip_options = true;
            break;
        case OPT_FRAGMENT:
            o->fragment = parse_uint(optarg, "fragment size", 65535);
            if (o->fragment < 68) {
                die("--fragment must be at least 68");
            }
            break;
        case OPT_RTCP:
            o->rtcp = true;
            break;
        case OPT_NOISE:
            o->noise = parse_uint(optarg, "noise count", 1000000);
            break;
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind != argc) {
        die("unexpected argument '%s' (see --help)", argv[optind]);
    }
    if (!o->out_path) {
        die("no output file (-o FILE; see --help)");
    }
    if (!o->rev_codec_set) {
        o->rev_codec = o->fwd_codec;
    }
    if (!o->rev_ptime_ms) {
        o->rev_ptime_ms = o->ptime_ms;
    }
    if (o->ptime_ms == 0 || o->rev_ptime_ms == 0) {
        die("ptime must be at least 1 ms");
    }
    if (o->packets == 0) {
        die("--packets must be at least 1");
    }
    if (o->format == FMT_AUTO) {
        size_t n = strlen(o->out_path);
        o->format = (n >= 7 && !strcmp(o->out_path + n - 7, ".pcapng")) ? FMT_PCAPNG : FMT_PCAP;
    }
    if (o->link->kind == LINK_IPV6) {
        o->ipv6 = true;
    }
    if (o->link->kind == LINK_IPV4 && o->ipv6) {
        die("--linktype ipv4 carries IPv4 only");
    }
    if (o->snaplen && o->fragment) {
        die("--snaplen with --fragment is not supported (a cut fragment cannot be reassembled)");
    }
    if (o->same_ssrc && o->streams < 2) {
        die("--same-ssrc needs --streams 2 or more");
    }
}

/* ---- frames ------------------------------------------------------------- */

typedef struct frame {
    int64_t t_ns;
    uint64_t order; /* creation order: ties keep it */
    uint8_t *data;
    uint32_t len;    /* on the wire */
    uint32_t caplen; /* written */
} frame;

typedef struct endpoint {
    int family; /* 4 or 6 */
    uint8_t addr[16];
} endpoint;

typedef struct gen_ctx {
    const gen_options *o;
    frame *frames;
    size_t n_frames;
    size_t cap_frames;
    uint32_t ip_id; /* IPv4 identification / IPv6 fragment id, per datagram */
} gen_ctx;

static size_t ep_len(const endpoint *e)
{
    return e->family == 4 ? 4 : 16;
}

static void mac_of(const endpoint *e, uint8_t mac[6])
{
    size_t n = ep_len(e);
    mac[0] = 0x02; /* locally administered, unicast */
    mac[1] = 0x00;
    memcpy(mac + 2, e->addr + n - 4, 4);
}

static void add_frame(gen_ctx *g, int64_t t_ns, const bytes *b)
{
    frame *f;
    if (g->n_frames == g->cap_frames) {
        g->cap_frames = g->cap_frames ? 2 * g->cap_frames : 1024;
        g->frames = xrealloc(g->frames, g->cap_frames * sizeof *g->frames);
    }
    f = &g->frames[g->n_frames];
    f->t_ns = t_ns;
    f->order = g->n_frames;
    f->len = (uint32_t)b->len;
    f->caplen = f->len;
    if (g->o->snaplen && f->caplen > g->o->snaplen) {
        f->caplen = g->o->snaplen;
    }
    f->data = xmalloc(f->caplen);
    memcpy(f->data, b->p, f->caplen);
    g->n_frames++;
}

/*
 * Link-layer header for a network-layer packet of the given ethertype.
 * Returns its length. DLT_NULL carries the address family in the writer's
 * byte order, DLT_LOOP in network order; IPv6 is 24, the BSD value that
 * every reader accepts.
 */
static void put_link(gen_ctx *g, bytes *b, unsigned ethertype, const uint8_t src_mac[6],
                     const uint8_t dst_mac[6])
{
    uint32_t af = ethertype == 0x86DD ? 24 : 2;
    switch (g->o->link->kind) {
    case LINK_EN10MB:
    case LINK_VLAN:
    case LINK_QINQ:
        b_put(b, dst_mac, 6);
        b_put(b, src_mac, 6);
        if (g->o->link->kind == LINK_QINQ) {
            b_u16(b, 0x88A8); /* 802.1ad service tag, VID 200 */
            b_u16(b, 200);
        }
        if (g->o->link->kind != LINK_EN10MB) {
            b_u16(b, 0x8100); /* 802.1Q customer tag, PCP 5 (voice), VID 100 */
            b_u16(b, (5u << 13) | 100);
        }
        b_u16(b, ethertype);
        break;
    case LINK_SLL:
        b_u16(b, 0); /* packet type: to us */
        b_u16(b, 1); /* ARPHRD_ETHER */
        b_u16(b, 6);
        b_put(b, src_mac, 6);
        b_zero(b, 2);
        b_u16(b, ethertype);
        break;
    case LINK_SLL2:
        b_u16(b, ethertype);
        b_u16(b, 0); /* reserved */
        b_u32(b, 2); /* interface index */
        b_u16(b, 1); /* ARPHRD_ETHER */
        b_u8(b, 0);  /* packet type: to us */
        b_u8(b, 6);
        b_put(b, src_mac, 6);
        b_zero(b, 2);
        break;
    case LINK_NULL:
        b_put(b, &af, 4);
        break;
    case LINK_LOOP:
        b_u32(b, af);
        break;
    case LINK_RAW:
    case LINK_IPV4:
    case LINK_IPV6:
        break;
    }
}

static bool link_has_arp(const gen_options *o)
{
    switch (o->link->kind) {
    case LINK_EN10MB:
    case LINK_VLAN:
    case LINK_QINQ:
    case LINK_SLL:
    case LINK_SLL2:
        return true;
    default:
        return false;
    }
}

/* RFC 1071 ones'-complement sum, continued over several pieces. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (i < n) {
        sum += (uint32_t)p[i] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Transport checksum with the RFC 768 / RFC 8200 section 8.1 pseudo-header. */
static uint16_t l4_checksum(const endpoint *src, const endpoint *dst, unsigned proto,
                            const uint8_t *l4, size_t len)
{
    uint8_t ph[8];
    uint32_t sum = 0;
    sum = csum_add(sum, src->addr, ep_len(src));
    sum = csum_add(sum, dst->addr, ep_len(dst));
    if (src->family == 4) {
        ph[0] = 0;
        ph[1] = (uint8_t)proto;
        put16(ph + 2, (unsigned)len);
        sum = csum_add(sum, ph, 4);
    } else {
        ph[0] = (uint8_t)(len >> 24);
        ph[1] = (uint8_t)(len >> 16);
        ph[2] = (uint8_t)(len >> 8);
        ph[3] = (uint8_t)len;
        ph[4] = ph[5] = ph[6] = 0;
        ph[7] = (uint8_t)proto;
        sum = csum_add(sum, ph, 8);
    }
    sum = csum_add(sum, l4, len);
    uint16_t c = csum_fold(sum);
    /* A computed 0 is sent as all ones (RFC 768). */
    return (proto == 17 && c == 0) ? 0xFFFF : c;
}

/* One IP packet (or fragment) in its link header, as a frame. */
static void emit_ip_packet(gen_ctx *g, int64_t t_ns, const endpoint *src, const endpoint *dst,
                           const uint8_t *ip, size_t len)
{
    bytes b = {0};
    uint8_t smac[6];
    uint8_t dmac[6];
    mac_of(src, smac);
    mac_of(dst, dmac);
    put_link(g, &b, src->family == 4 ? 0x0800 : 0x86DD, smac, dmac);
    b_put(&b, ip, len);
    add_frame(g, t_ns, &b);
    free(b.p);
}

static void emit_ipv4(gen_ctx *g, int64_t t_ns, const endpoint *src, const endpoint *dst,
                      unsigned proto, unsigned tos, const uint8_t *l4, size_t len)
{
    const gen_options *o = g->o;
    size_t hl = o->ip_options ? 24 : 20;
    size_t max_data = len;
    uint16_t id = (uint16_t)g->ip_id++;
    bool frag = o->fragment && hl + len > o->fragment;
    if (frag) {
        max_data = (o->fragment - hl) / 8 * 8; /* RFC 791: offsets in 8-byte units */
    }
    for (size_t off = 0; off < len || (len == 0 && off == 0); off += max_data) {
        size_t n = len - off < max_data ? len - off : max_data;
        bool more = off + n < len;
        unsigned flags = frag ? (more ? 0x2000u : 0u) : 0x4000u; /* MF, or DF when whole */
        bytes b = {0};
        b_u8(&b, 0x40 | (unsigned)(hl / 4));
        b_u8(&b, tos);
        b_u16(&b, (unsigned)(hl + n));
        b_u16(&b, id);
        b_u16(&b, flags | (unsigned)(off / 8));
        b_u8(&b, 64);
        b_u8(&b, proto);
        b_u16(&b, 0);
        b_put(&b, src->addr, 4);
        b_put(&b, dst->addr, 4);
        if (o->ip_options) {
            /* Router Alert (RFC 2113); its copied flag puts it in every fragment. */
            static const uint8_t ra[4] = {0x94, 0x04, 0x00, 0x00};
            b_put(&b, ra, 4);
        }
        put16(b.p + 10, csum_fold(csum_add(0, b.p, hl)));
        b_put(&b, l4 + off, n);
        emit_ip_packet(g, t_ns, src, dst, b.p, b.len);
        free(b.p);
        if (len == 0) {
            break;
        }
    }
}

static void emit_ipv6(gen_ctx *g, int64_t t_ns, const endpoint *src, const endpoint *dst,
                      unsigned proto, unsigned tclass, const uint8_t *l4, size_t len)
{
    const gen_options *o = g->o;
    size_t unfrag = 40 + (o->ip_options ? 8 : 0);
    bool frag = o->fragment && unfrag + len > o->fragment;
    size_t max_data = len;
    uint32_t id = g->ip_id++;
    if (frag) {
        if (o->fragment < unfrag + 8 + 8) {
            die("--fragment %u leaves no room for IPv6 fragment data", o->fragment);
        }
        max_data = (o->fragment - unfrag - 8) / 8 * 8;
    }
    for (size_t off = 0; off < len || (len == 0 && off == 0); off += max_data) {
        size_t n = len - off < max_data ? len - off : max_data;
        bool more = off + n < len;
        unsigned after_fixed = o->ip_options ? 0 : (frag ? 44 : proto);
        bytes b = {0};
        b_u32(&b, 0x60000000u | (tclass << 20));
        b_u16(&b, (unsigned)(unfrag - 40 + (frag ? 8 : 0) + n));
        b_u8(&b, after_fixed);
        b_u8(&b, 64);
        b_put(&b, src->addr, 16);
        b_put(&b, dst->addr, 16);
        if (o->ip_options) {
            /* Hop-by-hop: Router Alert (RFC 2711) + PadN to 8 bytes. */
            b_u8(&b, frag ? 44 : proto);
            b_u8(&b, 0);
            b_u8(&b, 5);
            b_u8(&b, 2);
            b_u16(&b, 0);
            b_u8(&b, 1);
            b_u8(&b, 0);
        }
        if (frag) {
            /* Fragment header, RFC 8200 section 4.5. */
            b_u8(&b, proto);
            b_u8(&b, 0);
            b_u16(&b, (unsigned)off | (more ? 1u : 0u));
            b_u32(&b, id);
        }
        b_put(&b, l4 + off, n);
        emit_ip_packet(g, t_ns, src, dst, b.p, b.len);
        free(b.p);
        if (len == 0) {
            break;
        }
    }
}

static void emit_l4(gen_ctx *g, int64_t t_ns, const endpoint *src, const endpoint *dst,
                    unsigned proto, unsigned tos, const uint8_t *l4, size_t len)
{
    if (src->family == 4) {
        emit_ipv4(g, t_ns, src, dst, proto, tos, l4, len);
    } else {
        emit_ipv6(g, t_ns, src, dst, proto, tos, l4, len);
    }
}

/*
 * Writes a UDP datagram and returns how many of its payload bytes the
 * capture holds (less than plen when the snaplen cut the frame; fragments
 * are never cut, see parse_options()).
 */
static size_t emit_udp(gen_ctx *g, int64_t t_ns, const endpoint *src, const endpoint *dst,
                       unsigned sport, unsigned dport, unsigned tos, const uint8_t *payload,
                       size_t plen)
{
    bytes u = {0};
    size_t first = g->n_frames;
    b_u16(&u, sport);
    b_u16(&u, dport);
    b_u16(&u, (unsigned)(8 + plen));
    b_u16(&u, 0);
    b_put(&u, payload, plen);
    put16(u.p + 6, l4_checksum(src, dst, 17, u.p, u.len));
    emit_l4(g, t_ns, src, dst, 17, tos, u.p, u.len);
    free(u.p);
    if (g->n_frames == first + 1) {
        const frame *f = &g->frames[first];
        size_t lost = f->len - f->caplen;
        return lost >= plen ? 0 : plen - lost;
    }
    return plen;
}

/* ---- libsndfile in memory ------------------------------------------------ */

typedef struct membuf {
    uint8_t *data;
    sf_count_t len;
    sf_count_t cap;
    sf_count_t pos;
} membuf;

static sf_count_t vio_len(void *ud)
{
    return ((membuf *)ud)->len;
}

static sf_count_t vio_seek(sf_count_t off, int whence, void *ud)
{
    membuf *m = ud;
    sf_count_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->len : 0;
    if (base + off < 0) {
        return -1;
    }
    m->pos = base + off;
    return m->pos;
}

static sf_count_t vio_read(void *ptr, sf_count_t count, void *ud)
{
    membuf *m = ud;
    sf_count_t n = m->pos >= m->len ? 0 : m->len - m->pos;
    if (n > count) {
        n = count;
    }
    memcpy(ptr, m->data + m->pos, (size_t)n);
    m->pos += n;
    return n;
}

static sf_count_t vio_write(const void *ptr, sf_count_t count, void *ud)
{
    membuf *m = ud;
    if (m->pos + count > m->cap) {
        sf_count_t cap = m->cap ? m->cap : 4096;
        while (cap < m->pos + count) {
            cap *= 2;
        }
        m->data = xrealloc(m->data, (size_t)cap);
        m->cap = cap;
    }
    if (m->pos > m->len) {
        memset(m->data + m->len, 0, (size_t)(m->pos - m->len));
    }
    memcpy(m->data + m->pos, ptr, (size_t)count);
    m->pos += count;
    if (m->pos > m->len) {
        m->len = m->pos;
    }
    return count;
}

static sf_count_t vio_tell(void *ud)
{
    return ((membuf *)ud)->pos;
}

static SF_VIRTUAL_IO vio = {vio_len, vio_seek, vio_read, vio_write, vio_tell};

/*
 * G.711 through libsndfile: encode the PCM as headerless A-law/u-law, then
 * decode those very bytes again. The expected audio is what the bytes mean,
 * not the PCM they came from.
 */
static void g711_roundtrip(enum codec_kind kind, const int16_t *pcm, size_t n, uint8_t *enc,
                           int16_t *dec)
{
    int sub = kind == CODEC_PCMA ? SF_FORMAT_ALAW : SF_FORMAT_ULAW;
    SF_INFO info = {.samplerate = 8000, .channels = 1, .format = SF_FORMAT_RAW | sub};
    membuf m = {0};
    SNDFILE *f = sf_open_virtual(&vio, SFM_WRITE, &info, &m);
    if (!f) {
        die("libsndfile (encode): %s", sf_strerror(NULL));
    }
    if (sf_write_short(f, pcm, (sf_count_t)n) != (sf_count_t)n) {
        die("libsndfile (encode): %s", sf_strerror(f));
    }
    sf_close(f);
    if (m.len != (sf_count_t)n) {
        die("libsndfile wrote %" PRId64 " G.711 bytes for %zu samples", (int64_t)m.len, n);
    }
    memcpy(enc, m.data, n);

    memset(&info, 0, sizeof info);
    info.samplerate = 8000;
    info.channels = 1;
    info.format = SF_FORMAT_RAW | sub;
    m.pos = 0;
    f = sf_open_virtual(&vio, SFM_READ, &info, &m);
    if (!f) {
        die("libsndfile (decode): %s", sf_strerror(NULL));
    }
    if (sf_read_short(f, dec, (sf_count_t)n) != (sf_count_t)n) {
        die("libsndfile (decode): %s", sf_strerror(f));
    }
    sf_close(f);
    free(m.data);
}

/* ---- the signal ------------------------------------------------------------ */

/*
 * sin(2 pi x) for x in [0, 1) by Bhaskara I's approximation (error < 0.2 %),
 * using only IEEE-exact operations so every platform writes the same bytes.
 */
static double sine_cycle(double x)
{
    double sign = 1.0;
    double y;
    if (x >= 0.5) {
        x -= 0.5;
        sign = -1.0;
    }
    y = 2.0 * x;
    return sign * 16.0 * y * (1.0 - y) / (5.0 - 4.0 * y * (1.0 - y));
}

static int16_t round_sample(double v)
{
    long r = v >= 0 ? (long)(v + 0.5) : -(long)(-v + 0.5);
    if (r > INT16_MAX) {
        r = INT16_MAX;
    }
    if (r < INT16_MIN) {
        r = INT16_MIN;
    }
    return (int16_t)r;
}

/* Interleaved signal of `frames` frames: a stream-specific tone plus seeded noise. */
static void make_signal(int16_t *out, size_t frames, const codec *c, unsigned stream, uint64_t seed)
{
    uint64_t rng = rng_seed(seed, stream, 1);
    for (unsigned ch = 0; ch < c->channels; ch++) {
        uint64_t f = 200 + (stream * 137u) % 3000u + 220u * ch;
        if (2 * f >= c->rate) {
            f = c->rate / 8;
        }
        for (size_t n = 0; n < frames; n++) {
            uint64_t phase = ((uint64_t)n * f) % c->rate;
            double v = AMPLITUDE * sine_cycle((double)phase / (double)c->rate);
            int noise = (int)(rng_next(&rng) % (2 * NOISE_AMPL + 1)) - NOISE_AMPL;
            out[n * c->channels + ch] = round_sample(v + noise);
        }
    }
}

/* ---- streams ---------------------------------------------------------------- */

/* One captured copy of a packet, as the modelled recorder receives it. */
typedef struct rx_pkt {
    int64_t t_ns;
    uint64_t order; /* emission order: ties in time keep it, as in the capture */
    uint16_t seq;
    uint32_t ts;
    bool audio;   /* false: comfort noise */
    bool cut;     /* the snaplen cut the payload */
    bool marker;  /* RTP marker bit */
    uint64_t sig; /* offset of its samples in the stream's signal */
} rx_pkt;

/* One stream on the wire (a 5-tuple and SSRC) and the model's results. */
typedef struct rx_stream {
    uint32_t ssrc;
    unsigned on_wire; /* datagrams, duplicates included, header cut or not */
    rx_pkt *pkts;     /* the visible ones */
    size_t n_pkts;
    size_t cap_pkts;
    int16_t *out; /* the expected recording, interleaved */
    uint64_t frames;
    uint64_t out_cap;
    uint16_t first_seq;
    uint64_t packets;
    int64_t lost;
    uint64_t duplicates;
    uint64_t late;
    uint64_t reordered;
    uint64_t discontinuities;
    uint64_t silence_frames;
} rx_stream;

typedef struct stream {
    unsigned index; /* creation order: forward 0, reverse 0, forward 1, ... */
    endpoint src;
    endpoint dst;
    unsigned sport;
    unsigned dport;
    uint32_t ssrc;
    codec c;
    unsigned ptime_ms;
    unsigned packets;
    uint16_t seq0;
    uint32_t ts0;
    uint16_t seq1; /* after --ssrc-change */
    uint32_t ts1;
    int64_t t0_ns;
    /* results: rx[1] is the stream after --ssrc-change */
    rx_stream rx[2];
    unsigned n_rx;
    int64_t last_t_ns;
} stream;

static void set_hosts(stream *s, const gen_options *o, unsigned i, bool reverse)
{
    endpoint a = {0};
    endpoint b = {0};
    if (o->ipv6) {
        static const uint8_t pa[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1};
        static const uint8_t pb[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2};
        a.family = b.family = 6;
        memcpy(a.addr, pa, 8);
        memcpy(b.addr, pb, 8);
        a.addr[15] = b.addr[15] = (uint8_t)(10 + i);
    } else {
        static const uint8_t pa[3] = {192, 0, 2};
        static const uint8_t pb[3] = {198, 51, 100};
        a.family = b.family = 4;
        memcpy(a.addr, pa, 3);
        memcpy(b.addr, pb, 3);
        a.addr[3] = b.addr[3] = (uint8_t)(10 + i);
    }
    s->src = reverse ? b : a;
    s->dst = reverse ? a : b;
    s->sport = reverse ? 30000 + 4 * i : 16384 + 4 * i;
    s->dport = reverse ? 16384 + 4 * i : 30000 + 4 * i;
}

static void addr_text(const endpoint *e, char *out, size_t cap)
{
    if (!inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, out, (socklen_t)cap)) {
        die("inet_ntop failed");
    }
}

static void stream_setup(stream *s, const gen_options *o, unsigned i, bool reverse, unsigned index)
{
    uint64_t rng = rng_seed(o->seed, index, 0);
    uint64_t rng_ssrc = rng_seed(o->seed, 0, 9);
    uint32_t base = o->ssrc_set ? o->ssrc : (uint32_t)rng_next(&rng_ssrc);
    uint32_t ssrc = base + (o->same_ssrc ? 0 : i);
    memset(s, 0, sizeof *s);
    s->index = index;
    set_hosts(s, o, i, reverse);
    s->ssrc = reverse ? ssrc ^ 0x5A5A5A5Au : ssrc;
    s->c = reverse ? o->rev_codec : o->fwd_codec;
    s->ptime_ms = reverse ? o->rev_ptime_ms : o->ptime_ms;
    s->packets =
        reverse ? (unsigned)((uint64_t)o->packets * o->ptime_ms / o->rev_ptime_ms) : o->packets;
    if (s->packets == 0) {
        s->packets = 1;
    }
    s->seq0 = (uint16_t)(o->seq_start_set ? o->seq_start : rng_next(&rng));
    s->ts0 = o->ts_start_set ? o->ts_start : (uint32_t)rng_next(&rng);
    s->rx[0].ssrc = s->ssrc;
    s->n_rx = 1;
    if (o->ssrc_change_set) {
        /* A new SSRC picks new random bases (RFC 3550 section 5.1). */
        uint64_t rng2 = rng_seed(o->seed, index, 10);
        s->seq1 = (uint16_t)rng_next(&rng2);
        s->ts1 = (uint32_t)rng_next(&rng2);
        s->rx[1].ssrc = s->ssrc ^ 0x0F0F0F0Fu;
        s->n_rx = 2;
    }
    /* Streams start 3 ms apart so that their packets interleave. */
    s->t0_ns = EPOCH_2024 * NS_PER_SEC + o->start_ns + (int64_t)index * 3 * NS_PER_MSEC;
    if ((uint64_t)s->c.rate * s->ptime_ms % 1000) {
        die("ptime %u ms is not a whole number of samples at %u Hz", s->ptime_ms, s->c.rate);
    }
    for (unsigned k = 0; k < o->n_gaps; k++) {
        if ((uint64_t)s->c.rate * o->gaps[k].ms % 1000) {
            die("gap %u ms is not a whole number of samples at %u Hz", o->gaps[k].ms, s->c.rate);
        }
    }
    if (o->ssrc_change_set && o->ssrc_change >= s->packets) {
        die("--ssrc-change %u: stream %u has only %u packets", o->ssrc_change, index, s->packets);
    }
    if ((uint64_t)s->c.rate * o->cn_ms % 1000) {
        die("--cn %u ms is not a whole number of samples at %u Hz", o->cn_ms, s->c.rate);
    }
}

/* RTCP SR + SDES CNAME compound packet (RFC 3550 sections 6.4.1, 6.5). */
static void emit_rtcp(gen_ctx *g, const stream *s, uint32_t ssrc, int64_t t_ns, uint32_t rtp_ts,
                      uint32_t packets, uint32_t octets)
{
    bytes b = {0};
    char cname[64];
    size_t cl;
    uint64_t ns = (uint64_t)t_ns;
    uint64_t frac = ((ns % NS_PER_SEC) << 32) / NS_PER_SEC;
    size_t sdes_start;
    snprintf(cname, sizeof cname, "rtpgen-%u@example.org", s->index);
    cl = strlen(cname);
    b_u8(&b, 0x80);
    b_u8(&b, 200);
    b_u16(&b, 6);
    b_u32(&b, ssrc);
    b_u32(&b, (uint32_t)(ns / NS_PER_SEC + NTP_UNIX_DIFF));
    b_u32(&b, (uint32_t)frac);
    b_u32(&b, rtp_ts);
    b_u32(&b, packets);
    b_u32(&b, octets);
    sdes_start = b.len;
    b_u8(&b, 0x81);
    b_u8(&b, 202);
    b_u16(&b, 0);
    b_u32(&b, ssrc);
    b_u8(&b, 1); /* CNAME */
    b_u8(&b, (unsigned)cl);
    b_put(&b, cname, cl);
    b_u8(&b, 0); /* end of list, then pad to 32 bits */
    while ((b.len - sdes_start) % 4) {
        b_u8(&b, 0);
    }
    put16(b.p + sdes_start + 2, (unsigned)((b.len - sdes_start) / 4 - 1));
    emit_udp(g, t_ns, &s->src, &s->dst, s->sport + 1, s->dport + 1, 0xB8, b.p, b.len);
    free(b.p);
}

static bool lost(const gen_options *o, unsigned k, uint64_t *rng)
{
    /* Draw for every packet so one index's fate never depends on another's. */
    bool random_loss = rng_unit(rng) < o->loss_rate;
    return in_list(&o->loss, k) || (k >= 2 && random_loss);
}

/* ---- the expected recording ------------------------------------------------ */

/*
 * The model of design.md section 4 ("rtp" timing) that the expected audio
 * comes from. It is written from the design's rules, with rtpproc's default
 * bounds (MODEL_*), and shares no code with rtpproc:
 *   - the packets of a stream are taken in capture order and extended
 *     sequence numbers (RFC 3550 A.1) decide their order on the timeline;
 *   - a packet behind a missing one is held until the gap fills or one of
 *     the window's bounds gives the missing ones up: a packet that arrives
 *     MODEL_WINDOW_PACKETS or more sequence numbers beyond the oldest missing
 *     one gives up the missing ones before the lowest held packet (with none
 *     held, the window moves on to end at the new packet); when a packet is
 *     held, any held packet that has waited MODEL_WINDOW_NS of capture time
 *     (the stream's own arrivals are its clock) gives up the missing ones
 *     before it;
 *   - a packet whose sequence number was released is a duplicate if it was
 *     released before, else late; a held one again is a duplicate;
 *   - a released audio packet goes (ts - anchor ts) frames after the anchor
 *     frame; the gap before it is silence; a packet that overlaps what was
 *     written is written from its end on; a packet that would land wholly in
 *     the past, or whose timestamp puts it more than MODEL_MAX_GAP_NS beyond
 *     the place its arrival time gives (the previous audio packet's place plus
 *     the arrival gap), is a discontinuity: it goes to that arrival place (never
 *     before the end) and becomes the anchor; so is a marked packet (the
 *     previous audio packet unmarked) that its arrival place puts more than
 *     MODEL_WINDOW_NS beyond the place its timestamp gives;
 *   - comfort noise writes nothing: its span is silence once audio resumes.
 */
typedef struct model {
    rx_stream *r;
    const int16_t *dec; /* the decoded signal */
    unsigned spp;
    unsigned ch;
    unsigned rate;
    bool started;
    int64_t first_t;
    int64_t first_ext;
    int64_t max_ext;
    int64_t next; /* lowest sequence number not yet released or given up */
    int64_t rel_base;
    uint8_t *released; /* released[ext - rel_base] */
    size_t rel_cap;
    const rx_pkt *held[MODEL_WINDOW_PACKETS + 1];
    int64_t held_ext[MODEL_WINDOW_PACKETS + 1];
    unsigned n_held;
    bool have_ts;
    uint32_t last_ts;
    int64_t ext_ts;
    int64_t anchor_ts;
    uint64_t anchor_frame;
    bool have_audio;
    int64_t prev_t;    /* arrival of the previous audio packet */
    uint64_t prev_pos; /* its place */
    bool prev_marker;  /* its marker bit */
} model;

static bool model_is_released(const model *m, int64_t ext)
{
    int64_t i = ext - m->rel_base;
    return i >= 0 && (size_t)i < m->rel_cap && m->released[i];
}

static void model_out_reserve(model *m, uint64_t frames)
{
    rx_stream *r = m->r;
    if (frames > (uint64_t)m->rate * MAX_MODEL_SEC) {
        die("expected recording of SSRC 0x%08" PRIX32 " longer than %d s", r->ssrc, MAX_MODEL_SEC);
    }
    if (frames > r->out_cap) {
        uint64_t cap = r->out_cap ? r->out_cap : 8192;
        while (cap < frames) {
            cap *= 2;
        }
        r->out = xrealloc(r->out, cap * m->ch * sizeof *r->out);
        memset(r->out + r->out_cap * m->ch, 0, (cap - r->out_cap) * m->ch * sizeof *r->out);
        r->out_cap = cap;
    }
}

/* Frames of capture time from `from` to `to`, rounded (0 if not later). */
static uint64_t model_arrival_frames(const model *m, int64_t from, int64_t to)
{
    if (to <= from) {
        return 0;
    }
    return (uint64_t)(((to - from) * (int64_t)m->rate + NS_PER_SEC / 2) / NS_PER_SEC);
}

static void model_place(model *m, const rx_pkt *p, int64_t ext)
{
    rx_stream *r = m->r;
    uint64_t n = m->spp;
    uint64_t written = r->frames;
    int64_t pos = (int64_t)m->anchor_frame + (ext - m->anchor_ts); /* rate = clock here */
    uint64_t ref_pos = m->have_audio ? m->prev_pos : 0;
    int64_t ref_t = m->have_audio ? m->prev_t : m->first_t;
    uint64_t by_arrival = ref_pos + model_arrival_frames(m, ref_t, p->t_ns);
    uint64_t tolerance = (uint64_t)(MODEL_MAX_GAP_NS * (int64_t)m->rate / NS_PER_SEC);
    uint64_t window = (uint64_t)(MODEL_WINDOW_NS * (int64_t)m->rate / NS_PER_SEC);
    uint64_t skip = 0;

    if ((pos > (int64_t)written && (uint64_t)pos > by_arrival + tolerance) ||
        pos + (int64_t)n <= (int64_t)written) {
        pos = (int64_t)(by_arrival > written ? by_arrival : written);
        m->anchor_ts = ext;
        m->anchor_frame = (uint64_t)pos;
        r->discontinuities++;
    } else if (pos >= (int64_t)written && p->marker && !m->prev_marker && m->have_audio &&
               by_arrival > (uint64_t)pos + window) {
        /* A talkspurt whose timestamps hid the pause before it. */
        pos = (int64_t)by_arrival;
        m->anchor_ts = ext;
        m->anchor_frame = (uint64_t)pos;
        r->discontinuities++;
    } else if (pos < (int64_t)written) {
        skip = written - (uint64_t)pos;
    }
    model_out_reserve(m, (uint64_t)pos + n);
    if ((uint64_t)pos > written) {
        r->silence_frames += (uint64_t)pos - written; /* already zeros */
    }
    if (p->cut) {
        r->silence_frames += n - skip;
    } else {
        memcpy(r->out + ((uint64_t)pos + skip) * m->ch, m->dec + (p->sig + skip) * m->ch,
               (n - skip) * m->ch * sizeof *r->out);
    }
    r->frames = (uint64_t)pos + n;
    m->have_audio = true;
    m->prev_t = p->t_ns;
    m->prev_pos = (uint64_t)pos;
    m->prev_marker = p->marker;
}

static void model_release(model *m, const rx_pkt *p, int64_t ext_seq)
{
    size_t i = (size_t)(ext_seq - m->rel_base);
    if (i >= m->rel_cap) {
        size_t cap = m->rel_cap ? m->rel_cap : 1024;
        while (cap <= i) {
            cap *= 2;
        }
        m->released = xrealloc(m->released, cap);
        memset(m->released + m->rel_cap, 0, cap - m->rel_cap);
        m->rel_cap = cap;
    }
    m->released[i] = 1;
    if (!m->have_ts) {
        m->have_ts = true;
        m->ext_ts = p->ts;
        m->anchor_ts = m->ext_ts;
        m->anchor_frame = 0;
    } else {
        /* A wrap at 2^32 is an ordinary step. */
        m->ext_ts += (int32_t)(p->ts - m->last_ts);
    }
    m->last_ts = p->ts;
    if (p->audio) {
        model_place(m, p, m->ext_ts);
    }
}

/* Releases the held packets that are next in sequence order. */
static void model_drain(model *m)
{
    bool found = true;
    while (found) {
        found = false;
        for (unsigned i = 0; i < m->n_held; i++) {
            if (m->held_ext[i] == m->next) {
                const rx_pkt *p = m->held[i];
                m->n_held--;
                m->held[i] = m->held[m->n_held];
                m->held_ext[i] = m->held_ext[m->n_held];
                model_release(m, p, m->next);
                m->next++;
                found = true;
                break;
            }
        }
    }
}

/* Gives up the missing packets before the lowest held one. */
static void model_give_up(model *m)
{
    int64_t lowest = INT64_MAX;
    for (unsigned i = 0; i < m->n_held; i++) {
        if (m->held_ext[i] < lowest) {
            lowest = m->held_ext[i];
        }
    }
    if (lowest != INT64_MAX) {
        m->next = lowest;
        model_drain(m);
    }
}

static void model_arrive(model *m, const rx_pkt *p)
{
    rx_stream *r = m->r;
    int64_t ext;
    if (!m->started) {
        m->started = true;
        ext = p->seq;
        m->first_t = p->t_ns;
        m->first_ext = m->max_ext = m->next = ext;
        m->rel_base = ext - 65536;
        r->first_seq = p->seq;
    } else {
        ext = m->max_ext + (int16_t)(uint16_t)(p->seq - (uint16_t)m->max_ext);
    }
    r->packets++;
    if (ext < m->next) {
        if (model_is_released(m, ext)) {
            r->duplicates++;
        } else {
            r->late++;
        }
        return;
    }
    for (unsigned i = 0; i < m->n_held; i++) {
        if (m->held_ext[i] == ext) {
            r->duplicates++;
            return;
        }
    }
    if (ext < m->max_ext) {
        r->reordered++;
    } else {
        m->max_ext = ext;
    }
    while (ext - m->next >= MODEL_WINDOW_PACKETS) {
        if (m->n_held == 0) {
            m->next = ext - MODEL_WINDOW_PACKETS + 1;
        } else {
            model_give_up(m);
        }
    }
    if (ext == m->next) {
        model_release(m, p, ext);
        m->next++;
        model_drain(m);
        return;
    }
    m->held[m->n_held] = p;
    m->held_ext[m->n_held] = ext;
    m->n_held++;
    /* The capture-time bound: no packet waits longer for a gap to fill. */
    while (m->n_held > 0) {
        int64_t oldest = INT64_MAX;
        for (unsigned i = 0; i < m->n_held; i++) {
            if (m->held[i]->t_ns < oldest) {
                oldest = m->held[i]->t_ns;
            }
        }
        if (p->t_ns - oldest < MODEL_WINDOW_NS) {
            break;
        }
        model_give_up(m);
    }
}

static int rx_cmp(const void *pa, const void *pb)
{
    const rx_pkt *a = pa;
    const rx_pkt *b = pb;
    if (a->t_ns != b->t_ns) {
        return a->t_ns < b->t_ns ? -1 : 1;
    }
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Runs the model over the visible packets of `r`; fills its results. */
static void model_run(rx_stream *r, const codec *c, unsigned spp, const int16_t *dec)
{
    model m;
    memset(&m, 0, sizeof m);
    m.r = r;
    m.dec = dec;
    m.spp = spp;
    m.ch = c->channels;
    m.rate = c->rate;
    qsort(r->pkts, r->n_pkts, sizeof *r->pkts, rx_cmp);
    for (size_t i = 0; i < r->n_pkts; i++) {
        model_arrive(&m, &r->pkts[i]);
    }
    while (m.n_held > 0) {
        model_give_up(&m); /* the end of the stream */
    }
    if (m.started) {
        r->lost = (m.max_ext - m.first_ext + 1) - (int64_t)r->packets;
    }
    free(m.released);
}

/* ---- stream generation ------------------------------------------------------ */

/* One packet as the sender sends it. */
typedef struct sent {
    unsigned k;   /* audio packet index; comfort noise: the one it follows */
    bool cn;      /* RFC 3389 comfort noise */
    uint64_t sig; /* signal offset: of its samples, or where it stands */
    int64_t t_ns; /* nominal send time */
} sent;

static void rx_add(rx_stream *r, const rx_pkt *p)
{
    if (r->n_pkts == r->cap_pkts) {
        r->cap_pkts = r->cap_pkts ? 2 * r->cap_pkts : 256;
        r->pkts = xrealloc(r->pkts, r->cap_pkts * sizeof *r->pkts);
    }
    r->pkts[r->n_pkts++] = *p;
}

static void plan_add(sent **plan, size_t *n, size_t *cap, sent p)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        *plan = xrealloc(*plan, *cap * sizeof **plan);
    }
    (*plan)[(*n)++] = p;
}

static void stream_generate(gen_ctx *g, stream *s)
{
    const gen_options *o = g->o;
    const codec *c = &s->c;
    unsigned spp = c->rate * s->ptime_ms / 1000; /* samples per channel per packet */
    unsigned ch = c->channels;
    uint64_t *off = xmalloc(s->packets * sizeof *off);
    int64_t *nominal = xmalloc(s->packets * sizeof *nominal);
    uint32_t *ts_of = xmalloc(s->packets * sizeof *ts_of);
    sent *plan = NULL;
    size_t n_plan = 0;
    size_t cap_plan = 0;
    size_t change_at = SIZE_MAX; /* plan index of the first packet after --ssrc-change */
    uint64_t gap_samples = 0;
    int64_t gap_ns = 0;
    uint64_t rng_loss = rng_seed(o->seed, s->index, 2);
    uint64_t rng_jit = rng_seed(o->seed, s->index, 3);
    uint64_t rng_pad = rng_seed(o->seed, s->index, 4);
    uint64_t rng_burst = rng_seed(o->seed, s->index, 7);
    bool burst_bad = false;
    unsigned rtcp_every = RTCP_PERIOD_MS / s->ptime_ms ? RTCP_PERIOD_MS / s->ptime_ms : 1;
    int16_t *pcm;
    int16_t *dec;
    uint8_t *enc = NULL;
    int64_t prev_t = INT64_MIN;
    uint32_t octets_sent = 0;
    uint32_t adj = 0; /* --ts-jump and --ts-restart, mod 2^32 */
    uint64_t order = 0;
    size_t hdr_len = 12 + 4 * (size_t)o->csrc + (o->ext ? 8 : 0);

    for (unsigned k = 0; k < s->packets; k++) {
        off[k] = (uint64_t)k * spp + gap_samples;
        nominal[k] = s->t0_ns + (int64_t)k * s->ptime_ms * NS_PER_MSEC + gap_ns;
        for (unsigned i = 0; i < o->n_gaps; i++) {
            if (o->gaps[i].after == k) {
                if (!o->gaps[i].pause) {
                    gap_samples += (uint64_t)c->rate * o->gaps[i].ms / 1000;
                }
                gap_ns += (int64_t)o->gaps[i].ms * NS_PER_MSEC;
            }
        }
    }
    /* What the sender puts in the timestamp field. */
    for (unsigned k = 0; k < s->packets; k++) {
        bool second = o->ssrc_change_set && k >= o->ssrc_change;
        uint32_t clock = second ? s->ts1 - (uint32_t)off[o->ssrc_change] : s->ts0;
        uint32_t real = clock + (uint32_t)off[k];
        for (unsigned i = 0; i < o->ts_restarts.n; i++) {
            if (o->ts_restarts.v[i].lo == k) {
                adj = (uint32_t)o->ts_restarts.v[i].v - real;
            }
        }
        adj += (uint32_t)event_sum(&o->ts_jumps, k);
        ts_of[k] = real + adj;
        if (k > 0 && in_list(&o->ts_freeze, k) && in_list(&o->ts_freeze, k - 1)) {
            ts_of[k] = ts_of[k - 1]; /* on hold: the clock stands still */
        }
    }
    /* The send order: audio packets, comfort noise in the gaps. */
    for (unsigned k = 0; k < s->packets; k++) {
        uint64_t step = (uint64_t)c->rate * o->cn_ms / 1000;
        uint64_t end = o->cn_ms && k + 1 < s->packets ? off[k + 1] : off[k] + spp;
        if (o->ssrc_change_set && k == o->ssrc_change) {
            change_at = n_plan;
        }
        plan_add(&plan, &n_plan, &cap_plan, (sent){k, false, off[k], nominal[k]});
        for (uint64_t at = off[k] + spp, j = 0; at < end; at += step, j++) {
            plan_add(&plan, &n_plan, &cap_plan,
                     (sent){k, true, at,
                            nominal[k] + (int64_t)s->ptime_ms * NS_PER_MSEC +
                                (int64_t)j * o->cn_ms * NS_PER_MSEC});
        }
    }

    {
        uint64_t total = off[s->packets - 1] + spp;
        if ((uint64_t)spp * ch * (c->kind == CODEC_L16 ? 2 : 1) + hdr_len + 8 > MAX_RTP_BYTES) {
            die("payload of %u samples does not fit in a UDP datagram", spp * ch);
        }
        pcm = xmalloc(total * ch * sizeof *pcm);
        make_signal(pcm, total, c, s->index, o->seed);
        if (c->kind == CODEC_L16) {
            dec = pcm;
        } else {
            enc = xmalloc(total);
            dec = xmalloc(total * sizeof *dec);
            g711_roundtrip(c->kind, pcm, total, enc, dec);
        }
    }

    for (size_t i = 0; i < n_plan; i++) {
        const sent *sp = &plan[i];
        unsigned k = sp->k;
        bool second = i >= change_at;
        rx_stream *rx = &s->rx[second ? 1 : 0];
        bool is_lost = false;
        bool marker = false;
        uint16_t seq = second ? (uint16_t)(s->seq1 + (i - change_at)) : (uint16_t)(s->seq0 + i);
        uint32_t ts = ts_of[k] + (uint32_t)(sp->sig - off[k]);
        unsigned pad = 0;
        uint64_t jitter = o->jitter_ms ? rng_next(&rng_jit) % ((uint64_t)o->jitter_ms * 1000) : 0;
        int64_t t;
        if (o->jitter_reorder && i < JITTER_REORDER_FROM) {
            jitter = 0; /* drawn all the same: later packets keep their delays */
        }
        t = sp->t_ns + (int64_t)jitter * NS_PER_USEC;
        size_t payload_len = sp->cn ? 1 : (size_t)spp * ch * (c->kind == CODEC_L16 ? 2 : 1);
        bytes r = {0};

        if (!sp->cn) {
            is_lost = lost(o, k, &rng_loss);
            if (o->loss_burst && k >= 2) {
                /* Gilbert-Elliott with a lossless good and a lossy bad state. */
                double u = rng_unit(&rng_burst);
                burst_bad = burst_bad ? !(u < o->burst_r) : u < o->burst_p;
                is_lost = is_lost || burst_bad;
            }
            marker = k == 0 || o->marker_all || (o->ssrc_change_set && k == o->ssrc_change);
            for (unsigned j = 0; j < o->n_gaps; j++) {
                marker = marker || o->gaps[j].after + 1 == k;
            }
            if (o->pad && k % 3 == 1) {
                pad = 1 + (unsigned)(rng_next(&rng_pad) % 8);
            }
        }
        if (t <= prev_t && !o->jitter_reorder) {
            t = prev_t + NS_PER_USEC; /* jitter never reorders */
        }
        prev_t = t;

        /* RFC 3550 section 5.1 fixed header. */
        b_u8(&r, 0x80 | (pad ? 0x20 : 0) | (o->ext ? 0x10 : 0) | o->csrc);
        b_u8(&r, (marker ? 0x80 : 0) | (sp->cn ? 13 : c->pt));
        b_u16(&r, seq);
        b_u32(&r, ts);
        b_u32(&r, rx->ssrc);
        for (unsigned j = 0; j < o->csrc; j++) {
            b_u32(&r, 0x00C5C000u + s->index * 16 + j);
        }
        if (o->ext) {
            /* RFC 8285 one-byte form: id 1 (RFC 6464 audio level), 1 byte, pad. */
            b_u16(&r, 0xBEDE);
            b_u16(&r, 1);
            b_u8(&r, 0x10);
            b_u8(&r, 0x80 | 30);
            b_u16(&r, 0);
        }
        if (sp->cn) {
            b_u8(&r, CN_LEVEL); /* RFC 3389 section 3: the level, no spectrum */
        } else if (c->kind == CODEC_L16) {
            for (size_t j = 0; j < (size_t)spp * ch; j++) {
                b_u16(&r, (uint16_t)pcm[off[k] * ch + j]);
            }
        } else {
            b_put(&r, enc + off[k], spp);
        }
        if (pad) {
            b_zero(&r, pad - 1);
            b_u8(&r, pad);
        }
        octets_sent += (uint32_t)payload_len;

        if (!is_lost) {
            int64_t when[2 + MAX_EVENTS];
            unsigned copies = 0;
            int64_t t_sent = t + (sp->cn ? 0 : event_sum(&o->delays, k) * NS_PER_MSEC);
            when[copies++] = t_sent;
            if (!sp->cn && in_list(&o->dup, k)) {
                when[copies++] = t_sent + DUP_DELAY_NS;
            }
            for (unsigned j = 0; !sp->cn && j < o->dup_delays.n; j++) {
                if (k >= o->dup_delays.v[j].lo && k <= o->dup_delays.v[j].hi) {
                    when[copies++] = t_sent + o->dup_delays.v[j].v * NS_PER_MSEC;
                }
            }
            for (unsigned d = 0; d < copies; d++) {
                int64_t td = when[d];
                size_t got =
                    emit_udp(g, td, &s->src, &s->dst, s->sport, s->dport, 0xB8, r.p, r.len);
                rx->on_wire++;
                if (td > s->last_t_ns) {
                    s->last_t_ns = td;
                }
                if (got < hdr_len) {
                    continue; /* the RTP header itself was cut: invisible */
                }
                rx_add(rx, &(rx_pkt){td, order++, seq, ts, !sp->cn, got != r.len, marker, sp->sig});
            }
        }
        if (!sp->cn && o->rtcp && k % rtcp_every == 0) {
            emit_rtcp(g, s, rx->ssrc, t + NS_PER_MSEC, ts + c->rate / 1000, (uint32_t)i + 1,
                      octets_sent);
        }
        free(r.p);
    }
    for (unsigned i = 0; i < s->n_rx; i++) {
        model_run(&s->rx[i], c, spp, dec);
    }
    free(plan);
    free(off);
    free(nominal);
    free(ts_of);
    if (dec != pcm) {
        free(dec);
    }
    free(pcm);
    free(enc);
}

/* ---- noise ------------------------------------------------------------------ */

static int time_cmp(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa;
    int64_t b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

static void emit_noise(gen_ctx *g, int64_t t_begin, int64_t t_end)
{
    const gen_options *o = g->o;
    uint64_t rng = rng_seed(o->seed, MAX_STREAMS + 1, 5);
    endpoint a = {0};
    endpoint b = {0};
    uint32_t tcp_seq = (uint32_t)rng_next(&rng);
    uint32_t tcp_ack = (uint32_t)rng_next(&rng);
    int64_t span = t_end > t_begin ? t_end - t_begin : NS_PER_SEC;
    if (o->ipv6) {
        static const uint8_t pa[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1};
        static const uint8_t pb[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5};
        a.family = b.family = 6;
        memcpy(a.addr, pa, 16);
        memcpy(b.addr, pb, 16);
    } else {
        static const uint8_t pa[4] = {192, 0, 2, 200};
        static const uint8_t pb[4] = {203, 0, 113, 5};
        a.family = b.family = 4;
        memcpy(a.addr, pa, 4);
        memcpy(b.addr, pb, 4);
    }
    /* Times first, in order, so the TCP sequence numbers advance with time. */
    int64_t *times = xmalloc(o->noise * sizeof *times);
    for (unsigned i = 0; i < o->noise; i++) {
        times[i] =
            t_begin + (int64_t)(rng_next(&rng) % (uint64_t)(span / NS_PER_USEC)) * NS_PER_USEC;
    }
    qsort(times, o->noise, sizeof *times, time_cmp);
    for (unsigned i = 0; i < o->noise; i++) {
        int64_t t = times[i];
        unsigned kind = i % 3;
        uint8_t data[160];
        size_t n = 20 + rng_next(&rng) % 100;
        bytes p = {0};
        for (size_t j = 0; j < n; j++) {
            data[j] = (uint8_t)rng_next(&rng);
        }
        /* Version bits 00: never mistaken for RTP (RFC 3550) by any heuristic. */
        data[0] &= 0x3F;
        if (kind == 2 && !link_has_arp(o)) {
            kind = 0;
        }
        if (kind == 0) {
            emit_udp(g, t, &a, &b, 50000 + (unsigned)(rng_next(&rng) % 1000), 7, 0, data, n);
        } else if (kind == 1) {
            b_u16(&p, 44123);
            b_u16(&p, 9); /* discard */
            b_u32(&p, tcp_seq);
            b_u32(&p, tcp_ack);
            b_u16(&p, (5u << 12) | 0x18); /* data offset 5, PSH|ACK */
            b_u16(&p, 502);
            b_u16(&p, 0);
            b_u16(&p, 0);
            b_put(&p, data, n);
            put16(p.p + 16, l4_checksum(&a, &b, 6, p.p, p.len));
            emit_l4(g, t, &a, &b, 6, 0, p.p, p.len);
            tcp_seq += (uint32_t)n;
        } else {
            static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
            static const uint8_t smac[6] = {0x02, 0x00, 192, 0, 2, 200};
            static const uint8_t sip[4] = {192, 0, 2, 200};
            static const uint8_t tip[4] = {192, 0, 2, 1};
            put_link(g, &p, 0x0806, smac, bcast);
            b_u16(&p, 1);      /* Ethernet */
            b_u16(&p, 0x0800); /* IPv4 */
            b_u8(&p, 6);
            b_u8(&p, 4);
            b_u16(&p, 1); /* request */
            b_put(&p, smac, 6);
            b_put(&p, sip, 4);
            b_zero(&p, 6);
            b_put(&p, tip, 4);
            add_frame(g, t, &p);
        }
        free(p.p);
    }
    free(times);
}

/* ---- writers ---------------------------------------------------------------- */

static int frame_cmp(const void *pa, const void *pb)
{
    const frame *a = pa;
    const frame *b = pb;
    if (a->t_ns != b->t_ns) {
        return a->t_ns < b->t_ns ? -1 : 1;
    }
    return a->order < b->order ? -1 : a->order > b->order;
}

static void write_pcap(const gen_ctx *g)
{
    const gen_options *o = g->o;
    pcap_t *p = pcap_open_dead_with_tstamp_precision(
        o->link->dlt, o->snaplen ? (int)o->snaplen : DEFAULT_SNAP, PCAP_TSTAMP_PRECISION_MICRO);
    pcap_dumper_t *d;
    if (!p) {
        die("pcap_open_dead failed");
    }
    d = pcap_dump_open(p, o->out_path);
    if (!d) {
        die("%s: %s", o->out_path, pcap_geterr(p));
    }
    for (size_t i = 0; i < g->n_frames; i++) {
        const frame *f = &g->frames[i];
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof h);
        h.ts.tv_sec = (time_t)(f->t_ns / NS_PER_SEC);
        h.ts.tv_usec = (suseconds_t)(f->t_ns % NS_PER_SEC / NS_PER_USEC);
        h.caplen = f->caplen;
        h.len = f->len;
        pcap_dump((u_char *)d, &h, f->data);
    }
    if (pcap_dump_flush(d) != 0 || ferror(pcap_dump_file(d))) {
        die("%s: write error", o->out_path);
    }
    pcap_dump_close(d);
    pcap_close(p);
}

/* pcapng blocks in the writer's byte order, as the format allows (SHB BOM). */
static void ng_u16(bytes *b, uint16_t v)
{
    b_put(b, &v, 2);
}

static void ng_u32(bytes *b, uint32_t v)
{
    b_put(b, &v, 4);
}

static void ng_finish_block(bytes *b, size_t start)
{
    uint32_t total = (uint32_t)(b->len - start + 4);
    memcpy(b->p + start + 4, &total, 4);
    ng_u32(b, total);
}

static void ng_option(bytes *b, uint16_t code, const void *val, uint16_t len)
{
    ng_u16(b, code);
    ng_u16(b, len);
    b_put(b, val, len);
    b_zero(b, (4 - len % 4) % 4);
}

static void write_pcapng(const gen_ctx *g)
{
    const gen_options *o = g->o;
    FILE *f = fopen(o->out_path, "wb");
    bytes b = {0};
    size_t start;
    uint8_t tsresol = 9; /* 10^-9 s */
    static const char appl[] = "rtpgen (rtpproc test generator)";
    if (!f) {
        die("%s: %s", o->out_path, strerror(errno));
    }
    /* Section Header Block. */
    start = b.len;
    ng_u32(&b, 0x0A0D0D0A);
    ng_u32(&b, 0);
    ng_u32(&b, 0x1A2B3C4D);
    ng_u16(&b, 1);
    ng_u16(&b, 0);
    ng_u32(&b, 0xFFFFFFFF); /* section length unknown (-1) */
    ng_u32(&b, 0xFFFFFFFF);
    ng_option(&b, 4, appl, (uint16_t)(sizeof appl - 1)); /* shb_userappl */
    ng_option(&b, 0, NULL, 0);
    ng_finish_block(&b, start);
    /* Interface Description Block. */
    start = b.len;
    ng_u32(&b, 1);
    ng_u32(&b, 0);
    ng_u16(&b, (uint16_t)o->link->linktype);
    ng_u16(&b, 0);
    ng_u32(&b, o->snaplen ? o->snaplen : DEFAULT_SNAP);
    ng_option(&b, 9, &tsresol, 1); /* if_tsresol */
    ng_option(&b, 0, NULL, 0);
    ng_finish_block(&b, start);
    for (size_t i = 0; i < g->n_frames; i++) {
        const frame *fr = &g->frames[i];
        uint64_t ts = (uint64_t)fr->t_ns;
        start = b.len;
        ng_u32(&b, 6); /* Enhanced Packet Block */
        ng_u32(&b, 0);
        ng_u32(&b, 0); /* interface 0 */
        ng_u32(&b, (uint32_t)(ts >> 32));
        ng_u32(&b, (uint32_t)ts);
        ng_u32(&b, fr->caplen);
        ng_u32(&b, fr->len);
        b_put(&b, fr->data, fr->caplen);
        b_zero(&b, (4 - fr->caplen % 4) % 4);
        ng_finish_block(&b, start);
    }
    if (fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0) {
        die("%s: write error", o->out_path);
    }
    free(b.p);
}

static void write_expected(const gen_options *o, const stream *st, size_t n)
{
    char path[4096];
    char stats_path[4096];
    FILE *manifest;
    FILE *stats;
    if (mkdir(o->expected_dir, 0777) != 0 && errno != EEXIST) {
        die("%s: %s", o->expected_dir, strerror(errno));
    }
    snprintf(path, sizeof path, "%s/streams.txt", o->expected_dir);
    snprintf(stats_path, sizeof stats_path, "%s/stats.txt", o->expected_dir);
    manifest = fopen(path, "w");
    if (!manifest) {
        die("%s: %s", path, strerror(errno));
    }
    stats = fopen(stats_path, "w");
    if (!stats) {
        die("%s: %s", stats_path, strerror(errno));
    }
    for (size_t i = 0; i < n; i++) {
        const stream *s = &st[i];
        char src[INET6_ADDRSTRLEN];
        char dst[INET6_ADDRSTRLEN];
        addr_text(&s->src, src, sizeof src);
        addr_text(&s->dst, dst, sizeof dst);
        for (unsigned j = 0; j < s->n_rx; j++) {
            const rx_stream *r = &s->rx[j];
            char name[256];
            char wav[4096];
            SF_INFO info = {0};
            SNDFILE *f;
            sf_count_t frames = (sf_count_t)r->frames;
            if (r->n_pkts == 0) {
                continue;
            }
            fprintf(manifest, "%s %u %s %u 0x%08" PRIX32 " %u %u %u %" PRId64 "\n", src, s->sport,
                    dst, s->dport, r->ssrc, s->c.pt, r->on_wire, r->first_seq, (int64_t)frames);
            fprintf(stats,
                    "%s %u %s %u 0x%08" PRIX32 " packets=%" PRIu64 " lost=%" PRId64
                    " duplicates=%" PRIu64 " late=%" PRIu64 " reordered=%" PRIu64
                    " discontinuities=%" PRIu64 " frames=%" PRIu64 " silence_frames=%" PRIu64 "\n",
                    src, s->sport, dst, s->dport, r->ssrc, r->packets, r->lost, r->duplicates,
                    r->late, r->reordered, r->discontinuities, r->frames, r->silence_frames);
            snprintf(name, sizeof name, "%s_%u-%s_%u-0x%08" PRIX32 ".wav", src, s->sport, dst,
                     s->dport, r->ssrc);
            for (char *p = name; *p; p++) {
                if (*p == ':') {
                    *p = '-';
                }
            }
            snprintf(wav, sizeof wav, "%s/%s", o->expected_dir, name);
            info.samplerate = (int)s->c.rate;
            info.channels = (int)s->c.channels;
            info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
            f = sf_open(wav, SFM_WRITE, &info);
            if (!f) {
                die("%s: %s", wav, sf_strerror(NULL));
            }
            if (frames > 0 && sf_writef_short(f, r->out, frames) != frames) {
                die("%s: %s", wav, sf_strerror(f));
            }
            if (sf_close(f) != 0) {
                die("%s: close failed", wav);
            }
        }
    }
    if (fclose(manifest) != 0) {
        die("%s: write error", path);
    }
    if (fclose(stats) != 0) {
        die("%s: write error", stats_path);
    }
}

int main(int argc, char **argv)
{
    gen_options o;
    gen_ctx g = {0};
    uint64_t rng;
    stream *st;
    size_t n = 0;
    int64_t t_begin = INT64_MAX;
    int64_t t_end = INT64_MIN;

    parse_options(&o, argc, argv);
    g.o = &o;
    rng = rng_seed(o.seed, MAX_STREAMS + 2, 6);
    g.ip_id = (uint32_t)rng_next(&rng);
    st = xmalloc(2 * o.streams * sizeof *st);
    for (unsigned i = 0; i < o.streams; i++) {
        stream_setup(&st[n], &o, i, false, (unsigned)n);
        n++;
        if (o.bidir) {
            stream_setup(&st[n], &o, i, true, (unsigned)n);
            n++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        stream_generate(&g, &st[i]);
        if (st[i].t0_ns < t_begin) {
            t_begin = st[i].t0_ns;
        }
        if (st[i].last_t_ns > t_end) {
            t_end = st[i].last_t_ns;
        }
    }
    if (o.noise) {
        emit_noise(&g, t_begin, t_end);
    }
    qsort(g.frames, g.n_frames, sizeof *g.frames, frame_cmp);
    if (o.format == FMT_PCAPNG) {
        write_pcapng(&g);
    } else {
        write_pcap(&g);
    }
    if (o.expected_dir) {
        write_expected(&o, st, n);
    }
    for (size_t i = 0; i < n; i++) {
        for (unsigned j = 0; j < st[i].n_rx; j++) {
            free(st[i].rx[j].pkts);
            free(st[i].rx[j].out);
        }
    }
    for (size_t i = 0; i < g.n_frames; i++) {
        free(g.frames[i].data);
    }
    free(g.frames);
    free(st);
    free(o.loss.v);
    free(o.dup.v);
    free(o.ts_freeze.v);
    return 0;
}
