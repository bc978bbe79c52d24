/*
 * firsttouch - how fast this machine gives a process memory it has never
 * touched: maps MIB MiB of anonymous memory (2 MiB-aligned, with
 * MADV_HUGEPAGE, as rtpproc's per-stream pool does), writes one byte per
 * 4 KiB page and reports the rate.
 *
 * Not part of any target. rtpproc at 10 000 streams first touches about
 * 200 MiB (buffers, stream state, libsndfile's per-file state) where the
 * floor touches a few MiB, and on a VM whose free memory is handed back to
 * the host (virtio-balloon free page reporting) that first touch varied
 * twentyfold here: 0.35 GB/s for memory the host had taken back, 7-8
 * GB/s for memory freed moments before. bench/run prints the rate before
 * each capture so that a slow run can be told from a slow machine.
 *
 * Prints "mib=M seconds=S gbps=R"; exit status 1 on any error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define HUGE_2M ((size_t)2 << 20)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    char *end;
    unsigned long mib = argc == 2 ? strtoul(argv[1], &end, 10) : 0;

    if (argc != 2 || *end != '\0' || mib == 0 || mib > 65536) {
        fputs("usage: firsttouch MIB (1 to 65536)\n", stderr);
        return 1;
    }
    size_t size = (size_t)mib << 20;
    uint8_t *p =
        mmap(NULL, size + HUGE_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("firsttouch: mmap");
        return 1;
    }
    uint8_t *a = (uint8_t *)(((uintptr_t)p + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
    (void)madvise(a, size, MADV_HUGEPAGE); /* advice, as in core/hugepool.c */
    double t0 = now();
    for (size_t off = 0; off < size; off += 4096)
        *(volatile uint8_t *)(a + off) = 1;
    double s = now() - t0;
    printf("mib=%lu seconds=%.3f gbps=%.2f\n", mib, s, s > 0 ? (double)size / s / 1e9 : 0.0);
    return 0;
}
