/*
 * udprelay - an impairing UDP relay for the integration tests (real_relay.sh).
 *
 *   udprelay --listen HOST:PORT --to HOST:PORT --seed N [--loss P] [--burst P:R]
 *            [--dup P] [--reorder P:K] [--delay MS[:JITTER_MS]] [--log FILE]
 *            [--count N] [--idle-exit SEC]
 *
 * Every datagram received on --listen is forwarded to --to from the same
 * socket, unless the impairment model drops it:
 *   --loss P        each packet lost with probability P
 *   --burst P:R     Gilbert-Elliott: good->bad with P, bad->good with R before
 *                   each packet; every packet in the bad state is lost
 *   --dup P         the packet is sent twice, the copy right after it
 *   --reorder P:K   the packet is held and sent after the next K forwarded ones
 *   --delay MS[:J]  every packet waits MS plus a uniform 0..J ms; the order of
 *                   the packets is kept (a packet never leaves before the one
 *                   received before it), so only --reorder reorders
 * Probabilities are 0..1 or a percentage ("5%").
 *
 * Decisions are drawn from a generator seeded with --seed, five draws per
 * packet in a fixed order whatever the outcome, so packet number i meets the
 * same fate on every run with the same seed and options, whatever the timing.
 *
 * --log FILE gets a comment line with the settings (written as soon as the
 * socket is bound, so a script can wait for it), then one line per
 * received packet, written when its fate is final (so the forwarded packets
 * appear in the order they were sent):
 *   INDEX SEQ ACTION RX_MS TX_MS
 * INDEX counts received datagrams from 0; SEQ is the RTP sequence number when
 * the payload looks like RTP (version 2, not RTCP), else "-"; ACTION is
 * "sent", "delayed" (sent after --delay), "dup" (sent twice), "reordered+K"
 * (held, then sent after the K packets received after it that were forwarded
 * in order; K is smaller than asked when the input ended first), "lost",
 * "lost+burst" or "overflow" (no free buffer: dropped); RX_MS and TX_MS are
 * milliseconds since the start ("-" when not sent).
 *
 * --count N stops reading after N packets, --idle-exit SEC after SEC seconds
 * without a packet (counted from the first packet: before it, the relay
 * waits); then held packets are released, the pending ones sent at their
 * time, and the relay exits. SIGINT or SIGTERM sends what is pending at once
 * and exits. Exit status 0, 1 on bad options or a socket or log error.
 *
 * Memory is bounded: at most RELAY_SLOTS datagrams are pending at a time.
 */
#define _GNU_SOURCE /* ppoll() */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <getopt.h>
#include <sys/socket.h>

/* Datagrams pending (delayed or held) at most; one buffer each. */
#define RELAY_SLOTS 256
/* Largest UDP payload (IPv6 jumbograms aside). */
#define RELAY_SLOT_BYTES 65536
/* Largest --reorder K: the relay holds packets, it is no jitter buffer. */
#define RELAY_MAX_K 64

enum action { ACT_SENT, ACT_DELAYED, ACT_DUP, ACT_REORDERED };

struct slot {
    uint64_t index;  /* received datagram number, from 0 */
    long seq;        /* RTP sequence number, -1 if not RTP */
    int64_t rx_ns;   /* reception time, CLOCK_MONOTONIC ns */
    int64_t due_ns;  /* earliest send time, ns */
    size_t len;      /* bytes */
    unsigned k;      /* --reorder: forwarded packets to wait for */
    unsigned passed; /* forwarded packets received after this held one */
    enum action act;
    unsigned char *buf; /* RELAY_SLOT_BYTES */
};

struct options {
    const char *listen;
    const char *to;
    struct sockaddr_storage listen_addr, to_addr;
    socklen_t listen_len, to_len;
    uint64_t seed;
    int have_seed;
    double loss;
    double burst_p, burst_r; /* burst_p = 0: no bursts */
    double dup;
    double reorder;
    unsigned reorder_k;
    double delay_ms, jitter_ms;
    const char *log_path;
    uint64_t count;     /* 0: no limit */
    double idle_exit_s; /* 0: never */
};

struct relay {
    struct options opt;
    int fd;
    FILE *log;
    int64_t t0_ns;
    uint64_t rng;
    int bad; /* Gilbert-Elliott state */

    struct slot slots[RELAY_SLOTS];
    unsigned char *store;
    int free_list[RELAY_SLOTS];
    int n_free;
    int fifo[RELAY_SLOTS]; /* ready to send, due times non-decreasing */
    int fifo_head, fifo_len;
    int held[RELAY_SLOTS]; /* --reorder, by index */
    int n_held;
    int64_t last_due_ns;

    uint64_t received, lost, lost_burst, dups, reordered, forwarded, overflow, send_errors;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: udprelay --listen HOST:PORT --to HOST:PORT --seed N [--loss P]\n"
               "                [--burst P:R] [--dup P] [--reorder P:K] [--delay MS[:JITTER_MS]]\n"
               "                [--log FILE] [--count N] [--idle-exit SEC]\n");
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("udprelay: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* splitmix64: one 64-bit state, every seed usable, same sequence everywhere. */
static double draw(struct relay *r)
{
    uint64_t z = (r->rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0); /* [0, 1) */
}

static double parse_double(const char *opt, const char *s, double lo, double hi)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi) {
        die("%s: bad value '%s'", opt, s);
    }
    return v;
}

/* "0.05" or "5%". */
static double parse_prob(const char *opt, const char *s)
{
    size_t n = strlen(s);
    if (n > 1 && s[n - 1] == '%') {
        char tmp[64];
        if (n >= sizeof(tmp)) {
            die("%s: bad probability '%s'", opt, s);
        }
        memcpy(tmp, s, n - 1);
        tmp[n - 1] = '\0';
        char *end = NULL;
        errno = 0;
        double v = strtod(tmp, &end);
        if (errno != 0 || end == tmp || *end != '\0' || !(v >= 0 && v <= 100)) {
            die("%s: bad probability '%s' (expected 0..1 or 0%%..100%%)", opt, s);
        }
        return v / 100;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0 && v <= 1)) {
        die("%s: bad probability '%s' (expected 0..1 or 0%%..100%%)", opt, s);
    }
    return v;
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t lo)
{
    char *end = NULL;
    errno = 0;
    if (s[0] == '-') {
        die("%s: bad number '%s'", opt, s);
    }
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0' || v < lo) {
        die("%s: bad number '%s'", opt, s);
    }
    return (uint64_t)v;
}

/* Splits "A:B" in a copy; *b is NULL when there is no colon. */
static void split_pair(const char *opt, const char *s, char *buf, size_t cap, char **a, char **b)
{
    if (strlen(s) >= cap) {
        die("%s: bad value '%s'", opt, s);
    }
    strcpy(buf, s);
    *a = buf;
    char *c = strchr(buf, ':');
    *b = NULL;
    if (c) {
        *c = '\0';
        *b = c + 1;
    }
}

/* "127.0.0.1:4000" or "[::1]:4000", numeric only. */
static void parse_addr(const char *opt, const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[128];
    const char *port;
    if (s[0] == '[') {
        const char *e = strchr(s, ']');
        if (!e || e[1] != ':' || (size_t)(e - s - 1) >= sizeof(host)) {
            die("%s: bad address '%s' (expected HOST:PORT or [V6]:PORT)", opt, s);
        }
        memcpy(host, s + 1, (size_t)(e - s - 1));
        host[e - s - 1] = '\0';
        port = e + 2;
    } else {
        const char *c = strrchr(s, ':');
        if (!c || (size_t)(c - s) >= sizeof(host) || c == s) {
            die("%s: bad address '%s' (expected HOST:PORT or [V6]:PORT)", opt, s);
        }
        memcpy(host, s, (size_t)(c - s));
        host[c - s] = '\0';
        port = c + 1;
    }
    char *end = NULL;
    long p = strtol(port, &end, 10);
    if (end == port || *end != '\0' || p < 1 || p > 65535) {
        die("%s: bad port in '%s'", opt, s);
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
        die("%s: bad address '%s' (numeric IPv4 or IPv6 only)", opt, s);
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {{"listen", required_argument, NULL, 'l'},
                                             {"to", required_argument, NULL, 't'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"loss", required_argument, NULL, 'L'},
                                             {"burst", required_argument, NULL, 'b'},
                                             {"dup", required_argument, NULL, 'd'},
                                             {"reorder", required_argument, NULL, 'r'},
                                             {"delay", required_argument, NULL, 'D'},
                                             {"log", required_argument, NULL, 'g'},
                                             {"count", required_argument, NULL, 'c'},
                                             {"idle-exit", required_argument, NULL, 'i'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    char buf[128], *a, *b;
    int c;
    memset(o, 0, sizeof(*o));
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            o->listen = optarg;
            break;
        case 't':
            o->to = optarg;
            break;
        case 's':
            o->seed = parse_u64("--seed", optarg, 0);
            o->have_seed = 1;
            break;
        case 'L':
            o->loss = parse_prob("--loss", optarg);
            break;
        case 'b':
            split_pair("--burst", optarg, buf, sizeof(buf), &a, &b);
            if (!b) {
                die("--burst: expected P:R, got '%s'", optarg);
            }
            o->burst_p = parse_prob("--burst", a);
            o->burst_r = parse_prob("--burst", b);
            if (o->burst_p > 0 && o->burst_r == 0) {
                die("--burst: R = 0 would never leave the bad state ('%s')", optarg);
            }
            break;
        case 'd':
            o->dup = parse_prob("--dup", optarg);
            break;
        case 'r':
            split_pair("--reorder", optarg, buf, sizeof(buf), &a, &b);
            if (!b) {
                die("--reorder: expected P:K, got '%s'", optarg);
            }
            o->reorder = parse_prob("--reorder", a);
            o->reorder_k = (unsigned)parse_u64("--reorder", b, 1);
            if (o->reorder_k > RELAY_MAX_K) {
                die("--reorder: K above 64 in '%s'", optarg);
            }
            break;
        case 'D':
            split_pair("--delay", optarg, buf, sizeof(buf), &a, &b);
            o->delay_ms = parse_double("--delay", a, 0, 60000);
            o->jitter_ms = b ? parse_double("--delay", b, 0, 60000) : 0;
            break;
        case 'g':
            o->log_path = optarg;
            break;
        case 'c':
            o->count = parse_u64("--count", optarg, 1);
            break;
        case 'i':
            o->idle_exit_s = parse_double("--idle-exit", optarg, 0.001, 86400);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            if (optopt) {
                fprintf(stderr, "udprelay: %s: missing value\n", argv[optind - 1]);
            } else {
                fprintf(stderr, "udprelay: unknown option '%s'\n", argv[optind - 1]);
            }
            usage(stderr);
            exit(1);
        }
    }
    if (optind < argc) {
        die("unexpected argument '%s'", argv[optind]);
    }
    if (!o->listen || !o->to || !o->have_seed) {
        fprintf(stderr, "udprelay: --listen, --to and --seed are required\n");
        usage(stderr);
        exit(1);
    }
    parse_addr("--listen", o->listen, &o->listen_addr, &o->listen_len);
    parse_addr("--to", o->to, &o->to_addr, &o->to_len);
    if (o->listen_addr.ss_family != o->to_addr.ss_family) {
        die("--listen and --to must be of the same address family");
    }
}

static double ms_since_start(const struct relay *r, int64_t t_ns)
{
    return (double)(t_ns - r->t0_ns) / 1e6;
}

static void log_line(struct relay *r, const struct slot *s, const char *act, int64_t tx_ns)
{
    if (!r->log) {
        return;
    }
    if (s->seq >= 0) {
        fprintf(r->log, "%" PRIu64 " %ld ", s->index, s->seq);
    } else {
        fprintf(r->log, "%" PRIu64 " - ", s->index);
    }
    fprintf(r->log, "%s %.3f ", act, ms_since_start(r, s->rx_ns));
    if (tx_ns >= 0) {
        fprintf(r->log, "%.3f\n", ms_since_start(r, tx_ns));
    } else {
        fputs("-\n", r->log);
    }
}

static void send_one(struct relay *r, const struct slot *s)
{
    if (sendto(r->fd, s->buf, s->len, 0, (const struct sockaddr *)&r->opt.to_addr, r->opt.to_len) <
        0) {
        if (r->send_errors++ == 0) {
            fprintf(stderr, "udprelay: sendto: %s\n", strerror(errno));
        }
    }
}

static void release_slot(struct relay *r, int i)
{
    r->free_list[r->n_free++] = i;
}

static void fifo_push(struct relay *r, int i)
{
    struct slot *s = &r->slots[i];
    if (s->due_ns < r->last_due_ns) {
        s->due_ns = r->last_due_ns; /* keep the order: never before the previous packet */
    }
    r->last_due_ns = s->due_ns;
    r->fifo[(r->fifo_head + r->fifo_len) % RELAY_SLOTS] = i;
    r->fifo_len++;
}

/* Sends the head of the queue and logs it. */
static void fifo_send_head(struct relay *r)
{
    int i = r->fifo[r->fifo_head];
    struct slot *s = &r->slots[i];
    r->fifo_head = (r->fifo_head + 1) % RELAY_SLOTS;
    r->fifo_len--;
    int64_t tx = now_ns();
    send_one(r, s);
    char act[32];
    switch (s->act) {
    case ACT_SENT:
        strcpy(act, "sent");
        break;
    case ACT_DELAYED:
        strcpy(act, "delayed");
        break;
    case ACT_DUP:
        send_one(r, s);
        strcpy(act, "dup");
        break;
    case ACT_REORDERED:
        snprintf(act, sizeof(act), "reordered+%u", s->passed);
        break;
    }
    log_line(r, s, act, tx);
    r->forwarded++;
    release_slot(r, i);
}

static void send_due(struct relay *r, int64_t now)
{
    while (r->fifo_len > 0 && r->slots[r->fifo[r->fifo_head]].due_ns <= now) {
        fifo_send_head(r);
    }
}

/* The input ended: held packets go after everything pending, in index order. */
static void release_held(struct relay *r)
{
    for (int h = 0; h < r->n_held; h++) {
        fifo_push(r, r->held[h]);
    }
    r->n_held = 0;
}

/* A packet was forwarded in order: held packets whose K are reached follow it. */
static void count_passing(struct relay *r)
{
    int kept = 0;
    for (int h = 0; h < r->n_held; h++) {
        struct slot *s = &r->slots[r->held[h]];
        if (++s->passed >= s->k) {
            fifo_push(r, r->held[h]);
        } else {
            r->held[kept++] = r->held[h];
        }
    }
    r->n_held = kept;
}

static long rtp_seq(const unsigned char *p, size_t len)
{
    /* Version 2 and not RTCP (RFC 5761 4: second byte 192..223 is RTCP). */
    if (len < 12 || (p[0] >> 6) != 2 || (p[1] >= 192 && p[1] <= 223)) {
        return -1;
    }
    return (long)p[2] << 8 | p[3];
}

static void on_packet(struct relay *r, int i, size_t len, int64_t rx)
{
    struct slot *s = &r->slots[i];
    s->index = r->received++;
    s->seq = rtp_seq(s->buf, len);
    s->rx_ns = rx;
    s->len = len;
    s->passed = 0;

    /* Five draws per packet, always in this order (see the top of the file). */
    double u_burst = draw(r), u_loss = draw(r), u_reorder = draw(r), u_dup = draw(r);
    double u_jitter = draw(r);

    if (r->opt.burst_p > 0) {
        if (!r->bad) {
            r->bad = u_burst < r->opt.burst_p;
        } else {
            r->bad = !(u_burst < r->opt.burst_r);
        }
    }
    if (r->bad || u_loss < r->opt.loss) {
        log_line(r, s, r->bad ? "lost+burst" : "lost", -1);
        r->lost++;
        r->lost_burst += r->bad;
        release_slot(r, i);
        return;
    }
    s->due_ns = rx + (int64_t)llround((r->opt.delay_ms + u_jitter * r->opt.jitter_ms) * 1e6);
    if (u_reorder < r->opt.reorder) {
        s->act = ACT_REORDERED;
        s->k = r->opt.reorder_k;
        r->held[r->n_held++] = i;
        r->reordered++;
        return;
    }
    if (u_dup < r->opt.dup) {
        s->act = ACT_DUP;
        r->dups++;
    } else {
        s->act = (r->opt.delay_ms > 0 || r->opt.jitter_ms > 0) ? ACT_DELAYED : ACT_SENT;
    }
    fifo_push(r, i);
    count_passing(r);
}

/* Reads every datagram waiting; returns 1 when --count is reached. */
static int receive(struct relay *r)
{
    static unsigned char scratch[RELAY_SLOT_BYTES];
    for (;;) {
        if (r->opt.count && r->received >= r->opt.count) {
            return 1;
        }
        int i = r->n_free > 0 ? r->free_list[r->n_free - 1] : -1;
        unsigned char *buf = i >= 0 ? r->slots[i].buf : scratch;
        ssize_t n = recv(r->fd, buf, RELAY_SLOT_BYTES, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return 0;
            }
            /* e.g. ECONNREFUSED from an earlier ICMP error: not fatal. */
            fprintf(stderr, "udprelay: recv: %s\n", strerror(errno));
            return 0;
        }
        int64_t rx = now_ns();
        if (i < 0) {
            /* All buffers pending: drop, but keep the draws in step with the index. */
            struct slot tmp = {
                .index = r->received++, .seq = rtp_seq(scratch, (size_t)n), .rx_ns = rx};
            for (int k = 0; k < 5; k++) {
                (void)draw(r);
            }
            log_line(r, &tmp, "overflow", -1);
            if (r->overflow++ == 0) {
                fprintf(stderr, "udprelay: more than %d packets pending, dropping\n", RELAY_SLOTS);
            }
            continue;
        }
        r->n_free--;
        on_packet(r, i, (size_t)n, rx);
    }
}

static int open_socket(struct relay *r)
{
    r->fd = socket(r->opt.listen_addr.ss_family, SOCK_DGRAM, 0);
    if (r->fd < 0) {
        fprintf(stderr, "udprelay: socket: %s\n", strerror(errno));
        return -1;
    }
    int rcvbuf = 1 << 20; /* bursts of a fast sender; best effort */
    (void)setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (bind(r->fd, (struct sockaddr *)&r->opt.listen_addr, r->opt.listen_len) < 0) {
        fprintf(stderr, "udprelay: bind %s: %s\n", r->opt.listen, strerror(errno));
        return -1;
    }
    return 0;
}

static void write_header(struct relay *r)
{
    if (!r->log) {
        return;
    }
    fprintf(r->log,
            "# udprelay listen=%s to=%s seed=%" PRIu64
            " loss=%g burst=%g:%g dup=%g reorder=%g:%u delay=%g:%g\n",
            r->opt.listen, r->opt.to, r->opt.seed, r->opt.loss, r->opt.burst_p, r->opt.burst_r,
            r->opt.dup, r->opt.reorder, r->opt.reorder_k, r->opt.delay_ms, r->opt.jitter_ms);
    /* Written at once: a script waits for this line to know the port is bound. */
    fflush(r->log);
}

static struct timespec ns_to_ts(int64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
    return ts;
}

static int run(struct relay *r)
{
    sigset_t block, during_poll;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    /* The signals are delivered only inside ppoll(), so a stop is never missed. */
    sigprocmask(SIG_BLOCK, &block, &during_poll);
    sigdelset(&during_poll, SIGINT);
    sigdelset(&during_poll, SIGTERM);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int input_done = 0;
    int64_t last_rx = -1; /* no packet yet: no idle deadline */
    int64_t idle_ns = (int64_t)llround(r->opt.idle_exit_s * 1e9);
    for (;;) {
        int64_t now = now_ns();
        send_due(r, now);
        if (stop_signal) {
            release_held(r);
            while (r->fifo_len > 0) {
                fifo_send_head(r);
            }
            return 0;
        }
        if (!input_done && idle_ns > 0 && last_rx >= 0 && now - last_rx >= idle_ns) {
            input_done = 1;
        }
        if (input_done) {
            release_held(r);
            if (r->fifo_len == 0) {
                return 0;
            }
        }
        int64_t wake = -1;
        if (r->fifo_len > 0) {
            wake = r->slots[r->fifo[r->fifo_head]].due_ns;
        }
        if (!input_done && idle_ns > 0 && last_rx >= 0 && (wake < 0 || last_rx + idle_ns < wake)) {
            wake = last_rx + idle_ns;
        }
        struct timespec ts, *tsp = NULL;
        if (wake >= 0) {
            ts = ns_to_ts(wake > now ? wake - now : 0);
            tsp = &ts;
        }
        struct pollfd pfd = {.fd = r->fd, .events = input_done ? 0 : POLLIN};
        int n = ppoll(&pfd, 1, tsp, &during_poll);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "udprelay: poll: %s\n", strerror(errno));
            return -1;
        }
        if (n > 0 && (pfd.revents & (POLLIN | POLLERR))) {
            uint64_t before = r->received;
            input_done = receive(r);
            if (r->received != before) {
                last_rx = now_ns();
            }
        }
    }
}

int main(int argc, char **argv)
{
    static struct relay r;
    r.fd = -1;
    parse_options(argc, argv, &r.opt);
    r.rng = r.opt.seed;
    r.store = malloc((size_t)RELAY_SLOTS * RELAY_SLOT_BYTES);
    if (!r.store) {
        fprintf(stderr, "udprelay: out of memory\n");
        return 1;
    }
    for (int i = 0; i < RELAY_SLOTS; i++) {
        r.slots[i].buf = r.store + (size_t)i * RELAY_SLOT_BYTES;
        r.free_list[i] = RELAY_SLOTS - 1 - i;
    }
    r.n_free = RELAY_SLOTS;
    if (r.opt.log_path) {
        r.log = fopen(r.opt.log_path, "w");
        if (!r.log) {
            fprintf(stderr, "udprelay: %s: %s\n", r.opt.log_path, strerror(errno));
            free(r.store);
            return 1;
        }
    }
    int rc = 0, ran = 0;
    if (open_socket(&r) < 0) {
        rc = 1;
    } else {
        r.t0_ns = now_ns();
        r.last_due_ns = r.t0_ns;
        write_header(&r);
        ran = 1;
        if (run(&r) < 0) {
            rc = 1;
        }
    }
    if (r.fd >= 0) {
        close(r.fd);
    }
    if (r.log && (ferror(r.log) | fclose(r.log))) {
        fprintf(stderr, "udprelay: %s: write error\n", r.opt.log_path);
        rc = 1;
    }
    free(r.store);
    if (!ran) {
        return rc;
    }
    fprintf(stderr,
            "udprelay: %" PRIu64 " received, %" PRIu64 " lost (%" PRIu64 " in bursts), %" PRIu64
            " duplicated, %" PRIu64 " reordered, %" PRIu64 " forwarded",
            r.received, r.lost, r.lost_burst, r.dups, r.reordered, r.forwarded);
    if (r.overflow || r.send_errors) {
        fprintf(stderr, ", %" PRIu64 " overflow, %" PRIu64 " send errors", r.overflow,
                r.send_errors);
    }
    fputc('\n', stderr);
    return rc;
}
