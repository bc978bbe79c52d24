/*
 * rtpproc - the learned payload-type table (see ptlearn.h). A GHashTable
 * finds entries; a FIFO of the same entries decides which one a full table
 * forgets. Entries are allocated when an announcement is first seen (a
 * signalling event, not a media packet).
 */
#include "ptlearn.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

/* Zero-filled, so hashable as bytes. */
typedef struct rp_ptkey {
    rtpproc_addr addr;
    uint16_t port;
    uint8_t pt;
} rp_ptkey;

typedef struct rp_ptentry {
    rp_ptkey key;
    rtpproc_codec_spec spec;
} rp_ptentry;

struct rp_ptlearn {
    GHashTable *map; /* rp_ptkey* -> rp_ptentry*, keys inside the entries */
    GQueue fifo;     /* rp_ptentry*, oldest first; owns the entries */
    unsigned max;
};

static guint ptkey_hash(gconstpointer p)
{
    /* FNV-1a over the zero-filled key bytes. */
    const uint8_t *b = p;
    guint32 h = 2166136261u;
    for (size_t i = 0; i < sizeof(rp_ptkey); i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static gboolean ptkey_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(rp_ptkey)) == 0;
}

static void make_key(rp_ptkey *k, const rtpproc_addr *addr, uint16_t port, unsigned pt)
{
    memset(k, 0, sizeof(*k));
    k->addr.family = addr->family;
    memcpy(k->addr.bytes, addr->bytes, addr->family == 4 ? 4 : 16);
    k->port = port;
    k->pt = (uint8_t)pt;
}

rp_ptlearn *rp_ptlearn_new(unsigned max_entries)
{
    rp_ptlearn *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->map = g_hash_table_new(ptkey_hash, ptkey_equal);
    g_queue_init(&t->fifo);
    t->max = max_entries ? max_entries : 1;
    return t;
}

void rp_ptlearn_free(rp_ptlearn *t)
{
    if (t == NULL)
        return;
    g_hash_table_destroy(t->map);
    g_queue_clear_full(&t->fifo, free);
    free(t);
}

int rp_ptlearn_set(rp_ptlearn *t, const rtpproc_addr *addr, uint16_t port, unsigned pt,
                   const rtpproc_codec_spec *spec)
{
    rp_ptkey k;
    make_key(&k, addr, port, pt);
    rp_ptentry *e = g_hash_table_lookup(t->map, &k);
    if (e != NULL) {
        e->spec = *spec;
        return RTPPROC_OK;
    }
    if (g_queue_get_length(&t->fifo) >= t->max) {
        e = g_queue_pop_head(&t->fifo);
        g_hash_table_remove(t->map, &e->key);
    } else {
        e = malloc(sizeof(*e));
        if (e == NULL)
            return RTPPROC_ENOMEM;
    }
    e->key = k;
    e->spec = *spec;
    g_queue_push_tail(&t->fifo, e);
    g_hash_table_insert(t->map, &e->key, e);
    return RTPPROC_OK;
}

const rtpproc_codec_spec *rp_ptlearn_get(const rp_ptlearn *t, const rtpproc_addr *addr,
                                         uint16_t port, unsigned pt)
{
    rp_ptkey k;
    make_key(&k, addr, port, pt);
    const rp_ptentry *e = g_hash_table_lookup(t->map, &k);
    return e != NULL ? &e->spec : NULL;
}

unsigned rp_ptlearn_size(const rp_ptlearn *t)
{
    return t->fifo.length;
}
