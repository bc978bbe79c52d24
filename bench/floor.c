/*
 * floor - the read half of the benchmark's floor: the least any libpcap
 * program must do to see every packet of a capture. It opens the file with
 * pcap_open_offline, walks it with pcap_next_ex and loads every cache line
 * of every packet (a sum of one byte per 64), so the packet bytes really
 * pass through the CPU as they do for a tool that parses them.
 *
 * With --scatter N it also copies 320 bytes of each packet, widened to
 * 16-bit samples as a G.711 decoder would, into the next of N buffers of
 * 8 KiB (packet k to buffer k mod N, at that buffer's own position): the
 * memory traffic of keeping one PCM buffer per stream, without any RTP
 * work. Not part of the floor; bench/run does not use it (see
 * docs/performance.md).
 *
 * Prints "packets=N bytes=B sum=S"; exit status 1 on a read error.
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCATTER_BUF   8192
#define SCATTER_BYTES 320 /* 160 samples of 16 bits: 20 ms of G.711 decoded */

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    unsigned long nbuf = 0;
    if (argc == 4 && strcmp(argv[2], "--scatter") == 0) {
        nbuf = strtoul(argv[3], NULL, 10);
    }
    if ((argc != 2 && argc != 4) || (argc == 4 && (nbuf == 0 || nbuf > 1000000))) {
        fputs("usage: floor CAPTURE [--scatter BUFFERS]\n", stderr);
        return 1;
    }
    uint8_t *bufs = NULL;
    size_t *pos = NULL;
    if (nbuf > 0) {
        bufs = calloc(nbuf, SCATTER_BUF);
        pos = calloc(nbuf, sizeof(*pos));
        if (bufs == NULL || pos == NULL) {
            fputs("floor: out of memory\n", stderr);
            return 1;
        }
    }
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (p == NULL) {
        fprintf(stderr, "floor: %s\n", err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t n = 0, bytes = 0, sum = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
        for (bpf_u_int32 i = 0; i < h->caplen; i += 64) {
            sum += d[i];
        }
        if (h->caplen > 0) {
            sum += d[h->caplen - 1];
        }
        if (nbuf > 0 && h->caplen >= SCATTER_BYTES / 2) {
            /* the last 160 bytes: where a G.711 payload is */
            const u_char *src = d + h->caplen - SCATTER_BYTES / 2;
            size_t b = (size_t)(n % nbuf);
            int16_t *dst = (int16_t *)(void *)(bufs + b * SCATTER_BUF + pos[b]);
            for (unsigned i = 0; i < SCATTER_BYTES / 2; i++) {
                dst[i] = (int16_t)(src[i] << 8);
            }
            pos[b] = (pos[b] + SCATTER_BYTES) % (SCATTER_BUF - SCATTER_BUF % SCATTER_BYTES);
            sum += (uint64_t)dst[0];
        }
        n++;
        bytes += h->caplen;
    }
    if (rc != PCAP_ERROR_BREAK) {
        fprintf(stderr, "floor: %s\n", pcap_geterr(p));
        pcap_close(p);
        return 1;
    }
    pcap_close(p);
    free(bufs);
    free(pos);
    printf("packets=%" PRIu64 " bytes=%" PRIu64 " sum=%" PRIu64 "\n", n, bytes, sum);
    return 0;
}
