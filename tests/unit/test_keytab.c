/*
 * The engine's open-addressing table (core/keytab.c): lookups through equal
 * hashes, backward-shift removal inside probe runs and across the wrap of
 * the slot array, growth and shrinking, and a long random sequence checked
 * against a plain array.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "keytab.h"

CU_pSuite rtpproc_test_keytab_suite(void);

/* The key sits after other fields, as in the engine's structs. */
typedef struct item {
    uint64_t tag;
    rp_key key;
    unsigned id;
} item;

static void make_key(rp_key *k, unsigned n)
{
    memset(k, 0, sizeof(*k));
    k->flow.src.family = 4;
    k->flow.dst.family = 4;
    k->flow.src.bytes[0] = 10;
    k->flow.src.bytes[3] = (uint8_t)(n >> 16);
    k->flow.dst.bytes[0] = 192;
    k->flow.sport = (uint16_t)(n >> 8);
    k->flow.dport = 4000;
    k->ssrc = 0x1000u + (n & 0xff) * 77u;
}

static item *make_items(unsigned n)
{
    item *v = calloc(n, sizeof(*v));
    for (unsigned i = 0; v != NULL && i < n; i++) {
        v[i].id = i;
        make_key(&v[i].key, i);
    }
    return v;
}

/*
 * The table's invariants: the size is the number of values, it is at most
 * half full, and every value can be reached from its home slot without
 * crossing an empty slot (what a find relies on, and what a wrong
 * backward shift breaks).
 */
static bool table_sound(const rp_keytab *t)
{
    size_t cap = t->mask + 1, n = 0;
    if ((cap & t->mask) != 0)
        return false;
    for (size_t j = 0; j < cap; j++) {
        if (t->slots[j].value == NULL)
            continue;
        n++;
        for (size_t i = t->slots[j].hash & t->mask; i != j; i = (i + 1) & t->mask)
            if (t->slots[i].value == NULL)
                return false;
    }
    return n == t->size && t->size * 2 <= cap;
}

static void test_keytab_insert_find_remove(void)
{
    enum { N = 5000 };
    item *v = make_items(N);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    rp_keytab t;
    CU_ASSERT_EQUAL_FATAL(rp_keytab_init(&t, offsetof(item, key)), RTPPROC_OK);
    CU_ASSERT_EQUAL(rp_keytab_size(&t), 0);
    CU_ASSERT_PTR_NULL(rp_keytab_find(&t, &v[0].key, rp_key_hash(&v[0].key)));

    for (unsigned i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(rp_keytab_insert(&t, &v[i], rp_key_hash(&v[i].key)), RTPPROC_OK);
        CU_ASSERT_EQUAL(rp_keytab_size(&t), i + 1);
    }
    CU_ASSERT(table_sound(&t));
    CU_ASSERT(t.mask + 1 >= 2 * N); /* grew by doubling from 64 */
    unsigned found = 0;
    for (unsigned i = 0; i < N; i++)
        found += rp_keytab_find(&t, &v[i].key, rp_key_hash(&v[i].key)) == &v[i];
    CU_ASSERT_EQUAL(found, N);

    /* A key that was never inserted. */
    rp_key other;
    make_key(&other, N + 1);
    other.ssrc = 0xdeadbeef;
    CU_ASSERT_PTR_NULL(rp_keytab_find(&t, &other, rp_key_hash(&other)));
    rp_keytab_remove(&t, &other, rp_key_hash(&other)); /* absent: no-op */
    CU_ASSERT_EQUAL(rp_keytab_size(&t), N);

    /* Every other one out, then the rest still there. */
    for (unsigned i = 0; i < N; i += 2)
        rp_keytab_remove(&t, &v[i].key, rp_key_hash(&v[i].key));
    CU_ASSERT_EQUAL(rp_keytab_size(&t), N / 2);
    CU_ASSERT(table_sound(&t));
    unsigned ok = 0;
    for (unsigned i = 0; i < N; i++) {
        void *want = i % 2 ? &v[i] : NULL;
        ok += rp_keytab_find(&t, &v[i].key, rp_key_hash(&v[i].key)) == want;
    }
    CU_ASSERT_EQUAL(ok, N);

    /* All out: the table is back to its initial size. */
    for (unsigned i = 1; i < N; i += 2)
        rp_keytab_remove(&t, &v[i].key, rp_key_hash(&v[i].key));
    CU_ASSERT_EQUAL(rp_keytab_size(&t), 0);
    CU_ASSERT_EQUAL(t.mask + 1, 64);
    CU_ASSERT(table_sound(&t));
    rp_keytab_destroy(&t);
    free(v);
}

static void test_keytab_equal_hashes(void)
{
    /* 300 keys, one hash: a single probe run that the table must tell
     * apart by key alone, through two doublings. */
    enum { N = 300 };
    const uint32_t h = 0x12345678u;
    item *v = make_items(N);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    rp_keytab t;
    CU_ASSERT_EQUAL_FATAL(rp_keytab_init(&t, offsetof(item, key)), RTPPROC_OK);
    for (unsigned i = 0; i < N; i++)
        CU_ASSERT_EQUAL(rp_keytab_insert(&t, &v[i], h), RTPPROC_OK);
    CU_ASSERT(table_sound(&t));
    unsigned ok = 0;
    for (unsigned i = 0; i < N; i++)
        ok += rp_keytab_find(&t, &v[i].key, h) == &v[i];
    CU_ASSERT_EQUAL(ok, N);

    /* Out of the middle of the run, one at a time, checking all others. */
    bool in[N];
    for (unsigned i = 0; i < N; i++)
        in[i] = true;
    unsigned bad = 0;
    for (unsigned r = 0; r < N; r++) {
        unsigned i = (N / 2 + r * 7) % N; /* 7 is prime to 300: each once */
        rp_keytab_remove(&t, &v[i].key, h);
        in[i] = false;
        if (r % 10 == 0 || r > N - 10) {
            for (unsigned j = 0; j < N; j++)
                bad += rp_keytab_find(&t, &v[j].key, h) != (in[j] ? &v[j] : NULL);
            bad += !table_sound(&t);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(rp_keytab_size(&t), 0);
    rp_keytab_destroy(&t);
    free(v);
}

static void test_keytab_backward_shift(void)
{
    /* At 64 slots, hashes chosen so runs overlap and wrap: homes 62, 63,
     * 0 and 1, four keys each, 16 values in slots 62..63 and 0..13. */
    enum { N = 16 };
    item *v = make_items(N);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    static const uint32_t homes[4] = {62, 63, 0, 1};
    uint32_t hash[N];
    for (unsigned i = 0; i < N; i++)
        hash[i] = homes[i % 4] + 64u * (i + 1); /* high bits differ: stored hash alone */

    /* Removal of each value in turn from a full pattern: every removal
     * position inside and across the wrap. */
    unsigned bad = 0;
    for (unsigned gone = 0; gone < N; gone++) {
        for (unsigned gone2 = 0; gone2 < N; gone2++) {
            rp_keytab t;
            CU_ASSERT_EQUAL_FATAL(rp_keytab_init(&t, offsetof(item, key)), RTPPROC_OK);
            for (unsigned i = 0; i < N; i++)
                bad += rp_keytab_insert(&t, &v[i], hash[i]) != RTPPROC_OK;
            bad += t.mask != 63; /* no growth below half full */
            rp_keytab_remove(&t, &v[gone].key, hash[gone]);
            rp_keytab_remove(&t, &v[gone2].key, hash[gone2]);
            for (unsigned i = 0; i < N; i++) {
                void *want = i == gone || i == gone2 ? NULL : &v[i];
                bad += rp_keytab_find(&t, &v[i].key, hash[i]) != want;
            }
            bad += rp_keytab_size(&t) != (gone == gone2 ? N - 1u : N - 2u);
            bad += !table_sound(&t);
            rp_keytab_destroy(&t);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(v);
}

static void test_keytab_last_word(void)
{
    /* Keys equal but for their last word (the SSRC), or their first byte,
     * under one hash. */
    item a, b, c;
    memset(&a, 0, sizeof(a));
    make_key(&a.key, 42);
    b = a;
    b.key.ssrc ^= 0x80000000u;
    c = a;
    c.key.flow.src.family = 6;
    CU_ASSERT_EQUAL_FATAL(sizeof(rp_key) - offsetof(rp_key, ssrc), 4);
    rp_keytab t;
    CU_ASSERT_EQUAL_FATAL(rp_keytab_init(&t, offsetof(item, key)), RTPPROC_OK);
    CU_ASSERT_EQUAL(rp_keytab_insert(&t, &a, 5), RTPPROC_OK);
    CU_ASSERT_PTR_NULL(rp_keytab_find(&t, &b.key, 5));
    CU_ASSERT_PTR_NULL(rp_keytab_find(&t, &c.key, 5));
    CU_ASSERT_EQUAL(rp_keytab_insert(&t, &b, 5), RTPPROC_OK);
    CU_ASSERT_EQUAL(rp_keytab_insert(&t, &c, 5), RTPPROC_OK);
    CU_ASSERT_PTR_EQUAL(rp_keytab_find(&t, &a.key, 5), &a);
    CU_ASSERT_PTR_EQUAL(rp_keytab_find(&t, &b.key, 5), &b);
    CU_ASSERT_PTR_EQUAL(rp_keytab_find(&t, &c.key, 5), &c);
    rp_keytab_remove(&t, &a.key, 5);
    CU_ASSERT_PTR_NULL(rp_keytab_find(&t, &a.key, 5));
    CU_ASSERT_PTR_EQUAL(rp_keytab_find(&t, &b.key, 5), &b);
    CU_ASSERT_PTR_EQUAL(rp_keytab_find(&t, &c.key, 5), &c);
    CU_ASSERT_EQUAL(rp_keytab_size(&t), 2);
    rp_keytab_destroy(&t);

    /* The hash itself reads the last word. */
    CU_ASSERT_NOT_EQUAL(rp_key_hash(&a.key), rp_key_hash(&b.key));
    CU_ASSERT_NOT_EQUAL(rp_key_hash(&a.key), rp_key_hash(&c.key));
}

static void test_keytab_hash_spread(void)
{
    /* 8192 streams of one host pair told apart by port and SSRC: over 1024
     * buckets of the low bits, none far above the mean of 8. */
    unsigned count[1024] = {0}, max = 0;
    for (unsigned i = 0; i < 8192; i++) {
        rp_key k;
        make_key(&k, i);
        unsigned b = rp_key_hash(&k) & 1023;
        if (++count[b] > max)
            max = count[b];
    }
    CU_ASSERT(max <= 24);
}

/* xorshift32: a fixed sequence on every platform. */
static uint32_t next_random(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* 100 000 random inserts, finds and removals against a plain array, with
 * phases that fill the table and drain it (growth and shrinking). */
static void random_ops(uint32_t hash_mask)
{
    enum { N = 4000, OPS = 100000 };
    item *v = make_items(N);
    bool *in = calloc(N, sizeof(*in));
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    rp_keytab t;
    CU_ASSERT_EQUAL_FATAL(rp_keytab_init(&t, offsetof(item, key)), RTPPROC_OK);
    uint32_t seed = 2463534242u;
    size_t live = 0, max_cap = 0;
    unsigned bad = 0;
    for (unsigned op = 0; op < OPS; op++) {
        /* Phases of 20 000: the first half of each favours inserts. */
        bool filling = (op / 10000) % 2 == 0;
        unsigned i = next_random(&seed) % N;
        unsigned r = next_random(&seed) % 100;
        uint32_t h = rp_key_hash(&v[i].key) & hash_mask;
        if (r < 30) {
            bad += rp_keytab_find(&t, &v[i].key, h) != (in[i] ? &v[i] : NULL);
        } else if (!in[i] && (filling ? r < 85 : r < 45)) {
            bad += rp_keytab_insert(&t, &v[i], h) != RTPPROC_OK;
            in[i] = true;
            live++;
        } else if (in[i]) {
            rp_keytab_remove(&t, &v[i].key, h);
            in[i] = false;
            live--;
        }
        bad += rp_keytab_size(&t) != live;
        if (t.mask + 1 > max_cap)
            max_cap = t.mask + 1;
        if (op % 5000 == 4999) {
            for (unsigned j = 0; j < N; j++) {
                uint32_t hj = rp_key_hash(&v[j].key) & hash_mask;
                bad += rp_keytab_find(&t, &v[j].key, hj) != (in[j] ? &v[j] : NULL);
            }
            bad += !table_sound(&t);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(max_cap >= 2048); /* it grew */
    /* Drained, it shrinks to what is left. */
    for (unsigned j = 0; j < N; j++) {
        if (in[j])
            rp_keytab_remove(&t, &v[j].key, rp_key_hash(&v[j].key) & hash_mask);
    }
    CU_ASSERT_EQUAL(rp_keytab_size(&t), 0);
    CU_ASSERT_EQUAL(t.mask + 1, 64);
    rp_keytab_destroy(&t);
    free(in);
    free(v);
}

static void test_keytab_random_against_array(void)
{
    random_ops(0xffffffffu);
}

static void test_keytab_random_colliding(void)
{
    /* 32 distinct hashes for 4000 keys: long runs, removals inside them. */
    random_ops(0x1fu);
}

CU_pSuite rtpproc_test_keytab_suite(void)
{
    CU_pSuite s = CU_add_suite("keytab", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (!CU_add_test(s, "insert, find, remove 5000 keys", test_keytab_insert_find_remove) ||
        !CU_add_test(s, "one hash for 300 keys", test_keytab_equal_hashes) ||
        !CU_add_test(s, "backward shift inside and across the wrap", test_keytab_backward_shift) ||
        !CU_add_test(s, "keys differing in the last word only", test_keytab_last_word) ||
        !CU_add_test(s, "hash spread over low bits", test_keytab_hash_spread) ||
        !CU_add_test(s, "100000 random operations against an array",
                     test_keytab_random_against_array) ||
        !CU_add_test(s, "100000 random operations, 32 hashes", test_keytab_random_colliding))
        return NULL;
    return s;
}
