/* Coroutine stacks: mmap + guard page + LIFO cache, with LSan/ASan/valgrind bookkeeping. */
#include "stack.h"

#include "internal.h"
#include "san.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

size_t ua_page_size(void)
{
    return (size_t)getpagesize(); /* libc caches it; no shared static to race on */
}

static void ua_stack_unmap(ua_stack_t *st)
{
    ua_vg_stack_deregister(st->vg_id);
    munmap(st->map, st->map_len);
    ua_rt_free(st);
}

ua_stack_t *ua_stack_get(ua_stack_cache_t *cache, size_t size, int guard)
{
    size_t page = ua_page_size();
    size = (size + page - 1) & ~(page - 1);
    while (cache->head) {
        ua_stack_t *st = cache->head;
        cache->head = st->next;
        cache->count--;
        if (st->size == size && st->guard == guard) {
            ua_san_root_add(st->bottom, st->size);
            return st;
        }
        ua_stack_unmap(st); /* configuration changed: drop stale stacks */
    }
    ua_stack_t *st = ua_rt_malloc(sizeof *st);
    if (!st)
        return NULL;
    st->map_len = size + (guard ? page : 0);
    st->map = mmap(NULL, st->map_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (st->map == MAP_FAILED) {
        ua_rt_free(st);
        return NULL;
    }
    if (guard && mprotect(st->map, page, PROT_NONE) != 0) {
        munmap(st->map, st->map_len);
        ua_rt_free(st);
        return NULL;
    }
    st->bottom = (char *)st->map + (guard ? page : 0);
    st->size = size;
    st->guard = guard;
    st->next = NULL;
    st->vg_id = ua_vg_stack_register(st->bottom, (char *)st->bottom + size);
    ua_san_root_add(st->bottom, st->size);
    return st;
}

void ua_stack_put(ua_stack_cache_t *cache, ua_stack_t *st)
{
    /* Frames that never returned (the coroutine switched away for good) leave ASan redzones. */
    ua_san_unpoison(st->bottom, st->size);
    ua_san_root_del(st->bottom, st->size);
    if (cache->count >= UA_STACK_CACHE_MAX) {
        ua_stack_unmap(st);
        return;
    }
    st->next = cache->head;
    cache->head = st;
    cache->count++;
}

void ua_stack_cache_clear(ua_stack_cache_t *cache)
{
    while (cache->head) {
        ua_stack_t *st = cache->head;
        cache->head = st->next;
        ua_stack_unmap(st);
    }
    cache->count = 0;
}
