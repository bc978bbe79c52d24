/*
 * rtpproc - the tshark tap: "-z rtpproc[,name=value,...]".
 *
 * tshark dissects, this file converts every packet the "rtp" tap reports
 * (a struct _rtp_info plus packet_info) into the datagram the core's engine
 * takes, and the core does the rest exactly as for the standalone tool:
 * same option parser, same engine, same recorder, same report.
 *
 * Lifecycle in tshark 4.0 (tshark.c, epan/tap.c; wireshark-notes.md 1.5):
 * the init callback runs once per "-z rtpproc..." after the capture file
 * was opened and before the first packet; then packet callbacks in file
 * order; then draw (also after a read error such as a truncated file); then
 * reset; finally finish from epan_cleanup(), before the plug-in is unloaded.
 * So: state is built in init, recordings are finalised and the report is
 * printed in draw, memory is freed in finish, and reset does nothing.
 *
 * Option and setup errors are printed as "tshark: rtpproc: ..." and end
 * tshark with exit(1), the convention of tshark's own statistics.
 */
#include "tap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wireshark.h>

#include <epan/address.h>
#include <epan/dissectors/packet-rtp.h>
#include <epan/epan_dissect.h>
#include <epan/packet_info.h>
#include <epan/stat_tap_ui.h>
#include <epan/tap.h>
#include <wiretap/pcap-encap.h>

#include "rtpproc/decode.h"
#include "rtpproc/engine.h"
#include "rtpproc/options.h"
#include "rtpproc/recorder.h"
#include "rtpproc/report.h"
#include "rtpproc/resample.h"
#include "rtpproc/rtp.h"

#define CLI_NAME "rtpproc"
#define ERRLEN   512

/* One "-z rtpproc,..." occurrence: tshark hands this back to every callback. */
typedef struct rp_tap {
    rtpproc_options opts;
    rtpproc_recorder_factory *factory; /* NULL with no-audio */
    rtpproc_resample_factory resample; /* rate=: wraps the recorder factory */
    rtpproc_engine *engine;
    rtpproc_decoder *sip_decoder; /* frames of SIP packets down to UDP */
    struct rp_learnt {            /* the last payload name given to the engine */
        bool set;
        rtpproc_addr dst;
        uint16_t port;
        unsigned pt;
        uint32_t rate;
        char name[32];
    } last_learnt;
    struct rp_sip_tap {
        struct rp_tap *tap; /* the "sip" listener's own tapdata */
    } sip;
    FILE *json;                       /* json=FILE, opened in init to fail early */
    FILE *table;                      /* stdout, or stderr when json=- takes stdout */
    char last_error[ERRLEN];          /* last message printed, not to repeat it */
    bool failed;                      /* a recording failed: the listener stopped */
    bool drawn;                       /* draw ran: nothing more to do but free */
    bool epoch_set;                   /* rtpproc_engine_set_epoch done */
    uint64_t skipped_addr;            /* RTP packets whose addresses are not IPv4/IPv6 */
    uint8_t hdr[RTPPROC_RTP_HDR_LEN]; /* synthesised header of a cut packet */
} rp_tap;

static void tap_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr, after whatever stdout holds. */
static void tap_error(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("tshark: " CLI_NAME ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* An unusable -z argument: message and exit(1), like tshark's own taps. */
static void fatal(const char *fmt, ...)
{
    va_list ap;
    char msg[ERRLEN];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tap_error("%s", msg);
    exit(1);
}

/* An engine error, printed once even if draw meets it again. */
static void engine_error(rp_tap *t)
{
    const char *msg = rtpproc_engine_error(t->engine);

    if (msg[0] == '\0')
        msg = "a recording could not be written";
    if (strcmp(msg, t->last_error) == 0)
        return;
    g_strlcpy(t->last_error, msg, sizeof(t->last_error));
    /* The recorder names the standalone tool's option; ours is force=1. */
    char **parts = g_strsplit(msg, "--force", -1);
    char *text = g_strjoinv("force=1", parts);
    tap_error("%s", text);
    g_free(text);
    g_strfreev(parts);
}

/*
 * The recording directory, as the standalone tool treats it: used if it
 * is a writable directory, created if missing (one level), else an error.
 */
static void prepare_dir(const char *dir)
{
    struct stat st;

    if (stat(dir, &st) != 0) {
        if (errno != ENOENT)
            fatal("cannot use output directory '%s': %s", dir, g_strerror(errno));
        if (mkdir(dir, 0777) != 0)
            fatal("cannot create output directory '%s': %s", dir, g_strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode))
        fatal("output directory '%s' is not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        fatal("cannot write to output directory '%s': %s", dir, g_strerror(errno));
}

/* An IPv4 or IPv6 address of pinfo; false for any other address type. */
static bool copy_addr(const address *a, rtpproc_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (a->type == AT_IPv4 && a->len == 4) {
        out->family = 4;
        memcpy(out->bytes, a->data, 4);
        return true;
    }
    if (a->type == AT_IPv6 && a->len == 16) {
        out->family = 6;
        memcpy(out->bytes, a->data, 16);
        return true;
    }
    return false;
}

/*
 * A dynamic PT that tshark names from the SDP of the call ("PCMA",
 * "telephone-event", "L16" with its clock rate) is learned for the
 * packet's destination endpoint, the address and port that SDP announced
 * (the engine resolves a stream's PTs by its own endpoints, so two calls
 * using PT 99 for different rates each get theirs). The user's pt-map
 * still comes first (the engine's resolution order). Names the core does
 * not know leave the PT unresolved, as in the standalone tool. SDP's
 * channel count does not reach _rtp_info: on_sip() reads it from the SIP
 * packets, and a name without channels does not undo that.
 */
static void learn_pt_name(rp_tap *t, const struct _rtp_info *ri, const rtpproc_flow *flow)
{
    unsigned pt = ri->info_payload_type;

    /* "rtpevent" is Wireshark's guess for PT 100-101 without SDP, not a
     * name from SDP: the core's own default for PT 101 applies instead. */
    if (pt < 96 || pt > 127 || ri->info_payload_type_str == NULL ||
        strcmp(ri->info_payload_type_str, "rtpevent") == 0)
        return;
    uint32_t rate = ri->info_payload_rate > 0 ? (uint32_t)ri->info_payload_rate : 0;
    const char *name = ri->info_payload_type_str;
    struct rp_learnt *l = &t->last_learnt;
    /* tshark repeats the name on every packet: the engine is asked once
     * per change (an unknown name or a repeat is a no-op there anyway). */
    if (l->set && l->pt == pt && l->rate == rate && l->port == flow->dport &&
        memcmp(&l->dst, &flow->dst, sizeof(l->dst)) == 0 && strcmp(l->name, name) == 0)
        return;
    (void)rtpproc_engine_learn_pt(t->engine, &flow->dst, flow->dport, pt, name, rate, 0, 0);
    l->set = strlen(name) < sizeof(l->name);
    if (l->set) {
        strcpy(l->name, name);
        l->dst = flow->dst;
        l->port = flow->dport;
        l->pt = pt;
        l->rate = rate;
    }
}

/*
 * A packet cut at capture time: tshark gives no bytes (info_data NULL) but
 * the header fields. Rebuild the 12-byte fixed header (RFC 3550 5.1) from
 * them and claim more bytes on the wire than present, so the engine counts
 * the packet in the statistics and, as the standalone tool does with a cut
 * packet, decodes nothing of it. tshark does not tap a cut packet with the
 * P bit at all (it returns before tap_queue_packet), nor one whose CSRC
 * list or extension was cut.
 */
static void synthesise_header(rp_tap *t, const struct _rtp_info *ri, rtpproc_datagram *d)
{
    uint8_t *h = t->hdr;

    h[0] = (uint8_t)(0x80 | (ri->info_padding_set ? 0x20 : 0));
    h[1] = (uint8_t)((ri->info_marker_set != 0 ? 0x80 : 0) | (ri->info_payload_type & 0x7f));
    h[2] = (uint8_t)(ri->info_seq_num >> 8);
    h[3] = (uint8_t)ri->info_seq_num;
    for (int i = 0; i < 4; i++) {
        h[4 + i] = (uint8_t)(ri->info_timestamp >> (24 - 8 * i));
        h[8 + i] = (uint8_t)(ri->info_sync_src >> (24 - 8 * i));
    }
    d->payload = h;
    d->caplen = RTPPROC_RTP_HDR_LEN;
    /* info_data_len is 0 for a cut packet and the length on the wire is not
     * in _rtp_info: info_payload_len is what was captured after the header.
     * Any len > caplen marks the packet cut, which is all the engine uses. */
    d->len = RTPPROC_RTP_HDR_LEN + (size_t)ri->info_payload_len + 1;
}

static tap_packet_status on_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt,
                                   const void *data, tap_flags_t flags)
{
    rp_tap *t = tapdata;
    const struct _rtp_info *ri = data;
    rtpproc_datagram d;

    (void)edt;
    (void)flags;
    if (t->drawn || t->failed || ri == NULL)
        return TAP_PACKET_DONT_REDRAW;

    memset(&d, 0, sizeof(d));
    if (!copy_addr(&pinfo->src, &d.flow.src) || !copy_addr(&pinfo->dst, &d.flow.dst)) {
        t->skipped_addr++;
        return TAP_PACKET_DONT_REDRAW;
    }
    d.flow.sport = (uint16_t)pinfo->srcport;
    d.flow.dport = (uint16_t)pinfo->destport;
    d.ts = (rtpproc_time_ns)pinfo->abs_ts.secs * RTPPROC_NS_PER_SEC + pinfo->abs_ts.nsecs;
    if (!t->epoch_set) {
        /* rel_ts counts from the capture's first frame: that frame's time,
         * the same for every packet, and the engine keeps the first anyway. */
        rtpproc_engine_set_epoch(t->engine,
                                 d.ts - ((rtpproc_time_ns)pinfo->rel_ts.secs * RTPPROC_NS_PER_SEC +
                                         pinfo->rel_ts.nsecs));
        t->epoch_set = true;
    }

    learn_pt_name(t, ri, &d.flow);
    if (ri->info_all_data_present && ri->info_data != NULL) {
        /* Header and payload, padding included: the engine parses them
         * itself, exactly as it does for the standalone tool. The bytes
         * live only during this callback; the engine copies what it keeps. */
        d.payload = ri->info_data;
        d.caplen = d.len = ri->info_data_len;
    } else {
        synthesise_header(t, ri, &d);
    }

    if (rtpproc_engine_feed(t->engine, &d) < 0) {
        /* A recording could not be opened or written: stop here, as the
         * standalone tool stops reading; draw finalises the other files. */
        engine_error(t);
        t->failed = true;
        return TAP_PACKET_FAILED;
    }
    return TAP_PACKET_DONT_REDRAW;
}

static bool write_gstring(FILE *f, const GString *s)
{
    return fwrite(s->str, 1, s->len, f) == s->len && fflush(f) == 0;
}

/* End of the file: finalise every recording, print the report, write JSON. */
static void on_draw(void *tapdata)
{
    rp_tap *t = tapdata;

    if (t->drawn)
        return;
    t->drawn = true;
    if (rtpproc_engine_finish(t->engine) < 0)
        engine_error(t);

    size_t n = 0;
    const rtpproc_stream_summary *s = rtpproc_engine_summaries(t->engine, &n);
    const rtpproc_engine_counters *ec = rtpproc_engine_counters_get(t->engine);
    GString *out = g_string_new(NULL);

    /* No decode counters: tshark did the link, IP and UDP layers. */
    rtpproc_report_text(s, n, ec, NULL, out);
    if (t->skipped_addr > 0)
        g_string_append_printf(out, "Tap: %" PRIu64 " RTP packets skipped (not IPv4 or IPv6)\n",
                               t->skipped_addr);
    if (!write_gstring(t->table, out))
        tap_error("cannot write the report: %s", g_strerror(errno));
    if (t->json != NULL) {
        g_string_truncate(out, 0);
        rtpproc_report_json(s, n, ec, NULL, out);
        bool ok = write_gstring(t->json, out);
        if (t->json != stdout)
            ok = fclose(t->json) == 0 && ok;
        t->json = NULL;
        if (!ok)
            tap_error("cannot write '%s': %s", t->opts.json_path, g_strerror(errno));
    }
    g_string_free(out, TRUE);
}

/*
 * tshark calls reset once, after draw (wireshark-notes.md 1.5), and never
 * before the first packet: the state was made in init and the outputs are
 * final, so there is nothing to reset.
 */
/*
 * A SIP packet tshark dissected: its SDP is read from the frame's own bytes
 * with the core's decoder and SDP reader, exactly as the standalone tool
 * reads it, because _rtp_info gives names and clock rates but no channel
 * count (an L16/16000/2 stream would be recorded as mono). SIP reassembled
 * from IP fragments or carried over TCP is not read here; tshark's names
 * on the RTP packets still apply then (with the codec's default channels).
 */
/*
 * The pcap link type of a wiretap encapsulation, among those the core's
 * decoder reads; -1 otherwise. libwiretap 4.0 exports only the mapping the
 * other way (wtap_pcap_encap_to_wtap_encap), so the candidates are tried.
 */
static int dlt_of_encap(int encap)
{
    static const int dlts[] = {
        RTPPROC_DLT_EN10MB, RTPPROC_DLT_LINUX_SLL, RTPPROC_DLT_LINUX_SLL2,   RTPPROC_DLT_NULL,
        RTPPROC_DLT_LOOP,   RTPPROC_DLT_RAW,       RTPPROC_DLT_LINKTYPE_RAW, RTPPROC_DLT_RAW_BSD,
        RTPPROC_DLT_IPV4,   RTPPROC_DLT_IPV6,
    };
    for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
        if (wtap_pcap_encap_to_wtap_encap(dlts[i]) == encap)
            return dlts[i];
    }
    return -1;
}

static tap_packet_status on_sip(void *tapdata, packet_info *pinfo, epan_dissect_t *edt,
                                const void *data, tap_flags_t flags)
{
    struct rp_sip_tap *st = tapdata;
    rp_tap *t = st->tap;
    rtpproc_datagram d;

    (void)data;
    (void)flags;
    if (t->drawn || t->failed || edt == NULL || edt->tvb == NULL || pinfo->rec == NULL ||
        pinfo->rec->rec_type != REC_TYPE_PACKET)
        return TAP_PACKET_DONT_REDRAW;
    int dlt = dlt_of_encap(pinfo->rec->rec_header.packet_header.pkt_encap);
    if (dlt < 0)
        return TAP_PACKET_DONT_REDRAW;
    guint caplen = tvb_captured_length(edt->tvb);
    const guint8 *bytes = tvb_get_ptr(edt->tvb, 0, (gint)caplen);
    rtpproc_time_ns ts =
        (rtpproc_time_ns)pinfo->abs_ts.secs * RTPPROC_NS_PER_SEC + pinfo->abs_ts.nsecs;
    if (bytes != NULL &&
        rtpproc_decode_frame(t->sip_decoder, dlt, ts, bytes, caplen, tvb_reported_length(edt->tvb),
                             &d) == RTPPROC_PARSE_OK &&
        d.caplen == d.len)
        rtpproc_engine_learn_sdp(t->engine, d.payload, d.caplen);
    return TAP_PACKET_DONT_REDRAW;
}

static void on_reset(void *tapdata)
{
    (void)tapdata;
}

/* From epan_cleanup(): free everything (draw may not have run). */
static void on_finish(void *tapdata)
{
    rp_tap *t = tapdata;

    /* Without draw (an interrupted run) this still closes open recordings
     * with a valid header. */
    rtpproc_engine_free(t->engine);
    rtpproc_decoder_free(t->sip_decoder);
    rtpproc_recorder_factory_free(t->factory);
    if (t->json != NULL && t->json != stdout)
        fclose(t->json);
    rtpproc_options_clear(&t->opts);
    g_free(t);
}

/*
 * "-z rtpproc[,options]". tshark matches registered names by prefix and
 * passes the whole argument (freed after the call), so "rtpprocx" lands
 * here too and is refused.
 */
static void on_init(const char *opt_arg, void *userdata)
{
    const size_t name_len = strlen(CLI_NAME);
    char err[ERRLEN];

    (void)userdata;
    if (strncmp(opt_arg, CLI_NAME, name_len) != 0 ||
        (opt_arg[name_len] != ',' && opt_arg[name_len] != '\0'))
        fatal("invalid -z argument '%s' (expected " CLI_NAME "[,name=value,...])", opt_arg);

    rp_tap *t = g_new0(rp_tap, 1);
    rtpproc_options_init(&t->opts);
    const char *list = opt_arg[name_len] == ',' ? opt_arg + name_len + 1 : "";
    if (rtpproc_options_parse_list(&t->opts, list, err, sizeof(err)) != RTPPROC_OK)
        fatal("%s", err);

    if (!t->opts.no_audio)
        prepare_dir(t->opts.out_dir != NULL ? t->opts.out_dir : ".");
    t->table = stdout;
    if (t->opts.json_path != NULL) {
        if (strcmp(t->opts.json_path, "-") == 0) {
            t->json = stdout;
            t->table = stderr;
        } else if ((t->json = fopen(t->opts.json_path, "wb")) == NULL) {
            fatal("cannot write '%s': %s", t->opts.json_path, g_strerror(errno));
        }
    }

    rtpproc_engine_config cfg = t->opts.engine;
    cfg.sink_open = NULL;
    cfg.sink_userdata = NULL;
    cfg.learn_sdp = false; /* tshark only taps RTP here; its SDP names arrive per packet */
    if (!t->opts.no_audio) {
        t->factory = rtpproc_recorder_factory_new(t->opts.out_dir, t->opts.force);
        if (t->factory == NULL)
            fatal("out of memory");
        /* Without the thread (it could not start) the writes happen here. */
        if (!t->opts.sync_writes)
            (void)rtpproc_recorder_factory_start_writer(t->factory);
        cfg.sink_open = rtpproc_recorder_open;
        cfg.sink_userdata = t->factory;
        rtpproc_resample_install(&t->resample, t->opts.out_rate, &cfg);
    }
    t->engine = rtpproc_engine_new(&cfg);
    t->sip_decoder = rtpproc_decoder_new(NULL);
    if (t->engine == NULL || t->sip_decoder == NULL)
        fatal("out of memory");
    t->sip.tap = t;

    GString *error = register_tap_listener("rtp", t, NULL, TL_REQUIRES_NOTHING, on_reset, on_packet,
                                           on_draw, on_finish);
    if (error != NULL) {
        g_strlcpy(err, error->str, sizeof(err));
        g_string_free(error, TRUE);
        fatal("cannot register the tap listener: %s", err);
    }
    error =
        register_tap_listener("sip", &t->sip, NULL, TL_REQUIRES_NOTHING, NULL, on_sip, NULL, NULL);
    if (error != NULL) {
        g_strlcpy(err, error->str, sizeof(err));
        g_string_free(error, TRUE);
        fatal("cannot register the SIP tap listener: %s", err);
    }
}

/* register_stat_tap_ui() keeps a pointer to the name: static storage. */
static stat_tap_ui rtpproc_ui = {
    .group = REGISTER_STAT_GROUP_GENERIC,
    .title = "RTP streams to WAV files (rtpproc)",
    .cli_string = CLI_NAME,
    .tap_init_cb = on_init,
    .nparams = 0,
    .params = NULL,
};

void rp_tap_register(void)
{
    register_stat_tap_ui(&rtpproc_ui, NULL);
}
