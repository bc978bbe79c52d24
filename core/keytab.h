/*
 * rtpproc - internal: the engine's table of streams (and of sources in
 * probation) by rp_key. Open addressing with linear probing, a power-of-two
 * capacity kept at most half full, and backward-shift deletion, so there are
 * no tombstones and a probe ends at the first empty slot.
 *
 * The table does not hold keys: each entry is the caller's value and the
 * key's 32-bit hash, and the key is read inside the value at the byte
 * offset given to rp_keytab_init. A value must therefore stay at the same
 * address, its key unchanged, while it is in the table. The caller hashes
 * a key once (rp_key_hash) and passes the hash to every call about it.
 */
#ifndef RP_KEYTAB_H
#define RP_KEYTAB_H

#include <stddef.h>
#include <stdint.h>

#include "stream.h"

typedef struct rp_keytab_entry {
    uint32_t hash;
    void *value; /* NULL: empty slot */
} rp_keytab_entry;

typedef struct rp_keytab {
    rp_keytab_entry *slots;
    size_t mask; /* capacity - 1 */
    size_t size; /* values held */
    size_t key_offset;
} rp_keytab;

/* Hash of a zero-filled key (make_key in engine.c), padding included. */
uint32_t rp_key_hash(const rp_key *k);

/*
 * An empty table whose values carry their rp_key at byte `key_offset`.
 * Returns RTPPROC_OK or RTPPROC_ENOMEM. A zero-filled rp_keytab that failed
 * (or was never) initialised may still be given to rp_keytab_destroy.
 */
int rp_keytab_init(rp_keytab *t, size_t key_offset);

/* Frees the slots, not the values. */
void rp_keytab_destroy(rp_keytab *t);

/* The value whose key equals *k, or NULL; `hash` is rp_key_hash(k). */
void *rp_keytab_find(const rp_keytab *t, const rp_key *k, uint32_t hash);

/*
 * Adds `value` (not NULL), whose key hashes to `hash` and must not be in
 * the table yet. May grow the table (doubling, so amortised O(1)). Returns RTPPROC_OK,
 * or RTPPROC_ENOMEM with the table unchanged.
 */
int rp_keytab_insert(rp_keytab *t, void *value, uint32_t hash);

/*
 * Removes the value whose key equals *k, if any. Never fails; the table
 * halves (one allocation) when under 1/8 full, and stays as it is if that
 * allocation fails.
 */
void rp_keytab_remove(rp_keytab *t, const rp_key *k, uint32_t hash);

/* The slot where a lookup of `hash` starts, to prefetch it. */
static inline const rp_keytab_entry *rp_keytab_slot(const rp_keytab *t, uint32_t hash)
{
    return &t->slots[hash & t->mask];
}

/* Values held. */
size_t rp_keytab_size(const rp_keytab *t);

#endif
