/* The server's allocation functions: names for the core stack's one hook (ua_set_allocator), so
 * that one setter fails the Nth allocation of the whole server stack. */
#include "ws.h"

void srv_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                       void (*free_fn)(void *))
{
    ua_set_allocator(malloc_fn, realloc_fn, free_fn);
}

void *srv_malloc(size_t n)
{
    return ua_malloc(n);
}

void *srv_calloc(size_t n, size_t size)
{
    return ua_calloc(n, size);
}

void *srv_realloc(void *p, size_t n)
{
    return ua_realloc(p, n);
}

void srv_free(void *p)
{
    ua_free(p);
}

char *srv_strndup(const char *s, size_t n)
{
    return ua_strndup(s, n);
}

char *srv_strdup(const char *s)
{
    return ua_strdup(s);
}
