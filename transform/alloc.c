/* alloc.c - the transformer's one allocation hook, so tests can fail its Nth allocation. */
#include "ua_int.h"

#include <stdint.h>

static void *(*ua_malloc_fn)(size_t) = malloc;
static void *(*ua_realloc_fn)(void *, size_t) = realloc;
static void (*ua_free_fn)(void *) = free;

void ua_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                      void (*free_fn)(void *))
{
    ua_malloc_fn = malloc_fn ? malloc_fn : malloc;
    ua_realloc_fn = realloc_fn ? realloc_fn : realloc;
    ua_free_fn = free_fn ? free_fn : free;
}

/* A zero size asks for one byte, so that NULL always means failure. */
void *ua_malloc(size_t n)
{
    return ua_malloc_fn(n ? n : 1);
}

void *ua_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = ua_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *ua_realloc(void *p, size_t n)
{
    return ua_realloc_fn(p, n ? n : 1);
}

void ua_free(void *p)
{
    if (p)
        ua_free_fn(p);
}

char *ua_strndup(const char *s, size_t n)
{
    char *p = ua_malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ua_strdup(const char *s)
{
    return s ? ua_strndup(s, strlen(s)) : NULL;
}
