/* fetch.c - async source: the blocking twin sync_fetch.c is generated from it. */
#include "fetch.h"

#include <stdio.h>

async int fetch_user(client_t *c, int id, int *out)
{
    await async_mutex_lock(&c->lock);   /* "await" in comments stays: await async_x */
    c->requests++;
    async_mutex_unlock(&c->lock);
    int rc = await async_sleep_ms(1);
#if UNASYNC_ASYNC
    printf("async fetch %d\n", id);
#else
    printf("blocking fetch %d\n", id);
#endif
    *out = id * 10;
    return rc;
}
