/*
 * benchgen - writes large benchmark captures of concurrent G.711 RTP streams.
 *
 * Unlike tests/gen/rtpgen (the test suite's reference, at most 100 streams,
 * with expected audio), this tool only has to be fast and memory-bounded:
 * packets are produced in capture-time order from a heap of the streams'
 * next arrival times and written through one buffer, so memory depends on
 * the number of streams, never on the number of packets.
 *
 * Every stream sends 20 ms of G.711 (PT 8 or PT 0) from its own 5-tuple and
 * SSRC for the whole capture; all start within the first 20 ms, as in a
 * capture started on a link that already carries them (--ramp spreads the
 * starts instead). Slots are lost with a small probability (never
 * a stream's first two or last, so each recording spans exactly
 * per_stream * 160 frames), arrive up to --jitter ms late (less than a
 * packet interval, so a stream stays in order and capture time never goes
 * back), and non-RTP noise is spread evenly between them: DNS-like queries,
 * random UDP payloads, and RTP-looking packets that each carry a new SSRC on
 * a new source, which can never pass RFC 3550 probation.
 *
 * The streams (addresses, SSRCs, loss, jitter, audio) depend only on the
 * seed, the stream count and the packets per stream; the noise draws from
 * generators of its own. Two captures with the same streams and different
 * noise therefore carry exactly the same RTP packets.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS_PER_MSEC   1000000LL
#define PTIME_NS      (20 * NS_PER_MSEC)
#define FRAME_SAMPLES 160          /* 20 ms at 8 kHz */
#define START_SEC     1704067200LL /* 2024-01-01T00:00:00Z */
#define ETH_LEN       14
#define IP_LEN        20
#define UDP_LEN       8
#define RTP_LEN       12
#define HDR_LEN       (ETH_LEN + IP_LEN + UDP_LEN)
#define MAX_FRAME     (HDR_LEN + 400)
#define OUT_BUF       (1 << 20)
/* The audio: NTONES looping signals of LOOP_FRAMES packets per codec. A
 * tone makes a whole number of cycles per loop, so the loop is seamless. */
#define NTONES       16
#define LOOP_FRAMES  64
#define LOOP_SAMPLES (LOOP_FRAMES * FRAME_SAMPLES)

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("benchgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* splitmix64: tiny, identical on every platform. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A stateless draw for (stream, slot): loss must be known before writing
 * (the exact packet count needs it) and again while writing. */
static uint64_t rng_hash(uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t s = seed ^ (a * 0xD1B54A32D192ED03ULL) ^ (b * 0x8CB92BA72F3D8DD7ULL);
    return rng_next(&s);
}

/* ---- G.711 encoders (ITU-T G.711 segment tables) ------------------------ */

static int segment(int v, const int *end)
{
    for (int i = 0; i < 8; i++) {
        if (v <= end[i]) {
            return i;
        }
    }
    return 8;
}

static uint8_t alaw_encode(int pcm)
{
    static const int end[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
    int mask;
    pcm >>= 3;
    if (pcm >= 0) {
        mask = 0xD5;
    } else {
        mask = 0x55;
        pcm = -pcm - 1;
    }
    int seg = segment(pcm, end);
    if (seg >= 8) {
        return (uint8_t)(0x7F ^ mask);
    }
    int v = seg << 4;
    v |= seg < 2 ? (pcm >> 1) & 0xF : (pcm >> seg) & 0xF;
    return (uint8_t)(v ^ mask);
}

static uint8_t ulaw_encode(int pcm)
{
    static const int end[8] = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
    int mask;
    pcm >>= 2;
    if (pcm < 0) {
        pcm = -pcm;
        mask = 0x7F;
    } else {
        mask = 0xFF;
    }
    if (pcm > 8159) {
        pcm = 8159;
    }
    pcm += 0x84 >> 2;
    int seg = segment(pcm, end);
    if (seg >= 8) {
        return (uint8_t)(0x7F ^ mask);
    }
    return (uint8_t)(((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask);
}

/* ---- streams -------------------------------------------------------------- */

typedef struct bstream {
    int64_t next_ns; /* arrival time of slot k */
    int64_t base_ns; /* nominal time of slot 0 */
    uint64_t rng;    /* jitter */
    uint32_t k;
    uint32_t ssrc;
    uint32_t ts0;
    uint32_t src, dst;
    uint16_t seq0;
    uint16_t sport, dport;
    uint16_t ipid;
    uint8_t pt;
    uint8_t tone;
    uint8_t loop_off;
} bstream;

typedef struct gen {
    uint64_t seed;
    uint32_t nstreams;
    uint32_t per_stream;
    double loss;
    uint64_t loss_thr; /* a slot is lost when its draw is below */
    int64_t jitter_ns;
    int64_t ramp_ns; /* streams start spread over this span */
    bstream *s;
    uint32_t *heap;
    uint32_t nheap;
    uint8_t (*audio)[2][LOOP_FRAMES][FRAME_SAMPLES]; /* [tone][pcmu,pcma] */
    /* output */
    int fd;
    uint8_t *buf;
    size_t used;
    uint64_t bytes;
    /* noise */
    uint64_t noise_rng;
    unsigned rtp_noise_permille;
    uint64_t rtp_noise_sent;
} gen;

static bool slot_lost(const gen *g, uint32_t i, uint32_t k)
{
    if (k < 2 || k + 1 >= g->per_stream) {
        return false; /* keeps every recording per_stream * 160 frames long */
    }
    return rng_hash(g->seed ^ 0x10557ULL, i, k) < g->loss_thr;
}

static bool heap_less(const gen *g, uint32_t a, uint32_t b)
{
    if (g->s[a].next_ns != g->s[b].next_ns) {
        return g->s[a].next_ns < g->s[b].next_ns;
    }
    return a < b;
}

static void heap_down(gen *g, uint32_t pos)
{
    uint32_t n = g->nheap, *h = g->heap;
    for (;;) {
        uint32_t l = 2 * pos + 1, m = pos;
        if (l < n && heap_less(g, h[l], h[m])) {
            m = l;
        }
        if (l + 1 < n && heap_less(g, h[l + 1], h[m])) {
            m = l + 1;
        }
        if (m == pos) {
            return;
        }
        uint32_t t = h[pos];
        h[pos] = h[m];
        h[m] = t;
        pos = m;
    }
}

static void slot_time(gen *g, bstream *st)
{
    int64_t j = g->jitter_ns > 0 ? (int64_t)(rng_next(&st->rng) % (uint64_t)(g->jitter_ns + 1)) : 0;
    st->next_ns = st->base_ns + (int64_t)st->k * PTIME_NS + j;
}

static void make_audio(gen *g)
{
    g->audio = calloc(NTONES, sizeof(*g->audio));
    if (g->audio == NULL) {
        die("out of memory");
    }
    uint64_t r = g->seed ^ 0xA0D10ULL;
    for (unsigned t = 0; t < NTONES; t++) {
        /* 400 Hz + t * 135 Hz (approximately), a second partial, and noise. */
        unsigned cycles = 512 + 173 * t;
        double amp = 3000.0 + 400.0 * t;
        for (unsigned n = 0; n < LOOP_SAMPLES; n++) {
            double ph = 2.0 * M_PI * (double)cycles * (double)n / LOOP_SAMPLES;
            double v = amp * sin(ph) + 0.3 * amp * sin(3.0 * ph);
            v += (double)(int)(rng_next(&r) % 601) - 300.0;
            int pcm = (int)lrint(v);
            g->audio[t][0][n / FRAME_SAMPLES][n % FRAME_SAMPLES] = ulaw_encode(pcm);
            g->audio[t][1][n / FRAME_SAMPLES][n % FRAME_SAMPLES] = alaw_encode(pcm);
        }
    }
}

static void make_streams(gen *g)
{
    g->s = calloc(g->nstreams, sizeof(*g->s));
    g->heap = calloc(g->nstreams, sizeof(*g->heap));
    if (g->s == NULL || g->heap == NULL) {
        die("out of memory");
    }
    for (uint32_t i = 0; i < g->nstreams; i++) {
        bstream *st = &g->s[i];
        uint64_t r = rng_hash(g->seed, i, 0x5EED);
        st->rng = rng_hash(g->seed, i, 0x717);
        do {
            st->ssrc = (uint32_t)rng_next(&r);
        } while (st->ssrc == 0);
        st->seq0 = (uint16_t)rng_next(&r);
        st->ts0 = (uint32_t)rng_next(&r);
        st->pt = (rng_next(&r) & 1) ? 8 : 0;
        st->tone = (uint8_t)(rng_next(&r) % NTONES);
        st->loop_off = (uint8_t)(rng_next(&r) % LOOP_FRAMES);
        st->ipid = (uint16_t)rng_next(&r);
        /* Distinct sources 10.1.0.1 ... (one per stream); 64 media servers. */
        uint32_t host = i + 1;
        st->src = (10u << 24) | ((1u + (host >> 16)) << 16) | (host & 0xFFFF);
        st->dst = (192u << 24) | (168u << 16) | (1u << 8) | (1u + (i % 64));
        st->sport = (uint16_t)(16384 + 2 * (rng_next(&r) % 8000));
        st->dport = (uint16_t)(20000 + 2 * (i / 64 % 20000));
        /* Spread the streams' starts over one packet interval (every
         * stream already running when the capture starts), or --ramp. */
        int64_t span = g->ramp_ns > PTIME_NS ? g->ramp_ns : PTIME_NS;
        st->base_ns = START_SEC * 1000000000LL + (int64_t)i * span / g->nstreams;
        st->k = 0;
        slot_time(g, st);
        g->heap[i] = i;
    }
    g->nheap = g->nstreams;
    for (uint32_t p = g->nheap / 2; p-- > 0;) {
        heap_down(g, p);
    }
}

/* ---- output ---------------------------------------------------------------- */

static void out_flush(gen *g)
{
    size_t off = 0;
    while (off < g->used) {
        ssize_t n = write(g->fd, g->buf + off, g->used - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("write: %s", strerror(errno));
        }
        off += (size_t)n;
    }
    g->used = 0;
}

static uint8_t *out_reserve(gen *g, size_t n)
{
    if (g->used + n > OUT_BUF) {
        out_flush(g);
    }
    uint8_t *p = g->buf + g->used;
    g->used += n;
    g->bytes += n;
    return p;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A pcap record header and Ethernet/IPv4/UDP headers for a UDP payload of
 * plen bytes; returns where the payload goes. */
static uint8_t *frame(gen *g, int64_t t_ns, uint32_t src, uint32_t dst, uint16_t sport,
                      uint16_t dport, uint16_t ipid, uint8_t tos, size_t plen)
{
    size_t flen = HDR_LEN + plen;
    uint8_t *p = out_reserve(g, 16 + flen);
    put32le(p, (uint32_t)(t_ns / 1000000000LL));
    put32le(p + 4, (uint32_t)(t_ns % 1000000000LL / 1000));
    put32le(p + 8, (uint32_t)flen);
    put32le(p + 12, (uint32_t)flen);
    uint8_t *e = p + 16;
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
    memcpy(e, macs, 12);
    put16(e + 12, 0x0800);
    uint8_t *ip = e + ETH_LEN;
    ip[0] = 0x45;
    ip[1] = tos;
    put16(ip + 2, (unsigned)(IP_LEN + UDP_LEN + plen));
    put16(ip + 4, ipid);
    put16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = 17;
    put16(ip + 10, 0);
    put32(ip + 12, src);
    put32(ip + 16, dst);
    uint32_t sum = 0;
    for (int i = 0; i < IP_LEN; i += 2) {
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    }
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    put16(ip + 10, ~sum & 0xFFFF);
    uint8_t *udp = ip + IP_LEN;
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (unsigned)(UDP_LEN + plen));
    put16(udp + 6, 0); /* no checksum (allowed for IPv4) */
    return udp + UDP_LEN;
}

static void rtp_header(uint8_t *r, unsigned pt, bool marker, uint16_t seq, uint32_t ts,
                       uint32_t ssrc)
{
    r[0] = 0x80;
    r[1] = (uint8_t)(pt | (marker ? 0x80 : 0));
    put16(r + 2, seq);
    put32(r + 4, ts);
    put32(r + 8, ssrc);
}

static void emit_rtp(gen *g, uint32_t i)
{
    bstream *st = &g->s[i];
    uint8_t *r = frame(g, st->next_ns, st->src, st->dst, st->sport, st->dport, st->ipid++, 0xB8,
                       RTP_LEN + FRAME_SAMPLES);
    rtp_header(r, st->pt, st->k == 0, (uint16_t)(st->seq0 + st->k), st->ts0 + st->k * FRAME_SAMPLES,
               st->ssrc);
    unsigned f = (st->loop_off + st->k) % LOOP_FRAMES;
    memcpy(r + RTP_LEN, g->audio[st->tone][st->pt == 8][f], FRAME_SAMPLES);
}

static void emit_noise(gen *g, int64_t t_ns)
{
    uint64_t *r = &g->noise_rng;
    uint64_t x = rng_next(r);
    uint32_t host = (uint32_t)(x >> 40) & 0xFFFF;
    uint16_t sport = (uint16_t)(1024 + (x >> 8) % 64000);
    unsigned kind = (unsigned)(x % 1000);
    if (kind < g->rtp_noise_permille) {
        /* RTP-looking, a fresh SSRC from a fresh source port each time: a
         * source whose probation never completes. */
        uint64_t y = rng_next(r);
        uint8_t *p = frame(g, t_ns, (10u << 24) | (70u << 16) | host,
                           (192u << 24) | (168u << 16) | (1u << 8) | (1u + (unsigned)(y % 64)),
                           (uint16_t)(sport & ~1u), (uint16_t)(20000 + 2 * (y >> 8) % 40000),
                           (uint16_t)y, 0xB8, RTP_LEN + FRAME_SAMPLES);
        uint64_t z = rng_next(r);
        rtp_header(p, (z & 1) ? 8 : 0, false, (uint16_t)(z >> 8), (uint32_t)(z >> 24),
                   (uint32_t)rng_next(r));
        memcpy(p + RTP_LEN, g->audio[(z >> 56) % NTONES][z & 1][(z >> 48) % LOOP_FRAMES],
               FRAME_SAMPLES);
        g->rtp_noise_sent++;
    } else if (kind < g->rtp_noise_permille + (1000 - g->rtp_noise_permille) / 2) {
        /* A DNS query for an A record. */
        char name[40];
        int nl = snprintf(name, sizeof(name), "h%05u", (unsigned)(x >> 20) % 100000);
        static const char dom[] = "\7example\3org";
        size_t plen = 12 + 1 + (size_t)nl + sizeof(dom) + 4;
        uint8_t *p = frame(g, t_ns, (10u << 24) | (50u << 16) | host, (10u << 24) | 53u, sport, 53,
                           (uint16_t)(x >> 32), 0, plen);
        put16(p, (unsigned)(x >> 44));
        put16(p + 2, 0x0100);
        put16(p + 4, 1);
        memset(p + 6, 0, 6);
        p[12] = (uint8_t)nl;
        memcpy(p + 13, name, (size_t)nl);
        memcpy(p + 13 + nl, dom, sizeof(dom)); /* ends with the root label */
        put16(p + 13 + nl + sizeof(dom), 1);
        put16(p + 15 + nl + sizeof(dom), 1);
    } else {
        /* Random bytes to a random port. */
        uint64_t y = rng_next(r);
        size_t plen = 20 + (size_t)(y % 281);
        uint8_t *p = frame(g, t_ns, (10u << 24) | (60u << 16) | host,
                           (10u << 24) | (61u << 16) | (uint32_t)((y >> 16) & 0xFFFF), sport,
                           (uint16_t)(1024 + (y >> 32) % 64000), (uint16_t)(y >> 48), 0, plen);
        for (size_t k = 0; k < plen; k += 8) {
            uint64_t v = rng_next(r);
            size_t n = plen - k < 8 ? plen - k : 8;
            memcpy(p + k, &v, n);
        }
    }
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: benchgen -o FILE (-n PACKETS | -p PER_STREAM) [-s STREAMS] [options]\n"
          "  -o FILE           capture to write ('-' = stdout), pcap, Ethernet\n"
          "  -n PACKETS        total records (RTP + noise), exact when --noise > 0\n"
          "  -p PER_STREAM     packet slots per stream instead (noise added on top)\n"
          "  -s STREAMS        concurrent streams (default 1000)\n"
          "  --seed N          seed (default 1)\n"
          "  --noise PCT       share of non-RTP noise records (default 2)\n"
          "  --rtp-noise PCT   share of the noise that is RTP-looking with a new SSRC\n"
          "                    each time, never passing probation (default 25)\n"
          "  --loss PCT        lost slots (default 0.5)\n"
          "  --jitter MS       arrival delay 0..MS ms, below 20 (default 3)\n"
          "  --ramp MS         start the streams one after the other over MS ms instead\n"
          "                    of all within the first 20 ms (each still sends\n"
          "                    PER_STREAM packets)\n"
          "  --list FILE       write each stream's recording name and frames\n"
          "A summary line (key=value) goes to standard output; with -o - to stderr.\n",
          f);
}

static double parse_num(const char *s, const char *what, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        die("%s: '%s' is not a number in [%g, %g]", what, s, lo, hi);
    }
    return v;
}

static void write_list(const gen *g, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        die("%s: %s", path, strerror(errno));
    }
    for (uint32_t i = 0; i < g->nstreams; i++) {
        const bstream *st = &g->s[i];
        fprintf(f, "%u.%u.%u.%u_%u-%u.%u.%u.%u_%u-0x%08X %" PRIu64 " %s\n", st->src >> 24,
                st->src >> 16 & 255, st->src >> 8 & 255, st->src & 255, st->sport, st->dst >> 24,
                st->dst >> 16 & 255, st->dst >> 8 & 255, st->dst & 255, st->dport, st->ssrc,
                (uint64_t)g->per_stream * FRAME_SAMPLES, st->pt == 8 ? "PCMA" : "PCMU");
    }
    if (ferror(f) || fclose(f) != 0) {
        die("%s: write error", path);
    }
}

int main(int argc, char **argv)
{
    enum { O_SEED = 256, O_NOISE, O_RTPNOISE, O_LOSS, O_JITTER, O_RAMP, O_LIST };
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, O_SEED},
        {"noise", required_argument, NULL, O_NOISE},
        {"rtp-noise", required_argument, NULL, O_RTPNOISE},
        {"loss", required_argument, NULL, O_LOSS},
        {"jitter", required_argument, NULL, O_JITTER},
        {"ramp", required_argument, NULL, O_RAMP},
        {"list", required_argument, NULL, O_LIST},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    gen g = {.seed = 1, .nstreams = 1000, .loss = 0.005, .jitter_ns = 3 * NS_PER_MSEC};
    double noise = 0.02, rtp_noise = 0.25, total = 0, per_stream = 0;
    const char *out = NULL, *list = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:n:p:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'n':
            total = parse_num(optarg, "-n", 1, 4e9);
            break;
        case 'p':
            per_stream = parse_num(optarg, "-p", 3, 4e9);
            break;
        case 's':
            g.nstreams = (uint32_t)parse_num(optarg, "-s", 1, 1000000);
            break;
        case O_SEED:
            g.seed = (uint64_t)parse_num(optarg, "--seed", 0, 1e15);
            break;
        case O_NOISE:
            noise = parse_num(optarg, "--noise", 0, 90) / 100.0;
            break;
        case O_RTPNOISE:
            rtp_noise = parse_num(optarg, "--rtp-noise", 0, 100) / 100.0;
            break;
        case O_LOSS:
            g.loss = parse_num(optarg, "--loss", 0, 50) / 100.0;
            break;
        case O_JITTER:
            g.jitter_ns = (int64_t)(parse_num(optarg, "--jitter", 0, 19.9) * NS_PER_MSEC);
            break;
        case O_RAMP:
            g.ramp_ns = (int64_t)(parse_num(optarg, "--ramp", 0, 86400000) * NS_PER_MSEC);
            break;
        case O_LIST:
            list = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind != argc || out == NULL || (total > 0) == (per_stream > 0)) {
        usage(stderr);
        return 1;
    }
    g.rtp_noise_permille = (unsigned)lrint(rtp_noise * 1000);
    g.loss_thr = (uint64_t)(g.loss * 18446744073709551616.0);
    if (g.loss >= 1.0) {
        g.loss_thr = UINT64_MAX;
    }
    if (per_stream > 0) {
        g.per_stream = (uint32_t)per_stream;
    } else {
        double p = total * (1.0 - noise) / ((double)g.nstreams * (1.0 - g.loss));
        g.per_stream = p < 3 ? 3 : (uint32_t)lrint(p);
    }

    /* The RTP packets that will be on the wire, hence the noise count. */
    uint64_t slots = (uint64_t)g.nstreams * g.per_stream, lost = 0;
    for (uint32_t i = 0; i < g.nstreams; i++) {
        for (uint32_t k = 0; k < g.per_stream; k++) {
            lost += slot_lost(&g, i, k);
        }
    }
    uint64_t rtp = slots - lost, nnoise = 0;
    if (noise > 0) {
        if (per_stream > 0) {
            nnoise = (uint64_t)llrint((double)rtp * noise / (1.0 - noise));
        } else if ((uint64_t)total > rtp) {
            nnoise = (uint64_t)total - rtp;
        }
    }

    make_audio(&g);
    make_streams(&g);
    g.noise_rng = g.seed ^ 0x4015EULL;
    (void)rng_next(&g.noise_rng);
    g.buf = malloc(OUT_BUF);
    if (g.buf == NULL) {
        die("out of memory");
    }
    FILE *sumf = stdout;
    if (strcmp(out, "-") == 0) {
        g.fd = STDOUT_FILENO;
        sumf = stderr;
    } else {
        FILE *f = fopen(out, "wb");
        if (f == NULL) {
            die("%s: %s", out, strerror(errno));
        }
        g.fd = dup(fileno(f));
        fclose(f);
        if (g.fd < 0) {
            die("%s: %s", out, strerror(errno));
        }
    }
    uint8_t *gh = out_reserve(&g, 24);
    put32le(gh, 0xA1B2C3D4);
    gh[4] = 2, gh[5] = 0, gh[6] = 4, gh[7] = 0; /* version 2.4, little-endian */
    memset(gh + 8, 0, 8);
    put32le(gh + 16, 65535);
    put32le(gh + 20, 1); /* LINKTYPE_ETHERNET */

    /* Noise is spread evenly over the slots (Bresenham), stamped with the
     * time of the last packet written so capture time never goes back. */
    uint64_t done = 0, noise_done = 0;
    int64_t last_ns = g.s[g.heap[0]].next_ns, first_ns = last_ns;
    while (g.nheap > 0) {
        uint32_t i = g.heap[0];
        bstream *st = &g.s[i];
        if (!slot_lost(&g, i, st->k)) {
            emit_rtp(&g, i);
            last_ns = st->next_ns;
        }
        st->k++;
        if (st->k < g.per_stream) {
            slot_time(&g, st);
        } else {
            g.heap[0] = g.heap[--g.nheap];
        }
        heap_down(&g, 0);
        done++;
        while (noise_done < nnoise && noise_done * slots < nnoise * done) {
            emit_noise(&g, last_ns);
            noise_done++;
        }
    }
    out_flush(&g);
    if (g.fd != STDOUT_FILENO && close(g.fd) != 0) {
        die("%s: %s", out, strerror(errno));
    }
    if (list != NULL) {
        write_list(&g, list);
    }
    fprintf(sumf,
            "records=%" PRIu64 " rtp=%" PRIu64 " lost=%" PRIu64 " noise=%" PRIu64
            " rtp_noise=%" PRIu64 " streams=%u per_stream=%u frames_per_stream=%" PRIu64
            " bytes=%" PRIu64 " duration_s=%.3f\n",
            rtp + noise_done, rtp, lost, noise_done, g.rtp_noise_sent, g.nstreams, g.per_stream,
            (uint64_t)g.per_stream * FRAME_SAMPLES, g.bytes, (double)(last_ns - first_ns) / 1e9);
    free(g.buf);
    free(g.s);
    free(g.heap);
    free(g.audio);
    return 0;
}
