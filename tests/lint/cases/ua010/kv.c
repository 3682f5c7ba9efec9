/* UA005 for the functions: with the types of kv.h, one kv_* glob covers every name. */
#include "kv.h"

async int kv_get(kv_client_t *c, const char *key)
{
    (void)key;
    return await async_mutex_lock(&c->lock);
}

async int kv_set(kv_client_t *c, const char *key, const char *value)
{
    (void)value;
    return await kv_get(c, key);
}
