/*
 * rtpproc - playout: reorder window, duplicates, and placement of decoded
 * audio on the stream's sample timeline (design.md section 4, "rtp" mode).
 *
 * Packets are released in sequence order. A packet that arrives in order is
 * released at once without a copy; only packets behind a gap are copied
 * into the stream's small ring until the gap fills, the window (packets or
 * capture time) runs out, or the stream ends.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#include "events.h"
#include "heuristic.h"
#include "join.h"
#include "stream.h"

/* A.1's dropout bounds also decide when the sequence restarted (playout
 * then resynchronises instead of waiting for 3000 "missing" packets). */
#define RP_MAX_DROPOUT  RTPPROC_MAX_DROPOUT
#define RP_MAX_MISORDER RTPPROC_MAX_MISORDER

/* Records "<what> '<path>': <reason>" as the engine's error message. */
static void set_error(rp_engine_shared *sh, const char *what, const char *path, const char *why)
{
    snprintf(sh->error, sizeof(sh->error), "%s '%s': %s", what, path, why);
}

/* Resolution order of a payload type: engine.h, rtpproc_engine_learn_pt(). */
#define RP_DEFAULT_EVENT_PT 101
static enum rtpproc_pt_source resolve_pt(const rp_engine_shared *sh, const rp_key *k, unsigned pt,
                                         rtpproc_codec_spec *spec)
{
    const rtpproc_ptmap *map = &sh->cfg->ptmap;
    if (map->set[pt]) {
        *spec = map->spec[pt];
        return RTPPROC_PTSRC_MAP;
    }
    if (sh->learned != NULL) {
        const rtpproc_codec_spec *l = rp_ptlearn_get(sh->learned, &k->flow.dst, k->flow.dport, pt);
        if (l == NULL)
            l = rp_ptlearn_get(sh->learned, &k->flow.src, k->flow.sport, pt);
        if (l != NULL) {
            *spec = *l;
            return RTPPROC_PTSRC_SDP;
        }
    }
    if (pt == RP_DEFAULT_EVENT_PT) {
        /* RFC 4733 fixes no number; 101 is what most UAs offer and what
         * Wireshark's rtpevent dissector assumes without SDP. */
        rtpproc_codec_spec_make(rtpproc_codec_find_by_name("telephone-event"), 8000, 1, spec);
        return RTPPROC_PTSRC_DEFAULT;
    }
    rtpproc_codec_spec_for_static_pt(pt, spec);
    return pt < 96 ? RTPPROC_PTSRC_STATIC : RTPPROC_PTSRC_NONE;
}

rp_decoder_slot *rp_playout_format(rp_engine_shared *sh, rp_stream *s, uint8_t pt)
{
    for (unsigned i = 0; i < s->ndec; i++) {
        if (s->dec[i].pt == pt)
            return &s->dec[i];
    }
    if (s->ndec == RP_MAX_DECODERS)
        return NULL;
    rp_decoder_slot *d = &s->dec[s->ndec];
    memset(d, 0, sizeof(*d));
    d->pt = pt;
    d->source = resolve_pt(sh, &s->key, pt, &d->spec);
    if (d->spec.codec != NULL && d->spec.codec->create != NULL) {
        d->state = d->spec.codec->create(&d->spec);
        if (d->state == NULL) {
            /* Its library missing at run time, or out of memory: undecodable,
             * and the report says which decoder failed. */
            d->failed = d->spec.codec;
            d->spec.codec = NULL;
        }
    }
    s->ndec++;
    return d;
}

static int open_sink(rp_engine_shared *sh, rp_stream *s, const rp_decoder_slot *d)
{
    rtpproc_sink_format fmt = {
        .sample_rate = d->spec.sample_rate,
        .channels = d->spec.channels,
        .encoding = sh->cfg->encoding,
    };
    rtpproc_sink_info info = {
        .flow = &s->key.flow,
        .ssrc = s->key.ssrc,
        .pt = d->pt,
        .codec_name = d->spec.codec->name,
        .start = s->first_arrival,
    };
    int status = RTPPROC_EIO;
    char err[400] = "";

    s->codec_name = d->spec.codec->name;
    s->out_clock = d->spec.clock_rate;
    if (sh->cfg->sink_open == NULL)
        return 0;
    if (sh->joins != NULL)
        s->sink = rp_join_open(sh->joins, sh->cfg->sink_open, sh->cfg->sink_userdata, &info, &fmt,
                               &status, err, sizeof(err), &s->file_offset);
    else
        s->sink =
            sh->cfg->sink_open(sh->cfg->sink_userdata, &info, &fmt, &status, err, sizeof(err));
    if (s->sink == NULL) {
        s->sink_failed = true;
        s->note = RTPPROC_NOTE_WRITE_ERROR;
        if (err[0] != '\0')
            snprintf(sh->error, sizeof(sh->error), "%s", err);
        else
            snprintf(sh->error, sizeof(sh->error), "cannot open a recording: %s",
                     rtpproc_strerror(status));
        return status < 0 ? status : RTPPROC_EIO;
    }
    if (s->sink->path != NULL)
        s->file = strdup(s->sink->path);
    return 0;
}

static int sink_failed(rp_engine_shared *sh, rp_stream *s, int status)
{
    set_error(sh, "write error on", s->file ? s->file : "(recording)", rtpproc_strerror(status));
    s->note = RTPPROC_NOTE_WRITE_ERROR;
    s->sink_failed = true;
    if (s->sink != NULL) {
        s->sink->ops->close(s->sink);
        s->sink = NULL;
    }
    return status < 0 ? status : RTPPROC_EIO;
}

static int ensure_pcm(rp_engine_shared *sh, size_t samples)
{
    if (samples <= sh->pcm_cap)
        return 0;
    size_t cap = sh->pcm_cap ? sh->pcm_cap : 4096;
    while (cap < samples)
        cap *= 2;
    int16_t *p = realloc(sh->pcm, cap * sizeof(*p));
    if (p == NULL)
        return RTPPROC_ENOMEM;
    sh->pcm = p;
    sh->pcm_cap = cap;
    return 0;
}

/* Frames between two timeline instants at the recording's rate. */
static uint64_t arrival_frames(rtpproc_time_ns from, rtpproc_time_ns to, uint32_t rate)
{
    if (to <= from)
        return 0;
    return (uint64_t)((double)(to - from) * rate / (double)RTPPROC_NS_PER_SEC + 0.5);
}

/* Longest concealment of one loss (--plc); the rest of a longer gap is
 * silence: concealment of longer losses only drones on. */
#define RP_PLC_MAX_MS 500

/* Writes `frames` of silence, or of concealment (up to RP_PLC_MAX_MS) when
 * `conceal` is set: the codec's own, else spandsp's PLC for mono audio. */
/*
 * Fills pcm[0..n) (mono or interleaved) with white noise whose RMS is the
 * comfort-noise level (RFC 3389 3: -dBov, 0 dBov = the digital overload
 * point, 32767). A uniform variable of half-width a has RMS a/sqrt(3).
 * The generator is a per-stream LCG, so recordings are reproducible.
 */
static void fill_noise(rp_stream *s, int16_t *pcm, size_t n)
{
    double rms = 32767.0 * pow(10.0, -(double)s->cn_level / 20.0);
    double half = rms * 1.7320508075688772;
    for (size_t i = 0; i < n; i++) {
        s->cn_rand = s->cn_rand * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s->cn_rand >> 11) / 9007199254740992.0; /* [0, 1) */
        double v = (2.0 * u - 1.0) * half;
        pcm[i] = (int16_t)(v > 32767.0 ? 32767 : v < -32768.0 ? -32768 : v);
    }
}

/*
 * A gap with a generated signal instead of zeros: DTMF tones (--dtmf-tones)
 * where the stream's telephone-events cover it, else comfort noise at the
 * last CN level (--comfort-noise). Mono PCM recordings only. Returns the
 * frames written (0: nothing to generate) or a negative status.
 */
static long write_generated(rp_engine_shared *sh, rp_stream *s, rp_decoder_slot *d, uint64_t from,
                            uint64_t frames)
{
    bool tones = sh->cfg->dtmf_tones && s->events != NULL;
    bool noise = sh->cfg->comfort_noise && s->have_cn;
    size_t chunk = 1024;
    uint64_t done = 0;
    int rc;

    if ((!tones && !noise) || s->sink == NULL || d->spec.channels != 1 ||
        s->sink->fmt.encoding != RTPPROC_NATIVE_NONE)
        return 0;
    if ((rc = ensure_pcm(sh, chunk)) < 0)
        return rc;
    rp_tone_map map = {s->base_ext_ts, s->base_frame, s->first_ext_ts, d->spec.clock_rate,
                       d->spec.sample_rate};
    while (done < frames) {
        size_t k = (size_t)(frames - done < chunk ? frames - done : chunk);
        size_t with_tone = tones ? rp_events_tones(s->events, &map, from + done, sh->pcm, k) : 0;
        if (with_tone == 0 && noise)
            fill_noise(s, sh->pcm, k);
        else if (with_tone == 0)
            memset(sh->pcm, 0, k * sizeof(*sh->pcm));
        if ((rc = s->sink->ops->write_pcm(s->sink, sh->pcm, k)) < 0)
            return sink_failed(sh, s, rc);
        done += k;
    }
    return (long)done;
}

/* The rest of a gap: a generated signal (tones, comfort noise) unless
 * the gap is a concealed loss, else silence; all counted as silence. */
static int write_rest(rp_engine_shared *sh, rp_stream *s, rp_decoder_slot *d, uint64_t at,
                      uint64_t n, bool loss)
{
    int rc;
    s->silence_frames += n;
    if (n > 0 && !loss) {
        long g = write_generated(sh, s, d, at, n);
        if (g < 0)
            return (int)g;
        at += (uint64_t)g;
        n -= (uint64_t)g;
    }
    if (n > 0 && s->sink != NULL && (rc = s->sink->ops->write_silence(s->sink, n)) < 0)
        return sink_failed(sh, s, rc);
    return 0;
}

/*
 * Writes the gap of `frames` before packet `next`, starting at recording
 * frame `from`. With `conceal` (a loss under --plc): the frames of the last
 * lost packet come from `next`'s in-band FEC when the codec can rebuild
 * them (Opus LBRR), the frames before from concealment (the codec's, else
 * spandsp's PLC, at most RP_PLC_MAX_MS), the rest is silence.
 */
static int write_gap(rp_engine_shared *sh, rp_stream *s, rp_decoder_slot *d, uint64_t from,
                     uint64_t frames, bool conceal, const rp_pkt *next)
{
    const rtpproc_codec *c = d->spec.codec;
    unsigned ch = d->spec.channels;
    bool pcm = s->sink != NULL && s->sink->fmt.encoding == RTPPROC_NATIVE_NONE;
    uint64_t tail = 0; /* frames at the end rebuilt from FEC */
    uint64_t left;
    int rc;

    if (conceal && pcm && next != NULL && c->recover != NULL && s->audio_frames > 0 &&
        s->audio_frames <= frames) {
        if ((rc = ensure_pcm(sh, (size_t)s->audio_frames * ch)) < 0)
            return rc;
        tail = s->audio_frames;
    }
    left = frames - tail;
    if (conceal && pcm && (c->conceal != NULL || (s->plc != NULL && ch == 1))) {
        uint64_t budget = (uint64_t)d->spec.sample_rate * RP_PLC_MAX_MS / 1000;
        size_t chunk = s->audio_frames > 0 ? (size_t)s->audio_frames : 160;
        if ((rc = ensure_pcm(sh, chunk * ch)) < 0)
            return rc;
        while (left > 0 && budget > 0) {
            size_t want = (size_t)(left < chunk ? left : chunk);
            if (want > budget)
                want = (size_t)budget;
            long got;
            if (c->conceal != NULL)
                got = c->conceal(d->state, &d->spec, sh->pcm, want);
            else
                got = plc_fillin((plc_state_t *)s->plc, sh->pcm, (int)want);
            if (got <= 0)
                break;
            if ((uint64_t)got > want)
                got = (long)want;
            if ((rc = s->sink->ops->write_pcm(s->sink, sh->pcm, (size_t)got)) < 0)
                return sink_failed(sh, s, rc);
            left -= (uint64_t)got;
            budget -= (uint64_t)got;
            s->concealed_frames += (uint64_t)got;
        }
    }
    if ((rc = write_rest(sh, s, d, from + (frames - tail - left), left, conceal)) < 0)
        return rc;
    if (tail == 0)
        return 0;
    long got =
        c->recover(d->state, &d->spec, next->payload, next->payload_len, sh->pcm, (size_t)tail);
    if (got <= 0 || (uint64_t)got != tail)
        return write_rest(sh, s, d, from + frames - tail, tail, conceal); /* no FEC in `next` */
    if ((rc = s->sink->ops->write_pcm(s->sink, sh->pcm, (size_t)tail)) < 0)
        return sink_failed(sh, s, rc);
    s->concealed_frames += tail;
    return 0;
}

/*
 * Whether a packet's G.711 bytes go to the sink as they came, undecoded:
 * into a G.711 file of the same law (stored untouched), or into a 16-bit
 * PCM file, which expands them when it writes its buffer (recorder.c): the
 * reading thread then decodes nothing and moves half the bytes (issue 7).
 * Not while spandsp's PLC needs the decoded history.
 */
static bool sink_takes_bytes(const rp_stream *s, const rtpproc_codec *c, unsigned ch)
{
    if (s->sink == NULL || c->native == RTPPROC_NATIVE_NONE || s->sink->ops->write_native == NULL)
        return false;
    if (s->sink->fmt.encoding == RTPPROC_NATIVE_NONE)
        return s->plc == NULL || ch != 1;
    return s->sink->fmt.encoding == c->native;
}

/* Writes `n` frames from frame `skip` on: decoded (in sh->pcm), or the
 * packet's bytes where the sink takes them (sink_takes_bytes). */
static int write_audio(rp_engine_shared *sh, rp_stream *s, rp_decoder_slot *d, const rp_pkt *p,
                       size_t n, size_t skip)
{
    const rtpproc_codec *c = d->spec.codec;
    unsigned ch = d->spec.channels;
    int rc;

    if (s->plc != NULL && ch == 1)
        plc_rx((plc_state_t *)s->plc, sh->pcm, (int)n); /* the history PLC extrapolates from */
    if (s->sink == NULL || skip >= n)
        return 0;
    if (sink_takes_bytes(s, c, ch)) {
        rc = s->sink->ops->write_native(s->sink, c->native, p->payload + skip * ch, n - skip);
    } else {
        rc = s->sink->ops->write_pcm(s->sink, sh->pcm + skip * ch, n - skip);
    }
    return rc < 0 ? sink_failed(sh, s, rc) : 0;
}

/* The frame where extended timestamp `ext` falls by the timeline anchor. */
static int64_t ts_position(const rp_stream *s, const rp_decoder_slot *d, int64_t ext)
{
    return (int64_t)s->base_frame +
           (ext - s->base_ext_ts) * (int64_t)d->spec.sample_rate / (int64_t)d->spec.clock_rate;
}

/* Frames from the previous audio packet's start (or the stream's first
 * packet) to `arrival`; that packet's length in *ref_frames. */
static uint64_t arrival_step(const rp_stream *s, uint32_t rate, rtpproc_time_ns arrival,
                             uint64_t *ref_frames)
{
    *ref_frames = s->have_audio ? s->audio_frames : 0;
    return arrival_frames(s->have_audio ? s->audio_arrival : s->first_arrival, arrival, rate);
}

/* A forward gap of `gap` frames that arrival time contradicts: the
 * timestamp step from the previous packet's start (gap plus its length)
 * exceeds the arrival step by more than max_gap. */
static bool gap_contradicted(const rp_engine_shared *sh, const rp_stream *s, uint32_t rate,
                             uint64_t gap, rtpproc_time_ns arrival)
{
    uint64_t ref_frames;
    uint64_t arr = arrival_step(s, rate, arrival, &ref_frames);
    uint64_t tolerance = (uint64_t)((double)sh->cfg->max_gap * rate / RTPPROC_NS_PER_SEC);
    return gap + ref_frames > arr + tolerance;
}

/* A talkspurt `gap` frames after the previous packet's end by its timestamp
 * that arrives more than the reorder window later than that. */
static bool pause_collapsed(const rp_engine_shared *sh, const rp_stream *s, uint32_t rate,
                            uint64_t gap, rtpproc_time_ns arrival)
{
    uint64_t ref_frames;
    uint64_t arr = arrival_step(s, rate, arrival, &ref_frames);
    uint64_t tolerance = (uint64_t)((double)sh->cfg->reorder_time * rate / RTPPROC_NS_PER_SEC);
    return arr > gap + ref_frames + tolerance;
}

/* A discontinuity: the timeline is re-anchored at arrival time, the packet
 * going where its arrival step puts it. Returns its new position. */
static int64_t reanchor(rp_stream *s, uint32_t rate, int64_t ext, rtpproc_time_ns arrival)
{
    uint64_t ref_frames;
    uint64_t arr = arrival_step(s, rate, arrival, &ref_frames);
    s->discontinuities++;
    s->base_ext_ts = ext;
    s->base_frame = s->frames + (arr > ref_frames ? arr - ref_frames : 0);
    return (int64_t)s->base_frame;
}

/*
 * RTP timing. Position = base_frame + (ext - base_ext_ts) * rate / clock.
 * A forward jump that arrival time confirms (DTX, silence suppression)
 * becomes silence; a jump that arrival time contradicts by more than
 * max_gap, or a packet that would land wholly in the past (backward jump,
 * frozen timestamps, restart at 0), is a discontinuity: the timeline is
 * re-anchored at arrival time. A talkspurt start (marker bit, RFC 3551
 * 4.1) whose arrival comes later than its timestamp by more than the
 * reorder window is a sender whose clock stood still during the pause:
 * re-anchored too, so the pause keeps its real length. Senders that mark
 * every packet (ffmpeg's Speex) say nothing about talkspurts: a marker
 * right after a marked packet is not a talkspurt start. (A loss under --plc
 * was filled before the packet was decoded: conceal_before().)
 */
static int place_rtp(rp_engine_shared *sh, rp_stream *s, rp_decoder_slot *d, const rp_pkt *p,
                     int64_t ext, long n)
{
    uint32_t rate = d->spec.sample_rate;
    int64_t pos = ts_position(s, d, ext);
    uint64_t written = s->frames;
    uint64_t skip = 0;
    int rc;

    if (pos > (int64_t)written &&
        gap_contradicted(sh, s, rate, (uint64_t)pos - written, p->arrival)) {
        pos = reanchor(s, rate, ext, p->arrival);
    } else if (pos + n <= (int64_t)written) {
        pos = reanchor(s, rate, ext, p->arrival);
    } else if (pos >= (int64_t)written && p->marker && !s->audio_marker && s->have_audio &&
               pause_collapsed(sh, s, rate, (uint64_t)pos - written, p->arrival)) {
        pos = reanchor(s, rate, ext, p->arrival);
    } else if (pos < (int64_t)written) {
        /* Partial overlap (a timestamp step shorter than the packet):
         * exact placement means the overlapping head is dropped. */
        skip = written - (uint64_t)pos;
        pos = (int64_t)written;
    }

    s->have_audio = true;
    s->audio_arrival = p->arrival;
    s->audio_frames = (uint64_t)n;
    s->audio_marker = p->marker;
    s->frames = (uint64_t)pos + (uint64_t)n - skip;
    if ((uint64_t)pos > written &&
        (rc = write_gap(sh, s, d, written, (uint64_t)pos - written, false, NULL)) < 0)
        return rc;
    return write_audio(sh, s, d, p, (size_t)n, (size_t)skip);
}

/*
 * JITTER and CONTINUOUS: the Wireshark 4.0 RTP player's decode loop
 * (RtpAudioStream::decodeAudio; wireshark-notes.md 2.3), reproduced with
 * its arithmetic, so that the recording is what the player exports:
 * rtp_time and arrive_time in seconds from the stream's start; a packet
 * whose arrival disagrees with its timestamp by more than the buffer is a
 * "jitter drop" that the player still writes, resyncing after a silence
 * of more than two packet periods; otherwise the timestamp step minus the
 * previous packet's length becomes silence, truncated to an int as the
 * player does. CONTINUOUS writes no silence at all.
 */
/* Wireshark's nstime_to_sec(): seconds + nanoseconds / 1e9, in doubles. */
static double player_seconds(rtpproc_time_ns t)
{
    int64_t sec = t / RTPPROC_NS_PER_SEC, ns = t % RTPPROC_NS_PER_SEC;
    if (ns < 0) {
        sec -= 1;
        ns += RTPPROC_NS_PER_SEC;
    }
    return (double)sec + (double)ns / 1e9;
}

static int place_player(rp_engine_shared *sh, rp_stream *s, rp_decoder_slot *d, const rp_pkt *p,
                        int64_t ext, long n)
{
    const rtpproc_codec *c = d->spec.codec;
    double rate = (double)d->spec.sample_rate;
    int64_t silence = 0;
    int rc;

    /* The player skips G.711 payloads of one byte ("probably a silence
     * packet"): nothing written, no state change. */
    if (c->native != RTPPROC_NATIVE_NONE && p->payload_len == 1)
        return 0;
    double rtp_time = (double)(ext - s->pl_start_ts) / (double)d->spec.clock_rate;
    double arrive_offset =
        player_seconds(p->arrival - sh->epoch) - player_seconds(s->first_arrival - sh->epoch);
    double arrive_time = arrive_offset - s->pl_start_time;
    double buffer_ms = (double)sh->cfg->jitter_buffer / (double)RTPPROC_NS_PER_MSEC;

    if (sh->cfg->timing == RTPPROC_TIMING_JITTER &&
        (arrive_time > rtp_time ? arrive_time - rtp_time : rtp_time - arrive_time) * 1000 >
            buffer_ms) {
        s->jitter_drops++;
        if (rtp_time - s->pl_rtp_time_prev > s->pl_pack_period * 2) {
            silence =
                (int64_t)((arrive_time - s->pl_arrive_prev) * rate - (double)s->pl_prev_samples);
            s->pl_prev_samples = 0;
            s->pl_start_ts = ext;
            s->pl_start_time = arrive_offset;
            s->pl_rtp_time_prev = 0;
        }
    } else {
        if (sh->cfg->timing == RTPPROC_TIMING_JITTER)
            silence = (int)((rtp_time - s->pl_rtp_time_prev) * rate - (double)s->pl_prev_samples);
        s->pl_rtp_time_prev = rtp_time;
        s->pl_pack_period = (double)n / rate;
        s->pl_prev_samples = n;
        s->pl_arrive_prev = arrive_time;
    }
    s->have_audio = true;
    s->audio_arrival = p->arrival;
    s->audio_frames = (uint64_t)n;
    if (silence > 0) {
        s->frames += (uint64_t)silence;
        if ((rc = write_gap(sh, s, d, s->frames - (uint64_t)silence, (uint64_t)silence, false,
                            NULL)) < 0)
            return rc;
    }
    s->frames += (uint64_t)n;
    return write_audio(sh, s, d, p, (size_t)n, 0);
}

/*
 * --plc: the gap a loss leaves before packet `p` (RTP timing), when the
 * timestamp places `p` ahead of the recording by no more than arrival time
 * allows (otherwise place_rtp() re-anchors and there is nothing to
 * conceal). Afterwards the recording reaches `p`'s position.
 */
static int conceal_before(rp_engine_shared *sh, rp_stream *s, rp_decoder_slot *d, const rp_pkt *p,
                          int64_t ext)
{
    int64_t pos = ts_position(s, d, ext);
    uint64_t written = s->frames;

    if (pos <= (int64_t)written ||
        gap_contradicted(sh, s, d->spec.sample_rate, (uint64_t)pos - written, p->arrival))
        return 0;
    int rc = write_gap(sh, s, d, written, (uint64_t)pos - written, true, p);
    s->frames = (uint64_t)pos;
    return rc;
}

/* Decodes one audio packet and places it by the timing mode. */
static int place_audio(rp_engine_shared *sh, rp_stream *s, rp_decoder_slot *d, const rp_pkt *p,
                       int64_t ext, bool loss)
{
    const rtpproc_codec *c = d->spec.codec;
    uint32_t rate = d->spec.sample_rate;
    unsigned ch = d->spec.channels;
    int rc;

    if (s->sink == NULL && !s->have_audio) {
        if (s->sink_failed)
            return 0;
        rc = open_sink(sh, s, d);
        if (rc < 0)
            return rc;
        if (sh->cfg->plc && c->conceal == NULL && ch == 1 && s->plc == NULL)
            s->plc = plc_init(NULL); /* NULL (no memory): losses stay silent */
    }
    if (s->out_clock != d->spec.clock_rate ||
        (s->sink != NULL && (s->sink->fmt.sample_rate != rate || s->sink->fmt.channels != ch))) {
        /* One recording has one rate; resampling is a later option. */
        s->note = RTPPROC_NOTE_RATE_CHANGE;
        s->undecodable++;
        return 0;
    }

    /* A loss to conceal is written before this packet is decoded: codec
     * concealment and FEC (and spandsp's PLC history) must run in stream
     * order, and they use the decode scratch. */
    if (loss && sh->cfg->plc && sh->cfg->timing == RTPPROC_TIMING_RTP && s->have_audio &&
        (rc = conceal_before(sh, s, d, p, ext)) < 0)
        return rc;
    size_t max_frames = c->max_frames(&d->spec, p->payload_len);
    long n;
    if (sink_takes_bytes(s, c, ch)) {
        /* The sink takes the bytes: one per sample, nothing to decode. */
        n = (long)(p->payload_len / ch < max_frames ? p->payload_len / ch : max_frames);
    } else {
        if ((rc = ensure_pcm(sh, max_frames * ch)) < 0)
            return rc;
        n = c->decode(d->state, &d->spec, p->payload, p->payload_len, sh->pcm, max_frames);
    }
    if (n <= 0) {
        s->undecodable++;
        return 0;
    }
    if (sh->cfg->timing == RTPPROC_TIMING_RTP)
        return place_rtp(sh, s, d, p, ext, n);
    return place_player(sh, s, d, p, ext, n);
}

/*
 * A dynamic PT that nothing named: Opus is taken when RP_OPUS_RUN
 * consecutive packets each advance the timestamp by exactly the duration
 * their TOC gives (48 kHz clock, RFC 7587 4.1). Packets of 8 or 16 kHz
 * codecs step by 160 or 320, which no Opus duration (a multiple of 120)
 * equals; random bytes would have to match ten times in a row. The
 * packets of the run are counted undecodable; decoding starts after it.
 */
static void recognise(rp_stream *s, rp_decoder_slot *d, const rp_pkt *p, int64_t ext, bool loss)
{
    const rtpproc_codec *opus = rtpproc_codec_find_by_name("opus");
    int stereo = 0;

    if (opus == NULL || p->truncated)
        return;
    unsigned n = rp_opus_toc_samples(p->payload, p->payload_len, &stereo);
    if (n == 0) {
        s->heur_run = 0;
        return;
    }
    if (s->heur_run > 0 && (loss || ext != s->heur_next_ts || p->pt != s->heur_pt))
        s->heur_run = 0;
    s->heur_run++;
    s->heur_pt = p->pt;
    s->heur_next_ts = ext + n;
    s->heur_stereo |= stereo != 0;
    if (s->heur_run < RP_OPUS_RUN)
        return;
    rtpproc_codec_spec_make(opus, 48000, s->heur_stereo ? 2 : 1, &d->spec);
    d->source = RTPPROC_PTSRC_HEURISTIC;
    d->state = opus->create != NULL ? opus->create(&d->spec) : NULL;
    if (d->state == NULL) {
        d->failed = opus;
        d->spec.codec = NULL;
    }
    s->jit_pt = RP_NO_PT; /* the jitter clock is now known */
}

/* A packet leaves the reorder window in sequence order. */
static int release(rp_engine_shared *sh, rp_stream *s, const rp_pkt *p)
{
    int64_t ext;

    if (!s->have_ts) {
        s->have_ts = true;
        ext = p->ts;
        s->base_ext_ts = ext;
        s->base_frame = 0;
        s->first_ext_ts = ext;
        s->pl_start_ts = ext; /* the player counts from the first packet, any PT */
    } else {
        /* Timestamps extend by the signed 32-bit step, so a wrap at 2^32
         * is an ordinary step (0xFFFFFF60 -> 0x00000000 is +160). */
        ext = s->ext_ts + (int32_t)(p->ts - s->last_ts);
    }
    s->last_ts = p->ts;
    s->ext_ts = ext;
    /* Sequence numbers missing before this packet: a loss, not a DTX gap. */
    bool loss = s->have_rel_seq && (uint16_t)(p->seq - s->last_rel_seq) != 1;
    s->have_rel_seq = true;
    s->last_rel_seq = p->seq;

    rp_decoder_slot *d = rp_playout_format(sh, s, p->pt);
    if (sh->cfg->guess_codecs && d != NULL && d->spec.codec == NULL &&
        d->source == RTPPROC_PTSRC_NONE)
        recognise(s, d, p, ext, loss);
    if (d == NULL || d->spec.codec == NULL) {
        s->undecodable++;
        if (!s->have_audio && s->note == RTPPROC_NOTE_NONE)
            s->note = d != NULL && d->failed != NULL ? RTPPROC_NOTE_DECODER_FAILED
                                                     : RTPPROC_NOTE_NO_CODEC;
        return 0;
    }
    if (d->spec.codec->kind == RTPPROC_KIND_EVENT)
        return rp_events_release(s, d, p, ext); /* reported; their span is silence */
    if (d->spec.codec->kind != RTPPROC_KIND_AUDIO) {
        /* Comfort noise: its span becomes silence, or noise at its level
         * with --comfort-noise. RFC 3389 3: the first byte is the noise
         * level in -dBov (0-127); a payload without it keeps the last. */
        if (p->payload_len > 0 && !p->truncated) {
            s->cn_level = p->payload[0] & 0x7f;
            s->have_cn = true;
        }
        return 0;
    }
    if (p->truncated)
        return 0; /* counted on arrival; cut audio is not decoded */
    if (s->note == RTPPROC_NOTE_NO_CODEC || s->note == RTPPROC_NOTE_DECODER_FAILED)
        s->note = RTPPROC_NOTE_NONE;
    return place_audio(sh, s, d, p, ext, loss);
}

/* Moves the release history `shift` (> 0) packets on; new bits are 0. */
static void shift_released(rp_stream *s, int64_t shift)
{
    uint64_t *m = s->released_mask;
    if (shift == 1) {
        /* The usual case: the next packet in sequence. */
        for (unsigned w = RP_RELEASE_WORDS - 1; w > 0; w--)
            m[w] = m[w] << 1 | m[w - 1] >> 63;
        m[0] <<= 1;
        return;
    }
    if (shift <= 0)
        return;
    if (shift >= RP_RELEASE_HISTORY) {
        memset(m, 0, sizeof(s->released_mask));
        return;
    }
    /* Bit i of word w is history position 64w + i: shifting up moves
     * positions into higher words. */
    unsigned words = (unsigned)(shift / 64), bits = (unsigned)(shift % 64);
    for (unsigned w = RP_RELEASE_WORDS; w-- > 0;) {
        uint64_t v = w >= words ? m[w - words] << bits : 0;
        if (bits > 0 && w > words)
            v |= m[w - words - 1] >> (64 - bits);
        m[w] = v;
    }
}

static void mark_released(rp_stream *s, int64_t ext)
{
    /* released_mask is relative to next_release, which moves to ext + 1. */
    shift_released(s, ext + 1 - s->next_release);
    s->released_mask[0] |= 1;
    s->next_release = ext + 1;
}

static bool was_released(const rp_stream *s, int64_t ext)
{
    int64_t back = s->next_release - 1 - ext;
    return back >= 0 && back < RP_RELEASE_HISTORY &&
           (s->released_mask[back / 64] >> (back % 64)) & 1;
}

static rp_held *slot_of(rp_stream *s, unsigned window, int64_t ext)
{
    return &s->ring[(uint64_t)ext % window];
}

static int release_held(rp_engine_shared *sh, rp_stream *s, rp_held *h)
{
    rp_pkt p = h->pkt;
    p.payload = s->slab + (size_t)(h - s->ring) * s->slab_slot;
    mark_released(s, h->ext_seq);
    h->used = false;
    s->held--;
    return release(sh, s, &p);
}

/* Releases held packets that are next in sequence. */
static int drain(rp_engine_shared *sh, rp_stream *s)
{
    unsigned window = sh->cfg->reorder_packets;
    int rc = 0;
    while (s->held > 0) {
        rp_held *h = slot_of(s, window, s->next_release);
        if (!h->used || h->ext_seq != s->next_release)
            break;
        if ((rc = release_held(sh, s, h)) < 0)
            return rc;
    }
    return rc;
}

/* Gives up on the missing packets before the oldest held one. */
static int skip_to_oldest(rp_engine_shared *sh, rp_stream *s)
{
    unsigned window = sh->cfg->reorder_packets;
    int64_t oldest = INT64_MAX;
    for (unsigned i = 0; i < window; i++) {
        if (s->ring[i].used && s->ring[i].ext_seq < oldest)
            oldest = s->ring[i].ext_seq;
    }
    if (oldest == INT64_MAX)
        return 0;
    /* The missing ones are lost; they were never released. */
    shift_released(s, oldest - s->next_release);
    s->next_release = oldest;
    return drain(sh, s);
}

/* Keeps a packet far off the expected sequence until the next one shows
 * whether the sender restarted its numbering. */
static int hold_candidate(rp_stream *s, const rp_pkt *p)
{
    if (s->have_cand)
        s->late++; /* the previous candidate was not followed up */
    if (p->payload_len > s->cand_cap) {
        uint8_t *b = realloc(s->cand_buf, p->payload_len);
        if (b == NULL)
            return RTPPROC_ENOMEM;
        s->cand_buf = b;
        s->cand_cap = p->payload_len;
    }
    if (p->payload_len > 0)
        memcpy(s->cand_buf, p->payload, p->payload_len);
    s->cand = *p;
    s->cand.payload = NULL;
    s->have_cand = true;
    return 0;
}

/*
 * A stream's reorder window, ring and slab, is needed only while packets
 * wait in it; few streams have a gap open at any moment. Emptied windows
 * of the first slab size go back to the engine for the next stream that
 * holds a packet: with 10 000 streams each keeping the 5 KiB it took at
 * its first gap, the reading thread touched 25 MiB of fresh memory, at
 * this VM's 0.4 GB/s (issue 7). The ring's first slot links the spares.
 */
#define RP_SLAB_SLOT0 256

typedef struct rp_spare_window {
    struct rp_spare_window *next;
    uint8_t *slab;
} rp_spare_window;

_Static_assert(sizeof(rp_held) >= sizeof(rp_spare_window), "a ring slot holds the link");

static void take_spare_window(rp_engine_shared *sh, rp_stream *s)
{
    rp_spare_window *w = sh->spare_windows;

    if (w == NULL)
        return;
    sh->spare_windows = w->next;
    s->slab = w->slab;
    s->slab_slot = RP_SLAB_SLOT0;
    s->ring = (rp_held *)(void *)w;
    memset(&s->ring[0], 0, sizeof(s->ring[0])); /* every slot unused again */
}

/* Gives an empty window of the first slab size back to the engine. */
static void give_back_window(rp_engine_shared *sh, rp_stream *s)
{
    if (s->held != 0 || s->ring == NULL || s->slab == NULL || s->slab_slot != RP_SLAB_SLOT0)
        return;
    rp_spare_window *w = (rp_spare_window *)(void *)s->ring;
    w->slab = s->slab;
    w->next = sh->spare_windows;
    sh->spare_windows = w;
    s->ring = NULL;
    s->slab = NULL;
    s->slab_slot = 0;
}

void rp_playout_free_spares(rp_engine_shared *sh)
{
    while (sh->spare_windows != NULL) {
        rp_spare_window *w = sh->spare_windows;
        sh->spare_windows = w->next;
        free(w->slab);
        free(w);
    }
}

static int hold(rp_engine_shared *sh, rp_stream *s, int64_t ext, const rp_pkt *p)
{
    unsigned window = sh->cfg->reorder_packets;
    if (s->ring == NULL)
        take_spare_window(sh, s);
    if (s->ring == NULL) {
        s->ring = calloc(window, sizeof(*s->ring));
        if (s->ring == NULL)
            return RTPPROC_ENOMEM;
    }
    if (p->payload_len > s->slab_slot) {
        /* Grow every slot to the largest payload seen (rare: once or twice
         * per stream), keeping held payloads. */
        size_t slot = s->slab_slot ? s->slab_slot : RP_SLAB_SLOT0;
        while (slot < p->payload_len)
            slot *= 2;
        uint8_t *slab = malloc(slot * window);
        if (slab == NULL)
            return RTPPROC_ENOMEM;
        for (unsigned i = 0; i < window && s->slab != NULL; i++) {
            if (s->ring[i].used)
                memcpy(slab + i * slot, s->slab + i * s->slab_slot, s->ring[i].pkt.payload_len);
        }
        free(s->slab);
        s->slab = slab;
        s->slab_slot = slot;
    }
    rp_held *h = slot_of(s, window, ext);
    h->used = true;
    h->ext_seq = ext;
    h->pkt = *p;
    h->pkt.payload = NULL;
    if (p->payload_len > 0)
        memcpy(s->slab + (size_t)(h - s->ring) * s->slab_slot, p->payload, p->payload_len);
    s->held++;
    return 0;
}

static int flush_ring(rp_engine_shared *sh, rp_stream *s)
{
    int rc = 0;
    while (s->held > 0 && rc >= 0)
        rc = skip_to_oldest(sh, s);
    return rc;
}

static int place_packet(rp_engine_shared *sh, rp_stream *s, const rp_pkt *p)
{
    unsigned window = sh->cfg->reorder_packets;
    int64_t ext;
    int rc;

    if (!s->have_release) {
        /* Release from the A.1 base, the lowest of the probation packets
         * kept, which may have arrived after this one (401, 400, 402, 403):
         * this packet then waits in the window for the lower ones. */
        int64_t base = p->seq + (int16_t)((uint16_t)s->seq.base_seq - p->seq);
        s->have_release = true;
        s->max_ext_seq = p->seq;
        s->next_release = base < p->seq ? base : p->seq;
        memset(s->released_mask, 0, sizeof(s->released_mask));
        ext = p->seq;
    } else {
        /* Extend against the highest seq seen: a 16-bit wrap (65535 -> 0)
         * is a step of +1, a late packet a small negative step. */
        ext = s->max_ext_seq + (int16_t)(p->seq - (uint16_t)s->max_ext_seq);
    }

    int64_t ahead = ext - s->next_release;
    if (ahead > RP_MAX_DROPOUT || ahead < -RP_MAX_MISORDER) {
        if (ahead < 0 && was_released(s, ext)) {
            s->duplicates++;
            return 0;
        }
        if (!(s->have_cand && p->seq == (uint16_t)(s->cand.seq + 1)))
            return hold_candidate(s, p);
        /* RFC 3550 A.1: a far jump followed by its successor is a restart
         * of the sender's numbering: release what we hold, follow the new
         * numbering from the candidate (the timeline decides about the
         * gap), then place this packet. */
        if ((rc = flush_ring(sh, s)) < 0)
            return rc;
        int64_t cext = ext - 1;
        rp_pkt c = s->cand;
        c.payload = s->cand_buf;
        s->have_cand = false;
        s->next_release = cext;
        memset(s->released_mask, 0, sizeof(s->released_mask));
        s->max_ext_seq = cext;
        mark_released(s, cext);
        if ((rc = release(sh, s, &c)) < 0)
            return rc;
        ahead = 0;
    } else if (s->have_cand) {
        /* The far-off packet was a stray (a very late copy or noise):
         * dropped, as A.1 drops a bad sequence number not followed up. */
        s->have_cand = false;
        s->late++;
    }
    /* Arrived after a higher sequence number: reordered (RFC 3550 A.1
     * does not count these; they are placed, unless late or duplicate). */
    bool behind = ext < s->max_ext_seq;
    if (ext > s->max_ext_seq)
        s->max_ext_seq = ext;

    if (ahead < 0) {
        if (was_released(s, ext))
            s->duplicates++;
        else
            s->late++;
        return 0;
    }
    if (behind && !(s->ring != NULL && slot_of(s, window, ext)->used &&
                    slot_of(s, window, ext)->ext_seq == ext))
        s->reordered++;
    if (ahead == 0) {
        mark_released(s, ext);
        if ((rc = release(sh, s, p)) < 0)
            return rc;
        return drain(sh, s);
    }
    /* ahead > 0: a gap before this packet. */
    rp_held *h = s->ring ? slot_of(s, window, ext) : NULL;
    if (h != NULL && h->used && h->ext_seq == ext) {
        s->duplicates++;
        return 0;
    }
    while (ahead >= (int64_t)window || (h != NULL && h->used)) {
        /* No room: the oldest gap is declared lost. */
        if (s->held == 0) {
            int64_t shift = ext - (int64_t)window + 1 - s->next_release;
            if (shift > 0) {
                shift_released(s, shift);
                s->next_release += shift;
            }
        } else if ((rc = skip_to_oldest(sh, s)) < 0) {
            return rc;
        }
        ahead = ext - s->next_release;
        if (ahead <= 0)
            return place_packet(sh, s, p);
        h = s->ring ? slot_of(s, window, ext) : NULL;
    }
    if ((rc = hold(sh, s, ext, p)) < 0)
        return rc;
    /* Capture-time bound of the window: the oldest held packet waits at
     * most reorder_time for the gap before it to fill. */
    while (s->held > 0) {
        rtpproc_time_ns oldest_arrival = INT64_MAX;
        for (unsigned i = 0; i < window; i++) {
            if (s->ring[i].used && s->ring[i].pkt.arrival < oldest_arrival)
                oldest_arrival = s->ring[i].pkt.arrival;
        }
        if (p->arrival - oldest_arrival < sh->cfg->reorder_time)
            break;
        if ((rc = skip_to_oldest(sh, s)) < 0)
            return rc;
    }
    return 0;
}

int rp_playout_packet(rp_engine_shared *sh, rp_stream *s, const rp_pkt *p)
{
    int rc = place_packet(sh, s, p);

    give_back_window(sh, s);
    return rc;
}

int rp_playout_flush(rp_engine_shared *sh, rp_stream *s)
{
    if (s->sink == NULL)
        return 0;
    int rc = s->sink->ops->flush(s->sink);
    return rc < 0 ? sink_failed(sh, s, rc) : 0;
}

/* The end of a stream's audio: what the reorder window still holds. */
static int play_out_rest(rp_engine_shared *sh, rp_stream *s)
{
    if (s->have_cand) {
        s->have_cand = false; /* never followed up: dropped */
        s->late++;
    }
    return flush_ring(sh, s);
}

int rp_playout_close_begin(rp_engine_shared *sh, rp_stream *s)
{
    if (s->closing)
        return s->close_rc;
    s->closing = true;
    s->close_rc = play_out_rest(sh, s);
    give_back_window(sh, s);
    if (s->sink != NULL && s->sink->ops->close_begin != NULL)
        (void)s->sink->ops->close_begin(s->sink); /* its status comes from close() */
    return s->close_rc;
}

int rp_playout_close(rp_engine_shared *sh, rp_stream *s)
{
    int rc = s->closing ? s->close_rc : play_out_rest(sh, s);
    give_back_window(sh, s);
    if (s->sink != NULL) {
        s->overlap_frames = rp_join_overlap(s->sink);
        int crc = s->sink->ops->close(s->sink);
        s->sink = NULL;
        if (crc < 0 && rc >= 0) {
            set_error(sh, "cannot finalise", s->file ? s->file : "(recording)",
                      rtpproc_strerror(crc));
            s->note = RTPPROC_NOTE_WRITE_ERROR;
            rc = crc;
        }
    }
    return rc;
}

void rp_playout_free(rp_stream *s)
{
    for (unsigned i = 0; i < s->ndec; i++) {
        if (s->dec[i].spec.codec != NULL && s->dec[i].spec.codec->destroy != NULL)
            s->dec[i].spec.codec->destroy(s->dec[i].state);
    }
    s->ndec = 0;
    if (s->plc != NULL)
        plc_free((plc_state_t *)s->plc);
    s->plc = NULL;
    free(s->ring);
    free(s->slab);
    free(s->cand_buf);
    s->cand_buf = NULL;
    free(s->file);
    s->ring = NULL;
    s->slab = NULL;
    s->file = NULL;
}
