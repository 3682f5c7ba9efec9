/* The runtime's one allocation hook, so that tests can fail its Nth allocation. */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *(*ua_rt_malloc_fn)(size_t) = malloc;
static void (*ua_rt_free_fn)(void *) = free;

void unasync_set_allocator(void *(*malloc_fn)(size_t), void (*free_fn)(void *))
{
    ua_rt_malloc_fn = malloc_fn ? malloc_fn : malloc;
    ua_rt_free_fn = free_fn ? free_fn : free;
}

/* A zero size asks for one byte, so that NULL always means failure. */
void *ua_rt_malloc(size_t n)
{
    return ua_rt_malloc_fn(n ? n : 1);
}

void *ua_rt_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = ua_rt_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void ua_rt_free(void *p)
{
    if (p)
        ua_rt_free_fn(p);
}
