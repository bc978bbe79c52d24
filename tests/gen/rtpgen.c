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
} gap;

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
    unsigned jitter_ms;
    bool pad;
    bool ext;
    unsigned csrc;
    bool ssrc_set;
    uint32_t ssrc;
    int64_t start_ns; /* offset from 2024-01-01 */
} gen_options;

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
          "Impairments (LIST = packet indexes from 0, e.g. 3,10-12; every stream):\n"
          "      --loss LIST         these packets are not written\n"
          "      --loss-rate P       each packet from index 2 on is lost with probability P\n"
          "      --dup LIST          these packets are written twice (250 us apart)\n"
          "      --gap-after K:MS    talk-spurt gap after packet K: timestamps and arrival\n"
          "                          both jump by MS (repeatable); marker bit set after it\n"
          "      --jitter MS         add 0..MS of seeded arrival delay, order kept\n"
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
          "Expected audio: sample n of a stream is placed at (ts - ts_first) *\n"
          "rate / clock (rate = clock here), where ts_first is the timestamp of the first\n"
          "packet whose RTP header was captured; G.711 payloads are decoded with libsndfile,\n"
          "L16 is the PCM itself. Lost packets, gaps and packets whose payload the snaplen\n"
          "cut are zeros; duplicates change nothing; padding is not audio. A stream of\n"
          "which nothing is visible gets no WAV and no line in streams.txt.\n"
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
    OPT_JITTER,
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
        case OPT_GAP_AFTER: {
            char *colon = strchr(optarg, ':');
            if (!colon || o->n_gaps == MAX_GAPS) {
                die("invalid --gap-after '%s' (K:MS, at most %d)", optarg, MAX_GAPS);
            }
            *colon = '\0';
            o->gaps[o->n_gaps].after = parse_uint(optarg, "gap packet", UINT_MAX);
            o->gaps[o->n_gaps].ms = parse_uint(colon + 1, "gap length", 3600000);
            o->n_gaps++;
            break;
        }
        case OPT_JITTER:
            o->jitter_ms = parse_uint(optarg, "jitter", 10000);
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
    int64_t t0_ns;
    /* results */
    unsigned on_wire;
    bool seen;
    uint16_t first_seq;
    uint64_t first_off; /* timestamp offset of the first visible packet */
    uint64_t end_off;   /* one past the last visible sample */
    int16_t *expected;  /* interleaved, indexed by timestamp offset */
    size_t total;       /* frames of `expected` */
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
}

/* RTCP SR + SDES CNAME compound packet (RFC 3550 sections 6.4.1, 6.5). */
static void emit_rtcp(gen_ctx *g, const stream *s, int64_t t_ns, uint32_t rtp_ts, uint32_t packets,
                      uint32_t octets)
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
    b_u32(&b, s->ssrc);
    b_u32(&b, (uint32_t)(ns / NS_PER_SEC + NTP_UNIX_DIFF));
    b_u32(&b, (uint32_t)frac);
    b_u32(&b, rtp_ts);
    b_u32(&b, packets);
    b_u32(&b, octets);
    sdes_start = b.len;
    b_u8(&b, 0x81);
    b_u8(&b, 202);
    b_u16(&b, 0);
    b_u32(&b, s->ssrc);
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

static void stream_generate(gen_ctx *g, stream *s)
{
    const gen_options *o = g->o;
    const codec *c = &s->c;
    unsigned spp = c->rate * s->ptime_ms / 1000; /* samples per channel per packet */
    unsigned ch = c->channels;
    uint64_t *off = xmalloc(s->packets * sizeof *off);
    int64_t *nominal = xmalloc(s->packets * sizeof *nominal);
    uint64_t gap_samples = 0;
    int64_t gap_ns = 0;
    uint64_t rng_loss = rng_seed(o->seed, s->index, 2);
    uint64_t rng_jit = rng_seed(o->seed, s->index, 3);
    uint64_t rng_pad = rng_seed(o->seed, s->index, 4);
    unsigned rtcp_every = RTCP_PERIOD_MS / s->ptime_ms ? RTCP_PERIOD_MS / s->ptime_ms : 1;
    int16_t *pcm;
    int16_t *dec;
    uint8_t *enc = NULL;
    int64_t prev_t = INT64_MIN;
    uint32_t octets_sent = 0;
    size_t hdr_len = 12 + 4 * (size_t)o->csrc + (o->ext ? 8 : 0);

    for (unsigned k = 0; k < s->packets; k++) {
        off[k] = (uint64_t)k * spp + gap_samples;
        nominal[k] = s->t0_ns + (int64_t)k * s->ptime_ms * NS_PER_MSEC + gap_ns;
        for (unsigned i = 0; i < o->n_gaps; i++) {
            if (o->gaps[i].after == k) {
                gap_samples += (uint64_t)c->rate * o->gaps[i].ms / 1000;
                gap_ns += (int64_t)o->gaps[i].ms * NS_PER_MSEC;
            }
        }
    }
    s->total = off[s->packets - 1] + spp;
    if ((uint64_t)spp * ch * (c->kind == CODEC_L16 ? 2 : 1) + hdr_len + 8 > MAX_RTP_BYTES) {
        die("payload of %u samples does not fit in a UDP datagram", spp * ch);
    }
    pcm = xmalloc(s->total * ch * sizeof *pcm);
    s->expected = xmalloc(s->total * ch * sizeof *s->expected);
    make_signal(pcm, s->total, c, s->index, o->seed);
    if (c->kind == CODEC_L16) {
        dec = pcm;
    } else {
        enc = xmalloc(s->total);
        dec = xmalloc(s->total * sizeof *dec);
        g711_roundtrip(c->kind, pcm, s->total, enc, dec);
    }

    for (unsigned k = 0; k < s->packets; k++) {
        bool is_lost = lost(o, k, &rng_loss);
        bool marker = k == 0;
        uint16_t seq = (uint16_t)(s->seq0 + k);
        uint32_t ts = (uint32_t)(s->ts0 + off[k]);
        unsigned pad = 0;
        uint64_t jitter = o->jitter_ms ? rng_next(&rng_jit) % ((uint64_t)o->jitter_ms * 1000) : 0;
        int64_t t = nominal[k] + (int64_t)jitter * NS_PER_USEC;
        size_t payload_len = (size_t)spp * ch * (c->kind == CODEC_L16 ? 2 : 1);
        bytes r = {0};

        for (unsigned i = 0; i < o->n_gaps; i++) {
            marker = marker || o->gaps[i].after + 1 == k;
        }
        if (o->pad && k % 3 == 1) {
            pad = 1 + (unsigned)(rng_next(&rng_pad) % 8);
        }
        if (t <= prev_t) {
            t = prev_t + NS_PER_USEC; /* jitter never reorders */
        }
        prev_t = t;

        /* RFC 3550 section 5.1 fixed header. */
        b_u8(&r, 0x80 | (pad ? 0x20 : 0) | (o->ext ? 0x10 : 0) | o->csrc);
        b_u8(&r, (marker ? 0x80 : 0) | c->pt);
        b_u16(&r, seq);
        b_u32(&r, ts);
        b_u32(&r, s->ssrc);
        for (unsigned i = 0; i < o->csrc; i++) {
            b_u32(&r, 0x00C5C000u + s->index * 16 + i);
        }
        if (o->ext) {
            /* RFC 8285 one-byte form: id 1 (RFC 6464 audio level), 1 byte, pad. */
            b_u16(&r, 0xBEDE);
            b_u16(&r, 1);
            b_u8(&r, 0x10);
            b_u8(&r, 0x80 | 30);
            b_u16(&r, 0);
        }
        if (c->kind == CODEC_L16) {
            for (size_t i = 0; i < (size_t)spp * ch; i++) {
                b_u16(&r, (uint16_t)pcm[off[k] * ch + i]);
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
            unsigned copies = in_list(&o->dup, k) ? 2 : 1;
            for (unsigned d = 0; d < copies; d++) {
                int64_t td = t + (int64_t)d * DUP_DELAY_NS;
                size_t got =
                    emit_udp(g, td, &s->src, &s->dst, s->sport, s->dport, 0xB8, r.p, r.len);
                s->on_wire++;
                if (td > s->last_t_ns) {
                    s->last_t_ns = td;
                }
                if (got < hdr_len) {
                    continue; /* the RTP header itself was cut: invisible */
                }
                if (!s->seen) {
                    s->seen = true;
                    s->first_seq = seq;
                    s->first_off = off[k];
                }
                if (off[k] + spp > s->end_off) {
                    s->end_off = off[k] + spp;
                }
                if (got == r.len) {
                    memcpy(s->expected + off[k] * ch, dec + off[k] * ch,
                           (size_t)spp * ch * sizeof *dec);
                }
            }
        }
        if (o->rtcp && k % rtcp_every == 0) {
            emit_rtcp(g, s, t + NS_PER_MSEC, ts + c->rate / 1000, k + 1, octets_sent);
        }
        free(r.p);
    }
    free(off);
    free(nominal);
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
    FILE *manifest;
    if (mkdir(o->expected_dir, 0777) != 0 && errno != EEXIST) {
        die("%s: %s", o->expected_dir, strerror(errno));
    }
    snprintf(path, sizeof path, "%s/streams.txt", o->expected_dir);
    manifest = fopen(path, "w");
    if (!manifest) {
        die("%s: %s", path, strerror(errno));
    }
    for (size_t i = 0; i < n; i++) {
        const stream *s = &st[i];
        char src[INET6_ADDRSTRLEN];
        char dst[INET6_ADDRSTRLEN];
        char name[256];
        SF_INFO info = {0};
        SNDFILE *f;
        sf_count_t frames = (sf_count_t)(s->end_off - s->first_off);
        if (!s->seen) {
            continue;
        }
        addr_text(&s->src, src, sizeof src);
        addr_text(&s->dst, dst, sizeof dst);
        fprintf(manifest, "%s %u %s %u 0x%08" PRIX32 " %u %u %u %" PRId64 "\n", src, s->sport, dst,
                s->dport, s->ssrc, s->c.pt, s->on_wire, s->first_seq, (int64_t)frames);
        snprintf(name, sizeof name, "%s_%u-%s_%u-0x%08" PRIX32 ".wav", src, s->sport, dst, s->dport,
                 s->ssrc);
        for (char *p = name; *p; p++) {
            if (*p == ':') {
                *p = '-';
            }
        }
        snprintf(path, sizeof path, "%s/%s", o->expected_dir, name);
        info.samplerate = (int)s->c.rate;
        info.channels = (int)s->c.channels;
        info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
        f = sf_open(path, SFM_WRITE, &info);
        if (!f) {
            die("%s: %s", path, sf_strerror(NULL));
        }
        if (sf_writef_short(f, s->expected + s->first_off * s->c.channels, frames) != frames) {
            die("%s: %s", path, sf_strerror(f));
        }
        if (sf_close(f) != 0) {
            die("%s: close failed", path);
        }
    }
    if (fclose(manifest) != 0) {
        die("%s: write error", path);
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
        free(st[i].expected);
    }
    for (size_t i = 0; i < g.n_frames; i++) {
        free(g.frames[i].data);
    }
    free(g.frames);
    free(st);
    free(o.loss.v);
    free(o.dup.v);
    return 0;
}
