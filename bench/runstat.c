/*
 * runstat - runs a command and reports what it cost, so that the benchmark
 * needs no GNU time: wall time (CLOCK_MONOTONIC around fork and wait4),
 * user and system CPU time and peak resident set size from wait4's rusage
 * of that child (ru_maxrss, KiB; the largest of the process and the
 * descendants it waited for).
 *
 * usage: runstat -o FILE [--] COMMAND [ARG...]
 * Appends one line to FILE:
 *   wall=S user=S sys=S maxrss_kib=N status=N
 * (status is the exit status, or 128 + the signal number). runstat exits
 * with the command's status; 127 when it cannot be started.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-o") == 0) {
        out = argv[i + 1];
        i += 2;
    }
    if (i < argc && strcmp(argv[i], "--") == 0) {
        i++;
    }
    if (out == NULL || i >= argc) {
        fputs("usage: runstat -o FILE [--] COMMAND [ARG...]\n", stderr);
        return 127;
    }
    FILE *f = fopen(out, "a");
    if (f == NULL) {
        fprintf(stderr, "runstat: %s: %s\n", out, strerror(errno));
        return 127;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "runstat: fork: %s\n", strerror(errno));
        return 127;
    }
    if (pid == 0) {
        fclose(f);
        execvp(argv[i], argv + i);
        fprintf(stderr, "runstat: %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    int st;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "runstat: wait4: %s\n", strerror(errno));
            return 127;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(f, "wall=%.4f user=%.4f sys=%.4f maxrss_kib=%ld status=%d\n", wall,
            seconds(ru.ru_utime), seconds(ru.ru_stime), ru.ru_maxrss, status);
    if (ferror(f) || fclose(f) != 0) {
        fprintf(stderr, "runstat: %s: write error\n", out);
        return 127;
    }
    return status;
}
