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

#include <sys/types.h>

#include <pcap/pcap.h>

#include "rtpproc/types.h"

/* Why rp_input_open() failed. */
enum rp_open_error {
    RP_OPEN_OK = 0,
    RP_OPEN_CANNOT_OPEN, /* the file itself: missing, unreadable, a directory */
    RP_OPEN_NOT_CAPTURE, /* opened, but libpcap does not recognise it */
};

/* What rp_input_next() read. */
enum rp_read_result {
    RP_READ_FRAME = 1,      /* a frame: hdr and data are set */
    RP_READ_END = 0,        /* end of file */
    RP_READ_TRUNCATED = -1, /* the file ends inside a record */
    RP_READ_ERROR = -2,     /* any other read error (I/O, corrupt pcapng block, EINTR) */
};

typedef struct rp_input {
    const char *path; /* as given on the command line; "-" is stdin. Not owned. */
    const char *name; /* for messages: the path, or "<stdin>" */
    bool is_stdin;
    pcap_t *pcap;    /* open handle, or NULL */
    int linktype;    /* pcap_datalink() of the last open */
    int snaplen;     /* pcap_snapshot() of the last open */
    uint64_t frames; /* frames read since the last open */
    bool consumed;   /* stdin was opened and closed: it cannot be read again */
    dev_t dev;       /* identity of the file, to refuse writing over it */
    ino_t ino;
} rp_input;

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

/* Closes the handle (stdin is not reopened afterwards). Safe when closed. */
void rp_input_close(rp_input *in);

/* The link type for messages, e.g. "EN10MB (1)", or "DLT 1234"; written into buf. */
const char *rp_linktype_name(int linktype, char *buf, size_t buflen);

#endif
