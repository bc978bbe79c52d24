/*
 * rtpproc - small shared helpers: status texts, address formatting.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "rtpproc/types.h"

const char *rtpproc_strerror(int status)
{
    switch (status) {
    case RTPPROC_OK:
        return "success";
    case RTPPROC_ENOMEM:
        return "out of memory";
    case RTPPROC_EINVAL:
        return "invalid argument";
    case RTPPROC_EIO:
        return "input/output error";
    case RTPPROC_EEXIST:
        return "file exists";
    case RTPPROC_ENOCODEC:
        return "no decoder for this payload type";
    case RTPPROC_ELIMIT:
        return "limit reached";
    case RTPPROC_EUNSUPP:
        return "unsupported";
    default:
        return "unknown error";
    }
}

char *rtpproc_addr_format(const rtpproc_addr *a, char *buf, size_t buflen)
{
    if (buflen == 0)
        return buf;
    buf[0] = '\0';
    if (a->family == 4) {
        if (inet_ntop(AF_INET, a->bytes, buf, (socklen_t)buflen) == NULL)
            buf[0] = '\0';
    } else if (a->family == 6) {
        if (inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)buflen) == NULL)
            buf[0] = '\0';
    } else {
        snprintf(buf, buflen, "?");
    }
    return buf;
}
