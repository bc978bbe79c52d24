/*
 * rtpproc tool - capture inputs over libpcap (see pcap_source.h).
 */
#include <stdio_ext.h>
#include <byteswap.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "pcap_source.h"

void rp_input_init(rp_input *in, const char *path)
{
    memset(in, 0, sizeof(*in));
    in->path = path;
    in->is_stdin = strcmp(path, "-") == 0;
    in->name = in->is_stdin ? "<stdin>" : path;
    in->linktype = -1;
    in->ts_mult = 1;
}

#define RP_INPUT_BUFFER (1 << 20)

/*
 * Direct reading of classic pcap files. libpcap reads a record with two
 * fread() calls and copies it into its own buffer; on a capture of small RTP
 * packets that and its bookkeeping cost as much as everything rtpproc does
 * with the packet. A classic pcap file (version 2.4, 16-byte record
 * headers, the two standard magics in either byte order) is simple enough
 * to read in place: records are handed out from a large buffer filled with
 * pread(). libpcap has opened and checked the file header already, and
 * anything out of the ordinary -- a capture length above the snapshot
 * length or libpcap's maximum, a record cut by the end of the file, a read
 * error -- is handed back to libpcap at that record's offset, so that its
 * result and its message are exactly libpcap's. Not used for stdin, pcapng
 * or when a filter is installed (libpcap applies it).
 */
#define RP_DIRECT_BUFFER   (1 << 17) /* 128 KiB: stays in L2 until used (1 MiB was 5 % slower) */
#define RP_PCAP_FILE_HDR   24
#define RP_PCAP_REC_HDR    16
#define RP_DIRECT_FALLBACK (-100)

static void direct_setup(rp_input *in)
{
    uint8_t magic_bytes[4];
    uint32_t magic;

    in->direct = false;
    if (in->is_stdin || in->live || in->fp == NULL)
        return;
    if (pcap_major_version(in->pcap) != 2 || pcap_minor_version(in->pcap) != 4)
        return;
    /* pread() also fails on what cannot seek (a FIFO given by name). */
    if (pread(fileno(in->fp), magic_bytes, sizeof(magic_bytes), 0) != sizeof(magic_bytes))
        return;
    memcpy(&magic, magic_bytes, sizeof(magic));
    bool swapped = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
    if (swapped)
        magic = bswap_32(magic);
    if (magic == 0xa1b2c3d4u)
        in->usec_mult = 1000; /* microseconds, read with nanosecond precision */
    else if (magic == 0xa1b23c4du)
        in->usec_mult = 1;
    else
        return;
    if (swapped != (pcap_is_swapped(in->pcap) == 1))
        return;
    if (in->buf == NULL && (in->buf = malloc(RP_DIRECT_BUFFER)) == NULL)
        return; /* libpcap reads it then */
    in->swapped = swapped;
    in->eof = false;
    in->buf_len = in->buf_pos = 0;
    in->buf_end = RP_PCAP_FILE_HDR;
    in->direct = true;
}

/* Hands reading back to libpcap at the record not yet handed out. */
static int direct_stop(rp_input *in)
{
    if (!in->direct)
        return 0;
    in->direct = false;
    off_t next = in->buf_end - (off_t)(in->buf_len - in->buf_pos);
    return fseeko(in->fp, next, SEEK_SET);
}

/* The next record if the buffer holds all of it, else RP_READ_LATER (or
 * RP_DIRECT_FALLBACK for a record only libpcap may read). */
static int direct_take(rp_input *in, const struct pcap_pkthdr **hdr, const uint8_t **data,
                       rtpproc_time_ns *ts)
{
    size_t avail = in->buf_len - in->buf_pos;
    if (avail < RP_PCAP_REC_HDR)
        return RP_READ_LATER;
    const uint8_t *rec = in->buf + in->buf_pos;
    uint32_t f[4]; /* ts_sec, ts_usec (or ns), incl_len, orig_len */
    memcpy(f, rec, sizeof(f));
    if (in->swapped) {
        for (size_t i = 0; i < 4; i++)
            f[i] = bswap_32(f[i]);
    }
    uint32_t caplen = f[2];
    if (caplen > RP_PCAP_MAX_SNAPLEN || caplen > (uint32_t)in->snaplen)
        return RP_DIRECT_FALLBACK; /* libpcap refuses or cuts it */
    if (avail - RP_PCAP_REC_HDR < caplen)
        return RP_READ_LATER;
    /* As libpcap fills them: a native file's fields are signed, a swapped
     * file's unsigned (its SWAPLONG). */
    int64_t sec = in->swapped ? (int64_t)f[0] : (int64_t)(int32_t)f[0];
    int64_t sub = in->swapped ? (int64_t)f[1] : (int64_t)(int32_t)f[1];
    in->hdr.ts.tv_sec = (time_t)sec;
    in->hdr.ts.tv_usec = (suseconds_t)(sub * in->usec_mult);
    in->hdr.caplen = caplen;
    in->hdr.len = f[3];
    in->buf_pos += RP_PCAP_REC_HDR + caplen;
    in->frames++;
    *hdr = &in->hdr;
    *data = rec + RP_PCAP_REC_HDR;
    *ts = rp_input_ts(in, &in->hdr);
    return RP_READ_FRAME;
}

static int direct_next(rp_input *in, const struct pcap_pkthdr **hdr, const uint8_t **data,
                       rtpproc_time_ns *ts)
{
    for (;;) {
        int rc = direct_take(in, hdr, data, ts);
        if (rc != RP_READ_LATER)
            return rc;
        size_t avail = in->buf_len - in->buf_pos;
        if (in->eof)
            return avail == 0 ? RP_READ_END : RP_DIRECT_FALLBACK; /* cut record: libpcap says so */
        /* The partial record moves to the front (the frames handed out
         * before are no longer needed: they are valid only until this call). */
        memmove(in->buf, in->buf + in->buf_pos, avail);
        in->buf_len = avail;
        in->buf_pos = 0;
        ssize_t n = pread(fileno(in->fp), in->buf + avail, RP_DIRECT_BUFFER - avail, in->buf_end);
        if (n < 0)
            return RP_DIRECT_FALLBACK; /* libpcap reports the error */
        if (n == 0)
            in->eof = true;
        in->buf_len += (size_t)n;
        in->buf_end += n;
    }
}

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
    in->fp = fp;
    direct_setup(in);
    return RP_OPEN_OK;
}

int rp_input_set_filter(rp_input *in, const char *expr, char *err, size_t errlen)
{
    struct bpf_program prog;

    if (expr == NULL || expr[0] == '\0')
        return 0;
    if (direct_stop(in) != 0) {
        snprintf(err, errlen, "cannot seek in the file: %s", strerror(errno));
        return -1;
    }
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

    if (in->direct) {
        int rc = direct_next(in, hdr, data, ts);
        if (rc != RP_DIRECT_FALLBACK)
            return rc;
        if (direct_stop(in) != 0) {
            snprintf(err, errlen, "cannot seek in the file: %s", strerror(errno));
            return RP_READ_ERROR;
        }
    }
    int rc = pcap_next_ex(in->pcap, &h, &d);
    if (rc == 1) {
        in->frames++;
        *hdr = h;
        *data = d;
        *ts = rp_input_ts(in, h);
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

int rp_input_next_kept(rp_input *in, const struct pcap_pkthdr **hdr, const uint8_t **data,
                       rtpproc_time_ns *ts)
{
    if (!in->direct)
        return RP_READ_LATER;
    int rc = direct_take(in, hdr, data, ts);
    return rc == RP_READ_FRAME ? rc : RP_READ_LATER;
}

void rp_input_close(rp_input *in)
{
    if (in->pcap != NULL) {
        pcap_close(in->pcap); /* also closes the FILE, stdin included */
        in->pcap = NULL;
        in->fp = NULL;
        in->direct = false;
        free(in->buf);
        in->buf = NULL;
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

int rp_input_open_live(rp_input *in, int snaplen, int buffer_kib, bool promisc, int timeout_ms,
                       char *warn, size_t warnlen, char *err, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(in->path, pcap_err);

    warn[0] = '\0';
    if (p == NULL) {
        snprintf(err, errlen, "cannot capture on '%s': %s", in->name, pcap_err);
        return -1;
    }
    /*
     * Settings before pcap_activate(), as tcpdump makes them. On Linux the
     * buffer is the memory-mapped ring (TPACKET_V3): the kernel hands over
     * a block when it is full or after timeout_ms, so the capture loop sees
     * packets at least that often.
     */
    pcap_set_snaplen(p, snaplen);
    pcap_set_promisc(p, promisc ? 1 : 0);
    pcap_set_timeout(p, timeout_ms);
    pcap_set_buffer_size(p, buffer_kib * 1024);
    in->ts_mult = 1000;
    if (pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0)
        in->ts_mult = 1;
    int rc = pcap_activate(p);
    if (rc < 0) {
        const char *why = pcap_geterr(p);
        /* For these statuses libpcap's text is only a detail, or empty. */
        bool detail = rc == PCAP_ERROR_NO_SUCH_DEVICE || rc == PCAP_ERROR_PERM_DENIED ||
                      rc == PCAP_ERROR_PROMISC_PERM_DENIED || rc == PCAP_ERROR_IFACE_NOT_UP;
        if (why[0] == '\0')
            snprintf(err, errlen, "cannot capture on '%s': %s", in->name, pcap_statustostr(rc));
        else if (detail && strcmp(why, pcap_statustostr(rc)) != 0)
            snprintf(err, errlen, "cannot capture on '%s': %s (%s)", in->name, pcap_statustostr(rc),
                     why);
        else
            snprintf(err, errlen, "cannot capture on '%s': %s", in->name, why);
        pcap_close(p);
        return -1;
    }
    if (rc > 0)
        snprintf(warn, warnlen, "'%s': %s%s%s", in->name, pcap_statustostr(rc),
                 pcap_geterr(p)[0] != '\0' ? ": " : "", pcap_geterr(p));
    /* Non-blocking: the loop waits in poll() so that it also wakes without packets. */
    if (pcap_setnonblock(p, 1, pcap_err) != 0) {
        snprintf(err, errlen, "cannot capture on '%s': %s", in->name, pcap_err);
        pcap_close(p);
        return -1;
    }
    in->pcap = p;
    in->live = true;
    in->linktype = pcap_datalink(p);
    in->snaplen = pcap_snapshot(p);
    in->frames = 0;
    return 0;
}

int rp_list_interfaces(FILE *out, char *err, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    pcap_if_t *all = NULL;
    unsigned i = 1;

    if (pcap_findalldevs(&all, pcap_err) != 0) {
        snprintf(err, errlen, "cannot list interfaces: %s", pcap_err);
        return -1;
    }
    if (all == NULL) {
        snprintf(err, errlen, "no interfaces available for capture");
        return -1;
    }
    for (pcap_if_t *d = all; d != NULL; d = d->next, i++) {
        fprintf(out, "%u.%s", i, d->name);
        if (d->description != NULL)
            fprintf(out, " (%s)", d->description);
        const char *sep = " [";
        if (d->flags & PCAP_IF_LOOPBACK) {
            fprintf(out, "%sLoopback", sep);
            sep = ", ";
        }
        if (d->flags & PCAP_IF_UP) {
            fprintf(out, "%sUp", sep);
            sep = ", ";
        }
        if (d->flags & PCAP_IF_RUNNING) {
            fprintf(out, "%sRunning", sep);
            sep = ", ";
        }
        if (strcmp(sep, ", ") == 0)
            fputc(']', out);
        fputc('\n', out);
    }
    pcap_freealldevs(all);
    return 0;
}

int rp_input_stats(rp_input *in, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped,
                   char *err, size_t errlen)
{
    struct pcap_stat st;

    if (in->pcap == NULL || pcap_stats(in->pcap, &st) != 0) {
        snprintf(err, errlen, "%s", in->pcap != NULL ? pcap_geterr(in->pcap) : "not open");
        return -1;
    }
    *received = st.ps_recv;
    *dropped = st.ps_drop;
    *if_dropped = st.ps_ifdrop;
    return 0;
}

/*
 * One level of the kernel filter, for the headers at the current offsets.
 * libpcap's udp[] indexes the UDP header of IPv4 only (with the IPv4
 * header length, first fragment); IPv6 is read at fixed offsets from
 * ip6[]: a 40-byte header whose next header is UDP (17), UDP at ip6[40],
 * its payload at ip6[48].
 */
static void filter_level(GString *f, const char *ssrc, const char *ssrc6, bool fragments)
{
    static const char *const rtp4 = "udp[4:2] >= 20 and udp[8] & 0xc0 = 0x80 and "
                                    "(udp[9] & 0x7f < 72 or udp[9] & 0x7f > 76)";
    static const char *const rtp6 = "ip6[44:2] >= 20 and ip6[48] & 0xc0 = 0x80 and "
                                    "(ip6[49] & 0x7f < 72 or ip6[49] & 0x7f > 76)";
    /* "INVI", "ACK ", "UPDA", "PRAC", "SIP/" */
    static const char *const sip4 = "udp[8:4] = 0x494e5649 or udp[8:4] = 0x41434b20 or "
                                    "udp[8:4] = 0x55504441 or udp[8:4] = 0x50524143 or "
                                    "udp[8:4] = 0x5349502f";
    static const char *const sip6 = "ip6[48:4] = 0x494e5649 or ip6[48:4] = 0x41434b20 or "
                                    "ip6[48:4] = 0x55504441 or ip6[48:4] = 0x50524143 or "
                                    "ip6[48:4] = 0x5349502f";

    g_string_append_printf(f,
                           "(ip and udp and ip[6:2] & 0x3fff = 0 and ((%s%s) or %s))"
                           " or (ip6 and ip6[6] = 17 and ((%s%s) or %s))",
                           rtp4, ssrc, sip4, rtp6, ssrc6, sip6);
    if (fragments)
        g_string_append(f, " or (ip and ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] = 44)");
}

char *rp_rtp_filter(int linktype, bool ssrc_set, uint32_t ssrc, bool fragments, const char *user)
{
    GString *f = g_string_new(NULL);
    char s4[48] = "", s6[48] = "";

    if (ssrc_set) {
        snprintf(s4, sizeof(s4), " and udp[16:4] = 0x%08" PRIx32, ssrc);
        snprintf(s6, sizeof(s6), " and ip6[56:4] = 0x%08" PRIx32, ssrc);
    }
    if (user != NULL && user[0] != '\0')
        g_string_append_printf(f, "(%s) and ", user);
    g_string_append_c(f, '(');
    filter_level(f, s4, s6, fragments);
    /*
     * Each "vlan" moves the offsets of everything after it by one tag, so
     * the tagged levels are nested: untagged, or one tag and (the same, or
     * a second tag and the same). On a live Linux interface libpcap tests
     * the first tag in the kernel's metadata instead (it was taken out of
     * the frame), and the untagged level matches the frame itself.
     */
    if (linktype == DLT_EN10MB) {
        g_string_append(f, " or (vlan and (");
        filter_level(f, s4, s6, fragments);
        g_string_append(f, " or (vlan and (");
        filter_level(f, s4, s6, fragments);
        g_string_append(f, "))))");
    }
    g_string_append_c(f, ')');
    return g_string_free(f, FALSE);
}

int rp_filter_dump(FILE *out, int linktype, int snaplen, const char *expr, char *err, size_t errlen)
{
    struct bpf_program prog;
    pcap_t *dead = pcap_open_dead(linktype, snaplen);

    if (dead == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pcap_compile(dead, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "%s", pcap_geterr(dead));
        pcap_close(dead);
        return -1;
    }
    for (u_int i = 0; out != NULL && i < prog.bf_len; i++)
        fprintf(out, "%s\n", bpf_image(&prog.bf_insns[i], (int)i));
    pcap_freecode(&prog);
    pcap_close(dead);
    return 0;
}
