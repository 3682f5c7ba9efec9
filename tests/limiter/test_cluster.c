/* The limiter on a real local Redis Cluster (3 masters, 3 replicas, redis-cli --cluster create),
 * written async with a generated sync twin: key slots agree with the servers' CLUSTER KEYSLOT,
 * a slot migrated between masters is followed (ASK while it moves, MOVED after), and cluster
 * URLs are parsed or refused with a location. The behaviour suites and the failover run use the
 * same cluster harness (test_limiter.c, test_load.c). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <unasync/async.h>

#include <unasync/limiter/limiter.h>
#include <unasync/limiter/redis.h>
#include <unasync/limiter/rl_types.h>

#include "rl_testutil.h"

static rl_test_cluster_t cluster;

static void key_slots_agree_with_a_real_cluster(void **state)
{
    (void)state;
    static const char *keys[] = {
        "rl:b#key-1#gpt-4", "rl:e#key-1", "rl:c#e#key-1#_default_", "rl:c#s",
        "rl:b#{proj-1}key-1#gpt-4", "rl:e#{proj-1}", "rl:k#{proj-1}", "{}", "a{b}c{d}",
        "x{{y}}", "{user1000}.following", "{user1000}.followers",
        "rl:b#{proj-1}#key-1#gpt-4", "rl:c#e#{key-1}#gpt-4",
    };
    redisContext *c = redisConnectUnix(cluster.nodes[0].socket);
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        redisReply *r = redisCommand(c, "CLUSTER KEYSLOT %s", keys[i]);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        assert_int_equal(r->integer, rl_key_slot(keys[i], strlen(keys[i])));
        freeReplyObject(r);
    }
    /* every slot is served: the cluster the tests build is complete */
    redisReply *info = redisCommand(c, "CLUSTER INFO");
    assert_non_null(info);
    assert_non_null(strstr(info->str, "cluster_slots_assigned:16384"));
    assert_non_null(strstr(info->str, "cluster_known_nodes:6"));
    assert_non_null(strstr(info->str, "cluster_size:3"));
    freeReplyObject(info);
    redisFree(c);
}

/* ------------------------------------------------------------------------------------------ */
/* Slot migration                                                                               */
/* ------------------------------------------------------------------------------------------ */

/* One command on node i (its own blocking connection); the reply, or NULL. */
static redisReply *node_command(int i, const char *fmt, ...)
{
    redisContext *c = redisConnectUnix(cluster.nodes[i].socket);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
}

/* Node i's id into buf (41 bytes). 0 or -1. */
static int node_id(int i, char *buf)
{
    redisReply *r = node_command(i, "CLUSTER MYID");
    int ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
    if (ok)
        memcpy(buf, r->str, 41);
    freeReplyObject(r);
    return ok ? 0 : -1;
}

/* The node that serves `key`: the one whose EXISTS is not answered with MOVED (or ASK). */
static int owner_of(const char *key)
{
    for (int i = 0; i < RL_TEST_CLUSTER_NODES; i++) {
        redisReply *r = node_command(i, "EXISTS %s", key);
        int here = r && r->type == REDIS_REPLY_INTEGER;
        freeReplyObject(r);
        if (here)
            return i;
    }
    return -1;
}

static int is_master(int i)
{
    return rl_test_redis_info_of(&cluster.nodes[i], "INFO replication", "role:master");
}

/* Moves every key of `slot` from node `from` to node `to` (MIGRATE) and gives them the slot. */
static int finish_migration(int slot, int from, int to, const char *to_id)
{
    for (;;) {
        redisReply *keys = node_command(from, "CLUSTER GETKEYSINSLOT %d 100", slot);
        if (!keys || keys->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(keys);
            return -1;
        }
        size_t n = keys->elements;
        for (size_t k = 0; k < n; k++) {
            redisReply *m = node_command(from, "MIGRATE 127.0.0.1 %d %s 0 5000",
                                         cluster.nodes[to].port, keys->element[k]->str);
            int ok = m && m->type == REDIS_REPLY_STATUS;
            freeReplyObject(m);
            if (!ok) {
                freeReplyObject(keys);
                return -1;
            }
        }
        freeReplyObject(keys);
        if (n == 0)
            break;
    }
    /* the importing node first, then the one that gave the slot away, then the others */
    for (int k = -2; k < RL_TEST_CLUSTER_NODES; k++) {
        int i = k == -2 ? to : k == -1 ? from : k;
        if (k >= 0 && (i == to || i == from || !is_master(i)))
            continue;
        redisReply *r = node_command(i, "CLUSTER SETSLOT %d NODE %s", slot, to_id);
        int ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (!ok)
            return -1;
    }
    return 0;
}

static async int slot_moves_body(rl_limiter_t *lim, const char *prefix)
{
    rl_limit_t ten;
    CHECK_EQ(rl_limit_per_minute(&ten, "rpm", 10, 0), 0);
    rl_amount_t one[] = {{"rpm", 1}};
    rl_acquire_options_t ao = {&ten, 1, RL_ON_UNAVAILABLE_BLOCK};
    rl_lease_t lease;

    /* The entity's bucket lives in slot(mover) on master `from`. */
    char key[128], ekey[128];
    snprintf(key, sizeof key, "%sb#{mover}#mover#_default_", prefix);
    snprintf(ekey, sizeof ekey, "%se#{mover}", prefix);
    int slot = rl_key_slot(key, strlen(key));
    CHECK_EQ(await rl_limiter_acquire(lim, &lease, "mover", NULL, one, 1, &ao, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    int from = owner_of(key), to = -1;
    CHECK(from >= 0);
    for (int i = 0; i < RL_TEST_CLUSTER_NODES && to < 0; i++)
        if (i != from && is_master(i))
            to = i;
    CHECK(to >= 0);
    char from_id[41], to_id[41];
    CHECK_EQ(node_id(from, from_id), 0);
    CHECK_EQ(node_id(to, to_id), 0);

    /* While the slot migrates, a key that has left `from` is answered with ASK. */
    redisReply *r = node_command(to, "CLUSTER SETSLOT %d IMPORTING %s", slot, from_id);
    CHECK(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = node_command(from, "CLUSTER SETSLOT %d MIGRATING %s", slot, to_id);
    CHECK(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = node_command(from, "MIGRATE 127.0.0.1 %d %s 0 5000", cluster.nodes[to].port, key);
    CHECK(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    /* the bucket is on `to` now: `from` answers its read with ASK */
    rl_capacity_t cap;
    CHECK_EQ(await rl_limiter_available(lim, "mover", NULL, &ten, 1, &cap, NULL), 0);
    CHECK_EQ(cap.available[0], 9);

    /* After the migration every node names `to`: the client's map is stale, MOVED fixes it. */
    CHECK_EQ(finish_migration(slot, from, to, to_id), 0);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(await rl_limiter_acquire(lim, &lease, "mover", NULL, one, 1, &ao, NULL), 0);
        CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    }
    CHECK_EQ(await rl_limiter_available(lim, "mover", NULL, &ten, 1, &cap, NULL), 0);
    CHECK_EQ(cap.available[0], 5); /* the migrated bucket kept counting: 1 + 4 taken */
    CHECK_EQ(owner_of(key), to);
    CHECK_EQ(owner_of(ekey), to);
    return 0;
}

/* Opens a limiter on the cluster, runs the body and closes the limiter whatever it returned
 * (an open connection would keep the loop, and the test, running). */
typedef struct body {
    async int (*fn)(rl_limiter_t *lim, const char *prefix);
    int replica_acks;   /* rl_options_t.replica_acks */
    int64_t timeout_ms; /* rl_options_t.timeout_ms; 0: the default */
} body_t;

static async int with_limiter(void *arg)
{
    const body_t *body = arg;
    const char *prefix = rl_test_prefix();
    rl_options_t opts;
    rl_options_init(&opts);
    opts.key_prefix = prefix;
    opts.replica_acks = body->replica_acks;
    opts.timeout_ms = body->timeout_ms;
    rl_repo_t *repo = NULL;
    rl_limiter_t *lim = NULL;
    CHECK_EQ(await rl_redis_open(&repo, rl_test_cluster_url(&cluster), &opts), 0);
    CHECK_EQ(rl_limiter_open(&lim, repo), 0);
    int rc = await body->fn(lim, prefix);
    int rc2 = await rl_limiter_close(lim);
    return rc ? rc : rc2;
}

static void a_slot_moved_between_masters_is_followed(void **state)
{
    (void)state;
    body_t body = {slot_moves_body, 0, 0};
    assert_int_equal(async_run(with_limiter, &body), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* A shared connection killed under pipelined commands                                          */
/* ------------------------------------------------------------------------------------------ */

#if UNASYNC_ASYNC
#define PIPED_WORKERS 200 /* coroutines of one loop pipelining on one connection */
#else
#define PIPED_WORKERS 8 /* threads taking turns on it */
#endif
#define PIPED_CALLS 40 /* calls per worker after the last kill */

typedef struct piped {
    rl_limiter_t *lim;
    int granted, unavailable, other;
    int granted_after; /* grants that began after the last kill */
} piped_t;

static rl_limiter_t *piped_lim;
static piped_t piped[PIPED_WORKERS];
static int piped_killed; /* the last kill happened (__atomic: the sync twin's threads read it) */

/* One token of "piped" (a limit far above what the test takes), acquired and committed. */
static async int piped_once(rl_limiter_t *lim)
{
    rl_limit_t big;
    CHECK_EQ(rl_limit_per_minute(&big, "rpm", 1000000, 0), 0);
    rl_amount_t one[] = {{"rpm", 1}};
    rl_acquire_options_t ao = {&big, 1, RL_ON_UNAVAILABLE_BLOCK};
    rl_lease_t lease;
    int rc = await rl_limiter_acquire(lim, &lease, "piped", NULL, one, 1, &ao, NULL);
    return rc == 0 ? await rl_lease_commit(&lease, NULL) : rc;
}

/* Acquires and commits one token at a time until PIPED_CALLS calls have begun after the last
 * kill: each write is followed by WAIT on the same connection, so a task holds the connection
 * across two commands. */
static async int piped_worker(void *arg)
{
    piped_t *p = arg;
    for (int after = 0; after < PIPED_CALLS;) {
        bool late = __atomic_load_n(&piped_killed, __ATOMIC_ACQUIRE);
        after += late;
        int rc = await piped_once(piped_lim);
        if (rc == 0) {
            p->granted++;
            p->granted_after += late;
        } else if (rc == RL_EUNAVAILABLE) {
            p->unavailable++;
        } else {
            fprintf(stderr, "piped acquire: %s\n", rl_strerror(rc));
            p->other++;
        }
#if UNASYNC_ASYNC
        if (!late)
            await async_sleep_ms(0); /* let the killer's timer run between rounds */
#endif
    }
    return 0;
}

#define PIPED_TIMEOUT_MS 400 /* the limiter's command timeout in this test (WAIT: half) */

/* One token, tried up to 20 times 50 ms apart: a WAIT that a busy replica answers late fails a
 * call, which the caller may repeat. 0 or the last error. */
static async int piped_acquire(rl_limiter_t *lim)
{
    int rc = -1;
    for (int attempt = 0; attempt < 20 && rc != 0; attempt++) {
        if (attempt)
            await async_sleep_ms(50);
        rc = await piped_once(lim);
    }
    return rc;
}

/* Breaks the connection to the master that serves "piped" six times while the workers run, in
 * turn by killing its clients (replies read together with the end of the stream) and by
 * freezing it a little past the command timeout (the first command to time out drops the
 * connection while the replies that arrive as the server wakes resume other tasks, which then
 * send their WAIT). Either way some tasks still hold the connection when another task finds it
 * broken. Then lets the workers finish. */
static async int piped_killer(void *arg)
{
    const char *prefix = arg;
    char key[128];
    snprintf(key, sizeof key, "%sb#{piped}#piped#_default_", prefix);
    int owner = owner_of(key);
    if (owner < 0)
        return -1;
    for (int k = 0; k < 6; k++) {
        await async_sleep_ms(40);
        if (k % 2) {
            rl_test_redis_pause(&cluster.nodes[owner], 1);
            await async_sleep_ms(PIPED_TIMEOUT_MS + 2 * k);
            rl_test_redis_pause(&cluster.nodes[owner], 0);
            continue;
        }
        redisReply *r = node_command(owner, "CLIENT KILL TYPE normal");
        if (!r || r->type != REDIS_REPLY_INTEGER) {
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    __atomic_store_n(&piped_killed, 1, __ATOMIC_RELEASE);
    return 0;
}

static async int piped_body(rl_limiter_t *lim, const char *prefix)
{
    memset(piped, 0, sizeof piped);
    piped_lim = lim;
    piped_killed = 0;
    /* the bucket exists before the run, so that the killer finds its master */
    CHECK_EQ(await piped_acquire(lim), 0);

    async_task_t *tasks[PIPED_WORKERS];
    for (int i = 0; i < PIPED_WORKERS; i++) {
        tasks[i] = async_spawn(piped_worker, &piped[i]);
        CHECK(tasks[i] != NULL);
    }
    async_task_t *killer = async_spawn(piped_killer, (void *)prefix);
    CHECK(killer != NULL);
    int result = 0, failed = 0;
    for (int i = 0; i < PIPED_WORKERS; i++)
        if (await async_join(tasks[i], &result) != 0 || result != 0)
            failed++;
    CHECK_EQ(await async_join(killer, &result), 0);
    CHECK_EQ(result, 0);
    CHECK_EQ(failed, 0);
    piped_t sum = {0};
    for (int i = 0; i < PIPED_WORKERS; i++) {
        sum.granted += piped[i].granted;
        sum.granted_after += piped[i].granted_after;
        sum.unavailable += piped[i].unavailable;
        sum.other += piped[i].other;
    }
    fprintf(stderr, "piped: %d granted (%d after the last kill), %d unavailable\n", sum.granted,
            sum.granted_after, sum.unavailable);
    CHECK_EQ(sum.other, 0);
    CHECK(sum.unavailable > 0); /* the kills broke commands in flight */
    /* the limiter reconnects by itself: calls after the last kill are granted (the first write
     * on a connection killed since may fail: a sent write is never resent) */
    CHECK(sum.granted_after > 0);
    CHECK_EQ(await piped_acquire(lim), 0);
    return 0;
}

static void a_connection_killed_under_pipelined_writes_is_replaced(void **state)
{
    (void)state;
    body_t body = {piped_body, 1, PIPED_TIMEOUT_MS};
    assert_int_equal(async_run(with_limiter, &body), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Cluster URLs                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static async int urls_body(void *arg)
{
    (void)arg;
    static const struct {
        const char *url;
        const char *offset; /* "at offset N" of the report */
    } bad[] = {
        {"redis-cluster://", "offset 16"},
        {"redis-cluster://h1:7000,", "offset 24"},
        {"redis-cluster://h1:0", "offset 19"},
        {"redis-cluster://h1:70000", "offset 19"},
        {"redis-cluster://h1:7000/0", "offset 23"},
        {"redis-cluster://h1:7000;h2", "offset 23"},
        {"redis-cluster://[::1]:7000", "offset 16"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rl_repo_t *repo = NULL;
        rl_report_t report;
        memset(&report, 0, sizeof report);
        int rc = await rl_redis_open_report(&repo, bad[i].url, NULL, &report);
        if (rc == 0)
            await rl_repo_close(repo);
        CHECK_EQ(rc, RL_EURL);
        if (!strstr(report.message, bad[i].offset) || !strstr(report.message, bad[i].url)) {
            fprintf(stderr, "%s: %s\n", bad[i].url, report.message);
            return -1;
        }
    }
    /* Well-formed seeds that nobody answers on: the open fails naming the last one tried. */
    char url[96];
    int p1 = rl_test_free_port(), p2 = rl_test_free_port();
    snprintf(url, sizeof url, "redis-cluster://127.0.0.1:%d,127.0.0.1:%d", p1, p2);
    rl_options_t opts;
    rl_options_init(&opts);
    opts.timeout_ms = 500;
    rl_repo_t *repo = NULL;
    rl_report_t report;
    memset(&report, 0, sizeof report);
    int rc = await rl_redis_open_report(&repo, url, &opts, &report);
    if (rc == 0)
        await rl_repo_close(repo);
    CHECK_EQ(rc, RL_EBACKEND);
    CHECK(strstr(report.message, "cannot connect to redis at 127.0.0.1:") != NULL);
    /* A prefix with a brace would replace the keys' hash tags. */
    opts.key_prefix = "app{1}:";
    rc = await rl_redis_open_report(&repo, rl_test_cluster_url(&cluster), &opts, &report);
    if (rc == 0)
        await rl_repo_close(repo);
    CHECK_EQ(rc, RL_EINVAL);
    CHECK(strstr(report.message, "brace") != NULL);
    return 0;
}

static void cluster_urls_are_checked_and_errors_located(void **state)
{
    (void)state;
    assert_int_equal(async_run(urls_body, NULL), 0);
}

int main(void)
{
    if (rl_test_cluster_start(&cluster) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_slots_agree_with_a_real_cluster),
        cmocka_unit_test(a_slot_moved_between_masters_is_followed),
        cmocka_unit_test(a_connection_killed_under_pipelined_writes_is_replaced),
        cmocka_unit_test(cluster_urls_are_checked_and_errors_located),
    };
    int failed = cmocka_run_group_tests_name("limiter_cluster", tests, NULL, NULL);
    rl_test_cluster_stop(&cluster);
    return failed;
}
