/*
 * rtpproc - extract RTP audio streams from capture files into WAV files.
 *
 *   rtpproc -r FILE [-r FILE ...] [-o DIR] [options] [BPF expression]
 *   rtpproc -i IFACE [-o DIR] [options] [BPF expression]    (live.c)
 *
 * The flow: parse the command line (option values go through the core's
 * rtpproc_options_set(), so the tshark plug-in shares names and messages),
 * check every input before writing anything, then feed each frame through
 * the decoder and the engine, and print the report. The exit status
 * follows tcpdump: 0 ok, 1 usage, option or output errors, 2 when an input
 * could not be read to its end.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>

#include <glib.h>
#include <pcap/pcap.h>
#include <sndfile.h>

#include "rtpproc/decode.h"
#include "rtpproc/engine.h"
#include "rtpproc/options.h"
#include "rtpproc/recorder.h"
#include "rtpproc/report.h"
#include "rtpproc/resample.h"

#include "live.h"
#include "pcap_source.h"

#ifndef RTPPROC_VERSION
#define RTPPROC_VERSION "0.1.0"
#endif

enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1, /* usage, option values, outputs, recordings */
    EXIT_INPUT = 2, /* an input could not be read (to its end) */
};

#define ERRLEN 512

/* What the command line asked for. */
typedef struct cli {
    rtpproc_options opts;
    rp_input *inputs;
    size_t n_inputs;
    const char *write_path; /* -w, or NULL */
    char *user_filter;      /* trailing words joined, or NULL */
    char *filter;           /* what is compiled: user filter and --ssrc, or NULL */
    bool quiet;
    /* live capture (-i) */
    const char *iface; /* -i, or NULL */
    bool list_ifaces;  /* -D */
    bool dump_filter;  /* -d */
    bool rtp_filter;   /* --rtp-filter: the live kernel filter on -r inputs too */
    bool fragments;    /* --fragments: the kernel filter lets IP fragments through */
    bool no_promisc;   /* -p */
    int snaplen;       /* -s */
    int buffer_kib;    /* -B */
    const char *user;  /* -Z */
    rp_live_opts live; /* -c, --duration, --flush-interval */
    char *rtp_expr;    /* --rtp-filter: the kernel filter built for rtp_linktype */
    int rtp_linktype;
} cli;

/* One run's state and outputs. */
typedef struct run {
    rtpproc_decoder *decoder;
    rtpproc_engine *engine;
    rtpproc_recorder_factory *factory;
    /* --rate: wraps the recorder factory (see create_engine) */
    rtpproc_resample_factory resample;
    int linktype; /* common link type, for -w */
    int snaplen;  /* largest snaplen, for -w */
    pcap_t *dead; /* -w: the handle pcap_dump_open() needs */
    pcap_dumper_t *dumper;
    FILE *json;  /* --json, opened early to fail early */
    FILE *table; /* stdout, or stderr when stdout carries -w/--json */
    int status;
    bool dir_created; /* the -o directory was made by this run (-Z gives it away) */
} run;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void error_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Every error is one line: "rtpproc: ...". */
static void error_msg(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("rtpproc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The first error decides the exit status. */
static void set_status(run *r, int status)
{
    if (r->status == EXIT_OK)
        r->status = status;
}

static void usage(FILE *out)
{
    fputs("Usage: rtpproc -r FILE [-r FILE ...] [-o DIR] [options] [BPF expression]\n"
          "       rtpproc -i IFACE [-o DIR] [options] [BPF expression]\n"
          "       rtpproc -D\n"
          "\n"
          "Finds RTP streams in capture files or on a network interface (no signalling\n"
          "needed) and writes one WAV file per stream plus a report, like\n"
          "'tshark -q -z rtp,streams'.\n"
          "\n"
          "Input:\n"
          "  -r FILE           read a pcap or pcapng file; '-' is standard input. Repeat\n"
          "                    -r to read several files in order as one capture: streams\n"
          "                    continue across files. Every file is checked before any\n"
          "                    output is written.\n"
          "  BPF expression    trailing words, joined by spaces, compiled for each input\n"
          "                    (tcpdump syntax, e.g. 'udp port 5000'). Put '--' before it\n"
          "                    if it starts with '-'.\n"
          "  --ssrc SSRC       keep only streams with this SSRC (decimal or 0x hex). Also\n"
          "                    added to the BPF filter as udp[16:4] = SSRC for IPv4;\n"
          "                    IPv6, VLAN-tagged and fragmented packets pass the BPF\n"
          "                    filter and are selected by the stream engine, and so does\n"
          "                    UDP that cannot be RTP (SIP/SDP naming payload types).\n"
          "                    Live, the kernel filter's RTP part gets udp[16:4] = SSRC\n"
          "                    (ip6[56:4] for IPv6)\n"
          "\n"
          "Live capture (see docs/probe.md):\n"
          "  -i IFACE          capture on a network interface (not with -r); the kernel\n"
          "                    filter keeps RTP (not RTCP) over UDP on IPv4/IPv6, untagged\n"
          "                    or VLAN-tagged, and SIP messages; the BPF expression is\n"
          "                    ANDed with it (print it with -d). Stops on SIGINT/SIGTERM\n"
          "                    (recordings finalised, report printed, exit 0); SIGUSR1\n"
          "                    prints statistics on standard error\n"
          "  -D                list the interfaces, as tcpdump -D\n"
          "  -d                print the kernel filter expression and its BPF code (for\n"
          "                    the link type of -i IFACE, of the first -r FILE, or\n"
          "                    Ethernet), then exit\n"
          "  -c COUNT          stop after COUNT packets (those passing the kernel filter)\n"
          "  --duration SEC    stop after SEC seconds\n"
          "  -B KIB            kernel capture buffer in KiB (default 32768)\n"
          "  -s SNAPLEN        bytes kept of each packet (default 262144)\n"
          "  -p                do not put the interface in promiscuous mode\n"
          "  -Z USER           after opening the interface, run as USER (files are created\n"
          "                    by USER; a -o directory created by rtpproc is given to USER)\n"
          "  --flush-interval SEC\n"
          "                    write buffered audio and refresh every recording's header\n"
          "                    (and flush -w) at least this often (default 1): a killed\n"
          "                    probe leaves playable files missing at most that much\n"
          "  --fragments       let IPv4/IPv6 fragments through the kernel filter (they\n"
          "                    are reassembled; costs a little more CPU)\n"
          "  --rtp-filter      with -r: apply the live kernel filter to the files too\n"
          "\n"
          "Output:\n"
          "  -o, --dir DIR     directory for the recordings (default '.'); created if\n"
          "                    missing (one level)\n"
          "  --force           replace existing recordings (default: an existing file is\n"
          "                    an error, and reading stops)\n"
          "  --encoding ENC    sample format of the recordings: pcm16 (default), alaw\n"
          "                    or ulaw (G.711 WAV)\n"
          "  --no-audio        statistics only: no recordings\n"
          "  --sync-writes     write the recordings in the reading thread (default: a\n"
          "                    writer thread does the file writes, so reading goes on\n"
          "                    while the kernel copies; same files either way)\n"
          "  --rate HZ         resample every recording to HZ (8000-192000; libsamplerate,\n"
          "                    sinc medium quality); streams already at HZ are untouched.\n"
          "                    With --encoding alaw/ulaw only 8000 is accepted\n"
          "  -w FILE           write the frames that carried the selected RTP packets to a\n"
          "                    pcap file ('-' = standard output). All inputs must have the\n"
          "                    same link type. Only the last fragment of a fragmented\n"
          "                    datagram is written.\n"
          "  --json FILE       write the report as JSON ('-' = standard output)\n"
          "  -q                do not print the report table (it goes to standard output,\n"
          "                    or to standard error when -w - or --json - use stdout)\n"
          "\n"
          "Streams:\n"
          "  --timeout SEC     capture time without packets that ends a stream (default\n"
          "                    5); 5, 1.5, 5s or 250ms\n"
          "  --pt-map MAP      payload types: PT=name[/rate[/channels]], comma separated,\n"
          "                    e.g. 96=L16/16000/2,97=PCMU; may be repeated\n"
          "  --threads N       shard the streams over N worker threads by 5-tuple (1-64;\n"
          "                    default 1); recordings and report are the same as with\n"
          "                    one thread. With -w, a packet of a stream dropped by the\n"
          "                    stream limit is still written\n"
          "  --per-direction   one recording per direction (5-tuple): when the SSRC\n"
          "                    changes, the new stream goes on in the same file at its\n"
          "                    arrival time (silence between; overlapping audio of two\n"
          "                    SSRCs at once: the first written is kept). The report\n"
          "                    still has one line per SSRC\n"
          "  --guess-codecs    recognise a dynamic PT that neither SDP nor --pt-map names\n"
          "                    from its payloads: Opus, when 10 packets in a row advance\n"
          "                    the timestamp by the duration their TOC byte gives\n"
          "\n"
          "Timeline:\n"
          "  --timing MODE     rtp (default): audio placed by RTP timestamp, losses and\n"
          "                    pauses as silence, contradicted jumps re-anchored;\n"
          "                    jitter[:MS]: the Wireshark RTP player's Jitter Buffer mode\n"
          "                    (MS default 50); continuous: the player's Uninterrupted\n"
          "                    mode, payloads back to back without silence\n"
          "  --reorder WIN     reorder window: PACKETS, a DURATION or PACKETS/DURATION\n"
          "                    (default 16/100ms); later packets are counted late\n"
          "  --plc             conceal losses (codec PLC: Opus, G.729, AMR, iLBC, G.723.1,\n"
          "                    Speex; spandsp PLC for the others) instead of silence, up\n"
          "                    to 500 ms per loss; rtp timing, PCM output\n"
          "  --dtmf-tones      synthesise the DTMF tones of RFC 4733 events into the gap\n"
          "                    they leave in the same stream's audio (mono PCM)\n"
          "  --comfort-noise   fill comfort-noise (RFC 3389) spans with noise at the\n"
          "                    signalled level instead of silence (mono PCM)\n"
          "\n"
          "  -h, --help        this help\n"
          "  -V, --version     version of rtpproc, libpcap and libsndfile\n"
          "\n"
          "Exit status: 0 ok; 1 usage, invalid option, unreadable or unusable input file\n"
          "(before anything was processed), or an output error (recording directory,\n"
          "-w, --json, a recording that could not be written: reading stops there);\n"
          "2 an input could not be read to its end (e.g. a truncated capture): what was\n"
          "read is processed, the recordings are finalised, the report is printed, and\n"
          "the next input is read.\n"
          "SIGINT/SIGTERM stop reading; the recordings are finalised and the report\n"
          "printed, then rtpproc ends by that signal (live capture: exit status 0).\n",
          out);
}

static void version(void)
{
    printf("rtpproc %s\n%s\n%s\n", RTPPROC_VERSION, pcap_lib_version(), sf_version_string());
}

/* Long options without a short form: getopt_long returns LONG_ONLY and the
 * name is handed to rtpproc_options_set() unchanged. */
#define LONG_ONLY 0x100
/* Long options of the tool alone (live capture), handled here. */
enum { LIVE_DURATION = 0x101, LIVE_FLUSH, LIVE_FRAGMENTS, LIVE_RTP_FILTER };

static const struct option long_options[] = {
    {"dir", required_argument, NULL, 'o'},
    {"timeout", required_argument, NULL, LONG_ONLY},
    {"ssrc", required_argument, NULL, LONG_ONLY},
    {"encoding", required_argument, NULL, LONG_ONLY},
    {"pt-map", required_argument, NULL, LONG_ONLY},
    {"json", required_argument, NULL, LONG_ONLY},
    {"force", no_argument, NULL, LONG_ONLY},
    {"no-audio", no_argument, NULL, LONG_ONLY},
    {"sync-writes", no_argument, NULL, LONG_ONLY},
    {"rate", required_argument, NULL, LONG_ONLY},
    {"timing", required_argument, NULL, LONG_ONLY},
    {"reorder", required_argument, NULL, LONG_ONLY},
    {"plc", no_argument, NULL, LONG_ONLY},
    {"dtmf-tones", no_argument, NULL, LONG_ONLY},
    {"comfort-noise", no_argument, NULL, LONG_ONLY},
    {"guess-codecs", no_argument, NULL, LONG_ONLY},
    {"per-direction", no_argument, NULL, LONG_ONLY},
    {"threads", required_argument, NULL, LONG_ONLY},
    {"duration", required_argument, NULL, LIVE_DURATION},
    {"flush-interval", required_argument, NULL, LIVE_FLUSH},
    {"fragments", no_argument, NULL, LIVE_FRAGMENTS},
    {"rtp-filter", no_argument, NULL, LIVE_RTP_FILTER},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* The option as the user typed it, without "=value", for messages. */
static char *typed_option(const char *arg)
{
    size_t len = strcspn(arg, "=");
    return g_strndup(arg, len);
}

/* One line for a getopt error; returns EXIT_USAGE. */
static int getopt_error(int c, char **argv)
{
    char *typed = typed_option(argv[optind - 1]);

    if (c == ':') {
        if (optopt > 0 && optopt < LONG_ONLY)
            error_msg("option '-%c' needs a value (see 'rtpproc --help')", optopt);
        else
            error_msg("option '%s' needs a value (see 'rtpproc --help')", typed);
    } else if (optopt == LONG_ONLY || optopt == LIVE_FRAGMENTS || optopt == LIVE_RTP_FILTER ||
               optopt == 'h' || optopt == 'V') {
        error_msg("option '%s' takes no value (see 'rtpproc --help')", typed);
    } else if (optopt != 0) {
        error_msg("unknown option '-%c' (see 'rtpproc --help')", optopt);
    } else {
        error_msg("unknown option '%s' (see 'rtpproc --help')", typed);
    }
    g_free(typed);
    return EXIT_USAGE;
}

static int set_option(cli *c, const char *name, const char *value)
{
    char err[ERRLEN];

    if (rtpproc_options_set(&c->opts, name, value, err, sizeof(err)) != RTPPROC_OK) {
        error_msg("%s", err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* An integer option value in [min, max]; one line and EXIT_USAGE otherwise. */
static int parse_number(const char *opt, const char *text, long long min, long long max,
                        long long *out)
{
    char *end;

    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
        error_msg("invalid value '%s' for %s: a whole number from %lld to %lld is expected", text,
                  opt, min, max);
        return EXIT_USAGE;
    }
    *out = v;
    return EXIT_OK;
}

static int parse_seconds(const char *opt, const char *text, rtpproc_time_ns *out)
{
    if (rtpproc_parse_duration(text, out) != RTPPROC_OK || *out <= 0) {
        error_msg("invalid value '%s' for %s: a duration such as 5, 1.5, 5s or 250ms is expected",
                  text, opt);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The options of live capture (-i) and its filter; -1 when `ch` is not one of them. */
static int live_option(cli *c, int ch)
{
    long long v;
    int rc;

    switch (ch) {
    case 'i':
        c->iface = optarg;
        return EXIT_OK;
    case 'D':
        c->list_ifaces = true;
        return EXIT_OK;
    case 'd':
        c->dump_filter = true;
        return EXIT_OK;
    case 'p':
        c->no_promisc = true;
        return EXIT_OK;
    case 'Z':
        c->user = optarg;
        return EXIT_OK;
    case 'c':
        if ((rc = parse_number("-c", optarg, 1, LLONG_MAX, &v)) == EXIT_OK)
            c->live.count = (uint64_t)v;
        return rc;
    case 'B':
        if ((rc = parse_number("-B", optarg, 1, INT_MAX / 1024, &v)) == EXIT_OK)
            c->buffer_kib = (int)v;
        return rc;
    case 's':
        /* 0 means the default, as with tcpdump */
        if ((rc = parse_number("-s", optarg, 0, 262144, &v)) == EXIT_OK)
            c->snaplen = v == 0 ? 262144 : (int)v;
        return rc;
    case LIVE_DURATION:
        return parse_seconds("--duration", optarg, &c->live.duration);
    case LIVE_FLUSH:
        return parse_seconds("--flush-interval", optarg, &c->live.flush_interval);
    case LIVE_FRAGMENTS:
        c->fragments = true;
        return EXIT_OK;
    case LIVE_RTP_FILTER:
        c->rtp_filter = true;
        return EXIT_OK;
    default:
        return -1;
    }
}

static void add_input(cli *c, const char *path)
{
    c->inputs = g_renew(rp_input, c->inputs, c->n_inputs + 1);
    rp_input_init(&c->inputs[c->n_inputs], path);
    c->n_inputs++;
}

/*
 * The BPF filter: the user's expression and, for --ssrc, the SSRC at
 * offset 8 of the UDP payload (udp[16:4]). libpcap's udp[] only indexes
 * unfragmented or first-fragment IPv4, so everything that is not IPv4 and
 * every later IPv4 fragment passes that part; the engine's own SSRC filter
 * does the exact selection. UDP payloads that cannot be RTP version 2 pass
 * too, so that SIP/SDP still names the selected stream's payload types.
 */
static void build_filter(cli *c)
{
    char *ssrc = NULL;

    if (c->opts.engine.ssrc_filter_set)
        ssrc = g_strdup_printf("(udp[16:4] = 0x%08" PRIx32
                               " or udp[8] & 0xc0 != 0x80 or not ip or ip[6:2] & 0x1fff != 0)",
                               c->opts.engine.ssrc_filter);
    if (ssrc != NULL && c->user_filter != NULL)
        c->filter = g_strdup_printf("%s and (%s)", ssrc, c->user_filter);
    else if (ssrc != NULL)
        c->filter = g_strdup(ssrc);
    else if (c->user_filter != NULL)
        c->filter = g_strdup(c->user_filter);
    g_free(ssrc);
}

/* Returns -1 to go on, or the exit status (0 after --help/--version). */
static int parse_args(cli *c, int argc, char **argv)
{
    int ch, idx, rc;
    bool have_stdin = false;

    opterr = 0; /* our messages, one line each */
    for (;;) {
        idx = -1;
        ch = getopt_long(argc, argv, ":r:o:w:qhVi:Ddc:B:s:pZ:", long_options, &idx);
        if (ch == -1)
            break;
        switch (ch) {
        case 'r':
            if (strcmp(optarg, "-") == 0) {
                if (have_stdin) {
                    error_msg("standard input ('-r -') can be read only once");
                    return EXIT_USAGE;
                }
                have_stdin = true;
            }
            add_input(c, optarg);
            break;
        case 'o':
            if ((rc = set_option(c, "dir", optarg)) != EXIT_OK)
                return rc;
            break;
        case 'w':
            c->write_path = optarg;
            break;
        case 'q':
            c->quiet = true;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            version();
            return EXIT_OK;
        case LONG_ONLY:
            if ((rc = set_option(c, long_options[idx].name, optarg)) != EXIT_OK)
                return rc;
            break;
        default:
            if ((rc = live_option(c, ch)) == -1)
                return getopt_error(ch, argv);
            if (rc != EXIT_OK)
                return rc;
        }
    }
    if (c->list_ifaces)
        return EXIT_OK; /* -D: handled by main() */
    if (c->iface != NULL && c->n_inputs > 0) {
        error_msg("-r and -i cannot be used together: read capture files or capture live");
        return EXIT_USAGE;
    }
    if (c->n_inputs == 0 && c->iface == NULL && !c->dump_filter) {
        error_msg("no input: give -r FILE or -i IFACE (see 'rtpproc --help')");
        return EXIT_USAGE;
    }
    if (c->iface == NULL && !c->dump_filter) {
        const char *live_only = c->live.count > 0                ? "-c"
                                : c->live.duration > 0           ? "--duration"
                                : c->live.flush_interval > 0     ? "--flush-interval"
                                : c->user != NULL                ? "-Z"
                                : c->buffer_kib > 0              ? "-B"
                                : c->snaplen > 0                 ? "-s"
                                : c->no_promisc                  ? "-p"
                                : c->fragments && !c->rtp_filter ? "--fragments"
                                                                 : NULL;
        if (live_only != NULL) {
            error_msg("%s is for live capture: it needs -i IFACE", live_only);
            return EXIT_USAGE;
        }
    }
    if (c->iface != NULL && c->rtp_filter) {
        error_msg("--rtp-filter is for -r: live capture always uses that filter");
        return EXIT_USAGE;
    }
    if (c->snaplen == 0)
        c->snaplen = 262144;
    if (c->buffer_kib == 0)
        c->buffer_kib = 32768;
    if (c->live.flush_interval == 0)
        c->live.flush_interval = RTPPROC_NS_PER_SEC;
    if (optind < argc)
        c->user_filter = g_strjoinv(" ", argv + optind);
    if (c->write_path != NULL && c->opts.json_path != NULL && strcmp(c->write_path, "-") == 0 &&
        strcmp(c->opts.json_path, "-") == 0) {
        error_msg("-w - and --json - cannot both write to standard output");
        return EXIT_USAGE;
    }
    build_filter(c);
    return -1;
}

/* The filter compiled for an input: with --rtp-filter, the live kernel
 * filter built for its link type (the VLAN levels exist only for Ethernet). */
static const char *input_filter(cli *c, int linktype)
{
    if (!c->rtp_filter)
        return c->filter;
    if (c->rtp_expr == NULL || c->rtp_linktype != linktype) {
        g_free(c->rtp_expr);
        c->rtp_expr = rp_rtp_filter(linktype, c->opts.engine.ssrc_filter_set,
                                    c->opts.engine.ssrc_filter, c->fragments, c->user_filter);
        c->rtp_linktype = linktype;
    }
    return c->rtp_expr;
}

/*
 * Opens every input once before anything is written: it must be a capture
 * of a supported link type on which the filter compiles. Regular files are
 * closed again (thousands of rotated files would otherwise hold as many
 * descriptors and buffers); stdin stays open for the run.
 */
static int check_inputs(cli *c, run *r)
{
    char err[ERRLEN], name[64];

    r->linktype = -1;
    for (size_t i = 0; i < c->n_inputs; i++) {
        rp_input *in = &c->inputs[i];

        if (rp_input_open(in, err, sizeof(err)) != RP_OPEN_OK) {
            error_msg("%s", err);
            return EXIT_USAGE;
        }
        if (!rtpproc_decode_linktype_supported(in->linktype)) {
            error_msg("'%s': unsupported link type %s", in->name,
                      rp_linktype_name(in->linktype, name, sizeof(name)));
            return EXIT_USAGE;
        }
        if (rp_input_set_filter(in, input_filter(c, in->linktype), err, sizeof(err)) != 0) {
            error_msg("invalid filter expression '%s': %s",
                      c->user_filter != NULL ? c->user_filter : input_filter(c, in->linktype), err);
            return EXIT_USAGE;
        }
        if (c->write_path != NULL && r->linktype != -1 && in->linktype != r->linktype) {
            char first[64];
            error_msg("-w needs one link type, but '%s' is %s and '%s' is %s", c->inputs[0].name,
                      rp_linktype_name(r->linktype, first, sizeof(first)), in->name,
                      rp_linktype_name(in->linktype, name, sizeof(name)));
            return EXIT_USAGE;
        }
        r->linktype = in->linktype;
        if (in->snaplen > r->snaplen)
            r->snaplen = in->snaplen;
        if (!in->is_stdin)
            rp_input_close(in);
    }
    return EXIT_OK;
}

/* Uses DIR, creating it (one level) when missing (*created then set). */
static int prepare_dir(const char *dir, bool *created)
{
    struct stat st;

    if (stat(dir, &st) != 0) {
        if (errno != ENOENT) {
            error_msg("cannot use output directory '%s': %s", dir, strerror(errno));
            return EXIT_USAGE;
        }
        if (mkdir(dir, 0777) != 0) {
            error_msg("cannot create output directory '%s': %s", dir, strerror(errno));
            return EXIT_USAGE;
        }
        *created = true;
        return EXIT_OK;
    }
    if (!S_ISDIR(st.st_mode)) {
        error_msg("output directory '%s' is not a directory", dir);
        return EXIT_USAGE;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        error_msg("cannot write to output directory '%s': %s", dir, strerror(errno));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Opens an output file ("-" = stdout), refusing to truncate an input. */
static FILE *open_output(const cli *c, const char *path)
{
    struct stat st;

    if (strcmp(path, "-") == 0)
        return stdout;
    if (stat(path, &st) == 0) {
        for (size_t i = 0; i < c->n_inputs; i++) {
            if (c->inputs[i].dev == st.st_dev && c->inputs[i].ino == st.st_ino) {
                error_msg("cannot write '%s': it is also an input", path);
                return NULL;
            }
        }
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        error_msg("cannot write '%s': %s", path, strerror(errno));
    return f;
}

/* Output directory, -w and --json, all before the first packet is read. */
static int prepare_outputs(cli *c, run *r)
{
    const rtpproc_options *o = &c->opts;
    int rc;

    if (!o->no_audio &&
        (rc = prepare_dir(o->out_dir != NULL ? o->out_dir : ".", &r->dir_created)) != EXIT_OK)
        return rc;
    if (c->write_path != NULL) {
        FILE *f = open_output(c, c->write_path);
        if (f == NULL)
            return EXIT_USAGE;
        r->dead = pcap_open_dead_with_tstamp_precision(
            r->linktype, r->snaplen > 0 ? r->snaplen : 262144, PCAP_TSTAMP_PRECISION_NANO);
        r->dumper = r->dead != NULL ? pcap_dump_fopen(r->dead, f) : NULL;
        if (r->dumper == NULL) {
            error_msg("cannot write '%s': %s", c->write_path,
                      r->dead != NULL ? pcap_geterr(r->dead) : "out of memory");
            if (f != stdout)
                fclose(f);
            if (r->dead != NULL)
                pcap_close(r->dead);
            r->dead = NULL;
            return EXIT_USAGE;
        }
    }
    if (o->json_path != NULL && (r->json = open_output(c, o->json_path)) == NULL)
        return EXIT_USAGE;
    bool stdout_taken = (c->write_path != NULL && strcmp(c->write_path, "-") == 0) ||
                        (o->json_path != NULL && strcmp(o->json_path, "-") == 0);
    r->table = stdout_taken ? stderr : stdout;
    return EXIT_OK;
}

static int create_engine(cli *c, run *r)
{
    rtpproc_engine_config cfg = c->opts.engine;

    r->decoder = rtpproc_decoder_new(NULL);
    if (!c->opts.no_audio) {
        r->factory = rtpproc_recorder_factory_new(c->opts.out_dir, c->opts.force);
        /* Without the thread (it could not start) the writes happen here. */
        if (r->factory != NULL && !c->opts.sync_writes)
            (void)rtpproc_recorder_factory_start_writer(r->factory);
        cfg.sink_open = r->factory != NULL ? rtpproc_recorder_open : NULL;
        cfg.sink_userdata = r->factory;
        rtpproc_resample_install(&r->resample, c->opts.out_rate, &cfg);
    } else {
        cfg.sink_open = NULL;
        cfg.sink_userdata = NULL;
    }
    r->engine = rtpproc_engine_new(&cfg);
    if (r->decoder == NULL || r->engine == NULL || (!c->opts.no_audio && r->factory == NULL)) {
        error_msg("out of memory");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/*
 * Frames gathered from one input to be fed together: their datagrams (the
 * engine looks ahead in them, rtpproc_engine_feed_batch), and their record
 * headers and bytes for -w. Frames read in place (the direct reader) stay
 * where they are; frames from libpcap, whose buffer the next read reuses,
 * are copied into the arena, which always has room for one more frame of
 * any size while gathering goes on.
 */
#define RP_BATCH       32
#define RP_ARENA_FILL  (64 * 1024)
#define RP_ARENA_BYTES (RP_ARENA_FILL + RP_PCAP_MAX_SNAPLEN)
typedef struct batch {
    rtpproc_datagram dg[RP_BATCH];
    struct pcap_pkthdr hdr[RP_BATCH];
    const uint8_t *data[RP_BATCH];
    int verdict[RP_BATCH];
    size_t n;
    size_t arena_used;
    uint8_t arena[RP_ARENA_BYTES];
} batch;

/*
 * Decodes a frame into the batch. Returns false when the batch must be fed
 * now: a reassembled datagram lives in the decoder only until its next
 * frame.
 */
static bool add_frame(run *r, const rp_input *in, batch *b, const struct pcap_pkthdr *h,
                      const uint8_t *data, rtpproc_time_ns ts)
{
    /* The first frame of the capture, whatever it is, is where the
     * Wireshark player's arrival offsets count from (--timing jitter). */
    rtpproc_engine_set_epoch(r->engine, ts);
    rtpproc_datagram *dg = &b->dg[b->n];
    if (rtpproc_decode_frame(r->decoder, in->linktype, ts, data, h->caplen, h->len, dg) !=
        RTPPROC_PARSE_OK)
        return true;
    b->hdr[b->n] = *h;
    b->data[b->n] = data;
    b->n++;
    return dg->payload >= data && dg->payload <= data + h->caplen;
}

/*
 * Reads frames into the batch until it is full or must be fed. Returns
 * rp_input_next()'s result: RP_READ_FRAME, or the end or error that
 * stopped it (the frames gathered before are to be fed first).
 */
static int fill_batch(run *r, rp_input *in, batch *b, char *err, size_t errlen)
{
    const struct pcap_pkthdr *h;
    const uint8_t *data;
    rtpproc_time_ns ts;
    int rc = rp_input_next(in, &h, &data, &ts, err, errlen);

    if (rc != RP_READ_FRAME)
        return rc;
    if (in->direct) {
        bool more = add_frame(r, in, b, h, data, ts);
        while (more && b->n < RP_BATCH && rp_input_next_kept(in, &h, &data, &ts) == RP_READ_FRAME)
            more = add_frame(r, in, b, h, data, ts);
        return RP_READ_FRAME;
    }
    for (;;) {
        uint8_t *copy = b->arena + b->arena_used;
        memcpy(copy, data, h->caplen);
        b->arena_used += h->caplen;
        if (!add_frame(r, in, b, h, copy, ts) || b->n == RP_BATCH || b->arena_used > RP_ARENA_FILL)
            return RP_READ_FRAME;
        if ((rc = rp_input_next(in, &h, &data, &ts, err, errlen)) != RP_READ_FRAME)
            return rc;
    }
}

/* Feeds the batch; false (after the message) when a recording failed. */
static bool feed_batch(run *r, batch *b)
{
    int rc = rtpproc_engine_feed_batch(r->engine, b->dg, b->n, b->verdict);
    for (size_t i = 0; i < b->n && b->verdict[i] >= 0; i++) {
        if (b->verdict[i] == RTPPROC_PKT_RTP && r->dumper != NULL)
            pcap_dump((u_char *)r->dumper, &b->hdr[i], b->data[i]);
    }
    b->n = 0;
    b->arena_used = 0;
    if (rc < 0) {
        error_msg("%s", rtpproc_engine_error(r->engine));
        set_status(r, EXIT_USAGE);
        return false;
    }
    return true;
}

/*
 * Reads one input to its end. Returns false when reading must stop
 * altogether (signal, or a recording that could not be written).
 */
static bool read_input(cli *c, run *r, rp_input *in)
{
    char err[ERRLEN];
    batch *b;

    /* Checked before, but a file may have changed since. */
    if (rp_input_open(in, err, sizeof(err)) != RP_OPEN_OK) {
        error_msg("%s", err);
        set_status(r, EXIT_INPUT);
        return true;
    }
    if (rp_input_set_filter(in, input_filter(c, in->linktype), err, sizeof(err)) != 0) {
        error_msg("invalid filter expression '%s': %s", input_filter(c, in->linktype), err);
        set_status(r, EXIT_USAGE);
        rp_input_close(in);
        return true;
    }
    if ((b = g_try_new0(batch, 1)) == NULL) {
        error_msg("out of memory");
        set_status(r, EXIT_USAGE);
        rp_input_close(in);
        return false;
    }
    bool go_on = true;
    while (stop_signal == 0) {
        int rc = fill_batch(r, in, b, err, sizeof(err));
        if (b->n > 0 && !(go_on = feed_batch(r, b)))
            break;
        b->arena_used = 0;
        if (rc == RP_READ_FRAME)
            continue;
        if (rc != RP_READ_END && stop_signal == 0) { /* not EINTR on a pipe */
            error_msg("'%s': %s (%s); %" PRIu64 " packets read", in->name,
                      rc == RP_READ_TRUNCATED ? "truncated capture" : "read error", err,
                      in->frames);
            set_status(r, EXIT_INPUT);
        }
        break;
    }
    rp_input_close(in);
    g_free(b);
    return go_on && stop_signal == 0;
}

static void install_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM};
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a read blocked on a pipe must return (EINTR). */
    sa.sa_flags = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
        struct sigaction old;
        /* A signal ignored at start (nohup, "cmd &" in a script) stays ignored. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

static bool write_gstring(FILE *f, const GString *s)
{
    return fwrite(s->str, 1, s->len, f) == s->len && fflush(f) == 0;
}

/* The report table and --json, from every stream the engine ended. */
static void write_reports(cli *c, run *r)
{
    size_t n = 0;
    const rtpproc_stream_summary *s = rtpproc_engine_summaries(r->engine, &n);
    const rtpproc_engine_counters *ec = rtpproc_engine_counters_get(r->engine);
    const rtpproc_decode_counters *dc = rtpproc_decoder_counters(r->decoder);
    GString *out = g_string_new(NULL);

    if (!c->quiet) {
        rtpproc_report_text(s, n, ec, dc, out);
        if (!write_gstring(r->table, out)) {
            error_msg("cannot write the report: %s", strerror(errno));
            set_status(r, EXIT_USAGE);
        }
    }
    if (r->json != NULL) {
        g_string_truncate(out, 0);
        rtpproc_report_json(s, n, ec, dc, out);
        if (!write_gstring(r->json, out)) {
            error_msg("cannot write '%s': %s", c->opts.json_path, strerror(errno));
            set_status(r, EXIT_USAGE);
        }
    }
    g_string_free(out, TRUE);
}

static void close_outputs(cli *c, run *r)
{
    if (r->dumper != NULL) {
        FILE *f = pcap_dump_file(r->dumper);
        bool ok = pcap_dump_flush(r->dumper) == 0 && !ferror(f);
        int saved = errno;
        /* pcap_dump_close() fcloses; stdout stays open for the report. */
        if (f != stdout)
            pcap_dump_close(r->dumper);
        pcap_close(r->dead);
        if (!ok) {
            error_msg("cannot write '%s': %s", c->write_path, strerror(saved));
            set_status(r, EXIT_USAGE);
        }
        r->dumper = NULL;
        r->dead = NULL;
    }
    if (r->json != NULL && r->json != stdout && fclose(r->json) != 0) {
        error_msg("cannot write '%s': %s", c->opts.json_path, strerror(errno));
        set_status(r, EXIT_USAGE);
    }
    r->json = NULL;
}

static void free_cli(cli *c)
{
    for (size_t i = 0; i < c->n_inputs; i++)
        rp_input_close(&c->inputs[i]);
    g_free(c->inputs);
    g_free(c->user_filter);
    g_free(c->filter);
    g_free(c->rtp_expr);
    rtpproc_options_clear(&c->opts);
}

static int run_all(cli *c)
{
    run r = {.linktype = -1};
    int rc;

    if ((rc = check_inputs(c, &r)) != EXIT_OK || (rc = prepare_outputs(c, &r)) != EXIT_OK ||
        (rc = create_engine(c, &r)) != EXIT_OK) {
        set_status(&r, rc);
        goto out;
    }
    install_signals();
    for (size_t i = 0; i < c->n_inputs; i++) {
        if (!read_input(c, &r, &c->inputs[i]))
            break;
    }
    if (rtpproc_engine_finish(r.engine) < 0) {
        error_msg("%s", rtpproc_engine_error(r.engine));
        set_status(&r, EXIT_USAGE);
    }
    write_reports(c, &r);
out:
    close_outputs(c, &r);
    if (r.engine != NULL)
        rtpproc_engine_free(r.engine);
    if (r.factory != NULL)
        rtpproc_recorder_factory_free(r.factory);
    rtpproc_decoder_free(r.decoder);
    return r.status;
}

/* The kernel filter for `linktype` (the interface's, or Ethernet). */
static char *kernel_filter(const cli *c, int linktype)
{
    return rp_rtp_filter(linktype, c->opts.engine.ssrc_filter_set, c->opts.engine.ssrc_filter,
                         c->fragments, c->user_filter);
}

/* -d: the kernel filter and its BPF code, for the link type of -i IFACE, of
 * the first -r FILE, or Ethernet. */
static int dump_filter(cli *c)
{
    char err[ERRLEN], warn[ERRLEN], name[64];
    int linktype = DLT_EN10MB;
    rp_input in;

    if (c->iface != NULL) {
        rp_input_init(&in, c->iface);
        if (rp_input_open_live(&in, c->snaplen, c->buffer_kib, !c->no_promisc, RP_LIVE_WAKE_MS,
                               warn, sizeof(warn), err, sizeof(err)) != 0) {
            error_msg("%s", err);
            return EXIT_USAGE;
        }
        linktype = in.linktype;
        rp_input_close(&in);
    } else if (c->n_inputs > 0) {
        if (rp_input_open(&c->inputs[0], err, sizeof(err)) != RP_OPEN_OK) {
            error_msg("%s", err);
            return EXIT_USAGE;
        }
        linktype = c->inputs[0].linktype;
        rp_input_close(&c->inputs[0]);
    }
    char *expr = kernel_filter(c, linktype);
    int rc = rp_filter_dump(NULL, linktype, c->snaplen, expr, err, sizeof(err));
    if (rc == 0) {
        printf("# kernel filter for link type %s\n%s\n",
               rp_linktype_name(linktype, name, sizeof(name)), expr);
        rc = rp_filter_dump(stdout, linktype, c->snaplen, expr, err, sizeof(err));
    }
    if (rc != 0)
        error_msg("invalid filter expression '%s': %s",
                  c->user_filter != NULL ? c->user_filter : expr, err);
    g_free(expr);
    return rc != 0 ? EXIT_USAGE : EXIT_OK;
}

/*
 * -Z: the -o directory this run created goes to the user first (it was
 * made as root), then the privileges go.
 */
static int become_user(const cli *c, const run *r)
{
    char err[ERRLEN];
    uid_t uid;
    gid_t gid;
    const char *dir = c->opts.out_dir != NULL ? c->opts.out_dir : ".";

    if (rp_user_lookup(c->user, &uid, &gid, err, sizeof(err)) != 0) {
        error_msg("%s", err);
        return EXIT_USAGE;
    }
    if (r->dir_created && chown(dir, uid, gid) != 0) {
        error_msg("-Z: cannot give '%s' to user '%s': %s", dir, c->user, strerror(errno));
        return EXIT_USAGE;
    }
    if (rp_drop_privileges(c->user, err, sizeof(err)) != 0) {
        error_msg("%s", err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/*
 * Live capture: the interface is opened and its filter installed first
 * (as root), then the -o directory made, then -Z drops privileges, and only
 * then are -w, --json and the recordings created.
 */
static int run_live(cli *c)
{
    run r = {.linktype = -1};
    char err[ERRLEN], warn[ERRLEN], name[64];
    rp_input in;
    rp_live_report rep;
    int rc;

    if (c->user != NULL) {
        /* An unknown -Z user is an error before anything is opened or made. */
        uid_t uid;
        gid_t gid;
        if (rp_user_lookup(c->user, &uid, &gid, err, sizeof(err)) != 0) {
            error_msg("%s", err);
            return EXIT_USAGE;
        }
    }
    rp_input_init(&in, c->iface);
    if (rp_input_open_live(&in, c->snaplen, c->buffer_kib, !c->no_promisc, RP_LIVE_WAKE_MS, warn,
                           sizeof(warn), err, sizeof(err)) != 0) {
        error_msg("%s", err);
        return EXIT_USAGE;
    }
    if (warn[0] != '\0')
        error_msg("warning: %s", warn);
    if (!rtpproc_decode_linktype_supported(in.linktype)) {
        error_msg("'%s': unsupported link type %s", in.name,
                  rp_linktype_name(in.linktype, name, sizeof(name)));
        rp_input_close(&in);
        return EXIT_USAGE;
    }
    char *expr = kernel_filter(c, in.linktype);
    if (rp_input_set_filter(&in, expr, err, sizeof(err)) != 0) {
        error_msg("invalid filter expression '%s': %s",
                  c->user_filter != NULL ? c->user_filter : expr, err);
        g_free(expr);
        rp_input_close(&in);
        return EXIT_USAGE;
    }
    g_free(expr);
    r.linktype = in.linktype;
    r.snaplen = in.snaplen;
    if (!c->opts.no_audio && (rc = prepare_dir(c->opts.out_dir != NULL ? c->opts.out_dir : ".",
                                               &r.dir_created)) != EXIT_OK) {
        set_status(&r, rc);
        goto out;
    }
    if ((c->user != NULL && (rc = become_user(c, &r)) != EXIT_OK) ||
        (rc = prepare_outputs(c, &r)) != EXIT_OK || (rc = create_engine(c, &r)) != EXIT_OK) {
        set_status(&r, rc);
        goto out;
    }
    fprintf(stderr, "rtpproc: listening on %s, link-type %s, snapshot length %d bytes\n", in.name,
            rp_linktype_name(in.linktype, name, sizeof(name)), in.snaplen);
    rp_live_report_init(&rep, c->quiet ? NULL : r.table, r.json);
    int end = rp_live_run(&in, &c->live, r.engine, r.decoder, r.dumper, &rep, err, sizeof(err));
    if (end != RP_LIVE_STOPPED) {
        error_msg("%s", err);
        set_status(&r, end == RP_LIVE_CAPTURE_ERROR ? EXIT_INPUT : EXIT_USAGE);
    }
    if (rtpproc_engine_finish(r.engine) < 0) {
        error_msg("%s", rtpproc_engine_error(r.engine));
        set_status(&r, EXIT_USAGE);
    }
    rtpproc_capture_counters cap;
    rp_live_counters(&in, &cap);
    if (rp_live_report_finish(&rep, r.engine, r.decoder, &cap) != 0) {
        error_msg("cannot write the report: %s", strerror(rep.error));
        set_status(&r, EXIT_USAGE);
    }
out:
    close_outputs(c, &r);
    rp_input_close(&in);
    if (r.engine != NULL)
        rtpproc_engine_free(r.engine);
    if (r.factory != NULL)
        rtpproc_recorder_factory_free(r.factory);
    rtpproc_decoder_free(r.decoder);
    return r.status;
}

/*
 * Every recording is an open file: a capture with thousands of concurrent
 * streams needs as many descriptors. The soft limit (often 1024) is raised
 * to the hard one, as servers do; past that a recording fails with "Too
 * many open files" and reading stops.
 */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    cli c;
    int status;

    raise_fd_limit();
    memset(&c, 0, sizeof(c));
    rtpproc_options_init(&c.opts);
    status = parse_args(&c, argc, argv);
    if (status == EXIT_OK && c.list_ifaces) {
        char err[ERRLEN];
        if (rp_list_interfaces(stdout, err, sizeof(err)) != 0) {
            error_msg("%s", err);
            status = EXIT_USAGE;
        }
    } else if (status < 0 && c.dump_filter) {
        status = dump_filter(&c);
    } else if (status < 0 && c.iface != NULL) {
        status = run_live(&c);
    } else if (status < 0) {
        status = run_all(&c);
    }
    free_cli(&c);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        error_msg("cannot write to standard output: %s", strerror(errno));
        if (status == EXIT_OK)
            status = EXIT_USAGE;
    }
    if (stop_signal != 0) {
        /* Finished cleanly; now end the way the shell expects (128 + signal). */
        int sig = stop_signal;
        signal(sig, SIG_DFL);
        raise(sig);
    }
    return status;
}
