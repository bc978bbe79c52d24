/*
 * rtpproc - libsndfile recorder: one WAV file per stream.
 *
 * Frames collect in a per-sink buffer of RTPPROC_RECORDER_BUFFER_FRAMES
 * and reach the file a buffer at a time. PCM files buffer int16 frames
 * (sf_writef_short); G.711 files buffer the encoded bytes and write them
 * with sf_write_raw, so bytes from the wire are stored untouched and PCM
 * written into such a file is encoded with spandsp's G.711 encoder, by
 * the table codec_g711.c builds from it (rp_g711_encoder).
 *
 * A PCM file given G.711 bytes (write_native) buffers the bytes, behind a
 * small header (rp_lawbuf) that says which law and where A-law silence
 * lies, and expands them to int16 only when the buffer is written, in the
 * writer thread when there is one. The reading thread then moves one byte
 * per sample instead of two, and 10 000 streams' buffers take 40 instead
 * of 80 MiB of fresh memory (issue 7: the reading thread is the
 * bottleneck, the writer thread has time to spare). A buffer holds one
 * kind of frames; a write of another kind (PCM from tones, another law)
 * writes the buffer out first, so the file's frames keep their order.
 *
 * With the factory's writer thread (writer.h), the file is created in the
 * caller's thread but libsndfile sets it up on the writer thread, a full
 * buffer is queued there and the sink goes on with a spare one; the
 * SNDFILE (and the descriptor) belong to the writer until the sink's
 * queued jobs have run (`pending`), so flush and close wait for them
 * before touching it.
 */
#include "rtpproc/recorder.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <sndfile.h>

#include "g711.h"
#include "hugepool.h"
#include "recorder_pages.h"
#include "writer.h"

/* Bytes of full buffers queued on the writer thread at most: 128 PCM
 * buffers, a few ms of the kernel's copying. */
#define RP_RECORDER_QUEUE_BYTES (1024 * 1024)

typedef struct recorder {
    rtpproc_sink base;
    /* Read or written for every packet: with the base, in the two lines
     * the engine fetches ahead (prefetch_stream). */
    size_t used;        /* frames waiting in buf */
    size_t last_frames; /* frames of the last write (rec_prefetch) */
    size_t limit;       /* frames at which buf is written: a whole buffer, plus the
                         * frames carried (write_buffer), but less the first time
                         * in factories' recorders (stagger) */
    /*
     * The buffer being filled: alloc_bytes() long, buffer_bytes() of frames
     * of `held` (G.711 files: their bytes; PCM files: int16 frames, or
     * G.711 bytes behind an rp_lawbuf). PCM files allocate it at the
     * first write, of the kind written.
     */
    uint8_t *buf;
    enum rtpproc_native held;
    bool native; /* a G.711 file: bytes written raw */
    /*
     * First write error; later writes fail with it. Set by the writer
     * thread's jobs too, hence read and set with atomics.
     */
    int error;
    rp_writer *writer; /* the factory's, or NULL: writes in the caller's thread */
    /* Where the file's frames start (after libsndfile's header, as
     * header_bytes() predicts it at open), 0 if unknown: no alignment. */
    uint32_t data_offset;

    SNDFILE *sf;           /* NULL until set up (on the writer thread), or if that failed */
    SF_INFO info;          /* what sf_open_fd is given */
    bool created;          /* the file is ours: removed again if setting it up fails */
    int fd;                /* ours: libsndfile is told not to close it; -1 once closed */
    uint8_t silence;       /* silence byte of the native encoding */
    const uint8_t *encode; /* native files: rp_g711_encoder()'s table */
    unsigned pending;      /* jobs on the writer (its lock guards it); sf is the
                            * writer's while non-zero */
    bool closing;          /* rec_close_begin queued the finalisation */
    int close_rc;          /* its result, once pending is zero */
    /* Where the writes went (the writer's side): where the frames really
     * start (the descriptor's offset after set-up), frame bytes written,
     * and how many writes ended inside a page (rp_recorder_ragged_writes). */
    uint64_t header_end;
    uint64_t written;
    unsigned ragged;
} recorder;

_Static_assert(offsetof(recorder, data_offset) + sizeof(uint32_t) <= 128,
               "the per-packet fields are in the recorder's first two lines");

/*
 * Head of a PCM file's buffer of G.711 bytes: the law, and the frames of
 * silence among them. A-law has no code for 0 (0xD5 is +8), so silence in
 * an A-law buffer is a run of frames zeroed after the expansion; u-law
 * silence is 0xFF, which expands to 0.
 */
#define RP_LAW_GAPS 14
typedef struct rp_lawbuf {
    enum rtpproc_native law;
    unsigned ngaps;
    struct {
        uint32_t at, n; /* frames */
    } gap[RP_LAW_GAPS];
} rp_lawbuf;

/* The bytes start a cache line after the head. */
#define RP_LAW_HEAD 128
_Static_assert(sizeof(rp_lawbuf) <= RP_LAW_HEAD, "rp_lawbuf fits before the bytes");

/* G.711 bytes in a PCM file's buffer. */
static bool holds_law(const recorder *r)
{
    return !r->native && r->held != RTPPROC_NATIVE_NONE;
}

/* Bytes of one frame in the buffer: G.711 bytes or 16-bit samples. */
static size_t frame_bytes(const recorder *r)
{
    return r->base.fmt.channels * (r->held != RTPPROC_NATIVE_NONE ? 1 : sizeof(int16_t));
}

/*
 * Page-aligned writes. A write that starts or ends inside a page costs the
 * kernel (tmpfs, page cache) more than whole pages: it finds the partly
 * written page again and clears the rest of the new last one. 10 000 files
 * written 8 KiB at a time took 0.36 s after a 44-byte header, 0.27 s
 * without (bench-style microbenchmark, issue 7). A full buffer is written
 * up to the last page boundary it reaches, and the frames after it are
 * carried into the next buffer, which is written when it holds as many
 * frames again as a whole buffer: from then on every write is whole pages,
 * at the time the recording's staggered first write set (aligning the
 * times instead would have every stream of a busy link write in the same
 * few packets). Frames in the file are 1 or 2 bytes per channel whatever
 * the buffer holds (G.711 bytes are written expanded).
 */
#define RP_PAGE 4096u

/* Bytes of one frame in the file. */
static size_t file_frame_bytes(const recorder *r)
{
    return r->base.fmt.channels * (r->native ? 1 : sizeof(int16_t));
}

/* Frames a carry can hold: less than a page of the file; 0 where frames
 * do not tile pages (no alignment). */
static size_t carry_room(const recorder *r)
{
    size_t ffb = file_frame_bytes(r);
    return ffb <= RP_PAGE && RP_PAGE % ffb == 0 ? RP_PAGE / ffb : 0;
}

/* Bytes of the buffer's frames: a whole buffer and a carry. */
static size_t buffer_bytes(const recorder *r)
{
    return ((size_t)RTPPROC_RECORDER_BUFFER_FRAMES + carry_room(r)) * frame_bytes(r);
}

/* Bytes of the buffer, head included. */
static size_t alloc_bytes(const recorder *r)
{
    return buffer_bytes(r) + (holds_law(r) ? RP_LAW_HEAD : 0);
}

/* Where the buffer's frames start. */
static uint8_t *frames_of(const recorder *r)
{
    return r->buf + (holds_law(r) ? RP_LAW_HEAD : 0);
}

/* Starts a buffer of G.711 bytes for a PCM file: nothing silent yet. */
static void start_lawbuf(const recorder *r)
{
    if (holds_law(r)) {
        rp_lawbuf *h = (rp_lawbuf *)(void *)r->buf;
        h->law = r->held;
        h->ngaps = 0;
    }
}

/* The recorder and its buffer are touched by every packet of the stream:
 * they live on huge pages (hugepool.h). */
static void free_recorder(recorder *r)
{
    if (r->buf != NULL)
        rp_hugepool_free(r->buf, alloc_bytes(r));
    free(r->base.path);
    rp_hugepool_free(r, sizeof(*r));
}

struct rtpproc_recorder_factory {
    char *dir;
    bool force;
    rp_writer *writer; /* NULL: recorders write in their own thread */
    uint32_t opened;   /* recordings opened: staggers their first write */
    GHashTable *used;  /* file names handed out in this run (owned keys, no values) */
};

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errbuf == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

static uint8_t encode(const recorder *r, int16_t v)
{
    return r->encode[(uint16_t)v];
}

static int get_error(const recorder *r)
{
    return __atomic_load_n(&r->error, __ATOMIC_ACQUIRE);
}

static void set_error(recorder *r, int error)
{
    int ok = RTPPROC_OK;
    __atomic_compare_exchange_n(&r->error, &ok, error, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/* Counts `bytes` written to the file after its header. */
static void count_write(recorder *r, size_t bytes)
{
    r->written += bytes;
    if ((r->header_end + r->written) % RP_PAGE != 0)
        r->ragged++;
}

/* Writes `len` bytes of buffered frames (raw or PCM) through libsndfile. */
static void write_now(void *ctx, const void *buf, size_t len)
{
    recorder *r = ctx;

    if (get_error(r) != RTPPROC_OK)
        return;
    if (r->native) {
        if (sf_write_raw(r->sf, buf, (sf_count_t)len) != (sf_count_t)len)
            set_error(r, RTPPROC_EIO);
    } else {
        sf_count_t frames = (sf_count_t)(len / (sizeof(int16_t) * r->base.fmt.channels));
        if (sf_writef_short(r->sf, buf, frames) != frames)
            set_error(r, RTPPROC_EIO);
    }
    count_write(r, len);
}

/*
 * The expansion of a buffer of G.711 bytes, per thread (the writer thread,
 * or each thread that writes its own recordings): a buffer's samples at
 * most, so that the file still gets one write per buffer.
 */
typedef struct rp_scratch {
    size_t cap; /* samples */
    int16_t pcm[];
} rp_scratch;

static GPrivate scratch_key = G_PRIVATE_INIT(g_free);

static int16_t *scratch(size_t samples)
{
    rp_scratch *sc = g_private_get(&scratch_key);

    if (sc == NULL || sc->cap < samples) {
        rp_scratch *bigger = g_try_malloc(sizeof(*sc) + samples * sizeof(int16_t));
        if (bigger == NULL)
            return NULL;
        bigger->cap = samples;
        g_private_replace(&scratch_key, bigger);
        sc = bigger;
    }
    return sc->pcm;
}

/* Writes a PCM file's buffer of G.711 bytes (`len` bytes behind the
 * head) as the int16 frames they expand to. */
static void write_expanded(void *ctx, const void *buf, size_t len)
{
    recorder *r = ctx;
    const rp_lawbuf *h = buf;
    unsigned ch = r->base.fmt.channels;
    int16_t *pcm;

    if (get_error(r) != RTPPROC_OK)
        return;
    if ((pcm = scratch(len)) == NULL) {
        set_error(r, RTPPROC_ENOMEM);
        return;
    }
    rp_g711_expand(h->law, (const uint8_t *)buf + RP_LAW_HEAD, pcm, len);
    size_t nframes = len / ch;
    for (unsigned i = 0; i < h->ngaps && h->gap[i].at < nframes; i++) {
        size_t n = h->gap[i].n < nframes - h->gap[i].at ? h->gap[i].n : nframes - h->gap[i].at;
        memset(pcm + (size_t)h->gap[i].at * ch, 0, n * ch * sizeof(int16_t));
    }
    if (sf_writef_short(r->sf, pcm, (sf_count_t)nframes) != (sf_count_t)nframes)
        set_error(r, RTPPROC_EIO);
    count_write(r, len * sizeof(int16_t));
}

/* The job that writes the buffer as it is now: G.711 bytes of a PCM file
 * expanded, anything else as it is. */
static rp_write_fn buffer_writer(const recorder *r)
{
    return holds_law(r) ? write_expanded : write_now;
}

/*
 * Frames of the buffer to write so that the write ends on a page of the
 * file: all of them if the file's layout is not known (yet) or they do
 * not reach the end of a page.
 */
static size_t aligned_frames(const recorder *r)
{
    uint32_t off = r->data_offset;
    size_t ffb = file_frame_bytes(r);

    if (off == 0 || carry_room(r) == 0 || off % ffb != 0)
        return r->used;
    uint64_t start = off + (r->base.frames - r->used) * (uint64_t)ffb;
    uint64_t end = start + r->used * (uint64_t)ffb;
    uint64_t page_end = end - end % RP_PAGE;
    if (page_end <= start)
        return r->used;
    return (size_t)((page_end - start) / ffb);
}

/*
 * Hands the buffered frames to libsndfile: to the writer thread, which
 * gives back a spare buffer to fill meanwhile, or, without one, here.
 * With `align`, frames after the last page boundary are kept for the next
 * buffer. A failed write on the writer thread is seen by the next call.
 */
static int write_buffer(recorder *r, bool align)
{
    uint8_t *buf = r->buf;
    size_t unit = frame_bytes(r);
    rp_write_fn fn = buffer_writer(r);
    rp_lawbuf carried = {.ngaps = 0};

    if (get_error(r) != RTPPROC_OK)
        return get_error(r);
    if (r->used == 0)
        return RTPPROC_OK;
    size_t write = align ? aligned_frames(r) : r->used;
    size_t keep = r->used - write;
    size_t len = write * unit;
    if (keep > 0 && holds_law(r)) {
        /* Silent runs past the boundary go with the frames. */
        rp_lawbuf *h = (rp_lawbuf *)(void *)buf;
        unsigned stay = 0;
        for (unsigned i = 0; i < h->ngaps; i++) {
            uint32_t at = h->gap[i].at, end = at + h->gap[i].n;
            if (end > write) {
                uint32_t from = at > write ? at : (uint32_t)write;
                carried.gap[carried.ngaps].at = from - (uint32_t)write;
                carried.gap[carried.ngaps++].n = end - from;
            }
            if (at < write) {
                h->gap[stay].at = at;
                h->gap[stay++].n = (end < write ? end : (uint32_t)write) - at;
            }
        }
        h->ngaps = stay;
    }
    /* The buffer filled next: a spare from the writer thread, which gets
     * this one, or this one again once written here. */
    uint8_t *next = r->writer != NULL ? rp_writer_spare(r->writer, alloc_bytes(r)) : NULL;
    if (next != NULL) {
        memcpy(next + (frames_of(r) - buf), frames_of(r) + len, keep * unit);
        rp_writer_queue(r->writer, fn, r, buf, alloc_bytes(r), len, &r->pending);
        r->buf = next;
    } else {
        if (r->writer != NULL)
            rp_writer_wait(r->writer, &r->pending); /* the file's writes stay in order */
        fn(r, buf, len);
        memmove(frames_of(r), frames_of(r) + len, keep * unit);
    }
    start_lawbuf(r);
    if (holds_law(r)) {
        rp_lawbuf *h = (rp_lawbuf *)(void *)r->buf;
        memcpy(h->gap, carried.gap, carried.ngaps * sizeof(carried.gap[0]));
        h->ngaps = carried.ngaps;
    }
    r->used = keep;
    /* The next write is a whole buffer after the kept frames: whole pages. */
    r->limit = RTPPROC_RECORDER_BUFFER_FRAMES + (align ? keep : 0);
    return get_error(r);
}

/*
 * Makes the buffer one of `kind` (a PCM file's: int16 frames, or the
 * bytes of one law), writing out the frames of another kind first. PCM
 * files get their first buffer here.
 */
static int hold_kind(recorder *r, enum rtpproc_native kind)
{
    if (r->buf != NULL && r->held == kind)
        return RTPPROC_OK;
    if (r->buf != NULL) {
        if (write_buffer(r, false) != RTPPROC_OK)
            return get_error(r);
        rp_hugepool_free(r->buf, alloc_bytes(r));
        r->buf = NULL;
    }
    r->held = kind;
    if ((r->buf = rp_hugepool_alloc_buffer(alloc_bytes(r))) == NULL) {
        set_error(r, RTPPROC_ENOMEM);
        return RTPPROC_ENOMEM;
    }
    start_lawbuf(r);
    return RTPPROC_OK;
}

/* Waits for the writer thread's jobs on this file: then sf is ours. */
static void sync_writer(recorder *r)
{
    if (r->writer != NULL)
        rp_writer_wait(r->writer, &r->pending);
}

/* Frames that fit in the buffer now, at most `want`. */
static size_t room(const recorder *r, uint64_t want)
{
    size_t free_frames = r->limit - r->used;
    return want < free_frames ? (size_t)want : free_frames;
}

/* Accounts `take` frames just put in the buffer; writes it out when full. */
static int commit(recorder *r, size_t take)
{
    r->last_frames = take;
    r->used += take;
    r->base.frames += take;
    if (r->used == r->limit)
        return write_buffer(r, true);
    return RTPPROC_OK;
}

static int rec_write_pcm(rtpproc_sink *s, const int16_t *frames, size_t nframes)
{
    recorder *r = (recorder *)s;
    unsigned ch = s->fmt.channels;

    if (get_error(r) != RTPPROC_OK)
        return get_error(r);
    if (!r->native && hold_kind(r, RTPPROC_NATIVE_NONE) != RTPPROC_OK)
        return get_error(r);
    while (nframes > 0) {
        size_t take = room(r, nframes);
        size_t n = take * ch;
        if (r->native) {
            uint8_t *dst = r->buf + r->used * ch;
            for (size_t i = 0; i < n; i++)
                dst[i] = encode(r, frames[i]);
        } else {
            memcpy((int16_t *)(void *)r->buf + r->used * ch, frames, n * sizeof(int16_t));
        }
        frames += n;
        nframes -= take;
        if (commit(r, take) != RTPPROC_OK)
            return get_error(r);
    }
    return RTPPROC_OK;
}

static int rec_write_native(rtpproc_sink *s, enum rtpproc_native law, const uint8_t *bytes,
                            size_t nframes)
{
    recorder *r = (recorder *)s;
    unsigned ch = s->fmt.channels;

    if (law != RTPPROC_NATIVE_ALAW && law != RTPPROC_NATIVE_ULAW)
        return RTPPROC_EINVAL;
    if (r->native && law != s->fmt.encoding)
        return RTPPROC_EINVAL;
    if (get_error(r) != RTPPROC_OK)
        return get_error(r);
    if (!r->native && hold_kind(r, law) != RTPPROC_OK)
        return get_error(r);
    while (nframes > 0) {
        size_t take = room(r, nframes);
        memcpy(frames_of(r) + r->used * ch, bytes, take * ch);
        bytes += take * ch;
        nframes -= take;
        if (commit(r, take) != RTPPROC_OK)
            return get_error(r);
    }
    return RTPPROC_OK;
}

/*
 * Notes `take` frames of silence at the end of an A-law buffer (bytes
 * filled for the expansion, zeroed after it): 1. With every gap slot
 * taken, writes the buffer out instead: 0, and the caller tries again in
 * the next buffer; or the write's error.
 */
static int add_gap(recorder *r, size_t take)
{
    rp_lawbuf *h = (rp_lawbuf *)(void *)r->buf;
    unsigned ch = r->base.fmt.channels;

    if (h->ngaps > 0 && h->gap[h->ngaps - 1].at + h->gap[h->ngaps - 1].n == r->used) {
        h->gap[h->ngaps - 1].n += (uint32_t)take;
    } else if (h->ngaps < RP_LAW_GAPS) {
        h->gap[h->ngaps].at = (uint32_t)r->used;
        h->gap[h->ngaps].n = (uint32_t)take;
        h->ngaps++;
    } else {
        int rc = write_buffer(r, false);
        return rc != RTPPROC_OK ? rc : 0;
    }
    memset(frames_of(r) + r->used * ch, 0xD5, take * ch);
    return 1;
}

/* Silence goes through the same buffer: one write per buffer, never per sample. */
static int rec_write_silence(rtpproc_sink *s, uint64_t nframes)
{
    recorder *r = (recorder *)s;
    unsigned ch = s->fmt.channels;
    int rc;

    if (get_error(r) != RTPPROC_OK)
        return get_error(r);
    if (r->buf == NULL && hold_kind(r, RTPPROC_NATIVE_NONE) != RTPPROC_OK)
        return get_error(r);
    while (nframes > 0) {
        size_t take = room(r, nframes);
        if (r->native)
            memset(r->buf + r->used * ch, r->silence, take * ch);
        else if (r->held == RTPPROC_NATIVE_NONE)
            memset((int16_t *)(void *)r->buf + r->used * ch, 0, take * ch * sizeof(int16_t));
        else if (r->held == RTPPROC_NATIVE_ULAW)
            memset(frames_of(r) + r->used * ch, 0xFF, take * ch);
        else if ((rc = add_gap(r, take)) <= 0) {
            if (rc < 0)
                return rc;
            continue; /* the buffer was written out to make room */
        }
        nframes -= take;
        if (commit(r, take) != RTPPROC_OK)
            return get_error(r);
    }
    return RTPPROC_OK;
}

/* Rewrites the RIFF and data chunk sizes for the frames written so far,
 * where the SNDFILE is owned; a failure becomes the recorder's error. */
static int update_header(recorder *r)
{
    if (get_error(r) != RTPPROC_OK || r->sf == NULL)
        return get_error(r);
    sf_command(r->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
    if (sf_error(r->sf) != SF_ERR_NO_ERROR)
        set_error(r, RTPPROC_EIO);
    return get_error(r);
}

static int rec_flush(rtpproc_sink *s)
{
    recorder *r = (recorder *)s;

    write_buffer(r, false);
    sync_writer(r);
    return update_header(r);
}

/*
 * The header's sizes for every frame written, then libsndfile's close and
 * the descriptor's, where the SNDFILE is owned (after the sink's queued
 * writes). The first error wins.
 */
static int finalise(recorder *r)
{
    /* sf_close rewrites the header too, but reports no failure of it. */
    int rc = update_header(r);

    if (r->sf != NULL && sf_close(r->sf) != SF_ERR_NO_ERROR && rc == RTPPROC_OK)
        rc = RTPPROC_EIO;
    r->sf = NULL;
    /* close() can report a delayed write error (NFS, quota). */
    if (r->fd >= 0 && close(r->fd) != 0 && rc == RTPPROC_OK)
        rc = RTPPROC_EIO;
    r->fd = -1;
    return rc;
}

/*
 * The frames still in the buffer, then finalise(), as one job: a
 * recording's last job, which a submitter waiting on the writer may run
 * itself (writer.h) once the recording has no other job queued.
 */
static void finalise_job(void *ctx, const void *buf, size_t len)
{
    recorder *r = ctx;

    (void)buf;
    (void)len;
    if (r->used > 0)
        buffer_writer(r)(r, r->buf, r->used * frame_bytes(r));
    r->used = 0;
    r->close_rc = finalise(r);
}

/*
 * With a writer thread the last frames and the finalisation are queued,
 * so that the engine can end thousands of recordings without waiting for
 * each in turn (10 000 one after the other: 0.15-0.22 s).
 */
static int rec_close_begin(rtpproc_sink *s)
{
    recorder *r = (recorder *)s;

    if (r->writer == NULL || r->closing)
        return get_error(r);
    r->closing = true;
    rp_writer_call(r->writer, finalise_job, r, &r->pending);
    return get_error(r);
}

static int rec_close(rtpproc_sink *s)
{
    recorder *r = (recorder *)s;
    int rc;

    if (r == NULL)
        return RTPPROC_OK;
    if (r->closing) {
        sync_writer(r);
        rc = r->close_rc;
    } else {
        write_buffer(r, false);
        sync_writer(r);
        rc = finalise(r);
    }
    free_recorder(r);
    return rc;
}

/* The next write's bytes in the buffer, if it is as long as the last one
 * (rtpproc_engine_feed_batch calls this a datagram ahead). */
static void rec_prefetch(rtpproc_sink *s)
{
    const recorder *r = (const recorder *)s;
    if (r->buf == NULL)
        return;

    size_t unit = frame_bytes(r);
    const uint8_t *buf = frames_of(r);
    size_t at = r->used * unit, end = r->limit * unit;
    size_t bytes = r->last_frames * unit;

    if (bytes > end - at)
        bytes = end - at;
    /* Every line the write touches, from the one it starts in: 160 bytes
     * from offset 48 of a line touch four lines, and stepping 64 bytes
     * from the start fetched three; the store into the fourth waited for
     * memory and held up every store behind it. */
    uintptr_t from = (uintptr_t)(buf + at) & ~(uintptr_t)63, to = (uintptr_t)(buf + at + bytes);
    for (; from < to; from += 64)
        __builtin_prefetch((const void *)from, 1, 3);
}

static const rtpproc_sink_ops recorder_ops = {
    .write_pcm = rec_write_pcm,
    .write_native = rec_write_native,
    .write_silence = rec_write_silence,
    .flush = rec_flush,
    .close = rec_close,
    .close_begin = rec_close_begin,
    .prefetch = rec_prefetch,
};

/*
 * Creates `path`: never replaces an existing file unless `force`. O_EXCL
 * makes the check and the creation one step, so a file appearing in
 * between is not overwritten either. *created tells whether the file is
 * new (and may be removed again if setting it up fails).
 */
static int create_file(const char *path, bool force, bool *created, int *status, char *errbuf,
                       size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);

    *created = fd >= 0;
    if (fd < 0 && errno == EEXIST && force)
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    if (errno == EEXIST) {
        *status = RTPPROC_EEXIST;
        set_err(errbuf, errlen, "cannot create '%s': file exists (use --force to overwrite)", path);
    } else {
        *status = RTPPROC_EIO;
        set_err(errbuf, errlen, "cannot create '%s': %s", path, strerror(errno));
    }
    return -1;
}

/*
 * libsndfile's set-up of the file: its SNDFILE (about 12 KiB) and the
 * header write. On failure the file is closed and, if this run created
 * it, removed; later writes fail with the error.
 */
static int set_up(recorder *r)
{
    r->sf = sf_open_fd(r->fd, SFM_WRITE, &r->info, 0);
    if (r->sf != NULL) {
        /* libsndfile wrote the header through the descriptor. */
        off_t at = lseek(r->fd, 0, SEEK_CUR);
        r->header_end = at > 0 ? (uint64_t)at : 0;
        return RTPPROC_OK;
    }
    set_error(r, RTPPROC_EIO);
    close(r->fd);
    r->fd = -1;
    if (r->created)
        unlink(r->base.path);
    return RTPPROC_EIO;
}

/* set_up() as a writer-thread job. */
static void set_up_job(void *ctx, const void *buf, size_t len)
{
    (void)buf;
    (void)len;
    (void)set_up(ctx);
}

/*
 * The size of the header libsndfile writes for `info`: where the frames of
 * such a file start, known at open although the file is set up later on
 * the writer thread (aligned_frames). Learnt once per format, channel
 * count and rate by setting up a file in memory; 0 if that fails.
 */
typedef struct rp_vfile {
    sf_count_t pos, len;
} rp_vfile;

static sf_count_t vf_len(void *ud)
{
    return ((rp_vfile *)ud)->len;
}

static sf_count_t vf_seek(sf_count_t off, int whence, void *ud)
{
    rp_vfile *v = ud;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? v->pos : v->len;
    if (base + off < 0)
        return -1;
    v->pos = base + off;
    return v->pos;
}

static sf_count_t vf_read(void *ptr, sf_count_t count, void *ud)
{
    (void)ptr;
    (void)count;
    (void)ud;
    return 0;
}

static sf_count_t vf_write(const void *ptr, sf_count_t count, void *ud)
{
    rp_vfile *v = ud;
    (void)ptr;
    v->pos += count;
    if (v->pos > v->len)
        v->len = v->pos;
    return count;
}

static sf_count_t vf_tell(void *ud)
{
    return ((rp_vfile *)ud)->pos;
}

#define RP_HEADER_KINDS 8

static uint32_t header_bytes(const SF_INFO *info)
{
    static GMutex mu;
    static struct {
        int format, channels, samplerate;
        uint32_t bytes;
    } known[RP_HEADER_KINDS];
    static unsigned nknown;
    uint32_t bytes = 0;

    g_mutex_lock(&mu);
    for (unsigned i = 0; i < nknown; i++) {
        if (known[i].format == info->format && known[i].channels == info->channels &&
            known[i].samplerate == info->samplerate) {
            bytes = known[i].bytes;
            g_mutex_unlock(&mu);
            return bytes;
        }
    }
    SF_VIRTUAL_IO vio = {vf_len, vf_seek, vf_read, vf_write, vf_tell};
    rp_vfile v = {0, 0};
    SF_INFO copy = *info;
    SNDFILE *sf = sf_open_virtual(&vio, SFM_WRITE, &copy, &v);
    if (sf != NULL) {
        if (v.pos > 0 && v.pos < (sf_count_t)RP_PAGE)
            bytes = (uint32_t)v.pos;
        sf_close(sf);
    }
    if (nknown < RP_HEADER_KINDS) {
        known[nknown].format = info->format;
        known[nknown].channels = info->channels;
        known[nknown].samplerate = info->samplerate;
        known[nknown++].bytes = bytes;
    }
    g_mutex_unlock(&mu);
    return bytes;
}

/*
 * Opens `path`. With a writer thread the file is created here (so that an
 * existing file is reported by this call, before anything is written) and
 * set up on the writer thread: on a busy link thousands of streams start
 * together, and sf_open_fd cost the reading thread about 10 us each.
 */
static rtpproc_sink *open_recording(const char *path, bool force, const rtpproc_sink_format *fmt,
                                    rp_writer *writer, int *status, char *errbuf, size_t errlen)
{
    recorder *r = NULL;
    SF_INFO info;
    bool created = false;
    int fd = -1;

    *status = RTPPROC_OK;
    memset(&info, 0, sizeof(info));
    info.samplerate = (int)fmt->sample_rate;
    info.channels = (int)fmt->channels;
    info.format = SF_FORMAT_WAV;
    switch (fmt->encoding) {
    case RTPPROC_NATIVE_NONE:
        info.format |= SF_FORMAT_PCM_16;
        break;
    case RTPPROC_NATIVE_ALAW:
        info.format |= SF_FORMAT_ALAW;
        break;
    case RTPPROC_NATIVE_ULAW:
        info.format |= SF_FORMAT_ULAW;
        break;
    default:
        info.format = 0;
        break;
    }
    if (fmt->sample_rate == 0 || fmt->sample_rate > INT32_MAX || fmt->channels == 0 ||
        fmt->channels > INT32_MAX || !sf_format_check(&info)) {
        *status = RTPPROC_EINVAL;
        set_err(errbuf, errlen, "cannot create '%s': unsupported WAV format (%u Hz, %u channels)",
                path, (unsigned)fmt->sample_rate, fmt->channels);
        return NULL;
    }

    /* Everything that can fail without touching the disk comes first. */
    r = rp_hugepool_alloc(sizeof(*r));
    if (r == NULL)
        goto nomem;
    r->base.ops = &recorder_ops;
    r->base.fmt = *fmt;
    r->info = info;
    r->fd = -1;
    r->limit = RTPPROC_RECORDER_BUFFER_FRAMES;
    r->native = fmt->encoding != RTPPROC_NATIVE_NONE;
    r->held = fmt->encoding;
    r->data_offset = header_bytes(&info);
    if (r->native) {
        r->encode = rp_g711_encoder(fmt->encoding);
        r->silence = encode(r, 0);
        if ((r->buf = rp_hugepool_alloc_buffer(alloc_bytes(r))) == NULL)
            goto nomem;
    }
    r->base.path = strdup(path);
    if (r->base.path == NULL)
        goto nomem;

    fd = create_file(path, force, &created, status, errbuf, errlen);
    if (fd < 0)
        goto fail;
    r->fd = fd;
    r->created = created;
    if (writer != NULL) {
        r->writer = writer;
        rp_writer_call(writer, set_up_job, r, &r->pending);
        return &r->base;
    }
    if (set_up(r) != RTPPROC_OK) {
        *status = RTPPROC_EIO;
        set_err(errbuf, errlen, "cannot create '%s': %s", path, sf_strerror(NULL));
        free_recorder(r);
        return NULL;
    }
    return &r->base;

nomem:
    *status = RTPPROC_ENOMEM;
    set_err(errbuf, errlen, "cannot create '%s': out of memory", path);
fail:
    if (fd >= 0) {
        close(fd);
        if (created)
            unlink(path); /* only a file this call created, never one it truncated */
    }
    if (r != NULL)
        free_recorder(r);
    return NULL;
}

rtpproc_sink *rtpproc_recorder_open_path(const char *path, bool force,
                                         const rtpproc_sink_format *fmt, int *status, char *errbuf,
                                         size_t errlen)
{
    return open_recording(path, force, fmt, NULL, status, errbuf, errlen);
}

/* Descriptors a factory makes room for up front (within RLIMIT_NOFILE). */
#define RP_RECORDER_FD_ROOM 16384

/*
 * Linux grows a process's descriptor table by doubling, and once the
 * process has a second thread every growth waits for an RCU grace period
 * (fs/file.c, expand_fdtable). Opening thousands of recordings with the
 * writer thread running paid that at 128, 256, ... descriptors: measured
 * here, creating 1000 recordings took 23-33 ms instead of 4-9 ms, 10 000
 * took 0.10-0.14 s instead of 0.04 s. One growth now, while the caller is
 * most likely still single-threaded: F_DUPFD takes the lowest free number
 * at or above the one asked for, so no descriptor in use is touched.
 */
static void make_descriptor_room(void)
{
    struct rlimit rl;
    int fd, high;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < 2)
        return;
    high = rl.rlim_cur > RP_RECORDER_FD_ROOM ? RP_RECORDER_FD_ROOM - 1 : (int)rl.rlim_cur - 1;
    if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        return;
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, high);
    if (dup >= 0)
        close(dup);
    close(fd);
}

rtpproc_recorder_factory *rtpproc_recorder_factory_new(const char *dir, bool force)
{
    rtpproc_recorder_factory *f = g_try_new0(rtpproc_recorder_factory, 1);

    if (f == NULL)
        return NULL;
    f->dir = g_strdup(dir != NULL ? dir : ".");
    f->force = force;
    f->used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    make_descriptor_room();
    return f;
}

int rtpproc_recorder_factory_start_writer(rtpproc_recorder_factory *f)
{
    if (f->writer == NULL)
        f->writer = rp_writer_new(RP_RECORDER_QUEUE_BYTES);
    return f->writer != NULL ? RTPPROC_OK : RTPPROC_ENOMEM;
}

void rtpproc_recorder_factory_free(rtpproc_recorder_factory *f)
{
    if (f == NULL)
        return;
    rp_writer_free(f->writer);
    g_hash_table_destroy(f->used);
    g_free(f->dir);
    g_free(f);
}

/* An address as text for a file name: IPv6 ':' become '-'. */
static void addr_for_name(const rtpproc_addr *a, char *buf)
{
    rtpproc_addr_format(a, buf, RTPPROC_ADDRSTRLEN);
    for (char *p = buf; *p != '\0'; p++) {
        if (*p == ':')
            *p = '-';
    }
}

rtpproc_sink *rtpproc_recorder_open(void *userdata, const rtpproc_sink_info *info,
                                    const rtpproc_sink_format *fmt, int *status, char *errbuf,
                                    size_t errlen)
{
    rtpproc_recorder_factory *f = userdata;
    char src[RTPPROC_ADDRSTRLEN];
    char dst[RTPPROC_ADDRSTRLEN];

    if (f == NULL || info == NULL || info->flow == NULL) {
        *status = RTPPROC_EINVAL;
        set_err(errbuf, errlen, "cannot create a recording: no factory or stream information");
        return NULL;
    }
    addr_for_name(&info->flow->src, src);
    addr_for_name(&info->flow->dst, dst);
    char *base = g_strdup_printf("%s_%u-%s_%u-0x%08X", src, (unsigned)info->flow->sport, dst,
                                 (unsigned)info->flow->dport, (unsigned)info->ssrc);
    /*
     * The same key again (after an idle timeout) gets "-2", "-3", ...: a
     * name is never used twice in one run, even with --force.
     */
    char *name = g_strdup_printf("%s.wav", base);
    for (unsigned n = 2; g_hash_table_contains(f->used, name); n++) {
        g_free(name);
        name = g_strdup_printf("%s-%u.wav", base, n);
    }
    g_free(base);

    size_t dlen = strlen(f->dir);
    bool slash = dlen > 0 && f->dir[dlen - 1] == '/';
    char *path = g_strconcat(f->dir, slash ? "" : "/", name, NULL);
    rtpproc_sink *s = open_recording(path, f->force, fmt, f->writer, status, errbuf, errlen);
    g_free(path);
    if (s != NULL) {
        recorder *r = (recorder *)s;
        /*
         * Streams that start together (a capture begun on a busy link,
         * calls set up at once) would fill their buffers in the same few
         * packets every 4096 frames: a burst of one write per stream, too
         * many to queue, then nothing. A first buffer of between 1/8 and
         * all of its size, different for each recording (golden-ratio
         * steps), spreads the writes evenly; the file's bytes are the same.
         */
        uint32_t step = (f->opened++ * 2654435769u) >> 20; /* 0..4095 */
        r->limit = RTPPROC_RECORDER_BUFFER_FRAMES / 8 +
                   step % (RTPPROC_RECORDER_BUFFER_FRAMES - RTPPROC_RECORDER_BUFFER_FRAMES / 8);
        g_hash_table_add(f->used, name); /* the table keeps `name` */
    } else
        g_free(name);
    return s;
}

unsigned rp_recorder_ragged_writes(rtpproc_sink *s)
{
    recorder *r = (recorder *)s;

    sync_writer(r);
    return r->ragged;
}
