/*
 * sndinfo - small libsndfile helper for the integration tests.
 *
 *   sndinfo FILE                     frames=N rate=R channels=C format=0xXXXXXX
 *   sndinfo --cmp A B                exit 0 if A and B hold the same audio
 *   sndinfo --dump FILE [START [COUNT]]  one sample per line (16-bit view)
 *
 * Comparison is on the 16-bit view libsndfile gives through sf_readf_short(),
 * so a PCM16 WAV and e.g. an A-law WAV of the same audio compare by value;
 * the container format itself is not compared (use the plain form for that).
 * Exit status: 0 on success/identical, 1 on difference or error, 2 on usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

/* Frames read per block when comparing or dumping. */
#define BLOCK_FRAMES 4096

static void usage(void)
{
    fprintf(stderr, "usage: sndinfo FILE\n"
                    "       sndinfo --cmp A B\n"
                    "       sndinfo --dump FILE [START [COUNT]]\n");
}

static SNDFILE *open_read(const char *path, SF_INFO *info)
{
    memset(info, 0, sizeof(*info));
    SNDFILE *sf = sf_open(path, SFM_READ, info);
    if (!sf) {
        fprintf(stderr, "sndinfo: %s: %s\n", path, sf_strerror(NULL));
    }
    return sf;
}

static int parse_count(const char *s, sf_count_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0) {
        fprintf(stderr, "sndinfo: not a non-negative number: '%s'\n", s);
        return -1;
    }
    *out = (sf_count_t)v;
    return 0;
}

static int cmd_info(const char *path)
{
    SF_INFO info;
    SNDFILE *sf = open_read(path, &info);
    if (!sf) {
        return 1;
    }
    printf("frames=%" PRId64 " rate=%d channels=%d format=0x%06X\n", (int64_t)info.frames,
           info.samplerate, info.channels, (unsigned)info.format);
    sf_close(sf);
    return 0;
}

/*
 * Reads up to `want` frames; returns the number read. A short read before
 * the declared end is reported by the caller through the frame totals.
 */
static sf_count_t read_block(SNDFILE *sf, short *buf, sf_count_t want)
{
    sf_count_t got = sf_readf_short(sf, buf, want);
    return got < 0 ? 0 : got;
}

static int cmd_cmp(const char *a, const char *b)
{
    SF_INFO ia, ib;
    SNDFILE *sa = open_read(a, &ia);
    if (!sa) {
        return 1;
    }
    SNDFILE *sb = open_read(b, &ib);
    if (!sb) {
        sf_close(sa);
        return 1;
    }
    int differ = 0;
    if (ia.samplerate != ib.samplerate) {
        printf("rate differs: %d vs %d\n", ia.samplerate, ib.samplerate);
        differ = 1;
    }
    if (ia.channels != ib.channels) {
        printf("channels differ: %d vs %d\n", ia.channels, ib.channels);
        sf_close(sa);
        sf_close(sb);
        return 1; /* sample-by-sample comparison is meaningless */
    }
    if (ia.frames != ib.frames) {
        printf("frames differ: %" PRId64 " vs %" PRId64 "\n", (int64_t)ia.frames,
               (int64_t)ib.frames);
        differ = 1;
    }

    int ch = ia.channels;
    short *ba = malloc(sizeof(short) * (size_t)BLOCK_FRAMES * (size_t)ch);
    short *bb = malloc(sizeof(short) * (size_t)BLOCK_FRAMES * (size_t)ch);
    if (!ba || !bb) {
        fprintf(stderr, "sndinfo: out of memory\n");
        free(ba);
        free(bb);
        sf_close(sa);
        sf_close(sb);
        return 1;
    }

    sf_count_t frame = 0; /* index of the first frame in the current block */
    sf_count_t ndiff = 0; /* differing samples within the common length */
    sf_count_t first_diff = -1;
    int first_ch = 0;
    short first_a = 0, first_b = 0;
    sf_count_t ta = 0, tb = 0; /* frames actually read */
    for (;;) {
        sf_count_t na = read_block(sa, ba, BLOCK_FRAMES);
        sf_count_t nb = read_block(sb, bb, BLOCK_FRAMES);
        ta += na;
        tb += nb;
        sf_count_t n = na < nb ? na : nb;
        for (sf_count_t i = 0; i < n * ch; i++) {
            if (ba[i] != bb[i]) {
                if (first_diff < 0) {
                    first_diff = frame + i / ch;
                    first_ch = (int)(i % ch);
                    first_a = ba[i];
                    first_b = bb[i];
                }
                ndiff++;
            }
        }
        frame += n;
        if (na < BLOCK_FRAMES || nb < BLOCK_FRAMES) {
            /* Drain the longer file so the read totals are right. */
            while (na == BLOCK_FRAMES) {
                na = read_block(sa, ba, BLOCK_FRAMES);
                ta += na;
            }
            while (nb == BLOCK_FRAMES) {
                nb = read_block(sb, bb, BLOCK_FRAMES);
                tb += nb;
            }
            break;
        }
    }
    free(ba);
    free(bb);
    sf_close(sa);
    sf_close(sb);

    if (ta != tb && ia.frames == ib.frames) {
        printf("frames read differ: %" PRId64 " vs %" PRId64 "\n", (int64_t)ta, (int64_t)tb);
        differ = 1;
    }
    if (first_diff >= 0) {
        printf("first difference at frame %" PRId64 " channel %d: %d vs %d\n", (int64_t)first_diff,
               first_ch, first_a, first_b);
        differ = 1;
    }
    if (differ) {
        printf("%" PRId64 " of %" PRId64 " common samples differ (%s: %" PRId64
               " frames, %s: %" PRId64 " frames)\n",
               (int64_t)ndiff, (int64_t)(frame * ch), a, (int64_t)ta, b, (int64_t)tb);
        return 1;
    }
    return 0;
}

static int cmd_dump(const char *path, sf_count_t start, sf_count_t count, int have_count)
{
    SF_INFO info;
    SNDFILE *sf = open_read(path, &info);
    if (!sf) {
        return 1;
    }
    if (start > info.frames) {
        fprintf(stderr, "sndinfo: start %" PRId64 " beyond %" PRId64 " frames\n", (int64_t)start,
                (int64_t)info.frames);
        sf_close(sf);
        return 1;
    }
    if (start > 0 && sf_seek(sf, start, SEEK_SET) < 0) {
        fprintf(stderr, "sndinfo: %s: cannot seek: %s\n", path, sf_strerror(sf));
        sf_close(sf);
        return 1;
    }
    sf_count_t left = have_count ? count : info.frames - start;
    int ch = info.channels;
    short *buf = malloc(sizeof(short) * (size_t)BLOCK_FRAMES * (size_t)ch);
    if (!buf) {
        sf_close(sf);
        return 1;
    }
    while (left > 0) {
        sf_count_t want = left < BLOCK_FRAMES ? left : BLOCK_FRAMES;
        sf_count_t got = read_block(sf, buf, want);
        for (sf_count_t i = 0; i < got; i++) {
            for (int c = 0; c < ch; c++) {
                printf(c ? " %d" : "%d", buf[i * ch + c]);
            }
            putchar('\n');
        }
        left -= got;
        if (got < want) {
            break;
        }
    }
    free(buf);
    sf_close(sf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && argv[1][0] != '-') {
        return cmd_info(argv[1]);
    }
    if (argc == 4 && strcmp(argv[1], "--cmp") == 0) {
        return cmd_cmp(argv[2], argv[3]);
    }
    if (argc >= 3 && argc <= 5 && strcmp(argv[1], "--dump") == 0) {
        sf_count_t start = 0, count = 0;
        if (argc >= 4 && parse_count(argv[3], &start) != 0) {
            return 2;
        }
        if (argc == 5 && parse_count(argv[4], &count) != 0) {
            return 2;
        }
        return cmd_dump(argv[2], start, count, argc == 5);
    }
    usage();
    return 2;
}
