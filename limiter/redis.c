/* The Redis backend: hashes under a key prefix, bucket work in one Lua script run with EVALSHA. */
#include <unasync/limiter/redis.h>

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rl_lua.h"

#define RL_PREFIX_MAX 64
#define RL_KEY_MAX    (RL_PREFIX_MAX + 2 * RL_ENTITY_ID_MAX + RL_RESOURCE_MAX + 12)
#define RL_NODES_MAX  64 /* cluster nodes ever seen (never forgotten, so indexes stay valid) */
#define RL_MOVES_MAX  16 /* MOVED / ASK redirections followed by one command */

/* A node's connection, shared by the tasks of one loop. A task holds a reference from taking it
 * until its command (and WAIT) returned; a broken connection is taken from its node at once
 * but closed only when its last user lets go, so no task sends on a freed connection. */
typedef struct rl_conn {
    async_redis_t *redis;
    int users;    /* tasks between conn_take and conn_release */
    bool dropped; /* no longer its node's: closed by the last conn_release */
} rl_conn_t;

/* One server: the single node, or a cluster master (replicas are reached when promoted). */
typedef struct rl_node {
    rl_url_t addr;
    rl_conn_t *conn; /* NULL while disconnected; the next command reconnects */
} rl_node_t;

typedef struct rl_redis {
    rl_repo_t base; /* first: a rl_repo_t * is a rl_redis_t * */
    rl_url_t url;
    char prefix[RL_PREFIX_MAX + 1];
    int64_t timeout_ms;
    int replica_acks;        /* rl_options_t.replica_acks */
    async_mutex_t conn_lock; /* guards nodes, slots and the connections' replacement */
    char sha[48];            /* of rl_lua_script, from SCRIPT LOAD */
    bool cluster;            /* redis-cluster://: route by slot; else nodes[0] serves all */
    bool stale;              /* the slot map needs a CLUSTER SLOTS before the next command */
    size_t nseeds;
    rl_url_t seeds[RL_CLUSTER_SEEDS_MAX];
    size_t nnodes;
    rl_node_t nodes[RL_NODES_MAX];
    int16_t slots[RL_CLUSTER_SLOTS]; /* slot -> index in nodes, -1 unknown */
} rl_redis_t;

/* ------------------------------------------------------------------------------------------ */
/* Command arguments                                                                            */
/* ------------------------------------------------------------------------------------------ */

#define RL_ARGS_MAX 160

typedef struct args {
    int argc;
    bool overflow;
    bool idempotent; /* safe to send again after a connection broke mid-command (reads) */
    int slot;        /* of the first key, -1 without keys (routing) */
    int node;        /* >= 0: send to this node whatever the slot (SCAN of every master) */
    int wait_acks;   /* > 0: after the reply, WAIT for this many replicas on the same connection */
    long long acks;  /* WAIT's answer (replicas that have the write), -1 before */
    const char *argv[RL_ARGS_MAX];
    size_t len[RL_ARGS_MAX];
    size_t used;
    char buf[8192];
} args_t;

static void args_init(args_t *a, int reserved)
{
    a->argc = reserved;
    a->used = 0;
    a->overflow = false;
    a->idempotent = false;
    a->slot = -1;
    a->node = -1;
    a->wait_acks = 0;
    a->acks = -1;
}

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

/* A key argument: the first one routes the command. */
static void arg_keymem(args_t *a, const char *s, size_t n)
{
    if (a->slot < 0)
        a->slot = rl_key_slot(s, n);
    arg_mem(a, s, n);
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

/* The key layout (docs/limiter.md, "Redis keys"): prefix + kind + '#' + "{tag}" + parts, where
 * the tag is an entity id in braces, the Redis Cluster hash tag (ids never hold braces):
 *   e#{id}  k#{id}  c#e#{id}#resource      the entity's record, children and configs (its slot)
 *   b#{root}#id#resource                   buckets, in the slot of the entity's root_id
 *   c#r#resource  c#s                      global configs, each in a slot of its own
 * kind, tag (NULL: none), then up to two more '#'-separated parts. */
static void arg_key(args_t *a, const rl_redis_t *r, const char *kind, const char *tag,
                    const char *p1, const char *p2)
{
    char key[RL_KEY_MAX];
    int n = snprintf(key, sizeof key, "%s%s%s%s%s%s%s%s%s", r->prefix, kind, tag ? "#{" : "",
                     tag ? tag : "", tag ? "}" : "", p1 ? "#" : "", p1 ? p1 : "", p2 ? "#" : "",
                     p2 ? p2 : "");
    arg_keymem(a, key, (size_t)n);
}

static const char *set_tag(const rl_bucket_set_t *set)
{
    return set->tag[0] ? set->tag : set->entity_id;
}

static void arg_bucket_key(args_t *a, const rl_redis_t *r, const rl_bucket_set_t *set)
{
    arg_key(a, r, "b", set_tag(set), set->entity_id, set->resource);
}

static void arg_config_key(args_t *a, const rl_redis_t *r, rl_config_kind_t kind,
                           const char *entity_id, const char *resource)
{
    switch (kind) {
    case RL_CONFIG_SYSTEM:
        arg_key(a, r, "c#s", NULL, NULL, NULL);
        break;
    case RL_CONFIG_RESOURCE:
        arg_key(a, r, "c#r", NULL, resource, NULL);
        break;
    case RL_CONFIG_ENTITY:
        arg_key(a, r, "c#e", entity_id, resource, NULL);
        break;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Connections and cluster routing                                                              */
/* ------------------------------------------------------------------------------------------ */

static int backend_error(rl_redis_t *r, int cause)
{
    r->base.last_cause = cause;
    return RL_EBACKEND;
}

/* Where addr is, for messages: "127.0.0.1:6379" or "unix socket /path". */
static void server_name(const rl_url_t *addr, char *buf, size_t len)
{
    if (addr->is_unix)
        snprintf(buf, len, "unix socket %s", addr->path);
    else
        snprintf(buf, len, "%s:%d", addr->host, addr->port);
}

/* backend_error that also records what failed on which server, with the system error. */
static int connect_error(rl_redis_t *r, const rl_url_t *addr, const char *what, int cause)
{
    char where[sizeof addr->path + 16];
    server_name(addr, where, sizeof where);
    snprintf(r->base.last_message, sizeof r->base.last_message, "%s redis at %s: %s (%s)", what,
             where, unasync_strerror(cause), unasync_err_name(cause));
    return backend_error(r, cause);
}

/* RL_EBACKEND with a message of the server's own words (CLUSTERDOWN, a cluster URL given to a
 * server without cluster support). */
static int reply_error(rl_redis_t *r, const rl_url_t *addr, const char *what,
                       const redisReply *reply)
{
    char where[sizeof addr->path + 16];
    server_name(addr, where, sizeof where);
    snprintf(r->base.last_message, sizeof r->base.last_message, "%s redis at %.150s: %.160s", what,
             where, reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    return backend_error(r, UNASYNC_EREDIS);
}

/* Milliseconds of a monotonic clock: the deadline of a cluster command's retries (the
 * repository's clock may be a test's manual one). */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects to addr, selects the database and loads the script into *out. The connect and every
 * command on the connection are bounded by timeout_ms; a command that times out breaks the
 * connection (the runtime closes it), so command() drops it and the next call reconnects. */
static async int connect_to(rl_redis_t *r, const rl_url_t *addr, async_redis_t **out)
{
    async_redis_t *c = NULL;
    uint64_t timeout = (uint64_t)r->timeout_ms;
    int rc;
    if (addr->is_unix)
        rc = await async_redis_connect_unix_timed(&c, addr->path, timeout);
    else
        rc = await async_redis_connect_timed(&c, addr->host, addr->port, timeout);
    if (rc)
        return connect_error(r, addr, "cannot connect to", rc);
    rc = async_redis_set_timeout(c, timeout);
    if (rc) {
        await async_redis_close(c);
        return connect_error(r, addr, "cannot set the timeout of", rc);
    }
    redisReply *reply = NULL;
    if (addr->db) {
        rc = await async_redis_command(c, &reply, "SELECT %d", addr->db);
        bool ok = rc == 0 && reply->type == REDIS_REPLY_STATUS;
        freeReplyObject(reply);
        if (!ok) {
            await async_redis_close(c);
            return rc ? connect_error(r, addr, "cannot select the database on", rc) : RL_EPROTO;
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
        return rc ? connect_error(r, addr, "cannot load the script on", rc) : RL_EPROTO;
    }
    *out = c;
    return 0;
}

/* Connects node n (called with conn_lock held, n->conn NULL). 0, RL_ENOMEM or connect_to's. */
static async int node_connect(rl_redis_t *r, rl_node_t *n)
{
    rl_conn_t *conn = rl_calloc(1, sizeof *conn);
    if (!conn)
        return RL_ENOMEM;
    int rc = await connect_to(r, &n->addr, &conn->redis);
    if (rc) {
        rl_free(conn);
        return rc;
    }
    n->conn = conn;
    return 0;
}

static async void conn_close(rl_conn_t *conn)
{
    await async_redis_close(conn->redis);
    rl_free(conn);
}

/* A reference to n's connection for one command; the caller holds conn_lock. */
static rl_conn_t *conn_take(rl_node_t *n)
{
    n->conn->users++;
    return n->conn;
}

/* Lets go of conn. When the command broke it, it stops being its node's (the next command
 * reconnects) unless another task has replaced it already; the last user closes a dropped
 * connection. No await before the counts are settled: the tasks of one loop cannot interleave
 * here, and in the sync API the caller holds conn_lock. */
static async void conn_release(rl_node_t *n, rl_conn_t *conn, bool broken)
{
    if (broken && n->conn == conn) {
        n->conn = NULL;
        conn->dropped = true;
    }
    if (--conn->users > 0 || !conn->dropped)
        return;
    await conn_close(conn);
}

/* The index of the node at host:port, added when new; -1 when RL_NODES_MAX are known. */
static int node_index(rl_redis_t *r, const char *host, size_t hlen, int port)
{
    for (size_t i = 0; i < r->nnodes; i++)
        if (r->nodes[i].addr.port == port && strlen(r->nodes[i].addr.host) == hlen &&
            memcmp(r->nodes[i].addr.host, host, hlen) == 0)
            return (int)i;
    if (r->nnodes >= RL_NODES_MAX || hlen == 0 || hlen >= sizeof r->nodes[0].addr.host)
        return -1;
    rl_node_t *n = &r->nodes[r->nnodes];
    memset(n, 0, sizeof *n);
    memcpy(n->addr.host, host, hlen);
    n->addr.port = port;
    return (int)r->nnodes++;
}

/* Reads a CLUSTER SLOTS reply into the slot map (the endpoint "" or "?" is the host that
 * answered). 0, or RL_EPROTO for a reply of another shape. */
static int apply_slots(rl_redis_t *r, const redisReply *reply, const rl_url_t *from)
{
    if (reply->type != REDIS_REPLY_ARRAY)
        return RL_EPROTO;
    for (size_t s = 0; s < RL_CLUSTER_SLOTS; s++)
        r->slots[s] = -1;
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *range = reply->element[i];
        if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
            range->element[0]->type != REDIS_REPLY_INTEGER ||
            range->element[1]->type != REDIS_REPLY_INTEGER ||
            range->element[2]->type != REDIS_REPLY_ARRAY || range->element[2]->elements < 2)
            return RL_EPROTO;
        const redisReply *master = range->element[2];
        if (master->element[0]->type != REDIS_REPLY_STRING ||
            master->element[1]->type != REDIS_REPLY_INTEGER)
            return RL_EPROTO;
        const char *host = master->element[0]->str;
        size_t hlen = master->element[0]->len;
        if (hlen == 0 || (hlen == 1 && host[0] == '?')) {
            host = from->host;
            hlen = strlen(from->host);
        }
        int node = node_index(r, host, hlen, (int)master->element[1]->integer);
        long long lo = range->element[0]->integer, hi = range->element[1]->integer;
        if (node < 0 || lo < 0 || hi >= RL_CLUSTER_SLOTS || lo > hi)
            return RL_EPROTO;
        for (long long s = lo; s <= hi; s++)
            r->slots[s] = (int16_t)node;
    }
    return 0;
}

/* Asks the known nodes, then the seeds, for CLUSTER SLOTS until one answers, and rebuilds the
 * slot map. Called with conn_lock held. 0 or RL_EBACKEND (last_message says why). */
static async int refresh_locked(rl_redis_t *r)
{
    int rc = RL_EBACKEND;
    size_t total = r->nnodes + r->nseeds;
    for (size_t i = 0; i < total; i++) {
        rl_url_t addr = i < r->nnodes ? r->nodes[i].addr : r->seeds[i - r->nnodes];
        rl_node_t *n = i < r->nnodes && r->nodes[i].conn ? &r->nodes[i] : NULL;
        rl_conn_t *shared = n ? conn_take(n) : NULL;
        async_redis_t *conn = shared ? shared->redis : NULL;
        if (!shared && (rc = await connect_to(r, &addr, &conn)) != 0)
            continue;
        redisReply *reply = NULL;
        rc = await async_redis_command(conn, &reply, "CLUSTER SLOTS");
        if (shared) /* a broken node connection is dropped (its other commands fail too) */
            await conn_release(n, shared, rc != 0);
        else
            await async_redis_close(conn);
        if (rc) {
            rc = connect_error(r, &addr, "lost the connection to", rc);
            continue;
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            rc = reply_error(r, &addr, "CLUSTER SLOTS refused by", reply);
            freeReplyObject(reply);
            continue;
        }
        rc = apply_slots(r, reply, &addr);
        freeReplyObject(reply);
        if (rc == 0) {
            r->stale = false;
            return 0;
        }
    }
    return rc;
}
/* WAIT's own limit: half the command timeout, so that WAIT answers before the connection's
 * timeout would break the connection. */
static int64_t wait_ms(const rl_redis_t *r)
{
    return r->timeout_ms / 2 > 0 ? r->timeout_ms / 2 : 1;
}

/* Which node serves a: its forced node, the owner of its slot, else any (it redirects us). */
static int pick_node(const rl_redis_t *r, const args_t *a)
{
    if (!r->cluster)
        return 0;
    if (a->node >= 0)
        return a->node;
    if (a->slot >= 0 && r->slots[a->slot] >= 0)
        return r->slots[a->slot];
    for (size_t s = 0; s < RL_CLUSTER_SLOTS; s++)
        if (r->slots[s] >= 0)
            return r->slots[s];
    return 0;
}

/* "MOVED 3999 127.0.0.1:6381" or "ASK ...": *slot and the endpoint (host may be empty: the
 * node that answered). False for any other reply. */
static bool parse_redirect(const redisReply *reply, const char *word, int *slot,
                           const char **host, size_t *hlen, int *port)
{
    size_t wl = strlen(word);
    if (reply->type != REDIS_REPLY_ERROR || reply->len <= wl ||
        strncmp(reply->str, word, wl) != 0 || reply->str[wl] != ' ')
        return false;
    char *end;
    long s = strtol(reply->str + wl + 1, &end, 10);
    if (*end != ' ' || s < 0 || s >= RL_CLUSTER_SLOTS)
        return false;
    const char *ep = end + 1;
    const char *colon = strrchr(ep, ':');
    if (!colon)
        return false;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p <= 0 || p > 65535)
        return false;
    *slot = (int)s;
    *host = ep;
    *hlen = (size_t)(colon - ep);
    *port = (int)p;
    return true;
}

static bool error_starts(const redisReply *reply, const char *word)
{
    return reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, word, strlen(word)) == 0;
}

/* An ASK redirection: the command once on a connection of its own to the importing node,
 * after ASKING (a shared connection could slip another task's command in between). */
static async int ask(rl_redis_t *r, const rl_url_t *addr, redisReply **reply, args_t *a)
{
    async_redis_t *c = NULL;
    int rc = await connect_to(r, addr, &c);
    if (rc)
        return rc;
    redisReply *ok = NULL;
    rc = await async_redis_command(c, &ok, "ASKING");
    if (rc == 0) {
        freeReplyObject(ok);
        rc = await async_redis_command_argv(c, reply, a->argc, a->argv, a->len);
    }
    await async_redis_close(c);
    return rc ? connect_error(r, addr, "lost the connection to", rc) : 0;
}

/* Sends one command, connecting first when needed, to the node its first key's slot maps to.
 * On a single node a broken connection is dropped (the next call reconnects) and RL_EBACKEND
 * returned. On a cluster, MOVED updates the map and retries there (a full CLUSTER SLOTS
 * follows), ASK retries once on the importing node, and a refused connect, CLUSTERDOWN,
 * TRYAGAIN or (for an idempotent command) a connection lost mid-command refresh the map from
 * any node and retry every 100 ms until timeout_ms has passed since the call began; then
 * RL_EBACKEND. A write whose connection broke after sending is never resent (it may have been
 * executed). Any other error reply is returned as a reply: the caller decides. */
static async int command(rl_redis_t *r, redisReply **reply, args_t *a)
{
    *reply = NULL;
    if (a->overflow)
        return RL_ETOOMANY;
    int64_t deadline = r->cluster ? mono_ms() + r->timeout_ms : 0;
    int moves = 0;
    bool refresh = false;
    for (;;) {
        int rc = await async_mutex_lock(&r->conn_lock);
        if (rc)
            return backend_error(r, rc);
        if (refresh || r->stale)
            (void)await refresh_locked(r);
        refresh = false;
        rl_node_t *n = &r->nodes[pick_node(r, a)];
        if (!n->conn)
            rc = await node_connect(r, n);
        bool sent = false;
        if (rc == 0) {
            rl_conn_t *held = conn_take(n);
            async_redis_t *conn = held->redis;
#if UNASYNC_ASYNC
            /* Tasks of one loop share the connection: their commands are pipelined. */
            async_mutex_unlock(&r->conn_lock);
#endif
            sent = true;
            rc = await async_redis_command_argv(conn, reply, a->argc, a->argv, a->len);
            if (rc == 0 && a->wait_acks > 0 && (*reply)->type != REDIS_REPLY_ERROR) {
                /* On the connection that carried the write: WAIT counts its writes, and no
                 * topology change can send it to another master. */
                redisReply *w = NULL;
                rc = await async_redis_command(conn, &w, "WAIT %d %lld", a->wait_acks,
                                               (long long)wait_ms(r));
                a->acks = rc == 0 && w->type == REDIS_REPLY_INTEGER ? w->integer : 0;
                if (rc == 0)
                    freeReplyObject(w);
                if (rc) {
                    freeReplyObject(*reply);
                    *reply = NULL;
                }
            }
            await conn_release(n, held, rc != 0);
#if !UNASYNC_ASYNC
            /* A blocking connection serves one thread at a time. */
            async_mutex_unlock(&r->conn_lock);
#endif
            if (rc)
                rc = connect_error(r, &n->addr, "lost the connection to", rc);
        } else {
            async_mutex_unlock(&r->conn_lock);
        }
        if (!r->cluster)
            return rc;
        bool retry = rc != 0 && rc != RL_ENOMEM && (!sent || a->idempotent);
        if (rc == 0) {
            int slot, port;
            const char *host;
            size_t hlen;
            if (parse_redirect(*reply, "MOVED", &slot, &host, &hlen, &port) &&
                moves++ < RL_MOVES_MAX) {
                if (hlen == 0) {
                    host = n->addr.host;
                    hlen = strlen(host);
                }
                if (await async_mutex_lock(&r->conn_lock) == 0) {
                    int to = node_index(r, host, hlen, port);
                    if (to >= 0)
                        r->slots[slot] = (int16_t)to;
                    r->stale = true; /* one moved slot often means more: refresh before the next */
                    async_mutex_unlock(&r->conn_lock);
                }
                freeReplyObject(*reply);
                *reply = NULL;
                continue;
            }
            if (parse_redirect(*reply, "ASK", &slot, &host, &hlen, &port) &&
                moves++ < RL_MOVES_MAX) {
                rl_url_t to;
                memset(&to, 0, sizeof to);
                if (hlen == 0) {
                    host = n->addr.host;
                    hlen = strlen(host);
                }
                if (hlen < sizeof to.host)
                    memcpy(to.host, host, hlen);
                to.port = port;
                freeReplyObject(*reply);
                *reply = NULL;
                rc = await ask(r, &to, reply, a);
                if (rc == 0)
                    return 0;
                retry = false;
            } else if (error_starts(*reply, "CLUSTERDOWN") || error_starts(*reply, "TRYAGAIN")) {
                rc = reply_error(r, &n->addr, "no answer from", *reply);
                freeReplyObject(*reply);
                *reply = NULL;
                retry = true;
            } else {
                return 0;
            }
        }
        if (!retry || mono_ms() + 100 > deadline)
            return rc;
        refresh = true;
        await async_sleep_ms(100);
    }
}

/* Runs the script with `a` (built after the two EVALSHA slots); reloads it on NOSCRIPT (on the
 * node that answered it: the same slot). */
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
            args_init(&load, 0);
            load.idempotent = true;
            load.slot = a->slot;
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
            /* The script refuses out-of-range arguments before writing anything. */
            bool range = strstr((*reply)->str, "rl: ERANGE") != NULL;
            freeReplyObject(*reply);
            *reply = NULL;
            return range ? RL_ERANGE : RL_EPROTO;
        }
        return 0;
    }
    return RL_EPROTO;
}

/* ------------------------------------------------------------------------------------------ */
/* Buckets                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* EVALSHA sha nkeys keys... op now nsets {count reconcile {name cap amt period delta}*}* */
static void bucket_args(args_t *a, rl_redis_t *r, const char *op, rl_bucket_set_t *sets, size_t n,
                        int64_t now_ms)
{
    args_init(a, 2);
    a->wait_acks = r->replica_acks;
    bool check = strcmp(op, "consume") == 0 && n == 1 && sets[0].expect_root;
    arg_int(a, (int64_t)n + check);
    for (size_t s = 0; s < n; s++) /* one slot: the sets share their root's tag */
        arg_bucket_key(a, r, &sets[s]);
    if (check) /* the entity record, read by the script to catch a parent the cache missed; the
                * entity is its own root here, so the record shares the bucket's slot */
        arg_key(a, r, "e", sets[0].entity_id, NULL, NULL);
    arg_str(a, op);
    arg_int(a, now_ms);
    arg_int(a, (int64_t)n);
    for (size_t s = 0; s < n; s++) {
        arg_int(a, (int64_t)sets[s].count);
        arg_int(a, sets[s].reconcile ? 1 : 0);
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

/* With replica_acks: RL_EBACKEND unless the WAIT that followed the write (a.wait_acks) found
 * enough replicas. */
static int replicated(rl_redis_t *r, const args_t *a)
{
    if (a->wait_acks <= 0 || a->acks >= a->wait_acks)
        return 0;
    snprintf(r->base.last_message, sizeof r->base.last_message,
             "the write reached %lld of %d replicas within %lld ms", a->acks < 0 ? 0 : a->acks,
             a->wait_acks, (long long)wait_ms(r));
    return backend_error(r, UNASYNC_ETIMEDOUT);
}

static async int rds_consume(rl_repo_t *repo, rl_bucket_set_t *sets, size_t n, int64_t now_ms,
                             bool *granted)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    if (rl_bucket_sets_check(sets, n))
        return RL_ERANGE;
    args_t a;
    bucket_args(&a, r, "consume", sets, n, now_ms);
    redisReply *reply;
    int rc = await eval(r, &reply, &a);
    if (rc)
        return rc;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
        reply->element[0]->type == REDIS_REPLY_INTEGER && reply->element[0]->integer == -1) {
        freeReplyObject(reply);
        return RL_ESTALE;
    }
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
    if (*granted && replicated(r, &a)) { /* a refusal took no tokens: it stands either way */
        freeReplyObject(reply);
        return RL_EBACKEND;
    }
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
    if (rl_bucket_sets_check(sets, n))
        return RL_ERANGE;
    args_t a;
    bucket_args(&a, r, "adjust", sets, n, now_ms);
    redisReply *reply;
    int rc = await eval(r, &reply, &a);
    if (rc)
        return rc;
    freeReplyObject(reply);
    return replicated(r, &a) ? RL_EBACKEND : 0;
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
        a.idempotent = true;
        arg_str(&a, "HGETALL");
        arg_bucket_key(&a, r, &sets[s]);
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
            if (sets[s].reconcile)
                (void)rl_bucket_reconcile(b, &sets[s].limits[i], now_ms);
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

static async int rds_entity_get(rl_repo_t *repo, const char *id, rl_entity_t *out);

/* Writes cfg with one script (setcfg). An entity config also reconciles the entity's existing
 * bucket for the resource: in the same script when both keys share a slot (a single node, or an
 * entity that is its own root), else in a second script on the bucket's slot (pushcfg). */
static async int rds_config_put(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                                const char *resource, const rl_config_t *cfg)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    rl_bucket_set_t set; /* only the bucket's key: entity, resource and tag */
    bool push = kind == RL_CONFIG_ENTITY, apart = false;
    if (push) {
        rl_entity_t e;
        int rc = await rds_entity_get(repo, entity_id, &e);
        if (rc && rc != RL_ENOTFOUND)
            return rc;
        set.entity_id = entity_id;
        set.resource = resource;
        set.tag[0] = 0;
        if (rc == 0 && e.root_id[0])
            memcpy(set.tag, e.root_id, strlen(e.root_id) + 1);
        apart = r->cluster && strcmp(set_tag(&set), entity_id) != 0;
    }
    for (int step = 0; step < (apart ? 2 : 1); step++) {
        args_t a;
        args_init(&a, 2);
        arg_int(&a, push && !apart ? 2 : 1);
        if (step == 0)
            arg_config_key(&a, r, kind, entity_id, resource);
        if (push && (!apart || step == 1))
            arg_bucket_key(&a, r, &set);
        arg_str(&a, step == 0 ? "setcfg" : "pushcfg");
        arg_int(&a, (int64_t)cfg->on_unavailable);
        arg_int(&a, rl_repo_now(repo));
        arg_int(&a, (int64_t)cfg->count);
        for (size_t i = 0; i < cfg->count; i++) {
            arg_str(&a, cfg->limits[i].name);
            arg_int(&a, cfg->limits[i].capacity * 1000);
            arg_int(&a, cfg->limits[i].refill_amount * 1000);
            arg_int(&a, cfg->limits[i].refill_period_s * 1000);
        }
        redisReply *reply;
        int rc = await eval(r, &reply, &a);
        if (rc)
            return rc;
        freeReplyObject(reply);
    }
    return 0;
}

static async int rds_config_get(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                                const char *resource, rl_config_t *out)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    args_init(&a, 0);
    a.idempotent = true;
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

/* One getcfgs script per slot among the keys (a single node: one for all). The slots of a
 * resolution (the entity's, the resource's, the system's) are read one after another, not at
 * one instant; the cache makes resolution a per-slot affair anyway (docs/limiter.md). */
static async int rds_config_get_many(rl_repo_t *repo, size_t n, const rl_config_key_t *keys,
                                     rl_config_t *outs, bool *found)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    bool done[RL_ARGS_MAX];
    if (n > RL_ARGS_MAX - 4)
        return RL_ETOOMANY;
    for (size_t i = 0; i < n; i++)
        done[i] = false;
    for (size_t first = 0; first < n; first++) {
        if (done[first])
            continue;
        args_t a;
        size_t index[RL_ARGS_MAX];
        size_t m = 0;
        args_init(&a, 3); /* EVALSHA sha nkeys, filled below */
        for (size_t i = first; i < n; i++) {
            if (done[i])
                continue;
            int before = a.slot;
            a.slot = -1;
            arg_config_key(&a, r, keys[i].kind, keys[i].entity_id, keys[i].resource);
            if (r->cluster && before >= 0 && a.slot != before) { /* another slot: a later batch */
                a.argc--;
                a.used -= a.len[a.argc] + 1;
                a.slot = before;
                continue;
            }
            if (before >= 0)
                a.slot = before;
            done[i] = true;
            index[m++] = i;
        }
        char nk[24];
        snprintf(nk, sizeof nk, "%zu", m);
        a.argv[2] = nk;
        a.len[2] = strlen(nk);
        a.idempotent = true;
        arg_str(&a, "getcfgs");
        redisReply *reply;
        int rc = await eval(r, &reply, &a);
        if (rc)
            return rc;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != m)
            rc = RL_EPROTO;
        for (size_t k = 0; rc == 0 && k < m; k++)
            rc = parse_config(reply->element[k], &outs[index[k]], &found[index[k]]);
        freeReplyObject(reply);
        if (rc)
            return rc;
    }
    return 0;
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
        else if (strcmp(k->str, "tag") == 0)
            copy_field(out->root_id, sizeof out->root_id, v);
    }
    if (!out->root_id[0]) /* a record written before tags: what the tag would have been */
        memcpy(out->root_id, out->cascade && out->parent_id[0] ? out->parent_id : out->id,
               strlen(out->cascade && out->parent_id[0] ? out->parent_id : out->id) + 1);
    return 0;
}

/* Stores an entity. On a single node one script does the exclusive check, the parent's
 * existence, the record and the parent's set of children, so no reader ever sees half an entity
 * or a child of a missing parent. On a cluster the parent's keys live in its own slot: a first
 * script there checks that it exists, adds the child to its set and returns its tag; the record
 * follows in the entity's slot (an exclusive put that finds the id taken by an entity with
 * another parent takes the child back out of the set). */
static async int rds_entity_put(rl_repo_t *repo, const rl_entity_t *e, bool exclusive)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    redisReply *reply;
    bool parent = e->parent_id[0] != 0;
    char tag[RL_ENTITY_ID_MAX + 1];
    memcpy(tag, e->id, strlen(e->id) + 1);
    bool two_steps = parent && r->cluster;
    if (two_steps) {
        args_init(&a, 2);
        arg_int(&a, 2);
        arg_key(&a, r, "e", e->parent_id, NULL, NULL);
        arg_key(&a, r, "k", e->parent_id, NULL, NULL);
        arg_str(&a, "child");
        arg_str(&a, e->id);
        arg_str(&a, e->parent_id);
        int rc = await eval(r, &reply, &a);
        if (rc)
            return rc;
        bool missing = reply->type == REDIS_REPLY_INTEGER && reply->integer == -1;
        bool ok = reply->type == REDIS_REPLY_STRING && reply->len < sizeof tag;
        if (ok && e->cascade)
            memcpy(tag, reply->str, reply->len + 1);
        freeReplyObject(reply);
        if (missing)
            return RL_ENOTFOUND;
        if (!ok)
            return RL_EPROTO;
    }
    args_init(&a, 2);
    arg_int(&a, parent && !two_steps ? 3 : 1);
    arg_key(&a, r, "e", e->id, NULL, NULL);
    if (parent && !two_steps) {
        arg_key(&a, r, "k", e->parent_id, NULL, NULL);
        arg_key(&a, r, "e", e->parent_id, NULL, NULL);
    }
    arg_str(&a, "putent");
    arg_str(&a, exclusive ? "1" : "0");
    arg_str(&a, e->name);
    arg_str(&a, e->parent_id);
    arg_str(&a, e->cascade ? "1" : "0");
    arg_int(&a, e->created_at_ms);
    arg_str(&a, e->id);
    arg_str(&a, tag);
    int rc = await eval(r, &reply, &a);
    if (rc)
        return rc;
    long long v = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -2;
    freeReplyObject(reply);
    if (v == 0 && two_steps) {
        rl_entity_t old;
        if (await rds_entity_get(repo, e->id, &old) == 0 && strcmp(old.parent_id, e->parent_id)) {
            args_init(&a, 0);
            arg_str(&a, "SREM");
            arg_key(&a, r, "k", e->parent_id, NULL, NULL);
            arg_str(&a, e->id);
            if (await command(r, &reply, &a) == 0)
                freeReplyObject(reply);
        }
    }
    return v == 1 ? 0 : v == 0 ? RL_EEXIST : v == -1 ? RL_ENOTFOUND : RL_EPROTO;
}

static async int rds_entity_get(rl_repo_t *repo, const char *id, rl_entity_t *out)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    args_init(&a, 0);
    a.idempotent = true;
    arg_str(&a, "HGETALL");
    arg_key(&a, r, "e", id, NULL, NULL);
    redisReply *reply;
    int rc = await command(r, &reply, &a);
    if (rc)
        return rc;
    rc = parse_entity(reply, id, out);
    freeReplyObject(reply);
    return rc;
}

/* Calls batch(r, keys, ctx) for every SCAN page of keys matching `pattern` (SCAN, so the server
 * never blocks as it would on KEYS), on every master of a cluster in turn. Stops at the first
 * error. A cluster that fails over during the scan fails it (RL_EBACKEND): scans serve the
 * administrative calls, which the caller may repeat. */
static async int scan(rl_redis_t *r, const char *pattern,
                      async int (*batch)(rl_redis_t *r, const redisReply *keys, void *ctx),
                      void *ctx)
{
    int masters[RL_NODES_MAX];
    size_t nmasters = 0;
    if (r->cluster) {
        int rc = await async_mutex_lock(&r->conn_lock);
        if (rc)
            return backend_error(r, rc);
        if (r->stale)
            (void)await refresh_locked(r);
        bool seen[RL_NODES_MAX] = {false};
        for (size_t s = 0; s < RL_CLUSTER_SLOTS; s++) {
            int n = r->slots[s];
            if (n >= 0 && !seen[n]) {
                seen[n] = true;
                masters[nmasters++] = n;
            }
        }
        async_mutex_unlock(&r->conn_lock);
    } else {
        masters[nmasters++] = 0;
    }
    for (size_t m = 0; m < nmasters; m++) {
        char cursor[32] = "0";
        do {
            args_t a;
            args_init(&a, 0);
            a.idempotent = true;
            a.node = masters[m];
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
    }
    return 0;
}

/* Deletes a page of keys of one pattern (the patterns below name one tag, hence one slot). */
static async int delete_keys(rl_redis_t *r, const redisReply *keys, void *ctx)
{
    (void)ctx;
    args_t a;
    args_init(&a, 0);
    arg_str(&a, "DEL");
    for (size_t i = 0; i < keys->elements; i++)
        arg_keymem(&a, keys->element[i]->str, keys->element[i]->len);
    if (a.argc == 1)
        return 0;
    redisReply *reply;
    int rc = await command(r, &reply, &a);
    if (rc == 0)
        freeReplyObject(reply);
    return rc;
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
        /* prefix + "c#" + "r#res" or "e#{entity}#res"; the cache key form has no braces */
        if (k->type != REDIS_REPLY_STRING || k->len < c->prefix_len + 2 || k->len >= RL_KEY_MAX)
            continue;
        char ref[RL_KEY_MAX];
        size_t m = 0;
        for (size_t j = c->prefix_len + 2; j < k->len; j++)
            if (k->str[j] != '{' && k->str[j] != '}')
                ref[m++] = k->str[j];
        ref[m] = 0;
        if (rl_config_ref_parse(ref, &c->out[c->n]))
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
        snprintf(pattern, sizeof pattern, "%sc#e#{%s}#%s", r->prefix, entity_id ? entity_id : "*",
                 resource ? resource : "*");
    else
        snprintf(pattern, sizeof pattern, "%sc#r#%s", r->prefix, resource ? resource : "*");
    list_ctx_t c = {strlen(r->prefix), out, max, 0};
    int rc = await scan(r, pattern, collect_refs, &c);
    *n = c.n;
    return rc;
}

/* Deletes the record, the membership in the parent's set, then the configs and buckets (found
 * with SCAN: c#e#{id}#* in the entity's slot, b#{root}#id#* in its root's). */
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
    arg_key(&a, r, "e", id, NULL, NULL);
    rc = await command(r, &reply, &a);
    if (rc)
        return rc;
    freeReplyObject(reply);
    if (e.parent_id[0]) {
        args_init(&a, 0);
        arg_str(&a, "SREM");
        arg_key(&a, r, "k", e.parent_id, NULL, NULL);
        arg_str(&a, id);
        rc = await command(r, &reply, &a);
        if (rc)
            return rc;
        freeReplyObject(reply);
    }
    char pattern[RL_KEY_MAX];
    snprintf(pattern, sizeof pattern, "%sc#e#{%s}#*", r->prefix, id);
    rc = await scan(r, pattern, delete_keys, NULL);
    snprintf(pattern, sizeof pattern, "%sb#{%s}#%s#*", r->prefix, e.root_id[0] ? e.root_id : id,
             id);
    if (rc == 0)
        rc = await scan(r, pattern, delete_keys, NULL);
    return rc;
}

static async int rds_entity_children(rl_repo_t *repo, const char *parent_id, rl_entity_t *out,
                                     size_t max, size_t *n)
{
    rl_redis_t *r = (rl_redis_t *)repo;
    args_t a;
    args_init(&a, 0);
    a.idempotent = true;
    arg_str(&a, "SMEMBERS");
    arg_key(&a, r, "k", parent_id, NULL, NULL);
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
    a.idempotent = true;
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
    for (size_t i = 0; i < r->nnodes; i++)
        if (r->nodes[i].conn) /* no command runs once the limiter closes */
            await conn_close(r->nodes[i].conn);
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
    return await rl_redis_open_report(out, url, opts, NULL);
}

async int rl_redis_open_report(rl_repo_t **out, const char *url, const rl_options_t *opts,
                               rl_report_t *report)
{
    if (!out)
        return rl_report_set(report, RL_EINVAL, 0, "invalid argument");
    bool cluster = url && strncmp(url, "redis-cluster://", 16) == 0;
    rl_url_t u;
    rl_url_t seeds[RL_CLUSTER_SEEDS_MAX];
    size_t nseeds = 0;
    int rc;
    if (cluster) {
        size_t at = 0;
        const char *why = "";
        rc = rl_cluster_url_parse(url, seeds, RL_CLUSTER_SEEDS_MAX, &nseeds, &at, &why);
        if (rc)
            return rl_report_set(report, rc, 0, "invalid redis cluster url '%s' at offset %zu: %s",
                                 url, at, why);
        u = seeds[0];
    } else {
        rc = rl_url_parse(url, &u);
        if (rc)
            return rl_report_set(report, rc, 0, "invalid redis url '%s'", url ? url : "(null)");
    }
    const char *prefix = opts && opts->key_prefix ? opts->key_prefix : "rl:";
    if (strlen(prefix) > RL_PREFIX_MAX)
        return rl_report_set(report, RL_EINVAL, 0, "key prefix longer than %d bytes",
                             RL_PREFIX_MAX);
    if (strchr(prefix, '{') || strchr(prefix, '}'))
        return rl_report_set(report, RL_EINVAL, 0,
                             "key prefix '%s' holds a brace: it would replace the keys' hash tags",
                             prefix);
    rl_redis_t *r = rl_calloc(1, sizeof *r);
    if (!r)
        return rl_report_set(report, RL_ENOMEM, 0, "out of memory");
    r->url = u;
    r->cluster = cluster;
    r->nseeds = nseeds;
    memcpy(r->seeds, seeds, nseeds * sizeof seeds[0]);
    r->nodes[0].addr = u;
    r->nnodes = cluster ? 0 : 1;
    for (size_t s = 0; s < RL_CLUSTER_SLOTS; s++)
        r->slots[s] = -1;
    memcpy(r->prefix, prefix, strlen(prefix) + 1);
    r->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 2000;
    r->replica_acks = opts && opts->replica_acks > 0 ? opts->replica_acks : 0;
    async_mutex_init(&r->conn_lock);
    rc = rl_repo_init(&r->base, &rl_redis_ops, opts);
    if (rc == 0 && await async_mutex_lock(&r->conn_lock) != 0)
        rc = RL_EBACKEND;
    if (rc == 0) {
        if (cluster)
            rc = await refresh_locked(r);
        else
            rc = await node_connect(r, &r->nodes[0]);
        async_mutex_unlock(&r->conn_lock);
    }
    if (rc) {
        if (r->base.last_message[0])
            rl_report_set(report, rc, r->base.last_cause, "%s", r->base.last_message);
        else
            rl_report_set(report, rc, r->base.last_cause, "cannot open %s: %s", url,
                          rl_strerror(rc));
        await rds_close(&r->base);
        return rc;
    }
    *out = &r->base;
    return 0;
}
