/*
 * Unit tests of the libsndfile recorder, its file factory and the memory
 * sink (suite "recorder").
 *
 * Files go to a fresh mkdtemp() directory under /tmp that the suite
 * cleanup removes. Everything written is read back with libsndfile.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <glib.h>
#include <sndfile.h>

/* spandsp's g711.h needs these two first. */
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

#include "recorder_pages.h"
#include "rtpproc/recorder.h"
#include "rtpproc/sink.h"
#include "suite.h"

CU_pSuite rtpproc_test_recorder_suite(void);

static char tmpdir[64];

/* Removes `path` and, for a directory, everything below it. */
static void remove_tree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[4096];
                snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
                remove_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int suite_init(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/rtpproc-test-recorder-XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int suite_clean(void)
{
    remove_tree(tmpdir);
    return 0;
}

/* tmpdir + "/" + name into buf. */
static const char *tmp_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", tmpdir, name);
    return buf;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Opens `path` with libsndfile for reading; info filled. */
static SNDFILE *read_open(const char *path, SF_INFO *info)
{
    memset(info, 0, sizeof(*info));
    return sf_open(path, SFM_READ, info);
}

/*
 * The 256 G.711 levels as libsndfile decodes them: the bytes 0..255 are
 * written to a headerless file with stdio and read as SF_FORMAT_RAW.
 */
static bool sndfile_levels(int subformat, short levels[256])
{
    char path[128];
    uint8_t bytes[256];
    SF_INFO info;

    for (unsigned i = 0; i < 256; i++)
        bytes[i] = (uint8_t)i;
    tmp_path(path, sizeof(path), "levels.raw");
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        return false;
    bool ok = fwrite(bytes, 1, 256, fp) == 256;
    ok = fclose(fp) == 0 && ok;
    memset(&info, 0, sizeof(info));
    info.samplerate = 8000;
    info.channels = 1;
    info.format = SF_FORMAT_RAW | subformat;
    SNDFILE *sf = ok ? sf_open(path, SFM_READ, &info) : NULL;
    if (sf == NULL) {
        unlink(path);
        return false;
    }
    ok = sf_read_short(sf, levels, 256) == 256;
    sf_close(sf);
    unlink(path);
    return ok;
}

static uint32_t le32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Reads the sizes a WAV header declares: the RIFF size and the data chunk
 * size, found by walking the chunks after "WAVE". False if not found.
 * libsndfile alone is not enough here: it accepts a data size of 0 and
 * takes the length of the file instead.
 */
static bool wav_header_sizes(const char *path, uint32_t *riff_size, uint32_t *data_size,
                             long *file_size)
{
    uint8_t buf[512];
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof(buf), fp);
    fseek(fp, 0, SEEK_END);
    *file_size = ftell(fp);
    fclose(fp);
    if (n < 12 || memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0)
        return false;
    *riff_size = le32_at(buf + 4);
    for (size_t off = 12; off + 8 <= n;) {
        uint32_t len = le32_at(buf + off + 4);
        if (memcmp(buf + off, "data", 4) == 0) {
            *data_size = len;
            return true;
        }
        off += 8 + (size_t)len + (len & 1);
    }
    return false;
}

static const rtpproc_sink_format PCM_8K_MONO = {8000, 1, RTPPROC_NATIVE_NONE};

/* ---- recorder ---- */

static void test_pcm_file_round_trip_with_silence(void)
{
    char path[128];
    char err[256] = "";
    int status = -99;
    int16_t a[100], b[30];

    tmp_path(path, sizeof(path), "pcm.wav");
    for (int i = 0; i < 100; i++)
        a[i] = (int16_t)(i * 300 - 15000);
    for (int i = 0; i < 30; i++)
        b[i] = (int16_t)(-i * 1000 - 1);

    rtpproc_sink *s =
        rtpproc_recorder_open_path(path, false, &PCM_8K_MONO, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(status, RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(s->path, path);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, a, 100), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 50), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, b, 30), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->frames, 180);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);

    SF_INFO info;
    SNDFILE *sf = read_open(path, &info);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(info.frames, 180);
    CU_ASSERT_EQUAL(info.samplerate, 8000);
    CU_ASSERT_EQUAL(info.channels, 1);
    CU_ASSERT_EQUAL(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    short got[181];
    CU_ASSERT_EQUAL(sf_read_short(sf, got, 181), 180);
    sf_close(sf);
    CU_ASSERT_EQUAL(memcmp(got, a, sizeof(a)), 0);
    for (int i = 100; i < 150; i++)
        CU_ASSERT_EQUAL(got[i], 0);
    CU_ASSERT_EQUAL(memcmp(got + 150, b, sizeof(b)), 0);
}

static void test_stereo_file_spanning_several_buffers(void)
{
    enum { AUDIO = 5000, SILENCE = 3 * RTPPROC_RECORDER_BUFFER_FRAMES + 7, TAIL = 10 };
    const size_t total = AUDIO + SILENCE + TAIL;
    const rtpproc_sink_format fmt = {16000, 2, RTPPROC_NATIVE_NONE};
    char path[128];
    char err[256];
    int status;

    int16_t *audio = malloc(AUDIO * 2 * sizeof(int16_t));
    short *got = malloc((total + 1) * 2 * sizeof(short));
    CU_ASSERT_PTR_NOT_NULL_FATAL(audio);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    for (int i = 0; i < AUDIO; i++) {
        audio[2 * i] = (int16_t)(i % 30000);        /* left */
        audio[2 * i + 1] = (int16_t) - (i % 30000); /* right */
    }
    int16_t tail[TAIL * 2];
    for (int i = 0; i < TAIL * 2; i++)
        tail[i] = (int16_t)(i + 1);

    rtpproc_sink *s = rtpproc_recorder_open_path(tmp_path(path, sizeof(path), "stereo.wav"), false,
                                                 &fmt, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, audio, AUDIO), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_silence(s, SILENCE), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, tail, TAIL), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->frames, total);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);

    SF_INFO info;
    SNDFILE *sf = read_open(path, &info);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(info.frames, (sf_count_t)total);
    CU_ASSERT_EQUAL(info.samplerate, 16000);
    CU_ASSERT_EQUAL(info.channels, 2);
    CU_ASSERT_EQUAL(sf_readf_short(sf, got, (sf_count_t)total + 1), (sf_count_t)total);
    sf_close(sf);
    CU_ASSERT_EQUAL(memcmp(got, audio, AUDIO * 2 * sizeof(short)), 0);
    size_t nonzero = 0;
    for (size_t i = AUDIO * 2; i < (AUDIO + SILENCE) * 2; i++)
        nonzero += got[i] != 0;
    CU_ASSERT_EQUAL(nonzero, 0);
    CU_ASSERT_EQUAL(memcmp(got + (AUDIO + SILENCE) * 2, tail, sizeof(tail)), 0);
    free(audio);
    free(got);
}

/*
 * A native file stores wire bytes untouched, silence as the encoding's
 * silence byte, and PCM encoded: writing libsndfile's decoded level of
 * each byte must give that byte back (u-law 0x7F is -0 and comes back
 * as +0, 0xFF).
 */
static void check_native_file(enum rtpproc_native enc, int subformat, uint8_t silence)
{
    const rtpproc_sink_format fmt = {8000, 1, enc};
    char path[128];
    char err[256];
    int status;
    uint8_t bytes[256];
    short levels[256];

    CU_ASSERT_TRUE_FATAL(sndfile_levels(subformat, levels));
    for (unsigned i = 0; i < 256; i++)
        bytes[i] = (uint8_t)i;
    tmp_path(path, sizeof(path), enc == RTPPROC_NATIVE_ALAW ? "alaw.wav" : "ulaw.wav");
    rtpproc_sink *s = rtpproc_recorder_open_path(path, false, &fmt, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->ops->write_native(s, enc, bytes, 256), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 10), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, levels, 256), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->frames, 522);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);

    SF_INFO info;
    SNDFILE *sf = read_open(path, &info);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(info.format, SF_FORMAT_WAV | subformat);
    CU_ASSERT_EQUAL(info.frames, 522);
    CU_ASSERT_EQUAL(info.samplerate, 8000);
    uint8_t raw[523];
    CU_ASSERT_EQUAL(sf_read_raw(sf, raw, sizeof(raw)), 522);
    sf_close(sf);
    CU_ASSERT_EQUAL(memcmp(raw, bytes, 256), 0);
    for (int i = 256; i < 266; i++)
        CU_ASSERT_EQUAL(raw[i], silence);
    unsigned mismatches = 0;
    for (unsigned i = 0; i < 256; i++) {
        uint8_t want = (enc == RTPPROC_NATIVE_ULAW && i == 0x7F) ? 0xFF : (uint8_t)i;
        mismatches += raw[266 + i] != want;
    }
    CU_ASSERT_EQUAL(mismatches, 0);
}

/* Every 16-bit PCM value written into a G.711 file is stored as spandsp's
 * encoder makes it (the recorder encodes through a table built from it). */
static void check_every_pcm_value(int enc)
{
    const rtpproc_sink_format fmt = {8000, 1, enc};
    char path[128], err[256];
    int status;
    static int16_t pcm[65536];
    static uint8_t raw[65537];

    for (unsigned i = 0; i < 65536; i++)
        pcm[i] = (int16_t)(uint16_t)i;
    tmp_path(path, sizeof(path), enc == RTPPROC_NATIVE_ALAW ? "all-alaw.wav" : "all-ulaw.wav");
    rtpproc_sink *s = rtpproc_recorder_open_path(path, false, &fmt, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, pcm, 65536), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    SF_INFO info;
    SNDFILE *sf = read_open(path, &info);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(sf_read_raw(sf, raw, sizeof(raw)), 65536);
    sf_close(sf);
    unsigned mismatches = 0;
    for (unsigned i = 0; i < 65536; i++) {
        uint8_t want = enc == RTPPROC_NATIVE_ALAW ? linear_to_alaw(pcm[i]) : linear_to_ulaw(pcm[i]);
        mismatches += raw[i] != want;
    }
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_native_files_encode_every_pcm_value(void)
{
    check_every_pcm_value(RTPPROC_NATIVE_ALAW);
    check_every_pcm_value(RTPPROC_NATIVE_ULAW);
}

static void test_native_alaw_file_bytes_exact(void)
{
    check_native_file(RTPPROC_NATIVE_ALAW, SF_FORMAT_ALAW, 0xD5);
}

static void test_native_ulaw_file_bytes_exact(void)
{
    check_native_file(RTPPROC_NATIVE_ULAW, SF_FORMAT_ULAW, 0xFF);
}

/* A G.711 file takes only bytes of its own law; no sink takes "no law". */
static void test_write_native_of_another_law_is_rejected(void)
{
    char path[128];
    char err[256];
    int status;
    const uint8_t bytes[4] = {1, 2, 3, 4};
    const rtpproc_sink_format alaw = {8000, 1, RTPPROC_NATIVE_ALAW};

    rtpproc_sink *s = rtpproc_recorder_open_path(tmp_path(path, sizeof(path), "alaw-ulaw.wav"),
                                                 false, &alaw, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->ops->write_native(s, RTPPROC_NATIVE_ULAW, bytes, 4), RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(s->ops->write_native(s, RTPPROC_NATIVE_NONE, bytes, 4), RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(s->frames, 0);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    s = rtpproc_recorder_open_path(tmp_path(path, sizeof(path), "pcm-none.wav"), false,
                                   &PCM_8K_MONO, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->ops->write_native(s, RTPPROC_NATIVE_NONE, bytes, 4), RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(s->frames, 0);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
}

static void write_text_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs(text, fp);
    fclose(fp);
}

static bool file_has_text(const char *path, const char *text)
{
    char buf[64] = "";
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return strcmp(buf, text) == 0;
}

static void test_existing_file_needs_force(void)
{
    char path[128];
    char err[256] = "";
    char want[512];
    int status = RTPPROC_OK;
    int16_t pcm[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

    tmp_path(path, sizeof(path), "exists.wav");
    write_text_file(path, "keep me");
    rtpproc_sink *s =
        rtpproc_recorder_open_path(path, false, &PCM_8K_MONO, &status, err, sizeof(err));
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(status, RTPPROC_EEXIST);
    snprintf(want, sizeof(want), "cannot create '%s': file exists (use --force to overwrite)",
             path);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_TRUE(file_has_text(path, "keep me"));

    s = rtpproc_recorder_open_path(path, true, &PCM_8K_MONO, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(status, RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, pcm, 10), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    SF_INFO info;
    SNDFILE *sf = read_open(path, &info);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(info.frames, 10);
    sf_close(sf);
}

static void test_flush_makes_header_valid_while_recording(void)
{
    char path[128];
    char err[256];
    int status;
    int16_t pcm[1500];
    short got[1501];

    for (int i = 0; i < 1500; i++)
        pcm[i] = (int16_t)(i * 7 - 5000);
    tmp_path(path, sizeof(path), "flush.wav");
    rtpproc_sink *s =
        rtpproc_recorder_open_path(path, false, &PCM_8K_MONO, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, pcm, 1000), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->flush(s), RTPPROC_OK);

    /* The sink is still open: the header declares exactly what was written so far. */
    uint32_t riff_size = 0, data_size = 0;
    long file_size = 0;
    CU_ASSERT_TRUE_FATAL(wav_header_sizes(path, &riff_size, &data_size, &file_size));
    CU_ASSERT_EQUAL(data_size, 2000);
    CU_ASSERT_EQUAL(riff_size, (uint32_t)file_size - 8);
    SF_INFO info;
    SNDFILE *sf = read_open(path, &info);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(info.frames, 1000);
    CU_ASSERT_EQUAL(sf_read_short(sf, got, 1501), 1000);
    CU_ASSERT_EQUAL(memcmp(got, pcm, 1000 * sizeof(short)), 0);
    sf_close(sf);

    CU_ASSERT_EQUAL(s->ops->write_pcm(s, pcm + 1000, 300), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 200), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->flush(s), RTPPROC_OK);
    CU_ASSERT_TRUE_FATAL(wav_header_sizes(path, &riff_size, &data_size, &file_size));
    CU_ASSERT_EQUAL(data_size, 3000);
    CU_ASSERT_EQUAL(riff_size, (uint32_t)file_size - 8);
    sf = read_open(path, &info);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(info.frames, 1500);
    sf_close(sf);

    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    sf = read_open(path, &info);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(info.frames, 1500);
    CU_ASSERT_EQUAL(sf_read_short(sf, got, 1501), 1500);
    CU_ASSERT_EQUAL(memcmp(got, pcm, 1300 * sizeof(short)), 0);
    CU_ASSERT_EQUAL(got[1300], 0);
    CU_ASSERT_EQUAL(got[1499], 0);
    sf_close(sf);
}

static void test_missing_directory_is_eio_naming_the_path(void)
{
    char path[256];
    char err[512] = "";
    int status = RTPPROC_OK;

    tmp_path(path, sizeof(path), "no-such-dir/x.wav");
    rtpproc_sink *s =
        rtpproc_recorder_open_path(path, false, &PCM_8K_MONO, &status, err, sizeof(err));
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(status, RTPPROC_EIO);
    char want[512];
    snprintf(want, sizeof(want), "cannot create '%s': %s", path, strerror(ENOENT));
    CU_ASSERT_STRING_EQUAL(err, want);

    /* A path through a regular file: ENOTDIR, even for root. */
    char file[128];
    write_text_file(tmp_path(file, sizeof(file), "plainfile"), "x");
    tmp_path(path, sizeof(path), "plainfile/x.wav");
    status = RTPPROC_OK;
    s = rtpproc_recorder_open_path(path, true, &PCM_8K_MONO, &status, err, sizeof(err));
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(status, RTPPROC_EIO);
    snprintf(want, sizeof(want), "cannot create '%s': %s", path, strerror(ENOTDIR));
    CU_ASSERT_STRING_EQUAL(err, want);
}

static void test_invalid_format_is_rejected_before_creating(void)
{
    char path[128];
    char err[256] = "";
    int status = RTPPROC_OK;
    const rtpproc_sink_format bad = {0, 1, RTPPROC_NATIVE_NONE};

    tmp_path(path, sizeof(path), "badfmt.wav");
    CU_ASSERT_PTR_NULL(rtpproc_recorder_open_path(path, false, &bad, &status, err, sizeof(err)));
    CU_ASSERT_EQUAL(status, RTPPROC_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    CU_ASSERT_FALSE(file_exists(path));
}

/*
 * A file size limit for this process, SIGXFSZ ignored, so that a write
 * past it fails as on a full disk; file_limit_end() undoes it.
 */
typedef struct file_limit {
    struct rlimit old;
    void (*old_handler)(int);
} file_limit;

static void file_limit_begin(file_limit *fl, rlim_t bytes)
{
    struct rlimit lim;

    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &fl->old), 0);
    fl->old_handler = signal(SIGXFSZ, SIG_IGN);
    lim = fl->old;
    lim.rlim_cur = bytes;
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

static void file_limit_end(const file_limit *fl)
{
    setrlimit(RLIMIT_FSIZE, &fl->old);
    signal(SIGXFSZ, fl->old_handler);
}

/*
 * A file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes write() fail like
 * a full disk does: the sink reports RTPPROC_EIO from the write that hits
 * it, from flush, and from close, which still frees the sink.
 */
static void test_write_error_is_eio(void)
{
    char path[128];
    char err[256];
    int status;
    file_limit fl;
    enum { FRAMES = 3 * RTPPROC_RECORDER_BUFFER_FRAMES };

    int16_t *pcm = calloc(FRAMES, sizeof(int16_t));
    CU_ASSERT_PTR_NOT_NULL_FATAL(pcm);
    rtpproc_sink *s = rtpproc_recorder_open_path(tmp_path(path, sizeof(path), "full.wav"), false,
                                                 &PCM_8K_MONO, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);

    file_limit_begin(&fl, 12000); /* the header and one buffer (8236 bytes) fit, two do not */
    int rc_write = s->ops->write_pcm(s, pcm, FRAMES);
    int rc_flush = s->ops->flush(s);
    s->ops->close_begin(s);
    int rc_close = s->ops->close(s);
    file_limit_end(&fl);
    free(pcm);

    CU_ASSERT_EQUAL(rc_write, RTPPROC_EIO);
    CU_ASSERT_EQUAL(rc_flush, RTPPROC_EIO);
    CU_ASSERT_EQUAL(rc_close, RTPPROC_EIO);
}

/* ---- factory ---- */

static rtpproc_flow make_flow4(const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
                               uint16_t dport)
{
    rtpproc_flow f;
    memset(&f, 0, sizeof(f));
    f.src.family = 4;
    memcpy(f.src.bytes, src, 4);
    f.dst.family = 4;
    memcpy(f.dst.bytes, dst, 4);
    f.sport = sport;
    f.dport = dport;
    return f;
}

/* Opens through the factory and closes at once; returns the path (caller frees) or NULL. */
static char *factory_open_close(rtpproc_recorder_factory *f, const rtpproc_flow *flow,
                                uint32_t ssrc, int *status, char *err, size_t errlen)
{
    rtpproc_sink_info info = {flow, ssrc, 8, "PCMA", 0};
    const rtpproc_sink_format fmt = {8000, 1, RTPPROC_NATIVE_ALAW};
    rtpproc_sink *s = rtpproc_recorder_open(f, &info, &fmt, status, err, errlen);
    if (s == NULL)
        return NULL;
    char *path = strdup(s->path);
    const uint8_t b[2] = {0xd5, 0xd6};
    s->ops->write_native(s, RTPPROC_NATIVE_ALAW, b, 2);
    if (s->ops->close(s) != RTPPROC_OK) {
        free(path);
        return NULL;
    }
    return path;
}

static void check_path(char *got, const char *dir, const char *name)
{
    char want[512];
    snprintf(want, sizeof(want), "%s/%s", dir, name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(got, want);
    CU_ASSERT_TRUE(file_exists(want));
    free(got);
}

static void test_factory_names_and_suffixes_repeated_keys(void)
{
    char dir[128];
    char err[256];
    int status;
    const uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
    rtpproc_flow flow = make_flow4(a, 5004, b, 5006);

    mkdir(tmp_path(dir, sizeof(dir), "names"), 0700);
    rtpproc_recorder_factory *f = rtpproc_recorder_factory_new(dir, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    check_path(factory_open_close(f, &flow, 0xabcd, &status, err, sizeof(err)), dir,
               "10.0.0.1_5004-10.0.0.2_5006-0x0000ABCD.wav");
    /* the same key again, as after an idle timeout */
    check_path(factory_open_close(f, &flow, 0xabcd, &status, err, sizeof(err)), dir,
               "10.0.0.1_5004-10.0.0.2_5006-0x0000ABCD-2.wav");
    check_path(factory_open_close(f, &flow, 0xabcd, &status, err, sizeof(err)), dir,
               "10.0.0.1_5004-10.0.0.2_5006-0x0000ABCD-3.wav");
    /* another SSRC on the same 5-tuple, and the reverse direction */
    check_path(factory_open_close(f, &flow, 0xDEADBEEF, &status, err, sizeof(err)), dir,
               "10.0.0.1_5004-10.0.0.2_5006-0xDEADBEEF.wav");
    rtpproc_flow rev = make_flow4(b, 5006, a, 5004);
    check_path(factory_open_close(f, &rev, 0xabcd, &status, err, sizeof(err)), dir,
               "10.0.0.2_5006-10.0.0.1_5004-0x0000ABCD.wav");
    rtpproc_recorder_factory_free(f);

    /* a trailing slash in the directory gives no double slash */
    char dir_slash[140];
    snprintf(dir_slash, sizeof(dir_slash), "%s/", dir);
    f = rtpproc_recorder_factory_new(dir_slash, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    check_path(factory_open_close(f, &flow, 0x1, &status, err, sizeof(err)), dir,
               "10.0.0.1_5004-10.0.0.2_5006-0x00000001.wav");
    rtpproc_recorder_factory_free(f);
}

static void test_factory_ipv6_name_replaces_colons(void)
{
    char dir[128];
    char err[256];
    int status;
    rtpproc_flow flow;

    memset(&flow, 0, sizeof(flow));
    flow.src.family = 6;
    flow.src.bytes[0] = 0x20;
    flow.src.bytes[1] = 0x01;
    flow.src.bytes[2] = 0x0d;
    flow.src.bytes[3] = 0xb8;
    flow.src.bytes[15] = 0x01; /* 2001:db8::1 */
    flow.dst.family = 6;
    flow.dst.bytes[0] = 0xfe;
    flow.dst.bytes[1] = 0x80;
    flow.dst.bytes[15] = 0x02; /* fe80::2 */
    flow.sport = 5004;
    flow.dport = 6000;

    mkdir(tmp_path(dir, sizeof(dir), "v6"), 0700);
    rtpproc_recorder_factory *f = rtpproc_recorder_factory_new(dir, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    check_path(factory_open_close(f, &flow, 0xDEADBEEF, &status, err, sizeof(err)), dir,
               "2001-db8--1_5004-fe80--2_6000-0xDEADBEEF.wav");
    rtpproc_recorder_factory_free(f);
}

static void test_factory_existing_file_and_force(void)
{
    char dir[128];
    char path[256];
    char err[512] = "";
    char want[512];
    int status = RTPPROC_OK;
    const uint8_t a[4] = {192, 168, 1, 1}, b[4] = {192, 168, 1, 2};
    rtpproc_flow flow = make_flow4(a, 40000, b, 40002);
    const char *name = "192.168.1.1_40000-192.168.1.2_40002-0x00000007.wav";

    mkdir(tmp_path(dir, sizeof(dir), "force"), 0700);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    write_text_file(path, "old");

    rtpproc_recorder_factory *f = rtpproc_recorder_factory_new(dir, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NULL(factory_open_close(f, &flow, 7, &status, err, sizeof(err)));
    CU_ASSERT_EQUAL(status, RTPPROC_EEXIST);
    snprintf(want, sizeof(want), "cannot create '%s': file exists (use --force to overwrite)",
             path);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_TRUE(file_has_text(path, "old"));
    rtpproc_recorder_factory_free(f);

    /* With force the old file is replaced, but a name of this run is never reused. */
    f = rtpproc_recorder_factory_new(dir, true);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    check_path(factory_open_close(f, &flow, 7, &status, err, sizeof(err)), dir, name);
    check_path(factory_open_close(f, &flow, 7, &status, err, sizeof(err)), dir,
               "192.168.1.1_40000-192.168.1.2_40002-0x00000007-2.wav");
    rtpproc_recorder_factory_free(f);
    SF_INFO info;
    SNDFILE *sf = read_open(path, &info);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(info.frames, 2);
    CU_ASSERT_EQUAL(info.format, SF_FORMAT_WAV | SF_FORMAT_ALAW);
    sf_close(sf);
}

/* The kernel's descriptor table size (FDSize in /proc/self/status), or -1. */
static long fd_table_size(void)
{
    char line[256];
    long n = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "FDSize:", 7) == 0)
            n = strtol(line + 7, NULL, 10);
    }
    fclose(f);
    return n;
}

/* Descriptors open now (entries of /proc/self/fd, less opendir's own). */
static int open_descriptors(void)
{
    int n = -1;
    DIR *d = opendir("/proc/self/fd");

    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n - 2; /* "." and ".." */
}

/*
 * A new factory grows the descriptor table once, up front (to 16384 or
 * the soft RLIMIT_NOFILE), and leaves no descriptor open. Checked in a
 * child: fork() gives it a table sized to the descriptors in use, so the
 * growth is the factory's.
 */
static void test_factory_makes_descriptor_room(void)
{
    struct rlimit rl;

    if (fd_table_size() < 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        CU_PASS("no /proc/self/status FDSize here");
        return;
    }
    long want = rl.rlim_cur < 16384 ? (long)rl.rlim_cur : 16384;
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        long before = fd_table_size();
        int fds = open_descriptors();
        rtpproc_recorder_factory *f = rtpproc_recorder_factory_new(tmpdir, false);
        long after = fd_table_size();
        int code = f == NULL ? 1 : before >= want ? 2 : after < want ? 3 : 0;
        if (code == 0 && open_descriptors() != fds)
            code = 4;
        rtpproc_recorder_factory_free(f);
        _exit(code);
    }
    int st = 0;
    CU_ASSERT_EQUAL_FATAL(waitpid(pid, &st, 0), pid);
    CU_ASSERT(WIFEXITED(st));
    CU_ASSERT_EQUAL(WEXITSTATUS(st), 0); /* 2: table already large, 3: not grown, 4: leak */
}

static void test_factory_missing_directory_is_eio(void)
{
    char dir[128];
    char err[512] = "";
    int status = RTPPROC_OK;
    const uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
    rtpproc_flow flow = make_flow4(a, 5004, b, 5006);

    rtpproc_recorder_factory *f =
        rtpproc_recorder_factory_new(tmp_path(dir, sizeof(dir), "absent"), false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NULL(factory_open_close(f, &flow, 1, &status, err, sizeof(err)));
    CU_ASSERT_EQUAL(status, RTPPROC_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, dir));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "0x00000001.wav"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, strerror(ENOENT)));
    rtpproc_recorder_factory_free(f);
    rtpproc_recorder_factory_free(NULL);
}

/*
 * A PCM file given G.711 bytes stores their expansion (spandsp's values),
 * mixed in any order with PCM, silence and bytes of the other law, in
 * writes that cross buffers, with more runs of A-law silence in one buffer
 * than its head notes (RP_LAW_GAPS), mono and stereo, with and without the
 * writer thread. The file is compared sample by sample with a model.
 */
enum { LX_WRITES = 2500, LX_MAX = 700 };

static void law_expansion_case(unsigned channels, bool writer)
{
    char dir[128], err[256];
    int status;
    const uint8_t a[4] = {10, 7, 0, 1}, b[4] = {10, 7, 0, 2};
    rtpproc_flow flow = make_flow4(a, 4000, b, 5000);
    rtpproc_sink_info info = {&flow, 0x4242 + channels, 8, "PCMA", 0};
    rtpproc_sink_format fmt = {8000, channels, RTPPROC_NATIVE_NONE};
    size_t cap = (size_t)LX_WRITES * LX_MAX * channels;
    int16_t *want = malloc(cap * sizeof(int16_t));
    int16_t *pcm = malloc((size_t)LX_MAX * channels * sizeof(int16_t));
    uint8_t *law = malloc((size_t)LX_MAX * channels);
    size_t nwant = 0;
    unsigned kinds[4] = {0, 0, 0, 0};

    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pcm);
    CU_ASSERT_PTR_NOT_NULL_FATAL(law);
    snprintf(dir, sizeof(dir), "%s/lawx-%u-%d", tmpdir, channels, writer);
    mkdir(dir, 0700);
    rtpproc_recorder_factory *f = rtpproc_recorder_factory_new(dir, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    if (writer)
        CU_ASSERT_EQUAL_FATAL(rtpproc_recorder_factory_start_writer(f), RTPPROC_OK);
    rtpproc_sink *s = rtpproc_recorder_open(f, &info, &fmt, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char *path = strdup(s->path);
    uint32_t rnd = 777 + channels;
    for (unsigned w = 0; w < LX_WRITES; w++) {
        rnd = rnd * 1103515245u + 12345u;
        unsigned kind = (rnd >> 24) % 8; /* mostly bytes, as from a G.711 stream */
        /* Short runs of silence between bytes, now and then a long one or a
         * large write across buffers; every fourth stretch of 300 writes
         * alternates A-law and silence, far more gaps than a head notes. */
        size_t n = kind == 0 ? 1 + (rnd >> 8) % 5 : 1 + (rnd >> 8) % 200;
        if ((w / 300) % 4 == 3) {
            kind = w % 2 == 0 ? 0 : 3;
            n = 1 + (rnd >> 8) % (kind == 0 ? 3 : 30);
        }
        if ((rnd >> 4) % 53 == 0)
            n = LX_MAX;
        size_t k = n * channels;
        int rc;
        if (kind == 0 || kind == 1) {
            rc = s->ops->write_silence(s, n);
            memset(want + nwant, 0, k * sizeof(int16_t));
            kinds[0]++;
        } else if (kind == 2) {
            for (size_t i = 0; i < k; i++)
                pcm[i] = (int16_t)((nwant + i) * 37 + 5);
            rc = s->ops->write_pcm(s, pcm, n);
            memcpy(want + nwant, pcm, k * sizeof(int16_t));
            kinds[1]++;
        } else {
            /* A-law in long stretches, u-law in others: both switches. */
            bool alaw = (w / 300) % 2 == 0 || kind == 3;
            for (size_t i = 0; i < k; i++) {
                law[i] = (uint8_t)((nwant + i) * 31 + 7);
                want[nwant + i] = alaw ? alaw_to_linear(law[i]) : ulaw_to_linear(law[i]);
            }
            rc = s->ops->write_native(s, alaw ? RTPPROC_NATIVE_ALAW : RTPPROC_NATIVE_ULAW, law, n);
            kinds[alaw ? 2 : 3]++;
        }
        CU_ASSERT_EQUAL(rc, RTPPROC_OK);
        nwant += k;
        if (w == LX_WRITES / 2)
            CU_ASSERT_EQUAL(s->ops->flush(s), RTPPROC_OK);
    }
    CU_ASSERT_EQUAL(s->frames, nwant / channels);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    rtpproc_recorder_factory_free(f);
    for (unsigned i = 0; i < 4; i++)
        CU_ASSERT(kinds[i] > 100);

    SF_INFO sfi;
    SNDFILE *sf = read_open(path, &sfi);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(sfi.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    CU_ASSERT_EQUAL(sfi.channels, (int)channels);
    CU_ASSERT_EQUAL(sfi.frames, (sf_count_t)(nwant / channels));
    int16_t *got = malloc((nwant + channels) * sizeof(int16_t));
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(sf_readf_short(sf, got, (sf_count_t)(nwant / channels) + 1),
                    (sf_count_t)(nwant / channels));
    size_t first_bad = nwant;
    for (size_t i = 0; i < nwant && first_bad == nwant; i++) {
        if (got[i] != want[i])
            first_bad = i;
    }
    CU_ASSERT_EQUAL(first_bad, nwant);
    sf_close(sf);
    free(got);
    free(path);
    free(want);
    free(pcm);
    free(law);
}

static void test_pcm_file_expands_law_bytes(void)
{
    law_expansion_case(1, false);
    law_expansion_case(1, true);
    law_expansion_case(2, false);
    law_expansion_case(2, true);
}

/*
 * After the staggered first write, a recording's writes end on pages of
 * the file (write_buffer carries the frames past the last boundary into
 * the next buffer), for PCM files given G.711 bytes (with A-law silence
 * runs), PCM frames or both in stereo, and for A-law files; with and
 * without the writer thread. The frames must come out as written.
 */
enum { PG_PACKETS = 400, PG_FRAMES = 160 };

static void pages_case(unsigned channels, enum rtpproc_native file, bool bytes, bool writer,
                       unsigned case_no)
{
    char dir[128], err[256];
    int status;
    const uint8_t a[4] = {10, 6, 0, 1}, b[4] = {10, 6, 0, 2};
    rtpproc_flow flow = make_flow4(a, (uint16_t)(4000 + case_no), b, 5000);
    rtpproc_sink_info info = {&flow, 0x9000 + case_no, 8, "PCMA", 0};
    rtpproc_sink_format fmt = {8000, channels, file};
    size_t total = (size_t)PG_PACKETS * PG_FRAMES * channels;
    int16_t *want = malloc(total * sizeof(int16_t));
    uint8_t *law = malloc((size_t)PG_FRAMES * channels);
    int16_t *pcm = malloc((size_t)PG_FRAMES * channels * sizeof(int16_t));

    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(law);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pcm);
    snprintf(dir, sizeof(dir), "%s/pages-%u", tmpdir, case_no);
    mkdir(dir, 0700);
    rtpproc_recorder_factory *f = rtpproc_recorder_factory_new(dir, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    if (writer)
        CU_ASSERT_EQUAL_FATAL(rtpproc_recorder_factory_start_writer(f), RTPPROC_OK);
    /* Recordings opened before this one set where its first write falls. */
    for (unsigned i = 0; i < case_no; i++) {
        char *p = factory_open_close(f, &flow, 0x100 + i, &status, err, sizeof(err));
        CU_ASSERT_PTR_NOT_NULL(p);
        free(p);
    }
    rtpproc_sink *s = rtpproc_recorder_open(f, &info, &fmt, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char *path = strdup(s->path);
    size_t at = 0;
    for (unsigned k = 0; k < PG_PACKETS; k++) {
        size_t n = (size_t)PG_FRAMES * channels;
        int rc;
        if (k % 37 == 36) {
            rc = s->ops->write_silence(s, PG_FRAMES);
            for (size_t i = 0; i < n; i++)
                want[at + i] = file == RTPPROC_NATIVE_NONE ? 0 : alaw_to_linear(linear_to_alaw(0));
        } else if (bytes) {
            for (size_t i = 0; i < n; i++) {
                law[i] = (uint8_t)((at + i) * 13 + 3);
                want[at + i] = alaw_to_linear(law[i]);
            }
            rc = s->ops->write_native(s, RTPPROC_NATIVE_ALAW, law, PG_FRAMES);
        } else {
            for (size_t i = 0; i < n; i++) {
                pcm[i] = (int16_t)((at + i) * 41 + 9);
                want[at + i] =
                    file == RTPPROC_NATIVE_NONE ? pcm[i] : alaw_to_linear(linear_to_alaw(pcm[i]));
            }
            rc = s->ops->write_pcm(s, pcm, PG_FRAMES);
        }
        CU_ASSERT_EQUAL(rc, RTPPROC_OK);
        at += n;
    }
    /* 64 000 frames: about 15 writes; only the first may end inside a page. */
    unsigned rg = rp_recorder_ragged_writes(s);
    CU_ASSERT(rg <= 1);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    rtpproc_recorder_factory_free(f);

    SF_INFO sfi;
    SNDFILE *sf = read_open(path, &sfi);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(sfi.frames, (sf_count_t)(total / channels));
    int16_t *got = malloc((total + channels) * sizeof(int16_t));
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(sf_readf_short(sf, got, (sf_count_t)(total / channels) + 1),
                    (sf_count_t)(total / channels));
    size_t bad = 0;
    for (size_t i = 0; i < total; i++)
        bad += got[i] != want[i];
    CU_ASSERT_EQUAL(bad, 0);
    sf_close(sf);
    free(got);
    free(path);
    free(want);
    free(law);
    free(pcm);
}

static void test_writes_fall_on_pages(void)
{
    unsigned n = 0;
    for (int writer = 0; writer < 2; writer++) {
        pages_case(1, RTPPROC_NATIVE_NONE, true, writer, n++);
        pages_case(1, RTPPROC_NATIVE_NONE, false, writer, n++);
        pages_case(2, RTPPROC_NATIVE_NONE, true, writer, n++);
        pages_case(2, RTPPROC_NATIVE_NONE, false, writer, n++);
        pages_case(1, RTPPROC_NATIVE_ALAW, true, writer, n++);
        pages_case(1, RTPPROC_NATIVE_ALAW, false, writer, n++);
    }
}

/* ---- factory with a writer thread ---- */

enum { W_STREAMS = 40, W_ROUNDS = 300 };

/*
 * Writes the same interleaved traffic -- 40 recordings, PCM and A-law,
 * packets of 1 to 400 frames, silence runs, a flush halfway -- through a
 * factory; with `writer` the factory has a writer thread. Sample values
 * follow (stream, frame index) so that any reordered, lost or repeated
 * buffer shows. The paths go to names[] (caller frees).
 */
static void write_traffic(const char *dir, bool writer, char *names[W_STREAMS],
                          uint64_t frames[W_STREAMS], unsigned *flush_header_ok)
{
    char err[256];
    int status;
    rtpproc_sink *s[W_STREAMS];
    int16_t pcm[400];
    uint8_t law[400];
    const uint8_t a[4] = {10, 9, 0, 1}, b[4] = {10, 9, 0, 2};

    mkdir(dir, 0700);
    rtpproc_recorder_factory *f = rtpproc_recorder_factory_new(dir, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    if (writer)
        CU_ASSERT_EQUAL_FATAL(rtpproc_recorder_factory_start_writer(f), RTPPROC_OK);
    for (unsigned i = 0; i < W_STREAMS; i++) {
        rtpproc_flow flow = make_flow4(a, (uint16_t)(4000 + i), b, 5000);
        rtpproc_sink_info info = {&flow, 0x1000 + i, 8, "PCMA", 0};
        rtpproc_sink_format fmt = {8000, 1, i % 4 == 3 ? RTPPROC_NATIVE_ALAW : RTPPROC_NATIVE_NONE};
        s[i] = rtpproc_recorder_open(f, &info, &fmt, &status, err, sizeof(err));
        CU_ASSERT_PTR_NOT_NULL_FATAL(s[i]);
        names[i] = strdup(s[i]->path);
        frames[i] = 0;
    }
    uint32_t rnd = 12345;
    for (unsigned round = 0; round < W_ROUNDS; round++) {
        for (unsigned i = 0; i < W_STREAMS; i++) {
            rnd = rnd * 1103515245u + 12345u;
            size_t n = 1 + (rnd >> 16) % 400;
            int rc;
            if ((rnd >> 8) % 29 == 0) {
                rc = s[i]->ops->write_silence(s[i], n);
            } else if ((rnd >> 4) % 2 == 0) {
                /* A-law files take A-law; PCM files either law (expanded). */
                enum rtpproc_native l =
                    s[i]->fmt.encoding == RTPPROC_NATIVE_ALAW || (rnd >> 5) % 2 == 0
                        ? RTPPROC_NATIVE_ALAW
                        : RTPPROC_NATIVE_ULAW;
                for (size_t k = 0; k < n; k++)
                    law[k] = (uint8_t)((frames[i] + k) * 31 + i);
                rc = s[i]->ops->write_native(s[i], l, law, n);
            } else {
                for (size_t k = 0; k < n; k++)
                    pcm[k] = (int16_t)((frames[i] + k) * 37 + i * 1000);
                rc = s[i]->ops->write_pcm(s[i], pcm, n);
            }
            CU_ASSERT_EQUAL(rc, RTPPROC_OK);
            frames[i] += n;
        }
        if (round == W_ROUNDS / 2) {
            /* After a flush the header is right although writes were queued. */
            for (unsigned i = 0; i < W_STREAMS; i++) {
                uint32_t riff, data;
                long size;
                unsigned width = s[i]->fmt.encoding == RTPPROC_NATIVE_NONE ? 2 : 1;
                CU_ASSERT_EQUAL(s[i]->ops->flush(s[i]), RTPPROC_OK);
                *flush_header_ok += wav_header_sizes(names[i], &riff, &data, &size) &&
                                    data == frames[i] * width && riff == (uint32_t)size - 8;
            }
        }
    }
    /* As the engine's finish does: every close begun, then each closed. */
    for (unsigned i = 0; i < W_STREAMS; i++) {
        CU_ASSERT_PTR_NOT_NULL(s[i]->ops->close_begin);
        CU_ASSERT_EQUAL(s[i]->ops->close_begin(s[i]), RTPPROC_OK);
    }
    for (unsigned i = 0; i < W_STREAMS; i++)
        CU_ASSERT_EQUAL(s[i]->ops->close(s[i]), RTPPROC_OK);
    rtpproc_recorder_factory_free(f);
}

/* A factory with a writer thread writes the same bytes as one without. */
static void test_factory_writer_thread_same_files(void)
{
    char dir_sync[128], dir_thread[128];
    char *sync_names[W_STREAMS], *thread_names[W_STREAMS];
    uint64_t sync_frames[W_STREAMS], thread_frames[W_STREAMS];
    unsigned sync_flush_ok = 0, thread_flush_ok = 0, same = 0, right_length = 0;

    write_traffic(tmp_path(dir_sync, sizeof(dir_sync), "w-sync"), false, sync_names, sync_frames,
                  &sync_flush_ok);
    write_traffic(tmp_path(dir_thread, sizeof(dir_thread), "w-thread"), true, thread_names,
                  thread_frames, &thread_flush_ok);
    for (unsigned i = 0; i < W_STREAMS; i++) {
        gchar *fa = NULL, *fb = NULL;
        gsize la = 0, lb = 1;
        g_file_get_contents(sync_names[i], &fa, &la, NULL);
        g_file_get_contents(thread_names[i], &fb, &lb, NULL);
        unsigned width = i % 4 == 3 ? 1 : 2;
        uint32_t riff, data;
        long size;
        same += fa != NULL && fb != NULL && la == lb && memcmp(fa, fb, la) == 0;
        right_length += wav_header_sizes(thread_names[i], &riff, &data, &size) &&
                        data == thread_frames[i] * width && riff == (uint32_t)size - 8 &&
                        thread_frames[i] == sync_frames[i];
        g_free(fa);
        g_free(fb);
        free(sync_names[i]);
        free(thread_names[i]);
    }
    CU_ASSERT_EQUAL(same, W_STREAMS);
    CU_ASSERT_EQUAL(right_length, W_STREAMS);
    CU_ASSERT_EQUAL(sync_flush_ok, W_STREAMS);
    CU_ASSERT_EQUAL(thread_flush_ok, W_STREAMS);
}

/*
 * A write that fails on the writer thread (file size limit) is reported by
 * a later write, by flush and by close; nothing crashes, the sink is freed.
 */
static void test_factory_writer_thread_write_error(void)
{
    char dir[128];
    char err[256];
    int status;
    file_limit fl;
    enum { FRAMES = 3 * RTPPROC_RECORDER_BUFFER_FRAMES };
    const uint8_t a[4] = {10, 8, 0, 1}, b[4] = {10, 8, 0, 2};
    rtpproc_flow flow = make_flow4(a, 4000, b, 5000);
    rtpproc_sink_info info = {&flow, 0x77, 0, "PCMU", 0};

    int16_t *pcm = calloc(FRAMES, sizeof(int16_t));
    CU_ASSERT_PTR_NOT_NULL_FATAL(pcm);
    mkdir(tmp_path(dir, sizeof(dir), "w-full"), 0700);
    rtpproc_recorder_factory *f = rtpproc_recorder_factory_new(dir, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL_FATAL(rtpproc_recorder_factory_start_writer(f), RTPPROC_OK);
    rtpproc_sink *s = rtpproc_recorder_open(f, &info, &PCM_8K_MONO, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);

    file_limit_begin(&fl, 12000); /* the header and one buffer fit, two do not */
    /*
     * More than the writer's wake-up share of buffers, so that it runs
     * without a flush; then small writes until the failure, which happened
     * on the other thread, comes back (at most 5 s).
     */
    int rc_write = RTPPROC_OK;
    for (unsigned i = 0; i < 16 && rc_write == RTPPROC_OK; i++)
        rc_write = s->ops->write_pcm(s, pcm, FRAMES);
    for (unsigned i = 0; i < 5000 && rc_write == RTPPROC_OK; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        rc_write = s->ops->write_pcm(s, pcm, 1);
    }
    int rc_flush = s->ops->flush(s);
    s->ops->close_begin(s);
    int rc_close = s->ops->close(s);
    file_limit_end(&fl);
    free(pcm);
    rtpproc_recorder_factory_free(f);

    CU_ASSERT_EQUAL(rc_write, RTPPROC_EIO);
    CU_ASSERT_EQUAL(rc_flush, RTPPROC_EIO);
    CU_ASSERT_EQUAL(rc_close, RTPPROC_EIO);
}

/*
 * A created file that libsndfile cannot set up (its header write fails:
 * RLIMIT_FSIZE below 44 bytes) is removed again. Without a writer thread
 * the open fails; with one the file is set up on the writer thread, so
 * the open succeeds, the failure comes back from flush and close, and the
 * file is gone.
 */
static void check_setup_failure(bool writer)
{
    char dir[128], path[256], err[256];
    int status = RTPPROC_OK;
    file_limit fl;
    const uint8_t a[4] = {10, 8, 0, 3}, b[4] = {10, 8, 0, 4};
    rtpproc_flow flow = make_flow4(a, 4000, b, 5000);
    rtpproc_sink_info info = {&flow, 0x78, 0, "PCMU", 0};
    const int16_t pcm[160] = {0};

    mkdir(tmp_path(dir, sizeof(dir), writer ? "setup-w" : "setup-s"), 0700);
    snprintf(path, sizeof(path), "%s/10.8.0.3_4000-10.8.0.4_5000-0x00000078.wav", dir);
    rtpproc_recorder_factory *f = rtpproc_recorder_factory_new(dir, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    if (writer)
        CU_ASSERT_EQUAL_FATAL(rtpproc_recorder_factory_start_writer(f), RTPPROC_OK);
    file_limit_begin(&fl, 10);
    err[0] = '\0';
    rtpproc_sink *s = rtpproc_recorder_open(f, &info, &PCM_8K_MONO, &status, err, sizeof(err));
    int rc_write = RTPPROC_OK, rc_flush = RTPPROC_OK, rc_close = RTPPROC_OK;
    if (s != NULL) {
        rc_write = s->ops->write_pcm(s, pcm, 160);
        rc_flush = s->ops->flush(s);
        rc_close = s->ops->close(s);
    }
    file_limit_end(&fl);
    rtpproc_recorder_factory_free(f);

    if (writer) {
        CU_ASSERT_PTR_NOT_NULL(s);
        CU_ASSERT_EQUAL(rc_write, RTPPROC_OK); /* buffered: nothing known yet */
        CU_ASSERT_EQUAL(rc_flush, RTPPROC_EIO);
        CU_ASSERT_EQUAL(rc_close, RTPPROC_EIO);
    } else {
        CU_ASSERT_PTR_NULL(s);
        CU_ASSERT_EQUAL(status, RTPPROC_EIO);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot create"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    }
    CU_ASSERT_FALSE(file_exists(path));
}

static void test_setup_failure_removes_the_file(void)
{
    check_setup_failure(false);
}

static void test_factory_writer_thread_setup_failure(void)
{
    check_setup_failure(true);
}

/* With a writer thread the open call itself creates the file, so that an
 * existing one is refused there and then (the engine stops at that
 * stream, as without the thread). */
static void test_factory_writer_thread_creates_at_open(void)
{
    char dir[128], path[256], err[256];
    int status = RTPPROC_OK;
    const uint8_t a[4] = {10, 8, 0, 5}, b[4] = {10, 8, 0, 6};
    rtpproc_flow flow = make_flow4(a, 4000, b, 5000);
    rtpproc_sink_info info = {&flow, 0x79, 0, "PCMU", 0};

    mkdir(tmp_path(dir, sizeof(dir), "create-w"), 0700);
    snprintf(path, sizeof(path), "%s/10.8.0.5_4000-10.8.0.6_5000-0x00000079.wav", dir);
    rtpproc_recorder_factory *f = rtpproc_recorder_factory_new(dir, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL_FATAL(rtpproc_recorder_factory_start_writer(f), RTPPROC_OK);
    rtpproc_sink *s = rtpproc_recorder_open(f, &info, &PCM_8K_MONO, &status, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_TRUE(file_exists(path));
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
    rtpproc_recorder_factory_free(f);

    /* A second factory finds it: refused at open, file untouched. */
    f = rtpproc_recorder_factory_new(dir, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL_FATAL(rtpproc_recorder_factory_start_writer(f), RTPPROC_OK);
    s = rtpproc_recorder_open(f, &info, &PCM_8K_MONO, &status, err, sizeof(err));
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(status, RTPPROC_EEXIST);
    rtpproc_recorder_factory_free(f);
    SF_INFO si;
    memset(&si, 0, sizeof(si));
    SNDFILE *sf = sf_open(path, SFM_READ, &si);
    CU_ASSERT_PTR_NOT_NULL(sf);
    if (sf != NULL) {
        CU_ASSERT_EQUAL(si.frames, 0);
        sf_close(sf);
    }
}

/* ---- memory sink ---- */

static void test_memsink_pcm_keeps_frames_and_silence(void)
{
    const rtpproc_sink_format fmt = {8000, 2, RTPPROC_NATIVE_NONE};
    const int16_t pcm[6] = {1, -1, 2, -2, 3, -3};
    const uint8_t bytes[2] = {0xd5, 0xd5};
    size_t n = 99;

    rtpproc_sink *s = rtpproc_memsink_new(&fmt);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NULL(s->path);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, pcm, 3), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 2), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, pcm, 1), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_native(s, RTPPROC_NATIVE_NONE, bytes, 1), RTPPROC_EINVAL);
    /* G.711 bytes are expanded: A-law 0xD5 is +8, u-law 0x7F is 0, 0x00 -32124. */
    CU_ASSERT_EQUAL(s->ops->write_native(s, RTPPROC_NATIVE_ALAW, bytes, 1), RTPPROC_OK);
    const uint8_t ubytes[2] = {0x7f, 0x00};
    CU_ASSERT_EQUAL(s->ops->write_native(s, RTPPROC_NATIVE_ULAW, ubytes, 1), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->flush(s), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->frames, 8);
    const int16_t *got = rtpproc_memsink_pcm(s, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(n, 16);
    const int16_t want[16] = {1, -1, 2, -2, 3, -3, 0, 0, 0, 0, 1, -1, 8, 8, 0, -32124};
    CU_ASSERT_EQUAL(memcmp(got, want, sizeof(want)), 0);
    CU_ASSERT_PTR_NULL(rtpproc_memsink_native(s, &n));
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(s->ops->close(s), RTPPROC_OK);
}

static void test_memsink_grows_past_initial_capacity(void)
{
    rtpproc_sink *s = rtpproc_memsink_new(&PCM_8K_MONO);
    size_t n;
    int16_t block[1000];

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 1000; i++)
            block[i] = (int16_t)(round * 1000 + i);
        CU_ASSERT_EQUAL_FATAL(s->ops->write_pcm(s, block, 1000), RTPPROC_OK);
    }
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 100000), RTPPROC_OK);
    const int16_t *got = rtpproc_memsink_pcm(s, &n);
    CU_ASSERT_EQUAL_FATAL(n, 150000);
    unsigned bad = 0;
    for (int i = 0; i < 50000; i++)
        bad += got[i] != (int16_t)i;
    for (int i = 50000; i < 150000; i++)
        bad += got[i] != 0;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(s->frames, 150000);
    s->ops->close(s);
}

static void check_memsink_native(enum rtpproc_native enc, int subformat, uint8_t silence)
{
    const rtpproc_sink_format fmt = {8000, 1, enc};
    short levels[256];
    uint8_t bytes[256];
    size_t n;

    CU_ASSERT_TRUE_FATAL(sndfile_levels(subformat, levels));
    for (unsigned i = 0; i < 256; i++)
        bytes[i] = (uint8_t)(255 - i);
    rtpproc_sink *s = rtpproc_memsink_new(&fmt);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    enum rtpproc_native other =
        enc == RTPPROC_NATIVE_ALAW ? RTPPROC_NATIVE_ULAW : RTPPROC_NATIVE_ALAW;
    CU_ASSERT_EQUAL(s->ops->write_native(s, other, bytes, 256), RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(s->ops->write_native(s, enc, bytes, 256), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_silence(s, 3), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->ops->write_pcm(s, levels, 256), RTPPROC_OK);
    CU_ASSERT_EQUAL(s->frames, 515);
    const uint8_t *got = rtpproc_memsink_native(s, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL_FATAL(n, 515);
    CU_ASSERT_EQUAL(memcmp(got, bytes, 256), 0);
    CU_ASSERT_EQUAL(got[256], silence);
    CU_ASSERT_EQUAL(got[258], silence);
    unsigned mismatches = 0;
    for (unsigned i = 0; i < 256; i++) {
        uint8_t want = (enc == RTPPROC_NATIVE_ULAW && i == 0x7F) ? 0xFF : (uint8_t)i;
        mismatches += got[259 + i] != want;
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_PTR_NULL(rtpproc_memsink_pcm(s, &n));
    s->ops->close(s);
}

static void test_memsink_native_alaw(void)
{
    check_memsink_native(RTPPROC_NATIVE_ALAW, SF_FORMAT_ALAW, 0xD5);
}

static void test_memsink_native_ulaw(void)
{
    check_memsink_native(RTPPROC_NATIVE_ULAW, SF_FORMAT_ULAW, 0xFF);
}

static void test_memsink_rejects_bad_format(void)
{
    const rtpproc_sink_format zero_ch = {8000, 0, RTPPROC_NATIVE_NONE};
    CU_ASSERT_PTR_NULL(rtpproc_memsink_new(&zero_ch));
    CU_ASSERT_PTR_NULL(rtpproc_memsink_new(NULL));
}

CU_pSuite rtpproc_test_recorder_suite(void)
{
    CU_pSuite s = CU_add_suite("recorder", suite_init, suite_clean);
    static const test_case tests[] = {
        {"pcm_file_round_trip_with_silence", test_pcm_file_round_trip_with_silence},
        {"stereo_file_spanning_several_buffers", test_stereo_file_spanning_several_buffers},
        {"native_alaw_file_bytes_exact", test_native_alaw_file_bytes_exact},
        {"native_files_encode_every_pcm_value", test_native_files_encode_every_pcm_value},
        {"native_ulaw_file_bytes_exact", test_native_ulaw_file_bytes_exact},
        {"write_native_of_another_law_is_rejected", test_write_native_of_another_law_is_rejected},
        {"pcm_file_expands_law_bytes", test_pcm_file_expands_law_bytes},
        {"writes_fall_on_pages", test_writes_fall_on_pages},
        {"existing_file_needs_force", test_existing_file_needs_force},
        {"flush_makes_header_valid_while_recording", test_flush_makes_header_valid_while_recording},
        {"missing_directory_is_eio_naming_the_path", test_missing_directory_is_eio_naming_the_path},
        {"invalid_format_is_rejected_before_creating",
         test_invalid_format_is_rejected_before_creating},
        {"write_error_is_eio", test_write_error_is_eio},
        {"factory_names_and_suffixes_repeated_keys", test_factory_names_and_suffixes_repeated_keys},
        {"factory_ipv6_name_replaces_colons", test_factory_ipv6_name_replaces_colons},
        {"factory_existing_file_and_force", test_factory_existing_file_and_force},
        {"factory_missing_directory_is_eio", test_factory_missing_directory_is_eio},
        {"factory_makes_descriptor_room", test_factory_makes_descriptor_room},
        {"factory_writer_thread_same_files", test_factory_writer_thread_same_files},
        {"factory_writer_thread_write_error", test_factory_writer_thread_write_error},
        {"setup_failure_removes_the_file", test_setup_failure_removes_the_file},
        {"factory_writer_thread_setup_failure", test_factory_writer_thread_setup_failure},
        {"factory_writer_thread_creates_at_open", test_factory_writer_thread_creates_at_open},
        {"memsink_pcm_keeps_frames_and_silence", test_memsink_pcm_keeps_frames_and_silence},
        {"memsink_grows_past_initial_capacity", test_memsink_grows_past_initial_capacity},
        {"memsink_native_alaw", test_memsink_native_alaw},
        {"memsink_native_ulaw", test_memsink_native_ulaw},
        {"memsink_rejects_bad_format", test_memsink_rejects_bad_format},
    };
    return test_add_all(s, tests, TEST_COUNT(tests));
}
