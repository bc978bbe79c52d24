/*
 * rtpproc - per-stream objects on huge pages (see hugepool.h).
 */
#include "hugepool.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <glib.h>

#if defined(__SANITIZE_ADDRESS__)
#define RP_HUGEPOOL_PLAIN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RP_HUGEPOOL_PLAIN 1
#endif
#endif

#ifdef RP_HUGEPOOL_PLAIN

int rp_hugepool_active(void)
{
    return 0;
}

void *rp_hugepool_alloc(size_t size)
{
    return calloc(1, size);
}

void *rp_hugepool_alloc_buffer(size_t size)
{
    return malloc(size != 0 ? size : 1);
}

void rp_hugepool_free(void *p, size_t size)
{
    (void)size;
    free(p);
}

#else

#define RP_CHUNK       (2u * 1024 * 1024)
#define RP_ALIGN       64u
#define RP_MAX_CLASSES 16

typedef struct rp_free {
    struct rp_free *next;
} rp_free;

/* One size: its free list and the chunk it is carving. */
typedef struct rp_class {
    size_t size; /* rounded to RP_ALIGN; 0: unused class */
    rp_free *free;
    uint8_t *next; /* next unused byte of the current chunk */
    uint8_t *end;
} rp_class;

static GMutex lock;
static rp_class classes[RP_MAX_CLASSES];

int rp_hugepool_active(void)
{
    return 1;
}

static rp_class *class_of(size_t size)
{
    for (size_t i = 0; i < RP_MAX_CLASSES; i++) {
        if (classes[i].size == size)
            return &classes[i];
        if (classes[i].size == 0) {
            classes[i].size = size;
            return &classes[i];
        }
    }
    return NULL; /* more sizes than classes: plain malloc */
}

/*
 * A 2 MiB-aligned chunk, so that one huge page backs it whole, mapped
 * anonymously: its memory is zero until used, so objects carved from it
 * need no clearing (clearing them made the reading thread fault in, and
 * write, every new stream's buffer at once).
 */
static uint8_t *new_chunk(void)
{
    uint8_t *p =
        mmap(NULL, 2 * RP_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uint8_t *chunk = (uint8_t *)(((uintptr_t)p + RP_CHUNK - 1) & ~(uintptr_t)(RP_CHUNK - 1));
    if (chunk > p)
        munmap(p, (size_t)(chunk - p));
    if (chunk + RP_CHUNK < p + 2 * RP_CHUNK)
        munmap(chunk + RP_CHUNK, (size_t)(p + 2 * RP_CHUNK - (chunk + RP_CHUNK)));
    (void)madvise(chunk, RP_CHUNK, MADV_HUGEPAGE); /* advice: fine if refused */
    return chunk;
}

/* An object of `rounded` bytes (a multiple of RP_ALIGN, at most
 * RP_HUGEPOOL_MAX); *reused tells whether it may hold old contents (freed
 * before, or from malloc) rather than come from a fresh chunk. */
static void *pool_alloc(size_t rounded, bool *reused)
{
    void *p = NULL;
    g_mutex_lock(&lock);
    rp_class *c = class_of(rounded);
    *reused = c == NULL || c->free != NULL;
    if (c != NULL && c->free != NULL) {
        p = c->free;
        c->free = c->free->next;
    } else if (c != NULL) {
        if (c->next == NULL || (size_t)(c->end - c->next) < rounded) {
            /* The tail of the previous chunk (less than one object) is left. */
            uint8_t *chunk = new_chunk();
            if (chunk != NULL) {
                c->next = chunk;
                c->end = chunk + RP_CHUNK;
            }
        }
        if (c->next != NULL && (size_t)(c->end - c->next) >= rounded) {
            p = c->next;
            c->next += rounded;
        }
    }
    g_mutex_unlock(&lock);
    if (c == NULL)
        return malloc(rounded); /* more sizes than classes */
    return p;
}

/* An object of `size` bytes, cleared if `zero` unless it is known zero. */
static void *alloc(size_t size, bool zero)
{
    size_t rounded = (size + RP_ALIGN - 1) & ~(size_t)(RP_ALIGN - 1);
    bool reused = false;

    if (size == 0 || rounded > RP_HUGEPOOL_MAX)
        return zero ? calloc(1, size != 0 ? size : 1) : malloc(size != 0 ? size : 1);
    void *p = pool_alloc(rounded, &reused);
    if (p != NULL && reused && zero)
        memset(p, 0, rounded);
    return p;
}

void *rp_hugepool_alloc(size_t size)
{
    return alloc(size, true);
}

void *rp_hugepool_alloc_buffer(size_t size)
{
    return alloc(size, false);
}

void rp_hugepool_free(void *p, size_t size)
{
    if (p == NULL)
        return;
    size_t rounded = (size + RP_ALIGN - 1) & ~(size_t)(RP_ALIGN - 1);
    if (size == 0 || rounded > RP_HUGEPOOL_MAX) {
        free(p);
        return;
    }
    g_mutex_lock(&lock);
    rp_class *c = NULL;
    for (size_t i = 0; i < RP_MAX_CLASSES && classes[i].size != 0; i++) {
        if (classes[i].size == rounded)
            c = &classes[i];
    }
    if (c != NULL) {
        rp_free *f = p;
        f->next = c->free;
        c->free = f;
    }
    g_mutex_unlock(&lock);
    if (c == NULL)
        free(p); /* came from malloc: more sizes than classes */
}

#endif
