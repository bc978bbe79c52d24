/*
 * rtpproc - the table of values by rp_key (see keytab.h).
 *
 * One lookup per datagram is the engine's hottest table operation, so the
 * comparison is inline: the stored hash first (a mismatch almost always
 * ends there), then the key as whole words.
 */
#include "keytab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rtpproc/types.h"

/* Small enough for an engine with a handful of streams (1 KiB). */
#define RP_KEYTAB_MIN 64u

_Static_assert(sizeof(rp_key) % 4 == 0, "rp_key is hashed and compared as 32-bit words");

uint32_t rp_key_hash(const rp_key *k)
{
    /* The key is zero-filled (make_key), padding included: hashed as 32-bit
     * words, FNV-style with a final avalanche, a quarter of the work of a
     * byte loop on the hottest path (one lookup per datagram). */
    uint32_t w[sizeof(rp_key) / 4];
    memcpy(w, k, sizeof(w));
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        h ^= w[i];
        h *= 16777619u;
        h ^= h >> 15;
    }
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    return h;
}

/* Constant bounds: the compiler unrolls this into a few loads and no branch
 * but the last. */
static inline bool key_equal(const void *stored, const rp_key *k)
{
    const unsigned char *a = stored, *b = (const unsigned char *)k;
    uint64_t diff = 0;
    size_t i = 0;
    for (; i + 8 <= sizeof(rp_key); i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }
    for (; i < sizeof(rp_key); i += 4) {
        uint32_t x, y;
        memcpy(&x, a + i, 4);
        memcpy(&y, b + i, 4);
        diff |= x ^ y;
    }
    return diff == 0;
}

static inline const void *key_of(const rp_keytab *t, const void *value)
{
    return (const unsigned char *)value + t->key_offset;
}

/* The slot holding *k, or the empty slot that ends its probe (for removal). */
static size_t probe(const rp_keytab *t, const rp_key *k, uint32_t hash)
{
    size_t i = hash & t->mask;
    for (;;) {
        const rp_keytab_entry *en = &t->slots[i];
        if (en->value == NULL || (en->hash == hash && key_equal(key_of(t, en->value), k)))
            return i;
        i = (i + 1) & t->mask;
    }
}

/* Moves every entry into `cap` new slots; the table is unchanged on failure. */
static int resize(rp_keytab *t, size_t cap)
{
    rp_keytab_entry *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return RTPPROC_ENOMEM;
    size_t mask = cap - 1;
    for (size_t j = 0; t->size > 0 && j <= t->mask; j++) {
        const rp_keytab_entry *en = &t->slots[j];
        if (en->value == NULL)
            continue;
        /* Keys in the table are distinct: no comparison, only a free slot. */
        size_t i = en->hash & mask;
        while (slots[i].value != NULL)
            i = (i + 1) & mask;
        slots[i] = *en;
    }
    free(t->slots);
    t->slots = slots;
    t->mask = mask;
    return RTPPROC_OK;
}

int rp_keytab_init(rp_keytab *t, size_t key_offset)
{
    memset(t, 0, sizeof(*t));
    t->key_offset = key_offset;
    t->slots = calloc(RP_KEYTAB_MIN, sizeof(*t->slots));
    if (t->slots == NULL)
        return RTPPROC_ENOMEM;
    t->mask = RP_KEYTAB_MIN - 1;
    return RTPPROC_OK;
}

void rp_keytab_destroy(rp_keytab *t)
{
    free(t->slots);
    t->slots = NULL;
    t->mask = 0;
    t->size = 0;
}

void *rp_keytab_find(const rp_keytab *t, const rp_key *k, uint32_t hash)
{
    /* probe()'s loop again, written out: the per-datagram path makes one
     * call, not two. */
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        const rp_keytab_entry *en = &t->slots[i];
        if (en->value == NULL)
            return NULL;
        if (en->hash == hash && key_equal(key_of(t, en->value), k))
            return en->value;
    }
}

int rp_keytab_insert(rp_keytab *t, void *value, uint32_t hash)
{
    /* At most half full: probes stay short even with a weak key spread. */
    if ((t->size + 1) * 2 > t->mask + 1 && resize(t, (t->mask + 1) * 2) != RTPPROC_OK)
        return RTPPROC_ENOMEM;
    size_t i = hash & t->mask;
    while (t->slots[i].value != NULL)
        i = (i + 1) & t->mask;
    t->slots[i].hash = hash;
    t->slots[i].value = value;
    t->size++;
    return RTPPROC_OK;
}

void rp_keytab_remove(rp_keytab *t, const rp_key *k, uint32_t hash)
{
    size_t i = probe(t, k, hash);
    if (t->slots[i].value == NULL)
        return;
    /* Backward shift: each later entry of the run moves into the hole
     * unless its home slot lies cyclically after the hole (moving it would
     * put it before its home, where no probe for it starts). */
    for (size_t j = (i + 1) & t->mask; t->slots[j].value != NULL; j = (j + 1) & t->mask) {
        size_t home = t->slots[j].hash & t->mask;
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i].value = NULL;
    t->slots[i].hash = 0;
    t->size--;
    /* Memory follows the live entries: after a burst of sources (noise in
     * probation) the table halves once it is under 1/8 full. Halving leaves
     * it under 1/4, far from the growth threshold, so no size thrashes. A
     * failed allocation only keeps the larger table. */
    if (t->mask + 1 > RP_KEYTAB_MIN && t->size * 8 < t->mask + 1)
        (void)resize(t, (t->mask + 1) / 2);
}

size_t rp_keytab_size(const rp_keytab *t)
{
    return t->size;
}
