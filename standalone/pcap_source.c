/*
 * rtpproc tool - capture inputs over libpcap (see pcap_source.h).
 */
#include <stdio_ext.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pcap_source.h"

void rp_input_init(rp_input *in, const char *path)
{
    memset(in, 0, sizeof(*in));
    in->path = path;
    in->is_stdin = strcmp(path, "-") == 0;
    in->name = in->is_stdin ? "<stdin>" : path;
    in->linktype = -1;
}

#define RP_INPUT_BUFFER (1 << 20)

/*
 * The file is opened here rather than by pcap_open_offline() so that an
 * errno problem ("No such file or directory") and a format problem
 * (libpcap's "unknown file format") give different messages.
 */
int rp_input_open(rp_input *in, char *err, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    FILE *fp;
    struct stat st = {0};

    if (in->pcap != NULL)
        return RP_OPEN_OK;
    if (in->is_stdin) {
        if (in->consumed) {
            snprintf(err, errlen, "cannot open '%s': it was already read", in->name);
            return RP_OPEN_CANNOT_OPEN;
        }
        fp = stdin;
    } else {
        fp = fopen(in->path, "rb");
        if (fp == NULL) {
            snprintf(err, errlen, "cannot open '%s': %s", in->name, strerror(errno));
            return RP_OPEN_CANNOT_OPEN;
        }
    }
    if (fstat(fileno(fp), &st) == 0) {
        in->dev = st.st_dev;
        in->ino = st.st_ino;
    }
    if (!in->is_stdin) {
        /* fopen() accepts a directory on Linux; reading it would fail later. */
        if (S_ISDIR(st.st_mode)) {
            fclose(fp);
            snprintf(err, errlen, "cannot open '%s': %s", in->name, strerror(EISDIR));
            return RP_OPEN_CANNOT_OPEN;
        }
    }
    /* libpcap reads a file with two fread() calls per packet. One thread
     * reads it, so the stream needs no lock, and a large buffer makes a
     * read() every few thousand packets instead of every few dozen. */
    __fsetlocking(fp, FSETLOCKING_BYCALLER);
    setvbuf(fp, NULL, _IOFBF, RP_INPUT_BUFFER);
    in->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
    if (in->pcap == NULL) {
        /* On failure libpcap leaves the stream to us. */
        if (fp != stdin)
            fclose(fp);
        snprintf(err, errlen, "'%s' is not a pcap or pcapng file: %s", in->name, pcap_err);
        return RP_OPEN_NOT_CAPTURE;
    }
    in->linktype = pcap_datalink(in->pcap);
    in->snaplen = pcap_snapshot(in->pcap);
    in->frames = 0;
    return RP_OPEN_OK;
}

int rp_input_set_filter(rp_input *in, const char *expr, char *err, size_t errlen)
{
    struct bpf_program prog;

    if (expr == NULL || expr[0] == '\0')
        return 0;
    if (pcap_compile(in->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "%s", pcap_geterr(in->pcap));
        return -1;
    }
    int rc = pcap_setfilter(in->pcap, &prog);
    if (rc != 0)
        snprintf(err, errlen, "%s", pcap_geterr(in->pcap));
    pcap_freecode(&prog);
    return rc != 0 ? -1 : 0;
}

int rp_input_next(rp_input *in, const struct pcap_pkthdr **hdr, const uint8_t **data,
                  rtpproc_time_ns *ts, char *err, size_t errlen)
{
    struct pcap_pkthdr *h;
    const u_char *d;

    int rc = pcap_next_ex(in->pcap, &h, &d);
    if (rc == 1) {
        in->frames++;
        *hdr = h;
        *data = d;
        /* With PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds. */
        *ts = (rtpproc_time_ns)h->ts.tv_sec * RTPPROC_NS_PER_SEC + (rtpproc_time_ns)h->ts.tv_usec;
        return RP_READ_FRAME;
    }
    if (rc == PCAP_ERROR_BREAK || rc == 0)
        return RP_READ_END;
    const char *msg = pcap_geterr(in->pcap);
    snprintf(err, errlen, "%s", msg);
    /*
     * libpcap's file readers say "truncated dump file; tried to read N
     * bytes, only got M" (pcap) or "truncated pcapng dump file; ..." when
     * the file ends inside a record; there is no separate status for it.
     */
    if (strstr(msg, "truncated") != NULL)
        return RP_READ_TRUNCATED;
    return RP_READ_ERROR;
}

void rp_input_close(rp_input *in)
{
    if (in->pcap != NULL) {
        pcap_close(in->pcap); /* also closes the FILE, stdin included */
        in->pcap = NULL;
        in->consumed = in->is_stdin;
    }
}

const char *rp_linktype_name(int linktype, char *buf, size_t buflen)
{
    const char *name = pcap_datalink_val_to_name(linktype);

    if (name != NULL)
        snprintf(buf, buflen, "%s (%d)", name, linktype);
    else
        snprintf(buf, buflen, "DLT %d", linktype);
    return buf;
}
