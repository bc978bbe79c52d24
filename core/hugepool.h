/*
 * rtpproc - per-stream objects on huge pages.
 *
 * A packet touches its stream, its recorder and the recorder's buffer, and
 * with thousands of streams each of those sits on its own 4 KiB page: the
 * TLB misses cost more than the work (measured with glibc's
 * malloc.hugetlb tunable: a third of the user time at 1000 streams).
 * Objects allocated here come from 2 MiB chunks that the kernel is asked
 * to back with transparent huge pages (madvise MADV_HUGEPAGE; THP in
 * "madvise" mode, the Debian default, honours it).
 *
 * Sizes are classes: each distinct size keeps a free list of its freed
 * objects, reused first. Chunks are never returned to the system, so the
 * memory held is the peak of live objects (rounded up to a chunk per size
 * class). Thread-safe (workers of --threads open and close streams);
 * allocation and release happen once per stream, never per packet.
 *
 * With AddressSanitizer the functions are calloc() and free(), so that
 * overflows of these objects are still caught.
 */
#ifndef RP_HUGEPOOL_H
#define RP_HUGEPOOL_H

#include <stddef.h>

/* Zero-filled memory for `size` bytes (at most RP_HUGEPOOL_MAX; larger
 * sizes come from calloc), aligned to 64 bytes, or NULL. */
void *rp_hugepool_alloc(size_t size);

/*
 * The same, with undefined contents (a buffer that is written before it is
 * read): a reused object is not cleared. Memory never used before is
 * zero either way and is not touched here, so that its pages are faulted
 * in where the data is first written.
 */
void *rp_hugepool_alloc_buffer(size_t size);

/* Releases `p` from rp_hugepool_alloc(size) or rp_hugepool_alloc_buffer(size)
 * with the same `size`. NULL is ignored. */
void rp_hugepool_free(void *p, size_t size);

#define RP_HUGEPOOL_MAX (64 * 1024)

/* Whether objects come from the pool (false under AddressSanitizer). */
int rp_hugepool_active(void);

#endif
