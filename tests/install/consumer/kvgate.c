/* kvgate: two tenants write a fixed burst of keys through the rate-limited gate, one task each,
 * and the program prints what was granted (async source; sync_kvgate.c is generated from it).
 * Usage: kvgate [unix:///path/redis.sock | redis://host:port]   (no argument: memory backend) */
#include <stdio.h>

#include <unasync/async.h>

#include "gate.h"

#define BURST 8

struct burst {
    gate_t *gate;
    const char *tenant;
    int64_t writes_per_minute;
    int granted, denied;
    int64_t retry_after_ms; /* what the last denial said */
    long long stored;
    int rc;
};

/* One tenant's burst: BURST writes as fast as the gate answers, yielding between them so the
 * tenants interleave; then counts what the store holds. */
static async int write_burst(void *arg)
{
    struct burst *b = arg;
    for (int i = 0; i < BURST && b->rc == 0; i++) {
        char key[16], value[32];
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(value, sizeof value, "%s-%d", b->tenant, i * i);
        int rc = await gate_put(b->gate, b->tenant, key, value, &b->retry_after_ms);
        if (rc == 0)
            b->granted++;
        else if (rc == RL_EEXCEEDED)
            b->denied++;
        else
            b->rc = rc;
        await async_yield();
    }
    if (b->rc == 0)
        b->rc = await gate_count(b->gate, b->tenant, &b->stored);
    return b->rc;
}

static async int run(void *arg)
{
    const char *url = arg;
    gate_t *gate;
    int rc = await gate_open(&gate, url);
    if (rc) {
        fprintf(stderr, "kvgate: cannot open %s: %s\n", url ? url : "the memory backend",
                gate_strerror(rc));
        return rc;
    }
    struct burst bursts[] = {{gate, "alpha", 5, 0, 0, 0, 0, 0}, {gate, "beta", 3, 0, 0, 0, 0, 0}};
    enum { NTENANTS = sizeof bursts / sizeof bursts[0] };
    async_task_t *tasks[NTENANTS] = {NULL};
    for (int i = 0; i < NTENANTS && rc == 0; i++)
        rc = await gate_add_tenant(gate, bursts[i].tenant, bursts[i].writes_per_minute);
    for (int i = 0; i < NTENANTS && rc == 0; i++)
        if ((tasks[i] = async_spawn(write_burst, &bursts[i])) == NULL)
            rc = UNASYNC_ENOMEM;
    for (int i = 0; i < NTENANTS; i++)
        if (tasks[i])
            await async_join(tasks[i], NULL);

    printf("kvgate on %s\n", url ? "redis" : "memory");
    for (int i = 0; i < NTENANTS; i++) {
        struct burst *b = &bursts[i];
        if (b->rc && rc == 0)
            rc = b->rc;
        printf("%s: %d writes, %d granted, %d denied, retry after %lld ms, %lld stored\n",
               b->tenant, BURST, b->granted, b->denied, (long long)b->retry_after_ms, b->stored);
    }
    if (rc)
        fprintf(stderr, "kvgate: %s\n", gate_strerror(rc));
    int rc2 = await gate_close(gate);
    return rc ? rc : rc2;
}

int main(int argc, char **argv)
{
    return async_run(run, argc > 1 ? argv[1] : NULL) == 0 ? 0 : 1;
}
