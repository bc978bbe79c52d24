/*
 * Unit tests: core/hugepool.c (per-stream objects on huge pages).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "hugepool.h"

CU_pSuite rtpproc_test_hugepool_suite(void);

/* Zero-filled, 64-byte aligned, distinct, and writable to the last byte,
 * across several 2 MiB chunks (3000 objects of 8 KiB are 12 chunks). */
static void test_hugepool_alloc_zeroed_aligned_distinct(void)
{
    enum { N = 3000, SIZE = 8192 };
    static uint8_t *p[N];
    unsigned bad_zero = 0, bad_align = 0, bad_fill = 0;
    for (unsigned i = 0; i < N; i++) {
        p[i] = rp_hugepool_alloc(SIZE);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
        bad_align += ((uintptr_t)p[i] % 64) != 0;
        for (unsigned j = 0; j < SIZE; j++)
            bad_zero += p[i][j] != 0;
        memset(p[i], (int)(i & 0xff), SIZE);
    }
    for (unsigned i = 0; i < N; i++) {
        for (unsigned j = 0; j < SIZE; j += 512)
            bad_fill += p[i][j] != (uint8_t)(i & 0xff) || p[i][SIZE - 1] != (uint8_t)(i & 0xff);
    }
    CU_ASSERT_EQUAL(bad_zero, 0);
    CU_ASSERT_EQUAL(bad_align, 0);
    CU_ASSERT_EQUAL(bad_fill, 0); /* no two objects overlap */
    for (unsigned i = 0; i < N; i++)
        rp_hugepool_free(p[i], SIZE);
}

/* A freed object is reused (and zeroed again) before new memory is carved. */
static void test_hugepool_reuse_is_zeroed(void)
{
    uint8_t *a = rp_hugepool_alloc(1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    memset(a, 0x5a, 1000);
    rp_hugepool_free(a, 1000);
    uint8_t *b = rp_hugepool_alloc(1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    /* Under ASan the pool is calloc/free: no reuse to check, only zeroing. */
    bool pooled = rp_hugepool_active();
    if (pooled)
        CU_ASSERT_PTR_EQUAL(b, a);
    unsigned nonzero = 0;
    for (unsigned j = 0; j < 1000; j++)
        nonzero += b[j] != 0;
    CU_ASSERT_EQUAL(nonzero, 0);
    /* Another size does not take it. */
    rp_hugepool_free(b, 1000);
    uint8_t *c = rp_hugepool_alloc(2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    uint8_t *d = rp_hugepool_alloc(1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    if (pooled)
        CU_ASSERT_PTR_EQUAL(d, a);
    rp_hugepool_free(c, 2000);
    rp_hugepool_free(d, 1000);
}

/* A buffer's contents are undefined: a reused one keeps what it held (it
 * is not cleared for nothing), but the same memory handed out by
 * rp_hugepool_alloc is zero again; fresh buffers are aligned and zero
 * (new chunks are anonymous mappings). */
static void test_hugepool_buffer_not_cleared_alloc_is(void)
{
    enum { SIZE = 4032 };
    uint8_t *a = rp_hugepool_alloc_buffer(SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL((uintptr_t)a % 64, 0);
    memset(a, 0x77, SIZE);
    rp_hugepool_free(a, SIZE);
    uint8_t *b = rp_hugepool_alloc_buffer(SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    if (rp_hugepool_active()) {
        CU_ASSERT_PTR_EQUAL(b, a);
        /* (its first bytes held the free list's link) */
        CU_ASSERT_EQUAL(b[64], 0x77);
        CU_ASSERT_EQUAL(b[SIZE - 1], 0x77);
    }
    memset(b, 0x55, SIZE);
    rp_hugepool_free(b, SIZE);
    uint8_t *c = rp_hugepool_alloc(SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    unsigned nonzero = 0;
    for (unsigned j = 0; j < SIZE; j++)
        nonzero += c[j] != 0;
    CU_ASSERT_EQUAL(nonzero, 0);
    rp_hugepool_free(c, SIZE);
}

/* Sizes above RP_HUGEPOOL_MAX and zero come from calloc and go back to free
 * (run under valgrind or ASan, a mismatch shows). */
static void test_hugepool_large_and_zero_sizes(void)
{
    uint8_t *big = rp_hugepool_alloc(RP_HUGEPOOL_MAX + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_EQUAL(big[RP_HUGEPOOL_MAX], 0);
    big[RP_HUGEPOOL_MAX] = 1;
    rp_hugepool_free(big, RP_HUGEPOOL_MAX + 1);
    void *z = rp_hugepool_alloc(0);
    CU_ASSERT_PTR_NOT_NULL(z);
    rp_hugepool_free(z, 0);
    rp_hugepool_free(NULL, 100);
}

/* Worker threads of --threads open and close streams at once. */
static void *churn(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    uint8_t *held[64] = {0};
    size_t sizes[3] = {1216, 8192, 4096};
    unsigned bad = 0;
    for (unsigned i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned k = (seed >> 16) % 64;
        size_t size = sizes[k % 3];
        if (held[k] != NULL) {
            for (size_t j = 0; j < size; j += 256)
                bad += held[k][j] != (uint8_t)k;
            rp_hugepool_free(held[k], size);
            held[k] = NULL;
        } else {
            held[k] = rp_hugepool_alloc(size);
            if (held[k] != NULL)
                memset(held[k], (int)k, size);
        }
    }
    for (unsigned k = 0; k < 64; k++)
        rp_hugepool_free(held[k], sizes[k % 3]);
    return (void *)(uintptr_t)bad;
}

static void test_hugepool_threads(void)
{
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, churn, (void *)(i + 1)), 0);
    uintptr_t bad = 0;
    for (unsigned i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (uintptr_t)r;
    }
    CU_ASSERT_EQUAL(bad, 0); /* no object handed to two threads at once */
}

CU_pSuite rtpproc_test_hugepool_suite(void)
{
    CU_pSuite s = CU_add_suite("hugepool", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (!CU_add_test(s, "3000 objects: zeroed, aligned, distinct",
                     test_hugepool_alloc_zeroed_aligned_distinct) ||
        !CU_add_test(s, "a freed object is reused, zeroed", test_hugepool_reuse_is_zeroed) ||
        !CU_add_test(s, "a reused buffer is not cleared, an object is",
                     test_hugepool_buffer_not_cleared_alloc_is) ||
        !CU_add_test(s, "large and zero sizes", test_hugepool_large_and_zero_sizes) ||
        !CU_add_test(s, "four threads allocating and freeing", test_hugepool_threads))
        return NULL;
    return s;
}
