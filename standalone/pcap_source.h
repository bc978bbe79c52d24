/*
 * rtpproc tool - one capture input (-r FILE or -r - for stdin) over libpcap.
 *
 * Wraps opening (with errno and libpcap's reason kept apart, so the tool can
 * say "cannot open" or "not a pcap or pcapng file"), compiling the BPF
 * filter, and reading frames with nanosecond timestamps. All messages are
 * written into the caller's buffer without the "rtpproc: " prefix; nothing
 * here prints.
 */
#ifndef RP_PCAP_SOURCE_H
#define RP_PCAP_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sys/types.h>

#include <pcap/pcap.h>

#include "rtpproc/types.h"

/* Why rp_input_open() failed. */
enum rp_open_error {
    RP_OPEN_OK = 0,
    RP_OPEN_CANNOT_OPEN, /* the file itself: missing, unreadable, a directory */
    RP_OPEN_NOT_CAPTURE, /* opened, but libpcap does not recognise it */
};

/* The largest frame libpcap hands out (its MAXIMUM_SNAPLEN). */
#define RP_PCAP_MAX_SNAPLEN 262144u

/* What rp_input_next() read. */
enum rp_read_result {
    RP_READ_FRAME = 1,      /* a frame: hdr and data are set */
    RP_READ_END = 0,        /* end of file */
    RP_READ_TRUNCATED = -1, /* the file ends inside a record */
    RP_READ_ERROR = -2,     /* any other read error (I/O, corrupt pcapng block, EINTR) */
    RP_READ_LATER = 2,      /* rp_input_next_kept(): nothing read, call rp_input_next() */
};

typedef struct rp_input {
    const char *path; /* as given on the command line; "-" is stdin. Not owned. */
    const char *name; /* for messages: the path, or "<stdin>" */
    bool is_stdin;
    pcap_t *pcap;    /* open handle, or NULL */
    int linktype;    /* pcap_datalink() of the last open */
    int snaplen;     /* pcap_snapshot() of the last open */
    uint64_t frames; /* frames read since the last open */
    bool live;       /* an interface (-i) rather than a file */
    int64_t ts_mult; /* ns per unit of the pcap_pkthdr's tv_usec (1 or 1000) */
    bool consumed;   /* stdin was opened and closed: it cannot be read again */
    dev_t dev;       /* identity of the file, to refuse writing over it */
    ino_t ino;
    /* Classic pcap files are read here, not through libpcap's two fread()
     * calls and copy per packet (see rp_input_open). */
    FILE *fp;               /* the stream libpcap reads (owned by the pcap_t) */
    bool direct;            /* records come from buf */
    bool swapped;           /* the file's byte order is not ours */
    bool eof;               /* read() returned 0 */
    int64_t usec_mult;      /* 1000 for a microsecond file, 1 for nanoseconds */
    uint8_t *buf;           /* RP_DIRECT_BUFFER bytes of the file */
    size_t buf_len;         /* bytes in buf */
    size_t buf_pos;         /* start of the next record in buf */
    off_t buf_end;          /* file offset just past buf's bytes */
    struct pcap_pkthdr hdr; /* the record handed out last */
} rp_input;

/* Capture time of a record of `in` in ns (tv_usec holds nanoseconds when
 * the handle has nanosecond precision, ts_mult 1). */
static inline rtpproc_time_ns rp_input_ts(const rp_input *in, const struct pcap_pkthdr *h)
{
    return (rtpproc_time_ns)h->ts.tv_sec * RTPPROC_NS_PER_SEC +
           (rtpproc_time_ns)h->ts.tv_usec * in->ts_mult;
}

/* Sets up `in` for `path` (kept by pointer); does not open it. */
void rp_input_init(rp_input *in, const char *path);

/*
 * Opens the capture; a no-op while it is open. Stdin can be opened only
 * once (closing it closes the stream). Returns an enum rp_open_error; on
 * failure `err` holds e.g. "cannot open 'x': No such file or directory".
 */
int rp_input_open(rp_input *in, char *err, size_t errlen);

/*
 * Compiles `expr` against this input's link type and installs it. NULL or
 * "" installs nothing. Returns 0, or -1 with libpcap's reason in `err`.
 */
int rp_input_set_filter(rp_input *in, const char *expr, char *err, size_t errlen);

/*
 * Reads the next frame that passes the filter. On RP_READ_FRAME, *hdr and
 * *data are libpcap's buffers (valid until the next call) and *ts is the
 * capture time in ns. On the two error results `err` holds libpcap's text.
 */
int rp_input_next(rp_input *in, const struct pcap_pkthdr **hdr, const uint8_t **data,
                  rtpproc_time_ns *ts, char *err, size_t errlen);

/*
 * As rp_input_next(), but only while the frames handed out since the last
 * rp_input_next() call stay valid: where the next frame would reuse their
 * memory (the direct reader's buffer must be refilled, or the frame comes
 * through libpcap) it reads nothing and returns RP_READ_LATER. *hdr is
 * overwritten by the next call (copy it); *data stays valid until the
 * next rp_input_next(). Lets the caller gather frames and feed them
 * together (rtpproc_engine_feed_batch).
 */
int rp_input_next_kept(rp_input *in, const struct pcap_pkthdr **hdr, const uint8_t **data,
                       rtpproc_time_ns *ts);

/* Closes the handle (stdin is not reopened afterwards). Safe when closed. */
void rp_input_close(rp_input *in);

/*
 * Live capture (-i): opens `iface` with pcap_create/pcap_activate, with a
 * snaplen, a kernel buffer of `buffer_kib` KiB, promiscuous mode if asked,
 * a `timeout_ms` packet-buffer timeout (libpcap's memory-mapped ring is
 * handed over at least this often) and nanosecond timestamps where the
 * system has them. `in` must come from rp_input_init(iface). Returns 0, or
 * -1 with the reason in `err`. libpcap's warnings (e.g. promiscuous mode
 * not supported) are written into `warn` ("" if none).
 */
int rp_input_open_live(rp_input *in, int snaplen, int buffer_kib, bool promisc, int timeout_ms,
                       char *warn, size_t warnlen, char *err, size_t errlen);

/*
 * Writes the capture interfaces as tcpdump -D does ("1.eth0 [Up, Running]",
 * with the description in parentheses). Returns 0, or -1 with `err` set.
 */
int rp_list_interfaces(FILE *out, char *err, size_t errlen);

/* Kernel counters of a live capture (pcap_stats); -1 with `err` on failure. */
int rp_input_stats(rp_input *in, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped,
                   char *err, size_t errlen);

/*
 * The filter a live capture installs in the kernel (docs/probe.md): UDP
 * datagrams whose payload can be RTP version 2 that is not RTCP (RFC 5761
 * section 4: payload types 72-76 are RTCP's), over unfragmented IPv4 or
 * IPv6 without extension headers, untagged or under one or two VLAN tags
 * (DLT_EN10MB only); SIP messages that can carry SDP (their first bytes:
 * INVITE, ACK, UPDATE, PRACK requests and SIP/2.0 responses) on any port,
 * so the engine still learns dynamic payload types; every IPv4/IPv6
 * fragment when `fragments` (the decoder reassembles them); RTP narrowed
 * to `ssrc` when `ssrc_set`. The user's expression `user` (NULL: none)
 * comes first, so that its own "vlan" keywords shift what follows as the
 * user expects. Returns a new string (g_free).
 */
char *rp_rtp_filter(int linktype, bool ssrc_set, uint32_t ssrc, bool fragments, const char *user);

/*
 * Prints `expr` compiled for `linktype` and `snaplen` as tcpdump -d does
 * (one BPF instruction per line); `out` NULL only checks that it compiles.
 * Returns 0, or -1 with `err` set.
 */
int rp_filter_dump(FILE *out, int linktype, int snaplen, const char *expr, char *err,
                   size_t errlen);

/* The link type for messages, e.g. "EN10MB (1)", or "DLT 1234"; written into buf. */
const char *rp_linktype_name(int linktype, char *buf, size_t buflen);

#endif
