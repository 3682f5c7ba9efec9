/* kvgate's gate: every write first acquires one token from the tenant's limit, then stores the
 * value and commits the lease (async source; sync_gate.c is generated from it). */
#include "gate.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unasync/limiter/memory.h>
#include <unasync/limiter/redis.h>

#define GATE_MAX_VALUES 64
#define GATE_NAME_MAX   32
#define GATE_RESOURCE   "kv-write"
/* 2026-12-02T00:00:00Z: the limiter's clock never moves, so no token is refilled mid-burst. */
#define GATE_EPOCH_MS INT64_C(1796169600000)

struct gate_value {
    char tenant[GATE_NAME_MAX];
    char key[GATE_NAME_MAX];
    char value[GATE_NAME_MAX];
};

struct gate {
    rl_limiter_t *limiter;
    int64_t now_ms;       /* what the limiter's manual clock reads */
    rl_clock_t clock;     /* reads now_ms; the repository keeps a pointer to it */
    async_mutex_t lock;   /* guards redis or the table: tenants write from several tasks */
    async_redis_t *redis; /* NULL: the values live in the table below */
    size_t nvalues;
    struct gate_value values[GATE_MAX_VALUES];
};

const char *gate_strerror(int err)
{
    return strcmp(rl_err_name(err), "EUNKNOWN") != 0 ? rl_strerror(err) : unasync_strerror(err);
}

/* Connects the value store to the server named by url (the limiter connects on its own). */
static async int connect_store(gate_t *g, const char *url)
{
    if (strncmp(url, "unix://", 7) == 0)
        return await async_redis_connect_unix_timed(&g->redis, url + 7, 2000);
    char host[256];
    int port = 6379;
    if (sscanf(url, "redis://%255[^:/]:%d", host, &port) < 1)
        return RL_EURL;
    return await async_redis_connect_timed(&g->redis, host, port, 2000);
}

/* One Redis command on the store's connection (argv: its words); the reply's integer goes to *n
 * when n is not NULL. */
static async int store_command(gate_t *g, long long *n, int argc, const char **argv)
{
    redisReply *reply;
    int rc = await async_redis_command_argv(g->redis, &reply, argc, argv, NULL);
    if (rc)
        return rc;
    if (reply->type == REDIS_REPLY_ERROR)
        rc = RL_EPROTO;
    else if (n)
        *n = reply->integer;
    freeReplyObject(reply);
    return rc;
}

/* The Redis hash holding tenant's values. */
static void store_hash(char *buf, size_t len, const char *tenant)
{
    snprintf(buf, len, "kvgate:kv:%s", tenant);
}

async int gate_open(gate_t **out, const char *url)
{
    gate_t *g = calloc(1, sizeof *g);
    if (!g)
        return RL_ENOMEM;
    g->now_ms = GATE_EPOCH_MS;
    int rc = async_mutex_init(&g->lock);
    if (rc) {
        free(g);
        return rc;
    }
    g->clock = rl_manual_clock(&g->now_ms);
    rl_options_t opts;
    rl_options_init(&opts);
    opts.clock = &g->clock;
    opts.key_prefix = "kvgate:rl:";
    rl_repo_t *repo;
    rc = url ? await rl_redis_open(&repo, url, &opts) : rl_memory_open(&repo, &opts);
    if (rc == 0)
        rc = rl_limiter_open(&g->limiter, repo);
    if (rc == 0 && url)
        rc = await connect_store(g, url);
    if (rc) {
        await gate_close(g);
        return rc;
    }
    *out = g;
    return 0;
}

async int gate_add_tenant(gate_t *g, const char *tenant, int64_t writes_per_minute)
{
    if (strlen(tenant) >= GATE_NAME_MAX)
        return RL_EINVAL;
    rl_limit_t limit;
    int rc = rl_limit_per_minute(&limit, "writes", writes_per_minute, 0);
    if (rc)
        return rc;
    rc = await rl_limiter_delete_entity(g->limiter, tenant); /* a rerun on Redis starts afresh */
    if (rc && rc != RL_ENOTFOUND)
        return rc;
    if ((rc = await rl_limiter_create_entity(g->limiter, tenant, NULL, NULL, false)) != 0 ||
        (rc = await rl_limiter_set_limits(g->limiter, tenant, GATE_RESOURCE, &limit, 1)) != 0)
        return rc;
    if (!g->redis)
        return 0;
    await async_mutex_lock(&g->lock);
    char hash[64];
    store_hash(hash, sizeof hash, tenant);
    const char *del[] = {"DEL", hash};
    rc = await store_command(g, NULL, 2, del);
    async_mutex_unlock(&g->lock);
    return rc;
}

/* Stores one value in the table or in the tenant's Redis hash. */
static async int store_put(gate_t *g, const char *tenant, const char *key, const char *value)
{
    int rc = 0;
    await async_mutex_lock(&g->lock);
    if (g->redis) {
        char hash[64];
        store_hash(hash, sizeof hash, tenant);
        const char *hset[] = {"HSET", hash, key, value};
        rc = await store_command(g, NULL, 4, hset);
    } else if (g->nvalues == GATE_MAX_VALUES || strlen(key) >= GATE_NAME_MAX ||
               strlen(value) >= GATE_NAME_MAX) {
        rc = RL_ERANGE;
    } else {
        struct gate_value *v = &g->values[g->nvalues++];
        snprintf(v->tenant, sizeof v->tenant, "%s", tenant);
        snprintf(v->key, sizeof v->key, "%s", key);
        snprintf(v->value, sizeof v->value, "%s", value);
    }
    async_mutex_unlock(&g->lock);
    return rc;
}

async int gate_put(gate_t *g, const char *tenant, const char *key, const char *value,
                   int64_t *retry_after_ms)
{
    rl_amount_t one[] = {{"writes", 1}};
    rl_lease_t lease;
    rl_report_t report;
    int rc = await rl_limiter_acquire(g->limiter, &lease, tenant, GATE_RESOURCE, one, 1, NULL,
                                      &report);
    if (rc == RL_EEXCEEDED)
        *retry_after_ms = report.exceeded.retry_after_ms;
    if (rc)
        return rc;
    if ((rc = await store_put(g, tenant, key, value)) != 0) {
        await rl_lease_rollback(&lease); /* nothing stored: give the token back */
        return rc;
    }
    return await rl_lease_commit(&lease, &report);
}

async int gate_count(gate_t *g, const char *tenant, long long *n)
{
    int rc = 0;
    await async_mutex_lock(&g->lock);
    if (g->redis) {
        char hash[64];
        store_hash(hash, sizeof hash, tenant);
        const char *hlen[] = {"HLEN", hash};
        rc = await store_command(g, n, 2, hlen);
    } else {
        *n = 0;
        for (size_t i = 0; i < g->nvalues; i++)
            *n += strcmp(g->values[i].tenant, tenant) == 0;
    }
    async_mutex_unlock(&g->lock);
    return rc;
}

async int gate_close(gate_t *g)
{
    if (!g)
        return 0;
    int rc = await rl_limiter_close(g->limiter);
    int rc2 = await async_redis_close(g->redis);
    async_mutex_destroy(&g->lock);
    free(g);
    return rc ? rc : rc2;
}
