/*
 * floor - the read half of the benchmark's floor: the least any libpcap
 * program must do to see every packet of a capture. It opens the file with
 * pcap_open_offline, walks it with pcap_next_ex and loads every cache line
 * of every packet (a sum of one byte per 64), so the packet bytes really
 * pass through the CPU as they do for a tool that parses them.
 *
 * Prints "packets=N bytes=B sum=S"; exit status 1 on a read error.
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fputs("usage: floor CAPTURE\n", stderr);
        return 1;
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
        n++;
        bytes += h->caplen;
    }
    if (rc != PCAP_ERROR_BREAK) {
        fprintf(stderr, "floor: %s\n", pcap_geterr(p));
        pcap_close(p);
        return 1;
    }
    pcap_close(p);
    printf("packets=%" PRIu64 " bytes=%" PRIu64 " sum=%" PRIu64 "\n", n, bytes, sum);
    return 0;
}
