/*
 * rtpproc - an intrusive doubly linked list, oldest first.
 *
 * The engine keeps two lists ordered by last activity -- its streams (for
 * the idle timeout) and its probation slots (expiry and eviction) -- and
 * moves an entry to the tail on every packet of it: O(1), no allocation.
 * The links live inside the entries; RP_CONTAINER gets the entry back.
 */
#ifndef RP_LIST_H
#define RP_LIST_H

#include <stddef.h>

typedef struct rp_link {
    struct rp_link *prev, *next;
} rp_link;

typedef struct rp_list {
    rp_link *head, *tail; /* oldest, newest; NULL when empty */
} rp_list;

#define RP_CONTAINER(link, type, member) ((type *)(void *)((char *)(link)-offsetof(type, member)))

static inline void rp_list_unlink(rp_list *l, rp_link *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
}

static inline void rp_list_append(rp_list *l, rp_link *n)
{
    n->prev = l->tail;
    n->next = NULL;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
}

#endif
