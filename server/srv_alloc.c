/* The server's one allocation hook, so tests can fail its Nth allocation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "srv_int.h"

static void *(*srv__malloc_fn)(size_t) = malloc;
static void *(*srv__realloc_fn)(void *, size_t) = realloc;
static void (*srv__free_fn)(void *) = free;

void srv_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                       void (*free_fn)(void *))
{
    srv__malloc_fn = malloc_fn ? malloc_fn : malloc;
    srv__realloc_fn = realloc_fn ? realloc_fn : realloc;
    srv__free_fn = free_fn ? free_fn : free;
}

/* A zero size asks for one byte, so that NULL always means failure. */
void *srv_malloc(size_t n)
{
    return srv__malloc_fn(n ? n : 1);
}

void *srv_calloc(size_t n, size_t size)
{
    void *p;
    if (size && n > SIZE_MAX / size)
        return NULL;
    p = srv_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *srv_realloc(void *p, size_t n)
{
    return srv__realloc_fn(p, n ? n : 1);
}

void srv_free(void *p)
{
    if (p)
        srv__free_fn(p);
}

char *srv_strndup(const char *s, size_t n)
{
    char *p = srv_malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *srv_strdup(const char *s)
{
    return s ? srv_strndup(s, strlen(s)) : NULL;
}

void srv_free_handle(uv_handle_t *h)
{
    srv_free(h);
}
