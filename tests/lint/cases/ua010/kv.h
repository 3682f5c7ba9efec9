/* UA010: types of an async header whose twin differs but keeps the name: a program that
 * includes kv.h and sync_kv.h fails with a redefinition. kv_stats and kv_mode are the same in
 * the twin; kv_renamed has a rule. */
#ifndef KV_H
#define KV_H
#include <unasync/async.h>

struct kv_client {
    async_mutex_t lock;
    int fd;
};
typedef struct kv_client kv_client_t;
typedef struct {
    async_sem_t slots;
} kv_pool_t;
struct kv_stats {
    int hits, misses;
};
typedef enum kv_mode { KV_FAST, KV_SAFE } kv_mode_t;
struct kv_renamed {
    async_mutex_t m;
};

async int kv_get(kv_client_t *c, const char *key);
async int kv_set(kv_client_t *c, const char *key, const char *value);
#endif
