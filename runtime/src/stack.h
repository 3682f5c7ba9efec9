/* Coroutine stacks: mmap'd, optionally with a PROT_NONE guard page below, kept in a LIFO cache. */
#ifndef UA_STACK_H
#define UA_STACK_H

#include <stddef.h>

typedef struct ua_stack {
    void *map;             /* the whole mapping, guard page included */
    size_t map_len;        /* its length */
    void *bottom;          /* lowest usable address */
    size_t size;           /* usable bytes */
    unsigned vg_id;        /* valgrind stack id */
    int guard;             /* has a guard page */
    struct ua_stack *next; /* cache link */
} ua_stack_t;

typedef struct ua_stack_cache {
    ua_stack_t *head;
    size_t count;
} ua_stack_cache_t;

#ifdef UNASYNC_SANITIZE
#define UA_STACK_DEFAULT (256 * 1024)
#else
#define UA_STACK_DEFAULT (64 * 1024)
#endif
/* How many stacks a thread keeps for reuse; more are unmapped when released. */
#define UA_STACK_CACHE_MAX 1024

/* Returns a stack of `size` usable bytes (rounded up to pages) from the cache or a new mapping;
 * NULL when mmap or mprotect fails (errno tells). The stack is registered with LSan. */
ua_stack_t *ua_stack_get(ua_stack_cache_t *cache, size_t size, int guard);
/* Returns a stack to the cache (unpoisoned, unregistered from LSan), or unmaps it. */
void ua_stack_put(ua_stack_cache_t *cache, ua_stack_t *st);
/* Unmaps every cached stack. */
void ua_stack_cache_clear(ua_stack_cache_t *cache);
/* The page size, cached. */
size_t ua_page_size(void);

#endif /* UA_STACK_H */
