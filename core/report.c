/*
 * rtpproc - the end-of-run report, as text (tshark-like) and JSON.
 * Numbers are printed in the C locale's format (GLib's g_ascii_* helpers),
 * so a report reads the same whatever the user's LC_NUMERIC.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rtpproc/report.h"

static const char *note_text(enum rtpproc_stream_note n)
{
    switch (n) {
    case RTPPROC_NOTE_NO_CODEC:
        return "no decoder for the payload type";
    case RTPPROC_NOTE_NO_AUDIO:
        return "no audio packets (events or comfort noise only)";
    case RTPPROC_NOTE_RATE_CHANGE:
        return "audio with another rate skipped";
    case RTPPROC_NOTE_WRITE_ERROR:
        return "recording failed";
    case RTPPROC_NOTE_TRUNCATED:
        return "payloads cut by the capture's snaplen, not decoded";
    case RTPPROC_NOTE_DECODER_FAILED:
        return "the decoder could not be started";
    default:
        return NULL;
    }
}

/* The format a stream resolved for `pt`, or NULL. */
static const rtpproc_stream_format *format_of(const rtpproc_stream_summary *s, unsigned pt)
{
    for (unsigned i = 0; i < s->nformats && i < RTPPROC_MAX_FORMATS; i++) {
        if (s->formats[i].pt == pt)
            return &s->formats[i];
    }
    return NULL;
}

void rtpproc_report_payload_names(const rtpproc_stream_summary *s, GString *out)
{
    bool first = true;
    for (unsigned pt = 0; pt < 128; pt++) {
        if (!s->pts[pt])
            continue;
        const rtpproc_stream_format *f = format_of(s, pt);
        const rtpproc_codec *c = f == NULL ? NULL : f->codec != NULL ? f->codec : f->failed;
        const char *name = NULL;
        /* A PT named by --pt-map or SDP shows that name, as tshark shows the
         * SDP name (also when its decoder failed); a static PT keeps
         * Wireshark's short name. */
        if (c != NULL && f->source != RTPPROC_PTSRC_STATIC)
            name = c->name;
        else
            name = rtpproc_codec_static_pt_name(pt);
        if (!first)
            g_string_append(out, ", ");
        if (name != NULL)
            g_string_append(out, name);
        else
            g_string_append_printf(out, "RTPType-%u", pt);
        first = false;
    }
}

/*
 * The note; a dynamic payload type that nothing described is named in it,
 * and so is a decoder that could not be started, with the library it loads.
 */
static const char *note_for(const rtpproc_stream_summary *s, char *buf, size_t len)
{
    if (s->note == RTPPROC_NOTE_DECODER_FAILED) {
        for (unsigned i = 0; i < s->nformats && i < RTPPROC_MAX_FORMATS; i++) {
            const rtpproc_codec *c = s->formats[i].failed;
            if (c == NULL)
                continue;
            if (c->runtime_library != NULL)
                snprintf(buf, len, "the %s decoder could not be started: it needs %s", c->name,
                         c->runtime_library);
            else
                snprintf(buf, len, "the %s decoder could not be started", c->name);
            return buf;
        }
    }
    /* Also for a stream with audio: its other PT (events, say) was lost. */
    if (s->note == RTPPROC_NOTE_NO_CODEC || s->note == RTPPROC_NOTE_NONE) {
        for (unsigned i = 0; i < s->nformats && i < RTPPROC_MAX_FORMATS; i++) {
            if (s->formats[i].source == RTPPROC_PTSRC_NONE) {
                snprintf(buf, len,
                         "dynamic payload type %u: no SDP in the capture names it; "
                         "use --pt-map %u=NAME/RATE",
                         s->formats[i].pt, s->formats[i].pt);
                return buf;
            }
        }
    }
    return note_text(s->note);
}

static const char *source_name(enum rtpproc_pt_source src)
{
    switch (src) {
    case RTPPROC_PTSRC_STATIC:
        return "static";
    case RTPPROC_PTSRC_MAP:
        return "pt-map";
    case RTPPROC_PTSRC_SDP:
        return "sdp";
    case RTPPROC_PTSRC_DEFAULT:
        return "default";
    case RTPPROC_PTSRC_HEURISTIC:
        return "heuristic";
    default:
        return "none";
    }
}

/* Milliseconds of `frames` at `rate` (0 without a rate). */
static double frames_ms(uint64_t frames, uint32_t rate)
{
    return rate > 0 ? (double)frames * 1000.0 / rate : 0.0;
}

/* Formats a double with %.3f in the C locale. */
static const char *fmt3(char *buf, size_t len, double v)
{
    return g_ascii_formatd(buf, (gint)len, "%.3f", v);
}

static double event_ms(int64_t units, uint32_t clock_rate)
{
    return clock_rate ? (double)units * 1000.0 / clock_rate : 0.0;
}

#define EVENTS_PER_LINE 8

/*
 * "  Events: #@0.000s/280ms/-10dBm0 ...": per telephone-event its name (the
 * code for non-DTMF events), its offset from the stream's first packet by
 * RTP timestamp, its duration (">=" when its end packet was not seen) and
 * its level; EVENTS_PER_LINE per line.
 */
static void text_events(const rtpproc_stream_summary *m, GString *out)
{
    char t[G_ASCII_DTOSTR_BUF_SIZE], d[G_ASCII_DTOSTR_BUF_SIZE];
    if (m->nevents == 0 && m->events_dropped == 0 && m->events_malformed == 0)
        return;
    g_string_append(out, "  Events:");
    for (size_t i = 0; i < m->nevents; i++) {
        const rtpproc_event *e = &m->events[i];
        const char *name = rtpproc_event_name(e->code);
        if (i > 0 && i % EVENTS_PER_LINE == 0)
            g_string_append(out, "\n         ");
        g_string_append_c(out, ' ');
        if (name != NULL)
            g_string_append(out, name);
        else
            g_string_append_printf(out, "%u", e->code);
        g_string_append_printf(
            out, "@%ss/%s%sms/%ddBm0",
            g_ascii_formatd(t, sizeof(t), "%.3f", event_ms(e->offset, e->clock_rate) / 1000.0),
            e->end ? "" : ">=",
            g_ascii_formatd(d, sizeof(d), "%.0f", event_ms(e->duration, e->clock_rate)),
            -(int)e->volume);
    }
    if (m->events_dropped > 0)
        g_string_append_printf(out, " (+%" PRIu64 " not kept)", m->events_dropped);
    if (m->events_malformed > 0)
        g_string_append_printf(out, " (%" PRIu64 " malformed event payloads)", m->events_malformed);
    g_string_append_c(out, '\n');
}

void rtpproc_report_text_header(GString *out)
{
    g_string_append(out, "========================= RTP Streams ========================\n");
    g_string_append_printf(out,
                           "%15s %5s %15s %5s %10s %16s %6s %14s %5s %5s %5s %13s %14s %15s "
                           "%11s %4s %s\n",
                           "Src addr", "Port", "Dst addr", "Port", "SSRC", "Payload", "Pkts",
                           "Lost", "Dups", "Late", "Reord", "Max Delta(ms)", "Max Jitter(ms)",
                           "Mean Jitter(ms)", "Silence(ms)", "Disc", "File");
}

void rtpproc_report_text_stream(const rtpproc_stream_summary *m, GString *out)
{
    GString *pl = g_string_new(NULL);
    char a[RTPPROC_ADDRSTRLEN], b[RTPPROC_ADDRSTRLEN], d1[32], d2[32], d3[32], d4[32], pct[32];

    rtpproc_report_payload_names(m, pl);
    double lost_pct = m->expected > 0 ? (double)m->lost * 100.0 / (double)m->expected : 0.0;
    char lost[48];
    snprintf(lost, sizeof(lost), "%" PRId64 " (%s%%)", m->lost,
             g_ascii_formatd(pct, sizeof(pct), "%.1f", lost_pct));
    char nb[160];
    const char *note = note_for(m, nb, sizeof(nb));
    g_string_append_printf(
        out,
        "%15s %5u %15s %5u 0x%08X %16s %6" PRIu64 " %14s %5" PRIu64 " %5" PRIu64 " %5" PRIu64
        " %13s %14s %15s %11s %4" PRIu64 " %s%s%s%s\n",
        rtpproc_addr_format(&m->flow.src, a, sizeof(a)), m->flow.sport,
        rtpproc_addr_format(&m->flow.dst, b, sizeof(b)), m->flow.dport, m->ssrc, pl->str,
        m->packets, lost, m->duplicates, m->late, m->reordered,
        fmt3(d1, sizeof(d1), m->max_delta_ms), fmt3(d2, sizeof(d2), m->max_jitter_ms),
        fmt3(d3, sizeof(d3), m->mean_jitter_ms),
        fmt3(d4, sizeof(d4), frames_ms(m->silence_frames, m->sample_rate)), m->discontinuities,
        m->file ? m->file : "-", note ? " (" : "", note ? note : "", note ? ")" : "");
    text_events(m, out);
    g_string_free(pl, TRUE);
}

void rtpproc_report_text_footer(const rtpproc_engine_counters *ec,
                                const rtpproc_decode_counters *dc,
                                const rtpproc_capture_counters *cap, GString *out)
{
    g_string_append(out, "==============================================================\n");
    if (dc != NULL)
        g_string_append_printf(out,
                               "Frames: %" PRIu64 " read, %" PRIu64 " UDP datagrams, %" PRIu64
                               " not IP, %" PRIu64 " not UDP, %" PRIu64 " truncated, %" PRIu64
                               " invalid, %" PRIu64 " reassembled\n",
                               dc->frames, dc->datagrams, dc->not_ip, dc->not_udp, dc->truncated,
                               dc->invalid, dc->reassembled);
    if (ec != NULL)
        g_string_append_printf(out,
                               "RTP: %" PRIu64 " packets, %" PRIu64 " streams, %" PRIu64
                               " not RTP, %" PRIu64 " header truncated, %" PRIu64
                               " payload truncated, %" PRIu64 " invalid, %" PRIu64
                               " filtered, %" PRIu64 " dropped at limits\n",
                               ec->rtp, ec->streams, ec->not_rtp, ec->truncated,
                               ec->payload_truncated, ec->invalid, ec->filtered, ec->dropped_limit);
    if (cap != NULL)
        g_string_append_printf(out,
                               "Capture: %" PRIu64 " received, %" PRIu64
                               " dropped by the kernel, %" PRIu64 " dropped by the interface\n",
                               cap->received, cap->dropped, cap->if_dropped);
}

void rtpproc_report_text(const rtpproc_stream_summary *s, size_t n,
                         const rtpproc_engine_counters *ec, const rtpproc_decode_counters *dc,
                         GString *out)
{
    rtpproc_report_text_header(out);
    for (size_t i = 0; i < n; i++)
        rtpproc_report_text_stream(&s[i], out);
    rtpproc_report_text_footer(ec, dc, NULL, out);
}

static void json_string(GString *out, const char *str)
{
    if (str == NULL) {
        g_string_append(out, "null");
        return;
    }
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
        switch (*p) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        default:
            if (*p < 0x20)
                g_string_append_printf(out, "\\u%04x", *p);
            else
                g_string_append_c(out, (char)*p);
        }
    }
    g_string_append_c(out, '"');
}

static void json_double(GString *out, const char *key, double v, const char *fmt)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append_printf(out, ",\"%s\":%s", key, g_ascii_formatd(buf, sizeof(buf), fmt, v));
}

static void json_time(GString *out, const char *key, rtpproc_time_ns t)
{
    /* seconds.nanoseconds, exact (a double would lose the nanoseconds) */
    int64_t sec = t / RTPPROC_NS_PER_SEC, ns = t % RTPPROC_NS_PER_SEC;
    if (ns < 0) {
        sec -= 1;
        ns += RTPPROC_NS_PER_SEC;
    }
    g_string_append_printf(out, ",\"%s\":%" PRId64 ".%09" PRId64, key, sec, ns);
}

/* streams[].events_*: the telephone-events of a stream. */
static void json_events(GString *out, const rtpproc_stream_summary *m)
{
    g_string_append_printf(out,
                           ",\"events_count\":%" PRIu64 ",\"events_dropped\":%" PRIu64
                           ",\"events_malformed\":%" PRIu64 ",\"events\":[",
                           (uint64_t)m->nevents + m->events_dropped, m->events_dropped,
                           m->events_malformed);
    for (size_t i = 0; i < m->nevents; i++) {
        const rtpproc_event *e = &m->events[i];
        const char *name = rtpproc_event_name(e->code);
        char code[8];
        snprintf(code, sizeof(code), "%u", e->code);
        g_string_append(out, i ? ",{\"event\":" : "{\"event\":");
        json_string(out, name != NULL ? name : code);
        g_string_append_printf(out, ",\"code\":%u", e->code);
        json_time(out, "start", e->start);
        json_double(out, "offset_ms", event_ms(e->offset, e->clock_rate), "%.3f");
        json_double(out, "duration_ms", event_ms(e->duration, e->clock_rate), "%.3f");
        g_string_append_printf(out, ",\"volume_dbm0\":%d,\"end\":%s,\"start_seen\":%s}",
                               -(int)e->volume, e->end ? "true" : "false",
                               e->start_seen ? "true" : "false");
    }
    g_string_append_c(out, ']');
}

void rtpproc_report_json_open(GString *out)
{
    g_string_append(out, "{\"streams\":[");
}

void rtpproc_report_json_stream(const rtpproc_stream_summary *m, bool first, GString *out)
{
    char a[RTPPROC_ADDRSTRLEN];
    GString *pl = g_string_new(NULL);

    g_string_append_printf(out, "%s{\"index\":%u,\"src\":", first ? "" : ",", m->index);
    json_string(out, rtpproc_addr_format(&m->flow.src, a, sizeof(a)));
    g_string_append_printf(out, ",\"sport\":%u,\"dst\":", m->flow.sport);
    json_string(out, rtpproc_addr_format(&m->flow.dst, a, sizeof(a)));
    g_string_append_printf(out, ",\"dport\":%u,\"ssrc\":\"0x%08X\",\"payload\":", m->flow.dport,
                           m->ssrc);
    g_string_truncate(pl, 0);
    rtpproc_report_payload_names(m, pl);
    json_string(out, pl->str);
    g_string_append(out, ",\"payload_types\":[");
    bool first_pt = true;
    for (unsigned pt = 0; pt < 128; pt++) {
        if (m->pts[pt]) {
            g_string_append_printf(out, "%s%u", first_pt ? "" : ",", pt);
            first_pt = false;
        }
    }
    g_string_append(out, "],\"codec\":");
    json_string(out, m->codec);
    json_time(out, "start", m->first_ts);
    json_time(out, "end", m->last_ts);
    g_string_append_printf(
        out,
        ",\"packets\":%" PRIu64 ",\"expected\":%" PRId64 ",\"lost\":%" PRId64
        ",\"duplicates\":%" PRIu64 ",\"late\":%" PRIu64 ",\"truncated\":%" PRIu64
        ",\"undecodable\":%" PRIu64 ",\"first_seq\":%u,\"last_seq\":%u,\"reordered\":%" PRIu64
        ",\"jitter_drops\":%" PRIu64 ",\"talkspurts\":%" PRIu64,
        m->packets, m->expected, m->lost, m->duplicates, m->late, m->truncated, m->undecodable,
        m->first_seq, m->last_seq, m->reordered, m->jitter_drops, m->talkspurts);
    json_double(out, "max_delta_ms", m->max_delta_ms, "%.3f");
    json_double(out, "max_jitter_ms", m->max_jitter_ms, "%.3f");
    json_double(out, "mean_jitter_ms", m->mean_jitter_ms, "%.3f");
    g_string_append_printf(
        out,
        ",\"sample_rate\":%u,\"codec_rate\":%u,\"channels\":%u,\"frames\":%" PRIu64
        ",\"silence_frames\":%" PRIu64 ",\"discontinuities\":%" PRIu64,
        m->sample_rate, m->codec_rate, m->channels, m->frames, m->silence_frames,
        m->discontinuities);
    json_double(out, "silence_ms", frames_ms(m->silence_frames, m->sample_rate), "%.3f");
    g_string_append_printf(out, ",\"concealed_frames\":%" PRIu64, m->concealed_frames);
    json_double(out, "concealed_ms", frames_ms(m->concealed_frames, m->sample_rate), "%.3f");
    g_string_append(out, ",\"file\":");
    json_string(out, m->file);
    g_string_append_printf(out, ",\"file_offset_frames\":%" PRIu64, m->file_offset);
    json_double(out, "file_offset_ms", frames_ms(m->file_offset, m->sample_rate), "%.3f");
    json_double(out, "overlap_ms", frames_ms(m->overlap_frames, m->sample_rate), "%.3f");
    g_string_append(out, ",\"formats\":[");
    for (unsigned f = 0; f < m->nformats && f < RTPPROC_MAX_FORMATS; f++) {
        const rtpproc_stream_format *x = &m->formats[f];
        g_string_append_printf(out, "%s{\"pt\":%u,\"codec\":", f ? "," : "", x->pt);
        json_string(out, x->codec ? x->codec->name : NULL);
        g_string_append_printf(out, ",\"clock_rate\":%u,\"channels\":%u,\"source\":\"%s\"}",
                               x->clock_rate, x->channels, source_name(x->source));
    }
    char nb[160];
    g_string_append(out, "],\"note\":");
    json_string(out, note_for(m, nb, sizeof(nb)));
    json_events(out, m);
    g_string_append_c(out, '}');
    g_string_free(pl, TRUE);
}

void rtpproc_report_json_close(const rtpproc_engine_counters *ec, const rtpproc_decode_counters *dc,
                               const rtpproc_capture_counters *cap, GString *out)
{
    g_string_append(out, "],\"counters\":{");
    if (ec != NULL)
        g_string_append_printf(
            out,
            "\"datagrams\":%" PRIu64 ",\"rtp\":%" PRIu64 ",\"not_rtp\":%" PRIu64
            ",\"rtp_truncated\":%" PRIu64 ",\"payload_truncated\":%" PRIu64
            ",\"rtp_invalid\":%" PRIu64 ",\"filtered\":%" PRIu64 ",\"dropped_limit\":%" PRIu64
            ",\"probation_evicted\":%" PRIu64 ",\"probation_expired\":%" PRIu64
            ",\"probation_peak\":%" PRIu64 ",\"streams\":%" PRIu64 ",\"sdp_bindings\":%" PRIu64,
            ec->datagrams, ec->rtp, ec->not_rtp, ec->truncated, ec->payload_truncated, ec->invalid,
            ec->filtered, ec->dropped_limit, ec->probation_evicted, ec->probation_expired,
            ec->probation_peak, ec->streams, ec->sdp_bindings);
    if (dc != NULL)
        g_string_append_printf(out,
                               "%s\"frames\":%" PRIu64 ",\"udp\":%" PRIu64 ",\"not_ip\":%" PRIu64
                               ",\"not_udp\":%" PRIu64 ",\"frame_truncated\":%" PRIu64
                               ",\"frame_invalid\":%" PRIu64 ",\"unsupported\":%" PRIu64
                               ",\"fragments\":%" PRIu64 ",\"reassembled\":%" PRIu64
                               ",\"frag_timeouts\":%" PRIu64 ",\"frag_overflows\":%" PRIu64,
                               ec ? "," : "", dc->frames, dc->datagrams, dc->not_ip, dc->not_udp,
                               dc->truncated, dc->invalid, dc->unsupported, dc->fragments,
                               dc->reassembled, dc->frag_timeouts, dc->frag_overflows);
    g_string_append_c(out, '}');
    if (cap != NULL)
        g_string_append_printf(out,
                               ",\"capture\":{\"received\":%" PRIu64 ",\"dropped\":%" PRIu64
                               ",\"if_dropped\":%" PRIu64 "}",
                               cap->received, cap->dropped, cap->if_dropped);
    g_string_append(out, "}\n");
}

void rtpproc_report_json(const rtpproc_stream_summary *s, size_t n,
                         const rtpproc_engine_counters *ec, const rtpproc_decode_counters *dc,
                         GString *out)
{
    rtpproc_report_json_open(out);
    for (size_t i = 0; i < n; i++)
        rtpproc_report_json_stream(&s[i], i == 0, out);
    rtpproc_report_json_close(ec, dc, NULL, out);
}
