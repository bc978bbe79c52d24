/*
 * filewrite - writes BYTES bytes as FILES files in DIR, the way rtpproc's
 * recordings reach the disk: every file is created first (O_CREAT|O_EXCL),
 * then the bytes go out in 8 KiB write() calls taking the files in turn
 * (one recording's buffer after another's), then every file is closed.
 * No sound-file header, no RTP work.
 *
 * It is not part of the issue 7 floor (that is one dd of the same bytes):
 * bench/run reports it beside the floor, to show what writing one file per
 * stream costs by itself at 1000 or 10 000 streams (creating, filling and
 * closing that many files on the tmpfs).
 *
 * Prints "files=N bytes=B"; exit status 1 on any error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define CHUNK 8192

int main(int argc, char **argv)
{
    if (argc != 4) {
        fputs("usage: filewrite DIR FILES BYTES\n", stderr);
        return 1;
    }
    const char *dir = argv[1];
    char *end;
    unsigned long nfiles = strtoul(argv[2], &end, 10);
    if (*end != '\0' || nfiles == 0 || nfiles > 1000000) {
        fputs("filewrite: FILES must be 1 to 1000000\n", stderr);
        return 1;
    }
    uint64_t total = strtoull(argv[3], &end, 10);
    if (*end != '\0') {
        fputs("filewrite: BYTES must be a number\n", stderr);
        return 1;
    }
    /* As rtpproc does: as many descriptors as the hard limit allows. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int *fd = calloc(nfiles, sizeof(*fd));
    uint64_t *left = calloc(nfiles, sizeof(*left));
    static uint8_t buf[CHUNK];
    if (fd == NULL || left == NULL) {
        fputs("filewrite: out of memory\n", stderr);
        return 1;
    }
    memset(buf, 0x55, sizeof(buf));
    for (unsigned long i = 0; i < nfiles; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/f%lu.raw", dir, i);
        fd[i] = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd[i] < 0) {
            fprintf(stderr, "filewrite: %s: %s\n", path, strerror(errno));
            return 1;
        }
        left[i] = total / nfiles + (i < total % nfiles ? 1 : 0);
    }
    uint64_t written = 0;
    while (written < total) {
        for (unsigned long i = 0; i < nfiles; i++) {
            size_t n = left[i] < CHUNK ? (size_t)left[i] : CHUNK;
            if (n == 0)
                continue;
            if (write(fd[i], buf, n) != (ssize_t)n) {
                fprintf(stderr, "filewrite: write: %s\n", strerror(errno));
                return 1;
            }
            left[i] -= n;
            written += n;
        }
    }
    for (unsigned long i = 0; i < nfiles; i++) {
        if (close(fd[i]) != 0) {
            fprintf(stderr, "filewrite: close: %s\n", strerror(errno));
            return 1;
        }
    }
    free(fd);
    free(left);
    printf("files=%lu bytes=%" PRIu64 "\n", nfiles, written);
    return 0;
}
