/* The Redis backend: hashes under a key prefix, bucket work in one Lua script run with EVALSHA. */
#include <unasync/limiter/redis.h>

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl_lua.h"

#define RL_PREFIX_MAX 64
#define RL_KEY_MAX    (RL_PREFIX_MAX + RL_ENTITY_ID_MAX + RL_RESOURCE_MAX + 8)

typedef struct rl_redis {
    rl_repo_t base; /* first: a rl_repo_t * is a rl_redis_t * */
    rl_url_t url;
    char prefix[RL_PREFIX_MAX + 1];
    int64_t timeout_ms;
    async_redis_t *conn; /* NULL while disconnected; the next command reconnects */
    async_mutex_t conn_lock;
    char sha[48]; /* of rl_lua_script, from SCRIPT LOAD */
} rl_redis_t;

/* ------------------------------------------------------------------------------------------ */
/* Command arguments                                                                            */
/* ------------------------------------------------------------------------------------------ */

#define RL_ARGS_MAX 160

typedef struct args {
    int argc;
    bool overflow;
    const char *argv[RL_ARGS_MAX];
    size_t len[RL_ARGS_MAX];
    size_t used;
    char buf[8192];
} args_t;

static void arg_mem(args_t *a, const char *s, size_t n)
{
    if (a->argc >= RL_ARGS_MAX || a->used + n + 1 > sizeof a->buf) {
        a->overflow = true;
        return;
    }
    char *p = a->buf + a->used;
    memcpy(p, s, n);
    p[n] = 0;
    a->argv[a->argc] = p;
    a->len[a->argc++] = n;
    a->used += n + 1;
}

static void arg_str(args_t *a, const char *s)
{
    arg_mem(a, s, strlen(s));
}

/* Decimal digits without snprintf: a consume sends ~20 numbers per call. */
static void arg_int(args_t *a, int64_t v)
{
    char num[24];
    char *end = num + sizeof num, *p = end;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    arg_mem(a, p, (size_t)(end - p));
}

/* Appends prefix + the parts, '#'-separated (no id, resource or limit name contains '#'). */
static void arg_key(args_t *a, const rl_redis_t *r, const char *kind, const char *p1,
                    const char *p2)
{
    char key[RL_KEY_MAX];
    int n = snprintf(key, sizeof key, "%s%s%s%s%s%s", r->prefix, kind, p1 ? "#" : "", p1 ? p1 : "",
                     p2 ? "#" : "", p2 ? p2 : "");
    arg_mem(a, key, (size_t)n);
}

static void arg_config_key(args_t *a, const rl_redis_t *r, rl_config_kind_t kind,
                           const char *entity_id, const char *resource)
{
    switch (kind) {
    case RL_CONFIG_SYSTEM:
        arg_key(a, r, "c#s", NULL, NULL);
        break;
    case RL_CONFIG_RESOURCE:
        arg_key(a, r, "c#r", resource, NULL);
        break;
    case RL_CONFIG_ENTITY:
        arg_key(a, r, "c#e", entity_id, resource);
        break;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Connection                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static int backend_error(rl_redis_t *r, int cause)
{
    r->base.last_cause = cause;
    return RL_EBACKEND;
}

/* Connects, selects the database and loads the script. Called with conn_lock held. The connect
 * and every command on the connection are bounded by timeout_ms; a command that times out breaks
 * the connection (the runtime closes it), so command() drops it and the next call reconnects. */
static async int connect_locked(rl_redis_t *r)
{
    async_redis_t *c = NULL;
    uint64_t timeout = (uint64_t)r->timeout_ms;
    int rc;
    if (r->url.is_unix)
        rc = await async_redis_connect_unix_timed(&c, r->url.path, timeout);
    else
        rc = await async_redis_connect_timed(&c, r->url.host, r->url.port, timeout);
    if (rc)
        return backend_error(r, rc);
    rc = async_redis_set_timeout(c, timeout);
    if (rc) {
        await async_redis_close(c);
        return backend_error(r, rc);
    }
    redisReply *reply = NULL;
    if (r->url.db) {
        rc = await async_redis_command(c, &reply, "SELECT %d", r->url.db);
        bool ok = rc == 0 && reply->type == REDIS_REPLY_STATUS;
        freeReplyObject(reply);
        if (!ok) {
            await async_redis_close(c);
            return rc ? backend_error(r, rc) : RL_EPROTO;
        }
    }
    rc = await async_redis_command(c, &reply, "SCRIPT LOAD %s", rl_lua_script);
    bool ok = rc == 0 && reply->type == REDIS_REPLY_STRING && reply->len < sizeof r->sha;
    if (ok)
        memcpy(r->sha, reply->str, reply->len + 1);
    if (rc == 0)
        freeReplyObject(reply);
    if (!ok) {
        await async_redis_close(c);
        return rc ? backend_error(r, rc) : RL_EPROTO;
    }
    r->conn = c;
    return 0;
}

/* Sends one command, connecting first when needed. On a broken connection the connection is
 * dropped (the next call reconnects) and RL_EBACKEND returned. An error reply is returned as a
 * reply: the caller decides. */
static async int command(rl_redis_t *r, redisReply **reply, args_t *a)
{
    *reply = NULL;
    if (a->overflow)
        return RL_ETOOMANY;
    int rc = await async_mutex_lock(&r->conn_lock);
    if (rc)
        return backend_error(r, rc);
    if (!r->conn) {
        rc = await connect_locked(r);
        if (rc) {
            async_mutex_unlock(&r->conn_lock);
            return rc;
        }
    }
    async_redis_t *conn = r->conn;
#if UNASYNC_ASYNC
    /* Tasks of one loop share the connection: their commands are pipelined. */
    async_mutex_unlock(&r->conn_lock);
#endif
    rc = await async_redis_command_argv(conn, reply, a->argc, a->argv, a->len);
    if (rc) {
#if UNASYNC_ASYNC
        /* Another task may have replaced the connection already. */
        if (await async_mutex_lock(&r->conn_lock) == 0) {
            if (r->conn == conn) {
                r->conn = NULL;
                await async_redis_close(conn);
            }
            async_mutex_unlock(&r->conn_lock);
        }
#else
        r->conn = NULL;
        await async_redis_close(conn);
#endif
    }
#if !UNASYNC_ASYNC
    /* A blocking connection serves one thread at a time. */
    async_mutex_unlock(&r->conn_lock);
#endif
    return rc ? backend_error(r, rc) : 0;
}

/* Runs the script with `a` (built after the two EVALSHA slots); reloads it on NOSCRIPT. */
static async int eval(rl_redis_t *r, redisReply **reply, args_t *a)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        a->argv[0] = "EVALSHA";
        a->len[0] = 7;
        a->argv[1] = r->sha;
        a->len[1] = strlen(r->sha);
        int rc = await command(r, reply, a);
        if (rc)
            return rc;
        if ((*reply)->type == REDIS_REPLY_ERROR && strncmp((*reply)->str, "NOSCRIPT", 8) == 0) {
            freeReplyObject(*reply);
            *reply = NULL;
            args_t load;
            load.argc = 0;
            load.used = 0;
            load.overflow = false;
            arg_str(&load, "SCRIPT");
            arg_str(&load, "LOAD");
            arg_str(&load, rl_lua_script);
            redisReply *lr = NULL;
            rc = await command(r, &lr, &load);
            if (rc)
                return rc;
            bool ok = lr->type == REDIS_REPLY_STRING && lr->len < sizeof r->sha;
            if (ok)
                memcpy(r->sha, lr->str, lr->len + 1);
            freeReplyObject(lr);
            if (!ok)
                return RL_EPROTO;
            continue;
        }
        if ((*reply)->type == REDIS_REPLY_ERROR) {
            freeReplyObject(*reply);
            *reply = NULL;
            return RL_EPROTO;
        }
        return 0;
    }
    return RL_EPROTO;
}

static void args_init(args_t *a, int reserved)
{
    a->argc = reserved;
    a->used = 0;
    a->overflow = false;
}

/* ------------------------------------------------------------------------------------------ */
/* Buckets                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* EVALSHA sha nkeys keys... op now nsets {count {name cap amt period delta}*}* */
static void bucket_args(args_t *a, rl_redis_t *r, const char *op, rl_bucket_set_t *sets, size_t n,
                        int64_t now_ms)
{
    args_init(a, 2);
    arg_int(a, (int64_t)n);
    for (size_t s = 0; s < n; s++)
        arg_key(a, r, "b", sets[s].entity_id, sets[s].resource);
    arg_str(a, op);
    arg_int(a, now_ms);
    arg_int(a, (int64_t)n);
    for (size_t s = 0; s < n; s++) {
        arg_int(a, (int64_t)sets[s].count);
        for (size_t i = 0; i < sets[s].count; i++) {
            const rl_limit_t *l = &sets[s].limits[i];
            arg_str(a, l->name);
            arg_int(a, l->capacity * 1000);
            arg_int(a, l->refill_amount * 1000);
            arg_int(a, l->refill_period_s * 1000);
            arg_int(a, sets[s].delta_milli[i]);
        }
    }
}

static async int rds_consume(rl_repo_t *repo, rl_bucket_set_t *sets, size_t n, int64_t now_ms,
                             bool *granted)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    bucket_args(&a, r, "consume", sets, n, now_ms);
    redisReply *reply;
    int rc = await eval(r, &reply, &a);
    if (rc)
        return rc;
    size_t want = 1;
    for (size_t s = 0; s < n; s++)
        want += 6 * sets[s].count;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != want) {
        freeReplyObject(reply);
        return RL_EPROTO;
    }
    for (size_t e = 0; e < want; e++) {
        if (reply->element[e]->type != REDIS_REPLY_INTEGER) {
            freeReplyObject(reply);
            return RL_EPROTO;
        }
    }
    *granted = reply->element[0]->integer == 1;
    size_t e = 1;
    for (size_t s = 0; s < n; s++) {
        for (size_t i = 0; i < sets[s].count; i++) {
            rl_bucket_t *b = &sets[s].buckets[i];
            b->tokens_milli = reply->element[e++]->integer;
            b->last_refill_ms = reply->element[e++]->integer;
            b->total_consumed_milli = reply->element[e++]->integer;
            b->capacity_milli = reply->element[e++]->integer;
            b->refill_amount_milli = reply->element[e++]->integer;
            b->refill_period_ms = reply->element[e++]->integer;
        }
    }
    freeReplyObject(reply);
    return 0;
}

static async int rds_adjust(rl_repo_t *repo, rl_bucket_set_t *sets, size_t n, int64_t now_ms)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    bucket_args(&a, r, "adjust", sets, n, now_ms);
    redisReply *reply;
    int rc = await eval(r, &reply, &a);
    if (rc == 0)
        freeReplyObject(reply);
    return rc;
}

static bool field_int(const redisReply *h, const char *name, const char *suffix, int64_t *out)
{
    size_t nl = strlen(name), sl = strlen(suffix);
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *k = h->element[i];
        if (k->type == REDIS_REPLY_STRING && k->len == nl + sl && memcmp(k->str, name, nl) == 0 &&
            memcmp(k->str + nl, suffix, sl) == 0) {
            *out = strtoll(h->element[i + 1]->str, NULL, 10);
            return true;
        }
    }
    return false;
}

static async int rds_read(rl_repo_t *repo, rl_bucket_set_t *sets, size_t n, int64_t now_ms)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    for (size_t s = 0; s < n; s++) {
        args_t a;
        args_init(&a, 0);
        arg_str(&a, "HGETALL");
        arg_key(&a, r, "b", sets[s].entity_id, sets[s].resource);
        redisReply *reply;
        int rc = await command(r, &reply, &a);
        if (rc)
            return rc;
        if (reply->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(reply);
            return RL_EPROTO;
        }
        for (size_t i = 0; i < sets[s].count; i++) {
            rl_bucket_t *b = &sets[s].buckets[i];
            const char *name = sets[s].limits[i].name;
            rl_bucket_init(b, &sets[s].limits[i], now_ms);
            int64_t tk = 0;
            if (field_int(reply, name, ":cp", &b->capacity_milli)) {
                field_int(reply, name, ":tk", &b->tokens_milli);
                field_int(reply, name, ":lr", &b->last_refill_ms);
                field_int(reply, name, ":tc", &b->total_consumed_milli);
                field_int(reply, name, ":ra", &b->refill_amount_milli);
                field_int(reply, name, ":rp", &b->refill_period_ms);
            } else if (field_int(reply, name, ":tk", &tk)) {
                b->tokens_milli += tk; /* adjusted before it was ever created */
            }
            rl_bucket_refill(b, now_ms);
        }
        freeReplyObject(reply);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Configs                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Parses an HGETALL of a config hash: fields are limit names ("cap:amt:period" in millitokens
 * and ms) and "#ou". An empty hash is "not found". */
static int parse_config(const redisReply *h, rl_config_t *out, bool *found)
{
    memset(out, 0, sizeof *out);
    *found = false;
    if (h->type != REDIS_REPLY_ARRAY)
        return RL_EPROTO;
    if (h->elements == 0)
        return 0;
    *found = true;
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *k = h->element[i], *v = h->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            return RL_EPROTO;
        if (strcmp(k->str, "#ou") == 0) {
            out->on_unavailable = (rl_on_unavailable_t)atoi(v->str);
            continue;
        }
        long long cap, amt, per;
        if (sscanf(v->str, "%lld:%lld:%lld", &cap, &amt, &per) != 3 || out->count >= RL_MAX_LIMITS)
            return RL_EPROTO;
        rl_limit_t l;
        if (rl_limit_custom(&l, k->str, cap / 1000, amt / 1000, per / 1000) != 0)
            return RL_EPROTO;
        out->limits[out->count++] = l;
    }
    return 0;
}

static async int rds_config_put(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                                const char *resource, const rl_config_t *cfg)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    args_init(&a, 2);
    arg_int(&a, kind == RL_CONFIG_ENTITY ? 2 : 1);
    arg_config_key(&a, r, kind, entity_id, resource);
    if (kind == RL_CONFIG_ENTITY)
        arg_key(&a, r, "b", entity_id, resource);
    arg_str(&a, "setcfg");
    arg_int(&a, (int64_t)cfg->on_unavailable);
    arg_int(&a, (int64_t)cfg->count);
    for (size_t i = 0; i < cfg->count; i++) {
        arg_str(&a, cfg->limits[i].name);
        arg_int(&a, cfg->limits[i].capacity * 1000);
        arg_int(&a, cfg->limits[i].refill_amount * 1000);
        arg_int(&a, cfg->limits[i].refill_period_s * 1000);
    }
    redisReply *reply;
    int rc = await eval(r, &reply, &a);
    if (rc == 0)
        freeReplyObject(reply);
    return rc;
}

static async int rds_config_get(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                                const char *resource, rl_config_t *out)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    args_init(&a, 0);
    arg_str(&a, "HGETALL");
    arg_config_key(&a, r, kind, entity_id, resource);
    redisReply *reply;
    int rc = await command(r, &reply, &a);
    if (rc)
        return rc;
    bool found = false;
    rc = parse_config(reply, out, &found);
    freeReplyObject(reply);
    return rc ? rc : found ? 0 : RL_ENOTFOUND;
}

static async int rds_config_delete(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                                   const char *resource)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    args_init(&a, 0);
    arg_str(&a, "DEL");
    arg_config_key(&a, r, kind, entity_id, resource);
    redisReply *reply;
    int rc = await command(r, &reply, &a);
    if (rc)
        return rc;
    bool deleted = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
    freeReplyObject(reply);
    return deleted ? 0 : RL_ENOTFOUND;
}

static async int rds_config_get_many(rl_repo_t *repo, size_t n, const rl_config_key_t *keys,
                                     rl_config_t *outs, bool *found)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    args_init(&a, 2);
    arg_int(&a, (int64_t)n);
    for (size_t i = 0; i < n; i++)
        arg_config_key(&a, r, keys[i].kind, keys[i].entity_id, keys[i].resource);
    arg_str(&a, "getcfgs");
    redisReply *reply;
    int rc = await eval(r, &reply, &a);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != n)
        rc = RL_EPROTO;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = parse_config(reply->element[i], &outs[i], &found[i]);
    freeReplyObject(reply);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Entities                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static void copy_field(char *dst, size_t size, const redisReply *v)
{
    size_t n = v->len < size - 1 ? v->len : size - 1;
    memcpy(dst, v->str, n);
    dst[n] = 0;
}

static int parse_entity(const redisReply *h, const char *id, rl_entity_t *out)
{
    if (h->type != REDIS_REPLY_ARRAY)
        return RL_EPROTO;
    if (h->elements == 0)
        return RL_ENOTFOUND;
    memset(out, 0, sizeof *out);
    copy_field(out->id, sizeof out->id, &(redisReply){.str = (char *)id, .len = strlen(id)});
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *k = h->element[i], *v = h->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            return RL_EPROTO;
        if (strcmp(k->str, "name") == 0)
            copy_field(out->name, sizeof out->name, v);
        else if (strcmp(k->str, "parent") == 0)
            copy_field(out->parent_id, sizeof out->parent_id, v);
        else if (strcmp(k->str, "cascade") == 0)
            out->cascade = strcmp(v->str, "1") == 0;
        else if (strcmp(k->str, "created") == 0)
            out->created_at_ms = strtoll(v->str, NULL, 10);
    }
    return 0;
}

static async int rds_entity_put(rl_repo_t *repo, const rl_entity_t *e, bool exclusive)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    redisReply *reply;
    args_init(&a, 0);
    arg_str(&a, exclusive ? "HSETNX" : "HSET");
    arg_key(&a, r, "e", e->id, NULL);
    arg_str(&a, "name");
    arg_str(&a, e->name);
    int rc = await command(r, &reply, &a);
    if (rc)
        return rc;
    bool created = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
    freeReplyObject(reply);
    if (exclusive && !created)
        return RL_EEXIST;
    args_init(&a, 0);
    arg_str(&a, "HSET");
    arg_key(&a, r, "e", e->id, NULL);
    arg_str(&a, "name");
    arg_str(&a, e->name);
    arg_str(&a, "parent");
    arg_str(&a, e->parent_id);
    arg_str(&a, "cascade");
    arg_str(&a, e->cascade ? "1" : "0");
    arg_str(&a, "created");
    arg_int(&a, e->created_at_ms);
    rc = await command(r, &reply, &a);
    if (rc)
        return rc;
    freeReplyObject(reply);
    if (!e->parent_id[0])
        return 0;
    args_init(&a, 0);
    arg_str(&a, "SADD");
    arg_key(&a, r, "k", e->parent_id, NULL);
    arg_str(&a, e->id);
    rc = await command(r, &reply, &a);
    if (rc == 0)
        freeReplyObject(reply);
    return rc;
}

static async int rds_entity_get(rl_repo_t *repo, const char *id, rl_entity_t *out)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    args_init(&a, 0);
    arg_str(&a, "HGETALL");
    arg_key(&a, r, "e", id, NULL);
    redisReply *reply;
    int rc = await command(r, &reply, &a);
    if (rc)
        return rc;
    rc = parse_entity(reply, id, out);
    freeReplyObject(reply);
    return rc;
}

/* Calls batch(r, keys, ctx) for every SCAN page of keys matching `pattern` (SCAN, so the server
 * never blocks as it would on KEYS). Stops at the first error. */
static async int scan(rl_redis_t *r, const char *pattern,
                      async int (*batch)(rl_redis_t *r, const redisReply *keys, void *ctx),
                      void *ctx)
{
    char cursor[32] = "0";
    do {
        args_t a;
        args_init(&a, 0);
        arg_str(&a, "SCAN");
        arg_str(&a, cursor);
        arg_str(&a, "MATCH");
        arg_str(&a, pattern);
        arg_str(&a, "COUNT");
        arg_str(&a, "1000");
        redisReply *reply;
        int rc = await command(r, &reply, &a);
        if (rc)
            return rc;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
            reply->element[0]->type != REDIS_REPLY_STRING ||
            reply->element[1]->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(reply);
            return RL_EPROTO;
        }
        copy_field(cursor, sizeof cursor, reply->element[0]);
        rc = await batch(r, reply->element[1], ctx);
        freeReplyObject(reply);
        if (rc)
            return rc;
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

static async int delete_keys(rl_redis_t *r, const redisReply *keys, void *ctx)
{
    (void)ctx;
    args_t a;
    args_init(&a, 0);
    arg_str(&a, "DEL");
    for (size_t i = 0; i < keys->elements; i++)
        arg_mem(&a, keys->element[i]->str, keys->element[i]->len);
    if (a.argc == 1)
        return 0;
    redisReply *reply;
    int rc = await command(r, &reply, &a);
    if (rc == 0)
        freeReplyObject(reply);
    return rc;
}

/* Deletes every key of `kind` whose next part is `id`. */
static async int delete_matching(rl_redis_t *r, const char *kind, const char *id)
{
    char pattern[RL_KEY_MAX];
    snprintf(pattern, sizeof pattern, "%s%s#%s#*", r->prefix, kind, id);
    return await scan(r, pattern, delete_keys, NULL);
}

typedef struct list_ctx {
    size_t prefix_len;
    rl_config_ref_t *out;
    size_t max;
    size_t n;
} list_ctx_t;

static async int collect_refs(rl_redis_t *r, const redisReply *keys, void *ctx)
{
    list_ctx_t *c = ctx;
    (void)r;
    for (size_t i = 0; i < keys->elements && c->n < c->max; i++) {
        const redisReply *k = keys->element[i];
        /* prefix + "c#" + the cache key form ("r#res" or "e#entity#res") */
        if (k->type != REDIS_REPLY_STRING || k->len < c->prefix_len + 2 || k->len >= RL_KEY_MAX)
            continue;
        if (rl_config_ref_parse(k->str + c->prefix_len + 2, &c->out[c->n]))
            c->n++;
    }
    return 0;
}

static async int rds_config_list(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                                 const char *resource, rl_config_ref_t *out, size_t max, size_t *n)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    char pattern[RL_KEY_MAX];
    if (kind == RL_CONFIG_ENTITY)
        snprintf(pattern, sizeof pattern, "%sc#e#%s#%s", r->prefix, entity_id ? entity_id : "*",
                 resource ? resource : "*");
    else
        snprintf(pattern, sizeof pattern, "%sc#r#%s", r->prefix, resource ? resource : "*");
    list_ctx_t c = {strlen(r->prefix), out, max, 0};
    int rc = await scan(r, pattern, collect_refs, &c);
    *n = c.n;
    return rc;
}

static async int rds_entity_delete(rl_repo_t *repo, const char *id)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    rl_entity_t e;
    int rc = await rds_entity_get(repo, id, &e);
    if (rc)
        return rc;
    args_t a;
    redisReply *reply;
    args_init(&a, 0);
    arg_str(&a, "DEL");
    arg_key(&a, r, "e", id, NULL);
    rc = await command(r, &reply, &a);
    if (rc)
        return rc;
    freeReplyObject(reply);
    if (e.parent_id[0]) {
        args_init(&a, 0);
        arg_str(&a, "SREM");
        arg_key(&a, r, "k", e.parent_id, NULL);
        arg_str(&a, id);
        rc = await command(r, &reply, &a);
        if (rc)
            return rc;
        freeReplyObject(reply);
    }
    rc = await delete_matching(r, "c#e", id);
    if (rc == 0)
        rc = await delete_matching(r, "b", id);
    return rc;
}

static async int rds_entity_children(rl_repo_t *repo, const char *parent_id, rl_entity_t *out,
                                     size_t max, size_t *n)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    args_init(&a, 0);
    arg_str(&a, "SMEMBERS");
    arg_key(&a, r, "k", parent_id, NULL);
    redisReply *members;
    int rc = await command(r, &members, &a);
    if (rc)
        return rc;
    *n = 0;
    if (members->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(members);
        return RL_EPROTO;
    }
    for (size_t i = 0; rc == 0 && i < members->elements && *n < max; i++) {
        char id[RL_ENTITY_ID_MAX + 1];
        copy_field(id, sizeof id, members->element[i]);
        rc = await rds_entity_get(repo, id, &out[*n]);
        if (rc == 0)
            (*n)++;
        else if (rc == RL_ENOTFOUND)
            rc = 0;
    }
    freeReplyObject(members);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static async int rds_ping(rl_repo_t *repo)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    args_init(&a, 0);
    arg_str(&a, "PING");
    redisReply *reply;
    int rc = await command(r, &reply, &a);
    if (rc)
        return rc;
    bool ok = reply->type == REDIS_REPLY_STATUS;
    freeReplyObject(reply);
    return ok ? 0 : RL_EPROTO;
}

static async int rds_close(rl_repo_t *repo)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    if (r->conn)
        await async_redis_close(r->conn);
    async_mutex_destroy(&r->conn_lock);
    rl_repo_fini(&r->base);
    rl_free(r);
    return 0;
}

static const rl_repo_ops_t rl_redis_ops = {
    .name = "redis",
    .ping = rds_ping,
    .close = rds_close,
    .entity_put = rds_entity_put,
    .entity_get = rds_entity_get,
    .entity_delete = rds_entity_delete,
    .entity_children = rds_entity_children,
    .config_put = rds_config_put,
    .config_get = rds_config_get,
    .config_delete = rds_config_delete,
    .config_list = rds_config_list,
    .config_get_many = rds_config_get_many,
    .consume = rds_consume,
    .adjust = rds_adjust,
    .read = rds_read,
};

async int rl_redis_open(rl_repo_t **out, const char *url, const rl_options_t *opts)
{
    rl_url_t u;
    if (!out)
        return RL_EINVAL;
    int rc = rl_url_parse(url, &u);
    if (rc)
        return rc;
    const char *prefix = opts && opts->key_prefix ? opts->key_prefix : "rl:";
    if (strlen(prefix) > RL_PREFIX_MAX)
        return RL_EINVAL;
    rl_redis_t *r = rl_calloc(1, sizeof *r);
    if (!r)
        return RL_ENOMEM;
    r->url = u;
    memcpy(r->prefix, prefix, strlen(prefix) + 1);
    r->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 2000;
    async_mutex_init(&r->conn_lock);
    rc = rl_repo_init(&r->base, &rl_redis_ops, opts);
    if (rc == 0 && await async_mutex_lock(&r->conn_lock) != 0)
        rc = RL_EBACKEND;
    if (rc == 0) {
        rc = await connect_locked(r);
        async_mutex_unlock(&r->conn_lock);
    }
    if (rc) {
        await rds_close(&r->base);
        return rc;
    }
    *out = &r->base;
    return 0;
}
