/*
 * rtpproc - codec recognition by payload (see heuristic.h).
 */
#include "heuristic.h"

#include "cursor.h"

unsigned rp_opus_toc_samples(const uint8_t *p, size_t len, int *stereo)
{
    /* Frame sizes in units of 2.5 ms (120 samples at 48 kHz), by config:
     * 0-11 SILK 10/20/40/60 ms, 12-15 hybrid 10/20 ms, 16-31 CELT
     * 2.5/5/10/20 ms (RFC 6716 table 2). */
    static const uint8_t units[32] = {4, 8, 16, 24, 4, 8, 16, 24, 4, 8, 16, 24, 4, 8, 4, 8,
                                      1, 2, 4,  8,  1, 2, 4,  8,  1, 2, 4,  8,  1, 2, 4, 8};
    rp_cur c = rp_cur_make(p, len);
    uint8_t toc, count;
    unsigned frames;

    if (!rp_u8(&c, &toc))
        return 0;
    *stereo = (toc >> 2) & 1;
    switch (toc & 3) {
    case 0:
        frames = 1;
        break;
    case 1:
    case 2:
        frames = 2;
        break;
    default:
        if (!rp_u8(&c, &count) || (count & 0x3f) == 0)
            return 0;
        frames = count & 0x3f;
        break;
    }
    unsigned samples = frames * units[toc >> 3] * 120u;
    return samples <= 5760 ? samples : 0; /* at most 120 ms per packet (RFC 6716 3.2.5) */
}
