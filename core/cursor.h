/*
 * rtpproc - bounded, sticky byte cursor (internal to the core).
 *
 * Every packet field is read through these accessors (style.md 3.6): a read
 * past the end fails, leaves the cursor where it was and sets `bad`, so a
 * forgotten check shows up as `bad` instead of a parse from the wrong offset.
 * Lengths are compared as counts (need > left), never as advanced pointers.
 */
#ifndef RP_CURSOR_H
#define RP_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rp_cur {
    const uint8_t *p; /* next unread byte */
    size_t left;      /* bytes readable from p */
    bool bad;         /* a read or skip ran past the end */
} rp_cur;

static inline rp_cur rp_cur_make(const uint8_t *p, size_t len)
{
    rp_cur c = {p, len, false};
    return c;
}

static inline bool rp_need(rp_cur *c, size_t n)
{
    if (n > c->left) {
        c->bad = true;
        return false;
    }
    return true;
}

static inline bool rp_u8(rp_cur *c, uint8_t *v)
{
    if (!rp_need(c, 1))
        return false;
    *v = c->p[0];
    c->p += 1;
    c->left -= 1;
    return true;
}

static inline bool rp_be16(rp_cur *c, uint16_t *v)
{
    if (!rp_need(c, 2))
        return false;
    *v = (uint16_t)((unsigned)c->p[0] << 8 | c->p[1]);
    c->p += 2;
    c->left -= 2;
    return true;
}

static inline bool rp_le16(rp_cur *c, uint16_t *v)
{
    if (!rp_need(c, 2))
        return false;
    *v = (uint16_t)((unsigned)c->p[1] << 8 | c->p[0]);
    c->p += 2;
    c->left -= 2;
    return true;
}

static inline bool rp_be32(rp_cur *c, uint32_t *v)
{
    if (!rp_need(c, 4))
        return false;
    *v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 |
         (uint32_t)c->p[3];
    c->p += 4;
    c->left -= 4;
    return true;
}

static inline bool rp_le32(rp_cur *c, uint32_t *v)
{
    if (!rp_need(c, 4))
        return false;
    *v = (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[1] << 8 |
         (uint32_t)c->p[0];
    c->p += 4;
    c->left -= 4;
    return true;
}

static inline bool rp_skip(rp_cur *c, size_t n)
{
    if (!rp_need(c, n))
        return false;
    c->p += n;
    c->left -= n;
    return true;
}

/* Copies n bytes out. */
static inline bool rp_bytes(rp_cur *c, void *dst, size_t n)
{
    if (!rp_need(c, n))
        return false;
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = c->p[i];
    c->p += n;
    c->left -= n;
    return true;
}

/* Splits the next n bytes off as their own cursor (the next layer). */
static inline bool rp_sub(rp_cur *c, size_t n, rp_cur *out)
{
    if (!rp_need(c, n))
        return false;
    *out = rp_cur_make(c->p, n);
    c->p += n;
    c->left -= n;
    return true;
}

/* Peeks at byte `off` without moving. */
static inline bool rp_peek_u8(const rp_cur *c, size_t off, uint8_t *v)
{
    if (off >= c->left)
        return false;
    *v = c->p[off];
    return true;
}

/* Shrinks the readable length to at most n (e.g. to an IP total length). */
static inline void rp_clamp(rp_cur *c, size_t n)
{
    if (n < c->left)
        c->left = n;
}

#endif
