/*
 * rtpproc tool - live capture (see live.h).
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "live.h"

static volatile sig_atomic_t live_stop;
static volatile sig_atomic_t live_usr1;
static pcap_t *volatile live_pcap;

static void on_live_signal(int sig)
{
    if (sig == SIGUSR1) {
        live_usr1 = 1;
        return;
    }
    live_stop = sig;
    /* Async-signal-safe: sets a flag (and on Linux writes to an eventfd). */
    if (live_pcap != NULL)
        pcap_breakloop(live_pcap);
}

static void install_live_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGUSR1};
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_live_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* poll() returns EINTR: the loop looks at the flags at once */
    /*
     * Unlike reading files, even a signal ignored at start is taken (as
     * tcpdump does): a shell starts background jobs with SIGINT ignored,
     * and a probe must still be stoppable cleanly.
     */
    for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++)
        sigaction(sigs[i], &sa, NULL);
}

static rtpproc_time_ns now_ns(void)
{
    struct timespec t;

    /* The clock of the kernel's packet timestamps. */
    clock_gettime(CLOCK_REALTIME, &t);
    return (rtpproc_time_ns)t.tv_sec * RTPPROC_NS_PER_SEC + t.tv_nsec;
}

static int put(rp_live_report *r, FILE *f, const GString *s)
{
    if (f == NULL || r->error != 0)
        return r->error != 0 ? -1 : 0;
    if (fwrite(s->str, 1, s->len, f) != s->len || fflush(f) != 0) {
        r->error = errno != 0 ? errno : EIO;
        return -1;
    }
    return 0;
}

void rp_live_report_init(rp_live_report *r, FILE *table, FILE *json)
{
    memset(r, 0, sizeof(*r));
    r->table = table;
    r->json = json;
    if (json != NULL) {
        GString *s = g_string_new(NULL);
        rtpproc_report_json_open(s);
        put(r, json, s);
        g_string_free(s, TRUE);
    }
}

int rp_live_report_ended(rp_live_report *r, rtpproc_engine *e)
{
    size_t n = 0;
    const rtpproc_stream_summary *s = rtpproc_engine_summaries(e, &n);

    if (n == 0)
        return r->error != 0 ? -1 : 0;
    GString *t = g_string_new(NULL);
    if (r->table != NULL) {
        if (!r->header_written)
            rtpproc_report_text_header(t);
        r->header_written = true;
        for (size_t i = 0; i < n; i++)
            rtpproc_report_text_stream(&s[i], t);
        put(r, r->table, t);
    }
    if (r->json != NULL) {
        g_string_truncate(t, 0);
        for (size_t i = 0; i < n; i++)
            rtpproc_report_json_stream(&s[i], r->json_streams++ == 0, t);
        put(r, r->json, t);
    }
    g_string_free(t, TRUE);
    rtpproc_engine_release_summaries(e);
    return r->error != 0 ? -1 : 0;
}

int rp_live_report_finish(rp_live_report *r, rtpproc_engine *e, const rtpproc_decoder *d,
                          const rtpproc_capture_counters *cap)
{
    const rtpproc_engine_counters *ec = rtpproc_engine_counters_get(e);
    const rtpproc_decode_counters *dc = rtpproc_decoder_counters(d);

    rp_live_report_ended(r, e);
    GString *t = g_string_new(NULL);
    if (r->table != NULL) {
        if (!r->header_written)
            rtpproc_report_text_header(t);
        r->header_written = true;
        rtpproc_report_text_footer(ec, dc, cap, t);
        put(r, r->table, t);
    }
    if (r->json != NULL) {
        g_string_truncate(t, 0);
        rtpproc_report_json_close(ec, dc, cap, t);
        put(r, r->json, t);
    }
    g_string_free(t, TRUE);
    return r->error != 0 ? -1 : 0;
}

void rp_live_counters(rp_input *in, rtpproc_capture_counters *cap)
{
    char err[PCAP_ERRBUF_SIZE];

    memset(cap, 0, sizeof(*cap));
    if (rp_input_stats(in, &cap->received, &cap->dropped, &cap->if_dropped, err, sizeof(err)) != 0)
        memset(cap, 0, sizeof(*cap));
}

/* What the per-frame callback needs. */
typedef struct live_ctx {
    rp_input *in;
    rtpproc_engine *e;
    rtpproc_decoder *d;
    pcap_dumper_t *dumper;
    bool failed; /* the engine could not write a recording */
} live_ctx;

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    live_ctx *c = (live_ctx *)(void *)user;
    rtpproc_datagram dg;

    if (c->failed)
        return;
    c->in->frames++;
    rtpproc_time_ns ts = rp_input_ts(c->in, h);
    rtpproc_engine_set_epoch(c->e, ts);
    if (rtpproc_decode_frame(c->d, c->in->linktype, ts, data, h->caplen, h->len, &dg) !=
        RTPPROC_PARSE_OK)
        return;
    int verdict = rtpproc_engine_feed(c->e, &dg);
    if (verdict < 0) {
        c->failed = true;
        pcap_breakloop(c->in->pcap);
        return;
    }
    if (verdict == RTPPROC_PKT_RTP && c->dumper != NULL)
        pcap_dump((u_char *)c->dumper, h, data);
}

static void print_stats(rp_input *in, rtpproc_engine *e)
{
    rtpproc_capture_counters cap;
    const rtpproc_engine_counters *ec = rtpproc_engine_counters_get(e);

    rp_live_counters(in, &cap);
    fprintf(stderr,
            "rtpproc: %zu streams open, %" PRIu64 " packets captured, %" PRIu64
            " RTP packets, %" PRIu64 " streams; kernel: %" PRIu64 " received, %" PRIu64
            " dropped, %" PRIu64 " dropped by the interface\n",
            rtpproc_engine_open_streams(e), in->frames, ec->rtp, ec->streams, cap.received,
            cap.dropped, cap.if_dropped);
}

int rp_live_run(rp_input *in, const rp_live_opts *o, rtpproc_engine *e, rtpproc_decoder *d,
                pcap_dumper_t *dumper, rp_live_report *rep, char *err, size_t errlen)
{
    live_ctx ctx = {.in = in, .e = e, .d = d, .dumper = dumper};
    int fd = pcap_get_selectable_fd(in->pcap);
    rtpproc_time_ns start = now_ns(), now = start;
    rtpproc_time_ns next_flush = start + o->flush_interval;
    int end = RP_LIVE_STOPPED;

    live_pcap = in->pcap;
    install_live_signals();
    for (;;) {
        if (live_stop != 0 || (o->count > 0 && in->frames >= o->count) ||
            (o->duration > 0 && now - start >= o->duration))
            break;
        int wait_ms = RP_LIVE_WAKE_MS;
        if (o->duration > 0 && (start + o->duration - now) / RTPPROC_NS_PER_MSEC < wait_ms)
            wait_ms = (int)((start + o->duration - now) / RTPPROC_NS_PER_MSEC) + 1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (fd >= 0 && poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
            snprintf(err, errlen, "'%s': poll: %s", in->name, strerror(errno));
            end = RP_LIVE_CAPTURE_ERROR;
            break;
        }
        if (fd < 0)
            usleep((useconds_t)wait_ms * 1000);
        /* Non-blocking: everything libpcap has now, up to what -c leaves. */
        int cnt = -1;
        if (o->count > 0)
            cnt = o->count - in->frames > INT_MAX ? INT_MAX : (int)(o->count - in->frames);
        int n = pcap_dispatch(in->pcap, cnt, on_frame, (u_char *)(void *)&ctx);
        if (ctx.failed) {
            snprintf(err, errlen, "%s", rtpproc_engine_error(e));
            end = RP_LIVE_OUTPUT_ERROR;
            break;
        }
        if (n == PCAP_ERROR) {
            snprintf(err, errlen, "'%s': %s", in->name, pcap_geterr(in->pcap));
            end = RP_LIVE_CAPTURE_ERROR;
            break;
        }
        now = now_ns();
        if (rtpproc_engine_tick(e, now) < 0) {
            snprintf(err, errlen, "%s", rtpproc_engine_error(e));
            end = RP_LIVE_OUTPUT_ERROR;
            break;
        }
        if (rp_live_report_ended(rep, e) != 0) {
            snprintf(err, errlen, "cannot write the report: %s", strerror(rep->error));
            end = RP_LIVE_OUTPUT_ERROR;
            break;
        }
        if (live_usr1) {
            live_usr1 = 0;
            print_stats(in, e);
        }
        if (now >= next_flush) {
            /* Crash safety: what is flushed here survives a kill -9. */
            if (rtpproc_engine_flush(e) < 0) {
                snprintf(err, errlen, "%s", rtpproc_engine_error(e));
                end = RP_LIVE_OUTPUT_ERROR;
                break;
            }
            if (dumper != NULL && pcap_dump_flush(dumper) != 0) {
                snprintf(err, errlen, "cannot write the -w file: %s", strerror(errno));
                end = RP_LIVE_OUTPUT_ERROR;
                break;
            }
            next_flush = now + o->flush_interval;
        }
    }
    /* Stopped by a signal: take what the kernel already handed over. */
    if (end == RP_LIVE_STOPPED && live_stop != 0 && o->count == 0) {
        pcap_dispatch(in->pcap, -1, on_frame, (u_char *)(void *)&ctx);
        if (ctx.failed) {
            snprintf(err, errlen, "%s", rtpproc_engine_error(e));
            end = RP_LIVE_OUTPUT_ERROR;
        }
    }
    live_pcap = NULL;
    return end;
}

int rp_user_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    errno = 0;
    struct passwd *pw = getpwnam(user);

    if (pw == NULL) {
        if (errno != 0 && errno != ENOENT && errno != ESRCH)
            snprintf(err, errlen, "-Z: cannot look up user '%s': %s", user, strerror(errno));
        else
            snprintf(err, errlen, "-Z: no such user '%s'", user);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

int rp_drop_privileges(const char *user, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;

    if (rp_user_lookup(user, &uid, &gid, err, errlen) != 0)
        return -1;
    /* Groups first: after setuid() they can no longer be changed. */
    if (initgroups(user, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        snprintf(err, errlen, "-Z: cannot change to user '%s': %s", user, strerror(errno));
        return -1;
    }
    /* A process that could regain root has not dropped anything. */
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(err, errlen, "-Z: user '%s' could regain root privileges", user);
        return -1;
    }
    return 0;
}
